//! The tenant's append-only audit log of access changes.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};

/// One audited action.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
}

pub async fn record(
    tx: &mut TenantTx,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Newest first, `before` an id for paging.
pub async fn list(
    tx: &mut TenantTx,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, action, target, detail FROM audit_log
         WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
