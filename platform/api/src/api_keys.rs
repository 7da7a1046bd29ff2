//! Integration API keys: for a POS or a website. Each carries one role; the key itself is
//! shown once and stored only as a hash.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_api_keys;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_core::access::Permission;
use patron_core::auth::{issue_token, token_preview, TokenKind};
use patron_core::tenants::parse_display_name;
use patron_db::access::{self, key_subject};
use patron_db::api_keys::{self, ApiKey};
use patron_db::{audit, DbError};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// API keys for integrations.
    ApiKeys,
}

#[derive(Debug, Object)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub preview: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            preview: k.preview,
            role: k.role,
            created_at: k.created_at,
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key: `key` is shown this once.
#[derive(Debug, Object)]
pub struct CreatedApiKey {
    /// Send as `X-Api-Key: <key>`. Not retrievable later.
    pub key: String,
    #[oai(flatten)]
    pub info: ApiKeyView,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewApiKey {
    #[oai(validator(max_length = 200))]
    pub name: String,
    /// The role whose permissions the key carries.
    #[oai(validator(max_length = 100))]
    pub role: String,
    /// Optional expiry; must be in the future.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(ApiResponse)]
enum Created {
    /// Returned when the key was created; copy it now.
    #[oai(status = 201)]
    Created(Json<CreatedApiKey>),
}

pub struct ApiKeysApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::ApiKeys")]
impl ApiKeysApi {
    /// List API keys (never the keys themselves).
    #[oai(path = "/api-keys", method = "get", operation_id = "listApiKeys")]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::ApiKeysManage))
            .await?;
        let keys = api_keys::list(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(keys.into_iter().map(ApiKeyView::from).collect()))
    }

    /// Create an API key carrying a role. The key is in this response only. Needs the plan
    /// feature `api_keys` (listing and revoking keys do not, so a downgraded account can
    /// still clean up).
    #[oai(
        path = "/api-keys",
        method = "post",
        operation_id = "createApiKey",
        transform = "needs_api_keys"
    )]
    async fn create(&self, auth: TenantAuth, req: Json<NewApiKey>) -> Result<Created, ApiError> {
        let req = req.0;
        let name =
            parse_display_name(&req.name, 120).map_err(|p| ApiError::invalid_field("name", p))?;
        let now = self.state.now();
        if req.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiError::invalid_field(
                "expires_at",
                "must be in the future",
            ));
        }
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::ApiKeysManage))
            .await?;
        let role = access::find_role(&mut tx, &req.role)
            .await
            .map_err(|e| match e {
                DbError::NotFound => {
                    ApiError::invalid_field("role", format!("there is no role \"{}\"", req.role))
                }
                other => other.into(),
            })?;
        let grants: Vec<Permission> = role
            .permissions
            .iter()
            .filter_map(|p| Permission::parse(p).ok())
            .collect();
        self.state.require_all(&me, &grants, "role")?;
        let issued = issue_token(TokenKind::ApiKey, me.tenant.id);
        let created_by = me.staff().ok().map(|(id, _)| id);
        let key = api_keys::create(
            &mut tx,
            &name,
            &token_preview(&issued.text),
            &issued.hash,
            &role.name,
            created_by,
            now,
            req.expires_at,
        )
        .await?;
        access::set_roles(
            &mut tx,
            &key_subject(key.id),
            std::slice::from_ref(&role.name),
        )
        .await?;
        access::notify_changed(&mut tx).await?;
        audit::record(
            &mut tx,
            now,
            &me.subject(),
            "api_key.created",
            &key.id.to_string(),
            serde_json::json!({ "name": name, "role": role.name }),
        )
        .await?;
        tx.commit().await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Created::Created(Json(CreatedApiKey {
            key: issued.text,
            info: key.into(),
        })))
    }

    /// Revoke an API key: it stops working at once.
    #[oai(
        path = "/api-keys/:id",
        method = "delete",
        operation_id = "revokeApiKey"
    )]
    async fn revoke(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<ApiKeyView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::ApiKeysManage))
            .await?;
        let now = self.state.now();
        let key = api_keys::revoke(&mut tx, id.0, now)
            .await
            .map_err(|e| match e {
                DbError::NotFound => ApiError::not_found("API key"),
                other => other.into(),
            })?;
        access::set_roles(&mut tx, &key_subject(key.id), &[]).await?;
        access::notify_changed(&mut tx).await?;
        api_keys::notify_changed(&mut tx, me.tenant.id).await?;
        audit::record(
            &mut tx,
            now,
            &me.subject(),
            "api_key.revoked",
            &key.id.to_string(),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.state.access.invalidate(me.tenant.id).await;
        self.state.forget_api_keys();
        Ok(Json(key.into()))
    }
}
