//! Conversations between the front desk and members: a member asks in the portal, staff
//! see it waiting, answer (the member sees it unread, and the answer's e-mail reaches a real
//! SMTP server through the outbox), assign, close and reopen; follow-ups with due dates;
//! search by member, keyword (Chinese) and dates, paged by cursor; idempotent writes; bad
//! input; another member's and another business's threads invisible; the plan gate.

use crate::messages::body_text;
use chrono::{Duration, Utc};
use patron_tests::internals::{deliver_messages, message_senders};
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

fn ask(subject: &str, body: &str) -> Value {
    json!({ "subject": subject, "body": body })
}

#[tokio::test]
async fn a_member_asks_staff_answer_and_each_side_sees_what_waits_for_them() {
    let app = spawn_app().await;
    let t = app.signup_on("talk", "pro").await;
    let owner = t.owner();
    app.save_message_template(
        &owner,
        &email_template(
            "conversation.answered",
            "zh-CN",
            "回复：{{subject}}",
            "{{staff}}：{{answer}}",
        ),
    )
    .await
    .ok();
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    let member = portal_member(
        &app,
        &t,
        "13900005001",
        json!({ "name": "李雷", "email": "li.lei@example.com" }),
    )
    .await;

    // The member asks; a retry with the same key opens one thread only.
    let first = app
        .portal_start_conversation(
            &t.slug,
            &member.auth(),
            &ask("退款问题", "上周的年卡能退款吗？"),
            Some("ask-1"),
        )
        .await
        .ok();
    let again = app
        .portal_start_conversation(
            &t.slug,
            &member.auth(),
            &ask("退款问题", "上周的年卡能退款吗？"),
            Some("ask-1"),
        )
        .await
        .ok();
    assert_eq!(again.conversation.id, first.conversation.id);
    let other_body = app
        .portal_start_conversation(&t.slug, &member.auth(), &ask("别的", "别的"), Some("ask-1"))
        .await;
    assert_eq!(other_body.status, StatusCode::CONFLICT, "{other_body:?}");
    assert_eq!(other_body.code(), "idempotency_key_reused");
    let id = first.conversation.id.clone();
    assert_eq!(first.conversation.status, "open");
    assert_eq!(first.messages.len(), 1);
    assert_eq!(first.messages[0].author, "member");
    assert_eq!(first.messages[0].author_name, "李雷");

    // The console sees it waiting for an answer, with the member's name.
    let page = app.conversations(&desk, &[]).await.ok();
    assert_eq!(page.items.len(), 1, "{page:?}");
    assert_eq!(page.waiting, 1);
    assert_eq!(page.items[0].member_name, "李雷");
    assert_eq!(page.items[0].status, "open");

    // Staff answer (a retry adds nothing): it now waits for the member.
    let answered = app
        .answer_conversation(&desk, &id, "可以，请带上收据到前台。", Some("ans-1"))
        .await
        .ok();
    let replayed = app
        .answer_conversation(&desk, &id, "可以，请带上收据到前台。", Some("ans-1"))
        .await
        .ok();
    assert_eq!(replayed.messages.len(), 2);
    assert_eq!(answered.conversation.status, "waiting");
    let last = answered.messages.last().unwrap();
    assert_eq!(
        (last.author.as_str(), last.author_name.as_str()),
        ("staff", "Staff")
    );
    assert_eq!(app.conversations(&desk, &[]).await.ok().waiting, 0);

    // The member sees one unread answer until they open the thread.
    let mine = app.portal_conversations(&t.slug, &member.auth()).await.ok();
    assert!(mine.available);
    assert_eq!((mine.unread, mine.items[0].unread), (1, 1));
    let thread = app
        .portal_conversation(&t.slug, &member.auth(), &id)
        .await
        .ok();
    assert_eq!(thread.messages[1].body, "可以，请带上收据到前台。");
    assert_eq!(thread.messages[1].author_name, "Staff");
    app.portal_read_conversation(&t.slug, &member.auth(), &id)
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(
        app.portal_conversations(&t.slug, &member.auth())
            .await
            .ok()
            .unread,
        0
    );

    // The answer went out through the outbox: a zh-CN e-mail at a real SMTP server.
    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    deliver_messages(&app, t.id, &senders, Utc::now()).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "one answer, one e-mail: {mails:?}");
    assert!(mails[0].contains("X-Envelope-To: li.lei@example.com"));
    assert!(body_text(&mails[0]).contains("Staff：可以，请带上收据到前台。"));
    smtp.stop().await;

    // Staff close it; the member writing again opens it, waiting for an answer.
    let closed = app.move_conversation(&desk, &id, "close").await.ok();
    assert_eq!(closed.conversation.status, "closed");
    let reopened = app
        .portal_write_conversation(&t.slug, &member.auth(), &id, "还有一个问题。", None)
        .await
        .ok();
    assert_eq!(reopened.conversation.status, "open");
    assert_eq!(app.conversations(&desk, &[]).await.ok().waiting, 1);
    // Staff may close and reopen themselves too.
    app.move_conversation(&desk, &id, "close").await.ok();
    let back = app.move_conversation(&desk, &id, "reopen").await.ok();
    assert_eq!(back.conversation.status, "open");
}

#[tokio::test]
async fn many_retries_racing_with_one_key_open_one_thread() {
    let app = spawn_app().await;
    let t = app.signup_on("talkrace", "pro").await;
    let member = portal_member(&app, &t, "13900005011", json!({ "name": "韩梅梅" })).await;
    let body = ask("会员卡", "我的卡丢了");
    let auth = member.auth();
    let calls =
        (0..8).map(|_| app.portal_start_conversation(&t.slug, &auth, &body, Some("lost-card")));
    let replies = futures::future::join_all(calls).await;
    let ids: std::collections::BTreeSet<String> = replies
        .into_iter()
        .map(|r| r.ok().conversation.id)
        .collect();
    assert_eq!(ids.len(), 1);
    let mine = app.portal_conversations(&t.slug, &member.auth()).await.ok();
    assert_eq!(mine.items.len(), 1);
}

#[tokio::test]
async fn another_members_and_another_businesss_threads_are_invisible() {
    let app = spawn_app().await;
    let t = app.signup_on("talkmine", "pro").await;
    let other_t = app.signup_on("talkother", "pro").await;
    let a = portal_member(&app, &t, "13900005021", json!({ "name": "甲" })).await;
    let b = portal_member(&app, &t, "13900005022", json!({ "name": "乙" })).await;
    let id = app
        .portal_start_conversation(&t.slug, &a.auth(), &ask("私事", "只给前台看"), None)
        .await
        .ok()
        .conversation
        .id;

    // Another member of the same business: not found, and nothing written.
    let r = app.portal_conversation(&t.slug, &b.auth(), &id).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let r = app
        .portal_write_conversation(&t.slug, &b.auth(), &id, "我也看看", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let r = app.portal_read_conversation(&t.slug, &b.auth(), &id).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    assert!(app
        .portal_conversations(&t.slug, &b.auth())
        .await
        .ok()
        .items
        .is_empty());
    let thread = app.conversation(&t.owner(), &id).await.ok();
    assert_eq!(thread.messages.len(), 1);

    // Another business's staff: none in the list, not found by id, cannot answer.
    let theirs = other_t.owner();
    assert!(app.conversations(&theirs, &[]).await.ok().items.is_empty());
    let r = app.conversation(&theirs, &id).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let r = app.answer_conversation(&theirs, &id, "hi", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    // A member of another business cannot use their token here.
    let r = app.portal_conversation(&other_t.slug, &a.auth(), &id).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
}

#[tokio::test]
async fn threads_are_found_by_member_keyword_in_chinese_and_dates_paged_by_cursor() {
    let app = spawn_app().await;
    let t = app.signup_on("talkfind", "pro").await;
    let owner = t.owner();
    let a = portal_member(&app, &t, "13900005031", json!({ "name": "王小明" })).await;
    let b = portal_member(&app, &t, "13900005032", json!({ "name": "赵小红" })).await;
    let t0 = Utc::now();
    app.clock.set(t0 - Duration::days(10));
    let old = app
        .portal_start_conversation(&t.slug, &a.auth(), &ask("营业时间", "周末几点开门？"), None)
        .await
        .ok()
        .conversation
        .id;
    app.clock.set(t0);
    let refund = app
        .portal_start_conversation(
            &t.slug,
            &a.auth(),
            &ask("年卡", "请问如何办理退款手续？"),
            None,
        )
        .await
        .ok()
        .conversation
        .id;
    let other = app
        .portal_start_conversation(
            &t.slug,
            &b.auth(),
            &ask("Parking", "Where do I park? 100%_sure"),
            None,
        )
        .await
        .ok()
        .conversation
        .id;

    let ids = |p: ConversationPage| -> Vec<String> { p.items.into_iter().map(|c| c.id).collect() };
    // A Chinese keyword inside a message.
    let found = app.conversations(&owner, &[("keyword", "退款")]).await.ok();
    assert_eq!(ids(found), [refund.as_str()]);
    // `%` and `_` are themselves, not wildcards.
    let found = app.conversations(&owner, &[("keyword", "0%_s")]).await.ok();
    assert_eq!(ids(found), [other.as_str()]);
    assert!(app
        .conversations(&owner, &[("keyword", "1%")])
        .await
        .ok()
        .items
        .is_empty());
    // By the member's name and phone.
    let by_name = app
        .conversations(&owner, &[("member", "王小明")])
        .await
        .ok();
    assert_eq!(ids(by_name), [refund.clone(), old.clone()]);
    let by_phone = app
        .conversations(&owner, &[("member", "13900005032")])
        .await
        .ok();
    assert_eq!(ids(by_phone), [other.as_str()]);
    // By the dates of their messages.
    let from = (t0 - Duration::days(1)).to_rfc3339();
    let recent = app
        .conversations(&owner, &[("from", from.as_str())])
        .await
        .ok();
    assert_eq!(recent.items.len(), 2);
    let to = (t0 - Duration::days(5)).to_rfc3339();
    let early = app.conversations(&owner, &[("to", to.as_str())]).await.ok();
    assert_eq!(ids(early), [old.as_str()]);

    // Paged by cursor, the latest first, every thread once.
    let p1 = app.conversations(&owner, &[("limit", "2")]).await.ok();
    assert_eq!(p1.items.len(), 2);
    let cursor = p1.next_cursor.clone().expect("a next page");
    let p2 = app
        .conversations(&owner, &[("limit", "2"), ("cursor", cursor.as_str())])
        .await
        .ok();
    assert_eq!(p2.next_cursor, None);
    let mut all = ids(p1);
    all.extend(ids(p2));
    assert_eq!(all, [other, refund, old]);

    // A cursor that is not one, a state that is not one: 422 naming each.
    let r = app.conversations(&owner, &[("cursor", "nope")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["cursor"]);
    let r = app.conversations(&owner, &[("status", "pending")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["status"]);
}

#[tokio::test]
async fn threads_are_assigned_and_follow_ups_come_due() {
    let app = spawn_app().await;
    let t = app.signup_on("talkfollow", "pro").await;
    let owner = t.owner();
    let (sam, _) = app.staff_with_roles(&t, &["front_desk"]).await;
    let member = portal_member(&app, &t, "13900005041", json!({ "name": "张三" })).await;
    let id = app
        .portal_start_conversation(&t.slug, &member.auth(), &ask("私教课", "想约私教"), None)
        .await
        .ok()
        .conversation
        .id;

    // Assigned to a staff member, found by assignee; nobody unknown.
    let assigned = app.assign_conversation(&owner, &id, Some(&sam)).await.ok();
    assert_eq!(
        assigned.conversation.assignee_id.as_deref(),
        Some(sam.as_str())
    );
    assert_eq!(
        assigned.conversation.assignee_name.as_deref(),
        Some("Staff")
    );
    let theirs = app
        .conversations(&owner, &[("assignee", sam.as_str())])
        .await
        .ok();
    assert_eq!(theirs.items.len(), 1);
    assert!(app
        .conversations(&owner, &[("unassigned", "true")])
        .await
        .ok()
        .items
        .is_empty());
    let nobody = uuid::Uuid::now_v7().to_string();
    let r = app.assign_conversation(&owner, &id, Some(&nobody)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["staff_id"]);
    let unassigned = app.assign_conversation(&owner, &id, None).await.ok();
    assert_eq!(unassigned.conversation.assignee_id, None);

    // A follow-up in two days: not due today, due then; done, it is gone.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let due = (today + Duration::days(2)).to_string();
    let thread = app
        .add_conversation_follow_up(
            &owner,
            &id,
            &json!({ "due_on": due, "note": "回电确认私教时间" }),
            Some("fu-1"),
        )
        .await
        .ok();
    app.add_conversation_follow_up(
        &owner,
        &id,
        &json!({ "due_on": due, "note": "回电确认私教时间" }),
        Some("fu-1"),
    )
    .await
    .ok();
    assert_eq!(thread.follow_ups.len(), 1);
    let fu = thread.follow_ups[0].id.clone();
    assert!(app
        .due_conversation_follow_ups(&owner, None)
        .await
        .ok()
        .is_empty());
    let then = app
        .due_conversation_follow_ups(&owner, Some(&due))
        .await
        .ok();
    assert_eq!(then.len(), 1);
    assert_eq!(
        (then[0].note.as_str(), then[0].member_name.as_str()),
        ("回电确认私教时间", "张三")
    );
    let done = app
        .finish_conversation_follow_up(&owner, &id, &fu)
        .await
        .ok();
    assert!(done.follow_ups[0].done_at.is_some());
    assert!(app
        .due_conversation_follow_ups(&owner, Some(&due))
        .await
        .ok()
        .is_empty());

    // A follow-up due yesterday is refused on `due_on`.
    let yesterday = (today - Duration::days(1)).to_string();
    let r = app
        .add_conversation_follow_up(&owner, &id, &json!({ "due_on": yesterday }), None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["due_on"]);
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let t = app.signup_on("talkbad", "pro").await;
    let member = portal_member(&app, &t, "13900005051", json!({ "name": "钱七" })).await;
    let long = "字".repeat(4_001);
    for (body, field) in [
        (ask("   ", "有内容"), "subject"),
        (ask("一行\n两行", "有内容"), "subject"),
        (ask("标题", &long), "body"),
        (ask("标题", "控制\u{0007}字符"), "body"),
        (ask(&"题".repeat(201), "有内容"), "subject"),
    ] {
        let r = app
            .portal_start_conversation(&t.slug, &member.auth(), &body, None)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {r:?}");
        assert_eq!(r.fields(), [field], "{body}");
    }
    assert!(app
        .portal_conversations(&t.slug, &member.auth())
        .await
        .ok()
        .items
        .is_empty());
    let id = app
        .portal_start_conversation(&t.slug, &member.auth(), &ask("标题", "正文"), None)
        .await
        .ok()
        .conversation
        .id;
    let r = app.answer_conversation(&t.owner(), &id, "  ", None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["body"]);
    assert_eq!(
        app.conversation(&t.owner(), &id).await.ok().messages.len(),
        1
    );
}

#[tokio::test]
async fn without_conversations_in_the_plan_staff_get_402_and_the_portal_takes_none() {
    let app = spawn_app().await;
    let t = app.signup_on("talkfree", "free").await;
    let r = app.conversations(&t.owner(), &[]).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    assert_eq!(r.plan_problem().feature.as_deref(), Some("conversations"));
    let member = portal_member(&app, &t, "13900005061", json!({ "name": "孙八" })).await;
    let mine = app.portal_conversations(&t.slug, &member.auth()).await.ok();
    assert!(!mine.available);
    let r = app
        .portal_start_conversation(&t.slug, &member.auth(), &ask("你好", "在吗"), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(r.code(), "conversations_unavailable");
}
