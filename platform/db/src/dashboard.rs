//! Figures for the business's dashboard, by local day.

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;

/// One local day's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Day {
    pub registrations: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub purchases: i64,
    pub spend: i64,
}

/// Each local day from `from`'s day on (instants from `since`), in `time_zone`; days with
/// nothing are left out.
pub async fn days(
    tx: &mut TenantTx,
    since: DateTime<Utc>,
    time_zone: &str,
) -> Result<BTreeMap<NaiveDate, Day>, DbError> {
    let mut out: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let rows: Vec<(NaiveDate, i64)> = sqlx::query_as(
        "SELECT (created_at AT TIME ZONE $2)::date AS d, count(*) FROM members \
         WHERE created_at >= $1 GROUP BY d",
    )
    .bind(since)
    .bind(time_zone)
    .fetch_all(tx.conn())
    .await?;
    for (d, n) in rows {
        out.entry(d).or_default().registrations = n;
    }
    let rows: Vec<(NaiveDate, i64, i64)> = sqlx::query_as(
        "SELECT (at AT TIME ZONE $2)::date AS d, \
                coalesce(sum(points) FILTER (WHERE kind = 'earn'), 0)::bigint, \
                coalesce(-sum(points) FILTER (WHERE kind = 'redeem'), 0)::bigint \
         FROM point_entries WHERE at >= $1 GROUP BY d",
    )
    .bind(since)
    .bind(time_zone)
    .fetch_all(tx.conn())
    .await?;
    for (d, issued, redeemed) in rows {
        let e = out.entry(d).or_default();
        e.points_issued = issued;
        e.points_redeemed = redeemed;
    }
    let rows: Vec<(NaiveDate, i64, i64)> = sqlx::query_as(
        "SELECT (recorded_at AT TIME ZONE $2)::date AS d, count(*), coalesce(sum(amount), 0)::bigint \
         FROM purchases WHERE recorded_at >= $1 GROUP BY d",
    )
    .bind(since)
    .bind(time_zone)
    .fetch_all(tx.conn())
    .await?;
    for (d, n, spend) in rows {
        let e = out.entry(d).or_default();
        e.purchases = n;
        e.spend = spend;
    }
    Ok(out)
}

/// Members with a purchase or a check-in since `since`.
pub async fn active_members(tx: &mut TenantTx, since: DateTime<Utc>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM ( \
           SELECT member_id FROM purchases WHERE recorded_at >= $1 \
           UNION SELECT member_id FROM check_ins WHERE at >= $1) a",
    )
    .bind(since)
    .fetch_one(tx.conn())
    .await?)
}
