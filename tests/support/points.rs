//! Points: purchases and refunds from the till, a member's balance and ledger, adjustments,
//! redemptions, check-ins, custom events and the points settings.

use super::app::{Api, Auth, TestApp};
use super::reply::Reply;
use super::rules::{PointReason, RuleFailure};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A purchase to record, naming its member by id, card or phone.
#[derive(Clone, Debug, Serialize)]
pub struct NewPurchase {
    pub external_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<DateTime<Utc>>,
}

impl NewPurchase {
    fn new(external_id: &str, amount: i64) -> Self {
        NewPurchase {
            external_id: external_id.into(),
            member_id: None,
            card_number: None,
            phone: None,
            amount,
            items: None,
            store: None,
            occurred_at: None,
        }
    }

    pub fn for_member(external_id: &str, member_id: &str, amount: i64) -> Self {
        NewPurchase {
            member_id: Some(member_id.into()),
            ..Self::new(external_id, amount)
        }
    }

    pub fn by_card(external_id: &str, card_number: &str, amount: i64) -> Self {
        NewPurchase {
            card_number: Some(card_number.into()),
            ..Self::new(external_id, amount)
        }
    }

    pub fn by_phone(external_id: &str, phone: &str, amount: i64) -> Self {
        NewPurchase {
            phone: Some(phone.into()),
            ..Self::new(external_id, amount)
        }
    }

    /// The purchase lines (a JSON array).
    pub fn items(mut self, items: Value) -> Self {
        self.items = Some(items);
        self
    }

    pub fn store(mut self, store: &str) -> Self {
        self.store = Some(store.into());
        self
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct Referral {
    pub referrer_id: String,
    pub points: i64,
}

/// A recorded purchase: what it earned and where it left the member.
#[derive(Clone, Debug, Deserialize)]
pub struct Purchase {
    pub purchase_id: String,
    pub external_id: String,
    pub member_id: String,
    pub amount: i64,
    pub points: i64,
    pub reasons: Vec<PointReason>,
    pub rule_version: Option<i64>,
    pub rule_error: Option<RuleFailure>,
    pub balance: i64,
    pub debt: i64,
    pub tier: Option<String>,
    pub discount_percent: i64,
    pub referral: Option<Referral>,
    /// How it was paid (stored value with what it took of each sub-ledger).
    #[serde(default)]
    pub payments: Vec<Value>,
    pub replayed: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub points: i64,
    pub debt_added: i64,
    pub balance: i64,
    pub debt: i64,
    pub refundable: i64,
    /// What went back to stored value, by sub-ledger.
    #[serde(default)]
    pub stored_value: Option<Value>,
    pub replayed: bool,
}

/// A purchase in a member's history.
#[derive(Clone, Debug, Deserialize)]
pub struct PurchaseRecord {
    pub id: String,
    pub external_id: String,
    pub points: i64,
    pub rule_error: Option<RuleFailure>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PurchaseHistory {
    pub items: Vec<PurchaseRecord>,
    pub total_count: i64,
    pub total_points: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Expiring {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// A member's points balance and totals.
#[derive(Clone, Debug, Deserialize)]
pub struct PointsBalance {
    pub balance: i64,
    pub debt: i64,
    pub earned_total: i64,
    pub redeemed_total: i64,
    pub expired_total: i64,
    pub spend_total: i64,
    pub visits: i64,
    pub expiring: Vec<Expiring>,
}

/// One row of the points ledger.
#[derive(Clone, Debug, Deserialize)]
pub struct LedgerEntry {
    pub kind: String,
    pub points: i64,
    pub balance: i64,
    pub source: String,
    pub reason: String,
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(default)]
    pub reason_params: Option<serde_json::Value>,
    #[serde(default)]
    pub actor: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LedgerPage {
    pub items: Vec<LedgerEntry>,
}

/// The answer to an adjustment or a redemption.
#[derive(Clone, Debug, Deserialize)]
pub struct PointsChange {
    pub points: i64,
    pub value: Option<i64>,
    pub amount_due: Option<i64>,
    pub balance: i64,
    pub entry_id: Option<i64>,
    pub replayed: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CheckIn {
    pub streak: i64,
    pub points: i64,
    pub balance: i64,
    pub already: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct EventResult {
    pub event_id: String,
    pub points: i64,
    pub replayed: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PointsSettings {
    pub expiry: Value,
    pub refund_shortfall: String,
    pub check_in_points: i64,
    #[serde(default)]
    pub redemption_check_above: Option<i64>,
}

#[derive(Serialize)]
struct EntriesQuery {
    limit: u32,
}

impl Api {
    /// `POST /purchases`.
    pub async fn record_purchase(&self, auth: &Auth, input: &impl Serialize) -> Reply<Purchase> {
        self.v1(Method::POST, "/purchases")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /refunds`.
    pub async fn record_refund(&self, auth: &Auth, input: &impl Serialize) -> Reply<Refund> {
        self.v1(Method::POST, "/refunds")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /members/{id}/purchases`.
    pub async fn member_purchases(&self, auth: &Auth, member: &str) -> Reply<PurchaseHistory> {
        self.v1(Method::GET, &format!("/members/{member}/purchases"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /members/{id}/points`.
    pub async fn member_points(&self, auth: &Auth, member: &str) -> Reply<PointsBalance> {
        self.v1(Method::GET, &format!("/members/{member}/points"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /members/{id}/points/entries`, newest first; `limit` entries when given.
    pub async fn points_entries(
        &self,
        auth: &Auth,
        member: &str,
        limit: Option<u32>,
    ) -> Reply<LedgerPage> {
        let mut call = self
            .v1(Method::GET, &format!("/members/{member}/points/entries"))
            .auth(auth);
        if let Some(limit) = limit {
            call = call.query(&EntriesQuery { limit });
        }
        call.send().await
    }

    /// `POST /members/{id}/points/adjustments`.
    pub async fn adjust_points(
        &self,
        auth: &Auth,
        member: &str,
        input: &impl Serialize,
    ) -> Reply<PointsChange> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/points/adjustments"),
        )
        .auth(auth)
        .json(input)
        .send()
        .await
    }

    /// `POST /members/{id}/redemptions`.
    pub async fn redeem_points(
        &self,
        auth: &Auth,
        member: &str,
        input: &impl Serialize,
    ) -> Reply<PointsChange> {
        self.v1(Method::POST, &format!("/members/{member}/redemptions"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /members/{id}/check-ins`.
    pub async fn check_in(&self, auth: &Auth, member: &str) -> Reply<CheckIn> {
        self.v1(Method::POST, &format!("/members/{member}/check-ins"))
            .auth(auth)
            .json(&json!({}))
            .send()
            .await
    }

    /// `POST /members/{id}/check-ins` with an `Idempotency-Key` header.
    pub async fn check_in_with_key(&self, auth: &Auth, member: &str, key: &str) -> Reply<CheckIn> {
        self.v1(Method::POST, &format!("/members/{member}/check-ins"))
            .auth(auth)
            .header("Idempotency-Key", key)
            .json(&json!({}))
            .send()
            .await
    }

    /// `POST /events`: a custom event that may earn points.
    pub async fn record_event(&self, auth: &Auth, input: &impl Serialize) -> Reply<EventResult> {
        self.v1(Method::POST, "/events")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /points/settings`.
    pub async fn points_settings(&self, auth: &Auth) -> Reply<PointsSettings> {
        self.v1(Method::GET, "/points/settings")
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /points/settings`.
    pub async fn update_points_settings(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<PointsSettings> {
        self.v1(Method::PUT, "/points/settings")
            .auth(auth)
            .json(input)
            .send()
            .await
    }
}

impl TestApp {
    /// Records a purchase of `amount` for `member`; panics unless it is created.
    pub async fn purchase(
        &self,
        auth: &Auth,
        member: &str,
        external_id: &str,
        amount: i64,
    ) -> Purchase {
        self.record_purchase(auth, &NewPurchase::for_member(external_id, member, amount))
            .await
            .created()
    }
}
