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

/// Which entries a reader asks for: by whom, what, when (`from` inclusive, `to` exclusive)
/// and which member (the entry's target, or the member named in its details).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub member: Option<String>,
}

/// Newest first, `before` an id for paging, filtered.
pub async fn list(
    tx: &mut TenantTx,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, action, target, detail FROM audit_log
         WHERE ($1::bigint IS NULL OR id < $1)
           AND ($3::text IS NULL OR actor = $3)
           AND ($4::text IS NULL OR action = $4)
           AND ($5::timestamptz IS NULL OR at >= $5)
           AND ($6::timestamptz IS NULL OR at < $6)
           AND ($7::text IS NULL OR target = $7 OR detail->>'member_id' = $7)
         ORDER BY id DESC LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .bind(&filter.actor)
    .bind(&filter.action)
    .bind(filter.from)
    .bind(filter.to)
    .bind(&filter.member)
    .fetch_all(tx.conn())
    .await?)
}
