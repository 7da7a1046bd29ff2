//! Uploaded files and the storage they use. The bytes live in the object store; these rows
//! say which objects the tenant has, for what, and whether they are counted yet. Storage in
//! use is one counter (`upload_usage.bytes`), added to by one conditional statement
//! ([`count_in`]) so parallel completes never pass the plan's cap.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upload {
    pub id: Uuid,
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
    pub object_key: String,
    pub state: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub stored_at: Option<DateTime<Utc>>,
}

const UPLOAD: &str = "id, purpose, content_type, size, file_name, object_key, state, created_by, \
    created_at, expires_at, stored_at";

pub async fn insert(tx: &mut TenantTx, u: &Upload) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO uploads ({UPLOAD}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(u.id)
    .bind(&u.purpose)
    .bind(&u.content_type)
    .bind(u.size)
    .bind(&u.file_name)
    .bind(&u.object_key)
    .bind(&u.state)
    .bind(&u.created_by)
    .bind(u.created_at)
    .bind(u.expires_at)
    .bind(u.stored_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn find(tx: &mut TenantTx, id: Uuid) -> Result<Option<Upload>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {UPLOAD} FROM uploads WHERE id = $1"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// The upload, locked for the rest of the transaction.
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<Option<Upload>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {UPLOAD} FROM uploads WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Adds `bytes` to the storage in use unless that would pass `cap` (bytes; `None`: no
/// cap), in one conditional statement. `false` when it would.
pub async fn count_in(tx: &mut TenantTx, bytes: i64, cap: Option<i64>) -> Result<bool, DbError> {
    let row: Option<i64> = sqlx::query_scalar(
        "UPDATE upload_usage SET bytes = bytes + $1 \
         WHERE $2::bigint IS NULL OR bytes + $1 <= $2 RETURNING bytes",
    )
    .bind(bytes)
    .bind(cap)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.is_some())
}

/// Gives `bytes` of storage back.
pub async fn count_out(tx: &mut TenantTx, bytes: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE upload_usage SET bytes = greatest(bytes - $1, 0)")
        .bind(bytes)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The storage in use, in bytes.
pub async fn used_bytes(tx: &mut TenantTx) -> Result<i64, DbError> {
    let n: Option<i64> = sqlx::query_scalar("SELECT bytes FROM upload_usage")
        .fetch_optional(tx.conn())
        .await?;
    Ok(n.unwrap_or(0))
}

pub async fn mark_stored(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("UPDATE uploads SET state = 'stored', stored_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<(), DbError> {
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A photo on an activity's wall.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Photo {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub upload_id: Uuid,
    pub member_id: Option<Uuid>,
    pub added_by: String,
    pub created_at: DateTime<Utc>,
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
}

const PHOTO: &str = "p.id, p.activity_id, p.upload_id, p.member_id, p.added_by, p.created_at, \
    u.purpose, u.content_type, u.size, u.file_name";

pub async fn insert_photo(
    tx: &mut TenantTx,
    id: Uuid,
    activity_id: Uuid,
    upload_id: Uuid,
    member_id: Option<Uuid>,
    added_by: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO activity_photos (id, activity_id, upload_id, member_id, added_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(activity_id)
    .bind(upload_id)
    .bind(member_id)
    .bind(added_by)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn photos(tx: &mut TenantTx, activity_id: Uuid) -> Result<Vec<Photo>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PHOTO} FROM activity_photos p JOIN uploads u ON u.id = p.upload_id \
         WHERE p.activity_id = $1 ORDER BY p.created_at, p.id"
    ))
    .bind(activity_id)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn photo(
    tx: &mut TenantTx,
    activity_id: Uuid,
    id: Uuid,
) -> Result<Option<Photo>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PHOTO} FROM activity_photos p JOIN uploads u ON u.id = p.upload_id \
         WHERE p.activity_id = $1 AND p.id = $2"
    ))
    .bind(activity_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// The uploads behind an activity: its cover and its photos (to delete with it).
pub async fn of_activity(tx: &mut TenantTx, activity_id: Uuid) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT upload_id FROM activity_photos WHERE activity_id = $1 \
         UNION SELECT cover_upload_id FROM activities WHERE id = $1 AND cover_upload_id IS NOT NULL",
    )
    .bind(activity_id)
    .fetch_all(tx.conn())
    .await?)
}
