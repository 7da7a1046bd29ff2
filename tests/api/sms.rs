//! Text messages: the per-number limits of codes held under parallel requests, and codes
//! through a real HTTP SMS gateway (a local server) with template, variables, signature,
//! retries and attempts logged.

use chrono::{Duration, TimeZone, Utc};
use patron_core::clock::Clock;
use patron_tests::internals::{
    deliver_messages, message_senders_with, run_scheduled_notices, set_used,
};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// Waits (up to ten seconds) until the gateway has had `n` calls.
async fn wait_for_calls(gateway: &SmsGatewayServer, n: usize) {
    for _ in 0..100 {
        if gateway.calls().len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the gateway had {} calls, not {n}", gateway.calls().len());
}

/// The text messages' log once the newest attempt is written (up to ten seconds).
async fn wait_for_attempt(app: &TestApp, owner: &Auth) -> Vec<MessageRow> {
    for _ in 0..100 {
        let log = app.list_messages_of(owner, "sms").await.ok();
        if log.first().is_some_and(|m| m.status != "sending") {
            return log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the text's attempt was not logged");
}

/// The seconds a 429 says to wait, after checking its code.
fn refused(r: &Reply) -> i64 {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    assert_eq!(r.problem().code, "too_many_codes");
    r.header("retry-after").parse().unwrap()
}

#[tokio::test]
async fn twenty_parallel_code_requests_for_one_number_send_one_and_the_hour_and_day_caps_hold() {
    // Fewer connections than requests: those for the same number wait for its row holding
    // theirs, so the one that holds the row must finish without a second connection.
    let app = spawn_app_with(6).await;
    let t = app.signup("sms-limits").await;
    let slug = t.slug.clone();
    let phone = "13712345678";

    let calls = (0..20).map(|_| app.send_portal_code(&slug, phone, "register"));
    let replies = futures::future::join_all(calls).await;
    let sent = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    assert_eq!(sent, 1, "one code a minute");
    for r in replies.iter().filter(|r| r.status != StatusCode::ACCEPTED) {
        let wait = refused(r);
        assert!((1..=60).contains(&wait), "{wait}");
    }
    let outbox = app
        .sms_outbox(&t.owner(), Some("+8613712345678"))
        .await
        .ok();
    assert_eq!(outbox.len(), 1);

    // A minute later, the next; five in the hour, then wait for the hour.
    for _ in 1..5 {
        app.clock.advance(Duration::seconds(61));
        let r = app.send_portal_code(&slug, phone, "register").await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    }
    app.clock.advance(Duration::seconds(61));
    let wait = refused(&app.send_portal_code(&slug, phone, "register").await);
    // The hour began with the first code, 4 × 61 + 61 seconds ago.
    assert_eq!(wait, 3600 - 5 * 61);
    // Another number is not held back by this one.
    let r = app.send_portal_code(&slug, "13712340000", "register").await;
    assert_eq!(r.status, StatusCode::ACCEPTED);

    // The next hour: five more, and the day's ten are used.
    app.clock.advance(Duration::seconds(wait));
    for i in 0..5 {
        if i > 0 {
            app.clock.advance(Duration::seconds(61));
        }
        let r = app.send_portal_code(&slug, phone, "register").await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{i}: {r:?}");
    }
    let outbox = app
        .sms_outbox(&t.owner(), Some("+8613712345678"))
        .await
        .ok();
    assert_eq!(outbox.len(), 10);
    app.clock.advance(Duration::hours(1));
    let wait = refused(&app.send_portal_code(&slug, phone, "register").await);
    assert!(
        wait > 20 * 3600 && wait <= 86_400,
        "until the day is over: {wait}"
    );
    app.clock.advance(Duration::seconds(wait));
    let r = app.send_portal_code(&slug, phone, "register").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "a new day: {r:?}");
}

#[tokio::test]
async fn codes_go_through_the_http_gateway_signed_with_template_and_variables_and_are_retried() {
    let gateway = SmsGatewayServer::start().await;
    let app = spawn_app_with_sms_gateway(&gateway).await;
    let t = app.signup("sms-gateway").await;
    let owner = t.owner();
    let senders = message_senders_with(None, Some(gateway.config()));

    // The gateway is busy first, then takes it.
    gateway.answer(&[503]);
    let r = app
        .send_portal_code(&t.slug, "139 8888 1111", "register")
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    // Nothing in the development table: the message is the outbox's to deliver. It is
    // tried at once, after the request's commit, not at the job runner's next turn.
    assert!(app.sms_outbox(&owner, None).await.ok().is_empty());
    wait_for_calls(&gateway, 1).await;
    let now = app.clock.now();
    let log = wait_for_attempt(&app, &owner).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, "pending");
    assert_eq!(log[0].occasion.as_deref(), Some("register"));
    assert!(
        log[0].last_error.as_deref().unwrap().contains("503"),
        "{log:?}"
    );
    // Not before its time, then delivered.
    let report = deliver_messages(&app, t.id, &senders, now + Duration::seconds(2)).await;
    assert_eq!((report.sent, report.failed), (0, 0));
    let report = deliver_messages(&app, t.id, &senders, now + Duration::seconds(6)).await;
    assert_eq!((report.sent, report.failed), (1, 0));
    let log = app.list_messages_of(&owner, "sms").await.ok();
    assert_eq!((log[0].status.as_str(), log[0].attempts), ("sent", 2));

    let calls = gateway.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].body, calls[1].body, "every attempt sends the same");
    let c = &calls[1];
    assert_eq!(c.authorization, format!("Bearer {SMS_GATEWAY_KEY}"));
    let ts: i64 = c.timestamp.parse().unwrap();
    assert_eq!(
        c.signature,
        patron_outbound::sms_signature(SMS_GATEWAY_KEY, ts, &c.body)
    );
    assert_ne!(
        c.signature,
        patron_outbound::sms_signature("another-key", ts, &c.body)
    );
    let body = c.json();
    assert_eq!(body["to"], "+8613988881111");
    assert_eq!(
        body["template"], "SMS_CODE_1",
        "our `code` as the provider's id"
    );
    assert_eq!(body["variables"]["minutes"], "10");
    let code = body["variables"]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(body["text"].as_str().unwrap().contains(&code));
    assert!(body["id"].as_str().unwrap().starts_with("sms_"));

    // The code that reached the phone registers the member.
    let r = app
        .register_member(
            &t.slug,
            &json!({ "profile": { "name": "网关会员", "phone": "13988881111" }, "code": code,
                     "password": PASSWORD }),
        )
        .await;
    assert!(r.status.is_success(), "{r:?}");

    // A refusal for good (a bad number) is not tried again.
    gateway.answer(&[400]);
    app.clock.advance(Duration::seconds(61));
    let r = app
        .send_portal_code(&t.slug, "139 8888 2222", "register")
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    wait_for_calls(&gateway, 3).await;
    // The refusal is logged once the call is answered; until then the text is still held
    // under the sending lease, which a run a day later would take again.
    wait_for_attempt(&app, &owner).await;
    let later = app.clock.now();
    let report = deliver_messages(&app, t.id, &senders, later + Duration::days(1)).await;
    assert_eq!((report.sent, report.failed), (0, 0));
    let log = app.list_messages_of(&owner, "sms").await.ok();
    assert_eq!((log[0].status.as_str(), log[0].attempts), ("failed", 1));
    assert_eq!(gateway.calls().len(), 3);
}

#[tokio::test]
async fn a_birthday_text_ends_with_the_opt_out_line_waits_for_the_quiet_hours_and_skips_those_who_opted_out(
) {
    let app = spawn_app().await;
    // 22:00 on 15 June in Shanghai: inside the quiet hours.
    let t0 = Utc.with_ymd_and_hms(2027, 6, 15, 14, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("sms-birthday", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.save_message_template(
        &owner,
        &json!({ "occasion": "birthday", "channel": "sms", "locale": "zh-CN", "subject": "",
                 "body_text": "【{{business.name}}】祝{{member.name}}生日快乐！" }),
    )
    .await
    .ok();
    app.set_scheduled_notice(&owner, "birthday", &json!({ "enabled": true }))
        .await
        .ok();
    app.member(
        &owner,
        NewMember::named("寿星")
            .phone("13800001001")
            .birthday("1990-06-15"),
    )
    .await;
    // No phone: no text.
    app.member(&owner, NewMember::named("无号").birthday("1990-06-15"))
        .await;
    // A member who turned marketing texts off in the portal.
    app.send_portal_code(&t.slug, "13800001002", "register")
        .await;
    let code = app.last_code(&t, "13800001002").await;
    let quiet: MemberSession = app
        .register_member(
            &t.slug,
            &json!({ "profile": { "name": "安静", "phone": "13800001002",
                                  "birthday": "1991-06-15" }, "code": code }),
        )
        .await
        .created();
    let prefs = app
        .portal_contact_preferences(&t.slug, &quiet.auth())
        .await
        .ok();
    assert!(prefs.marketing_sms, "on unless turned off");
    let prefs = app
        .set_portal_contact_choices(&t.slug, &quiet.auth(), true, false)
        .await
        .ok();
    assert!(prefs.marketing_email && !prefs.marketing_sms);

    let senders = message_senders_with(None, None);
    let first = run_scheduled_notices(&app, t.id, &senders, t0).await;
    assert_eq!(first["queued_sms"]["birthday"], 1, "{first}");
    let again = run_scheduled_notices(&app, t.id, &senders, t0 + Duration::minutes(1)).await;
    assert_eq!(
        again["queued_sms"]["birthday"], 0,
        "once per occasion: {again}"
    );
    // Quiet hours: nothing leaves before 09:00 local.
    let report = deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(2)).await;
    assert_eq!(report.sent, 0, "{report:?}");
    assert!(app
        .sms_outbox(&owner, Some("+8613800001001"))
        .await
        .ok()
        .is_empty());

    // 09:30 the next morning: sent, through the development provider (the outbox table).
    let t1 = Utc.with_ymd_and_hms(2027, 6, 16, 1, 30, 0).unwrap();
    app.clock.set(t1);
    let report = deliver_messages(&app, t.id, &senders, t1).await;
    assert_eq!(report.sent, 1, "{report:?}");
    let owner = app.api_key(&t, "owner").await;
    let texts = app.sms_outbox(&owner, Some("+8613800001001")).await.ok();
    assert_eq!(texts.len(), 1);
    assert_eq!(
        texts[0].body,
        format!("【Business {}】祝寿星生日快乐！拒收请回复R", t.slug)
    );
    assert_eq!(texts[0].purpose, "birthday");
    let to_quiet = app.sms_outbox(&owner, Some("+8613800001002")).await.ok();
    assert_eq!(to_quiet.len(), 1, "only the registration code");
    assert_eq!(to_quiet[0].purpose, "register");
    let log = app.list_messages_of(&owner, "sms").await.ok();
    assert_eq!(
        (log[0].status.as_str(), log[0].occasion.as_deref()),
        ("sent", Some("birthday"))
    );
}

#[tokio::test]
async fn member_texts_take_from_the_months_sms_quota_and_parallel_runs_never_pass_its_last_unit() {
    let app = spawn_app().await;
    // 11:00 on 15 June in Shanghai: outside the quiet hours.
    let t0 = Utc.with_ymd_and_hms(2027, 6, 15, 3, 0, 0).unwrap();
    app.clock.set(t0);
    let plan = json!({ "name": "Texts", "monthly_price_minor": 9_999_999,
                       "currency": "CNY", "features": ["notices"],
                       "limits": { "sms_per_month": 10 }, "trial_days": 0 });
    let t = app.signup_on_own_plan("sms-quota", &plan).await;
    let owner = t.owner();
    app.save_message_template(
        &owner,
        &json!({ "occasion": "birthday", "channel": "sms", "locale": "zh-CN", "subject": "",
                 "body_text": "祝{{member.name}}生日快乐！" }),
    )
    .await
    .ok();
    app.set_scheduled_notice(&owner, "birthday", &json!({ "enabled": true }))
        .await
        .ok();
    for i in 0..5 {
        app.member(
            &owner,
            NewMember::named(format!("寿星{i}"))
                .phone(format!("1380000200{i}"))
                .birthday("1990-06-15"),
        )
        .await;
    }
    // One text of the month is left.
    set_used(&app, t.id, "sms_per_month", t0, 9).await;
    let senders = message_senders_with(None, None);
    let runs = (0..4).map(|_| run_scheduled_notices(&app, t.id, &senders, t0));
    let reports = futures::future::join_all(runs).await;
    let queued: i64 = reports
        .iter()
        .map(|r| r["queued_sms"]["birthday"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(queued, 1, "{reports:?}");
    let report = deliver_messages(&app, t.id, &senders, t0).await;
    assert_eq!(report.sent, 1, "{report:?}");
    let mut sent = 0;
    for i in 0..5 {
        sent += app
            .sms_outbox(&owner, Some(&format!("+861380000200{i}")))
            .await
            .ok()
            .len();
    }
    assert_eq!(sent, 1, "only the last text of the month is sent");
    let log = app.list_messages_of(&owner, "sms").await.ok();
    let stopped: Vec<_> = log.iter().filter(|m| m.status == "stopped").collect();
    assert_eq!((log.len(), stopped.len()), (5, 4), "{log:?}");
    assert!(stopped.iter().all(|m| m
        .last_error
        .as_deref()
        .is_some_and(|e| e.starts_with("sms_per_month"))));
    let usage = patron_db::plans::monthly_usage(&app.db, t.id, t0)
        .await
        .unwrap();
    assert_eq!(usage.get("sms_per_month").copied(), Some(10), "{usage:?}");
}

#[tokio::test]
async fn a_reply_r_from_a_member_turns_their_marketing_texts_off_once_and_needs_the_gateways_signature(
) {
    let gateway = SmsGatewayServer::start().await;
    let app = spawn_app_with_sms_gateway(&gateway).await;
    // 11:00 on 15 June in Shanghai: outside the quiet hours.
    let t0 = Utc.with_ymd_and_hms(2027, 6, 15, 3, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("sms-reply", "pro").await;
    let owner = t.owner();
    app.save_message_template(
        &owner,
        &json!({ "occasion": "birthday", "channel": "sms", "locale": "zh-CN", "subject": "",
                 "body_text": "祝{{member.name}}生日快乐！" }),
    )
    .await
    .ok();
    app.set_scheduled_notice(&owner, "birthday", &json!({ "enabled": true }))
        .await
        .ok();
    let quits = app
        .member(
            &owner,
            NewMember::named("退订者")
                .phone("13800003001")
                .birthday("1990-06-15"),
        )
        .await
        .id;
    app.member(
        &owner,
        NewMember::named("留下")
            .phone("13800003002")
            .birthday("1990-06-15"),
    )
    .await;
    let reply = json!({ "id": "mo-1", "tenant": t.slug, "from": "+8613800003001",
                        "text": "退订" });

    // Unsigned, signed with another key, or stale: 401, and nothing changes.
    let body = serde_json::to_vec(&reply).unwrap();
    let ts = t0.timestamp();
    let r = app.sms_reply_raw(body.clone(), &ts.to_string(), "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.problem().code, "bad_signature");
    let wrong = gateway_signature("another-key", ts, &body);
    let r = app
        .sms_reply_raw(body.clone(), &ts.to_string(), &wrong)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let stale = ts - 600;
    let old = gateway_signature(SMS_GATEWAY_KEY, stale, &body);
    let r = app
        .sms_reply_raw(body.clone(), &stale.to_string(), &old)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Signed: the member with that number gets no more marketing texts; the same callback
    // again does nothing more; the same id with another body is 409.
    let ack = app.sms_reply(&reply, SMS_GATEWAY_KEY).await.ok();
    assert_eq!(
        (ack.action.as_str(), ack.member_found, ack.duplicate),
        ("opted_out", true, false)
    );
    let again = app.sms_reply(&reply, SMS_GATEWAY_KEY).await.ok();
    assert_eq!(
        (again.action.as_str(), again.duplicate),
        ("opted_out", true)
    );
    let mut other = reply.clone();
    other["text"] = json!("谢谢");
    let r = app.sms_reply(&other, SMS_GATEWAY_KEY).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    // A reply that asks for nothing, and an unknown number, change nothing.
    let chat = json!({ "id": "mo-2", "tenant": t.slug, "from": "13800003002", "text": "好的" });
    let ack = app.sms_reply(&chat, SMS_GATEWAY_KEY).await.ok();
    assert_eq!((ack.action.as_str(), ack.member_found), ("ignored", true));
    let stranger = json!({ "id": "mo-3", "tenant": t.slug, "from": "13900009999", "text": "R" });
    let ack = app.sms_reply(&stranger, SMS_GATEWAY_KEY).await.ok();
    assert_eq!((ack.action.as_str(), ack.member_found), ("ignored", false));
    // Bad input names its field; an unknown business is 404.
    let bad = json!({ "id": "mo-4", "tenant": t.slug, "from": "not a phone", "text": "R" });
    let r = app.sms_reply(&bad, SMS_GATEWAY_KEY).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["from"]);
    let nowhere = json!({ "id": "mo-5", "tenant": "no-such-business", "from": "13800003001",
                          "text": "R" });
    assert_eq!(
        app.sms_reply(&nowhere, SMS_GATEWAY_KEY).await.status,
        StatusCode::NOT_FOUND
    );

    // The change is logged with where it came from.
    let log = app
        .audit_log_where(&owner, &[("action", "member.contact_preferences")])
        .await
        .ok();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].detail["marketing_sms"], false);
    assert_eq!(log[0].detail["via"], "sms_reply");
    assert_eq!(log[0].target.as_deref(), Some(quits.as_str()));

    // The birthday texts: only the member who stayed.
    let senders = message_senders_with(None, Some(gateway.config()));
    let report = run_scheduled_notices(&app, t.id, &senders, t0).await;
    assert_eq!(report["queued_sms"]["birthday"], 1, "{report}");
    deliver_messages(&app, t.id, &senders, t0).await;
    let to: Vec<String> = gateway
        .calls()
        .iter()
        .map(|c| c.json()["to"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(to, ["+8613800003002"]);
}

#[tokio::test]
async fn a_campaigns_texts_go_through_the_gateway_when_one_is_configured() {
    let gateway = SmsGatewayServer::start().await;
    let app = spawn_app_with_sms_gateway(&gateway).await;
    // 11:00 on 15 June in Shanghai: outside the quiet hours.
    let t0 = Utc.with_ymd_and_hms(2027, 6, 15, 3, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("sms-campaign", "pro").await;
    let owner = t.owner();
    let m = app
        .member(&owner, NewMember::named("短信会员").phone("13800004001"))
        .await;
    let c = app
        .create_campaign(
            &owner,
            &campaign_body("Gateway texts", json!({ "ids": [m.id] }), &["sms"]),
        )
        .await
        .ok();
    let senders = message_senders_with(None, Some(gateway.config()));
    let report = run_campaign(&app, t.id, &senders, &c.id, t0).await;
    assert_eq!(report["status"], "done", "{report}");
    assert!(
        app.sms_outbox(&owner, None).await.ok().is_empty(),
        "not the development table"
    );
    let delivered = deliver_messages(&app, t.id, &senders, t0).await;
    assert_eq!((delivered.sent, delivered.failed), (1, 0), "{delivered:?}");
    let calls = gateway.calls();
    assert_eq!(calls.len(), 1);
    let body = calls[0].json();
    assert_eq!(body["to"], "+8613800004001");
    let text = body["text"].as_str().unwrap();
    assert!(
        text.contains("短信会员，春季新品上市") && text.contains("拒收请回复R"),
        "{text}"
    );
    let c = app.get_campaign(&owner, &c.id).await.ok();
    assert_eq!(c.on("sms").sent, 1);
}

#[tokio::test]
async fn staff_see_how_texts_leave_and_a_test_text_counts_against_the_number_and_the_quota() {
    let app = spawn_app().await;
    let plan = json!({ "name": "Two texts", "monthly_price_minor": 9_999_999,
                       "currency": "CNY", "features": [], "limits": { "sms_per_month": 2 },
                       "trial_days": 0 });
    let t = app.signup_on_own_plan("sms-test", &plan).await;
    let owner = t.owner();
    let s = app.sms_status(&owner).await.ok();
    assert_eq!(
        (s.provider.as_str(), s.used_this_month, s.quota, s.overage),
        ("development_outbox", 0, Some(2), false)
    );

    let r = app.send_test_sms(&owner, "138 0000 4001").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    let texts = app.sms_outbox(&owner, Some("+8613800004001")).await.ok();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].purpose, "test");
    assert!(texts[0].body.contains("测试短信"), "{}", texts[0].body);
    // The number's limit: one a minute.
    let wait = refused(&app.send_test_sms(&owner, "13800004001").await);
    assert!((1..=60).contains(&wait));
    // Another number takes the month's last text; a third is over the quota.
    let r = app.send_test_sms(&owner, "13800004002").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    let r = app.send_test_sms(&owner, "13800004003").await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    assert_eq!(r.problem().code, "limit_reached");
    assert!(app
        .sms_outbox(&owner, Some("+8613800004003"))
        .await
        .ok()
        .is_empty());
    assert_eq!(app.sms_status(&owner).await.ok().used_this_month, 2);
    let r = app.send_test_sms(&owner, "not a phone").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["phone"]);
}
