//! Campaigns: create, preview, results, the contact budget, and running the send job.

use super::app::{Api, Auth, TestApp};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A campaign's results on one channel.
#[derive(Clone, Debug, Deserialize)]
pub struct CampaignChannelResult {
    pub channel: String,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub opened: Option<i64>,
    pub skipped_no_contact: i64,
    pub skipped_opted_out: i64,
    pub skipped_over_budget: i64,
    pub skipped_quota: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    /// The audience as given (for a segment: its filter when the campaign was created).
    #[serde(default)]
    pub filter: Value,
    pub segment_id: Option<String>,
    pub channels: Vec<String>,
    pub status: String,
    pub stop_reason: Option<String>,
    pub matched: i64,
    pub done: i64,
    pub results: Vec<CampaignChannelResult>,
    pub unsubscribed: i64,
    pub send_at: Option<String>,
}

impl Campaign {
    /// The results of `channel` (zeros when nothing went by it).
    pub fn on(&self, channel: &str) -> CampaignChannelResult {
        self.results
            .iter()
            .find(|r| r.channel == channel)
            .cloned()
            .unwrap_or(CampaignChannelResult {
                channel: channel.into(),
                sent: 0,
                delivered: 0,
                failed: 0,
                opened: None,
                skipped_no_contact: 0,
                skipped_opted_out: 0,
                skipped_over_budget: 0,
                skipped_quota: 0,
            })
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct CampaignReach {
    pub members: i64,
    pub over_budget: i64,
    pub email: i64,
    pub email_missing: i64,
    pub email_opted_out: i64,
    pub sms: i64,
    pub sms_missing: i64,
    pub sms_opted_out: i64,
    pub inbox: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CampaignQuota {
    pub limit: String,
    pub used: i64,
    pub allowed: Option<i64>,
    pub campaign: i64,
    pub remaining: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CampaignPreview {
    pub reach: CampaignReach,
    pub contact_budget: Option<i32>,
    pub quotas: Vec<CampaignQuota>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct CampaignSettings {
    pub contact_budget: Option<i32>,
}

/// A campaign body: to the members `filter` finds, by `channels`, with a zh-CN message for
/// each (e-mail and inbox with a subject).
pub fn campaign_body(name: &str, filter: Value, channels: &[&str]) -> Value {
    let messages: Vec<Value> = channels
        .iter()
        .map(|c| match *c {
            "sms" => json!({ "channel": "sms", "locale": "zh-CN",
                             "body": "{{member.name}}，春季新品上市" }),
            c => json!({ "channel": c, "locale": "zh-CN",
                         "subject": "{{member.name}}，春季新品",
                         "body": "亲爱的{{member.name}}，{{business.name}}春季新品上市。" }),
        })
        .collect();
    json!({ "name": name, "filter": filter, "channels": channels, "messages": messages })
}

impl Api {
    /// `GET /portal/{tenant}/opened/{token}` (no login): the image of a campaign e-mail.
    pub async fn campaign_email_opened(&self, tenant: &str, token: &str) -> Reply {
        self.v1(Method::GET, &format!("/portal/{tenant}/opened/{token}"))
            .send()
            .await
    }

    /// `GET /campaigns`.
    pub async fn campaigns(&self, auth: &Auth) -> Reply<Vec<Campaign>> {
        self.v1(Method::GET, "/campaigns").auth(auth).send().await
    }

    /// `POST /campaigns`.
    pub async fn create_campaign(&self, auth: &Auth, input: &impl Serialize) -> Reply<Campaign> {
        self.v1(Method::POST, "/campaigns")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /campaigns/preview`.
    pub async fn preview_campaign(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<CampaignPreview> {
        self.v1(Method::POST, "/campaigns/preview")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /campaigns/{id}`.
    pub async fn get_campaign(&self, auth: &Auth, id: &str) -> Reply<Campaign> {
        self.v1(Method::GET, &format!("/campaigns/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /campaigns/{id}/cancel`.
    pub async fn cancel_campaign(&self, auth: &Auth, id: &str) -> Reply<Campaign> {
        self.v1(Method::POST, &format!("/campaigns/{id}/cancel"))
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /portal/{slug}/me/contact-preferences` with both marketing choices.
    pub async fn set_portal_marketing(
        &self,
        slug: &str,
        auth: &Auth,
        email: bool,
        sms: bool,
    ) -> Reply<Value> {
        self.v1(
            Method::PUT,
            &format!("/portal/{slug}/me/contact-preferences"),
        )
        .auth(auth)
        .json(&json!({ "marketing_email": email, "marketing_sms": sms }))
        .send()
        .await
    }

    /// `GET /campaign-settings`.
    pub async fn campaign_settings(&self, auth: &Auth) -> Reply<CampaignSettings> {
        self.v1(Method::GET, "/campaign-settings")
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /campaign-settings`.
    pub async fn set_campaign_settings(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<CampaignSettings> {
        self.v1(Method::PUT, "/campaign-settings")
            .auth(auth)
            .json(input)
            .send()
            .await
    }
}

/// Runs the send job of campaign `id` for tenant `tenant_id` at `at`, as the job runner
/// would; returns its report.
pub async fn run_campaign(
    app: &TestApp,
    tenant_id: i64,
    senders: &patron_app::messages::Senders,
    id: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Value {
    let tenant = patron_db::tenants::find_by_id(&app.db, tenant_id)
        .await
        .unwrap()
        .unwrap();
    patron_app::campaigns::run(&app.db, &tenant, senders, id.parse().unwrap(), at)
        .await
        .unwrap()
}
