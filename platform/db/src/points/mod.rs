//! The points ledger: member accounts, append-only entries, lots with expiry, debts, and the
//! check that they agree.
//!
//! Every change to a member's points happens under the lock on the member's account row
//! ([`lock_account`]), inside the caller's transaction: earn, take (redeem, adjust, reverse),
//! expire. The account's `balance` always equals the sum of the member's entries; the open
//! lots always hold `max(balance, 0)` points; `debt` equals the unsettled part of the debts.

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::points::{EntryKind, EntrySource, PointSettings};
use patron_core::reasons::{Reason, Said};
use serde_json::Value;
use uuid::Uuid;

mod ledger;
mod purchases;
mod take;

pub use ledger::*;
pub use purchases::*;
pub use take::*;

/// A member's account, as locked.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct Account {
    pub member_id: Uuid,
    pub balance: i64,
    pub debt: i64,
    pub earned_total: i64,
    pub redeemed_total: i64,
    pub expired_total: i64,
    pub spend_total: i64,
    pub visits: i64,
    pub day: Option<NaiveDate>,
    pub day_points: i64,
    pub last_check_in: Option<NaiveDate>,
    pub streak: i32,
}

impl Account {
    /// Points earned on local day `today` so far.
    pub fn points_on(&self, today: NaiveDate) -> i64 {
        if self.day == Some(today) {
            self.day_points
        } else {
            0
        }
    }
}

const ACCOUNT: &str = "member_id, balance, debt, earned_total, redeemed_total, expired_total, \
                       spend_total, visits, day, day_points, last_check_in, streak";

/// Locks the member's account (creating it on first use) for the rest of the transaction.
pub async fn lock_account(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Account, DbError> {
    let sql = format!("SELECT {ACCOUNT} FROM point_accounts WHERE member_id = $1 FOR UPDATE");
    if let Some(a) = sqlx::query_as(&sql)
        .bind(member_id)
        .fetch_optional(tx.conn())
        .await?
    {
        return Ok(a);
    }
    sqlx::query(
        "INSERT INTO point_accounts (member_id, updated_at) VALUES ($1, $2) \
         ON CONFLICT (member_id) DO NOTHING",
    )
    .bind(member_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(sqlx::query_as(&sql)
        .bind(member_id)
        .fetch_one(tx.conn())
        .await?)
}

/// How a request names its member.
#[derive(Debug, Clone, Copy)]
pub enum MemberLookup<'a> {
    Id(Uuid),
    /// A normalised card number; only an active card finds its member.
    ActiveCard(&'a str),
    /// The phone's blind index.
    PhoneIndex(&'a [u8]),
}

/// What a purchase needs before its rule runs, read in one round trip by [`open_purchase`].
#[derive(Debug)]
pub struct OpenedPurchase {
    pub member: crate::members::Member,
    /// The member's account, locked; `None` when it (or the referrer's) does not exist yet,
    /// in which case nothing was locked and the caller uses [`lock_accounts`].
    pub account: Option<Account>,
    /// The referrer's account, locked with the member's (in member id order).
    pub referrer_account: Option<Account>,
    /// The member's tier code, when they have a standing.
    pub standing_tier: Option<String>,
    /// The stored request hash and answer of a purchase with this external id, as of the
    /// statement's start (one committed while the lock was awaited is not seen: its insert
    /// then fails on the external id, and the caller starts over).
    pub existing: Option<(Vec<u8>, Value)>,
}

#[derive(sqlx::FromRow)]
struct OpenedRow {
    #[sqlx(flatten)]
    member: crate::members::Member,
    account: Option<sqlx::types::Json<Account>>,
    referrer_account: Option<sqlx::types::Json<Account>>,
    standing_tier: Option<String>,
    existing_hash: Option<Vec<u8>>,
    existing_response: Option<Value>,
}

/// The hottest read of the purchase path, in one statement: the member (by id, active card
/// or phone), the locks on their account and their referrer's (in member id order, so two
/// transactions never wait on each other; only when both accounts exist), their tier
/// standing, and any purchase already stored under `external_id`.
///
/// With `claim`, the same statement claims the request's idempotency key first
/// ([`crate::idempotency::claim_sql`]): the member is read only once the claim is the
/// request's, so a duplicate racing it waits on the claim before it locks anything (never
/// holding the account while the first request, holding the claim, waits for it).
///
/// `None`: no such member, or (with `claim`) the key was answered by a request that
/// committed first; [`crate::idempotency::claim`] tells which. On Citus the claim is a
/// statement of its own, made first.
pub async fn open_purchase(
    tx: &mut TenantTx,
    lookup: MemberLookup<'_>,
    external_id: &str,
    claim: Option<crate::idempotency::ClaimOf<'_>>,
) -> Result<Option<OpenedPurchase>, DbError> {
    let cond = match lookup {
        MemberLookup::Id(_) => "m.id = $1",
        MemberLookup::ActiveCard(_) => {
            "m.id = (SELECT c.member_id FROM member_cards c \
             WHERE c.number = $1 AND c.status = 'active')"
        }
        MemberLookup::PhoneIndex(_) => "m.phone_index = $1",
    };
    let Some(claim) = crate::idempotency::OpeningClaim::take(tx, claim).await? else {
        return Ok(None);
    };
    let (claim_sql, claimed) = (claim.cte(3), claim.guard());
    let sql = format!(
        "WITH {claim_sql}m AS MATERIALIZED (SELECT {COLUMNS} FROM members m WHERE {cond}{claimed}), \
         ids AS MATERIALIZED ( \
             SELECT id AS member_id FROM m \
             UNION SELECT referrer_id FROM m WHERE referrer_id IS NOT NULL \
         ), a AS MATERIALIZED ( \
             SELECT {ACCOUNT} FROM point_accounts \
             WHERE member_id IN (SELECT member_id FROM ids) \
               AND (SELECT count(*) FROM point_accounts \
                    WHERE member_id IN (SELECT member_id FROM ids)) = (SELECT count(*) FROM ids) \
             ORDER BY member_id FOR UPDATE \
         ) \
         SELECT m.*, \
             (SELECT to_jsonb(a) FROM a WHERE a.member_id = m.id) AS account, \
             (SELECT to_jsonb(a) FROM a WHERE a.member_id = m.referrer_id) AS referrer_account, \
             (SELECT t.tier FROM member_tiers t WHERE t.member_id = m.id) AS standing_tier, \
             p.request_hash AS existing_hash, p.response AS existing_response \
         FROM m LEFT JOIN purchases p ON p.external_id = $2",
        COLUMNS = crate::members::COLUMNS,
    );
    let q = sqlx::query_as::<_, OpenedRow>(&sql);
    let q = match lookup {
        MemberLookup::Id(id) => q.bind(id),
        MemberLookup::ActiveCard(n) => q.bind(n),
        MemberLookup::PhoneIndex(i) => q.bind(i),
    };
    let q = claim.bind(q.bind(external_id));
    let Some(row) = q.fetch_optional(tx.conn()).await? else {
        return Ok(None);
    };
    let account = row.account.map(|j| j.0);
    let referrer_account = row.referrer_account.map(|j| j.0);
    let complete =
        account.is_some() && (row.member.referrer_id.is_none() || referrer_account.is_some());
    Ok(Some(OpenedPurchase {
        account: account.filter(|_| complete),
        referrer_account: referrer_account.filter(|_| complete),
        member: row.member,
        standing_tier: row.standing_tier,
        existing: row.existing_hash.zip(row.existing_response),
    }))
}

/// Locks several accounts in a fixed order (so two transactions never wait on each other).
pub async fn lock_accounts(
    tx: &mut TenantTx,
    members: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<Account>, DbError> {
    let mut ids = members.to_vec();
    ids.sort();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(lock_account(tx, id, now).await?);
    }
    Ok(out)
}

/// The account without locking it (zeros for a member who never had points).
pub async fn account(tx: &mut TenantTx, member_id: Uuid) -> Result<Account, DbError> {
    let sql = format!("SELECT {ACCOUNT} FROM point_accounts WHERE member_id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(member_id)
        .fetch_optional(tx.conn())
        .await?
        .unwrap_or_else(|| empty(member_id)))
}

/// Writes the account's changed figures back.
pub async fn save_account(
    tx: &mut TenantTx,
    a: &Account,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE point_accounts SET balance = $2, debt = $3, earned_total = $4, \
         redeemed_total = $5, expired_total = $6, spend_total = $7, visits = $8, day = $9, \
         day_points = $10, last_check_in = $11, streak = $12, updated_at = $13 \
         WHERE member_id = $1",
    )
    .bind(a.member_id)
    .bind(a.balance)
    .bind(a.debt)
    .bind(a.earned_total)
    .bind(a.redeemed_total)
    .bind(a.expired_total)
    .bind(a.spend_total)
    .bind(a.visits)
    .bind(a.day)
    .bind(a.day_points)
    .bind(a.last_check_in)
    .bind(a.streak)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Where an entry comes from and why.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// What produced the entry.
    pub kind: EntrySource,
    pub id: String,
    pub rule_version: Option<i32>,
    pub reason: Said,
    pub detail: Option<Value>,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
}

async fn append(
    tx: &mut TenantTx,
    a: &Account,
    kind: EntryKind,
    points: i64,
    src: &Source<'_>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO point_entries (member_id, kind, points, balance, source, source_id, \
         rule_version, reason, detail, actor, at, reason_code, reason_params) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(a.member_id)
    .bind(kind.as_str())
    .bind(points)
    .bind(a.balance)
    .bind(src.kind.as_str())
    .bind(&src.id)
    .bind(src.rule_version)
    .bind(&src.reason.text)
    .bind(&src.detail)
    .bind(src.actor)
    .bind(src.at)
    .bind(src.reason.code)
    .bind(&src.reason.params)
    .fetch_one(tx.conn())
    .await?)
}

/// What an earning did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Earned {
    pub entry_id: Option<i64>,
    /// Points that went to settle an earlier debt.
    pub settled_debt: i64,
}

/// Earns `points` (> 0) into the account: an `earn` entry and a lot expiring at
/// `expires_at`; then the account's open debt, if any, is settled from them. `day` is the
/// local day of the earning (for daily caps). The caller saves the account.
pub async fn earn(
    tx: &mut TenantTx,
    a: &mut Account,
    points: i64,
    src: &Source<'_>,
    expires_at: Option<DateTime<Utc>>,
    day: NaiveDate,
) -> Result<Earned, DbError> {
    if points <= 0 {
        return Ok(Earned::default());
    }
    let spendable = apply_earning(a, points, day);
    // The entry and its lot in one statement: one round trip on the hottest path.
    let entry: i64 = sqlx::query_scalar(
        "WITH e AS ( \
             INSERT INTO point_entries (member_id, kind, points, balance, source, source_id, \
             rule_version, reason, detail, actor, at, reason_code, reason_params) \
             VALUES ($1, 'earn', $2, $3, $4, $5, $6, $7, $8, $9, $10, $13, $14) RETURNING id \
         ), l AS ( \
             INSERT INTO point_lots (member_id, entry_id, points, remaining, earned_at, expires_at) \
             SELECT $1, e.id, $2, $11, $10, $12 FROM e WHERE $11 > 0 \
         ) SELECT id FROM e",
    )
    .bind(a.member_id)
    .bind(points)
    .bind(a.balance)
    .bind(src.kind.as_str())
    .bind(&src.id)
    .bind(src.rule_version)
    .bind(&src.reason.text)
    .bind(&src.detail)
    .bind(src.actor)
    .bind(src.at)
    .bind(spendable)
    .bind(expires_at)
    .bind(src.reason.code)
    .bind(&src.reason.params)
    .fetch_one(tx.conn())
    .await?;
    let settled = settle_open_debt(tx, a, src).await?;
    Ok(Earned {
        entry_id: Some(entry),
        settled_debt: settled,
    })
}

/// Settles the account's open debt from its positive balance (after points came in):
/// a `reverse` entry and the debts marked settled, oldest first. Returns the points.
pub(crate) async fn settle_open_debt(
    tx: &mut TenantTx,
    a: &mut Account,
    src: &Source<'_>,
) -> Result<i64, DbError> {
    if a.debt <= 0 || a.balance <= 0 {
        return Ok(0);
    }
    let settled = a.debt.min(a.balance);
    let debt_src = Source {
        kind: EntrySource::Debt,
        id: src.id.clone(),
        rule_version: None,
        reason: Reason::point("debt_settled", serde_json::json!({})).into(),
        detail: None,
        actor: src.actor,
        at: src.at,
    };
    take(tx, a, EntryKind::Reverse, settled, &debt_src, None).await?;
    a.debt -= settled;
    settle_debts(tx, a.member_id, settled).await?;
    Ok(settled)
}

/// Applies an earning of `points` to the account in memory, as [`earn`] does: the balance,
/// the totals and the day's points. Returns the spendable part (what becomes a lot).
pub fn apply_earning(a: &mut Account, points: i64, day: NaiveDate) -> i64 {
    let before = a.balance.max(0);
    a.balance += points;
    a.earned_total += points;
    if a.day == Some(day) {
        a.day_points += points;
    } else {
        a.day = Some(day);
        a.day_points = points;
    }
    // Only the part above zero becomes spendable (a negative balance is paid back first).
    a.balance.max(0) - before
}

/// Whether [`record_purchase`] can store an earning of `points` in one statement: not when
/// the earning must first settle a debt.
pub fn records_in_one_statement(a: &Account, points: i64) -> bool {
    points <= 0 || a.debt == 0
}

/// Stores a purchase and what it earned (`p.points`) in one statement, one round trip on
/// the hottest path: the `earn` entry and its lot of `spendable` points, the account's
/// figures and the purchase row with the entry's id. The caller has locked the account,
/// checked [`records_in_one_statement`] and applied the earning with [`apply_earning`].
///
/// With `pay`, the same statement pays the purchase (`prepaid::pay_ctes`): the stored-value
/// part taken from the member's balance by the spend order (locked, split and moved in
/// SQL, never below zero), its entries, the payment rows, and the stored answer's
/// `payments` as taken. When the balance does not cover it, `paid.paid` is false and the
/// caller must roll the transaction back.
///
/// With `probe`, it also reads what the promotion check after the purchase needs: the
/// member's tier, their standing locked, and the ladder's metric before the purchase; a
/// purchase that cannot reach the next tier then needs no statement of its own for it.
#[allow(clippy::too_many_arguments)]
pub async fn record_purchase(
    tx: &mut TenantTx,
    a: &Account,
    spendable: i64,
    src: &Source<'_>,
    expires_at: Option<DateTime<Utc>>,
    p: &NewPurchaseRow<'_>,
    pay: Option<&crate::prepaid::PurchasePay<'_>>,
    answers: Option<(&str, &str)>,
    event: Option<crate::messages::EntryEvent<'_>>,
    probe: Option<crate::tiers::TierProbe<'_>>,
) -> Result<Recorded, DbError> {
    use crate::messages::EntryEvent;
    use crate::prepaid::{paid_columns, pay_ctes, payment_rows_cte, response_with_pays};
    let (points, now) = (p.points, p.recorded_at);
    let (pay_sql, payments_sql, response, answer) = match pay {
        Some(_) => (
            format!(
                "{}, ",
                pay_ctes("$1", "$24", "$9", "$23", "$38", "$39", "$40")
            ),
            payment_rows_cte("$24"),
            response_with_pays("$35"),
            format!("(SELECT id FROM e) AS entry_id, {}", paid_columns("$40")),
        ),
        None => (
            String::new(),
            String::new(),
            "$35".to_owned(),
            "(SELECT id FROM e) AS entry_id, true AS paid, 0::bigint AS principal, \
             0::bigint AS bonus, 0::bigint AS held"
                .to_owned(),
        ),
    };
    // The answer stored under the request's idempotency key too (claimed earlier in the
    // transaction), when the caller names it: one round trip less.
    let (scope_at, key_at) = if pay.is_some() { (41, 42) } else { (38, 39) };
    let (key_sql, keyed) = match answers {
        Some(_) => (
            format!(
                ", k AS ( \
                     UPDATE idempotency_keys SET response = {response} \
                     WHERE scope = ${scope_at} AND key = ${key_at} RETURNING 1 \
                 )"
            ),
            "(SELECT count(*) FROM k) = 1",
        ),
        None => (String::new(), "false"),
    };
    // The event's row too (only with an entry: `ob` selects from `e`), after every other
    // parameter.
    let fold = event.as_ref().filter(|_| EntryEvent::folds(tx));
    let event_at = 38 + if pay.is_some() { 3 } else { 0 } + if answers.is_some() { 2 } else { 0 };
    let event_sql = match fold {
        Some(_) => EntryEvent::cte(event_at, "$1", "$23"),
        None => String::new(),
    };
    // The promotion check's reading, last.
    let probe_at = event_at + if fold.is_some() { 4 } else { 0 };
    let probe_sql = match &probe {
        Some(p) => p.columns("$23", probe_at),
        None => "NULL::text AS standing_tier, NULL::bigint AS metric_before".to_owned(),
    };
    let sql = format!(
        "WITH {pay_sql}e AS ( \
             INSERT INTO point_entries (member_id, kind, points, balance, source, source_id, \
             rule_version, reason, detail, actor, at, reason_code, reason_params) \
             SELECT $1, 'earn', $2, $3, $4, $5, $6, $7, $8, $9, $10, $36, $37 WHERE $2 > 0 \
             RETURNING id \
         ), l AS ( \
             INSERT INTO point_lots (member_id, entry_id, points, remaining, earned_at, expires_at) \
             SELECT $1, e.id, $2, $11, $10, $12 FROM e WHERE $11 > 0 \
         ), a AS ( \
             UPDATE point_accounts SET balance = $3, debt = $13, earned_total = $14, \
             redeemed_total = $15, expired_total = $16, spend_total = $17, visits = $18, \
             day = $19, day_points = $20, last_check_in = $21, streak = $22, updated_at = $23 \
             WHERE member_id = $1 \
         ), p AS ( \
             INSERT INTO purchases (id, external_id, request_hash, member_id, amount, currency, \
             items, store, occurred_at, recorded_at, recorded_by, points, reasons, rule_version, \
             rule_error, entry_id, response) \
             SELECT $24, $25, $26, $1, $27, $28, $29, $30, $31, $23, $32, $2, $33, $6, $34, \
             (SELECT id FROM e), {response} \
         ){payments_sql}{key_sql}{event_sql} SELECT {answer}, {keyed} AS keyed, {probe_sql}"
    );
    let q = sqlx::query_as::<_, Recorded>(&sql)
        .bind(a.member_id)
        .bind(points)
        .bind(a.balance)
        .bind(src.kind.as_str())
        .bind(&src.id)
        .bind(src.rule_version)
        .bind(&src.reason.text)
        .bind(&src.detail)
        .bind(src.actor)
        .bind(src.at)
        .bind(spendable)
        .bind(expires_at)
        .bind(a.debt)
        .bind(a.earned_total)
        .bind(a.redeemed_total)
        .bind(a.expired_total)
        .bind(a.spend_total)
        .bind(a.visits)
        .bind(a.day)
        .bind(a.day_points)
        .bind(a.last_check_in)
        .bind(a.streak)
        .bind(now)
        .bind(p.id)
        .bind(p.external_id)
        .bind(p.hash)
        .bind(p.amount)
        .bind(p.currency)
        .bind(&p.items)
        .bind(p.store)
        .bind(p.occurred_at)
        .bind(p.recorded_by)
        .bind(&p.reasons)
        .bind(&p.rule_error)
        .bind(&p.response)
        .bind(src.reason.code)
        .bind(&src.reason.params);
    let q = match pay {
        Some(pay) => q
            .bind(pay.methods.clone())
            .bind(pay.amounts.clone())
            .bind(pay.stored_value),
        None => q,
    };
    let q = match answers {
        Some((scope, key)) => q.bind(scope).bind(key),
        None => q,
    };
    let q = match fold {
        Some(ev) => ev.bind(q),
        None => q,
    };
    let q = match &probe {
        Some(p) => p.bind(q),
        None => q,
    };
    let recorded: Recorded = q.fetch_one(tx.conn()).await?;
    if answers.is_some() && !recorded.keyed {
        return Err(DbError::Aborted(
            "the purchase's idempotency key was not claimed".into(),
        ));
    }
    if let (None, Some(ev), Some(entry)) = (fold, event.as_ref(), recorded.entry_id) {
        ev.queue(tx, entry);
    }
    Ok(recorded)
}

/// What [`record_purchase`] wrote: the earning's entry (none when nothing was earned) and,
/// when it paid the purchase, whether the balance covered it and what it took.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recorded {
    pub entry_id: Option<i64>,
    #[sqlx(flatten)]
    pub paid: crate::prepaid::Paid,
    /// The answer was stored under the idempotency key named.
    pub keyed: bool,
    /// With a [`crate::tiers::TierProbe`]: the member's tier, their standing locked (none:
    /// the first tier, or no probe).
    pub standing_tier: Option<String>,
    /// With a probe: the ladder's metric before this purchase.
    pub metric_before: Option<i64>,
}

async fn settle_debts(tx: &mut TenantTx, member_id: Uuid, points: i64) -> Result<(), DbError> {
    sqlx::query(
        "WITH open AS ( \
             SELECT id, points - settled AS owed, \
                    sum(points - settled) OVER (ORDER BY id) AS running \
             FROM point_debts WHERE member_id = $1 AND settled < points \
         ) \
         UPDATE point_debts d \
         SET settled = d.settled + LEAST(open.owed, $2 - (open.running - open.owed)) \
         FROM open WHERE d.id = open.id AND open.running - open.owed < $2",
    )
    .bind(member_id)
    .bind(points)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The tenant's point settings.
pub async fn settings(tx: &mut TenantTx) -> Result<PointSettings, DbError> {
    let v: Value = sqlx::query_scalar("SELECT settings FROM points_settings")
        .fetch_one(tx.conn())
        .await?;
    serde_json::from_value(v).map_err(|e| DbError::Aborted(format!("point settings: {e}")))
}

pub async fn set_settings(
    tx: &mut TenantTx,
    s: &PointSettings,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE points_settings SET settings = $1, updated_by = $2, updated_at = $3")
        .bind(serde_json::to_value(s).expect("serialisable"))
        .bind(by)
        .bind(at)
        .execute(tx.conn())
        .await?;
    Ok(())
}

fn empty(member_id: Uuid) -> Account {
    Account {
        member_id,
        balance: 0,
        debt: 0,
        earned_total: 0,
        redeemed_total: 0,
        expired_total: 0,
        spend_total: 0,
        visits: 0,
        day: None,
        day_points: 0,
        last_check_in: None,
        streak: 0,
    }
}

/// Purchases that earned points but have no `earn` entry (never expected: both are written
/// in one transaction).
pub async fn purchases_without_entry(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM purchases p WHERE p.points > 0 AND NOT EXISTS ( \
             SELECT 1 FROM point_entries e WHERE e.id = p.entry_id AND e.kind = 'earn' \
             AND e.points = p.points AND e.member_id = p.member_id)",
    )
    .fetch_one(tx.conn())
    .await?)
}

/// Active members whose birthday is local day `today` (29 February birthdays count on
/// 28 February in other years) and who have no birthday award for `today`'s year yet.
pub async fn birthdays_due(tx: &mut TenantTx, today: NaiveDate) -> Result<Vec<Uuid>, DbError> {
    born_on_without(tx, today, "birthday_awards").await
}

/// Active members whose birthday is local day `today` (29 February birthdays count on
/// 28 February in other years) and who have no row in `claims` (a table of this schema with
/// `member_id` and `year`) for `today`'s year, by id.
pub(crate) async fn born_on_without(
    tx: &mut TenantTx,
    today: NaiveDate,
    claims: &'static str,
) -> Result<Vec<Uuid>, DbError> {
    use chrono::Datelike;
    let leap_stand_in = today.month() == 2 && today.day() == 28 && !today.leap_year();
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM members m WHERE m.status = 'active' AND m.birthday IS NOT NULL \
         AND ((extract(month FROM m.birthday) = $1 AND extract(day FROM m.birthday) = $2) \
              OR ($3 AND extract(month FROM m.birthday) = 2 AND extract(day FROM m.birthday) = 29)) \
         AND NOT EXISTS (SELECT 1 FROM {claims} b WHERE b.member_id = m.id AND b.year = $4) \
         ORDER BY id"
    ))
    .bind(f64::from(today.month()))
    .bind(f64::from(today.day()))
    .bind(leap_stand_in)
    .bind(today.year())
    .fetch_all(tx.conn())
    .await?)
}

/// Records the member's birthday award for `year`; false when one exists already.
pub async fn claim_birthday(
    tx: &mut TenantTx,
    member_id: Uuid,
    year: i32,
    points: i64,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "INSERT INTO birthday_awards (member_id, year, points, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(member_id)
    .bind(year)
    .bind(points)
    .bind(at)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}
