//! Who is calling: the security schemes, and the one place where a request's credentials
//! become a tenant-scoped transaction plus a principal, and a permission is checked.

use crate::edge::error::ApiError;
use crate::edge::gate::CallContext;
use crate::edge::state::ApiState;
use patron_app::access::{check_grant, Escalation, GrantError};
use patron_core::access::Permission;
use patron_core::auth::{parse_token, TokenKind};
use patron_core::plans::{Access, Plan};
use patron_db::access::{key_subject, staff_subject};
use patron_db::operators;
use patron_db::{audit, sessions, Tenant, TenantTx};
use poem::Request;
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::SecurityScheme;
use std::sync::Arc;
use uuid::Uuid;

/// Presented credentials with what the route declared about itself (see [`crate::edge::gate`]).
#[derive(Debug, Clone)]
pub struct Presented {
    pub secret: String,
    pub call: CallContext,
}

/// A staff login token from `POST /auth/login` (or an operator's support-session token),
/// as `Authorization: Bearer pst_...`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque", checker = "bearer_checker")]
pub struct StaffToken(Presented);

/// An integration API key, as `X-Api-Key: pak_...`.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "X-Api-Key",
    key_in = "header",
    checker = "key_checker"
)]
pub struct IntegrationKey(Presented);

async fn bearer_checker(req: &Request, bearer: Bearer) -> Option<Presented> {
    Some(Presented {
        secret: bearer.token,
        call: CallContext::of(req),
    })
}

async fn key_checker(req: &Request, key: ApiKey) -> Option<Presented> {
    Some(Presented {
        secret: key.key,
        call: CallContext::of(req),
    })
}

/// Staff token or integration key: what tenant endpoints accept.
#[derive(SecurityScheme)]
pub enum TenantAuth {
    StaffToken(StaffToken),
    IntegrationKey(IntegrationKey),
}

impl From<StaffToken> for TenantAuth {
    fn from(t: StaffToken) -> Self {
        TenantAuth::StaffToken(t)
    }
}

/// The acting party inside a tenant.
#[derive(Debug, Clone)]
pub enum Actor {
    Staff {
        id: Uuid,
        session_id: Uuid,
        email: String,
        name: String,
    },
    Key {
        id: Uuid,
        name: String,
        role: String,
    },
    /// A platform operator inside a support session: reads only, audited.
    Support {
        session_id: Uuid,
        operator_id: Uuid,
        operator_email: String,
    },
}

/// An authenticated caller and the tenant it acts in (always from the credentials, never
/// from the request body), with the tenant's policy as it stood when the request began.
#[derive(Clone)]
pub struct Principal {
    pub tenant: Tenant,
    pub actor: Actor,
    /// The tenant's plan as it stood when the request began.
    pub plan: Arc<Plan>,
    enforcer: Arc<super::access::TenantAccess>,
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Principal")
            .field("tenant", &self.tenant.slug)
            .field("actor", &self.actor)
            .finish()
    }
}

impl Principal {
    /// Which channel the caller acts through: staff at the counter, an integration, or
    /// operator support.
    pub fn channel(&self) -> patron_core::members::Channel {
        use patron_core::members::Channel;
        match self.actor {
            Actor::Staff { .. } => Channel::Counter,
            Actor::Key { .. } => Channel::Api,
            Actor::Support { .. } => Channel::Support,
        }
    }

    /// The Casbin subject.
    pub fn subject(&self) -> String {
        match &self.actor {
            Actor::Staff { id, .. } => staff_subject(*id),
            Actor::Key { id, .. } => key_subject(*id),
            Actor::Support { session_id, .. } => format!("support:{session_id}"),
        }
    }

    /// The staff member acting, or 403 for an API key.
    pub fn staff(&self) -> Result<(Uuid, Uuid), ApiError> {
        match &self.actor {
            Actor::Staff { id, session_id, .. } => Ok((*id, *session_id)),
            _ => Err(ApiError::forbidden(
                "staff_only",
                "this operation needs a staff login",
            )),
        }
    }
}

/// What an operator in a support session may read: enough to answer a question, never
/// members' full personal data.
const SUPPORT_PERMISSIONS: &[Permission] = &[
    Permission::MembersRead,
    Permission::RulesRead,
    Permission::ReportsRead,
    Permission::StaffRead,
    Permission::SettingsRead,
];

fn bad_token() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "the credentials are missing, malformed, expired or revoked",
    )
}

impl ApiState {
    /// Resolves credentials to a principal inside a fresh tenant-scoped transaction, then
    /// checks `permission` (when given) with Casbin. Every tenant endpoint starts here.
    ///
    /// An owner who must enrol two-factor codes first (the business asks it and the owner
    /// has none) is refused with 403 `two_factor_setup_required`; only the operations that
    /// call [`ApiState::authorize_enrolling`] let such a session through.
    pub async fn authorize(
        &self,
        auth: &TenantAuth,
        permission: Option<Permission>,
    ) -> Result<(TenantTx, Principal), ApiError> {
        self.authorize_as(auth, permission, false).await
    }

    /// [`ApiState::authorize`] for what an owner who must enrol two-factor codes may still
    /// do: read himself, his two-factor state and login history; enrol, confirm, log out.
    pub async fn authorize_enrolling(
        &self,
        auth: &TenantAuth,
    ) -> Result<(TenantTx, Principal), ApiError> {
        self.authorize_as(auth, None, true).await
    }

    async fn authorize_as(
        &self,
        auth: &TenantAuth,
        permission: Option<Permission>,
        enrolling: bool,
    ) -> Result<(TenantTx, Principal), ApiError> {
        let (kind, call, text) = match auth {
            TenantAuth::StaffToken(t) => {
                let text = t.0.secret.as_str();
                let kind = if text.starts_with("pss_") {
                    TokenKind::SupportSession
                } else {
                    TokenKind::StaffSession
                };
                (kind, &t.0.call, text)
            }
            TenantAuth::IntegrationKey(k) => (TokenKind::ApiKey, &k.0.call, k.0.secret.as_str()),
        };
        let presented = parse_token(kind, text).ok_or_else(bad_token)?;
        let tenant = self
            .tenant(presented.tenant_id)
            .await?
            .ok_or_else(bad_token)?;
        let tenant_access = tenant.access();
        if tenant_access == Access::None {
            return Err(ApiError::unauthorized(
                "tenant_closed",
                "this account is closed and its data has been deleted",
            ));
        }
        tracing::Span::current().record("tenant", tenant.slug.as_str());
        let now = self.now();
        // A support session is checked against the platform before any tenant work.
        let support = if kind == TokenKind::SupportSession {
            let s = operators::authenticate_support(&self.db, tenant.id, &presented.hash, now)
                .await?
                .ok_or_else(bad_token)?;
            if !call.is_read {
                return Err(ApiError::forbidden(
                    "support_read_only",
                    "a support session can only read",
                ));
            }
            Some(s)
        } else {
            None
        };
        let plan = self.plan_of(&tenant).await?;
        // Before the transaction: building an enforcer needs a connection of its own, and a
        // request must never wait for a second connection while holding one.
        let enforcer = self
            .access
            .enforcer(&tenant)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        // The shared per-minute budget is counted in the database, also before the
        // transaction (one statement on a pooled connection).
        self.rate_limit(&tenant, &plan).await?;
        let mut tx = self.db.tenant_tx(&tenant).await?;
        let actor = match (kind, support) {
            (TokenKind::SupportSession, Some(s)) => {
                audit::record(
                    &mut tx,
                    now,
                    &format!("support:{}", s.id),
                    "support.read",
                    &call.path,
                    serde_json::json!({ "operator": s.operator_email, "reason": s.reason }),
                )
                .await?;
                Actor::Support {
                    session_id: s.id,
                    operator_id: s.operator_id,
                    operator_email: s.operator_email,
                }
            }
            (TokenKind::StaffSession, _) => {
                let s = sessions::authenticate(&mut tx, &presented.hash, now)
                    .await?
                    .ok_or_else(bad_token)?;
                if s.must_enrol_two_factor && !enrolling {
                    return Err(ApiError::forbidden(
                        "two_factor_setup_required",
                        "this business asks its owners to use two-factor codes: enrol first (POST /auth/2fa/enrol)",
                    ));
                }
                Actor::Staff {
                    id: s.staff_id,
                    session_id: s.session_id,
                    email: s.email,
                    name: s.name,
                }
            }
            (TokenKind::ApiKey, _) => {
                let k = self
                    .api_key(&mut tx, tenant.id, &presented.hash, now)
                    .await?
                    .ok_or_else(bad_token)?;
                Actor::Key {
                    id: k.id,
                    name: k.name.clone(),
                    role: k.role.clone(),
                }
            }
            _ => return Err(bad_token()),
        };
        let principal = Principal {
            tenant,
            actor,
            plan,
            enforcer,
        };
        // Order: the account's state and plan first (they apply whoever calls), then the
        // caller's own permission.
        let integration_key = matches!(principal.actor, Actor::Key { .. });
        patron_app::plans::admit(
            &self.plans,
            &principal.tenant,
            &principal.plan,
            call.call(integration_key),
        )
        .await?;
        if let Some(p) = permission {
            self.require(&principal, p)?;
        }
        Ok((tx, principal))
    }

    /// 403 unless the principal holds `permission`.
    pub fn require(&self, principal: &Principal, permission: Permission) -> Result<(), ApiError> {
        if let Actor::Support { .. } = principal.actor {
            return if SUPPORT_PERMISSIONS.contains(&permission) {
                Ok(())
            } else {
                Err(ApiError::forbidden(
                    "forbidden",
                    format!("a support session does not carry {permission}"),
                ))
            };
        }
        let allowed = principal
            .enforcer
            .allows(&principal.subject(), permission)
            .map_err(|e| ApiError::internal(&e))?;
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "forbidden",
                format!("this needs the permission {permission}"),
            ))
        }
    }

    /// The principal's permissions.
    pub fn permissions(&self, principal: &Principal) -> Result<Vec<Permission>, ApiError> {
        if let Actor::Support { .. } = principal.actor {
            return Ok(SUPPORT_PERMISSIONS.to_vec());
        }
        principal
            .enforcer
            .permissions_of(&principal.subject())
            .map_err(|e| ApiError::internal(&e))
    }

    /// Refuses to hand out a role holding a permission the granter lacks, so nobody can
    /// raise their own rights by assigning roles or minting keys.
    pub fn require_all(
        &self,
        principal: &Principal,
        wanted: &[Permission],
        field: &str,
    ) -> Result<(), ApiError> {
        let held = self.permissions(principal)?;
        check_grant(&held, wanted, field).map_err(escalation)
    }
}

/// 403 `escalation`, naming the field that asked for too much.
fn escalation(e: Escalation) -> ApiError {
    ApiError::Forbidden(poem_openapi::payload::Json(crate::edge::error::Problem {
        code: Escalation::CODE.into(),
        message: e.message(),
        fields: vec![crate::edge::error::FieldProblem::blamed(
            &e.field,
            Escalation::CODE,
            Escalation::PROBLEM.into(),
        )],
        params: None,
    }))
}

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        match e {
            GrantError::App(e) => e.into(),
            GrantError::Escalation(e) => escalation(e),
        }
    }
}

/// Runs argon2 off the async threads.
pub async fn hash_password(password: patron_core::auth::Password) -> Result<String, ApiError> {
    Ok(patron_app::session::hash_password(password).await?)
}

/// Verifies a password off the async threads.
pub async fn verify_password(attempt: String, phc: String) -> Result<bool, ApiError> {
    Ok(patron_app::session::verify_password(attempt, phc).await?)
}
