//! The points mall through the API: stock and per-member limits under parallel orders,
//! cancels that put the points back into the lots they came from with their expiry (and
//! the ledger still agrees), a cancel racing a fulfilment, the member's side in the portal,
//! the job that cancels orders left pending, tenant isolation, bad input and retries.

use chrono::Duration;
use patron_core::clock::Clock;
use patron_tests::internals::{assert_ledger_agrees, cancel_overdue_mall_orders, expire_points};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn item(name: &str, points: i64, stock: i64) -> Value {
    json!({ "name": name, "points": points, "stock": stock, "delivery": "pickup",
            "pictures": ["https://example.com/a.png"], "description": "A reward" })
}

fn order(key: &str, item: &str, quantity: i64) -> Value {
    json!({ "idempotency_key": key, "item_id": item, "quantity": quantity })
}

async fn give(app: &TestApp, auth: &Auth, member: &str, key: &str, points: i64) {
    app.adjust_points(
        auth,
        member,
        &json!({ "idempotency_key": key, "points": points, "reason": "welcome" }),
    )
    .await
    .created();
}

async fn stock_of(app: &TestApp, auth: &Auth, item: &str) -> i64 {
    app.mall_items(auth, true)
        .await
        .ok()
        .into_iter()
        .find(|i| i.id == item)
        .expect("the item is listed")
        .stock
}

/// Registers a member through the portal (phone verified) and logs them in.
async fn portal_member(app: &TestApp, t: &TestTenant, name: &str, phone: &str) -> MemberSession {
    let r = app.send_portal_code(&t.slug, phone, "register").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    let code = app.last_code(t, phone).await;
    app.register_member(
        &t.slug,
        &json!({ "profile": { "name": name, "phone": phone }, "code": code, "password": PASSWORD }),
    )
    .await
    .created()
}

#[tokio::test]
async fn thirty_parallel_orders_for_a_stock_of_three_sell_exactly_three() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-stock", "pro").await;
    let owner = t.owner();
    let it = app
        .create_mall_item(&owner, &item("Mug", 100, 3))
        .await
        .ok();
    let mut members = vec![];
    for n in 0..6 {
        let m = app
            .member(&owner, NewMember::named(format!("M{n}")))
            .await
            .id;
        give(&app, &owner, &m, "g", 1_000).await;
        members.push(m);
    }
    let tasks: Vec<_> = (0..30)
        .map(|n| {
            let (api, owner, m, id) = (
                app.api.clone(),
                owner.clone(),
                members[n % 6].clone(),
                it.id.clone(),
            );
            tokio::spawn(async move {
                api.place_mall_order(&owner, &m, &order(&format!("k{n}"), &id, 1))
                    .await
            })
        })
        .collect();
    let (mut created, mut out) = (0, 0);
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(r.code(), "mall_out_of_stock", "{r:?}");
                out += 1;
            }
            _ => panic!("{r:?}"),
        }
    }
    assert_eq!((created, out), (3, 27));
    assert_eq!(stock_of(&app, &owner, &it.id).await, 0);
    let orders = app.mall_orders(&owner, Some("pending"), None).await.ok();
    assert_eq!(orders.len(), 3);
    // Exactly the ordered points left the members' balances.
    let mut total = 0;
    for m in &members {
        total += app.member_points(&owner, m).await.ok().balance;
    }
    assert_eq!(total, 6 * 1_000 - 3 * 100);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn the_per_member_limit_holds_under_parallel_orders_and_a_cancel_frees_it() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-limit", "pro").await;
    let owner = t.owner();
    let mut body = item("Cap", 10, 100);
    body["per_member"] = json!(2);
    let it = app.create_mall_item(&owner, &body).await.ok();
    assert_eq!(it.per_member, Some(2));
    let m = app.member(&owner, NewMember::named("Lim")).await.id;
    give(&app, &owner, &m, "g", 1_000).await;
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let (api, owner, m, id) = (app.api.clone(), owner.clone(), m.clone(), it.id.clone());
            tokio::spawn(async move {
                api.place_mall_order(&owner, &m, &order(&format!("p{n}"), &id, 1))
                    .await
            })
        })
        .collect();
    let mut placed = vec![];
    for task in tasks {
        let r = task.await.unwrap();
        if r.status == StatusCode::CREATED {
            placed.push(r.body().order.id);
        } else {
            assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
            assert_eq!(r.code(), "mall_member_limit");
            assert_eq!(r.json["params"]["limit"], 2, "{r:?}");
        }
    }
    assert_eq!(placed.len(), 2);
    assert_eq!(stock_of(&app, &owner, &it.id).await, 98);
    // Two units in one order are over the limit at once.
    let r = app
        .place_mall_order(&owner, &m, &order("two", &it.id, 2))
        .await;
    assert_eq!(r.code(), "mall_member_limit");
    // A cancelled order's unit counts no more.
    app.move_mall_order(
        &owner,
        &placed[0],
        &json!({ "action": "cancel", "reason": "changed mind" }),
    )
    .await
    .ok();
    app.place_mall_order(&owner, &m, &order("again", &it.id, 1))
        .await
        .created();
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 1_000 - 20);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_cancel_puts_the_points_back_into_their_lots_with_their_expiry() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-lots", "pro").await;
    // A key, not a session: the clock moves on by days.
    let owner = app.api_key(&t, "owner").await;
    app.update_points_settings(&owner, &json!({ "expiry": { "mode": "days", "days": 10 } }))
        .await
        .ok();
    let m = app.member(&owner, NewMember::named("Lot")).await.id;
    give(&app, &owner, &m, "a", 100).await;
    app.clock.advance(Duration::days(2));
    give(&app, &owner, &m, "b", 200).await;
    let before = app.member_points(&owner, &m).await.ok();
    assert_eq!(before.expiring.len(), 2, "{before:?}");
    let it = app
        .create_mall_item(&owner, &item("Kettle", 250, 5))
        .await
        .ok();

    // The order takes the soonest-expiring lot first: all of the 100, then 150 of the 200.
    let placed = app
        .place_mall_order(&owner, &m, &order("o1", &it.id, 1))
        .await
        .created();
    assert_eq!((placed.balance, placed.order.points), (50, 250));
    assert_eq!(placed.order.state, "pending");
    assert_eq!(placed.order.pickup_code.as_deref().map(str::len), Some(8));
    let during = app.member_points(&owner, &m).await.ok();
    assert_eq!(during.expiring.len(), 1);
    assert_eq!(during.expiring[0].points, 50);
    assert_eq!(during.expiring[0].expires_at, before.expiring[1].expires_at);

    // Staff cancel after approving, with a reason: every point back where it was.
    app.move_mall_order(&owner, &placed.order.id, &json!({ "action": "approve" }))
        .await
        .ok();
    let no_reason = app
        .move_mall_order(&owner, &placed.order.id, &json!({ "action": "cancel" }))
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.fields(), ["reason"]);
    let cancelled = app
        .move_mall_order(
            &owner,
            &placed.order.id,
            &json!({ "action": "cancel", "reason": "out of colour" }),
        )
        .await
        .ok();
    assert_eq!(cancelled.state, "cancelled");
    assert!(cancelled.moves.is_empty());
    let states: Vec<_> = cancelled
        .events
        .iter()
        .map(|e| (e.to_state.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        states,
        [
            ("pending", ""),
            ("approved", ""),
            ("cancelled", "out of colour")
        ]
    );
    assert!(cancelled.events.iter().all(|e| e.actor.starts_with("key:")));
    let after = app.member_points(&owner, &m).await.ok();
    assert_eq!(after.balance, 300);
    assert_eq!(after.redeemed_total, 0);
    assert_eq!(after.expiring.len(), 2);
    for (a, b) in after.expiring.iter().zip(&before.expiring) {
        assert_eq!((a.points, a.expires_at), (b.points, b.expires_at));
    }
    assert_eq!(stock_of(&app, &owner, &it.id).await, 5);
    let entries = app.points_entries(&owner, &m, None).await.ok();
    assert_eq!(entries.items[0].kind, "reverse");
    assert_eq!(entries.items[0].points, 250);
    assert_eq!(
        entries.items[0].reason_code.as_deref(),
        Some("mall_order_cancelled")
    );
    assert_eq!(entries.items[1].reason_code.as_deref(), Some("mall_order"));
    assert_eq!(entries.items[1].points, -250);
    // Exactly once: a second cancel is refused and gives nothing.
    let again = app
        .move_mall_order(
            &owner,
            &placed.order.id,
            &json!({ "action": "cancel", "reason": "again" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "mall_order_state");
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 300);
    assert_ledger_agrees(&app, &t.slug).await;

    // Points of a lot that expired while the order was open come back and expire at once.
    let placed = app
        .place_mall_order(&owner, &m, &order("o2", &it.id, 1))
        .await
        .created();
    app.clock.advance(Duration::days(9));
    assert_eq!(
        expire_points(&app, t.id).await["points"],
        0,
        "nothing open expired"
    );
    app.move_mall_order(
        &owner,
        &placed.order.id,
        &json!({ "action": "cancel", "reason": "late" }),
    )
    .await
    .ok();
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!((s.balance, s.expired_total), (200, 100), "{s:?}");
    assert_eq!(s.expiring.len(), 1);
    assert_eq!(s.expiring[0].points, 200);
    assert_eq!(s.expiring[0].expires_at, before.expiring[1].expires_at);
    let entries = app.points_entries(&owner, &m, None).await.ok();
    assert_eq!(
        (entries.items[0].kind.as_str(), entries.items[0].points),
        ("expire", -100)
    );
    assert_eq!(
        (entries.items[1].kind.as_str(), entries.items[1].points),
        ("reverse", 250)
    );
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_cancel_racing_a_pickup_exactly_one_wins() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-race", "pro").await;
    let owner = t.owner();
    let it = app
        .create_mall_item(&owner, &item("Tea", 10, 100))
        .await
        .ok();
    let m = app.member(&owner, NewMember::named("Race")).await.id;
    give(&app, &owner, &m, "g", 1_000).await;
    let (mut cancels, mut pickups) = (0, 0);
    for n in 0..8 {
        let placed = app
            .place_mall_order(&owner, &m, &order(&format!("r{n}"), &it.id, 1))
            .await
            .created();
        let id = placed.order.id.clone();
        let code = placed.order.pickup_code.clone().unwrap();
        let early = app
            .move_mall_order(&owner, &id, &json!({ "action": "ready" }))
            .await;
        assert_eq!(early.code(), "mall_order_state", "{early:?}");
        app.move_mall_order(&owner, &id, &json!({ "action": "approve" }))
            .await
            .ok();
        app.move_mall_order(&owner, &id, &json!({ "action": "ready" }))
            .await
            .ok();
        let cancel = {
            let (api, owner, id) = (app.api.clone(), owner.clone(), id.clone());
            tokio::spawn(async move {
                api.move_mall_order(
                    &owner,
                    &id,
                    &json!({ "action": "cancel", "reason": "race" }),
                )
                .await
            })
        };
        let pickup = {
            let (api, owner) = (app.api.clone(), owner.clone());
            tokio::spawn(async move { api.complete_mall_pickup(&owner, &code).await })
        };
        let (c, p) = (cancel.await.unwrap(), pickup.await.unwrap());
        let won = [&c.status, &p.status]
            .iter()
            .filter(|s| ***s == StatusCode::OK)
            .count();
        assert_eq!(won, 1, "{c:?} {p:?}");
        let lost = if c.status == StatusCode::OK {
            cancels += 1;
            &p
        } else {
            pickups += 1;
            &c
        };
        assert_eq!(lost.status, StatusCode::CONFLICT, "{lost:?}");
        assert_eq!(lost.code(), "mall_order_state");
        let o = app.mall_order(&owner, &id).await.ok();
        assert_eq!(o.events.len(), 4, "{o:?}");
    }
    let cancelled = app.mall_orders(&owner, Some("cancelled"), None).await.ok();
    let completed = app.mall_orders(&owner, Some("completed"), None).await.ok();
    assert_eq!((cancelled.len(), completed.len()), (cancels, pickups));
    // Points and stock are taken only by the orders that were picked up.
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!(s.balance, 1_000 - 10 * pickups as i64);
    assert_eq!(stock_of(&app, &owner, &it.id).await, 100 - pickups as i64);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn shipping_orders_move_to_completed_and_the_queue_filters_by_state() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-ship", "pro").await;
    let owner = t.owner();
    let mut body = item("Blanket", 500, 10);
    body["delivery"] = json!("shipping");
    body["cash"] = json!(1990);
    let it = app.create_mall_item(&owner, &body).await.ok();
    let m = app.member(&owner, NewMember::named("Ship")).await.id;
    give(&app, &owner, &m, "g", 2_000).await;
    let no_address = app
        .place_mall_order(&owner, &m, &order("s0", &it.id, 1))
        .await;
    assert_eq!(no_address.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_address.fields(), ["address"]);
    let mut o = order("s1", &it.id, 2);
    o["address"] = json!({ "recipient": "王五", "phone": "13800000000", "address": "上海市 1 号" });
    let placed = app.place_mall_order(&owner, &m, &o).await.created();
    assert_eq!((placed.order.points, placed.order.cash), (1_000, 3_980));
    assert_eq!(placed.order.pickup_code, None);
    assert_eq!(placed.order.moves, ["approve", "cancel"]);
    let id = placed.order.id;
    app.move_mall_order(&owner, &id, &json!({ "action": "approve" }))
        .await
        .ok();
    let shipped = app
        .move_mall_order(
            &owner,
            &id,
            &json!({ "action": "ship", "tracking": "SF123" }),
        )
        .await
        .ok();
    assert_eq!(shipped.tracking.as_deref(), Some("SF123"));
    assert_eq!(
        app.mall_orders(&owner, Some("shipped"), None)
            .await
            .ok()
            .len(),
        1
    );
    assert!(app
        .mall_orders(&owner, Some("pending"), None)
        .await
        .ok()
        .is_empty());
    let done = app
        .move_mall_order(&owner, &id, &json!({ "action": "complete" }))
        .await
        .ok();
    assert_eq!(done.state, "completed");
    let late = app
        .move_mall_order(&owner, &id, &json!({ "action": "cancel", "reason": "x" }))
        .await;
    assert_eq!(late.code(), "mall_order_state");
    let mine = app.mall_orders(&owner, None, Some(&m)).await.ok();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].member_name, "Ship");
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 1_000);
    assert_ledger_agrees(&app, &t.slug).await;

    // Erasing the member forgets the address; the order and its points stay, and a retry
    // of the placement does not hand the address back.
    let before = app.mall_order(&owner, &id).await.untyped().json;
    assert_eq!(before["address"]["recipient"], "王五", "{before}");
    app.erase_member(&owner, &m).await.ok();
    let after = app.mall_order(&owner, &id).await.untyped().json;
    assert_eq!(after["address"], Value::Null, "{after}");
    assert_eq!(after["state"], "completed");
    assert_eq!(after["points"], 1_000);
    let again = app.place_mall_order(&owner, &m, &o).await.untyped();
    assert!(again.status.is_client_error(), "{}", again.json);
    assert!(
        !again.json.to_string().contains("上海市"),
        "{}: {}",
        again.status,
        again.json
    );
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn members_order_and_cancel_in_the_portal_within_their_tier_and_the_window() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-portal", "pro").await;
    let owner = t.owner();
    let s = portal_member(&app, &t, "Portal Pat", "13900001111").await;
    let me = s.auth();
    give(&app, &owner, &s.member.id, "g", 500).await;
    let mug = app
        .create_mall_item(&owner, &item("Mug", 100, 2))
        .await
        .ok();
    let mut gold = item("Gold Pen", 50, 5);
    gold["tiers"] = json!(["gold"]);
    let gold = app.create_mall_item(&owner, &gold).await.ok();
    let mut later = item("Later", 50, 5);
    later["available_from"] = json!(app.clock.now() + Duration::days(3));
    let later = app.create_mall_item(&owner, &later).await.ok();
    let archived = app.create_mall_item(&owner, &item("Old", 10, 5)).await.ok();
    app.set_mall_item_archived(&owner, &archived.id, true)
        .await
        .ok();

    let mall = app.portal_mall(&t.slug, &me).await.ok();
    assert_eq!(mall.balance, 500);
    let names: Vec<_> = mall.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["Mug"]);
    for (id, code) in [
        (&gold.id, "mall_tier_required"),
        (&later.id, "mall_item_unavailable"),
        (&archived.id, "mall_item_unavailable"),
    ] {
        let r = app
            .portal_place_mall_order(&t.slug, &me, &order(&format!("x-{code}"), id, 1))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
        assert_eq!(r.code(), code);
    }
    let placed = app
        .portal_place_mall_order(&t.slug, &me, &order("mine", &mug.id, 1))
        .await
        .created();
    assert_eq!(placed.balance, 400);
    assert!(placed.order.cancellable);
    let code = placed.order.pickup_code.clone().unwrap();
    let mine = app.portal_mall_orders(&t.slug, &me).await.ok();
    assert_eq!(mine[0].pickup_code.as_deref(), Some(code.as_str()));
    assert_eq!(app.portal_mall(&t.slug, &me).await.ok().items[0].ordered, 1);
    // Too many points: refused, nothing taken.
    let big = app
        .portal_place_mall_order(&t.slug, &me, &order("big", &mug.id, 5))
        .await;
    assert_eq!(big.code(), "insufficient_points");
    // Cancel while pending: the points come back.
    let c = app
        .portal_cancel_mall_order(&t.slug, &me, &placed.order.id)
        .await
        .ok();
    assert_eq!(c.state, "cancelled");
    assert_eq!(app.portal_mall(&t.slug, &me).await.ok().balance, 500);
    // Once approved, only staff may cancel.
    let placed = app
        .portal_place_mall_order(&t.slug, &me, &order("mine-2", &mug.id, 1))
        .await
        .created();
    app.move_mall_order(&owner, &placed.order.id, &json!({ "action": "approve" }))
        .await
        .ok();
    let r = app
        .portal_cancel_mall_order(&t.slug, &me, &placed.order.id)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "mall_order_state");
    // The code typed at the counter (with a space) completes it.
    let code = placed.order.pickup_code.clone().unwrap();
    let typed = format!("{} {}", &code[..4], &code[4..]);
    let done = app.complete_mall_pickup(&owner, &typed).await.ok();
    assert_eq!(done.state, "completed");
    let wrong = app.complete_mall_pickup(&owner, "0000000x").await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.fields(), ["code"]);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn orders_left_pending_past_the_limit_are_cancelled_by_the_job() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-job", "pro").await;
    let owner = t.owner();
    app.set_mall_settings(&owner, &json!({ "pending_limit_hours": 2 }))
        .await
        .ok();
    let it = app.create_mall_item(&owner, &item("Pen", 30, 4)).await.ok();
    let m = app.member(&owner, NewMember::named("Wait")).await.id;
    give(&app, &owner, &m, "g", 100).await;
    let old = app
        .place_mall_order(&owner, &m, &order("old", &it.id, 1))
        .await
        .created();
    let approved = app
        .place_mall_order(&owner, &m, &order("approved", &it.id, 1))
        .await
        .created();
    app.move_mall_order(&owner, &approved.order.id, &json!({ "action": "approve" }))
        .await
        .ok();
    app.clock.advance(Duration::hours(1));
    let fresh = app
        .place_mall_order(&owner, &m, &order("fresh", &it.id, 1))
        .await
        .created();
    assert_eq!(cancel_overdue_mall_orders(&app, t.id).await["cancelled"], 0);
    app.clock.advance(Duration::minutes(61));
    assert_eq!(cancel_overdue_mall_orders(&app, t.id).await["cancelled"], 1);
    assert_eq!(cancel_overdue_mall_orders(&app, t.id).await["cancelled"], 0);
    let o = app.mall_order(&owner, &old.order.id).await.ok();
    assert_eq!(o.state, "cancelled");
    let last = o.events.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.reason.as_str()),
        ("system:mall", "pending_limit")
    );
    let states = |id: String| {
        let (app, owner) = (&app, &owner);
        async move { app.mall_order(owner, &id).await.ok().state }
    };
    assert_eq!(states(approved.order.id).await, "approved");
    assert_eq!(states(fresh.order.id).await, "pending");
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 40);
    assert_eq!(stock_of(&app, &owner, &it.id).await, 2);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn another_business_cannot_see_or_order_and_a_plan_without_the_mall_is_refused() {
    let app = spawn_app().await;
    let a = app.signup_on("mall-a", "pro").await;
    let b = app.signup_on("mall-b", "pro").await;
    let (oa, ob) = (a.owner(), b.owner());
    let it = app.create_mall_item(&oa, &item("Secret", 10, 5)).await.ok();
    let m = app.member(&oa, NewMember::named("Ann")).await.id;
    give(&app, &oa, &m, "g", 100).await;
    let placed = app
        .place_mall_order(&oa, &m, &order("a1", &it.id, 1))
        .await
        .created();
    assert!(app.mall_items(&ob, true).await.ok().is_empty());
    assert!(app.mall_orders(&ob, None, None).await.ok().is_empty());
    let r = app.mall_order(&ob, &placed.order.id).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .move_mall_order(&ob, &placed.order.id, &json!({ "action": "approve" }))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .complete_mall_pickup(&ob, placed.order.pickup_code.as_deref().unwrap())
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mb = app.member(&ob, NewMember::named("Bob")).await.id;
    give(&app, &ob, &mb, "g", 100).await;
    let r = app
        .place_mall_order(&ob, &mb, &order("b1", &it.id, 1))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["item_id"]);
    let r = app.place_mall_order(&ob, &m, &order("b2", &it.id, 1)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.mall_order(&oa, &placed.order.id).await.ok().state,
        "pending"
    );

    // A plan without the mall: 402 for staff.
    let basic = app.signup_on("mall-basic", "starter").await;
    let r = app.mall_items(&basic.owner(), false).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
}

#[tokio::test]
async fn bad_input_names_the_field_and_a_retry_answers_the_first_order() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-bad", "pro").await;
    let owner = t.owner();
    let r = app
        .create_mall_item(
            &owner,
            &json!({ "name": " ", "points": 0, "stock": -1, "delivery": "drone",
                     "pictures": ["ftp://x"], "per_member": 0 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = r.fields();
    fields.sort();
    assert!(fields.contains(&"name".to_owned()), "{fields:?}");
    assert!(fields.contains(&"points".to_owned()), "{fields:?}");
    assert!(fields.contains(&"delivery".to_owned()), "{fields:?}");
    let r = app
        .create_mall_item(
            &owner,
            &json!({ "name": "Pic", "points": 5, "stock": 1, "delivery": "pickup",
                     "pictures": ["ftp://x"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["pictures[0]"]);
    let r = app
        .create_mall_item(
            &owner,
            &json!({ "name": "Win", "points": 5, "stock": 1, "delivery": "pickup",
                     "available_from": "2030-01-02T00:00:00Z",
                     "available_until": "2030-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(r.fields(), ["available_until"]);
    let mut body = item("Cup", 20, 50);
    body["per_order"] = json!(3);
    let it = app.create_mall_item(&owner, &body).await.ok();
    let m = app.member(&owner, NewMember::named("Bad")).await.id;
    give(&app, &owner, &m, "g", 1_000).await;
    for (body, field) in [
        (order("q0", &it.id, 0), "quantity"),
        (order("q4", &it.id, 4), "quantity"),
        (order(" ", &it.id, 1), "idempotency_key"),
    ] {
        let r = app.place_mall_order(&owner, &m, &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body} {r:?}");
        assert_eq!(r.fields(), [field], "{body}");
    }
    let first = app
        .place_mall_order(&owner, &m, &order("once", &it.id, 2))
        .await
        .created();
    let again = app
        .place_mall_order(&owner, &m, &order("once", &it.id, 2))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let again = again.body();
    assert!(again.replayed);
    assert_eq!(again.order.id, first.order.id);
    let other = app
        .place_mall_order(&owner, &m, &order("once", &it.id, 1))
        .await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "idempotency_key_reused");
    // The same order sent 10 times at once: placed once.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (api, owner, m, id) = (app.api.clone(), owner.clone(), m.clone(), it.id.clone());
            tokio::spawn(async move {
                api.place_mall_order(&owner, &m, &order("race", &id, 1))
                    .await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for task in tasks {
        let r = task.await.unwrap();
        assert!(
            r.status == StatusCode::CREATED || r.status == StatusCode::OK,
            "{r:?}"
        );
        created += usize::from(r.status == StatusCode::CREATED);
        ids.insert(r.body().order.id);
    }
    assert_eq!((created, ids.len()), (1, 1));
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 1_000 - 60);
    assert_eq!(stock_of(&app, &owner, &it.id).await, 47);
    let r = app
        .move_mall_order(&owner, &first.order.id, &json!({ "action": "teleport" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["action"]);
    // A move with a key: a retry answers the first move instead of a 409.
    let mv = json!({ "action": "cancel", "reason": "dup", "idempotency_key": "c1" });
    app.move_mall_order(&owner, &first.order.id, &mv).await.ok();
    let again = app.move_mall_order(&owner, &first.order.id, &mv).await.ok();
    assert_eq!(again.state, "cancelled");
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 1_000 - 20);
    let r = app
        .set_mall_settings(&owner, &json!({ "pending_limit_hours": 0 }))
        .await;
    assert_eq!(r.fields(), ["pending_limit_hours"]);
    assert_ledger_agrees(&app, &t.slug).await;
}

/// A coupon template (10 off, valid 30 days), with `top` fields such as `total`.
async fn coupon_template(app: &TestApp, owner: &Auth, name: &str, top: Value) -> String {
    let mut body = json!({ "name": name,
        "terms": { "kind": "amount_off", "amount": 1000, "valid_days": 30 } });
    for (k, v) in top.as_object().expect("an object") {
        body[k] = v.clone();
    }
    let r = app.create_coupon_template(owner, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["id"].as_str().expect("an id").to_owned()
}

fn virtual_item(name: &str, points: i64, stock: i64, template: &str) -> Value {
    json!({ "name": name, "points": points, "stock": stock, "delivery": "virtual",
            "coupon_template_id": template })
}

/// The member's coupons by code: their status.
async fn coupon_statuses(app: &TestApp, auth: &Auth, member: &str) -> Vec<(String, String)> {
    let r = app.member_coupons(auth, member).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let mut out: Vec<(String, String)> = r
        .json
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_virtual_item_needs_a_template_of_this_business_and_only_it_has_one() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-virt-input", "pro").await;
    let owner = t.owner();
    let tpl = coupon_template(&app, &owner, "Ten off", json!({})).await;

    let mut none = virtual_item("Voucher", 100, 5, &tpl);
    none.as_object_mut().unwrap().remove("coupon_template_id");
    let r = app.create_mall_item(&owner, &none).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["coupon_template_id"]);

    let unknown = virtual_item("Voucher", 100, 5, "0190a4c2-0000-7000-8000-000000000000");
    let r = app.create_mall_item(&owner, &unknown).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["coupon_template_id"]);

    let mut pickup = item("Mug", 100, 5);
    pickup["coupon_template_id"] = json!(tpl);
    let r = app.create_mall_item(&owner, &pickup).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["coupon_template_id"]);

    // Another business's template is unknown here.
    let other = app.signup_on("mall-virt-other", "pro").await;
    let theirs = coupon_template(&app, &other.owner(), "Theirs", json!({})).await;
    let r = app
        .create_mall_item(&owner, &virtual_item("Voucher", 100, 5, &theirs))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["coupon_template_id"]);

    let it = app
        .create_mall_item(&owner, &virtual_item("Voucher", 100, 5, &tpl))
        .await
        .ok();
    assert_eq!(it.delivery, "virtual");
    assert_eq!(it.coupon_template_id.as_deref(), Some(tpl.as_str()));
    // An update to pickup without dropping the template is refused too.
    let mut back = virtual_item("Voucher", 100, 5, &tpl);
    back["delivery"] = json!("pickup");
    let r = app.update_mall_item(&owner, &it.id, &back).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.fields(), ["coupon_template_id"]);
}

#[tokio::test]
async fn a_virtual_order_gives_its_coupons_completes_and_a_staff_cancel_voids_them() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-virt", "pro").await;
    let owner = t.owner();
    let tpl = coupon_template(&app, &owner, "Ten off", json!({})).await;
    let it = app
        .create_mall_item(&owner, &virtual_item("Voucher", 100, 5, &tpl))
        .await
        .ok();
    let s = portal_member(&app, &t, "Virt", "13900002201").await;
    let (me, m) = (s.auth(), s.member.id.clone());
    give(&app, &owner, &m, "g", 1_000).await;

    // The member orders two in the portal: two coupons, the order completed at once.
    let placed = app
        .portal_place_mall_order(&t.slug, &me, &order("v1", &it.id, 2))
        .await
        .created();
    assert_eq!(placed.balance, 800);
    assert_eq!(placed.order.state, "completed");
    assert!(!placed.order.cancellable);
    assert_eq!(placed.order.coupon_codes.len(), 2);
    assert_eq!(placed.order.pickup_code, None);
    let mut codes = placed.order.coupon_codes.clone();
    codes.sort();
    // The member sees them in their coupons (and in their orders).
    let mine = app.portal_my_coupons(&t.slug, &me).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
    let mut held: Vec<String> = mine
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect();
    held.sort();
    assert_eq!(held, codes);
    let orders = app.portal_mall_orders(&t.slug, &me).await.ok();
    assert_eq!(orders[0].coupon_codes.len(), 2);
    // A retry answers the first order and gives nothing more.
    let again = app
        .portal_place_mall_order(&t.slug, &me, &order("v1", &it.id, 2))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(coupon_statuses(&app, &owner, &m).await.len(), 2);
    assert_eq!(stock_of(&app, &owner, &it.id).await, 3);

    // Staff see the codes, the change with who and why, and may cancel.
    let o = app.mall_order(&owner, &placed.order.id).await.ok();
    assert_eq!(o.coupon_codes.len(), 2);
    assert_eq!(o.moves, ["cancel"]);
    let states: Vec<_> = o
        .events
        .iter()
        .map(|e| (e.to_state.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(states, [("pending", ""), ("completed", "coupons_issued")]);
    assert!(o.events.iter().all(|e| e.actor == format!("member:{m}")));
    // The member cannot cancel a completed order.
    let r = app
        .portal_cancel_mall_order(&t.slug, &me, &placed.order.id)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");

    let cancelled = app
        .move_mall_order(
            &owner,
            &placed.order.id,
            &json!({ "action": "cancel", "reason": "ordered by mistake" }),
        )
        .await
        .ok();
    assert_eq!(cancelled.state, "cancelled");
    let statuses = coupon_statuses(&app, &owner, &m).await;
    assert_eq!(statuses.len(), 2);
    assert!(statuses.iter().all(|(_, s)| s == "voided"), "{statuses:?}");
    let after = app.member_points(&owner, &m).await.ok();
    assert_eq!((after.balance, after.redeemed_total), (1_000, 0));
    assert_eq!(stock_of(&app, &owner, &it.id).await, 5);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_template_at_its_total_refuses_the_order_and_nothing_is_written() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-virt-total", "pro").await;
    let owner = t.owner();
    let tpl = coupon_template(&app, &owner, "Only one", json!({ "total": 1 })).await;
    let it = app
        .create_mall_item(&owner, &virtual_item("Voucher", 100, 5, &tpl))
        .await
        .ok();
    let m = app.member(&owner, NewMember::named("Full")).await.id;
    give(&app, &owner, &m, "g", 1_000).await;

    let r = app
        .place_mall_order(&owner, &m, &order("two", &it.id, 2))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "coupon_sold_out");
    let p = app.member_points(&owner, &m).await.ok();
    assert_eq!((p.balance, p.redeemed_total), (1_000, 0));
    assert_eq!(stock_of(&app, &owner, &it.id).await, 5);
    assert!(app.mall_orders(&owner, None, None).await.ok().is_empty());
    assert!(coupon_statuses(&app, &owner, &m).await.is_empty());

    // One is still there to order.
    let placed = app
        .place_mall_order(&owner, &m, &order("one", &it.id, 1))
        .await
        .created();
    assert_eq!(placed.order.coupon_codes.len(), 1);
    let r = app
        .place_mall_order(&owner, &m, &order("more", &it.id, 1))
        .await;
    assert_eq!(r.code(), "coupon_sold_out");
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 900);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn ten_parallel_virtual_orders_for_a_stock_of_three_give_exactly_three() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-virt-race", "pro").await;
    let owner = t.owner();
    let tpl = coupon_template(&app, &owner, "Race", json!({})).await;
    let it = app
        .create_mall_item(&owner, &virtual_item("Voucher", 100, 3, &tpl))
        .await
        .ok();
    let mut members = vec![];
    for n in 0..5 {
        let m = app
            .member(&owner, NewMember::named(format!("V{n}")))
            .await
            .id;
        give(&app, &owner, &m, "g", 1_000).await;
        members.push(m);
    }
    let tasks: Vec<_> = (0..10)
        .map(|n| {
            let (api, owner, m, id) = (
                app.api.clone(),
                owner.clone(),
                members[n % 5].clone(),
                it.id.clone(),
            );
            tokio::spawn(async move {
                api.place_mall_order(&owner, &m, &order(&format!("k{n}"), &id, 1))
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(r.code(), "mall_out_of_stock", "{r:?}"),
            _ => panic!("{r:?}"),
        }
    }
    assert_eq!(created, 3);
    assert_eq!(stock_of(&app, &owner, &it.id).await, 0);
    let mut coupons = 0;
    let mut total = 0;
    for m in &members {
        coupons += coupon_statuses(&app, &owner, m).await.len();
        total += app.member_points(&owner, m).await.ok().balance;
    }
    assert_eq!(coupons, 3);
    assert_eq!(total, 5 * 1_000 - 3 * 100);
    let done = app.mall_orders(&owner, Some("completed"), None).await.ok();
    assert_eq!(done.len(), 3);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_virtual_order_whose_coupon_was_used_cannot_be_cancelled() {
    let app = spawn_app().await;
    let t = app.signup_on("mall-virt-used", "pro").await;
    let owner = t.owner();
    let tpl = coupon_template(&app, &owner, "Used", json!({})).await;
    let it = app
        .create_mall_item(&owner, &virtual_item("Voucher", 100, 5, &tpl))
        .await
        .ok();
    let m = app.member(&owner, NewMember::named("Spender")).await.id;
    give(&app, &owner, &m, "g", 1_000).await;
    let placed = app
        .place_mall_order(&owner, &m, &order("u1", &it.id, 2))
        .await
        .created();
    let used = placed.order.coupon_codes[0].clone();
    let r = app
        .record_purchase(
            &owner,
            &json!({ "external_id": "p-1", "member_id": m, "amount": 5000,
                     "coupon_codes": [used] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);

    let r = app
        .move_mall_order(
            &owner,
            &placed.order.id,
            &json!({ "action": "cancel", "reason": "too late" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "mall_coupon_used");
    // Nothing moved: the order, its other coupon, the points and the stock stay.
    let o = app.mall_order(&owner, &placed.order.id).await.ok();
    assert_eq!(o.state, "completed");
    let statuses = coupon_statuses(&app, &owner, &m).await;
    assert_eq!(
        statuses.iter().filter(|(_, s)| s == "issued").count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(stock_of(&app, &owner, &it.id).await, 3);
    assert_ledger_agrees(&app, &t.slug).await;
}
