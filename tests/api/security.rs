//! Account defences: two-factor codes for staff and operators, recovery codes, the owners'
//! two-factor setting, common passwords, the login history with its new-device notice, and
//! the security headers.

use chrono::{Duration, Utc};
use patron_core::clock::Clock;
use patron_core::security::totp_code;
use patron_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;

const UA: &str = "Mozilla/5.0 (Test) Firefox/130.0";

fn code_at(app: &TestApp, secret: &str) -> String {
    totp_code(secret, app.clock.now().timestamp() as u64)
}

/// Turns two-factor on for the owner; answers the secret and the recovery codes.
async fn enrol(app: &TestApp, t: &TestTenant) -> (String, Vec<String>) {
    let e = app.enrol_two_factor(&t.owner()).await.ok();
    assert!(
        e.otpauth_uri.starts_with("otpauth://totp/"),
        "{}",
        e.otpauth_uri
    );
    assert!(e.otpauth_uri.contains(&format!("secret={}", e.secret)));
    // Not on until confirmed: a login needs no code yet.
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, None, "198.51.100.1", UA)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A wrong code does not confirm.
    let r = app.confirm_two_factor(&t.owner(), "000000").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].code, "wrong");
    let codes = app
        .confirm_two_factor(&t.owner(), &code_at(app, &e.secret))
        .await
        .ok()
        .recovery_codes;
    assert_eq!(codes.len(), 10);
    (e.secret, codes)
}

#[tokio::test]
async fn with_two_factor_on_a_login_needs_a_fresh_code_each_good_once() {
    let app = spawn_app().await;
    let t = app.signup("tfa").await;
    let (secret, _) = enrol(&app, &t).await;
    let status = app.two_factor_status(&t.owner()).await.ok();
    assert!(status.enabled);
    assert_eq!(status.recovery_codes_left, 10);
    let ip = "198.51.100.1";

    // The password alone is refused now.
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, None, ip, UA)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.code(), "two_factor_required");
    // The code used to confirm is spent: the same code in the same step is a replay.
    let used = code_at(&app, &secret);
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&used), ip, UA)
        .await;
    assert_eq!(r.code(), "two_factor_code_wrong", "{r:?}");
    // A wrong code is refused.
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some("123456"), ip, UA)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "two_factor_code_wrong");
    // The next step's code works once, and not twice.
    app.clock.advance(Duration::seconds(30));
    let fresh = code_at(&app, &secret);
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&fresh), ip, UA)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&fresh), ip, UA)
        .await;
    assert_eq!(r.code(), "two_factor_code_wrong");
    // A right code with a wrong password is still the wrong password.
    app.clock.advance(Duration::seconds(30));
    let r = app
        .login_from(
            &t.slug,
            &t.owner_email,
            "wrong-password-9",
            Some(&code_at(&app, &secret)),
            ip,
            UA,
        )
        .await;
    assert_eq!(r.code(), "invalid_credentials");

    // Five wrong codes lock the account like five wrong passwords.
    let t2 = app.signup("tfalock").await;
    let (_, _) = enrol(&app, &t2).await;
    for _ in 0..5 {
        let r = app
            .login_from(&t2.slug, &t2.owner_email, PASSWORD, Some("999999"), ip, UA)
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .login_from(&t2.slug, &t2.owner_email, PASSWORD, Some("999999"), ip, UA)
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
}

#[tokio::test]
async fn a_recovery_code_logs_in_once_and_turning_off_needs_password_and_code() {
    let app = spawn_app().await;
    let t = app.signup("tfarec").await;
    let (secret, codes) = enrol(&app, &t).await;
    let ip = "198.51.100.2";
    // As typed by a person: upper case, with spaces.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&typed), ip, UA)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&codes[3]), ip, UA)
        .await;
    assert_eq!(
        r.code(),
        "two_factor_code_wrong",
        "a recovery code is good once"
    );
    assert_eq!(
        app.two_factor_status(&t.owner())
            .await
            .ok()
            .recovery_codes_left,
        9
    );

    // Turning off: a wrong password or a wrong code is refused, naming the field.
    app.clock.advance(Duration::seconds(30));
    let r = app
        .disable_two_factor(&t.owner(), "wrong-password-9", &code_at(&app, &secret))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), vec!["password"]);
    let r = app.disable_two_factor(&t.owner(), PASSWORD, "111111").await;
    assert_eq!(r.fields(), vec!["code"]);
    let s = app
        .disable_two_factor(&t.owner(), PASSWORD, &codes[0])
        .await
        .ok();
    assert!(!s.enabled);
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, None, ip, UA)
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "off again: the password is enough"
    );
}

#[tokio::test]
async fn new_recovery_codes_replace_the_old_ones_and_need_password_and_a_current_code() {
    let app = spawn_app().await;
    let t = app.signup("tfarenew").await;
    let (secret, old) = enrol(&app, &t).await;
    let ip = "198.51.100.4";
    app.clock.advance(Duration::seconds(30));
    // The password and a code from the app, each checked and named when wrong.
    let r = app
        .renew_recovery_codes(&t.owner(), "wrong-password-9", &code_at(&app, &secret))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), vec!["password"]);
    let r = app
        .renew_recovery_codes(&t.owner(), PASSWORD, "111111")
        .await;
    assert_eq!(r.fields(), vec!["code"]);
    // A recovery code cannot mint new ones.
    let r = app
        .renew_recovery_codes(&t.owner(), PASSWORD, &old[1])
        .await;
    assert_eq!(r.fields(), vec!["code"]);
    let fresh = app
        .renew_recovery_codes(&t.owner(), PASSWORD, &code_at(&app, &secret))
        .await
        .ok()
        .recovery_codes;
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !old.contains(c)));
    assert_eq!(
        app.two_factor_status(&t.owner())
            .await
            .ok()
            .recovery_codes_left,
        10
    );
    // The code that renewed them is spent like any other.
    let r = app
        .renew_recovery_codes(&t.owner(), PASSWORD, &code_at(&app, &secret))
        .await;
    assert_eq!(r.fields(), vec!["code"]);

    // The old codes stop working, the new ones work once.
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&old[0]), ip, UA)
        .await;
    assert_eq!(r.code(), "two_factor_code_wrong", "{r:?}");
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&fresh[0]), ip, UA)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .login_from(&t.slug, &t.owner_email, PASSWORD, Some(&fresh[0]), ip, UA)
        .await;
    assert_eq!(r.code(), "two_factor_code_wrong");

    // Without two-factor on there is nothing to renew.
    let other = app.signup("tfarenew2").await;
    let r = app
        .renew_recovery_codes(&other.owner(), PASSWORD, "123456")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "two_factor_off");
}

/// The owner's stored two-factor secret, as the database holds it.
async fn staff_secret(db: &mut sqlx::PgConnection, t: &TestTenant) -> String {
    sqlx::query_scalar(&format!(
        "SELECT totp_secret FROM t_{}.staff WHERE id = $1::uuid",
        t.id
    ))
    .bind(&t.owner_id)
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn two_factor_secrets_are_sealed_at_rest_and_the_migration_seals_old_ones() {
    let app = spawn_app().await;
    let keys = patron_core::pii::PiiKeys::development();
    let t = app.signup("tfaseal").await;
    let (secret, _) = enrol(&app, &t).await;
    let mut db = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    // The row holds ciphertext under a key id, never the secret, and still opens to it.
    let sealed = staff_secret(&mut db, &t).await;
    assert!(sealed.starts_with("pii:1:"), "{sealed}");
    assert!(!sealed.contains(&secret), "{sealed}");
    assert_eq!(
        patron_core::security::open_secret(&keys, &sealed).unwrap(),
        secret
    );
    app.clock.advance(Duration::seconds(30));
    let r = app
        .login_from(
            &t.slug,
            &t.owner_email,
            PASSWORD,
            Some(&code_at(&app, &secret)),
            "198.51.100.5",
            UA,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // A secret stored as is (before sealing) still works, and the migration seals it.
    let plain = patron_core::security::new_totp_secret();
    sqlx::query(&format!(
        "UPDATE t_{}.staff SET totp_secret = $2, totp_last_step = NULL WHERE id = $1::uuid",
        t.id
    ))
    .bind(&t.owner_id)
    .bind(&plain)
    .execute(&mut db)
    .await
    .unwrap();
    let email = format!("op-{}@patron.example.com", uuid::Uuid::new_v4().simple());
    let hash = patron_core::auth::Password::parse(PASSWORD).unwrap().hash();
    let op = patron_db::operators::create(&app.db, &email, "Operator", &hash, Utc::now())
        .await
        .unwrap();
    let op_plain = patron_core::security::new_totp_secret();
    sqlx::query(
        "UPDATE platform.operators SET totp_secret = $2, totp_enabled_at = now() WHERE id = $1",
    )
    .bind(op.id)
    .bind(&op_plain)
    .execute(&mut db)
    .await
    .unwrap();
    app.clock.advance(Duration::seconds(30));
    let r = app
        .login_from(
            &t.slug,
            &t.owner_email,
            PASSWORD,
            Some(&code_at(&app, &plain)),
            "198.51.100.5",
            UA,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    let n = patron_app::security::seal_two_factor_secrets(&app.db, &keys, 4)
        .await
        .unwrap();
    assert!(n >= 2, "{n}");
    let sealed = staff_secret(&mut db, &t).await;
    assert!(
        sealed.starts_with("pii:1:") && !sealed.contains(&plain),
        "{sealed}"
    );
    let op_stored: String =
        sqlx::query_scalar("SELECT totp_secret FROM platform.operators WHERE id = $1")
            .bind(op.id)
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(
        op_stored.starts_with("pii:1:") && !op_stored.contains(&op_plain),
        "{op_stored}"
    );
    // Sealed values are left alone by a second run.
    let again = patron_app::security::seal_two_factor_secrets(&app.db, &keys, 4)
        .await
        .unwrap();
    assert_eq!(staff_secret(&mut db, &t).await, sealed, "{again}");

    // Logins with codes still work after the migration, for staff and operators.
    app.clock.advance(Duration::seconds(30));
    let r = app
        .login_from(
            &t.slug,
            &t.owner_email,
            PASSWORD,
            Some(&code_at(&app, &plain)),
            "198.51.100.5",
            UA,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .operator_login_with(&email, PASSWORD, Some(&code_at(&app, &op_plain)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn a_business_can_ask_its_owners_to_use_two_factor() {
    let app = spawn_app().await;
    let t = app.signup("tfaowner").await;
    let login = |app: &TestApp| {
        let t = t.clone();
        let app = app.api.clone();
        async move {
            app.login_from(&t.slug, &t.owner_email, PASSWORD, None, "198.51.100.3", UA)
                .await
        }
    };
    let (_, staff) = app.staff_with_roles(&t, &["front_desk"]).await;
    let email = app.me(&staff).await.json["email"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(login(&app).await.json["two_factor_setup_required"], false);
    app.set_security_settings(&t.owner(), true).await.ok();
    let r = login(&app).await;
    assert_eq!(r.json["two_factor_setup_required"], true);
    let owner = Auth::Bearer(r.json["token"].as_str().unwrap().to_owned());

    // The server holds the owner to it, whatever the console does: until enrolled, the
    // session can read itself, enrol, confirm and log out, and nothing else.
    let r = app.list_members(&owner).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(r.code(), "two_factor_setup_required");
    let r = app.list_staff(&owner).await;
    assert_eq!(r.code(), "two_factor_setup_required");
    // The session the owner already held is held to it too.
    assert_eq!(
        app.list_members(&t.owner()).await.code(),
        "two_factor_setup_required"
    );
    assert_eq!(app.me(&owner).await.status, StatusCode::OK);
    assert!(!app.two_factor_status(&owner).await.ok().enabled);
    // Not even to turn the setting off: an owner enrols first.
    let r = app.set_security_settings(&owner, false).await;
    assert_eq!(r.code(), "two_factor_setup_required", "{r:?}");

    // Other staff are not asked.
    let r = app
        .login_from(&t.slug, &email, PASSWORD, None, "198.51.100.3", UA)
        .await;
    assert_eq!(r.json["two_factor_setup_required"], false);
    assert_eq!(app.list_members(&staff).await.status, StatusCode::OK);

    // Once enrolled, the same session does everything again, and a login needs a code.
    let t2 = TestTenant {
        owner_token: match &owner {
            Auth::Bearer(s) => s.clone(),
            _ => unreachable!(),
        },
        ..t.clone()
    };
    enrol(&app, &t2).await;
    assert_eq!(app.list_members(&owner).await.status, StatusCode::OK);
    assert_eq!(app.list_members(&t.owner()).await.status, StatusCode::OK);
    assert_eq!(login(&app).await.code(), "two_factor_required");
}

#[tokio::test]
async fn operators_use_two_factor_codes_too() {
    let app = spawn_app().await;
    let email = format!("op-{}@patron.example.com", uuid::Uuid::new_v4().simple());
    let hash = patron_core::auth::Password::parse(PASSWORD).unwrap().hash();
    patron_db::operators::create(&app.db, &email, "Operator", &hash, Utc::now())
        .await
        .unwrap();
    let op = Auth::Bearer(
        app.operator_login_with(&email, PASSWORD, None).await.json["token"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let e = app.ops_enrol_two_factor(&op).await.ok();
    let codes = app
        .ops_confirm_two_factor(&op, &code_at(&app, &e.secret))
        .await
        .ok()
        .recovery_codes;
    let r = app.operator_login_with(&email, PASSWORD, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "two_factor_required");
    let r = app
        .operator_login_with(&email, PASSWORD, Some(&code_at(&app, &e.secret)))
        .await;
    assert_eq!(
        r.code(),
        "two_factor_code_wrong",
        "the confirming code is spent"
    );
    app.clock.advance(Duration::seconds(30));
    let r = app
        .operator_login_with(&email, PASSWORD, Some(&code_at(&app, &e.secret)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .operator_login_with(&email, PASSWORD, Some(&codes[0]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .operator_login_with(&email, PASSWORD, Some(&codes[0]))
        .await;
    assert_eq!(r.code(), "two_factor_code_wrong");

    // New recovery codes: the old ones stop, the new ones work once.
    app.clock.advance(Duration::seconds(30));
    let fresh = app
        .ops_renew_recovery_codes(&op, PASSWORD, &code_at(&app, &e.secret))
        .await
        .ok()
        .recovery_codes;
    assert_eq!(fresh.len(), 10);
    let r = app
        .operator_login_with(&email, PASSWORD, Some(&codes[1]))
        .await;
    assert_eq!(r.code(), "two_factor_code_wrong");
    let r = app
        .operator_login_with(&email, PASSWORD, Some(&fresh[1]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn common_passwords_are_refused_at_signup_staff_creation_and_change() {
    let app = spawn_app().await;
    let r = app
        .register_business(&json!({ "business_name": "Common", "slug": format!("common-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]), "owner_name": "Owner", "email": "owner@example.com", "password": "Password123" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let p = r.problem();
    assert_eq!(p.fields[0].field, "password");
    assert_eq!(p.fields[0].code, "common_password");

    let t = app.signup("commonpw").await;
    let r = app
        .create_staff(&t.owner(), &json!({ "email": "c@example.com", "name": "C", "password": "QWERTYUIOP", "roles": ["front_desk"] }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].code, "common_password");
    let r = app
        .change_password(
            &t.owner(),
            &json!({ "current_password": PASSWORD, "new_password": "1q2w3e4r5t" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].code, "common_password");
}

#[tokio::test]
async fn the_login_history_shows_each_attempt_and_a_new_device_gets_a_notice() {
    let app = spawn_app().await;
    let t = app.signup("history").await;
    let (staff_id, staff) = app.staff_with_roles(&t, &["front_desk"]).await;
    let email = app.me(&staff).await.json["email"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app
        .login_from(&t.slug, &email, "wrong-password-9", None, "203.0.113.5", UA)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .login_from(&t.slug, &email, PASSWORD, None, "203.0.113.5", UA)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let me = Auth::Bearer(r.json["token"].as_str().unwrap().to_owned());
    let mine = app.my_logins(&me).await.ok();
    let last = &mine[0];
    assert!(last.success);
    assert_eq!(last.method, "password");
    assert_eq!(last.ip.as_deref(), Some("203.0.113.5"));
    assert_eq!(last.user_agent.as_deref(), Some(UA));
    assert!(!mine[1].success);
    assert_eq!(mine[1].failure.as_deref(), Some("wrong_password"));
    // The owner sees the same; a cashier may not look at others'.
    let seen = app.staff_logins(&t.owner(), &staff_id).await.ok();
    assert_eq!(seen.len(), mine.len());
    assert_eq!(
        app.staff_logins(&me, &t.owner_id).await.status,
        StatusCode::FORBIDDEN
    );

    let new_device_mails = |app: &TestApp| {
        let db = app.db.clone();
        let email = email.clone();
        let id = t.id;
        async move { count_staff_mails(&db, id, &email).await }
    };
    let before = new_device_mails(&app).await;
    // The same browser on the same network: no notice.
    app.login_from(&t.slug, &email, PASSWORD, None, "203.0.113.77", UA)
        .await;
    assert_eq!(new_device_mails(&app).await, before);
    // Another browser elsewhere: one notice.
    app.login_from(&t.slug, &email, PASSWORD, None, "192.0.2.9", "Other/1.0")
        .await;
    assert_eq!(new_device_mails(&app).await, before + 1);
    app.login_from(&t.slug, &email, PASSWORD, None, "192.0.2.9", "Other/1.0")
        .await;
    assert_eq!(new_device_mails(&app).await, before + 1);
}

/// New-device notices queued to a staff member's address.
async fn count_staff_mails(db: &patron_db::Db, tenant_id: i64, email: &str) -> i64 {
    patron_tests::internals::count_deliveries(db, tenant_id, "staff.new_device", email).await
}

#[tokio::test]
async fn answers_carry_the_security_headers_and_hsts_only_over_tls() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/api/v1/me",
        "/api/openapi.json",
        "/no-such-page",
    ] {
        let r = app.raw(Method::GET, path).send::<serde_json::Value>().await;
        let csp = r.header("content-security-policy");
        let scripts = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert_eq!(scripts.trim(), "script-src 'self'", "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            r.header("referrer-policy"),
            "strict-origin-when-cross-origin"
        );
        assert_eq!(r.header("x-frame-options"), "DENY");
        assert!(
            r.headers.get("strict-transport-security").is_none(),
            "{path}: plain HTTP"
        );
    }
    let r = app
        .raw(Method::GET, "/healthz")
        .header("x-forwarded-proto", "https")
        .send::<serde_json::Value>()
        .await;
    assert!(r
        .header("strict-transport-security")
        .starts_with("max-age=31536000"));
}
