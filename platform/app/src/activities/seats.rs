//! Seats and the line: a member signs up (or staff add someone), staff approve, reject and
//! move people, anyone cancels; a freed seat is offered to the first in line, who accepts
//! it or lets it pass on. Each path takes the activity's row first, then a seat by the one
//! conditional statement `db::take_seat`.

use super::manage::{offer_end, open_for_sign_up, state_refused};
use super::{locked, pay, refund, registration_not_found, tell, Ctx};
use crate::engine::MemberTier;
use crate::members::search::in_segment;
use crate::members::SearchRequest;
use crate::points::member_of;
use crate::{AppError, OnConstraint};
use patron_core::activities::{holds_seat, is_live, REASON_MAX};
use patron_core::messages::Event;
use patron_core::Issue;
use patron_db::activities::{self as db, Activity, Move, NewRegistration, Registration};
use patron_db::{constraints, TenantTx};
use serde_json::json;
use uuid::Uuid;

fn already_registered() -> AppError {
    AppError::conflict(
        "already_registered",
        Some("member_id"),
        "the member has signed up for this activity already",
    )
}

fn full() -> AppError {
    AppError::conflict("activity_full", None, "every seat of the activity is taken")
}

fn wrong_state(r: &Registration) -> AppError {
    AppError::conflict(
        "registration_state",
        Some("status"),
        format!("the registration is {}", r.status),
    )
    .with_param("status", r.status.as_str())
}

/// Whether the member may join `a`: their tier is one it names (every tier when it names
/// none), and they are in its segment when it has one (the member search's conditions).
async fn eligible(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &Activity,
    member: Uuid,
) -> Result<bool, AppError> {
    if !a.tiers.is_empty() {
        let rules = c.engine.tenant(tx).await?;
        let tier = MemberTier::of(tx, &rules, member).await?;
        if !a.tiers.contains(&tier.code) {
            return Ok(false);
        }
    }
    let Some(raw) = &a.segment else {
        return Ok(true);
    };
    let (Some(keys), Ok(segment)) = (c.keys, serde_json::from_value::<SearchRequest>(raw.clone()))
    else {
        return Ok(false);
    };
    let (_, set) = crate::fields::current_fields(tx).await?;
    in_segment(
        tx,
        c.engine,
        &set,
        keys,
        &c.tenant.settings.phone_region,
        &segment,
        member,
    )
    .await
}

/// The activities a member may see in the portal: published and not over, open to their
/// tier.
pub async fn open_to(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    member: Uuid,
) -> Result<Vec<Activity>, AppError> {
    let shown = ["published".to_owned(), "closed".to_owned()];
    let rows = db::list(tx, Some(&shown[..]), Some(c.now)).await?;
    let mut out = Vec::new();
    for a in rows {
        if eligible(tx, c, &a, member).await? {
            out.push(a);
        }
    }
    Ok(out)
}

/// Signs a member up: `staff` adds them by hand (no sign-up window, no tier, no approval
/// needed), else the member signs up themselves. A seat when one is free (or `pending`
/// when staff approve sign-ups), else the end of the line. The price is taken now and
/// given back on a cancel, a rejection or a lapsed offer.
pub async fn sign_up(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    member_id: Uuid,
    staff: bool,
) -> Result<Registration, AppError> {
    let a = locked(tx, activity).await?;
    if staff {
        if !matches!(a.status.as_str(), "draft" | "published" | "closed") {
            return Err(state_refused(&a.status));
        }
    } else {
        if !open_for_sign_up(&a, c.now) {
            return Err(AppError::conflict(
                "sign_up_closed",
                None,
                "this activity does not take sign-ups now",
            ));
        }
        if !eligible(tx, c, &a, member_id).await? {
            return Err(AppError::forbidden(
                "activity_not_for_tier",
                "this activity is for other members (another tier or segment)",
            ));
        }
    }
    let member = member_of(tx, member_id).await?;
    let status = if !staff && a.approval == "staff" {
        "pending"
    } else if db::take_seat(tx, a.id).await?.is_some() {
        "confirmed"
    } else {
        "waitlisted"
    };
    let id = Uuid::now_v7();
    db::insert_registration(
        tx,
        &NewRegistration {
            id,
            activity_id: a.id,
            member_id: member.id,
            status,
            created_by: c.actor,
            now: c.now,
        },
    )
    .await
    .on_constraint(
        constraints::ACTIVITY_REGISTRATIONS_ONE_LIVE,
        already_registered,
    )?;
    pay(tx, c, &a, member.id, id).await?;
    patron_db::audit::record_member(
        tx,
        c.now,
        c.actor,
        "activity.signed_up",
        member.id,
        json!({ "activity": a.id, "title": a.title, "status": status }),
    )
    .await?;
    db::registration(tx, id)
        .await?
        .ok_or_else(registration_not_found)
}

/// Offers the freed seat to the first in line (who holds it until the offer runs out),
/// while the activity still seats people. The seat was given back by the caller.
pub(crate) async fn offer_next(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &Activity,
) -> Result<Option<Uuid>, AppError> {
    if !matches!(a.status.as_str(), "published" | "closed") || c.now >= a.starts_at {
        return Ok(None);
    }
    let Some(next) = db::first_in_line(tx, a.id).await? else {
        return Ok(None);
    };
    if db::take_seat(tx, a.id).await?.is_none() {
        return Ok(None);
    }
    let until = offer_end(a, c.now);
    db::set_registration(
        tx,
        next,
        &Move {
            status: "offered",
            to_line: false,
            offer_expires_at: Some(until),
            reason: None,
        },
        c.now,
    )
    .await?;
    let r = reread(tx, next).await?;
    let zone = c.tenant.settings.zone();
    // A registration may be offered a seat again after a move to the line: each offer is
    // its own occasion.
    tell(
        tx,
        c,
        Event::ActivityOffered,
        a,
        &r,
        &format!("{next}:{}", c.now.timestamp_millis()),
        json!({
            "until": zone.local(until).format("%Y-%m-%d %H:%M").to_string(),
            "offer_expires_at": until,
        }),
    )
    .await?;
    Ok(Some(next))
}

/// The registration of `activity`, locked, after the activity.
async fn registration_of(
    tx: &mut TenantTx,
    activity: Uuid,
    id: Uuid,
) -> Result<(Activity, Registration), AppError> {
    let a = locked(tx, activity).await?;
    let r = db::lock_registration(tx, activity, id)
        .await?
        .ok_or_else(registration_not_found)?;
    Ok((a, r))
}

async fn reread(tx: &mut TenantTx, id: Uuid) -> Result<Registration, AppError> {
    db::registration(tx, id)
        .await?
        .ok_or_else(registration_not_found)
}

/// Ends a live registration as `status` (`cancelled`, `rejected`, `lapsed`): its points
/// back, its seat (if it held one) offered to the next in line.
pub(crate) async fn end(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &Activity,
    r: &Registration,
    status: &str,
    reason: Option<&str>,
) -> Result<(), AppError> {
    db::set_registration(
        tx,
        r.id,
        &Move {
            status,
            to_line: false,
            offer_expires_at: None,
            reason,
        },
        c.now,
    )
    .await?;
    refund(tx, c, a, r).await?;
    if holds_seat(&r.status) {
        db::free_seat(tx, a.id).await?;
        offer_next(tx, c, a).await?;
    }
    Ok(())
}

/// Cancels a registration. A member (`by_member` names them) only their own, and only
/// until the activity's cancellation deadline (409 `cancellation_closed`); staff any time.
pub async fn cancel(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    id: Uuid,
    by_member: Option<Uuid>,
) -> Result<Registration, AppError> {
    let (a, r) = registration_of(tx, activity, id).await?;
    if let Some(m) = by_member {
        if r.member_id != m {
            return Err(registration_not_found());
        }
        if a.cancel_until.is_some_and(|u| c.now >= u) {
            return Err(AppError::conflict(
                "cancellation_closed",
                None,
                "the activity no longer takes cancellations",
            ));
        }
    }
    if !is_live(&r.status) {
        return Err(wrong_state(&r));
    }
    end(tx, c, &a, &r, "cancelled", None).await?;
    patron_db::audit::record_member(
        tx,
        c.now,
        c.actor,
        "activity.cancelled",
        r.member_id,
        json!({ "activity": a.id, "title": a.title }),
    )
    .await?;
    reread(tx, id).await
}

/// Approves a pending sign-up: a seat when one is free, else the end of the line.
pub async fn approve(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    id: Uuid,
) -> Result<Registration, AppError> {
    let (a, r) = registration_of(tx, activity, id).await?;
    if r.status != "pending" {
        return Err(wrong_state(&r));
    }
    let seated = db::take_seat(tx, a.id).await?.is_some();
    db::set_registration(
        tx,
        id,
        &Move {
            status: if seated { "confirmed" } else { "waitlisted" },
            to_line: !seated,
            offer_expires_at: None,
            reason: None,
        },
        c.now,
    )
    .await?;
    let r = reread(tx, id).await?;
    tell(
        tx,
        c,
        Event::ActivityApproved,
        &a,
        &r,
        &id.to_string(),
        json!({ "status": r.status, "position": r.position }),
    )
    .await?;
    Ok(r)
}

/// Rejects a sign-up that holds no seat (pending or in line), with a reason; its points
/// go back.
pub async fn reject(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    id: Uuid,
    reason: &str,
) -> Result<Registration, AppError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_MAX {
        return Err(AppError::field(
            "reason",
            Issue::length_between(1, REASON_MAX),
        ));
    }
    let (a, r) = registration_of(tx, activity, id).await?;
    if !matches!(r.status.as_str(), "pending" | "waitlisted") {
        return Err(wrong_state(&r));
    }
    end(tx, c, &a, &r, "rejected", Some(reason)).await?;
    tell(
        tx,
        c,
        Event::ActivityRejected,
        &a,
        &r,
        &id.to_string(),
        json!({ "reason": reason }),
    )
    .await?;
    reread(tx, id).await
}

/// Where staff move someone: into a seat out of turn, or to the end of the line.
pub const MOVES: &[&str] = &["seat", "waitlist"];

/// Moves a registration: `seat` takes a seat for it ahead of the line (409 `activity_full`
/// when none is free; an offer is simply confirmed); `waitlist` sends it to the end of the
/// line, its seat offered to the next in line.
pub async fn move_to(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    id: Uuid,
    to: &str,
) -> Result<Registration, AppError> {
    if !MOVES.contains(&to) {
        return Err(AppError::field("to", Issue::not_one_of(to, MOVES)));
    }
    let (a, r) = registration_of(tx, activity, id).await?;
    if !matches!(a.status.as_str(), "draft" | "published" | "closed") {
        return Err(state_refused(&a.status));
    }
    let confirm = Move {
        status: "confirmed",
        to_line: false,
        offer_expires_at: None,
        reason: None,
    };
    match (to, r.status.as_str()) {
        ("seat", "offered") => db::set_registration(tx, id, &confirm, c.now).await?,
        ("seat", "pending" | "waitlisted") => {
            db::take_seat(tx, a.id).await?.ok_or_else(full)?;
            db::set_registration(tx, id, &confirm, c.now).await?;
        }
        ("waitlist", "confirmed" | "offered") => {
            db::free_seat(tx, a.id).await?;
            offer_next(tx, c, &a).await?;
            db::set_registration(
                tx,
                id,
                &Move {
                    status: "waitlisted",
                    to_line: true,
                    offer_expires_at: None,
                    reason: None,
                },
                c.now,
            )
            .await?;
        }
        ("waitlist", "pending") => {
            db::set_registration(
                tx,
                id,
                &Move {
                    status: "waitlisted",
                    to_line: true,
                    offer_expires_at: None,
                    reason: None,
                },
                c.now,
            )
            .await?
        }
        _ => return Err(wrong_state(&r)),
    }
    patron_db::audit::record_member(
        tx,
        c.now,
        c.actor,
        "activity.moved",
        r.member_id,
        json!({ "activity": a.id, "title": a.title, "to": to }),
    )
    .await?;
    reread(tx, id).await
}

/// The member takes the seat they were offered, before the offer runs out (409
/// `offer_expired` after).
pub async fn accept_offer(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    id: Uuid,
    member: Uuid,
) -> Result<Registration, AppError> {
    let (_, r) = registration_of(tx, activity, id).await?;
    if r.member_id != member {
        return Err(registration_not_found());
    }
    if r.status != "offered" {
        return Err(wrong_state(&r));
    }
    if r.offer_expires_at.is_some_and(|e| e <= c.now) {
        return Err(AppError::conflict(
            "offer_expired",
            None,
            "the offer of a seat has run out",
        ));
    }
    db::set_registration(
        tx,
        id,
        &Move {
            status: "confirmed",
            to_line: false,
            offer_expires_at: None,
            reason: None,
        },
        c.now,
    )
    .await?;
    reread(tx, id).await
}

/// Lets every offer that ran out by `now` pass on: the registration lapses (its points
/// back) and the seat is offered to the next in line. Returns how many lapsed.
pub async fn lapse_offers(tx: &mut TenantTx, c: &Ctx<'_>) -> Result<usize, AppError> {
    let due = db::lapsed_offers(tx, c.now).await?;
    let mut done = 0;
    for (id, activity) in due {
        let (a, r) = registration_of(tx, activity, id).await?;
        if r.status != "offered" || r.offer_expires_at.is_none_or(|e| e > c.now) {
            continue;
        }
        end(tx, c, &a, &r, "lapsed", None).await?;
        done += 1;
    }
    Ok(done)
}

/// The registrations of an activity (404 when there is none).
pub async fn registrations(
    tx: &mut TenantTx,
    activity: Uuid,
) -> Result<Vec<Registration>, AppError> {
    db::get(tx, activity).await?.ok_or_else(super::not_found)?;
    Ok(db::registrations(tx, activity).await?)
}

/// A member's registrations with their activities, newest first.
pub async fn mine(
    tx: &mut TenantTx,
    member: Uuid,
) -> Result<Vec<(Registration, Activity)>, AppError> {
    let regs = db::member_registrations(tx, member).await?;
    let mut out = Vec::with_capacity(regs.len());
    for r in regs {
        let a = db::get(tx, r.activity_id)
            .await?
            .ok_or_else(super::not_found)?;
        out.push((r, a));
    }
    Ok(out)
}

/// The activity of the member's own registration (404 for anyone else's).
pub async fn activity_of(
    tx: &mut TenantTx,
    registration: Uuid,
    member: Uuid,
) -> Result<Uuid, AppError> {
    db::registration(tx, registration)
        .await?
        .filter(|r| r.member_id == member)
        .map(|r| r.activity_id)
        .ok_or_else(registration_not_found)
}
