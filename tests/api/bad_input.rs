//! Malformed requests, sent as raw HTTP to every endpoint: these tests are about what the
//! server does with bytes no typed client would send, so they name the endpoints' paths.

use patron_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn malformed_bodies_headers_and_credentials_get_a_json_4xx_from_every_endpoint_and_write_nothing(
) {
    let app = spawn_app().await;
    let t = app.signup("sweep").await;
    let endpoints: Vec<(Method, String)> = vec![
        (Method::POST, "/api/v1/signup".into()),
        (Method::POST, "/api/v1/auth/login".into()),
        (Method::POST, "/api/v1/auth/logout".into()),
        (Method::POST, "/api/v1/auth/password".into()),
        (Method::GET, "/api/v1/me".into()),
        (Method::GET, "/api/v1/permissions".into()),
        (Method::GET, "/api/v1/staff".into()),
        (Method::POST, "/api/v1/staff".into()),
        (Method::GET, format!("/api/v1/staff/{}", t.owner_id)),
        (Method::PATCH, format!("/api/v1/staff/{}", t.owner_id)),
        (Method::GET, "/api/v1/roles".into()),
        (Method::POST, "/api/v1/roles".into()),
        (Method::GET, "/api/v1/roles/owner".into()),
        (Method::PATCH, "/api/v1/roles/owner".into()),
        (Method::DELETE, "/api/v1/roles/owner".into()),
        (Method::GET, "/api/v1/api-keys".into()),
        (Method::POST, "/api/v1/api-keys".into()),
        (
            Method::DELETE,
            "/api/v1/api-keys/00000000-0000-0000-0000-000000000000".into(),
        ),
        (Method::GET, "/api/v1/settings".into()),
        (Method::PATCH, "/api/v1/settings".into()),
        (Method::GET, "/api/v1/audit-log".into()),
    ];
    let failures = sweep(&app, &t, &endpoints).await;
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing was written: still one staff member, one custom-free role set, same settings.
    let staff = app.list_staff(&t.owner()).await.body();
    assert_eq!(staff.len(), 1);
    let roles = app.list_roles(&t.owner()).await.body();
    assert_eq!(roles.len(), 4);
    let settings = app.settings(&t.owner()).await.body();
    assert_eq!(settings.name, format!("Business {}", t.slug));
    assert_eq!(
        app.me(&t.owner()).await.status,
        StatusCode::OK,
        "the owner's session survived"
    );
}

/// Sends every malformed case to every endpoint, as raw HTTP; returns what did not get a
/// JSON 4xx.
async fn sweep(app: &TestApp, t: &TestTenant, endpoints: &[(Method, String)]) -> Vec<String> {
    let owner = format!("Bearer {}", t.owner_token);
    let long = "x".repeat(100_000);
    // (description, authorization header, content type, raw body)
    let cases: Vec<(&str, Option<String>, Option<&str>, String)> = vec![
        ("no credentials", None, Some("application/json"), "{}".into()),
        ("garbage bearer", Some("Bearer not-a-token".into()), Some("application/json"), "{}".into()),
        ("forged token", Some(format!("Bearer pst_{}_{}", t.id, "A".repeat(43))), Some("application/json"), "{}".into()),
        ("token of a missing tenant", Some(format!("Bearer pst_999999999_{}", "A".repeat(43))), Some("application/json"), "{}".into()),
        ("huge tenant id", Some(format!("Bearer pst_99999999999999999999999_{}", "A".repeat(43))), Some("application/json"), "{}".into()),
        ("basic auth", Some("Basic YTpi".into()), Some("application/json"), "{}".into()),
        ("malformed json", Some(owner.clone()), Some("application/json"), "{\"name\": ".into()),
        ("json array", Some(owner.clone()), Some("application/json"), "[1,2,3]".into()),
        ("json null", Some(owner.clone()), Some("application/json"), "null".into()),
        ("wrong types", Some(owner.clone()), Some("application/json"), r#"{"email": 5, "name": [], "password": {}, "roles": "owner", "slug": 1, "tenant": true, "permissions": 3, "status": 9}"#.into()),
        ("unknown fields", Some(owner.clone()), Some("application/json"), r#"{"tenant_id": 1, "is_admin": true}"#.into()),
        ("oversize strings", Some(owner.clone()), Some("application/json"), json!({ "email": long, "name": long, "password": long, "slug": long, "business_name": long, "owner_name": long, "tenant": long, "roles": [long], "permissions": [long], "description": long, "current_password": long, "new_password": long }).to_string()),
        ("text body", Some(owner.clone()), Some("text/plain"), "hello".into()),
        ("no content type", Some(owner.clone()), None, "{}".into()),
        ("invalid utf-8 escape", Some(owner.clone()), Some("application/json"), "{\"name\": \"\\ud800\"}".into()),
    ];
    let mut failures = Vec::new();
    for (method, path) in endpoints {
        for (what, auth, ctype, body) in &cases {
            let mut req = app
                .http
                .request(method.clone(), format!("{}{path}", app.base));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            if let Some(c) = ctype {
                req = req.header("content-type", *c);
            }
            // Endpoints without a body only meet the credential cases: with the owner's
            // valid token they would simply succeed (a logout would end the session).
            let takes_body =
                !(*method == Method::GET || *method == Method::DELETE || path.ends_with("/logout"));
            if !takes_body && auth.as_deref() == Some(owner.as_str()) {
                continue;
            }
            if takes_body {
                req = req.body(body.clone());
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let text = resp.text().await.unwrap();
            let parsed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if !status.is_client_error() || parsed["code"].as_str().is_none() {
                failures.push(format!(
                    "{what}: {method} {path} -> {status} {}",
                    &text[..text.len().min(200)]
                ));
            }
        }
    }
    failures
}

#[tokio::test]
async fn points_and_rules_endpoints_refuse_malformed_input_and_write_nothing() {
    let app = spawn_app().await;
    let t = app.signup("sweep-pts").await;
    let m = app
        .create_member(&t.owner(), &NewMember::named("Sweep"))
        .await
        .body()
        .id;
    let endpoints: Vec<(Method, String)> = vec![
        (Method::POST, "/api/v1/purchases".into()),
        (Method::POST, "/api/v1/refunds".into()),
        (Method::GET, format!("/api/v1/members/{m}/purchases")),
        (Method::GET, format!("/api/v1/members/{m}/points")),
        (Method::GET, format!("/api/v1/members/{m}/points/entries")),
        (
            Method::POST,
            format!("/api/v1/members/{m}/points/adjustments"),
        ),
        (Method::POST, format!("/api/v1/members/{m}/redemptions")),
        (Method::POST, "/api/v1/events".into()),
        (Method::GET, "/api/v1/points/settings".into()),
        (Method::PUT, "/api/v1/points/settings".into()),
        (Method::GET, "/api/v1/rules".into()),
        (Method::PUT, "/api/v1/rules/purchase/draft".into()),
        (Method::POST, "/api/v1/rules/validate".into()),
        (Method::POST, "/api/v1/rules/simulate".into()),
        (Method::POST, "/api/v1/rules/purchase/publish".into()),
        (Method::POST, "/api/v1/rules/purchase/rollback".into()),
        (Method::GET, "/api/v1/rules/purchase/versions".into()),
        (Method::GET, "/api/v1/rules/templates".into()),
        (Method::POST, "/api/v1/rules/templates/render".into()),
    ];
    let failures = sweep(&app, &t, &endpoints).await;
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let h = app.member_purchases(&t.owner(), &m).await.body();
    assert_eq!(h.total_count, 0);
    let p = app.member_points(&t.owner(), &m).await.body();
    assert_eq!(p.balance, 0);
    let r = app.rules_overview(&t.owner()).await.body();
    assert!(r.triggers.is_empty());
    let s = app.points_settings(&t.owner()).await.body();
    assert_eq!(s.refund_shortfall, "debt");
}
