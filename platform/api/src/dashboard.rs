//! The business's dashboard: today's registrations, points issued and redeemed, purchases,
//! active members, and the last 30 local days.

use crate::edge::auth::TenantAuth;

use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{Duration, NaiveDate};
use patron_core::access::Permission;
use patron_db::dashboard;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

#[derive(Tags)]
enum Tag {
    /// The dashboard.
    Dashboard,
}

/// How many days the series covers, today included.
const DAYS: i64 = 30;

#[derive(Debug, Object, Default, Clone)]
pub struct DashboardDay {
    /// The business's local day.
    pub day: NaiveDate,
    pub registrations: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub purchases: i64,
    /// In minor units.
    pub spend: i64,
}

#[derive(Debug, Object)]
pub struct Dashboard {
    pub today: DashboardDay,
    /// Members with a purchase or a check-in in the last 30 days.
    pub active_members: i64,
    /// Members on the register (not erased or merged).
    pub members: i64,
    /// The last 30 local days, oldest first, today last; days with nothing are zeros.
    pub days: Vec<DashboardDay>,
}

pub struct DashboardApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Dashboard")]
impl DashboardApi {
    /// Today's figures and the last 30 days, in the business's time zone.
    #[oai(path = "/dashboard", method = "get", operation_id = "getDashboard")]
    async fn dashboard(&self, auth: TenantAuth) -> Result<Json<Dashboard>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::ReportsRead))
            .await?;
        let now = self.state.now();
        let tz = me.tenant.settings.zone().tz();
        let today = now.with_timezone(&tz).date_naive();
        let first = today - Duration::days(DAYS - 1);
        let since = patron_core::points::start_of_day(tz, first);
        let mut by_day = dashboard::days(&mut tx, since, tz.name()).await?;
        let active_members = dashboard::active_members(&mut tx, now - Duration::days(30)).await?;
        let members = patron_db::members::count_active(&mut tx).await?;
        tx.commit().await?;
        let days: Vec<DashboardDay> = first
            .iter_days()
            .take(DAYS as usize)
            .map(|day| {
                let d = by_day.remove(&day).unwrap_or_default();
                DashboardDay {
                    day,
                    registrations: d.registrations,
                    points_issued: d.points_issued,
                    points_redeemed: d.points_redeemed,
                    purchases: d.purchases,
                    spend: d.spend,
                }
            })
            .collect();
        Ok(Json(Dashboard {
            today: days.last().cloned().unwrap_or_default(),
            active_members,
            members,
            days,
        }))
    }
}
