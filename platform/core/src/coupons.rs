//! Coupons: the terms a coupon template gives (what it takes off, when, on what, with
//! which other coupons), the code patterns batches are generated from, and the one
//! calculation of a cart's coupons: each code's discount, or the reason it does not apply.
//!
//! Money is in minor units (fen) as `i64`. Days and hours are the business's (`Zone`).
//!
//! **The order of calculation** (the same for `POST /purchases` and the validation):
//!
//! 1. Each code alone: known, the member's (or not bound to anyone), not used or voided,
//!    within its validity, on an allowed weekday, hour and date, in scope (store, tier,
//!    categories or SKUs), the minimum spend reached by the amount in scope *before* any
//!    discount, the member's limit for an unbound code.
//! 2. Stacking, in the order the codes were given: a second code of a template beyond its
//!    `max_per_purchase` is `purchase_limit`; an exclusive coupon applies only alone (the
//!    first code that applies wins, every other is `not_combinable`).
//! 3. The discounts, in this order: spend thresholds (满减), then amounts off, then
//!    percentages off (each on what is left of the amount), then gifts and free visits
//!    (no money off). Each discount is at most the amount in its scope and at most what
//!    is still payable, so the total never exceeds the amount and is never negative.

use crate::problem::{FieldCode, Issue};
use crate::{FieldError, Zone};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// A template's name: 1 to this many characters.
pub const NAME_MAX: usize = 100;
/// The most codes one purchase (or one validation) may carry.
pub const CODES_PER_PURCHASE_MAX: usize = 5;
/// The most codes one batch generates.
pub const BATCH_MAX: i64 = 10_000;
/// The most coupons one claim or one staff issue gives.
pub const QUANTITY_MAX: i64 = 20;
/// A code: 1 to this many characters.
pub const CODE_MAX: usize = 40;
/// The most days a coupon is valid after its issue.
pub const VALID_DAYS_MAX: i64 = 3660;
/// The most items in a scope list (categories, SKUs, stores, tiers) or excluded dates.
pub const LIST_MAX: usize = 100;
/// The largest money value a template names.
pub const MAX_MONEY: i64 = 100_000_000_000;
/// A void's reason: 1 to this many characters.
pub const REASON_MAX: usize = 200;
/// The characters `?` draws from when a batch names none (no 0/O, 1/I).
pub const DEFAULT_CHARSET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// The kinds, as written.
pub const KINDS: &[&str] = &[
    "amount_off",
    "percent_off",
    "threshold",
    "gift",
    "free_visit",
];
/// The stacking choices, as written.
pub const STACKINGS: &[&str] = &["exclusive", "combinable"];
/// The refund policies, as written.
pub const ON_REFUND: &[&str] = &["restore", "forfeit"];

/// What a coupon gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `amount` off.
    AmountOff,
    /// `percent` off, at most `cap`.
    PercentOff,
    /// 满减: `amount` off once the spend in scope reaches `min_spend`.
    Threshold,
    /// A free item (`gift`), no money off.
    Gift,
    /// A free visit, no money off.
    FreeVisit,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::AmountOff,
        Kind::PercentOff,
        Kind::Threshold,
        Kind::Gift,
        Kind::FreeVisit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AmountOff => "amount_off",
            Kind::PercentOff => "percent_off",
            Kind::Threshold => "threshold",
            Kind::Gift => "gift",
            Kind::FreeVisit => "free_visit",
        }
    }

    fn parse(raw: &str) -> Result<Self, Issue> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .ok_or_else(|| Issue::not_one_of(raw, KINDS))
    }

    /// Its place in the order of calculation.
    fn order(self) -> u8 {
        match self {
            Kind::Threshold => 0,
            Kind::AmountOff => 1,
            Kind::PercentOff => 2,
            Kind::Gift | Kind::FreeVisit => 3,
        }
    }
}

/// Whether a coupon applies with others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stacking {
    /// Only alone.
    #[default]
    Exclusive,
    /// With other combinable coupons.
    Combinable,
}

/// What a refund of the purchase that used a coupon does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnRefund {
    /// A refund in full gives the coupon back (with the days it had left, should it have
    /// expired meanwhile).
    #[default]
    Restore,
    /// The coupon stays used.
    Forfeit,
}

/// A template's terms as sent (the kinds and choices as words, checked by [`Terms::parse`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TermsInput {
    pub kind: String,
    pub amount: Option<i64>,
    pub percent: Option<i64>,
    pub cap: Option<i64>,
    pub min_spend: Option<i64>,
    pub gift: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub valid_days: Option<i64>,
    #[serde(default)]
    pub weekdays: Vec<i64>,
    pub hours_from: Option<i64>,
    pub hours_until: Option<i64>,
    #[serde(default)]
    pub excluded_dates: Vec<NaiveDate>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub skus: Vec<String>,
    #[serde(default)]
    pub stores: Vec<String>,
    #[serde(default)]
    pub tiers: Vec<String>,
    pub stacking: Option<String>,
    pub max_per_purchase: Option<i64>,
    pub on_refund: Option<String>,
}

/// A template's terms, checked. Copied onto every coupon issued, so a later edit of the
/// template never changes a coupon already issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub kind: Kind,
    /// Off, for `amount_off` and `threshold`.
    pub amount: i64,
    /// Percent off (1 to 99), for `percent_off`.
    pub percent: i64,
    /// The most a `percent_off` takes off; none when absent.
    pub cap: Option<i64>,
    /// The spend in scope needed (0: none).
    pub min_spend: i64,
    /// The free item, for `gift`.
    pub gift: Option<String>,
    /// A fixed window (both given) ...
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// ... or valid for this many days from the day of issue (that day counted).
    pub valid_days: Option<i64>,
    /// ISO weekdays (1 Monday .. 7 Sunday) it may be used on; any when empty.
    pub weekdays: Vec<i64>,
    /// Local hours `[hours_from, hours_until)` it may be used in; any when absent.
    pub hours_from: Option<i64>,
    pub hours_until: Option<i64>,
    pub excluded_dates: Vec<NaiveDate>,
    /// The scope: any when a list is empty.
    pub categories: Vec<String>,
    pub skus: Vec<String>,
    pub stores: Vec<String>,
    pub tiers: Vec<String>,
    pub stacking: Stacking,
    /// How many coupons of this template one purchase may use.
    pub max_per_purchase: i64,
    pub on_refund: OnRefund,
}

fn money(v: &mut Vec<FieldError>, field: &str, value: Option<i64>, min: i64) -> i64 {
    match value {
        Some(a) if (min..=MAX_MONEY).contains(&a) => a,
        Some(_) => {
            v.push(Issue::out_of_range(min, MAX_MONEY).at(field));
            0
        }
        None => {
            v.push(Issue::required().at(field));
            0
        }
    }
}

fn list(v: &mut Vec<FieldError>, field: &str, items: &[String]) -> Vec<String> {
    if items.len() > LIST_MAX {
        v.push(Issue::too_many(LIST_MAX, "items").at(field));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, s) in items.iter().enumerate() {
        let t = s.trim();
        if t.is_empty() || t.chars().count() > 100 {
            v.push(Issue::length_between(1, 100).at(format!("{field}[{i}]")));
        } else if t.chars().any(char::is_control) {
            v.push(Issue::control_characters().at(format!("{field}[{i}]")));
        } else if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

fn choice<T: Copy + Default>(
    v: &mut Vec<FieldError>,
    field: &str,
    raw: Option<&str>,
    names: &[&str],
    values: &[T],
) -> T {
    match raw {
        None => T::default(),
        Some(r) => match names.iter().position(|n| *n == r) {
            Some(i) => values[i],
            None => {
                v.push(Issue::not_one_of(r, names).at(field));
                T::default()
            }
        },
    }
}

impl Terms {
    /// Checks terms as sent: every bad field at once, named by its path under `at`
    /// (`terms.amount`).
    pub fn parse(t: &TermsInput, at: &str) -> Result<Terms, Vec<FieldError>> {
        let mut v = Vec::new();
        let f = |name: &str| format!("{at}.{name}");
        let kind = match Kind::parse(t.kind.trim()) {
            Ok(k) => Some(k),
            Err(e) => {
                v.push(e.at(f("kind")));
                None
            }
        };
        let mut amount = 0;
        let mut percent = 0;
        let mut cap = None;
        let mut gift = None;
        let min_spend = match t.min_spend {
            None => 0,
            Some(m) => money(&mut v, &f("min_spend"), Some(m), 0),
        };
        match kind {
            Some(Kind::AmountOff) => amount = money(&mut v, &f("amount"), t.amount, 1),
            Some(Kind::Threshold) => {
                amount = money(&mut v, &f("amount"), t.amount, 1);
                if min_spend <= 0 {
                    v.push(
                        Issue::new(
                            FieldCode::Required,
                            "a spend threshold needs a minimum spend",
                        )
                        .with("with", "threshold")
                        .at(f("min_spend")),
                    );
                } else if amount > min_spend {
                    v.push(
                        Issue::too_large(min_spend)
                            .words("must not exceed the minimum spend")
                            .at(f("amount")),
                    );
                }
            }
            Some(Kind::PercentOff) => {
                match t.percent {
                    Some(p) if (1..=99).contains(&p) => percent = p,
                    Some(_) => v.push(Issue::out_of_range(1, 99).at(f("percent"))),
                    None => v.push(Issue::required().at(f("percent"))),
                }
                if let Some(c) = t.cap {
                    cap = Some(money(&mut v, &f("cap"), Some(c), 1));
                }
            }
            Some(Kind::Gift) => match t.gift.as_deref().map(str::trim) {
                Some(g) if !g.is_empty() && g.chars().count() <= NAME_MAX => {
                    gift = Some(g.to_owned())
                }
                Some(g) if !g.is_empty() => v.push(Issue::too_long(NAME_MAX).at(f("gift"))),
                _ => v.push(Issue::required().at(f("gift"))),
            },
            Some(Kind::FreeVisit) | None => {}
        }
        match (t.valid_from, t.valid_until, t.valid_days) {
            (Some(from), Some(until), None) => {
                if until <= from {
                    v.push(
                        Issue::new(FieldCode::BeforeStart, "must be after valid_from")
                            .with("field", "valid_from")
                            .at(f("valid_until")),
                    );
                }
            }
            (None, None, Some(d)) => {
                if !(1..=VALID_DAYS_MAX).contains(&d) {
                    v.push(Issue::out_of_range(1, VALID_DAYS_MAX).at(f("valid_days")));
                }
            }
            _ => v.push(
                Issue::new(
                    FieldCode::OneOf,
                    "give either valid_from and valid_until, or valid_days",
                )
                .with("options", "valid_from + valid_until, valid_days")
                .at(f("valid_days")),
            ),
        }
        let mut weekdays: Vec<i64> = Vec::new();
        for (i, d) in t.weekdays.iter().enumerate() {
            if !(1..=7).contains(d) {
                v.push(Issue::out_of_range(1, 7).at(format!("{}[{i}]", f("weekdays"))));
            } else if !weekdays.contains(d) {
                weekdays.push(*d);
            }
        }
        weekdays.sort_unstable();
        match (t.hours_from, t.hours_until) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                if !(0..=23).contains(&a) {
                    v.push(Issue::out_of_range(0, 23).at(f("hours_from")));
                }
                if !(1..=24).contains(&b) {
                    v.push(Issue::out_of_range(1, 24).at(f("hours_until")));
                } else if b <= a {
                    v.push(
                        Issue::new(FieldCode::BeforeStart, "must be after hours_from")
                            .with("field", "hours_from")
                            .at(f("hours_until")),
                    );
                }
            }
            (None, Some(_)) => v.push(Issue::required().at(f("hours_from"))),
            (Some(_), None) => v.push(Issue::required().at(f("hours_until"))),
        }
        if t.excluded_dates.len() > LIST_MAX {
            v.push(Issue::too_many(LIST_MAX, "dates").at(f("excluded_dates")));
        }
        let mut excluded_dates = t.excluded_dates.clone();
        excluded_dates.sort_unstable();
        excluded_dates.dedup();
        let categories = list(&mut v, &f("categories"), &t.categories);
        let skus = list(&mut v, &f("skus"), &t.skus);
        let stores = list(&mut v, &f("stores"), &t.stores);
        let tiers = list(&mut v, &f("tiers"), &t.tiers);
        let stacking = choice(
            &mut v,
            &f("stacking"),
            t.stacking.as_deref(),
            STACKINGS,
            &[Stacking::Exclusive, Stacking::Combinable],
        );
        let on_refund = choice(
            &mut v,
            &f("on_refund"),
            t.on_refund.as_deref(),
            ON_REFUND,
            &[OnRefund::Restore, OnRefund::Forfeit],
        );
        let max_per_purchase = t.max_per_purchase.unwrap_or(1);
        if !(1..=CODES_PER_PURCHASE_MAX as i64).contains(&max_per_purchase) {
            v.push(Issue::out_of_range(1, CODES_PER_PURCHASE_MAX as i64).at(f("max_per_purchase")));
        }
        match (v.is_empty(), kind) {
            (true, Some(kind)) => Ok(Terms {
                kind,
                amount,
                percent,
                cap,
                min_spend,
                gift,
                valid_from: t.valid_from,
                valid_until: t.valid_until,
                valid_days: t.valid_days,
                weekdays,
                hours_from: t.hours_from,
                hours_until: t.hours_until,
                excluded_dates,
                categories,
                skus,
                stores,
                tiers,
                stacking,
                max_per_purchase,
                on_refund,
            }),
            _ => Err(v),
        }
    }

    /// When a coupon issued at `issued_at` may be used: `[from, until)`. A coupon valid
    /// for N days runs to the end of the N-th local day, the day of issue counted.
    pub fn validity(&self, issued_at: DateTime<Utc>, zone: Zone) -> (DateTime<Utc>, DateTime<Utc>) {
        match (self.valid_from, self.valid_until, self.valid_days) {
            (Some(from), Some(until), _) => (from, until),
            (_, _, days) => {
                let last = zone.today(issued_at) + Duration::days(days.unwrap_or(1));
                (issued_at, zone.start_of_day(last))
            }
        }
    }

    /// Whether the scope names items (categories or SKUs).
    fn scoped_items(&self) -> bool {
        !self.categories.is_empty() || !self.skus.is_empty()
    }
}

/// Why a code does not apply (its stable code on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No such code in this business.
    UnknownCode,
    /// The code was given twice.
    Duplicate,
    /// Issued to another member.
    OtherMember,
    Used,
    Voided,
    /// Its validity has not begun.
    NotYetValid,
    Expired,
    /// Not on this weekday or date.
    ExcludedDay,
    /// Not at this hour.
    ExcludedHour,
    /// Not this store, tier, or none of the items.
    NotInScope,
    /// The spend in scope is below the minimum.
    MinSpend,
    /// An exclusive coupon with another.
    NotCombinable,
    /// More coupons of the template than one purchase may use.
    PurchaseLimit,
    /// The member holds as many of the template as they may.
    MemberLimit,
    /// Held for another cart by a reservation that has not expired.
    Reserved,
    /// A shared code whose template has no coupons left.
    SoldOut,
    /// A shared code whose template gave as many coupons today as it may.
    DayLimit,
    /// A shared code that cannot give a coupon now (its template archived, or the
    /// business's coupons of the month used up).
    Unavailable,
}

impl Reason {
    pub const ALL: [Reason; 18] = [
        Reason::UnknownCode,
        Reason::Duplicate,
        Reason::OtherMember,
        Reason::Used,
        Reason::Voided,
        Reason::NotYetValid,
        Reason::Expired,
        Reason::ExcludedDay,
        Reason::ExcludedHour,
        Reason::NotInScope,
        Reason::MinSpend,
        Reason::NotCombinable,
        Reason::PurchaseLimit,
        Reason::MemberLimit,
        Reason::Reserved,
        Reason::SoldOut,
        Reason::DayLimit,
        Reason::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownCode => "unknown_code",
            Reason::Duplicate => "duplicate",
            Reason::OtherMember => "other_member",
            Reason::Used => "used",
            Reason::Voided => "voided",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Expired => "expired",
            Reason::ExcludedDay => "excluded_day",
            Reason::ExcludedHour => "excluded_hour",
            Reason::NotInScope => "not_in_scope",
            Reason::MinSpend => "min_spend",
            Reason::NotCombinable => "not_combinable",
            Reason::PurchaseLimit => "purchase_limit",
            Reason::MemberLimit => "member_limit",
            Reason::Reserved => "reserved",
            Reason::SoldOut => "sold_out",
            Reason::DayLimit => "day_limit",
            Reason::Unavailable => "unavailable",
        }
    }
}

/// A coupon's state, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Issued,
    Used,
    Voided,
}

impl Status {
    pub fn parse(raw: &str) -> Status {
        match raw {
            "used" => Status::Used,
            "voided" => Status::Voided,
            _ => Status::Issued,
        }
    }
}

/// One line of a cart.
#[derive(Debug, Clone, Default)]
pub struct CartItem {
    pub sku: String,
    pub category: String,
    /// Quantity times unit price.
    pub amount: i64,
}

/// What the coupons are checked against.
#[derive(Debug, Clone)]
pub struct Cart {
    /// The payable amount before coupons.
    pub amount: i64,
    pub items: Vec<CartItem>,
    pub store: String,
    /// The member's tier code (none without a ladder).
    pub tier: Option<String>,
    pub at: DateTime<Utc>,
}

/// A code as found for the member.
#[derive(Debug, Clone)]
pub struct Found {
    pub template_id: uuid::Uuid,
    pub terms: Terms,
    pub status: Status,
    /// `Some(true)`: the member's; `Some(false)`: another member's; `None`: not bound yet.
    pub mine: Option<bool>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// For an unbound code: the member already holds as many of the template as allowed.
    pub member_limit_reached: bool,
    /// Held by another cart's reservation that has not expired.
    pub reserved: bool,
}

/// One code of a cart, as the caller gave it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub code: String,
    pub found: Option<Found>,
}

/// What one code does to the cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: String,
    /// Money off (0 for a gift, a free visit, or a code that does not apply).
    pub discount: i64,
    /// `None`: it applies.
    pub reason: Option<Reason>,
}

/// The spend in a coupon's scope: the whole amount, or the items it covers (at most the
/// amount).
fn in_scope(terms: &Terms, cart: &Cart) -> i64 {
    if !terms.scoped_items() {
        return cart.amount;
    }
    let covered: i64 = cart
        .items
        .iter()
        .filter(|i| terms.categories.contains(&i.category) || terms.skus.contains(&i.sku))
        .map(|i| i.amount.max(0))
        .fold(0i64, i64::saturating_add);
    covered.min(cart.amount)
}

/// Step 1: why one code alone does not apply, if it does not.
fn alone(f: &Found, cart: &Cart, zone: Zone) -> Option<Reason> {
    if f.mine == Some(false) {
        return Some(Reason::OtherMember);
    }
    match f.status {
        Status::Used => return Some(Reason::Used),
        Status::Voided => return Some(Reason::Voided),
        Status::Issued => {}
    }
    if f.reserved {
        return Some(Reason::Reserved);
    }
    if cart.at < f.valid_from {
        return Some(Reason::NotYetValid);
    }
    if cart.at >= f.valid_until {
        return Some(Reason::Expired);
    }
    let t = &f.terms;
    let local = zone.local(cart.at);
    let day = local.date_naive();
    if t.excluded_dates.contains(&day)
        || (!t.weekdays.is_empty()
            && !t
                .weekdays
                .contains(&i64::from(day.weekday().number_from_monday())))
    {
        return Some(Reason::ExcludedDay);
    }
    if let (Some(a), Some(b)) = (t.hours_from, t.hours_until) {
        let h = i64::from(local.hour());
        if h < a || h >= b {
            return Some(Reason::ExcludedHour);
        }
    }
    let store_ok = t.stores.is_empty() || t.stores.contains(&cart.store);
    let tier_ok = t.tiers.is_empty() || cart.tier.as_ref().is_some_and(|c| t.tiers.contains(c));
    let base = in_scope(t, cart);
    if !store_ok || !tier_ok || (t.scoped_items() && base == 0) {
        return Some(Reason::NotInScope);
    }
    if base < t.min_spend {
        return Some(Reason::MinSpend);
    }
    if f.member_limit_reached {
        return Some(Reason::MemberLimit);
    }
    None
}

/// The money one applying coupon takes off, given what is still payable.
fn discount_of(t: &Terms, base: i64, payable: i64) -> i64 {
    let room = base.min(payable).max(0);
    let raw = match t.kind {
        Kind::AmountOff | Kind::Threshold => t.amount,
        Kind::PercentOff => {
            let p = (i128::from(room) * i128::from(t.percent) / 100) as i64;
            t.cap.map_or(p, |c| p.min(c))
        }
        Kind::Gift | Kind::FreeVisit => 0,
    };
    raw.clamp(0, room)
}

/// Every code's discount or reason, in the order the codes were given (see the module's
/// order of calculation).
pub fn evaluate(cart: &Cart, zone: Zone, candidates: &[Candidate]) -> Vec<Outcome> {
    let mut reasons: Vec<Option<Reason>> = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.iter().enumerate() {
        let r = if candidates[..i].iter().any(|e| e.code == c.code) {
            Some(Reason::Duplicate)
        } else {
            match &c.found {
                None => Some(Reason::UnknownCode),
                Some(f) => alone(f, cart, zone),
            }
        };
        reasons.push(r);
    }
    // Step 2: stacking, in the order given.
    let mut first_applied: Option<Stacking> = None;
    let mut applied = 0usize;
    for i in 0..candidates.len() {
        if reasons[i].is_some() {
            continue;
        }
        let f = candidates[i].found.as_ref().expect("found");
        let same = (0..i)
            .filter(|&j| {
                reasons[j].is_none()
                    && candidates[j].found.as_ref().map(|g| g.template_id) == Some(f.template_id)
            })
            .count() as i64;
        if same >= f.terms.max_per_purchase {
            reasons[i] = Some(Reason::PurchaseLimit);
            continue;
        }
        match first_applied {
            None => first_applied = Some(f.terms.stacking),
            Some(Stacking::Exclusive) => {
                reasons[i] = Some(Reason::NotCombinable);
                continue;
            }
            Some(Stacking::Combinable) if f.terms.stacking == Stacking::Exclusive => {
                reasons[i] = Some(Reason::NotCombinable);
                continue;
            }
            Some(Stacking::Combinable) => {}
        }
        applied += 1;
    }
    debug_assert!(applied <= candidates.len());
    // Step 3: the discounts, by kind.
    let mut order: Vec<usize> = (0..candidates.len())
        .filter(|&i| reasons[i].is_none())
        .collect();
    order.sort_by_key(|&i| {
        (
            candidates[i]
                .found
                .as_ref()
                .expect("found")
                .terms
                .kind
                .order(),
            i,
        )
    });
    let mut discounts = vec![0i64; candidates.len()];
    let mut payable = cart.amount.max(0);
    for i in order {
        let t = &candidates[i].found.as_ref().expect("found").terms;
        let d = discount_of(t, in_scope(t, cart), payable);
        discounts[i] = d;
        payable -= d;
    }
    candidates
        .iter()
        .zip(reasons)
        .zip(discounts)
        .map(|((c, reason), discount)| Outcome {
            code: c.code.clone(),
            discount,
            reason,
        })
        .collect()
}

/// A code as a till or a member types it: trimmed, upper case.
pub fn normalise_code(raw: &str) -> String {
    raw.trim().to_uppercase()
}

/// Checks a code as given (1 to [`CODE_MAX`] characters, no control characters).
pub fn check_code(raw: &str) -> Result<String, Issue> {
    let c = normalise_code(raw);
    if c.is_empty() || c.chars().count() > CODE_MAX {
        return Err(Issue::length_between(1, CODE_MAX));
    }
    if c.chars().any(char::is_control) {
        return Err(Issue::control_characters());
    }
    Ok(c)
}

/// A batch's code pattern: `#` a digit, `?` a character of the charset, anything else as
/// written; the prefix in front.
#[derive(Debug, Clone)]
pub struct Pattern {
    prefix: String,
    parts: Vec<Part>,
    charset: Vec<char>,
}

#[derive(Debug, Clone)]
enum Part {
    Digit,
    Char,
    Literal(char),
}

impl Pattern {
    /// Reads a pattern; the fields are named `pattern`, `charset`, `prefix`.
    pub fn parse(
        pattern: &str,
        charset: Option<&str>,
        prefix: Option<&str>,
    ) -> Result<Pattern, Vec<FieldError>> {
        let mut v = Vec::new();
        let pattern = pattern.trim();
        let parts: Vec<Part> = pattern
            .chars()
            .map(|c| match c {
                '#' => Part::Digit,
                '?' => Part::Char,
                c => Part::Literal(c.to_ascii_uppercase()),
            })
            .collect();
        let prefix = prefix.map(normalise_code).unwrap_or_default();
        let random = parts
            .iter()
            .filter(|p| !matches!(p, Part::Literal(_)))
            .count();
        if pattern.is_empty() || random == 0 {
            v.push(
                Issue::invalid_format("code_pattern", "needs at least one # or ?").at("pattern"),
            );
        }
        if prefix.chars().count() + parts.len() > CODE_MAX {
            v.push(Issue::too_long(CODE_MAX).at("pattern"));
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if pattern.chars().any(|c| c != '#' && c != '?' && !ok(c)) {
            v.push(
                Issue::invalid_format("code_pattern", "letters, digits, - and _ besides # and ?")
                    .at("pattern"),
            );
        }
        if !prefix.chars().all(ok) {
            v.push(Issue::invalid_format("code_prefix", "letters, digits, - and _").at("prefix"));
        }
        let mut set: Vec<char> = charset
            .unwrap_or(DEFAULT_CHARSET)
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        set.sort_unstable();
        set.dedup();
        if set.len() < 2 || !set.iter().all(|c| c.is_ascii_alphanumeric()) {
            v.push(
                Issue::invalid_format("code_charset", "two or more letters or digits")
                    .at("charset"),
            );
        }
        if v.is_empty() {
            Ok(Pattern {
                prefix,
                parts,
                charset: set,
            })
        } else {
            Err(v)
        }
    }

    /// How many different codes the pattern can give (saturating).
    pub fn space(&self) -> u64 {
        self.parts.iter().fold(1u64, |n, p| match p {
            Part::Digit => n.saturating_mul(10),
            Part::Char => n.saturating_mul(self.charset.len() as u64),
            Part::Literal(_) => n,
        })
    }

    /// Refuses a count the pattern cannot give with room to spare (at least twice the
    /// count, so random codes do not run into each other without end): 422 on `pattern`.
    pub fn check_count(&self, count: i64) -> Result<(), Issue> {
        let needed = (count.max(0) as u64).saturating_mul(2);
        if self.space() < needed {
            return Err(Issue::new(
                FieldCode::NotAllowed,
                format!(
                    "the pattern gives {} codes; {count} codes need a pattern with at least {needed}",
                    self.space()
                ),
            )
            .with("reason", "pattern_too_small")
            .with("space", self.space())
            .with("count", count));
        }
        Ok(())
    }

    /// One random code.
    pub fn generate(&self, rng: &mut impl rand::Rng) -> String {
        let mut s = self.prefix.clone();
        for p in &self.parts {
            s.push(match p {
                Part::Digit => char::from(b'0' + rng.gen_range(0..10u8)),
                Part::Char => self.charset[rng.gen_range(0..self.charset.len())],
                Part::Literal(c) => *c,
            });
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn zone() -> Zone {
        Zone::parse("Asia/Shanghai").unwrap()
    }

    fn input(kind: &str) -> TermsInput {
        TermsInput {
            kind: kind.into(),
            valid_days: Some(30),
            ..Default::default()
        }
    }

    fn terms(i: TermsInput) -> Terms {
        Terms::parse(&i, "terms").unwrap()
    }

    fn found(t: Terms) -> Found {
        Found {
            template_id: uuid::Uuid::nil(),
            terms: t,
            status: Status::Issued,
            mine: Some(true),
            valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            valid_until: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
            member_limit_reached: false,
            reserved: false,
        }
    }

    fn cart(amount: i64) -> Cart {
        Cart {
            amount,
            items: vec![],
            store: String::new(),
            // A Wednesday, 10:00 in Shanghai.
            at: Utc.with_ymd_and_hms(2026, 3, 4, 2, 0, 0).unwrap(),
            tier: None,
        }
    }

    fn one(c: &Cart, f: Found) -> Outcome {
        evaluate(
            c,
            zone(),
            &[Candidate {
                code: "A".into(),
                found: Some(f),
            }],
        )
        .remove(0)
    }

    #[test]
    fn kinds_take_what_they_say() {
        let t = terms(TermsInput {
            amount: Some(500),
            ..input("amount_off")
        });
        assert_eq!(one(&cart(2000), found(t.clone())).discount, 500);
        assert_eq!(
            one(&cart(300), found(t)).discount,
            300,
            "never more than payable"
        );
        let p = terms(TermsInput {
            percent: Some(20),
            cap: Some(300),
            ..input("percent_off")
        });
        assert_eq!(one(&cart(1000), found(p.clone())).discount, 200);
        assert_eq!(one(&cart(5000), found(p)).discount, 300, "capped");
        let th = terms(TermsInput {
            amount: Some(1000),
            min_spend: Some(5000),
            ..input("threshold")
        });
        assert_eq!(one(&cart(5000), found(th.clone())).discount, 1000);
        assert_eq!(one(&cart(4999), found(th)).reason, Some(Reason::MinSpend));
        let g = terms(TermsInput {
            gift: Some("Coffee".into()),
            ..input("gift")
        });
        assert_eq!(
            one(&cart(100), found(g)),
            Outcome {
                code: "A".into(),
                discount: 0,
                reason: None
            }
        );
    }

    #[test]
    fn bad_terms_name_their_fields() {
        let e = Terms::parse(
            &TermsInput {
                kind: "half_off".into(),
                weekdays: vec![8],
                hours_from: Some(10),
                hours_until: Some(9),
                ..Default::default()
            },
            "terms",
        )
        .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert!(fields.contains(&"terms.kind"), "{fields:?}");
        assert!(fields.contains(&"terms.valid_days"), "{fields:?}");
        assert!(fields.contains(&"terms.weekdays[0]"), "{fields:?}");
        assert!(fields.contains(&"terms.hours_until"), "{fields:?}");
        let e = Terms::parse(&input("percent_off"), "terms").unwrap_err();
        assert_eq!(e[0].field, "terms.percent");
        let e = Terms::parse(
            &TermsInput {
                amount: Some(100),
                ..input("threshold")
            },
            "terms",
        )
        .unwrap_err();
        assert_eq!(e[0].field, "terms.min_spend");
    }

    #[test]
    fn time_rules_use_the_business_day() {
        let mut f = found(terms(TermsInput {
            amount: Some(1),
            weekdays: vec![1, 2],
            ..input("amount_off")
        }));
        assert_eq!(one(&cart(10), f.clone()).reason, Some(Reason::ExcludedDay));
        f.terms.weekdays = vec![3];
        assert_eq!(one(&cart(10), f.clone()).reason, None);
        f.terms.excluded_dates = vec![NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()];
        assert_eq!(one(&cart(10), f.clone()).reason, Some(Reason::ExcludedDay));
        f.terms.excluded_dates.clear();
        // 10:00 local, 02:00 UTC: hours are local.
        f.terms.hours_from = Some(9);
        f.terms.hours_until = Some(11);
        assert_eq!(one(&cart(10), f.clone()).reason, None);
        f.terms.hours_from = Some(2);
        f.terms.hours_until = Some(3);
        assert_eq!(one(&cart(10), f.clone()).reason, Some(Reason::ExcludedHour));
        f.terms.hours_from = None;
        f.terms.hours_until = None;
        f.valid_until = cart(10).at;
        assert_eq!(one(&cart(10), f.clone()).reason, Some(Reason::Expired));
        f.valid_from = cart(10).at + Duration::seconds(1);
        f.valid_until = f.valid_from + Duration::days(1);
        assert_eq!(one(&cart(10), f).reason, Some(Reason::NotYetValid));
    }

    #[test]
    fn validity_after_issue_ends_with_the_local_day() {
        let t = terms(TermsInput {
            amount: Some(1),
            valid_days: Some(1),
            ..input("amount_off")
        });
        // 23:30 local on 3 March.
        let at = Utc.with_ymd_and_hms(2026, 3, 3, 15, 30, 0).unwrap();
        let (from, until) = t.validity(at, zone());
        assert_eq!(from, at);
        assert_eq!(until, Utc.with_ymd_and_hms(2026, 3, 3, 16, 0, 0).unwrap());
    }

    #[test]
    fn scope_and_stacking() {
        let mut c = cart(1000);
        c.items = vec![
            CartItem {
                sku: "T1".into(),
                category: "tea".into(),
                amount: 400,
            },
            CartItem {
                sku: "C1".into(),
                category: "cake".into(),
                amount: 600,
            },
        ];
        let tea = found(terms(TermsInput {
            percent: Some(50),
            categories: vec!["tea".into()],
            stacking: Some("combinable".into()),
            ..input("percent_off")
        }));
        assert_eq!(one(&c, tea.clone()).discount, 200, "half of the tea only");
        let mut wine = tea.clone();
        wine.terms.categories = vec!["wine".into()];
        assert_eq!(one(&c, wine).reason, Some(Reason::NotInScope));
        let mut store = tea.clone();
        store.terms.stores = vec!["north".into()];
        assert_eq!(one(&c, store).reason, Some(Reason::NotInScope));
        let mut gold = tea.clone();
        gold.terms.tiers = vec!["gold".into()];
        assert_eq!(one(&c, gold.clone()).reason, Some(Reason::NotInScope));
        c.tier = Some("gold".into());
        assert_eq!(one(&c, gold).reason, None);

        let off = found(terms(TermsInput {
            amount: Some(300),
            stacking: Some("combinable".into()),
            ..input("amount_off")
        }));
        let mut off2 = off.clone();
        off2.template_id = uuid::Uuid::from_u128(2);
        let exclusive = found(terms(TermsInput {
            amount: Some(100),
            ..input("amount_off")
        }));
        let mut exclusive = exclusive;
        exclusive.template_id = uuid::Uuid::from_u128(3);
        let cands = |fs: Vec<(&str, Found)>| {
            fs.into_iter()
                .map(|(c, f)| Candidate {
                    code: c.into(),
                    found: Some(f),
                })
                .collect::<Vec<_>>()
        };
        // The percentage comes after the amount off, on what is left of the tea.
        let out = evaluate(
            &c,
            zone(),
            &cands(vec![("P", tea.clone()), ("O", off2.clone())]),
        );
        assert_eq!((out[0].discount, out[1].discount), (200, 300));
        let out = evaluate(
            &c,
            zone(),
            &cands(vec![("O", off.clone()), ("O2", off.clone())]),
        );
        assert_eq!(out[1].reason, Some(Reason::PurchaseLimit));
        let out = evaluate(
            &c,
            zone(),
            &cands(vec![("O", off.clone()), ("X", exclusive.clone())]),
        );
        assert_eq!(out[1].reason, Some(Reason::NotCombinable));
        let out = evaluate(
            &c,
            zone(),
            &cands(vec![("X", exclusive), ("O", off.clone())]),
        );
        assert_eq!(out[1].reason, Some(Reason::NotCombinable));
        assert_eq!(out[0].discount, 100);
        let out = evaluate(&c, zone(), &cands(vec![("O", off.clone()), ("O", off)]));
        assert_eq!(out[1].reason, Some(Reason::Duplicate));
        let out = evaluate(
            &c,
            zone(),
            &[Candidate {
                code: "Z".into(),
                found: None,
            }],
        );
        assert_eq!(out[0].reason, Some(Reason::UnknownCode));
    }

    #[test]
    fn the_state_of_a_code_comes_first() {
        let base = found(terms(TermsInput {
            amount: Some(1),
            ..input("amount_off")
        }));
        let mut f = base.clone();
        f.mine = Some(false);
        assert_eq!(one(&cart(10), f).reason, Some(Reason::OtherMember));
        let mut f = base.clone();
        f.status = Status::Used;
        assert_eq!(one(&cart(10), f).reason, Some(Reason::Used));
        let mut f = base.clone();
        f.status = Status::Voided;
        assert_eq!(one(&cart(10), f).reason, Some(Reason::Voided));
        let mut f = base;
        f.mine = None;
        f.member_limit_reached = true;
        assert_eq!(one(&cart(10), f).reason, Some(Reason::MemberLimit));
    }

    /// Property: whatever the coupons and the cart, the total discount is never negative
    /// and never more than the amount, and no single discount is negative.
    #[test]
    fn discounts_never_exceed_the_payable_amount() {
        let mut rng = StdRng::seed_from_u64(42);
        for _ in 0..20_000 {
            let amount = rng.gen_range(0..100_000i64);
            let items: Vec<CartItem> = (0..rng.gen_range(0..4))
                .map(|_| CartItem {
                    sku: format!("S{}", rng.gen_range(0..3)),
                    category: format!("c{}", rng.gen_range(0..3)),
                    amount: rng.gen_range(0..60_000),
                })
                .collect();
            let mut c = cart(amount);
            c.items = items;
            let n = rng.gen_range(0..=CODES_PER_PURCHASE_MAX);
            let cands: Vec<Candidate> = (0..n)
                .map(|i| {
                    let kind = KINDS[rng.gen_range(0..KINDS.len())];
                    let min_spend = rng.gen_range(1..50_000i64);
                    let t = TermsInput {
                        amount: Some(rng.gen_range(1..=min_spend)),
                        percent: Some(rng.gen_range(1..100)),
                        cap: rng.gen_bool(0.5).then(|| rng.gen_range(1..20_000)),
                        min_spend: (kind == "threshold" || rng.gen_bool(0.2)).then_some(min_spend),
                        gift: Some("g".into()),
                        categories: if rng.gen_bool(0.3) {
                            vec![format!("c{}", rng.gen_range(0..3))]
                        } else {
                            vec![]
                        },
                        stacking: Some(STACKINGS[rng.gen_range(0..2)].into()),
                        max_per_purchase: Some(rng.gen_range(1..=3)),
                        ..input(kind)
                    };
                    let mut f = found(terms(t));
                    f.template_id = uuid::Uuid::from_u128(rng.gen_range(0..3));
                    Candidate {
                        code: format!("C{i}"),
                        found: Some(f),
                    }
                })
                .collect();
            let out = evaluate(&c, zone(), &cands);
            assert_eq!(out.len(), n);
            let total: i64 = out.iter().map(|o| o.discount).sum();
            assert!(out.iter().all(|o| o.discount >= 0), "{out:?}");
            assert!(out.iter().all(|o| o.reason.is_none() || o.discount == 0));
            assert!(
                (0..=amount).contains(&total),
                "{total} of {amount}: {out:?}"
            );
        }
    }

    #[test]
    fn patterns_give_unique_codes_or_refuse() {
        let p = Pattern::parse("VIP-####-????", None, Some("x")).unwrap();
        assert_eq!(p.space(), 10_000 * 32u64.pow(4));
        let mut rng = StdRng::seed_from_u64(1);
        let code = p.generate(&mut rng);
        assert!(code.starts_with("XVIP-") && code.len() == 14, "{code}");
        let small = Pattern::parse("A-#", None, None).unwrap();
        assert_eq!(small.space(), 10);
        assert!(small.check_count(5).is_ok());
        let e = small.check_count(6).unwrap_err();
        assert_eq!(e.params["reason"], "pattern_too_small");
        let e = Pattern::parse("ABC", None, None).unwrap_err();
        assert_eq!(e[0].field, "pattern");
        let e = Pattern::parse("##", Some("A"), None).unwrap_err();
        assert_eq!(e[0].field, "charset");
    }
}
