//! Visit passes (次卡): products (N visits, optional validity, optional categories), selling
//! one to a member (a charge record), consuming a visit (idempotent by key; one conditional
//! statement takes it), reversing a use with a reason, and renewing an expired pass (its
//! remaining visits usable again for another validity period).

use super::{check_key, check_method, check_receipt};
use crate::points::decide::{replay, Replayable};
use crate::points::{key_reused, member_of, request_hash, stored};
use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::prepaid::MAX_MONEY;
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
    if name.is_empty() || name.chars().count() > 100 {
        v.check::<()>("name", Err(Issue::length_between(1, 100)));
    }
    if !(1..=10_000).contains(&p.visits) {
        v.check::<()>("visits", Err(Issue::out_of_range(1, 10000)));
    }
    if let Some(d) = p.validity_days {
        if !(1..=3660).contains(&d) {
            v.check::<()>("validity_days", Err(Issue::out_of_range(1, 3660)));
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
    let method = check_method(&mut v, "method", &sale.method, false);
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
    };
    db::insert_pass(tx, &pass).await?;
    charge(
        tx,
        &pass,
        product.price,
        method.expect("checked").as_str(),
        sale.receipt.as_deref(),
        actor,
        now,
    )
    .await?;
    Ok(pass)
}

async fn charge(
    tx: &mut TenantTx,
    pass: &Pass,
    price: i64,
    method: &str,
    receipt: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    prepaid_db::insert_charge(
        tx,
        &Charge {
            id: Uuid::now_v7(),
            member_id: pass.member_id,
            kind: "pass".into(),
            amount: price,
            method: method.into(),
            receipt: receipt.unwrap_or("").trim().into(),
            staff: actor.into(),
            plan_id: None,
            membership_id: None,
            pass_id: Some(pass.id),
            top_up_id: None,
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// A pass with its uses, for the member's page.
#[derive(Debug, Clone, Serialize)]
pub struct PassView {
    pub pass: Pass,
    /// `active`, `expired` or `used_up`.
    pub status: &'static str,
    pub uses: Vec<Use>,
}

fn status(p: &Pass, today: NaiveDate) -> &'static str {
    if p.expires_on.is_some_and(|e| e < today) {
        "expired"
    } else if p.visits_left == 0 {
        "used_up"
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

/// Consumes one visit. Idempotent by key (per pass): the pass is locked first, then an
/// earlier answer is looked for; the visit itself is taken by one conditional statement.
/// The caller commits.
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
    let member = member_of(tx, member_id).await?;
    let pass = db::lock_pass(tx, member.id, pass_id)
        .await?
        .ok_or_else(pass_not_found)?;
    let key = format!("{}:{}", pass.id, req.idempotency_key.trim());
    let hash = request_hash(req);
    if let Some((h, answer)) = prepaid_db::request(tx, "pass_use", &key).await? {
        return replay(&h, &hash, stored::<UseResult>(answer)?)
            .ok_or_else(|| key_reused("idempotency_key"));
    }
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
        return Err(if pass.expires_on.is_some_and(|e| e < today) {
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
    prepaid_db::save_request(
        tx,
        "pass_use",
        &key,
        &hash,
        &serde_json::to_value(&result).expect("serialisable"),
        now,
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
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(AppError::field("reason", Issue::length_between(1, 200)));
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
    let method = check_method(&mut v, "method", method, false);
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
        method.expect("checked").as_str(),
        receipt,
        actor,
        now,
    )
    .await?;
    Ok(pass)
}
