//! Activities through the API: one seat counter that parallel sign-ups, cancellations and
//! staff moves never overrun, a line that moves in order, offers that pass on, check-in
//! codes that rotate and count once, ratings only from those who came, points taken and
//! given back, and nothing seen across businesses.

use chrono::Duration;
use patron_core::clock::Clock;
use patron_tests::internals::{
    assert_ledger_agrees, deliver_messages, lapse_activity_offers, message_senders, outbox_events,
};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn published(app: &TestApp, owner: &Auth, body: Value) -> ActivityView {
    let a = app.create_activity(owner, &body).await.ok();
    assert_eq!(a.status, "draft");
    app.set_activity_status(owner, &a.id, "published")
        .await
        .ok()
}

/// Registers a member through the portal of `t` and returns their portal login.
async fn portal_member(app: &TestApp, t: &TestTenant, phone: &str, name: &str) -> MemberSession {
    assert_eq!(
        app.send_portal_code(&t.slug, phone, "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(t, phone).await;
    app.register_member(
        &t.slug,
        &json!({ "profile": { "name": name, "phone": phone }, "code": code,
                 "password": "portal-activity-password-1" }),
    )
    .await
    .created()
}

async fn give_points(app: &TestApp, owner: &Auth, member: &str, points: i64) {
    app.adjust_points(
        owner,
        member,
        &json!({ "idempotency_key": format!("seed-{member}"), "points": points, "reason": "seed" }),
    )
    .await
    .created();
}

async fn balance(app: &TestApp, owner: &Auth, member: &str) -> i64 {
    app.member_points(owner, member).await.json["balance"]
        .as_i64()
        .unwrap()
}

fn by_status<'a>(rs: &'a [ActivityRegistration], status: &str) -> Vec<&'a ActivityRegistration> {
    rs.iter().filter(|r| r.status == status).collect()
}

#[tokio::test]
async fn fifty_parallel_sign_ups_for_ten_seats_confirm_ten_and_line_up_the_rest_in_order() {
    let app = spawn_app_with(30).await;
    let t = app.signup_on("act-race", "pro").await;
    let owner = t.owner();
    let a = published(&app, &owner, activity_body("夜跑 Night run", 10)).await;
    let mut members = Vec::new();
    for i in 0..50 {
        members.push(
            app.member(&owner, NewMember::named(format!("Runner {i}")))
                .await
                .id,
        );
    }

    let tasks: Vec<_> = members
        .iter()
        .map(|m| {
            let (api, owner, a, m) = (app.api.clone(), owner.clone(), a.id.clone(), m.clone());
            tokio::spawn(async move {
                api.add_activity_registration(&owner, &a, &json!({ "member_id": m }))
                    .await
            })
        })
        .collect();
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }

    let rs = app.activity_registrations(&owner, &a.id).await.ok();
    assert_eq!(rs.len(), 50);
    assert_eq!(by_status(&rs, "confirmed").len(), 10);
    let line = by_status(&rs, "waitlisted");
    assert_eq!(line.len(), 40);
    let positions: Vec<i64> = line.iter().map(|r| r.position.unwrap()).collect();
    assert_eq!(
        positions,
        (1..=40).collect::<Vec<_>>(),
        "the line is listed in order"
    );
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 10);

    // A second sign-up of the same member is refused.
    let again = app
        .add_activity_registration(&owner, &a.id, &json!({ "member_id": members[0] }))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_registered");

    // Seats freed one after another go to the line in its order.
    let confirmed: Vec<String> = by_status(&rs, "confirmed")
        .iter()
        .map(|r| r.id.clone())
        .collect();
    for (n, id) in confirmed.iter().take(3).enumerate() {
        app.act_on_registration(&owner, &a.id, id, "cancel", &json!({}))
            .await
            .ok();
        let now = app.activity_registrations(&owner, &a.id).await.ok();
        let offered = by_status(&now, "offered");
        assert_eq!(offered.len(), n + 1);
        assert_eq!(
            offered.last().unwrap().id,
            line[n].id,
            "offered in line order"
        );
        assert_eq!(by_status(&now, "waitlisted")[0].position, Some(1));
    }
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 10);
}

#[tokio::test]
async fn a_cancellation_frees_exactly_one_seat_even_when_staff_move_someone_at_the_same_moment() {
    let app = spawn_app_with(20).await;
    let t = app.signup_on("act-move", "pro").await;
    let owner = t.owner();
    for round in 0..4 {
        let a = published(&app, &owner, activity_body(&format!("Yoga {round}"), 2)).await;
        let mut regs = Vec::new();
        for i in 0..5 {
            let m = app
                .member(&owner, NewMember::named(format!("Y{round}-{i}")))
                .await
                .id;
            regs.push(
                app.add_activity_registration(&owner, &a.id, &json!({ "member_id": m }))
                    .await
                    .ok(),
            );
        }
        assert_eq!(regs[1].status, "confirmed");
        assert_eq!(regs[2].status, "waitlisted");
        // The first seat holder cancels while staff move the last in line into a seat.
        let cancel = {
            let (api, owner, a, r) = (
                app.api.clone(),
                owner.clone(),
                a.id.clone(),
                regs[0].id.clone(),
            );
            tokio::spawn(async move {
                api.act_on_registration(&owner, &a, &r, "cancel", &json!({}))
                    .await
            })
        };
        let moved = {
            let (api, owner, a, r) = (
                app.api.clone(),
                owner.clone(),
                a.id.clone(),
                regs[4].id.clone(),
            );
            tokio::spawn(async move {
                api.act_on_registration(&owner, &a, &r, "move", &json!({ "to": "seat" }))
                    .await
            })
        };
        let (cancel, moved) = (cancel.await.unwrap(), moved.await.unwrap());
        assert_eq!(cancel.status, StatusCode::OK, "{cancel:?}");
        assert!(
            moved.status == StatusCode::OK
                || (moved.status == StatusCode::CONFLICT && moved.code() == "activity_full"),
            "{moved:?}"
        );
        let rs = app.activity_registrations(&owner, &a.id).await.ok();
        let holders = rs
            .iter()
            .filter(|r| r.status == "confirmed" || r.status == "offered")
            .count();
        assert_eq!(holders, 2, "round {round}: {rs:?}");
        assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 2);
        // Exactly one person came out of the line.
        let from_line = [&regs[2], &regs[3], &regs[4]]
            .iter()
            .filter(|w| {
                rs.iter()
                    .any(|r| r.id == w.id && (r.status == "confirmed" || r.status == "offered"))
            })
            .count();
        assert_eq!(from_line, 1, "round {round}: {rs:?}");
    }
}

#[tokio::test]
async fn an_offer_not_taken_in_time_passes_on_and_one_taken_in_time_holds() {
    let app = spawn_app().await;
    let t = app.signup_on("act-offer", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let mut body = activity_body("Workshop", 1);
    body["offer_minutes"] = json!(30);
    let a = published(&app, &owner, body).await;
    let first = portal_member(&app, &t, "13866660001", "First").await;
    let w1 = portal_member(&app, &t, "13866660002", "Wait one").await;
    let w2 = portal_member(&app, &t, "13866660003", "Wait two").await;
    let mut regs = Vec::new();
    for m in [&first, &w1, &w2] {
        regs.push(
            app.portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &json!({}))
                .await
                .ok(),
        );
    }
    assert_eq!(regs[0].status, "confirmed");
    assert_eq!(
        (regs[1].status.as_str(), regs[1].position),
        ("waitlisted", Some(1))
    );
    assert_eq!(
        (regs[2].status.as_str(), regs[2].position),
        ("waitlisted", Some(2))
    );

    // The seat holder cancels: the first in line is offered the seat.
    app.portal_cancel_activity(&t.slug, &first.auth(), &regs[0].id)
        .await
        .ok();
    let mine = app.portal_my_activities(&t.slug, &w1.auth()).await.ok();
    assert_eq!(mine[0].status, "offered");

    // Before the offer runs out the job leaves it alone; after, it passes on.
    app.clock.advance(Duration::minutes(29));
    assert_eq!(lapse_activity_offers(&app, t.id).await["lapsed"], 0);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(lapse_activity_offers(&app, t.id).await["lapsed"], 1);
    let late = app
        .portal_accept_activity_offer(&t.slug, &w1.auth(), &regs[1].id)
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.code(), "registration_state");
    let rs = app.activity_registrations(&owner, &a.id).await.ok();
    let status_of = |id: &str| rs.iter().find(|r| r.id == id).unwrap().status.clone();
    assert_eq!(status_of(&regs[1].id), "lapsed");
    assert_eq!(status_of(&regs[2].id), "offered");

    // The next one takes it in time: confirmed, and the seat stays theirs.
    let taken = app
        .portal_accept_activity_offer(&t.slug, &w2.auth(), &regs[2].id)
        .await
        .ok();
    assert_eq!(taken.status, "confirmed");
    app.clock.advance(Duration::hours(2));
    assert_eq!(lapse_activity_offers(&app, t.id).await["lapsed"], 0);
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 1);
}

#[tokio::test]
async fn a_check_in_code_rotates_a_forged_or_stale_one_is_refused_and_points_count_once() {
    let app = spawn_app().await;
    let t = app.signup_on("act-door", "pro").await;
    let owner = t.owner();
    let mut body = activity_body("Members' night", 5);
    body["attend_points"] = json!(50);
    let a = published(&app, &owner, body).await;
    let hana = portal_member(&app, &t, "13877770001", "Hana").await;
    let reg = app
        .portal_sign_up_activity(&t.slug, &hana.auth(), &a.id, &json!({}))
        .await
        .ok();
    assert_eq!(reg.status, "confirmed");
    let code = app
        .portal_activity_code(&t.slug, &hana.auth(), &reg.id)
        .await
        .ok();
    assert!(code.code.starts_with("AC"), "{}", code.code);

    // A changed character is a forgery.
    let mut forged = code.code.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let r = app
        .check_in_activity(&owner, &a.id, std::str::from_utf8(&forged).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "check_in_code_invalid");
    assert_eq!(r.problem().fields[0].field, "code");

    // A screenshot a minute old is stale.
    app.clock.advance(Duration::seconds(61));
    let r = app.check_in_activity(&owner, &a.id, &code.code).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "check_in_code_expired");
    assert_eq!(balance(&app, &owner, &hana.member.id).await, 0);

    // The live code checks in once, even scanned twice at the same moment.
    let live = app
        .portal_activity_code(&t.slug, &hana.auth(), &reg.id)
        .await
        .ok();
    let scans: Vec<_> = (0..2)
        .map(|_| {
            let (api, owner, a, c) = (
                app.api.clone(),
                owner.clone(),
                a.id.clone(),
                live.code.clone(),
            );
            tokio::spawn(async move { api.check_in_activity(&owner, &a, &c).await })
        })
        .collect();
    let mut ok = 0;
    for s in scans {
        let r = s.await.unwrap();
        if r.status == StatusCode::OK {
            ok += 1;
            let r = r.body();
            assert_eq!(r.checked_in_by_name.as_deref(), Some("Owner"));
            assert_eq!(r.attend_points, Some(50));
        } else {
            assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
            assert_eq!(r.code(), "already_checked_in");
            assert_eq!(r.problem().params.unwrap()["by"], "Owner");
        }
    }
    assert_eq!(ok, 1);
    let again = app.check_in_activity(&owner, &a.id, &live.code).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_checked_in");
    assert_eq!(balance(&app, &owner, &hana.member.id).await, 50);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn only_people_who_came_rate_once_each_within_a_week_and_staff_can_hide_a_rating() {
    let app = spawn_app().await;
    let t = app.signup_on("act-rate", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let mut body = activity_body("Trail run", 5);
    body["budget"] = json!(60_000);
    let a = published(&app, &owner, body).await;
    let came = portal_member(&app, &t, "13888880001", "Came").await;
    let away = portal_member(&app, &t, "13888880002", "Away").await;
    let mut regs = Vec::new();
    for m in [&came, &away] {
        regs.push(
            app.portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &json!({}))
                .await
                .ok(),
        );
    }
    let code = app
        .portal_activity_code(&t.slug, &came.auth(), &regs[0].id)
        .await
        .ok();
    app.check_in_activity(&owner, &a.id, &code.code).await.ok();
    app.set_activity_status(&owner, &a.id, "finished")
        .await
        .ok();

    let refused = app
        .portal_rate_activity(&t.slug, &away.auth(), &regs[1].id, &json!({ "stars": 1 }))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "rating_needs_attendance");
    // Nor can one rate with someone else's registration.
    let other = app
        .portal_rate_activity(&t.slug, &away.auth(), &regs[0].id, &json!({ "stars": 5 }))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    let rated = app
        .portal_rate_activity(
            &t.slug,
            &came.auth(),
            &regs[0].id,
            &json!({ "stars": 4, "comment": "好玩" }),
        )
        .await
        .ok();
    assert_eq!(rated.rating.unwrap()["stars"], 4);
    app.clock.advance(Duration::days(6));
    app.portal_rate_activity(&t.slug, &came.auth(), &regs[0].id, &json!({ "stars": 5 }))
        .await
        .ok();
    let ratings = app.activity_ratings(&owner, &a.id).await.ok();
    assert_eq!(ratings.len(), 1, "one rating each");
    assert_eq!(ratings[0]["stars"], 5);
    app.clock.advance(Duration::days(2));
    let locked = app
        .portal_rate_activity(&t.slug, &came.auth(), &regs[0].id, &json!({ "stars": 1 }))
        .await;
    assert_eq!(locked.status, StatusCode::CONFLICT);
    assert_eq!(locked.code(), "rating_locked");

    let stats = app.activity_statistics(&owner, &a.id).await.ok();
    assert_eq!(stats["confirmed"], 2);
    assert_eq!(stats["attended"], 1);
    assert_eq!(stats["no_shows"], 1);
    assert_eq!(stats["attendance_rate"], 0.5);
    assert_eq!(stats["cost_per_attendee"], 60_000);
    assert_eq!(stats["average_stars"], 5.0);
    let hidden = app
        .set_activity_rating_hidden(&owner, &a.id, &regs[0].id, true)
        .await
        .ok();
    assert_eq!(hidden[0]["hidden"], true);
    let stats = app.activity_statistics(&owner, &a.id).await.ok();
    assert_eq!(stats["ratings"], 0);
}

#[tokio::test]
async fn the_price_in_points_is_taken_at_sign_up_and_given_back_on_cancel_and_when_called_off() {
    let app = spawn_app().await;
    let t = app.signup_on("act-price", "pro").await;
    let owner = t.owner();
    let mut body = activity_body("Tea tasting", 5);
    body["price_points"] = json!(100);
    body["approval"] = json!("staff");
    let a = published(&app, &owner, body).await;
    let rich = portal_member(&app, &t, "13899990001", "Rich").await;
    let poor = portal_member(&app, &t, "13899990002", "Poor").await;
    give_points(&app, &owner, &rich.member.id, 150).await;

    let short = app
        .portal_sign_up_activity(&t.slug, &poor.auth(), &a.id, &json!({}))
        .await;
    assert_eq!(short.status, StatusCode::CONFLICT);
    assert_eq!(short.code(), "insufficient_points");
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 0);

    // Staff approve sign-ups here: pending, paid, then seated by the approval.
    let key = json!({ "idempotency_key": "sign-up-1" });
    let reg = app
        .portal_sign_up_activity(&t.slug, &rich.auth(), &a.id, &key)
        .await
        .ok();
    assert_eq!((reg.status.as_str(), reg.points_paid), ("pending", 100));
    let retry = app
        .portal_sign_up_activity(&t.slug, &rich.auth(), &a.id, &key)
        .await
        .ok();
    assert_eq!(retry.id, reg.id, "a retry answers the first sign-up");
    assert_eq!(balance(&app, &owner, &rich.member.id).await, 50);
    let approved = app
        .act_on_registration(&owner, &a.id, &reg.id, "approve", &json!({}))
        .await
        .ok();
    assert_eq!(approved.status, "confirmed");
    let mine = app
        .portal_cancel_activity(&t.slug, &rich.auth(), &reg.id)
        .await
        .ok();
    assert_eq!(mine.status, "cancelled");
    assert_eq!(balance(&app, &owner, &rich.member.id).await, 150);
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 0);

    // Rejected with a reason: the points come back too.
    let again = app
        .portal_sign_up_activity(&t.slug, &rich.auth(), &a.id, &json!({}))
        .await
        .ok();
    let no_reason = app
        .act_on_registration(
            &owner,
            &a.id,
            &again.id,
            "reject",
            &json!({ "reason": " " }),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.problem().fields[0].field, "reason");
    let rejected = app
        .act_on_registration(
            &owner,
            &a.id,
            &again.id,
            "reject",
            &json!({ "reason": "满员" }),
        )
        .await
        .ok();
    assert_eq!(
        (rejected.status.as_str(), rejected.reason.as_deref()),
        ("rejected", Some("满员"))
    );
    assert_eq!(balance(&app, &owner, &rich.member.id).await, 150);

    // Called off: every live sign-up is cancelled and refunded.
    let third = app
        .portal_sign_up_activity(&t.slug, &rich.auth(), &a.id, &json!({}))
        .await
        .ok();
    app.act_on_registration(&owner, &a.id, &third.id, "approve", &json!({}))
        .await
        .ok();
    assert_eq!(balance(&app, &owner, &rich.member.id).await, 50);
    let off = app
        .set_activity_status(&owner, &a.id, "cancelled")
        .await
        .ok();
    assert_eq!((off.status.as_str(), off.taken), ("cancelled", 0));
    assert_eq!(balance(&app, &owner, &rich.member.id).await, 150);
    let rs = app.activity_registrations(&owner, &a.id).await.ok();
    assert!(rs.iter().all(|r| r.status != "confirmed"));
    let reopen = app.set_activity_status(&owner, &a.id, "published").await;
    assert_eq!(reopen.status, StatusCode::CONFLICT);
    assert_eq!(reopen.code(), "activity_state");
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn another_business_can_neither_see_nor_join_an_activity() {
    let app = spawn_app().await;
    let a = app.signup_on("act-iso-a", "pro").await;
    let b = app.signup_on("act-iso-b", "pro").await;
    let act = published(&app, &a.owner(), activity_body("Private", 5)).await;
    assert_eq!(
        app.get_activity(&b.owner(), &act.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.activity_registrations(&b.owner(), &act.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(app.list_activities(&b.owner()).await.ok().is_empty());
    let theirs = app.member(&b.owner(), NewMember::named("B's")).await.id;
    let r = app
        .add_activity_registration(&b.owner(), &act.id, &json!({ "member_id": theirs }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Nor can A's staff sign up B's member in A's activity.
    let r = app
        .add_activity_registration(&a.owner(), &act.id, &json!({ "member_id": theirs }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let member_b = portal_member(&app, &b, "13811112222", "B member").await;
    assert!(app
        .portal_activities(&b.slug, &member_b.auth())
        .await
        .ok()
        .is_empty());
    let r = app
        .portal_sign_up_activity(&b.slug, &member_b.auth(), &act.id, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A member token of B is no key to A's portal.
    let r = app.portal_activities(&a.slug, &member_b.auth()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_activity(&a.owner(), &act.id).await.ok().taken, 0);
}

#[tokio::test]
async fn bad_input_is_refused_naming_each_field() {
    let app = spawn_app().await;
    let t = app.signup_on("act-bad", "pro").await;
    let owner = t.owner();
    let starts = chrono::Utc::now() + Duration::days(3);
    let r = app
        .create_activity(
            &owner,
            &json!({ "title": "  ", "starts_at": starts, "ends_at": starts - Duration::hours(1),
                     "capacity": 0, "approval": "maybe", "tiers": ["no-such-tier"],
                     "price_points": -1, "organisers": [uuid::Uuid::new_v4()] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let mut fields = r.fields();
    fields.sort();
    assert!(
        ["approval", "capacity", "price_points"]
            .iter()
            .all(|f| fields.iter().any(|x| x == f)),
        "{fields:?}"
    );
    // The document's limits let these through; the use case names every bad field.
    let r = app
        .create_activity(
            &owner,
            &json!({ "title": "  ", "starts_at": starts, "ends_at": starts - Duration::hours(1),
                     "capacity": 3, "approval": "staff", "tiers": ["no-such-tier"],
                     "organisers": [uuid::Uuid::new_v4()] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, ["ends_at", "organisers[0]", "tiers[0]", "title"]);

    let a = published(&app, &owner, activity_body("Fine", 2)).await;
    let r = app.set_activity_status(&owner, &a.id, "someday").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["status"]);
    let r = app
        .add_activity_registration(&owner, &a.id, &json!({ "member_id": "not-an-id" }))
        .await;
    assert!(r.status.is_client_error(), "{r:?}");
    let r = app.check_in_activity(&owner, &a.id, "hello").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["code"]);
    let mut smaller = activity_body("Fine", 2);
    smaller["capacity"] = json!(1);
    for i in 0..2 {
        let m = app
            .member(&owner, NewMember::named(format!("Seat {i}")))
            .await
            .id;
        app.add_activity_registration(&owner, &a.id, &json!({ "member_id": m }))
            .await
            .ok();
    }
    let r = app.update_activity(&owner, &a.id, &smaller).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "capacity_below_taken");
    let m = portal_member(&app, &t, "13833334444", "Rater").await;
    let reg = app
        .portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &json!({}))
        .await
        .ok();
    assert_eq!(reg.status, "waitlisted");
    let r = app
        .portal_rate_activity(&t.slug, &m.auth(), &reg.id, &json!({ "stars": 9 }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["stars"]);
}

/// The outbox rows of `event`, as the members they are for.
async fn told(app: &TestApp, t: &TestTenant, event: &str) -> Vec<String> {
    let mut who: Vec<String> = outbox_events(app, t.id)
        .await
        .into_iter()
        .filter(|(e, _)| e == event)
        .filter_map(|(_, m)| m)
        .collect();
    who.sort();
    who
}

#[tokio::test]
async fn members_are_told_of_an_offer_and_of_a_called_off_activity_once_each_by_e_mail() {
    let app = spawn_app().await;
    let t = app.signup_on("act-tell", "pro").await;
    let owner = t.owner();
    for (occasion, subject, text) in [
        (
            "activity.offered",
            "有空位了：{{activity}}",
            "{{activity}} 为您保留了一个名额，请在 {{until}} 前确认。",
        ),
        (
            "activity.cancelled",
            "活动取消：{{activity}}",
            "{{activity}}（{{time}}，{{place}}）已取消，退回 {{points_refunded}} 积分。",
        ),
    ] {
        app.save_message_template(&owner, &email_template(occasion, "zh-CN", subject, text))
            .await
            .ok();
    }
    let mut body = activity_body("夜跑", 1);
    body["place"] = json!("滨江公园");
    let a = published(&app, &owner, body).await;
    let seat = app
        .member(
            &owner,
            NewMember::named("有座").email("you.zuo@example.com"),
        )
        .await;
    let next = app
        .member(
            &owner,
            NewMember::named("排队").email("pai.dui@example.com"),
        )
        .await;
    let last = app
        .member(&owner, NewMember::named("末位").email("mo.wei@example.com"))
        .await;
    let mut regs = Vec::new();
    for m in [&seat, &next, &last] {
        regs.push(
            app.add_activity_registration(&owner, &a.id, &json!({ "member_id": m.id }))
                .await
                .ok(),
        );
    }
    assert_eq!(regs[1].status, "waitlisted");

    // The seat is given up: the next in line is offered it, and told.
    app.act_on_registration(&owner, &a.id, &regs[0].id, "cancel", &json!({}))
        .await
        .ok();
    assert_eq!(told(&app, &t, "activity.offered").await, [next.id.as_str()]);

    // Called off, twice (a retry): each live sign-up is told once; the one who had
    // cancelled is not.
    for _ in 0..2 {
        let off = app
            .set_activity_status(&owner, &a.id, "cancelled")
            .await
            .ok();
        assert_eq!(off.status, "cancelled");
    }
    let mut live = vec![next.id.clone(), last.id.clone()];
    live.sort();
    assert_eq!(told(&app, &t, "activity.cancelled").await, live);

    let smtp = SmtpSink::start().await;
    let senders = message_senders(Some(smtp.url()));
    deliver_messages(&app, t.id, &senders, app.clock.now()).await;
    deliver_messages(&app, t.id, &senders, app.clock.now() + Duration::minutes(5)).await;
    let mails = smtp.messages();
    let to = |m: &String| {
        m.lines()
            .find_map(|l| l.strip_prefix("X-Envelope-To: "))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let mut got: Vec<String> = mails.iter().map(to).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "mo.wei@example.com",
            "pai.dui@example.com",
            "pai.dui@example.com"
        ],
        "an offer and a cancellation to the next in line, a cancellation to the last"
    );
    let last_mail = mails
        .iter()
        .find(|m| to(m) == "mo.wei@example.com")
        .unwrap();
    let text = crate::messages::body_text(last_mail);
    assert!(text.contains("夜跑（"), "{text}");
    assert!(text.contains("滨江公园）已取消，退回 0 积分。"), "{text}");
    smtp.stop().await;
}

#[tokio::test]
async fn an_approval_and_a_rejection_are_told_to_the_member_through_the_outbox() {
    let app = spawn_app().await;
    let t = app.signup_on("act-told", "pro").await;
    let owner = t.owner();
    let mut body = activity_body("Pottery", 1);
    body["approval"] = json!("staff");
    let a = published(&app, &owner, body).await;
    let yes = portal_member(&app, &t, "13899990011", "Yes").await;
    let no = portal_member(&app, &t, "13899990012", "No").await;
    let mut regs = Vec::new();
    for m in [&yes, &no] {
        regs.push(
            app.portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &json!({}))
                .await
                .ok(),
        );
    }
    assert!(told(&app, &t, "activity.approved").await.is_empty());
    app.act_on_registration(&owner, &a.id, &regs[0].id, "approve", &json!({}))
        .await
        .ok();
    app.act_on_registration(
        &owner,
        &a.id,
        &regs[1].id,
        "reject",
        &json!({ "reason": "名额已满" }),
    )
    .await
    .ok();
    assert_eq!(
        told(&app, &t, "activity.approved").await,
        [yes.member.id.as_str()]
    );
    assert_eq!(
        told(&app, &t, "activity.rejected").await,
        [no.member.id.as_str()]
    );
    assert!(told(&app, &t, "activity.offered").await.is_empty());
}

#[tokio::test]
async fn a_plan_without_activities_answers_402_naming_the_feature() {
    let app = spawn_app().await;
    let t = app.signup_on("act-free", "free").await;
    let r = app.list_activities(&t.owner()).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    let p = r.plan_problem();
    assert_eq!(
        (p.code.as_str(), p.feature.as_deref()),
        ("feature_not_in_plan", Some("activities"))
    );
    let r = app
        .create_activity(&t.owner(), &activity_body("x", 1))
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
}

#[tokio::test]
async fn a_segment_lets_only_the_members_its_search_finds_see_and_join() {
    let app = spawn_app().await;
    let t = app.signup_on("act-seg", "pro").await;
    let owner = t.owner();

    // The segment's conditions are checked as the member search checks them, under
    // `segment`.
    for (segment, field) in [
        (
            json!({ "custom": [{ "field": "nope", "eq": 1 }] }),
            "segment.custom.0.field",
        ),
        (json!({ "tier": "nope" }), "segment.tier"),
    ] {
        let mut bad = activity_body("Bad", 5);
        bad["segment"] = segment;
        let r = app.create_activity(&owner, &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert_eq!(r.fields(), [field]);
    }

    let mut body = activity_body("贵宾品鉴", 5);
    body["segment"] = json!({ "name": "贵宾" });
    let a = published(&app, &owner, body).await;
    let shown = app.get_activity(&owner, &a.id).await;
    assert_eq!(shown.json["segment"]["name"], "贵宾", "{:?}", shown.json);
    let vip = portal_member(&app, &t, "13899990021", "贵宾甲").await;
    let other = portal_member(&app, &t, "13899990022", "普通乙").await;
    let sees = |list: Vec<Value>| list.iter().any(|x| x["id"] == a.id.as_str());
    assert!(sees(app.portal_activities(&t.slug, &vip.auth()).await.ok()));
    assert!(!sees(
        app.portal_activities(&t.slug, &other.auth()).await.ok()
    ));
    let r = app
        .portal_sign_up_activity(&t.slug, &other.auth(), &a.id, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(r.code(), "activity_not_for_tier");
    let mine = app
        .portal_sign_up_activity(&t.slug, &vip.auth(), &a.id, &json!({}))
        .await
        .ok();
    assert_eq!(mine.status, "confirmed");
    // Staff may still add anyone.
    let added = app
        .add_activity_registration(&owner, &a.id, &json!({ "member_id": other.member.id }))
        .await
        .ok();
    assert_eq!(added.status, "confirmed");
}

#[tokio::test]
async fn guests_take_the_same_seats_as_members_never_more_than_there_are() {
    let app = spawn_app().await;
    let t = app.signup_on("act-guest", "pro").await;
    let owner = t.owner();
    let a = published(&app, &owner, activity_body("Open day", 3)).await;

    let bad = app
        .add_activity_guest(&owner, &a.id, &json!({ "name": " ", "phone": "12" }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    assert_eq!(bad.fields(), ["name", "phone"]);

    let member = app.member(&owner, NewMember::named("会员")).await;
    app.add_activity_registration(&owner, &a.id, &json!({ "member_id": member.id }))
        .await
        .ok();
    let friend = app
        .add_activity_guest(
            &owner,
            &a.id,
            &json!({ "name": "朋友", "phone": "138 9999 0001", "idempotency_key": "g-1" }),
        )
        .await
        .ok();
    assert_eq!(
        (friend.status.as_str(), friend.phone_masked.as_str()),
        ("confirmed", "138****0001")
    );
    let retry = app
        .add_activity_guest(
            &owner,
            &a.id,
            &json!({ "name": "朋友", "phone": "138 9999 0001", "idempotency_key": "g-1" }),
        )
        .await
        .ok();
    assert_eq!(retry.id, friend.id, "a retry answers the first guest");
    let twice = app
        .add_activity_guest(
            &owner,
            &a.id,
            &json!({ "name": "又来", "phone": "13899990001" }),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.code(), "already_registered");
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 2);
    let walk_in = app
        .add_activity_guest(
            &owner,
            &a.id,
            &json!({ "name": "路人", "phone": "13899990002" }),
        )
        .await
        .ok();
    let full = app
        .add_activity_guest(
            &owner,
            &a.id,
            &json!({ "name": "晚到", "phone": "13899990003" }),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert_eq!(full.code(), "activity_full");

    // A member after them waits in line; a guest who cancels frees the seat for them.
    let late = app.member(&owner, NewMember::named("晚到会员")).await;
    let line = app
        .add_activity_registration(&owner, &a.id, &json!({ "member_id": late.id }))
        .await
        .ok();
    assert_eq!(line.status, "waitlisted");
    let gone = app
        .act_on_activity_guest(&owner, &a.id, &friend.id, "cancel")
        .await
        .ok();
    assert_eq!(gone.status, "cancelled");
    let rs = app.activity_registrations(&owner, &a.id).await.ok();
    assert_eq!(by_status(&rs, "offered").len(), 1);
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 3);

    // Checked in once.
    let came = app
        .act_on_activity_guest(&owner, &a.id, &walk_in.id, "check-in")
        .await
        .ok();
    assert!(came.checked_in_at.is_some());
    let again = app
        .act_on_activity_guest(&owner, &a.id, &walk_in.id, "check-in")
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_checked_in");
    let guests = app.activity_guests(&owner, &a.id).await.ok();
    assert_eq!(guests.len(), 2);

    // Called off: the guests' seats go back with the members'.
    let off = app
        .set_activity_status(&owner, &a.id, "cancelled")
        .await
        .ok();
    assert_eq!(off.taken, 0);
    let guests = app.activity_guests(&owner, &a.id).await.ok();
    assert!(guests.iter().all(|g| g.status == "cancelled"));
}

#[tokio::test]
async fn parallel_guests_and_members_for_the_last_seats_never_overrun_them() {
    let app = spawn_app_with(30).await;
    let t = app.signup_on("act-guests", "pro").await;
    let owner = t.owner();
    let a = published(&app, &owner, activity_body("Tasting", 5)).await;
    let mut members = Vec::new();
    for n in 0..10 {
        members.push(
            app.member(&owner, NewMember::named(format!("M{n}")))
                .await
                .id,
        );
    }
    let member_calls = members.iter().map(|m| {
        let api = app.api.clone();
        let (owner, id) = (owner.clone(), a.id.clone());
        let body = json!({ "member_id": m });
        async move {
            api.add_activity_registration(&owner, &id, &body)
                .await
                .ok()
                .status
        }
    });
    let guest_calls = (0..10).map(|n| {
        let api = app.api.clone();
        let (owner, id) = (owner.clone(), a.id.clone());
        let body = json!({ "name": format!("G{n}"), "phone": format!("1380000{n:04}") });
        async move { api.add_activity_guest(&owner, &id, &body).await.status }
    });
    let (members, guests) = futures::future::join(
        futures::future::join_all(member_calls),
        futures::future::join_all(guest_calls),
    )
    .await;
    let seated_members = members.iter().filter(|s| *s == "confirmed").count();
    let seated_guests = guests.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(
        guests
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{guests:?}"
    );
    assert_eq!(seated_members + seated_guests, 5, "{members:?} {guests:?}");
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 5);
}

/// Sets the business's spend order; a top-up of ¥100 or more earns a ¥20 bonus.
async fn spend_order(app: &TestApp, owner: &Auth, order: &str) {
    app.set_prepaid_settings(
        owner,
        &json!({ "spend_order": order,
                 "bonus_rule": { "kind": "tiers", "tiers": [{ "min": 10_000, "bonus": 2_000 }] },
                 "balance_cap": null, "freeze_days_per_year": 30 }),
    )
    .await
    .ok();
}

async fn top_up(app: &TestApp, owner: &Auth, member: &str, amount: i64) {
    app.top_up(
        owner,
        member,
        &json!({ "idempotency_key": format!("seed-{member}-{amount}"), "amount": amount,
                 "method": "cash", "receipt": "" }),
    )
    .await
    .created();
}

async fn stored(app: &TestApp, owner: &Auth, member: &str) -> (i64, i64) {
    let b = app.stored_value(owner, member).await.ok().balance;
    (b.principal, b.bonus)
}

#[tokio::test]
async fn a_price_in_stored_value_is_taken_by_the_spend_order_and_given_back_to_principal_and_bonus()
{
    let app = spawn_app().await;
    let t = app.signup_on("act-sv", "pro").await;
    let owner = t.owner();
    spend_order(&app, &owner, "pro_rata").await;
    let mut body = activity_body("Pottery", 5);
    body["price_kind"] = json!("stored_value");
    body["price_fen"] = json!(3_000);
    let a = published(&app, &owner, body).await;
    let shown = app.get_activity(&owner, &a.id).await.json;
    assert_eq!(
        (&shown["price_kind"], &shown["price_fen"]),
        (&json!("stored_value"), &json!(3_000))
    );
    let m = portal_member(&app, &t, "13899991001", "Lan").await;
    top_up(&app, &owner, &m.member.id, 10_000).await;
    assert_eq!(stored(&app, &owner, &m.member.id).await, (10_000, 2_000));

    // 30 of 100 + 20: 25 from principal, 5 from bonus (pro rata); a retry charges once.
    let key = json!({ "idempotency_key": "sv-1" });
    let reg = app
        .portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &key)
        .await
        .ok();
    let retry = app
        .portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &key)
        .await
        .ok();
    assert_eq!(retry.id, reg.id);
    let regs = app.activity_registrations(&owner, &a.id).await.ok();
    assert_eq!(
        (regs[0].fen_paid, regs[0].principal_paid, regs[0].bonus_paid),
        (3_000, 2_500, 500)
    );
    assert_eq!(stored(&app, &owner, &m.member.id).await, (7_500, 1_500));

    // The member cancels: exactly what was taken goes back to each sub-ledger, once.
    let cancelled = app
        .portal_cancel_activity(&t.slug, &m.auth(), &reg.id)
        .await
        .ok();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(stored(&app, &owner, &m.member.id).await, (10_000, 2_000));
    let twice = app
        .act_on_registration(&owner, &a.id, &reg.id, "cancel", &json!({}))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(stored(&app, &owner, &m.member.id).await, (10_000, 2_000));
    let kinds: Vec<(String, String, i64)> = app
        .stored_value(&owner, &m.member.id)
        .await
        .ok()
        .entries
        .into_iter()
        .filter(|e| e.kind != "top_up")
        .map(|e| (e.kind, e.ledger, e.amount))
        .collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(kinds.contains(&("spend".into(), "principal".into(), -2_500)));
    assert!(kinds.contains(&("refund".into(), "bonus".into(), 500)));

    // Staff add them again, bonus first this time; calling the activity off gives it back.
    spend_order(&app, &owner, "bonus_first").await;
    let again = app
        .add_activity_registration(&owner, &a.id, &json!({ "member_id": m.member.id }))
        .await
        .ok();
    assert_eq!((again.principal_paid, again.bonus_paid), (1_000, 2_000));
    assert_eq!(stored(&app, &owner, &m.member.id).await, (9_000, 0));
    app.set_activity_status(&owner, &a.id, "cancelled")
        .await
        .ok();
    assert_eq!(stored(&app, &owner, &m.member.id).await, (10_000, 2_000));
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn twenty_parallel_sign_ups_against_a_balance_for_three_never_take_it_below_zero() {
    let app = spawn_app().await;
    let t = app.signup_on("act-sv-race", "pro").await;
    let owner = t.owner();
    spend_order(&app, &owner, "pro_rata").await;
    let m = portal_member(&app, &t, "13899991002", "Bo").await;
    top_up(&app, &owner, &m.member.id, 3_000).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let mut body = activity_body(&format!("Class {i}"), 5);
        body["price_fen"] = json!(1_000);
        ids.push(published(&app, &owner, body).await.id);
    }

    let tasks: Vec<_> = ids
        .iter()
        .map(|a| {
            let (api, slug, auth, a) = (app.api.clone(), t.slug.clone(), m.auth(), a.clone());
            tokio::spawn(async move {
                api.portal_sign_up_activity(&slug, &auth, &a, &json!({}))
                    .await
            })
        })
        .collect();
    let (mut signed, mut refused) = (0, 0);
    for task in tasks {
        let r = task.await.unwrap();
        if r.status.is_success() {
            signed += 1;
        } else {
            assert_eq!(r.status, StatusCode::CONFLICT);
            assert_eq!(r.code(), "insufficient_stored_value");
            refused += 1;
        }
    }
    assert_eq!((signed, refused), (3, 17));
    assert_eq!(stored(&app, &owner, &m.member.id).await, (0, 0));
    let mut taken = 0;
    for a in &ids {
        taken += app.get_activity(&owner, a).await.ok().taken;
    }
    assert_eq!(taken, 3, "a refused sign-up holds no seat");
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_price_of_one_pass_visit_uses_one_and_a_cancel_gives_it_back() {
    let app = spawn_app().await;
    let t = app.signup_on("act-pass", "pro").await;
    let owner = t.owner();
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "瑜伽10次卡", "visits": 10, "price": 50_000 }),
        )
        .await
        .ok();
    let mut body = activity_body("Yoga", 5);
    body["price_kind"] = json!("pass");
    body["pass_product_id"] = product["id"].clone();
    let a = published(&app, &owner, body).await;
    assert_eq!(
        app.get_activity(&owner, &a.id).await.json["pass_product_name"],
        "瑜伽10次卡"
    );
    let m = portal_member(&app, &t, "13899991003", "Yu").await;
    let pass = app
        .sell_pass(
            &owner,
            &m.member.id,
            &json!({ "product_id": product["id"], "method": "cash" }),
        )
        .await
        .ok();

    let reg = app
        .portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &json!({}))
        .await
        .ok();
    let regs = app.activity_registrations(&owner, &a.id).await.ok();
    assert_eq!(regs[0].pass_id.as_deref(), pass["id"].as_str());
    let passes = app.member_passes(&owner, &m.member.id).await.ok();
    assert_eq!(passes[0]["visits_left"], 9);

    app.act_on_registration(&owner, &a.id, &reg.id, "cancel", &json!({}))
        .await
        .ok();
    let passes = app.member_passes(&owner, &m.member.id).await.ok();
    assert_eq!(passes[0]["visits_left"], 10);
    let uses = passes[0]["uses"].as_array().cloned().unwrap_or_default();
    assert!(
        uses.iter().all(|u| !u["reversed_at"].is_null()),
        "the visit is reversed: {uses:?}"
    );

    // Someone without the pass: 409 naming the product, no seat, no registration.
    let other = portal_member(&app, &t, "13899991004", "Ming").await;
    let refused = app
        .portal_sign_up_activity(&t.slug, &other.auth(), &a.id, &json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "pass_unavailable");
    assert_eq!(refused.problem().params.unwrap()["product"], "瑜伽10次卡");
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 0);
}

#[tokio::test]
async fn without_the_balance_a_sign_up_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let t = app.signup_on("act-sv-none", "pro").await;
    let owner = t.owner();
    let mut body = activity_body("Wine evening", 5);
    body["price_kind"] = json!("stored_value");
    body["price_fen"] = json!(8_800);
    let a = published(&app, &owner, body).await;
    let m = portal_member(&app, &t, "13899991005", "Hua").await;
    top_up(&app, &owner, &m.member.id, 5_000).await;

    let refused = app
        .portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &json!({}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "insufficient_stored_value");
    let params = refused.problem().params.unwrap();
    assert_eq!(
        (&params["balance"], &params["asked"]),
        (&json!(5_000), &json!(8_800))
    );
    let staff = app
        .add_activity_registration(&owner, &a.id, &json!({ "member_id": m.member.id }))
        .await;
    assert_eq!(staff.code(), "insufficient_stored_value");
    assert!(app
        .activity_registrations(&owner, &a.id)
        .await
        .ok()
        .is_empty());
    assert_eq!(app.get_activity(&owner, &a.id).await.ok().taken, 0);
    assert_eq!(stored(&app, &owner, &m.member.id).await, (5_000, 0));
    assert_eq!(
        app.stored_value(&owner, &m.member.id)
            .await
            .ok()
            .entries
            .len(),
        1
    );

    // A price of the wrong shape is refused naming the field.
    let mut bad = activity_body("Odd", 5);
    bad["price_kind"] = json!("pass");
    bad["price_fen"] = json!(100);
    let bad = app.create_activity(&owner, &bad).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = bad.fields();
    fields.sort();
    assert_eq!(fields, ["pass_product_id", "price_fen"]);
}

#[tokio::test]
async fn a_price_in_stored_value_or_a_pass_needs_a_plan_that_includes_it() {
    let app = spawn_app().await;
    let plan = json!({ "name": "Activities only", "monthly_price_minor": 9_999_999,
                       "currency": "CNY", "features": ["activities"], "limits": {},
                       "trial_days": 0 });
    let t = app.signup_on_own_plan("act-price-plan", &plan).await;
    let owner = t.owner();

    let mut body = activity_body("Pottery", 5);
    body["price_fen"] = json!(3_000);
    let r = app.create_activity(&owner, &body).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.json);
    assert_eq!(r.plan_problem().feature.as_deref(), Some("stored_value"));
    let mut body = activity_body("Yoga", 5);
    body["price_kind"] = json!("pass");
    body["pass_product_id"] = json!(uuid::Uuid::new_v4());
    let r = app.create_activity(&owner, &body).await;
    assert_eq!(r.plan_problem().feature.as_deref(), Some("visit_passes"));
    let mut body = activity_body("Tea", 5);
    body["price_points"] = json!(10);
    app.create_activity(&owner, &body).await.ok();
}

#[tokio::test]
async fn guests_count_in_the_statistics_and_are_reported_on_their_own_too() {
    let app = spawn_app().await;
    let t = app.signup_on("act-gstats", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let mut body = activity_body("Tasting", 10);
    body["budget"] = json!(40_000);
    let a = published(&app, &owner, body).await;
    let came = portal_member(&app, &t, "13888881001", "Came").await;
    let away = portal_member(&app, &t, "13888881002", "Away").await;
    let mut regs = Vec::new();
    for m in [&came, &away] {
        regs.push(
            app.portal_sign_up_activity(&t.slug, &m.auth(), &a.id, &json!({}))
                .await
                .ok(),
        );
    }
    let code = app
        .portal_activity_code(&t.slug, &came.auth(), &regs[0].id)
        .await
        .ok();
    app.check_in_activity(&owner, &a.id, &code.code).await.ok();
    let mut guests = Vec::new();
    for (name, phone) in [("嘉宾甲", "13899991001"), ("嘉宾乙", "13899991002")] {
        guests.push(
            app.add_activity_guest(&owner, &a.id, &json!({ "name": name, "phone": phone }))
                .await
                .ok(),
        );
    }
    app.act_on_activity_guest(&owner, &a.id, &guests[0].id, "check-in")
        .await
        .ok();

    let stats = app.activity_statistics(&owner, &a.id).await.ok();

    assert_eq!(stats["sign_ups"], 4, "{stats}");
    assert_eq!(stats["confirmed"], 4);
    assert_eq!(stats["attended"], 2);
    assert_eq!(stats["no_shows"], 2);
    assert_eq!(stats["attendance_rate"], 0.5);
    assert_eq!(stats["cost_per_attendee"], 20_000);
    assert_eq!(stats["guests"], 2);
    assert_eq!(stats["guests_confirmed"], 2);
    assert_eq!(stats["guests_attended"], 1);
    assert_eq!(stats["cancelled"], 0);
}
