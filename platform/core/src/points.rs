//! Points: the tenant's point settings, when earned points expire, how much of a purchase's
//! points a refund takes back, and what a redemption is worth. Pure; the ledger itself is in
//! `patron_db::points`.

use crate::{FieldCode, FieldError, Issue, Validation};

/// The most points one adjustment adds or takes away (never 0).
pub const MAX_ADJUSTMENT: i64 = 1_000_000_000;
/// The most points one redemption takes.
pub const MAX_REDEMPTION: i64 = 1_000_000_000;
use chrono::{DateTime, Datelike, Days, LocalResult, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// What a ledger entry does to the balance (the `kind` column of `point_entries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Points earned (a lot is made of the spendable part).
    Earn,
    /// Points spent.
    Redeem,
    /// Points gone past their expiry.
    Expire,
    /// Points taken away by hand.
    Adjust,
    /// Points taken back (a refund, or a debt settled from new earnings).
    Reverse,
}

impl EntryKind {
    pub const ALL: [Self; 5] = [
        Self::Earn,
        Self::Redeem,
        Self::Expire,
        Self::Adjust,
        Self::Reverse,
    ];

    /// The name stored in SQL and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earn => "earn",
            Self::Redeem => "redeem",
            Self::Expire => "expire",
            Self::Adjust => "adjust",
            Self::Reverse => "reverse",
        }
    }

    /// The kind named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What produced a ledger entry (the `source` column of `point_entries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntrySource {
    Purchase,
    Refund,
    CheckIn,
    Referral,
    /// A custom event from an integration.
    Event,
    /// The birthday rule's points.
    Birthday,
    /// A tier's birthday gift.
    TierGift,
    Redemption,
    Adjustment,
    Expiry,
    /// An earlier debt settled from new earnings.
    Debt,
}

impl EntrySource {
    pub const ALL: [Self; 11] = [
        Self::Purchase,
        Self::Refund,
        Self::CheckIn,
        Self::Referral,
        Self::Event,
        Self::Birthday,
        Self::TierGift,
        Self::Redemption,
        Self::Adjustment,
        Self::Expiry,
        Self::Debt,
    ];

    /// The name stored in SQL and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Purchase => "purchase",
            Self::Refund => "refund",
            Self::CheckIn => "check_in",
            Self::Referral => "referral",
            Self::Event => "event",
            Self::Birthday => "birthday",
            Self::TierGift => "tier_gift",
            Self::Redemption => "redemption",
            Self::Adjustment => "adjustment",
            Self::Expiry => "expiry",
            Self::Debt => "debt",
        }
    }

    /// The source named `s`, if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for EntrySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When earned points expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExpiryPolicy {
    /// Points never expire.
    #[default]
    Never,
    /// Points earned on a day expire at the end of the day `days` later (local time).
    Days { days: u32 },
    /// Points earned in a month expire at the end of the month `months` later (local time):
    /// earned in January with 2 months → gone after 31 March.
    EndOfMonth { months: u32 },
    /// Points expire at the end of the year in which the date `months` after earning falls:
    /// earned 2026-05-10 with 12 months → gone after 31 December 2027.
    EndOfYear { months: u32 },
}

/// What a refund does when the member has already spent the points it takes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RefundShortfall {
    /// The balance goes below zero; later earnings bring it back up.
    Negative,
    /// The balance stops at zero and the rest is recorded as a debt that the next earnings
    /// settle first.
    #[default]
    Debt,
}

/// A tenant's point settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PointSettings {
    pub expiry: ExpiryPolicy,
    pub refund_shortfall: RefundShortfall,
    /// Redemption ratio: `redeem_points` points are worth `redeem_value` minor units.
    pub redeem_points: i64,
    pub redeem_value: i64,
    /// The fewest points one redemption may use.
    pub min_redeem_points: i64,
    /// The most a purchase may be reduced by points, in percent of its amount.
    pub max_deduction_percent: i64,
    /// Points for a check-in when no check-in rule is published.
    pub check_in_points: i64,
    /// Every `streak_days` consecutive check-ins earn `streak_bonus` more (0 = off).
    pub streak_days: i64,
    pub streak_bonus: i64,
    /// A redemption of more points than this needs the member's confirmation (a live member
    /// code or a code sent by SMS); `None` never asks.
    pub redemption_check_above: Option<i64>,
}

impl Default for PointSettings {
    fn default() -> Self {
        Self {
            expiry: ExpiryPolicy::Never,
            refund_shortfall: RefundShortfall::Debt,
            redeem_points: 100,
            redeem_value: 100,
            min_redeem_points: 1,
            max_deduction_percent: 100,
            check_in_points: 0,
            streak_days: 0,
            streak_bonus: 0,
            redemption_check_above: None,
        }
    }
}

impl PointSettings {
    /// Every bad field, by path.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validation::new();
        let range = |v: &mut Validation, field: &str, value: i64, lo: i64, hi: i64| {
            if !(lo..=hi).contains(&value) {
                v.check::<()>(field, Err(Issue::out_of_range(lo, hi)));
            }
        };
        match self.expiry {
            ExpiryPolicy::Never => {}
            ExpiryPolicy::Days { days } => range(&mut v, "expiry.days", days.into(), 1, 36_500),
            ExpiryPolicy::EndOfMonth { months } | ExpiryPolicy::EndOfYear { months } => {
                range(&mut v, "expiry.months", months.into(), 0, 1_200)
            }
        }
        range(&mut v, "redeem_points", self.redeem_points, 1, 1_000_000);
        range(&mut v, "redeem_value", self.redeem_value, 1, 1_000_000);
        range(
            &mut v,
            "min_redeem_points",
            self.min_redeem_points,
            1,
            1_000_000_000,
        );
        range(
            &mut v,
            "max_deduction_percent",
            self.max_deduction_percent,
            0,
            100,
        );
        range(
            &mut v,
            "check_in_points",
            self.check_in_points,
            0,
            1_000_000,
        );
        range(&mut v, "streak_days", self.streak_days, 0, 365);
        range(&mut v, "streak_bonus", self.streak_bonus, 0, 1_000_000);
        if let Some(above) = self.redemption_check_above {
            range(&mut v, "redemption_check_above", above, 0, 1_000_000_000);
        }
        if self.streak_bonus > 0 && self.streak_days == 0 {
            v.check::<()>(
                "streak_days",
                Err(
                    Issue::new(FieldCode::Required, "must be set when streak_bonus is")
                        .with("with", "streak_bonus"),
                ),
            );
        }
        v.finish()
    }

    /// Money (minor units) that `points` are worth, rounded down.
    pub fn value_of(&self, points: i64) -> i64 {
        mul_div_floor(points, self.redeem_value, self.redeem_points)
    }

    /// The fewest points worth at least `value` minor units.
    pub fn points_for(&self, value: i64) -> i64 {
        mul_div_ceil(value, self.redeem_points, self.redeem_value)
    }

    /// The most points a purchase of `amount` may be reduced by.
    pub fn max_points_for_purchase(&self, amount: i64) -> i64 {
        let max_value = mul_div_floor(amount, self.max_deduction_percent, 100);
        // Whole points whose value stays within the cap.
        mul_div_floor(max_value, self.redeem_points, self.redeem_value)
    }

    /// The streak bonus for the `streak`-th consecutive check-in.
    pub fn streak_bonus_for(&self, streak: i64) -> i64 {
        if self.streak_days > 0 && streak > 0 && streak % self.streak_days == 0 {
            self.streak_bonus
        } else {
            0
        }
    }
}

fn mul_div_floor(a: i64, b: i64, c: i64) -> i64 {
    let r = i128::from(a) * i128::from(b) / i128::from(c.max(1));
    i64::try_from(r).unwrap_or(i64::MAX)
}

fn mul_div_ceil(a: i64, b: i64, c: i64) -> i64 {
    let c = i128::from(c.max(1));
    let n = i128::from(a) * i128::from(b);
    i64::try_from((n + c - 1).div_euclid(c)).unwrap_or(i64::MAX)
}

/// The start of local day `d` in `tz`, as an instant (the earliest, should the local
/// midnight be ambiguous; the first instant after a gap, should it not exist).
pub fn start_of_day(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // A daylight-saving gap at midnight: the day starts when the clocks jump.
            let mut probe = midnight;
            loop {
                probe += chrono::Duration::minutes(15);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
        }
    }
}

/// When points earned at `earned` expire under `policy` in time zone `tz`: the first instant
/// they no longer count, or `None` for never.
pub fn expires_at(policy: ExpiryPolicy, earned: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let day = earned.with_timezone(&tz).date_naive();
    let first_day_gone = match policy {
        ExpiryPolicy::Never => return None,
        ExpiryPolicy::Days { days } => day.checked_add_days(Days::new(u64::from(days) + 1))?,
        ExpiryPolicy::EndOfMonth { months } => {
            let first = day.with_day(1)?;
            first.checked_add_months(Months::new(months + 1))?
        }
        ExpiryPolicy::EndOfYear { months } => {
            let later = day.checked_add_months(Months::new(months))?;
            NaiveDate::from_ymd_opt(later.year() + 1, 1, 1)?
        }
    };
    Some(start_of_day(tz, first_day_gone))
}

/// Points a refund takes back: the purchase earned `earned` points on `amount`; `refunded`
/// was refunded before and `reversed` points were taken back before; now `refund` more is
/// refunded. Computed on the running total, so refunds in parts take back exactly what one
/// refund of the whole would.
pub fn points_to_reverse(
    earned: i64,
    amount: i64,
    refunded: i64,
    reversed: i64,
    refund: i64,
) -> i64 {
    if amount <= 0 || earned <= 0 {
        return 0;
    }
    let total_refunded = (refunded + refund).min(amount);
    let due = if total_refunded == amount {
        earned
    } else {
        mul_div_floor(earned, total_refunded, amount)
    };
    (due - reversed).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Shanghai};

    fn at(tz: Tz, s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&naive).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn days_policy_ends_at_local_midnight_across_a_utc_date_boundary() {
        // 07:30 in Shanghai on 1 March is still 28 February in UTC: the local day counts.
        let earned = at(Shanghai, "2026-03-01 07:30");
        assert_eq!(earned.date_naive().to_string(), "2026-02-28");
        let gone = expires_at(ExpiryPolicy::Days { days: 30 }, earned, Shanghai).unwrap();
        assert_eq!(gone, at(Shanghai, "2026-04-01 00:00"));
        assert_eq!(gone.to_rfc3339(), "2026-03-31T16:00:00+00:00");
    }

    #[test]
    fn leap_days() {
        let earned = at(Shanghai, "2028-02-29 12:00");
        assert_eq!(
            expires_at(ExpiryPolicy::Days { days: 1 }, earned, Shanghai).unwrap(),
            at(Shanghai, "2028-03-02 00:00")
        );
        // Earned on 29 February, a year later is 28 February 2029: end of that year.
        assert_eq!(
            expires_at(ExpiryPolicy::EndOfYear { months: 12 }, earned, Shanghai).unwrap(),
            at(Shanghai, "2030-01-01 00:00")
        );
        // End of month one month after January: 29 February counts in a leap year.
        let jan = at(Shanghai, "2028-01-31 23:59");
        let gone = expires_at(ExpiryPolicy::EndOfMonth { months: 1 }, jan, Shanghai).unwrap();
        assert_eq!(gone, at(Shanghai, "2028-03-01 00:00"));
        assert!(at(Shanghai, "2028-02-29 23:59") < gone);
    }

    #[test]
    fn end_of_month_and_year() {
        let earned = at(Shanghai, "2026-05-10 09:00");
        assert_eq!(
            expires_at(ExpiryPolicy::EndOfMonth { months: 0 }, earned, Shanghai).unwrap(),
            at(Shanghai, "2026-06-01 00:00")
        );
        assert_eq!(
            expires_at(ExpiryPolicy::EndOfYear { months: 0 }, earned, Shanghai).unwrap(),
            at(Shanghai, "2027-01-01 00:00")
        );
        assert_eq!(
            expires_at(ExpiryPolicy::EndOfYear { months: 8 }, earned, Shanghai).unwrap(),
            at(Shanghai, "2028-01-01 00:00")
        );
        assert_eq!(expires_at(ExpiryPolicy::Never, earned, Shanghai), None);
    }

    #[test]
    fn daylight_saving_days_still_end_at_local_midnight() {
        // New York springs forward on 8 March 2026.
        let earned = at(New_York, "2026-03-07 22:00");
        let gone = expires_at(ExpiryPolicy::Days { days: 1 }, earned, New_York).unwrap();
        assert_eq!(gone.to_rfc3339(), "2026-03-09T04:00:00+00:00");
    }

    #[test]
    fn partial_refunds_add_up_to_the_whole() {
        // 123 points on ¥100.00, refunded in three parts.
        let (earned, amount) = (123, 10_000);
        let a = points_to_reverse(earned, amount, 0, 0, 3_333);
        let b = points_to_reverse(earned, amount, 3_333, a, 3_333);
        let c = points_to_reverse(earned, amount, 6_666, a + b, 3_334);
        assert_eq!((a, b, c), (40, 41, 42));
        assert_eq!(a + b + c, earned);
        assert_eq!(points_to_reverse(earned, amount, 10_000, 123, 1), 0);
        assert_eq!(points_to_reverse(0, amount, 0, 0, 100), 0);
    }

    #[test]
    fn redemption_value() {
        let s = PointSettings {
            redeem_points: 100,
            redeem_value: 100,
            max_deduction_percent: 50,
            ..PointSettings::default()
        };
        assert_eq!(s.value_of(250), 250);
        assert_eq!(s.max_points_for_purchase(999), 499);
        let s = PointSettings {
            redeem_points: 100,
            redeem_value: 1,
            ..s
        };
        assert_eq!(s.value_of(250), 2);
        assert_eq!(s.points_for(3), 300);
        assert_eq!(s.max_points_for_purchase(999), 49_900);
    }

    #[test]
    fn settings_name_each_bad_field() {
        let s = PointSettings {
            expiry: ExpiryPolicy::Days { days: 0 },
            redeem_points: 0,
            max_deduction_percent: 101,
            streak_bonus: 5,
            ..PointSettings::default()
        };
        let fields: Vec<_> = s
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "expiry.days",
                "redeem_points",
                "max_deduction_percent",
                "streak_days"
            ]
        );
        assert!(PointSettings::default().validate().is_ok());
        let parsed: PointSettings =
            serde_json::from_str(r#"{"expiry":{"mode":"end_of_month","months":3}}"#).unwrap();
        assert_eq!(parsed.expiry, ExpiryPolicy::EndOfMonth { months: 3 });
    }

    #[test]
    fn streaks() {
        let s = PointSettings {
            streak_days: 7,
            streak_bonus: 50,
            ..PointSettings::default()
        };
        assert_eq!(s.streak_bonus_for(6), 0);
        assert_eq!(s.streak_bonus_for(7), 50);
        assert_eq!(s.streak_bonus_for(14), 50);
    }

    #[test]
    fn entry_kinds_and_sources_read_back_from_their_sql_names() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        for s in EntrySource::ALL {
            assert_eq!(EntrySource::parse(s.as_str()), Some(s));
        }
        assert_eq!(EntryKind::Reverse.as_str(), "reverse");
        assert_eq!(EntrySource::CheckIn.as_str(), "check_in");
        assert_eq!(EntrySource::TierGift.as_str(), "tier_gift");
        assert_eq!(EntrySource::parse("check-in"), None);
        assert_eq!(EntryKind::parse("Earn"), None);
    }
}
