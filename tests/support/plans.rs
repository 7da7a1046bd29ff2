//! Plans as a business sees them: the catalogue, its own plan and usage, changing plan,
//! invoices, closing the account, and the payment provider's webhook.

use super::accounts::Tenant;
use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, Deserialize)]
pub struct PlanLimit {
    pub limit: String,
    pub allowed: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Plan {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub features: Vec<String>,
    pub limits: Vec<PlanLimit>,
    pub archived: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FeatureStatus {
    pub feature: String,
    pub included: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Usage {
    pub limit: String,
    pub usage: i64,
    pub allowed: Option<i64>,
    pub warning: Option<String>,
}

/// The tenant's plan, what it includes and how much of each limit is used.
#[derive(Clone, Debug, Deserialize)]
pub struct MyPlan {
    pub plan: Plan,
    pub features: Vec<FeatureStatus>,
    pub usage: Vec<Usage>,
    pub api_requests_this_month: i64,
    pub warnings: Vec<String>,
}

impl MyPlan {
    /// The usage of one limit; panics when the plan does not list it.
    pub fn usage_of(&self, limit: &str) -> &Usage {
        self.usage
            .iter()
            .find(|u| u.limit == limit)
            .unwrap_or_else(|| panic!("no {limit} usage in {self:?}"))
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub total_minor: i64,
    pub status: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WebhookAck {
    pub outcome: String,
}

impl Api {
    /// `GET /plans`: the plans on offer, cheapest first (no credentials needed).
    pub async fn plan_catalogue(&self) -> Reply<Vec<Plan>> {
        self.v1(Method::GET, "/plans").send().await
    }

    /// `GET /plan`.
    pub async fn my_plan(&self, auth: &Auth) -> Reply<MyPlan> {
        self.v1(Method::GET, "/plan").auth(auth).send().await
    }

    /// `POST /plan`.
    pub async fn change_plan(&self, auth: &Auth, plan: &str) -> Reply<Tenant> {
        self.v1(Method::POST, "/plan")
            .auth(auth)
            .json(&json!({ "plan": plan }))
            .send()
            .await
    }

    /// `GET /invoices`.
    pub async fn invoices(&self, auth: &Auth) -> Reply<Vec<Invoice>> {
        self.v1(Method::GET, "/invoices").auth(auth).send().await
    }

    /// `POST /account/close`.
    pub async fn close_account(&self, auth: &Auth, input: &impl Serialize) -> Reply<Tenant> {
        self.v1(Method::POST, "/account/close")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /billing/webhooks/signed`: `body` as the provider sent it, with its signature.
    pub async fn payment_webhook(&self, body: Vec<u8>, signature: &str) -> Reply<WebhookAck> {
        self.v1(Method::POST, "/billing/webhooks/signed")
            .header("x-patron-signature", signature)
            .bytes("application/json", body)
            .send()
            .await
    }
}
