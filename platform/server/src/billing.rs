//! The account lifecycle's scheduled work, as the job runner calls it: trials ending,
//! billing periods closing with an invoice, dunning, and purging closed accounts. The
//! bodies are `patron_app::lifecycle::jobs`.

use chrono::{DateTime, Utc};
use patron_app::lifecycle::jobs;
use patron_db::Db;

/// Trial accounts whose trial has ended become active, billed from the trial's end.
pub async fn end_trials(db: &Db, now: DateTime<Utc>) -> anyhow::Result<serde_json::Value> {
    Ok(jobs::end_trials(db, now).await?)
}

/// Records each ended billing period's invoice and starts the next period.
pub async fn close_periods(db: &Db, now: DateTime<Utc>) -> anyhow::Result<serde_json::Value> {
    Ok(jobs::close_periods(db, now).await?)
}

/// Accounts with an overdue invoice become past due, then suspended after the grace.
pub async fn dun(db: &Db, now: DateTime<Utc>) -> anyhow::Result<serde_json::Value> {
    Ok(jobs::dun(db, now).await?)
}

/// Drops the schema of each closed account whose retention has run out.
pub async fn purge_closed(db: &Db, now: DateTime<Utc>) -> anyhow::Result<serde_json::Value> {
    Ok(jobs::purge_closed(db, now).await?)
}
