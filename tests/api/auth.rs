use chrono::Duration;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn wrong_passwords_unknown_accounts_and_unknown_businesses_get_the_same_401() {
    let app = spawn_app().await;
    let t = app.signup("login").await;
    for (tenant, email, password) in [
        (t.slug.as_str(), t.owner_email.as_str(), "wrong-password-1"),
        (t.slug.as_str(), "nobody@example.com", PASSWORD),
        ("no-such-business", t.owner_email.as_str(), PASSWORD),
    ] {
        let r = app.login(tenant, email, password).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{tenant} {email}");
        assert_eq!(r.code(), "invalid_credentials");
    }
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_with_retry_after_until_the_time_passes() {
    let app = spawn_app().await;
    let t = app.signup("lock").await;
    for i in 0..5 {
        let r = app.login(&t.slug, &t.owner_email, "wrong-password-x").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Locked now: even the right password is refused, with a Retry-After.
    let r = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.code(), "login_locked");
    let retry: i64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");

    app.clock.advance(Duration::seconds(31));
    let r = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // Success resets the count: one more failure does not lock again.
    assert_eq!(
        app.login(&t.slug, &t.owner_email, "wrong-password-x")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&t.slug, &t.owner_email, PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_revokes_the_token_at_once() {
    let app = spawn_app().await;
    let t = app.signup("logout").await;
    assert_eq!(
        app.get("/api/v1/me", &t.owner()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.post("/api/v1/auth/logout", &t.owner(), json!(null))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = app.get("/api/v1/me", &t.owner()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "invalid_token");
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let app = spawn_app().await;
    let t = app.signup("expiry").await;
    app.clock.advance(Duration::hours(11));
    assert_eq!(
        app.get("/api/v1/me", &t.owner()).await.status,
        StatusCode::OK
    );
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    assert_eq!(
        app.get("/api/v1/me", &t.owner()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn changing_the_password_logs_out_other_sessions_and_retires_the_old_password() {
    let app = spawn_app().await;
    let t = app.signup("pw").await;
    let other = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    let other = Auth::Bearer(other.body["token"].as_str().unwrap().to_owned());

    let wrong = app
        .post(
            "/api/v1/auth/password",
            &t.owner(),
            json!({ "current_password": "not-the-password", "new_password": "brand-new-password" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["fields"][0]["field"], "current_password");
    let weak = app
        .post(
            "/api/v1/auth/password",
            &t.owner(),
            json!({ "current_password": PASSWORD, "new_password": "short" }),
        )
        .await;
    assert_eq!(weak.body["fields"][0]["field"], "new_password");

    let ok = app
        .post(
            "/api/v1/auth/password",
            &t.owner(),
            json!({ "current_password": PASSWORD, "new_password": "brand-new-password" }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{:?}", ok.body);
    assert_eq!(
        app.get("/api/v1/me", &t.owner()).await.status,
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(
        app.get("/api/v1/me", &other).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&t.slug, &t.owner_email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&t.slug, &t.owner_email, "brand-new-password")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn api_keys_are_shown_once_carry_their_role_and_stop_working_when_revoked() {
    let app = spawn_app().await;
    let t = app.signup("keys").await;
    let r = app
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "POS till 1", "role": "front_desk" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let key = r.body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("pak_{}_", t.id)));
    let id = r.body["id"].as_str().unwrap().to_owned();

    let list = app.get("/api/v1/api-keys", &t.owner()).await;
    let text = list.body.to_string();
    assert!(!text.contains(&key), "the key must never be listed");
    assert!(text.contains(&key[..12]), "a preview is listed");

    let k = Auth::Key(key.clone());
    let me = app.get("/api/v1/me", &k).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        (me.body["kind"].as_str(), me.body["roles"][0].as_str()),
        (Some("api_key"), Some("front_desk"))
    );
    assert_eq!(
        app.get("/api/v1/settings", &k).await.status,
        StatusCode::OK,
        "front_desk reads settings"
    );
    assert_eq!(
        app.get("/api/v1/staff", &k).await.status,
        StatusCode::FORBIDDEN,
        "front_desk cannot list staff"
    );
    // Its use is noted (at most once a minute), and many requests at once all get through.
    let list = app.get("/api/v1/api-keys", &t.owner()).await;
    let noted = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .unwrap()["last_used_at"]
        .clone();
    assert!(noted.is_string(), "{:?}", list.body);
    app.clock.advance(Duration::minutes(2));
    let calls: Vec<_> = (0..8).map(|_| app.get("/api/v1/me", &k)).collect();
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.status, StatusCode::OK);
    }
    let list = app.get("/api/v1/api-keys", &t.owner()).await;
    let later = &list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .unwrap()["last_used_at"];
    assert_ne!(*later, noted, "noted again after a minute");
    assert_eq!(
        app.post(
            "/api/v1/auth/logout",
            &Auth::Bearer(key.clone()),
            json!(null)
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );

    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{id}"), &t.owner())
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/me", &k).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Expiry in the past is refused; unknown roles are named.
    let r = app
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "x", "role": "front_desk", "expires_at": "2001-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(r.body["fields"][0]["field"], "expires_at");
    let r = app
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "x", "role": "wizard" }),
        )
        .await;
    assert_eq!(
        (r.status, r.body["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("role"))
    );
}

#[tokio::test]
async fn disabling_a_staff_member_ends_their_sessions_and_blocks_login() {
    let app = spawn_app().await;
    let t = app.signup("disable").await;
    let (id, token) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    let r = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            &t.owner(),
            json!({ "status": "disabled" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let email = r.body["email"].as_str().unwrap();
    let login = app.login(&t.slug, email, PASSWORD).await;
    assert_eq!(
        (login.status, login.code()),
        (StatusCode::FORBIDDEN, "account_disabled")
    );
}
