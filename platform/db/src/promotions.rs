//! Promotions' SQL: the promotions themselves, their reduced mall prices, the members they
//! reached (one upsert per purchase for every promotion that applied), their results, and
//! the reads the purchase path (cached with the rules in force), the mall and the portal
//! make.

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A promotion as stored.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Promotion {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub tiers: Vec<String>,
    pub multiplier_pct: Option<i32>,
    pub bonus_points: Option<i64>,
    pub coupon_template_id: Option<Uuid>,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const COLS: &str = "id, name, description, starts_on, ends_on, starts_at, ends_at, tiers, \
                    multiplier_pct, bonus_points, coupon_template_id, status, published_at, \
                    stopped_at, created_at, updated_at, updated_by";

/// A reduced mall price.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct ItemPrice {
    pub item_id: Uuid,
    pub item_name: String,
    /// The item's own price.
    pub item_points: i64,
    /// The price during the promotion.
    pub points: i64,
}

pub async fn insert(tx: &mut TenantTx, p: &Promotion) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO promotions ({COLS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(p.id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.starts_on)
    .bind(p.ends_on)
    .bind(p.starts_at)
    .bind(p.ends_at)
    .bind(&p.tiers)
    .bind(p.multiplier_pct)
    .bind(p.bonus_points)
    .bind(p.coupon_template_id)
    .bind(&p.status)
    .bind(p.published_at)
    .bind(p.stopped_at)
    .bind(p.created_at)
    .bind(p.updated_at)
    .bind(&p.updated_by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces a draft's values; `None` when there is no such draft (gone, or published).
pub async fn update_draft(tx: &mut TenantTx, p: &Promotion) -> Result<Option<Promotion>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE promotions SET name = $2, description = $3, starts_on = $4, ends_on = $5, \
         starts_at = $6, ends_at = $7, tiers = $8, multiplier_pct = $9, bonus_points = $10, \
         coupon_template_id = $11, updated_at = $12, updated_by = $13 \
         WHERE id = $1 AND status = 'draft' RETURNING {COLS}"
    ))
    .bind(p.id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.starts_on)
    .bind(p.ends_on)
    .bind(p.starts_at)
    .bind(p.ends_at)
    .bind(&p.tiers)
    .bind(p.multiplier_pct)
    .bind(p.bonus_points)
    .bind(p.coupon_template_id)
    .bind(p.updated_at)
    .bind(&p.updated_by)
    .fetch_optional(tx.conn())
    .await?)
}

/// Sets a promotion's reduced mall prices (replacing any it had).
pub async fn set_items(
    tx: &mut TenantTx,
    promotion_id: Uuid,
    items: &[(Uuid, i64)],
) -> Result<(), DbError> {
    let ids: Vec<Uuid> = items.iter().map(|i| i.0).collect();
    let points: Vec<i64> = items.iter().map(|i| i.1).collect();
    sqlx::query(
        "WITH gone AS (DELETE FROM promotion_items WHERE promotion_id = $1) \
         INSERT INTO promotion_items (promotion_id, item_id, points) \
         SELECT $1, x.item_id, x.points FROM unnest($2::uuid[], $3::bigint[]) AS x(item_id, points)",
    )
    .bind(promotion_id)
    .bind(&ids)
    .bind(&points)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The mall items among `ids` that exist (archived or not).
pub async fn known_items(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM mall_items WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(tx.conn())
            .await?,
    )
}

/// A promotion's reduced mall prices, with the items' names and own prices.
pub async fn items(tx: &mut TenantTx, promotion_id: Uuid) -> Result<Vec<ItemPrice>, DbError> {
    Ok(sqlx::query_as(
        "SELECT pi.item_id, i.name AS item_name, i.points AS item_points, pi.points \
         FROM promotion_items pi JOIN mall_items i ON i.id = pi.item_id \
         WHERE pi.promotion_id = $1 ORDER BY i.name, pi.item_id",
    )
    .bind(promotion_id)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<Promotion>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLS} FROM promotions WHERE id = $1"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Promotions, newest first.
pub async fn list(tx: &mut TenantTx, limit: i64) -> Result<Vec<Promotion>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLS} FROM promotions ORDER BY created_at DESC, id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Publishes a draft (one conditional statement); `None` when it is not a draft.
pub async fn publish(
    tx: &mut TenantTx,
    id: Uuid,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Option<Promotion>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE promotions SET status = 'published', published_at = $3, updated_at = $3, \
         updated_by = $2 WHERE id = $1 AND status = 'draft' RETURNING {COLS}"
    ))
    .bind(id)
    .bind(by)
    .bind(at)
    .fetch_optional(tx.conn())
    .await?)
}

/// Stops a published promotion that has not ended (one conditional statement); `None`
/// when it is not one.
pub async fn stop(
    tx: &mut TenantTx,
    id: Uuid,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Option<Promotion>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE promotions SET status = 'stopped', stopped_at = $3, updated_at = $3, \
         updated_by = $2 WHERE id = $1 AND status = 'published' AND ends_at > $3 \
         RETURNING {COLS}"
    ))
    .bind(id)
    .bind(by)
    .bind(at)
    .fetch_optional(tx.conn())
    .await?)
}

/// Deletes a draft (it never ran); false when it is not one.
pub async fn delete_draft(tx: &mut TenantTx, id: Uuid) -> Result<bool, DbError> {
    let r = sqlx::query(
        "WITH i AS (DELETE FROM promotion_items WHERE promotion_id = $1 \
         AND EXISTS (SELECT 1 FROM promotions WHERE id = $1 AND status = 'draft')) \
         DELETE FROM promotions WHERE id = $1 AND status = 'draft'",
    )
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// What the purchase path needs of a promotion.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Active {
    pub id: Uuid,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub tiers: Vec<String>,
    pub multiplier_pct: Option<i32>,
    pub bonus_points: Option<i64>,
    pub coupon_template_id: Option<Uuid>,
}

/// The promotions a purchase may fall in (it may have occurred up to a year before it is
/// recorded): published or stopped ones whose period ended less than 400 days ago, with
/// something to give on purchases (read once and cached with the rules in force).
pub async fn active(tx: &mut TenantTx) -> Result<Vec<Active>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, starts_at, ends_at, stopped_at, tiers, multiplier_pct, bonus_points, \
         coupon_template_id FROM promotions \
         WHERE status IN ('published', 'stopped') AND ends_at > now() - interval '400 days' \
         AND (multiplier_pct IS NOT NULL OR bonus_points IS NOT NULL \
              OR coupon_template_id IS NOT NULL) \
         AND (stopped_at IS NULL OR stopped_at > starts_at) \
         ORDER BY starts_at, id LIMIT 500",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// One promotion's part in a purchase.
#[derive(Debug, Clone)]
pub struct Reached {
    pub promotion_id: Uuid,
    pub points: i64,
}

/// Counts a purchase for every promotion that applied to it, in one statement: the
/// member's purchases, sales and points under each. Returns the promotions that reached the
/// member for the first time.
pub async fn reach(
    tx: &mut TenantTx,
    member_id: Uuid,
    amount: i64,
    reached: &[Reached],
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>, DbError> {
    let ids: Vec<Uuid> = reached.iter().map(|r| r.promotion_id).collect();
    let points: Vec<i64> = reached.iter().map(|r| r.points).collect();
    Ok(sqlx::query_scalar::<_, Option<Uuid>>(
        "INSERT INTO promotion_members AS m (promotion_id, member_id, purchases, sales, points, \
         first_at, last_at) \
         SELECT x.id, $1, 1, $2, x.points, $3, $3 FROM unnest($4::uuid[], $5::bigint[]) AS x(id, points) \
         ON CONFLICT (promotion_id, member_id) DO UPDATE SET purchases = m.purchases + 1, \
         sales = m.sales + EXCLUDED.sales, points = m.points + EXCLUDED.points, \
         last_at = EXCLUDED.last_at \
         RETURNING CASE WHEN m.purchases = 1 THEN m.promotion_id END",
    )
    .bind(member_id)
    .bind(amount)
    .bind(at)
    .bind(&ids)
    .bind(&points)
    .fetch_all(tx.conn())
    .await?
    .into_iter()
    .flatten()
    .collect())
}

/// Notes the coupon a promotion gave a member.
pub async fn set_coupon(
    tx: &mut TenantTx,
    promotion_id: Uuid,
    member_id: Uuid,
    code: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE promotion_members SET coupon_id = (SELECT id FROM coupons WHERE code = $3) \
         WHERE promotion_id = $1 AND member_id = $2",
    )
    .bind(promotion_id)
    .bind(member_id)
    .bind(code)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A promotion's results.
#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize, Deserialize)]
pub struct Results {
    pub members: i64,
    pub purchases: i64,
    pub sales: i64,
    pub points: i64,
    pub coupons_issued: i64,
    pub coupons_used: i64,
}

pub async fn results(tx: &mut TenantTx, id: Uuid) -> Result<Results, DbError> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS members, coalesce(sum(m.purchases), 0)::bigint AS purchases, \
         coalesce(sum(m.sales), 0)::bigint AS sales, coalesce(sum(m.points), 0)::bigint AS points, \
         count(m.coupon_id) AS coupons_issued, \
         count(*) FILTER (WHERE c.status = 'used') AS coupons_used \
         FROM promotion_members m LEFT JOIN coupons c ON c.id = m.coupon_id \
         WHERE m.promotion_id = $1",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// The lowest points price a running promotion gives `member_id` for an item at `at`
/// (their tier in its audience): the promotion and the price.
pub async fn mall_price(
    tx: &mut TenantTx,
    item_id: Uuid,
    member_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<(Uuid, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.id, pi.points FROM promotion_items pi \
         JOIN promotions p ON p.id = pi.promotion_id \
         LEFT JOIN member_tiers t ON t.member_id = $2 \
         WHERE pi.item_id = $1 AND p.status = 'published' AND p.starts_at <= $3 \
         AND $3 < p.ends_at AND (cardinality(p.tiers) = 0 OR t.tier = ANY(p.tiers)) \
         ORDER BY pi.points, p.id LIMIT 1",
    )
    .bind(item_id)
    .bind(member_id)
    .bind(at)
    .fetch_optional(tx.conn())
    .await?)
}

/// Promotions a member sees: published, not ended at `now`, for everyone or their tier;
/// soonest first.
pub async fn for_member(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Promotion>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLS} FROM promotions p \
         WHERE p.status = 'published' AND p.ends_at > $2 \
         AND (cardinality(p.tiers) = 0 OR EXISTS (SELECT 1 FROM member_tiers t \
              WHERE t.member_id = $1 AND t.tier = ANY(p.tiers))) \
         ORDER BY p.starts_at, p.id LIMIT 100"
    ))
    .bind(member_id)
    .bind(now)
    .fetch_all(tx.conn())
    .await?)
}
