//! Coupons at checkout: what a cart's codes take off (the validation, which writes
//! nothing) and their use by a purchase (one conditional UPDATE: only a coupon still
//! `issued` is used, so a single-use coupon sent with parallel purchases is used once; a
//! purchase with a code that does not apply is refused with 409 `coupon_not_applicable`
//! naming the code and the reason, before anything is recorded). A template's shared code
//! in the cart first gives the member one coupon of it, in the purchase's transaction (in a
//! step undone for a validation); one it cannot give is answered with the reason and does
//! not refuse the purchase. Also the refund's restore and the staff's void.

use crate::purchases::{resolve_member, MemberRef};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::coupons::{self as core, Candidate, Cart, CartItem, Found, Outcome, Status};
use patron_core::pii::PiiKeys;
use patron_core::problem::Issue;
use patron_core::Zone;
use patron_db::coupons::{self as db, Looked};
use patron_db::{Tenant, TenantTx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One code's answer: its discount, or why it does not apply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CouponResult {
    pub code: String,
    pub applied: bool,
    /// Money off (0 for a gift or a free visit).
    pub discount: i64,
    /// Why it does not apply (`min_spend`, `expired` ...).
    pub reason: Option<String>,
    pub template_name: Option<String>,
    pub kind: Option<String>,
    /// The free item of a gift coupon.
    pub gift: Option<String>,
    /// For a template's shared code: the coupon it gave the member (and the purchase used).
    #[serde(default)]
    pub issued_code: Option<String>,
}

/// Checks the codes as sent (at most [`core::CODES_PER_PURCHASE_MAX`], each 1 to
/// [`core::CODE_MAX`] characters): 422 naming `coupon_codes[i]`.
pub fn check_codes(codes: &[String]) -> Result<Vec<String>, AppError> {
    let mut v = patron_core::Validation::new();
    if codes.len() > core::CODES_PER_PURCHASE_MAX {
        v.check::<()>(
            "coupon_codes",
            Err(Issue::too_many(core::CODES_PER_PURCHASE_MAX, "codes")),
        );
    }
    let out: Vec<String> = codes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| v.check(&format!("coupon_codes[{i}]"), core::check_code(c)))
        .collect();
    v.finish().map_err(AppError::invalid)?;
    Ok(out)
}

/// The items of a purchase as the calculation reads them (`items` as checked by the
/// purchase: sku, category, quantity, unit_price).
pub fn cart_items(items: &[serde_json::Value]) -> Vec<CartItem> {
    items
        .iter()
        .map(|i| CartItem {
            sku: i["sku"].as_str().unwrap_or_default().to_owned(),
            category: i["category"].as_str().unwrap_or_default().to_owned(),
            amount: i["quantity"]
                .as_i64()
                .unwrap_or(1)
                .saturating_mul(i["unit_price"].as_i64().unwrap_or(0)),
        })
        .collect()
}

/// The codes for the calculation. `took`: the rows come from [`db::take`] at that instant
/// (a code read as issued, the member's or nobody's and valid then, that the statement did
/// not take was used by a parallel purchase first).
fn candidates(
    codes: &[String],
    rows: &[Looked],
    member_id: Uuid,
    took: Option<DateTime<Utc>>,
) -> Result<Vec<Candidate>, AppError> {
    codes
        .iter()
        .map(|code| {
            let found = match rows.iter().find(|r| &r.code == code) {
                None => None,
                Some(r) => {
                    let mut status = Status::parse(&r.status);
                    let raced = took.is_some_and(|at| {
                        !r.taken
                            && !r.reserved
                            && r.member_id.is_none_or(|m| m == member_id)
                            && r.valid_from <= at
                            && at < r.valid_until
                    });
                    if status == Status::Issued && raced {
                        status = Status::Used;
                    }
                    let limit_reached = match (r.member_id, r.per_member) {
                        (None, Some(limit)) => {
                            let count = r.member_count.unwrap_or(0);
                            if r.taken {
                                count > limit
                            } else {
                                count >= limit
                            }
                        }
                        _ => false,
                    };
                    Some(Found {
                        template_id: r.template_id,
                        terms: super::terms_of(&r.terms.0)?,
                        status,
                        mine: r.member_id.map(|m| m == member_id),
                        valid_from: r.valid_from,
                        valid_until: r.valid_until,
                        member_limit_reached: limit_reached,
                        reserved: r.reserved && !r.taken,
                    })
                }
            };
            Ok(Candidate {
                code: code.clone(),
                found,
            })
        })
        .collect()
}

fn results(outcomes: Vec<Outcome>, rows: &[Looked]) -> Vec<CouponResult> {
    outcomes
        .into_iter()
        .map(|o| {
            let row = rows.iter().find(|r| r.code == o.code);
            let terms = row.and_then(|r| super::terms_of(&r.terms.0).ok());
            CouponResult {
                applied: o.reason.is_none(),
                discount: o.discount,
                reason: o.reason.map(|r| r.as_str().to_owned()),
                template_name: row.map(|r| r.template_name.clone()),
                kind: terms.as_ref().map(|t| t.kind.as_str().to_owned()),
                gift: terms.and_then(|t| t.gift),
                code: o.code,
                issued_code: None,
            }
        })
        .collect()
}

/// What a purchase's coupons did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub discount: i64,
    pub coupons: Vec<CouponResult>,
}

/// 409 for the first code that does not apply (`stands`: positions of shared codes that
/// gave no coupon, which do not refuse the purchase).
fn not_applicable(coupons: &[CouponResult], stands: &[usize]) -> Option<AppError> {
    let (i, c) = coupons
        .iter()
        .enumerate()
        .find(|(i, c)| !c.applied && !stands.contains(i))?;
    let reason = c.reason.clone().unwrap_or_default();
    Some(
        AppError::conflict(
            "coupon_not_applicable",
            Some(&format!("coupon_codes[{i}]")),
            format!("the coupon {} does not apply: {reason}", c.code),
        )
        .with_param("code", c.code.clone())
        .with_param("reason", reason),
    )
}

/// A cart's codes once its templates' shared codes gave their coupons.
#[derive(Debug, Default)]
struct Shared {
    /// The codes to calculate, in the order given: a shared code that gave a coupon is
    /// replaced by that coupon's code; one that gave none is left out.
    codes: Vec<String>,
    /// The shared codes that gave no coupon: their position as given and why.
    refused: Vec<(usize, CouponResult)>,
    /// Each coupon given: its code and the shared code typed.
    given: Vec<(String, String)>,
}

impl Shared {
    /// The answers in the order the codes were given: a given coupon's answer under the
    /// shared code typed (naming the coupon), a refused shared code's reason in its place.
    fn merge(&self, mut results: Vec<CouponResult>, dry: bool) -> Vec<CouponResult> {
        for r in &mut results {
            if let Some((coupon, typed)) = self.given.iter().find(|(c, _)| *c == r.code) {
                r.issued_code = (!dry).then(|| coupon.clone());
                r.code = typed.clone();
            }
        }
        for (i, r) in &self.refused {
            results.insert((*i).min(results.len()), r.clone());
        }
        results
    }

    fn stands(&self) -> Vec<usize> {
        self.refused.iter().map(|(i, _)| *i).collect()
    }
}

/// Gives the member one coupon of each template whose shared code the cart carries
/// (case-insensitively, as every code is normalised), through the issuing path: the
/// template's total, the member's and the day's limits, then the plan's coupons of the
/// month. A code that cannot give one is answered with the reason (`sold_out`,
/// `member_limit`, `day_limit`, `expired`, `unavailable`; `duplicate` when typed twice)
/// and does not refuse the purchase. Several templates are locked first, in id order,
/// together with `later`: the templates the rest of the transaction may give coupons of
/// (the purchase rule's and the promotions'), so that no two purchases take them in
/// opposite orders.
/// Only `candidates` (by default every code) are looked up as shared codes.
#[allow(clippy::too_many_arguments)]
async fn give_shared(
    tx: &mut TenantTx,
    zone: Zone,
    codes: &[String],
    candidates: Option<&[String]>,
    later: &[Uuid],
    member_id: Uuid,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Shared, AppError> {
    let templates = db::templates_by_shared_codes(tx, candidates.unwrap_or(codes)).await?;
    if templates.is_empty() {
        return Ok(Shared {
            codes: codes.to_vec(),
            ..Shared::default()
        });
    }
    let mut used: Vec<Uuid> = templates
        .iter()
        .map(|t| t.id)
        .chain(later.iter().copied())
        .collect();
    used.sort();
    used.dedup();
    if used.len() > 1 {
        super::issue::lock_templates(tx, &used).await?;
    }
    let mut out = Shared::default();
    let mut seen: Vec<&str> = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let Some(t) = templates
            .iter()
            .find(|t| t.shared_code.as_deref() == Some(code.as_str()))
        else {
            out.codes.push(code.clone());
            continue;
        };
        let given = if seen.contains(&code.as_str()) {
            Err(core::Reason::Duplicate)
        } else {
            seen.push(code);
            super::issue::give_at_till(tx, zone, t, member_id, actor, at).await?
        };
        match given {
            Ok(coupon) => {
                out.given.push((coupon.clone(), code.clone()));
                out.codes.push(coupon);
            }
            Err(reason) => {
                let terms = super::terms_of(&t.terms.0).ok();
                out.refused.push((
                    i,
                    CouponResult {
                        code: code.clone(),
                        applied: false,
                        discount: 0,
                        reason: Some(reason.as_str().to_owned()),
                        template_name: Some(t.name.clone()),
                        kind: terms.as_ref().map(|t| t.kind.as_str().to_owned()),
                        gift: terms.and_then(|t| t.gift),
                        issued_code: None,
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// Uses a purchase's coupons: one statement marks them used (only those still issued, the
/// member's or nobody's); a code it did not find may be a template's shared code, which
/// then gives the member one coupon of it (see [`give_shared`]) and that coupon is marked
/// used by a second statement. Then the calculation decides; any code that does not
/// apply refuses the whole purchase (409 `coupon_not_applicable`; the caller's transaction
/// is dropped, so nothing stays used or given), except a shared code that gave no coupon.
/// `later`: the templates the purchase may give coupons of after this (see [`give_shared`]).
#[allow(clippy::too_many_arguments)]
pub async fn use_for_purchase(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    codes: &[String],
    later: &[Uuid],
    cart: &Cart,
    purchase_id: Uuid,
    actor: &str,
    reservation: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Applied, AppError> {
    // Coupons' own codes nearly always: one statement, the purchase's only extra one.
    let mut rows = db::take(
        tx,
        codes,
        member_id,
        purchase_id,
        actor,
        cart.at,
        reservation,
        now,
    )
    .await?;
    let unknown: Vec<String> = codes
        .iter()
        .filter(|c| !rows.iter().any(|r| &r.code == *c))
        .cloned()
        .collect();
    let shared = if unknown.is_empty() {
        Shared {
            codes: codes.to_vec(),
            ..Shared::default()
        }
    } else {
        // Given at the purchase's time (at most now), so the coupon is valid for it.
        let shared = give_shared(
            tx,
            zone,
            codes,
            Some(&unknown),
            later,
            member_id,
            actor,
            cart.at.min(now),
        )
        .await?;
        let given: Vec<String> = shared.given.iter().map(|(c, _)| c.clone()).collect();
        if !given.is_empty() {
            rows.extend(
                db::take(
                    tx,
                    &given,
                    member_id,
                    purchase_id,
                    actor,
                    cart.at,
                    reservation,
                    now,
                )
                .await?,
            );
        }
        shared
    };
    let codes = &shared.codes;
    let outcomes = core::evaluate(
        cart,
        zone,
        &candidates(codes, &rows, member_id, Some(cart.at))?,
    );
    let coupons = shared.merge(results(outcomes, &rows), false);
    if let Some(e) = not_applicable(&coupons, &shared.stands()) {
        return Err(e);
    }
    Ok(Applied {
        discount: coupons.iter().map(|c| c.discount).sum(),
        coupons,
    })
}

/// A cart to check, as sent.
#[derive(Debug, Clone)]
pub struct CartIn {
    pub member: MemberRef,
    pub amount: i64,
    pub items: Vec<crate::purchases::PurchaseItem>,
    pub store: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub coupon_codes: Vec<String>,
    /// A reservation the cart holds (its coupon is not refused as reserved).
    pub reservation: Option<Uuid>,
}

/// What a cart's coupons would do, written nowhere.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub member_id: Uuid,
    pub amount: i64,
    pub discount: i64,
    /// What is left to pay.
    pub payable: i64,
    /// Whether a purchase with these codes would be recorded: every code applies, but a
    /// shared code that would give no coupon (the purchase stands without it).
    pub applicable: bool,
    pub coupons: Vec<CouponResult>,
}

/// Answers for a cart what `POST /purchases` would do with its codes, without writing.
pub async fn validate(
    tx: &mut TenantTx,
    engine: &crate::engine::RuleEngine,
    tenant: &Tenant,
    pii: &PiiKeys,
    c: &CartIn,
    now: DateTime<Utc>,
) -> Result<Validation, AppError> {
    let mut v = patron_core::Validation::new();
    if !(0..=crate::points::MAX_AMOUNT).contains(&c.amount) {
        v.check::<()>(
            "amount",
            Err(Issue::out_of_range(0, crate::points::MAX_AMOUNT)),
        );
    }
    for (i, it) in c.items.iter().enumerate() {
        if !(1..=1_000_000).contains(&it.quantity.unwrap_or(1)) {
            v.check::<()>(
                &format!("items[{i}].quantity"),
                Err(Issue::out_of_range(1, 1_000_000)),
            );
        }
        if !(0..=crate::points::MAX_AMOUNT).contains(&it.unit_price) {
            v.check::<()>(
                &format!("items[{i}].unit_price"),
                Err(Issue::out_of_range(0, crate::points::MAX_AMOUNT)),
            );
        }
    }
    let at = c.occurred_at.unwrap_or(now);
    if at > now + Duration::minutes(10) {
        v.check::<()>("occurred_at", Err(Issue::in_future()));
    }
    v.finish().map_err(AppError::invalid)?;
    let codes = check_codes(&c.coupon_codes)?;
    let member = resolve_member(tx, tenant, pii, &c.member).await?;
    if member.status == "erased" {
        return Err(AppError::field("member_id", Issue::member_erased()));
    }
    let rules = engine.tenant(tx).await?;
    let tier = match &rules.ladder {
        Some(_) => Some(
            crate::engine::MemberTier::of(tx, &rules, member.id)
                .await?
                .code,
        ),
        None => None,
    };
    let items: Vec<serde_json::Value> = c
        .items
        .iter()
        .map(|i| {
            serde_json::json!({
                "sku": i.sku.trim(), "category": i.category.trim(),
                "quantity": i.quantity.unwrap_or(1), "unit_price": i.unit_price,
            })
        })
        .collect();
    let cart = Cart {
        amount: c.amount,
        items: cart_items(&items),
        store: c.store.as_deref().map(str::trim).unwrap_or("").to_owned(),
        tier,
        at,
    };
    let zone = tenant.settings.zone();
    // Shared codes give their coupons in a step that is undone: the answer is what the
    // purchase would do, and nothing stays written.
    db::dry_run(tx).await?;
    let shared = give_shared(
        tx,
        zone,
        &codes,
        None,
        &[],
        member.id,
        "system:validation",
        at.min(now),
    )
    .await?;
    let rows = db::look(tx, &shared.codes, member.id, c.reservation, now).await?;
    db::undo_dry_run(tx).await?;
    let outcomes = core::evaluate(
        &cart,
        zone,
        &candidates(&shared.codes, &rows, member.id, None)?,
    );
    let coupons = shared.merge(results(outcomes, &rows), true);
    let discount: i64 = coupons.iter().map(|c| c.discount).sum();
    Ok(Validation {
        member_id: member.id,
        amount: c.amount,
        discount,
        payable: c.amount - discount,
        applicable: not_applicable(&coupons, &shared.stands()).is_none(),
        coupons,
    })
}

/// After a refund: a purchase refunded in full gives back the coupons it used whose terms
/// say `restore`. Returns their codes.
pub async fn restore_for_refund(
    tx: &mut TenantTx,
    purchase_id: Uuid,
    in_full: bool,
    refund_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    if !in_full {
        return Ok(Vec::new());
    }
    Ok(db::restore(tx, purchase_id, refund_id, actor, now).await?)
}

/// Staff void an issued coupon, with a reason (409 `coupon_not_voidable` once used or
/// voided).
pub async fn void(
    tx: &mut TenantTx,
    id: Uuid,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<db::Coupon, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > core::REASON_MAX {
        return Err(AppError::field(
            "reason",
            Issue::length_between(1, core::REASON_MAX),
        ));
    }
    match db::void(tx, id, reason, actor, now).await? {
        None => Err(AppError::not_found("coupon")),
        Some(s) if s == "issued" => super::coupon(tx, id).await,
        Some(s) => {
            Err(
                AppError::conflict("coupon_not_voidable", None, format!("the coupon is {s}"))
                    .with_param("status", s),
            )
        }
    }
}

/// The longest a coupon is held for a cart, in minutes.
pub const RESERVE_MINUTES_MAX: i64 = 60;

/// A coupon held for a cart.
#[derive(Debug, Clone, Serialize)]
pub struct Reservation {
    pub reservation_id: Uuid,
    pub code: String,
    pub member_id: Option<Uuid>,
    pub reserved_until: DateTime<Utc>,
}

/// Holds a coupon for a cart for `minutes` (one conditional statement; a reservation lapses
/// by the clock alone), under the cart's `reservation_id` when given (a cart holding
/// several coupons sends one id; holding again under the same id extends the hold, so a
/// retry or a renewal is safe), else under a new one. A purchase carrying the reservation
/// uses the coupon; any other is refused with reason `reserved` meanwhile. 409
/// `coupon_reserved` while another reservation holds it, `coupon_not_reservable` when it
/// is used, voided or expired.
pub async fn reserve(
    tx: &mut TenantTx,
    code: &str,
    minutes: i64,
    reservation_id: Option<Uuid>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Reservation, AppError> {
    if !(1..=RESERVE_MINUTES_MAX).contains(&minutes) {
        return Err(AppError::field(
            "minutes",
            Issue::out_of_range(1, RESERVE_MINUTES_MAX),
        ));
    }
    let code = code.trim();
    let until = now + Duration::minutes(minutes);
    let id = reservation_id.unwrap_or_else(Uuid::now_v7);
    if let Some(r) = db::reserve(tx, code, id, until, actor, now).await? {
        return Ok(Reservation {
            reservation_id: r.reservation_id,
            code: r.code,
            member_id: r.member_id,
            reserved_until: r.reserved_until,
        });
    }
    let Some(h) = db::holdable(tx, code).await? else {
        return Err(AppError::not_found("coupon"));
    };
    if h.status == "issued" && h.valid_until > now {
        return Err(AppError::conflict(
            "coupon_reserved",
            Some("code"),
            "the coupon is held for another cart",
        )
        .with_param("until", h.reserved_until.map(|u| u.to_rfc3339())));
    }
    let reason = if h.status == "issued" {
        "expired"
    } else {
        h.status.as_str()
    };
    Err(AppError::conflict(
        "coupon_not_reservable",
        Some("code"),
        format!("the coupon cannot be held: {reason}"),
    )
    .with_param("reason", reason))
}

/// Lets go of a coupon this reservation holds (a cart that no longer wants it); nothing to
/// do when it does not hold it (lapsed, used, another's, already let go). 404 for a code
/// that is not an issued coupon of the business.
pub async fn release(
    tx: &mut TenantTx,
    code: &str,
    reservation_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let code = code.trim();
    if db::release(tx, code, reservation_id, actor, now).await? {
        return Ok(());
    }
    match db::holdable(tx, code).await? {
        Some(_) => Ok(()),
        None => Err(AppError::not_found("coupon")),
    }
}
