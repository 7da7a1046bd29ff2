//! The points mall's SQL: catalogue items, orders with the lots their points came from,
//! order changes, per-member counters and the mall's settings. Stock and per-member limits
//! are taken by one conditional statement each (never checked, then written).

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A catalogue item.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Item {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub pictures: Vec<String>,
    pub points: i64,
    pub cash: i64,
    pub stock: i64,
    pub per_member: Option<i32>,
    pub per_order: Option<i32>,
    pub tiers: Vec<String>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub delivery: String,
    /// The coupon template a virtual item gives (none for other items).
    pub coupon_template_id: Option<Uuid>,
    /// The picture by upload (a stored `mall_item` upload), shown before `pictures`.
    pub picture_upload_id: Option<Uuid>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

const ITEM: &str = "id, name, description, pictures, points, cash, stock, per_member, per_order, \
                    tiers, available_from, available_until, delivery, archived, created_at, \
                    updated_at, updated_by, coupon_template_id, picture_upload_id";

pub async fn insert_item(tx: &mut TenantTx, i: &Item) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO mall_items ({ITEM}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(i.id)
    .bind(&i.name)
    .bind(&i.description)
    .bind(&i.pictures)
    .bind(i.points)
    .bind(i.cash)
    .bind(i.stock)
    .bind(i.per_member)
    .bind(i.per_order)
    .bind(&i.tiers)
    .bind(i.available_from)
    .bind(i.available_until)
    .bind(&i.delivery)
    .bind(i.archived)
    .bind(i.created_at)
    .bind(i.updated_at)
    .bind(&i.updated_by)
    .bind(i.coupon_template_id)
    .bind(i.picture_upload_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces an item's editable values (all but its id, archive mark and creation);
/// `None` when there is no such item.
pub async fn update_item(tx: &mut TenantTx, i: &Item) -> Result<Option<Item>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE mall_items SET name = $2, description = $3, pictures = $4, points = $5, \
         cash = $6, stock = $7, per_member = $8, per_order = $9, tiers = $10, \
         available_from = $11, available_until = $12, delivery = $13, updated_at = $14, \
         updated_by = $15, coupon_template_id = $16, picture_upload_id = $17 \
         WHERE id = $1 RETURNING {ITEM}"
    ))
    .bind(i.id)
    .bind(&i.name)
    .bind(&i.description)
    .bind(&i.pictures)
    .bind(i.points)
    .bind(i.cash)
    .bind(i.stock)
    .bind(i.per_member)
    .bind(i.per_order)
    .bind(&i.tiers)
    .bind(i.available_from)
    .bind(i.available_until)
    .bind(&i.delivery)
    .bind(i.updated_at)
    .bind(&i.updated_by)
    .bind(i.coupon_template_id)
    .bind(i.picture_upload_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Every item (archived ones last), or only those not archived.
pub async fn items(tx: &mut TenantTx, archived_too: bool) -> Result<Vec<Item>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ITEM} FROM mall_items WHERE $1 OR NOT archived \
         ORDER BY archived, created_at DESC, id LIMIT 1000"
    ))
    .bind(archived_too)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn item(tx: &mut TenantTx, id: Uuid) -> Result<Option<Item>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {ITEM} FROM mall_items WHERE id = $1"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Archives an item (no longer offered; its orders go on) or brings it back.
pub async fn set_archived(
    tx: &mut TenantTx,
    id: Uuid,
    archived: bool,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Option<Item>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE mall_items SET archived = $2, updated_by = $3, updated_at = $4 \
         WHERE id = $1 RETURNING {ITEM}"
    ))
    .bind(id)
    .bind(archived)
    .bind(by)
    .bind(at)
    .fetch_optional(tx.conn())
    .await?)
}

/// Takes `quantity` units from the item's stock in one conditional statement: the stock
/// left, or `None` when fewer units are left (nothing taken).
pub async fn take_stock(
    tx: &mut TenantTx,
    item_id: Uuid,
    quantity: i64,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE mall_items SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING stock",
    )
    .bind(item_id)
    .bind(quantity)
    .fetch_optional(tx.conn())
    .await?)
}

/// Puts `quantity` units back into the item's stock.
pub async fn return_stock(tx: &mut TenantTx, item_id: Uuid, quantity: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE mall_items SET stock = stock + $2 WHERE id = $1")
        .bind(item_id)
        .bind(quantity)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Counts `quantity` more units of the item for the member, in one conditional upsert that
/// refuses to pass `limit`: false (nothing counted) when it would.
pub async fn count_up(
    tx: &mut TenantTx,
    item_id: Uuid,
    member_id: Uuid,
    quantity: i64,
    limit: i64,
) -> Result<bool, DbError> {
    // The parameters are cast: Citus plans the SELECT apart from the INSERT, where nothing
    // else tells their types.
    let counted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO mall_member_counts AS c (item_id, member_id, ordered) \
         SELECT $1::uuid, $2::uuid, $3::bigint WHERE $3::bigint <= $4::bigint \
         ON CONFLICT (item_id, member_id) DO UPDATE SET ordered = c.ordered + EXCLUDED.ordered \
         WHERE c.ordered + EXCLUDED.ordered <= $4 \
         RETURNING ordered",
    )
    .bind(item_id)
    .bind(member_id)
    .bind(quantity)
    .bind(limit)
    .fetch_optional(tx.conn())
    .await?;
    Ok(counted.is_some())
}

/// The member's count of the item lowered by a cancelled order's units.
pub async fn count_down(
    tx: &mut TenantTx,
    item_id: Uuid,
    member_id: Uuid,
    quantity: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE mall_member_counts SET ordered = GREATEST(ordered - $3, 0) \
         WHERE item_id = $1 AND member_id = $2",
    )
    .bind(item_id)
    .bind(member_id)
    .bind(quantity)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Units of each item the member holds in orders not cancelled (for the portal's limits).
pub async fn member_counts(
    tx: &mut TenantTx,
    member_id: Uuid,
) -> Result<Vec<(Uuid, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT item_id, ordered FROM mall_member_counts WHERE member_id = $1 AND ordered > 0",
    )
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

/// The member's tier code, when they have a standing.
pub async fn member_tier(tx: &mut TenantTx, member_id: Uuid) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT tier FROM member_tiers WHERE member_id = $1")
            .bind(member_id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// An order, with its member's name.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Order {
    pub id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub item_id: Uuid,
    pub item_name: String,
    pub quantity: i32,
    pub points: i64,
    pub cash: i64,
    pub delivery: String,
    pub address: Option<Value>,
    pub pickup_code: Option<String>,
    pub tracking: Option<String>,
    pub state: String,
    pub entry_id: i64,
    pub refund_entry: Option<i64>,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The coupons a virtual order gave.
    pub coupon_codes: Vec<String>,
}

const ORDER: &str = "o.id, o.member_id, m.name AS member_name, o.item_id, o.item_name, \
                     o.quantity, o.points, o.cash, o.delivery, o.address, o.pickup_code, \
                     o.tracking, o.state, o.entry_id, o.refund_entry, o.placed_by, \
                     o.placed_at, o.updated_at, o.coupon_codes";

/// A new order as written.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub id: Uuid,
    pub member_id: Uuid,
    pub item_id: Uuid,
    pub item_name: &'a str,
    pub quantity: i32,
    pub points: i64,
    pub cash: i64,
    pub delivery: &'a str,
    pub address: Option<Value>,
    pub pickup_code: Option<String>,
    pub coupon_codes: &'a [String],
    pub entry_id: i64,
    pub placed_by: &'a str,
    pub at: DateTime<Utc>,
}

/// Writes an order, the lots its points came from and its first change, in one statement.
pub async fn insert_order(
    tx: &mut TenantTx,
    o: &NewOrder<'_>,
    lots: &[(i64, i64)],
) -> Result<(), DbError> {
    let (ids, points): (Vec<i64>, Vec<i64>) = lots.iter().copied().unzip();
    sqlx::query(
        "WITH o AS ( \
             INSERT INTO mall_orders (id, member_id, item_id, item_name, quantity, points, cash, \
             delivery, address, pickup_code, state, entry_id, placed_by, placed_at, updated_at, \
             coupon_codes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $12, $13, $13, $16) \
             RETURNING id \
         ), l AS ( \
             INSERT INTO mall_order_lots (order_id, lot_id, points) \
             SELECT (SELECT id FROM o), v.id, v.p FROM unnest($14::bigint[], $15::bigint[]) AS v(id, p) \
         ) INSERT INTO mall_order_events (order_id, from_state, to_state, actor, reason, at) \
           SELECT id, NULL, 'pending', $12, '', $13 FROM o",
    )
    .bind(o.id)
    .bind(o.member_id)
    .bind(o.item_id)
    .bind(o.item_name)
    .bind(o.quantity)
    .bind(o.points)
    .bind(o.cash)
    .bind(o.delivery)
    .bind(&o.address)
    .bind(&o.pickup_code)
    .bind(o.entry_id)
    .bind(o.placed_by)
    .bind(o.at)
    .bind(&ids)
    .bind(&points)
    .bind(o.coupon_codes)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// An order by id, locked for the rest of the transaction when `lock`.
pub async fn order(tx: &mut TenantTx, id: Uuid, lock: bool) -> Result<Option<Order>, DbError> {
    let sql = format!(
        "SELECT {ORDER} FROM mall_orders o JOIN members m ON m.id = o.member_id WHERE o.id = $1{}",
        if lock { " FOR UPDATE OF o" } else { "" }
    );
    Ok(sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(tx.conn())
        .await?)
}

/// The order with this pickup code, locked.
pub async fn order_by_code(tx: &mut TenantTx, code: &str) -> Result<Option<Order>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ORDER} FROM mall_orders o JOIN members m ON m.id = o.member_id \
         WHERE o.pickup_code = $1 FOR UPDATE OF o"
    ))
    .bind(code)
    .fetch_optional(tx.conn())
    .await?)
}

/// Whether a pickup code is taken.
pub async fn code_taken(tx: &mut TenantTx, code: &str) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM mall_orders WHERE pickup_code = $1)")
            .bind(code)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// A change of an order's state.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub actor: &'a str,
    pub reason: &'a str,
    pub tracking: Option<&'a str>,
    pub refund_entry: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Moves an order from `c.from` to `c.to` and records the change, in one statement: false
/// when the order is no longer in `c.from` (nothing written).
pub async fn change_state(tx: &mut TenantTx, id: Uuid, c: &Change<'_>) -> Result<bool, DbError> {
    let moved: Option<Uuid> = sqlx::query_scalar(
        "WITH o AS ( \
             UPDATE mall_orders SET state = $3, updated_at = $7, \
             tracking = coalesce($5, tracking), refund_entry = coalesce($8, refund_entry) \
             WHERE id = $1 AND state = $2 RETURNING id \
         ), e AS ( \
             INSERT INTO mall_order_events (order_id, from_state, to_state, actor, reason, at) \
             SELECT id, $2, $3, $4, $6, $7 FROM o \
         ) SELECT id FROM o",
    )
    .bind(id)
    .bind(c.from)
    .bind(c.to)
    .bind(c.actor)
    .bind(c.tracking)
    .bind(c.reason)
    .bind(c.at)
    .bind(c.refund_entry)
    .fetch_optional(tx.conn())
    .await?;
    Ok(moved.is_some())
}

/// A coupon a virtual order gave: its id and status (`issued`, `used`, `voided`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderCoupon {
    pub id: Uuid,
    pub code: String,
    pub status: String,
}

/// The coupons with these codes, locked for the rest of the transaction (so a purchase
/// cannot use one while a cancel voids them).
pub async fn lock_coupons(
    tx: &mut TenantTx,
    codes: &[String],
) -> Result<Vec<OrderCoupon>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, code, status FROM coupons WHERE code = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(codes)
    .fetch_all(tx.conn())
    .await?)
}

/// The lots an order's points came from: `(lot id, points)`, soonest-expiring first.
pub async fn order_lots(tx: &mut TenantTx, id: Uuid) -> Result<Vec<(i64, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT ol.lot_id, ol.points FROM mall_order_lots ol \
         LEFT JOIN point_lots l ON l.id = ol.lot_id \
         WHERE ol.order_id = $1 ORDER BY l.expires_at ASC NULLS LAST, ol.lot_id",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

/// One change of an order.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Event {
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

pub async fn order_events(tx: &mut TenantTx, id: Uuid) -> Result<Vec<Event>, DbError> {
    Ok(sqlx::query_as(
        "SELECT from_state, to_state, actor, reason, at FROM mall_order_events \
         WHERE order_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

/// Which orders a list shows.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub state: Option<String>,
    pub member_id: Option<Uuid>,
    pub item_id: Option<Uuid>,
    pub limit: i64,
}

/// Orders newest first, by the filter.
pub async fn orders(tx: &mut TenantTx, f: &OrderFilter) -> Result<Vec<Order>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ORDER} FROM mall_orders o JOIN members m ON m.id = o.member_id \
         WHERE ($1::text IS NULL OR o.state = $1) AND ($2::uuid IS NULL OR o.member_id = $2) \
           AND ($3::uuid IS NULL OR o.item_id = $3) \
         ORDER BY o.placed_at DESC, o.id DESC LIMIT $4"
    ))
    .bind(&f.state)
    .bind(f.member_id)
    .bind(f.item_id)
    .bind(f.limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Pending orders placed before `cutoff` (for the job that cancels them), a batch at a time.
pub async fn pending_before(
    tx: &mut TenantTx,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM mall_orders WHERE state = 'pending' AND placed_at < $1 \
         ORDER BY placed_at, id LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// The mall's settings: hours a pending order waits before it is cancelled on its own.
pub async fn pending_limit_hours(tx: &mut TenantTx) -> Result<Option<i32>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT pending_limit_hours FROM mall_settings")
            .fetch_one(tx.conn())
            .await?,
    )
}

pub async fn set_pending_limit_hours(
    tx: &mut TenantTx,
    hours: Option<i32>,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE mall_settings SET pending_limit_hours = $1, updated_by = $2, updated_at = $3",
    )
    .bind(hours)
    .bind(by)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Forgets an erased member's shipping addresses: every order's address goes (the order,
/// its points and its changes stay), and so do the stored answers of the member's order
/// placements, which repeat the address (a retry of one by an erased member is refused
/// anyway). Returns how many orders had an address.
pub async fn forget_addresses(tx: &mut TenantTx, member_id: Uuid) -> Result<u64, DbError> {
    let n = sqlx::query(
        "UPDATE mall_orders SET address = NULL WHERE member_id = $1 AND address IS NOT NULL",
    )
    .bind(member_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key LIKE $2")
        .bind("mall_order")
        .bind(format!("{member_id}:%"))
        .execute(tx.conn())
        .await?;
    Ok(n)
}
