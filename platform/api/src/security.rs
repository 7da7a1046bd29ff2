//! Account defences for staff: two-factor codes (enrol, confirm, turn off), the login
//! history (one's own; the owner's view of anyone's), and the business's security settings
//! (the rules are in `patron_app::security`).

use crate::edge::auth::{Actor, StaffToken, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::read_only_safe;
use crate::edge::security::views::{
    RecoveryCodes, RecoveryCodesRenewal, TwoFactorCode, TwoFactorEnrolment, TwoFactorOff,
    TwoFactorStatus,
};
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::security::{self, Account};
use patron_core::access::Permission;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Two-factor codes, login history, security settings.
    Security,
}

/// One login attempt.
#[derive(Debug, Object)]
pub struct LoginAttemptView {
    pub at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub ip: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub user_agent: Option<String>,
    pub success: bool,
    /// `password`, `totp` or `recovery_code`.
    pub method: String,
    /// Why it failed: `wrong_password`, `code_required`, `wrong_code`, `locked`, `disabled`.
    #[oai(skip_serializing_if_is_none)]
    pub failure: Option<String>,
}

impl From<patron_db::security::LoginEntry> for LoginAttemptView {
    fn from(e: patron_db::security::LoginEntry) -> Self {
        Self {
            at: e.at,
            ip: e.ip,
            user_agent: e.user_agent,
            success: e.success,
            method: e.method,
            failure: e.failure,
        }
    }
}

/// The business's security settings.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Owners must use two-factor codes: an owner without them is sent to enrol at login.
    pub owners_require_2fa: bool,
}

pub struct SecurityApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Security")]
impl SecurityApi {
    /// My two-factor state.
    #[oai(path = "/auth/2fa", method = "get", operation_id = "twoFactorStatus")]
    async fn status(&self, auth: StaffToken) -> Result<Json<TwoFactorStatus>, ApiError> {
        let (mut tx, me) = self.state.authorize_enrolling(&auth.into()).await?;
        let (id, _) = me.staff()?;
        let s = Account::Staff(&mut tx, id, &self.state.config.pii)
            .status()
            .await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// Start two-factor enrolment: a new secret and its `otpauth://` URI (shown this once).
    /// Confirm with a code from the app to turn two-factor on.
    #[oai(
        path = "/auth/2fa/enrol",
        method = "post",
        operation_id = "enrolTwoFactor",
        transform = "read_only_safe"
    )]
    async fn enrol(&self, auth: StaffToken) -> Result<Json<TwoFactorEnrolment>, ApiError> {
        let (mut tx, me) = self.state.authorize_enrolling(&auth.into()).await?;
        let (id, _) = me.staff()?;
        let email = match &me.actor {
            Actor::Staff { email, .. } => email.clone(),
            _ => String::new(),
        };
        let issuer = format!("Patron {}", me.tenant.name);
        let e = Account::Staff(&mut tx, id, &self.state.config.pii)
            .enrol(&issuer, &email)
            .await?;
        tx.commit().await?;
        Ok(Json(e.into()))
    }

    /// Confirm the enrolment with a code from the app: two-factor is on, and the answer
    /// holds the ten recovery codes (shown this once).
    #[oai(
        path = "/auth/2fa/confirm",
        method = "post",
        operation_id = "confirmTwoFactor",
        transform = "read_only_safe"
    )]
    async fn confirm(
        &self,
        auth: StaffToken,
        req: Json<TwoFactorCode>,
    ) -> Result<Json<RecoveryCodes>, ApiError> {
        let (mut tx, me) = self.state.authorize_enrolling(&auth.into()).await?;
        let (id, _) = me.staff()?;
        let codes = Account::Staff(&mut tx, id, &self.state.config.pii)
            .confirm(&req.0.code, self.state.now())
            .await?;
        patron_db::audit::record(
            &mut tx,
            self.state.now(),
            &me.subject(),
            "staff.two_factor_on",
            &id.to_string(),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(RecoveryCodes {
            recovery_codes: codes,
        }))
    }

    /// New recovery codes: the password and a current code from the app replace every
    /// recovery code with ten new ones (shown this once); the old ones stop working.
    #[oai(
        path = "/auth/2fa/recovery-codes",
        method = "post",
        operation_id = "renewRecoveryCodes",
        transform = "read_only_safe"
    )]
    async fn renew_recovery_codes(
        &self,
        auth: StaffToken,
        req: Json<RecoveryCodesRenewal>,
    ) -> Result<Json<RecoveryCodes>, ApiError> {
        let (mut tx, me) = self.state.authorize(&auth.into(), None).await?;
        let (id, _) = me.staff()?;
        let hash = security::staff_password_hash(&mut tx, id).await?;
        let now = self.state.now();
        let codes = Account::Staff(&mut tx, id, &self.state.config.pii)
            .renew_recovery_codes(req.0.password, hash, &req.0.code, now)
            .await?;
        patron_db::audit::record(
            &mut tx,
            now,
            &me.subject(),
            "staff.recovery_codes_renewed",
            &id.to_string(),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(RecoveryCodes {
            recovery_codes: codes,
        }))
    }

    /// Turn two-factor off (the password and a code, or a recovery code).
    #[oai(
        path = "/auth/2fa/disable",
        method = "post",
        operation_id = "disableTwoFactor",
        transform = "read_only_safe"
    )]
    async fn disable(
        &self,
        auth: StaffToken,
        req: Json<TwoFactorOff>,
    ) -> Result<Json<TwoFactorStatus>, ApiError> {
        let (mut tx, me) = self.state.authorize(&auth.into(), None).await?;
        let (id, _) = me.staff()?;
        let hash = security::staff_password_hash(&mut tx, id).await?;
        let now = self.state.now();
        let mut account = Account::Staff(&mut tx, id, &self.state.config.pii);
        account
            .disable(req.0.password, hash, &req.0.code, now)
            .await?;
        let s = account.status().await?;
        patron_db::audit::record(
            &mut tx,
            now,
            &me.subject(),
            "staff.two_factor_off",
            &id.to_string(),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// My latest login attempts (100 at most), newest first.
    #[oai(path = "/auth/logins", method = "get", operation_id = "myLogins")]
    async fn my_logins(&self, auth: StaffToken) -> Result<Json<Vec<LoginAttemptView>>, ApiError> {
        let (mut tx, me) = self.state.authorize_enrolling(&auth.into()).await?;
        let (id, _) = me.staff()?;
        let rows = security::login_history(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// A staff member's latest login attempts (100 at most), newest first.
    #[oai(
        path = "/staff/:id/logins",
        method = "get",
        operation_id = "staffLogins"
    )]
    async fn staff_logins(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<LoginAttemptView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffManage))
            .await?;
        let rows = security::login_history_of(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// The business's security settings.
    #[oai(
        path = "/security/settings",
        method = "get",
        operation_id = "getSecuritySettings"
    )]
    async fn settings(&self, auth: TenantAuth) -> Result<Json<SecuritySettings>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        let on = security::owners_require_2fa(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(SecuritySettings {
            owners_require_2fa: on,
        }))
    }

    /// Change the business's security settings.
    #[oai(
        path = "/security/settings",
        method = "put",
        operation_id = "setSecuritySettings"
    )]
    async fn set_settings(
        &self,
        auth: TenantAuth,
        req: Json<SecuritySettings>,
    ) -> Result<Json<SecuritySettings>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        security::set_owners_require_2fa(
            &mut tx,
            req.0.owners_require_2fa,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(req.0))
    }
}
