//! A form's rule evaluated in Rust, without the sandbox: [`Template::evaluate`] answers the
//! very [`Outcome`] that the form's script ([`Template::to_script`]) gives when the sandbox
//! runs it on the same `event` and `member`, or `None` when it cannot be sure of that.
//!
//! The sandbox first checks and completes its inputs (`prepare_event`, `prepare_member` in
//! `patron-sandbox`), then runs the script with checked integer arithmetic and its limits.
//! This module mirrors both: the same defaults for missing fields, the same rounding
//! helpers, the same order of awards and caps, the same reason texts (cut at
//! [`MAX_REASON_CHARS`]). It answers `None`, so that the caller asks the sandbox, whenever
//! the script would fail or might meet a limit: an input the sandbox refuses (a field of the
//! wrong type), an arithmetic overflow, a negative award, more purchase lines than
//! [`MAX_NATIVE_LINES`], inputs near the sandbox's size limits, a promotion date outside
//! the years 1000 to 9999. The property test `native_evaluation_matches_the_sandbox` in
//! `platform/sandbox/tests/templates.rs` compares the two on thousands of random forms and
//! purchases.

use super::script::{coded, factor_text, rate_reason};
use super::*;
use crate::rules::{Outcome, Reason};
use chrono::Datelike;
use serde_json::Map;
use std::borrow::Cow;

/// Most purchase lines native evaluation takes; a purchase with more goes to the sandbox,
/// where the script's operation count stays far below its limit for any valid form.
pub const MAX_NATIVE_LINES: usize = 100;
/// Longest reason the sandbox keeps, in characters (longer ones end in `…`).
pub const MAX_REASON_CHARS: usize = 200;
/// Most awards the sandbox lets one evaluation make.
const MAX_AWARDS: usize = 1_000;
/// Most coupons the sandbox lets one evaluation give.
const MAX_COUPONS: usize = 10;
/// Longest coupon template id the sandbox's `give_coupon` takes, in characters.
const MAX_COUPON_ID_CHARS: usize = 64;
/// Kept well under the sandbox's data limits (strings 64 KiB, arrays and maps 10,000
/// elements), which the script meets when it passes `member` to a helper or grows its list
/// of awards.
const MAX_STRING_BYTES: usize = 60_000;
const MAX_ELEMENTS: usize = 9_000;

impl Template {
    /// The outcome of this form's rule for `event` and `member` (as the sandbox receives
    /// them), exactly as running [`Template::to_script`] in the sandbox gives it; `None`
    /// when the script would fail or might meet a sandbox limit, or the input is one this
    /// evaluation does not take (see the module documentation). Meant for validated forms
    /// ([`Template::parse`]).
    pub fn evaluate(&self, event: &Value, member: &Value) -> Option<Outcome> {
        let event = Event::read(event)?;
        let member = Member::read(member)?;
        let mut tally = Tally::new(event.items.len());
        match self {
            Self::Purchase(t) => t.evaluate(&event, &member, &mut tally)?,
            Self::CheckIn(t) => fixed(&event, "check_in", t, "check_in", &mut tally)?,
            Self::Referral(t) => fixed(&event, "referral", t, "referral", &mut tally)?,
            Self::Birthday(t) => fixed(&event, "birthday", t, "happy_birthday", &mut tally)?,
            Self::CustomEvent(t) => t.evaluate(&event, &mut tally)?,
        }
        Some(tally.outcome)
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs, checked and completed as the sandbox does

/// A purchase line as the script sees it.
struct Line<'a> {
    sku: &'a str,
    category: &'a str,
    quantity: i64,
    unit_price: i64,
}

/// The parts of `event` a form's script reads.
struct Event<'a> {
    kind: &'a str,
    amount: i64,
    items: Vec<Line<'a>>,
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    weekday: i64,
}

/// The parts of `member` a form's script reads.
struct Member<'a> {
    tier: &'a str,
    birthday: &'a str,
    visits: i64,
    points_today: i64,
    multiplier: i64,
}

/// A text field: missing or null is `""`; anything but a string is refused by the sandbox.
fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    match map.get(key) {
        None | Some(Value::Null) => Some(""),
        Some(Value::String(s)) => Some(s),
        Some(_) => None,
    }
}

/// A whole-number field: missing or null is `default`; a fraction, a number beyond `i64`
/// or any other type is refused (or read differently) by the sandbox.
fn int(map: &Map<String, Value>, key: &str, default: i64) -> Option<i64> {
    match map.get(key) {
        None | Some(Value::Null) => Some(default),
        Some(v) => v.as_i64(),
    }
}

/// An object field: missing or null is empty; anything but an object is refused.
fn object<'a>(map: &'a Map<String, Value>, key: &str) -> Option<Cow<'a, Map<String, Value>>> {
    match map.get(key) {
        None | Some(Value::Null) => Some(Cow::Owned(Map::new())),
        Some(Value::Object(m)) => Some(Cow::Borrowed(m)),
        Some(_) => None,
    }
}

/// Arrays, maps and string bytes in a value, counted as Rhai counts them for its limits.
fn sizes(value: &Value) -> (usize, usize, usize) {
    match value {
        Value::String(s) => (0, 0, s.len()),
        Value::Array(a) => a.iter().fold((a.len(), 0, 0), |(x, m, s), v| {
            let (x2, m2, s2) = sizes(v);
            (x + x2, m + m2, s + s2)
        }),
        Value::Object(o) => o.values().fold((0, o.len(), 0), |(x, m, s), v| {
            let (x2, m2, s2) = sizes(v);
            (x + x2, m + m2, s + s2)
        }),
        _ => (0, 0, 0),
    }
}

/// Whether a value stays well inside the sandbox's data limits (with room for the fields
/// the sandbox adds).
fn small(value: &Value) -> bool {
    let (arrays, maps, strings) = sizes(value);
    arrays <= MAX_ELEMENTS && maps <= MAX_ELEMENTS && strings <= MAX_STRING_BYTES
}

impl<'a> Event<'a> {
    /// `prepare_event`'s checks and defaults; `None` where it refuses the event, and for
    /// events native evaluation does not take.
    fn read(value: &'a Value) -> Option<Self> {
        let map = value.as_object()?;
        if !small(value) {
            return None;
        }
        let kind = text(map, "kind")?;
        text(map, "currency")?;
        text(map, "store")?;
        let amount = int(map, "amount", 0)?;
        let items = match map.get("items") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.len() <= MAX_NATIVE_LINES => items
                .iter()
                .map(|item| {
                    let item = item.as_object()?;
                    text(item, "name")?;
                    Some(Line {
                        sku: text(item, "sku")?,
                        category: text(item, "category")?,
                        quantity: int(item, "quantity", 1)?,
                        unit_price: int(item, "unit_price", 0)?,
                    })
                })
                .collect::<Option<Vec<_>>>()?,
            Some(_) => return None,
        };
        let time = object(map, "time")?;
        text(&time, "iso")?;
        Some(Self {
            kind,
            amount,
            items,
            year: int(&time, "year", 0)?,
            month: int(&time, "month", 0)?,
            day: int(&time, "day", 0)?,
            hour: int(&time, "hour", 0)?,
            weekday: int(&time, "weekday", 0)?,
        })
    }
}

impl<'a> Member<'a> {
    /// `prepare_member`'s checks and defaults; `None` where it refuses the member.
    fn read(value: &'a Value) -> Option<Self> {
        let map = value.as_object()?;
        if !small(value) {
            return None;
        }
        text(map, "join_date")?;
        object(map, "fields")?;
        let totals = object(map, "totals")?;
        int(&totals, "spend", 0)?;
        int(&totals, "points_earned", 0)?;
        let benefits = object(map, "benefits")?;
        int(&benefits, "discount_percent", 0)?;
        Some(Self {
            tier: text(map, "tier")?,
            birthday: text(map, "birthday")?,
            visits: int(&totals, "visits", 0)?,
            points_today: int(&totals, "points_today", 0)?,
            multiplier: int(&benefits, "multiplier", 1000)?,
        })
    }

    /// The sandbox's `is_birthday_month`: the month in `birthday` (`YYYY-MM-DD`) is the
    /// event's.
    fn birthday_month(&self, event: &Event) -> bool {
        self.birthday
            .get(5..7)
            .and_then(|m| m.parse::<i64>().ok())
            .is_some_and(|m| m == event.month)
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox's helpers and awards

/// The sandbox's `floor_div`: rounded towards minus infinity; `None` on division by zero
/// or overflow.
fn floor_div(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    i64::try_from(floor_div_i128(a.into(), b.into())?).ok()
}

/// The sandbox's `round_div`: to nearest, halves up.
fn round_div(a: i64, b: i64) -> Option<i64> {
    if b == 0 {
        return None;
    }
    let (a, b) = (i128::from(a), i128::from(b));
    i64::try_from(floor_div_i128(2 * a + b, 2 * b)?).ok()
}

fn floor_div_i128(a: i128, b: i128) -> Option<i128> {
    let q = a.checked_div(b)?;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        Some(q - 1)
    } else {
        Some(q)
    }
}

/// What the script's division by a rounding gives, with Rhai's checked arithmetic.
fn divide(numerator: i64, denominator: i64, rounding: Rounding) -> Option<i64> {
    match rounding {
        Rounding::Floor => floor_div(numerator, denominator),
        Rounding::Round => round_div(numerator, denominator),
        Rounding::Ceil => floor_div(
            numerator.checked_add(denominator)?.checked_sub(1)?,
            denominator,
        ),
    }
}

/// The awards and coupons so far, refused where the sandbox's `award`, `award_line` and
/// `give_coupon` refuse them.
struct Tally {
    outcome: Outcome,
    lines: usize,
}

impl Tally {
    fn new(lines: usize) -> Self {
        Self {
            outcome: Outcome::default(),
            lines,
        }
    }

    fn award(&mut self, points: i64, reason: &str, line: Option<usize>) -> Option<()> {
        if points < 0 || line.is_some_and(|l| l >= self.lines) {
            return None;
        }
        if self.outcome.reasons.len() >= MAX_AWARDS {
            return None;
        }
        self.outcome.points = self.outcome.points.checked_add(points)?;
        let reason = if reason.chars().count() > MAX_REASON_CHARS {
            let mut cut: String = reason.chars().take(MAX_REASON_CHARS - 1).collect();
            cut.push('…');
            cut
        } else {
            reason.to_string()
        };
        self.outcome.reasons.push(Reason {
            points,
            reason,
            line: match line {
                Some(l) => Some(u32::try_from(l).ok()?),
                None => None,
            },
        });
        Some(())
    }

    fn coupon(&mut self, template: uuid::Uuid) -> Option<()> {
        let id = template.to_string();
        if id.chars().count() > MAX_COUPON_ID_CHARS || self.outcome.coupons.len() >= MAX_COUPONS {
            return None;
        }
        self.outcome.coupons.push(id);
        Some(())
    }
}

/// A reason: the form's label, else its default.
fn said<'a>(label: &'a Option<String>, default: impl FnOnce() -> String) -> Cow<'a, str> {
    match label {
        Some(l) => Cow::Borrowed(l),
        None => Cow::Owned(default()),
    }
}

// ---------------------------------------------------------------------------------------------
// The forms

fn fixed(
    event: &Event,
    kind: &str,
    t: &FixedTemplate,
    default: &str,
    tally: &mut Tally,
) -> Option<()> {
    if event.kind == kind {
        let reason = said(&t.label, || coded(default, json!({})));
        tally.award(t.points, &reason, None)?;
    }
    Some(())
}

impl CustomEventTemplate {
    fn evaluate(&self, event: &Event, tally: &mut Tally) -> Option<()> {
        if event.kind != self.event {
            return Some(());
        }
        if self.points > 0 {
            tally.award(self.points, &said(&self.label, || self.event.clone()), None)?;
        }
        if let Some(e) = &self.per_amount {
            let points = divide(
                event.amount.checked_mul(e.points)?,
                e.per_amount,
                e.rounding,
            )?;
            if points > 0 {
                tally.award(points, &said(&e.label, || rate_reason(e)), None)?;
            }
        }
        if let Some(id) = self.coupon_template_id {
            tally.coupon(id)?;
        }
        Some(())
    }
}

/// One entry of the script's `awards` list: the line (`None` for the whole purchase), the
/// points and the reason.
struct Pending<'a> {
    line: Option<usize>,
    points: i64,
    reason: Cow<'a, str>,
}

/// The script's `awards` list and `earned` total.
#[derive(Default)]
struct Earned<'a> {
    awards: Vec<Pending<'a>>,
    earned: i64,
}

impl<'a> Earned<'a> {
    fn push(&mut self, line: Option<usize>, points: i64, reason: Cow<'a, str>) {
        self.awards.push(Pending {
            line,
            points,
            reason,
        });
    }

    /// The script's `boost`: multiplies `earned` by `factor` thousandths, the extra as an
    /// award.
    fn boost(&mut self, factor: i64, reason: Cow<'a, str>) -> Option<()> {
        let extra = floor_div(self.earned.checked_mul(factor)?, 1000)?.checked_sub(self.earned)?;
        self.push(None, extra, reason);
        self.earned = self.earned.checked_add(extra)?;
        Some(())
    }

    /// Whether the list stays well inside the sandbox's array and string limits (it is
    /// checked each time the script pushes to it, and only grows).
    fn small(&self) -> bool {
        let strings: usize = self.awards.iter().map(|a| a.reason.len()).sum();
        self.awards.len() * 4 <= MAX_ELEMENTS && strings <= MAX_STRING_BYTES
    }
}

impl PurchaseTemplate {
    /// Whether every list of the form is as short as validation allows (an unvalidated form
    /// could make the script meet the sandbox's operation limit).
    fn within_entries(&self) -> bool {
        self.multipliers.len() <= MAX_ENTRIES
            && self.tier_multipliers.len() <= MAX_ENTRIES
            && self.promotions.len() <= MAX_ENTRIES
            && self.spend_bonuses.len() <= MAX_ENTRIES
            && self.promotions.iter().all(|p| p.weekdays.len() <= 7)
    }

    fn evaluate(&self, event: &Event, member: &Member, tally: &mut Tally) -> Option<()> {
        if !self.within_entries() {
            return None;
        }
        if event.kind != "purchase" {
            return Some(());
        }
        if self.minimum_spend.is_some_and(|min| event.amount < min) {
            return Some(());
        }
        let base = &self.base;
        let mut e = Earned::default();

        // Lines with a multiplier, then the rest at the base rate.
        let points = if self.multipliers.is_empty() {
            divide(
                event.amount.checked_mul(base.points)?,
                base.per_amount,
                base.rounding,
            )?
        } else {
            let mut rest = event.amount;
            let per_line = base.per_amount.checked_mul(1000)?;
            for (i, line) in event.items.iter().enumerate() {
                let Some(m) = self.multipliers.iter().find(|m| match m.on {
                    LineMatch::Category => line.category == m.value,
                    LineMatch::Sku => line.sku == m.value,
                }) else {
                    continue;
                };
                // The script's `factor >= 0`: a negative factor counts as no match.
                if m.factor_permille < 0 {
                    continue;
                }
                let price = line.quantity.checked_mul(line.unit_price)?;
                rest = rest.checked_sub(price)?;
                let numerator = price
                    .checked_mul(base.points)?
                    .checked_mul(m.factor_permille)?;
                let points = divide(numerator, per_line, base.rounding)?;
                let reason = said(&m.label, || {
                    coded(
                        "line_factor",
                        json!({ "value": m.value, "factor": factor_text(m.factor_permille) }),
                    )
                });
                e.push(Some(i), points, reason);
                e.earned = e.earned.checked_add(points)?;
            }
            divide(
                rest.max(0).checked_mul(base.points)?,
                base.per_amount,
                base.rounding,
            )?
        };
        e.push(None, points, said(&base.label, || rate_reason(base)));
        e.earned = e.earned.checked_add(points)?;

        // Tier, birthday month, promotions.
        if self.use_tier_benefit {
            if member.multiplier > 1000 {
                let reason = match &self.tier_benefit_label {
                    Some(l) => Cow::Borrowed(l.as_str()),
                    // The script joins the tier into the code's values as it is (unescaped).
                    None => Cow::Owned(format!(
                        "{}tier_bonus{{\"tier\":\"{}\"}}",
                        crate::reasons::TOKEN_MARK,
                        member.tier
                    )),
                };
                e.boost(member.multiplier, reason)?;
            }
        } else if let Some(t) = self.tier_multipliers.iter().find(|t| t.tier == member.tier) {
            let reason = said(&t.label, || {
                coded(
                    "tier_factor",
                    json!({ "tier": t.tier, "factor": factor_text(t.factor_permille) }),
                )
            });
            e.boost(t.factor_permille, reason)?;
        }
        if let Some(b) = &self.birthday_month {
            if member.birthday_month(event) {
                let reason = said(&b.label, || {
                    coded(
                        "birthday_month_factor",
                        json!({ "factor": factor_text(b.factor_permille) }),
                    )
                });
                e.boost(b.factor_permille, reason)?;
            }
        }
        if !self.promotions.is_empty() {
            let today = event
                .year
                .checked_mul(10_000)?
                .checked_add(event.month.checked_mul(100)?)?
                .checked_add(event.day)?;
            for p in &self.promotions {
                if !p.runs_at(today, event)? {
                    continue;
                }
                let reason = Cow::Borrowed(p.name.as_str());
                match (p.factor_permille, p.bonus_points) {
                    (Some(f), bonus) => {
                        let extra =
                            floor_div(e.earned.checked_mul(f)?, 1000)?.checked_sub(e.earned)?;
                        e.earned = e.earned.checked_add(extra)?;
                        let points = match bonus {
                            Some(b) => extra.checked_add(b)?,
                            None => extra,
                        };
                        e.push(None, points, reason);
                    }
                    (None, Some(b)) => e.push(None, b, reason),
                    (None, None) => {}
                }
            }
        }
        if !e.small() {
            return None;
        }

        // Caps, then the awards in order.
        let daily =
            |cap: i64| -> Option<i64> { Some(cap.checked_sub(member.points_today)?.max(0)) };
        let mut room = match (self.per_purchase_cap, self.daily_cap) {
            (Some(per), Some(day)) => Some(per.min(daily(day)?)),
            (Some(per), None) => Some(per),
            (None, Some(day)) => Some(daily(day)?),
            (None, None) => None,
        };
        for a in &e.awards {
            let points = match room.as_mut() {
                Some(room) => {
                    let points = a.points.min(*room);
                    *room = room.checked_sub(points)?;
                    points
                }
                None => a.points,
            };
            if points > 0 {
                tally.award(points, &a.reason, a.line)?;
            }
        }

        // The highest spend bonus reached, then the first-purchase bonus and the coupon.
        let mut bonuses: Vec<&SpendBonus> = self.spend_bonuses.iter().collect();
        bonuses.sort_by_key(|b| std::cmp::Reverse(b.min_amount));
        if let Some(b) = bonuses.iter().find(|b| event.amount >= b.min_amount) {
            let reason = said(&b.label, || {
                coded(
                    "spend_bonus",
                    json!({ "min": b.min_amount, "points": b.points }),
                )
            });
            tally.award(b.points, &reason, None)?;
        }
        if let Some(b) = &self.first_purchase_bonus {
            if member.visits == 0 {
                let reason = said(&b.label, || coded("welcome_bonus", json!({})));
                tally.award(b.points, &reason, None)?;
            }
        }
        if let Some(id) = self.coupon_template_id {
            tally.coupon(id)?;
        }
        Some(())
    }
}

impl Promotion {
    /// Whether the promotion runs at the event's time (`today` as `YYYYMMDD`); `None` for
    /// dates the script writes other than as a plain eight-digit number.
    fn runs_at(&self, today: i64, event: &Event) -> Option<bool> {
        let number = |d: NaiveDate| -> Option<i64> {
            (1000..=9999).contains(&d.year()).then(|| {
                i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
            })
        };
        let (from, to) = (number(self.from)?, number(self.to)?);
        Some(
            today >= from
                && today <= to
                && (self.weekdays.is_empty() || self.weekdays.contains(&event.weekday))
                && self
                    .hours
                    .is_none_or(|h| event.hour >= h.from && event.hour < h.to),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(v: Value) -> Template {
        Template::parse(v).expect("a valid form")
    }

    fn purchase(amount: i64, items: Value) -> Value {
        // 2026-03-17 is a Tuesday.
        json!({"kind": "purchase", "amount": amount, "items": items,
               "time": {"iso": "2026-03-17T15:00:00+08:00", "year": 2026, "month": 3,
                        "day": 17, "hour": 15, "weekday": 2}})
    }

    fn member(tier: &str, visits: i64, points_today: i64) -> Value {
        json!({"tier": tier, "birthday": "1990-07-01",
               "totals": {"visits": visits, "points_today": points_today},
               "benefits": {"multiplier": 1000}})
    }

    fn reasons(o: &Outcome) -> Vec<(i64, &str, Option<u32>)> {
        o.reasons
            .iter()
            .map(|r| (r.points, r.reason.as_str(), r.line))
            .collect()
    }

    #[test]
    fn one_point_per_yuan_floored_with_a_welcome_bonus_on_the_first_purchase() {
        let t = form(json!({"kind": "purchase",
            "base": {"points": 1, "per_amount": 100, "rounding": "floor"},
            "first_purchase_bonus": {"points": 50}}));

        let first = t.evaluate(&purchase(12_399, json!([])), &member("", 0, 0));
        let later = t.evaluate(&purchase(12_399, json!([])), &member("", 3, 0));

        let first = first.expect("native");
        assert_eq!(first.points, 173);
        assert_eq!(
            reasons(&first),
            [
                (123, "@reason:earn_rate{\"per\":100,\"points\":1}", None),
                (50, "@reason:welcome_bonus{}", None)
            ]
        );
        assert_eq!(later.expect("native").points, 123);
    }

    #[test]
    fn rates_round_down_to_nearest_or_up_as_the_form_says() {
        let with = |rounding: &str, amount: i64| {
            form(json!({"kind": "purchase",
                "base": {"points": 1, "per_amount": 100, "rounding": rounding}}))
            .evaluate(&purchase(amount, json!([])), &member("", 1, 0))
            .expect("native")
            .points
        };

        assert_eq!(
            (with("floor", 199), with("round", 150), with("round", 149)),
            (1, 2, 1)
        );
        assert_eq!((with("ceil", 101), with("ceil", 100)), (2, 1));
    }

    #[test]
    fn a_line_multiplier_a_tier_factor_and_a_cap_cut_the_last_awards_first() {
        let t = form(
            json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100},
            "multipliers": [{"match": "category", "value": "drinks", "factor_permille": 2000,
                             "label": "drinks"}],
            "tier_multipliers": [{"tier": "gold", "factor_permille": 1500, "label": "gold"}],
            "per_purchase_cap": 200}),
        );
        let items = json!([
            {"sku": "LATTE", "category": "drinks", "quantity": 2, "unit_price": 3000},
            {"sku": "BAGEL", "category": "food", "quantity": 1, "unit_price": 1500}
        ]);

        let o = t
            .evaluate(&purchase(10_000, items), &member("gold", 1, 0))
            .expect("native");

        // Drinks: 60.00 × 2 = 120 on line 0; the rest 40.00 = 40; gold ×1.5 of 160 = 80
        // more, of which the cap of 200 leaves 40.
        assert_eq!(o.points, 200);
        assert_eq!(
            reasons(&o),
            [
                (120, "drinks", Some(0)),
                (40, "@reason:earn_rate{\"per\":100,\"points\":1}", None),
                (40, "gold", None)
            ]
        );
    }

    #[test]
    fn a_promotion_applies_on_its_weekday_and_hours_and_a_daily_cap_counts_today() {
        let t = form(
            json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100},
            "promotions": [{"name": "Tuesdays", "from": "2026-03-01", "to": "2026-03-31",
                            "weekdays": [2], "hours": {"from": 14, "to": 17},
                            "factor_permille": 2000, "bonus_points": 10}],
            "daily_cap": 150}),
        );
        let mut wednesday = purchase(5_000, json!([]));
        wednesday["time"]["weekday"] = json!(3);

        let tuesday = t.evaluate(&purchase(5_000, json!([])), &member("", 1, 0));
        let capped = t.evaluate(&purchase(5_000, json!([])), &member("", 1, 80));
        let other_day = t.evaluate(&wednesday, &member("", 1, 0));

        // 50, doubled to 100, plus 10: the promotion's award is 60.
        assert_eq!(
            reasons(&tuesday.expect("native")),
            [
                (50, "@reason:earn_rate{\"per\":100,\"points\":1}", None),
                (60, "Tuesdays", None)
            ]
        );
        // 150 a day, 80 earned before: 70 left.
        assert_eq!(capped.expect("native").points, 70);
        assert_eq!(other_day.expect("native").points, 50);
    }

    #[test]
    fn fixed_and_custom_event_forms_award_only_their_own_event() {
        let check_in = form(json!({"kind": "check_in", "points": 10}));
        let class = form(
            json!({"kind": "custom_event", "event": "class", "points": 5,
            "per_amount": {"points": 1, "per_amount": 1000, "rounding": "ceil"},
            "coupon_template_id": "0190f5a2-5b1c-7d3e-8f00-1234567890ab"}),
        );
        let event = |kind: &str| json!({"kind": kind, "amount": 2_500});

        let o = class
            .evaluate(&event("class"), &member("", 1, 0))
            .expect("native");

        assert_eq!(
            check_in.evaluate(&event("check_in"), &member("", 1, 0)),
            Some(Outcome {
                points: 10,
                reasons: vec![Reason {
                    points: 10,
                    reason: "@reason:check_in{}".into(),
                    line: None
                }],
                coupons: vec![]
            })
        );
        assert_eq!(
            check_in.evaluate(&event("purchase"), &member("", 1, 0)),
            Some(Outcome::default())
        );
        assert_eq!(
            reasons(&o),
            [
                (5, "class", None),
                (3, "@reason:earn_rate{\"per\":1000,\"points\":1}", None)
            ]
        );
        assert_eq!(o.coupons, ["0190f5a2-5b1c-7d3e-8f00-1234567890ab"]);
    }

    #[test]
    fn a_long_reason_is_cut_as_the_sandbox_cuts_it() {
        let t = form(
            json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100},
            "use_tier_benefit": true}),
        );
        let mut m = member(&"g".repeat(300), 1, 0);
        m["benefits"]["multiplier"] = json!(2000);

        let o = t.evaluate(&purchase(1_000, json!([])), &m).expect("native");

        let tier_reason = &o.reasons[1].reason;
        assert_eq!(tier_reason.chars().count(), MAX_REASON_CHARS);
        assert!(tier_reason.starts_with("@reason:tier_bonus{\"tier\":\"ggg"));
        assert!(tier_reason.ends_with("g…"));
    }

    #[test]
    fn inputs_the_script_would_fail_on_or_native_does_not_take_go_to_the_sandbox() {
        let t = form(json!({"kind": "purchase", "base": {"points": 2, "per_amount": 100}}));
        let m = member("", 1, 0);
        let many: Vec<Value> = (0..=MAX_NATIVE_LINES)
            .map(|_| json!({"sku": "A", "quantity": 1, "unit_price": 1}))
            .collect();

        assert_eq!(t.evaluate(&purchase(i64::MAX / 2 + 1, json!([])), &m), None);
        assert_eq!(
            t.evaluate(&json!({"kind": "purchase", "amount": "12"}), &m),
            None
        );
        assert_eq!(
            t.evaluate(&json!({"kind": "purchase", "amount": 1.5}), &m),
            None
        );
        assert_eq!(
            t.evaluate(&json!({"kind": "purchase", "store": 3}), &m),
            None
        );
        assert_eq!(t.evaluate(&purchase(100, json!(many)), &m), None);
        assert_eq!(
            t.evaluate(&purchase(100, json!([])), &json!("member")),
            None
        );
        // Missing fields take the sandbox's defaults.
        assert_eq!(
            t.evaluate(&json!({"kind": "purchase", "amount": 100}), &json!({}))
                .map(|o| o.points),
            Some(2)
        );
    }
}
