//! What earns and takes back points, as stored: purchases and refunds (with their external
//! ids and stored answers), referrals, check-ins and custom events, and the recent
//! purchases a simulation replays.

use super::*;

/// A purchase as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Purchase {
    pub id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub items: Value,
    pub store: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub points: i64,
    pub reasons: Value,
    pub rule_version: Option<i32>,
    pub rule_error: Option<Value>,
    pub refunded: i64,
    pub reversed: i64,
    pub entry_id: Option<i64>,
}

const PURCHASE: &str = "id, external_id, member_id, amount, currency, items, store, occurred_at, \
                        recorded_at, recorded_by, points, reasons, rule_version, rule_error, \
                        refunded, reversed, entry_id";

/// A purchase to store.
pub struct NewPurchaseRow<'a> {
    pub id: Uuid,
    pub external_id: &'a str,
    pub hash: &'a [u8],
    pub member_id: Uuid,
    pub amount: i64,
    pub currency: &'a str,
    pub items: Value,
    pub store: &'a str,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: &'a str,
    pub points: i64,
    pub reasons: Value,
    pub rule_version: Option<i32>,
    pub rule_error: Option<Value>,
    pub entry_id: Option<i64>,
    pub response: Value,
}

pub async fn insert_purchase(tx: &mut TenantTx, p: &NewPurchaseRow<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO purchases (id, external_id, request_hash, member_id, amount, currency, items, \
         store, occurred_at, recorded_at, recorded_by, points, reasons, rule_version, rule_error, \
         entry_id, response) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(p.id)
    .bind(p.external_id)
    .bind(p.hash)
    .bind(p.member_id)
    .bind(p.amount)
    .bind(p.currency)
    .bind(&p.items)
    .bind(p.store)
    .bind(p.occurred_at)
    .bind(p.recorded_at)
    .bind(p.recorded_by)
    .bind(p.points)
    .bind(&p.reasons)
    .bind(p.rule_version)
    .bind(&p.rule_error)
    .bind(p.entry_id)
    .bind(&p.response)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn set_purchase_response(
    tx: &mut TenantTx,
    id: Uuid,
    response: &Value,
) -> Result<(), DbError> {
    sqlx::query("UPDATE purchases SET response = $2 WHERE id = $1")
        .bind(id)
        .bind(response)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The member of a purchase given by our id or the caller's.
pub async fn purchase_member(
    tx: &mut TenantTx,
    id: Option<Uuid>,
    external_id: Option<&str>,
) -> Result<Option<Uuid>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT member_id FROM purchases WHERE id = $1 OR external_id = $2")
            .bind(id)
            .bind(external_id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

pub async fn purchase_for_update(
    tx: &mut TenantTx,
    id: Option<Uuid>,
    external_id: Option<&str>,
) -> Result<Purchase, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PURCHASE} FROM purchases WHERE id = $1 OR external_id = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(external_id)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn purchase(tx: &mut TenantTx, id: Uuid) -> Result<Purchase, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {PURCHASE} FROM purchases WHERE id = $1"))
            .bind(id)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// A member's purchases, newest first (before the cursor when given), and totals over all:
/// (count, amount, refunded, points net of reversals).
pub async fn purchases_of(
    tx: &mut TenantTx,
    member_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<(Vec<Purchase>, (i64, i64, i64, i64)), DbError> {
    let rows = sqlx::query_as(&format!(
        "SELECT {PURCHASE} FROM purchases WHERE member_id = $1 \
         AND ($2::timestamptz IS NULL OR (occurred_at, id) < ($2, $3)) \
         ORDER BY occurred_at DESC, id DESC LIMIT $4"
    ))
    .bind(member_id)
    .bind(before.map(|b| b.0))
    .bind(before.map(|b| b.1))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    let totals = sqlx::query_as(
        "SELECT count(*), coalesce(sum(amount), 0)::bigint, coalesce(sum(refunded), 0)::bigint, \
         coalesce(sum(points - reversed), 0)::bigint FROM purchases WHERE member_id = $1",
    )
    .bind(member_id)
    .fetch_one(tx.conn())
    .await?;
    Ok((rows, totals))
}

/// The stored hash and answer of the refund with this external id.
pub async fn refund_by_external_id(
    tx: &mut TenantTx,
    external_id: &str,
) -> Result<Option<(Vec<u8>, Value)>, DbError> {
    Ok(
        sqlx::query_as("SELECT request_hash, response FROM refunds WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

pub struct NewRefundRow<'a> {
    pub id: Uuid,
    pub external_id: &'a str,
    pub hash: &'a [u8],
    pub purchase_id: Uuid,
    pub amount: i64,
    pub points: i64,
    pub debt: i64,
    pub at: DateTime<Utc>,
    pub by: &'a str,
    pub response: Value,
}

/// Stores a refund and adds it to its purchase's refunded amount and reversed points.
pub async fn insert_refund(tx: &mut TenantTx, r: &NewRefundRow<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO refunds (id, external_id, request_hash, purchase_id, amount, points, debt, \
         recorded_at, recorded_by, response) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(r.id)
    .bind(r.external_id)
    .bind(r.hash)
    .bind(r.purchase_id)
    .bind(r.amount)
    .bind(r.points)
    .bind(r.debt)
    .bind(r.at)
    .bind(r.by)
    .bind(&r.response)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE purchases SET refunded = refunded + $2, reversed = reversed + $3 WHERE id = $1",
    )
    .bind(r.purchase_id)
    .bind(r.amount)
    .bind(r.points)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn referral_paid(tx: &mut TenantTx, referred: Uuid) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM referral_rewards WHERE referred_id = $1)")
            .bind(referred)
            .fetch_one(tx.conn())
            .await?,
    )
}

pub async fn record_referral(
    tx: &mut TenantTx,
    referred: Uuid,
    referrer: Uuid,
    purchase: Uuid,
    points: i64,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO referral_rewards (referred_id, referrer_id, purchase_id, points, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(referred)
    .bind(referrer)
    .bind(purchase)
    .bind(points)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn record_check_in(
    tx: &mut TenantTx,
    member_id: Uuid,
    day: NaiveDate,
    streak: i32,
    points: i64,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO check_ins (member_id, day, streak, points, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(member_id)
    .bind(day)
    .bind(streak)
    .bind(points)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The stored hash and answer of the custom event with this external id.
pub async fn event_by_external_id(
    tx: &mut TenantTx,
    external_id: &str,
) -> Result<Option<(Vec<u8>, Value)>, DbError> {
    Ok(
        sqlx::query_as("SELECT request_hash, response FROM custom_events WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

pub struct NewEventRow<'a> {
    pub id: Uuid,
    pub external_id: &'a str,
    pub hash: &'a [u8],
    pub member_id: Uuid,
    pub name: &'a str,
    pub amount: i64,
    pub properties: Value,
    pub occurred_at: DateTime<Utc>,
    pub points: i64,
    pub rule_version: Option<i32>,
    pub rule_error: Option<Value>,
    pub at: DateTime<Utc>,
    pub response: Value,
}

pub async fn insert_event(tx: &mut TenantTx, e: &NewEventRow<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO custom_events (id, external_id, request_hash, member_id, name, amount, \
         properties, occurred_at, points, rule_version, rule_error, recorded_at, response) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(e.id)
    .bind(e.external_id)
    .bind(e.hash)
    .bind(e.member_id)
    .bind(e.name)
    .bind(e.amount)
    .bind(&e.properties)
    .bind(e.occurred_at)
    .bind(e.points)
    .bind(e.rule_version)
    .bind(&e.rule_error)
    .bind(e.at)
    .bind(&e.response)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The business's last `n` purchases, newest first, each with its member and account as
/// they are now (for simulation).
pub async fn recent_purchases(
    tx: &mut TenantTx,
    n: i64,
) -> Result<Vec<(Purchase, crate::members::Member, Account)>, DbError> {
    let purchases: Vec<Purchase> = sqlx::query_as(&format!(
        "SELECT {PURCHASE} FROM purchases ORDER BY recorded_at DESC, id DESC LIMIT $1"
    ))
    .bind(n)
    .fetch_all(tx.conn())
    .await?;
    let mut ids: Vec<Uuid> = purchases.iter().map(|p| p.member_id).collect();
    ids.sort();
    ids.dedup();
    let members: Vec<crate::members::Member> = sqlx::query_as(&format!(
        "SELECT {} FROM members m WHERE m.id = ANY($1)",
        crate::members::COLUMNS
    ))
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let accounts: Vec<Account> = sqlx::query_as(&format!(
        "SELECT {ACCOUNT} FROM point_accounts WHERE member_id = ANY($1)"
    ))
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let members: std::collections::HashMap<Uuid, crate::members::Member> =
        members.into_iter().map(|m| (m.id, m)).collect();
    let accounts: std::collections::HashMap<Uuid, Account> =
        accounts.into_iter().map(|a| (a.member_id, a)).collect();
    Ok(purchases
        .into_iter()
        .filter_map(|p| {
            let m = members.get(&p.member_id)?.clone();
            let a = accounts
                .get(&p.member_id)
                .cloned()
                .unwrap_or_else(|| empty(p.member_id));
            Some((p, m, a))
        })
        .collect())
}
