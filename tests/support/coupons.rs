//! Coupons: templates, batches, coupons given to members, a coupon's life and its void,
//! the validation of a cart's codes, and the portal's coupons and claims.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::Serialize;

impl Api {
    /// `POST /coupon-templates`.
    pub async fn create_coupon_template(&self, auth: &Auth, body: &impl Serialize) -> Reply {
        self.v1(Method::POST, "/coupon-templates")
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `GET /coupon-templates`.
    pub async fn coupon_templates(&self, auth: &Auth) -> Reply {
        self.v1(Method::GET, "/coupon-templates")
            .auth(auth)
            .send()
            .await
    }

    /// `GET /coupon-templates/{id}`.
    pub async fn coupon_template(&self, auth: &Auth, id: &str) -> Reply {
        self.v1(Method::GET, &format!("/coupon-templates/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /coupon-templates/{id}`.
    pub async fn update_coupon_template(
        &self,
        auth: &Auth,
        id: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.v1(Method::PUT, &format!("/coupon-templates/{id}"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `PUT /coupon-templates/{id}/archived`.
    pub async fn archive_coupon_template(&self, auth: &Auth, id: &str, archived: bool) -> Reply {
        self.v1(Method::PUT, &format!("/coupon-templates/{id}/archived"))
            .auth(auth)
            .json(&serde_json::json!({ "archived": archived }))
            .send()
            .await
    }

    /// `POST /coupon-templates/{id}/batches`.
    pub async fn create_coupon_batch(
        &self,
        auth: &Auth,
        template: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.v1(
            Method::POST,
            &format!("/coupon-templates/{template}/batches"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `GET /coupon-templates/{id}/batches`.
    pub async fn coupon_batches(&self, auth: &Auth, template: &str) -> Reply {
        self.v1(
            Method::GET,
            &format!("/coupon-templates/{template}/batches"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `GET /coupon-templates/{id}/batches/{batch}/codes`.
    pub async fn coupon_batch_codes(&self, auth: &Auth, template: &str, batch: &str) -> Reply {
        self.v1(
            Method::GET,
            &format!("/coupon-templates/{template}/batches/{batch}/codes"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `POST /members/{id}/coupons`.
    pub async fn issue_coupons(&self, auth: &Auth, member: &str, body: &impl Serialize) -> Reply {
        self.v1(Method::POST, &format!("/members/{member}/coupons"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `POST /coupons/{code}/reservations`.
    pub async fn reserve_coupon(&self, auth: &Auth, code: &str, minutes: i64) -> Reply {
        self.v1(Method::POST, &format!("/coupons/{code}/reservations"))
            .auth(auth)
            .json(&serde_json::json!({ "minutes": minutes }))
            .send()
            .await
    }

    /// `POST /coupons/{code}/reservations` under a cart's own reservation id.
    pub async fn hold_coupon(&self, auth: &Auth, code: &str, cart: &str, minutes: i64) -> Reply {
        self.v1(Method::POST, &format!("/coupons/{code}/reservations"))
            .auth(auth)
            .json(&serde_json::json!({ "minutes": minutes, "reservation_id": cart }))
            .send()
            .await
    }

    /// `DELETE /coupons/{code}/reservations/{reservation_id}`.
    pub async fn release_coupon(&self, auth: &Auth, code: &str, cart: &str) -> Reply {
        self.v1(
            Method::DELETE,
            &format!("/coupons/{code}/reservations/{cart}"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `GET /members/{id}/coupons`.
    pub async fn member_coupons(&self, auth: &Auth, member: &str) -> Reply {
        self.v1(Method::GET, &format!("/members/{member}/coupons"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /coupons/{id}`.
    pub async fn coupon(&self, auth: &Auth, id: &str) -> Reply {
        self.v1(Method::GET, &format!("/coupons/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /coupons/{id}/void`.
    pub async fn void_coupon(&self, auth: &Auth, id: &str, reason: &str) -> Reply {
        self.v1(Method::POST, &format!("/coupons/{id}/void"))
            .auth(auth)
            .json(&serde_json::json!({ "reason": reason }))
            .send()
            .await
    }

    /// `POST /coupons/validate`.
    pub async fn validate_coupons(&self, auth: &Auth, body: &impl Serialize) -> Reply {
        self.v1(Method::POST, "/coupons/validate")
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me/coupons`.
    pub async fn portal_my_coupons(&self, slug: &str, auth: &Auth) -> Reply {
        self.v1(Method::GET, &format!("/portal/{slug}/me/coupons"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me/claimable-coupons`.
    pub async fn portal_claimable_coupons(&self, slug: &str, auth: &Auth) -> Reply {
        self.v1(Method::GET, &format!("/portal/{slug}/me/claimable-coupons"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/me/coupons/claim`.
    pub async fn portal_claim_coupon(
        &self,
        slug: &str,
        auth: &Auth,
        body: &impl Serialize,
    ) -> Reply {
        self.v1(Method::POST, &format!("/portal/{slug}/me/coupons/claim"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }
}

impl Api {
    /// `POST /coupon-templates/{id}/segment-issues`.
    pub async fn issue_coupons_to_segment(
        &self,
        auth: &Auth,
        template: &str,
        body: &impl Serialize,
    ) -> Reply {
        self.v1(
            Method::POST,
            &format!("/coupon-templates/{template}/segment-issues"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `GET /coupon-templates/{id}/segment-issues`.
    pub async fn coupon_segment_issues(&self, auth: &Auth, template: &str) -> Reply {
        self.v1(
            Method::GET,
            &format!("/coupon-templates/{template}/segment-issues"),
        )
        .auth(auth)
        .send()
        .await
    }
}
