//! Who is calling: the security schemes, and the one place where a request's credentials
//! become a tenant-scoped transaction plus a principal, and a permission is checked.

use crate::access;
use crate::error::ApiError;
use crate::state::AppState;
use casbin::Enforcer;
use patron_core::access::Permission;
use patron_core::auth::{parse_token, TokenKind};
use patron_core::tenants::TenantStatus;
use patron_db::access::{key_subject, staff_subject};
use patron_db::{api_keys, sessions, Tenant, TenantTx};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::SecurityScheme;
use std::sync::Arc;
use uuid::Uuid;

/// A staff login token from `POST /auth/login`, as `Authorization: Bearer pst_...`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque")]
pub struct StaffToken(Bearer);

/// An integration API key, as `X-Api-Key: pak_...`.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Api-Key", key_in = "header")]
pub struct IntegrationKey(ApiKey);

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
}

/// An authenticated caller and the tenant it acts in (always from the credentials, never
/// from the request body), with the tenant's policy as it stood when the request began.
#[derive(Clone)]
pub struct Principal {
    pub tenant: Tenant,
    pub actor: Actor,
    enforcer: Arc<Enforcer>,
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
    /// The Casbin subject.
    pub fn subject(&self) -> String {
        match &self.actor {
            Actor::Staff { id, .. } => staff_subject(*id),
            Actor::Key { id, .. } => key_subject(*id),
        }
    }

    /// The staff member acting, or 403 for an API key.
    pub fn staff(&self) -> Result<(Uuid, Uuid), ApiError> {
        match &self.actor {
            Actor::Staff { id, session_id, .. } => Ok((*id, *session_id)),
            Actor::Key { .. } => Err(ApiError::forbidden(
                "staff_only",
                "this operation needs a staff login, not an API key",
            )),
        }
    }
}

fn bad_token() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "the credentials are missing, malformed, expired or revoked",
    )
}

impl AppState {
    /// Resolves credentials to a principal inside a fresh tenant-scoped transaction, then
    /// checks `permission` (when given) with Casbin. Every tenant endpoint starts here.
    pub async fn authorize(
        &self,
        auth: &TenantAuth,
        permission: Option<Permission>,
    ) -> Result<(TenantTx, Principal), ApiError> {
        let (kind, text) = match auth {
            TenantAuth::StaffToken(t) => (TokenKind::StaffSession, t.0.token.as_str()),
            TenantAuth::IntegrationKey(k) => (TokenKind::ApiKey, k.0.key.as_str()),
        };
        let presented = parse_token(kind, text).ok_or_else(bad_token)?;
        let tenant = self
            .tenant(presented.tenant_id)
            .await?
            .ok_or_else(bad_token)?;
        if tenant.status == TenantStatus::Closed {
            return Err(ApiError::unauthorized(
                "tenant_closed",
                "this account is closed",
            ));
        }
        tracing::Span::current().record("tenant", tenant.slug.as_str());
        // Before the transaction: building an enforcer needs a connection of its own, and a
        // request must never wait for a second connection while holding one.
        let enforcer = self
            .access
            .enforcer(&tenant)
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let now = self.now();
        let mut tx = self.db.tenant_tx(&tenant).await?;
        let actor = match kind {
            TokenKind::StaffSession => {
                let s = sessions::authenticate(&mut tx, &presented.hash, now)
                    .await?
                    .ok_or_else(bad_token)?;
                Actor::Staff {
                    id: s.staff_id,
                    session_id: s.session_id,
                    email: s.email,
                    name: s.name,
                }
            }
            TokenKind::ApiKey => {
                let k = api_keys::authenticate(&mut tx, &presented.hash, now)
                    .await?
                    .ok_or_else(bad_token)?;
                Actor::Key {
                    id: k.id,
                    name: k.name,
                    role: k.role,
                }
            }
            // Member tokens are never accepted here (the schemes above cannot yield one).
            TokenKind::MemberSession => return Err(bad_token()),
        };
        let principal = Principal {
            tenant,
            actor,
            enforcer,
        };
        if let Some(p) = permission {
            self.require(&principal, p)?;
        }
        Ok((tx, principal))
    }

    /// 403 unless the principal holds `permission`.
    pub fn require(&self, principal: &Principal, permission: Permission) -> Result<(), ApiError> {
        let allowed = access::allows(
            &principal.enforcer,
            principal.tenant.schema(),
            &principal.subject(),
            permission,
        )
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
        access::permissions_of(
            &principal.enforcer,
            principal.tenant.schema(),
            &principal.subject(),
        )
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
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|p| !held.contains(p))
            .map(|p| p.as_str())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(poem_openapi::payload::Json(
                crate::error::Problem {
                    code: "escalation".into(),
                    message: format!(
                        "you cannot grant permissions you do not hold: {}",
                        missing.join(", ")
                    ),
                    fields: vec![crate::error::FieldProblem {
                        field: field.into(),
                        problem: "grants more than you hold".into(),
                    }],
                },
            )))
        }
    }
}

/// Runs argon2 off the async threads.
pub async fn hash_password(password: patron_core::auth::Password) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || password.hash())
        .await
        .map_err(|e| ApiError::internal(&e))
}

/// Verifies a password off the async threads.
pub async fn verify_password(attempt: String, phc: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || patron_core::auth::verify_password(&attempt, &phc))
        .await
        .map_err(|e| ApiError::internal(&e))
}
