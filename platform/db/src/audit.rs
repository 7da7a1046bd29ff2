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
    /// The member the entry concerns (its target, or the member named in its details),
    /// with their name as it is now (empty once erased).
    pub member_id: Option<uuid::Uuid>,
    pub member_name: Option<String>,
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

/// Records an action done to one member: the member's id is the target, so the log's
/// member filter finds it.
pub async fn record_member(
    tx: &mut TenantTx,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    member_id: uuid::Uuid,
    detail: serde_json::Value,
) -> Result<(), DbError> {
    record(tx, at, actor, action, &member_id.to_string(), detail).await
}

/// Records one action done to each of many members (an import), in one statement.
pub async fn record_members(
    tx: &mut TenantTx,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    member_ids: &[uuid::Uuid],
    detail: serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail)
         SELECT $1, $2, $3, id::text, $5 FROM UNNEST($4::uuid[]) AS u(id)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(member_ids)
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
        "SELECT a.id, a.at, a.actor, a.action, a.target, a.detail,
                m.id AS member_id, m.name AS member_name
         FROM audit_log a
         LEFT JOIN LATERAL (SELECT COALESCE(a.detail->>'member_id', a.target) AS ref) r ON true
         LEFT JOIN members m ON m.id = CASE
             WHEN r.ref ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
             THEN r.ref::uuid END
         WHERE ($1::bigint IS NULL OR a.id < $1)
           AND ($3::text IS NULL OR a.actor = $3)
           AND ($4::text IS NULL OR a.action = $4)
           AND ($5::timestamptz IS NULL OR a.at >= $5)
           AND ($6::timestamptz IS NULL OR a.at < $6)
           AND ($7::text IS NULL OR a.target = $7 OR a.detail->>'member_id' = $7)
         ORDER BY a.id DESC LIMIT $2",
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
