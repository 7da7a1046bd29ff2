//! The job queue and schedules in the `platform` schema.
//!
//! Jobs are claimed with `FOR UPDATE SKIP LOCKED` under a lease, so any number of replicas
//! can work the same queue; a job whose worker died is picked up again when its lease ends.
//! Schedules are rows: firing one enqueues a job and moves its next run forward, in one
//! transaction, so two replicas never fire the same slot twice.

use crate::{Db, DbError};
use chrono::{DateTime, Duration, Utc};

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub tenant_id: Option<i64>,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// A job as stored, for inspection.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub tenant_id: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub result: Option<serde_json::Value>,
}

/// Adds a job. With a `dedupe_key`, a second enqueue while the first is still pending or
/// running is a no-op (returns `None`).
pub async fn enqueue(
    db: &Db,
    kind: &str,
    tenant_id: Option<i64>,
    payload: serde_json::Value,
    run_at: DateTime<Utc>,
    dedupe_key: Option<&str>,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO platform.jobs (kind, tenant_id, payload, run_at, dedupe_key)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'running')
         DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(tenant_id)
    .bind(payload)
    .bind(run_at)
    .bind(dedupe_key)
    .fetch_optional(db.pool())
    .await?)
}

/// Creates a schedule if it does not exist yet (an existing one keeps its next run).
pub async fn ensure_schedule(
    db: &Db,
    name: &str,
    job_kind: &str,
    every: Duration,
    first_run: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO platform.schedules (name, job_kind, every_seconds, next_run_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE SET job_kind = excluded.job_kind, every_seconds = excluded.every_seconds",
    )
    .bind(name)
    .bind(job_kind)
    .bind(every.num_seconds() as i32)
    .bind(first_run)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Fires every schedule that is due at `now`: enqueues its job and sets its next run to the
/// first slot after `now`. Returns the kinds enqueued.
pub async fn fire_due_schedules(db: &Db, now: DateTime<Utc>) -> Result<Vec<String>, DbError> {
    let mut tx = db.begin("BEGIN").await?;
    let due: Vec<(String, String, i32, DateTime<Utc>)> = sqlx::query_as(
        "SELECT name, job_kind, every_seconds, next_run_at FROM platform.schedules
         WHERE next_run_at <= $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut fired = Vec::new();
    for (name, kind, every, next) in due {
        let every = Duration::seconds(i64::from(every));
        // Skip slots missed while nothing ran: one run catches up, not one per slot.
        let missed = (now - next).num_seconds() / every.num_seconds();
        let following = next + every * (missed as i32 + 1);
        sqlx::query(
            "UPDATE platform.schedules SET next_run_at = $2, last_run_at = $3 WHERE name = $1",
        )
        .bind(&name)
        .bind(following)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            // A job of this schedule still waiting is made due now rather than duplicated.
            "INSERT INTO platform.jobs (kind, payload, run_at, dedupe_key) VALUES ($1, '{}', $2, $3)
             ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('pending', 'running')
             DO UPDATE SET run_at = LEAST(platform.jobs.run_at, excluded.run_at)",
        )
        .bind(&kind)
        .bind(now)
        .bind(format!("schedule:{name}"))
        .execute(&mut *tx)
        .await?;
        fired.push(kind);
    }
    tx.commit().await?;
    Ok(fired)
}

/// Claims the next due job for `worker`, leasing it for `lease`. Jobs whose lease ran out
/// (their worker died) are claimable again. Jobs of the kinds in `skip` are left for later
/// (a worker with no room for them).
pub async fn claim(
    db: &Db,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
    skip: &[&str],
) -> Result<Option<Job>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE platform.jobs SET status = 'running', attempts = attempts + 1,
             locked_by = $1, locked_until = $3
         WHERE id = (
             SELECT id FROM platform.jobs
             WHERE ((status = 'pending' AND run_at <= $2) OR (status = 'running' AND locked_until < $2))
               AND kind <> ALL($4)
             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id, kind, tenant_id, payload, attempts, max_attempts",
    )
    .bind(worker)
    .bind(now)
    .bind(now + lease)
    .bind(skip)
    .fetch_optional(db.pool())
    .await?)
}

/// Adds a job already claimed by `worker` (its first attempt, leased for `lease`), in the
/// caller's transaction (with the work's own rows): work that starts at once where it was
/// asked for, and that any replica takes over when that worker dies.
pub async fn enqueue_claimed(
    tx: &mut impl crate::OnPlatform,
    kind: &str,
    tenant_id: Option<i64>,
    payload: serde_json::Value,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Job, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO platform.jobs (kind, tenant_id, payload, run_at, status, attempts,
             locked_by, locked_until)
         VALUES ($1, $2, $3, $4, 'running', 1, $5, $6)
         RETURNING id, kind, tenant_id, payload, attempts, max_attempts",
    )
    .bind(kind)
    .bind(tenant_id)
    .bind(payload)
    .bind(now)
    .bind(worker)
    .bind(now + lease)
    .fetch_one(tx.platform_conn())
    .await?)
}

/// Extends `worker`'s lease on a running job to `until`. `false` when the worker no longer
/// holds it (its lease ran out and another took the job over, or the job ended).
pub async fn extend_lease(
    db: &Db,
    id: i64,
    worker: &str,
    until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE platform.jobs SET locked_until = $3
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker)
    .bind(until)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a job done if `worker` still holds it; `false` when it does not.
pub async fn complete_held(
    db: &Db,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
    result: serde_json::Value,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE platform.jobs SET status = 'done', finished_at = $3, result = $4,
             locked_until = NULL, last_error = NULL
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker)
    .bind(now)
    .bind(result)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts a job `worker` still holds back in the queue, due at `retry_at`, with the error
/// that stopped it; `false` when the worker does not hold it.
pub async fn retry_held(
    db: &Db,
    id: i64,
    worker: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE platform.jobs SET status = 'pending', last_error = $3, run_at = $4,
             locked_until = NULL
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id)
    .bind(worker)
    .bind(error)
    .bind(retry_at)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How long a job waits before its next try after `attempts` tries: 30 s, doubling with each
/// try (at most about 8.5 hours).
pub fn retry_delay(attempts: i32) -> Duration {
    Duration::seconds(30 * (1i64 << attempts.clamp(0, 10)))
}

/// Records a failure of a job `worker` still holds: it runs again at `retry_at`, or is
/// marked failed for good when it has used up its attempts. `false` when the worker no longer
/// holds it (its lease ran out and another runner took it over): that runner's end counts.
pub async fn fail_held(
    db: &Db,
    job: &Job,
    worker: &str,
    now: DateTime<Utc>,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let final_failure = job.attempts >= job.max_attempts;
    let done = sqlx::query(
        "UPDATE platform.jobs SET status = $2, last_error = $3, run_at = $4, locked_until = NULL,
             finished_at = CASE WHEN $2 = 'failed' THEN $5 END
         WHERE id = $1 AND locked_by = $6 AND status = 'running'",
    )
    .bind(job.id)
    .bind(if final_failure { "failed" } else { "pending" })
    .bind(error)
    .bind(retry_at)
    .bind(now)
    .bind(worker)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Tenants that background work fans out over: every one not closed.
pub async fn live_tenant_ids(db: &Db) -> Result<Vec<i64>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM platform.tenants WHERE status <> 'closed' ORDER BY id")
            .fetch_all(db.pool())
            .await?,
    )
}

/// Recent jobs of a kind, newest first.
pub async fn recent(db: &Db, kind: &str, limit: i64) -> Result<Vec<JobRecord>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, tenant_id, status, attempts, run_at, last_error, result
         FROM platform.jobs WHERE kind = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(kind)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}
