//! Membership plans (fee standards), memberships, their freezes, and the charge records of
//! money taken at the counter.

use super::Charge;
use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Plan {
    pub id: Uuid,
    pub name: String,
    pub price: i64,
    pub period_unit: String,
    pub period_days: Option<i32>,
    pub tier: Option<String>,
    pub pass_product_id: Option<Uuid>,
    pub stored_value: i64,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
}

const PLAN: &str = "id, name, price, period_unit, period_days, tier, pass_product_id, \
                    stored_value, archived, created_at";

pub async fn insert_plan(tx: &mut TenantTx, p: &Plan) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO membership_plans (id, name, price, period_unit, period_days, tier, \
         pass_product_id, stored_value, archived, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(p.id)
    .bind(&p.name)
    .bind(p.price)
    .bind(&p.period_unit)
    .bind(p.period_days)
    .bind(&p.tier)
    .bind(p.pass_product_id)
    .bind(p.stored_value)
    .bind(p.archived)
    .bind(p.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn plans(tx: &mut TenantTx) -> Result<Vec<Plan>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PLAN} FROM membership_plans ORDER BY archived, created_at"
    ))
    .fetch_all(tx.conn())
    .await?)
}

pub async fn plan(tx: &mut TenantTx, id: Uuid) -> Result<Option<Plan>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {PLAN} FROM membership_plans WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Archives a plan (no longer sold; memberships of it keep working) or brings it back.
pub async fn set_plan_archived(
    tx: &mut TenantTx,
    id: Uuid,
    archived: bool,
) -> Result<Option<Plan>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE membership_plans SET archived = $2 WHERE id = $1 RETURNING {PLAN}"
    ))
    .bind(id)
    .bind(archived)
    .fetch_optional(tx.conn())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Membership {
    pub id: Uuid,
    pub member_id: Uuid,
    pub plan_id: Uuid,
    pub plan_name: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: String,
    pub paid: i64,
    pub frozen_days: i64,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

const MEMBERSHIP: &str = "m.id, m.member_id, m.plan_id, p.name AS plan_name, m.starts_on, \
    m.ends_on, m.status, m.paid, \
    (SELECT coalesce(sum(days), 0)::bigint FROM membership_freezes f \
     WHERE f.membership_id = m.id) AS frozen_days, \
    m.created_at, m.cancelled_at";

pub async fn insert_membership(tx: &mut TenantTx, m: &Membership) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO memberships (id, member_id, plan_id, starts_on, ends_on, status, paid, \
         created_at) VALUES ($1, $2, $3, $4, $5, 'active', $6, $7)",
    )
    .bind(m.id)
    .bind(m.member_id)
    .bind(m.plan_id)
    .bind(m.starts_on)
    .bind(m.ends_on)
    .bind(m.paid)
    .bind(m.created_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn memberships(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<Membership>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEMBERSHIP} FROM memberships m JOIN membership_plans p ON p.id = m.plan_id \
         WHERE m.member_id = $1 ORDER BY m.ends_on DESC, m.id"
    ))
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

/// The member's membership, locked.
pub async fn lock_membership(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: Uuid,
) -> Result<Option<Membership>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEMBERSHIP} FROM memberships m JOIN membership_plans p ON p.id = m.plan_id \
         WHERE m.id = $1 AND m.member_id = $2 FOR UPDATE OF m"
    ))
    .bind(id)
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn set_end(
    tx: &mut TenantTx,
    id: Uuid,
    ends_on: NaiveDate,
    paid: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE memberships SET ends_on = $2, paid = $3 WHERE id = $1")
        .bind(id)
        .bind(ends_on)
        .bind(paid)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn cancel(tx: &mut TenantTx, id: Uuid, at: DateTime<Utc>) -> Result<(), DbError> {
    sqlx::query("UPDATE memberships SET status = 'cancelled', cancelled_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Days frozen in a membership year.
pub async fn frozen_in_year(
    tx: &mut TenantTx,
    membership_id: Uuid,
    year_index: i32,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(days), 0)::bigint FROM membership_freezes \
         WHERE membership_id = $1 AND year_index = $2",
    )
    .bind(membership_id)
    .bind(year_index)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn insert_freeze(
    tx: &mut TenantTx,
    membership_id: Uuid,
    starts_on: NaiveDate,
    days: i64,
    year_index: i32,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO membership_freezes (membership_id, starts_on, days, year_index, at, actor) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(membership_id)
    .bind(starts_on)
    .bind(days as i32)
    .bind(year_index)
    .bind(at)
    .bind(actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Active memberships ending from `from` to `to` (local days, both included), soonest
/// first.
pub async fn ending(
    tx: &mut TenantTx,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Membership>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEMBERSHIP} FROM memberships m JOIN membership_plans p ON p.id = m.plan_id \
         WHERE m.status = 'active' AND m.ends_on >= $1 AND m.ends_on <= $2 \
         ORDER BY m.ends_on, m.id LIMIT 1000"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?)
}

/// Which charge records: instants from `from` (included) to `to` (excluded), and the
/// other filters when given.
#[derive(Debug, Clone, Default)]
pub struct ChargeFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub plan_id: Option<Uuid>,
    pub method: Option<String>,
    pub staff: Option<String>,
    pub member_id: Option<Uuid>,
}

const CHARGE_WHERE: &str = "($1::timestamptz IS NULL OR at >= $1) \
    AND ($2::timestamptz IS NULL OR at < $2) AND ($3::uuid IS NULL OR plan_id = $3) \
    AND ($4::text IS NULL OR method = $4) AND ($5::text IS NULL OR staff = $5) \
    AND ($6::uuid IS NULL OR member_id = $6)";

/// A charge record with its member's name (empty for an erased member).
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct NamedCharge {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub charge: Charge,
    pub member_name: String,
}

/// The filtered charge records, newest first, each with its member's name (one query).
pub async fn charges(
    tx: &mut TenantTx,
    f: &ChargeFilter,
    limit: i64,
) -> Result<Vec<NamedCharge>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT c.id, c.member_id, c.kind, c.amount, c.method, c.receipt, c.staff, c.plan_id, \
                c.membership_id, c.pass_id, c.top_up_id, c.at, c.principal, c.bonus, \
                coalesce(m.name, '') AS member_name \
         FROM (SELECT * FROM charges WHERE {CHARGE_WHERE} ORDER BY at DESC, id DESC LIMIT $7) c \
         LEFT JOIN members m ON m.id = c.member_id ORDER BY c.at DESC, c.id DESC"
    ))
    .bind(f.from)
    .bind(f.to)
    .bind(f.plan_id)
    .bind(&f.method)
    .bind(&f.staff)
    .bind(f.member_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Totals of the filtered charges by local day (in `zone`) and method: (day, method,
/// count, amount).
pub async fn charge_totals(
    tx: &mut TenantTx,
    f: &ChargeFilter,
    zone: &str,
) -> Result<Vec<(NaiveDate, String, i64, i64)>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT (at AT TIME ZONE $7)::date AS day, method, count(*)::bigint, \
                coalesce(sum(amount), 0)::bigint \
         FROM charges WHERE {CHARGE_WHERE} GROUP BY 1, 2 ORDER BY 1 DESC, 2"
    ))
    .bind(f.from)
    .bind(f.to)
    .bind(f.plan_id)
    .bind(&f.method)
    .bind(&f.staff)
    .bind(f.member_id)
    .bind(zone)
    .fetch_all(tx.conn())
    .await?)
}
