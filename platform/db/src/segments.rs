//! Saved segments: named member searches, one name per business (`segments_name_key`, case
//! ignored), created at most once per idempotency key.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Segment {
    pub id: Uuid,
    pub name: String,
    /// The member search's request as given (`patron_app::members::SearchRequest`).
    pub filter: Value,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const COLUMNS: &str = "id, name, filter, idempotency_key, request_hash, created_at, \
     created_by, updated_at, updated_by";

/// Writes a new segment; `None` when its idempotency key or its name is taken already (also
/// by a request running at the same time: this waits for it to commit, whichever unique
/// index the two meet first).
pub async fn insert(tx: &mut TenantTx, s: &Segment) -> Result<Option<Segment>, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO segments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7) \
         ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(s.id)
    .bind(&s.name)
    .bind(&s.filter)
    .bind(&s.idempotency_key)
    .bind(&s.request_hash)
    .bind(s.created_at)
    .bind(&s.created_by)
    .fetch_optional(tx.conn())
    .await?)
}

/// The segment written under an idempotency key.
pub async fn by_key(tx: &mut TenantTx, key: &str) -> Result<Option<Segment>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM segments WHERE idempotency_key = $1"
    ))
    .bind(key)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<Segment>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM segments WHERE id = $1"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// The segments by name.
pub async fn list(tx: &mut TenantTx, limit: i64) -> Result<Vec<Segment>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM segments ORDER BY lower(name), id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Renames a segment and replaces its filter; `None` when there is no such segment.
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    name: &str,
    filter: &Value,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<Segment>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE segments SET name = $2, filter = $3, updated_at = $4, updated_by = $5 \
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(filter)
    .bind(now)
    .bind(by)
    .fetch_optional(tx.conn())
    .await?)
}

/// Deletes a segment; `false` when there was none. Campaigns sent to it keep their filter.
pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<bool, DbError> {
    Ok(sqlx::query("DELETE FROM segments WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected()
        > 0)
}
