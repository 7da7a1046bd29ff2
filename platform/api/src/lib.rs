//! Patron's HTTP API: poem-openapi endpoints, one module per capability, with
//! authentication, Casbin authorisation and JSON errors in one place each.

pub mod activities;
pub mod actors;
pub mod api_keys;
pub mod billing;
pub mod campaigns;
pub mod conversations;
pub mod coupons;
pub mod dashboard;
pub mod desk;
pub mod edge;
pub mod fields;
pub mod mall;
pub mod member_files;
pub mod members;
pub mod messages;
pub mod notices;
pub mod ops;
pub mod plans;
pub mod points;
pub mod portal;
pub mod prepaid;
pub mod promotions;
pub mod purchases;
pub mod roles;
pub mod rules;
pub mod security;
pub mod segments;
pub mod session;
pub mod settings;
pub mod signup;
pub mod sms;
pub mod staff;
pub mod tiers;
pub mod uploads;
pub mod webhooks;

pub use edge::state::{ApiConfig, ApiState};

use poem::http::{HeaderValue, StatusCode};
use poem::{get, handler, Endpoint, EndpointExt, IntoResponse, Request, Response, Route};
use poem_openapi::{OpenApiService, OperationId};
use std::path::PathBuf;
use std::time::Instant;
use tracing::Instrument;

/// The member capability: field schemas, the register, the portal.
pub type MemberApis = (
    fields::FieldsApi,
    members::MembersApi,
    members::cards::CardsApi,
    member_files::MemberFilesApi,
    portal::PortalApi,
    portal::mall::PortalMallApi,
    desk::DeskApi,
);

/// The points capability: purchases, the ledger, rules, tiers.
pub type PointApis = (
    purchases::PurchasesApi,
    points::PointsApi,
    rules::RulesApi,
    tiers::TiersApi,
    mall::MallApi,
);

/// The prepaid capability: stored value, visit passes, memberships.
pub type PrepaidApis = (
    prepaid::stored_value::StoredValueApi,
    prepaid::passes::PassesApi,
    prepaid::memberships::MembershipsApi,
);

/// The rewards capability: coupons (staff and portal).
pub type RewardApis = (coupons::CouponsApi, portal::coupons::PortalCouponsApi);

/// The promotions capability: staff's side and the portal's.
pub type PromotionApis = (
    promotions::PromotionsApi,
    portal::promotions::PortalPromotionsApi,
);

/// Every API module, in the order the docs list them.
pub type Apis = (
    signup::SignupApi,
    (session::SessionApi, security::SecurityApi),
    staff::StaffApi,
    roles::RolesApi,
    api_keys::ApiKeysApi,
    settings::SettingsApi,
    actors::ActorsApi,
    MemberApis,
    PointApis,
    PrepaidApis,
    (RewardApis, ActivityApis, uploads::UploadsApi, PromotionApis),
    dashboard::DashboardApi,
    plans::PlansApi,
    ops::OpsApi,
    billing::BillingApi,
    (
        (messages::MessagesApi, sms::SmsApi),
        webhooks::WebhooksApi,
        NoticeApis,
        ConversationApis,
        CampaignApis,
    ),
);

/// Campaigns and the saved segments they are sent to.
pub type CampaignApis = (campaigns::CampaignsApi, segments::SegmentsApi);

/// The notices capability: staff's side and the portal's (notices, inbox, preferences).
pub type NoticeApis = (notices::NoticesApi, portal::notices::PortalNoticesApi);

/// The conversations capability: staff's side and the member's.
pub type ConversationApis = (
    conversations::ConversationsApi,
    portal::conversations::PortalConversationsApi,
);

/// The activities capability: staff's side and the portal's.
pub type ActivityApis = (
    activities::ActivitiesApi,
    portal::activities::PortalActivitiesApi,
);

/// The OpenAPI document: every operation, each listing the responses it can give
/// (`edge::responses`).
pub fn openapi(state: &ApiState) -> String {
    edge::responses::narrow(&service(state).spec())
}

/// Every API, as one OpenAPI service.
fn service(state: &ApiState) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            signup::SignupApi { state: state.clone() },
            (
                session::SessionApi { state: state.clone() },
                security::SecurityApi { state: state.clone() },
            ),
            staff::StaffApi { state: state.clone() },
            roles::RolesApi { state: state.clone() },
            api_keys::ApiKeysApi { state: state.clone() },
            settings::SettingsApi { state: state.clone() },
            actors::ActorsApi { state: state.clone() },
            (
                fields::FieldsApi { state: state.clone() },
                members::MembersApi { state: state.clone() },
                members::cards::CardsApi { state: state.clone() },
                member_files::MemberFilesApi { state: state.clone() },
                portal::PortalApi { state: state.clone() },
                portal::mall::PortalMallApi { state: state.clone() },
                desk::DeskApi { state: state.clone() },
            ),
            (
                purchases::PurchasesApi { state: state.clone() },
                points::PointsApi { state: state.clone() },
                rules::RulesApi { state: state.clone() },
                tiers::TiersApi { state: state.clone() },
                mall::MallApi { state: state.clone() },
            ),
            (
                prepaid::stored_value::StoredValueApi { state: state.clone() },
                prepaid::passes::PassesApi { state: state.clone() },
                prepaid::memberships::MembershipsApi { state: state.clone() },
            ),
            (
                (
                    coupons::CouponsApi { state: state.clone() },
                    portal::coupons::PortalCouponsApi { state: state.clone() },
                ),
                (
                    activities::ActivitiesApi { state: state.clone() },
                    portal::activities::PortalActivitiesApi { state: state.clone() },
                ),
                uploads::UploadsApi { state: state.clone() },
                (
                    promotions::PromotionsApi { state: state.clone() },
                    portal::promotions::PortalPromotionsApi { state: state.clone() },
                ),
            ),
            dashboard::DashboardApi { state: state.clone() },
            plans::PlansApi { state: state.clone() },
            ops::OpsApi { state: state.clone() },
            billing::BillingApi { state: state.clone() },
            (
                (
                    messages::MessagesApi { state: state.clone() },
                    sms::SmsApi { state: state.clone() },
                ),
                webhooks::WebhooksApi { state: state.clone() },
                (
                    notices::NoticesApi { state: state.clone() },
                    portal::notices::PortalNoticesApi { state: state.clone() },
                ),
                (
                    conversations::ConversationsApi { state: state.clone() },
                    portal::conversations::PortalConversationsApi { state: state.clone() },
                ),
                (
                    campaigns::CampaignsApi { state: state.clone() },
                    segments::SegmentsApi { state: state.clone() },
                ),
            ),
        ),
        "Patron API",
        env!("CARGO_PKG_VERSION"),
    )
    .description("Membership and loyalty platform. Errors are JSON with a stable `code`, a `message` and, for bad input, `fields`.")
    .server("/api/v1")
}

/// The whole HTTP surface: API, docs, health, metrics and (when built) the console.
pub fn routes(state: ApiState, console_dir: Option<PathBuf>) -> impl Endpoint {
    let api = service(&state);
    let raw = api.spec();
    let document = edge::responses::narrow(&raw);
    let templates = std::sync::Arc::new(edge::text_guard::PathTemplates::from_document(&document));
    // Swagger UI embeds the document it is built with: give it the narrowed one.
    let docs_html = api.swagger_ui_html().replace(&raw, &document);
    let spec = poem::endpoint::make_sync(move |_| {
        document
            .clone()
            .with_content_type("application/json; charset=utf-8")
    });
    let docs = poem::endpoint::make_sync(move |_| poem::web::Html(docs_html.clone()));
    let mut route = Route::new()
        .nest(
            "/api/v1",
            api.around(move |ep, req| edge::text_guard::guard(ep, req, templates.clone())),
        )
        .at("/api/openapi.json", spec)
        .at("/api/docs", docs)
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz).data(state.clone()))
        .at("/metrics", get(render_metrics).data(state.clone()));
    if let Some(dir) = console_dir.filter(|d| d.join("index.html").is_file()) {
        route = route.nest("/", edge::console::ConsoleFiles::new(dir));
    }
    let metrics = state.metrics.clone();
    let trust_proxy = state.config.trust_proxy;
    let policy = edge::security::policy(state.storage_origin.as_deref());
    route
        .catch_all_error(|err: poem::Error| async move {
            // Our own `ApiError`s arrive here already rendered: pass them through.
            if err.is_from_response() {
                return err.into_response();
            }
            let operation = err.data::<OperationId>().map(|o| o.0);
            let (status, body) = edge::error::framework_error_body(&err);
            let mut resp = poem::web::Json(poem_openapi::types::ToJSON::to_json(&body))
                .with_status(status)
                .into_response();
            // Keep the operation for the metrics, which label by it.
            if let Some(op) = operation {
                resp.set_data(OperationId(op));
            }
            resp
        })
        .around(move |ep, req| edge::security::headers(ep, req, trust_proxy, policy.clone()))
        .around(move |ep, req| observe(ep, req, metrics.clone()))
}

/// Gives each request an id, a tracing span (tenant filled in once known), a log line and
/// its metrics.
async fn observe<E: Endpoint>(
    ep: std::sync::Arc<E>,
    req: Request,
    metrics: edge::metrics::Metrics,
) -> poem::Result<Response> {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %path, tenant = tracing::field::Empty);
    let started = Instant::now();
    let mut resp = ep.get_response(req).instrument(span.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = resp.status();
    let route = resp
        .data::<OperationId>()
        .map(|o| o.0)
        .unwrap_or(match path.as_str() {
            "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json" => path.as_str(),
            p if p.starts_with("/api/") => "api_unmatched",
            _ => "static",
        });
    metrics.observe(route, &method, status.as_u16(), elapsed);
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                route,
                latency_ms = elapsed * 1000.0,
                "request finished"
            );
        } else {
            tracing::info!(
                status = status.as_u16(),
                route,
                latency_ms = elapsed * 1000.0,
                "request finished"
            );
        }
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    Ok(resp)
}

/// The process is up.
#[handler]
fn healthz() -> poem::web::Json<serde_json::Value> {
    poem::web::Json(serde_json::json!({ "status": "ok" }))
}

/// The database answers.
#[handler]
async fn readyz(state: poem::web::Data<&ApiState>) -> Response {
    match state.db.ping().await {
        Ok(()) => poem::web::Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            poem::web::Json(
                serde_json::json!({ "status": "unavailable", "code": "database_unavailable" }),
            )
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .into_response()
        }
    }
}

#[handler]
fn render_metrics(state: poem::web::Data<&ApiState>) -> Response {
    state
        .metrics
        .render()
        .with_content_type("text/plain; version=0.0.4")
        .into_response()
}
