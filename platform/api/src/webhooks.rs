//! Outgoing webhooks: the business's endpoints, the event types each hears, their signing
//! secrets (Standard Webhooks), the delivery log, replay and a test call.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_webhooks;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::messages as app;
use patron_core::access::Permission;
use patron_db::messages::{AttemptRow, Delivery, Endpoint};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Webhooks to the business's own systems.
    Webhooks,
}

/// An endpoint. Calls are POSTs of JSON signed per Standard Webhooks: headers
/// `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">`, with two signatures while a rotated secret is still honoured).
#[derive(Debug, Object)]
pub struct EndpointView {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// The event types it hears.
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why it is off: `failing` (no success for days), `gone` (it answered 410) or
    /// `by_staff`.
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Endpoint> for EndpointView {
    fn from(e: Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            failing_since: e.failing_since,
            previous_secret_until: e.previous_until,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with its signing secret (`whsec_...`), to verify calls with.
#[derive(Debug, Object)]
pub struct EndpointWithSecret {
    #[oai(flatten)]
    pub endpoint: EndpointView,
    pub secret: String,
}

fn with_secret(e: Endpoint) -> EndpointWithSecret {
    let secret = e.secret.clone();
    EndpointWithSecret {
        endpoint: e.into(),
        secret,
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct EndpointInput {
    /// `https://...` (or `http://`); private addresses are refused.
    #[oai(validator(max_length = 2000))]
    pub url: String,
    #[oai(default, validator(max_length = 500))]
    pub description: String,
    /// Any of `member.created`, `member.updated`, `points.earned`, `points.redeemed`,
    /// `tier.changed`, `activity.cancelled`, `activity.offered`, `activity.approved`,
    /// `activity.rejected`, `conversation.answered`.
    #[oai(validator(max_items = 20))]
    pub events: Vec<String>,
    #[oai(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl From<EndpointInput> for app::EndpointInput {
    fn from(e: EndpointInput) -> Self {
        Self {
            url: e.url,
            description: e.description,
            events: e.events,
            enabled: e.enabled,
        }
    }
}

/// One attempt at a call.
#[derive(Debug, Object)]
pub struct AttemptView {
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// The HTTP status the endpoint answered, if it answered.
    pub status_code: Option<i32>,
    pub answer: String,
}

/// One event sent (or to be sent) to the endpoint.
#[derive(Debug, Object)]
pub struct DeliveryView {
    pub id: i64,
    /// The `webhook-id` header: the same on every attempt.
    pub message_id: String,
    pub event: String,
    /// `pending`, `sending`, `sent`, `failed` or `stopped`.
    pub status: String,
    pub attempts: i32,
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The exact body sent.
    pub body: String,
    pub tries: Vec<AttemptView>,
}

fn delivery_view(d: Delivery, attempts: &[AttemptRow]) -> DeliveryView {
    let s = |k: &str| {
        d.content
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    DeliveryView {
        id: d.id,
        message_id: s("id"),
        event: s("event"),
        body: s("body"),
        status: d.status,
        attempts: d.attempts,
        next_at: d.next_at,
        last_error: d.last_error,
        created_at: d.created_at,
        sent_at: d.sent_at,
        tries: attempts
            .iter()
            .filter(|a| a.delivery_id == d.id)
            .map(|a| AttemptView {
                at: a.at,
                ok: a.ok,
                status_code: a.status_code,
                answer: a.answer.clone(),
            })
            .collect(),
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ReplayInput {
    /// Re-send every event of the endpoint's types since this time that did not reach it.
    pub since: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct ReplayView {
    /// How many events were queued again.
    pub queued: i64,
}

#[derive(Debug, Object)]
pub struct TestView {
    pub ok: bool,
    pub status_code: Option<u16>,
    /// Why it could not be reached, when it could not.
    pub error: String,
}

#[derive(ApiResponse)]
enum Created {
    /// Returned when the endpoint was created; its secret is in the body.
    #[oai(status = 201)]
    Created(Json<EndpointWithSecret>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// Returned when the endpoint was deleted.
    #[oai(status = 204)]
    Done,
}

fn default_limit() -> i64 {
    50
}

pub struct WebhooksApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Webhooks")]
impl WebhooksApi {
    /// The business's webhook endpoints.
    #[oai(
        path = "/webhooks/endpoints",
        method = "get",
        operation_id = "listWebhookEndpoints"
    )]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<EndpointView>>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let rows = app::endpoints(tx).await?;
        Ok(Json(rows.into_iter().map(EndpointView::from).collect()))
    }

    /// Add an endpoint. Needs the plan feature `webhooks`.
    #[oai(
        path = "/webhooks/endpoints",
        method = "post",
        operation_id = "createWebhookEndpoint",
        transform = "needs_webhooks"
    )]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<EndpointInput>,
    ) -> Result<Created, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let ep = app::create_endpoint(
            tx,
            body.0.into(),
            self.state.messages.allow_private,
            self.state.now(),
        )
        .await?;
        Ok(Created::Created(Json(with_secret(ep))))
    }

    /// One endpoint, with its signing secret.
    #[oai(
        path = "/webhooks/endpoints/:id",
        method = "get",
        operation_id = "getWebhookEndpoint"
    )]
    async fn get(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<EndpointWithSecret>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        Ok(Json(with_secret(app::endpoint(tx, id.0).await?)))
    }

    /// Change an endpoint (its address, event types, on or off). Switching it on again
    /// clears its failure record.
    #[oai(
        path = "/webhooks/endpoints/:id",
        method = "put",
        operation_id = "updateWebhookEndpoint",
        transform = "needs_webhooks"
    )]
    async fn update(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<EndpointInput>,
    ) -> Result<Json<EndpointView>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let ep = app::update_endpoint(
            tx,
            id.0,
            body.0.into(),
            self.state.messages.allow_private,
            self.state.now(),
        )
        .await?;
        Ok(Json(ep.into()))
    }

    /// Delete an endpoint and its delivery log.
    #[oai(
        path = "/webhooks/endpoints/:id",
        method = "delete",
        operation_id = "deleteWebhookEndpoint"
    )]
    async fn delete(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Deleted, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        app::delete_endpoint(tx, id.0).await?;
        Ok(Deleted::Done)
    }

    /// Replace the signing secret. Calls carry signatures with both the new and the old
    /// secret for 24 hours, so the receiver can switch without losing any.
    #[oai(
        path = "/webhooks/endpoints/:id/rotate-secret",
        method = "post",
        operation_id = "rotateWebhookSecret",
        transform = "needs_webhooks"
    )]
    async fn rotate(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<EndpointWithSecret>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let ep = app::rotate_secret(tx, id.0, self.state.now()).await?;
        Ok(Json(with_secret(ep)))
    }

    /// The endpoint's deliveries, newest first, each with its attempts.
    #[oai(
        path = "/webhooks/endpoints/:id/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn deliveries(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        /// Page size, 1–500 (default 50).
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "500"))
        )]
        limit: Query<i64>,
    ) -> Result<Json<Vec<DeliveryView>>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let (ds, attempts) = app::endpoint_deliveries(tx, id.0, limit.0).await?;
        Ok(Json(
            ds.into_iter()
                .map(|d| delivery_view(d, &attempts))
                .collect(),
        ))
    }

    /// Send again every event since a time that did not reach the endpoint (never sent,
    /// failed, or stopped while it was off). Events it received are not sent twice.
    #[oai(
        path = "/webhooks/endpoints/:id/replay",
        method = "post",
        operation_id = "replayWebhooks",
        transform = "needs_webhooks"
    )]
    async fn replay(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<ReplayInput>,
    ) -> Result<Json<ReplayView>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let queued = app::replay(tx, id.0, body.0.since, self.state.now()).await?;
        Ok(Json(ReplayView { queued }))
    }

    /// Send a signed `webhook.test` call now and say how the endpoint answered.
    #[oai(
        path = "/webhooks/endpoints/:id/test",
        method = "post",
        operation_id = "testWebhookEndpoint",
        transform = "needs_webhooks"
    )]
    async fn test(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<TestView>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let (ok, status_code, error) =
            app::send_test(tx, &self.state.messages, id.0, self.state.now()).await?;
        Ok(Json(TestView {
            ok,
            status_code,
            error,
        }))
    }
}
