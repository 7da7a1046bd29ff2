//! Integration API keys: each carries a role, is shown once, and is stored as a hash.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    pub preview: String,
    pub role: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str =
    "id, name, preview, role, created_by, created_at, expires_at, last_used_at, revoked_at";

#[allow(clippy::too_many_arguments)]
pub async fn create(
    tx: &mut TenantTx,
    name: &str,
    preview: &str,
    key_hash: &[u8],
    role: &str,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<ApiKey, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO api_keys (id, name, preview, key_hash, role, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(preview)
    .bind(key_hash)
    .bind(role)
    .bind(created_by)
    .bind(now)
    .bind(expires_at)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<ApiKey>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, id"
    ))
    .fetch_all(tx.conn())
    .await?)
}

/// Revokes a key; `NotFound` when this tenant has no such key.
pub async fn revoke(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<ApiKey, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// The key behind a presented secret, if live (not revoked, not expired).
pub async fn find_live(
    tx: &mut TenantTx,
    key_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<ApiKey>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys
         WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
    ))
    .bind(key_hash)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?)
}

/// Whether the key's last use is worth noting again (at most once a minute).
pub fn use_due(key: &ApiKey, now: DateTime<Utc>) -> bool {
    key.last_used_at
        .is_none_or(|t| now - t > Duration::minutes(1))
}

/// Notes the key's use. Concurrent requests with the same key skip the note rather than
/// queue behind the transaction that is making it (it holds the row until it commits).
pub async fn note_use(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = ( \
           SELECT id FROM api_keys WHERE id = $1 \
           AND (last_used_at IS NULL OR last_used_at < $2 - interval '1 minute') \
           FOR UPDATE SKIP LOCKED)",
    )
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Asks every replica (this one included, through its listener) to drop cached keys of the
/// tenant when `tx` commits.
pub async fn notify_changed(tx: &mut TenantTx, tenant_id: i64) -> Result<(), DbError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(crate::plans::TENANT_CHANNEL)
        .bind(format!("keys:{tenant_id}"))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Whether any live key uses this role (a role in use cannot be deleted).
pub async fn role_in_use(tx: &mut TenantTx, role: &str) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = $1 AND revoked_at IS NULL)",
    )
    .bind(role)
    .fetch_one(tx.conn())
    .await?)
}
