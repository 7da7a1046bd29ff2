//! After an activity: ratings (1 to 5 stars and a comment) from the people who checked in,
//! one each, editable for a week, hidden by staff when they must be; and the statistics.

use super::{not_found, registration_not_found};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::activities::{self as core, Figures};
use patron_core::Issue;
use patron_db::activities::{self as db, Counts, Rating};
use patron_db::TenantTx;
use uuid::Uuid;

/// Gives or changes the member's rating of the activity they attended (registration
/// `registration`). 409 `rating_needs_attendance` for someone who did not check in,
/// `rating_locked` a week after the rating was first given.
pub async fn rate(
    tx: &mut TenantTx,
    member: Uuid,
    registration: Uuid,
    stars: i64,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<Rating, AppError> {
    let mut v = patron_core::Validation::new();
    if !(1..=5).contains(&stars) {
        v.check::<()>("stars", Err(Issue::out_of_range(1, 5)));
    }
    if comment.trim().chars().count() > core::COMMENT_MAX {
        v.check::<()>("comment", Err(Issue::too_long(core::COMMENT_MAX)));
    }
    v.finish().map_err(AppError::invalid)?;
    let r = db::registration(tx, registration)
        .await?
        .filter(|r| r.member_id == member)
        .ok_or_else(registration_not_found)?;
    if r.checked_in_at.is_none() {
        return Err(AppError::conflict(
            "rating_needs_attendance",
            None,
            "only people who checked in may rate an activity",
        ));
    }
    if let Some(before) = db::rating(tx, r.id).await? {
        if now > before.created_at + Duration::days(core::RATING_EDIT_DAYS) {
            return Err(AppError::conflict(
                "rating_locked",
                None,
                format!(
                    "a rating can be changed for {} days",
                    core::RATING_EDIT_DAYS
                ),
            )
            .with_param("days", core::RATING_EDIT_DAYS));
        }
    }
    db::put_rating(
        tx,
        r.id,
        r.activity_id,
        member,
        stars as i16,
        comment.trim(),
        now,
    )
    .await?;
    db::rating(tx, r.id)
        .await?
        .ok_or_else(|| AppError::not_found("rating"))
}

pub async fn ratings(tx: &mut TenantTx, activity: Uuid) -> Result<Vec<Rating>, AppError> {
    db::get(tx, activity).await?.ok_or_else(not_found)?;
    Ok(db::ratings(tx, activity).await?)
}

/// Hides a rating from members (moderation) or shows it again.
pub async fn set_hidden(
    tx: &mut TenantTx,
    activity: Uuid,
    registration: Uuid,
    hidden: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Rating>, AppError> {
    if !db::set_rating_hidden(tx, activity, registration, hidden, actor, now).await? {
        return Err(AppError::not_found("rating"));
    }
    Ok(db::ratings(tx, activity).await?)
}

/// An activity's statistics.
#[derive(Debug, Clone)]
pub struct Statistics {
    pub counts: Counts,
    pub figures: Figures,
    pub budget: Option<i64>,
}

pub async fn statistics(tx: &mut TenantTx, activity: Uuid) -> Result<Statistics, AppError> {
    let a = db::get(tx, activity).await?.ok_or_else(not_found)?;
    let counts = db::counts(tx, activity).await?;
    // Everyone who held a seat when it took place, members and guests alike.
    let figures = core::figures(
        counts.confirmed + counts.guests_confirmed,
        counts.attended + counts.guests_attended,
        a.budget,
    );
    Ok(Statistics {
        counts,
        figures,
        budget: a.budget,
    })
}

/// The rating given with a registration, if any.
pub async fn rating_of(tx: &mut TenantTx, registration: Uuid) -> Result<Option<Rating>, AppError> {
    Ok(db::rating(tx, registration).await?)
}
