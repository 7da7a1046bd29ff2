//! Campaigns: the campaign rows, the audience's reach per channel (one statement over the
//! member search), the members of a batch with their contact details, preferences and
//! recent campaign messages, and the sends: one row per (campaign, member, channel), unique,
//! so a campaign reaches a member at most once per channel however many runners send it.

use crate::members::{push_conditions, Search, SortKey};
use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub search: Value,
    pub filter: Value,
    pub channels: Vec<String>,
    pub messages: Value,
    pub send_at: Option<DateTime<Utc>>,
    pub status: String,
    pub stop_reason: Option<String>,
    pub cursor_at: Option<DateTime<Utc>>,
    pub cursor_id: Option<Uuid>,
    pub email_reserved: i64,
    pub sms_reserved: i64,
    pub email_used: i64,
    pub sms_used: i64,
    pub matched: i64,
    pub done: i64,
    pub idempotency_key: Option<String>,
    pub request_hash: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The saved segment it was sent to (its filter as it was then is `filter`).
    pub segment_id: Option<Uuid>,
}

const COLUMNS: &str = "id, name, search, filter, channels, messages, send_at, status, \
     stop_reason, cursor_at, cursor_id, email_reserved, sms_reserved, email_used, sms_used, \
     matched, done, idempotency_key, request_hash, created_at, created_by, started_at, \
     finished_at, segment_id";

/// Writes a new campaign; `None` when its idempotency key is taken already.
pub async fn insert(tx: &mut TenantTx, c: &Campaign) -> Result<Option<Campaign>, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO campaigns (id, name, search, filter, channels, messages, send_at, status, \
             matched, idempotency_key, request_hash, created_at, created_by, segment_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(c.id)
    .bind(&c.name)
    .bind(&c.search)
    .bind(&c.filter)
    .bind(&c.channels)
    .bind(&c.messages)
    .bind(c.send_at)
    .bind(&c.status)
    .bind(c.matched)
    .bind(&c.idempotency_key)
    .bind(&c.request_hash)
    .bind(c.created_at)
    .bind(&c.created_by)
    .bind(c.segment_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// The campaign written under an idempotency key.
pub async fn by_key(tx: &mut TenantTx, key: &str) -> Result<Option<Campaign>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE idempotency_key = $1"
    ))
    .bind(key)
    .fetch_optional(tx.conn())
    .await?)
}

/// One campaign; `lock` takes its row lock (a batch holds it, so two runners never overlap).
pub async fn get(tx: &mut TenantTx, id: Uuid, lock: bool) -> Result<Option<Campaign>, DbError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// The latest campaigns, newest first.
pub async fn list(tx: &mut TenantTx, limit: i64) -> Result<Vec<Campaign>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM campaigns ORDER BY created_at DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Starts sending: the quotas taken for it, and the status `sending`.
pub async fn start(
    tx: &mut TenantTx,
    id: Uuid,
    email_reserved: i64,
    sms_reserved: i64,
    matched: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE campaigns SET status = 'sending', email_reserved = $2, sms_reserved = $3, \
         matched = $4, started_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(email_reserved)
    .bind(sms_reserved)
    .bind(matched)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends a campaign with `status` (and why, when stopped).
pub async fn finish(
    tx: &mut TenantTx,
    id: Uuid,
    status: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE campaigns SET status = $2, stop_reason = $3, finished_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Cancels a scheduled campaign; `false` when it is not scheduled (any more).
pub async fn cancel(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE campaigns SET status = 'cancelled', finished_at = $2 \
         WHERE id = $1 AND status = 'scheduled'",
    )
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

/// A batch's progress: members walked, quota used, the keyset moved.
pub async fn advance(
    tx: &mut TenantTx,
    id: Uuid,
    done: i64,
    email_used: i64,
    sms_used: i64,
    cursor: (DateTime<Utc>, Uuid),
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE campaigns SET done = done + $2, email_used = email_used + $3, \
         sms_used = sms_used + $4, email_reserved = greatest(email_reserved, email_used + $3), \
         sms_reserved = greatest(sms_reserved, sms_used + $4), cursor_at = $5, cursor_id = $6 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(done)
    .bind(email_used)
    .bind(sms_used)
    .bind(cursor.0)
    .bind(cursor.1)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// How many of an audience each channel reaches, and why the others are not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct Reach {
    pub members: i64,
    /// Members at their contact budget already (reached by no channel).
    pub over_budget: i64,
    pub email: i64,
    pub email_missing: i64,
    pub email_opted_out: i64,
    pub sms: i64,
    pub sms_missing: i64,
    pub sms_opted_out: i64,
    pub inbox: i64,
}

/// The audience of `search` counted per channel in one statement: members with an
/// address (a phone) who have not turned marketing e-mail (text messages) off, and are not
/// at their contact budget (`budget` messages since `since`).
pub async fn reach(
    tx: &mut TenantTx,
    search: &Search,
    budget: Option<i32>,
    since: DateTime<Utc>,
) -> Result<Reach, DbError> {
    let mut s = search.clone();
    s.sort = SortKey::Name;
    s.include_erased = false;
    let mut q = QueryBuilder::<Postgres>::new("SELECT count(*) AS members, ");
    q.push("count(*) FILTER (WHERE NOT x.room) AS over_budget, ");
    q.push("count(*) FILTER (WHERE x.room AND x.email AND x.m_email) AS email, ");
    q.push("count(*) FILTER (WHERE x.room AND NOT x.email) AS email_missing, ");
    q.push("count(*) FILTER (WHERE x.room AND x.email AND NOT x.m_email) AS email_opted_out, ");
    q.push("count(*) FILTER (WHERE x.room AND x.phone AND x.m_sms) AS sms, ");
    q.push("count(*) FILTER (WHERE x.room AND NOT x.phone) AS sms_missing, ");
    q.push("count(*) FILTER (WHERE x.room AND x.phone AND NOT x.m_sms) AS sms_opted_out, ");
    q.push("count(*) FILTER (WHERE x.room) AS inbox FROM (SELECT ");
    // An address that bounced for good is no address to send to.
    q.push(
        "m.email_enc IS NOT NULL AND NOT EXISTS (SELECT 1 FROM email_bounces b \
         WHERE b.email_index = m.email_index) AS email, m.phone_enc IS NOT NULL AS phone, ",
    );
    q.push("coalesce(cp.marketing_email, true) AS m_email, ");
    q.push("coalesce(cp.marketing_sms, true) AS m_sms, ");
    q.push_bind(budget);
    q.push(
        "::int IS NULL OR (SELECT count(*) FROM campaign_sends cs WHERE cs.member_id = m.id \
         AND cs.skipped IS NULL AND cs.created_at > ",
    );
    q.push_bind(since);
    q.push(") < ");
    q.push_bind(budget);
    q.push(
        "::int AS room FROM members m \
         LEFT JOIN member_contact_preferences cp ON cp.member_id = m.id",
    );
    push_conditions(&mut q, &s);
    q.push(") x");
    Ok(q.build_query_as()
        .persistent(false)
        .fetch_one(tx.conn())
        .await?)
}

/// A member of a batch as sending needs them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    pub id: Uuid,
    pub status: String,
    pub name: String,
    pub card_number: Option<String>,
    pub email_enc: Option<Vec<u8>>,
    pub email_key: Option<i16>,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_key: Option<i16>,
    pub marketing_email: bool,
    pub marketing_sms: bool,
    /// The member's e-mail address bounced for good (the mail server refused it).
    pub email_bounced: bool,
    /// Campaign messages since the budget's start.
    pub recent: i64,
}

/// The members `ids` with what sending needs (one statement).
pub async fn targets(
    tx: &mut TenantTx,
    ids: &[Uuid],
    since: DateTime<Utc>,
) -> Result<Vec<Target>, DbError> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.status, m.name, \
             (SELECT c.number FROM member_cards c WHERE c.member_id = m.id AND c.status = 'active') \
                 AS card_number, \
             m.email_enc, m.email_key, m.phone_enc, m.phone_key, \
             coalesce(cp.marketing_email, true) AS marketing_email, \
             coalesce(cp.marketing_sms, true) AS marketing_sms, \
             EXISTS (SELECT 1 FROM email_bounces b WHERE b.email_index = m.email_index) \
                 AS email_bounced, \
             (SELECT count(*) FROM campaign_sends cs WHERE cs.member_id = m.id \
                 AND cs.skipped IS NULL AND cs.created_at > $2) AS recent \
         FROM members m LEFT JOIN member_contact_preferences cp ON cp.member_id = m.id \
         WHERE m.id = ANY($1) ORDER BY m.created_at, m.id",
    )
    .bind(ids)
    .bind(since)
    .fetch_all(tx.conn())
    .await?)
}

/// Records sends (skipped ones with their reason) in one statement; answers the (member,
/// channel) pairs that were new: a pair recorded before is left as it was.
pub async fn record_sends(
    tx: &mut TenantTx,
    campaign: Uuid,
    members: &[Uuid],
    channels: &[String],
    skipped: &[Option<String>],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, String)>, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO campaign_sends (campaign_id, member_id, channel, skipped, created_at) \
         SELECT $1, s.member_id, s.channel, s.skipped, $5 \
         FROM unnest($2::uuid[], $3::text[], $4::text[]) AS s(member_id, channel, skipped) \
         ON CONFLICT (campaign_id, member_id, channel) DO NOTHING \
         RETURNING member_id, channel",
    )
    .bind(campaign)
    .bind(members)
    .bind(channels)
    .bind(skipped)
    .bind(now)
    .fetch_all(tx.conn())
    .await?)
}

/// Writes a campaign's messages of one channel as deliveries (e-mail: pending for the
/// deliverer; inbox: sent, shown in the portal) and links each send to its delivery, in
/// one statement. The delivery key `campaign:<id>:<channel>:<member>` is unique.
pub async fn add_deliveries(
    tx: &mut TenantTx,
    campaign: Uuid,
    channel: &str,
    members: &[Uuid],
    contents: &[Value],
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    let status = if channel == "inbox" {
        "sent"
    } else {
        "pending"
    };
    Ok(sqlx::query(
        "WITH d AS ( \
             INSERT INTO deliveries (channel, member_id, occasion, dedupe_key, content, status, \
                 next_at, created_at, sent_at) \
             SELECT $2, x.member_id, 'campaign', \
                 'campaign:' || $1::text || ':' || $2 || ':' || x.member_id::text, x.content, $5, \
                 $6, $6, CASE WHEN $5 = 'sent' THEN $6 END \
             FROM unnest($3::uuid[], $4::jsonb[]) AS x(member_id, content) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, member_id) \
         UPDATE campaign_sends cs SET delivery_id = d.id FROM d \
         WHERE cs.campaign_id = $1 AND cs.channel = $2 AND cs.member_id = d.member_id",
    )
    .bind(campaign)
    .bind(channel)
    .bind(members)
    .bind(contents)
    .bind(status)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// A campaign's results on one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, Serialize)]
pub struct ChannelResult {
    pub channel: String,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub opened: i64,
    pub no_contact: i64,
    pub opted_out: i64,
    pub over_budget: i64,
    pub quota: i64,
}

/// Per channel: messages written, delivered, failed, opened (inbox messages read, e-mails
/// whose image loaded; one row per member and channel, so members), and the skipped by
/// reason.
pub async fn results(tx: &mut TenantTx, campaign: Uuid) -> Result<Vec<ChannelResult>, DbError> {
    Ok(sqlx::query_as(
        "SELECT cs.channel, \
             count(*) FILTER (WHERE cs.skipped IS NULL) AS sent, \
             count(*) FILTER (WHERE cs.skipped IS NULL \
                 AND (cs.channel = 'sms' OR d.status = 'sent')) AS delivered, \
             count(*) FILTER (WHERE d.status IN ('failed', 'stopped')) AS failed, \
             count(*) FILTER (WHERE (cs.channel = 'inbox' AND d.read_at IS NOT NULL) \
                 OR (cs.channel = 'email' AND cs.opened_at IS NOT NULL)) AS opened, \
             count(*) FILTER (WHERE cs.skipped = 'no_contact') AS no_contact, \
             count(*) FILTER (WHERE cs.skipped = 'opted_out') AS opted_out, \
             count(*) FILTER (WHERE cs.skipped = 'over_budget') AS over_budget, \
             count(*) FILTER (WHERE cs.skipped = 'quota') AS quota \
         FROM campaign_sends cs LEFT JOIN deliveries d ON d.id = cs.delivery_id \
         WHERE cs.campaign_id = $1 GROUP BY cs.channel ORDER BY cs.channel",
    )
    .bind(campaign)
    .fetch_all(tx.conn())
    .await?)
}

/// Records that a member's e-mail of a campaign was opened, the first time only: one
/// conditional statement, so repeated and parallel loads count once. `false` when nothing
/// changed (opened before, or no such e-mail).
pub async fn record_email_open(
    tx: &mut TenantTx,
    campaign: Uuid,
    member: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE campaign_sends SET opened_at = $3 \
         WHERE campaign_id = $1 AND member_id = $2 AND channel = 'email' \
           AND skipped IS NULL AND opened_at IS NULL",
    )
    .bind(campaign)
    .bind(member)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

/// Members the campaign reached who turned marketing e-mail or text messages off since
/// `since` (its start).
pub async fn unsubscribed_after(
    tx: &mut TenantTx,
    campaign: Uuid,
    since: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM member_contact_preferences p \
         WHERE p.updated_at >= $2 \
           AND (p.marketing_email = false OR p.marketing_sms = false) \
           AND EXISTS (SELECT 1 FROM campaign_sends cs WHERE cs.campaign_id = $1 \
               AND cs.member_id = p.member_id AND cs.skipped IS NULL)",
    )
    .bind(campaign)
    .bind(since)
    .fetch_one(tx.conn())
    .await?)
}

/// The business's contact budget (messages per member per 7 days; `None`: none).
pub async fn contact_budget(tx: &mut TenantTx) -> Result<Option<i32>, DbError> {
    Ok(
        sqlx::query_scalar::<_, Option<i32>>("SELECT contact_budget FROM campaign_settings")
            .fetch_optional(tx.conn())
            .await?
            .flatten(),
    )
}

pub async fn set_contact_budget(
    tx: &mut TenantTx,
    budget: Option<i32>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO campaign_settings (id, contact_budget, updated_at, updated_by) \
         VALUES (true, $1, $2, $3) ON CONFLICT (id) DO UPDATE \
         SET contact_budget = $1, updated_at = $2, updated_by = $3",
    )
    .bind(budget)
    .bind(now)
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Serialises campaign batches of one business, so the contact budget is counted exactly
/// when two campaigns send at once.
pub async fn lock_budget(tx: &mut TenantTx) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('patron.campaigns.budget', $1))")
        .bind(tx.tenant_id())
        .execute(tx.conn())
        .await?;
    Ok(())
}
