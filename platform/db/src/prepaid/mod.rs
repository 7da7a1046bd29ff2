//! Prepaid storage: the stored-value balance row and its two sub-ledgers, top-ups, how a
//! purchase was paid, the prepaid settings, idempotent answers, and (in [`passes`] and
//! [`memberships`]) visit passes, membership plans and charge records.
//!
//! A change of stored value is one statement: the balance row moves only when both sides
//! stay at zero or above (`WHERE principal + $p >= 0 AND bonus + $b >= 0`, backed by the
//! table's CHECKs), and the sub-ledger entries are written from the row it returns.

pub mod memberships;
pub mod passes;

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The business's prepaid settings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Settings {
    pub spend_order: String,
    pub bonus_rule: Value,
    pub balance_cap: Option<i64>,
    pub freeze_days_per_year: i32,
}

pub async fn settings(tx: &mut TenantTx) -> Result<Settings, DbError> {
    Ok(sqlx::query_as(
        "SELECT spend_order, bonus_rule, balance_cap, freeze_days_per_year FROM prepaid_settings",
    )
    .fetch_one(tx.conn())
    .await?)
}

pub async fn set_settings(
    tx: &mut TenantTx,
    s: &Settings,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE prepaid_settings SET spend_order = $1, bonus_rule = $2, balance_cap = $3, \
         freeze_days_per_year = $4, updated_at = $5",
    )
    .bind(&s.spend_order)
    .bind(&s.bonus_rule)
    .bind(s.balance_cap)
    .bind(s.freeze_days_per_year)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A member's stored value by sub-ledger.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow, Serialize, Deserialize, PartialEq, Eq)]
pub struct Balance {
    pub principal: i64,
    pub bonus: i64,
}

/// Locks the member's balance row (creating it at zero), and returns it. Every change of a
/// member's stored value takes this lock first, before it reads any earlier answer.
pub async fn lock_balance(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Balance, DbError> {
    let locked: Option<Balance> = sqlx::query_as(
        "SELECT principal, bonus FROM stored_value_balances WHERE member_id = $1 FOR UPDATE",
    )
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(b) = locked {
        return Ok(b);
    }
    Ok(sqlx::query_as(
        "INSERT INTO stored_value_balances (member_id, updated_at) VALUES ($1, $2) \
         ON CONFLICT (member_id) DO UPDATE SET updated_at = stored_value_balances.updated_at \
         RETURNING principal, bonus",
    )
    .bind(member_id)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// The member's balance, without a lock (zeros when they never had stored value).
pub async fn balance(tx: &mut TenantTx, member_id: Uuid) -> Result<Balance, DbError> {
    Ok(
        sqlx::query_as("SELECT principal, bonus FROM stored_value_balances WHERE member_id = $1")
            .bind(member_id)
            .fetch_optional(tx.conn())
            .await?
            .unwrap_or_default(),
    )
}

/// What a change of stored value refers to.
#[derive(Debug, Clone, Default)]
pub struct Refs<'a> {
    pub top_up_id: Option<Uuid>,
    pub purchase_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    /// A sale paid from stored value (or its refund): the charge record.
    pub charge_id: Option<Uuid>,
    /// An activity sign-up charged (or refunded).
    pub registration_id: Option<Uuid>,
    pub reason: &'a str,
}

/// Moves the member's balance by (`principal`, `bonus`) (signed) and appends the
/// sub-ledger entries, in one statement. `None` when either side would go below zero:
/// nothing was written.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    tx: &mut TenantTx,
    member_id: Uuid,
    principal: i64,
    bonus: i64,
    kind: &str,
    refs: &Refs<'_>,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Option<Balance>, DbError> {
    Ok(sqlx::query_as(
        "WITH b AS ( \
             UPDATE stored_value_balances SET principal = principal + $2, bonus = bonus + $3, \
             updated_at = $9 \
             WHERE member_id = $1 AND principal + $2 >= 0 AND bonus + $3 >= 0 \
             RETURNING principal, bonus \
         ), e AS ( \
             INSERT INTO stored_value_entries (member_id, ledger, kind, amount, balance, \
                 top_up_id, purchase_id, refund_id, reason, actor, at, charge_id, registration_id) \
             SELECT $1, l.ledger, $4, l.amount, l.balance, $5, $6, $7, $8, $10, $9, $11, $12 \
             FROM b, LATERAL (VALUES ('principal', $2::bigint, b.principal), \
                                     ('bonus', $3::bigint, b.bonus)) l (ledger, amount, balance) \
             WHERE l.amount <> 0 \
         ) SELECT principal, bonus FROM b",
    )
    .bind(member_id)
    .bind(principal)
    .bind(bonus)
    .bind(kind)
    .bind(refs.top_up_id)
    .bind(refs.purchase_id)
    .bind(refs.refund_id)
    .bind(refs.reason)
    .bind(at)
    .bind(actor)
    .bind(refs.charge_id)
    .bind(refs.registration_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// A top-up as stored.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct TopUp {
    pub id: Uuid,
    pub member_id: Uuid,
    pub principal: i64,
    pub bonus: i64,
    pub method: String,
    pub receipt: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub refunded_at: Option<DateTime<Utc>>,
    pub refunded_principal: Option<i64>,
    pub forfeited_bonus: Option<i64>,
}

const TOP_UP: &str = "id, member_id, principal, bonus, method, receipt, at, actor, refunded_at, \
                      refunded_principal, forfeited_bonus";

pub async fn insert_top_up(tx: &mut TenantTx, t: &TopUp) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO top_ups (id, member_id, principal, bonus, method, receipt, at, actor) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.id)
    .bind(t.member_id)
    .bind(t.principal)
    .bind(t.bonus)
    .bind(&t.method)
    .bind(&t.receipt)
    .bind(t.at)
    .bind(&t.actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn top_up(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: Uuid,
) -> Result<Option<TopUp>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TOP_UP} FROM top_ups WHERE id = $1 AND member_id = $2"
    ))
    .bind(id)
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn top_ups(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<TopUp>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {TOP_UP} FROM top_ups WHERE member_id = $1 ORDER BY at DESC, id DESC LIMIT 200"
    ))
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

/// The stored value of the member's top-ups newer than `than` and not refunded.
pub async fn newer_top_ups(tx: &mut TenantTx, t: &TopUp) -> Result<Balance, DbError> {
    Ok(sqlx::query_as(
        "SELECT coalesce(sum(principal), 0)::bigint AS principal, \
                coalesce(sum(bonus), 0)::bigint AS bonus \
         FROM top_ups WHERE member_id = $1 AND refunded_at IS NULL AND (at, id) > ($2, $3)",
    )
    .bind(t.member_id)
    .bind(t.at)
    .bind(t.id)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn mark_top_up_refunded(
    tx: &mut TenantTx,
    id: Uuid,
    principal: i64,
    bonus: i64,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE top_ups SET refunded_at = $2, refunded_principal = $3, forfeited_bonus = $4 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(principal)
    .bind(bonus)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One sub-ledger entry.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Entry {
    pub id: i64,
    pub ledger: String,
    pub kind: String,
    pub amount: i64,
    pub balance: i64,
    pub top_up_id: Option<Uuid>,
    pub purchase_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// The member's entries, newest first, `before` an entry id when paging.
pub async fn entries(
    tx: &mut TenantTx,
    member_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, ledger, kind, amount, balance, top_up_id, purchase_id, refund_id, reason, \
                actor, at \
         FROM stored_value_entries WHERE member_id = $1 AND ($2::bigint IS NULL OR id < $2) \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(member_id)
    .bind(before)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// One way a purchase was paid.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Payment {
    pub method: String,
    pub amount: i64,
    pub principal: i64,
    pub bonus: i64,
}

pub async fn insert_payments(
    tx: &mut TenantTx,
    purchase_id: Uuid,
    payments: &[Payment],
) -> Result<(), DbError> {
    if payments.is_empty() {
        return Ok(());
    }
    let methods: Vec<&str> = payments.iter().map(|p| p.method.as_str()).collect();
    let amounts: Vec<i64> = payments.iter().map(|p| p.amount).collect();
    let principal: Vec<i64> = payments.iter().map(|p| p.principal).collect();
    let bonus: Vec<i64> = payments.iter().map(|p| p.bonus).collect();
    sqlx::query(
        "INSERT INTO purchase_payments (purchase_id, method, amount, principal, bonus) \
         SELECT $1, * FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::bigint[])",
    )
    .bind(purchase_id)
    .bind(&methods)
    .bind(&amounts)
    .bind(&principal)
    .bind(&bonus)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What stored value paid of a purchase (none when it paid nothing).
pub async fn stored_value_payment(
    tx: &mut TenantTx,
    purchase_id: Uuid,
) -> Result<Option<Payment>, DbError> {
    Ok(sqlx::query_as(
        "SELECT method, amount, principal, bonus FROM purchase_payments \
         WHERE purchase_id = $1 AND method = 'stored_value'",
    )
    .bind(purchase_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Members whose balance row disagrees with their sub-ledgers: (member, principal and bonus
/// on the row, principal and bonus the entries add up to).
pub async fn disagreements(tx: &mut TenantTx) -> Result<Vec<(Uuid, i64, i64, i64, i64)>, DbError> {
    Ok(sqlx::query_as(
        "WITH sums AS ( \
             SELECT member_id, \
                    coalesce(sum(amount) FILTER (WHERE ledger = 'principal'), 0)::bigint AS p, \
                    coalesce(sum(amount) FILTER (WHERE ledger = 'bonus'), 0)::bigint AS b \
             FROM stored_value_entries GROUP BY member_id \
         ) SELECT coalesce(bl.member_id, s.member_id), coalesce(bl.principal, 0), \
                  coalesce(bl.bonus, 0), coalesce(s.p, 0), coalesce(s.b, 0) \
         FROM stored_value_balances bl FULL JOIN sums s ON s.member_id = bl.member_id \
         WHERE coalesce(bl.principal, 0) <> coalesce(s.p, 0) \
            OR coalesce(bl.bonus, 0) <> coalesce(s.b, 0)",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// A charge record: money taken (or given back, negative) at the counter.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Charge {
    pub id: Uuid,
    pub member_id: Uuid,
    pub kind: String,
    pub amount: i64,
    pub method: String,
    pub receipt: String,
    pub staff: String,
    pub plan_id: Option<Uuid>,
    pub membership_id: Option<Uuid>,
    pub pass_id: Option<Uuid>,
    pub top_up_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// Paid from stored value: what it took of each sub-ledger (negative: put back).
    pub principal: i64,
    pub bonus: i64,
}

pub async fn insert_charge(tx: &mut TenantTx, c: &Charge) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO charges (id, member_id, kind, amount, method, receipt, staff, plan_id, \
         membership_id, pass_id, top_up_id, at, principal, bonus) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(c.id)
    .bind(c.member_id)
    .bind(&c.kind)
    .bind(c.amount)
    .bind(&c.method)
    .bind(&c.receipt)
    .bind(&c.staff)
    .bind(c.plan_id)
    .bind(c.membership_id)
    .bind(c.pass_id)
    .bind(c.top_up_id)
    .bind(c.at)
    .bind(c.principal)
    .bind(c.bonus)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What stored value paid, net of what was put back, over the charges of a membership or a
/// pass: (principal, bonus).
pub async fn stored_value_paid(
    tx: &mut TenantTx,
    membership_id: Option<Uuid>,
    pass_id: Option<Uuid>,
) -> Result<Balance, DbError> {
    Ok(sqlx::query_as(
        "SELECT coalesce(sum(principal), 0)::bigint AS principal, \
                coalesce(sum(bonus), 0)::bigint AS bonus \
         FROM charges WHERE method = 'stored_value' \
           AND (membership_id = $1 OR pass_id = $2)",
    )
    .bind(membership_id)
    .bind(pass_id)
    .fetch_one(tx.conn())
    .await?)
}

/// How a purchase is paid, for the statement that takes the stored-value part and writes
/// the payment rows ([`pay_purchase`], or folded into `points::record_purchase`).
#[derive(Debug, Clone)]
pub struct PurchasePay<'a> {
    pub methods: Vec<&'a str>,
    pub amounts: Vec<i64>,
    /// The part paid from stored value (0: none).
    pub stored_value: i64,
}

impl<'a> PurchasePay<'a> {
    pub fn of(payments: &'a [Payment]) -> Self {
        Self {
            methods: payments.iter().map(|p| p.method.as_str()).collect(),
            amounts: payments.iter().map(|p| p.amount).collect(),
            stored_value: payments
                .iter()
                .filter(|p| p.method == "stored_value")
                .map(|p| p.amount)
                .sum(),
        }
    }
}

/// What the payment statement did: whether the balance covered the stored-value part
/// (`paid`), what it took of each sub-ledger, and the balance it found (for the refusal).
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Paid {
    pub paid: bool,
    pub principal: i64,
    pub bonus: i64,
    pub held: i64,
}

/// The CTEs that take `sv` from the member's stored value by the business's spend order, in
/// one statement: the balance row locked (`svl`), the split computed from the locked row
/// (`svs`: `tp` from principal, `tb` from bonus), the balance moved only when both
/// sub-ledgers stay at zero or above (`svb`). Nothing is taken when the balance does not
/// cover `sv` (or `sv` is 0): `svb` is then empty.
pub(crate) fn spend_ctes(m: &str, at: &str, sv: &str) -> String {
    format!(
        "svl AS ( \
             SELECT b.principal, b.bonus, s.spend_order \
             FROM stored_value_balances b, prepaid_settings s \
             WHERE b.member_id = {m} AND {sv}::bigint > 0 FOR UPDATE OF b \
         ), svs AS ( \
             SELECT l.principal, l.bonus, {sv}::bigint - x.tb AS tp, x.tb \
             FROM svl l, LATERAL (SELECT CASE l.spend_order \
                 WHEN 'bonus_first' THEN LEAST({sv}::bigint, l.bonus) \
                 WHEN 'principal_first' THEN {sv}::bigint - LEAST({sv}::bigint, l.principal) \
                 ELSE CASE WHEN l.principal + l.bonus = 0 THEN 0::bigint \
                      ELSE div({sv}::numeric * l.bonus, l.principal + l.bonus)::bigint END \
             END AS tb) x \
             WHERE l.principal + l.bonus >= {sv}::bigint \
         ), svb AS ( \
             UPDATE stored_value_balances b SET principal = b.principal - s.tp, \
             bonus = b.bonus - s.tb, updated_at = {at} \
             FROM svs s \
             WHERE b.member_id = {m} AND b.principal - s.tp >= 0 AND b.bonus - s.tb >= 0 \
             RETURNING b.principal, b.bonus, s.tp, s.tb \
         )"
    )
}

/// The CTEs that pay a purchase, in one statement: the member's balance row locked
/// (`svl`), the split by the business's spend order computed from the locked row (`svs`),
/// the balance moved only when both sub-ledgers stay at zero or above (`svb`), the
/// sub-ledger entries (`sve`) and the payments as taken (`pays`); their rows are inserted
/// by [`payment_rows_cte`], written after the CTE inserting the purchase (the payment rows
/// refer to it, and Citus refuses the statement when the referring CTE comes first). The
/// placeholders name the statement's parameters: member, purchase, actor, time, methods
/// (`text[]`), amounts (`bigint[]`) and the stored-value part (`bigint`).
pub(crate) fn pay_ctes(
    m: &str,
    pid: &str,
    actor: &str,
    at: &str,
    methods: &str,
    amounts: &str,
    sv: &str,
) -> String {
    format!(
        "{} \
         , sve AS ( \
             INSERT INTO stored_value_entries (member_id, ledger, kind, amount, balance, \
                 purchase_id, reason, actor, at) \
             SELECT {m}, l.ledger, 'spend', l.amount, l.balance, {pid}, 'purchase', {actor}, {at} \
             FROM svb, LATERAL (VALUES ('principal', -svb.tp, svb.principal), \
                                       ('bonus', -svb.tb, svb.bonus)) l (ledger, amount, balance) \
             WHERE l.amount <> 0 \
         ), pays AS ( \
             SELECT u.method, u.amount, u.n, \
                    coalesce(CASE WHEN u.method = 'stored_value' THEN svb.tp END, 0) AS principal, \
                    coalesce(CASE WHEN u.method = 'stored_value' THEN svb.tb END, 0) AS bonus \
             FROM unnest({methods}::text[], {amounts}::bigint[]) WITH ORDINALITY u (method, amount, n) \
             LEFT JOIN svb ON true \
         )",
        spend_ctes(m, at, sv)
    )
}

/// The CTE inserting the payment rows of [`pay_ctes`] (`svp`) for purchase `pid`, with its
/// leading comma.
pub(crate) fn payment_rows_cte(pid: &str) -> String {
    format!(
        ", svp AS ( \
             INSERT INTO purchase_payments (purchase_id, method, amount, principal, bonus) \
             SELECT {pid}, method, amount, principal, bonus FROM pays \
         )"
    )
}

/// The payment statement's answer columns (after [`pay_ctes`]).
pub(crate) fn paid_columns(sv: &str) -> String {
    format!(
        "({sv}::bigint = 0 OR EXISTS (SELECT 1 FROM svb)) AS paid, \
         coalesce((SELECT tp FROM svb), 0)::bigint AS principal, \
         coalesce((SELECT tb FROM svb), 0)::bigint AS bonus, \
         coalesce((SELECT principal + bonus FROM svl), 0)::bigint AS held"
    )
}

/// The stored answer with the payments as they were taken (`pays`).
pub(crate) fn response_with_pays(response: &str) -> String {
    format!(
        "jsonb_set({response}::jsonb, '{{payments}}', coalesce((SELECT jsonb_agg(jsonb_build_object( \
             'method', method, 'amount', amount, 'principal', principal, 'bonus', bonus) \
             ORDER BY n) FROM pays), '[]'::jsonb))"
    )
}

/// Pays a purchase already stored, in one statement (see [`pay_ctes`]). When `paid` is
/// false the balance did not cover the stored-value part and nothing of it was written
/// (the caller rolls the payment rows back with the purchase).
pub async fn pay_purchase(
    tx: &mut TenantTx,
    member_id: Uuid,
    purchase_id: Uuid,
    pay: &PurchasePay<'_>,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Paid, DbError> {
    let sql = format!(
        "WITH {}{} SELECT {}",
        pay_ctes("$1", "$2", "$3", "$4", "$5", "$6", "$7"),
        payment_rows_cte("$2"),
        paid_columns("$7")
    );
    Ok(sqlx::query_as(&sql)
        .bind(member_id)
        .bind(purchase_id)
        .bind(actor)
        .bind(at)
        .bind(&pay.methods)
        .bind(&pay.amounts)
        .bind(pay.stored_value)
        .fetch_one(tx.conn())
        .await?)
}

/// Charges an activity sign-up `amount` of the member's stored value by the business's spend
/// order, in one statement (see [`spend_ctes`]): the balance moved only when it covers the
/// amount, the sub-ledger entries written (`spend`, naming the registration) and what each
/// sub-ledger gave recorded on the registration. When `paid` is false nothing was written
/// and `held` is the balance found.
pub async fn spend_for_registration(
    tx: &mut TenantTx,
    member_id: Uuid,
    registration_id: Uuid,
    amount: i64,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Paid, DbError> {
    let sql = format!(
        "WITH {}, sve AS ( \
             INSERT INTO stored_value_entries (member_id, ledger, kind, amount, balance, \
                 registration_id, reason, actor, at) \
             SELECT $1, l.ledger, 'spend', l.amount, l.balance, $2, 'activity', $3, $4 \
             FROM svb, LATERAL (VALUES ('principal', -svb.tp, svb.principal), \
                                       ('bonus', -svb.tb, svb.bonus)) l (ledger, amount, balance) \
             WHERE l.amount <> 0 \
         ), reg AS ( \
             UPDATE activity_registrations SET fen_paid = $5, principal_paid = svb.tp, \
                 bonus_paid = svb.tb \
             FROM svb WHERE id = $2 \
         ) SELECT {}",
        spend_ctes("$1", "$4", "$5"),
        paid_columns("$5")
    );
    Ok(sqlx::query_as(&sql)
        .bind(member_id)
        .bind(registration_id)
        .bind(actor)
        .bind(at)
        .bind(amount)
        .fetch_one(tx.conn())
        .await?)
}
