//! The member portal (phone-verified registration, login, own profile, points and
//! check-ins, password reset) and the SMS outbox staff read codes from.

use super::accounts::TestTenant;
use super::app::{Api, Auth, TestApp};
use super::members::Member;
use super::points::{CheckIn, LedgerPage, PointsBalance};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A member's portal login.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberSession {
    pub token: String,
    pub member: Member,
}

impl MemberSession {
    pub fn auth(&self) -> Auth {
        Auth::Bearer(self.token.clone())
    }
}

/// What the registration form shows.
#[derive(Clone, Debug, Deserialize)]
pub struct PortalForm {
    pub business: String,
    pub json_schema: Value,
    pub ui_schema: Value,
    pub member_editable: Vec<String>,
    pub logo_url: String,
    pub address: String,
    pub opening_hours: String,
    pub check_ins: bool,
    pub privacy: Option<PrivacyTerms>,
}

/// The privacy terms the portal shows at registration.
#[derive(Clone, Debug, Deserialize)]
pub struct PrivacyTerms {
    pub text: String,
    pub version: i32,
}

/// The portal's page settings.
#[derive(Clone, Debug, Deserialize)]
pub struct PortalSettings {
    pub logo_url: String,
    pub address: String,
    pub opening_hours: String,
    pub privacy_text: String,
    pub privacy_version: i32,
}

/// A text message as the outbox keeps it.
#[derive(Clone, Debug, Deserialize)]
pub struct Sms {
    pub phone: String,
    pub body: String,
    pub purpose: String,
}

#[derive(Serialize)]
struct PhoneQuery<'a> {
    phone: &'a str,
}

impl Api {
    /// `GET /portal/{tenant}/form`.
    pub async fn portal_form(&self, slug: &str) -> Reply<PortalForm> {
        self.v1(Method::GET, &format!("/portal/{slug}/form"))
            .send()
            .await
    }

    /// `POST /portal/{tenant}/codes`: a one-time code by SMS, for `purpose`.
    pub async fn send_portal_code(&self, slug: &str, phone: &str, purpose: &str) -> Reply {
        self.v1(Method::POST, &format!("/portal/{slug}/codes"))
            .json(&json!({ "phone": phone, "purpose": purpose }))
            .send()
            .await
    }

    /// `POST /portal/{tenant}/register`.
    pub async fn register_member(
        &self,
        slug: &str,
        input: &impl Serialize,
    ) -> Reply<MemberSession> {
        self.v1(Method::POST, &format!("/portal/{slug}/register"))
            .json(input)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/login`, by phone or e-mail.
    pub async fn portal_login(
        &self,
        slug: &str,
        login: &str,
        password: &str,
    ) -> Reply<MemberSession> {
        self.v1(Method::POST, &format!("/portal/{slug}/login"))
            .json(&json!({ "login": login, "password": password }))
            .send()
            .await
    }

    /// `POST /portal/{tenant}/login` with a body of the caller's (a code, both, neither).
    pub async fn portal_login_with(
        &self,
        slug: &str,
        input: &impl Serialize,
    ) -> Reply<MemberSession> {
        self.v1(Method::POST, &format!("/portal/{slug}/login"))
            .json(input)
            .send()
            .await
    }

    /// `GET /portal-settings`.
    pub async fn portal_settings(&self, auth: &Auth) -> Reply<PortalSettings> {
        self.v1(Method::GET, "/portal-settings")
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /portal-settings`.
    pub async fn set_portal_settings(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<PortalSettings> {
        self.v1(Method::PUT, "/portal-settings")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/password-reset`.
    pub async fn reset_portal_password(&self, slug: &str, input: &impl Serialize) -> Reply<()> {
        self.v1(Method::POST, &format!("/portal/{slug}/password-reset"))
            .json(input)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me`.
    pub async fn portal_me(&self, slug: &str, auth: &Auth) -> Reply<Member> {
        self.v1(Method::GET, &format!("/portal/{slug}/me"))
            .auth(auth)
            .send()
            .await
    }

    /// `PATCH /portal/{tenant}/me`.
    pub async fn update_portal_me(
        &self,
        slug: &str,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<Member> {
        self.v1(Method::PATCH, &format!("/portal/{slug}/me"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/me/check-in`.
    pub async fn portal_check_in(&self, slug: &str, auth: &Auth) -> Reply<CheckIn> {
        self.v1(Method::POST, &format!("/portal/{slug}/me/check-in"))
            .auth(auth)
            .json(&json!({}))
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me/points`.
    pub async fn portal_points(&self, slug: &str, auth: &Auth) -> Reply<PointsBalance> {
        self.v1(Method::GET, &format!("/portal/{slug}/me/points"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/me/points/entries`.
    pub async fn portal_points_entries(&self, slug: &str, auth: &Auth) -> Reply<LedgerPage> {
        self.v1(Method::GET, &format!("/portal/{slug}/me/points/entries"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /sms-outbox`, newest first; only texts to `phone` when given.
    pub async fn sms_outbox(&self, auth: &Auth, phone: Option<&str>) -> Reply<Vec<Sms>> {
        let mut call = self.v1(Method::GET, "/sms-outbox").auth(auth);
        if let Some(phone) = phone {
            call = call.query(&PhoneQuery { phone });
        }
        call.send().await
    }
}

impl TestApp {
    /// The code in the newest SMS to `phone`, read from the outbox as the console would.
    pub async fn last_code(&self, t: &TestTenant, phone: &str) -> String {
        let outbox = self.sms_outbox(&t.owner(), Some(phone)).await.ok();
        let body = &outbox.first().expect("an SMS was sent").body;
        body.split_whitespace()
            .find(|w| w.len() >= 6 && w.chars().take(6).all(|c| c.is_ascii_digit()))
            .map(|w| w.chars().take(6).collect())
            .expect("a code in the message")
    }
}
