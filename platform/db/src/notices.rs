//! Portal notices and members' read marks; members' contact preferences; the inbox (the
//! member's e-mails and notices); scheduled notices' settings.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notice {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub tiers: Vec<String>,
    pub pinned: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const COLUMNS: &str =
    "id, title, body, starts_at, ends_at, tiers, pinned, created_at, updated_at, updated_by";

/// What a notice says and to whom, as stored.
pub struct NoticeRow<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub tiers: &'a [String],
    pub pinned: bool,
}

pub async fn create(
    tx: &mut TenantTx,
    n: &NoticeRow<'_>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Notice, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO notices (id, title, body, starts_at, ends_at, tiers, pinned, created_at, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(n.title)
    .bind(n.body)
    .bind(n.starts_at)
    .bind(n.ends_at)
    .bind(n.tiers)
    .bind(n.pinned)
    .bind(now)
    .bind(by)
    .fetch_one(tx.conn())
    .await?)
}

/// Replaces a notice's content; `NotFound` when there is none.
pub async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    n: &NoticeRow<'_>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Notice, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE notices SET title = $2, body = $3, starts_at = $4, ends_at = $5, tiers = $6,
             pinned = $7, updated_at = $8, updated_by = $9
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(n.title)
    .bind(n.body)
    .bind(n.starts_at)
    .bind(n.ends_at)
    .bind(n.tiers)
    .bind(n.pinned)
    .bind(now)
    .bind(by)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<bool, DbError> {
    Ok(sqlx::query("DELETE FROM notices WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected()
        > 0)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Notice, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM notices WHERE id = $1"))
            .bind(id)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Every notice, pinned first, then the latest start first.
pub async fn list(tx: &mut TenantTx, limit: i64) -> Result<Vec<Notice>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notices ORDER BY pinned DESC, starts_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// How many members read each notice.
pub async fn read_counts(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<(Uuid, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT notice_id, count(*) FROM notice_reads WHERE notice_id = ANY($1) GROUP BY notice_id",
    )
    .bind(ids)
    .fetch_all(tx.conn())
    .await?)
}

/// A notice shown to a member, with when they read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberNotice {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub pinned: bool,
    pub read_at: Option<DateTime<Utc>>,
}

/// The notices shown to a member at `now` (in their period; to everyone or to the member's
/// tier), pinned first, then the latest first.
pub async fn for_member(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<MemberNotice>, DbError> {
    Ok(sqlx::query_as(
        "SELECT n.id, n.title, n.body, n.starts_at, n.ends_at, n.pinned, r.read_at
         FROM notices n
         LEFT JOIN member_tiers mt ON mt.member_id = $1
         LEFT JOIN notice_reads r ON r.notice_id = n.id AND r.member_id = $1
         WHERE n.starts_at <= $2 AND (n.ends_at IS NULL OR n.ends_at > $2)
           AND (cardinality(n.tiers) = 0 OR mt.tier = ANY(n.tiers))
         ORDER BY n.pinned DESC, n.starts_at DESC, n.id DESC
         LIMIT 200",
    )
    .bind(member_id)
    .bind(now)
    .fetch_all(tx.conn())
    .await?)
}

/// Marks a notice read by a member, when it is shown to them now; answers whether it is.
pub async fn mark_read(
    tx: &mut TenantTx,
    member_id: Uuid,
    notice_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let shown: Option<Uuid> = sqlx::query_scalar(
        "SELECT n.id FROM notices n
         LEFT JOIN member_tiers mt ON mt.member_id = $1
         WHERE n.id = $2 AND n.starts_at <= $3 AND (n.ends_at IS NULL OR n.ends_at > $3)
           AND (cardinality(n.tiers) = 0 OR mt.tier = ANY(n.tiers))",
    )
    .bind(member_id)
    .bind(notice_id)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    if shown.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO notice_reads (notice_id, member_id, read_at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
    )
    .bind(notice_id)
    .bind(member_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(true)
}

// ---- contact preferences ----

/// Whether the member takes marketing e-mail (no row: yes).
pub async fn marketing_email(tx: &mut TenantTx, member_id: Uuid) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT marketing_email FROM member_contact_preferences WHERE member_id = $1",
    )
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?
    .unwrap_or(true))
}

pub async fn set_marketing_email(
    tx: &mut TenantTx,
    member_id: Uuid,
    on: bool,
    via: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO member_contact_preferences (member_id, marketing_email, updated_at, updated_via)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (member_id) DO UPDATE
         SET marketing_email = EXCLUDED.marketing_email, updated_at = EXCLUDED.updated_at,
             updated_via = EXCLUDED.updated_via",
    )
    .bind(member_id)
    .bind(on)
    .bind(now)
    .bind(via)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether the member takes marketing text messages (no row, or never set: yes).
pub async fn marketing_sms(tx: &mut TenantTx, member_id: Uuid) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar::<_, Option<bool>>(
        "SELECT marketing_sms FROM member_contact_preferences WHERE member_id = $1",
    )
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?
    .flatten()
    .unwrap_or(true))
}

pub async fn set_marketing_sms(
    tx: &mut TenantTx,
    member_id: Uuid,
    on: bool,
    via: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO member_contact_preferences
             (member_id, marketing_email, marketing_sms, updated_at, updated_via)
         VALUES ($1, true, $2, $3, $4)
         ON CONFLICT (member_id) DO UPDATE
         SET marketing_sms = EXCLUDED.marketing_sms, updated_at = EXCLUDED.updated_at,
             updated_via = EXCLUDED.updated_via",
    )
    .bind(member_id)
    .bind(on)
    .bind(now)
    .bind(via)
    .execute(tx.conn())
    .await?;
    Ok(())
}

// ---- the inbox ----

/// A message to a member in the portal's inbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InboxMessage {
    pub id: i64,
    pub occasion: Option<String>,
    pub content: serde_json::Value,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// The member's e-mails that went out (or are on their way) and campaigns' inbox messages,
/// newest first.
pub async fn inbox(
    tx: &mut TenantTx,
    member_id: Uuid,
    limit: i64,
) -> Result<Vec<InboxMessage>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, occasion, content, status, created_at, read_at FROM deliveries
         WHERE member_id = $1 AND channel IN ('email', 'inbox')
           AND status IN ('pending', 'sending', 'sent')
         ORDER BY id DESC LIMIT $2",
    )
    .bind(member_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Marks one of the member's messages read; answers whether it is theirs.
pub async fn mark_message_read(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE deliveries SET read_at = coalesce(read_at, $3)
         WHERE id = $2 AND member_id = $1 AND channel IN ('email', 'inbox')",
    )
    .bind(member_id)
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

// ---- e-mails held over the plan's monthly quota ----

/// Holds a claimed delivery until `until` with `reason` (a stable code) in its log.
pub async fn hold_delivery(
    tx: &mut TenantTx,
    id: i64,
    reason: &str,
    until: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE deliveries SET status = 'held', last_error = $2, next_at = $3, locked_until = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .bind(until)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Puts held deliveries whose hold has run out (a new month) back in line.
pub async fn release_held(tx: &mut TenantTx, now: DateTime<Utc>) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE deliveries SET status = 'pending' WHERE status = 'held' AND next_at <= $1",
    )
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

// ---- scheduled notices ----

/// A scheduled notice the business switched on or off.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Scheduled {
    pub occasion: String,
    pub enabled: bool,
    pub days_ahead: i32,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

pub async fn scheduled(tx: &mut TenantTx) -> Result<Vec<Scheduled>, DbError> {
    Ok(sqlx::query_as(
        "SELECT occasion, enabled, days_ahead, updated_at, updated_by FROM scheduled_notices
         ORDER BY occasion",
    )
    .fetch_all(tx.conn())
    .await?)
}

pub async fn set_scheduled(
    tx: &mut TenantTx,
    occasion: &str,
    enabled: bool,
    days_ahead: i32,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Scheduled, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO scheduled_notices (occasion, enabled, days_ahead, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (occasion) DO UPDATE SET enabled = EXCLUDED.enabled,
             days_ahead = EXCLUDED.days_ahead, updated_at = EXCLUDED.updated_at,
             updated_by = EXCLUDED.updated_by
         RETURNING occasion, enabled, days_ahead, updated_at, updated_by",
    )
    .bind(occasion)
    .bind(enabled)
    .bind(days_ahead)
    .bind(now)
    .bind(by)
    .fetch_one(tx.conn())
    .await?)
}

/// Members to write to on one occasion: who, what makes the occasion unique, its values.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub member_id: Uuid,
    pub occasion: String,
    pub data: serde_json::Value,
}

/// Active members whose birthday (month and day) is `day`; the occasion is the year.
pub async fn birthdays_on(tx: &mut TenantTx, day: chrono::NaiveDate) -> Result<Vec<Due>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id AS member_id, 'birthday:' || $3::text AS occasion, '{}'::jsonb AS data
         FROM members
         WHERE status = 'active' AND erased_at IS NULL AND birthday IS NOT NULL
           AND extract(month FROM birthday) = $1 AND extract(day FROM birthday) = $2
         ORDER BY id",
    )
    .bind(chrono::Datelike::month(&day) as i32)
    .bind(chrono::Datelike::day(&day) as i32)
    .bind(chrono::Datelike::year(&day).to_string())
    .fetch_all(tx.conn())
    .await?)
}

/// Tier changes recorded (as `tier.changed` events of the outbox) from `since` up to `now`,
/// of active members; the occasion is the event's own (the new tier and the day), and the
/// values are the tiers' names in `locale` in the ladder in force (`from`, `to`; their codes
/// as `from_code`, `to_code`) and the move's `kind`.
pub async fn tier_changes(
    tx: &mut TenantTx,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    locale: &str,
) -> Result<Vec<Due>, DbError> {
    Ok(sqlx::query_as(
        "WITH names AS (
             SELECT t ->> 'code' AS code, coalesce(t -> 'name' ->> $3, t ->> 'code') AS name
             FROM tier_ladder_active a JOIN tier_ladders l ON l.version = a.version,
                  jsonb_array_elements(coalesce(l.ladder -> 'tiers', '[]'::jsonb)) t)
         SELECT o.member_id, o.occasion,
                jsonb_build_object(
                    'from', coalesce((SELECT name FROM names WHERE code = o.data ->> 'from'),
                                     o.data ->> 'from'),
                    'to', coalesce((SELECT name FROM names WHERE code = o.data ->> 'to'),
                                   o.data ->> 'to'),
                    'from_code', o.data ->> 'from', 'to_code', o.data ->> 'to',
                    'kind', o.data ->> 'kind') AS data
         FROM outbox o JOIN members m ON m.id = o.member_id
         WHERE o.event = 'tier.changed' AND o.created_at >= $1 AND o.created_at <= $2
           AND m.status = 'active'
         ORDER BY o.id",
    )
    .bind(since)
    .bind(now)
    .bind(locale)
    .fetch_all(tx.conn())
    .await?)
}

/// Members with points whose last day is `date`: lots expiring after `from` (the start of
/// `date`) up to `to` (the start of the next day, when the lots expire), with how many.
pub async fn points_expiring(
    tx: &mut TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    date: chrono::NaiveDate,
) -> Result<Vec<Due>, DbError> {
    Ok(sqlx::query_as(
        "SELECT l.member_id, 'points.expiring:' || $3::text AS occasion,
                jsonb_build_object('points', sum(l.remaining), 'date', $3::text) AS data
         FROM point_lots l JOIN members m ON m.id = l.member_id
         WHERE l.remaining > 0 AND l.expires_at > $1 AND l.expires_at <= $2
           AND m.status = 'active' AND m.erased_at IS NULL
         GROUP BY l.member_id",
    )
    .bind(from)
    .bind(to)
    .bind(date.to_string())
    .fetch_all(tx.conn())
    .await?)
}

/// Active memberships whose last day is `day` (`ends_on`, exclusive, the day after).
pub async fn memberships_ending(
    tx: &mut TenantTx,
    day: chrono::NaiveDate,
) -> Result<Vec<Due>, DbError> {
    Ok(sqlx::query_as(
        "SELECT ms.member_id, 'membership.ending:' || ms.id::text || ':' || $1::text AS occasion,
                jsonb_build_object('plan', p.name, 'date', $1::text) AS data
         FROM memberships ms
         JOIN membership_plans p ON p.id = ms.plan_id
         JOIN members m ON m.id = ms.member_id
         WHERE ms.status = 'active' AND ms.ends_on = $1::date + 1
           AND m.status = 'active' AND m.erased_at IS NULL",
    )
    .bind(day.to_string())
    .fetch_all(tx.conn())
    .await?)
}

/// Visit passes of active members whose last usable day (`expires_on`) is `day` and that
/// still have visits left; the values are the pass product's name, that day and the visits
/// left. A pass that never expires, is used up or ended earlier is not due.
pub async fn passes_ending(tx: &mut TenantTx, day: chrono::NaiveDate) -> Result<Vec<Due>, DbError> {
    Ok(sqlx::query_as(
        "SELECT mp.member_id, 'pass.ending:' || mp.id::text || ':' || $1::text AS occasion,
                jsonb_build_object('pass', p.name, 'date', $1::text,
                                   'visits', mp.visits_left) AS data
         FROM member_passes mp
         JOIN pass_products p ON p.id = mp.product_id
         JOIN members m ON m.id = mp.member_id
         WHERE mp.expires_on = $1::date AND mp.visits_left > 0
           AND m.status = 'active' AND m.erased_at IS NULL
         ORDER BY mp.id",
    )
    .bind(day.to_string())
    .fetch_all(tx.conn())
    .await?)
}

/// Confirmed registrations for activities starting within `[from, to)`.
pub async fn activities_starting(
    tx: &mut TenantTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid, String, DateTime<Utc>, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.member_id, r.id, a.title, a.starts_at, a.place
         FROM activity_registrations r JOIN activities a ON a.id = r.activity_id
         WHERE r.status = 'confirmed' AND a.starts_at >= $1 AND a.starts_at < $2",
    )
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?)
}

/// Delays a queued delivery (quiet hours).
pub async fn delay_delivery(
    tx: &mut TenantTx,
    dedupe_key: &str,
    until: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE deliveries SET next_at = $2 WHERE dedupe_key = $1 AND next_at < $2")
        .bind(dedupe_key)
        .bind(until)
        .execute(tx.conn())
        .await?;
    Ok(())
}
