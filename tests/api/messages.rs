//! Messages and outgoing webhooks through the outbox: written in the change's transaction,
//! delivered once by any number of runners, signed per Standard Webhooks, retried on a
//! schedule, replayed; e-mail received by a real SMTP server.

use chrono::Duration;
use patron_core::clock::Clock;
use patron_core::messages::{verify, Secret};
use patron_tests::internals::{
    claim_and_die, deliver_messages, message_senders, outbox_events, record_then_roll_back,
    reevaluate_tiers, run_scheduled_notices,
};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const PER_YUAN: &str = r#"award(floor_div(event.amount, 100), "1 point per yuan");"#;

async fn endpoint(app: &TestApp, owner: &Auth, url: &str, events: &[&str]) -> WebhookEndpoint {
    app.create_webhook_endpoint(owner, &json!({ "url": url, "events": events }))
        .await
        .created()
}

/// How many calls each `webhook-id` got.
fn per_id(calls: &[Received]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for c in calls {
        *out.entry(c.id.clone()).or_insert(0) += 1;
    }
    out
}

#[tokio::test]
async fn every_tier_change_and_every_member_edit_is_announced_once_with_what_changed() {
    let app = spawn_app().await;
    let t = app.signup_on("hook-tier", "pro").await;
    let owner = t.owner();
    let rx = Receiver::start().await;
    endpoint(&app, &owner, &rx.url, &["member.updated", "tier.changed"]).await;
    let tier = |code: &str, threshold: i64| {
        json!({ "code": code, "name": { "zh-CN": code, "en": code }, "threshold": threshold,
                "benefits": {} })
    };
    let ladder = json!({ "ladder": { "metric": "spend", "window": { "kind": "since_joining" },
        "retention_days": 0, "demotion": "one_rung",
        "tiers": [tier("base", 0), tier("silver", 1_000), tier("gold", 2_000)] } });
    let m = app.member(&owner, NewMember::named("王")).await.id;
    let published = app.publish_ladder(&owner, &ladder).await.ok();
    reevaluate_tiers(&app, &t, &published.run.id).await;
    app.purchase(&owner, &m, "tier-1", 1_500).await;
    let until = (app.clock.now() + Duration::days(30)).to_rfc3339();
    app.pin_member_tier(
        &owner,
        &m,
        &json!({ "tier": "gold", "until": until, "reason": "VIP" }),
    )
    .await
    .ok();
    app.update_member(&owner, &m, &json!({ "name": "王小明", "tags": ["vip"] }))
        .await
        .ok();
    // An edit that changes nothing announces nothing.
    app.update_member(&owner, &m, &json!({ "name": "王小明" }))
        .await
        .ok();
    let report = deliver_messages(&app, t.id, &message_senders(None), app.clock.now()).await;
    assert_eq!(report.failed, 0, "{report:?}");

    let bodies: Vec<Value> = rx.calls().iter().map(|c| c.json()).collect();
    let tiers: Vec<(String, String, String)> = bodies
        .iter()
        .filter(|b| b["type"] == "tier.changed")
        .map(|b| {
            let d = &b["data"];
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (s("from"), s("to"), s("kind"))
        })
        .collect();
    let owned = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        tiers,
        [
            owned("base", "silver", "promotion"),
            owned("silver", "gold", "pin"),
        ],
        "{bodies:?}"
    );
    let edits: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["type"] == "member.updated")
        .collect();
    assert_eq!(edits.len(), 1, "{bodies:?}");
    assert_eq!(edits[0]["data"]["member_id"], m);
    let mut fields: Vec<&str> = edits[0]["data"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["name", "tags"]);
    assert!(
        !edits[0].to_string().contains("王小明"),
        "names of fields, never their values"
    );
}

#[tokio::test]
async fn each_members_events_are_numbered_in_order_within_and_across_dispatched_batches() {
    let app = spawn_app().await;
    let t = app.signup_on("hook-seq", "pro").await;
    let owner = t.owner();
    let rx = Receiver::start().await;
    endpoint(&app, &owner, &rx.url, &["member.created", "points.earned"]).await;
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    let senders = message_senders(None);
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    // One batch: Ann's purchase, Bob's creation and purchase, Ann's second purchase.
    app.purchase(&owner, &ann, "seq-1", 1_000).await;
    let bob = app.member(&owner, NewMember::named("Bob")).await.id;
    app.purchase(&owner, &bob, "seq-2", 2_000).await;
    app.purchase(&owner, &ann, "seq-3", 3_000).await;
    let report = deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!(report.dispatched, 4, "{report:?}");

    let mut seen: Vec<(String, String, i64)> = rx
        .calls()
        .iter()
        .map(|c| {
            let b = c.json();
            let who = b["data"]["member_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (
                who,
                b["type"].as_str().unwrap_or_default().to_owned(),
                b["sequence"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    seen.sort_by_key(|(who, _, n)| (who.clone(), *n));
    let of = |id: &str| -> Vec<i64> { seen.iter().filter(|s| s.0 == id).map(|s| s.2).collect() };
    assert_eq!(
        of(&ann),
        [1, 2, 3],
        "Ann: created in an earlier batch, then two purchases: {seen:?}"
    );
    assert_eq!(of(&bob), [1, 2], "Bob starts at 1: {seen:?}");
}

#[tokio::test]
async fn changes_reach_a_signed_webhook_once_and_a_rolled_back_change_sends_nothing() {
    let app = spawn_app().await;
    let t = app.signup_on("hooks", "pro").await;
    let owner = t.owner();
    let rx = Receiver::start().await;
    let ep = endpoint(&app, &owner, &rx.url, &["member.created", "points.earned"]).await;
    let secret = ep.secret.clone().expect("the secret is shown on creation");
    assert!(secret.starts_with("whsec_"), "{secret}");

    let m = app.member(&owner, NewMember::named("林小红")).await.id;
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    let p = app.purchase(&owner, &m, "hook-1", 12_000).await;
    assert_eq!(p.points, 120);
    record_then_roll_back(&app, t.id, &m).await;
    let events: Vec<String> = outbox_events(&app, t.id)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(events, ["points.earned", "member.created"]);

    let senders = message_senders(None);
    let report = deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!((report.dispatched, report.sent), (2, 2), "{report:?}");
    let calls = rx.calls();
    assert_eq!(calls.len(), 2);
    let bodies: Vec<_> = calls.iter().map(|c| c.json()).collect();
    assert_eq!(bodies[0]["type"], "member.created");
    assert_eq!(bodies[0]["data"]["name"], "林小红");
    assert_eq!(bodies[1]["type"], "points.earned");
    assert_eq!(bodies[1]["data"]["points"], 120);
    // Both events are about the same member: numbered 1 and 2.
    assert_eq!(bodies[0]["sequence"], 1);
    assert_eq!(bodies[1]["sequence"], 2);

    // The published algorithm with the endpoint's secret verifies the call; another
    // secret, or a changed body, does not.
    let key = Secret::parse(&secret).unwrap();
    for c in &calls {
        verify(
            &key,
            &c.id,
            &c.timestamp,
            &c.signature,
            &c.body,
            app.clock.now(),
            Duration::minutes(5),
        )
        .unwrap_or_else(|e| panic!("{e}: {c:?}"));
        assert!(verify(
            &Secret::generate(),
            &c.id,
            &c.timestamp,
            &c.signature,
            &c.body,
            app.clock.now(),
            Duration::minutes(5)
        )
        .is_err());
        let mut changed = c.body.clone();
        changed.push(b' ');
        assert!(verify(
            &key,
            &c.id,
            &c.timestamp,
            &c.signature,
            &changed,
            app.clock.now(),
            Duration::minutes(5)
        )
        .is_err());
    }

    // Another run sends nothing more.
    let again = deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!((again.dispatched, again.sent), (0, 0));
    assert_eq!(rx.calls().len(), 2);

    // After a rotation, calls carry two signatures: the old secret and the new one verify.
    let rotated = app.rotate_webhook_secret(&owner, &ep.id).await.ok();
    let new_secret = Secret::parse(rotated.secret.as_deref().unwrap()).unwrap();
    assert_ne!(new_secret, key);
    app.member(&owner, NewMember::named("Rotated")).await;
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    let last = rx.calls().pop().unwrap();
    assert_eq!(last.signature.split(' ').count(), 2, "{}", last.signature);
    for s in [&key, &new_secret] {
        verify(
            s,
            &last.id,
            &last.timestamp,
            &last.signature,
            &last.body,
            app.clock.now(),
            Duration::minutes(5),
        )
        .unwrap();
    }

    // The delivery log shows each call with its attempt.
    let log = app.webhook_deliveries(&owner, &ep.id).await.ok();
    assert_eq!(log.len(), 3);
    assert!(log
        .iter()
        .all(|d| d.status == "sent" && d.tries.len() == 1 && d.tries[0].ok));
    assert_eq!(
        log[2].body.as_bytes(),
        calls[0].body.as_slice(),
        "the exact bytes sent are kept"
    );

    // Another business sees none of it.
    let other = app.signup_on("hooks-other", "pro").await;
    assert!(app
        .list_webhook_endpoints(&other.owner())
        .await
        .ok()
        .is_empty());
    assert_eq!(
        app.get_webhook_endpoint(&other.owner(), &ep.id)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn two_runners_deliver_each_event_once_and_a_runner_dying_after_its_claim_loses_nothing() {
    let app = spawn_app().await;
    let t = app.signup_on("hooks-twice", "pro").await;
    let owner = t.owner();
    let rx = Receiver::start().await;
    endpoint(&app, &owner, &rx.url, &["member.created"]).await;
    for i in 0..12 {
        app.member(&owner, NewMember::named(format!("M{i}"))).await;
    }
    let senders = message_senders(None);
    let now = app.clock.now();
    let (a, b) = tokio::join!(
        deliver_messages(&app, t.id, &senders, now),
        deliver_messages(&app, t.id, &senders, now)
    );
    assert_eq!(a.dispatched + b.dispatched, 12);
    assert_eq!(a.sent + b.sent, 12);
    let counts = per_id(&rx.calls());
    assert_eq!(counts.len(), 12);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");

    // A runner claims the next event's call and dies before sending it. Until its lease
    // runs out nobody else sends it; afterwards the next run sends it, once.
    app.member(&owner, NewMember::named("Crash")).await;
    assert_eq!(claim_and_die(&app, t.id, &senders, now).await, 1);
    let during = deliver_messages(&app, t.id, &senders, now + Duration::seconds(30)).await;
    assert_eq!(during.sent, 0);
    let after = deliver_messages(&app, t.id, &senders, now + Duration::minutes(3)).await;
    assert_eq!(after.sent, 1);
    deliver_messages(&app, t.id, &senders, now + Duration::minutes(10)).await;
    let counts = per_id(&rx.calls());
    assert_eq!(counts.len(), 13);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn failed_calls_are_retried_on_the_schedule_and_a_410_stops_them() {
    let app = spawn_app().await;
    let t = app.signup_on("hooks-retry", "pro").await;
    let owner = t.owner();
    let flaky = Receiver::start().await;
    let gone = Receiver::start().await;
    let ep = endpoint(&app, &owner, &flaky.url, &["member.created"]).await;
    let ep_gone = endpoint(&app, &owner, &gone.url, &["member.created"]).await;
    flaky.answer(&[500, 503]);
    gone.answer(&[410]);
    app.member(&owner, NewMember::named("Retry")).await;
    let senders = message_senders(None);
    let t0 = app.clock.now();

    deliver_messages(&app, t.id, &senders, t0).await;
    assert_eq!((flaky.calls().len(), gone.calls().len()), (1, 1));
    // Not due yet: nothing is sent before the first retry (5 s).
    deliver_messages(&app, t.id, &senders, t0 + Duration::seconds(4)).await;
    assert_eq!(flaky.calls().len(), 1);
    deliver_messages(&app, t.id, &senders, t0 + Duration::seconds(6)).await;
    assert_eq!(flaky.calls().len(), 2);
    // The second retry waits 5 minutes.
    deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(4)).await;
    assert_eq!(flaky.calls().len(), 2);
    deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(6)).await;
    assert_eq!(flaky.calls().len(), 3);
    let log = app.webhook_deliveries(&owner, &ep.id).await.ok();
    assert_eq!(log[0].status, "sent");
    let statuses: Vec<_> = log[0].tries.iter().map(|a| a.status_code).collect();
    assert_eq!(statuses, [Some(500), Some(503), Some(200)]);
    // The same message every time.
    let ids: Vec<_> = flaky.calls().iter().map(|c| c.id.clone()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");

    // 410: no retry, and the endpoint is switched off.
    deliver_messages(&app, t.id, &senders, t0 + Duration::days(2)).await;
    assert_eq!(gone.calls().len(), 1);
    let log = app.webhook_deliveries(&owner, &ep_gone.id).await.ok();
    assert_eq!(log[0].status, "stopped");
    let off = app.get_webhook_endpoint(&owner, &ep_gone.id).await.ok();
    assert!(!off.enabled);
    assert_eq!(off.disabled_reason.as_deref(), Some("gone"));
    app.member(&owner, NewMember::named("After")).await;
    deliver_messages(&app, t.id, &senders, t0 + Duration::days(2)).await;
    assert_eq!(gone.calls().len(), 1);
    assert_eq!(flaky.calls().len(), 4);
}

#[tokio::test]
async fn the_owner_is_emailed_once_when_an_endpoint_is_switched_off_by_a_410_or_sustained_failure()
{
    let app = spawn_app().await;
    let t = app.signup_on("hooks-off", "pro").await;
    let owner = t.owner();
    // An integration key: the owner's login would not outlast the six days below.
    let key = app.api_key(&t, "owner").await;
    let gone = Receiver::start().await;
    let flaky = Receiver::start().await;
    let ep_gone = endpoint(&app, &owner, &gone.url, &["member.created"]).await;
    let ep_flaky = endpoint(&app, &owner, &flaky.url, &["member.created"]).await;
    gone.answer(&[410]);
    flaky.answer(&[500; 20]);
    let smtp = SmtpSink::start().await;
    let mut senders = message_senders(Some(smtp.url()));
    senders.console_url = "https://console.example".into();
    let owner_address = format!("owner@{}.example.com", t.slug);
    let to_owner = |mails: &[String]| -> Vec<String> {
        mails
            .iter()
            .filter(|m| m.contains(&format!("X-Envelope-To: {owner_address}")))
            .cloned()
            .collect()
    };
    let t0 = app.clock.now();
    app.member(&owner, NewMember::named("First")).await;

    // The 410 switches the endpoint off, and the owner hears of it in the business's
    // language (zh-CN), with the URL, the reason, the last error and the console's page.
    deliver_messages(&app, t.id, &senders, t0).await;
    let off = app.get_webhook_endpoint(&owner, &ep_gone.id).await.ok();
    assert_eq!(off.disabled_reason.as_deref(), Some("gone"));
    let mails = to_owner(&smtp.messages());
    assert_eq!(mails.len(), 1, "{mails:?}");
    // (The test's header decoder drops the spaces between encoded words.)
    let subject = header_value(&mails[0], "Subject");
    let expected = format!("{}：Webhook 地址已停用", business_name(&app, &owner).await);
    assert_eq!(subject.replace(' ', ""), expected.replace(' ', ""));
    let body = body_text(&mails[0]);
    assert!(body.contains(&gone.url), "{body}");
    assert!(body.contains("410 Gone"), "{body}");
    assert!(
        body.contains("https://console.example/messages?tab=webhooks"),
        "{body}"
    );
    // Further runs tell nothing more.
    deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(1)).await;
    deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(2)).await;
    assert_eq!(to_owner(&smtp.messages()).len(), 1);

    // The other endpoint keeps failing; six days on, two runners deliver at once: the
    // endpoint is switched off (`failing`) and the owner is e-mailed once.
    app.clock.set(t0 + Duration::days(6));
    app.member(&key, NewMember::named("Later")).await;
    let at = t0 + Duration::days(6);
    tokio::join!(
        deliver_messages(&app, t.id, &senders, at),
        deliver_messages(&app, t.id, &senders, at)
    );
    deliver_messages(&app, t.id, &senders, at + Duration::minutes(1)).await;
    let off = app.get_webhook_endpoint(&key, &ep_flaky.id).await.ok();
    assert!(!off.enabled);
    assert_eq!(off.disabled_reason.as_deref(), Some("failing"));
    let mails = to_owner(&smtp.messages());
    assert_eq!(mails.len(), 2, "{mails:?}");
    let body = body_text(&mails[1]);
    assert!(body.contains(&flaky.url), "{body}");
    assert!(body.contains("连续 5 天没有一次成功送达"), "{body}");
    assert!(body.contains("answered 500"), "{body}");
    smtp.stop().await;
}

#[tokio::test]
async fn a_tier_change_is_one_scheduled_notice_when_switched_on_and_none_when_off() {
    use chrono::TimeZone as _;
    let app = spawn_app().await;
    // 11:00 in Shanghai: outside the quiet hours.
    let t0 = chrono::Utc.with_ymd_and_hms(2027, 6, 15, 3, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("tier-notice", "pro").await;
    let owner = t.owner();
    let tier = |code: &str, zh: &str, threshold: i64| {
        json!({ "code": code, "name": { "zh-CN": zh, "en": code }, "threshold": threshold,
                "benefits": {} })
    };
    let ladder = json!({ "ladder": { "metric": "spend", "window": { "kind": "since_joining" },
        "retention_days": 0, "demotion": "one_rung",
        "tiers": [tier("base", "普通", 0), tier("silver", "银卡", 1_000), tier("gold", "金卡", 2_000)] } });
    app.save_message_template(
        &owner,
        &email_template(
            "tier.changed",
            "zh-CN",
            "{{member.name}}，您已升级为{{to}}",
            "恭喜！您的等级由{{from}}变为{{to}}。",
        ),
    )
    .await
    .ok();
    let a = app
        .member(&owner, NewMember::named("升级").email("up@example.com"))
        .await
        .id;
    let b = app
        .member(&owner, NewMember::named("关闭后").email("off@example.com"))
        .await
        .id;
    let published = app.publish_ladder(&owner, &ladder).await.ok();
    reevaluate_tiers(&app, &t, &published.run.id).await;
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    // The scheduled notice is off: a tier change sends nothing, even with the template worded.
    app.purchase(&owner, &b, "tier-b", 1_500).await;
    deliver_messages(&app, t.id, &senders, t0).await;
    let off = run_scheduled_notices(&app, t.id, &senders, t0).await;
    assert_eq!(off["queued"].get("tier.changed"), None, "{off}");
    deliver_messages(&app, t.id, &senders, t0).await;
    assert!(smtp.messages().is_empty(), "switched off: nothing");

    app.clock.set(t0 + Duration::minutes(10));
    app.set_scheduled_notice(&owner, "tier.changed", &json!({ "enabled": true }))
        .await
        .ok();
    app.clock.set(t0 + Duration::minutes(20));
    app.purchase(&owner, &a, "tier-a", 1_500).await;
    let at = t0 + Duration::minutes(30);
    // The event is dispatched (no e-mail from it), then the job runs twice at once and again.
    deliver_messages(&app, t.id, &senders, at).await;
    let (r1, r2) = tokio::join!(
        run_scheduled_notices(&app, t.id, &senders, at),
        run_scheduled_notices(&app, t.id, &senders, at)
    );
    let again = run_scheduled_notices(&app, t.id, &senders, at + Duration::hours(1)).await;
    let queued = |r: &Value| r["queued"]["tier.changed"].as_i64().unwrap_or(0);
    assert_eq!(queued(&r1) + queued(&r2), 1, "{r1} {r2}");
    assert_eq!(queued(&again), 0, "{again}");
    deliver_messages(&app, t.id, &senders, at + Duration::hours(1)).await;
    deliver_messages(&app, t.id, &senders, at + Duration::hours(2)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "once, and not to the change made while off");
    assert!(mails[0].contains("X-Envelope-To: up@example.com"));
    assert_eq!(header_value(&mails[0], "Subject"), "升级，您已升级为银卡");
    let body = body_text(&mails[0]);
    assert!(body.contains("恭喜！您的等级由普通变为银卡。"), "{body}");

    // Switched off again: the next change sends nothing.
    app.set_scheduled_notice(&owner, "tier.changed", &json!({ "enabled": false }))
        .await
        .ok();
    app.purchase(&owner, &a, "tier-a2", 1_000).await;
    let later = at + Duration::hours(3);
    deliver_messages(&app, t.id, &senders, later).await;
    let off = run_scheduled_notices(&app, t.id, &senders, later).await;
    assert_eq!(off["queued"].get("tier.changed"), None, "{off}");
    deliver_messages(&app, t.id, &senders, later).await;
    assert_eq!(smtp.messages().len(), 1);
    smtp.stop().await;
}

#[tokio::test]
async fn replay_resends_exactly_the_events_an_endpoint_missed() {
    let app = spawn_app().await;
    let t = app.signup_on("hooks-replay", "pro").await;
    let owner = t.owner();
    let rx = Receiver::start().await;
    let ep = endpoint(&app, &owner, &rx.url, &["member.created"]).await;
    let senders = message_senders(None);
    let start = app.clock.now();
    for i in 0..3 {
        app.member(&owner, NewMember::named(format!("Before{i}")))
            .await;
    }
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!(rx.calls().len(), 3);

    // Switched off, the endpoint misses three events.
    let input = json!({ "url": rx.url, "events": ["member.created"], "enabled": false });
    app.update_webhook_endpoint(&owner, &ep.id, &input)
        .await
        .ok();
    app.clock.advance(Duration::minutes(1));
    for i in 0..3 {
        app.member(&owner, NewMember::named(format!("Missed{i}")))
            .await;
    }
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!(rx.calls().len(), 3);

    let input = json!({ "url": rx.url, "events": ["member.created"], "enabled": true });
    app.update_webhook_endpoint(&owner, &ep.id, &input)
        .await
        .ok();
    let since = start.to_rfc3339();
    let replay = app.replay_webhooks(&owner, &ep.id, &since).await.ok();
    assert_eq!(replay.queued, 3, "only the missed events are queued");
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    let calls = rx.calls();
    assert_eq!(calls.len(), 6);
    let names: Vec<String> = calls[3..]
        .iter()
        .map(|c| c.json()["data"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Missed0", "Missed1", "Missed2"]);
    assert!(per_id(&calls).values().all(|n| *n == 1));
    // A second replay finds nothing missing.
    assert_eq!(
        app.replay_webhooks(&owner, &ep.id, &since)
            .await
            .ok()
            .queued,
        0
    );
}

#[tokio::test]
async fn endpoints_are_checked_and_need_the_webhooks_feature() {
    let app = spawn_app().await;
    let t = app.signup_on("hooks-input", "pro").await;
    let owner = t.owner();
    let bad = app
        .create_webhook_endpoint(
            &owner,
            &json!({ "url": "ftp://example.com/x", "events": ["member.created", "nope"] }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.fields(), ["url", "events.1"]);

    let rx = Receiver::start().await;
    let ep = endpoint(&app, &owner, &rx.url, &["member.created"]).await;
    let test = app.test_webhook_endpoint(&owner, &ep.id).await.ok();
    assert!(test.ok);
    assert_eq!(test.status_code, Some(200));
    assert_eq!(rx.calls()[0].json()["type"], "webhook.test");

    let starter = app.signup_on("hooks-starter", "starter").await;
    let r = app
        .create_webhook_endpoint(
            &starter.owner(),
            &json!({ "url": rx.url, "events": ["member.created"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(r.plan_problem().feature.as_deref(), Some("webhooks"));
}

#[tokio::test]
async fn a_zh_cn_welcome_email_reaches_a_real_smtp_server_once() {
    let app = spawn_app().await;
    let t = app.signup_on("mail", "pro").await;
    let owner = t.owner();
    let saved = app
        .save_message_template(
            &owner,
            &email_template(
                "member.created",
                "zh-CN",
                "欢迎加入{{business.name}}，{{member.name}}",
                "{{member.name}}您好：\n您的会员卡号是 {{member.card}}。",
            ),
        )
        .await
        .ok();
    assert_eq!(saved.locale, "zh-CN");
    app.save_message_template(
        &owner,
        &email_template("member.created", "en", "Welcome, {{member.name}}", "Hello"),
    )
    .await
    .ok();
    let preview = app
        .preview_message_template(
            &owner,
            &email_template(
                "member.created",
                "zh-CN",
                "欢迎 {{member.name}}",
                "卡号 {{member.card}}",
            ),
        )
        .await
        .ok();
    assert_eq!(preview.subject, "欢迎 李小龙");
    assert_eq!(preview.text, "卡号 8800123456");
    let bad = app
        .save_message_template(&owner, &email_template("member.created", "fr", "", "{{x"))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.fields(), ["locale", "subject", "body_text"]);

    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let m = app
        .member(
            &owner,
            NewMember::named("王芳").email("wang.fang@example.com"),
        )
        .await;
    // A member without an address gets nothing.
    app.member(&owner, NewMember::named("无邮箱")).await;
    let report = deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    assert_eq!(report.sent, 1, "{report:?}");
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "sent once");
    let raw = &mails[0];
    assert!(
        raw.contains("X-Envelope-To: wang.fang@example.com"),
        "{raw}"
    );
    let subject = header_value(raw, "Subject");
    assert_eq!(
        subject,
        format!("欢迎加入{}，王芳", business_name(&app, &owner).await)
    );
    let body = body_text(raw);
    assert!(body.contains("王芳您好："), "{body}");
    assert!(
        body.contains(&format!("您的会员卡号是 {}。", m.card())),
        "{body}"
    );

    let log = app.list_messages(&owner).await.ok();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, "sent");
    assert_eq!(log[0].member_id.as_deref(), Some(m.id.as_str()));

    // Another business sees neither the templates nor the messages.
    let other = app.signup_on("mail-other", "pro").await;
    assert!(app
        .list_message_templates(&other.owner())
        .await
        .ok()
        .is_empty());
    assert!(app.list_messages(&other.owner()).await.ok().is_empty());
    smtp.stop().await;
}

async fn business_name(app: &TestApp, owner: &Auth) -> String {
    app.settings(owner).await.ok().name
}

/// A header of a raw message, decoded (RFC 2047 UTF-8 words, base64 or Q).
pub(crate) fn header_value(raw: &str, name: &str) -> String {
    let mut lines = raw.split("\r\n").flat_map(|l| l.split('\n'));
    let mut value = String::new();
    let mut found = false;
    for line in lines.by_ref() {
        if found {
            if line.starts_with(' ') || line.starts_with('\t') {
                value.push(' ');
                value.push_str(line.trim_start());
                continue;
            }
            break;
        }
        if let Some(v) = line.strip_prefix(&format!("{name}: ")) {
            value.push_str(v);
            found = true;
        }
    }
    decode_words(&value)
}

fn decode_words(v: &str) -> String {
    use base64::Engine as _;
    let mut bytes = Vec::new();
    for word in v.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        if lower.starts_with("=?utf-8?b?") {
            let inner = &word[10..word.len() - 2];
            bytes.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(inner)
                    .unwrap(),
            );
        } else if lower.starts_with("=?utf-8?q?") {
            let inner = word[10..word.len() - 2].replace('_', " ");
            bytes.extend(unquote(&inner));
        } else {
            bytes.extend_from_slice(word.as_bytes());
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// Quoted-printable to bytes (soft line breaks removed).
fn unquote(s: &str) -> Vec<u8> {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or(""), 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The text body of a raw message (base64, quoted-printable or plain).
pub(crate) fn body_text(raw: &str) -> String {
    use base64::Engine as _;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .expect("headers and a body");
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        let joined: String = body.split_whitespace().collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap(),
        )
        .unwrap()
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        String::from_utf8(unquote(body)).unwrap()
    } else {
        body.to_owned()
    }
}

#[tokio::test]
async fn a_permanent_refusal_records_a_bounce_and_later_marketing_mail_to_it_is_skipped_while_a_4xx_is_retried(
) {
    let app = spawn_app().await;
    // 10:00 on 15 June in Shanghai: outside the quiet hours.
    let t0 = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 6, 15, 2, 0, 0).unwrap();
    app.clock.set(t0);
    let t = app.signup_on("bounce", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    for (occasion, subject) in [("member.created", "欢迎"), ("birthday", "生日快乐")] {
        app.save_message_template(
            &owner,
            &email_template(occasion, "zh-CN", subject, "{{member.name}}您好"),
        )
        .await
        .ok();
    }
    app.set_scheduled_notice(&owner, "birthday", &json!({ "enabled": true }))
        .await
        .ok();
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    let gone = app
        .member(
            &owner,
            NewMember::named("退信")
                .email("bounce.me@example.com")
                .birthday("1990-06-15"),
        )
        .await;
    app.member(
        &owner,
        NewMember::named("忙碌").email("busy.now@example.com"),
    )
    .await;
    let fine = app
        .member(
            &owner,
            NewMember::named("正常")
                .email("fine@example.com")
                .birthday("1990-06-15"),
        )
        .await;
    let report = deliver_messages(&app, t.id, &senders, t0).await;
    assert_eq!((report.sent, report.failed), (1, 2), "{report:?}");
    let log = app.list_messages(&owner).await.ok();
    let of = |id: &str| {
        log.iter()
            .find(|m| m.member_id.as_deref() == Some(id))
            .cloned()
            .unwrap()
    };
    let bounced = of(&gone.id);
    assert_eq!(bounced.status, "failed", "refused for good: {bounced:?}");
    let why = bounced.last_error.clone().unwrap();
    assert!(why.starts_with("bounced: ") && why.contains("550"), "{why}");
    let busy = log
        .iter()
        .find(|m| m.status == "pending")
        .expect("the 4xx waits for another try");
    assert!(
        busy.last_error.as_deref().unwrap().contains("451"),
        "{busy:?}"
    );
    // The member page shows the bounce; the busy address has none.
    let shown = app.get_member(&owner, &gone.id).await.ok();
    assert!(shown.email_bounced_at.is_some(), "{shown:?}");
    let busy_member = busy.member_id.clone().unwrap();
    let shown = app.get_member(&owner, &busy_member).await.ok();
    assert!(shown.email_bounced_at.is_none());
    // The bounced welcome is not tried again; the busy one is, on the schedule.
    deliver_messages(&app, t.id, &senders, t0 + Duration::seconds(6)).await;
    let log = app.list_messages(&owner).await.ok();
    assert_eq!(log.iter().find(|m| m.id == bounced.id).unwrap().attempts, 1);
    assert_eq!(log.iter().find(|m| m.id == busy.id).unwrap().attempts, 2);

    // The birthday wish (marketing) skips the bounced address, and the log says why.
    let r = run_scheduled_notices(&app, t.id, &senders, t0 + Duration::minutes(1)).await;
    assert_eq!(r["queued"]["birthday"], 1, "{r}");
    deliver_messages(&app, t.id, &senders, t0 + Duration::minutes(2)).await;
    let log = app.list_messages(&owner).await.ok();
    let skipped = log
        .iter()
        .find(|m| {
            m.member_id.as_deref() == Some(gone.id.as_str())
                && m.occasion.as_deref() == Some("birthday")
        })
        .expect("logged");
    assert_eq!(skipped.status, "stopped");
    assert_eq!(
        skipped.last_error.as_deref(),
        Some("skipped: the address bounced")
    );
    let to: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| m.lines().next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        to,
        [
            "X-Envelope-To: fine@example.com",
            "X-Envelope-To: fine@example.com"
        ],
        "the welcome and the birthday wish, to the good address only"
    );

    // A campaign counts the bounced address as no address: not in the preview's e-mail
    // reach, skipped as no contact, and nothing is sent to it.
    let filter = json!({ "ids": [gone.id, fine.id] });
    let p = app
        .preview_campaign(&owner, &json!({ "filter": filter, "channels": ["email"] }))
        .await
        .ok();
    assert_eq!((p.reach.email, p.reach.email_missing), (1, 1), "{p:?}");
    let c = app
        .create_campaign(
            &owner,
            &campaign_body("After the bounce", filter, &["email"]),
        )
        .await
        .ok();
    let at = t0 + Duration::minutes(3);
    let report = run_campaign(&app, t.id, &senders, &c.id, at).await;
    assert_eq!(report["status"], "done", "{report}");
    deliver_messages(&app, t.id, &senders, at).await;
    let c = app.get_campaign(&owner, &c.id).await.ok();
    let email = c.on("email");
    assert_eq!(
        (email.sent, email.skipped_no_contact, email.failed),
        (1, 1, 0),
        "{email:?}"
    );
    let to: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| m.lines().next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(to.len(), 3, "{to:?}");
    assert!(to.iter().all(|l| l == "X-Envelope-To: fine@example.com"));
    smtp.stop().await;
}

#[tokio::test]
async fn a_purchase_and_a_redemption_announce_the_entries_they_made_in_the_order_they_happened() {
    let app = spawn_app().await;
    let t = app.signup_on("entry-events", "pro").await;
    let owner = t.owner();
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    let m = app.member(&owner, NewMember::named("Ann")).await.id;
    let p = app.purchase(&owner, &m, "ee-1", 5_000).await;
    assert_eq!(p.points, 50);
    let r = app
        .redeem_points(
            &owner,
            &m,
            &json!({ "idempotency_key": "ee-r1", "points": 20, "reward": "咖啡" }),
        )
        .await
        .body();
    let redeemed_entry = r.entry_id.expect("the redemption's entry");

    let tenant = patron_tests::internals::tenant_row(&app, t.id).await;
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    let mut rows = patron_db::messages::recent(&mut tx, 100).await.unwrap();
    tx.commit().await.unwrap();
    rows.sort_by_key(|r| r.id);
    let events: Vec<&str> = rows.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        events,
        ["member.created", "points.earned", "points.redeemed"]
    );
    // The purchase's event names the purchase and carries the entry its statement made.
    let earned = &rows[1];
    assert_eq!(earned.occasion, format!("purchase:{}", p.purchase_id));
    assert_eq!(earned.entity, format!("member:{m}"));
    assert_eq!(earned.data["points"], 50);
    assert_eq!(earned.data["balance"], 50);
    assert_eq!(earned.data["purchase_id"], p.purchase_id.as_str());
    let earned_entry = earned.data["entry_id"].as_i64().expect("an entry id");
    assert!(
        earned_entry > 0 && earned_entry < redeemed_entry,
        "{earned:?}"
    );
    // The redemption's event is about its entry.
    let spent = &rows[2];
    assert_eq!(spent.occasion, redeemed_entry.to_string());
    assert_eq!(spent.data["entry_id"], redeemed_entry);
    assert_eq!(
        (&spent.data["points"], &spent.data["balance"]),
        (&json!(20), &json!(30))
    );
    assert_eq!(spent.data["reward"], "咖啡");
    assert_eq!(spent.member_id.map(|id| id.to_string()), Some(m.clone()));
}
