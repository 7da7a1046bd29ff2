use patron_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// Each protected endpoint and, for owner / manager / front_desk / marketer, whether it is
/// allowed. This is the permission table of docs/permissions.md, written out by hand.
fn matrix(slug: &str) -> Vec<(Method, String, Value, [bool; 4])> {
    let u = || uuid::Uuid::new_v4().simple().to_string();
    vec![
        (
            Method::GET,
            "/api/v1/me".into(),
            Value::Null,
            [true, true, true, true],
        ),
        (
            Method::GET,
            "/api/v1/permissions".into(),
            Value::Null,
            [true, true, true, true],
        ),
        (
            Method::GET,
            "/api/v1/settings".into(),
            Value::Null,
            [true, true, true, true],
        ),
        (
            Method::GET,
            "/api/v1/staff".into(),
            Value::Null,
            [true, true, false, false],
        ),
        (
            Method::GET,
            "/api/v1/roles".into(),
            Value::Null,
            [true, true, false, false],
        ),
        (
            Method::GET,
            "/api/v1/audit-log".into(),
            Value::Null,
            [true, true, false, false],
        ),
        (
            Method::POST,
            "/api/v1/staff".into(),
            json!({ "email": format!("{}@{slug}.example.com", u()), "name": "New", "password": PASSWORD, "roles": ["front_desk"] }),
            [true, true, false, false],
        ),
        (
            Method::POST,
            "/api/v1/roles".into(),
            json!({ "name": format!("r{}", &u()[..8]), "permissions": ["settings:read"] }),
            [true, false, false, false],
        ),
        (
            Method::GET,
            "/api/v1/api-keys".into(),
            Value::Null,
            [true, false, false, false],
        ),
        (
            Method::POST,
            "/api/v1/api-keys".into(),
            json!({ "name": "till", "role": "front_desk" }),
            [true, false, false, false],
        ),
        (
            Method::PATCH,
            "/api/v1/settings".into(),
            json!({ "name": "Renamed Business" }),
            [true, false, false, false],
        ),
    ]
}

#[tokio::test]
async fn each_built_in_role_is_allowed_exactly_what_the_permission_table_says() {
    let app = spawn_app().await;
    let t = app.signup("matrix").await;
    let mut callers = vec![t.owner()];
    for role in ["manager", "front_desk", "marketer"] {
        callers.push(app.staff_with_roles(&t, &[role]).await.1);
    }
    let names = ["owner", "manager", "front_desk", "marketer"];
    let mut failures = Vec::new();
    for (i, caller) in callers.iter().enumerate() {
        for (method, path, body, allowed) in matrix(&t.slug) {
            let r = app.call(method.clone(), &path, caller, body).await;
            let ok = if allowed[i] {
                r.status.is_success()
            } else {
                r.status == StatusCode::FORBIDDEN && r.code() == "forbidden"
            };
            if !ok {
                failures.push(format!(
                    "{} {method} {path}: expected {}, got {} {}",
                    names[i],
                    if allowed[i] { "success" } else { "403" },
                    r.status,
                    r.body
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn a_custom_role_takes_effect_without_restart_and_revoking_it_takes_effect_at_once() {
    let app = spawn_app().await;
    let t = app.signup("custom").await;
    let (id, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.get("/api/v1/staff", &desk).await.status,
        StatusCode::FORBIDDEN
    );

    let r = app.post("/api/v1/roles", &t.owner(), json!({ "name": "shift_lead", "description": "Evening lead", "permissions": ["staff:read", "reports:read"] })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            &t.owner(),
            json!({ "roles": ["front_desk", "shift_lead"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/staff", &desk).await.status,
        StatusCode::OK,
        "granted without re-login"
    );
    let me = app.get("/api/v1/me", &desk).await;
    assert!(me.body["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("reports:read")));

    let r = app
        .patch(
            "/api/v1/roles/shift_lead",
            &t.owner(),
            json!({ "permissions": ["reports:read"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/staff", &desk).await.status,
        StatusCode::FORBIDDEN,
        "revoked at once"
    );

    let r = app
        .patch(
            "/api/v1/roles/shift_lead",
            &t.owner(),
            json!({ "permissions": ["staff:read"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/staff", &desk).await.status, StatusCode::OK);
    assert_eq!(
        app.delete("/api/v1/roles/shift_lead", &t.owner())
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/staff", &desk).await.status,
        StatusCode::FORBIDDEN,
        "deleted role is gone at once"
    );
    assert_eq!(
        app.get("/api/v1/roles/shift_lead", &t.owner()).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_policy_change_on_one_server_reaches_another_server_through_notify() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let t = a.signup("replicas").await;
    let (id, desk) = a.staff_with_roles(&t, &["front_desk"]).await;
    a.post(
        "/api/v1/roles",
        &t.owner(),
        json!({ "name": "viewer", "permissions": ["staff:read"] }),
    )
    .await;
    a.patch(
        &format!("/api/v1/staff/{id}"),
        &t.owner(),
        json!({ "roles": ["front_desk", "viewer"] }),
    )
    .await;
    // Server B builds and caches its enforcer for this tenant.
    assert_eq!(b.get("/api/v1/staff", &desk).await.status, StatusCode::OK);

    // Revoke on A; B must follow without a restart.
    assert_eq!(
        a.patch(
            "/api/v1/roles/viewer",
            &t.owner(),
            json!({ "permissions": [] })
        )
        .await
        .status,
        StatusCode::OK
    );
    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = b.get("/api/v1/staff", &desk).await.status;
        if status == StatusCode::FORBIDDEN {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "server B still allows a revoked permission"
    );
}

#[tokio::test]
async fn nobody_can_grant_more_than_they_hold_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let t = app.signup("escalate").await;
    let (manager_id, manager) = app.staff_with_roles(&t, &["manager"]).await;
    let r = app
        .patch(
            &format!("/api/v1/staff/{manager_id}"),
            &manager,
            json!({ "roles": ["owner"] }),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "escalation"),
        "{:?}",
        r.body
    );
    let r = app
        .post("/api/v1/staff", &manager, json!({ "email": format!("x@{}.example.com", t.slug), "name": "X", "password": PASSWORD, "roles": ["owner"] }))
        .await;
    assert_eq!(r.code(), "escalation");

    let r = app
        .patch(
            &format!("/api/v1/staff/{}", t.owner_id),
            &t.owner(),
            json!({ "roles": ["manager"] }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "last_owner"));
    let me = app.get("/api/v1/me", &t.owner()).await;
    assert_eq!(
        me.body["roles"],
        json!(["owner"]),
        "the refused change was not half-applied"
    );

    let r = app
        .patch(
            "/api/v1/roles/manager",
            &t.owner(),
            json!({ "permissions": [] }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "builtin_role"));
    let r = app
        .post(
            "/api/v1/roles",
            &t.owner(),
            json!({ "name": "bad", "permissions": ["members:read", "members:fly"] }),
        )
        .await;
    assert_eq!(
        (r.status, r.body["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("permissions.1"))
    );
    let r = app
        .post(
            "/api/v1/roles",
            &t.owner(),
            json!({ "name": "owner", "permissions": [] }),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "role_exists"));
}

#[tokio::test]
async fn staff_e_mails_are_unique_within_a_business_but_not_across_businesses() {
    let app = spawn_app().await;
    let a = app.signup("mail-a").await;
    let b = app.signup("mail-b").await;
    let body = json!({ "email": "Shared@Example.com", "name": "S", "password": PASSWORD, "roles": ["front_desk"] });
    assert_eq!(
        app.post("/api/v1/staff", &a.owner(), body.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post("/api/v1/staff", &b.owner(), body).await.status,
        StatusCode::CREATED
    );
    let again = app.post("/api/v1/staff", &a.owner(), json!({ "email": "shared@example.com", "name": "S2", "password": PASSWORD, "roles": ["front_desk"] })).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "email_taken")
    );
    assert_eq!(again.body["fields"][0]["field"], "email");
}

/// Integration keys are cached by each server; a revocation on one server reaches the
/// others through NOTIFY.
#[tokio::test]
async fn a_key_revoked_on_one_server_stops_working_on_another() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let t = a.signup("key-replicas").await;
    let r = a
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "till", "role": "front_desk" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let key = Auth::Key(r.body["key"].as_str().unwrap().to_owned());
    let id = r.body["id"].as_str().unwrap().to_owned();
    // Server B checks the key once and caches it; later calls use the cache.
    assert_eq!(b.get("/api/v1/me", &key).await.status, StatusCode::OK);
    assert_eq!(b.get("/api/v1/me", &key).await.status, StatusCode::OK);

    assert_eq!(
        a.delete(&format!("/api/v1/api-keys/{id}"), &t.owner())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        a.get("/api/v1/me", &key).await.status,
        StatusCode::UNAUTHORIZED,
        "refused at once where it was revoked"
    );
    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = b.get("/api/v1/me", &key).await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "server B still accepts a revoked key"
    );
}
