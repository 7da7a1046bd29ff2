//! Coupons: templates and their versions, batches, coupons, and the counters behind the
//! quantities. Limited things are taken by one statement: a template's total by a
//! conditional UPDATE (`issued + n <= total`, backed by a CHECK), the member's and the day's
//! counts by upserts whose answer the caller checks in the same transaction; a coupon is
//! used by one conditional UPDATE (`status = 'issued'`).

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Template {
    pub id: Uuid,
    pub name: String,
    pub version: i32,
    pub terms: Json<Value>,
    pub total: Option<i32>,
    pub per_member: Option<i32>,
    pub per_day: Option<i32>,
    pub issued: i32,
    pub claimable: bool,
    pub points_price: i64,
    pub shared_code: Option<String>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Coupons of it used: counted only by the reads that show a template
    /// ([`templates`] of all, [`template_shown`]); `None` from the others.
    pub used: Option<i64>,
}

/// A template's columns, `used` not counted: what issuing and redeeming read (a count of a
/// template's used coupons on every claim or purchase grew with every coupon it had).
const TEMPLATE: &str = "t.id, t.name, t.version, t.terms, t.total, t.per_member, t.per_day, \
    t.issued, t.claimable, t.points_price, t.shared_code, t.archived, t.created_at, \
    t.updated_at, NULL::bigint AS used";

/// A template's columns with its used coupons counted (index `coupons_template_used`), for
/// the reads that show a template to staff.
const TEMPLATE_SHOWN: &str = "t.id, t.name, t.version, t.terms, t.total, t.per_member, \
    t.per_day, t.issued, t.claimable, t.points_price, t.shared_code, t.archived, t.created_at, \
    t.updated_at, (SELECT count(*) FROM coupons c WHERE c.template_id = t.id \
    AND c.status = 'used') AS used";

/// A template's fields as written.
#[derive(Debug, Clone)]
pub struct TemplateRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub terms: Value,
    pub total: Option<i32>,
    pub per_member: Option<i32>,
    pub per_day: Option<i32>,
    pub claimable: bool,
    pub points_price: i64,
    pub shared_code: Option<&'a str>,
}

pub async fn insert_template(
    tx: &mut TenantTx,
    t: &TemplateRow<'_>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "WITH t AS (INSERT INTO coupon_templates (id, name, terms, total, per_member, per_day, \
         claimable, points_price, shared_code, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id) \
         INSERT INTO coupon_template_versions (template_id, version, name, terms, at, actor) \
         SELECT id, 1, $2, $3, $10, $11 FROM t",
    )
    .bind(t.id)
    .bind(t.name)
    .bind(&t.terms)
    .bind(t.total)
    .bind(t.per_member)
    .bind(t.per_day)
    .bind(t.claimable)
    .bind(t.points_price)
    .bind(t.shared_code)
    .bind(now)
    .bind(actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A new version of a template: its terms and settings change for coupons issued from now
/// on (coupons issued before keep their copy). `None` when there is no such template.
/// The total may not go below what was issued (the CHECK refuses it).
pub async fn update_template(
    tx: &mut TenantTx,
    t: &TemplateRow<'_>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<i32>, DbError> {
    Ok(sqlx::query_scalar(
        "WITH t AS (UPDATE coupon_templates SET name = $2, terms = $3, total = $4, \
         per_member = $5, per_day = $6, claimable = $7, points_price = $8, shared_code = $9, \
         version = version + 1, updated_at = $10 WHERE id = $1 RETURNING id, version), \
         v AS (INSERT INTO coupon_template_versions (template_id, version, name, terms, at, actor) \
         SELECT id, version, $2, $3, $10, $11 FROM t) SELECT version FROM t",
    )
    .bind(t.id)
    .bind(t.name)
    .bind(&t.terms)
    .bind(t.total)
    .bind(t.per_member)
    .bind(t.per_day)
    .bind(t.claimable)
    .bind(t.points_price)
    .bind(t.shared_code)
    .bind(now)
    .bind(actor)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn set_archived(
    tx: &mut TenantTx,
    id: Uuid,
    archived: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(
        sqlx::query("UPDATE coupon_templates SET archived = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(archived)
            .bind(now)
            .execute(tx.conn())
            .await?
            .rows_affected()
            == 1,
    )
}

/// Every template (used coupons counted), or those members may claim (not counted).
pub async fn templates(tx: &mut TenantTx, claimable_only: bool) -> Result<Vec<Template>, DbError> {
    let columns = if claimable_only {
        TEMPLATE
    } else {
        TEMPLATE_SHOWN
    };
    Ok(sqlx::query_as(&format!(
        "SELECT {columns} FROM coupon_templates t \
         WHERE NOT $1 OR (t.claimable AND NOT t.archived) ORDER BY t.archived, t.created_at DESC"
    ))
    .bind(claimable_only)
    .fetch_all(tx.conn())
    .await?)
}

/// A template with its used coupons counted, to show it.
pub async fn template_shown(tx: &mut TenantTx, id: Uuid) -> Result<Option<Template>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TEMPLATE_SHOWN} FROM coupon_templates t WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// A template, its used coupons not counted.
pub async fn template(tx: &mut TenantTx, id: Uuid) -> Result<Option<Template>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TEMPLATE} FROM coupon_templates t WHERE t.id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn template_by_shared_code(
    tx: &mut TenantTx,
    code: &str,
) -> Result<Option<Template>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TEMPLATE} FROM coupon_templates t WHERE t.shared_code = $1"
    ))
    .bind(code)
    .fetch_optional(tx.conn())
    .await?)
}

/// The templates whose shared code is one of `codes` (codes as normalised).
pub async fn templates_by_shared_codes(
    tx: &mut TenantTx,
    codes: &[String],
) -> Result<Vec<Template>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TEMPLATE} FROM coupon_templates t WHERE t.shared_code = ANY((SELECT $1::text[])::text[]) \
         ORDER BY t.id"
    ))
    .bind(codes)
    .fetch_all(tx.conn())
    .await?)
}

/// A coupon to write (its terms copied from the template's version).
#[derive(Debug, Clone)]
pub struct NewCoupons<'a> {
    pub template_id: Uuid,
    pub version: i32,
    pub terms: &'a Value,
    pub member_id: Option<Uuid>,
    pub batch_id: Option<Uuid>,
    pub channel: &'a str,
    pub issued_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub actor: &'a str,
}

/// What taking quantities of a template found: `None` fields when nothing was taken.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Taken {
    /// The template's issued count after this (None: the total would be exceeded or the
    /// template is archived or gone: nothing was taken or written).
    pub issued: Option<i32>,
    /// The member's count after this.
    pub member_issued: Option<i32>,
    /// The day's count after this.
    pub day_issued: Option<i32>,
    /// The codes written.
    pub codes: Option<Vec<String>>,
}

/// Takes `codes.len()` of the template's total (one conditional UPDATE), adds them to the
/// member's and the day's counts (upserts, under their row locks) and writes the coupons,
/// in one statement. The caller compares the counts with the limits and rolls back when
/// one is crossed. Codes taken by earlier coupons are skipped (`codes` are those written).
pub async fn take_and_issue(
    tx: &mut TenantTx,
    c: &NewCoupons<'_>,
    codes: &[String],
    day: Option<NaiveDate>,
) -> Result<Taken, DbError> {
    let n = codes.len() as i32;
    let ids: Vec<Uuid> = codes.iter().map(|_| Uuid::now_v7()).collect();
    Ok(sqlx::query_as(
        "WITH t AS ( \
             UPDATE coupon_templates SET issued = issued + $1 \
             WHERE id = $2 AND NOT archived AND (total IS NULL OR issued + $1 <= total) \
             RETURNING issued \
         ), m AS ( \
             INSERT INTO coupon_member_counts (template_id, member_id, issued) \
             SELECT $2, $3, $1 FROM t WHERE $3::uuid IS NOT NULL \
             ON CONFLICT (template_id, member_id) \
             DO UPDATE SET issued = coupon_member_counts.issued + EXCLUDED.issued \
             RETURNING issued \
         ), d AS ( \
             INSERT INTO coupon_day_counts (template_id, day, issued) \
             SELECT $2, $4, $1 FROM t WHERE $4::date IS NOT NULL \
             ON CONFLICT (template_id, day) \
             DO UPDATE SET issued = coupon_day_counts.issued + EXCLUDED.issued \
             RETURNING issued \
         ), w AS ( \
             INSERT INTO coupons (id, code, template_id, version, terms, member_id, batch_id, \
             channel, issued_at, valid_from, valid_until, history) \
             SELECT x.id, x.code, $2, $5, $6, $3, $7, $8, $9, $10, $11, \
                 jsonb_build_array(jsonb_build_object('kind', 'issued', 'at', $9::timestamptz, \
                 'actor', $12::text, 'channel', $8::text)) \
             FROM t, unnest($13::uuid[], $14::text[]) AS x(id, code) \
             ON CONFLICT (code) DO NOTHING RETURNING code \
         ) SELECT (SELECT issued FROM t) AS issued, (SELECT issued FROM m) AS member_issued, \
             (SELECT issued FROM d) AS day_issued, (SELECT array_agg(code) FROM w) AS codes",
    )
    .bind(n)
    .bind(c.template_id)
    .bind(c.member_id)
    .bind(day)
    .bind(c.version)
    .bind(c.terms)
    .bind(c.batch_id)
    .bind(c.channel)
    .bind(c.issued_at)
    .bind(c.valid_from)
    .bind(c.valid_until)
    .bind(c.actor)
    .bind(&ids)
    .bind(codes)
    .fetch_one(tx.conn())
    .await?)
}

/// Writes more coupons of a batch whose quantity was taken already (codes that collided
/// the first time). Returns the codes written.
pub async fn issue_more(
    tx: &mut TenantTx,
    c: &NewCoupons<'_>,
    codes: &[String],
) -> Result<Vec<String>, DbError> {
    let ids: Vec<Uuid> = codes.iter().map(|_| Uuid::now_v7()).collect();
    Ok(sqlx::query_scalar(
        "WITH w AS (INSERT INTO coupons (id, code, template_id, version, terms, member_id, \
         batch_id, channel, issued_at, valid_from, valid_until, history) \
         SELECT x.id, x.code, $1, $2, $3, $4, $5, $6, $7, $8, $9, \
             jsonb_build_array(jsonb_build_object('kind', 'issued', 'at', $7::timestamptz, \
             'actor', $10::text, 'channel', $6::text)) \
         FROM unnest($11::uuid[], $12::text[]) AS x(id, code) \
         ON CONFLICT (code) DO NOTHING RETURNING code) \
         SELECT coalesce(array_agg(code), '{}') FROM w",
    )
    .bind(c.template_id)
    .bind(c.version)
    .bind(c.terms)
    .bind(c.member_id)
    .bind(c.batch_id)
    .bind(c.channel)
    .bind(c.issued_at)
    .bind(c.valid_from)
    .bind(c.valid_until)
    .bind(c.actor)
    .bind(&ids)
    .bind(codes)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn insert_batch(
    tx: &mut TenantTx,
    id: Uuid,
    template_id: Uuid,
    pattern: &str,
    count: i32,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO coupon_batches (id, template_id, pattern, count, created_at, actor) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(template_id)
    .bind(pattern)
    .bind(count)
    .bind(now)
    .bind(actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Batch {
    pub id: Uuid,
    pub template_id: Uuid,
    pub pattern: String,
    pub count: i32,
    pub created_at: DateTime<Utc>,
    pub actor: String,
    pub used: i64,
}

pub async fn batches(tx: &mut TenantTx, template_id: Uuid) -> Result<Vec<Batch>, DbError> {
    Ok(sqlx::query_as(
        "SELECT b.id, b.template_id, b.pattern, b.count, b.created_at, b.actor, \
         (SELECT count(*) FROM coupons c WHERE c.batch_id = b.id AND c.status = 'used') AS used \
         FROM coupon_batches b WHERE b.template_id = $1 ORDER BY b.created_at DESC",
    )
    .bind(template_id)
    .fetch_all(tx.conn())
    .await?)
}

/// A coupon as read.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Coupon {
    pub id: Uuid,
    pub code: String,
    pub template_id: Uuid,
    pub template_name: String,
    pub version: i32,
    pub terms: Json<Value>,
    pub member_id: Option<Uuid>,
    pub batch_id: Option<Uuid>,
    pub channel: String,
    pub status: String,
    pub issued_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub purchase_id: Option<Uuid>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub history: Json<Value>,
}

const COUPON: &str = "c.id, c.code, c.template_id, t.name AS template_name, c.version, c.terms, \
    c.member_id, c.batch_id, c.channel, c.status, c.issued_at, c.valid_from, c.valid_until, \
    c.used_at, c.purchase_id, c.voided_at, c.void_reason, c.history";

pub async fn member_coupons(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<Coupon>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COUPON} FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
         WHERE c.member_id = $1 ORDER BY c.issued_at DESC, c.id LIMIT 500"
    ))
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn batch_coupons(tx: &mut TenantTx, batch_id: Uuid) -> Result<Vec<Coupon>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COUPON} FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
         WHERE c.batch_id = $1 ORDER BY c.code"
    ))
    .bind(batch_id)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn coupon(tx: &mut TenantTx, id: Uuid) -> Result<Option<Coupon>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COUPON} FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
         WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Voids an issued coupon. `None`: no such coupon; `Some(status)` its status before (only
/// `issued` was voided).
pub async fn void(
    tx: &mut TenantTx,
    id: Uuid,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar(
        "WITH before AS (SELECT id, status FROM coupons WHERE id = $1), \
         v AS (UPDATE coupons SET status = 'voided', voided_at = $3, void_reason = $2, \
             history = history || jsonb_build_array(jsonb_build_object('kind', 'voided', \
             'at', $3::timestamptz, 'actor', $4::text, 'reason', $2::text)) \
             WHERE id = $1 AND status = 'issued' RETURNING id) \
         SELECT CASE WHEN EXISTS (SELECT 1 FROM v) THEN 'issued' ELSE status END FROM before",
    )
    .bind(id)
    .bind(reason)
    .bind(now)
    .bind(actor)
    .fetch_optional(tx.conn())
    .await?)
}

/// A code as a purchase or a validation found it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Looked {
    pub code: String,
    pub template_id: Uuid,
    pub template_name: String,
    pub terms: Json<Value>,
    pub status: String,
    pub member_id: Option<Uuid>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub per_member: Option<i32>,
    /// The member's count of the template (after this purchase's, when it used an unbound
    /// code).
    pub member_count: Option<i32>,
    /// This statement used it.
    pub taken: bool,
    /// Held by another cart's reservation that had not expired.
    pub reserved: bool,
}

/// The codes for a member, read without writing (a validation).
pub async fn look(
    tx: &mut TenantTx,
    codes: &[String],
    member_id: Uuid,
    reservation: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Vec<Looked>, DbError> {
    Ok(sqlx::query_as(
        "SELECT c.code, c.template_id, t.name AS template_name, c.terms, c.status, c.member_id, \
         c.valid_from, c.valid_until, t.per_member, \
         (SELECT issued FROM coupon_member_counts m WHERE m.template_id = c.template_id \
          AND m.member_id = $2) AS member_count, false AS taken, \
         (coalesce(c.reserved_until > $4, false) AND c.reservation_id IS DISTINCT FROM $3) \
             AS reserved \
         FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
         WHERE c.code = ANY((SELECT $1::text[])::text[])",
    )
    .bind(codes)
    .bind(member_id)
    .bind(reservation)
    .bind(now)
    .fetch_all(tx.conn())
    .await?)
}

/// Uses the member's codes (and binds unbound ones to them) in one statement: each coupon
/// still `issued` and the member's or nobody's becomes `used` by `purchase_id`; a coupon a
/// parallel purchase used first is not taken (its row shows it as read at the start). An
/// unbound code counts towards the member's count of its template. The caller checks the
/// codes (and rolls back when one does not apply).
///
/// The codes are read through a scalar subquery (`ANY((SELECT $1::text[])::text[])`, as in
/// every statement here that takes a list of codes): with the array itself as the
/// parameter, a plan for each call's values always looked cheaper than the generic plan, so
/// PostgreSQL planned the statement on every purchase (0.23 ms planning against 0.05 ms
/// executing); through the subquery both plans estimate alike and the generic one is kept.
#[allow(clippy::too_many_arguments)]
pub async fn take(
    tx: &mut TenantTx,
    codes: &[String],
    member_id: Uuid,
    purchase_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
    reservation: Option<Uuid>,
    clock: DateTime<Utc>,
) -> Result<Vec<Looked>, DbError> {
    Ok(sqlx::query_as(
        "WITH s AS ( \
             SELECT c.id, c.code, c.template_id, t.name AS template_name, c.terms, c.status, \
             c.member_id, c.valid_from, c.valid_until, t.per_member, \
             (coalesce(c.reserved_until > $7, false) AND c.reservation_id IS DISTINCT FROM $6) \
                 AS reserved \
             FROM coupons c JOIN coupon_templates t ON t.id = c.template_id \
             WHERE c.code = ANY((SELECT $1::text[])::text[]) \
         ), u AS ( \
             UPDATE coupons c SET status = 'used', used_at = $4, purchase_id = $3, \
             member_id = $2, reservation_id = NULL, reserved_until = NULL, history = c.history || jsonb_build_array(jsonb_build_object( \
                 'kind', 'used', 'at', $4::timestamptz, 'actor', $5::text, \
                 'purchase_id', $3::uuid)) \
             WHERE c.code = ANY((SELECT $1::text[])::text[]) AND c.status = 'issued' \
             AND (c.member_id IS NULL OR c.member_id = $2) AND c.valid_from <= $4 \
             AND c.valid_until > $4 \
             AND (c.reserved_until IS NULL OR c.reserved_until <= $7 OR c.reservation_id = $6) \
             RETURNING c.id \
         ), m AS ( \
             INSERT INTO coupon_member_counts (template_id, member_id, issued) \
             SELECT s.template_id, $2, count(*) FROM s JOIN u ON u.id = s.id \
             WHERE s.member_id IS NULL GROUP BY s.template_id \
             ON CONFLICT (template_id, member_id) \
             DO UPDATE SET issued = coupon_member_counts.issued + EXCLUDED.issued \
             RETURNING template_id, issued \
         ) SELECT s.code, s.template_id, s.template_name, s.terms, s.status, s.member_id, \
             s.valid_from, s.valid_until, s.per_member, s.reserved, \
             coalesce((SELECT issued FROM m WHERE m.template_id = s.template_id), \
                 (SELECT issued FROM coupon_member_counts k WHERE k.template_id = s.template_id \
                  AND k.member_id = $2)) AS member_count, \
             EXISTS (SELECT 1 FROM u WHERE u.id = s.id) AS taken \
         FROM s",
    )
    .bind(codes)
    .bind(member_id)
    .bind(purchase_id)
    .bind(now)
    .bind(actor)
    .bind(reservation)
    .bind(clock)
    .fetch_all(tx.conn())
    .await?)
}

/// A coupon's reservation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reserved {
    pub reservation_id: Uuid,
    pub reserved_until: DateTime<Utc>,
    pub code: String,
    pub member_id: Option<Uuid>,
}

/// Holds a coupon for a cart until `until`, in one conditional statement: only an issued
/// coupon, still valid, not held by a reservation that has not lapsed (by the clock, no job
/// frees one) unless that reservation is this one, which is then extended (the coupon's
/// life records a hold once, not each renewal). `None` when it cannot be held; the caller
/// reads why.
pub async fn reserve(
    tx: &mut TenantTx,
    code: &str,
    reservation_id: Uuid,
    until: DateTime<Utc>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Reserved>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE coupons SET reservation_id = $2, reserved_until = $3, \
         history = CASE WHEN reservation_id = $2 AND reserved_until > $5 THEN history \
             ELSE history || jsonb_build_array(jsonb_build_object('kind', 'reserved', \
             'at', $5::timestamptz, 'actor', $4::text, 'until', $3::timestamptz, \
             'reservation_id', $2::uuid)) END \
         WHERE code = $1 AND status = 'issued' AND valid_until > $5 \
         AND (reserved_until IS NULL OR reserved_until <= $5 OR reservation_id = $2) \
         RETURNING reservation_id, reserved_until, code, member_id",
    )
    .bind(code)
    .bind(reservation_id)
    .bind(until)
    .bind(actor)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?)
}

/// Lets go of a coupon held by this reservation (not lapsed yet): true when it was held.
pub async fn release(
    tx: &mut TenantTx,
    code: &str,
    reservation_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE coupons SET reservation_id = NULL, reserved_until = NULL, \
         history = history || jsonb_build_array(jsonb_build_object('kind', 'released', \
             'at', $4::timestamptz, 'actor', $3::text, 'reservation_id', $2::uuid)) \
         WHERE code = $1 AND reservation_id = $2 AND reserved_until > $4",
    )
    .bind(code)
    .bind(reservation_id)
    .bind(actor)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

/// A coupon's state as a reservation sees it (to say why one was refused).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Holdable {
    pub status: String,
    pub valid_until: DateTime<Utc>,
    pub reserved_until: Option<DateTime<Utc>>,
}

pub async fn holdable(tx: &mut TenantTx, code: &str) -> Result<Option<Holdable>, DbError> {
    Ok(
        sqlx::query_as("SELECT status, valid_until, reserved_until FROM coupons WHERE code = $1")
            .bind(code)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Gives back the coupons a purchase used whose terms restore them on a refund: issued
/// again, a coupon that expired meanwhile with the time it had left when used. Returns
/// their codes.
pub async fn restore(
    tx: &mut TenantTx,
    purchase_id: Uuid,
    refund_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DbError> {
    // The new end is worked out in a CTE: Citus refuses a CASE over a non-immutable
    // expression (timestamptz + interval) in an UPDATE's SET list.
    Ok(sqlx::query_scalar(
        "WITH back AS ( \
             SELECT id, CASE WHEN valid_until <= $3 THEN $3 + (valid_until - used_at) \
                 ELSE valid_until END AS valid_until \
             FROM coupons WHERE purchase_id = $1 AND status = 'used' \
             AND coalesce(terms->>'on_refund', 'restore') = 'restore' FOR UPDATE) \
         UPDATE coupons c SET status = 'issued', valid_until = back.valid_until, \
         used_at = NULL, purchase_id = NULL, \
         history = c.history || jsonb_build_array(jsonb_build_object('kind', 'restored', \
             'at', $3::timestamptz, 'actor', $4::text, 'purchase_id', $1::uuid, \
             'refund_id', $2::uuid)) \
         FROM back WHERE c.id = back.id RETURNING c.code",
    )
    .bind(purchase_id)
    .bind(refund_id)
    .bind(now)
    .bind(actor)
    .fetch_all(tx.conn())
    .await?)
}

/// Marks the start of a nested step that may be undone alone.
pub async fn savepoint(tx: &mut TenantTx) -> Result<(), DbError> {
    sqlx::query("SAVEPOINT coupon_occasion")
        .execute(tx.conn())
        .await?;
    tx.outbox_mark = Some(tx.outbox.len());
    Ok(())
}

/// Undoes the nested step (`undo`) or keeps it.
pub async fn end_savepoint(tx: &mut TenantTx, undo: bool) -> Result<(), DbError> {
    let sql = if undo {
        "ROLLBACK TO SAVEPOINT coupon_occasion"
    } else {
        "RELEASE SAVEPOINT coupon_occasion"
    };
    sqlx::query(sql).execute(tx.conn()).await?;
    // Events recorded since the savepoint go with it.
    if let Some(mark) = tx.outbox_mark.take() {
        if undo {
            tx.outbox.truncate(mark);
        }
    }
    Ok(())
}

/// Starts a step that is always undone (what a cart's shared codes would give).
pub async fn dry_run(tx: &mut TenantTx) -> Result<(), DbError> {
    sqlx::query("SAVEPOINT coupon_dry_run")
        .execute(tx.conn())
        .await?;
    tx.outbox_dry_mark = Some(tx.outbox.len());
    Ok(())
}

/// Undoes everything since [`dry_run`] (nested steps included).
pub async fn undo_dry_run(tx: &mut TenantTx) -> Result<(), DbError> {
    sqlx::query("ROLLBACK TO SAVEPOINT coupon_dry_run")
        .execute(tx.conn())
        .await?;
    sqlx::query("RELEASE SAVEPOINT coupon_dry_run")
        .execute(tx.conn())
        .await?;
    if let Some(mark) = tx.outbox_dry_mark.take() {
        tx.outbox.truncate(mark);
    }
    Ok(())
}

/// A run issuing coupons of a template to a segment of members.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct SegmentIssue {
    pub id: Uuid,
    pub template_id: Uuid,
    pub search: Value,
    pub status: String,
    pub stop_reason: Option<String>,
    pub matched: i64,
    pub done: i64,
    pub issued: i64,
    pub skipped: i64,
    pub cursor_at: Option<DateTime<Utc>>,
    pub cursor_id: Option<Uuid>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

const SEGMENT_COLUMNS: &str = "id, template_id, search, status, stop_reason, matched, done, \
     issued, skipped, cursor_at, cursor_id, actor, created_at, finished_at";

pub async fn insert_segment_issue(
    tx: &mut TenantTx,
    id: Uuid,
    template_id: Uuid,
    search: &Value,
    matched: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<SegmentIssue, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO coupon_segment_issues (id, template_id, search, matched, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {SEGMENT_COLUMNS}"
    ))
    .bind(id)
    .bind(template_id)
    .bind(search)
    .bind(matched)
    .bind(actor)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// One run; `lock` takes its row lock (a batch holds it, so two workers never overlap).
pub async fn segment_issue(
    tx: &mut TenantTx,
    id: Uuid,
    lock: bool,
) -> Result<Option<SegmentIssue>, DbError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(&format!(
        "SELECT {SEGMENT_COLUMNS} FROM coupon_segment_issues WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// A template's runs, newest first.
pub async fn segment_issues(
    tx: &mut TenantTx,
    template_id: Uuid,
) -> Result<Vec<SegmentIssue>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SEGMENT_COLUMNS} FROM coupon_segment_issues WHERE template_id = $1 \
         ORDER BY created_at DESC LIMIT 50"
    ))
    .bind(template_id)
    .fetch_all(tx.conn())
    .await?)
}

/// A batch's progress: counts added, the keyset moved, and the run ended when `status` is
/// given.
#[allow(clippy::too_many_arguments)]
pub async fn advance_segment(
    tx: &mut TenantTx,
    id: Uuid,
    done: i64,
    issued: i64,
    skipped: i64,
    cursor: Option<(DateTime<Utc>, Uuid)>,
    end: Option<(&str, Option<&str>)>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE coupon_segment_issues SET done = done + $2, issued = issued + $3, \
         skipped = skipped + $4, cursor_at = coalesce($5, cursor_at), \
         cursor_id = coalesce($6, cursor_id), status = coalesce($7, status), \
         stop_reason = coalesce($8, stop_reason), \
         finished_at = CASE WHEN $7 IS NULL THEN NULL ELSE $9 END WHERE id = $1",
    )
    .bind(id)
    .bind(done)
    .bind(issued)
    .bind(skipped)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(end.map(|e| e.0))
    .bind(end.and_then(|e| e.1))
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Of `members`, those that may get one more coupon of the template (below its per-member
/// limit), in the order given. A read: the counts are taken by [`take_member_slots`].
pub async fn below_member_limit(
    tx: &mut TenantTx,
    template_id: Uuid,
    per_member: Option<i32>,
    members: &[Uuid],
) -> Result<Vec<Uuid>, DbError> {
    let Some(limit) = per_member else {
        return Ok(members.to_vec());
    };
    Ok(sqlx::query_scalar(
        "SELECT x.id FROM unnest($1::uuid[]) WITH ORDINALITY AS x(id, n) \
         LEFT JOIN coupon_member_counts c ON c.template_id = $2 AND c.member_id = x.id \
         WHERE coalesce(c.issued, 0) < $3 ORDER BY x.n",
    )
    .bind(members)
    .bind(template_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Takes up to `n` of the template's total in one conditional statement: how many were
/// taken (fewer when fewer are left; 0 when archived or sold out).
pub async fn take_up_to(tx: &mut TenantTx, template_id: Uuid, n: i32) -> Result<i32, DbError> {
    let taken: Option<i32> = sqlx::query_scalar(
        "UPDATE coupon_templates t SET issued = t.issued + x.k \
         FROM (SELECT id, least($2, coalesce(total - issued, $2)) AS k FROM coupon_templates \
               WHERE id = $1 AND NOT archived FOR UPDATE) x \
         WHERE t.id = x.id AND x.k > 0 RETURNING x.k",
    )
    .bind(template_id)
    .bind(n)
    .fetch_optional(tx.conn())
    .await?;
    Ok(taken.unwrap_or(0))
}

/// Gives back `n` of the template's total taken in this transaction.
pub async fn give_back(tx: &mut TenantTx, template_id: Uuid, n: i32) -> Result<(), DbError> {
    sqlx::query("UPDATE coupon_templates SET issued = issued - $2 WHERE id = $1")
        .bind(template_id)
        .bind(n)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// One more coupon of the template for each of `members`, counted under each member's
/// per-member limit by one conditional upsert: the members who got their slot, in order.
pub async fn take_member_slots(
    tx: &mut TenantTx,
    template_id: Uuid,
    per_member: Option<i32>,
    members: &[Uuid],
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "WITH w AS (INSERT INTO coupon_member_counts AS c (template_id, member_id, issued) \
         SELECT $1, x.id, 1 FROM unnest($2::uuid[]) AS x(id) ORDER BY x.id \
         ON CONFLICT (template_id, member_id) DO UPDATE SET issued = c.issued + 1 \
         WHERE $3::int IS NULL OR c.issued + 1 <= $3 RETURNING member_id) \
         SELECT x.id FROM unnest($2::uuid[]) WITH ORDINALITY AS x(id, n) \
         WHERE x.id IN (SELECT member_id FROM w) ORDER BY x.n",
    )
    .bind(template_id)
    .bind(members)
    .bind(per_member)
    .fetch_all(tx.conn())
    .await?)
}

/// Writes one coupon for each member (`members[i]` gets `codes[i]`); a code taken by an
/// earlier coupon is skipped. Returns the members whose coupon was written.
pub async fn issue_each(
    tx: &mut TenantTx,
    c: &NewCoupons<'_>,
    members: &[Uuid],
    codes: &[String],
) -> Result<Vec<Uuid>, DbError> {
    let ids: Vec<Uuid> = codes.iter().map(|_| Uuid::now_v7()).collect();
    Ok(sqlx::query_scalar(
        "INSERT INTO coupons (id, code, template_id, version, terms, member_id, \
         batch_id, channel, issued_at, valid_from, valid_until, history) \
         SELECT x.id, x.code, $1, $2, $3, x.member_id, NULL, $4, $5, $6, $7, \
             jsonb_build_array(jsonb_build_object('kind', 'issued', 'at', $5::timestamptz, \
             'actor', $8::text, 'channel', $4::text)) \
         FROM unnest($9::uuid[], $10::text[], $11::uuid[]) AS x(id, code, member_id) \
         ON CONFLICT (code) DO NOTHING RETURNING member_id",
    )
    .bind(c.template_id)
    .bind(c.version)
    .bind(c.terms)
    .bind(c.channel)
    .bind(c.issued_at)
    .bind(c.valid_from)
    .bind(c.valid_until)
    .bind(c.actor)
    .bind(&ids)
    .bind(codes)
    .bind(members)
    .fetch_all(tx.conn())
    .await?)
}

/// Takes the row locks of these templates, in id order.
pub async fn lock_templates(tx: &mut TenantTx, ids: &[Uuid]) -> Result<(), DbError> {
    sqlx::query("SELECT id FROM coupon_templates WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Active members born on `today`'s month and day (29 February counts on 28 February in a
/// year without it) who have no tier birthday coupon of `today`'s year yet, by id.
pub async fn birthday_coupons_due(
    tx: &mut TenantTx,
    today: NaiveDate,
) -> Result<Vec<Uuid>, DbError> {
    crate::points::born_on_without(tx, today, "birthday_coupons").await
}

/// Claims the member's birthday coupon of `template` for `year`: false when it was claimed
/// already (by this run or another runner; a claim in flight is waited for).
pub async fn claim_birthday_coupon(
    tx: &mut TenantTx,
    member_id: Uuid,
    template_id: Uuid,
    year: i32,
    tier: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "INSERT INTO birthday_coupons (member_id, template_id, year, tier, code, at) \
         VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT DO NOTHING",
    )
    .bind(member_id)
    .bind(template_id)
    .bind(year)
    .bind(tier)
    .bind(at)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}

/// Notes the code of a claimed birthday coupon.
pub async fn set_birthday_coupon_code(
    tx: &mut TenantTx,
    member_id: Uuid,
    template_id: Uuid,
    year: i32,
    code: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE birthday_coupons SET code = $4 \
         WHERE member_id = $1 AND template_id = $2 AND year = $3",
    )
    .bind(member_id)
    .bind(template_id)
    .bind(year)
    .bind(code)
    .execute(tx.conn())
    .await?;
    Ok(())
}
