//! Re-evaluation runs (started by a publish or rollback, advanced a batch at a time), the
//! members a run or a tier script reads, the script failures kept for staff, and the
//! history export's pages.

use super::*;

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
    /// For a reason the system wrote: its stable code and values.
    pub reason_code: Option<String>,
    pub reason_params: Option<serde_json::Value>,
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
         h.to_tier, h.kind, h.metric, h.threshold, h.ladder_version, h.reason, h.reason_code, \
         h.reason_params, h.actor \
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
