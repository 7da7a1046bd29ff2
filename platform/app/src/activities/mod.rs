//! Activities (活动): the business's events with seats — what they are and the states
//! they move through ([`manage`]), who holds a seat, who waits in line and who was offered a
//! freed seat ([`seats`]), check-in at the door with a rotating signed code and the points
//! for attending ([`check_in`]), and afterwards ratings and statistics ([`after`]). The
//! offer that runs out passes on through the job in [`jobs`].
//!
//! Every path that seats someone takes the activity's row first (so seat changes of one
//! activity run one after another, in one lock order: activity, registrations, point
//! accounts) and then the seat itself by one conditional statement (`db::take_seat`).

pub mod after;
pub mod check_in;
pub mod guests;
pub mod jobs;
pub mod manage;
pub mod photos;
pub mod seats;

pub use manage::{ActivityInput, ActivityView};

use crate::engine::RuleEngine;
use crate::points::decide;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::activities::PriceKind;
use patron_core::messages::Event;
use patron_core::pii::PiiKeys;
use patron_core::points::EntrySource;
use patron_core::reasons::Reason;
use patron_db::activities::{self as db, Activity};
use patron_db::points::{self, Source};
use patron_db::prepaid::{self, passes};
use patron_db::{Tenant, TenantTx};
use serde_json::json;
use uuid::Uuid;

/// Who acts, for whom, and when: what every use case here needs.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub engine: &'a RuleEngine,
    pub tenant: &'a Tenant,
    /// `staff:<id>`, `key:<id>`, `member:<id>`, `system:<job>`.
    pub actor: &'a str,
    pub now: DateTime<Utc>,
    /// Reads members' phones and e-mails in a segment's conditions (sign-ups; jobs that
    /// sign nobody up have none, and to them a segment holds nobody).
    pub keys: Option<&'a PiiKeys>,
}

pub(crate) fn not_found() -> AppError {
    AppError::not_found("activity")
}

pub(crate) fn registration_not_found() -> AppError {
    AppError::not_found("registration")
}

/// The activity, locked for a change of its seats or state.
pub(crate) async fn locked(tx: &mut TenantTx, id: Uuid) -> Result<Activity, AppError> {
    db::lock(tx, id).await?.ok_or_else(not_found)
}

/// Tells the member of a registration what happened to it (`event`), through the outbox in
/// the caller's transaction: `occasion` makes it one message per occasion (the e-mail's
/// delivery key is `email:<member>:<event>:<occasion>`), so a retried change tells nobody
/// twice. `extra` adds the event's own values to the activity's title, time and place.
pub(crate) async fn tell(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    event: Event,
    a: &Activity,
    r: &db::Registration,
    occasion: &str,
    extra: serde_json::Value,
) -> Result<(), AppError> {
    let zone = c.tenant.settings.zone();
    let mut data = json!({
        "activity": a.title,
        "time": zone.local(a.starts_at).format("%Y-%m-%d %H:%M").to_string(),
        "place": a.place,
        "activity_id": a.id,
        "registration_id": r.id,
    });
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    crate::messages::record(tx, event, r.member_id, occasion, data, c.now).await?;
    Ok(())
}

/// Charges an activity's price for a new registration, by its kind: points, stored value
/// or one visit of a pass (free: nothing). Each refusal is a 409 and the caller's
/// transaction rolls back, so nothing of the sign-up is written.
pub(crate) async fn pay(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &Activity,
    member_id: Uuid,
    registration: Uuid,
) -> Result<(), AppError> {
    match PriceKind::parse(&a.price_kind) {
        Some(PriceKind::Points) => pay_points(tx, c, a, member_id, registration).await,
        Some(PriceKind::StoredValue) => {
            pay_stored_value(tx, c, a.price_fen, member_id, registration).await
        }
        Some(PriceKind::Pass) => pay_pass(tx, c, a, member_id, registration).await,
        Some(PriceKind::Free) | None => Ok(()),
    }
}

/// Takes the price from the member's stored value by the business's spend order, in one
/// conditional statement (never below zero). 409 `insufficient_stored_value` (`balance`,
/// `asked`) when the balance does not cover it.
async fn pay_stored_value(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    price: i64,
    member_id: Uuid,
    registration: Uuid,
) -> Result<(), AppError> {
    if price <= 0 {
        return Ok(());
    }
    let paid =
        prepaid::spend_for_registration(tx, member_id, registration, price, c.actor, c.now).await?;
    if !paid.paid {
        return Err(crate::prepaid::insufficient_stored_value(
            "price_fen",
            paid.held,
            price,
        ));
    }
    Ok(())
}

/// Uses one visit of the member's valid pass of the activity's pass product, in one
/// conditional statement (never below zero visits). 409 `pass_unavailable` (`product`)
/// when they hold none with a visit left today.
async fn pay_pass(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &Activity,
    member_id: Uuid,
    registration: Uuid,
) -> Result<(), AppError> {
    let Some(product) = a.pass_product_id else {
        return Ok(());
    };
    let today = c.tenant.settings.zone().today(c.now);
    let used = passes::use_for_registration(
        tx,
        member_id,
        product,
        registration,
        &format!("activity:{registration}"),
        today,
        c.actor,
        c.now,
    )
    .await?;
    if used.is_none() {
        let name = passes::product(tx, product)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        return Err(AppError::conflict(
            "pass_unavailable",
            Some("pass_product_id"),
            format!("the member holds no usable pass of {name}"),
        )
        .with_param("product", name));
    }
    Ok(())
}

/// Takes an activity's price from the member's points (soonest-expiring lots first), as a
/// redemption naming the registration. 409 `insufficient_points` when they have too few.
async fn pay_points(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &Activity,
    member_id: Uuid,
    registration: Uuid,
) -> Result<(), AppError> {
    let price = a.price_points;
    if price <= 0 {
        return Ok(());
    }
    let (locked, expiry_due) = points::lock_for_change(tx, member_id, c.now).await?;
    let mut acct = match locked {
        Some(x) => x,
        None => points::lock_account(tx, member_id, c.now).await?,
    };
    if expiry_due && points::expire(tx, &mut acct, c.now, "system:expiry").await? > 0 {
        points::save_account(tx, &acct, c.now).await?;
    }
    if acct.balance < price {
        return Err(AppError::conflict(
            "insufficient_points",
            Some("price_points"),
            format!("the member has {} points", acct.balance.max(0)),
        )
        .with_param("balance", acct.balance)
        .with_param("asked", price));
    }
    acct.balance -= price;
    acct.redeemed_total += price;
    let src = Source {
        kind: EntrySource::Redemption,
        id: format!("activity:{registration}"),
        rule_version: None,
        reason: Reason::point("activity_price", json!({ "title": a.title })).into(),
        detail: Some(json!({ "activity_id": a.id, "registration_id": registration })),
        actor: c.actor,
        at: c.now,
    };
    let entry = points::redeem(tx, &acct, price, &src).await?;
    db::set_paid(tx, registration, price, entry).await?;
    Ok(())
}

/// Gives back (once) exactly what a registration was charged, the way it came: points as
/// new points expiring by the business's settings (they do not count as earned), stored
/// value into the sub-ledgers it came from, a pass visit by reversing its use.
pub(crate) async fn refund(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &Activity,
    r: &db::Registration,
) -> Result<(), AppError> {
    let charged = r.points_paid > 0 || r.fen_paid > 0 || r.pass_use_id.is_some();
    if !charged || !db::set_refunded(tx, r.id, c.now).await? {
        return Ok(());
    }
    if r.fen_paid > 0 {
        prepaid::lock_balance(tx, r.member_id, c.now).await?;
        let refs = prepaid::Refs {
            registration_id: Some(r.id),
            reason: "activity refunded",
            ..prepaid::Refs::default()
        };
        prepaid::apply(
            tx,
            r.member_id,
            r.principal_paid,
            r.bonus_paid,
            "refund",
            &refs,
            c.actor,
            c.now,
        )
        .await?;
    }
    if let Some(use_id) = r.pass_use_id {
        passes::reverse_for_registration(tx, use_id, "activity refunded", c.actor, c.now).await?;
    }
    if r.points_paid <= 0 {
        return Ok(());
    }
    let pts = r.points_paid;
    let mut acct = points::lock_account(tx, r.member_id, c.now).await?;
    let rules = c.engine.tenant(tx).await?;
    let zone = c.tenant.settings.zone();
    let expires = decide::expiry_of(&rules.settings, c.now, zone);
    let src = Source {
        kind: EntrySource::Adjustment,
        id: format!("activity:{}", r.id),
        rule_version: None,
        reason: Reason::point("activity_refund", json!({ "title": a.title })).into(),
        detail: Some(json!({ "activity_id": a.id, "registration_id": r.id })),
        actor: c.actor,
        at: c.now,
    };
    // A refund is not earning: it does not count towards the day's points or the total.
    let day_before = (acct.day, acct.day_points);
    points::earn(tx, &mut acct, pts, &src, expires, zone.today(c.now)).await?;
    (acct.day, acct.day_points) = day_before;
    acct.earned_total -= pts;
    acct.redeemed_total -= pts;
    points::save_account(tx, &acct, c.now).await?;
    Ok(())
}
