//! Guests: people who are not members, added by staff by name and phone (a member's friend,
//! a walk-in). A guest holds one of the activity's seats, taken by the same conditional
//! statement as members' (`db::take_seat`), so members and guests never overrun the
//! capacity together; a guest is never put in line (409 `activity_full`). Cancelling a
//! guest offers the seat to the first member in line. Guests pay nothing through Patron,
//! earn no points and are not told anything (they have no portal).

use super::manage::state_refused;
use super::seats::offer_next;
use super::{locked, Ctx};
use crate::{AppError, OnConstraint};
use patron_core::activities::GUEST_NAME_MAX;
use patron_core::members::{mask_phone, Phone};
use patron_core::Issue;
use patron_db::activities::{self as db, Guest, NewGuest};
use patron_db::{constraints, TenantTx};
use serde_json::json;
use uuid::Uuid;

fn not_found() -> AppError {
    AppError::not_found("guest")
}

/// An activity's guests, in the order they were added (404 when there is no activity).
pub async fn list(tx: &mut TenantTx, activity: Uuid) -> Result<Vec<Guest>, AppError> {
    db::get(tx, activity).await?.ok_or_else(super::not_found)?;
    Ok(db::guests(tx, activity).await?)
}

/// Adds a guest by name and phone (read in the business's phone region) to a free seat:
/// 422 on `name` or `phone`, 409 `activity_full` when every seat is taken, 409
/// `already_registered` (on `phone`) when that phone holds a seat already.
pub async fn add(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    name: &str,
    phone: &str,
) -> Result<Guest, AppError> {
    let mut v = patron_core::Validation::new();
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 || n > GUEST_NAME_MAX {
        v.check::<()>("name", Err(Issue::length_between(1, GUEST_NAME_MAX)));
    }
    let phone = v.check(
        "phone",
        Phone::parse(phone, &c.tenant.settings.phone_region),
    );
    v.finish().map_err(AppError::invalid)?;
    let phone = phone.ok_or_else(|| AppError::internal_msg("a checked phone is missing"))?;
    let keys = c
        .keys
        .ok_or_else(|| AppError::internal_msg("guests need the PII keys"))?;
    let a = locked(tx, activity).await?;
    if !matches!(a.status.as_str(), "draft" | "published" | "closed") {
        return Err(state_refused(&a.status));
    }
    if db::take_seat(tx, a.id).await?.is_none() {
        return Err(AppError::conflict(
            "activity_full",
            None,
            "every seat of the activity is taken",
        ));
    }
    let sealed = crate::members::input::seal_phone(keys, &phone);
    let masked = mask_phone(phone.e164());
    let g = db::insert_guest(
        tx,
        &NewGuest {
            id: Uuid::now_v7(),
            activity_id: a.id,
            name,
            phone_enc: &sealed.ciphertext,
            phone_key: sealed.key_id,
            phone_index: &sealed.index,
            phone_masked: &masked,
            created_by: c.actor,
            now: c.now,
        },
    )
    .await
    .on_constraint(constraints::ACTIVITY_GUESTS_ONE_LIVE, || {
        AppError::conflict(
            "already_registered",
            Some("phone"),
            "a guest with this phone has a seat already",
        )
    })?;
    patron_db::audit::record(
        tx,
        c.now,
        c.actor,
        "activity.guest_added",
        &a.id.to_string(),
        json!({ "title": a.title, "guest": g.id, "name": g.name }),
    )
    .await?;
    Ok(g)
}

/// Cancels a guest: their seat is offered to the first member in line. 409
/// `registration_state` when they hold no seat any more.
pub async fn cancel(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    id: Uuid,
) -> Result<Guest, AppError> {
    let a = locked(tx, activity).await?;
    let Some(g) = db::cancel_guest(tx, a.id, id, c.now).await? else {
        let g = db::guest(tx, a.id, id).await?.ok_or_else(not_found)?;
        return Err(AppError::conflict(
            "registration_state",
            Some("status"),
            format!("the guest is {}", g.status),
        )
        .with_param("status", g.status.as_str()));
    };
    db::free_seat(tx, a.id).await?;
    offer_next(tx, c, &a).await?;
    Ok(g)
}

/// Checks a guest in at the door, once: a second time is 409 `already_checked_in` with
/// when.
pub async fn check_in(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    id: Uuid,
) -> Result<Guest, AppError> {
    if let Some(g) = db::check_in_guest(tx, activity, id, c.actor, c.now).await? {
        return Ok(g);
    }
    let g = db::guest(tx, activity, id).await?.ok_or_else(not_found)?;
    match g.checked_in_at {
        Some(at) => Err(AppError::conflict(
            "already_checked_in",
            None,
            format!("checked in already at {at}"),
        )
        .with_param("at", at.to_rfc3339())
        .with_param("by", "")),
        None => Err(AppError::conflict(
            "registration_state",
            Some("status"),
            format!("the guest is {}", g.status),
        )
        .with_param("status", g.status.as_str())),
    }
}
