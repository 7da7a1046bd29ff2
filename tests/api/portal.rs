//! The member portal: phone-verified registration, login, own profile, password reset, and
//! the walls between member and staff tokens and between businesses.

use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn members_register_with_an_sms_code_log_in_edit_their_profile_and_reset_their_password() {
    let app = spawn_app().await;
    let t = app.signup("portal").await;
    let slug = &t.slug;
    let r = app
        .publish_fields(&t.owner(), &json!({ "fields": [
            { "key": "shoe", "type": "integer", "label": { "zh-CN": "鞋码" }, "member_editable": true },
            { "key": "vip_level", "type": "integer", "label": { "en": "VIP" } }
        ] }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let form = app.portal_form(slug).await.body();
    assert_eq!(form.member_editable, ["shoe"]);
    assert!(form.json_schema["properties"]["shoe"].is_object());

    assert_eq!(
        app.send_portal_code(slug, "139 1111 2222", "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&t, "13911112222").await;
    let reg = |code: String| json!({ "profile": { "name": "自助会员", "phone": "13911112222", "email": "self@x.com", "custom": { "shoe": 40 } }, "code": code, "password": PASSWORD });
    // A wrong code is refused and counted.
    let r = app.register_member(slug, &reg("000000".into())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "code");
    // Bad fields are all named.
    let r = app
        .register_member(slug, &json!({ "profile": { "name": "", "phone": "1", "custom": { "shoe": "big" } }, "code": code, "password": "short" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths = r.fields();
    for p in ["password", "name", "phone", "custom.shoe"] {
        assert!(paths.iter().any(|x| x == p), "{p}: {paths:?}");
    }
    let r = app
        .register_member(slug, &reg(code.clone()))
        .await
        .created();
    assert!(r.token.starts_with(&format!("pmt_{}_", t.id)));
    assert!(r.member.phone_verified);
    assert_eq!(r.member.channel, "portal");
    assert!(r.member.card_number.is_some());
    // Single use.
    let again = app.register_member(slug, &reg(code)).await;
    assert!(again.status.is_client_error());

    // Log in with the phone in any formatting, or the e-mail.
    let token = app
        .portal_login(slug, "+86 139-1111-2222", PASSWORD)
        .await
        .ok()
        .auth();
    let r = app.portal_login(slug, "SELF@x.com", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .portal_login(slug, "self@x.com", "wrong-password-1")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let me = app.portal_me(slug, &token).await.body();
    assert_eq!(me.name, "自助会员");
    assert_eq!(me.phone.as_deref(), Some("+8613911112222"));
    // Only member-editable fields.
    let r = app
        .update_portal_me(slug, &token, &json!({ "custom": { "vip_level": 9 } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "custom.vip_level");
    let r = app
        .update_portal_me(slug, &token, &json!({ "join_date": "2020-01-01" }))
        .await;
    assert!(r.status.is_client_error());
    let r = app
        .update_portal_me(
            slug,
            &token,
            &json!({ "name": "新名字", "custom": { "shoe": 41 } }),
        )
        .await
        .ok();
    assert_eq!(r.custom["shoe"], 41);
    let log = app.member_audit(&t.owner(), &r.id).await.body();
    assert!(log.iter().any(|e| e.field.as_deref() == Some("custom.shoe")
        && e.channel == "portal"
        && e.actor == "member:self"));

    // Password reset by code; old sessions end; the new password works.
    assert_eq!(
        app.send_portal_code(slug, "13911112222", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.send_portal_code(slug, "13900000000", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED,
        "unknown phones get the same answer"
    );
    let reset = |code: &str, new_password: &str| json!({ "phone": "13911112222", "code": code, "new_password": new_password });
    let code = app.last_code(&t, "13911112222").await;
    let r = app
        .reset_portal_password(slug, &reset(&code, "another-long-password"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");
    assert_eq!(
        app.portal_me(slug, &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .portal_login(slug, "13911112222", "another-long-password")
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // Codes: limited attempts, then exhausted even with the right one.
    assert_eq!(
        app.send_portal_code(slug, "13911112222", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&t, "13911112222").await;
    for _ in 0..5 {
        let r = app
            .reset_portal_password(slug, &reset("999999x", "a-third-long-password"))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app
        .reset_portal_password(slug, &reset(&code, "a-third-long-password"))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Codes expire.
    assert_eq!(
        app.send_portal_code(slug, "13911112222", "reset_password")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&t, "13911112222").await;
    app.clock.advance(chrono::Duration::minutes(11));
    let r = app
        .reset_portal_password(slug, &reset(&code, "a-third-long-password"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Sending is rate limited per phone.
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = app
            .send_portal_code(slug, "13911112222", "reset_password")
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
        app.send_portal_code(&a.slug, "13822223333", "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&a, "13822223333").await;
    let member = app
        .register_member(&a.slug, &json!({ "profile": { "name": "A member", "phone": "13822223333" }, "code": code, "password": PASSWORD }))
        .await
        .created()
        .auth();

    // Member tokens are refused by staff endpoints, staff tokens by the portal.
    assert_eq!(
        app.list_members(&member).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(&member).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.portal_me(&a.slug, &a.owner()).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A's token does not work on B's portal; A's member cannot log in to B.
    assert_eq!(
        app.portal_me(&b.slug, &member).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app.portal_login(&b.slug, "13822223333", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // B cannot reset the password of A's member (no such member in B).
    let r = app
        .reset_portal_password(&b.slug, &json!({ "phone": "13822223333", "code": "123456", "new_password": "another-long-password" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // B's staff cannot find A's member, nor read A's outbox.
    let r = app
        .search_members(&b.owner(), &json!({ "phone": "13822223333" }))
        .await;
    assert_eq!(r.body().items.len(), 0);
    let r = app.sms_outbox(&b.owner(), None).await;
    assert_eq!(r.body().len(), 0);
    // Unknown businesses are 404.
    assert_eq!(
        app.portal_form("no-such-business").await.status,
        StatusCode::NOT_FOUND
    );
}
