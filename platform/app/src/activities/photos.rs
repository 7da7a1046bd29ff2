//! The photo wall: staff add photos of an activity, and so do members who checked in
//! (their own uploads); members delete their own, staff any. Deleting a photo deletes its
//! file and gives the storage back (`uploads::discard`).

use super::{not_found, Ctx};
use crate::{uploads, AppError};
use patron_core::ports::ObjectStore;
use patron_core::uploads::Purpose;
use patron_db::activities as db_activities;
use patron_db::uploads::{self as db, Photo};
use patron_db::TenantTx;
use uuid::Uuid;

/// The activity's photos, oldest first.
pub async fn list(tx: &mut TenantTx, activity: Uuid) -> Result<Vec<Photo>, AppError> {
    db_activities::get(tx, activity)
        .await?
        .ok_or_else(not_found)?;
    Ok(db::photos(tx, activity).await?)
}

/// Adds a stored `activity_photo` upload to the wall; `member`, when a member adds it, must
/// have checked in (409 `photo_needs_attendance`) and have uploaded it.
pub async fn add(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    activity: Uuid,
    upload: Uuid,
    member: Option<Uuid>,
) -> Result<Photo, AppError> {
    db_activities::get(tx, activity)
        .await?
        .ok_or_else(not_found)?;
    if let Some(m) = member {
        let attended = db_activities::member_registrations(tx, m)
            .await?
            .iter()
            .any(|r| r.activity_id == activity && r.checked_in_at.is_some());
        if !attended {
            return Err(AppError::conflict(
                "photo_needs_attendance",
                None,
                "only people who checked in add photos",
            ));
        }
    }
    let by = member.map(|_| c.actor);
    uploads::take(tx, upload, Purpose::ActivityPhoto, "upload_id", by).await?;
    if db::photos(tx, activity)
        .await?
        .iter()
        .any(|p| p.upload_id == upload)
    {
        return Err(AppError::conflict(
            "photo_already_added",
            Some("upload_id"),
            "this picture is on the wall already",
        ));
    }
    let id = Uuid::now_v7();
    db::insert_photo(tx, id, activity, upload, member, c.actor, c.now)
        .await
        .map_err(|e| match e {
            patron_db::DbError::Conflict(_) => AppError::conflict(
                "photo_already_added",
                Some("upload_id"),
                "this picture is on another wall already",
            ),
            e => e.into(),
        })?;
    db::photo(tx, activity, id)
        .await?
        .ok_or_else(|| AppError::not_found("photo"))
}

/// Deletes a photo and its file. A member (`member`) deletes only their own (403
/// `photo_not_yours`).
pub async fn delete(
    tx: &mut TenantTx,
    store: &dyn ObjectStore,
    activity: Uuid,
    photo: Uuid,
    member: Option<Uuid>,
) -> Result<(), AppError> {
    let p = db::photo(tx, activity, photo)
        .await?
        .ok_or_else(|| AppError::not_found("photo"))?;
    if member.is_some() && p.member_id != member {
        return Err(AppError::forbidden(
            "photo_not_yours",
            "members delete only their own photos",
        ));
    }
    let u = db::lock(tx, p.upload_id)
        .await?
        .ok_or_else(|| AppError::not_found("photo"))?;
    uploads::discard(tx, store, &u).await
}
