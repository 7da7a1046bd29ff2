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
use serde_json::Value;
use uuid::Uuid;

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
/// standing, and any purchase already stored under `external_id`. `None`: no such member.
pub async fn open_purchase(
    tx: &mut TenantTx,
    lookup: MemberLookup<'_>,
    external_id: &str,
) -> Result<Option<OpenedPurchase>, DbError> {
    let cond = match lookup {
        MemberLookup::Id(_) => "m.id = $1",
        MemberLookup::ActiveCard(_) => {
            "m.id = (SELECT c.member_id FROM member_cards c \
             WHERE c.number = $1 AND c.status = 'active')"
        }
        MemberLookup::PhoneIndex(_) => "m.phone_index = $1",
    };
    let sql = format!(
        "WITH m AS MATERIALIZED (SELECT {COLUMNS} FROM members m WHERE {cond}), \
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
    let Some(row) = q.bind(external_id).fetch_optional(tx.conn()).await? else {
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
    pub reason: String,
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
         rule_version, reason, detail, actor, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(a.member_id)
    .bind(kind.as_str())
    .bind(points)
    .bind(a.balance)
    .bind(src.kind.as_str())
    .bind(&src.id)
    .bind(src.rule_version)
    .bind(&src.reason)
    .bind(&src.detail)
    .bind(src.actor)
    .bind(src.at)
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
             rule_version, reason, detail, actor, at) \
             VALUES ($1, 'earn', $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id \
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
    .bind(&src.reason)
    .bind(&src.detail)
    .bind(src.actor)
    .bind(src.at)
    .bind(spendable)
    .bind(expires_at)
    .fetch_one(tx.conn())
    .await?;
    let mut settled = 0;
    if a.debt > 0 && a.balance > 0 {
        settled = a.debt.min(a.balance);
        let debt_src = Source {
            kind: EntrySource::Debt,
            id: src.id.clone(),
            rule_version: None,
            reason: "settles points owed after a refund".into(),
            detail: None,
            actor: src.actor,
            at: src.at,
        };
        take(tx, a, EntryKind::Reverse, settled, &debt_src, None).await?;
        a.debt -= settled;
        settle_debts(tx, a.member_id, settled).await?;
    }
    Ok(Earned {
        entry_id: Some(entry),
        settled_debt: settled,
    })
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
/// Returns the entry's id (none when nothing was earned).
pub async fn record_purchase(
    tx: &mut TenantTx,
    a: &Account,
    spendable: i64,
    src: &Source<'_>,
    expires_at: Option<DateTime<Utc>>,
    p: &NewPurchaseRow<'_>,
) -> Result<Option<i64>, DbError> {
    let (points, now) = (p.points, p.recorded_at);
    Ok(sqlx::query_scalar(
        "WITH e AS ( \
             INSERT INTO point_entries (member_id, kind, points, balance, source, source_id, \
             rule_version, reason, detail, actor, at) \
             SELECT $1, 'earn', $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE $2 > 0 RETURNING id \
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
             (SELECT id FROM e), $35 \
         ) SELECT (SELECT id FROM e)",
    )
    .bind(a.member_id)
    .bind(points)
    .bind(a.balance)
    .bind(src.kind.as_str())
    .bind(&src.id)
    .bind(src.rule_version)
    .bind(&src.reason)
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
    .fetch_one(tx.conn())
    .await?)
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

/// Takes `points` (> 0, at most the open lots hold) from the account as a `kind` entry
/// (`redeem`, `adjust`, `reverse`), consuming lots: those of entry `prefer` first, then the
/// soonest-expiring. The caller checked the balance and saves the account.
pub async fn take(
    tx: &mut TenantTx,
    a: &mut Account,
    kind: EntryKind,
    points: i64,
    src: &Source<'_>,
    prefer: Option<i64>,
) -> Result<i64, DbError> {
    a.balance -= points;
    let entry = append(tx, a, kind, -points, src).await?;
    consume(tx, a.member_id, points, prefer).await?;
    Ok(entry)
}

/// The lock a redemption takes, in one statement: the member's account locked (`None` when
/// the member has no account yet: nothing was locked), whether any of their lots is past
/// its expiry at `now`, and the stored answer under (`scope`, `key`) as of the statement's
/// start (one committed while the lock was awaited is not seen: the answer's insert then
/// fails on the key, and the caller starts over).
pub async fn lock_for_change(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
    scope: &str,
    key: &str,
) -> Result<(Option<Account>, bool, Option<(Vec<u8>, Value)>), DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        account: Option<sqlx::types::Json<Account>>,
        expiry_due: bool,
        request_hash: Option<Vec<u8>>,
        response: Option<Value>,
    }
    let row: Row = sqlx::query_as(&format!(
        "WITH a AS MATERIALIZED ( \
             SELECT {ACCOUNT} FROM point_accounts WHERE member_id = $1 FOR UPDATE \
         ) SELECT (SELECT to_jsonb(a) FROM a) AS account, \
             EXISTS (SELECT 1 FROM point_lots WHERE member_id = $1 AND remaining > 0 \
                     AND expires_at <= $2) AS expiry_due, \
             r.request_hash, r.response \
         FROM (SELECT 1) one \
         LEFT JOIN point_requests r ON r.scope = $3 AND r.key = $4"
    ))
    .bind(member_id)
    .bind(now)
    .bind(scope)
    .bind(key)
    .fetch_one(tx.conn())
    .await?;
    Ok((
        row.account.map(|j| j.0),
        row.expiry_due,
        row.request_hash.zip(row.response),
    ))
}

/// A redemption in one statement under the account's lock: the `redeem` entry of `points`
/// (`a` already shows the balance and total after it), the points taken from the open lots
/// soonest-expiring first, the account's figures, and the answer stored under (`scope`,
/// `key`) with the entry's id filled in. Returns the entry's id.
#[allow(clippy::too_many_arguments)]
pub async fn redeem(
    tx: &mut TenantTx,
    a: &Account,
    points: i64,
    src: &Source<'_>,
    scope: &str,
    key: &str,
    hash: &[u8],
    response: &Value,
) -> Result<i64, DbError> {
    let (entry, taken): (i64, i64) = sqlx::query_as(&format!(
        "WITH e AS ( \
                 INSERT INTO point_entries (member_id, kind, points, balance, source, \
                 source_id, rule_version, reason, detail, actor, at) \
                 VALUES ($1, 'redeem', -$2, $3, $4, $5, NULL, $6, $7, $8, $9) RETURNING id \
             ), {}, acct AS ( \
                 UPDATE point_accounts SET balance = $3, redeemed_total = $10, updated_at = $9 \
                 WHERE member_id = $1 \
             ), req AS ( \
                 INSERT INTO point_requests (scope, key, request_hash, response, created_at) \
                 SELECT $11, $12, $13, jsonb_set($14, '{{entry_id}}', to_jsonb(e.id)), $9 FROM e \
             ) SELECT (SELECT id FROM e), (SELECT coalesce(sum(taken), 0)::bigint FROM done)",
        take_from_lots("NULL::bigint")
    ))
    .bind(a.member_id)
    .bind(points)
    .bind(a.balance)
    .bind(src.kind.as_str())
    .bind(&src.id)
    .bind(&src.reason)
    .bind(&src.detail)
    .bind(src.actor)
    .bind(src.at)
    .bind(a.redeemed_total)
    .bind(scope)
    .bind(key)
    .bind(hash)
    .bind(response)
    .fetch_one(tx.conn())
    .await?;
    all_taken(a.member_id, taken, points)?;
    Ok(entry)
}

/// Records `points` taken back without enough open lots to take them from (a refund under
/// the negative-balance policy): the entry takes the whole amount, the lots what they hold.
pub async fn take_into_negative(
    tx: &mut TenantTx,
    a: &mut Account,
    points: i64,
    src: &Source<'_>,
    prefer: Option<i64>,
) -> Result<i64, DbError> {
    let from_lots = points.min(a.balance.max(0));
    a.balance -= points;
    let entry = append(tx, a, EntryKind::Reverse, -points, src).await?;
    if from_lots > 0 {
        consume(tx, a.member_id, from_lots, prefer).await?;
    }
    Ok(entry)
}

/// The CTEs `open`, `hit` and `done` that take `$2` points from member `$1`'s open lots:
/// the lots of entry `prefer` first (a refund takes back from its purchase's lots), then the
/// soonest-expiring, those that never expire last. `done` yields each lot's `taken`.
fn take_from_lots(prefer: &str) -> String {
    format!(
        "open AS ( \
             SELECT id, remaining, sum(remaining) OVER ( \
                 ORDER BY coalesce(entry_id = {prefer}, false) DESC, expires_at ASC NULLS LAST, id \
             ) AS running \
             FROM point_lots WHERE member_id = $1 AND remaining > 0 \
         ), hit AS ( \
             SELECT id, remaining, running FROM open WHERE running - remaining < $2 \
         ), done AS ( \
             UPDATE point_lots l SET remaining = GREATEST(hit.running - $2, 0) \
             FROM hit WHERE l.id = hit.id \
             RETURNING hit.remaining - l.remaining AS taken \
         )"
    )
}

/// The lots must have held every point taken (they hold the positive balance).
fn all_taken(member_id: Uuid, taken: i64, points: i64) -> Result<(), DbError> {
    if taken != points {
        return Err(DbError::Aborted(format!(
            "member {member_id}: lots hold {taken} of the {points} points to take"
        )));
    }
    Ok(())
}

async fn consume(
    tx: &mut TenantTx,
    member_id: Uuid,
    points: i64,
    prefer: Option<i64>,
) -> Result<(), DbError> {
    let taken: Option<i64> = sqlx::query_scalar(&format!(
        "WITH {} SELECT sum(taken)::bigint FROM done",
        take_from_lots("$3")
    ))
    .bind(member_id)
    .bind(points)
    .bind(prefer)
    .fetch_one(tx.conn())
    .await?;
    all_taken(member_id, taken.unwrap_or(0), points)
}

/// Records a debt of `points` owed after refund `refund_id`.
pub async fn add_debt(
    tx: &mut TenantTx,
    a: &mut Account,
    refund_id: Uuid,
    points: i64,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    a.debt += points;
    sqlx::query(
        "INSERT INTO point_debts (member_id, refund_id, points, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(a.member_id)
    .bind(refund_id)
    .bind(points)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Expires the account's lots whose time has come (`expires_at <= now`): one `expire` entry
/// for all of them. Returns the points expired (0 when none; then nothing is written).
pub async fn expire(
    tx: &mut TenantTx,
    a: &mut Account,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<i64, DbError> {
    let expired: i64 = sqlx::query_scalar(
        "WITH due AS ( \
             SELECT id, remaining FROM point_lots \
             WHERE member_id = $1 AND remaining > 0 AND expires_at <= $2 \
         ), gone AS ( \
             UPDATE point_lots l SET remaining = 0 FROM due WHERE l.id = due.id \
             RETURNING due.remaining AS was \
         ) SELECT coalesce(sum(was), 0)::bigint FROM gone",
    )
    .bind(a.member_id)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    if expired > 0 {
        a.balance -= expired;
        a.expired_total += expired;
        let src = Source {
            kind: EntrySource::Expiry,
            id: now.to_rfc3339(),
            rule_version: None,
            reason: "points expired".into(),
            detail: None,
            actor,
            at: now,
        };
        append(tx, a, EntryKind::Expire, -expired, &src).await?;
    }
    Ok(expired)
}

/// Members with lots due to expire at `now` (for the expiry job), a batch at a time.
pub async fn members_with_expired_lots(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT member_id FROM ( \
             SELECT member_id FROM point_lots \
             WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1 \
             ORDER BY expires_at LIMIT $2 \
         ) due",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
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

/// One ledger entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub member_id: Uuid,
    pub kind: String,
    pub points: i64,
    pub balance: i64,
    pub source: String,
    pub source_id: String,
    pub rule_version: Option<i32>,
    pub reason: String,
    pub detail: Option<Value>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A member's entries, newest first, before entry id `before` when given.
pub async fn entries(
    tx: &mut TenantTx,
    member_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, member_id, kind, points, balance, source, source_id, rule_version, reason, \
         detail, actor, at FROM point_entries \
         WHERE member_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
    )
    .bind(member_id)
    .bind(before)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// An open lot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Lot {
    pub id: i64,
    pub points: i64,
    pub remaining: i64,
    pub earned_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The member's open lots, soonest-expiring first.
pub async fn open_lots(tx: &mut TenantTx, member_id: Uuid) -> Result<Vec<Lot>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, points, remaining, earned_at, expires_at FROM point_lots \
         WHERE member_id = $1 AND remaining > 0 ORDER BY expires_at ASC NULLS LAST, id LIMIT 500",
    )
    .bind(member_id)
    .fetch_all(tx.conn())
    .await?)
}

/// A member whose figures disagree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Difference {
    pub member_id: Uuid,
    /// The account's balance (0 when the member has entries but no account).
    pub balance: i64,
    pub entries_sum: i64,
    pub last_entry_balance: Option<i64>,
    pub open_lots: i64,
    pub debt: i64,
    pub open_debts: i64,
}

/// Every member whose balance differs from the sum of entries, whose open lots differ from
/// the positive balance, whose latest entry's running balance differs, or whose debt
/// differs from the unsettled debts (and a member in debt must not hold points); and every
/// member with entries, lots, debts or purchases but no account (the ledger's rows are
/// written under the account's lock and have no foreign key of their own).
pub async fn verify(tx: &mut TenantTx) -> Result<Vec<Difference>, DbError> {
    Ok(sqlx::query_as(
        "WITH e AS ( \
             SELECT member_id, sum(points)::bigint AS total, \
                    (array_agg(balance ORDER BY id DESC))[1] AS last_balance \
             FROM point_entries GROUP BY member_id \
         ), l AS ( \
             SELECT member_id, sum(remaining)::bigint AS total FROM point_lots \
             WHERE remaining > 0 GROUP BY member_id \
         ), d AS ( \
             SELECT member_id, sum(points - settled)::bigint AS total FROM point_debts \
             GROUP BY member_id \
         ), m AS ( \
             SELECT member_id FROM point_accounts UNION SELECT member_id FROM e \
             UNION SELECT member_id FROM l UNION SELECT member_id FROM d \
             UNION SELECT member_id FROM purchases \
         ) \
         SELECT m.member_id, coalesce(a.balance, 0) AS balance, \
                coalesce(e.total, 0) AS entries_sum, e.last_balance AS last_entry_balance, \
                coalesce(l.total, 0) AS open_lots, coalesce(a.debt, 0) AS debt, \
                coalesce(d.total, 0) AS open_debts \
         FROM m LEFT JOIN point_accounts a USING (member_id) LEFT JOIN e USING (member_id) \
         LEFT JOIN l USING (member_id) LEFT JOIN d USING (member_id) \
         WHERE a.member_id IS NULL \
            OR coalesce(a.balance, 0) <> coalesce(e.total, 0) \
            OR coalesce(e.last_balance, 0) <> coalesce(a.balance, 0) \
            OR GREATEST(coalesce(a.balance, 0), 0) <> coalesce(l.total, 0) \
            OR coalesce(a.debt, 0) <> coalesce(d.total, 0) \
            OR (coalesce(a.debt, 0) > 0 AND coalesce(a.balance, 0) > 0) \
         ORDER BY m.member_id LIMIT 1000",
    )
    .fetch_all(tx.conn())
    .await?)
}

/// Figures for `patron verify`'s report.
pub async fn ledger_size(tx: &mut TenantTx) -> Result<(i64, i64), DbError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT count(*) FROM point_accounts), (SELECT count(*) FROM point_entries)",
    )
    .fetch_one(tx.conn())
    .await?)
}

/// An idempotent request's first answer, if there was one: `Ok(Some(response))` for the
/// same body, `Err(Conflict)` for a different one.
pub async fn replay(
    tx: &mut TenantTx,
    scope: &str,
    key: &str,
    hash: &[u8],
) -> Result<Option<Value>, DbError> {
    let row: Option<(Vec<u8>, Value)> = sqlx::query_as(
        "SELECT request_hash, response FROM point_requests WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(tx.conn())
    .await?;
    match row {
        None => Ok(None),
        Some((h, r)) if h == hash => Ok(Some(r)),
        Some(_) => Err(DbError::Conflict("point_requests_pkey".into())),
    }
}

/// Stores an idempotent request's answer.
pub async fn remember(
    tx: &mut TenantTx,
    scope: &str,
    key: &str,
    hash: &[u8],
    response: &Value,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO point_requests (scope, key, request_hash, response, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .bind(response)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

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
    use chrono::Datelike;
    let leap_stand_in = today.month() == 2 && today.day() == 28 && !today.leap_year();
    Ok(sqlx::query_scalar(
        "SELECT id FROM members m WHERE m.status = 'active' AND m.birthday IS NOT NULL \
         AND ((extract(month FROM m.birthday) = $1 AND extract(day FROM m.birthday) = $2) \
              OR ($3 AND extract(month FROM m.birthday) = 2 AND extract(day FROM m.birthday) = 29)) \
         AND NOT EXISTS (SELECT 1 FROM birthday_awards b WHERE b.member_id = m.id AND b.year = $4) \
         ORDER BY id",
    )
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
