//! The member portal: phone-verified registration, login, own profile, password reset, and
//! the walls between member and staff tokens and between businesses.

use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// The code in the newest SMS to `phone`, read from the outbox as the console would.
pub async fn last_code(app: &TestApp, t: &TestTenant, phone: &str) -> String {
    let r = app
        .get(
            &format!("/api/v1/sms-outbox?phone={}", phone.replace('+', "%2B")),
            &t.owner(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let body = r.body[0]["body"].as_str().expect("an SMS was sent");
    body.split_whitespace()
        .find(|w| w.len() >= 6 && w.chars().take(6).all(|c| c.is_ascii_digit()))
        .map(|w| w.chars().take(6).collect())
        .expect("a code in the message")
}

async fn send_code(app: &TestApp, slug: &str, phone: &str, purpose: &str) -> Reply {
    app.post(
        &format!("/api/v1/portal/{slug}/codes"),
        &Auth::None,
        json!({ "phone": phone, "purpose": purpose }),
    )
    .await
}

#[tokio::test]
async fn members_register_with_an_sms_code_log_in_edit_their_profile_and_reset_their_password() {
    let app = spawn_app().await;
    let t = app.signup("portal").await;
    let slug = &t.slug;
    let r = app
        .post("/api/v1/fields/versions", &t.owner(), json!({ "fields": [
            { "key": "shoe", "type": "integer", "label": { "zh-CN": "鞋码" }, "member_editable": true },
            { "key": "vip_level", "type": "integer", "label": { "en": "VIP" } }
        ] }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let form = app
        .get(&format!("/api/v1/portal/{slug}/form"), &Auth::None)
        .await;
    assert_eq!(form.body["member_editable"], json!(["shoe"]));
    assert!(form.body["json_schema"]["properties"]["shoe"].is_object());

    assert_eq!(
        send_code(&app, slug, "139 1111 2222", "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = last_code(&app, &t, "13911112222").await;
    let reg = |code: String| json!({ "profile": { "name": "自助会员", "phone": "13911112222", "email": "self@x.com", "custom": { "shoe": 40 } }, "code": code, "password": PASSWORD });
    // A wrong code is refused and counted.
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/register"),
            &Auth::None,
            reg("000000".into()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "code");
    // Bad fields are all named.
    let r = app
        .post(&format!("/api/v1/portal/{slug}/register"), &Auth::None, json!({ "profile": { "name": "", "phone": "1", "custom": { "shoe": "big" } }, "code": code, "password": "short" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for p in ["password", "name", "phone", "custom.shoe"] {
        assert!(paths.contains(&p), "{p}: {paths:?}");
    }
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/register"),
            &Auth::None,
            reg(code.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert!(r.body["token"]
        .as_str()
        .unwrap()
        .starts_with(&format!("pmt_{}_", t.id)));
    assert_eq!(r.body["member"]["phone_verified"], true);
    assert_eq!(r.body["member"]["channel"], "portal");
    assert!(r.body["member"]["card_number"].is_string());
    // Single use.
    let again = app
        .post(
            &format!("/api/v1/portal/{slug}/register"),
            &Auth::None,
            reg(code),
        )
        .await;
    assert!(again.status.is_client_error());

    // Log in with the phone in any formatting, or the e-mail.
    let login = |l: &str, p: &str| json!({ "login": l, "password": p });
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/login"),
            &Auth::None,
            login("+86 139-1111-2222", PASSWORD),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let token = Auth::Bearer(r.body["token"].as_str().unwrap().to_owned());
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/login"),
            &Auth::None,
            login("SELF@x.com", PASSWORD),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/login"),
            &Auth::None,
            login("self@x.com", "wrong-password-1"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let me = app.get(&format!("/api/v1/portal/{slug}/me"), &token).await;
    assert_eq!(me.body["name"], "自助会员");
    assert_eq!(me.body["phone"], "+8613911112222");
    // Only member-editable fields.
    let r = app
        .patch(
            &format!("/api/v1/portal/{slug}/me"),
            &token,
            json!({ "custom": { "vip_level": 9 } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "custom.vip_level");
    let r = app
        .patch(
            &format!("/api/v1/portal/{slug}/me"),
            &token,
            json!({ "join_date": "2020-01-01" }),
        )
        .await;
    assert!(r.status.is_client_error());
    let r = app
        .patch(
            &format!("/api/v1/portal/{slug}/me"),
            &token,
            json!({ "name": "新名字", "custom": { "shoe": 41 } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["custom"]["shoe"], 41);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let log = app
        .get(&format!("/api/v1/members/{id}/audit"), &t.owner())
        .await
        .body;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "custom.shoe"
            && e["channel"] == "portal"
            && e["actor"] == "member:self"));

    // Password reset by code; old sessions end; the new password works.
    assert_eq!(
        send_code(&app, slug, "13911112222", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send_code(&app, slug, "13900000000", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED,
        "unknown phones get the same answer"
    );
    let code = last_code(&app, &t, "13911112222").await;
    let r = app.post(&format!("/api/v1/portal/{slug}/password-reset"), &Auth::None, json!({ "phone": "13911112222", "code": code, "new_password": "another-long-password" })).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    assert_eq!(
        app.get(&format!("/api/v1/portal/{slug}/me"), &token)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/login"),
            &Auth::None,
            login("13911112222", "another-long-password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // Codes: limited attempts, then exhausted even with the right one.
    assert_eq!(
        send_code(&app, slug, "13911112222", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = last_code(&app, &t, "13911112222").await;
    for _ in 0..5 {
        let r = app.post(&format!("/api/v1/portal/{slug}/password-reset"), &Auth::None, json!({ "phone": "13911112222", "code": "999999x", "new_password": "a-third-long-password" })).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app.post(&format!("/api/v1/portal/{slug}/password-reset"), &Auth::None, json!({ "phone": "13911112222", "code": code, "new_password": "a-third-long-password" })).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Codes expire.
    assert_eq!(
        send_code(&app, slug, "13911112222", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = last_code(&app, &t, "13911112222").await;
    app.clock.advance(chrono::Duration::minutes(11));
    let r = app.post(&format!("/api/v1/portal/{slug}/password-reset"), &Auth::None, json!({ "phone": "13911112222", "code": code, "new_password": "a-third-long-password" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Sending is rate limited per phone.
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = send_code(&app, slug, "13911112222", "reset_password")
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn member_and_staff_tokens_never_cross_and_a_member_of_one_business_cannot_reach_another() {
    let app = spawn_app().await;
    let a = app.signup("tok-a").await;
    let b = app.signup("tok-b").await;
    assert_eq!(
        send_code(&app, &a.slug, "13822223333", "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = last_code(&app, &a, "13822223333").await;
    let r = app
        .post(&format!("/api/v1/portal/{}/register", a.slug), &Auth::None, json!({ "profile": { "name": "A member", "phone": "13822223333" }, "code": code, "password": PASSWORD }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let member = Auth::Bearer(r.body["token"].as_str().unwrap().to_owned());

    // Member tokens are refused by staff endpoints, staff tokens by the portal.
    assert_eq!(
        app.get("/api/v1/members", &member).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", &member).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&format!("/api/v1/portal/{}/me", a.slug), &a.owner())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // A's token does not work on B's portal; A's member cannot log in to B.
    assert_eq!(
        app.get(&format!("/api/v1/portal/{}/me", b.slug), &member)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            &format!("/api/v1/portal/{}/login", b.slug),
            &Auth::None,
            json!({ "login": "13822223333", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // B cannot reset the password of A's member (no such member in B).
    let r = app.post(&format!("/api/v1/portal/{}/password-reset", b.slug), &Auth::None, json!({ "phone": "13822223333", "code": "123456", "new_password": "another-long-password" })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // B's staff cannot find A's member, nor read A's outbox.
    let r = app
        .post(
            "/api/v1/members/search",
            &b.owner(),
            json!({ "phone": "13822223333" }),
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 0);
    let r = app.get("/api/v1/sms-outbox", &b.owner()).await;
    assert_eq!(r.body.as_array().unwrap().len(), 0);
    // Unknown businesses are 404.
    assert_eq!(
        app.get("/api/v1/portal/no-such-business/form", &Auth::None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
