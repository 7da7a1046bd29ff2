//! Staff sessions: log in, log out, change password, and `GET /me`.

use crate::edge::auth::{hash_password, verify_password, Actor, StaffToken, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::read_only_safe;
use crate::edge::state::ApiState;
use chrono::{DateTime, Duration, Utc};
use patron_core::auth::{
    dummy_password_hash, issue_token, Email, LoginThrottle, Password, TokenKind,
};
use patron_db::access::staff_subject;
use patron_db::staff::Staff;
use patron_db::{audit, sessions, staff, tenants, DbError, Tenant, TenantTx};
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Staff login sessions.
    Auth,
}

/// A tenant as its staff see it.
#[derive(Debug, Clone, Object)]
pub struct TenantView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// trial, active, past_due, suspended or closed.
    pub status: String,
    pub plan: String,
    /// When the trial ends, for accounts on trial.
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub time_zone: String,
    pub currency: String,
    pub locale: String,
    pub phone_region: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id,
            slug: t.slug.clone(),
            name: t.name.clone(),
            status: t.status.as_str().into(),
            plan: t.plan_code.clone(),
            trial_ends_at: t.trial_ends_at,
            time_zone: t.settings.time_zone.clone(),
            currency: t.settings.currency.clone(),
            locale: t.settings.locale.clone(),
            phone_region: t.settings.phone_region.clone(),
            created_at: t.created_at,
        }
    }
}

/// A staff account.
#[derive(Debug, Clone, Object)]
pub struct StaffView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// active or disabled.
    pub status: String,
    pub roles: Vec<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl StaffView {
    pub fn new(s: Staff, roles: Vec<String>) -> Self {
        Self {
            id: s.id,
            email: s.email,
            name: s.name,
            status: s.status,
            roles,
            last_login_at: s.last_login_at,
            created_at: s.created_at,
        }
    }
}

/// A new login: the token is shown only here.
#[derive(Debug, Object)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub staff: StaffView,
}

/// Issues a session token for `who` inside `tx`.
pub async fn start_session(
    tx: &mut TenantTx,
    who: &Staff,
    now: DateTime<Utc>,
    ttl: Duration,
    user_agent: Option<&str>,
) -> Result<SessionView, DbError> {
    let issued = issue_token(TokenKind::StaffSession, tx.tenant_id());
    let expires_at = now + ttl;
    sessions::create(tx, who.id, &issued.hash, now, expires_at, user_agent).await?;
    let roles = patron_db::access::roles_of(tx, &staff_subject(who.id)).await?;
    Ok(SessionView {
        token: issued.text,
        expires_at,
        staff: StaffView::new(who.clone(), roles),
    })
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

fn wrong_credentials() -> ApiError {
    ApiError::unauthorized(
        "invalid_credentials",
        "the business, e-mail or password is wrong",
    )
}

#[OpenApi(tag = "Tag::Auth")]
impl SessionApi {
    /// Log in as staff.
    ///
    /// After five wrong passwords in a row the account is locked for 30 seconds, doubling
    /// with each further failure up to 15 minutes (429 with Retry-After).
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    #[tracing::instrument(skip_all, fields(tenant = %req.0.tenant))]
    async fn login(
        &self,
        req: Json<LoginRequest>,
        #[oai(name = "User-Agent")] user_agent: Header<Option<String>>,
    ) -> Result<LoginResponse, ApiError> {
        let req = req.0;
        let Ok(email) = Email::parse(&req.email) else {
            return Err(ApiError::invalid_field(
                "email",
                "is not a valid e-mail address",
            ));
        };
        let Some(tenant) = tenants::find_by_slug(&self.state.db, req.tenant.trim()).await? else {
            verify_password(req.password, dummy_password_hash().to_owned()).await?;
            return Err(wrong_credentials());
        };
        if tenant.access() == patron_core::plans::Access::None {
            return Err(ApiError::unauthorized(
                "tenant_closed",
                "this account is closed",
            ));
        }
        let now = self.state.now();
        let mut tx = self.state.db.tenant_tx(&tenant).await?;
        let Some(record) = staff::login_record(&mut tx, email.as_str()).await? else {
            verify_password(req.password, dummy_password_hash().to_owned()).await?;
            return Err(wrong_credentials());
        };
        if let Some(until) = record.locked_until.filter(|u| *u > now) {
            let wait = (until - now).num_seconds().max(1) as u64;
            return Err(ApiError::too_many(
                "login_locked",
                format!("too many failed logins; try again in {wait} seconds"),
                wait,
            ));
        }
        if !verify_password(req.password, record.password_hash.clone()).await? {
            let failures = record.failed_logins + 1;
            let locked_until = LoginThrottle::lock_for(failures).map(|d| now + d);
            staff::record_login_failure(&mut tx, record.id, failures, locked_until).await?;
            audit::record(
                &mut tx,
                now,
                &staff_subject(record.id),
                "login.failed",
                "",
                serde_json::json!({ "failures": failures }),
            )
            .await?;
            tx.commit().await?;
            return Err(wrong_credentials());
        }
        if record.status != "active" {
            return Err(ApiError::forbidden(
                "account_disabled",
                "this staff account is disabled",
            ));
        }
        staff::record_login_success(&mut tx, record.id, now).await?;
        let who = staff::find(&mut tx, record.id).await?;
        let session = start_session(
            &mut tx,
            &who,
            now,
            self.state.config.session_ttl,
            user_agent.0.as_deref(),
        )
        .await?;
        tx.commit().await?;
        Ok(LoginResponse::Ok(Json(session)))
    }

    /// Log out: the token stops working at once.
    #[oai(
        path = "/auth/logout",
        method = "post",
        operation_id = "logout",
        transform = "read_only_safe"
    )]
    async fn logout(&self, auth: StaffToken) -> Result<NoContent, ApiError> {
        let (mut tx, me) = self.state.authorize(&auth.into(), None).await?;
        let (_, session_id) = me.staff()?;
        sessions::revoke(&mut tx, session_id, self.state.now()).await?;
        tx.commit().await?;
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
        let new = Password::parse(&req.0.new_password)
            .map_err(|p| ApiError::invalid_field("new_password", p))?;
        let (mut tx, me) = self.state.authorize(&auth.into(), None).await?;
        let (staff_id, session_id) = me.staff()?;
        let current = staff::password_hash(&mut tx, staff_id).await?;
        if !verify_password(req.0.current_password, current).await? {
            return Err(ApiError::invalid_field("current_password", "is wrong"));
        }
        let now = self.state.now();
        staff::set_password(&mut tx, staff_id, &hash_password(new).await?, now).await?;
        sessions::revoke_all_for_staff(&mut tx, staff_id, Some(session_id), now).await?;
        audit::record(
            &mut tx,
            now,
            &me.subject(),
            "staff.password_changed",
            &staff_id.to_string(),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(NoContent::Done)
    }

    /// Who am I: tenant, account, roles and permissions.
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: TenantAuth) -> Result<Json<Me>, ApiError> {
        let (mut tx, me) = self.state.authorize(&auth, None).await?;
        let roles = patron_db::access::roles_of(&mut tx, &me.subject()).await?;
        tx.commit().await?;
        let permissions = self
            .state
            .permissions(&me)?
            .into_iter()
            .map(|p| p.as_str().to_owned())
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
            },
            Actor::Key { id, name, role } => Me {
                tenant,
                kind: "api_key".into(),
                id,
                name,
                email: None,
                roles: vec![role],
                permissions,
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
            },
        }))
    }
}
