//! Prepaid: stored value (settings, top-ups, refunds of top-ups, a member's balance), visit
//! passes and memberships.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Stored value by sub-ledger.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct SvBalance {
    pub principal: i64,
    pub bonus: i64,
    pub total: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TopUpPreview {
    pub principal: i64,
    pub bonus: i64,
    pub balance_after: SvBalance,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TopUp {
    pub top_up_id: String,
    pub principal: i64,
    pub bonus: i64,
    pub balance: SvBalance,
    pub warnings: Vec<String>,
    pub replayed: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TopUpRefund {
    pub top_up_id: String,
    pub principal: i64,
    pub bonus_forfeited: i64,
    pub principal_spent: i64,
    pub balance_after: SvBalance,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SvEntry {
    pub ledger: String,
    pub kind: String,
    pub amount: i64,
    pub balance: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct StoredValue {
    pub balance: SvBalance,
    pub top_ups: Vec<Value>,
    pub entries: Vec<SvEntry>,
}

impl Api {
    /// `GET /prepaid/settings`.
    pub async fn prepaid_settings(&self, auth: &Auth) -> Reply<Value> {
        self.v1(Method::GET, "/prepaid/settings")
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /prepaid/settings`.
    pub async fn set_prepaid_settings(&self, auth: &Auth, body: &impl Serialize) -> Reply<Value> {
        self.v1(Method::PUT, "/prepaid/settings")
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `GET /members/{id}/stored-value`.
    pub async fn stored_value(&self, auth: &Auth, member: &str) -> Reply<StoredValue> {
        self.v1(Method::GET, &format!("/members/{member}/stored-value"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/{id}/stored-value/top-ups/preview`.
    pub async fn preview_top_up(
        &self,
        auth: &Auth,
        member: &str,
        body: &impl Serialize,
    ) -> Reply<TopUpPreview> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/stored-value/top-ups/preview"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `POST /members/{id}/stored-value/top-ups`.
    pub async fn top_up(&self, auth: &Auth, member: &str, body: &impl Serialize) -> Reply<TopUp> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/stored-value/top-ups"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `GET /members/{id}/stored-value/top-ups/{top_up}/refund`.
    pub async fn preview_top_up_refund(
        &self,
        auth: &Auth,
        member: &str,
        top_up: &str,
    ) -> Reply<TopUpRefund> {
        self.v1(
            Method::GET,
            &format!("/members/{member}/stored-value/top-ups/{top_up}/refund"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `POST /members/{id}/stored-value/top-ups/{top_up}/refund`.
    pub async fn refund_top_up(
        &self,
        auth: &Auth,
        member: &str,
        top_up: &str,
        body: &impl Serialize,
    ) -> Reply<TopUpRefund> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/stored-value/top-ups/{top_up}/refund"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `PUT /pass-products/{id}/archived`.
    pub async fn set_pass_product_archived(
        &self,
        auth: &Auth,
        product: &str,
        archived: bool,
    ) -> Reply<Value> {
        self.v1(Method::PUT, &format!("/pass-products/{product}/archived"))
            .auth(auth)
            .json(&serde_json::json!({ "archived": archived }))
            .send()
            .await
    }

    /// `PUT /membership-plans/{id}/archived`.
    pub async fn set_membership_plan_archived(
        &self,
        auth: &Auth,
        plan: &str,
        archived: bool,
    ) -> Reply<Value> {
        self.v1(Method::PUT, &format!("/membership-plans/{plan}/archived"))
            .auth(auth)
            .json(&serde_json::json!({ "archived": archived }))
            .send()
            .await
    }

    /// `POST /pass-products`.
    pub async fn create_pass_product(&self, auth: &Auth, body: &impl Serialize) -> Reply<Value> {
        self.v1(Method::POST, "/pass-products")
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `POST /members/{id}/passes`.
    pub async fn sell_pass(
        &self,
        auth: &Auth,
        member: &str,
        body: &impl Serialize,
    ) -> Reply<Value> {
        self.v1(Method::POST, &format!("/members/{member}/passes"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `GET /members/{id}/passes`.
    pub async fn member_passes(&self, auth: &Auth, member: &str) -> Reply<Vec<Value>> {
        self.v1(Method::GET, &format!("/members/{member}/passes"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/{id}/passes/{pass}/uses`.
    pub async fn consume_pass(
        &self,
        auth: &Auth,
        member: &str,
        pass: &str,
        body: &impl Serialize,
    ) -> Reply<Value> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/passes/{pass}/uses"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `POST /members/{id}/passes/{pass}/uses/{use}/reverse`.
    pub async fn reverse_pass_use(
        &self,
        auth: &Auth,
        member: &str,
        pass: &str,
        use_id: i64,
        body: &impl Serialize,
    ) -> Reply<Value> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/passes/{pass}/uses/{use_id}/reverse"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `POST /members/{id}/passes/{pass}/renew`.
    pub async fn renew_pass(
        &self,
        auth: &Auth,
        member: &str,
        pass: &str,
        body: &impl Serialize,
    ) -> Reply<Value> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/passes/{pass}/renew"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `POST /members/{id}/passes/{pass}/{action}` (`freeze`, `unfreeze`).
    pub async fn pass_action(
        &self,
        auth: &Auth,
        member: &str,
        pass: &str,
        action: &str,
        body: Option<&Value>,
    ) -> Reply<Value> {
        let r = self
            .v1(
                Method::POST,
                &format!("/members/{member}/passes/{pass}/{action}"),
            )
            .auth(auth);
        match body {
            Some(b) => r.json(b).send().await,
            None => r.send().await,
        }
    }

    /// `POST /membership-plans`.
    pub async fn create_membership_plan(&self, auth: &Auth, body: &impl Serialize) -> Reply<Value> {
        self.v1(Method::POST, "/membership-plans")
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `POST /members/{id}/memberships`.
    pub async fn sell_membership(
        &self,
        auth: &Auth,
        member: &str,
        body: &impl Serialize,
    ) -> Reply<Value> {
        self.v1(Method::POST, &format!("/members/{member}/memberships"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `GET /members/{id}/memberships`.
    pub async fn member_memberships(&self, auth: &Auth, member: &str) -> Reply<Vec<Value>> {
        self.v1(Method::GET, &format!("/members/{member}/memberships"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/{id}/memberships/{membership}/{action}` (`renew`, `freeze`, `cancel`).
    pub async fn membership_action(
        &self,
        auth: &Auth,
        member: &str,
        membership: &str,
        action: &str,
        body: &impl Serialize,
    ) -> Reply<Value> {
        self.v1(
            Method::POST,
            &format!("/members/{member}/memberships/{membership}/{action}"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `GET /memberships/ending?days=`.
    pub async fn memberships_ending(&self, auth: &Auth, days: i64) -> Reply<Vec<Value>> {
        self.v1(Method::GET, "/memberships/ending")
            .auth(auth)
            .query(&[("days", days)])
            .send()
            .await
    }

    /// `GET /charges` with these filters.
    pub async fn list_charges(&self, auth: &Auth, query: &[(&str, &str)]) -> Reply<Value> {
        self.v1(Method::GET, "/charges")
            .auth(auth)
            .query(&query)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me/prepaid`: the member's own memberships, balance and passes.
    pub async fn portal_prepaid(&self, slug: &str, auth: &Auth) -> Reply<Value> {
        self.v1(Method::GET, &format!("/portal/{slug}/me/prepaid"))
            .auth(auth)
            .send()
            .await
    }
}
