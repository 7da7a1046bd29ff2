//! The business's settings (name, time zone, currency, locale, phone region) and its
//! audit log.

use crate::edge::account_views::TenantView;
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::settings;
use patron_core::access::Permission;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The business's own settings and audit log.
    Settings,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SettingsChange {
    #[oai(validator(max_length = 200))]
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub currency: Option<String>,
    pub locale: Option<String>,
    pub phone_region: Option<String>,
}

#[derive(Debug, Object)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `staff:<id>` or `key:<id>`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    /// The member the entry concerns, if any, and their name as it is now (empty once
    /// erased).
    pub member_id: Option<Uuid>,
    pub member_name: Option<String>,
}

pub struct SettingsApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Settings")]
impl SettingsApi {
    /// The business's settings.
    #[oai(path = "/settings", method = "get", operation_id = "getSettings")]
    async fn get(&self, auth: TenantAuth) -> Result<Json<TenantView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        tx.commit().await?;
        Ok(Json(TenantView::from(&me.tenant)))
    }

    /// Change the business's settings; fields left out keep their value.
    #[oai(path = "/settings", method = "patch", operation_id = "updateSettings")]
    async fn update(
        &self,
        auth: TenantAuth,
        req: Json<SettingsChange>,
    ) -> Result<Json<TenantView>, ApiError> {
        let req = req.0;
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let change = settings::SettingsChange {
            name: req.name,
            time_zone: req.time_zone,
            currency: req.currency,
            locale: req.locale,
            phone_region: req.phone_region,
        };
        let updated =
            settings::update(tx, &me.tenant, &change, &me.subject(), self.state.now()).await?;
        self.state.forget_tenant(updated.id).await;
        Ok(Json(TenantView::from(&updated)))
    }

    /// The audit log, newest first: logins that failed, staff, role, key and settings
    /// changes.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/audit-log", method = "get", operation_id = "listAuditLog")]
    async fn audit_log(
        &self,
        auth: TenantAuth,
        /// Only entries older than this id (for the next page).
        before: Query<Option<i64>>,
        /// Page size, 1–200 (default 50).
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "200"))
        )]
        limit: Query<i64>,
        /// Only what this actor did (`staff:<id>`, `key:<id>`, `system:<job>`).
        actor: Query<Option<String>>,
        /// Only this action (`tiers.publish`, `api_key.created` ...).
        action: Query<Option<String>>,
        /// Only entries at or after this time.
        from: Query<Option<DateTime<Utc>>>,
        /// Only entries before this time.
        to: Query<Option<DateTime<Utc>>>,
        /// Only entries about this member (by id).
        member: Query<Option<Uuid>>,
    ) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffManage))
            .await?;
        let filter = patron_db::audit::AuditFilter {
            actor: actor.0.filter(|s| !s.is_empty()),
            action: action.0.filter(|s| !s.is_empty()),
            from: from.0,
            to: to.0,
            member: member.0.map(|m| m.to_string()),
        };
        let rows = patron_app::settings::audit_log(&mut tx, &filter, before.0, limit.0).await?;
        tx.commit().await?;
        Ok(Json(
            rows.into_iter()
                .map(|r| AuditEntryView {
                    id: r.id,
                    at: r.at,
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    detail: r.detail,
                    member_id: r.member_id,
                    member_name: r.member_name,
                })
                .collect(),
        ))
    }
}

fn default_limit() -> i64 {
    50
}
