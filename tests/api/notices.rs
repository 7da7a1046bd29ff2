//! Staff password resets by e-mail (a real SMTP server), portal notices by period and
//! audience, the member's inbox and contact preferences, scheduled notices and the e-mail
//! quota.

use crate::messages::{body_text, header_value};
use chrono::{Duration, TimeZone, Utc};
use patron_core::clock::Clock;
use patron_tests::internals::{
    deliver_messages, message_senders, reevaluate_tiers, run_scheduled_notices, set_emails_used,
};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Registers a member through the portal of `t` and returns their portal login.
async fn portal_member(
    app: &TestApp,
    t: &TestTenant,
    phone: &str,
    profile: Value,
) -> MemberSession {
    assert_eq!(
        app.send_portal_code(&t.slug, phone, "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(t, phone).await;
    let mut profile = profile;
    profile["phone"] = json!(phone);
    app.register_member(&t.slug, &json!({ "profile": profile, "code": code }))
        .await
        .created()
}

fn tier(code: &str, threshold: i64) -> Value {
    json!({ "code": code, "name": { "zh-CN": code, "en": code }, "threshold": threshold,
            "benefits": {} })
}

/// Recipients (`X-Envelope-To`) of the messages an SMTP sink holds, sorted.
fn recipients(mails: &[String]) -> Vec<String> {
    let mut out: Vec<String> = mails
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("X-Envelope-To: "))
                .map(|s| s.trim().to_owned())
        })
        .collect();
    out.sort();
    out
}

/// The token of the unsubscribe link in an e-mail's text.
fn unsubscribe_token(text: &str) -> String {
    let at = text
        .find("/unsubscribe?token=")
        .expect("an unsubscribe link")
        + "/unsubscribe?token=".len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect()
}

/// The token of the reset link in an e-mail's text.
fn reset_token(text: &str) -> String {
    let at = text.find("token=").expect("a reset link") + "token=".len();
    text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

#[tokio::test]
async fn a_reset_link_arrives_by_email_works_once_and_expires() {
    let app = spawn_app().await;
    let t = app.signup_on("reset", "pro").await;
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));

    // Unknown businesses and addresses answer the same and send nothing.
    let unknown = app
        .request_password_reset("no-such-business", &t.owner_email)
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    let stranger = app
        .request_password_reset(&t.slug, "stranger@example.com")
        .await;
    assert_eq!(stranger.status, StatusCode::ACCEPTED);
    let bad = app.request_password_reset(&t.slug, "not an address").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.fields(), ["email"]);

    let asked = app
        .request_password_reset(&t.slug, &t.owner_email.to_uppercase())
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED);
    let report = deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!(report.sent, 1, "{report:?}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "only the known address gets a mail");
    let raw = &mails[0];
    assert!(
        raw.contains(&format!("X-Envelope-To: {}", t.owner_email)),
        "{raw}"
    );
    assert!(header_value(raw, "Subject").contains("Business"), "{raw}");
    let text = body_text(raw);
    assert!(text.contains("/reset-password?token=prs_"), "{text}");
    let token = reset_token(&text);

    // Password rules as elsewhere.
    let short = app.confirm_password_reset(&token, "short").await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.fields(), ["new_password"]);
    // A forged token.
    let forged = tampered(&token);
    let r = app
        .confirm_password_reset(&forged, "a brand new password 1")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["token"]);

    let done = app
        .confirm_password_reset(&token, "a brand new password 1")
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");
    // The owner's sessions ended; the new password logs in, the old does not.
    assert_eq!(app.me(&t.owner()).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login(&t.slug, &t.owner_email, &t.owner_password)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&t.slug, &t.owner_email, "a brand new password 1")
            .await
            .status,
        StatusCode::OK
    );
    // Once only.
    let again = app
        .confirm_password_reset(&token, "another new password 2")
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.fields(), ["token"]);

    // A link older than 30 minutes is refused.
    app.request_password_reset(&t.slug, &t.owner_email).await;
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2);
    let late = reset_token(&body_text(&mails[1]));
    assert_ne!(late, token);
    app.clock.advance(Duration::minutes(31));
    let expired = app
        .confirm_password_reset(&late, "another new password 2")
        .await;
    assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(expired.fields(), ["token"]);

    // Three per address per hour are sent; the fourth answers the same and sends nothing.
    app.clock.advance(Duration::minutes(61));
    for _ in 0..4 {
        let r = app.request_password_reset(&t.slug, &t.owner_email).await;
        assert_eq!(r.status, StatusCode::ACCEPTED);
    }
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!(smtp.messages().len(), 5, "three more, not four");
    smtp.stop().await;
}

#[tokio::test]
async fn notices_show_in_their_period_to_their_audience_with_read_marks_and_stay_in_their_business()
{
    let app = spawn_app().await;
    let t = app.signup_on("notices", "pro").await;
    let owner = t.owner();
    let published = app
        .publish_ladder(
            &owner,
            &json!({ "ladder": { "metric": "spend", "window": { "kind": "rolling", "days": 30 },
                     "retention_days": 0, "demotion": "direct",
                     "tiers": [tier("base", 0), tier("gold", 2_000)] } }),
        )
        .await
        .ok();
    reevaluate_tiers(&app, &t, &published.run.id).await;
    let ann = portal_member(&app, &t, "13900002001", json!({ "name": "安安" })).await;
    let gold = portal_member(&app, &t, "13900002002", json!({ "name": "金金" })).await;
    let until = app.clock.now() + Duration::days(30);
    app.pin_member_tier(
        &owner,
        &gold.member.id,
        &json!({ "tier": "gold", "until": until, "reason": "VIP" }),
    )
    .await
    .ok();

    let now = app.clock.now();
    let everyone = app
        .create_notice(
            &owner,
            &json!({ "title": " 春节营业时间 ", "body": "除夕休息一天。" }),
        )
        .await
        .ok();
    assert_eq!(everyone.title, "春节营业时间");
    let gold_only = app
        .create_notice(
            &owner,
            &json!({ "title": "金卡专享", "body": "金卡会员周三双倍积分。", "tiers": ["gold"],
                     "pinned": true }),
        )
        .await
        .ok();
    assert_eq!(gold_only.tiers, ["gold"]);
    app.create_notice(
        &owner,
        &json!({ "title": "Later", "body": "x", "starts_at": now + Duration::days(3) }),
    )
    .await
    .ok();
    app.create_notice(
        &owner,
        &json!({ "title": "Over", "body": "x", "starts_at": now - Duration::days(3),
                 "ends_at": now - Duration::days(1) }),
    )
    .await
    .ok();

    let titles = |ns: &[PortalNotice]| ns.iter().map(|n| n.title.clone()).collect::<Vec<_>>();
    let seen = app.portal_notices(&t.slug, &ann.auth()).await.ok();
    assert_eq!(titles(&seen), ["春节营业时间"]);
    let seen = app.portal_notices(&t.slug, &gold.auth()).await.ok();
    assert_eq!(titles(&seen), ["金卡专享", "春节营业时间"], "pinned first");
    assert!(seen.iter().all(|n| !n.read));

    // Read marks: the member's own, counted for staff; a notice not shown to them is a 404.
    app.portal_read_notice(&t.slug, &ann.auth(), &everyone.id)
        .await
        .expect(StatusCode::NO_CONTENT);
    let r = app
        .portal_read_notice(&t.slug, &ann.auth(), &gold_only.id)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app.portal_notices(&t.slug, &ann.auth()).await.ok()[0].read);
    let inbox = app.portal_inbox(&t.slug, &gold.auth()).await.ok();
    assert_eq!(inbox.unread, 2);
    assert_eq!(inbox.items[0].kind, "notice");
    let inbox = app.portal_inbox(&t.slug, &ann.auth()).await.ok();
    assert_eq!(inbox.unread, 0);
    let listed = app.notices(&owner).await.ok();
    assert_eq!(listed.len(), 4);
    let read_by = |id: &str| listed.iter().find(|n| n.id == id).unwrap().read_by;
    assert_eq!((read_by(&everyone.id), read_by(&gold_only.id)), (1, 0));

    // Changed to everyone: the first member sees it too; deleted: nobody does.
    let changed = app
        .update_notice(
            &owner,
            &everyone.id,
            &json!({ "title": "春节营业时间", "body": "除夕、初一休息。" }),
        )
        .await
        .ok();
    assert_eq!(
        (changed.body.as_str(), changed.read_by),
        ("除夕、初一休息。", 1)
    );
    app.update_notice(
        &owner,
        &gold_only.id,
        &json!({ "title": "会员专享", "body": "周三双倍积分。", "pinned": true }),
    )
    .await
    .ok();
    let seen = app.portal_notices(&t.slug, &ann.auth()).await.ok();
    assert_eq!(titles(&seen), ["会员专享", "春节营业时间"]);
    app.delete_notice(&owner, &gold_only.id).await;
    assert_eq!(
        titles(&app.portal_notices(&t.slug, &ann.auth()).await.ok()),
        ["春节营业时间"]
    );

    // Bad input names each field.
    let bad = app
        .create_notice(
            &owner,
            &json!({ "title": " ", "body": "x", "starts_at": now, "ends_at": now,
                     "tiers": ["gold", "diamond"] }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.fields(), ["title", "ends_at", "tiers.1"]);

    // Another business sees none of them, and its members cannot mark them read.
    let other = app.signup_on("notices-other", "pro").await;
    assert!(app.notices(&other.owner()).await.ok().is_empty());
    let stranger = portal_member(&app, &other, "13900002003", json!({ "name": "路人" })).await;
    assert!(app
        .portal_notices(&other.slug, &stranger.auth())
        .await
        .ok()
        .is_empty());
    let r = app
        .portal_read_notice(&other.slug, &stranger.auth(), &everyone.id)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .update_notice(
            &other.owner(),
            &everyone.id,
            &json!({ "title": "x", "body": "y" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A plan without notices: staff get 402 naming the feature, members see none.
    let free = app.signup_on("notices-free", "free").await;
    let r = app.notices(&free.owner()).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(r.plan_problem().feature.as_deref(), Some("notices"));
}

#[tokio::test]
async fn a_scheduled_birthday_wish_goes_once_per_occasion_after_the_quiet_hours_and_honours_opt_outs(
) {
    let app = spawn_app().await;
    // 22:00 on 15 June in Shanghai: inside the quiet hours.
    let t0 = Utc.with_ymd_and_hms(2027, 6, 15, 14, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("birthday", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.save_message_template(
        &owner,
        &email_template(
            "birthday",
            "zh-CN",
            "生日快乐，{{member.name}}",
            "祝{{member.name}}生日快乐！",
        ),
    )
    .await
    .ok();
    // Bad settings name the field.
    let r = app
        .set_scheduled_notice(
            &owner,
            "points.expiring",
            &json!({ "enabled": true, "days_ahead": 0 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["days_ahead"]);
    let r = app
        .set_scheduled_notice(&owner, "anniversary", &json!({ "enabled": true }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["occasion"]);
    let on = app
        .set_scheduled_notice(&owner, "birthday", &json!({ "enabled": true }))
        .await
        .ok();
    assert!(on.enabled && on.worded);
    let listed = app.scheduled_notices(&owner).await.ok();
    assert_eq!(
        listed.len(),
        6,
        "birthday, points expiring, membership ending, pass ending, activity reminder, tier changed"
    );

    let birthday = NewMember::named("寿星")
        .email("shou.xing@example.com")
        .birthday("1990-06-15");
    let m1 = app.member(&owner, birthday).await;
    app.member(
        &owner,
        NewMember::named("明天")
            .email("ming.tian@example.com")
            .birthday("1990-06-16"),
    )
    .await;
    let quiet = portal_member(
        &app,
        &t,
        "13900003001",
        json!({ "name": "安静", "email": "an.jing@example.com", "birthday": "1991-06-15" }),
    )
    .await;
    let m3 = app
        .member(
            &owner,
            NewMember::named("退订")
                .email("tui.ding@example.com")
                .birthday("1992-06-15"),
        )
        .await;
    // One member turns marketing e-mail off in the portal.
    assert!(
        app.portal_contact_preferences(&t.slug, &quiet.auth())
            .await
            .ok()
            .marketing_email
    );
    let off = app
        .set_portal_contact_preferences(&t.slug, &quiet.auth(), false)
        .await
        .ok();
    assert!(!off.marketing_email);

    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    // The job runs twice (a retry, a second replica): queued once.
    let first = run_scheduled_notices(&app, t.id, &senders, t0).await;
    assert_eq!(first["queued"]["birthday"], 2, "{first}");
    let again = run_scheduled_notices(&app, t.id, &senders, t0 + Duration::minutes(1)).await;
    assert_eq!(again["queued"]["birthday"], 0, "{again}");
    // Quiet hours: nothing leaves before 09:00 local.
    let report = deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(2)).await;
    assert_eq!(report.sent, 0, "{report:?}");
    assert!(smtp.messages().is_empty());

    // The next local day, 09:30: the job runs twice again and queues nothing new.
    let t1 = Utc.with_ymd_and_hms(2027, 6, 16, 1, 30, 0).unwrap();
    app.clock.set(t1);
    let r = run_scheduled_notices(&app, t.id, &senders, t1).await;
    assert_eq!(r["queued"]["birthday"], 1, "the 16 June birthday only: {r}");
    let r = run_scheduled_notices(&app, t.id, &senders, t1).await;
    assert_eq!(r["queued"]["birthday"], 0, "{r}");
    let report = deliver_messages(&app, t.id, &senders, t1).await;
    assert_eq!(report.sent, 3, "{report:?}");
    deliver_messages(&app, t.id, &senders, t1 + Duration::minutes(1)).await;
    let mails = smtp.messages();
    assert_eq!(
        recipients(&mails),
        [
            "ming.tian@example.com",
            "shou.xing@example.com",
            "tui.ding@example.com"
        ],
        "once each, and not to the member who opted out"
    );
    let to_m3 = mails
        .iter()
        .find(|m| m.contains("X-Envelope-To: tui.ding@example.com"))
        .unwrap();
    assert_eq!(header_value(to_m3, "Subject"), "生日快乐，退订");
    let text = body_text(to_m3);
    assert!(text.contains("祝退订生日快乐！"), "{text}");
    let token = unsubscribe_token(&text);

    // A forged or another member's link is refused; the real one works without a login.
    let other = app.signup_on("birthday-other", "pro").await;
    for forged in [
        tampered(&token),
        token.replace(&m3.id.replace('-', ""), &m1.id.replace('-', "")),
        "nonsense".to_owned(),
    ] {
        let r = app.portal_unsubscribe(&t.slug, &forged).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{forged}");
        assert_eq!(r.fields(), ["token"]);
    }
    let r = app.portal_unsubscribe(&other.slug, &token).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another business's link"
    );
    let r = app.portal_unsubscribe(&t.slug, &token).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{r:?}");

    // The member who opted out has no birthday e-mail in the portal's inbox.
    let inbox = app.portal_inbox(&t.slug, &quiet.auth()).await.ok();
    assert!(inbox.items.iter().all(|i| i.kind != "message"), "{inbox:?}");

    // A year later: a new occasion, sent again, but not to those who opted out.
    let t2 = Utc.with_ymd_and_hms(2028, 6, 15, 3, 0, 0).unwrap();
    app.clock.set(t2);
    let r = run_scheduled_notices(&app, t.id, &senders, t2).await;
    assert_eq!(r["queued"]["birthday"], 1, "{r}");
    deliver_messages(&app, t.id, &senders, t2).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 4);
    assert!(mails[3].contains("X-Envelope-To: shou.xing@example.com"));

    smtp.stop().await;
}

#[tokio::test]
async fn over_the_monthly_email_quota_a_message_is_held_with_the_reason_until_the_next_month() {
    let app = spawn_app().await;
    let t0 = Utc.with_ymd_and_hms(2027, 3, 20, 4, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("quota", "starter").await;
    let owner = app.api_key(&t, "owner").await;
    app.save_message_template(
        &owner,
        &email_template(
            "member.created",
            "zh-CN",
            "欢迎 {{member.name}}",
            "欢迎加入！",
        ),
    )
    .await
    .ok();
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    set_emails_used(&app, t.id, t0, 1_999).await;
    let first = app
        .member(
            &owner,
            NewMember::named("一号")
                .email("one@example.com")
                .phone("13900004001"),
        )
        .await;
    // The member logs in to the portal with a code.
    app.send_portal_code(&t.slug, "13900004001", "login")
        .await
        .expect(StatusCode::ACCEPTED);
    let code = app.last_code(&t, "13900004001").await;
    let one = app
        .portal_login_with(&t.slug, &json!({ "login": "13900004001", "code": code }))
        .await
        .ok();
    let report = deliver_messages(&app, t.id, &senders, t0).await;
    assert_eq!(report.sent, 1, "the last e-mail of the month: {report:?}");
    // The member finds it in the portal's inbox, unread until opened.
    let inbox = app.portal_inbox(&t.slug, &one.auth()).await.ok();
    assert_eq!(inbox.unread, 1);
    let mail = &inbox.items[0];
    assert_eq!(
        (mail.kind.as_str(), mail.title.as_str()),
        ("message", "欢迎 一号")
    );
    assert_eq!(mail.occasion.as_deref(), Some("member.created"));
    app.portal_read_message(&t.slug, &one.auth(), &mail.id)
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(app.portal_inbox(&t.slug, &one.auth()).await.ok().unread, 0);
    // Another member cannot mark it.
    let two = portal_member(&app, &t, "13900004002", json!({ "name": "旁人" })).await;
    let r = app
        .portal_read_message(&t.slug, &two.auth(), &mail.id)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let second = app
        .member(&owner, NewMember::named("二号").email("two@example.com"))
        .await;
    let report = deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(1)).await;
    assert_eq!(report.sent, 0, "{report:?}");
    assert_eq!(recipients(&smtp.messages()), ["one@example.com"]);
    let log = app.list_messages(&owner).await.ok();
    let of = |id: &str| {
        log.iter()
            .find(|m| m.member_id.as_deref() == Some(id))
            .unwrap()
    };
    assert_eq!(of(&first.id).status, "sent");
    assert_eq!(of(&second.id).status, "held");
    assert_eq!(of(&second.id).reason.as_deref(), Some("emails_per_month"));
    // Staff's own e-mails are not held.
    let r = app.request_password_reset(&t.slug, &t.owner_email).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let report = deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(2)).await;
    assert_eq!(report.sent, 1, "{report:?}");
    // Still held later this month; sent in the next.
    deliver_messages(&app, t.id, &senders, t0 + Duration::days(5)).await;
    assert_eq!(smtp.messages().len(), 2);
    let april = Utc.with_ymd_and_hms(2027, 4, 1, 1, 0, 0).unwrap();
    app.clock.set(april);
    let report = deliver_messages(&app, t.id, &senders, april).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(
        recipients(&smtp.messages()),
        ["one@example.com", t.owner_email.as_str(), "two@example.com"]
    );
    let log = app.list_messages(&owner).await.ok();
    assert!(log.iter().all(|m| m.status == "sent"), "{log:?}");
    smtp.stop().await;
}

#[tokio::test]
async fn points_expiring_in_n_days_are_announced_once_on_the_right_local_day() {
    let app = spawn_app().await;
    let shanghai = chrono_tz::Asia::Shanghai;
    let local = |d: u32, h: u32| {
        shanghai
            .with_ymd_and_hms(2027, 9, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    app.clock.set(local(1, 12));
    let t = app.signup_on("expiring", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.update_points_settings(&owner, &json!({ "expiry": { "mode": "days", "days": 10 } }))
        .await
        .ok();
    app.save_message_template(
        &owner,
        &email_template(
            "points.expiring",
            "zh-CN",
            "积分即将过期",
            "您有 {{points}} 积分将于 {{date}} 后过期。",
        ),
    )
    .await
    .ok();
    app.set_scheduled_notice(
        &owner,
        "points.expiring",
        &json!({ "enabled": true, "days_ahead": 3 }),
    )
    .await
    .ok();
    let m = app
        .member(&owner, NewMember::named("积分").email("ji.fen@example.com"))
        .await;
    app.adjust_points(
        &owner,
        &m.id,
        &json!({ "idempotency_key": "seed", "points": 120, "reason": "seed" }),
    )
    .await
    .created();
    // Earned on 1 September for 10 days: they count until the end of 11 September, so the
    // notice 3 days ahead goes on 8 September, once, however often the job runs.
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let mut queued = Vec::new();
    for day in [7, 8, 9] {
        app.clock.set(local(day, 10));
        for hour in [10, 11] {
            let r = run_scheduled_notices(&app, t.id, &senders, local(day, hour)).await;
            queued.push(r["queued"]["points.expiring"].as_i64().unwrap());
        }
    }
    assert_eq!(queued, [0, 0, 1, 0, 0, 0]);
    deliver_messages(&app, t.id, &senders, local(9, 12)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    let text = body_text(&mails[0]);
    assert!(
        text.contains("您有 120 积分将于 2027-09-11 后过期。"),
        "{text}"
    );
    assert!(text.contains("/unsubscribe?token="), "marketing: {text}");
    smtp.stop().await;
}

/// Hour `h` of day `d` in Shanghai.
fn shanghai_at(d: chrono::NaiveDate, h: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .from_local_datetime(&d.and_hms_opt(h, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_membership_ending_in_n_days_is_announced_once_with_its_last_day() {
    let app = spawn_app().await;
    let at = shanghai_at;
    let start: chrono::NaiveDate = "2027-05-10".parse().unwrap();
    app.clock.set(at(start, 12));
    let t = app.signup_on("ending", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.save_message_template(
        &owner,
        &email_template(
            "membership.ending",
            "zh-CN",
            "会籍即将到期",
            "您的{{plan}}最后一天是 {{date}}。",
        ),
    )
    .await
    .ok();
    app.set_scheduled_notice(
        &owner,
        "membership.ending",
        &json!({ "enabled": true, "days_ahead": 5 }),
    )
    .await
    .ok();
    let m = app
        .member(
            &owner,
            NewMember::named("会员").email("hui.yuan@example.com"),
        )
        .await;
    let plan = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "月卡", "price": 30_000, "period_unit": "month" }),
        )
        .await
        .ok();
    let sold = app
        .sell_membership(
            &owner,
            &m.id,
            &json!({ "plan_id": plan["id"], "method": "card", "receipt": "M-1" }),
        )
        .await
        .ok();
    let ends: chrono::NaiveDate = sold["ends_on"].as_str().unwrap().parse().unwrap();
    let last = ends - Duration::days(1);
    let due = last - Duration::days(5);
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let mut queued = Vec::new();
    for day in [due - Duration::days(1), due, due, due + Duration::days(1)] {
        app.clock.set(at(day, 10));
        let r = run_scheduled_notices(&app, t.id, &senders, at(day, 10)).await;
        queued.push(r["queued"]["membership.ending"].as_i64().unwrap());
    }
    assert_eq!(queued, [0, 1, 0, 0]);
    deliver_messages(&app, t.id, &senders, at(due + Duration::days(1), 10)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    let text = body_text(&mails[0]);
    assert!(
        text.contains(&format!("您的月卡最后一天是 {last}。")),
        "{text}"
    );
    smtp.stop().await;
}

#[tokio::test]
async fn a_pass_with_visits_left_ending_in_n_days_is_announced_once_and_never_to_opted_out_members()
{
    let app = spawn_app().await;
    let at = shanghai_at;
    let start: chrono::NaiveDate = "2027-05-10".parse().unwrap();
    app.clock.set(at(start, 12));
    let t = app.signup_on("pass-ending", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.save_message_template(
        &owner,
        &email_template(
            "pass.ending",
            "zh-CN",
            "次卡即将到期",
            "您的{{pass}}还剩 {{visits}} 次，最后一天是 {{date}}。",
        ),
    )
    .await
    .ok();
    app.set_scheduled_notice(
        &owner,
        "pass.ending",
        &json!({ "enabled": true, "days_ahead": 5 }),
    )
    .await
    .ok();
    let product = |name: &str, visits: i32, validity: Option<i32>| json!({ "name": name, "visits": visits, "validity_days": validity, "price": 10_000 });
    let mut products = Vec::new();
    for body in [
        product("十次理发卡", 10, Some(30)),
        product("单次体验卡", 1, Some(30)),
        product("四十天卡", 10, Some(40)),
        product("一日卡", 10, Some(1)),
        product("不限期卡", 10, None),
    ] {
        products.push(app.create_pass_product(&owner, &body).await.ok());
    }
    let sell = |member: String, product: Value, receipt: &'static str| {
        let (app, owner) = (&app, &owner);
        async move {
            app.sell_pass(
                owner,
                &member,
                &json!({ "product_id": product["id"], "method": "card", "receipt": receipt }),
            )
            .await
            .ok()
        }
    };
    let m = app
        .member(
            &owner,
            NewMember::named("常客").email("chang.ke@example.com"),
        )
        .await;
    // Due: visits left, its last day 5 days after the run's day.
    let due_pass = sell(m.id.clone(), products[0].clone(), "P-1").await;
    // Used up by then: no visits left.
    let used_up = sell(m.id.clone(), products[1].clone(), "P-2").await;
    app.consume_pass(
        &owner,
        &m.id,
        used_up["id"].as_str().unwrap(),
        &json!({ "idempotency_key": "u-1" }),
    )
    .await
    .created();
    // Ending on another day, already expired, never expiring.
    for (i, p) in products[2..].iter().enumerate() {
        let receipt = ["P-3", "P-4", "P-5"][i];
        sell(m.id.clone(), p.clone(), receipt).await;
    }
    // A member who turned marketing e-mail off holds the same pass.
    let quiet = portal_member(
        &app,
        &t,
        "13900003101",
        json!({ "name": "安静", "email": "an.jing@example.com" }),
    )
    .await;
    app.set_portal_contact_preferences(&t.slug, &quiet.auth(), false)
        .await
        .ok();
    sell(quiet.member.id.clone(), products[0].clone(), "P-6").await;

    let last: chrono::NaiveDate = due_pass["expires_on"].as_str().unwrap().parse().unwrap();
    assert_eq!(used_up["expires_on"], due_pass["expires_on"]);
    let due = last - Duration::days(5);
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let mut queued = Vec::new();
    // Two days of the job, each running twice (a retry, a second replica).
    for (day, hour) in [
        (due, 10),
        (due, 15),
        (due + Duration::days(1), 10),
        (due + Duration::days(1), 15),
    ] {
        app.clock.set(at(day, hour));
        let r = run_scheduled_notices(&app, t.id, &senders, at(day, hour)).await;
        queued.push(r["queued"]["pass.ending"].as_i64().unwrap());
    }
    assert_eq!(queued, [1, 0, 0, 0]);
    deliver_messages(&app, t.id, &senders, at(due + Duration::days(1), 16)).await;
    let mails = smtp.messages();
    assert_eq!(recipients(&mails), ["chang.ke@example.com"]);
    let text = body_text(&mails[0]);
    assert!(
        text.contains(&format!("您的十次理发卡还剩 10 次，最后一天是 {last}。")),
        "{text}"
    );
    assert!(text.contains("/unsubscribe?token="), "marketing: {text}");
    smtp.stop().await;
}

#[tokio::test]
async fn the_activity_reminder_goes_the_day_before_to_confirmed_members_only() {
    let app = spawn_app().await;
    let shanghai = chrono_tz::Asia::Shanghai;
    let at = |d: u32, h: u32| {
        shanghai
            .with_ymd_and_hms(2027, 10, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    app.clock.set(at(1, 12));
    let t = app.signup_on("reminder", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.save_message_template(
        &owner,
        &email_template(
            "activity.reminder",
            "zh-CN",
            "明天见：{{activity}}",
            "{{activity}} 于 {{time}} 在 {{place}} 开始。",
        ),
    )
    .await
    .ok();
    app.set_scheduled_notice(&owner, "activity.reminder", &json!({ "enabled": true }))
        .await
        .ok();
    let a = app
        .create_activity(
            &owner,
            &json!({ "title": "夜跑", "starts_at": at(20, 19), "ends_at": at(20, 21),
                     "capacity": 1, "approval": "automatic", "place": "滨江公园" }),
        )
        .await
        .ok();
    app.set_activity_status(&owner, &a.id, "published")
        .await
        .ok();
    let seat = app
        .member(
            &owner,
            NewMember::named("有座").email("you.zuo@example.com"),
        )
        .await;
    let line = app
        .member(
            &owner,
            NewMember::named("排队").email("pai.dui@example.com"),
        )
        .await;
    for m in [&seat, &line] {
        app.add_activity_registration(&owner, &a.id, &json!({ "member_id": m.id }))
            .await
            .ok();
    }
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let mut queued = Vec::new();
    for (day, hour) in [(18, 10), (19, 10), (19, 15), (20, 10)] {
        app.clock.set(at(day, hour));
        let r = run_scheduled_notices(&app, t.id, &senders, at(day, hour)).await;
        queued.push(r["queued"]["activity.reminder"].as_i64().unwrap());
    }
    assert_eq!(
        queued,
        [0, 1, 0, 0],
        "the day before, once, to the seat only"
    );
    deliver_messages(&app, t.id, &senders, at(20, 11)).await;
    let mails = smtp.messages();
    assert_eq!(recipients(&mails), ["you.zuo@example.com"]);
    let text = body_text(&mails[0]);
    assert!(
        text.contains("夜跑 于 2027-10-20 19:00 在 滨江公园 开始。"),
        "{text}"
    );
    assert!(!text.contains("/unsubscribe"), "a service message: {text}");
    smtp.stop().await;
}

/// The token with its last character changed, never to itself nor to one that differs only in
/// the bits a base64 decoder may ignore at the end ("A"-"D" share the top four bits).
fn tampered(token: &str) -> String {
    let (head, last) = token.split_at(token.len() - 1);
    let other = if "ABCD".contains(last) { 'w' } else { 'A' };
    format!("{head}{other}")
}
