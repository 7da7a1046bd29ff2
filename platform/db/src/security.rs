//! Account defences: staff and operators' two-factor secrets and recovery codes, the staff
//! login history, and the business's security settings.

use crate::{Db, DbError, TenantTx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An account's two-factor state.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct TwoFactor {
    /// The confirmed secret (base32, sealed with the personal-data key: see
    /// `core::security::seal_secret`); `None` while two-factor is off.
    pub totp_secret: Option<String>,
    /// A secret handed out by an enrolment and not confirmed yet (sealed too).
    pub totp_pending_secret: Option<String>,
    pub totp_enabled_at: Option<DateTime<Utc>>,
    /// The last time step a code was accepted for.
    pub totp_last_step: Option<i64>,
}

const TWO_FACTOR: &str = "totp_secret, totp_pending_secret, totp_enabled_at, totp_last_step";

/// Which accounts: a business's staff (in its schema) or the platform's operators.
#[derive(Debug, Clone, Copy)]
enum Who {
    Staff,
    Operator,
}

impl Who {
    fn table(self) -> &'static str {
        match self {
            Who::Staff => "staff",
            Who::Operator => "platform.operators",
        }
    }
    fn codes(self) -> (&'static str, &'static str) {
        match self {
            Who::Staff => ("staff_recovery_codes", "staff_id"),
            Who::Operator => ("platform.operator_recovery_codes", "operator_id"),
        }
    }
}

async fn two_factor_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
    id: Uuid,
) -> Result<TwoFactor, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TWO_FACTOR} FROM {} WHERE id = $1",
        who.table()
    ))
    .bind(id)
    .fetch_one(conn)
    .await?)
}

async fn set_pending_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
    id: Uuid,
    secret: &str,
) -> Result<(), DbError> {
    sqlx::query(&format!(
        "UPDATE {} SET totp_pending_secret = $2 WHERE id = $1",
        who.table()
    ))
    .bind(id)
    .bind(secret)
    .execute(conn)
    .await?;
    Ok(())
}

/// Turns the pending secret on, with `step` as its last used step, and replaces the recovery
/// codes. False when the pending secret changed meanwhile.
async fn enable_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
    id: Uuid,
    secret: &str,
    step: i64,
    code_hashes: &[String],
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let done = sqlx::query(&format!(
        "UPDATE {} SET totp_secret = totp_pending_secret, totp_pending_secret = NULL,
             totp_enabled_at = $3, totp_last_step = $4
         WHERE id = $1 AND totp_pending_secret = $2",
        who.table()
    ))
    .bind(id)
    .bind(secret)
    .bind(now)
    .bind(step)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if done {
        replace_codes_on(conn, who, id, code_hashes).await?;
    }
    Ok(done)
}

async fn replace_codes_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
    id: Uuid,
    code_hashes: &[String],
) -> Result<(), DbError> {
    let (table, key) = who.codes();
    sqlx::query(&format!("DELETE FROM {table} WHERE {key} = $1"))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!(
        "INSERT INTO {table} ({key}, code_hash) SELECT $1, unnest($2::text[])"
    ))
    .bind(id)
    .bind(code_hashes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn disable_on(conn: &mut sqlx::PgConnection, who: Who, id: Uuid) -> Result<(), DbError> {
    sqlx::query(&format!(
        "UPDATE {} SET totp_secret = NULL, totp_pending_secret = NULL, totp_enabled_at = NULL,
             totp_last_step = NULL WHERE id = $1",
        who.table()
    ))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let (table, key) = who.codes();
    sqlx::query(&format!("DELETE FROM {table} WHERE {key} = $1"))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes a code's time step: true only when it is later than any taken before (a code is
/// good once, even when two requests race with it).
async fn take_step_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
    id: Uuid,
    step: i64,
) -> Result<bool, DbError> {
    Ok(sqlx::query(&format!(
        "UPDATE {} SET totp_last_step = $2
         WHERE id = $1 AND totp_secret IS NOT NULL
           AND (totp_last_step IS NULL OR totp_last_step < $2)",
        who.table()
    ))
    .bind(id)
    .bind(step)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Uses a recovery code: true when it was there and unused.
async fn use_code_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
    id: Uuid,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let (table, key) = who.codes();
    Ok(sqlx::query(&format!(
        "UPDATE {table} SET used_at = $3
         WHERE {key} = $1 AND code_hash = $2 AND used_at IS NULL"
    ))
    .bind(id)
    .bind(code_hash)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

async fn codes_left_on(conn: &mut sqlx::PgConnection, who: Who, id: Uuid) -> Result<i64, DbError> {
    let (table, key) = who.codes();
    Ok(sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {table} WHERE {key} = $1 AND used_at IS NULL"
    ))
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// Staff: the two-factor state.
pub async fn staff_two_factor(tx: &mut TenantTx, id: Uuid) -> Result<TwoFactor, DbError> {
    two_factor_on(tx.conn(), Who::Staff, id).await
}
pub async fn staff_set_pending(tx: &mut TenantTx, id: Uuid, secret: &str) -> Result<(), DbError> {
    set_pending_on(tx.conn(), Who::Staff, id, secret).await
}
pub async fn staff_enable(
    tx: &mut TenantTx,
    id: Uuid,
    secret: &str,
    step: i64,
    code_hashes: &[String],
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    enable_on(tx.conn(), Who::Staff, id, secret, step, code_hashes, now).await
}
pub async fn staff_replace_codes(
    tx: &mut TenantTx,
    id: Uuid,
    code_hashes: &[String],
) -> Result<(), DbError> {
    replace_codes_on(tx.conn(), Who::Staff, id, code_hashes).await
}
pub async fn staff_disable(tx: &mut TenantTx, id: Uuid) -> Result<(), DbError> {
    disable_on(tx.conn(), Who::Staff, id).await
}
pub async fn staff_take_step(tx: &mut TenantTx, id: Uuid, step: i64) -> Result<bool, DbError> {
    take_step_on(tx.conn(), Who::Staff, id, step).await
}
pub async fn staff_use_code(
    tx: &mut TenantTx,
    id: Uuid,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    use_code_on(tx.conn(), Who::Staff, id, code_hash, now).await
}
pub async fn staff_codes_left(tx: &mut TenantTx, id: Uuid) -> Result<i64, DbError> {
    codes_left_on(tx.conn(), Who::Staff, id).await
}

/// Operators: the same, on the platform schema.
pub async fn operator_two_factor(db: &Db, id: Uuid) -> Result<TwoFactor, DbError> {
    two_factor_on(&mut *db.pool().acquire().await?, Who::Operator, id).await
}
pub async fn operator_set_pending(db: &Db, id: Uuid, secret: &str) -> Result<(), DbError> {
    set_pending_on(&mut *db.pool().acquire().await?, Who::Operator, id, secret).await
}
pub async fn operator_enable(
    db: &Db,
    id: Uuid,
    secret: &str,
    step: i64,
    code_hashes: &[String],
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let mut tx = db.begin("BEGIN").await?;
    let done = enable_on(&mut tx, Who::Operator, id, secret, step, code_hashes, now).await?;
    tx.commit().await?;
    Ok(done)
}
pub async fn operator_replace_codes(
    db: &Db,
    id: Uuid,
    code_hashes: &[String],
) -> Result<(), DbError> {
    let mut tx = db.begin("BEGIN").await?;
    replace_codes_on(&mut tx, Who::Operator, id, code_hashes).await?;
    tx.commit().await?;
    Ok(())
}
pub async fn operator_disable(db: &Db, id: Uuid) -> Result<(), DbError> {
    let mut tx = db.begin("BEGIN").await?;
    disable_on(&mut tx, Who::Operator, id).await?;
    tx.commit().await?;
    Ok(())
}
pub async fn operator_take_step(db: &Db, id: Uuid, step: i64) -> Result<bool, DbError> {
    take_step_on(&mut *db.pool().acquire().await?, Who::Operator, id, step).await
}
pub async fn operator_use_code(
    db: &Db,
    id: Uuid,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    use_code_on(
        &mut *db.pool().acquire().await?,
        Who::Operator,
        id,
        code_hash,
        now,
    )
    .await
}
pub async fn operator_codes_left(db: &Db, id: Uuid) -> Result<i64, DbError> {
    codes_left_on(&mut *db.pool().acquire().await?, Who::Operator, id).await
}

/// An account's stored two-factor secrets, as read for sealing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredSecrets {
    pub id: Uuid,
    pub secret: Option<String>,
    pub pending: Option<String>,
}

async fn secrets_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
) -> Result<Vec<StoredSecrets>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT id, totp_secret AS secret, totp_pending_secret AS pending FROM {}
         WHERE totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL ORDER BY id",
        who.table()
    ))
    .fetch_all(conn)
    .await?)
}

/// Writes resealed secrets, only if the row still holds what was read.
async fn write_secrets_on(
    conn: &mut sqlx::PgConnection,
    who: Who,
    old: &StoredSecrets,
    secret: Option<&str>,
    pending: Option<&str>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(&format!(
        "UPDATE {} SET totp_secret = $4, totp_pending_secret = $5
         WHERE id = $1 AND totp_secret IS NOT DISTINCT FROM $2
           AND totp_pending_secret IS NOT DISTINCT FROM $3",
        who.table()
    ))
    .bind(old.id)
    .bind(&old.secret)
    .bind(&old.pending)
    .bind(secret)
    .bind(pending)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Staff with a two-factor secret (confirmed or pending).
pub async fn staff_secrets(tx: &mut TenantTx) -> Result<Vec<StoredSecrets>, DbError> {
    secrets_on(tx.conn(), Who::Staff).await
}
pub async fn staff_write_secrets(
    tx: &mut TenantTx,
    old: &StoredSecrets,
    secret: Option<&str>,
    pending: Option<&str>,
) -> Result<bool, DbError> {
    write_secrets_on(tx.conn(), Who::Staff, old, secret, pending).await
}
/// Operators with a two-factor secret (confirmed or pending).
pub async fn operator_secrets(db: &Db) -> Result<Vec<StoredSecrets>, DbError> {
    secrets_on(&mut *db.pool().acquire().await?, Who::Operator).await
}
pub async fn operator_write_secrets(
    db: &Db,
    old: &StoredSecrets,
    secret: Option<&str>,
    pending: Option<&str>,
) -> Result<bool, DbError> {
    write_secrets_on(
        &mut *db.pool().acquire().await?,
        Who::Operator,
        old,
        secret,
        pending,
    )
    .await
}

/// One login attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginEntry {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub success: bool,
    pub method: String,
    pub failure: Option<String>,
}

/// A login attempt to record.
#[derive(Debug, Clone)]
pub struct NewLogin<'a> {
    pub staff_id: Uuid,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub device: &'a str,
    pub success: bool,
    pub method: &'a str,
    pub failure: Option<&'a str>,
}

/// Records an attempt; answers whether the device had a successful login before (and
/// whether the account had any successful login before at all).
pub async fn record_login(
    tx: &mut TenantTx,
    l: &NewLogin<'_>,
    now: DateTime<Utc>,
) -> Result<(bool, bool), DbError> {
    let (known, any): (bool, bool) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM staff_logins WHERE staff_id = $1 AND success AND device = $2),
                EXISTS (SELECT 1 FROM staff_logins WHERE staff_id = $1 AND success)",
    )
    .bind(l.staff_id)
    .bind(l.device)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO staff_logins (id, staff_id, at, ip, user_agent, device, success, method, failure)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(l.staff_id)
    .bind(now)
    .bind(l.ip.map(|s| s.chars().take(100).collect::<String>()))
    .bind(l.user_agent.map(|s| s.chars().take(300).collect::<String>()))
    .bind(l.device)
    .bind(l.success)
    .bind(l.method)
    .bind(l.failure)
    .execute(tx.conn())
    .await?;
    Ok((known, any))
}

/// A staff member's latest login attempts, newest first.
pub async fn logins(
    tx: &mut TenantTx,
    staff_id: Uuid,
    limit: i64,
) -> Result<Vec<LoginEntry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, staff_id, at, ip, user_agent, success, method, failure FROM staff_logins
         WHERE staff_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(staff_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Whether the business asks its owners to use two-factor codes.
pub async fn owners_require_2fa(tx: &mut TenantTx) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar("SELECT owners_require_2fa FROM security_settings WHERE id")
            .fetch_optional(tx.conn())
            .await?
            .unwrap_or(false),
    )
}

pub async fn set_owners_require_2fa(
    tx: &mut TenantTx,
    on: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO security_settings (id, owners_require_2fa, updated_at) VALUES (true, $1, $2)
         ON CONFLICT (id) DO UPDATE SET owners_require_2fa = $1, updated_at = $2",
    )
    .bind(on)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}
