//! The outbox, message templates, webhook endpoints, deliveries and their attempts.
//!
//! Changes write one outbox row in their own transaction ([`record`]). The dispatcher claims
//! undispatched rows with `FOR UPDATE SKIP LOCKED` and turns them into deliveries, each under
//! a unique key; the deliverer claims due deliveries under a lease, so any number of runners
//! share the work and a runner that died leaves its deliveries to the next.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

/// One row of the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub event: String,
    pub member_id: Option<Uuid>,
    pub entity: String,
    pub occasion: String,
    pub data: Value,
    pub created_at: DateTime<Utc>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub sequence: Option<i64>,
}

const OUTBOX: &str =
    "id, event, member_id, entity, occasion, data, created_at, dispatched_at, sequence";

/// An event waiting in its transaction for the outbox.
#[derive(Debug, Clone)]
pub struct Pending {
    event: String,
    member_id: Option<Uuid>,
    entity: String,
    occasion: String,
    data: Value,
    created_at: DateTime<Utc>,
}

/// An event about the point entry a statement makes ([`crate::points::record_purchase`],
/// [`crate::points::redeem_recorded`]): that statement writes its outbox row too, so the
/// commit needs no statement of its own, when no other event of the transaction waits (the
/// rows keep the order the events happened in); otherwise it waits with them, as
/// [`record`]'s do. Its data's `entry_id` is the entry's id.
#[derive(Debug, Clone)]
pub struct EntryEvent<'a> {
    pub event: &'a str,
    pub member_id: Uuid,
    /// What the event is about (`None`: the entry itself, by its id).
    pub occasion: Option<&'a str>,
    pub data: Value,
    pub at: DateTime<Utc>,
}

impl EntryEvent<'_> {
    /// Whether the statement making the entry may write the row: nothing else waits.
    pub(crate) fn folds(tx: &TenantTx) -> bool {
        tx.outbox.is_empty()
    }

    /// The outbox's columns from the statement's parameters `$first`.. (event, entity,
    /// occasion, data), the member at `member`, the time at `at`, the entry's id in `e.id`:
    /// a CTE to add after the entry's.
    pub(crate) fn cte(first: usize, member: &str, at: &str) -> String {
        let (ev, entity, occasion, data) = (first, first + 1, first + 2, first + 3);
        format!(
            ", ob AS ( \
                 INSERT INTO outbox (event, member_id, entity, occasion, data, created_at) \
                 SELECT ${ev}, {member}, ${entity}, coalesce(${occasion}, e.id::text), \
                        jsonb_set(${data}::jsonb, '{{entry_id}}', to_jsonb(e.id)), {at} \
                 FROM e \
             )"
        )
    }

    fn entity(&self) -> String {
        format!("member:{}", self.member_id)
    }

    /// Binds the parameters of [`EntryEvent::cte`], after the statement's others.
    pub(crate) fn bind<'q, O>(
        &'q self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        q.bind(self.event)
            .bind(self.entity())
            .bind(self.occasion)
            .bind(&self.data)
    }

    /// Queues the event with the others, for the commit.
    pub(crate) fn queue(&self, tx: &mut TenantTx, entry_id: i64) {
        let mut data = self.data.clone();
        if let Value::Object(m) = &mut data {
            m.insert("entry_id".into(), Value::from(entry_id));
        }
        tx.outbox.push(Pending {
            event: self.event.to_owned(),
            member_id: Some(self.member_id),
            entity: self.entity(),
            occasion: self
                .occasion
                .map_or_else(|| entry_id.to_string(), str::to_owned),
            data,
            created_at: self.at,
        });
    }
}

/// Records an event in the caller's transaction. It is written with the transaction's other
/// events by [`TenantTx::commit`], in one statement; a transaction that rolls back (or the
/// savepoint it was recorded under) writes nothing.
pub async fn record(
    tx: &mut TenantTx,
    event: &str,
    member_id: Option<Uuid>,
    entity: &str,
    occasion: &str,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    tx.outbox.push(Pending {
        event: event.to_owned(),
        member_id,
        entity: entity.to_owned(),
        occasion: occasion.to_owned(),
        data: data.clone(),
        created_at: now,
    });
    Ok(())
}

/// Writes a transaction's waiting events, in the order they were recorded: one statement.
pub(crate) async fn write_pending(
    conn: &mut sqlx::PgConnection,
    events: Vec<Pending>,
) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    if let [e] = events.as_slice() {
        sqlx::query(
            "INSERT INTO outbox (event, member_id, entity, occasion, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&e.event)
        .bind(e.member_id)
        .bind(&e.entity)
        .bind(&e.occasion)
        .bind(&e.data)
        .bind(e.created_at)
        .execute(conn)
        .await?;
        return Ok(());
    }
    let mut cols = (
        Vec::with_capacity(events.len()),
        Vec::with_capacity(events.len()),
        Vec::with_capacity(events.len()),
        Vec::with_capacity(events.len()),
        Vec::with_capacity(events.len()),
        Vec::with_capacity(events.len()),
    );
    for e in events {
        cols.0.push(e.event);
        cols.1.push(e.member_id);
        cols.2.push(e.entity);
        cols.3.push(e.occasion);
        cols.4.push(e.data);
        cols.5.push(e.created_at);
    }
    // The ids follow the order the events happened in (webhooks number them by id).
    sqlx::query(
        "INSERT INTO outbox (event, member_id, entity, occasion, data, created_at)
         SELECT e, m, en, o, d, c
         FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[],
                     $6::timestamptz[]) WITH ORDINALITY AS x (e, m, en, o, d, c, n)
         ORDER BY n",
    )
    .bind(cols.0)
    .bind(cols.1)
    .bind(cols.2)
    .bind(cols.3)
    .bind(cols.4)
    .bind(cols.5)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` undispatched rows, oldest first; rows another runner holds are
/// skipped.
pub async fn claim_undispatched(tx: &mut TenantTx, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {OUTBOX} FROM outbox WHERE dispatched_at IS NULL
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Numbers a batch of claimed rows in one statement: each entity's events get the next
/// numbers of its sequence, in the rows' order, and the rows are marked dispatched. Answers
/// (row id, sequence).
pub async fn mark_dispatched(
    tx: &mut TenantTx,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<(i64, i64)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(
        "WITH b AS (
             SELECT id, entity, row_number() OVER (PARTITION BY entity ORDER BY id) AS n
             FROM outbox WHERE id = ANY($1)),
         c AS (SELECT entity, count(*) AS k FROM b GROUP BY entity),
         s AS (
             INSERT INTO entity_sequences (entity, last) SELECT entity, k FROM c
             ON CONFLICT (entity) DO UPDATE SET last = entity_sequences.last + excluded.last
             RETURNING entity, last)
         UPDATE outbox o SET dispatched_at = $2, sequence = s.last - c.k + b.n
         FROM b JOIN c USING (entity) JOIN s USING (entity)
         WHERE o.id = b.id
         RETURNING o.id, o.sequence",
    )
    .bind(ids)
    .bind(now)
    .fetch_all(tx.conn())
    .await?)
}

/// Dispatched events of the given types created at or after `since`, oldest first.
pub async fn events_since(
    tx: &mut TenantTx,
    events: &[String],
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OutboxRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {OUTBOX} FROM outbox
         WHERE dispatched_at IS NOT NULL AND event = ANY($1) AND created_at >= $2
         ORDER BY id LIMIT $3"
    ))
    .bind(events)
    .bind(since)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Every outbox row (newest first), for inspection.
pub async fn recent(tx: &mut TenantTx, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {OUTBOX} FROM outbox ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

// ---- templates ----

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateRow {
    pub occasion: String,
    pub channel: String,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub enabled: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const TEMPLATE: &str =
    "occasion, channel, locale, subject, body_text, body_html, enabled, updated_at, updated_by";

pub async fn upsert_template(tx: &mut TenantTx, t: &TemplateRow) -> Result<TemplateRow, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO message_templates ({TEMPLATE}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (occasion, channel, locale) DO UPDATE SET subject = excluded.subject,
             body_text = excluded.body_text, body_html = excluded.body_html,
             enabled = excluded.enabled, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by
         RETURNING {TEMPLATE}"
    ))
    .bind(&t.occasion)
    .bind(&t.channel)
    .bind(&t.locale)
    .bind(&t.subject)
    .bind(&t.body_text)
    .bind(&t.body_html)
    .bind(t.enabled)
    .bind(t.updated_at)
    .bind(&t.updated_by)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn templates(tx: &mut TenantTx) -> Result<Vec<TemplateRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TEMPLATE} FROM message_templates ORDER BY occasion, channel, locale"
    ))
    .fetch_all(tx.conn())
    .await?)
}

/// The template for an occasion in a channel: in `locale` when there is one, else in the
/// other language. Disabled templates count as missing.
pub async fn template_for(
    tx: &mut TenantTx,
    occasion: &str,
    channel: &str,
    locale: &str,
) -> Result<Option<TemplateRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TEMPLATE} FROM message_templates
         WHERE occasion = $1 AND channel = $2 AND enabled
         ORDER BY locale = $3 DESC LIMIT 1"
    ))
    .bind(occasion)
    .bind(channel)
    .bind(locale)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn delete_template(
    tx: &mut TenantTx,
    occasion: &str,
    channel: &str,
    locale: &str,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "DELETE FROM message_templates WHERE occasion = $1 AND channel = $2 AND locale = $3",
    )
    .bind(occasion)
    .bind(channel)
    .bind(locale)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

// ---- webhook endpoints ----

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<DateTime<Utc>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ENDPOINT: &str = "id, url, description, events, secret, previous_secret, previous_until, \
     enabled, disabled_reason, failing_since, created_at, updated_at";

pub async fn create_endpoint(
    tx: &mut TenantTx,
    url: &str,
    description: &str,
    events: &[String],
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Endpoint, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO webhook_endpoints (id, url, description, events, secret, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {ENDPOINT}"
    ))
    .bind(Uuid::now_v7())
    .bind(url)
    .bind(description)
    .bind(events)
    .bind(secret)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn endpoints(tx: &mut TenantTx) -> Result<Vec<Endpoint>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ENDPOINT} FROM webhook_endpoints ORDER BY created_at, id"
    ))
    .fetch_all(tx.conn())
    .await?)
}

/// `NotFound` when there is no such endpoint.
pub async fn endpoint(tx: &mut TenantTx, id: Uuid) -> Result<Endpoint, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ENDPOINT} FROM webhook_endpoints WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// Changes an endpoint; enabling it again clears its failure record.
pub async fn update_endpoint(
    tx: &mut TenantTx,
    id: Uuid,
    url: &str,
    description: &str,
    events: &[String],
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<Endpoint, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4,
             failing_since = CASE WHEN $5 AND NOT enabled THEN NULL ELSE failing_since END,
             disabled_reason = CASE WHEN $5 THEN NULL ELSE coalesce(disabled_reason, 'by_staff') END,
             enabled = $5, updated_at = $6
         WHERE id = $1 RETURNING {ENDPOINT}"
    ))
    .bind(id)
    .bind(url)
    .bind(description)
    .bind(events)
    .bind(enabled)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Puts a new secret in place; the old one keeps signing until `keep_until`.
pub async fn rotate_secret(
    tx: &mut TenantTx,
    id: Uuid,
    secret: &str,
    keep_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Endpoint, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $3,
             secret = $2, updated_at = $4
         WHERE id = $1 RETURNING {ENDPOINT}"
    ))
    .bind(id)
    .bind(secret)
    .bind(keep_until)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Switches an endpoint off, saying why (`gone`: it answered 410). Returns whether this call
/// switched it off (it was on).
pub async fn disable_endpoint(
    tx: &mut TenantTx,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = $3
         WHERE id = $1 AND enabled",
    )
    .bind(id)
    .bind(reason)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

pub async fn delete_endpoint(tx: &mut TenantTx, id: Uuid) -> Result<bool, DbError> {
    Ok(sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected()
        > 0)
}

/// Records how a call to an endpoint went: a success clears its failure record; a failure
/// starts one, and one older than `disable_after` switches the endpoint off. Returns whether
/// this call switched it off.
pub async fn note_endpoint_result(
    tx: &mut TenantTx,
    id: Uuid,
    ok: bool,
    now: DateTime<Utc>,
    disable_after: Duration,
) -> Result<bool, DbError> {
    if ok {
        sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        return Ok(false);
    }
    // The first statement locks the row, so runners reporting at once take turns and only
    // one of them switches the endpoint off.
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(sqlx::query(
        "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', updated_at = $2
         WHERE id = $1 AND enabled AND failing_since <= $3",
    )
    .bind(id)
    .bind(now)
    .bind(now - disable_after)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

// ---- deliveries ----

#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub outbox_id: Option<i64>,
    pub channel: &'a str,
    pub endpoint_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub occasion: Option<&'a str>,
    pub dedupe_key: &'a str,
    pub recipient: &'a str,
    pub content: &'a Value,
}

/// Adds a delivery unless one with its key exists; `Some(id)` when added.
pub async fn add_delivery(
    tx: &mut TenantTx,
    d: &NewDelivery<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO deliveries (outbox_id, channel, endpoint_id, member_id, occasion, dedupe_key,
             recipient, content, next_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(d.outbox_id)
    .bind(d.channel)
    .bind(d.endpoint_id)
    .bind(d.member_id)
    .bind(d.occasion)
    .bind(d.dedupe_key)
    .bind(d.recipient)
    .bind(d.content)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?)
}

/// Adds a delivery, or makes one that failed or was stopped due again (a replay). Returns
/// whether anything is now waiting to go.
pub async fn add_or_retry_delivery(
    tx: &mut TenantTx,
    d: &NewDelivery<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO deliveries (outbox_id, channel, endpoint_id, member_id, occasion, dedupe_key,
             recipient, content, next_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (dedupe_key) DO UPDATE SET status = 'pending', next_at = $9, attempts = 0,
             locked_until = NULL
         WHERE deliveries.status IN ('failed', 'stopped')
         RETURNING id",
    )
    .bind(d.outbox_id)
    .bind(d.channel)
    .bind(d.endpoint_id)
    .bind(d.member_id)
    .bind(d.occasion)
    .bind(d.dedupe_key)
    .bind(d.recipient)
    .bind(d.content)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?
    .is_some())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub outbox_id: Option<i64>,
    pub channel: String,
    pub endpoint_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub occasion: Option<String>,
    pub dedupe_key: String,
    pub recipient: String,
    pub content: Value,
    pub status: String,
    pub attempts: i32,
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const DELIVERY: &str = "id, outbox_id, channel, endpoint_id, member_id, occasion, dedupe_key, \
     recipient, content, status, attempts, next_at, last_error, created_at, sent_at";

/// Claims up to `limit` due deliveries under a lease (and those whose lease ran out).
pub async fn claim_deliveries(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Delivery>, DbError> {
    claim_deliveries_of(tx, None, now, lease, limit).await
}

/// [`claim_deliveries`] of one channel only (`None`: every channel).
pub async fn claim_deliveries_of(
    tx: &mut TenantTx,
    channel: Option<&str>,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Delivery>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, locked_until = $2
         WHERE id IN (
             SELECT id FROM deliveries
             WHERE ((status = 'pending' AND next_at <= $1)
                    OR (status = 'sending' AND locked_until < $1))
               AND ($4::text IS NULL OR channel = $4)
             ORDER BY next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING {DELIVERY}"
    ))
    .bind(now)
    .bind(now + lease)
    .bind(limit)
    .bind(channel)
    .fetch_all(tx.conn())
    .await?)
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub ok: bool,
    pub status_code: Option<i32>,
    pub answer: String,
    /// After a failure: when to try again (`None`: never; the delivery fails, or is
    /// `stopped` when `stop`).
    pub retry_at: Option<DateTime<Utc>>,
    pub stop: bool,
}

/// Logs an attempt and moves the delivery on.
pub async fn finish_delivery(
    tx: &mut TenantTx,
    id: i64,
    a: &Attempt,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let answer: String = a.answer.chars().take(2_000).collect();
    let status = if a.ok {
        "sent"
    } else if a.retry_at.is_some() {
        "pending"
    } else if a.stop {
        "stopped"
    } else {
        "failed"
    };
    sqlx::query(
        "WITH a AS (INSERT INTO delivery_attempts (delivery_id, at, ok, status_code, answer)
                    VALUES ($1, $2, $3, $4, $5))
         UPDATE deliveries SET status = $6, locked_until = NULL, next_at = coalesce($7, next_at),
             last_error = CASE WHEN $3 THEN NULL ELSE $5 END,
             sent_at = CASE WHEN $3 THEN $2 ELSE sent_at END
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(a.ok)
    .bind(a.status_code)
    .bind(&answer)
    .bind(status)
    .bind(a.retry_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Deliveries, newest first; of one endpoint, or of one channel.
pub async fn deliveries(
    tx: &mut TenantTx,
    endpoint_id: Option<Uuid>,
    channel: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {DELIVERY} FROM deliveries
         WHERE ($1::uuid IS NULL OR endpoint_id = $1) AND ($2::text IS NULL OR channel = $2)
         ORDER BY id DESC LIMIT $3"
    ))
    .bind(endpoint_id)
    .bind(channel)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub status_code: Option<i32>,
    pub answer: String,
}

/// The attempts of the given deliveries, oldest first.
pub async fn attempts(tx: &mut TenantTx, delivery_ids: &[i64]) -> Result<Vec<AttemptRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, delivery_id, at, ok, status_code, answer FROM delivery_attempts
         WHERE delivery_id = ANY($1) ORDER BY id",
    )
    .bind(delivery_ids)
    .fetch_all(tx.conn())
    .await?)
}

/// E-mails sent since `since` (for the monthly quota).
pub async fn emails_sent_since(tx: &mut TenantTx, since: DateTime<Utc>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM deliveries WHERE channel = 'email' AND created_at >= $1",
    )
    .bind(since)
    .fetch_one(tx.conn())
    .await?)
}

/// Records that the address behind `email_index` bounced (the newest reason kept).
pub async fn record_bounce(
    tx: &mut TenantTx,
    email_index: &[u8],
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let reason: String = reason.chars().take(500).collect();
    sqlx::query(
        "INSERT INTO email_bounces (email_index, at, reason) VALUES ($1, $2, $3)
         ON CONFLICT (email_index) DO UPDATE SET at = EXCLUDED.at, reason = EXCLUDED.reason",
    )
    .bind(email_index)
    .bind(now)
    .bind(&reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// When the address behind `email_index` bounced, if it did.
pub async fn bounced(
    tx: &mut TenantTx,
    email_index: &[u8],
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT at FROM email_bounces WHERE email_index = $1")
            .bind(email_index)
            .fetch_optional(tx.conn())
            .await?,
    )
}

// ---- members' replies to texts ----

/// A member's reply to a text, as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SmsReply {
    pub provider_id: String,
    pub body_hash: Vec<u8>,
    pub member_id: Option<Uuid>,
    pub action: String,
}

/// Records a reply under the provider's message id. `Ok(None)` when it is new; the reply
/// recorded before under that id otherwise (parallel callbacks wait for each other's row).
pub async fn record_sms_reply(
    tx: &mut TenantTx,
    reply: &SmsReply,
    phone_index: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SmsReply>, DbError> {
    let added: Option<String> = sqlx::query_scalar(
        "INSERT INTO sms_replies (provider_id, body_hash, phone_index, member_id, action, received_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider_id) DO NOTHING
         RETURNING provider_id",
    )
    .bind(&reply.provider_id)
    .bind(&reply.body_hash)
    .bind(phone_index)
    .bind(reply.member_id)
    .bind(&reply.action)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    if added.is_some() {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_as(
            "SELECT provider_id, body_hash, member_id, action FROM sms_replies
             WHERE provider_id = $1",
        )
        .bind(&reply.provider_id)
        .fetch_one(tx.conn())
        .await?,
    ))
}
