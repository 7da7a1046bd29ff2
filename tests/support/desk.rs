//! The front desk: the one-box lookup, a member's summary, the member's code from the
//! portal, and the SMS code that confirms a large redemption.

use super::app::{Api, Auth};
use super::reply::Reply;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One member the lookup found.
#[derive(Clone, Debug, Deserialize)]
pub struct DeskMatch {
    pub id: String,
    pub name: String,
    pub phone_masked: Option<String>,
    pub card_number: Option<String>,
    pub tier: Option<String>,
    pub tier_name: Option<Value>,
    pub balance: i64,
    pub status: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeskLookup {
    pub kind: String,
    pub matches: Vec<DeskMatch>,
}

impl DeskLookup {
    pub fn names(&self) -> Vec<&str> {
        self.matches.iter().map(|m| m.name.as_str()).collect()
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeskAlert {
    pub code: String,
    pub params: Value,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeskTier {
    pub code: String,
    pub name: Value,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeskNextTier {
    pub code: String,
    pub remaining: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DeskExpiring {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// A member at a glance.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberSummary {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub card_number: Option<String>,
    pub tags: Vec<String>,
    pub balance: i64,
    pub debt: i64,
    pub tier: Option<DeskTier>,
    pub next_tier: Option<DeskNextTier>,
    pub expiring: Option<DeskExpiring>,
    pub last_visit: Option<String>,
    pub join_date: String,
    pub birthday: Option<String>,
    pub alerts: Vec<DeskAlert>,
}

impl MemberSummary {
    pub fn alert_codes(&self) -> Vec<&str> {
        self.alerts.iter().map(|a| a.code.as_str()).collect()
    }
}

/// The member's code for the counter.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
    pub refresh_in: i64,
}

#[derive(Serialize)]
struct LookupQuery<'a> {
    q: &'a str,
}

impl Api {
    /// `GET /desk/lookup?q=`.
    pub async fn desk_lookup(&self, auth: &Auth, q: &str) -> Reply<DeskLookup> {
        self.v1(Method::GET, "/desk/lookup")
            .auth(auth)
            .query(&LookupQuery { q })
            .send()
            .await
    }

    /// `GET /desk/items?q=&limit=`.
    pub async fn desk_items(&self, auth: &Auth, q: &str, limit: Option<i64>) -> Reply {
        let mut call = self
            .v1(Method::GET, "/desk/items")
            .auth(auth)
            .query(&LookupQuery { q });
        if let Some(limit) = limit {
            call = call.query(&[("limit", limit)]);
        }
        call.send().await
    }

    /// `GET /members/{id}/summary`.
    pub async fn member_summary(&self, auth: &Auth, member: &str) -> Reply<MemberSummary> {
        self.v1(Method::GET, &format!("/members/{member}/summary"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/{id}/redemption-code`.
    pub async fn send_redemption_code(&self, auth: &Auth, member: &str) -> Reply {
        self.v1(Method::POST, &format!("/members/{member}/redemption-code"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me/code`.
    pub async fn portal_my_code(&self, slug: &str, auth: &Auth) -> Reply<MemberCode> {
        self.v1(Method::GET, &format!("/portal/{slug}/me/code"))
            .auth(auth)
            .send()
            .await
    }
}
