//! The tier ladder as stored (draft, versions, the version in force), members' standings on
//! it, their history (and its export), the qualifying metric counted from the ledger,
//! re-evaluation runs, what a tier script needs about members, and its failures.

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::tiers::{Metric, Pin, Standing};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

mod runs;

pub use runs::*;

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
    /// For a reason the system wrote: its stable code and values.
    pub reason_code: Option<String>,
    pub reason_params: Option<serde_json::Value>,
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
    /// The system's reasons as code and values (`None` for a reason a person typed).
    pub coded: Option<&'a patron_core::reasons::Reason>,
    pub actor: &'a str,
    pub at: DateTime<Utc>,
}

pub async fn record_move(tx: &mut TenantTx, m: &NewMove<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO tier_history (member_id, from_tier, to_tier, kind, metric, threshold, \
         ladder_version, reason, actor, at, reason_code, reason_params) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
    .bind(m.coded.map(|r| r.code))
    .bind(m.coded.map(|r| &r.params))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A member's moves, newest first.
pub async fn history(tx: &mut TenantTx, member_id: Uuid, limit: i64) -> Result<Vec<Move>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, member_id, from_tier, to_tier, kind, metric, threshold, ladder_version, \
         reason, reason_code, reason_params, actor, at FROM tier_history \
         WHERE member_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(member_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// [`metric_sql`] for one member, `$1` being that member's id instead of an array of ids,
/// written so that PostgreSQL keeps one generic plan for it instead of planning it anew on
/// every purchase (planning it cost 0.6 ms, eight times its execution). Planning per call
/// happens when a plan for the given values looks cheaper than the generic one; here it
/// always did, because the planner cannot tell a parameter array's length and reads the
/// window's bounds as exact dates. So the array becomes the one id, the id and the bounds are
/// read through scalar subqueries (a plan for the given values cannot see them either, so the
/// two cost the same and the generic one is kept after five calls), and the filter that made
/// the window's totals be computed twice is dropped (the caller takes 0 for no row anyway).
/// The generic plan reads the member's rows by the member's indexes, whatever the window.
/// (The id was a plain `$1` until the benchmark counted planning: a plan that sees the id
/// costs the day's entries at one row against the generic plan's many, so the statement was
/// still planned on every call, 0.55 ms each; in the purchase's own statement, which reads
/// this metric too, that made the whole purchase statement planned on every call.)
fn one_member_metric_sql(metric: Metric) -> &'static str {
    static SQL: [std::sync::OnceLock<String>; 3] = [
        std::sync::OnceLock::new(),
        std::sync::OnceLock::new(),
        std::sync::OnceLock::new(),
    ];
    let slot = match metric {
        Metric::PointsEarned => 0,
        Metric::Spend => 1,
        Metric::Visits => 2,
    };
    SQL[slot].get_or_init(|| {
        let sql = metric_sql(metric)
            .replace(
                "unnest($1::uuid[]) AS m (id)",
                "(VALUES ((SELECT $1::uuid))) AS m (id)",
            )
            .replace("member_id = ANY($1)", "member_id = (SELECT $1::uuid)")
            .replace("$2::timestamptz", "$2")
            .replace("$3::timestamptz", "$3")
            .replace("$2", "(SELECT $2::timestamptz)")
            .replace("$3", "(SELECT $3::timestamptz)")
            .replace("WHERE hi.v <> lo.v", "");
        // The text is derived from `metric_sql` by replacement: should that text change so
        // that a replacement no longer matches, the statement would quietly be planned on
        // every purchase again. The API tests with a ladder of each metric run this check.
        for gone in ["uuid[]", "ANY($1)", "hi.v <> lo.v"] {
            debug_assert!(!sql.contains(gone), "{metric:?} still has {gone}: {sql}");
        }
        for n in ["$2", "$3"] {
            let wrapped = format!("(SELECT {n}::timestamptz)");
            debug_assert!(
                sql.contains(&wrapped) && sql.matches(n).count() == sql.matches(&wrapped).count(),
                "{metric:?}: every {n} inside a scalar subquery: {sql}"
            );
        }
        sql
    })
}

/// What a purchase's statement reads for the promotion check after it
/// ([`crate::points::record_purchase`]): the ladder's metric, the window's start (none:
/// since joining) and the business's time zone.
#[derive(Debug, Clone, Copy)]
pub struct TierProbe<'a> {
    pub metric: Metric,
    pub start: Option<DateTime<Utc>>,
    pub time_zone: &'a str,
}

impl TierProbe<'_> {
    /// Two output columns for a statement whose `$1` is the member and `now` the time:
    /// `standing_tier`, the member's tier with their standing locked (as the promotion check
    /// locks it; a locking read waits for a standing being changed and returns its newest
    /// version), and `metric_before`, the metric as of the statement's snapshot (before its
    /// own writes). The window's start and the time zone are the parameters `$first` and
    /// `$first + 1` ([`TierProbe::bind`]).
    pub(crate) fn columns(&self, now: &str, first: usize) -> String {
        let metric = renumber(one_member_metric_sql(self.metric), |n| match n {
            1 => "$1".to_owned(),
            2 => format!("${first}"),
            3 => now.to_owned(),
            _ => format!("${}", first + 1),
        });
        format!(
            "(SELECT s.tier FROM (SELECT tier FROM member_tiers WHERE member_id = $1 FOR UPDATE) s) \
                 AS standing_tier, \
             coalesce((SELECT x.v FROM ({metric}) AS x (member_id, v)), 0)::bigint AS metric_before"
        )
    }

    /// Binds the parameters of [`TierProbe::columns`], after the statement's others.
    pub(crate) fn bind<'q, O>(
        &self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        q.bind(self.start).bind(self.time_zone.to_owned())
    }
}

/// `sql` with each parameter `$n` (n of 1 to 4) written as `to(n)`.
fn renumber(sql: &str, to: impl Fn(u32) -> String) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match tail[..digits].parse::<u32>() {
            Ok(n) if (1..=4).contains(&n) => out.push_str(&to(n)),
            _ => {
                out.push('$');
                out.push_str(&tail[..digits]);
            }
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// Each member's metric (`$1`: member ids, `$2`: window start or null, `$3`: now, `$4`: the
/// business's time zone): rows of (member id, value).
fn metric_sql(metric: Metric) -> &'static str {
    match metric {
        // Earnings less their reversals; manual adjustments, tier gifts and redemptions
        // never count. Read from the per-day running totals the ledger keeps
        // (`point_earned_days`, tenant migration 40), not from the entries: the total through
        // the day of `now` less the total before the day of the window's start, corrected by
        // the entries of those two days that fall outside `[start, now]` (found by the day's
        // range of entry ids). Its cost is that of two days' entries, whatever the history.
        Metric::PointsEarned => {
            "SELECT m.id, (hi.v - lo.v)::bigint FROM unnest($1::uuid[]) AS m (id) \
             CROSS JOIN LATERAL ( \
               SELECT coalesce(( \
                 SELECT d.total - coalesce(( \
                   SELECT sum(e.points) FROM point_entries e \
                   WHERE e.member_id = m.id AND e.id BETWEEN d.first_entry AND d.last_entry \
                   AND e.at > $3 AND (e.at AT TIME ZONE 'UTC')::date = d.day \
                   AND e.kind IN ('earn', 'reverse') AND e.source NOT IN ('adjustment', 'tier_gift') \
                 ), 0) \
                 FROM point_earned_days d \
                 WHERE d.member_id = m.id AND d.day <= ($3::timestamptz AT TIME ZONE 'UTC')::date \
                 ORDER BY d.day DESC LIMIT 1 \
               ), 0) AS v \
             ) hi \
             CROSS JOIN LATERAL ( \
               SELECT CASE WHEN $2::timestamptz IS NULL THEN 0 ELSE \
                 coalesce(( \
                   SELECT d.total FROM point_earned_days d \
                   WHERE d.member_id = m.id AND d.day < ($2::timestamptz AT TIME ZONE 'UTC')::date \
                   ORDER BY d.day DESC LIMIT 1 \
                 ), 0) + coalesce(( \
                   SELECT sum(e.points) FROM point_earned_days d JOIN point_entries e \
                   ON e.member_id = d.member_id AND e.id BETWEEN d.first_entry AND d.last_entry \
                   WHERE d.member_id = m.id AND d.day = ($2::timestamptz AT TIME ZONE 'UTC')::date \
                   AND e.at < $2 AND (e.at AT TIME ZONE 'UTC')::date = d.day \
                   AND e.kind IN ('earn', 'reverse') AND e.source NOT IN ('adjustment', 'tier_gift') \
                 ), 0) END AS v \
             ) lo \
             WHERE hi.v <> lo.v"
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
        one_member_metric_sql(metric)
    );
    let (standing, metric): (Option<sqlx::types::Json<StandingRow>>, i64) = sqlx::query_as(&sql)
        .bind(member_id)
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
