//! No-code rule templates: JSON forms for the common point rules, each of which compiles to
//! a short, commented Rhai script that an admin can open and edit.
//!
//! A [`Template`] is tagged by `kind` (`purchase`, `check_in`, `referral`, `birthday`,
//! `custom_event`). [`Template::validate`] names every bad field by its path,
//! [`Template::to_script`] writes the script, and [`catalog`] describes the forms (title and
//! JSON Schema) for the console. Nothing here does I/O.
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

use std::fmt::Write as _;

use chrono::NaiveDate;
use patron_core::{FieldError, Validation};
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
    /// Extra points on the member's first purchase (`member.totals.visits == 0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_purchase_bonus: Option<Bonus>,
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
}

// ---------------------------------------------------------------------------------------------
// Parsing and validation

impl Template {
    /// Reads a form from JSON and validates it; a form that does not even read (unknown
    /// field, wrong type) is one error on the field `""`.
    pub fn parse(value: Value) -> Result<Self, Vec<FieldError>> {
        let template: Self = serde_json::from_value(value)
            .map_err(|e| vec![FieldError::new("", format!("not a valid form: {e}"))])?;
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

    /// The rule as a readable, commented Rhai script. Call [`Template::validate`] first:
    /// an invalid form still gives a script, but not necessarily a sensible one.
    pub fn to_script(&self) -> String {
        match self {
            Self::Purchase(t) => t.script(),
            Self::CheckIn(t) => fixed_script("check_in", "Check-in", t, "check-in"),
            Self::Referral(t) => fixed_script("referral", "Referral", t, "referral"),
            Self::Birthday(t) => fixed_script("birthday", "Birthday", t, "happy birthday"),
            Self::CustomEvent(t) => t.script(),
        }
    }

    /// The forms for a console; see [`catalog`].
    pub fn catalog() -> Value {
        catalog()
    }
}

fn range(value: i64, min: i64, max: i64) -> Result<(), String> {
    if value < min || value > max {
        Err(if min == 1 {
            format!("must be greater than 0 and at most {max}")
        } else {
            format!("must be between {min} and {max}")
        })
    } else {
        Ok(())
    }
}

fn boost_factor(value: i64) -> Result<(), String> {
    if (1000..=MAX_FACTOR).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "must be between 1000 (×1) and {MAX_FACTOR} (×100), in thousandths"
        ))
    }
}

fn text(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err("must not be empty".into())
    } else if value.chars().count() > MAX_TEXT_CHARS {
        Err(format!("must be at most {MAX_TEXT_CHARS} characters"))
    } else if value.chars().any(char::is_control) {
        Err("must not contain line breaks or control characters".into())
    } else {
        Ok(())
    }
}

fn label(v: &mut Validation, path: &str, value: &Option<String>) {
    if let Some(value) = value {
        v.check(path, text(value));
    }
}

fn earning(v: &mut Validation, path: &str, e: &Earning) {
    v.check(
        &format!("{path}.points"),
        range(e.points, 1, MAX_RATE_POINTS),
    );
    v.check(
        &format!("{path}.per_amount"),
        range(e.per_amount, 1, MAX_AMOUNT),
    );
    label(v, &format!("{path}.label"), &e.label);
}

fn list_size<T>(v: &mut Validation, path: &str, list: &[T]) {
    if list.len() > MAX_ENTRIES {
        v.check::<()>(
            path,
            Err(format!("must have at most {MAX_ENTRIES} entries")),
        );
    }
}

impl PurchaseTemplate {
    fn check(&self, v: &mut Validation) {
        earning(v, "base", &self.base);
        if let Some(min) = self.minimum_spend {
            v.check("minimum_spend", range(min, 1, MAX_AMOUNT));
        }

        list_size(v, "multipliers", &self.multipliers);
        for (i, m) in self.multipliers.iter().enumerate() {
            let path = format!("multipliers[{i}]");
            v.check(&format!("{path}.value"), text(&m.value));
            v.check(
                &format!("{path}.factor_permille"),
                range(m.factor_permille, 0, MAX_FACTOR),
            );
            label(v, &format!("{path}.label"), &m.label);
            if let Some(first) = self.multipliers[..i]
                .iter()
                .position(|o| o.on == m.on && o.value == m.value)
            {
                v.check::<()>(
                    &format!("{path}.value"),
                    Err(format!("is already matched by multipliers[{first}]")),
                );
            }
        }

        list_size(v, "tier_multipliers", &self.tier_multipliers);
        for (i, t) in self.tier_multipliers.iter().enumerate() {
            let path = format!("tier_multipliers[{i}]");
            v.check(&format!("{path}.tier"), text(&t.tier));
            v.check(
                &format!("{path}.factor_permille"),
                boost_factor(t.factor_permille),
            );
            label(v, &format!("{path}.label"), &t.label);
            if let Some(first) = self.tier_multipliers[..i]
                .iter()
                .position(|o| o.tier == t.tier)
            {
                v.check::<()>(
                    &format!("{path}.tier"),
                    Err(format!("is already in tier_multipliers[{first}]")),
                );
            }
        }
        if self.use_tier_benefit && !self.tier_multipliers.is_empty() {
            v.check::<()>(
                "use_tier_benefit",
                Err("use either the tier's benefit or tier_multipliers, not both".into()),
            );
        }
        label(v, "tier_benefit_label", &self.tier_benefit_label);
        if self.tier_benefit_label.is_some() && !self.use_tier_benefit {
            v.check::<()>(
                "tier_benefit_label",
                Err("only applies with use_tier_benefit".into()),
            );
        }

        if let Some(b) = &self.birthday_month {
            v.check(
                "birthday_month.factor_permille",
                boost_factor(b.factor_permille),
            );
            label(v, "birthday_month.label", &b.label);
        }

        list_size(v, "promotions", &self.promotions);
        for (i, p) in self.promotions.iter().enumerate() {
            p.check(v, &format!("promotions[{i}]"));
        }

        if let Some(cap) = self.per_purchase_cap {
            v.check("per_purchase_cap", range(cap, 1, MAX_POINTS));
        }
        if let Some(cap) = self.daily_cap {
            v.check("daily_cap", range(cap, 1, MAX_POINTS));
        }
        if let Some(b) = &self.first_purchase_bonus {
            v.check(
                "first_purchase_bonus.points",
                range(b.points, 1, MAX_POINTS),
            );
            label(v, "first_purchase_bonus.label", &b.label);
        }
    }
}

impl Promotion {
    fn check(&self, v: &mut Validation, path: &str) {
        v.check(&format!("{path}.name"), text(&self.name));
        if self.to < self.from {
            v.check::<()>(&format!("{path}.to"), Err("must not be before from".into()));
        }
        if self.weekdays.len() > 7 {
            v.check::<()>(
                &format!("{path}.weekdays"),
                Err("must have at most 7 days".into()),
            );
        }
        for (j, day) in self.weekdays.iter().enumerate() {
            let day_path = format!("{path}.weekdays[{j}]");
            if !(1..=7).contains(day) {
                v.check::<()>(
                    &day_path,
                    Err("must be between 1 (Monday) and 7 (Sunday)".into()),
                );
            } else if self.weekdays[..j].contains(day) {
                v.check::<()>(&day_path, Err("is listed twice".into()));
            }
        }
        if let Some(hours) = self.hours {
            v.check(&format!("{path}.hours.from"), range(hours.from, 0, 23));
            if !(1..=24).contains(&hours.to) {
                v.check::<()>(
                    &format!("{path}.hours.to"),
                    Err("must be between 1 and 24".into()),
                );
            } else if hours.to <= hours.from {
                v.check::<()>(
                    &format!("{path}.hours.to"),
                    Err("must be after from (hours across midnight need two promotions)".into()),
                );
            }
        }
        match (self.factor_permille, self.bonus_points) {
            (None, None) => {
                v.check::<()>(
                    &format!("{path}.factor_permille"),
                    Err("give factor_permille, bonus_points or both".into()),
                );
            }
            (factor, bonus) => {
                if let Some(f) = factor {
                    v.check(&format!("{path}.factor_permille"), boost_factor(f));
                }
                if let Some(b) = bonus {
                    v.check(&format!("{path}.bonus_points"), range(b, 1, MAX_POINTS));
                }
            }
        }
    }
}

impl CustomEventTemplate {
    fn check(&self, v: &mut Validation) {
        v.check("event", event_name(&self.event));
        v.check("points", range(self.points, 0, MAX_POINTS));
        label(v, "label", &self.label);
        match &self.per_amount {
            Some(e) => earning(v, "per_amount", e),
            None if self.points == 0 => {
                v.check::<()>(
                    "points",
                    Err("must be greater than 0 when there is no per_amount".into()),
                );
            }
            None => {}
        }
    }
}

fn event_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if name.is_empty() || name.len() > 40 {
        Err("must be 1 to 40 characters".into())
    } else if !well_formed {
        Err("must start with a lower-case letter and hold only a-z, 0-9 and _".into())
    } else if BUILT_IN_EVENTS.contains(&name) {
        Err(format!("{name} has its own template"))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Scripts

/// `value` as a Rhai string literal that reads back exactly as `value`: quotes, backslashes
/// and every control or line-separating character are escaped, so form text can never end
/// the literal (or a comment it appears in).
pub fn rhai_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `1500` as `1.5`, `2000` as `2`.
fn factor_text(permille: i64) -> String {
    let (whole, frac) = (permille / 1000, (permille % 1000).abs());
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// `12345` (smallest unit) as `123.45`.
fn money_text(amount: i64) -> String {
    format!("{}.{:02}", amount / 100, (amount % 100).abs())
}

fn points_text(points: i64) -> String {
    if points == 1 {
        "1 point".into()
    } else {
        format!("{points} points")
    }
}

fn rate_text(e: &Earning) -> String {
    format!(
        "{} per {} spent",
        points_text(e.points),
        money_text(e.per_amount)
    )
}

fn rounding_text(r: Rounding) -> &'static str {
    match r {
        Rounding::Floor => "rounded down",
        Rounding::Round => "rounded to nearest",
        Rounding::Ceil => "rounded up",
    }
}

fn weekday_text(day: i64) -> &'static str {
    match day {
        1 => "Monday",
        2 => "Tuesday",
        3 => "Wednesday",
        4 => "Thursday",
        5 => "Friday",
        6 => "Saturday",
        7 => "Sunday",
        _ => "?",
    }
}

/// `numerator / denominator` with the rounding, as Rhai.
fn divide(numerator: &str, denominator: &str, rounding: Rounding) -> String {
    match rounding {
        Rounding::Floor => format!("floor_div({numerator}, {denominator})"),
        Rounding::Round => format!("round_div({numerator}, {denominator})"),
        Rounding::Ceil => {
            format!("floor_div({numerator} + {denominator} - 1, {denominator})")
        }
    }
}

/// The reason: the form's label, else the default text.
fn reason(label: &Option<String>, default: impl FnOnce() -> String) -> String {
    rhai_string(label.as_deref().unwrap_or(&default()))
}

fn header(out: &mut String, what: &str) {
    let _ = writeln!(
        out,
        "// {what} rule, made from a template. You may edit it."
    );
}

fn fixed_script(kind: &str, what: &str, t: &FixedTemplate, default: &str) -> String {
    let mut out = String::new();
    header(&mut out, what);
    let _ = writeln!(out);
    let _ = writeln!(out, "if event.kind == {} {{", rhai_string(kind));
    let _ = writeln!(
        out,
        "    award({}, {});",
        t.points,
        reason(&t.label, || default.into())
    );
    let _ = writeln!(out, "}}");
    out
}

impl CustomEventTemplate {
    fn script(&self) -> String {
        let mut out = String::new();
        header(&mut out, "Custom event");
        let _ = writeln!(out);
        let _ = writeln!(out, "if event.kind == {} {{", rhai_string(&self.event));
        if self.points > 0 {
            let _ = writeln!(
                out,
                "    award({}, {});",
                self.points,
                reason(&self.label, || self.event.clone())
            );
        }
        if let Some(e) = &self.per_amount {
            let _ = writeln!(
                out,
                "    // {} ({} in the smallest unit), {}.",
                rate_text(e),
                e.per_amount,
                rounding_text(e.rounding)
            );
            let _ = writeln!(
                out,
                "    let points = {};",
                divide(
                    &format!("event.amount * {}", e.points),
                    &e.per_amount.to_string(),
                    e.rounding
                )
            );
            let _ = writeln!(out, "    if points > 0 {{");
            let _ = writeln!(
                out,
                "        award(points, {});",
                reason(&e.label, || rate_text(e))
            );
            let _ = writeln!(out, "    }}");
        }
        let _ = writeln!(out, "}}");
        out
    }
}

impl PurchaseTemplate {
    fn script(&self) -> String {
        let mut out = String::new();
        let o = &mut out;
        header(o, "Purchase");
        let _ = writeln!(
            o,
            "//\n\
             // Lines with a multiplier and the rest of the purchase earn points first; the tier,\n\
             // birthday-month and promotion factors then multiply them; the caps limit the total;\n\
             // a first-purchase bonus comes last. Awards are collected as [line, points, reason]\n\
             // (line -1 for the whole purchase) and given at the end.\n"
        );
        let _ = writeln!(o, "if event.kind != \"purchase\" {{\n    return;\n}}\n");

        let base = &self.base;
        let _ = writeln!(
            o,
            "// Base rate: {} ({} in the smallest unit), {}.",
            rate_text(base),
            base.per_amount,
            rounding_text(base.rounding)
        );
        let _ = writeln!(o, "const POINTS = {};", base.points);
        let _ = writeln!(o, "const PER_AMOUNT = {};\n", base.per_amount);

        if let Some(min) = self.minimum_spend {
            let _ = writeln!(
                o,
                "// Minimum spend: a purchase under {} earns nothing.",
                money_text(min)
            );
            let _ = writeln!(o, "if event.amount < {min} {{\n    return;\n}}\n");
        }

        let _ = writeln!(o, "let awards = [];");
        let _ = writeln!(o, "let earned = 0;\n");

        let base_reason = reason(&base.label, || rate_text(base));
        if self.multipliers.is_empty() {
            let _ = writeln!(o, "// The purchase earns the base rate.");
            let _ = writeln!(
                o,
                "let points = {};",
                divide("event.amount * POINTS", "PER_AMOUNT", base.rounding)
            );
        } else {
            self.line_multipliers(o);
            let _ = writeln!(
                o,
                "// The rest of the purchase (never below zero) earns the base rate."
            );
            let _ = writeln!(
                o,
                "let points = {};",
                divide("max(rest, 0) * POINTS", "PER_AMOUNT", base.rounding)
            );
        }
        let _ = writeln!(o, "awards.push([-1, points, {base_reason}]);");
        let _ = writeln!(o, "earned += points;\n");

        self.tiers(o);
        if let Some(b) = &self.birthday_month {
            let _ = writeln!(o, "// Birthday month: ×{}.", factor_text(b.factor_permille));
            let _ = writeln!(o, "if is_birthday_month(member, event) {{");
            let r = reason(&b.label, || {
                format!("birthday month ×{}", factor_text(b.factor_permille))
            });
            boost(o, &b.factor_permille.to_string(), &r, "    ");
            let _ = writeln!(o, "}}\n");
        }
        self.promotions(o);
        self.caps_and_awards(o);

        if let Some(b) = &self.first_purchase_bonus {
            let _ = writeln!(
                o,
                "// First purchase: a welcome bonus, not limited by caps."
            );
            let _ = writeln!(o, "if member.totals.visits == 0 {{");
            let _ = writeln!(
                o,
                "    award({}, {});",
                b.points,
                reason(&b.label, || "welcome bonus".into())
            );
            let _ = writeln!(o, "}}");
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    fn line_multipliers(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "// Line multipliers: the first that matches a line applies; that line earns the base\n\
             // rate on its price (quantity × unit price) times the factor (in thousandths)."
        );
        let _ = writeln!(o, "let rest = event.amount;");
        let _ = writeln!(o, "for (line, i) in event.items {{");
        let _ = writeln!(o, "    let factor = -1;");
        let _ = writeln!(o, "    let reason = \"\";");
        for (i, m) in self.multipliers.iter().enumerate() {
            let field = match m.on {
                LineMatch::Category => "category",
                LineMatch::Sku => "sku",
            };
            let keyword = if i == 0 { "    if" } else { " else if" };
            let r = reason(&m.label, || {
                format!("{} ×{}", m.value, factor_text(m.factor_permille))
            });
            let _ = write!(
                o,
                "{keyword} line.{field} == {} {{\n        factor = {};\n        reason = {r};\n    }}",
                rhai_string(&m.value),
                m.factor_permille,
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "    if factor >= 0 {{");
        let _ = writeln!(o, "        let price = line.quantity * line.unit_price;");
        let _ = writeln!(o, "        rest -= price;");
        let _ = writeln!(
            o,
            "        let points = {};",
            divide(
                "price * POINTS * factor",
                "PER_AMOUNT * 1000",
                self.base.rounding
            )
        );
        let _ = writeln!(o, "        awards.push([i, points, reason]);");
        let _ = writeln!(o, "        earned += points;");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}\n");
    }

    fn tiers(&self, o: &mut String) {
        if self.use_tier_benefit {
            let _ = writeln!(
                o,
                "// Tier: the tier's own multiplier (in thousandths); ×1 or below adds nothing."
            );
            let _ = writeln!(o, "if member.benefits.multiplier > 1000 {{");
            let r = match &self.tier_benefit_label {
                Some(l) => rhai_string(l),
                None => "member.tier + \" tier bonus\"".into(),
            };
            boost(o, "member.benefits.multiplier", &r, "    ");
            let _ = writeln!(o, "}}\n");
            return;
        }
        if self.tier_multipliers.is_empty() {
            return;
        }
        let list: Vec<String> = self
            .tier_multipliers
            .iter()
            .map(|t| {
                format!(
                    "{} ×{}",
                    rhai_string(&t.tier),
                    factor_text(t.factor_permille)
                )
            })
            .collect();
        let _ = writeln!(o, "// Tier multipliers: {}.", list.join(", "));
        for (i, t) in self.tier_multipliers.iter().enumerate() {
            let keyword = if i == 0 { "if" } else { " else if" };
            let _ = writeln!(o, "{keyword} member.tier == {} {{", rhai_string(&t.tier));
            let r = reason(&t.label, || {
                format!("{} tier ×{}", t.tier, factor_text(t.factor_permille))
            });
            boost(o, &t.factor_permille.to_string(), &r, "    ");
            let _ = write!(o, "}}");
        }
        let _ = writeln!(o, "\n");
    }

    fn promotions(&self, o: &mut String) {
        if self.promotions.is_empty() {
            return;
        }
        let _ = writeln!(
            o,
            "// Promotions, in the business's time zone. The date as a number: 20260314."
        );
        let _ = writeln!(
            o,
            "let today = event.time.year * 10000 + event.time.month * 100 + event.time.day;\n"
        );
        for p in &self.promotions {
            let mut when = format!("from {} to {}", p.from, p.to);
            let mut conditions = vec![format!(
                "today >= {} && today <= {}",
                p.from.format("%Y%m%d"),
                p.to.format("%Y%m%d")
            )];
            if !p.weekdays.is_empty() {
                let names: Vec<&str> = p.weekdays.iter().map(|d| weekday_text(*d)).collect();
                let _ = write!(when, ", on {}", names.join(", "));
                let days: Vec<String> = p
                    .weekdays
                    .iter()
                    .map(|d| format!("event.time.weekday == {d}"))
                    .collect();
                conditions.push(if days.len() == 1 {
                    days.join("")
                } else {
                    format!("({})", days.join(" || "))
                });
            }
            if let Some(h) = p.hours {
                let _ = write!(when, ", {:02}:00 to {:02}:00", h.from, h.to);
                conditions.push(format!(
                    "event.time.hour >= {} && event.time.hour < {}",
                    h.from, h.to
                ));
            }
            let mut what = Vec::new();
            if let Some(f) = p.factor_permille {
                what.push(format!("×{}", factor_text(f)));
            }
            if let Some(b) = p.bonus_points {
                what.push(format!("{} extra", points_text(b)));
            }
            let _ = writeln!(
                o,
                "// Promotion {}: {}, {}.",
                rhai_string(&p.name),
                what.join(" and "),
                when
            );
            let _ = writeln!(o, "if {} {{", conditions.join("\n    && "));
            let r = rhai_string(&p.name);
            match (p.factor_permille, p.bonus_points) {
                (Some(f), bonus) => {
                    let _ = writeln!(o, "    let extra = floor_div(earned * {f}, 1000) - earned;");
                    let _ = writeln!(o, "    earned += extra;");
                    match bonus {
                        Some(b) => {
                            let _ = writeln!(o, "    awards.push([-1, extra + {b}, {r}]);");
                        }
                        None => {
                            let _ = writeln!(o, "    awards.push([-1, extra, {r}]);");
                        }
                    }
                }
                (None, Some(b)) => {
                    let _ = writeln!(o, "    awards.push([-1, {b}, {r}]);");
                }
                (None, None) => {}
            }
            let _ = writeln!(o, "}}\n");
        }
    }

    fn caps_and_awards(&self, o: &mut String) {
        let daily = |cap: i64| format!("max({cap} - member.totals.points_today, 0)");
        let room = match (self.per_purchase_cap, self.daily_cap) {
            (Some(per), Some(day)) => Some(format!("min({per}, {})", daily(day))),
            (Some(per), None) => Some(per.to_string()),
            (None, Some(day)) => Some(daily(day)),
            (None, None) => None,
        };
        let capped = room.is_some();
        if let Some(room) = room {
            let _ = writeln!(
                o,
                "// Caps: the points still allowed; awards beyond them are cut, last ones first."
            );
            if let Some(cap) = self.per_purchase_cap {
                let _ = writeln!(o, "// At most {cap} per purchase.");
            }
            if let Some(cap) = self.daily_cap {
                let _ = writeln!(
                    o,
                    "// At most {cap} a day, counting what the member earned today before this purchase."
                );
            }
            let _ = writeln!(o, "let room = {room};\n");
        }
        let _ = writeln!(o, "// Give the awards.");
        let _ = writeln!(o, "for a in awards {{");
        if capped {
            let _ = writeln!(o, "    let points = min(a[1], room);");
            let _ = writeln!(o, "    room -= points;");
        } else {
            let _ = writeln!(o, "    let points = a[1];");
        }
        let _ = writeln!(o, "    if points > 0 && a[0] < 0 {{");
        let _ = writeln!(o, "        award(points, a[2]);");
        let _ = writeln!(o, "    }} else if points > 0 {{");
        let _ = writeln!(o, "        award_line(a[0], points, a[2]);");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}\n");
    }
}

/// Multiplies `earned` by `factor` thousandths and collects the extra as an award.
fn boost(o: &mut String, factor: &str, reason: &str, indent: &str) {
    let _ = writeln!(
        o,
        "{indent}let extra = floor_div(earned * {factor}, 1000) - earned;"
    );
    let _ = writeln!(o, "{indent}awards.push([-1, extra, {reason}]);");
    let _ = writeln!(o, "{indent}earned += extra;");
}

// ---------------------------------------------------------------------------------------------
// Catalog

/// The forms for a console: a JSON array with, for each kind, its `kind`, `title`,
/// `description`, a JSON Schema (draft 07) of the form and an `example` form to start from.
pub fn catalog() -> Value {
    let text = |description: &str| {
        json!({"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS,
               "description": description})
    };
    let label = |default: &str| text(&format!("Reason shown to members; default {default}."));
    let points = |description: &str| json!({"type": "integer", "minimum": 1, "maximum": MAX_POINTS, "description": description});
    let boost = |description: &str| {
        json!({"type": "integer", "minimum": 1000, "maximum": MAX_FACTOR,
               "description": format!("{description} In thousandths: 1500 = ×1.5.")})
    };
    let earning = |description: &str| {
        json!({
            "type": "object",
            "description": description,
            "additionalProperties": false,
            "required": ["points", "per_amount"],
            "properties": {
                "points": {"type": "integer", "minimum": 1, "maximum": MAX_RATE_POINTS,
                           "description": "Points for every per_amount spent."},
                "per_amount": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT,
                               "description": "Amount in the smallest unit: 100 = per yuan."},
                "rounding": {"type": "string", "enum": ["floor", "round", "ceil"],
                             "default": "floor",
                             "description": "floor: down; round: to nearest, halves up; ceil: up."},
                "label": label("like \"1 point per 1.00 spent\""),
            }
        })
    };
    let form = |kind: &str, required: &[&str], properties: Value| {
        let mut properties = properties;
        properties["kind"] = json!({"const": kind});
        let mut required: Vec<&str> = required.to_vec();
        required.insert(0, "kind");
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": properties,
        })
    };
    let fixed = |default: &str| {
        form(
            "",
            &["points"],
            json!({"points": points("Points for each event."), "label": label(default)}),
        )
    };
    let with_kind = |mut schema: Value, kind: &str| {
        schema["properties"]["kind"] = json!({"const": kind});
        schema
    };

    let purchase = form(
        "purchase",
        &["base"],
        json!({
            "base": earning("Points for the amount paid."),
            "minimum_spend": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT,
                              "description": "Purchases paying less (smallest unit) earn nothing."},
            "multipliers": {
                "type": "array", "maxItems": MAX_ENTRIES,
                "description": "Lines of a category or SKU earn a multiple of the base rate; the first match applies.",
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["match", "value", "factor_permille"],
                    "properties": {
                        "match": {"type": "string", "enum": ["category", "sku"]},
                        "value": text("The category or SKU, as the purchase lines carry it."),
                        "factor_permille": {"type": "integer", "minimum": 0, "maximum": MAX_FACTOR,
                                            "description": "In thousandths: 2000 = ×2, 0 = these lines earn nothing."},
                        "label": label("like \"drinks ×2\""),
                    }
                }
            },
            "tier_multipliers": {
                "type": "array", "maxItems": MAX_ENTRIES,
                "description": "A factor by tier; the first match applies.",
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["tier", "factor_permille"],
                    "properties": {
                        "tier": text("Tier name, e.g. gold."),
                        "factor_permille": boost("Factor for members of the tier."),
                        "label": label("like \"gold tier ×1.5\""),
                    }
                }
            },
            "use_tier_benefit": {"type": "boolean", "default": false,
                                 "description": "Use the tier's own multiplier instead of tier_multipliers."},
            "tier_benefit_label": label("\"<tier> tier bonus\""),
            "birthday_month": {
                "type": "object", "additionalProperties": false,
                "required": ["factor_permille"],
                "properties": {
                    "factor_permille": boost("Factor in the member's birthday month."),
                    "label": label("like \"birthday month ×2\""),
                }
            },
            "promotions": {
                "type": "array", "maxItems": MAX_ENTRIES,
                "description": "Factors or bonus points in a date window, optionally on some weekdays and hours.",
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["name", "from", "to"],
                    "anyOf": [{"required": ["factor_permille"]}, {"required": ["bonus_points"]}],
                    "properties": {
                        "name": text("Shown to members as the reason."),
                        "from": {"type": "string", "format": "date", "description": "First day, included."},
                        "to": {"type": "string", "format": "date", "description": "Last day, included."},
                        "weekdays": {"type": "array", "maxItems": 7, "uniqueItems": true,
                                     "items": {"type": "integer", "minimum": 1, "maximum": 7},
                                     "description": "1 = Monday … 7 = Sunday; none means every day."},
                        "hours": {
                            "type": "object", "additionalProperties": false,
                            "required": ["from", "to"],
                            "description": "From the hour `from` until before the hour `to`.",
                            "properties": {
                                "from": {"type": "integer", "minimum": 0, "maximum": 23},
                                "to": {"type": "integer", "minimum": 1, "maximum": 24},
                            }
                        },
                        "factor_permille": boost("Multiplies what was earned so far."),
                        "bonus_points": points("Extra points for each purchase in the promotion."),
                    }
                }
            },
            "per_purchase_cap": points("Most points one purchase may earn."),
            "daily_cap": points("Most points a member may earn a day, counting what they earned today already."),
            "first_purchase_bonus": {
                "type": "object", "additionalProperties": false,
                "required": ["points"],
                "properties": {
                    "points": points("Extra points on the member's first purchase; not capped."),
                    "label": label("\"welcome bonus\""),
                }
            },
        }),
    );
    let custom = form(
        "custom_event",
        &["event"],
        json!({
            "event": {"type": "string", "minLength": 1, "maxLength": 40,
                      "pattern": "^[a-z][a-z0-9_]*$",
                      "not": {"enum": BUILT_IN_EVENTS},
                      "description": "The event's name, e.g. review."},
            "points": {"type": "integer", "minimum": 0, "maximum": MAX_POINTS, "default": 0,
                       "description": "Fixed points for each event."},
            "label": label("the event's name"),
            "per_amount": earning("Points for the event's amount, in addition."),
        }),
    );

    let entry = |kind: &str, title: &str, description: &str, schema: Value, example: Value| {
        json!({"kind": kind, "title": title, "description": description,
               "schema": schema, "example": example})
    };
    json!([
        entry(
            "purchase",
            "Points for purchases",
            "Points per amount spent, with optional minimum spend, category or SKU multipliers, \
             tier and birthday-month multipliers, promotions, caps and a first-purchase bonus.",
            purchase,
            json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100}}),
        ),
        entry(
            "check_in",
            "Points for a check-in",
            "Fixed points each time a member checks in.",
            with_kind(fixed("\"check-in\""), "check_in"),
            json!({"kind": "check_in", "points": 5}),
        ),
        entry(
            "referral",
            "Points for a referral",
            "Fixed points for each member referred.",
            with_kind(fixed("\"referral\""), "referral"),
            json!({"kind": "referral", "points": 300}),
        ),
        entry(
            "birthday",
            "Birthday points",
            "Fixed points on the member's birthday.",
            with_kind(fixed("\"happy birthday\""), "birthday"),
            json!({"kind": "birthday", "points": 100}),
        ),
        entry(
            "custom_event",
            "Points for an event of your own",
            "Fixed points, points per amount, or both, for an event your systems send.",
            custom,
            json!({"kind": "custom_event", "event": "review", "points": 10}),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase(extra: Value) -> Value {
        let mut form = json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100}});
        if let (Some(form), Some(extra)) = (form.as_object_mut(), extra.as_object()) {
            form.extend(extra.clone());
        }
        form
    }

    fn read(form: Value) -> Template {
        serde_json::from_value(form).expect("form reads")
    }

    fn paths(template: &Template) -> Vec<String> {
        match template.validate() {
            Ok(()) => vec![],
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    fn full_purchase() -> Value {
        json!({
            "kind": "purchase",
            "base": {"points": 2, "per_amount": 100, "rounding": "round", "label": "2 per yuan"},
            "minimum_spend": 5000,
            "multipliers": [{"match": "category", "value": "drinks", "factor_permille": 2000, "label": "drinks"}],
            "tier_multipliers": [{"tier": "gold", "factor_permille": 1500, "label": "gold"}],
            "birthday_month": {"factor_permille": 2000, "label": "birthday"},
            "promotions": [{"name": "Tuesdays", "from": "2026-03-01", "to": "2026-03-31",
                            "weekdays": [2], "hours": {"from": 14, "to": 17},
                            "factor_permille": 2000, "bonus_points": 10}],
            "per_purchase_cap": 500,
            "daily_cap": 1000,
            "first_purchase_bonus": {"points": 200, "label": "welcome"},
        })
    }

    #[test]
    fn a_minimal_purchase_form_is_valid_and_floors_by_default() {
        let template = read(purchase(json!({})));
        assert_eq!(template.validate(), Ok(()));
        let Template::Purchase(p) = &template else {
            panic!("not a purchase form")
        };
        assert_eq!(p.base.rounding, Rounding::Floor);
        let script = template.to_script();
        assert!(script.contains("let points = floor_div(event.amount * POINTS, PER_AMOUNT);"));
        assert!(script.contains("const PER_AMOUNT = 100;"));
        assert!(script.contains("awards.push([-1, points, \"1 point per 1.00 spent\"]);"));
        assert!(!script.contains("room"), "no caps, no room:\n{script}");
        assert!(!script.contains("award_line") || script.contains("a[0]"));
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        for form in [
            purchase(json!({"bogus": 1})),
            json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100, "extra": 1}}),
            json!({"kind": "check_in", "points": 5, "colour": "red"}),
            json!({"kind": "lottery", "points": 5}),
            purchase(
                json!({"multipliers": [{"match": "brand", "value": "x", "factor_permille": 2000}]}),
            ),
            purchase(
                json!({"promotions": [{"name": "x", "from": "2026-02-30", "to": "2026-03-01", "bonus_points": 1}]}),
            ),
        ] {
            assert!(
                serde_json::from_value::<Template>(form.clone()).is_err(),
                "{form} was read"
            );
            let errors = Template::parse(form).unwrap_err();
            assert_eq!(errors[0].field, "");
        }
    }

    #[test]
    fn every_bad_field_is_named_by_its_path() {
        let template = read(json!({
            "kind": "purchase",
            "base": {"points": 10_001, "per_amount": 0, "label": " "},
            "minimum_spend": -1,
            "multipliers": [
                {"match": "category", "value": "", "factor_permille": 100_001},
                {"match": "sku", "value": "A", "factor_permille": 1000},
                {"match": "sku", "value": "A", "factor_permille": 2000, "label": "a\nb"},
            ],
            "tier_multipliers": [{"tier": "gold", "factor_permille": 500}],
            "use_tier_benefit": true,
            "birthday_month": {"factor_permille": 999},
            "promotions": [
                {"name": "ok", "from": "2026-03-01", "to": "2026-03-01", "bonus_points": 5},
                {"name": "x", "from": "2026-03-02", "to": "2026-03-01", "weekdays": [0, 3, 3, 8],
                 "hours": {"from": 17, "to": 14}},
                {"name": "y", "from": "2026-03-01", "to": "2026-03-02", "hours": {"from": 24, "to": 25},
                 "factor_permille": 2000, "bonus_points": 0},
            ],
            "per_purchase_cap": 0,
            "daily_cap": -5,
            "first_purchase_bonus": {"points": 0, "label": ""},
        }));
        assert_eq!(
            paths(&template),
            [
                "base.points",
                "base.per_amount",
                "base.label",
                "minimum_spend",
                "multipliers[0].value",
                "multipliers[0].factor_permille",
                "multipliers[2].label",
                "multipliers[2].value",
                "tier_multipliers[0].factor_permille",
                "use_tier_benefit",
                "birthday_month.factor_permille",
                "promotions[1].to",
                "promotions[1].weekdays[0]",
                "promotions[1].weekdays[2]",
                "promotions[1].weekdays[3]",
                "promotions[1].hours.to",
                "promotions[1].factor_permille",
                "promotions[2].hours.from",
                "promotions[2].hours.to",
                "promotions[2].bonus_points",
                "per_purchase_cap",
                "daily_cap",
                "first_purchase_bonus.points",
                "first_purchase_bonus.label",
            ]
        );
        let errors = template.validate().unwrap_err();
        let to = errors
            .iter()
            .find(|e| e.field == "promotions[1].to")
            .unwrap();
        assert_eq!(to.problem, "must not be before from");
        let per_amount = errors
            .iter()
            .find(|e| e.field == "base.per_amount")
            .unwrap();
        assert_eq!(
            per_amount.problem,
            format!("must be greater than 0 and at most {MAX_AMOUNT}")
        );
        let dup = errors
            .iter()
            .find(|e| e.field == "multipliers[2].value")
            .unwrap();
        assert_eq!(dup.problem, "is already matched by multipliers[1]");
    }

    #[test]
    fn lists_are_limited_to_fifty_entries() {
        let promotions: Vec<Value> = (0..51)
            .map(|i| json!({"name": format!("p{i}"), "from": "2026-01-01", "to": "2026-01-02", "bonus_points": 1}))
            .collect();
        let multipliers: Vec<Value> = (0..51)
            .map(|i| json!({"match": "sku", "value": format!("S{i}"), "factor_permille": 2000}))
            .collect();
        let template = read(purchase(
            json!({"promotions": promotions, "multipliers": multipliers}),
        ));
        assert_eq!(paths(&template), ["multipliers", "promotions"]);
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let template = read(json!({"kind": "referral", "points": 1, "label": long}));
        assert_eq!(paths(&template), ["label"]);
    }

    #[test]
    fn fixed_and_custom_forms_are_checked() {
        assert_eq!(
            paths(&read(json!({"kind": "check_in", "points": 0}))),
            ["points"]
        );
        assert_eq!(
            paths(&read(json!({"kind": "birthday", "points": 100}))),
            Vec::<String>::new()
        );
        for bad in [
            "",
            "Review",
            "1st",
            "purchase",
            "check_in",
            "a b",
            "ümlaut",
            "app-open",
            "order.paid",
        ] {
            let form = json!({"kind": "custom_event", "event": bad, "points": 1});
            assert_eq!(paths(&read(form)), ["event"], "{bad:?}");
        }
        let nothing = json!({"kind": "custom_event", "event": "review"});
        assert_eq!(paths(&read(nothing)), ["points"]);
        let rate_only = json!({"kind": "custom_event", "event": "order_paid",
                               "per_amount": {"points": 1, "per_amount": 0}});
        assert_eq!(paths(&read(rate_only)), ["per_amount.per_amount"]);
    }

    #[test]
    fn a_full_form_is_valid_and_survives_a_round_trip() {
        let form = full_purchase();
        let template = Template::parse(form.clone()).expect("valid");
        assert_eq!(serde_json::to_value(&template).unwrap(), form);
        assert_eq!(
            (template.kind(), template.event_kind()),
            ("purchase", "purchase")
        );
    }

    #[test]
    fn form_text_is_escaped_into_string_literals() {
        assert_eq!(rhai_string("plain ¥ ×2"), "\"plain ¥ ×2\"");
        assert_eq!(rhai_string("\"); loop {} //"), "\"\\\"); loop {} //\"");
        assert_eq!(rhai_string("a\\b\nc\r\td"), "\"a\\\\b\\nc\\r\\td\"");
        assert_eq!(
            rhai_string("\u{0}\u{2028}\u{85}"),
            "\"\\U00000000\\U00002028\\U00000085\""
        );
    }

    #[test]
    fn a_hostile_label_never_leaves_its_literal_or_comment() {
        let hostile = "\"); loop {} //\n award(1000000, \"x\"); //";
        let template = read(purchase(json!({
            "multipliers": [{"match": "category", "value": hostile, "factor_permille": 2000}],
            "promotions": [{"name": hostile, "from": "2026-01-01", "to": "2026-01-02", "bonus_points": 1}],
            "tier_multipliers": [{"tier": hostile, "factor_permille": 2000}],
        })));
        let script = template.to_script();
        for line in script.lines() {
            let code = line.trim_start();
            assert!(
                !code.starts_with("award(1000000") && !code.starts_with("loop"),
                "{script}"
            );
        }
        assert!(!script.contains(hostile));
        assert!(script.contains(&rhai_string(hostile)));
    }

    #[test]
    fn rounding_factors_and_money_read_well() {
        assert_eq!(factor_text(1500), "1.5");
        assert_eq!(factor_text(2000), "2");
        assert_eq!(factor_text(1250), "1.25");
        assert_eq!(factor_text(1005), "1.005");
        assert_eq!(factor_text(0), "0");
        assert_eq!(money_text(100), "1.00");
        assert_eq!(money_text(12345), "123.45");
        assert_eq!(money_text(5), "0.05");
        assert_eq!(divide("x", "d", Rounding::Floor), "floor_div(x, d)");
        assert_eq!(divide("x", "d", Rounding::Round), "round_div(x, d)");
        assert_eq!(divide("x", "d", Rounding::Ceil), "floor_div(x + d - 1, d)");
    }

    #[test]
    fn the_full_script_has_every_part_in_order() {
        let script = read(full_purchase()).to_script();
        let order = [
            "if event.kind != \"purchase\"",
            "const POINTS = 2;",
            "if event.amount < 5000 {",
            "if line.category == \"drinks\" {",
            "round_div(price * POINTS * factor, PER_AMOUNT * 1000)",
            "round_div(max(rest, 0) * POINTS, PER_AMOUNT)",
            "if member.tier == \"gold\" {",
            "if is_birthday_month(member, event) {",
            "today >= 20260301 && today <= 20260331",
            "event.time.weekday == 2",
            "event.time.hour >= 14 && event.time.hour < 17",
            "awards.push([-1, extra + 10, \"Tuesdays\"]);",
            "let room = min(500, max(1000 - member.totals.points_today, 0));",
            "award_line(a[0], points, a[2]);",
            "if member.totals.visits == 0 {",
            "award(200, \"welcome\");",
        ];
        let mut from = 0;
        for part in order {
            let at = script[from..]
                .find(part)
                .unwrap_or_else(|| panic!("{part:?} missing or out of order in:\n{script}"));
            from += at + part.len();
        }
    }

    #[test]
    fn fixed_and_custom_scripts_guard_their_event() {
        let script = read(json!({"kind": "check_in", "points": 5})).to_script();
        assert!(script.contains("if event.kind == \"check_in\" {\n    award(5, \"check-in\");\n}"));
        let script =
            read(json!({"kind": "birthday", "points": 100, "label": "生日快乐"})).to_script();
        assert!(script.contains("award(100, \"生日快乐\");"));
        let script = read(json!({"kind": "custom_event", "event": "review", "points": 10,
                                 "per_amount": {"points": 1, "per_amount": 100, "rounding": "ceil"}}))
        .to_script();
        assert!(script.contains("if event.kind == \"review\" {"));
        assert!(script.contains("award(10, \"review\");"));
        assert!(script.contains("floor_div(event.amount * 1 + 100 - 1, 100)"));
    }

    #[test]
    fn the_catalog_examples_read_validate_and_match_their_schemas() {
        let catalog = catalog();
        let entries = catalog.as_array().unwrap();
        let kinds: Vec<&str> = entries
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "purchase",
                "check_in",
                "referral",
                "birthday",
                "custom_event"
            ]
        );
        for entry in entries {
            let schema = jsonschema::validator_for(&entry["schema"]).expect("a valid schema");
            let example = entry["example"].clone();
            assert!(schema.is_valid(&example), "{example}");
            let template = Template::parse(example).expect("the example is a valid form");
            assert_eq!(template.kind(), entry["kind"]);
            assert!(!entry["title"].as_str().unwrap().is_empty());
        }
        let purchase = jsonschema::validator_for(&entries[0]["schema"]).unwrap();
        assert!(purchase.is_valid(&full_purchase()));
        assert!(!purchase.is_valid(&purchase_with_unknown_field()));
        assert!(!entries[4]["schema"].is_null());
        let custom = jsonschema::validator_for(&entries[4]["schema"]).unwrap();
        assert!(
            !custom.is_valid(&json!({"kind": "custom_event", "event": "purchase", "points": 1}))
        );
    }

    fn purchase_with_unknown_field() -> Value {
        purchase(json!({"bogus": true}))
    }

    #[test]
    fn the_purchase_schema_lists_exactly_the_fields_of_the_form() {
        // Serialising a form that uses every field gives every key the schema must list.
        let mut full = full_purchase();
        full["use_tier_benefit"] = json!(true);
        full["tier_benefit_label"] = json!("tier");
        let keys = |v: &Value| {
            let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        let catalog = catalog();
        let schema = &catalog[0]["schema"]["properties"];
        assert_eq!(keys(schema), keys(&full));
        assert_eq!(keys(&schema["base"]["properties"]), keys(&full["base"]));
        assert_eq!(
            keys(&schema["promotions"]["items"]["properties"]),
            keys(&full["promotions"][0])
        );
        assert_eq!(
            keys(&schema["multipliers"]["items"]["properties"]),
            keys(&full["multipliers"][0])
        );
    }
}
