//! The member portal's storage: one-time codes, member sessions, the SMS outbox, the
//! portal's settings and members' consents to the privacy terms.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Code {
    pub id: Uuid,
    pub code_hash: Vec<u8>,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
}

/// Codes sent to this phone for this purpose since `since` (for rate limits).
pub async fn codes_sent_since(
    tx: &mut TenantTx,
    phone_index: &[u8],
    since: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM member_codes WHERE phone_index = $1 AND created_at > $2",
    )
    .bind(phone_index)
    .bind(since)
    .fetch_one(tx.conn())
    .await?)
}

/// The limits of text messages to one phone number: at least `interval_secs` between two,
/// `per_hour` in an hour, `per_day` in a day (each window starting with its first message).
#[derive(Debug, Clone, Copy)]
pub struct SmsLimits {
    pub interval_secs: i64,
    pub per_hour: i32,
    pub per_day: i32,
}

/// Where a phone number stands against its limits.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SmsCount {
    pub last_at: DateTime<Utc>,
    pub hour_from: DateTime<Utc>,
    pub hour_count: i32,
    pub day_from: DateTime<Utc>,
    pub day_count: i32,
}

/// Counts one more message to the number behind `phone_index` at `now` when the limits
/// allow it, in one conditional statement (parallel callers wait for each other's row):
/// `true` when counted, `false` when a limit is reached (nothing is written).
pub async fn take_sms_slot(
    tx: &mut TenantTx,
    phone_index: &[u8],
    limits: SmsLimits,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    // The window starts are computed here, not in SQL: on Citus the `DO UPDATE SET` of a
    // distributed table may use only immutable functions (`timestamptz - interval` is not).
    let (hour_ago, day_ago) = (
        now - chrono::Duration::hours(1),
        now - chrono::Duration::days(1),
    );
    let spaced = now - chrono::Duration::seconds(limits.interval_secs);
    Ok(sqlx::query_scalar::<_, i32>(
        "INSERT INTO sms_number_limits AS l
             (phone_index, last_at, hour_from, hour_count, day_from, day_count)
         VALUES ($1, $2, $2, 1, $2, 1)
         ON CONFLICT (phone_index) DO UPDATE SET
             last_at = $2,
             hour_from = CASE WHEN l.hour_from <= $6 THEN $2 ELSE l.hour_from END,
             hour_count = CASE WHEN l.hour_from <= $6 THEN 1 ELSE l.hour_count + 1 END,
             day_from = CASE WHEN l.day_from <= $7 THEN $2 ELSE l.day_from END,
             day_count = CASE WHEN l.day_from <= $7 THEN 1 ELSE l.day_count + 1 END
         WHERE l.last_at <= $3
           AND (l.hour_from <= $6 OR l.hour_count < $4)
           AND (l.day_from <= $7 OR l.day_count < $5)
         RETURNING 1",
    )
    .bind(phone_index)
    .bind(now)
    .bind(spaced)
    .bind(limits.per_hour)
    .bind(limits.per_day)
    .bind(hour_ago)
    .bind(day_ago)
    .fetch_optional(tx.conn())
    .await?
    .is_some())
}

/// Where the number behind `phone_index` stands (to say when it may be sent the next).
pub async fn sms_count(tx: &mut TenantTx, phone_index: &[u8]) -> Result<Option<SmsCount>, DbError> {
    Ok(sqlx::query_as(
        "SELECT last_at, hour_from, hour_count, day_from, day_count
         FROM sms_number_limits WHERE phone_index = $1",
    )
    .bind(phone_index)
    .fetch_optional(tx.conn())
    .await?)
}

/// Stores a new code; older unused codes for the same phone and purpose stop working.
pub async fn insert_code(
    tx: &mut TenantTx,
    id: Uuid,
    purpose: &str,
    phone_index: &[u8],
    code_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE member_codes SET used_at = $3 WHERE phone_index = $1 AND purpose = $2 AND used_at IS NULL")
        .bind(phone_index)
        .bind(purpose)
        .bind(now)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO member_codes (id, purpose, phone_index, code_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(purpose)
    .bind(phone_index)
    .bind(code_hash)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The live code for this phone and purpose, locked.
pub async fn live_code(
    tx: &mut TenantTx,
    phone_index: &[u8],
    purpose: &str,
) -> Result<Option<Code>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, code_hash, attempts, expires_at FROM member_codes
         WHERE phone_index = $1 AND purpose = $2 AND used_at IS NULL
         ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
    )
    .bind(phone_index)
    .bind(purpose)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn code_attempted(tx: &mut TenantTx, id: Uuid) -> Result<(), DbError> {
    sqlx::query("UPDATE member_codes SET attempts = attempts + 1 WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn code_used(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("UPDATE member_codes SET used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn create_session(
    tx: &mut TenantTx,
    member_id: Uuid,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO member_sessions (id, member_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7())
    .bind(member_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The member behind a live session token.
pub async fn authenticate(
    tx: &mut TenantTx,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT s.member_id FROM member_sessions s JOIN members m ON m.id = s.member_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND m.status = 'active'",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn revoke_sessions(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE member_sessions SET revoked_at = $2 WHERE member_id = $1 AND revoked_at IS NULL",
    )
    .bind(member_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub phone: String,
    pub body: String,
    pub purpose: String,
    pub created_at: DateTime<Utc>,
}

pub async fn outbox_push(
    tx: &mut TenantTx,
    phone: &str,
    body: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sms_outbox (phone, body, purpose, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(phone)
    .bind(body)
    .bind(purpose)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Newest first; `phone` filters to one number (E.164).
pub async fn outbox(
    tx: &mut TenantTx,
    phone: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxMessage>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, phone, body, purpose, created_at FROM sms_outbox
         WHERE ($1::text IS NULL OR phone = $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(phone)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Deletes the texts sent to `phone` (E.164) from the outbox, when its member is erased.
pub async fn forget_outbox(tx: &mut TenantTx, phone: &str) -> Result<u64, DbError> {
    Ok(sqlx::query("DELETE FROM sms_outbox WHERE phone = $1")
        .bind(phone)
        .execute(tx.conn())
        .await?
        .rows_affected())
}

/// What the business shows on its portal, and its privacy terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct PortalSettings {
    pub logo_url: String,
    pub address: String,
    pub opening_hours: String,
    pub privacy_text: String,
    /// 0 while no terms were ever saved.
    pub privacy_version: i32,
}

/// The portal's settings; the defaults (all empty) when none were saved.
pub async fn settings(tx: &mut TenantTx) -> Result<PortalSettings, DbError> {
    Ok(sqlx::query_as(
        "SELECT logo_url, address, opening_hours, privacy_text, privacy_version
         FROM portal_settings WHERE id",
    )
    .fetch_optional(tx.conn())
    .await?
    .unwrap_or_default())
}

/// Writes the portal's settings (the row is locked by the write). `privacy_version` is
/// the caller's decision.
pub async fn save_settings(
    tx: &mut TenantTx,
    s: &PortalSettings,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO portal_settings
             (id, logo_url, address, opening_hours, privacy_text, privacy_version, updated_at, updated_by)
         VALUES (true, $1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET logo_url = $1, address = $2, opening_hours = $3,
             privacy_text = $4, privacy_version = $5, updated_at = $6, updated_by = $7",
    )
    .bind(&s.logo_url)
    .bind(&s.address)
    .bind(&s.opening_hours)
    .bind(&s.privacy_text)
    .bind(s.privacy_version)
    .bind(now)
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The portal's settings, locked until the end of `tx` (for a change that bumps the
/// version). `None` when none were saved.
pub async fn settings_for_update(tx: &mut TenantTx) -> Result<Option<PortalSettings>, DbError> {
    Ok(sqlx::query_as(
        "SELECT logo_url, address, opening_hours, privacy_text, privacy_version
         FROM portal_settings WHERE id FOR UPDATE",
    )
    .fetch_optional(tx.conn())
    .await?)
}

/// A member's consent to version `version` of the privacy terms.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Consent {
    pub version: i32,
    pub at: DateTime<Utc>,
    pub channel: String,
}

pub async fn record_consent(
    tx: &mut TenantTx,
    member_id: Uuid,
    version: i32,
    channel: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO member_consents (member_id, version, at, channel) VALUES ($1, $2, $3, $4)",
    )
    .bind(member_id)
    .bind(version)
    .bind(now)
    .bind(channel)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A member's consents, newest first.
pub async fn consents(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<Consent>, DbError> {
    Ok(sqlx::query_as(
        "SELECT version, at, channel FROM member_consents WHERE member_id = $1 ORDER BY at DESC, id DESC",
    )
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}
