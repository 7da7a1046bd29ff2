//! The tenant's member field schema, one row per published version.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FieldVersion {
    pub version: i32,
    pub definition: Value,
    pub json_schema: Value,
    pub ui_schema: Value,
    pub mode: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
}

/// The latest published version, if any.
pub async fn current(tx: &mut TenantTx) -> Result<Option<FieldVersion>, DbError> {
    Ok(sqlx::query_as(
        "SELECT version, definition, json_schema, ui_schema, mode, published_by, published_at
         FROM field_schemas ORDER BY version DESC LIMIT 1",
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// Takes the lock that serialises publishing (and writes that must see one version).
pub async fn lock(tx: &mut TenantTx) -> Result<(), DbError> {
    sqlx::query("LOCK TABLE field_schemas IN SHARE ROW EXCLUSIVE MODE")
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn insert(tx: &mut TenantTx, v: &FieldVersion) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO field_schemas (version, definition, json_schema, ui_schema, mode, published_by, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(v.version)
    .bind(&v.definition)
    .bind(&v.json_schema)
    .bind(&v.ui_schema)
    .bind(&v.mode)
    .bind(&v.published_by)
    .bind(v.published_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Calls `f` with the custom values of every member not erased, streaming (bounded memory).
pub async fn scan_custom(
    tx: &mut TenantTx,
    mut f: impl FnMut(Uuid, &Map<String, Value>) + Send,
) -> Result<(), DbError> {
    let mut rows = sqlx::query_as::<_, (Uuid, Value)>(
        "SELECT id, custom FROM members WHERE status = 'active' ORDER BY id",
    )
    .fetch(tx.conn());
    let empty = Map::new();
    while let Some((id, custom)) = rows.try_next().await? {
        f(id, custom.as_object().unwrap_or(&empty));
    }
    Ok(())
}

/// Gives every member without a value for `key` the value `default`, audits each change,
/// and returns how many members were filled.
pub async fn backfill(
    tx: &mut TenantTx,
    key: &str,
    default: &Value,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<u64, DbError> {
    let n: i64 = sqlx::query_scalar(
        "WITH filled AS (
            UPDATE members SET custom = custom || jsonb_build_object($1::text, $2::jsonb), updated_at = $4
            WHERE status = 'active' AND (NOT custom ? $1 OR custom -> $1 = 'null'::jsonb)
            RETURNING id
         ), audited AS (
            INSERT INTO member_audit (member_id, at, actor, channel, action, field, before, after)
            SELECT id, $4, $3, 'schema', 'field.backfilled', 'custom.' || $1, NULL, $2::jsonb FROM filled
            RETURNING 1
         )
         SELECT count(*) FROM audited",
    )
    .bind(key)
    .bind(default)
    .bind(actor)
    .bind(at)
    .fetch_one(tx.conn())
    .await?;
    Ok(n as u64)
}
