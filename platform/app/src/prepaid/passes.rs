//! Visit passes (次卡): products (N visits, optional validity, optional categories), selling
//! one to a member (a charge record), consuming a visit (idempotent by key; one conditional
//! statement takes it), reversing a use with a reason, and renewing an expired pass (its
//! remaining visits usable again for another validity period).

use super::{check_key, check_method, check_receipt, pay_sale_from_balance, Method};
use crate::idempotency::{self, Request};
use crate::points::decide::Replayable;
use crate::points::member_of;
use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::idempotency::Scope;
use patron_core::prepaid::{self as core, FreezeRefused, Split, Term, MAX_MONEY};
use patron_core::problem::Issue;
use patron_core::Zone;
use patron_db::prepaid::passes::{self as db, Pass, Product, Use};
use patron_db::prepaid::{self as prepaid_db, Charge};
use patron_db::TenantTx;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A pass product as sent.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: String,
    pub visits: i64,
    pub validity_days: Option<i64>,
    pub categories: Vec<String>,
    pub price: i64,
}

pub async fn create_product(
    tx: &mut TenantTx,
    p: &NewProduct,
    now: DateTime<Utc>,
) -> Result<Product, AppError> {
    let mut v = patron_core::Validation::new();
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > core::NAME_MAX {
        v.check::<()>("name", Err(Issue::length_between(1, core::NAME_MAX)));
    }
    if !(1..=core::VISITS_MAX).contains(&p.visits) {
        v.check::<()>("visits", Err(Issue::out_of_range(1, core::VISITS_MAX)));
    }
    if let Some(d) = p.validity_days {
        if !(1..=core::VALIDITY_DAYS_MAX).contains(&d) {
            v.check::<()>(
                "validity_days",
                Err(Issue::out_of_range(1, core::VALIDITY_DAYS_MAX)),
            );
        }
    }
    if !(0..=MAX_MONEY).contains(&p.price) {
        v.check::<()>(
            "price",
            Err(Issue::too_small(0).words("must be 0 or more (minor units)")),
        );
    }
    for (i, c) in p.categories.iter().enumerate() {
        if c.trim().is_empty() || c.len() > 100 {
            v.check::<()>(
                &format!("categories[{i}]"),
                Err(Issue::length_between(1, 100)),
            );
        }
    }
    v.finish().map_err(AppError::invalid)?;
    let product = Product {
        id: Uuid::now_v7(),
        name: name.into(),
        visits: p.visits as i32,
        validity_days: p.validity_days.map(|d| d as i32),
        categories: p.categories.iter().map(|c| c.trim().to_owned()).collect(),
        price: p.price,
        archived: false,
        created_at: now,
    };
    db::insert_product(tx, &product).await?;
    Ok(product)
}

pub async fn products(tx: &mut TenantTx) -> Result<Vec<Product>, AppError> {
    Ok(db::products(tx).await?)
}

/// Archives a pass product (it is no longer sold; passes of it keep working and keep its
/// name) or brings it back (`archived` false).
pub async fn set_product_archived(
    tx: &mut TenantTx,
    product_id: Uuid,
    archived: bool,
) -> Result<Product, AppError> {
    db::set_product_archived(tx, product_id, archived)
        .await?
        .ok_or_else(|| AppError::not_found("pass product"))
}

/// The last day a pass sold (or renewed) on `today` can be used.
fn last_day(today: NaiveDate, validity_days: Option<i32>) -> Option<NaiveDate> {
    validity_days.map(|d| today + Duration::days(i64::from(d) - 1))
}

/// A sale as sent.
#[derive(Debug, Clone)]
pub struct NewSale {
    pub product_id: Uuid,
    pub method: String,
    pub receipt: Option<String>,
}

/// Sells a pass to a member: all its visits, valid from today (the business's day) for the
/// product's validity; the payment is recorded as a charge. The caller commits.
pub async fn sell(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    sale: &NewSale,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Pass, AppError> {
    let mut v = patron_core::Validation::new();
    let method = check_method(&mut v, "method", &sale.method, true);
    check_receipt(&mut v, sale.receipt.as_deref());
    v.finish().map_err(AppError::invalid)?;
    let member = member_of(tx, member_id).await?;
    let product = db::product(tx, sale.product_id)
        .await?
        .filter(|p| !p.archived)
        .ok_or_else(|| {
            AppError::field(
                "product_id",
                Issue::unknown(
                    &sale.product_id.to_string(),
                    "there is no such pass product",
                ),
            )
        })?;
    let today = zone.today(now);
    let pass = Pass {
        id: Uuid::now_v7(),
        member_id: member.id,
        product_id: product.id,
        product_name: product.name.clone(),
        categories: product.categories.clone(),
        visits_total: product.visits,
        visits_left: product.visits,
        starts_on: today,
        expires_on: last_day(today, product.validity_days),
        sold_at: now,
        actor: actor.into(),
        frozen_from: None,
        frozen_until: None,
    };
    db::insert_pass(tx, &pass).await?;
    charge(
        tx,
        &pass,
        product.price,
        method.expect("checked"),
        sale.receipt.as_deref(),
        actor,
        now,
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "pass.sold",
        member_id,
        serde_json::json!({ "pass": pass.product_name }),
    )
    .await?;
    Ok(pass)
}

/// Records a pass's charge; `stored_value` first takes the price from the member's balance.
async fn charge(
    tx: &mut TenantTx,
    pass: &Pass,
    price: i64,
    method: Method,
    receipt: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let id = Uuid::now_v7();
    let taken = if method == Method::StoredValue {
        pay_sale_from_balance(tx, pass.member_id, price, id, actor, now).await?
    } else {
        Split::default()
    };
    prepaid_db::insert_charge(
        tx,
        &Charge {
            id,
            member_id: pass.member_id,
            kind: "pass".into(),
            amount: price,
            method: method.as_str().into(),
            receipt: receipt.unwrap_or("").trim().into(),
            staff: actor.into(),
            plan_id: None,
            membership_id: None,
            pass_id: Some(pass.id),
            top_up_id: None,
            at: now,
            principal: taken.principal,
            bonus: taken.bonus,
        },
    )
    .await?;
    Ok(())
}

/// A pass with its uses, for the member's page.
#[derive(Debug, Clone, Serialize)]
pub struct PassView {
    pub pass: Pass,
    /// `active`, `frozen`, `expired` or `used_up`.
    pub status: &'static str,
    pub uses: Vec<Use>,
}

fn status(p: &Pass, today: NaiveDate) -> &'static str {
    if p.expires_on.is_some_and(|e| e < today) {
        "expired"
    } else if p.visits_left == 0 {
        "used_up"
    } else if frozen_on(p, today) {
        "frozen"
    } else {
        "active"
    }
}

pub async fn member_passes(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<PassView>, AppError> {
    let member = member_of(tx, member_id).await?;
    let passes = db::passes(tx, member.id).await?;
    let ids: Vec<Uuid> = passes.iter().map(|p| p.id).collect();
    let mut uses = db::uses(tx, &ids).await?;
    let today = zone.today(now);
    Ok(passes
        .into_iter()
        .map(|p| {
            let (mine, rest): (Vec<Use>, Vec<Use>) = std::mem::take(&mut uses)
                .into_iter()
                .partition(|u| u.pass_id == p.id);
            uses = rest;
            PassView {
                status: status(&p, today),
                pass: p,
                uses: mine,
            }
        })
        .collect())
}

/// A visit to consume, as sent (hashed in this field order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewUse {
    pub idempotency_key: String,
    pub category: Option<String>,
}

/// A consumed visit (stored as the answer to a retry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UseResult {
    pub use_id: i64,
    pub pass_id: Uuid,
    pub visits_left: i32,
    #[serde(default)]
    pub replayed: bool,
}

impl Replayable for UseResult {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

fn pass_not_found() -> AppError {
    AppError::not_found("pass")
}

/// Consumes one visit. Idempotent by key (per pass) through `idempotency::run`: the key is
/// claimed first, so a racing duplicate waits and replays the first answer; the visit
/// itself is taken by one conditional statement. The caller commits.
pub async fn consume(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    pass_id: Uuid,
    req: &NewUse,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<UseResult, AppError> {
    let mut v = patron_core::Validation::new();
    check_key(&mut v, &req.idempotency_key);
    if let Some(c) = &req.category {
        if c.len() > 100 {
            v.check::<()>("category", Err(Issue::too_long(100)));
        }
    }
    v.finish().map_err(AppError::invalid)?;
    let key = Request::scoped(
        Scope::PassUse,
        pass_id,
        "idempotency_key",
        &req.idempotency_key,
        req,
    );
    idempotency::run(tx, &key, now, async |tx| {
        consume_once(tx, zone, member_id, pass_id, req, actor, now).await
    })
    .await
}

async fn consume_once(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    pass_id: Uuid,
    req: &NewUse,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<UseResult, AppError> {
    let member = member_of(tx, member_id).await?;
    let pass = db::lock_pass(tx, member.id, pass_id)
        .await?
        .ok_or_else(pass_not_found)?;
    let category = req.category.as_deref().unwrap_or("").trim();
    if !pass.categories.is_empty() && !pass.categories.iter().any(|c| c == category) {
        return Err(AppError::conflict(
            "pass_category_not_covered",
            Some("category"),
            format!("this pass covers: {}", pass.categories.join(", ")),
        ));
    }
    let today = zone.today(now);
    let Some(left) = db::take_visit(tx, pass.id, today).await? else {
        return Err(if frozen_on(&pass, today) {
            AppError::conflict(
                "pass_frozen",
                None,
                "this pass is frozen; unfreeze it to use its visits",
            )
            .with_param("until", pass.frozen_until.map(|d| d.to_string()))
        } else if pass.expires_on.is_some_and(|e| e < today) {
            AppError::conflict(
                "pass_expired",
                None,
                "this pass has expired; renew it to use its visits",
            )
        } else {
            AppError::conflict("pass_used_up", None, "this pass has no visits left")
        });
    };
    let use_id = db::insert_use(
        tx,
        pass.id,
        req.idempotency_key.trim(),
        category,
        actor,
        now,
    )
    .await?;
    let result = UseResult {
        use_id,
        pass_id: pass.id,
        visits_left: left,
        replayed: false,
    };
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "pass.used",
        member_id,
        serde_json::json!({ "pass": pass.product_name, "visits_left": result.visits_left }),
    )
    .await?;
    Ok(result)
}

/// Reverses a consumed visit with a reason: the visit is given back. Once per use.
pub async fn reverse(
    tx: &mut TenantTx,
    member_id: Uuid,
    pass_id: Uuid,
    use_id: i64,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<UseResult, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > core::REVERSAL_REASON_MAX {
        return Err(AppError::field(
            "reason",
            Issue::length_between(1, core::REVERSAL_REASON_MAX),
        ));
    }
    let member = member_of(tx, member_id).await?;
    let pass = db::lock_pass(tx, member.id, pass_id)
        .await?
        .ok_or_else(pass_not_found)?;
    let u = db::use_of(tx, pass.id, use_id)
        .await?
        .ok_or_else(|| AppError::not_found("visit"))?;
    if u.reversed_at.is_some() {
        return Err(AppError::conflict(
            "pass_use_reversed",
            None,
            "this visit has already been reversed",
        ));
    }
    db::reverse_use(tx, u.id, reason, actor, now).await?;
    let left = db::give_visit(tx, pass.id).await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "pass.use_reversed",
        member_id,
        serde_json::json!({ "pass": pass.product_name, "reason": reason }),
    )
    .await?;
    Ok(UseResult {
        use_id: u.id,
        pass_id: pass.id,
        visits_left: left,
        replayed: false,
    })
}

/// Renews a pass: usable for another validity period from today with the visits it has
/// left (the business's policy: remaining visits carry over), the payment recorded.
#[allow(clippy::too_many_arguments)]
pub async fn renew(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    pass_id: Uuid,
    method: &str,
    receipt: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Pass, AppError> {
    let mut v = patron_core::Validation::new();
    let method = check_method(&mut v, "method", method, true);
    check_receipt(&mut v, receipt);
    v.finish().map_err(AppError::invalid)?;
    let member = member_of(tx, member_id).await?;
    let mut pass = db::lock_pass(tx, member.id, pass_id)
        .await?
        .ok_or_else(pass_not_found)?;
    let product = db::product(tx, pass.product_id)
        .await?
        .ok_or_else(pass_not_found)?;
    let today = zone.today(now);
    // From today when expired, else from the current last day.
    let from = match pass.expires_on {
        Some(e) if e >= today => e + Duration::days(1),
        _ => today,
    };
    pass.expires_on = last_day(from, product.validity_days);
    db::set_expiry(tx, pass.id, pass.expires_on).await?;
    charge(
        tx,
        &pass,
        product.price,
        method.expect("checked"),
        receipt,
        actor,
        now,
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "pass.renewed",
        member_id,
        serde_json::json!({ "pass": pass.product_name }),
    )
    .await?;
    Ok(pass)
}

/// Whether the pass is frozen on `day`.
fn frozen_on(p: &Pass, day: NaiveDate) -> bool {
    matches!((p.frozen_from, p.frozen_until), (Some(f), Some(u)) if f <= day && day <= u)
}

/// Freezes (pauses) a pass for `days` from today: it cannot be used on those days and its
/// last day moves by them, within the business's yearly allowance (`cap` days per pass
/// year, counted from the day it was sold, as for memberships). One freeze at a time.
#[allow(clippy::too_many_arguments)]
pub async fn freeze(
    tx: &mut TenantTx,
    zone: Zone,
    cap: i64,
    member_id: Uuid,
    pass_id: Uuid,
    days: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Pass, AppError> {
    if !(1..=core::FREEZE_DAYS_MAX).contains(&days) {
        return Err(AppError::field(
            "days",
            Issue::out_of_range(1, core::FREEZE_DAYS_MAX),
        ));
    }
    let member = member_of(tx, member_id).await?;
    let mut pass = db::lock_pass(tx, member.id, pass_id)
        .await?
        .ok_or_else(pass_not_found)?;
    let today = zone.today(now);
    if pass.frozen_until.is_some_and(|u| u >= today) {
        return Err(
            AppError::conflict("pass_frozen", None, "this pass is already frozen")
                .with_param("until", pass.frozen_until.map(|d| d.to_string())),
        );
    }
    let year = core::freeze_year(pass.starts_on, today);
    let used = db::frozen_in_year(tx, pass.id, year).await?;
    // A pass without a last day is paused without moving one: only the cap is checked.
    let end = pass
        .expires_on
        .map(|e| e + Duration::days(1))
        .unwrap_or(today + Duration::days(days + 1));
    let term = core::freeze(
        Term {
            start: pass.starts_on,
            end,
        },
        today,
        days,
        used,
        cap,
    )
    .map_err(|e| match e {
        FreezeRefused::OverCap(left) => AppError::conflict(
            "freeze_cap_reached",
            Some("days"),
            format!("{left} days of freezing are left this pass year"),
        )
        .with_param("left", left),
        FreezeRefused::Ended => AppError::conflict(
            "pass_expired",
            None,
            "this pass has expired; renew it to use its visits",
        ),
    })?;
    let until = today + Duration::days(days - 1);
    pass.expires_on = pass.expires_on.map(|_| term.end - Duration::days(1));
    pass.frozen_from = Some(today);
    pass.frozen_until = Some(until);
    db::freeze(
        tx,
        pass.id,
        today,
        until,
        pass.expires_on,
        days,
        year,
        actor,
        now,
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "pass.frozen",
        member_id,
        serde_json::json!({ "pass": pass.product_name, "days": days }),
    )
    .await?;
    Ok(pass)
}

/// Ends a pass's freeze today: usable again at once, and the frozen days not used (today
/// and after) are given back: its last day moves back by them and they no longer count
/// against the yearly allowance.
pub async fn unfreeze(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    pass_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Pass, AppError> {
    let member = member_of(tx, member_id).await?;
    let mut pass = db::lock_pass(tx, member.id, pass_id)
        .await?
        .ok_or_else(pass_not_found)?;
    let today = zone.today(now);
    let (Some(from), Some(until)) = (pass.frozen_from, pass.frozen_until) else {
        return Err(AppError::conflict(
            "pass_not_frozen",
            None,
            "this pass is not frozen",
        ));
    };
    if until < today {
        return Err(AppError::conflict(
            "pass_not_frozen",
            None,
            "this pass's freeze has already ended",
        ));
    }
    let days = (until - from).num_days() + 1;
    let unused = core::unfrozen_days(from, days, today);
    pass.expires_on = pass.expires_on.map(|e| e - Duration::days(unused));
    pass.frozen_from = None;
    pass.frozen_until = None;
    db::unfreeze(tx, pass.id, pass.expires_on, days - unused, actor, now).await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "pass.unfrozen",
        member_id,
        serde_json::json!({ "pass": pass.product_name }),
    )
    .await?;
    Ok(pass)
}
