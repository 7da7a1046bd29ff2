//! The business's dashboard: today's registrations, points issued and redeemed, purchases,
//! active members, and the last 30 local days (the business's time zone decides the days).

use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::Zone;
use patron_db::dashboard::{self, Day};
use patron_db::TenantTx;
use std::collections::BTreeMap;

/// How many days the series covers, today included.
pub const DAYS: i64 = 30;

/// One local day's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardDay {
    pub day: NaiveDate,
    pub figures: Day,
}

#[derive(Debug)]
pub struct Dashboard {
    pub today: DashboardDay,
    /// Members with a purchase or a check-in in the last 30 days.
    pub active_members: i64,
    /// Members on the register (not erased or merged).
    pub members: i64,
    /// The last 30 local days, oldest first, today last.
    pub days: Vec<DashboardDay>,
}

/// The series of [`DAYS`] local days from `first`, days with nothing as zeros.
pub fn series(first: NaiveDate, mut by_day: BTreeMap<NaiveDate, Day>) -> Vec<DashboardDay> {
    first
        .iter_days()
        .take(DAYS as usize)
        .map(|day| DashboardDay {
            day,
            figures: by_day.remove(&day).unwrap_or_default(),
        })
        .collect()
}

/// Today's figures and the last 30 days, in the business's `zone`.
pub async fn dashboard(
    tx: &mut TenantTx,
    zone: Zone,
    now: DateTime<Utc>,
) -> Result<Dashboard, AppError> {
    let today = zone.today(now);
    let first = today - Duration::days(DAYS - 1);
    let since = zone.start_of_day(first);
    let by_day = dashboard::days(tx, since, zone.tz().name()).await?;
    let active_members = dashboard::active_members(tx, now - Duration::days(30)).await?;
    let members = patron_db::members::count_active(tx).await?;
    let days = series(first, by_day);
    Ok(Dashboard {
        today: days.last().cloned().unwrap_or_default(),
        active_members,
        members,
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_has_thirty_days_with_zeros_where_nothing_happened() {
        let first: NaiveDate = "2026-02-15".parse().unwrap();
        let mut by_day = BTreeMap::new();
        let busy: NaiveDate = "2026-03-01".parse().unwrap();
        by_day.insert(
            busy,
            Day {
                purchases: 3,
                ..Day::default()
            },
        );
        let s = series(first, by_day);
        assert_eq!(s.len(), 30);
        assert_eq!(s[0].day, first);
        assert_eq!(s[29].day, "2026-03-16".parse::<NaiveDate>().unwrap());
        assert_eq!(s.iter().map(|d| d.figures.purchases).sum::<i64>(), 3);
        assert_eq!(
            s.iter().find(|d| d.day == busy).unwrap().figures.purchases,
            3
        );
    }
}
