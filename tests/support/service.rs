//! The service around the API: health, readiness, the OpenAPI document and its docs page,
//! metrics, and the dashboard.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Debug, Deserialize)]
pub struct Health {
    pub status: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DashboardDay {
    pub day: String,
    pub registrations: i64,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub purchases: i64,
    pub spend: i64,
}

/// Today's figures and the last 30 local days.
#[derive(Clone, Debug, Deserialize)]
pub struct Dashboard {
    pub today: DashboardDay,
    pub active_members: i64,
    pub members: i64,
    pub days: Vec<DashboardDay>,
}

impl Api {
    /// `GET /healthz`.
    pub async fn health(&self) -> Reply<Health> {
        self.at(Method::GET, "/healthz").send().await
    }

    /// `GET /readyz`.
    pub async fn readiness(&self) -> Reply<Health> {
        self.at(Method::GET, "/readyz").send().await
    }

    /// `GET /api/openapi.json`.
    pub async fn openapi_document(&self) -> Reply<Value> {
        self.at(Method::GET, "/api/openapi.json").send().await
    }

    /// `GET /api/docs` (an HTML page).
    pub async fn api_docs(&self) -> Reply<String> {
        self.at(Method::GET, "/api/docs").send().await
    }

    /// `GET /metrics` (Prometheus text).
    pub async fn metrics(&self) -> Reply<String> {
        self.at(Method::GET, "/metrics").send().await
    }

    /// `GET /dashboard`.
    pub async fn dashboard(&self, auth: &Auth) -> Reply<Dashboard> {
        self.v1(Method::GET, "/dashboard").auth(auth).send().await
    }
}
