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
    let member_id = r.id.clone();
    let log = app.member_audit(&t.owner(), &r.id).await.body();
    assert!(log.iter().any(|e| e.field.as_deref() == Some("custom.shoe")
        && e.channel == "portal"
        && e.actor == "member:self"));
    // The business's audit log has the member's own edit too, with the fields it changed.
    let audit = app
        .audit_log_where(
            &t.owner(),
            &[("member", r.id.as_str()), ("action", "member.updated")],
        )
        .await
        .body();
    assert!(
        audit.iter().any(|e| {
            let fields = e.detail["fields"].as_array().cloned().unwrap_or_default();
            e.actor == "member:self"
                && fields.len() == 2
                && fields.contains(&json!("name"))
                && fields.contains(&json!("custom.shoe"))
        }),
        "{audit:?}"
    );

    // Password reset by code; old sessions end; the new password works.
    // One code a minute to a number.
    app.clock.advance(chrono::Duration::seconds(61));
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
    // One code a minute to a number.
    app.clock.advance(chrono::Duration::seconds(61));
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
    // One code a minute to a number.
    app.clock.advance(chrono::Duration::seconds(61));
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

    // A new phone (with a code sent to it): the front desk finds the member by its last four
    // digits at once.
    assert_eq!(
        app.send_portal_code(slug, "13922223333", "phone_change")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&t, "13922223333").await;
    let token = app
        .portal_login(slug, "13911112222", "another-long-password")
        .await
        .ok()
        .auth();
    app.update_portal_me(
        slug,
        &token,
        &json!({ "phone": "13922223333", "phone_code": code }),
    )
    .await
    .ok();
    let found = app.desk_lookup(&t.owner(), "3333").await.body();
    assert!(
        found.matches.iter().any(|m| m.id == member_id),
        "found by the new phone's last four: {found:?}"
    );
    let gone = app.desk_lookup(&t.owner(), "2222").await.body();
    assert!(!gone.matches.iter().any(|m| m.id == member_id), "{gone:?}");
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

#[tokio::test]
async fn staff_only_fields_are_neither_shown_nor_filled_in_the_portal_and_a_required_select_has_no_default(
) {
    let app = spawn_app().await;
    let t = app.signup("vis").await;
    let slug = &t.slug;
    // A field members edit must be visible to them.
    let r = app
        .publish_fields(&t.owner(), &json!({ "fields": [
            { "key": "locker", "type": "text", "label": { "en": "Locker" }, "member_visible": false, "member_editable": true }
        ] }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.fields().iter().any(|f| f == "fields.0.member_visible"),
        "{r:?}"
    );
    let r = app
        .publish_fields(&t.owner(), &json!({ "fields": [
            { "key": "expires", "type": "date", "label": { "zh-CN": "会籍到期" }, "required": true, "member_visible": false },
            { "key": "goal", "type": "single_select", "label": { "zh-CN": "目标" }, "required": true,
              "options": [{ "value": "fit", "label": { "zh-CN": "塑形" } }, { "value": "lose", "label": { "zh-CN": "减脂" } }] },
            { "key": "shoe", "type": "integer", "label": { "zh-CN": "鞋码" }, "member_editable": true }
        ] }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");

    // The form knows nothing of the staff-only field.
    let form = app.portal_form(slug).await.body();
    assert!(form.json_schema["properties"].get("expires").is_none());
    assert!(form.ui_schema.get("expires").is_none());
    assert_eq!(form.json_schema["required"], json!(["goal"]));
    assert_eq!(form.member_editable, ["shoe"]);

    app.send_portal_code(slug, "13944445555", "register").await;
    let code = app.last_code(&t, "13944445555").await;
    let reg = |custom: serde_json::Value| json!({ "profile": { "name": "会员", "phone": "13944445555", "custom": custom }, "code": code, "password": PASSWORD });
    // A required select left empty is refused; so is a member setting their own expiry.
    let r = app
        .register_member(slug, &reg(json!({ "expires": "2099-12-31" })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = r.fields();
    assert!(fields.iter().any(|f| f == "custom.goal"), "{fields:?}");
    assert!(fields.iter().any(|f| f == "custom.expires"), "{fields:?}");
    assert!(
        !fields.iter().any(|f| f == "code"),
        "refused before the code is spent"
    );
    // The required staff-only field is not required of members.
    let session = app
        .register_member(slug, &reg(json!({ "goal": "lose" })))
        .await
        .created();
    assert_eq!(session.member.custom, json!({ "goal": "lose" }));

    // Staff still must fill it at the counter, and set it here.
    let r = app
        .create_member(
            &t.owner(),
            &json!({ "name": "Counter", "custom": { "goal": "fit" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["custom.expires"]);
    let id = &session.member.id;
    let r = app
        .update_member(
            &t.owner(),
            id,
            &json!({ "custom": { "expires": "2027-06-30" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body().custom["expires"], "2027-06-30");
    // The member does not see it, nor can change it.
    let me = app.portal_me(slug, &session.auth()).await.body();
    assert!(me.custom.get("expires").is_none(), "{:?}", me.custom);
    assert_eq!(me.custom["goal"], "lose");
    let r = app
        .update_portal_me(
            slug,
            &session.auth(),
            &json!({ "custom": { "expires": "2099-12-31" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["custom.expires"]);
    let staff_view = app.get_member(&t.owner(), id).await.body();
    assert_eq!(staff_view.custom["expires"], "2027-06-30");
}

#[tokio::test]
async fn the_portal_page_shows_the_business_and_registration_must_agree_to_the_current_privacy_terms(
) {
    let app = spawn_app().await;
    let t = app.signup("consent").await;
    let slug = &t.slug;
    let s = app.portal_settings(&t.owner()).await.body();
    assert_eq!((s.privacy_text.as_str(), s.privacy_version), ("", 0));
    let form = app.portal_form(slug).await.body();
    assert!(form.privacy.is_none());
    // Check-ins follow the plan (the default plan has no events).
    assert!(!form.check_ins);

    // Reading needs settings:read, writing settings:manage.
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(app.portal_settings(&desk).await.status, StatusCode::OK);
    let page = |terms: &str| json!({ "logo_url": "https://cdn.example.com/gym.png", "address": "上海市静安区南京西路 1 号", "opening_hours": "周一至周日 06:00–22:00", "privacy_text": terms });
    assert_eq!(
        app.set_portal_settings(&desk, &page("条款")).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .set_portal_settings(&t.owner(), &json!({ "logo_url": "javascript:alert(1)", "address": "", "opening_hours": "", "privacy_text": "" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["logo_url"]);

    // Terms get version 1; saving the same text keeps it; a change makes version 2.
    let s = app
        .set_portal_settings(&t.owner(), &page("我们收集您的手机号用于会员服务。"))
        .await
        .ok();
    assert_eq!(s.privacy_version, 1);
    let s = app
        .set_portal_settings(&t.owner(), &page("我们收集您的手机号用于会员服务。"))
        .await
        .ok();
    assert_eq!(s.privacy_version, 1);
    let form = app.portal_form(slug).await.body();
    assert_eq!(form.logo_url, "https://cdn.example.com/gym.png");
    assert_eq!(form.address, "上海市静安区南京西路 1 号");
    assert_eq!(form.opening_hours, "周一至周日 06:00–22:00");
    let terms = form.privacy.expect("terms");
    assert_eq!(terms.version, 1);
    assert_eq!(terms.text, "我们收集您的手机号用于会员服务。");

    app.send_portal_code(slug, "13955556666", "register").await;
    let code = app.last_code(&t, "13955556666").await;
    let reg = |consent: Option<i32>| json!({ "profile": { "name": "会员", "phone": "13955556666" }, "code": code, "password": PASSWORD, "consent_version": consent });
    let r = app.register_member(slug, &reg(None)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let p = r.problem();
    assert_eq!(p.code, "consent_required");
    assert_eq!(p.fields[0].field, "consent_version");
    let s = app
        .set_portal_settings(&t.owner(), &page("第二版条款"))
        .await
        .ok();
    assert_eq!(s.privacy_version, 2);
    // Agreeing to terms no longer in force is not agreeing.
    let r = app.register_member(slug, &reg(Some(1))).await;
    assert_eq!(r.problem().code, "consent_required");
    let m = app.register_member(slug, &reg(Some(2))).await.created();

    // The consent is stored with its version, on the member's record.
    let log = app.member_audit(&t.owner(), &m.member.id).await.body();
    let consent = log
        .iter()
        .find(|e| e.action == "member.consent")
        .expect("a consent entry");
    assert_eq!(consent.field.as_deref(), Some("consent_version"));
    assert_eq!(consent.after, Some(json!(2)));
    assert_eq!(consent.channel, "portal");

    // On a plan with events, the portal offers check-ins.
    let pro = app.signup_on("consent-pro", "pro").await;
    assert!(app.portal_form(&pro.slug).await.body().check_ins);
}

#[tokio::test]
async fn members_log_in_with_a_code_sent_to_their_phone_and_may_register_without_a_password() {
    let app = spawn_app().await;
    let t = app.signup("smslogin").await;
    let slug = &t.slug;
    app.send_portal_code(slug, "13966667777", "register").await;
    let code = app.last_code(&t, "13966667777").await;
    let m = app
        .register_member(
            slug,
            &json!({ "profile": { "name": "无密码", "phone": "13966667777" }, "code": code }),
        )
        .await
        .created();
    assert!(m.token.starts_with("pmt_"));
    // No password: password logins are refused like any wrong one.
    let r = app.portal_login(slug, "13966667777", PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Either a password or a code, not both, not neither.
    let r = app
        .portal_login_with(
            slug,
            &json!({ "login": "13966667777", "password": PASSWORD, "code": "123456" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .portal_login_with(slug, &json!({ "login": "13966667777" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Unknown phones get the same answer and no text.
    assert_eq!(
        app.send_portal_code(slug, "13900001111", "login")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    assert!(app
        .sms_outbox(&t.owner(), Some("13900001111"))
        .await
        .body()
        .is_empty());

    // One code a minute to a number.
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        app.send_portal_code(slug, "139 6666 7777", "login")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let sms = app.sms_outbox(&t.owner(), Some("13966667777")).await.body();
    assert_eq!(sms[0].purpose, "login");
    let code = app.last_code(&t, "13966667777").await;
    let by_code = |login: &str, code: &str| json!({ "login": login, "code": code });
    let r = app
        .portal_login_with(slug, &by_code("13966667777", "000000"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["code"]);
    let r = app
        .portal_login_with(slug, &by_code("nobody@x.com", &code))
        .await;
    assert_eq!(r.fields(), ["login"]);
    let s = app
        .portal_login_with(slug, &by_code("+86 139-6666-7777", &code))
        .await
        .ok();
    assert_eq!(s.member.id, m.member.id);
    assert_eq!(app.portal_me(slug, &s.auth()).await.status, StatusCode::OK);
    // Single use.
    let r = app
        .portal_login_with(slug, &by_code("13966667777", &code))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A code sent for another purpose does not log in.
    app.clock.advance(chrono::Duration::minutes(1));
    app.send_portal_code(slug, "13966667777", "reset_password")
        .await;
    let reset = app.last_code(&t, "13966667777").await;
    let r = app
        .portal_login_with(slug, &by_code("13966667777", &reset))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The same limits as other codes: five wrong guesses wear a code out.
    // One code a minute to a number.
    app.clock.advance(chrono::Duration::seconds(61));
    app.send_portal_code(slug, "13966667777", "login").await;
    let code = app.last_code(&t, "13966667777").await;
    for _ in 0..5 {
        let r = app
            .portal_login_with(slug, &by_code("13966667777", "999999"))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app
        .portal_login_with(slug, &by_code("13966667777", &code))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // And a phone gets five codes an hour (four were sent), one a minute.
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        app.send_portal_code(slug, "13966667777", "login")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // One code a minute to a number.
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        app.send_portal_code(slug, "13966667777", "login")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn the_code_sms_speaks_only_the_business_language_and_fits_one_segment() {
    let app = spawn_app().await;
    let t = app.signup("smslang").await;
    // A long Chinese name: the text still fits one UCS-2 segment.
    let r = app
        .update_settings(
            &t.owner(),
            &json!({ "name": "上海市静安区活力无限健身俱乐部南京西路旗舰店会员服务中心", "locale": "zh-CN" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .send_portal_code(&t.slug, "13977778888", "register")
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let outbox = app.sms_outbox(&t.owner(), Some("13977778888")).await.ok();
    let zh = &outbox.first().expect("an SMS").body;
    assert!(zh.contains("验证码"), "{zh}");
    assert!(
        !zh.chars().any(|c| c.is_ascii_alphabetic()),
        "English in a zh-CN text: {zh}"
    );
    assert!(zh.chars().count() <= 70, "more than one segment: {zh}");

    let r = app
        .update_settings(&t.owner(), &json!({ "name": "Iron Gym", "locale": "en" }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .send_portal_code(&t.slug, "13977779999", "register")
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let outbox = app.sms_outbox(&t.owner(), Some("13977779999")).await.ok();
    let en = &outbox.first().expect("an SMS").body;
    assert!(en.starts_with("[Iron Gym] Your code is "), "{en}");
    assert!(
        !en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{en}"
    );
    assert!(en.chars().count() <= 160, "{en}");
}
