//! Saved segments: a named member search saved, renamed, edited, counted live and deleted;
//! names unique per business; creation idempotent; reading for members:read, writing for
//! campaigns:manage; another business's segments invisible; a campaign sent to a segment
//! keeps the filter it was created with, whatever happens to the segment later.

use patron_core::clock::Clock;
use patron_tests::internals::message_senders;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn segments_are_saved_counted_changed_and_deleted_within_their_business() {
    let app = spawn_app().await;
    let t = app.signup_on("sg-main", "pro").await;
    let owner = t.owner();
    for i in 1..=2 {
        app.member(&owner, NewMember::named(format!("常客{i}")).tags(&["vip"]))
            .await;
    }
    app.member(&owner, NewMember::named("新客")).await;

    let body = json!({ "name": " 常客 ", "filter": { "tags": ["vip"], "sort": "name", "limit": 5 },
                       "idempotency_key": "sg-1" });
    let s = app.create_segment(&owner, &body).await.ok();
    assert_eq!(s.name, "常客");
    assert_eq!(s.filter["tags"], json!(["vip"]));
    assert!(
        s.filter["limit"].is_null(),
        "paging is not kept: {:?}",
        s.filter
    );
    // The same key: the same segment; with another body: 409.
    assert_eq!(app.create_segment(&owner, &body).await.ok().id, s.id);
    let mut other = body.clone();
    other["name"] = json!("别的");
    let r = app.create_segment(&owner, &other).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "idempotency_key_reused");
    assert_eq!(app.segments(&owner).await.ok().len(), 1);

    let n = app.count_segment(&owner, &s.id).await.ok();
    assert_eq!((n.members, n.more), (2, false));

    // Names are unique per business, whatever their case.
    let all = app
        .create_segment(&owner, &json!({ "name": "All", "filter": {} }))
        .await
        .ok();
    let r = app
        .create_segment(&owner, &json!({ "name": "all", "filter": {} }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.json);
    assert_eq!(r.code(), "segment_name_taken");
    assert_eq!(r.fields(), ["name"]);
    let r = app
        .update_segment(&owner, &all.id, &json!({ "name": "常客", "filter": {} }))
        .await;
    assert_eq!(r.code(), "segment_name_taken");

    // Renamed and edited: the count follows.
    let s2 = app
        .update_segment(
            &owner,
            &s.id,
            &json!({ "name": "Everyone but", "filter": { "name": "客" } }),
        )
        .await
        .ok();
    assert_eq!(s2.name, "Everyone but");
    assert_eq!(app.count_segment(&owner, &s.id).await.ok().members, 3);
    assert_eq!(
        app.get_segment(&owner, &s.id).await.ok().filter["name"],
        "客"
    );

    // Bad input names its field; nothing is written.
    let r = app
        .create_segment(&owner, &json!({ "name": " ", "filter": {} }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["name"]);
    let r = app
        .create_segment(
            &owner,
            &json!({ "name": "Gold", "filter": { "tier": "nope" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.json);
    assert!(
        r.fields().iter().all(|f| f.starts_with("filter.")),
        "{:?}",
        r.fields()
    );
    assert_eq!(app.segments(&owner).await.ok().len(), 2);

    // Front desk reads (members:read) but does not write (campaigns:manage).
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(app.segments(&desk).await.ok().len(), 2);
    assert_eq!(app.count_segment(&desk, &s.id).await.ok().members, 3);
    let r = app
        .create_segment(&desk, &json!({ "name": "Desk", "filter": {} }))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete_segment(&desk, &s.id).await.status,
        StatusCode::FORBIDDEN
    );

    // Another business sees none of them.
    let other = app.signup_on("sg-other", "pro").await;
    let o = other.owner();
    assert!(app.segments(&o).await.ok().is_empty());
    assert_eq!(
        app.get_segment(&o, &s.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.count_segment(&o, &s.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.update_segment(&o, &s.id, &json!({ "name": "x", "filter": {} }))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete_segment(&o, &s.id).await.status,
        StatusCode::NOT_FOUND
    );
    // Nor can it send a campaign to one.
    let mut c = campaign_body("Steal", json!(null), &["inbox"]);
    c.as_object_mut().unwrap().remove("filter");
    c["segment_id"] = json!(s.id);
    let r = app.create_campaign(&o, &c).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["segment_id"]);

    app.delete_segment(&owner, &all.id)
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_segment(&owner, &all.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.segments(&owner).await.ok().len(), 1);

    // A plan without campaigns has no segments either.
    let starter = app.signup_on("sg-starter", "starter").await;
    let r = app.segments(&starter.owner()).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(r.plan_problem().feature.as_deref(), Some("campaigns"));
}

#[tokio::test]
async fn a_campaign_to_a_segment_keeps_the_filter_it_was_created_with() {
    let app = spawn_app().await;
    let t = app.signup_on("sg-camp", "pro").await;
    let owner = t.owner();
    let senders = message_senders(None);
    for i in 1..=2 {
        app.member(&owner, NewMember::named(format!("常客{i}")).tags(&["vip"]))
            .await;
    }
    app.member(&owner, NewMember::named("新客")).await;
    let s = app
        .create_segment(
            &owner,
            &json!({ "name": "VIP", "filter": { "tags": ["vip"] } }),
        )
        .await
        .ok();

    let preview = app
        .preview_campaign(
            &owner,
            &json!({ "segment_id": s.id, "channels": ["inbox"] }),
        )
        .await
        .ok();
    assert_eq!(preview.reach.members, 2);

    let mut body = campaign_body("To VIP", json!(null), &["inbox"]);
    body.as_object_mut().unwrap().remove("filter");
    body["segment_id"] = json!(s.id);
    let now = app.clock.now();
    body["send_at"] = json!((now + chrono::Duration::hours(1)).to_rfc3339());
    let c = app.create_campaign(&owner, &body).await.ok();
    assert_eq!(c.segment_id.as_deref(), Some(s.id.as_str()));
    assert_eq!(c.filter["tags"], json!(["vip"]), "{:?}", c.filter);

    // The segment changes (and is then deleted) before the campaign's time: the campaign
    // sends to the audience it was created with and shows that filter.
    app.update_segment(&owner, &s.id, &json!({ "name": "VIP", "filter": {} }))
        .await
        .ok();
    assert_eq!(app.count_segment(&owner, &s.id).await.ok().members, 3);
    app.delete_segment(&owner, &s.id)
        .await
        .expect(StatusCode::NO_CONTENT);
    let report = run_campaign(
        &app,
        t.id,
        &senders,
        &c.id,
        now + chrono::Duration::hours(2),
    )
    .await;
    assert_eq!(report["status"], "done", "{report}");
    let c = app.get_campaign(&owner, &c.id).await.ok();
    assert_eq!((c.matched, c.on("inbox").sent), (2, 2), "{c:?}");
    assert_eq!(c.filter["tags"], json!(["vip"]));

    // One audience: a filter or a segment, not both, not neither.
    let mut both = campaign_body("Both", json!({}), &["inbox"]);
    both["segment_id"] = json!(s.id);
    let r = app.create_campaign(&owner, &both).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["segment_id"]);
    let mut neither = campaign_body("Neither", json!({}), &["inbox"]);
    neither.as_object_mut().unwrap().remove("filter");
    let r = app.create_campaign(&owner, &neither).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["filter"]);
}

#[tokio::test]
async fn eight_requests_with_one_key_at_once_save_one_segment_and_one_campaign() {
    let app = spawn_app_with(30).await;
    let t = app.signup_on("sg-race", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("同时")).await;

    let body = json!({ "name": "同时保存", "filter": { "tags": ["vip"] },
                       "idempotency_key": "sg-race-1" });
    let answers = futures::future::join_all(
        (0..8).map(|_| async { app.create_segment(&owner, &body).await }),
    )
    .await;
    let ids: Vec<String> = answers
        .into_iter()
        .map(|r| {
            assert!(
                r.status.is_success(),
                "every racer answers the segment: {r:?}"
            );
            r.ok().id
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.segments(&owner).await.ok().len(), 1);

    let mut campaign = campaign_body("同时发送", json!({ "ids": [m.id] }), &["inbox"]);
    campaign["idempotency_key"] = json!("cm-race-1");
    let answers = futures::future::join_all(
        (0..8).map(|_| async { app.create_campaign(&owner, &campaign).await }),
    )
    .await;
    let ids: Vec<String> = answers
        .into_iter()
        .map(|r| {
            assert!(
                r.status.is_success(),
                "every racer answers the campaign: {r:?}"
            );
            r.ok().id
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.campaigns(&owner).await.ok().len(), 1);
}
