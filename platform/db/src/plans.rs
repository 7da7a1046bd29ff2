//! Plans, metered usage and the account lifecycle, in the `platform` schema.

use crate::tenancy::{TenantRow, TENANT_COLUMNS};
use crate::{Db, DbError, OnPlatform, Tenant, TenantTx};
use chrono::{DateTime, Utc};
use patron_core::plans::{month_bounds, Feature, Limit, Plan, SuspendReason};
use patron_core::tenants::TenantStatus;
use sqlx::types::Json;
use std::collections::{BTreeMap, BTreeSet};

#[derive(sqlx::FromRow)]
struct PlanRow {
    code: String,
    name: String,
    monthly_price_minor: i64,
    currency: String,
    features: Json<BTreeSet<Feature>>,
    limits: Json<BTreeMap<Limit, i64>>,
    overage: Json<BTreeMap<Limit, i64>>,
    trial_days: i32,
    archived: bool,
}

impl From<PlanRow> for Plan {
    fn from(r: PlanRow) -> Self {
        Plan {
            code: r.code,
            name: r.name,
            monthly_price_minor: r.monthly_price_minor,
            currency: r.currency,
            features: r.features.0,
            limits: r.limits.0,
            overage_minor: r.overage.0,
            trial_days: r.trial_days,
            archived: r.archived,
        }
    }
}

const PLAN_COLUMNS: &str =
    "code, name, monthly_price_minor, currency, features, limits, overage, trial_days, archived";

/// Every plan, cheapest first.
pub async fn list(db: &Db) -> Result<Vec<Plan>, DbError> {
    let rows: Vec<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM platform.plans ORDER BY monthly_price_minor, code"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(Plan::from).collect())
}

pub async fn find(db: &Db, code: &str) -> Result<Plan, DbError> {
    let row: Option<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM platform.plans WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(db.pool())
    .await?;
    row.map(Plan::from).ok_or(DbError::NotFound)
}

/// Creates a plan; a taken code is `Conflict("plans_pkey")`.
pub async fn create(db: &Db, plan: &Plan) -> Result<Plan, DbError> {
    let row: PlanRow = sqlx::query_as(&format!(
        "INSERT INTO platform.plans (code, name, monthly_price_minor, currency, features, limits,
             overage, trial_days, archived)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {PLAN_COLUMNS}"
    ))
    .bind(&plan.code)
    .bind(&plan.name)
    .bind(plan.monthly_price_minor)
    .bind(&plan.currency)
    .bind(Json(&plan.features))
    .bind(Json(&plan.limits))
    .bind(Json(&plan.overage_minor))
    .bind(plan.trial_days)
    .bind(plan.archived)
    .fetch_one(db.pool())
    .await?;
    Ok(row.into())
}

/// Replaces a plan's definition (its code stays).
pub async fn update(db: &Db, plan: &Plan) -> Result<Plan, DbError> {
    let row: Option<PlanRow> = sqlx::query_as(&format!(
        "UPDATE platform.plans SET name = $2, monthly_price_minor = $3, currency = $4,
             features = $5, limits = $6, overage = $7, trial_days = $8, archived = $9,
             updated_at = now()
         WHERE code = $1 RETURNING {PLAN_COLUMNS}"
    ))
    .bind(&plan.code)
    .bind(&plan.name)
    .bind(plan.monthly_price_minor)
    .bind(&plan.currency)
    .bind(Json(&plan.features))
    .bind(Json(&plan.limits))
    .bind(Json(&plan.overage_minor))
    .bind(plan.trial_days)
    .bind(plan.archived)
    .fetch_optional(db.pool())
    .await?;
    row.map(Plan::from).ok_or(DbError::NotFound)
}

/// The standing counts a plan limits, read inside the tenant's transaction. Takes the
/// tenant's limit lock first, so two requests creating the last allowed item cannot both
/// see room for it.
pub async fn lock_and_count(
    tx: &mut TenantTx,
    limit: Limit,
    at: DateTime<Utc>,
) -> Result<i64, DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('patron.limit.' || $1, $2))")
        .bind(limit.as_str())
        .bind(tx.tenant_id())
        .execute(tx.conn())
        .await?;
    if limit.is_monthly() {
        let month = month_of(at);
        let used: Option<i64> = sqlx::query_scalar(
            "SELECT value FROM platform.usage WHERE tenant_id = $1 AND month = $2 AND metric = $3",
        )
        .bind(tx.tenant_id())
        .bind(month)
        .bind(limit.as_str())
        .fetch_optional(tx.conn())
        .await?;
        return Ok(used.unwrap_or(0));
    }
    standing_count(tx, limit).await
}

/// Adds `by` to a monthly counter inside the transaction that used it, so a rolled-back
/// send is not counted.
pub async fn meter_in(
    tx: &mut TenantTx,
    metric: &str,
    at: DateTime<Utc>,
    by: i64,
) -> Result<(), DbError> {
    let month = month_of(at);
    sqlx::query(METER)
        .bind(tx.tenant_id())
        .bind(month)
        .bind(metric)
        .bind(by)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// What taking from a monthly limit found: the plan's cap (`None`: unlimited, or billed
/// past it) and, when refused, the usage that had no room left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthlyTake {
    pub cap: Option<i64>,
    /// The month's count after taking; `None` when it would have passed the cap (nothing
    /// was taken).
    pub taken: Option<i64>,
}

/// Takes `n` from a monthly limit of the tenant's plan in one conditional statement: the
/// month's counter goes up by `n` only while it stays within the cap (a plan with an
/// overage price for the limit has no cap: the excess is billed). The counter's row stays
/// locked until the transaction ends, so parallel takers queue on it and never pass the
/// cap together; a rolled-back transaction takes nothing.
pub async fn take_monthly(
    tx: &mut TenantTx,
    limit: Limit,
    at: DateTime<Utc>,
    n: i64,
) -> Result<MonthlyTake, DbError> {
    let (cap, taken): (Option<i64>, Option<i64>) = sqlx::query_as(
        "WITH plan AS (
             SELECT CASE WHEN p.overage ? $3 THEN NULL ELSE (p.limits ->> $3)::bigint END AS cap
             FROM platform.tenants t JOIN platform.plans p ON p.code = t.plan_code
             WHERE t.id = $1),
         taken AS (
             INSERT INTO platform.usage AS u (tenant_id, month, metric, value)
             SELECT $1, $2, $3, $4 FROM plan WHERE plan.cap IS NULL OR $4 <= plan.cap
             ON CONFLICT (tenant_id, month, metric) DO UPDATE SET value = u.value + excluded.value
             WHERE u.value + excluded.value <= coalesce((SELECT cap FROM plan), 9223372036854775807)
             RETURNING value)
         SELECT (SELECT cap FROM plan), (SELECT value FROM taken)",
    )
    .bind(tx.tenant_id())
    .bind(month_of(at))
    .bind(limit.as_str())
    .bind(n)
    .fetch_one(tx.conn())
    .await?;
    Ok(MonthlyTake { cap, taken })
}

/// A monthly counter read inside a tenant's transaction (0 when nothing was counted yet).
pub async fn monthly_in(
    tx: &mut TenantTx,
    limit: Limit,
    at: DateTime<Utc>,
) -> Result<i64, DbError> {
    let used: Option<i64> = sqlx::query_scalar(
        "SELECT value FROM platform.usage WHERE tenant_id = $1 AND month = $2 AND metric = $3",
    )
    .bind(tx.tenant_id())
    .bind(month_of(at))
    .bind(limit.as_str())
    .fetch_optional(tx.conn())
    .await?;
    Ok(used.unwrap_or(0))
}

/// The tenant's plan code and every plan, read inside a tenant's transaction (to word a
/// refusal where no plan catalogue is at hand).
pub async fn plans_in(tx: &mut TenantTx) -> Result<(String, Vec<Plan>), DbError> {
    let code: String = sqlx::query_scalar("SELECT plan_code FROM platform.tenants WHERE id = $1")
        .bind(tx.tenant_id())
        .fetch_one(tx.conn())
        .await?;
    let rows: Vec<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM platform.plans ORDER BY monthly_price_minor, code"
    ))
    .fetch_all(tx.conn())
    .await?;
    Ok((code, rows.into_iter().map(Plan::from).collect()))
}

/// How many of `limit`'s things the tenant has now (0 for things that do not exist yet in
/// this version of the product, and for monthly limits, which are metered instead).
pub async fn standing_count(tx: &mut TenantTx, limit: Limit) -> Result<i64, DbError> {
    let sql = match limit {
        Limit::Staff => "SELECT count(*) FROM staff WHERE status = 'active'",
        Limit::Members => {
            // The member register arrives with its own migration.
            let exists: bool = sqlx::query_scalar("SELECT to_regclass('members') IS NOT NULL")
                .fetch_one(tx.conn())
                .await?;
            if !exists {
                return Ok(0);
            }
            "SELECT count(*) FROM members WHERE erased_at IS NULL"
        }
        Limit::ActiveRules => "SELECT count(*) FROM rule_active",
        Limit::CouponTemplates => "SELECT count(*) FROM coupon_templates WHERE NOT archived",
        // Megabytes, rounded up.
        Limit::StorageMb => {
            "SELECT coalesce(max((bytes + 1048575) / 1048576), 0)::bigint FROM upload_usage"
        }
        _ => return Ok(0),
    };
    let n: i64 = sqlx::query_scalar(sql).fetch_one(tx.conn()).await?;
    Ok(n)
}

/// The key of the month holding `at` in `platform.usage`: its first day (UTC).
fn month_of(at: DateTime<Utc>) -> chrono::NaiveDate {
    month_bounds(at).0.date_naive()
}

/// Adds to a monthly counter: tenant, month (its first day), metric, amount.
const METER: &str = "INSERT INTO platform.usage (tenant_id, month, metric, value) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, month, metric) DO UPDATE SET value = platform.usage.value + excluded.value";

/// Adds `by` to a monthly counter (the month holding `at`, UTC).
pub async fn meter(
    db: &Db,
    tenant_id: i64,
    metric: &str,
    at: DateTime<Utc>,
    by: i64,
) -> Result<(), DbError> {
    let month = month_of(at);
    sqlx::query(METER)
        .bind(tenant_id)
        .bind(month)
        .bind(metric)
        .bind(by)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A tenant's monthly counters for the month holding `at`.
pub async fn monthly_usage(
    db: &Db,
    tenant_id: i64,
    at: DateTime<Utc>,
) -> Result<BTreeMap<String, i64>, DbError> {
    let month = month_of(at);
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT metric, value FROM platform.usage WHERE tenant_id = $1 AND month = $2",
    )
    .bind(tenant_id)
    .bind(month)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().collect())
}

/// The standing counts every count limit is measured against (monthly limits are metered:
/// see [`monthly_usage`]; the per-minute request limit is counted in memory).
pub async fn standing_usage(tx: &mut TenantTx) -> Result<BTreeMap<Limit, i64>, DbError> {
    let mut out = BTreeMap::new();
    for limit in Limit::ALL
        .iter()
        .filter(|l| !l.is_monthly() && **l != Limit::ApiRequestsPerMinute)
    {
        out.insert(*limit, standing_count(tx, *limit).await?);
    }
    Ok(out)
}

/// A change of an account's status or plan, as the lifecycle moves it.
#[derive(Debug, Clone, Default)]
pub struct StatusChange {
    pub status: Option<TenantStatus>,
    pub plan_code: Option<String>,
    /// For a move to `suspended`.
    pub suspended_reason: Option<SuspendReason>,
    pub note: Option<String>,
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// Starts a billing period `[start, end)`.
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub purge_after: Option<DateTime<Utc>>,
}

/// Locks and reads a tenant row inside a platform transaction.
pub async fn lock_tenant(tx: &mut impl OnPlatform, id: i64) -> Result<Tenant, DbError> {
    let row: Option<TenantRow> = sqlx::query_as(&format!(
        "SELECT {TENANT_COLUMNS} FROM platform.tenants WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(tx.platform_conn())
    .await?;
    row.map(Tenant::from).ok_or(DbError::NotFound)
}

/// Applies a lifecycle change to a tenant row and records it in the platform audit log, in
/// the caller's transaction.
pub async fn apply_change(
    tx: &mut impl OnPlatform,
    tenant_id: i64,
    change: &StatusChange,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<Tenant, DbError> {
    let status = change.status.map(|s| s.as_str());
    let row: TenantRow = sqlx::query_as(&format!(
        "UPDATE platform.tenants SET
             status = COALESCE($2, status),
             plan_code = COALESCE($3, plan_code),
             suspended_reason = CASE WHEN COALESCE($2, status) = 'suspended'
                                     THEN COALESCE($4, suspended_reason) END,
             status_note = CASE WHEN $2 IS NOT NULL THEN $5 ELSE status_note END,
             status_changed_at = CASE WHEN $2 IS NOT NULL THEN $6 ELSE status_changed_at END,
             trial_ends_at = CASE WHEN COALESCE($2, status) = 'trial'
                                  THEN COALESCE($7, trial_ends_at) END,
             period_start = COALESCE($8, period_start),
             period_end = COALESCE($9, period_end),
             past_due_since = CASE WHEN COALESCE($2, status) = 'past_due'
                                   THEN COALESCE(past_due_since, $6) END,
             closed_at = CASE WHEN COALESCE($2, status) = 'closed' THEN COALESCE(closed_at, $6) END,
             purge_after = CASE WHEN COALESCE($2, status) = 'closed'
                                THEN COALESCE($10, purge_after) END,
             updated_at = $6
         WHERE id = $1 RETURNING {TENANT_COLUMNS}"
    ))
    .bind(tenant_id)
    .bind(status)
    .bind(change.plan_code.as_deref())
    .bind(change.suspended_reason.map(|r| r.as_str()))
    .bind(change.note.as_deref())
    .bind(at)
    .bind(change.trial_ends_at)
    .bind(change.period.map(|p| p.0))
    .bind(change.period.map(|p| p.1))
    .bind(change.purge_after)
    .fetch_optional(tx.platform_conn())
    .await?
    .ok_or(DbError::NotFound)?;
    let tenant = Tenant::from(row);
    record_platform_audit(tx, at, actor, action, Some(tenant_id), detail.clone()).await?;
    // The tenant sees the change in its own audit log too (its schema is gone once purged).
    if tenant.purged_at.is_none() {
        sqlx::query(&format!(
            "INSERT INTO \"{}\".audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, '', $4)",
            tenant.schema()
        ))
        .bind(at)
        .bind(actor)
        .bind(action)
        .bind(detail)
        .execute(tx.platform_conn())
        .await?;
    }
    // Other replicas drop their cached copy of the tenant when this commits.
    notify_tenant_changed(tx, tenant_id).await?;
    Ok(tenant)
}

/// Notified (payload: tenant id, or `plans`) when a tenant's status or plan, or any plan,
/// changes.
pub const TENANT_CHANNEL: &str = "patron_tenant";

/// Tells every replica to drop its cached copy of the tenant when `tx` commits.
async fn notify_tenant_changed(tx: &mut impl OnPlatform, tenant_id: i64) -> Result<(), DbError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(TENANT_CHANNEL)
        .bind(tenant_id.to_string())
        .execute(tx.platform_conn())
        .await?;
    Ok(())
}

/// Tells every replica that the plans changed.
pub async fn notify_plans_changed(db: &Db) -> Result<(), DbError> {
    sqlx::query("SELECT pg_notify($1, 'plans')")
        .bind(TENANT_CHANNEL)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Drops a closed tenant's schema (all its data) and marks the row purged, in the caller's
/// transaction. The tenant row stays, for invoices and the audit trail.
pub async fn purge(
    tx: &mut impl OnPlatform,
    tenant: &Tenant,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    // The schema name comes from the row and is always `t_<id>`.
    sqlx::query(&format!(
        "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
        tenant.schema()
    ))
    .execute(tx.platform_conn())
    .await?;
    sqlx::query("UPDATE platform.tenants SET purged_at = $2, updated_at = $2 WHERE id = $1")
        .bind(tenant.id)
        .bind(at)
        .execute(tx.platform_conn())
        .await?;
    notify_tenant_changed(tx, tenant.id).await?;
    Ok(())
}

pub async fn record_platform_audit(
    tx: &mut impl OnPlatform,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    tenant_id: Option<i64>,
    detail: serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO platform.audit_log (at, actor, action, tenant_id, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(tenant_id)
    .bind(detail)
    .execute(tx.platform_conn())
    .await?;
    Ok(())
}

/// One entry of the platform audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlatformAuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub tenant_id: Option<i64>,
    pub detail: serde_json::Value,
}

/// Newest first.
pub async fn platform_audit(
    db: &Db,
    tenant_id: Option<i64>,
    limit: i64,
) -> Result<Vec<PlatformAuditEntry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, action, tenant_id, detail FROM platform.audit_log
         WHERE $1::bigint IS NULL OR tenant_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Ids of tenants whose trial has ended by `now`.
pub async fn trials_ended(db: &Db, now: DateTime<Utc>) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM platform.tenants WHERE status = 'trial' AND trial_ends_at <= $1 ORDER BY id",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?)
}

/// Ids of tenants whose billing period has ended by `now`.
pub async fn periods_ended(db: &Db, now: DateTime<Utc>) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM platform.tenants
         WHERE status IN ('active', 'past_due', 'suspended') AND period_end <= $1 ORDER BY id",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?)
}

/// Ids of closed tenants whose retention has run out and whose data is still there.
pub async fn purges_due(db: &Db, now: DateTime<Utc>) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM platform.tenants
         WHERE status = 'closed' AND purged_at IS NULL AND purge_after <= $1 ORDER BY id",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?)
}

/// Counts one request in the tenant's window of `minute` (minutes since the epoch) unless
/// it already holds `cap`; `true` when counted. One statement outside any transaction, so
/// every replica shares the window and none holds its row lock beyond the statement.
pub async fn take_rate(db: &Db, tenant_id: i64, minute: i64, cap: i64) -> Result<bool, DbError> {
    if cap <= 0 {
        return Ok(false);
    }
    let counted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO platform.rate_windows AS w (tenant_id, minute, requests) VALUES ($1, $2, 1)
         ON CONFLICT (tenant_id, minute) DO UPDATE SET requests = w.requests + 1
         WHERE w.requests < $3
         RETURNING requests",
    )
    .bind(tenant_id)
    .bind(minute)
    .bind(cap)
    .fetch_optional(db.pool())
    .await?;
    Ok(counted.is_some())
}

/// Deletes request windows that closed before `minute` - 1.
pub async fn forget_rate_windows(db: &Db, minute: i64) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM platform.rate_windows WHERE minute < $1")
        .bind(minute - 1)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
