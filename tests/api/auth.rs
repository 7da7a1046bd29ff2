//! Staff logins and credentials: failed logins and lockout, logout, token lifetime,
//! password changes, integration keys and disabled staff.

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
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    assert_eq!(r.code(), "login_locked");
    let retry: i64 = r.header("retry-after").parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");

    app.clock.advance(Duration::seconds(31));
    let r = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
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
    assert_eq!(app.me(&t.owner()).await.status, StatusCode::OK);
    assert_eq!(app.logout(&t.owner()).await.status, StatusCode::NO_CONTENT);
    let r = app.me(&t.owner()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "invalid_token");
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let app = spawn_app().await;
    let t = app.signup("expiry").await;
    app.clock.advance(Duration::hours(11));
    assert_eq!(app.me(&t.owner()).await.status, StatusCode::OK);
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    assert_eq!(app.me(&t.owner()).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_the_password_logs_out_other_sessions_and_retires_the_old_password() {
    let app = spawn_app().await;
    let t = app.signup("pw").await;
    let other = app
        .login(&t.slug, &t.owner_email, PASSWORD)
        .await
        .body()
        .auth();

    let wrong = app
        .change_password(
            &t.owner(),
            &json!({ "current_password": "not-the-password", "new_password": "brand-new-password" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.problem().fields[0].field, "current_password");
    let weak = app
        .change_password(
            &t.owner(),
            &json!({ "current_password": PASSWORD, "new_password": "short" }),
        )
        .await;
    assert_eq!(weak.problem().fields[0].field, "new_password");

    let ok = app
        .change_password(
            &t.owner(),
            &json!({ "current_password": PASSWORD, "new_password": "brand-new-password" }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{ok:?}");
    assert_eq!(
        app.me(&t.owner()).await.status,
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(app.me(&other).await.status, StatusCode::UNAUTHORIZED);
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
    let created = app
        .create_api_key(
            &t.owner(),
            &json!({ "name": "POS till 1", "role": "front_desk" }),
        )
        .await
        .created();
    let key = created.key;
    assert!(key.starts_with(&format!("pak_{}_", t.id)));
    let id = created.info.id;

    let list = app.list_api_keys(&t.owner()).await;
    let text = list.json.to_string();
    assert!(!text.contains(&key), "the key must never be listed");
    assert!(text.contains(&key[..12]), "a preview is listed");

    let k = Auth::Key(key.clone());
    let me = app.me(&k).await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.body();
    assert_eq!(
        (me.kind.as_str(), me.roles[0].as_str()),
        ("api_key", "front_desk")
    );
    assert_eq!(
        app.settings(&k).await.status,
        StatusCode::OK,
        "front_desk reads settings"
    );
    assert_eq!(
        app.list_staff(&k).await.status,
        StatusCode::FORBIDDEN,
        "front_desk cannot list staff"
    );
    // Its use is noted (at most once a minute), and many requests at once all get through.
    let list = app.list_api_keys(&t.owner()).await;
    let noted = list
        .body()
        .into_iter()
        .find(|x| x.id == id)
        .unwrap()
        .last_used_at;
    assert!(noted.is_some(), "{list:?}");
    app.clock.advance(Duration::minutes(2));
    let calls: Vec<_> = (0..8).map(|_| app.me(&k)).collect();
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.status, StatusCode::OK);
    }
    let later = app
        .list_api_keys(&t.owner())
        .await
        .body()
        .into_iter()
        .find(|x| x.id == id)
        .unwrap()
        .last_used_at;
    assert_ne!(later, noted, "noted again after a minute");
    assert_eq!(
        app.logout(&Auth::Bearer(key.clone())).await.status,
        StatusCode::UNAUTHORIZED
    );

    assert_eq!(
        app.revoke_api_key(&t.owner(), &id).await.status,
        StatusCode::OK
    );
    assert_eq!(app.me(&k).await.status, StatusCode::UNAUTHORIZED);

    // Expiry in the past is refused; unknown roles are named.
    let r = app
        .create_api_key(
            &t.owner(),
            &json!({ "name": "x", "role": "front_desk", "expires_at": "2001-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(r.problem().fields[0].field, "expires_at");
    let r = app
        .create_api_key(&t.owner(), &json!({ "name": "x", "role": "wizard" }))
        .await;
    assert_eq!(
        (r.status, r.problem().fields[0].field.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "role")
    );
}

#[tokio::test]
async fn disabling_a_staff_member_ends_their_sessions_and_blocks_login() {
    let app = spawn_app().await;
    let t = app.signup("disable").await;
    let (id, token) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(app.me(&token).await.status, StatusCode::OK);
    let staff = app
        .update_staff(&t.owner(), &id, &json!({ "status": "disabled" }))
        .await
        .ok();
    assert_eq!(app.me(&token).await.status, StatusCode::UNAUTHORIZED);
    let login = app.login(&t.slug, &staff.email, PASSWORD).await;
    assert_eq!(
        (login.status, login.code()),
        (StatusCode::FORBIDDEN, "account_disabled")
    );
}
