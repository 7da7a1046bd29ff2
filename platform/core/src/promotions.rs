//! Promotions (优惠活动): an offer for a period of local days, to everyone or to members of
//! some tiers, giving more points on purchases (a multiplier of what the rules gave, or a
//! fixed bonus), a coupon to each member who buys during it (once), and reduced points
//! prices for listed mall items. Pure rules: where a promotion stands, whom and what it
//! applies to, and how many points it adds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A promotion's name: 1 to this many characters.
pub const NAME_MAX: usize = 100;
/// A promotion's description: at most this many characters.
pub const DESCRIPTION_MAX: usize = 2000;
/// Tiers a promotion may be limited to.
pub const TIERS_MAX: usize = 50;
/// Mall items one promotion may reduce.
pub const ITEMS_MAX: usize = 100;
/// The multiplier in hundredths: above ×1.00, at most ×10.00.
pub const MULTIPLIER_MIN_PCT: i32 = 101;
pub const MULTIPLIER_MAX_PCT: i32 = 1000;
/// The largest fixed bonus per purchase.
pub const BONUS_MAX: i64 = 1_000_000;
/// The longest period, in days.
pub const PERIOD_MAX_DAYS: i64 = 366;

/// What staff set: a draft (being prepared), published (it runs in its period), or stopped
/// before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Published,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Published, Self::Stopped]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Where a promotion stands at an instant: a published one is scheduled before its period,
/// running in it and ended after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Draft,
    Scheduled,
    Running,
    Ended,
    Stopped,
}

/// The names of [`Phase`].
pub const PHASES: &[&str] = &["draft", "scheduled", "running", "ended", "stopped"];

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Ended => "ended",
            Self::Stopped => "stopped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Scheduled,
            Self::Running,
            Self::Ended,
            Self::Stopped,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// The phase of a promotion with `status` and the period `[starts_at, ends_at)` at `now`.
pub fn phase(
    status: Status,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Phase {
    match status {
        Status::Draft => Phase::Draft,
        Status::Stopped => Phase::Stopped,
        Status::Published if now < starts_at => Phase::Scheduled,
        Status::Published if now < ends_at => Phase::Running,
        Status::Published => Phase::Ended,
    }
}

/// Whether the audience `tiers` (everyone when empty) takes in a member of `tier` (`""`
/// without a tier ladder).
pub fn in_audience(tiers: &[String], tier: &str) -> bool {
    tiers.is_empty() || tiers.iter().any(|t| t == tier)
}

/// The points a multiplier of `pct` hundredths adds to `base` (rounded down; nothing on
/// nothing or on a negative amount).
pub fn multiplied_extra(base: i64, pct: i32) -> i64 {
    if base <= 0 || pct <= 100 {
        return 0;
    }
    base.saturating_mul(i64::from(pct - 100)) / 100
}

/// A multiplier as people write it (`1.5`): its hundredths, or `None` when it is not above
/// 1, above 10, or finer than hundredths.
pub fn multiplier_pct(m: f64) -> Option<i32> {
    if !m.is_finite() {
        return None;
    }
    let pct = (m * 100.0).round();
    if (m * 100.0 - pct).abs() > 1e-6 {
        return None;
    }
    let pct = pct as i64;
    (i64::from(MULTIPLIER_MIN_PCT)..=i64::from(MULTIPLIER_MAX_PCT))
        .contains(&pct)
        .then_some(pct as i32)
}

/// A multiplier's hundredths as people read it (`150` -> `"1.5"`).
pub fn multiplier_text(pct: i32) -> String {
    let (whole, frac) = (pct / 100, pct % 100);
    match frac {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_published_promotion_is_scheduled_running_then_ended_by_its_period() {
        let s = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let e = Utc.with_ymd_and_hms(2026, 3, 8, 0, 0, 0).unwrap();
        let before = s - chrono::Duration::seconds(1);
        assert_eq!(phase(Status::Published, s, e, before), Phase::Scheduled);
        assert_eq!(phase(Status::Published, s, e, s), Phase::Running);
        assert_eq!(
            phase(Status::Published, s, e, e - chrono::Duration::seconds(1)),
            Phase::Running
        );
        assert_eq!(phase(Status::Published, s, e, e), Phase::Ended);
        assert_eq!(phase(Status::Draft, s, e, s), Phase::Draft);
        assert_eq!(phase(Status::Stopped, s, e, s), Phase::Stopped);
    }

    #[test]
    fn the_audience_is_everyone_or_the_listed_tiers() {
        assert!(in_audience(&[], ""));
        assert!(in_audience(&[], "gold"));
        let gold = vec!["gold".to_owned()];
        assert!(in_audience(&gold, "gold"));
        assert!(!in_audience(&gold, "silver"));
        assert!(!in_audience(&gold, ""));
    }

    #[test]
    fn a_multiplier_adds_its_share_rounded_down_and_nothing_on_nothing() {
        assert_eq!(multiplied_extra(100, 200), 100);
        assert_eq!(multiplied_extra(123, 150), 61);
        assert_eq!(multiplied_extra(0, 300), 0);
        assert_eq!(multiplied_extra(-5, 300), 0);
        assert_eq!(multiplied_extra(i64::MAX, 1000), i64::MAX / 100);
    }

    #[test]
    fn multipliers_are_read_in_hundredths_and_written_back_short() {
        assert_eq!(multiplier_pct(1.5), Some(150));
        assert_eq!(multiplier_pct(2.0), Some(200));
        assert_eq!(multiplier_pct(1.01), Some(101));
        assert_eq!(multiplier_pct(10.0), Some(1000));
        assert_eq!(multiplier_pct(1.0), None);
        assert_eq!(multiplier_pct(10.5), None);
        assert_eq!(multiplier_pct(1.505), None);
        assert_eq!(multiplier_pct(f64::NAN), None);
        assert_eq!(multiplier_text(150), "1.5");
        assert_eq!(multiplier_text(200), "2");
        assert_eq!(multiplier_text(125), "1.25");
        assert_eq!(multiplier_text(105), "1.05");
    }
}
