//! The business's dashboard over HTTP: today's registrations, points issued and redeemed,
//! purchases, active members, and the last 30 local days. The figures come from
//! `patron_app::dashboard`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::NaiveDate;
use patron_app::dashboard as app;
use patron_core::access::Permission;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

#[derive(Tags)]
enum Tag {
    /// The dashboard.
    Dashboard,
}

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

impl From<app::DashboardDay> for DashboardDay {
    fn from(d: app::DashboardDay) -> Self {
        Self {
            day: d.day,
            registrations: d.figures.registrations,
            points_issued: d.figures.points_issued,
            points_redeemed: d.figures.points_redeemed,
            purchases: d.figures.purchases,
            spend: d.figures.spend,
        }
    }
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
        let d = app::dashboard(&mut tx, me.tenant.settings.zone(), self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(Dashboard {
            today: d.today.into(),
            active_members: d.active_members,
            members: d.members,
            days: d.days.into_iter().map(Into::into).collect(),
        }))
    }
}
