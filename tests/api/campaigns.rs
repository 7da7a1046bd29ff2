//! Campaigns: the preview counts the audience per channel; a campaign reaches each member
//! once per channel (a real SMTP server receives the e-mails) however often and on however
//! many runners its job runs; the plan's quotas refuse with 402 before anything is queued,
//! even for parallel requests at the last unit; opt-outs and the contact budget are
//! honoured, also by four campaigns sent at the same moment; an e-mail's open is counted
//! once by the image in its HTML part, and a forged image address counts nothing; another
//! business's campaigns are invisible; bad input names its fields.

use crate::messages::{body_text, header_value};
use patron_core::clock::Clock;
use patron_tests::internals::{deliver_messages, message_senders};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

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

/// The decoded body of the part of type `content_type` (`text/plain`, `text/html`) of a
/// multipart message an SMTP sink holds.
fn mime_part(raw: &str, content_type: &str) -> Option<String> {
    let start = raw.find("boundary=")? + "boundary=".len();
    let boundary: String = raw[start..]
        .trim_start_matches('"')
        .chars()
        .take_while(|c| !matches!(c, '"' | '\r' | '\n' | ';'))
        .collect();
    raw.split(&format!("--{boundary}"))
        .map(|p| p.trim_start_matches(['\r', '\n']))
        .find(|p| {
            p.split("\r\n\r\n")
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
                .contains(&format!("content-type: {content_type}"))
        })
        .map(body_text)
}

/// The business and token of the image address in a campaign e-mail's HTML.
fn pixel_of(html: &str) -> (String, String) {
    let at = html.find("/api/v1/portal/").expect("an image address") + "/api/v1/portal/".len();
    let rest = &html[at..];
    let path = &rest[..rest.find('"').expect("the address ends")];
    let (tenant, token) = path.split_once("/opened/").expect("an image address");
    (tenant.to_owned(), token.to_owned())
}

/// 10:00 on 15 June in Shanghai: outside the quiet hours, when campaigns with texts send.
fn daytime(app: &TestApp) {
    use chrono::TimeZone;
    app.clock
        .set(chrono::Utc.with_ymd_and_hms(2027, 6, 15, 2, 0, 0).unwrap());
}

/// A plan with `campaigns` and the given limits (no overage), and a business on it.
async fn business_with_limits(app: &TestApp, limits: Value) -> TestTenant {
    let plan = json!({ "name": "Campaigns", "monthly_price_minor": 9_999_999, "currency": "CNY",
                       "features": ["campaigns"], "limits": limits, "trial_days": 0 });
    app.signup_on_own_plan("cm-plan", &plan).await
}

#[tokio::test]
async fn a_campaign_reaches_each_member_once_per_channel_however_often_it_runs() {
    let app = spawn_app().await;
    daytime(&app);
    let t = app.signup_on("cm-send", "pro").await;
    let owner = t.owner();
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let mut ids = Vec::new();
    for i in 1..=3 {
        let m = app
            .member(
                &owner,
                NewMember::named(format!("会员{i}"))
                    .phone(format!("1390000510{i}"))
                    .email(format!("m{i}@example.com")),
            )
            .await;
        ids.push(m.id);
    }
    // No e-mail, no phone: the inbox only.
    let bare = app.member(&owner, NewMember::named("无联系")).await;
    ids.push(bare.id.clone());
    // Registered in the portal (reads the inbox), with an e-mail.
    let me = portal_member(
        &app,
        &t,
        "13900005109",
        json!({ "name": "门户", "email": "portal@example.com" }),
    )
    .await;
    ids.push(me.member.id.clone());
    // Not in the audience.
    app.member(&owner, NewMember::named("旁人").email("other@example.com"))
        .await;
    let filter = json!({ "ids": ids });

    let p = app
        .preview_campaign(
            &owner,
            &json!({ "filter": filter, "channels": ["email", "sms", "inbox"] }),
        )
        .await
        .ok();
    assert_eq!(
        (
            p.reach.members,
            p.reach.email,
            p.reach.email_missing,
            p.reach.sms,
            p.reach.sms_missing,
            p.reach.inbox
        ),
        (5, 4, 1, 4, 1, 5),
        "{p:?}"
    );
    let email = p
        .quotas
        .iter()
        .find(|q| q.limit == "emails_per_month")
        .unwrap();
    assert_eq!((email.used, email.campaign), (0, 4));

    let body = campaign_body("春季新品", filter.clone(), &["email", "sms", "inbox"]);
    let c = app.create_campaign(&owner, &body).await.ok();
    assert_eq!((c.status.as_str(), c.matched), ("sending", 5), "{c:?}");

    // Two runners at once, then again: each member gets one of each.
    let now = app.clock.now();
    let (a, b) = tokio::join!(
        run_campaign(&app, t.id, &senders, &c.id, now),
        run_campaign(&app, t.id, &senders, &c.id, now)
    );
    assert!(a["status"] == "done" && b["status"] == "done", "{a} {b}");
    run_campaign(&app, t.id, &senders, &c.id, now).await;
    deliver_messages(&app, t.id, &senders, now).await;
    deliver_messages(&app, t.id, &senders, now).await;
    let mails = smtp.messages();
    assert_eq!(
        recipients(&mails),
        [
            "m1@example.com",
            "m2@example.com",
            "m3@example.com",
            "portal@example.com"
        ]
    );
    let one = mails
        .iter()
        .find(|m| m.contains("X-Envelope-To: m1@example.com"))
        .unwrap();
    assert!(
        header_value(one, "Subject").contains("会员1，春季新品"),
        "{one}"
    );
    let text = mime_part(one, "text/plain").expect("a text part");
    assert!(text.contains("亲爱的会员1"), "{text}");
    assert!(
        text.contains("/unsubscribe?token="),
        "marketing mail carries the link: {text}"
    );

    let texts: Vec<Sms> = app
        .sms_outbox(&owner, None)
        .await
        .ok()
        .into_iter()
        .filter(|s| s.purpose == format!("campaign:{}", c.id))
        .collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(
        texts.iter().all(|s| s.body.ends_with("拒收请回复R")),
        "{texts:?}"
    );

    // The portal member finds it in the inbox; reading it counts as opened.
    let inbox = app.portal_inbox(&t.slug, &me.auth()).await.ok();
    let item = inbox
        .items
        .iter()
        .find(|i| i.occasion.as_deref() == Some("campaign") && i.title == "门户，春季新品")
        .expect("the campaign in the inbox");
    app.portal_read_message(&t.slug, &me.auth(), &item.id)
        .await
        .expect(StatusCode::NO_CONTENT);

    let c = app.get_campaign(&owner, &c.id).await.ok();
    assert_eq!(c.status, "done");
    let e = c.on("email");
    assert_eq!(
        (
            e.sent,
            e.delivered,
            e.failed,
            e.skipped_no_contact,
            e.opened
        ),
        (4, 4, 0, 1, Some(0))
    );
    let s = c.on("sms");
    assert_eq!((s.sent, s.delivered, s.skipped_no_contact), (4, 4, 1));
    let i = c.on("inbox");
    assert_eq!((i.sent, i.opened), (5, Some(1)));
    // The quota counts the e-mails once: when the campaign sent.
    let p = app
        .preview_campaign(&owner, &json!({ "filter": filter, "channels": ["email"] }))
        .await
        .ok();
    assert_eq!(p.quotas[0].used, 4, "{p:?}");

    // Listed, and invisible to another business.
    assert_eq!(app.campaigns(&owner).await.ok().len(), 1);
    let other = app.signup_on("cm-other", "pro").await;
    assert!(app.campaigns(&other.owner()).await.ok().is_empty());
    assert_eq!(
        app.get_campaign(&other.owner(), &c.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.cancel_campaign(&other.owner(), &c.id).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn over_the_monthly_quota_a_campaign_is_refused_naming_it_and_nothing_is_queued() {
    let app = spawn_app().await;
    let t = business_with_limits(&app, json!({ "emails_per_month": 3, "sms_per_month": 0 })).await;
    let owner = t.owner();
    let mut ids = Vec::new();
    for i in 1..=4 {
        let m = app
            .member(
                &owner,
                NewMember::named(format!("Q{i}")).email(format!("q{i}@example.com")),
            )
            .await;
        ids.push(m.id);
    }
    let all = json!({ "ids": ids });
    let p = app
        .preview_campaign(&owner, &json!({ "filter": all, "channels": ["email"] }))
        .await
        .ok();
    assert_eq!(
        (
            p.quotas[0].allowed,
            p.quotas[0].campaign,
            p.quotas[0].remaining
        ),
        (Some(3), 4, Some(-1))
    );
    let r = app
        .create_campaign(&owner, &campaign_body("Too many", all.clone(), &["email"]))
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.json);
    assert_eq!(r.plan_problem().limit.as_deref(), Some("emails_per_month"));
    assert!(
        app.campaigns(&owner).await.ok().is_empty(),
        "nothing written"
    );
    // SMS: none allowed on this plan.
    let r = app
        .create_campaign(
            &owner,
            &campaign_body("Texts", json!({ "ids": [ids[0]] }), &["sms"]),
        )
        .await;
    // No phones: nothing to send, nothing taken.
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // Five campaigns of one e-mail each at once against 3 left: three go, two are refused.
    let mut bodies: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| campaign_body(&format!("One {i}"), json!({ "ids": [id] }), &["email"]))
        .collect();
    bodies.push(campaign_body(
        "One more",
        json!({ "ids": [ids[0]] }),
        &["email"],
    ));
    let statuses: Vec<StatusCode> = futures::future::join_all(
        bodies
            .iter()
            .map(|b| async { app.create_campaign(&owner, b).await.status }),
    )
    .await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::PAYMENT_REQUIRED)
        .count();
    assert_eq!((ok, refused), (3, 2), "{statuses:?}");
}

#[tokio::test]
async fn opt_outs_and_the_contact_budget_are_honoured() {
    let app = spawn_app().await;
    daytime(&app);
    let t = app.signup_on("cm-optout", "pro").await;
    let owner = t.owner();
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let out = portal_member(
        &app,
        &t,
        "13900005201",
        json!({ "name": "退订", "email": "out@example.com" }),
    )
    .await;
    let prefs = app
        .set_portal_marketing(&t.slug, &out.auth(), false, false)
        .await;
    assert_eq!(prefs.status, StatusCode::OK, "{}", prefs.json);
    let keen = app
        .member(
            &owner,
            NewMember::named("常客")
                .email("keen@example.com")
                .phone("13900005202"),
        )
        .await;
    let filter = json!({ "ids": [out.member.id, keen.id] });
    let p = app
        .preview_campaign(
            &owner,
            &json!({ "filter": filter, "channels": ["email", "sms"] }),
        )
        .await
        .ok();
    assert_eq!(
        (
            p.reach.email,
            p.reach.email_opted_out,
            p.reach.sms,
            p.reach.sms_opted_out
        ),
        (1, 1, 1, 1)
    );

    // At most one campaign message per member per 7 days.
    let bad = app
        .set_campaign_settings(&owner, &json!({ "contact_budget": 0 }))
        .await;
    // Out of the range the document states: refused naming the field, nothing changed.
    assert!(
        [StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY].contains(&bad.status),
        "{}",
        bad.json
    );
    assert!(
        bad.json.to_string().contains("contact_budget"),
        "{}",
        bad.json
    );
    assert_eq!(
        app.campaign_settings(&owner).await.ok().contact_budget,
        None
    );
    app.set_campaign_settings(&owner, &json!({ "contact_budget": 2 }))
        .await
        .ok();
    assert_eq!(
        app.campaign_settings(&owner).await.ok().contact_budget,
        Some(2)
    );
    let now = app.clock.now();
    let first = app
        .create_campaign(
            &owner,
            &campaign_body("First", filter.clone(), &["email", "sms", "inbox"]),
        )
        .await
        .ok();
    run_campaign(&app, t.id, &senders, &first.id, now).await;
    deliver_messages(&app, t.id, &senders, now).await;
    assert_eq!(recipients(&smtp.messages()), ["keen@example.com"]);
    let first = app.get_campaign(&owner, &first.id).await.ok();
    assert_eq!(first.on("email").skipped_opted_out, 1);
    assert_eq!(first.on("sms").skipped_opted_out, 1);
    // The keen member got 2 (inbox, e-mail: the budget's order) and the text was over it;
    // the opted-out member got the inbox message only.
    assert_eq!(first.on("inbox").sent, 2);
    assert_eq!(first.on("email").sent, 1);
    assert_eq!(first.on("sms").skipped_over_budget, 1);
    let texts = app.sms_outbox(&owner, None).await.ok();
    assert!(
        !texts.iter().any(|s| s.purpose.starts_with("campaign:")),
        "{texts:?}"
    );

    // Within the 7 days, the next campaign reaches neither: over budget (keen) and 1 of 2
    // left for the other.
    let p = app
        .preview_campaign(&owner, &json!({ "filter": filter, "channels": ["inbox"] }))
        .await
        .ok();
    assert_eq!((p.reach.over_budget, p.reach.inbox), (1, 1), "{p:?}");
    let second = app
        .create_campaign(&owner, &campaign_body("Second", filter.clone(), &["email"]))
        .await
        .ok();
    run_campaign(&app, t.id, &senders, &second.id, now).await;
    deliver_messages(&app, t.id, &senders, now).await;
    assert_eq!(smtp.messages().len(), 1, "nothing more sent");
    let second = app.get_campaign(&owner, &second.id).await.ok();
    let e = second.on("email");
    assert_eq!(
        (e.sent, e.skipped_over_budget, e.skipped_opted_out),
        (0, 1, 1)
    );
}

#[tokio::test]
async fn scheduled_campaigns_wait_for_their_time_and_can_be_cancelled() {
    let app = spawn_app().await;
    let t = app.signup_on("cm-later", "pro").await;
    let owner = t.owner();
    let senders = message_senders(None);
    let m = app
        .member(&owner, NewMember::named("稍后").email("later@example.com"))
        .await;
    let now = app.clock.now();
    let mut body = campaign_body("Later", json!({ "ids": [m.id] }), &["inbox"]);
    body["send_at"] = json!((now + chrono::Duration::hours(2)).to_rfc3339());
    body["idempotency_key"] = json!("later-1");
    let c = app.create_campaign(&owner, &body).await.ok();
    assert_eq!(c.status, "scheduled");
    // The same key again: the same campaign; with another body: 409.
    let again = app.create_campaign(&owner, &body).await.ok();
    assert_eq!(again.id, c.id);
    let mut other = body.clone();
    other["name"] = json!("Changed");
    let r = app.create_campaign(&owner, &other).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "idempotency_key_reused");

    let report = run_campaign(&app, t.id, &senders, &c.id, now).await;
    assert_eq!(report["waiting"], true, "{report}");
    let report = run_campaign(
        &app,
        t.id,
        &senders,
        &c.id,
        now + chrono::Duration::hours(3),
    )
    .await;
    assert_eq!(report["status"], "done", "{report}");
    let c = app.get_campaign(&owner, &c.id).await.ok();
    assert_eq!(c.on("inbox").sent, 1);
    let r = app.cancel_campaign(&owner, &c.id).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "campaign_not_scheduled");

    body["idempotency_key"] = json!("later-2");
    let d = app.create_campaign(&owner, &body).await.ok();
    let d = app.cancel_campaign(&owner, &d.id).await.ok();
    assert_eq!(d.status, "cancelled");
    let report = run_campaign(
        &app,
        t.id,
        &senders,
        &d.id,
        now + chrono::Duration::hours(3),
    )
    .await;
    assert_eq!(report["status"], "cancelled", "{report}");
}

#[tokio::test]
async fn bad_campaigns_are_refused_naming_their_fields_and_the_plan_gates_them() {
    let app = spawn_app().await;
    let t = app.signup_on("cm-bad", "pro").await;
    let owner = t.owner();
    let r = app
        .create_campaign(
            &owner,
            &json!({ "name": " ", "filter": {}, "channels": ["email", "fax"],
                     "messages": [
                         { "channel": "email", "locale": "fr", "subject": "x", "body": "y" },
                         { "channel": "inbox", "locale": "en", "subject": "x", "body": "y" }
                     ],
                     "send_at": "2001-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert_eq!(
        r.fields(),
        [
            "name",
            "channels.1",
            "messages.0.locale",
            "messages.1.channel",
            "send_at"
        ]
    );
    let r = app
        .create_campaign(
            &owner,
            &campaign_body("Bad filter", json!({ "tier": "no-such-tier" }), &["inbox"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert!(
        r.fields().iter().all(|f| f.starts_with("filter.")),
        "{:?}",
        r.fields()
    );
    let r = app
        .preview_campaign(&owner, &json!({ "filter": {}, "channels": ["pigeon"] }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["channels.0"]);
    assert!(app.campaigns(&owner).await.ok().is_empty());

    // A plan without campaigns.
    let starter = app.signup_on("cm-starter", "starter").await;
    let r = app.campaigns(&starter.owner()).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    // `GET /me` names the plan's features, so the console does not ask for what is refused.
    let features = app.me(&starter.owner()).await.body().features;
    assert!(!features.iter().any(|f| f == "campaigns"), "{features:?}");
    assert!(
        features.iter().any(|f| f == "custom_fields"),
        "{features:?}"
    );
    let features = app.me(&owner).await.body().features;
    assert!(features.iter().any(|f| f == "campaigns"), "{features:?}");
    assert_eq!(r.plan_problem().feature.as_deref(), Some("campaigns"));

    // A plan stored with the feature's old name has campaigns, listed under the new one;
    // operators may still send the old name.
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let old = format!("cm{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    sqlx::query(
        "INSERT INTO platform.plans (code, name, monthly_price_minor, currency, features, limits)
         VALUES ($1, 'Old name', 9999999, 'CNY', '[\"email_campaigns\"]', '{}')",
    )
    .bind(&old)
    .execute(&mut conn)
    .await
    .unwrap();
    let stored = patron_db::plans::find(&app.db, &old).await.unwrap();
    assert!(stored.has(patron_core::plans::Feature::Campaigns));
    // The server's cached catalogue learns of the plan as of an operator's change.
    patron_db::plans::notify_plans_changed(&app.db)
        .await
        .unwrap();
    let mut listed = None;
    for _ in 0..50 {
        let plans = app.plan_catalogue().await.ok();
        listed = plans.into_iter().find(|p| p.code == old);
        if listed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(listed.expect("the plan is offered").features, ["campaigns"]);
    let on_old = app.signup_on("cm-old", &old).await;
    assert!(app.campaigns(&on_old.owner()).await.ok().is_empty());
    let ops = app.operator().await;
    let renamed = json!({ "name": "Old name", "monthly_price_minor": 9_999_999, "currency": "CNY",
                          "features": ["email_campaigns"], "limits": {}, "trial_days": 0,
                          "archived": true });
    let updated = app.update_plan(&ops, &old, &renamed).await.ok();
    assert_eq!(updated.features, ["campaigns"]);
}

#[tokio::test]
async fn a_campaign_with_texts_waits_out_the_quiet_hours() {
    use chrono::TimeZone;
    let app = spawn_app().await;
    // 22:00 on 15 June in Shanghai: inside the quiet hours (21:00–09:00).
    let t0 = chrono::Utc.with_ymd_and_hms(2027, 6, 15, 14, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("cm-quiet", "pro").await;
    let owner = t.owner();
    let senders = message_senders(None);
    let m = app
        .member(&owner, NewMember::named("夜猫").phone("13900005201"))
        .await;
    let filter = json!({ "ids": [m.id] });
    let texts = campaign_body("Night texts", filter.clone(), &["sms", "inbox"]);
    let c = app.create_campaign(&owner, &texts).await.ok();
    assert_eq!(c.status, "sending");
    let report = run_campaign(&app, t.id, &senders, &c.id, app.clock.now()).await;
    // 09:00 the next morning in Shanghai.
    let end = chrono::Utc.with_ymd_and_hms(2027, 6, 16, 1, 0, 0).unwrap();
    assert_eq!(
        report["quiet_until"]
            .as_str()
            .map(|s| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
        Some(end),
        "{report}"
    );
    let queued = patron_db::jobs::recent(&app.db, "campaigns.send", 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.tenant_id == Some(t.id) && j.run_at == end && j.status == "pending")
        .count();
    assert_eq!(queued, 1, "the job comes back when the quiet hours end");
    assert_eq!(
        campaign_texts(&app, &owner, &c.id).await,
        0,
        "no text inside the quiet hours"
    );
    let waiting = app.get_campaign(&owner, &c.id).await.ok();
    assert_eq!((waiting.on("inbox").sent, waiting.on("sms").sent), (0, 0));

    // An e-mail and inbox campaign is not held.
    let mail = campaign_body("Night inbox", filter, &["inbox"]);
    let d = app.create_campaign(&owner, &mail).await.ok();
    let report = run_campaign(&app, t.id, &senders, &d.id, app.clock.now()).await;
    assert_eq!(report["status"], "done", "{report}");

    // At 09:00 it goes.
    app.clock.set(end);
    let report = run_campaign(&app, t.id, &senders, &c.id, app.clock.now()).await;
    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(campaign_texts(&app, &owner, &c.id).await, 1);
    let c = app.get_campaign(&owner, &c.id).await.ok();
    assert_eq!((c.on("inbox").sent, c.on("sms").sent), (1, 1));
}

/// The text messages campaign `id` sent.
async fn campaign_texts(app: &TestApp, owner: &Auth, id: &str) -> usize {
    app.sms_outbox(owner, None)
        .await
        .ok()
        .into_iter()
        .filter(|s| s.purpose == format!("campaign:{id}"))
        .count()
}

#[tokio::test]
async fn an_email_open_is_counted_once_by_the_image_in_the_html_part_and_a_forged_one_counts_nothing(
) {
    let app = spawn_app().await;
    daytime(&app);
    let t = app.signup_on("cm-opens", "pro").await;
    let owner = t.owner();
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let reader = app
        .member(&owner, NewMember::named("读者").email("reader@example.com"))
        .await;
    let skimmer = app
        .member(
            &owner,
            NewMember::named("略过").email("skimmer@example.com"),
        )
        .await;
    let filter = json!({ "ids": [reader.id, skimmer.id] });
    let c = app
        .create_campaign(&owner, &{
            // The message places the unsubscribe link itself.
            let mut body = campaign_body("Opens", filter, &["email"]);
            body["messages"][0]["body"] =
                json!("亲爱的{{member.name}}，<春季> & 新品。\n\n退订：{{unsubscribe.link}}");
            body
        })
        .await
        .ok();
    let now = app.clock.now();
    run_campaign(&app, t.id, &senders, &c.id, now).await;
    deliver_messages(&app, t.id, &senders, now).await;
    let mails = smtp.messages();
    assert_eq!(
        recipients(&mails),
        ["reader@example.com", "skimmer@example.com"]
    );
    let mail = mails
        .iter()
        .find(|m| m.contains("X-Envelope-To: reader@example.com"))
        .unwrap();
    let text = mime_part(mail, "text/plain").expect("a text part");
    let html = mime_part(mail, "text/html").expect("an HTML part");
    assert!(text.contains("亲爱的读者"), "{text}");
    assert!(
        !text.contains("/opened/"),
        "the text part has no image: {text}"
    );
    assert_eq!(text.matches("/unsubscribe?token=").count(), 1, "{text}");
    assert!(text.contains("退订：/m/"), "placed where written: {text}");
    assert!(
        html.contains("亲爱的读者，&lt;春季&gt; &amp; 新品。"),
        "{html}"
    );
    assert!(
        html.contains("退订：<a href=\"/m/") && html.contains("/unsubscribe?token="),
        "{html}"
    );
    assert_eq!(html.matches("<img").count(), 1, "{html}");
    let (slug, token) = pixel_of(&html);
    assert_eq!(slug, t.slug);
    assert_eq!(
        app.get_campaign(&owner, &c.id)
            .await
            .ok()
            .on("email")
            .opened,
        Some(0)
    );

    // Opened twice (the mail app shows it again): an image both times, one open.
    for _ in 0..2 {
        let r = app.campaign_email_opened(&slug, &token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("content-type"), "image/gif");
        assert_eq!(r.header("cache-control"), "no-store");
        assert!(r.bytes.starts_with(b"GIF89a"), "{:?}", r.bytes);
    }
    let e = app.get_campaign(&owner, &c.id).await.ok().on("email");
    assert_eq!((e.sent, e.opened), (2, Some(1)));

    // Forged: another member under this signature, a changed signature, nonsense, another
    // business. Each answers the same image and counts nothing.
    let (subject, signature) = token.rsplit_once('.').unwrap();
    let other_member = subject.replace(&reader.id.replace('-', ""), &skimmer.id.replace('-', ""));
    assert_ne!(other_member, subject);
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let other = app.signup_on("cm-opens-other", "pro").await;
    for (business, forged) in [
        (slug.as_str(), format!("{other_member}.{signature}")),
        (
            slug.as_str(),
            format!("{subject}.{flipped}{}", &signature[1..]),
        ),
        (slug.as_str(), "nonsense".to_owned()),
        (other.slug.as_str(), token.clone()),
        ("no-such-business", token.clone()),
    ] {
        let r = app.campaign_email_opened(business, &forged).await;
        assert_eq!(r.status, StatusCode::OK, "{forged}: {r:?}");
        assert_eq!(r.header("content-type"), "image/gif");
        assert!(r.bytes.starts_with(b"GIF89a"));
    }
    let e = app.get_campaign(&owner, &c.id).await.ok().on("email");
    assert_eq!(e.opened, Some(1), "{e:?}");
}

#[tokio::test]
async fn four_campaigns_sent_at_the_same_moment_keep_the_contact_budget_exactly() {
    // The budget is counted and the sends written under one advisory lock per business
    // (`db::campaigns::lock_budget`), taken before a batch reads its members' recent
    // messages. Batches run in READ COMMITTED, where each statement sees what committed
    // before it began, and the holder commits (writing its sends) before the lock is
    // released: the next batch's count includes them. So the count-then-insert is exact
    // without another constraint. Without the lock this test fails (members get two
    // messages: batches read the same count before either commits).
    let app = spawn_app_with(20).await;
    daytime(&app);
    let t = app.signup_on("cm-budget-race", "pro").await;
    let owner = t.owner();
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let mut ids = Vec::new();
    for i in 1..=3 {
        let m = app
            .member(
                &owner,
                NewMember::named(format!("预算{i}")).email(format!("budget{i}@example.com")),
            )
            .await;
        ids.push(m.id);
    }
    let filter = json!({ "ids": ids });
    app.set_campaign_settings(&owner, &json!({ "contact_budget": 1 }))
        .await
        .ok();
    let mut campaigns = Vec::new();
    for n in 1..=4 {
        let c = app
            .create_campaign(
                &owner,
                &campaign_body(&format!("Race {n}"), filter.clone(), &["email", "inbox"]),
            )
            .await
            .ok();
        assert_eq!(c.status, "sending");
        campaigns.push(c.id);
    }

    // Every campaign's job on two runners at once: eight batches racing for the budget. The
    // pool's connections are opened first, so no runner finishes its batch while another
    // is still connecting.
    let tenant = patron_db::tenants::find_by_id(&app.db, t.id)
        .await
        .unwrap()
        .unwrap();
    let open: Vec<_> = futures::future::join_all((0..8).map(|_| app.db.tenant_tx(&tenant)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    drop(open);
    let now = app.clock.now();
    let runs = campaigns
        .iter()
        .chain(campaigns.iter())
        .map(|id| run_campaign(&app, t.id, &senders, id, now));
    for r in futures::future::join_all(runs).await {
        assert_eq!(r["status"], "done", "{r}");
    }
    deliver_messages(&app, t.id, &senders, now).await;

    // Each member got one campaign message in all (the inbox one: the budget's order), and
    // no e-mail; every other message was skipped for the budget.
    assert!(smtp.messages().is_empty(), "{:?}", smtp.messages());
    let (mut sent, mut over) = (0, 0);
    for id in &campaigns {
        let c = app.get_campaign(&owner, id).await.ok();
        assert_eq!(c.status, "done");
        for ch in ["email", "inbox"] {
            let r = c.on(ch);
            sent += r.sent;
            over += r.skipped_over_budget;
        }
    }
    assert_eq!((sent, over), (3, 4 * 3 * 2 - 3));
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    for m in &ids {
        let got: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM t_{}.campaign_sends WHERE member_id = $1 AND skipped IS NULL",
            t.id
        ))
        .bind(m.parse::<uuid::Uuid>().unwrap())
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(got, 1, "member {m}");
    }
}
