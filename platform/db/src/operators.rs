//! Platform operators, their login sessions, and support sessions (an operator's explicit,
//! time-limited permission to read one tenant's data).

use crate::tenancy::{TenantRow, TENANT_COLUMNS};
use crate::{Db, DbError, OnPlatform, Tenant, TenantTx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Operator {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// What a login attempt needs to know.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OperatorCredentials {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub password_hash: String,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// Creates an operator; a taken e-mail is `Conflict("operators_email_key")`.
pub async fn create(
    db: &Db,
    email: &str,
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Operator, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO platform.operators (id, email, name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id, email, name, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(now)
    .fetch_one(db.pool())
    .await?)
}

pub async fn credentials(db: &Db, email: &str) -> Result<Option<OperatorCredentials>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, email, name, created_at, password_hash, failed_logins, locked_until, disabled_at
         FROM platform.operators WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn password_hash(db: &Db, id: Uuid) -> Result<String, DbError> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM platform.operators WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?,
    )
}

/// Records a failed login; returns the new count of failures in a row.
pub async fn login_failed(
    db: &Db,
    id: Uuid,
    locked_until: Option<DateTime<Utc>>,
) -> Result<i32, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE platform.operators SET failed_logins = failed_logins + 1,
             locked_until = COALESCE($2, locked_until)
         WHERE id = $1 RETURNING failed_logins",
    )
    .bind(id)
    .bind(locked_until)
    .fetch_one(db.pool())
    .await?)
}

#[derive(Debug, Clone)]
pub struct OperatorSession {
    pub session_id: Uuid,
    pub operator: Operator,
    pub expires_at: DateTime<Utc>,
}

/// Opens a session after a good password (and clears the failure count).
pub async fn start_session(
    db: &Db,
    operator_id: Uuid,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, DbError> {
    let mut tx = db.platform_tx().await?;
    sqlx::query(
        "UPDATE platform.operators SET failed_logins = 0, locked_until = NULL WHERE id = $1",
    )
    .bind(operator_id)
    .execute(tx.conn())
    .await?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO platform.operator_sessions (id, operator_id, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(operator_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_id: Uuid,
    expires_at: DateTime<Utc>,
    id: Uuid,
    email: String,
    name: String,
    created_at: DateTime<Utc>,
}

/// The live session for a token hash, if any.
pub async fn authenticate(
    db: &Db,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<OperatorSession>, DbError> {
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT s.id AS session_id, s.expires_at, o.id, o.email, o.name, o.created_at
         FROM platform.operator_sessions s JOIN platform.operators o ON o.id = s.operator_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND o.disabled_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|r| OperatorSession {
        session_id: r.session_id,
        expires_at: r.expires_at,
        operator: Operator {
            id: r.id,
            email: r.email,
            name: r.name,
            created_at: r.created_at,
        },
    }))
}

pub async fn end_session(db: &Db, session_id: Uuid, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("UPDATE platform.operator_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(session_id)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// An operator's read access to one tenant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SupportSession {
    pub id: Uuid,
    pub operator_id: Uuid,
    pub operator_email: String,
    pub tenant_id: i64,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

const SUPPORT_COLUMNS: &str = "s.id, s.operator_id, o.email AS operator_email, s.tenant_id, \
    s.reason, s.started_at, s.expires_at, s.ended_at";

#[allow(clippy::too_many_arguments)]
pub async fn start_support(
    tx: &mut impl OnPlatform,
    operator_id: Uuid,
    tenant_id: i64,
    reason: &str,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<SupportSession, DbError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO platform.support_sessions (id, operator_id, tenant_id, reason, token_hash, started_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(operator_id)
    .bind(tenant_id)
    .bind(reason)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .execute(tx.platform_conn())
    .await?;
    Ok(sqlx::query_as(&format!(
        "SELECT {SUPPORT_COLUMNS} FROM platform.support_sessions s
         JOIN platform.operators o ON o.id = s.operator_id WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_one(tx.platform_conn())
    .await?)
}

/// The live support session for a token hash into `tenant_id`, if any.
pub async fn authenticate_support(
    db: &Db,
    tenant_id: i64,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SupportSession>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SUPPORT_COLUMNS} FROM platform.support_sessions s
         JOIN platform.operators o ON o.id = s.operator_id
         WHERE s.token_hash = $1 AND s.tenant_id = $2 AND s.ended_at IS NULL
           AND s.expires_at > $3 AND o.disabled_at IS NULL"
    ))
    .bind(token_hash)
    .bind(tenant_id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?)
}

/// Ends a support session early; `NotFound` if it is not this operator's or already over.
pub async fn end_support(
    tx: &mut impl OnPlatform,
    id: Uuid,
    operator_id: Uuid,
    now: DateTime<Utc>,
) -> Result<SupportSession, DbError> {
    let ended: Option<Uuid> = sqlx::query_scalar(
        "UPDATE platform.support_sessions SET ended_at = $3
         WHERE id = $1 AND operator_id = $2 AND ended_at IS NULL AND expires_at > $3 RETURNING id",
    )
    .bind(id)
    .bind(operator_id)
    .bind(now)
    .fetch_optional(tx.platform_conn())
    .await?;
    let id = ended.ok_or(DbError::NotFound)?;
    Ok(sqlx::query_as(&format!(
        "SELECT {SUPPORT_COLUMNS} FROM platform.support_sessions s
         JOIN platform.operators o ON o.id = s.operator_id WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_one(tx.platform_conn())
    .await?)
}

/// Newest first.
pub async fn list_support(db: &Db, tenant_id: Option<i64>) -> Result<Vec<SupportSession>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SUPPORT_COLUMNS} FROM platform.support_sessions s
         JOIN platform.operators o ON o.id = s.operator_id
         WHERE $1::bigint IS NULL OR s.tenant_id = $1 ORDER BY s.started_at DESC LIMIT 200"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?)
}

/// Platform-wide totals for the operator dashboard.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// (plan, status, tenants)
    pub tenants: Vec<(String, String, i64)>,
    /// Members of the businesses counted so far.
    pub members: i64,
    /// (UTC day, purchases) from 30 days before `now` to today, of the businesses counted.
    pub purchases_per_day: Vec<(chrono::NaiveDate, i64)>,
    /// When the stalest of the counted businesses' figures were taken (`None`: none yet).
    pub as_of: Option<DateTime<Utc>>,
    /// Businesses with data (not purged) whose figures have not been taken yet.
    pub not_counted: i64,
}

#[derive(sqlx::FromRow)]
struct TotalsRow {
    tenants: sqlx::types::Json<Vec<(String, String, i64)>>,
    members: i64,
    purchases: sqlx::types::Json<Vec<(chrono::NaiveDate, i64)>>,
    as_of: Option<DateTime<Utc>>,
    not_counted: i64,
}

/// The dashboard's totals in one statement over `platform` only: accounts by plan and status,
/// and the sums of the figures the job keeps in `platform.tenant_figures` (see
/// [`save_figures`]). Its cost grows with the number of businesses' rows there, never with
/// their tables; purged businesses are left out.
pub async fn totals(db: &Db, now: DateTime<Utc>) -> Result<Totals, DbError> {
    let since = (now - chrono::Duration::days(30)).date_naive();
    let row: TotalsRow = sqlx::query_as(
        "WITH f AS (
             SELECT f.tenant_id, f.members, f.purchases_by_day, f.refreshed_at
             FROM platform.tenant_figures f JOIN platform.tenants t ON t.id = f.tenant_id
             WHERE t.purged_at IS NULL
         )
         SELECT
             (SELECT coalesce(jsonb_agg(jsonb_build_array(plan_code, status, n)
                                        ORDER BY plan_code, status), '[]')
              FROM (SELECT plan_code, status, count(*) AS n FROM platform.tenants
                    GROUP BY 1, 2) c) AS tenants,
             (SELECT coalesce(sum(members), 0)::bigint FROM f) AS members,
             (SELECT coalesce(jsonb_agg(jsonb_build_array(day, n) ORDER BY day), '[]')
              FROM (SELECT d.key::date AS day, sum(d.value::bigint) AS n
                    FROM f, jsonb_each_text(f.purchases_by_day) d
                    WHERE d.key::date >= $1 GROUP BY 1) p) AS purchases,
             (SELECT min(refreshed_at) FROM f) AS as_of,
             (SELECT count(*) FROM platform.tenants t
              WHERE t.purged_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM f WHERE f.tenant_id = t.id)) AS not_counted",
    )
    .bind(since)
    .fetch_one(db.pool())
    .await?;
    Ok(Totals {
        tenants: row.tenants.0,
        members: row.members,
        purchases_per_day: row.purchases.0,
        as_of: row.as_of,
        not_counted: row.not_counted,
    })
}

/// One business's figures, as counted from its own tables.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Figures {
    pub members: i64,
    /// {"YYYY-MM-DD": purchases} by UTC day.
    pub purchases_by_day: serde_json::Value,
}

/// Businesses whose figures are due: not purged, never tried or last tried (counted, or
/// failed: [`figures_failed`]) before `stale_before`; the never tried first, then the longest
/// untried; at most `limit`.
pub async fn figures_due(
    db: &Db,
    stale_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Tenant>, DbError> {
    let rows: Vec<TenantRow> = sqlx::query_as(&format!(
        "SELECT {TENANT_COLUMNS} FROM platform.tenants
         LEFT JOIN platform.tenant_figures f ON f.tenant_id = id
         LEFT JOIN platform.figures_failures x ON x.tenant_id = id
         WHERE purged_at IS NULL
           AND (f.refreshed_at IS NULL OR f.refreshed_at < $1)
           AND (x.failed_at IS NULL OR x.failed_at < $1)
         ORDER BY GREATEST(f.refreshed_at, x.failed_at) NULLS FIRST, id LIMIT $2"
    ))
    .bind(stale_before)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}

/// Counts one business's members (not erased) and its purchases by UTC day from the start of
/// `since`'s day, in one statement on its own tables.
pub async fn count_figures(tx: &mut TenantTx, since: DateTime<Utc>) -> Result<Figures, DbError> {
    let from = since
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(since, |d| d.and_utc());
    Ok(sqlx::query_as(
        // A purchase never happens more than 10 minutes after it is recorded (recording
        // refuses later times), so the recorded_at bound only lets the index
        // (purchases_recorded) skip older rows; it leaves none of the window out.
        "SELECT (SELECT count(*) FROM members WHERE erased_at IS NULL) AS members,
                (SELECT coalesce(jsonb_object_agg(day, n), '{}')
                 FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date::text AS day, count(*) AS n
                       FROM purchases
                       WHERE occurred_at >= $1 AND recorded_at >= $1 - interval '10 minutes'
                       GROUP BY 1) d) AS purchases_by_day",
    )
    .bind(from)
    .fetch_one(tx.conn())
    .await?)
}

/// Records that a business's figures could not be taken at `at`, and why: it is tried again
/// when a counted business would be ([`figures_due`]).
pub async fn figures_failed(
    db: &Db,
    tenant_id: i64,
    error: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO platform.figures_failures (tenant_id, failed_at, error) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET failed_at = excluded.failed_at,
             error = excluded.error",
    )
    .bind(tenant_id)
    .bind(at)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Stores a business's figures taken at `at`, and forgets an earlier failure to take them
/// (a statement on `platform` only).
pub async fn save_figures(
    db: &Db,
    tenant_id: i64,
    figures: &Figures,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "WITH forgotten AS (DELETE FROM platform.figures_failures WHERE tenant_id = $1)
         INSERT INTO platform.tenant_figures (tenant_id, members, purchases_by_day, refreshed_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id) DO UPDATE SET members = excluded.members,
             purchases_by_day = excluded.purchases_by_day, refreshed_at = excluded.refreshed_at",
    )
    .bind(tenant_id)
    .bind(figures.members)
    .bind(&figures.purchases_by_day)
    .bind(at)
    .execute(db.pool())
    .await?;
    Ok(())
}
