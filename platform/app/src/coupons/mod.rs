//! Coupons: templates (versioned; a coupon keeps a copy of the terms it was issued under),
//! issuing (batches of generated codes, to one member by staff, claims in the portal, free
//! or for points), redeeming at checkout (`redeem`: the purchase path and the validation
//! share one calculation, `patron_core::coupons::evaluate`), restoring on a refund and
//! voiding. Quantities (total, per member, per day) are taken by one statement
//! (`db::coupons::take_and_issue`) whose answer is checked in the same transaction.

pub mod birthday;
pub mod issue;
pub mod redeem;
pub mod segment;

use crate::members::{require, PlanCheck};
use crate::{AppError, OnConstraint};
use chrono::{DateTime, Utc};
use patron_core::coupons::{self as core, Terms, TermsInput};
use patron_core::plans::Limit;
use patron_core::problem::Issue;
use patron_core::Validation;
use patron_db::coupons::{self as db, Template, TemplateRow};
use patron_db::{constraints, TenantTx};
use uuid::Uuid;

pub use issue::{batch, claim, issue_to_member, Claim, Issued, NewBatch};
pub use redeem::{
    restore_for_refund, validate, void, CartIn, CouponResult, Validation as CartCheck,
};

/// The most a template's total may be.
pub const TOTAL_MAX: i64 = 100_000_000;
/// The most coupons of a template one member may hold, or one day may give.
pub const PER_MAX: i64 = 1_000_000;

/// A template as sent (created or changed).
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: String,
    pub terms: TermsInput,
    pub total: Option<i64>,
    pub per_member: Option<i64>,
    pub per_day: Option<i64>,
    pub claimable: bool,
    pub points_price: i64,
    pub shared_code: Option<String>,
}

struct Checked {
    name: String,
    terms: Terms,
    shared_code: Option<String>,
}

fn check(t: &NewTemplate) -> Result<Checked, AppError> {
    let mut v = Validation::new();
    let name = t.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > core::NAME_MAX {
        v.check::<()>("name", Err(Issue::length_between(1, core::NAME_MAX)));
    }
    for (field, value, max) in [
        ("total", t.total, TOTAL_MAX),
        ("per_member", t.per_member, PER_MAX),
        ("per_day", t.per_day, PER_MAX),
    ] {
        if let Some(n) = value {
            if !(1..=max).contains(&n) {
                v.check::<()>(field, Err(Issue::out_of_range(1, max)));
            }
        }
    }
    let max_price = patron_core::points::MAX_REDEMPTION;
    if !(0..=max_price).contains(&t.points_price) {
        v.check::<()>("points_price", Err(Issue::out_of_range(0, max_price)));
    }
    let shared_code = t
        .shared_code
        .as_deref()
        .and_then(|c| v.check("shared_code", core::check_code(c)));
    let terms = match Terms::parse(&t.terms, "terms") {
        Ok(terms) => Some(terms),
        Err(errors) => {
            for e in errors {
                v.push(e);
            }
            None
        }
    };
    v.finish().map_err(AppError::invalid)?;
    Ok(Checked {
        name,
        terms: terms.expect("checked"),
        shared_code,
    })
}

fn shared_code_taken() -> AppError {
    AppError::conflict(
        "coupon_code_taken",
        Some("shared_code"),
        "another template has this shared code",
    )
}

fn row<'a>(id: Uuid, t: &NewTemplate, c: &'a Checked) -> TemplateRow<'a> {
    TemplateRow {
        id,
        name: &c.name,
        terms: serde_json::to_value(&c.terms).expect("serialisable"),
        total: t.total.map(|n| n as i32),
        per_member: t.per_member.map(|n| n as i32),
        per_day: t.per_day.map(|n| n as i32),
        claimable: t.claimable,
        points_price: t.points_price,
        shared_code: c.shared_code.as_deref(),
    }
}

/// Creates a template, taking one of the plan's `coupon_templates` (402 naming it when
/// none is left: the tenant's limit lock is held to the end of `tx`, so parallel creations
/// cannot both take the last one).
pub async fn create_template(
    tx: &mut TenantTx,
    plan: &dyn PlanCheck,
    t: &NewTemplate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Template, AppError> {
    let c = check(t)?;
    require(plan, tx, Limit::CouponTemplates, 1).await?;
    let id = Uuid::now_v7();
    db::insert_template(tx, &row(id, t, &c), actor, now)
        .await
        .on_constraint(constraints::COUPON_TEMPLATES_SHARED_CODE, shared_code_taken)?;
    template(tx, id).await
}

/// A new version of the template: coupons issued from now on get the new terms; those
/// issued before keep theirs. The total may not go below what was issued.
pub async fn update_template(
    tx: &mut TenantTx,
    id: Uuid,
    t: &NewTemplate,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Template, AppError> {
    let c = check(t)?;
    let before = template(tx, id).await?;
    if let Some(total) = t.total {
        if total < i64::from(before.issued) {
            return Err(AppError::field(
                "total",
                Issue::too_small(i64::from(before.issued))
                    .words(format!("{} were issued already", before.issued)),
            ));
        }
    }
    db::update_template(tx, &row(id, t, &c), actor, now)
        .await
        .on_constraint(constraints::COUPON_TEMPLATES_SHARED_CODE, shared_code_taken)?
        .ok_or_else(|| AppError::not_found("coupon template"))?;
    template(tx, id).await
}

/// Archives a template or brings one back; bringing one back takes one of the plan's
/// `coupon_templates` like creating one.
pub async fn set_archived(
    tx: &mut TenantTx,
    plan: &dyn PlanCheck,
    id: Uuid,
    archived: bool,
    now: DateTime<Utc>,
) -> Result<Template, AppError> {
    if !archived && template(tx, id).await?.archived {
        require(plan, tx, Limit::CouponTemplates, 1).await?;
    }
    if !db::set_archived(tx, id, archived, now).await? {
        return Err(AppError::not_found("coupon template"));
    }
    template(tx, id).await
}

pub async fn templates(tx: &mut TenantTx) -> Result<Vec<Template>, AppError> {
    Ok(db::templates(tx, false).await?)
}

/// A template as staff see it (its used coupons counted).
pub async fn template(tx: &mut TenantTx, id: Uuid) -> Result<Template, AppError> {
    db::template_shown(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("coupon template"))
}

/// A template to issue coupons of (nothing counted).
pub(crate) async fn template_to_issue(tx: &mut TenantTx, id: Uuid) -> Result<Template, AppError> {
    db::template(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("coupon template"))
}

/// The terms a template or a coupon stored.
pub fn terms_of(value: &serde_json::Value) -> Result<Terms, AppError> {
    serde_json::from_value(value.clone()).map_err(AppError::internal)
}

pub async fn batches(tx: &mut TenantTx, template_id: Uuid) -> Result<Vec<db::Batch>, AppError> {
    template(tx, template_id).await?;
    Ok(db::batches(tx, template_id).await?)
}

pub async fn batch_codes(
    tx: &mut TenantTx,
    template_id: Uuid,
    batch_id: Uuid,
) -> Result<Vec<db::Coupon>, AppError> {
    let codes = db::batch_coupons(tx, batch_id).await?;
    if codes.first().is_some_and(|c| c.template_id != template_id) || codes.is_empty() {
        return Err(AppError::not_found("coupon batch"));
    }
    Ok(codes)
}

pub async fn member_coupons(
    tx: &mut TenantTx,
    member_id: Uuid,
) -> Result<Vec<db::Coupon>, AppError> {
    crate::points::member_of(tx, member_id).await?;
    Ok(db::member_coupons(tx, member_id).await?)
}

pub async fn coupon(tx: &mut TenantTx, id: Uuid) -> Result<db::Coupon, AppError> {
    db::coupon(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("coupon"))
}

/// A coupon's state as a member or a clerk sees it now: `issued` past its validity is
/// `expired`.
pub fn shown_status(c: &db::Coupon, now: DateTime<Utc>) -> &'static str {
    match c.status.as_str() {
        "used" => "used",
        "voided" => "voided",
        _ if now >= c.valid_until => "expired",
        _ if now < c.valid_from => "not_yet_valid",
        _ => "issued",
    }
}
