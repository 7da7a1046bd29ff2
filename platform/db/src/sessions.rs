//! Staff login sessions: opaque bearer tokens, stored as hashes, with an expiry.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Who a valid session token belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionPrincipal {
    pub session_id: Uuid,
    pub staff_id: Uuid,
    pub email: String,
    pub name: String,
    pub expires_at: DateTime<Utc>,
    /// The business asks its owners to use two-factor codes, this staff member is an owner
    /// and has none yet: the session may only enrol (and read itself, and log out).
    pub must_enrol_two_factor: bool,
}

pub async fn create(
    tx: &mut TenantTx,
    staff_id: Uuid,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_agent: Option<&str>,
) -> Result<Uuid, DbError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO staff_sessions (id, staff_id, token_hash, created_at, expires_at, last_seen_at, user_agent)
         VALUES ($1, $2, $3, $4, $5, $4, $6)",
    )
    .bind(id)
    .bind(staff_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .bind(user_agent.map(|ua| ua.chars().take(300).collect::<String>()))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// The principal behind a token, if it is live: not revoked, not expired, staff active.
/// Notes the time it was last seen, at most once a minute per session.
pub async fn authenticate(
    tx: &mut TenantTx,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SessionPrincipal>, DbError> {
    let found: Option<(SessionPrincipal, Option<DateTime<Utc>>)> = sqlx::query_as::<
        _,
        (
            Uuid,
            Uuid,
            String,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            bool,
        ),
    >(
        "SELECT s.id, s.staff_id, st.email, st.name, s.expires_at, s.last_seen_at,
                st.totp_secret IS NULL
                AND COALESCE((SELECT owners_require_2fa FROM security_settings WHERE id), false)
                AND EXISTS (SELECT 1 FROM casbin_rules
                            WHERE ptype = 'g' AND v0 = 'staff:' || st.id::text AND v1 = 'owner')
         FROM staff_sessions s JOIN staff st ON st.id = s.staff_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
           AND st.status = 'active'",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?
    .map(
        |(session_id, staff_id, email, name, expires_at, seen, must_enrol)| {
            (
                SessionPrincipal {
                    session_id,
                    staff_id,
                    email,
                    name,
                    expires_at,
                    must_enrol_two_factor: must_enrol,
                },
                seen,
            )
        },
    );
    let Some((principal, seen)) = found else {
        return Ok(None);
    };
    if seen.is_none_or(|t| now - t > Duration::minutes(1)) {
        sqlx::query("UPDATE staff_sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(principal.session_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
    }
    Ok(Some(principal))
}

pub async fn revoke(
    tx: &mut TenantTx,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE staff_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(session_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends every session of a staff member except `keep` (the one changing the password).
pub async fn revoke_all_for_staff(
    tx: &mut TenantTx,
    staff_id: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE staff_sessions SET revoked_at = $3
         WHERE staff_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)",
    )
    .bind(staff_id)
    .bind(keep)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Deletes sessions that expired or were revoked more than `grace` ago. Idempotent.
pub async fn delete_stale(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<u64, DbError> {
    let cutoff = now - grace;
    Ok(
        sqlx::query("DELETE FROM staff_sessions WHERE expires_at < $1 OR revoked_at < $1")
            .bind(cutoff)
            .execute(tx.conn())
            .await?
            .rows_affected(),
    )
}

/// Counts sessions of a staff member (all, including expired and revoked ones).
pub async fn count_for_staff(tx: &mut TenantTx, staff_id: Uuid) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM staff_sessions WHERE staff_id = $1")
            .bind(staff_id)
            .fetch_one(tx.conn())
            .await?,
    )
}
