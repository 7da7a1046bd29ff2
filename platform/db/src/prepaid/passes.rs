//! Visit passes: products, passes sold to members, and their uses. A visit is taken by one
//! conditional statement (`visits_left > 0`, not expired), backed by the table's CHECK.

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Product {
    pub id: Uuid,
    pub name: String,
    pub visits: i32,
    pub validity_days: Option<i32>,
    pub categories: Vec<String>,
    pub price: i64,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
}

const PRODUCT: &str = "id, name, visits, validity_days, categories, price, archived, created_at";

pub async fn insert_product(tx: &mut TenantTx, p: &Product) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO pass_products (id, name, visits, validity_days, categories, price, \
         archived, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(p.id)
    .bind(&p.name)
    .bind(p.visits)
    .bind(p.validity_days)
    .bind(&p.categories)
    .bind(p.price)
    .bind(p.archived)
    .bind(p.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn products(tx: &mut TenantTx) -> Result<Vec<Product>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PRODUCT} FROM pass_products ORDER BY archived, created_at"
    ))
    .fetch_all(tx.conn())
    .await?)
}

pub async fn product(tx: &mut TenantTx, id: Uuid) -> Result<Option<Product>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PRODUCT} FROM pass_products WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Archives a pass product (no longer sold; passes of it keep working) or brings it back.
pub async fn set_product_archived(
    tx: &mut TenantTx,
    id: Uuid,
    archived: bool,
) -> Result<Option<Product>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE pass_products SET archived = $2 WHERE id = $1 RETURNING {PRODUCT}"
    ))
    .bind(id)
    .bind(archived)
    .fetch_optional(tx.conn())
    .await?)
}

/// A pass a member holds.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Pass {
    pub id: Uuid,
    pub member_id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub categories: Vec<String>,
    pub visits_total: i32,
    pub visits_left: i32,
    pub starts_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub sold_at: DateTime<Utc>,
    pub actor: String,
    /// Frozen (not usable) from this day to `frozen_until`, both included.
    pub frozen_from: Option<NaiveDate>,
    pub frozen_until: Option<NaiveDate>,
}

const PASS: &str = "p.id, p.member_id, p.product_id, pr.name AS product_name, pr.categories, \
                    p.visits_total, p.visits_left, p.starts_on, p.expires_on, p.sold_at, p.actor, \
                    p.frozen_from, p.frozen_until";

pub async fn insert_pass(tx: &mut TenantTx, p: &Pass) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO member_passes (id, member_id, product_id, visits_total, visits_left, \
         starts_on, expires_on, sold_at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(p.id)
    .bind(p.member_id)
    .bind(p.product_id)
    .bind(p.visits_total)
    .bind(p.visits_left)
    .bind(p.starts_on)
    .bind(p.expires_on)
    .bind(p.sold_at)
    .bind(&p.actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn passes(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<Pass>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PASS} FROM member_passes p JOIN pass_products pr ON pr.id = p.product_id \
         WHERE p.member_id = $1 ORDER BY p.sold_at DESC, p.id"
    ))
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

/// The member's pass, locked.
pub async fn lock_pass(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: Uuid,
) -> Result<Option<Pass>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PASS} FROM member_passes p JOIN pass_products pr ON pr.id = p.product_id \
         WHERE p.id = $1 AND p.member_id = $2 FOR UPDATE OF p"
    ))
    .bind(id)
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Takes one visit, in one conditional statement: the visits left after it, or `None`
/// when none is left, the pass expired before `today` or is frozen on it.
pub async fn take_visit(
    tx: &mut TenantTx,
    id: Uuid,
    today: NaiveDate,
) -> Result<Option<i32>, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE member_passes SET visits_left = visits_left - 1 \
         WHERE id = $1 AND visits_left > 0 AND (expires_on IS NULL OR expires_on >= $2) \
           AND NOT coalesce($2 BETWEEN frozen_from AND frozen_until, false) \
         RETURNING visits_left",
    )
    .bind(id)
    .bind(today)
    .fetch_optional(tx.conn())
    .await?)
}

/// Gives one visit back (a reversed use); the visits left after it.
pub async fn give_visit(tx: &mut TenantTx, id: Uuid) -> Result<i32, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE member_passes SET visits_left = visits_left + 1 WHERE id = $1 \
         RETURNING visits_left",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn set_expiry(
    tx: &mut TenantTx,
    id: Uuid,
    expires_on: Option<NaiveDate>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE member_passes SET expires_on = $2 WHERE id = $1")
        .bind(id)
        .bind(expires_on)
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Use {
    pub id: i64,
    pub pass_id: Uuid,
    pub key: String,
    pub category: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_by: Option<String>,
    pub reason: Option<String>,
}

pub async fn insert_use(
    tx: &mut TenantTx,
    pass_id: Uuid,
    key: &str,
    category: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO pass_uses (pass_id, key, category, at, actor) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(pass_id)
    .bind(key)
    .bind(category)
    .bind(at)
    .bind(actor)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn uses(tx: &mut TenantTx, pass_ids: &[Uuid]) -> Result<Vec<Use>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, pass_id, key, category, at, actor, reversed_at, reversed_by, reason \
         FROM pass_uses WHERE pass_id = ANY($1) ORDER BY id DESC LIMIT 500",
    )
    .bind(pass_ids)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn use_of(tx: &mut TenantTx, pass_id: Uuid, id: i64) -> Result<Option<Use>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, pass_id, key, category, at, actor, reversed_at, reversed_by, reason \
         FROM pass_uses WHERE pass_id = $1 AND id = $2",
    )
    .bind(pass_id)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn reverse_use(
    tx: &mut TenantTx,
    id: i64,
    reason: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE pass_uses SET reversed_at = $2, reversed_by = $3, reason = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(actor)
    .bind(reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Freezes a pass: frozen `from`..=`until`, its last day now `expires_on`; the freeze
/// recorded against the pass year `year_index`.
#[allow(clippy::too_many_arguments)]
pub async fn freeze(
    tx: &mut TenantTx,
    id: Uuid,
    from: NaiveDate,
    until: NaiveDate,
    expires_on: Option<NaiveDate>,
    days: i64,
    year_index: i32,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "WITH p AS (UPDATE member_passes SET frozen_from = $2, frozen_until = $3, \
                    expires_on = $4 WHERE id = $1) \
         INSERT INTO pass_freezes (pass_id, starts_on, days, year_index, at, actor) \
         VALUES ($1, $2, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(from)
    .bind(until)
    .bind(expires_on)
    .bind(days as i32)
    .bind(year_index)
    .bind(at)
    .bind(actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Ends a pass's freeze: usable again, its last day now `expires_on`, the open freeze
/// counting `days_used` against the allowance.
pub async fn unfreeze(
    tx: &mut TenantTx,
    id: Uuid,
    expires_on: Option<NaiveDate>,
    days_used: i64,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "WITH p AS (UPDATE member_passes SET frozen_from = NULL, frozen_until = NULL, \
                    expires_on = $2 WHERE id = $1) \
         UPDATE pass_freezes SET days = $3, ended_at = $4, ended_by = $5 \
         WHERE id = (SELECT max(id) FROM pass_freezes WHERE pass_id = $1)",
    )
    .bind(id)
    .bind(expires_on)
    .bind(days_used as i32)
    .bind(at)
    .bind(actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Days a pass was frozen in a pass year.
pub async fn frozen_in_year(
    tx: &mut TenantTx,
    pass_id: Uuid,
    year_index: i32,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(days), 0)::bigint FROM pass_freezes \
         WHERE pass_id = $1 AND year_index = $2",
    )
    .bind(pass_id)
    .bind(year_index)
    .fetch_one(tx.conn())
    .await?)
}

/// Uses one visit of the member's valid pass of `product` for an activity sign-up, in one
/// statement: the pass that runs out first (then the oldest) with a visit left, not expired
/// before `today` and not frozen on it, locked; the visit taken only while one is left; the
/// use written under `key`; the pass and the use recorded on the registration. The pass
/// used, or `None` when the member holds no such pass (nothing written).
#[allow(clippy::too_many_arguments)]
pub async fn use_for_registration(
    tx: &mut TenantTx,
    member_id: Uuid,
    product: Uuid,
    registration_id: Uuid,
    key: &str,
    today: NaiveDate,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Option<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "WITH p AS ( \
             SELECT id FROM member_passes \
             WHERE member_id = $1 AND product_id = $2 AND visits_left > 0 \
               AND (expires_on IS NULL OR expires_on >= $5) \
               AND NOT coalesce($5 BETWEEN frozen_from AND frozen_until, false) \
             ORDER BY expires_on NULLS LAST, sold_at, id LIMIT 1 FOR UPDATE \
         ), v AS ( \
             UPDATE member_passes m SET visits_left = m.visits_left - 1 FROM p \
             WHERE m.id = p.id AND m.visits_left > 0 RETURNING m.id \
         ), u AS ( \
             INSERT INTO pass_uses (pass_id, key, category, at, actor) \
             SELECT id, $4, '', $6, $7 FROM v RETURNING id, pass_id \
         ), r AS ( \
             UPDATE activity_registrations SET pass_id = u.pass_id, pass_use_id = u.id \
             FROM u WHERE activity_registrations.id = $3 RETURNING u.pass_id \
         ) SELECT pass_id FROM r",
    )
    .bind(member_id)
    .bind(product)
    .bind(registration_id)
    .bind(key)
    .bind(today)
    .bind(at)
    .bind(actor)
    .fetch_optional(tx.conn())
    .await?)
}

/// Reverses an activity sign-up's visit (once: `false` when it was reversed before) and
/// gives the visit back.
pub async fn reverse_for_registration(
    tx: &mut TenantTx,
    use_id: i64,
    reason: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar::<_, Uuid>(
        "WITH u AS ( \
             UPDATE pass_uses SET reversed_at = $2, reversed_by = $3, reason = $4 \
             WHERE id = $1 AND reversed_at IS NULL RETURNING pass_id \
         ) UPDATE member_passes m SET visits_left = m.visits_left + 1 FROM u \
           WHERE m.id = u.pass_id RETURNING m.id",
    )
    .bind(use_id)
    .bind(at)
    .bind(actor)
    .bind(reason)
    .fetch_optional(tx.conn())
    .await?
    .is_some())
}
