//! Promotions: drafts, publishing, stopping, results, and the member's list in the portal.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::Serialize;

impl Api {
    /// `GET /promotions` (only those in `phase` when given).
    pub async fn promotions(&self, auth: &Auth, phase: Option<&str>) -> Reply {
        let mut call = self.v1(Method::GET, "/promotions").auth(auth);
        if let Some(p) = phase {
            call = call.query(&[("phase", p)]);
        }
        call.send().await
    }

    /// `POST /promotions`.
    pub async fn create_promotion(&self, auth: &Auth, body: &impl Serialize) -> Reply {
        self.v1(Method::POST, "/promotions")
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `GET /promotions/{promotion_id}`.
    pub async fn promotion(&self, auth: &Auth, id: &str) -> Reply {
        self.v1(Method::GET, &format!("/promotions/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /promotions/{promotion_id}`.
    pub async fn update_promotion(&self, auth: &Auth, id: &str, body: &impl Serialize) -> Reply {
        self.v1(Method::PUT, &format!("/promotions/{id}"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /promotions/{promotion_id}`.
    pub async fn delete_promotion(&self, auth: &Auth, id: &str) -> Reply {
        self.v1(Method::DELETE, &format!("/promotions/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /promotions/{promotion_id}/publish`.
    pub async fn publish_promotion(&self, auth: &Auth, id: &str) -> Reply {
        self.v1(Method::POST, &format!("/promotions/{id}/publish"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /promotions/{promotion_id}/stop`.
    pub async fn stop_promotion(&self, auth: &Auth, id: &str) -> Reply {
        self.v1(Method::POST, &format!("/promotions/{id}/stop"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/promotions`.
    pub async fn portal_promotions(&self, slug: &str, auth: &Auth) -> Reply {
        self.v1(Method::GET, &format!("/portal/{slug}/promotions"))
            .auth(auth)
            .send()
            .await
    }
}
