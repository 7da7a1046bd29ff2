//! Account defences: two-factor codes, login history, security settings, security headers.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, Deserialize)]
pub struct TwoFactorEnrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    pub recovery_codes_left: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LoginAttempt {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub success: bool,
    pub method: String,
    pub failure: Option<String>,
}

#[derive(Serialize)]
struct LoginWith<'a> {
    tenant: &'a str,
    email: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
}

impl Api {
    /// `POST /auth/login` with a two-factor code and the caller's address and browser.
    pub async fn login_from(
        &self,
        tenant: &str,
        email: &str,
        password: &str,
        code: Option<&str>,
        ip: &str,
        user_agent: &str,
    ) -> Reply {
        self.v1(Method::POST, "/auth/login")
            .header("x-forwarded-for", ip)
            .header("user-agent", user_agent)
            .json(&LoginWith {
                tenant,
                email,
                password,
                code,
            })
            .send()
            .await
    }

    pub async fn two_factor_status(&self, auth: &Auth) -> Reply<TwoFactorStatus> {
        self.v1(Method::GET, "/auth/2fa").auth(auth).send().await
    }

    pub async fn enrol_two_factor(&self, auth: &Auth) -> Reply<TwoFactorEnrolment> {
        self.v1(Method::POST, "/auth/2fa/enrol")
            .auth(auth)
            .send()
            .await
    }

    pub async fn confirm_two_factor(&self, auth: &Auth, code: &str) -> Reply<RecoveryCodes> {
        self.v1(Method::POST, "/auth/2fa/confirm")
            .auth(auth)
            .json(&json!({ "code": code }))
            .send()
            .await
    }

    pub async fn disable_two_factor(
        &self,
        auth: &Auth,
        password: &str,
        code: &str,
    ) -> Reply<TwoFactorStatus> {
        self.v1(Method::POST, "/auth/2fa/disable")
            .auth(auth)
            .json(&json!({ "password": password, "code": code }))
            .send()
            .await
    }

    pub async fn renew_recovery_codes(
        &self,
        auth: &Auth,
        password: &str,
        code: &str,
    ) -> Reply<RecoveryCodes> {
        self.v1(Method::POST, "/auth/2fa/recovery-codes")
            .auth(auth)
            .json(&json!({ "password": password, "code": code }))
            .send()
            .await
    }

    pub async fn my_logins(&self, auth: &Auth) -> Reply<Vec<LoginAttempt>> {
        self.v1(Method::GET, "/auth/logins").auth(auth).send().await
    }

    pub async fn staff_logins(&self, auth: &Auth, id: &str) -> Reply<Vec<LoginAttempt>> {
        self.v1(Method::GET, &format!("/staff/{id}/logins"))
            .auth(auth)
            .send()
            .await
    }

    pub async fn set_security_settings(&self, auth: &Auth, owners_require_2fa: bool) -> Reply {
        self.v1(Method::PUT, "/security/settings")
            .auth(auth)
            .json(&json!({ "owners_require_2fa": owners_require_2fa }))
            .send()
            .await
    }

    /// `POST /ops/login` with a two-factor code.
    pub async fn operator_login_with(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
    ) -> Reply {
        self.v1(Method::POST, "/ops/login")
            .json(&json!({ "email": email, "password": password, "code": code }))
            .send()
            .await
    }

    pub async fn ops_enrol_two_factor(&self, auth: &Auth) -> Reply<TwoFactorEnrolment> {
        self.v1(Method::POST, "/ops/2fa/enrol")
            .auth(auth)
            .send()
            .await
    }

    pub async fn ops_confirm_two_factor(&self, auth: &Auth, code: &str) -> Reply<RecoveryCodes> {
        self.v1(Method::POST, "/ops/2fa/confirm")
            .auth(auth)
            .json(&json!({ "code": code }))
            .send()
            .await
    }

    pub async fn ops_renew_recovery_codes(
        &self,
        auth: &Auth,
        password: &str,
        code: &str,
    ) -> Reply<RecoveryCodes> {
        self.v1(Method::POST, "/ops/2fa/recovery-codes")
            .auth(auth)
            .json(&json!({ "password": password, "code": code }))
            .send()
            .await
    }
}
