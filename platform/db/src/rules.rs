//! Point rules as stored: a draft per trigger, every published version, and the version in
//! force per trigger.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Other replicas hear of a publish or rollback on this channel (payload: the tenant id).
pub const RULES_CHANNEL: &str = "patron_rules";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Version {
    pub version: i32,
    pub trigger: String,
    pub script: String,
    pub template: Option<Value>,
    pub note: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Draft {
    pub trigger: String,
    pub script: String,
    pub template: Option<Value>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// The version in force for a trigger.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Active {
    pub trigger: String,
    pub version: i32,
    pub script: String,
    /// The form the script was made from, if it was.
    pub template: Option<Value>,
    pub activated_by: String,
    pub activated_at: DateTime<Utc>,
}

const VERSION: &str = "version, trigger, script, template, note, published_by, published_at";

/// Every trigger's version in force.
pub async fn active(tx: &mut TenantTx) -> Result<Vec<Active>, DbError> {
    Ok(sqlx::query_as(
        "SELECT a.trigger, a.version, v.script, v.template, a.activated_by, a.activated_at \
         FROM rule_active a JOIN rule_versions v USING (version) ORDER BY a.trigger",
    )
    .fetch_all(tx.conn())
    .await?)
}

pub async fn drafts(tx: &mut TenantTx) -> Result<Vec<Draft>, DbError> {
    Ok(sqlx::query_as(
        "SELECT trigger, script, template, updated_by, updated_at FROM rule_drafts ORDER BY trigger",
    )
    .fetch_all(tx.conn())
    .await?)
}

pub async fn save_draft(
    tx: &mut TenantTx,
    trigger: &str,
    script: &str,
    template: Option<&Value>,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Draft, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO rule_drafts (trigger, script, template, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (trigger) DO UPDATE SET script = $2, template = $3, updated_by = $4, \
         updated_at = $5 \
         RETURNING trigger, script, template, updated_by, updated_at",
    )
    .bind(trigger)
    .bind(script)
    .bind(template)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?)
}

/// Publishes a new version of `trigger`'s rule and puts it in force. Versions are numbered
/// across triggers, under a lock so two publishes never take the same number.
pub async fn publish(
    tx: &mut TenantTx,
    trigger: &str,
    script: &str,
    template: Option<&Value>,
    note: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Version, DbError> {
    sqlx::query("LOCK TABLE rule_versions IN SHARE ROW EXCLUSIVE MODE")
        .execute(tx.conn())
        .await?;
    let v: Version = sqlx::query_as(&format!(
        "INSERT INTO rule_versions ({VERSION}) \
         SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5, $6 FROM rule_versions \
         RETURNING {VERSION}"
    ))
    .bind(trigger)
    .bind(script)
    .bind(template)
    .bind(note)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?;
    activate(tx, trigger, v.version, by, at).await?;
    Ok(v)
}

/// Puts `version` in force for `trigger`, and tells the other replicas.
pub async fn activate(
    tx: &mut TenantTx,
    trigger: &str,
    version: i32,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO rule_active (trigger, version, activated_by, activated_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (trigger) DO UPDATE SET version = $2, activated_by = $3, activated_at = $4",
    )
    .bind(trigger)
    .bind(version)
    .bind(by)
    .bind(at)
    .execute(tx.conn())
    .await?;
    notify(tx).await
}

/// Tells every replica (at commit) that this tenant's rules or point settings changed.
pub async fn notify(tx: &mut TenantTx) -> Result<(), DbError> {
    let tenant = tx.tenant_id().to_string();
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(RULES_CHANNEL)
        .bind(tenant)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Takes `trigger`'s rule out of force.
pub async fn deactivate(tx: &mut TenantTx, trigger: &str) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM rule_active WHERE trigger = $1")
        .bind(trigger)
        .execute(tx.conn())
        .await?
        .rows_affected()
        > 0;
    notify(tx).await?;
    Ok(done)
}

pub async fn version(tx: &mut TenantTx, version: i32) -> Result<Version, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {VERSION} FROM rule_versions WHERE version = $1"
    ))
    .bind(version)
    .fetch_one(tx.conn())
    .await?)
}

/// A trigger's versions, newest first.
pub async fn versions(tx: &mut TenantTx, trigger: &str) -> Result<Vec<Version>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {VERSION} FROM rule_versions WHERE trigger = $1 ORDER BY version DESC LIMIT 500"
    ))
    .bind(trigger)
    .fetch_all(tx.conn())
    .await?)
}

/// How many triggers have a rule in force.
pub async fn active_count(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM rule_active")
        .fetch_one(tx.conn())
        .await?)
}
