//! Staff password resets by e-mail, portal notices and the member's inbox.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A notice as staff see it.
#[derive(Clone, Debug, Deserialize)]
pub struct Notice {
    pub id: String,
    pub title: String,
    pub body: String,
    pub tiers: Vec<String>,
    pub pinned: bool,
    pub read_by: i64,
}

/// A notice as a member sees it.
#[derive(Clone, Debug, Deserialize)]
pub struct PortalNotice {
    pub id: String,
    pub title: String,
    pub pinned: bool,
    pub read: bool,
}

/// One entry of a member's inbox.
#[derive(Clone, Debug, Deserialize)]
pub struct InboxItem {
    pub kind: String,
    pub id: String,
    pub title: String,
    pub body: String,
    pub read: bool,
    pub occasion: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Inbox {
    pub unread: i64,
    pub items: Vec<InboxItem>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ContactPreferences {
    pub marketing_email: bool,
    pub marketing_sms: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ScheduledNotice {
    pub occasion: String,
    pub enabled: bool,
    pub days_ahead: i32,
    pub worded: bool,
}

impl Api {
    /// `POST /auth/password-reset`.
    pub async fn request_password_reset(&self, tenant: &str, email: &str) -> Reply<()> {
        self.v1(Method::POST, "/auth/password-reset")
            .json(&json!({ "tenant": tenant, "email": email }))
            .send()
            .await
    }

    /// `POST /auth/password-reset/confirm`.
    pub async fn confirm_password_reset(&self, token: &str, new_password: &str) -> Reply<()> {
        self.v1(Method::POST, "/auth/password-reset/confirm")
            .json(&json!({ "token": token, "new_password": new_password }))
            .send()
            .await
    }

    /// `GET /notices`.
    pub async fn notices(&self, auth: &Auth) -> Reply<Vec<Notice>> {
        self.v1(Method::GET, "/notices").auth(auth).send().await
    }

    /// `POST /notices`.
    pub async fn create_notice(&self, auth: &Auth, input: &impl Serialize) -> Reply<Notice> {
        self.v1(Method::POST, "/notices")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `PUT /notices/{id}`.
    pub async fn update_notice(
        &self,
        auth: &Auth,
        id: &str,
        input: &impl Serialize,
    ) -> Reply<Notice> {
        self.v1(Method::PUT, &format!("/notices/{id}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `DELETE /notices/{id}`.
    pub async fn delete_notice(&self, auth: &Auth, id: &str) -> Reply<()> {
        self.v1(Method::DELETE, &format!("/notices/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /notices/scheduled`.
    pub async fn scheduled_notices(&self, auth: &Auth) -> Reply<Vec<ScheduledNotice>> {
        self.v1(Method::GET, "/notices/scheduled")
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /notices/scheduled/{occasion}`.
    pub async fn set_scheduled_notice(
        &self,
        auth: &Auth,
        occasion: &str,
        input: &impl Serialize,
    ) -> Reply<ScheduledNotice> {
        self.v1(Method::PUT, &format!("/notices/scheduled/{occasion}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/notices`.
    pub async fn portal_notices(&self, slug: &str, auth: &Auth) -> Reply<Vec<PortalNotice>> {
        self.v1(Method::GET, &format!("/portal/{slug}/notices"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/notices/{id}/read`.
    pub async fn portal_read_notice(&self, slug: &str, auth: &Auth, id: &str) -> Reply<()> {
        self.v1(Method::POST, &format!("/portal/{slug}/notices/{id}/read"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/inbox`.
    pub async fn portal_inbox(&self, slug: &str, auth: &Auth) -> Reply<Inbox> {
        self.v1(Method::GET, &format!("/portal/{slug}/inbox"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/inbox/{id}/read`.
    pub async fn portal_read_message(&self, slug: &str, auth: &Auth, id: &str) -> Reply<()> {
        self.v1(Method::POST, &format!("/portal/{slug}/inbox/{id}/read"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me/contact-preferences`.
    pub async fn portal_contact_preferences(
        &self,
        slug: &str,
        auth: &Auth,
    ) -> Reply<ContactPreferences> {
        self.v1(
            Method::GET,
            &format!("/portal/{slug}/me/contact-preferences"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `PUT /portal/{tenant}/me/contact-preferences`.
    pub async fn set_portal_contact_preferences(
        &self,
        slug: &str,
        auth: &Auth,
        marketing_email: bool,
    ) -> Reply<ContactPreferences> {
        self.v1(
            Method::PUT,
            &format!("/portal/{slug}/me/contact-preferences"),
        )
        .auth(auth)
        .json(&json!({ "marketing_email": marketing_email }))
        .send()
        .await
    }

    /// `PUT /portal/{tenant}/me/contact-preferences` with both choices.
    pub async fn set_portal_contact_choices(
        &self,
        slug: &str,
        auth: &Auth,
        marketing_email: bool,
        marketing_sms: bool,
    ) -> Reply<ContactPreferences> {
        self.v1(
            Method::PUT,
            &format!("/portal/{slug}/me/contact-preferences"),
        )
        .auth(auth)
        .json(&json!({ "marketing_email": marketing_email, "marketing_sms": marketing_sms }))
        .send()
        .await
    }

    /// `POST /portal/{tenant}/unsubscribe`.
    pub async fn portal_unsubscribe(&self, slug: &str, token: &str) -> Reply<()> {
        self.v1(Method::POST, &format!("/portal/{slug}/unsubscribe"))
            .json(&json!({ "token": token }))
            .send()
            .await
    }
}
