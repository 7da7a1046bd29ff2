//! Staff sessions: log in, log out, change password, and `GET /me` (the rules are in
//! `patron_app::session`).

use crate::edge::account_views::{SessionView, TenantView};
use crate::edge::auth::{Actor, StaffToken, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::read_only_safe;
use crate::edge::security::client_ip;
use crate::edge::state::ApiState;
use patron_app::security::Origin;
use patron_app::session::{self, Login};
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Staff login sessions.
    Auth,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct LoginRequest {
    /// The business's slug.
    #[oai(validator(max_length = 100))]
    pub tenant: String,
    #[oai(validator(max_length = 300))]
    pub email: String,
    #[oai(validator(max_length = 1000))]
    pub password: String,
    /// The code from the authenticator app (or a recovery code), when the account has
    /// two-factor on; without it such a login answers 401 `two_factor_required`.
    #[oai(validator(max_length = 40))]
    pub code: Option<String>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordChange {
    #[oai(validator(max_length = 1000))]
    pub current_password: String,
    /// 10–128 characters.
    #[oai(validator(max_length = 1000))]
    pub new_password: String,
}

/// Asks for a password-reset e-mail.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The business's slug.
    #[oai(validator(max_length = 100))]
    pub tenant: String,
    #[oai(validator(max_length = 300))]
    pub email: String,
}

/// Sets a new password with the token of a reset link.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The `token` of the link in the e-mail.
    #[oai(validator(max_length = 200))]
    pub token: String,
    /// 10–128 characters.
    #[oai(validator(max_length = 1000))]
    pub new_password: String,
}

#[derive(ApiResponse)]
enum Accepted {
    /// Returned for every well-formed request, whether or not an account has that address.
    #[oai(status = 202)]
    Accepted,
}

/// Who the caller is and what it may do.
#[derive(Debug, Object)]
pub struct Me {
    pub tenant: TenantView,
    /// `staff` or `api_key`.
    pub kind: String,
    pub id: Uuid,
    pub name: String,
    /// The staff member's e-mail (absent for API keys).
    pub email: Option<String>,
    pub roles: Vec<String>,
    /// Every permission held, as `resource:action`.
    pub permissions: Vec<String>,
    /// The features of the business's plan (`campaigns`, `stored_value`, …): the console
    /// leaves out what the plan does not include instead of asking and being refused.
    pub features: Vec<String>,
}

#[derive(ApiResponse)]
enum LoginResponse {
    /// Returned when the credentials are right; the token is in the body.
    #[oai(status = 200)]
    Ok(Json<SessionView>),
}

#[derive(ApiResponse)]
enum NoContent {
    /// Returned when done.
    #[oai(status = 204)]
    Done,
}

pub struct SessionApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Auth")]
impl SessionApi {
    /// Log in as staff.
    ///
    /// After five wrong passwords (or two-factor codes) in a row the account is locked for
    /// 30 seconds, doubling with each further failure up to 15 minutes (429 with
    /// Retry-After). An account with two-factor on needs `code`: without it the answer is
    /// 401 `two_factor_required`, with a wrong or used one 401 `two_factor_code_wrong`.
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    #[tracing::instrument(skip_all, fields(tenant = %req.0.tenant))]
    async fn login(
        &self,
        req: Json<LoginRequest>,
        #[oai(name = "User-Agent")] user_agent: Header<Option<String>>,
        http: &poem::Request,
    ) -> Result<LoginResponse, ApiError> {
        let req = req.0;
        let login = Login {
            tenant: req.tenant,
            email: req.email,
            password: req.password,
            code: req.code,
        };
        let origin = Origin {
            ip: client_ip(http, self.state.config.trust_proxy),
            user_agent: user_agent.0,
        };
        let session = session::login(
            &self.state.db,
            login,
            self.state.now(),
            self.state.config.session_ttl,
            &origin,
            &self.state.config.pii,
        )
        .await?;
        Ok(LoginResponse::Ok(Json(session.into())))
    }

    /// Log out: the token stops working at once.
    #[oai(
        path = "/auth/logout",
        method = "post",
        operation_id = "logout",
        transform = "read_only_safe"
    )]
    async fn logout(&self, auth: StaffToken) -> Result<NoContent, ApiError> {
        let (tx, me) = self.state.authorize_enrolling(&auth.into()).await?;
        let (_, session_id) = me.staff()?;
        session::logout(tx, session_id, self.state.now()).await?;
        Ok(NoContent::Done)
    }

    /// Change my password. Every other session of mine is logged out.
    #[oai(
        path = "/auth/password",
        method = "post",
        operation_id = "changePassword",
        transform = "read_only_safe"
    )]
    async fn change_password(
        &self,
        auth: StaffToken,
        req: Json<PasswordChange>,
    ) -> Result<NoContent, ApiError> {
        let new = session::parse_new_password(&req.0.new_password)?;
        let (tx, me) = self.state.authorize(&auth.into(), None).await?;
        let (staff_id, session_id) = me.staff()?;
        session::change_password(
            tx,
            staff_id,
            session_id,
            &me.subject(),
            req.0.current_password,
            new,
            self.state.now(),
        )
        .await?;
        Ok(NoContent::Done)
    }

    /// Ask for a password-reset e-mail.
    ///
    /// Always 202 for a well-formed request: when the business has an active staff account
    /// with that address, an e-mail with a link (single use, 30 minutes) goes out through the
    /// outbox. Three requests per address per hour send; further ones send nothing.
    #[oai(
        path = "/auth/password-reset",
        method = "post",
        operation_id = "requestPasswordReset"
    )]
    async fn request_password_reset(
        &self,
        req: Json<PasswordResetRequest>,
    ) -> Result<Accepted, ApiError> {
        let outcome = session::request_password_reset(
            &self.state.db,
            &req.0.tenant,
            &req.0.email,
            &self.state.config.console_url,
            &self.state.config.pii,
            self.state.now(),
        )
        .await?;
        tracing::info!(?outcome, "password reset asked");
        Ok(Accepted::Accepted)
    }

    /// Set a new password with a reset link's token.
    ///
    /// The token works once, for 30 minutes; a wrong, used or expired one is a 422 on
    /// `token`. Every session of that staff member ends.
    #[oai(
        path = "/auth/password-reset/confirm",
        method = "post",
        operation_id = "confirmPasswordReset"
    )]
    async fn confirm_password_reset(
        &self,
        req: Json<PasswordResetConfirm>,
    ) -> Result<NoContent, ApiError> {
        let new = session::parse_new_password(&req.0.new_password)?;
        session::confirm_password_reset(&self.state.db, &req.0.token, new, self.state.now())
            .await?;
        Ok(NoContent::Done)
    }

    /// Who am I: tenant, account, roles and permissions.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: TenantAuth) -> Result<Json<Me>, ApiError> {
        let (mut tx, me) = self.state.authorize_enrolling(&auth).await?;
        let roles = patron_app::session::roles(&mut tx, &me.subject()).await?;
        tx.commit().await?;
        let permissions = self
            .state
            .permissions(&me)?
            .into_iter()
            .map(|p| p.as_str().to_owned())
            .collect();
        let features: Vec<String> = self
            .state
            .plan_of(&me.tenant)
            .await?
            .features
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect();
        let tenant = TenantView::from(&me.tenant);
        Ok(Json(match me.actor {
            Actor::Staff {
                id, email, name, ..
            } => Me {
                tenant,
                kind: "staff".into(),
                id,
                name,
                email: Some(email),
                roles,
                permissions,
                features,
            },
            Actor::Key { id, name, role } => Me {
                tenant,
                kind: "api_key".into(),
                id,
                name,
                email: None,
                roles: vec![role],
                permissions,
                features,
            },
            Actor::Support {
                session_id,
                operator_email,
                ..
            } => Me {
                tenant,
                kind: "support".into(),
                id: session_id,
                name: format!("Patron support ({operator_email})"),
                email: Some(operator_email),
                roles: Vec::new(),
                permissions,
                features,
            },
        }))
    }
}
