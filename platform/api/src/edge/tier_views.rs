//! A member's tier as the API shows it, to staff (tiers) and to the member (the portal):
//! `MemberTierView` and what it nests, with the ladder's pieces both it and the ladder
//! documents use (names, benefits, metric, window).

use chrono::{DateTime, NaiveDate, Utc};
use patron_app::tiers::member::MemberTierData;
use patron_core::tiers::{self as core_tiers, Metric, Window, WindowKind};
use patron_db::tiers::Move;
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierNames", deny_unknown_fields)]
pub struct NamesDoc {
    #[oai(rename = "zh-CN")]
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

fn thousand() -> i64 {
    1000
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierBenefits", deny_unknown_fields)]
pub struct BenefitsDoc {
    /// Points multiplier in thousandths (1500 = ×1.5), given to point rules as
    /// `member.benefits.multiplier`.
    #[oai(default = "thousand")]
    #[serde(default = "thousand")]
    pub multiplier: i64,
    /// Discount in percent, returned with each purchase response.
    #[oai(default)]
    #[serde(default)]
    pub discount_percent: i64,
    /// Points granted once a year on the member's birthday.
    #[oai(default)]
    #[serde(default)]
    pub birthday_gift_points: i64,
    /// A coupon of this template given once a year on the member's birthday (the
    /// business's time zone), within the template's limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday_coupon_template_id: Option<uuid::Uuid>,
    /// Perks shown to members.
    #[oai(default)]
    #[serde(default)]
    pub perks: Vec<NamesDoc>,
}

#[derive(Debug, Clone, Copy, Enum, Serialize, Deserialize, PartialEq, Eq)]
#[oai(rename = "TierMetric", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MetricDoc {
    PointsEarned,
    Spend,
    Visits,
}

#[derive(Debug, Clone, Copy, Enum, Serialize, Deserialize, PartialEq, Eq)]
#[oai(rename = "TierWindowKind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum WindowKindDoc {
    Rolling,
    CalendarYear,
    SinceJoining,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierWindow", deny_unknown_fields)]
pub struct WindowDoc {
    pub kind: WindowKindDoc,
    /// For `rolling`: the number of days.
    #[oai(default)]
    #[serde(default)]
    pub days: u32,
}

impl From<&core_tiers::Names> for NamesDoc {
    fn from(n: &core_tiers::Names) -> Self {
        Self {
            zh_cn: n.zh_cn.clone(),
            en: n.en.clone(),
        }
    }
}

impl From<&core_tiers::Benefits> for BenefitsDoc {
    fn from(b: &core_tiers::Benefits) -> Self {
        Self {
            multiplier: b.multiplier,
            discount_percent: b.discount_percent,
            birthday_gift_points: b.birthday_gift_points,
            birthday_coupon_template_id: b.birthday_coupon_template_id,
            perks: b.perks.iter().map(NamesDoc::from).collect(),
        }
    }
}

impl From<Metric> for MetricDoc {
    fn from(m: Metric) -> Self {
        match m {
            Metric::PointsEarned => Self::PointsEarned,
            Metric::Spend => Self::Spend,
            Metric::Visits => Self::Visits,
        }
    }
}

impl From<Window> for WindowDoc {
    fn from(w: Window) -> Self {
        Self {
            kind: match w.kind {
                WindowKind::Rolling => WindowKindDoc::Rolling,
                WindowKind::CalendarYear => WindowKindDoc::CalendarYear,
                WindowKind::SinceJoining => WindowKindDoc::SinceJoining,
            },
            days: w.days,
        }
    }
}

#[derive(Debug, Object)]
pub struct TierView {
    pub code: String,
    pub name: NamesDoc,
    pub color: String,
    pub threshold: i64,
    pub benefits: BenefitsDoc,
}

impl From<&core_tiers::Tier> for TierView {
    fn from(t: &core_tiers::Tier) -> Self {
        Self {
            code: t.code.clone(),
            name: (&t.name).into(),
            color: t.color.clone(),
            threshold: t.threshold,
            benefits: (&t.benefits).into(),
        }
    }
}

#[derive(Debug, Object)]
pub struct TierPinView {
    pub tier: String,
    /// The tier's current name (absent for a code the ladder in force no longer has).
    pub tier_name: Option<NamesDoc>,
    pub until: DateTime<Utc>,
    pub reason: String,
    pub by: String,
}

#[derive(Debug, Object)]
pub struct NextTier {
    pub code: String,
    pub name: NamesDoc,
    pub threshold: i64,
    /// How much more of the metric it takes.
    pub remaining: i64,
}

/// Where the member stands against the ladder.
#[derive(Debug, Object)]
pub struct TierProgress {
    /// `points_earned`, `spend` (minor units of `currency`) or `visits`.
    pub metric: MetricDoc,
    /// The business's currency (ISO 4217), for spend.
    pub currency: String,
    /// The member's value of the metric in the current window.
    pub value: i64,
    pub window: WindowDoc,
    pub next: Option<NextTier>,
    /// The last day the window counts to (calendar year), when it has one: "spend 320 more
    /// by 2027-12-31".
    pub by: Option<NaiveDate>,
    /// What keeps the current tier: its threshold, and how far below it the member is.
    pub keep_threshold: i64,
    pub short_of_current: i64,
}

#[derive(Debug, Object)]
pub struct TierMoveView {
    pub id: i64,
    pub from: String,
    pub to: String,
    /// The current names of `from` and `to` (absent for a code the ladder in force no
    /// longer has, and for no tier).
    pub from_name: Option<NamesDoc>,
    pub to_name: Option<NamesDoc>,
    /// `promotion`, `demotion`, `pin`, `unpin`, `pin_lapsed` or `ladder` (a publish).
    pub kind: String,
    pub metric: Option<i64>,
    pub threshold: Option<i64>,
    pub ladder_version: Option<i32>,
    /// In English; a person's own words for a pin or unpin.
    pub reason: String,
    /// For a reason the system wrote (`threshold_reached`, `below_threshold`,
    /// `script_chose`, `ladder_published`): its stable code, to be said in the reader's
    /// language with `reason_params` (a `tier` there comes with its current `tier_name`).
    pub reason_code: Option<String>,
    pub reason_params: Option<serde_json::Value>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

type TierNames = HashMap<String, core_tiers::Names>;

fn name_of(names: &TierNames, code: &str) -> Option<NamesDoc> {
    names.get(code).map(NamesDoc::from)
}

impl TierMoveView {
    fn of(m: Move, names: &TierNames) -> Self {
        Self {
            id: m.id,
            from_name: name_of(names, &m.from_tier),
            to_name: name_of(names, &m.to_tier),
            from: m.from_tier,
            to: m.to_tier,
            kind: m.kind,
            metric: m.metric,
            threshold: m.threshold,
            ladder_version: m.ladder_version,
            reason: m.reason,
            reason_code: m.reason_code,
            reason_params: m.reason_params,
            actor: m.actor,
            at: m.at,
        }
    }
}

/// A member's tier, what it gives, progress, retention, pin and history.
#[derive(Debug, Object)]
pub struct MemberTierView {
    /// None while the business has no ladder.
    pub ladder_version: Option<i32>,
    pub tier: Option<TierView>,
    pub since: Option<DateTime<Utc>>,
    pub pin: Option<TierPinView>,
    /// Below the tier's threshold since (the scheduled evaluation saw it first then).
    pub below_since: Option<DateTime<Utc>>,
    /// When the tier is lost unless the member qualifies again.
    pub retained_until: Option<DateTime<Utc>>,
    pub progress: Option<TierProgress>,
    pub history: Vec<TierMoveView>,
}

impl From<MemberTierData> for MemberTierView {
    fn from(d: MemberTierData) -> Self {
        Self {
            ladder_version: d.ladder_version,
            tier: d.tier.as_ref().map(TierView::from),
            since: d.since,
            pin: d.pin.map(|p| TierPinView {
                tier_name: name_of(&d.tier_names, &p.tier),
                tier: p.tier,
                until: p.until,
                reason: p.reason,
                by: p.by,
            }),
            below_since: d.below_since,
            retained_until: d.retained_until,
            progress: d.progress.map(|p| TierProgress {
                metric: p.metric.into(),
                currency: p.currency,
                value: p.value,
                window: p.window.into(),
                next: p.next.map(|(t, remaining)| NextTier {
                    code: t.code,
                    name: (&t.name).into(),
                    threshold: t.threshold,
                    remaining,
                }),
                by: p.by,
                keep_threshold: p.keep_threshold,
                short_of_current: p.short_of_current,
            }),
            history: d
                .history
                .into_iter()
                .map(|m| TierMoveView::of(m, &d.tier_names))
                .collect(),
        }
    }
}
