//! The tier ladder a business designs, and how a member moves on it.
//!
//! A ladder is an ordered list of tiers, each entered at a threshold of one qualifying
//! metric (points earned, spend or visits) counted over a window (rolling days, the
//! calendar year, or since joining). Promotion happens when an event lands; demotion only
//! in the scheduled evaluation, after the retention period, one rung at a time or straight
//! to the qualifying tier. A pin set by staff holds a tier until a date.
//! Everything here is pure: the callers count the metric and store the state.

use crate::{FieldCode, FieldError, Issue, Validation};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// What a tier is earned by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Points earned in the window (earnings less reversals; never the spendable balance,
    /// and not manual adjustments).
    #[default]
    PointsEarned,
    /// Spend in minor units in the window, less refunds.
    Spend,
    /// Days with a purchase or a check-in in the window (business's local days).
    Visits,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PointsEarned => "points_earned",
            Self::Spend => "spend",
            Self::Visits => "visits",
        }
    }
}

/// Over which time the metric counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// The last `days` days.
    #[default]
    Rolling,
    /// Since 1 January of the current year, in the business's time zone.
    CalendarYear,
    /// Everything since the member joined.
    SinceJoining,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub kind: WindowKind,
    /// For `rolling`: how many days.
    #[serde(default)]
    pub days: u32,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            kind: WindowKind::Rolling,
            days: 365,
        }
    }
}

impl Window {
    /// The window's start at `now` (None: no start).
    pub fn start(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        match self.kind {
            WindowKind::Rolling => Some(now - Duration::days(i64::from(self.days))),
            WindowKind::CalendarYear => {
                let year = now.with_timezone(&tz).year();
                Some(crate::points::start_of_day(
                    tz,
                    NaiveDate::from_ymd_opt(year, 1, 1)?,
                ))
            }
            WindowKind::SinceJoining => None,
        }
    }

    /// The last local day on which the metric can still count toward the current window
    /// (the calendar year's last day); None for windows that have no fixed end.
    pub fn ends_on(&self, now: DateTime<Utc>, tz: Tz) -> Option<NaiveDate> {
        match self.kind {
            WindowKind::CalendarYear => {
                NaiveDate::from_ymd_opt(now.with_timezone(&tz).year(), 12, 31)
            }
            _ => None,
        }
    }
}

/// How far a member falls once the retention period is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Demotion {
    /// At most one rung per evaluation (one evaluation per local day).
    #[default]
    OneRung,
    /// Straight to the tier the metric qualifies for.
    Direct,
}

/// A text in both console languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Names {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

/// What a tier gives its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Benefits {
    /// Points multiplier in thousandths (1500 = ×1.5), for point rules to apply
    /// (`member.benefits.multiplier`).
    pub multiplier: i64,
    /// Discount returned with each purchase response, in percent.
    pub discount_percent: i64,
    /// Points granted once a year on the member's birthday.
    pub birthday_gift_points: i64,
    /// A coupon of this template given once a year on the member's birthday (in the
    /// business's time zone), within the template's limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday_coupon_template_id: Option<uuid::Uuid>,
    /// Free-form perks shown to members.
    pub perks: Vec<Names>,
}

impl Default for Benefits {
    fn default() -> Self {
        Self {
            multiplier: 1000,
            discount_percent: 0,
            birthday_gift_points: 0,
            birthday_coupon_template_id: None,
            perks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// Stable code (`gold`): what rules and searches use.
    pub code: String,
    pub name: Names,
    /// `#rrggbb`.
    #[serde(default = "default_color")]
    pub color: String,
    /// The metric's value that enters this tier (the first tier's is 0).
    pub threshold: i64,
    #[serde(default)]
    pub benefits: Benefits,
}

fn default_color() -> String {
    "#8c8c8c".into()
}

/// A tenant's ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Ladder {
    #[serde(default)]
    pub metric: Metric,
    #[serde(default)]
    pub window: Window,
    /// Days a member keeps a tier after falling below its threshold.
    #[serde(default)]
    pub retention_days: u32,
    #[serde(default)]
    pub demotion: Demotion,
    pub tiers: Vec<Tier>,
    /// A Rhai script that decides the qualifying tier instead of the thresholds: it sees
    /// `member` and `metrics` and returns a tier code. Retention, demotion and pins apply to
    /// what it decides exactly as to the thresholds' answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

pub const MAX_TIERS: usize = 20;
/// The longest tier script accepted, in bytes.
pub const MAX_SCRIPT: usize = 64 * 1024;
const MAX_PERKS: usize = 20;

impl Ladder {
    /// Whether an event that added `points` to the points earned and `spend` to the spend
    /// may move a member up. One that adds nothing to the ladder's measure cannot: the check
    /// after the member's previous event saw the same measure or a larger one (a window only
    /// drops what it counts, and a publish re-evaluates everyone). Visits count days, and a
    /// script may read anything: those are always checked.
    /// Whether an event that adds at most `added` to the metric of a member at `tier` whose
    /// metric was `before` can promote them. `false` is certain: [`promote_on_event`] gives
    /// no tier for any metric up to `before + added` (the tier a metric qualifies for never
    /// falls as the metric grows). With a ladder script it is always `true`: the script
    /// decides.
    pub fn may_reach_next(&self, tier: Option<&str>, before: i64, added: i64) -> bool {
        self.script.is_some()
            || self.qualifying(before.saturating_add(added.max(0))) > self.position(tier)
    }

    /// What an event adds to the metric at most: the points it earned, what was paid, or
    /// one visit.
    pub fn most_added(&self, points: i64, spend: i64) -> i64 {
        match self.metric {
            Metric::PointsEarned => points,
            Metric::Spend => spend,
            Metric::Visits => 1,
        }
    }

    pub fn event_may_promote(&self, points: i64, spend: i64) -> bool {
        self.script.is_some()
            || match self.metric {
                Metric::PointsEarned => points > 0,
                Metric::Spend => spend > 0,
                Metric::Visits => true,
            }
    }

    /// A ladder of plain tiers (the code as both names, no benefits) at these thresholds,
    /// with every other setting at its default: a starting point for a form, and for tests.
    pub fn from_thresholds(tiers: &[(&str, i64)]) -> Self {
        Ladder {
            tiers: tiers
                .iter()
                .map(|(code, threshold)| Tier {
                    code: (*code).into(),
                    name: Names {
                        zh_cn: (*code).into(),
                        en: (*code).into(),
                    },
                    color: "#8c8c8c".into(),
                    threshold: *threshold,
                    benefits: Benefits::default(),
                })
                .collect(),
            ..Ladder::default()
        }
    }

    /// Every bad field, by path (`tiers[2].threshold`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validation::new();
        let bad = |v: &mut Validation, field: String, problem: Issue| {
            v.check::<()>(&field, Err(problem));
        };
        let rule = |reason: &str, words: &str| {
            Issue::new(FieldCode::NotAllowed, words).with("reason", reason)
        };
        if self.window.kind == WindowKind::Rolling && !(1..=3660).contains(&self.window.days) {
            bad(&mut v, "window.days".into(), Issue::out_of_range(1, 3660));
        }
        if self.retention_days > 3660 {
            bad(
                &mut v,
                "retention_days".into(),
                Issue::out_of_range(0, 3660),
            );
        }
        if self.tiers.is_empty() {
            bad(
                &mut v,
                "tiers".into(),
                Issue::new(FieldCode::Required, "a ladder needs at least one tier"),
            );
        }
        if self.tiers.len() > MAX_TIERS {
            bad(&mut v, "tiers".into(), Issue::too_many(MAX_TIERS, "tiers"));
        }
        if let Some(script) = &self.script {
            if script.trim().is_empty() {
                bad(
                    &mut v,
                    "script".into(),
                    Issue::new(FieldCode::Required, "write a script or leave it out"),
                );
            } else if script.len() > MAX_SCRIPT {
                bad(
                    &mut v,
                    "script".into(),
                    Issue::new(
                        FieldCode::TooLong,
                        format!("at most {} KiB", MAX_SCRIPT / 1024),
                    )
                    .with("kib", MAX_SCRIPT / 1024),
                );
            }
        }
        let mut codes = std::collections::HashSet::new();
        for (i, t) in self.tiers.iter().enumerate() {
            let at = |f: &str| format!("tiers[{i}].{f}");
            let code_ok = !t.code.is_empty()
                && t.code.len() <= 32
                && t.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !code_ok {
                bad(
                    &mut v,
                    at("code"),
                    Issue::invalid_format(
                        "code",
                        "1 to 32 characters: lowercase letters, digits and _",
                    )
                    .with("max", 32),
                );
            } else if !codes.insert(t.code.as_str()) {
                bad(
                    &mut v,
                    at("code"),
                    Issue::new(FieldCode::Duplicate, format!("{} is used twice", t.code))
                        .with("value", t.code.as_str()),
                );
            }
            for (lang, name) in [("zh-CN", &t.name.zh_cn), ("en", &t.name.en)] {
                if name.trim().is_empty() || name.chars().count() > 40 {
                    bad(
                        &mut v,
                        at(&format!("name.{lang}")),
                        Issue::length_between(1, 40).words("1 to 40 characters"),
                    );
                }
            }
            let color_ok = t.color.len() == 7
                && t.color.starts_with('#')
                && t.color[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !color_ok {
                bad(
                    &mut v,
                    at("color"),
                    Issue::invalid_format("color", "a colour like #c9a227"),
                );
            }
            if i == 0 && t.threshold != 0 {
                bad(
                    &mut v,
                    at("threshold"),
                    rule(
                        "first_threshold_zero",
                        "the first tier is where everyone starts: its threshold is 0",
                    ),
                );
            }
            if i > 0 && t.threshold <= self.tiers[i - 1].threshold {
                bad(
                    &mut v,
                    at("threshold"),
                    rule(
                        "threshold_above_lower",
                        "must be higher than the tier below",
                    ),
                );
            }
            if t.threshold > 1_000_000_000_000 {
                bad(
                    &mut v,
                    at("threshold"),
                    Issue::new(FieldCode::TooLarge, "too large").with("max", 1_000_000_000_000i64),
                );
            }
            let b = &t.benefits;
            if !(0..=100_000).contains(&b.multiplier) {
                bad(
                    &mut v,
                    at("benefits.multiplier"),
                    Issue::new(FieldCode::OutOfRange, "must be 0 to 100000 (thousandths)")
                        .with("min", 0)
                        .with("max", 100_000),
                );
            }
            if !(0..=100).contains(&b.discount_percent) {
                bad(
                    &mut v,
                    at("benefits.discount_percent"),
                    Issue::out_of_range(0, 100),
                );
            }
            if !(0..=10_000_000).contains(&b.birthday_gift_points) {
                bad(
                    &mut v,
                    at("benefits.birthday_gift_points"),
                    Issue::out_of_range(0, 10_000_000),
                );
            }
            if b.perks.len() > MAX_PERKS {
                bad(
                    &mut v,
                    at("benefits.perks"),
                    Issue::too_many(MAX_PERKS, "perks").words(format!("at most {MAX_PERKS}")),
                );
            }
            for (j, p) in b.perks.iter().enumerate() {
                for (lang, text) in [("zh-CN", &p.zh_cn), ("en", &p.en)] {
                    if text.trim().is_empty() || text.chars().count() > 200 {
                        bad(
                            &mut v,
                            at(&format!("benefits.perks[{j}].{lang}")),
                            Issue::length_between(1, 200).words("1 to 200 characters"),
                        );
                    }
                }
            }
        }
        v.finish()
    }

    /// The highest tier `metric` reaches.
    pub fn qualifying(&self, metric: i64) -> usize {
        self.tiers
            .iter()
            .rposition(|t| metric >= t.threshold)
            .unwrap_or(0)
    }

    /// The position of the tier whose code is exactly `code`, if the ladder has one (what a
    /// tier script returned, say).
    pub fn find(&self, code: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t.code == code)
    }

    /// The position of tier `code`; the first tier for none or a code the ladder no longer has.
    pub fn position(&self, code: Option<&str>) -> usize {
        code.and_then(|c| self.tiers.iter().position(|t| t.code == c))
            .unwrap_or(0)
    }

    pub fn tier(&self, code: Option<&str>) -> &Tier {
        &self.tiers[self.position(code)]
    }
}

/// A staff pin: the tier holds until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub tier: String,
    pub until: DateTime<Utc>,
}

/// A member's standing on the ladder, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Standing {
    /// None: the first tier.
    pub tier: Option<String>,
    /// When the scheduled evaluation first saw the member below their tier.
    pub below_since: Option<DateTime<Utc>>,
    pub pin: Option<Pin>,
}

/// Why a member's tier changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Promotion,
    Demotion,
    PinLapsed,
}

impl Move {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Promotion => "promotion",
            Self::Demotion => "demotion",
            Self::PinLapsed => "pin_lapsed",
        }
    }
}

/// The outcome of one evaluation: the new standing and, when the tier changed, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub standing: Standing,
    pub moved: Option<Move>,
    /// The threshold that decided (the new tier's, or the current one's that was missed).
    pub threshold: i64,
}

/// When an event lands: promotion only, at once, to the tier the metric reaches.
/// Returns the new tier's position when the member moves up.
pub fn promote_on_event(ladder: &Ladder, standing: &Standing, metric: i64) -> Option<usize> {
    promote_to(ladder, standing, ladder.qualifying(metric))
}

/// When an event lands and the member qualifies for the tier at position `q` (by the
/// thresholds or the ladder's script): that tier when it is higher than the current one.
pub fn promote_to(ladder: &Ladder, standing: &Standing, q: usize) -> Option<usize> {
    let current = ladder.position(standing.tier.as_deref());
    (q > current && q < ladder.tiers.len()).then_some(q)
}

/// The scheduled evaluation of one member at `now`: promotions the events missed, pins that
/// lapse, and demotion once the member has been below their tier for the retention period.
pub fn evaluate(
    ladder: &Ladder,
    standing: &Standing,
    metric: i64,
    now: DateTime<Utc>,
) -> Evaluation {
    evaluate_qualified(ladder, standing, ladder.qualifying(metric), now)
}

/// [`evaluate`] for a member who qualifies for the tier at position `q` (by the thresholds
/// or the ladder's script).
pub fn evaluate_qualified(
    ladder: &Ladder,
    standing: &Standing,
    q: usize,
    now: DateTime<Utc>,
) -> Evaluation {
    let mut s = standing.clone();
    let q = q.min(ladder.tiers.len() - 1);
    let mut lapsed = false;
    if let Some(pin) = &s.pin {
        if pin.until > now {
            // A pin holds its tier; the metric may still lift the member above it.
            let floor = ladder.position(Some(&pin.tier));
            let current = ladder.position(s.tier.as_deref()).max(floor);
            let to = current.max(q);
            let moved = (to > ladder.position(standing.tier.as_deref())).then_some(Move::Promotion);
            s.tier = Some(ladder.tiers[to].code.clone());
            s.below_since = None;
            return Evaluation {
                threshold: ladder.tiers[to].threshold,
                standing: s,
                moved,
            };
        }
        s.pin = None;
        lapsed = true;
    }
    let current = ladder.position(s.tier.as_deref());
    if q >= current {
        s.below_since = None;
        s.tier = Some(ladder.tiers[q].code.clone());
        return Evaluation {
            threshold: ladder.tiers[q].threshold,
            moved: (q > current).then_some(Move::Promotion),
            standing: s,
        };
    }
    let since = *s.below_since.get_or_insert(now);
    let threshold = ladder.tiers[current].threshold;
    if now - since < Duration::days(i64::from(ladder.retention_days)) {
        return Evaluation {
            standing: s,
            moved: None,
            threshold,
        };
    }
    let to = match ladder.demotion {
        Demotion::OneRung => current - 1,
        Demotion::Direct => q,
    };
    s.tier = Some(ladder.tiers[to].code.clone());
    if to == q {
        s.below_since = None;
    }
    Evaluation {
        standing: s,
        moved: Some(if lapsed {
            Move::PinLapsed
        } else {
            Move::Demotion
        }),
        threshold,
    }
}

/// The tier a member gets when a ladder is (re)applied to everyone, for a member who
/// qualifies for position `q`: that tier, or their pinned tier while the pin holds and is
/// higher.
pub fn applied(ladder: &Ladder, standing: &Standing, q: usize, now: DateTime<Utc>) -> usize {
    let q = q.min(ladder.tiers.len() - 1);
    match &standing.pin {
        Some(p) if p.until > now => q.max(ladder.find(&p.tier).unwrap_or(0)),
        _ => q,
    }
}

/// What the member needs for the next tier, and what keeps the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub current: usize,
    pub metric: i64,
    /// The next tier and how much more of the metric it takes.
    pub next: Option<(usize, i64)>,
    /// The last local day the window counts to (calendar year), if it has one.
    pub by: Option<NaiveDate>,
    /// How far below the current tier's threshold the member is (0 when it is met).
    pub short_of_current: i64,
}

pub fn progress(
    ladder: &Ladder,
    standing: &Standing,
    metric: i64,
    now: DateTime<Utc>,
    tz: Tz,
) -> Progress {
    let current = ladder.position(standing.tier.as_deref());
    let next = ladder
        .tiers
        .get(current + 1)
        .map(|t| (current + 1, (t.threshold - metric).max(0)));
    Progress {
        current,
        metric,
        next,
        by: ladder.window.ends_on(now, tz),
        short_of_current: (ladder.tiers[current].threshold - metric).max(0),
    }
}

pub mod words;

#[cfg(test)]
mod tests;
