//! Check-in at the door: the member's portal shows a signed code that changes every 30
//! seconds (`patron_core::activities`); staff scan or type it. A registration is checked
//! in once (a second scan answers 409 `already_checked_in` with when and by whom), and the
//! points for attending are credited once, through the earn pipeline (ledger entry, lot,
//! tier check).

use super::{not_found, registration_not_found, Ctx};
use crate::points::earn::{self, Credit};
use crate::points::member_of;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::activities::{self as core, CodeError};
use patron_core::pii::PiiKeys;
use patron_core::points::EntrySource;
use patron_core::reasons::Reason;
use patron_core::{MemberId, TenantId};
use patron_db::activities::{self as db, Registration};
use patron_db::points;
use patron_db::TenantTx;
use serde_json::json;
use uuid::Uuid;

/// A member's live check-in code for their registration, and when to show a fresh one.
pub async fn code(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    tenant: TenantId,
    member: Uuid,
    registration: Uuid,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), AppError> {
    let r = db::registration(tx, registration)
        .await?
        .filter(|r| r.member_id == member)
        .ok_or_else(registration_not_found)?;
    if r.status != "confirmed" {
        return Err(AppError::conflict(
            "registration_state",
            Some("status"),
            format!("the registration is {}", r.status),
        )
        .with_param("status", r.status.as_str()));
    }
    Ok(core::issue_code(keys, tenant, r.number as u32, r.id, now))
}

fn invalid() -> AppError {
    AppError::refused(
        "check_in_code_invalid",
        "code",
        "is not a check-in code of this activity",
    )
}

/// Checks in the registration whose code was scanned or typed at `activity`'s door.
pub async fn check_in(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    keys: &PiiKeys,
    activity: Uuid,
    text: &str,
) -> Result<Registration, AppError> {
    let a = db::get(tx, activity).await?.ok_or_else(not_found)?;
    let presented = core::read_code(text).ok_or_else(invalid)?;
    let number = i32::try_from(presented.number).map_err(|_| invalid())?;
    let r = db::registration_by_number(tx, activity, number)
        .await?
        .ok_or_else(invalid)?;
    match core::check_code(keys, TenantId::new(c.tenant.id), r.id, &presented, c.now) {
        Ok(()) => {}
        Err(CodeError::Expired) => {
            return Err(AppError::refused(
                "check_in_code_expired",
                "code",
                "has expired; ask the member to show the live code",
            ))
        }
        Err(CodeError::Invalid) => return Err(invalid()),
    }
    if let Some(at) = r.checked_in_at {
        return Err(already(&r, at));
    }
    if !matches!(a.status.as_str(), "published" | "closed" | "finished") {
        return Err(super::manage::state_refused(&a.status));
    }
    if r.status != "confirmed" {
        return Err(AppError::conflict(
            "registration_state",
            Some("status"),
            format!("the registration is {}", r.status),
        )
        .with_param("status", r.status.as_str()));
    }
    // The one statement that checks in: a second scan racing this one finds it done.
    if !db::check_in(tx, r.id, c.actor, c.now).await? {
        let again = db::registration(tx, r.id)
            .await?
            .ok_or_else(registration_not_found)?;
        return Err(already(&again, again.checked_in_at.unwrap_or(c.now)));
    }
    if a.attend_points > 0 {
        award(tx, c, &a, &r).await?;
    }
    patron_db::audit::record_member(
        tx,
        c.now,
        c.actor,
        "activity.checked_in",
        r.member_id,
        json!({ "activity": a.id, "title": a.title }),
    )
    .await?;
    db::registration(tx, r.id)
        .await?
        .ok_or_else(registration_not_found)
}

fn already(r: &Registration, at: DateTime<Utc>) -> AppError {
    AppError::conflict(
        "already_checked_in",
        Some("code"),
        format!(
            "checked in already at {at} by {}",
            r.checked_in_by_name.as_deref().unwrap_or("-")
        ),
    )
    .with_param("at", at.to_rfc3339())
    .with_param("by", r.checked_in_by_name.clone().unwrap_or_default())
}

/// The points for attending, through the earn pipeline: the ledger entry and its lot (by
/// the business's expiry), the account saved, the tier check.
async fn award(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    a: &db::Activity,
    r: &Registration,
) -> Result<(), AppError> {
    let member = member_of(tx, r.member_id).await?;
    let mut acct = points::lock_account(tx, member.id, c.now).await?;
    let rules = c.engine.tenant(tx).await?;
    let ctx = earn::Ctx {
        engine: c.engine,
        rules: &rules,
        tenant: c.tenant,
        now: c.now,
        actor: c.actor,
    };
    let credit = Credit {
        source: EntrySource::Event,
        source_id: format!("activity:{}", r.id),
        rule_version: None,
        reason: Reason::point("activity_attended", json!({ "title": a.title })).into(),
        detail: Some(json!({ "activity_id": a.id, "registration_id": r.id })),
    };
    let today = c.tenant.settings.zone().today(c.now);
    earn::credit(
        tx,
        &ctx,
        &mut acct,
        a.attend_points,
        &credit.source(&ctx),
        today,
    )
    .await?;
    points::save_account(tx, &acct, c.now).await?;
    earn::tier_check(tx, &ctx, MemberId::new(member.id)).await?;
    db::set_attend_points(tx, r.id, a.attend_points).await?;
    Ok(())
}
