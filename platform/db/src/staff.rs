//! Staff accounts of one tenant.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A staff account as shown to people (no secrets).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Staff {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub status: String,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, name, status, last_login_at, created_at";

/// What login needs to decide.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginRecord {
    pub id: Uuid,
    pub password_hash: String,
    pub status: String,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Creates an account; `Conflict("staff_email_key")` when the e-mail is taken in this tenant.
pub async fn create(
    tx: &mut TenantTx,
    email: &str,
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Staff, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO staff (id, email, name, password_hash, password_changed_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5, $5) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn find(tx: &mut TenantTx, id: Uuid) -> Result<Staff, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM staff WHERE id = $1"))
            .bind(id)
            .fetch_one(tx.conn())
            .await?,
    )
}

pub async fn find_by_email(tx: &mut TenantTx, email: &str) -> Result<Option<Staff>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM staff WHERE lower(email) = lower($1)"
    ))
    .bind(email)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<Staff>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM staff ORDER BY created_at, id"
    ))
    .fetch_all(tx.conn())
    .await?)
}

/// The e-mail addresses of the business's active owners (staff holding the `owner` role).
pub async fn owner_emails(tx: &mut TenantTx) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT s.email FROM staff s JOIN casbin_rules r ON r.v0 = 'staff:' || s.id::text
         WHERE r.ptype = 'g' AND r.v1 = 'owner' AND s.status = 'active' ORDER BY s.email",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// The login record for an e-mail, row-locked so concurrent attempts count one by one.
pub async fn login_record(tx: &mut TenantTx, email: &str) -> Result<Option<LoginRecord>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, password_hash, status, failed_logins, locked_until FROM staff
         WHERE lower(email) = lower($1) FOR UPDATE",
    )
    .bind(email)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn record_login_failure(
    tx: &mut TenantTx,
    id: Uuid,
    failures: i32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE staff SET failed_logins = $2, locked_until = $3 WHERE id = $1")
        .bind(id)
        .bind(failures)
        .bind(locked_until)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn record_login_success(
    tx: &mut TenantTx,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE staff SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn password_hash(tx: &mut TenantTx, id: Uuid) -> Result<String, DbError> {
    Ok(
        sqlx::query_scalar("SELECT password_hash FROM staff WHERE id = $1")
            .bind(id)
            .fetch_one(tx.conn())
            .await?,
    )
}

pub async fn set_password(
    tx: &mut TenantTx,
    id: Uuid,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE staff SET password_hash = $2, password_changed_at = $3, updated_at = $3,
             failed_logins = 0, locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(password_hash)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Changes name and/or status; returns the account as it is now.
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    name: Option<&str>,
    status: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Staff, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE staff SET name = coalesce($2, name), status = coalesce($3, status), updated_at = $4
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(status)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Stores a password-reset token's hash for `staff_id`, valid until `expires_at`.
pub async fn add_password_reset(
    tx: &mut TenantTx,
    staff_id: Uuid,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO staff_password_resets (token_hash, staff_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(staff_id)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Uses a reset token: marks it used and answers its staff member, only when it exists, was
/// not used and has not expired (one statement, so two uses at once cannot both succeed).
pub async fn use_password_reset(
    tx: &mut TenantTx,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE staff_password_resets SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING staff_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?)
}

/// Ends every other reset link of a staff member (after a reset succeeded).
pub async fn void_password_resets(
    tx: &mut TenantTx,
    staff_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE staff_password_resets SET used_at = $2 WHERE staff_id = $1 AND used_at IS NULL",
    )
    .bind(staff_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records a reset asked for `address` (a keyed hash) and answers how many were asked for
/// it since `since`, this one included.
pub async fn note_reset_request(
    tx: &mut TenantTx,
    address: &str,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "WITH added AS (
             INSERT INTO password_reset_requests (address, created_at) VALUES ($1, $2)
         )
         SELECT count(*) + 1 FROM password_reset_requests WHERE address = $1 AND created_at > $3",
    )
    .bind(address)
    .bind(now)
    .bind(since)
    .fetch_one(tx.conn())
    .await?)
}
