use patron_tests::*;
use reqwest::StatusCode;

#[tokio::test]
async fn health_readiness_openapi_and_docs_are_served() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", &Auth::None).await.body["status"], "ok");
    assert_eq!(
        app.get("/readyz", &Auth::None).await.body["status"],
        "ready"
    );
    let spec = app.get("/api/openapi.json", &Auth::None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3."));
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
            spec.body["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let docs = app
        .client
        .get(format!("{}/api/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let unknown = app.get("/api/v1/does-not-exist", &Auth::None).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn requests_are_counted_by_route_and_status_and_carry_a_request_id() {
    let app = spawn_app().await;
    let t = app.signup("metrics").await;
    app.get("/api/v1/me", &t.owner()).await;
    let r = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-me-123");
    let generated = app.get("/healthz", &Auth::None).await;
    assert!(generated.headers["x-request-id"].len() >= 32);
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
    assert_eq!(
        app.get("/healthz", &Auth::None).await.status,
        StatusCode::OK
    );
    let base = app.base.clone();
    app.stop().await;
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "still listening after shutdown"
    );
}
