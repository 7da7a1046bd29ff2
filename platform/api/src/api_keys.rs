//! Integration API keys: for a POS or a website. Each carries one role; the key itself is
//! shown once and stored only as a hash.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_api_keys;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::api_keys as app_keys;
use patron_core::access::Permission;
use patron_db::api_keys::ApiKey;
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
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::ApiKeysManage))
            .await?;
        let keys = app_keys::list(tx).await?;
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
        let new = app_keys::NewKey {
            name: req.name,
            role: req.role,
            expires_at: req.expires_at,
        };
        let now = self.state.now();
        let name = app_keys::validate(&new, now)?;
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::ApiKeysManage))
            .await?;
        let held = self.state.permissions(&me)?;
        let created_by = me.staff().ok().map(|(id, _)| id);
        let (text, key) = app_keys::create(
            tx,
            me.tenant.id,
            &me.subject(),
            &held,
            created_by,
            name,
            new,
            now,
        )
        .await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Created::Created(Json(CreatedApiKey {
            key: text,
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
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::ApiKeysManage))
            .await?;
        let key = app_keys::revoke(tx, me.tenant.id, &me.subject(), id.0, self.state.now()).await?;
        self.state.access.invalidate(me.tenant.id).await;
        self.state.forget_api_keys();
        Ok(Json(key.into()))
    }
}
