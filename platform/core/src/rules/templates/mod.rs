//! No-code rule templates: JSON forms for the common point rules, each of which compiles to
//! a short, commented Rhai script that an admin can open and edit.
//!
//! A [`Template`] is tagged by `kind` (`purchase`, `check_in`, `referral`, `birthday`,
//! `custom_event`). [`Template::validate`] names every bad field by its path,
//! [`Template::to_script`] writes the script, [`Template::evaluate`] gives the script's
//! outcome without running it (or `None`: ask the sandbox), and [`catalog`] describes the
//! forms (title and JSON Schema) for the console. Nothing here does I/O.
//!
//! # How a purchase rule counts
//!
//! 1. A purchase under `minimum_spend` earns nothing from the rule at all.
//! 2. Lines matched by a `multipliers` entry (the first entry that matches wins) earn on
//!    their own: the line's price (quantity × unit price) at the base rate times the factor,
//!    rounded once, as an award for that line. The rest of the purchase (the amount paid
//!    minus those lines' prices, never below zero) earns the base rate.
//! 3. The factors then multiply what steps 2 earned, one after the other and each rounded
//!    down: the tier (`tier_multipliers`, first match, or the tier's own benefit with
//!    `use_tier_benefit`), the birthday month, then each promotion running at the time of
//!    the purchase, in the order listed. Each factor shows as its own award of the extra
//!    points. A promotion's `bonus_points` are added after its factor and are not
//!    multiplied by later factors.
//! 4. `per_purchase_cap` and `daily_cap` (what is left of it after
//!    `member.totals.points_today`) limit the total of steps 2 and 3. Awards are given in
//!    the order above, so a cap cuts promotions first, then birthday, tier, base and lines.
//! 5. The `first_purchase_bonus` is added last, when `member.totals.visits == 0`, and no cap
//!    limits it.
//!
//! Factors are whole thousandths (`1500` = ×1.5), money is in the smallest unit (`100` =
//! ¥1.00), so no floating point is involved anywhere.

use crate::lang::Lang;
use crate::{FieldError, Validation};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Most entries in any list of a form (multipliers, tiers, promotions).
pub const MAX_ENTRIES: usize = 50;
/// Longest label, name, category, SKU or tier, in characters.
pub const MAX_TEXT_CHARS: usize = 100;
/// Largest factor, in thousandths (×100).
pub const MAX_FACTOR: i64 = 100_000;
/// Largest number of points any single field of a form may give.
pub const MAX_POINTS: i64 = 1_000_000;
/// Most points a rate may give for every `per_amount` (keeps line arithmetic far from
/// overflow).
pub const MAX_RATE_POINTS: i64 = 10_000;
/// Largest amount (smallest unit) any money field of a form may hold: 100,000,000.00.
pub const MAX_AMOUNT: i64 = 10_000_000_000;
/// Event kinds with their own template; a custom event may not take these names.
pub const BUILT_IN_EVENTS: [&str; 4] = ["purchase", "check_in", "referral", "birthday"];

/// A rule form, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Template {
    /// Points for purchases: a base rate plus optional multipliers, promotions, caps and a
    /// first-purchase bonus.
    Purchase(PurchaseTemplate),
    /// Fixed points for a check-in.
    CheckIn(FixedTemplate),
    /// Fixed points for a referral.
    Referral(FixedTemplate),
    /// Fixed points on the member's birthday.
    Birthday(FixedTemplate),
    /// Points for an event of the business's own.
    CustomEvent(CustomEventTemplate),
}

/// How a rate's division is rounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Down: ¥123.45 at 1 point per yuan is 123.
    #[default]
    Floor,
    /// To nearest, halves up: ¥123.50 is 124.
    Round,
    /// Up: ¥123.01 is 124.
    Ceil,
}

/// A rate: `points` for every `per_amount` spent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Earning {
    /// Points for every `per_amount`, 1..=10,000.
    pub points: i64,
    /// Amount in the smallest unit that earns `points` (`100` = per yuan), greater than 0.
    pub per_amount: i64,
    #[serde(default)]
    pub rounding: Rounding,
    /// Award reason; default like "1 point per 1.00 spent".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// What a line multiplier looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineMatch {
    /// The line's `category`.
    Category,
    /// The line's `sku`.
    Sku,
}

/// Lines of one category or SKU earn `factor_permille` / 1000 times the base rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineMultiplier {
    #[serde(rename = "match")]
    pub on: LineMatch,
    /// The category or SKU, exactly as the purchase lines carry it.
    pub value: String,
    /// 0..=100,000; `0` means these lines earn nothing.
    pub factor_permille: i64,
    /// Award reason; default like "drinks ×2".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Members of `tier` earn `factor_permille` / 1000 times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierMultiplier {
    /// Tier name as in `member.tier`.
    pub tier: String,
    /// 1,000..=100,000.
    pub factor_permille: i64,
    /// Award reason; default like "gold tier ×1.5".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A factor with an optional award reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Factor {
    /// 1,000..=100,000.
    pub factor_permille: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Fixed points with an optional award reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bonus {
    /// 1..=1,000,000.
    pub points: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Hours of the day, `from` included, `to` excluded (`{from: 14, to: 17}` is 14:00–16:59).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// 0..=23.
    pub from: i64,
    /// 1..=24, after `from`.
    pub to: i64,
}

/// A promotion: a factor and/or bonus points for purchases in a date window, optionally
/// only on some weekdays and at some hours (all in the business's time zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Promotion {
    /// Shown to members as the award reason.
    pub name: String,
    /// First day, included.
    pub from: NaiveDate,
    /// Last day, included.
    pub to: NaiveDate,
    /// 1 = Monday … 7 = Sunday; empty means every day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Hours>,
    /// 1,000..=100,000; multiplies what was earned so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor_permille: Option<i64>,
    /// Extra points for every purchase in the promotion, 1..=1,000,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_points: Option<i64>,
}

/// The purchase form. Only `base` is required. See the module documentation for the order
/// in which the parts apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchaseTemplate {
    pub base: Earning,
    /// Purchases paying less than this (smallest unit) earn nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_spend: Option<i64>,
    /// Category or SKU multipliers; the first that matches a line applies to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub multipliers: Vec<LineMultiplier>,
    /// Factors by tier name; the first that matches applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier_multipliers: Vec<TierMultiplier>,
    /// Use the tier's own multiplier (`member.benefits.multiplier`) instead of
    /// `tier_multipliers`; a multiplier of ×1 or below gives nothing extra.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub use_tier_benefit: bool,
    /// Award reason for `use_tier_benefit`; default "<tier> tier bonus".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_benefit_label: Option<String>,
    /// A factor in the member's birthday month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday_month: Option<Factor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promotions: Vec<Promotion>,
    /// Most points one purchase may earn (the first-purchase bonus aside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_purchase_cap: Option<i64>,
    /// Most points a member may have earned in a day, counting `member.totals.points_today`
    /// (the first-purchase bonus aside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_cap: Option<i64>,
    /// Spend at least so much, get points (消费满额赠分): the highest threshold the purchase
    /// reaches gives its points, after the caps and not limited by them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spend_bonuses: Vec<SpendBonus>,
    /// Extra points on the member's first purchase (`member.totals.visits == 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_purchase_bonus: Option<Bonus>,
    /// A coupon of this template for every purchase the rule applies to (at or above
    /// `minimum_spend`), given within the template's limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_template_id: Option<uuid::Uuid>,
}

/// A purchase of at least `min_amount` earns `points` more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendBonus {
    /// In the smallest unit, 1..=10,000,000,000.
    pub min_amount: i64,
    /// 1..=1,000,000.
    pub points: i64,
    /// Award reason; default like "spend 100.00, get 50 points".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Fixed points for an event of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedTemplate {
    /// 1..=1,000,000.
    pub points: i64,
    /// Award reason; defaults per kind ("check-in", "referral", "happy birthday").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Points for an event of the business's own: fixed points, a rate on `event.amount`, or
/// both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomEventTemplate {
    /// The event's name (`event.kind`): 1 to 40 lower-case letters, digits and `_`,
    /// starting with a letter (the same names `POST /events` and rule triggers take).
    pub event: String,
    /// Fixed points, 0..=1,000,000.
    #[serde(default)]
    pub points: i64,
    /// Award reason of the fixed points; default the event's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A rate on `event.amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_amount: Option<Earning>,
    /// A coupon of this template for every such event, given within the template's limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_template_id: Option<uuid::Uuid>,
}

mod catalog;
mod native;
mod script;
#[cfg(test)]
mod tests;
mod validate;

pub use catalog::catalog;
pub use native::MAX_NATIVE_LINES;
use script::fixed_script;
pub use script::rhai_string;
use validate::{label, range};

// ---------------------------------------------------------------------------------------------
// Parsing and validation

impl Template {
    /// Reads a form from JSON and validates it; a form that does not even read (unknown
    /// field, wrong type) is one error on the field `""`.
    pub fn parse(value: Value) -> Result<Self, Vec<FieldError>> {
        let template: Self = serde_json::from_value(value).map_err(|e| {
            vec![crate::Issue::new(
                crate::FieldCode::DoesNotFit,
                format!("not a valid form: {e}"),
            )
            .with("detail", e.to_string())
            .at("")]
        })?;
        template.validate()?;
        Ok(template)
    }

    /// The form's kind, as in its `kind` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Purchase(_) => "purchase",
            Self::CheckIn(_) => "check_in",
            Self::Referral(_) => "referral",
            Self::Birthday(_) => "birthday",
            Self::CustomEvent(_) => "custom_event",
        }
    }

    /// The event kind the rule reacts to (`event.kind`).
    pub fn event_kind(&self) -> &str {
        match self {
            Self::Purchase(_) => "purchase",
            Self::CheckIn(_) => "check_in",
            Self::Referral(_) => "referral",
            Self::Birthday(_) => "birthday",
            Self::CustomEvent(t) => &t.event,
        }
    }

    /// Every bad field, by path (`promotions[1].to`).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut v = Validation::new();
        match self {
            Self::Purchase(t) => t.check(&mut v),
            Self::CheckIn(t) | Self::Referral(t) | Self::Birthday(t) => {
                v.check("points", range(t.points, 1, MAX_POINTS));
                label(&mut v, "label", &t.label);
            }
            Self::CustomEvent(t) => t.check(&mut v),
        }
        v.finish()
    }

    /// The rule as a readable, commented Rhai script, commented in English. Call
    /// [`Template::validate`] first: an invalid form still gives a script, but not
    /// necessarily a sensible one.
    pub fn to_script(&self) -> String {
        self.to_script_in(Lang::En)
    }

    /// The rule as a readable Rhai script whose comments are in `lang` (the business's
    /// language). Only the comments differ between languages; the code is the same.
    pub fn to_script_in(&self, lang: Lang) -> String {
        match self {
            Self::Purchase(t) => t.script(lang),
            Self::CheckIn(t) => fixed_script("check_in", ("签到", "Check-in"), t, "check_in", lang),
            Self::Referral(t) => {
                fixed_script("referral", ("推荐", "Referral"), t, "referral", lang)
            }
            Self::Birthday(t) => {
                fixed_script("birthday", ("生日", "Birthday"), t, "happy_birthday", lang)
            }
            Self::CustomEvent(t) => t.script(lang),
        }
    }

    /// Whether `script` is exactly what this form generates, in any language.
    pub fn generates(&self, script: &str) -> bool {
        [Lang::ZhCn, Lang::En]
            .into_iter()
            .any(|l| self.to_script_in(l) == script)
    }

    /// The coupon template the form gives one coupon of per event, if any.
    pub fn coupon_template_id(&self) -> Option<uuid::Uuid> {
        match self {
            Self::Purchase(t) => t.coupon_template_id,
            Self::CustomEvent(t) => t.coupon_template_id,
            _ => None,
        }
    }

    /// The forms for a console; see [`catalog`].
    pub fn catalog() -> Value {
        catalog()
    }
}
