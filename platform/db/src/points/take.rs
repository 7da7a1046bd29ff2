//! Taking points back out: redemptions, adjustments and reversals from the oldest lots (or
//! into a negative balance, or as a debt, by the business's refund policy), and expiry of
//! lots past their instant. Every taking runs under the account's lock and checks that the
//! lots still hold every point.

use super::*;
use crate::Db;
use patron_core::idempotency::RequestHash;

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
/// the member has no account yet: nothing was locked) and whether any of their lots is past
/// its expiry at `now`. (The redemption's idempotency key was claimed before.)
pub async fn lock_for_change(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Option<Account>, bool), DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        account: Option<sqlx::types::Json<Account>>,
        expiry_due: bool,
    }
    let row: Row = sqlx::query_as(&format!(
        "WITH a AS MATERIALIZED ( \
             SELECT {ACCOUNT} FROM point_accounts WHERE member_id = $1 FOR UPDATE \
         ) SELECT (SELECT to_jsonb(a) FROM a) AS account, \
             EXISTS (SELECT 1 FROM point_lots WHERE member_id = $1 AND remaining > 0 \
                     AND expires_at <= $2) AS expiry_due"
    ))
    .bind(member_id)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    Ok((row.account.map(|j| j.0), row.expiry_due))
}

/// What a redemption decides from, read in one round trip by [`open_redemption`] (the
/// account locked) or [`read_for_redemption`] (as it stood, without a lock).
#[derive(Debug)]
pub struct OpenedRedemption {
    pub member: crate::members::Member,
    /// The member's account; `None` when they have no account yet (nothing was locked).
    pub account: Option<Account>,
    /// Whether any of their lots is past its expiry.
    pub expiry_due: bool,
}

/// A redemption's opening in one statement: its idempotency key claimed first
/// ([`crate::idempotency::claim_sql`]), then the member read and their account locked, and
/// whether any of their lots is past its expiry at `now`. The account is locked only once
/// the claim is the request's, so a duplicate racing the first try waits on the claim
/// holding nothing, as in [`crate::points::open_purchase`].
///
/// `None`: no such member, or the key was answered by a request that committed first
/// ([`crate::idempotency::claim`] tells which). On Citus the claim is a statement of its own,
/// made first.
pub async fn open_redemption(
    tx: &mut TenantTx,
    member_id: Uuid,
    claim: crate::idempotency::ClaimOf<'_>,
    now: DateTime<Utc>,
) -> Result<Option<OpenedRedemption>, DbError> {
    read_redemption(tx, member_id, Some(claim), now).await
}

/// The member, their account and whether any of their lots is past its expiry at `now`,
/// read without a lock, for a redemption [`redeem_at_once`] takes. `None` when there is no
/// such member, and on Citus (where redemptions open with the lock: [`open_redemption`]).
pub async fn read_for_redemption(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<OpenedRedemption>, DbError> {
    if tx.on_citus() {
        return Ok(None);
    }
    read_redemption(tx, member_id, None, now).await
}

/// [`open_redemption`] with `claim`, which locks the account; [`read_for_redemption`]
/// without, which does not.
async fn read_redemption(
    tx: &mut TenantTx,
    member_id: Uuid,
    claim: Option<crate::idempotency::ClaimOf<'_>>,
    now: DateTime<Utc>,
) -> Result<Option<OpenedRedemption>, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        member: crate::members::Member,
        account: Option<sqlx::types::Json<Account>>,
        expiry_due: bool,
    }
    let lock = if claim.is_some() { " FOR UPDATE" } else { "" };
    let Some(claim) = crate::idempotency::OpeningClaim::take(tx, claim).await? else {
        return Ok(None);
    };
    let (claim_sql, claimed) = (claim.cte(3), claim.guard());
    let sql = format!(
        "WITH {claim_sql}m AS MATERIALIZED (SELECT {COLUMNS} FROM members m WHERE m.id = $1{claimed}), \
         a AS MATERIALIZED ( \
             SELECT {ACCOUNT} FROM point_accounts \
             WHERE member_id = (SELECT id FROM m){lock} \
         ) \
         SELECT m.*, (SELECT to_jsonb(a) FROM a) AS account, \
             EXISTS (SELECT 1 FROM point_lots WHERE member_id = $1 AND remaining > 0 \
                     AND expires_at <= $2) AS expiry_due \
         FROM m",
        COLUMNS = crate::members::COLUMNS,
    );
    let q = claim.bind(sqlx::query_as::<_, Row>(&sql).bind(member_id).bind(now));
    Ok(q.fetch_optional(tx.conn())
        .await?
        .map(|row| OpenedRedemption {
            member: row.member,
            account: row.account.map(|j| j.0),
            expiry_due: row.expiry_due,
        }))
}

/// A redemption's statement: the `redeem` entry of `$2` points, the points taken from the
/// open lots soonest-expiring first (`done`) and the account's figures; `more` adds CTEs
/// after those and `answer` is what it selects. `$1`–`$12` are bound by [`bind_redemption`].
fn redemption_sql(more: &str, answer: &str) -> String {
    format!(
        "WITH e AS ( \
                 INSERT INTO point_entries (member_id, kind, points, balance, source, \
                 source_id, rule_version, reason, detail, actor, at, reason_code, reason_params) \
                 VALUES ($1, 'redeem', -$2, $3, $4, $5, NULL, $6, $7, $8, $9, $11, $12) \
                 RETURNING id \
             ), {}, acct AS ( \
                 UPDATE point_accounts SET balance = $3, redeemed_total = $10, updated_at = $9 \
                 WHERE member_id = $1 \
             ){more} SELECT {answer}",
        take_from_lots("NULL::bigint")
    )
}

/// The parameters `$1`–`$12` of [`redemption_sql`].
fn bind_redemption<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    a: &'q Account,
    points: i64,
    src: &'q Source<'q>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(a.member_id)
        .bind(points)
        .bind(a.balance)
        .bind(src.kind.as_str())
        .bind(&src.id)
        .bind(&src.reason.text)
        .bind(&src.detail)
        .bind(src.actor)
        .bind(src.at)
        .bind(a.redeemed_total)
        .bind(src.reason.code)
        .bind(&src.reason.params)
}

/// A redemption in one statement under the account's lock: the `redeem` entry of `points`
/// (`a` already shows the balance and total after it), the points taken from the open lots
/// soonest-expiring first, and the account's figures. Returns the entry's id.
pub async fn redeem(
    tx: &mut TenantTx,
    a: &Account,
    points: i64,
    src: &Source<'_>,
) -> Result<i64, DbError> {
    let sql = redemption_sql(
        "",
        "(SELECT id FROM e), (SELECT coalesce(sum(taken), 0)::bigint FROM done)",
    );
    let (entry, taken): (i64, i64) = bind_redemption(sqlx::query_as(&sql), a, points, src)
        .fetch_one(tx.conn())
        .await?;
    all_taken(a.member_id, taken, points)?;
    Ok(entry)
}

/// What a redemption writes beside its entry, in the same statement: the audit line and
/// the answer stored under the request's idempotency key (claimed earlier in the
/// transaction), whose `entry_id` the statement fills in.
pub struct RedeemRecord<'a> {
    pub audit_action: &'a str,
    pub audit_detail: Value,
    pub scope: &'a str,
    pub key: &'a str,
    pub answer: Value,
    /// The event the redemption announces (its row written by the same statement when it
    /// can be: [`crate::messages::EntryEvent`]).
    pub event: Option<crate::messages::EntryEvent<'a>>,
}

/// [`redeem`] with its audit line and stored answer in the same statement: the account's
/// lock is held for one round trip less each (then only the outbox and the commit remain).
/// Returns the entry's id.
pub async fn redeem_recorded(
    tx: &mut TenantTx,
    a: &Account,
    points: i64,
    src: &Source<'_>,
    rec: &RedeemRecord<'_>,
) -> Result<i64, DbError> {
    use crate::messages::EntryEvent;
    let fold = rec.event.as_ref().filter(|_| EntryEvent::folds(tx));
    let sql = recorded_redemption_sql(fold.is_some());
    let q = bind_recorded(bind_redemption(sqlx::query_as(&sql), a, points, src), rec);
    let q = match fold {
        Some(ev) => ev.bind(q),
        None => q,
    };
    let (entry, taken, answered): (i64, i64, i64) = q.fetch_one(tx.conn()).await?;
    recorded(rec, a.member_id, taken, points, answered)?;
    if let (None, Some(ev)) = (fold, &rec.event) {
        ev.queue(tx, entry);
    }
    Ok(entry)
}

/// The statement of [`redeem_recorded`]: `$1`–`$12` of [`redemption_sql`], the audit line
/// and the stored answer `$13`–`$17` ([`bind_recorded`]) and, when `event` folds, the event
/// `$18`–`$21`. With the event, it is also the statement of the tenant function
/// `redeem_locked` ([`redeem_at_once`]; a test holds the two to the same words).
pub fn recorded_redemption_sql(event: bool) -> String {
    redemption_sql(
        &format!(
            ", aud AS ( \
                 INSERT INTO audit_log (at, actor, action, target, detail) \
                 VALUES ($9, $8, $13, $1::text, $14) \
             ), k AS ( \
                 UPDATE idempotency_keys \
                 SET response = jsonb_set($17::jsonb, '{{entry_id}}', to_jsonb((SELECT id FROM e))) \
                 WHERE scope = $15 AND key = $16 RETURNING 1 \
             ){}",
            if event {
                crate::messages::EntryEvent::cte(18, "$1", "$9")
            } else {
                String::new()
            }
        ),
        "(SELECT id FROM e), (SELECT coalesce(sum(taken), 0)::bigint FROM done), \
         (SELECT count(*) FROM k)",
    )
}

/// The parameters `$13`–`$17` of [`recorded_redemption_sql`].
fn bind_recorded<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    rec: &'q RedeemRecord<'q>,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(rec.audit_action)
        .bind(&rec.audit_detail)
        .bind(rec.scope)
        .bind(rec.key)
        .bind(&rec.answer)
}

/// What a recorded redemption's statement must have done: every point taken from the lots,
/// the answer stored under the claimed key.
fn recorded(
    rec: &RedeemRecord<'_>,
    member_id: Uuid,
    taken: i64,
    points: i64,
    answered: i64,
) -> Result<(), DbError> {
    all_taken(member_id, taken, points)?;
    if answered != 1 {
        return Err(DbError::Aborted(format!(
            "idempotency key {} {} was not claimed",
            rec.scope, rec.key
        )));
    }
    Ok(())
}

/// A redemption decided from `seen`, the account as [`read_for_redemption`] read it.
#[derive(Debug, Clone, Copy)]
pub struct AtOnce<'a> {
    pub seen: &'a Account,
    pub points: i64,
    /// The spend was decided by the balance (a deduction that names no number): it holds
    /// only for `seen`'s balance.
    pub balance_decides: bool,
    /// The request's hash, for its key's claim.
    pub hash: &'a RequestHash,
}

/// A redemption done by [`redeem_at_once`]: its entry and the balance after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedeemedAtOnce {
    pub entry_id: i64,
    pub balance: i64,
}

/// A redemption in one statement and a transaction of its own, on a connection of the
/// tenant's: the tenant function `redeem_locked` (tenant migration 0044) claims the key
/// (`rec.scope`, `rec.key`), locks the account, checks that the decision still holds (the
/// account is there, it holds the points, no lot is past its expiry at `src.at`, and when
/// the balance decided, the balance is `seen`'s) and runs [`redeem_recorded`]'s statement
/// with the balance found under the lock; the stored answer's and the event's `balance` are
/// that balance's too. The account's lock is held for the statement and the commit only:
/// no reply to the server and no next statement is waited for under it.
///
/// `None`: nothing was done, because the key was used before (answered, or claimed by a
/// request that answered first) or the decision did not hold; the caller runs the
/// redemption in a new transaction that claims, locks and decides under the lock.
pub async fn redeem_at_once(
    db: &Db,
    tenant: &crate::Tenant,
    once: AtOnce<'_>,
    src: &Source<'_>,
    rec: &RedeemRecord<'_>,
) -> Result<Option<RedeemedAtOnce>, DbError> {
    let schema = tenant.schema();
    let (Some(ev), true) = (&rec.event, crate::tenancy::plain_schema(schema)) else {
        return Ok(None);
    };
    let params = (1..=25)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT o_entry, o_taken, o_answered, o_balance FROM \"{schema}\".redeem_locked({params})"
    );
    let path = format!("\"{schema}\"");
    let row: (Option<i64>, Option<i64>, Option<i64>, Option<i64>) = db
        .on_live_connection(|| {
            let q = bind_recorded(
                bind_redemption(sqlx::query_as(&sql), once.seen, once.points, src),
                rec,
            );
            ev.bind(q)
                .bind(once.seen.balance)
                .bind(once.balance_decides)
                .bind(once.hash.as_bytes())
                .bind(&path)
                .fetch_one(db.home_pool(tenant.id))
        })
        .await?;
    let (Some(entry_id), Some(taken), Some(answered), Some(balance)) = row else {
        return Ok(None);
    };
    recorded(rec, once.seen.member_id, taken, once.points, answered)?;
    Ok(Some(RedeemedAtOnce { entry_id, balance }))
}

/// [`redeem`] that also says which lots the points came from: `(lot id, points taken)`,
/// soonest-expiring first, so that a cancel can put them back ([`give_back`]).
pub async fn redeem_from_lots(
    tx: &mut TenantTx,
    a: &Account,
    points: i64,
    src: &Source<'_>,
) -> Result<(i64, Vec<(i64, i64)>), DbError> {
    let sql = redemption_sql(
        "",
        "(SELECT id FROM e), \
         coalesce((SELECT jsonb_agg(jsonb_build_array(lot_id, taken) ORDER BY lot_id) \
                   FROM done WHERE taken > 0), '[]'::jsonb)",
    );
    let (entry, lots): (i64, sqlx::types::Json<Vec<(i64, i64)>>) =
        bind_redemption(sqlx::query_as(&sql), a, points, src)
            .fetch_one(tx.conn())
            .await?;
    all_taken(a.member_id, lots.0.iter().map(|(_, t)| t).sum(), points)?;
    Ok((entry, lots.0))
}

/// Gives back points a redemption took (a cancelled mall order): a `reverse` entry of
/// `+sum`, the points put back into the very lots they came from (`lots`: lot id and
/// points), each keeping its own expiry; the redeemed total lowered by them. A lot past
/// its expiry gets its points back too: the caller's next [`expire`] expires them at
/// once, with their own entry. When the balance was below zero, only the part above zero
/// goes back into lots (as an earning would); an open debt is then settled from them.
/// The caller holds the account's lock and saves the account. Returns the entry's id.
pub async fn give_back(
    tx: &mut TenantTx,
    a: &mut Account,
    lots: &[(i64, i64)],
    src: &Source<'_>,
) -> Result<i64, DbError> {
    let total: i64 = lots.iter().map(|(_, p)| p).sum();
    let before = a.balance.max(0);
    a.balance += total;
    a.redeemed_total -= total;
    let mut spendable = a.balance.max(0) - before;
    let entry = append(tx, a, EntryKind::Reverse, total, src).await?;
    let (mut ids, mut back) = (Vec::new(), Vec::new());
    for (id, p) in lots {
        let p = (*p).min(spendable);
        if p > 0 {
            ids.push(*id);
            back.push(p);
            spendable -= p;
        }
    }
    if !ids.is_empty() {
        let n = sqlx::query(
            "UPDATE point_lots l SET remaining = l.remaining + v.p \
             FROM unnest($2::bigint[], $3::bigint[]) AS v(id, p) \
             WHERE l.id = v.id AND l.member_id = $1",
        )
        .bind(a.member_id)
        .bind(&ids)
        .bind(&back)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n != ids.len() as u64 {
            return Err(DbError::Aborted(format!(
                "member {}: {n} of {} lots to give back found",
                a.member_id,
                ids.len()
            )));
        }
    }
    settle_open_debt(tx, a, src).await?;
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
             RETURNING l.id AS lot_id, hit.remaining - l.remaining AS taken \
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
            reason: Reason::point("points_expired", serde_json::json!({})).into(),
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
