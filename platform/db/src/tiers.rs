//! The tier ladder as stored (draft, versions, the version in force), members' standings on
//! it, their history (and its export), the qualifying metric counted from the ledger,
//! re-evaluation runs, what a tier script needs about members, and its failures.

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::tiers::{Metric, Pin, Standing};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LadderVersion {
    pub version: i32,
    pub ladder: Value,
    pub note: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Draft {
    pub ladder: Value,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

const VERSION: &str = "version, ladder, note, published_by, published_at";

/// The ladder in force, if any.
pub async fn active(tx: &mut TenantTx) -> Result<Option<LadderVersion>, DbError> {
    Ok(sqlx::query_as(
        "SELECT v.version, v.ladder, v.note, v.published_by, v.published_at \
         FROM tier_ladder_active a JOIN tier_ladders v USING (version)",
    )
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn draft(tx: &mut TenantTx) -> Result<Option<Draft>, DbError> {
    Ok(
        sqlx::query_as("SELECT ladder, updated_by, updated_at FROM tier_ladder_draft")
            .fetch_optional(tx.conn())
            .await?,
    )
}

pub async fn save_draft(
    tx: &mut TenantTx,
    ladder: &Value,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Draft, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO tier_ladder_draft (ladder, updated_by, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (one) DO UPDATE SET ladder = $1, updated_by = $2, updated_at = $3 \
         RETURNING ladder, updated_by, updated_at",
    )
    .bind(ladder)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?)
}

/// Publishes a new version and puts it in force (numbers taken under a lock).
pub async fn publish(
    tx: &mut TenantTx,
    ladder: &Value,
    note: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<LadderVersion, DbError> {
    sqlx::query("LOCK TABLE tier_ladders IN SHARE ROW EXCLUSIVE MODE")
        .execute(tx.conn())
        .await?;
    let v: LadderVersion = sqlx::query_as(&format!(
        "INSERT INTO tier_ladders ({VERSION}) \
         SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4 FROM tier_ladders \
         RETURNING {VERSION}"
    ))
    .bind(ladder)
    .bind(note)
    .bind(by)
    .bind(at)
    .fetch_one(tx.conn())
    .await?;
    activate(tx, v.version, by, at).await?;
    Ok(v)
}

/// Puts `version` in force and tells every replica (the ladder rides in the rules cache).
pub async fn activate(
    tx: &mut TenantTx,
    version: i32,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO tier_ladder_active (version, activated_by, activated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (one) DO UPDATE SET version = $1, activated_by = $2, activated_at = $3",
    )
    .bind(version)
    .bind(by)
    .bind(at)
    .execute(tx.conn())
    .await?;
    crate::rules::notify(tx).await
}

pub async fn version(tx: &mut TenantTx, version: i32) -> Result<Option<LadderVersion>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {VERSION} FROM tier_ladders WHERE version = $1"
    ))
    .bind(version)
    .fetch_optional(tx.conn())
    .await?)
}

/// Every version, newest first.
pub async fn versions(tx: &mut TenantTx) -> Result<Vec<LadderVersion>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {VERSION} FROM tier_ladders ORDER BY version DESC LIMIT 500"
    ))
    .fetch_all(tx.conn())
    .await?)
}

/// A member's standing as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct StandingRow {
    pub member_id: Uuid,
    pub tier: String,
    pub since: DateTime<Utc>,
    pub below_since: Option<DateTime<Utc>>,
    pub pin_tier: Option<String>,
    pub pinned_until: Option<DateTime<Utc>>,
    pub pin_reason: Option<String>,
    pub pinned_by: Option<String>,
    pub evaluated_on: Option<NaiveDate>,
}

impl StandingRow {
    pub fn standing(&self) -> Standing {
        Standing {
            tier: Some(self.tier.clone()),
            below_since: self.below_since,
            pin: match (&self.pin_tier, self.pinned_until) {
                (Some(tier), Some(until)) => Some(Pin {
                    tier: tier.clone(),
                    until,
                }),
                _ => None,
            },
        }
    }
}

const STANDING: &str = "member_id, tier, since, below_since, pin_tier, pinned_until, pin_reason, \
                        pinned_by, evaluated_on";

/// A member's standing (none: the first tier), locked for update when `lock`.
pub async fn standing(
    tx: &mut TenantTx,
    member_id: Uuid,
    lock: bool,
) -> Result<Option<StandingRow>, DbError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    Ok(sqlx::query_as(&format!(
        "SELECT {STANDING} FROM member_tiers WHERE member_id = $1{lock}"
    ))
    .bind(member_id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Standings of many members (those without a row are left out).
pub async fn standings(
    tx: &mut TenantTx,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, StandingRow>, DbError> {
    let rows: Vec<StandingRow> = sqlx::query_as(&format!(
        "SELECT {STANDING} FROM member_tiers WHERE member_id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.member_id, r)).collect())
}

/// Stores a member's standing. `since` changes only when the tier does.
pub async fn save_standing(
    tx: &mut TenantTx,
    member_id: Uuid,
    s: &Standing,
    pin_reason: Option<&str>,
    pinned_by: Option<&str>,
    evaluated_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO member_tiers (member_id, tier, since, below_since, pin_tier, pinned_until, \
         pin_reason, pinned_by, evaluated_on) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (member_id) DO UPDATE SET \
           since = CASE WHEN member_tiers.tier = EXCLUDED.tier THEN member_tiers.since ELSE $3 END, \
           tier = $2, below_since = $4, pin_tier = $5, pinned_until = $6, pin_reason = $7, \
           pinned_by = $8, evaluated_on = coalesce($9, member_tiers.evaluated_on)",
    )
    .bind(member_id)
    .bind(s.tier.as_deref().unwrap_or_default())
    .bind(now)
    .bind(s.below_since)
    .bind(s.pin.as_ref().map(|p| p.tier.as_str()))
    .bind(s.pin.as_ref().map(|p| p.until))
    .bind(s.pin.as_ref().and(pin_reason))
    .bind(s.pin.as_ref().and(pinned_by))
    .bind(evaluated_on)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One move on the ladder.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Move {
    pub id: i64,
    pub member_id: Uuid,
    pub from_tier: String,
    pub to_tier: String,
    pub kind: String,
    pub metric: Option<i64>,
    pub threshold: Option<i64>,
    pub ladder_version: Option<i32>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// What to record of a move.
pub struct NewMove<'a> {
    pub member_id: Uuid,
    pub from: &'a str,
    pub to: &'a str,
    pub kind: &'a str,
    pub metric: Option<i64>,
    pub threshold: Option<i64>,
    pub ladder_version: Option<i32>,
    pub reason: &'a str,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
}

pub async fn record_move(tx: &mut TenantTx, m: &NewMove<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO tier_history (member_id, from_tier, to_tier, kind, metric, threshold, \
         ladder_version, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(m.member_id)
    .bind(m.from)
    .bind(m.to)
    .bind(m.kind)
    .bind(m.metric)
    .bind(m.threshold)
    .bind(m.ladder_version)
    .bind(m.reason)
    .bind(m.actor)
    .bind(m.at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A member's moves, newest first.
pub async fn history(tx: &mut TenantTx, member_id: Uuid, limit: i64) -> Result<Vec<Move>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, member_id, from_tier, to_tier, kind, metric, threshold, ladder_version, \
         reason, actor, at FROM tier_history WHERE member_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(member_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Each member's metric (`$1`: member ids, `$2`: window start or null, `$3`: now, `$4`: the
/// business's time zone): rows of (member id, value).
fn metric_sql(metric: Metric) -> &'static str {
    match metric {
        // Earnings less their reversals; manual adjustments, tier gifts and redemptions
        // never count. The members' entries are found by member (OFFSET 0 keeps the time
        // bounds out of the scan: a generic plan would otherwise AND in the `at` index, whose
        // `at <= now` matches every entry of the business).
        Metric::PointsEarned => {
            "SELECT member_id, sum(points)::bigint FROM ( \
               SELECT member_id, points, at FROM point_entries \
               WHERE member_id = ANY($1) AND kind IN ('earn', 'reverse') \
               AND source NOT IN ('adjustment', 'tier_gift') OFFSET 0 \
             ) e WHERE ($2::timestamptz IS NULL OR at >= $2) AND at <= $3 GROUP BY member_id"
        }
        Metric::Spend => {
            "SELECT member_id, sum(amount - refunded)::bigint FROM purchases \
             WHERE member_id = ANY($1) AND ($2::timestamptz IS NULL OR occurred_at >= $2) \
             AND occurred_at <= $3 GROUP BY member_id"
        }
        Metric::Visits => {
            "SELECT member_id, count(DISTINCT day)::bigint FROM ( \
               SELECT member_id, (occurred_at AT TIME ZONE $4)::date AS day FROM purchases \
               WHERE member_id = ANY($1) AND ($2::timestamptz IS NULL OR occurred_at >= $2) \
               AND occurred_at <= $3 \
               UNION ALL \
               SELECT member_id, day FROM check_ins \
               WHERE member_id = ANY($1) AND ($2::timestamptz IS NULL OR at >= $2) AND at <= $3 \
             ) v GROUP BY member_id"
        }
    }
}

/// A member's standing locked for update (none: the first tier) and their metric, in one
/// round trip (the promotion check after a qualifying event).
pub async fn lock_standing_with_metric(
    tx: &mut TenantTx,
    member_id: Uuid,
    metric: Metric,
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    time_zone: &str,
) -> Result<(Option<StandingRow>, i64), DbError> {
    let sql = format!(
        "WITH s AS MATERIALIZED (SELECT {STANDING} FROM member_tiers WHERE member_id = $5 FOR UPDATE) \
         SELECT (SELECT to_jsonb(s) FROM s) AS standing, \
                coalesce((SELECT x.v FROM ({}) AS x (member_id, v)), 0)::bigint AS metric",
        metric_sql(metric)
    );
    let (standing, metric): (Option<sqlx::types::Json<StandingRow>>, i64) = sqlx::query_as(&sql)
        .bind(vec![member_id])
        .bind(start)
        .bind(now)
        .bind(time_zone)
        .bind(member_id)
        .fetch_one(tx.conn())
        .await?;
    Ok((standing.map(|j| j.0), metric))
}

/// The qualifying metric of each of `ids` over `[start, now]` (no start: since joining);
/// members with nothing in the window are left out (their metric is 0).
pub async fn metrics(
    tx: &mut TenantTx,
    metric: Metric,
    ids: &[Uuid],
    start: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    time_zone: &str,
) -> Result<HashMap<Uuid, i64>, DbError> {
    let sql = metric_sql(metric);
    let rows: Vec<(Uuid, i64)> = sqlx::query_as(sql)
        .bind(ids)
        .bind(start)
        .bind(now)
        .bind(time_zone)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows.into_iter().collect())
}

/// One page of active members' ids, in id order after `after`.
pub async fn member_page(
    tx: &mut TenantTx,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM members WHERE status = 'active' AND ($1::uuid IS NULL OR id > $1) \
         ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn active_members(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM members WHERE status = 'active'")
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Members the scheduled evaluation has not seen on local day `today`, in id order.
pub async fn due(tx: &mut TenantTx, today: NaiveDate, limit: i64) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT t.member_id FROM member_tiers t JOIN members m ON m.id = t.member_id \
         WHERE m.status = 'active' AND t.evaluated_on IS DISTINCT FROM $1 \
         ORDER BY t.member_id LIMIT $2",
    )
    .bind(today)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// How many members stand on each tier code (members without a row are not counted).
pub async fn counts(tx: &mut TenantTx) -> Result<HashMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT t.tier, count(*) FROM member_tiers t JOIN members m ON m.id = t.member_id \
         WHERE m.status = 'active' GROUP BY t.tier",
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Run {
    pub id: Uuid,
    pub version: i32,
    pub total: i64,
    pub done: i64,
    pub moved: i64,
    pub cursor: Option<Uuid>,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Members the ladder's script failed for (their tier was left as it was).
    pub errors: i64,
}

const RUN: &str =
    "id, version, total, done, moved, cursor, status, started_at, finished_at, errors";

/// Starts a re-evaluation of every member under `version`; earlier running ones are
/// superseded.
pub async fn start_run(
    tx: &mut TenantTx,
    version: i32,
    total: i64,
    now: DateTime<Utc>,
) -> Result<Run, DbError> {
    sqlx::query(
        "UPDATE tier_runs SET status = 'superseded', finished_at = $1 WHERE status = 'running'",
    )
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(sqlx::query_as(&format!(
        "INSERT INTO tier_runs (id, version, total, started_at) VALUES ($1, $2, $3, $4) \
         RETURNING {RUN}"
    ))
    .bind(Uuid::now_v7())
    .bind(version)
    .bind(total)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn run(tx: &mut TenantTx, id: Uuid, lock: bool) -> Result<Option<Run>, DbError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    Ok(
        sqlx::query_as(&format!("SELECT {RUN} FROM tier_runs WHERE id = $1{lock}"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

pub async fn latest_run(tx: &mut TenantTx) -> Result<Option<Run>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RUN} FROM tier_runs ORDER BY started_at DESC, id DESC LIMIT 1"
    ))
    .fetch_optional(tx.conn())
    .await?)
}

/// What one batch of a run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunProgress {
    pub done: i64,
    pub moved: i64,
    pub errors: i64,
}

/// Records a batch done: progress, the cursor, and `done` status when `finished`.
pub async fn advance_run(
    tx: &mut TenantTx,
    id: Uuid,
    p: RunProgress,
    cursor: Option<Uuid>,
    finished: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE tier_runs SET done = done + $2, moved = moved + $3, cursor = coalesce($4, cursor), \
         status = CASE WHEN $5 THEN 'done' ELSE status END, \
         finished_at = CASE WHEN $5 THEN $6 ELSE finished_at END, errors = errors + $7 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(p.done)
    .bind(p.moved)
    .bind(cursor)
    .bind(finished)
    .bind(now)
    .bind(p.errors)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Members with their point accounts (zeros for one without), for a tier script's `member`.
pub async fn members_with_accounts(
    tx: &mut TenantTx,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (crate::members::Member, crate::points::Account)>, DbError> {
    let members: Vec<crate::members::Member> = sqlx::query_as(&format!(
        "SELECT {} FROM members m WHERE m.id = ANY($1)",
        crate::members::COLUMNS
    ))
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let accounts: Vec<crate::points::Account> = sqlx::query_as(
        "SELECT member_id, balance, debt, earned_total, redeemed_total, expired_total, \
         spend_total, visits, day, day_points, last_check_in, streak \
         FROM point_accounts WHERE member_id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let mut accounts: HashMap<Uuid, crate::points::Account> =
        accounts.into_iter().map(|a| (a.member_id, a)).collect();
    Ok(members
        .into_iter()
        .map(|m| {
            let a = accounts.remove(&m.id).unwrap_or(crate::points::Account {
                member_id: m.id,
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
            });
            (m.id, (m, a))
        })
        .collect())
}

/// A tier script's failure for one member.
pub struct NewScriptError<'a> {
    pub member_id: Uuid,
    pub ladder_version: i32,
    /// `event`, `evaluation` or `run`.
    pub during: &'a str,
    pub kind: &'a str,
    pub message: &'a str,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub limit: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Keeps a member's latest script failure (and how many there were since the version came
/// in force).
pub async fn record_script_error(tx: &mut TenantTx, e: &NewScriptError<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO tier_script_errors (member_id, ladder_version, during, kind, message, line, \
         col, lim, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (member_id) DO UPDATE SET ladder_version = $2, during = $3, kind = $4, \
         message = $5, line = $6, col = $7, lim = $8, at = $9, \
         failures = CASE WHEN tier_script_errors.ladder_version = $2 \
                         THEN tier_script_errors.failures + 1 ELSE 1 END",
    )
    .bind(e.member_id)
    .bind(e.ladder_version)
    .bind(e.during)
    .bind(e.kind)
    .bind(e.message)
    .bind(e.line.map(|l| l as i32))
    .bind(e.column.map(|c| c as i32))
    .bind(e.limit)
    .bind(e.at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Forgets every script failure (another ladder version is in force).
pub async fn clear_script_errors(tx: &mut TenantTx) -> Result<(), DbError> {
    sqlx::query("DELETE FROM tier_script_errors")
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScriptError {
    pub member_id: Uuid,
    pub member_name: String,
    pub ladder_version: i32,
    pub during: String,
    pub kind: String,
    pub message: String,
    pub line: Option<i32>,
    pub col: Option<i32>,
    pub lim: Option<String>,
    pub failures: i64,
    pub at: DateTime<Utc>,
}

/// The latest script failures, newest first, and how many members have one.
pub async fn script_errors(
    tx: &mut TenantTx,
    limit: i64,
) -> Result<(Vec<ScriptError>, i64), DbError> {
    let rows = sqlx::query_as(
        "SELECT e.member_id, m.name AS member_name, e.ladder_version, e.during, e.kind, \
         e.message, e.line, e.col, e.lim, e.failures, e.at \
         FROM tier_script_errors e JOIN members m ON m.id = e.member_id \
         ORDER BY e.at DESC, e.member_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM tier_script_errors")
        .fetch_one(tx.conn())
        .await?;
    Ok((rows, total))
}

/// Which moves an export takes.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub member_id: Option<Uuid>,
    /// From this instant (included).
    pub from: Option<DateTime<Utc>>,
    /// Up to this instant (excluded).
    pub until: Option<DateTime<Utc>>,
}

/// A move with the member's name and card, as exported.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportedMove {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub member_id: Uuid,
    pub member_name: String,
    pub card_number: Option<String>,
    pub from_tier: String,
    pub to_tier: String,
    pub kind: String,
    pub metric: Option<i64>,
    pub threshold: Option<i64>,
    pub ladder_version: Option<i32>,
    pub reason: String,
    pub actor: String,
}

/// One page of the moves `f` takes, oldest first, after move `after`.
pub async fn history_page(
    tx: &mut TenantTx,
    f: &HistoryFilter,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<ExportedMove>, DbError> {
    Ok(sqlx::query_as(
        "SELECT h.id, h.at, h.member_id, m.name AS member_name, \
         (SELECT c.number FROM member_cards c WHERE c.member_id = m.id AND c.status = 'active') \
           AS card_number, h.from_tier, \
         h.to_tier, h.kind, h.metric, h.threshold, h.ladder_version, h.reason, h.actor \
         FROM tier_history h JOIN members m ON m.id = h.member_id \
         WHERE ($1::uuid IS NULL OR h.member_id = $1) \
           AND ($2::timestamptz IS NULL OR h.at >= $2) \
           AND ($3::timestamptz IS NULL OR h.at < $3) \
           AND ($4::timestamptz IS NULL OR (h.at, h.id) > ($4, $5)) \
         ORDER BY h.at, h.id LIMIT $6",
    )
    .bind(f.member_id)
    .bind(f.from)
    .bind(f.until)
    .bind(after.map(|a| a.0))
    .bind(after.map_or(0, |a| a.1))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
