//! The service around the API: health, readiness, the OpenAPI document and docs, routing of
//! unknown paths, request ids and metrics, and graceful shutdown.

use patron_tests::*;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn health_readiness_openapi_and_docs_are_served() {
    let app = spawn_app().await;
    assert_eq!(app.health().await.body().status, "ok");
    assert_eq!(app.readiness().await.body().status, "ready");
    let spec = app.openapi_document().await;
    assert_eq!(spec.status, StatusCode::OK);
    let spec = spec.body();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    // Paths as the document lists them.
    for path in [
        "/signup",
        "/auth/login",
        "/me",
        "/staff",
        "/roles",
        "/api-keys",
        "/settings",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let docs = app.api_docs().await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.body().contains("swagger"));
    // Routing: an unknown path, as raw HTTP.
    let unknown = app
        .call(
            Method::GET,
            "/api/v1/does-not-exist",
            &Auth::None,
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn requests_are_counted_by_route_and_status_and_carry_a_request_id() {
    let app = spawn_app().await;
    let t = app.signup("metrics").await;
    app.me(&t.owner()).await;
    // Raw HTTP: a request id of the caller's own, and no credentials.
    let r = app
        .raw(Method::GET, "/api/v1/me")
        .header("x-request-id", "trace-me-123")
        .send::<serde_json::Value>()
        .await;
    assert_eq!(r.headers["x-request-id"], "trace-me-123");
    let generated = app.health().await;
    assert!(generated.headers["x-request-id"].len() >= 32);
    let metrics = app.metrics().await.body();
    assert!(
        metrics.contains(r#"patron_http_requests_total{method="GET",route="me",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"patron_http_requests_total{method="GET",route="me",status="401"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="signup",status="201"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("patron_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn the_server_shuts_down_gracefully() {
    let app = spawn_app().await;
    assert_eq!(app.health().await.status, StatusCode::OK);
    let base = app.base.clone();
    app.stop().await;
    // Raw HTTP: nothing answers any more.
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "still listening after shutdown"
    );
}
