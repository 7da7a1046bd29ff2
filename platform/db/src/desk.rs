//! The front desk's reads: members by the last four digits of their phone (with the blind
//! index those digits need kept up to date), the figures a pick list shows, and a member's
//! last purchase.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A member whose last-four index is due: their sealed phone (if any) and its index.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueLastFour {
    pub id: Uuid,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_key: Option<i16>,
    pub phone_index: Option<Vec<u8>>,
}

/// Up to `limit` members whose last-four index was not taken from their current phone
/// (never filled, phone changed, erased), locked; rows another transaction is filling are
/// skipped.
pub async fn last_four_due(tx: &mut TenantTx, limit: i64) -> Result<Vec<DueLastFour>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, phone_enc, phone_key, phone_index FROM members
         WHERE phone_last4_of IS DISTINCT FROM phone_index
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Writes last-four indexes (`None` for a member without a phone), each with the phone
/// index it was taken from; a row whose phone changed meanwhile is left for the next fill.
pub async fn set_last_four(
    tx: &mut TenantTx,
    ids: &[Uuid],
    last_four: &[Option<Vec<u8>>],
    of: &[Option<Vec<u8>>],
) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE members m SET phone_last4_index = u.l, phone_last4_of = u.o
         FROM UNNEST($1::uuid[], $2::bytea[], $3::bytea[]) AS u(id, l, o)
         WHERE m.id = u.id AND m.phone_index IS NOT DISTINCT FROM u.o",
    )
    .bind(ids)
    .bind(last_four)
    .bind(of)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Members (not erased) whose phone ends in the digits with this index, newest first.
pub async fn by_last_four(
    tx: &mut TenantTx,
    index: &[u8],
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM members
         WHERE phone_last4_index = $1 AND phone_last4_of = phone_index AND status = 'active'
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(index)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// What a pick list shows beside a member's name: their stored tier and balance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Figures {
    pub member_id: Uuid,
    pub tier: Option<String>,
    pub balance: i64,
    pub debt: i64,
}

/// The tier and points of these members (zeros for members without an account).
///
/// One statement of a fixed shape, planned once per connection: the array is read through a
/// scalar subquery, so a plan made for its values estimates as many rows as the generic
/// plan and PostgreSQL keeps the generic plan (a plan for a one-element array always looked
/// cheaper, so the statement was planned on every lookup); and each figure is a subquery
/// on the member's key, so the generic plan is index lookups per member whatever the
/// estimate, not a join that may hash a whole table (the generic plan of the join read all
/// of `member_tiers` on every lookup: 0.7 ms for a business with 2,000 members, against
/// 0.08 ms now).
pub async fn figures(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<Figures>, DbError> {
    Ok(sqlx::query_as(
        "SELECT u.id AS member_id,
                (SELECT t.tier FROM member_tiers t WHERE t.member_id = u.id) AS tier,
                coalesce((SELECT a.balance FROM point_accounts a WHERE a.member_id = u.id), 0)
                    AS balance,
                coalesce((SELECT a.debt FROM point_accounts a WHERE a.member_id = u.id), 0)
                    AS debt
         FROM UNNEST((SELECT $1::uuid[])) AS u(id)",
    )
    .bind(ids)
    .fetch_all(tx.conn())
    .await?)
}

/// When the member's latest purchase took place.
pub async fn last_purchase_at(
    tx: &mut TenantTx,
    member_id: Uuid,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT occurred_at FROM purchases WHERE member_id = $1
         ORDER BY occurred_at DESC, id DESC LIMIT 1",
    )
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// An item the business has sold: what the desk's item lines offer as the clerk types.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SoldItem {
    pub sku: String,
    pub name: String,
    pub category: String,
    /// The price it was last sold at, in minor units.
    pub unit_price: i64,
}

/// How many of the latest purchases the desk's item suggestions are read from.
pub const RECENT_PURCHASES: i64 = 1_000;

/// Distinct items (by SKU, name and category) of the latest [`RECENT_PURCHASES`] purchases
/// whose name or SKU contains `needle` (lower case; empty: any), each with the price it was
/// last sold at, the most recently sold first. Purchase ids are time-ordered (UUIDv7), so
/// the latest purchases are read from the primary key's end.
pub async fn sold_items(
    tx: &mut TenantTx,
    needle: &str,
    limit: i64,
) -> Result<Vec<SoldItem>, DbError> {
    Ok(sqlx::query_as(
        "SELECT sku, name, category, unit_price FROM (
             SELECT DISTINCT ON (sku, name, category) sku, name, category, unit_price, at
             FROM (SELECT coalesce(i->>'sku', '') AS sku, coalesce(i->>'name', '') AS name,
                          coalesce(i->>'category', '') AS category,
                          coalesce((i->>'unit_price')::bigint, 0) AS unit_price,
                          p.id AS at, o.n
                   FROM (SELECT id, items FROM purchases ORDER BY id DESC LIMIT $3) p,
                        jsonb_array_elements(CASE jsonb_typeof(p.items) WHEN 'array'
                            THEN p.items ELSE '[]'::jsonb END) WITH ORDINALITY AS o(i, n)) s
             WHERE (sku <> '' OR name <> '')
               AND ($1 = '' OR strpos(lower(name), $1) > 0 OR strpos(lower(sku), $1) > 0)
             ORDER BY sku, name, category, at DESC, n) d
         ORDER BY at DESC, name, sku LIMIT $2",
    )
    .bind(needle)
    .bind(limit)
    .bind(RECENT_PURCHASES)
    .fetch_all(tx.conn())
    .await?)
}

/// Every item category the business uses: in the latest purchases' items, in coupon
/// templates' scopes and in visit pass products (archived ones left out), sorted.
pub async fn item_categories(tx: &mut TenantTx, limit: i64) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT c FROM (
             SELECT i->>'category' AS c
             FROM (SELECT items FROM purchases ORDER BY id DESC LIMIT $2) p,
                  jsonb_array_elements(CASE jsonb_typeof(p.items) WHEN 'array'
                      THEN p.items ELSE '[]'::jsonb END) AS i
             UNION
             SELECT jsonb_array_elements_text(CASE jsonb_typeof(terms->'categories')
                        WHEN 'array' THEN terms->'categories' ELSE '[]'::jsonb END)
             FROM coupon_templates WHERE NOT archived
             UNION
             SELECT unnest(categories) FROM pass_products WHERE NOT archived) x
         WHERE c IS NOT NULL AND c <> '' ORDER BY c LIMIT $1",
    )
    .bind(limit)
    .bind(RECENT_PURCHASES)
    .fetch_all(tx.conn())
    .await?)
}
