//! One idempotency mechanism for every write from outside that takes a key or an external
//! id, driven through each write alike: (a) the same key and body twice answer the same,
//! with one effect; (b) the same key with another body is a 409 naming the key's field;
//! (c) eight identical requests racing for the member's LAST unit (points, fen, visit) all
//! answer what the first success answered, with exactly one effect.

use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The writes, each on a member who holds exactly one last unit of what it takes.
#[derive(Clone, Copy, Debug)]
enum Op {
    Redemption,
    Adjustment,
    Purchase,
    Refund,
    Event,
    TopUp,
    PassUse,
}

/// What a write acts on: the member, and the purchase or pass it names.
#[derive(Clone, Debug)]
struct Subject {
    member: String,
    target: String,
    /// The stored value the member holds (a purchase paid from it takes all of it).
    held: i64,
}

impl Op {
    const ALL: [Op; 7] = [
        Op::Redemption,
        Op::Adjustment,
        Op::Purchase,
        Op::Refund,
        Op::Event,
        Op::TopUp,
        Op::PassUse,
    ];

    /// The field that carries the key, named in the 409.
    fn field(self) -> &'static str {
        match self {
            Op::Purchase | Op::Refund | Op::Event => "external_id",
            _ => "idempotency_key",
        }
    }

    fn reused_code(self) -> &'static str {
        match self.field() {
            "external_id" => "external_id_reused",
            _ => "idempotency_key_reused",
        }
    }

    /// The business's setup shared by every subject.
    async fn set_up(self, app: &TestApp, owner: &Auth) -> String {
        match self {
            Op::Event => {
                app.publish_script(owner, "event.visit", r#"award(7, "visit");"#)
                    .await;
                String::new()
            }
            Op::PassUse => {
                let p = app
                    .create_pass_product(
                        owner,
                        &json!({ "name": "1 visit", "visits": 1, "validity_days": 30,
                                 "price": 3_000 }),
                    )
                    .await
                    .ok();
                p["id"].as_str().unwrap().to_owned()
            }
            _ => String::new(),
        }
    }

    /// A new member holding the last unit the write takes.
    async fn subject(self, app: &TestApp, owner: &Auth, shared: &str, name: &str) -> Subject {
        let member = app.member(owner, NewMember::named(name)).await.id;
        let mut s = Subject {
            member: member.clone(),
            target: String::new(),
            held: 0,
        };
        match self {
            Op::Redemption | Op::Adjustment => {
                app.adjust_points(
                    owner,
                    &member,
                    &json!({ "idempotency_key": "seed", "points": 100, "reason": "opening" }),
                )
                .await
                .created();
            }
            Op::Purchase => {
                app.top_up(
                    owner,
                    &member,
                    &json!({ "idempotency_key": "seed", "amount": 10_000, "method": "cash" }),
                )
                .await
                .created();
                s.held = app.stored_value(owner, &member).await.ok().balance.total;
            }
            Op::Refund => {
                s.target = format!("p-{member}");
                app.record_purchase(owner, &NewPurchase::for_member(&s.target, &member, 5_000))
                    .await
                    .created();
            }
            Op::PassUse => {
                let pass = app
                    .sell_pass(
                        owner,
                        &member,
                        &json!({ "product_id": shared, "method": "cash" }),
                    )
                    .await
                    .ok();
                s.target = pass["id"].as_str().unwrap().to_owned();
            }
            Op::Event | Op::TopUp => {}
        }
        s
    }

    /// The request under `key`; `other` changes one value of it.
    fn body(self, s: &Subject, key: &str, other: bool) -> Value {
        let m = &s.member;
        match self {
            Op::Redemption => json!({ "idempotency_key": key,
                "points": if other { 50 } else { 100 }, "reward": "towel" }),
            Op::Adjustment => json!({ "idempotency_key": key,
                "points": if other { -50 } else { -100 }, "reason": "correction" }),
            Op::Purchase => {
                let amount = if other { s.held - 1 } else { s.held };
                json!({ "external_id": format!("{key}-{m}"), "member_id": m, "amount": amount,
                        "payments": [{ "method": "stored_value", "amount": amount }] })
            }
            Op::Refund => json!({ "external_id": format!("{key}-{m}"),
                "purchase_external_id": s.target, "amount": if other { 4_000 } else { 5_000 } }),
            Op::Event => {
                let mut b = json!({ "external_id": format!("{key}-{m}"), "name": "visit",
                                    "member_id": m });
                if other {
                    b["properties"] = json!({ "room": 2 });
                }
                b
            }
            Op::TopUp => json!({ "idempotency_key": key,
                "amount": if other { 20_000 } else { 10_000 }, "method": "cash" }),
            Op::PassUse => json!({ "idempotency_key": key,
                "category": if other { "massage" } else { "haircut" } }),
        }
    }

    async fn send(self, api: &Api, owner: &Auth, s: &Subject, body: &Value) -> Reply {
        let m = &s.member;
        match self {
            Op::Redemption => api.redeem_points(owner, m, body).await.untyped(),
            Op::Adjustment => api.adjust_points(owner, m, body).await.untyped(),
            Op::Purchase => api.record_purchase(owner, body).await.untyped(),
            Op::Refund => api.record_refund(owner, body).await.untyped(),
            Op::Event => api.record_event(owner, body).await.untyped(),
            Op::TopUp => api.top_up(owner, m, body).await.untyped(),
            Op::PassUse => api.consume_pass(owner, m, &s.target, body).await.untyped(),
        }
    }

    /// How many times the write took effect on the subject.
    async fn effects(self, app: &TestApp, owner: &Auth, s: &Subject) -> i64 {
        let m = &s.member;
        match self {
            Op::Redemption => app.member_points(owner, m).await.ok().redeemed_total / 100,
            Op::Adjustment => (100 - app.member_points(owner, m).await.ok().balance) / 100,
            Op::Purchase => {
                let count = app.member_purchases(owner, m).await.ok().total_count;
                let left = app.stored_value(owner, m).await.ok().balance.total;
                assert_eq!(left, if count > 0 { 0 } else { s.held });
                count
            }
            Op::Refund => {
                // Nothing is left to refund once the one refund took the whole purchase.
                let probe = json!({ "external_id": format!("probe-{m}"),
                                    "purchase_external_id": s.target, "amount": 1 });
                let r = app.record_refund(owner, &probe).await;
                match r.status {
                    StatusCode::CONFLICT => {
                        assert_eq!(r.code(), "fully_refunded", "{r:?}");
                        1
                    }
                    _ => panic!("the purchase was not refunded: {r:?}"),
                }
            }
            Op::Event => app.member_points(owner, m).await.ok().balance / 7,
            Op::TopUp => app.stored_value(owner, m).await.ok().top_ups.len() as i64,
            Op::PassUse => {
                let passes = app.member_passes(owner, m).await.ok();
                1 - passes[0]["visits_left"].as_i64().unwrap()
            }
        }
    }
}

/// The answer's body without the `replayed` mark (a replay says it is one).
fn answer(r: &Reply) -> Value {
    let mut v = r.json.clone();
    v.as_object_mut()
        .unwrap_or_else(|| panic!("not an answer: {r:?}"))
        .remove("replayed");
    v
}

async fn holds_for(op: Op) {
    let app = spawn_app_with(16).await;
    let t = app.signup_on("idem", "pro").await;
    let owner = t.owner();
    let shared = op.set_up(&app, &owner).await;

    // (a) The same key and body twice: the first answer again, one effect.
    let s = op.subject(&app, &owner, &shared, "Ann").await;
    let first = op.send(&app, &owner, &s, &op.body(&s, "k-1", false)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{op:?}: {first:?}");
    assert_eq!(first.json["replayed"], false, "{op:?}");
    let again = op.send(&app, &owner, &s, &op.body(&s, "k-1", false)).await;
    assert_eq!(again.status, StatusCode::OK, "{op:?}: {again:?}");
    assert_eq!(again.json["replayed"], true, "{op:?}");
    assert_eq!(answer(&again), answer(&first), "{op:?}");
    assert_eq!(op.effects(&app, &owner, &s).await, 1, "{op:?}");

    // (b) The same key with another body: 409 naming the key's field, nothing written.
    let other = op.send(&app, &owner, &s, &op.body(&s, "k-1", true)).await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{op:?}: {other:?}");
    assert_eq!(other.code(), op.reused_code(), "{op:?}");
    assert_eq!(other.fields(), [op.field()], "{op:?}");

    // (c) Eight identical requests racing for the last unit: one effect, and every answer
    // is the first success's.
    let s = op.subject(&app, &owner, &shared, "Bo").await;
    let body = op.body(&s, "race", false);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (api, owner, s, body) = (app.api.clone(), owner.clone(), s.clone(), body.clone());
            tokio::spawn(async move { op.send(&api, &owner, &s, &body).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    let created: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(created.len(), 1, "{op:?}: {replies:?}");
    let one = answer(created[0]);
    for r in &replies {
        assert!(
            r.status == StatusCode::CREATED || r.status == StatusCode::OK,
            "{op:?}: a duplicate was refused: {r:?}"
        );
        assert_eq!(answer(r), one, "{op:?}");
    }
    assert_eq!(op.effects(&app, &owner, &s).await, 1, "{op:?}");
    internals::assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn every_keyed_write_replays_refuses_another_body_and_survives_a_race() {
    for op in Op::ALL {
        holds_for(op).await;
    }
}

#[tokio::test]
async fn a_refused_request_stores_nothing_and_its_retry_runs_again() {
    let app = spawn_app().await;
    let t = app.signup_on("idem-refused", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Cy")).await.id;
    let body = json!({ "idempotency_key": "till-9", "points": 100, "reward": "mug" });
    let refused = app.redeem_points(&owner, &m, &body).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "insufficient_points");
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "seed", "points": 100, "reason": "opening" }),
    )
    .await
    .created();
    // The same key, now that the points are there: it runs, it is not a replay.
    let done = app.redeem_points(&owner, &m, &body).await;
    assert_eq!(done.status, StatusCode::CREATED, "{done:?}");
    assert!(!done.body().replayed);
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 0);
}

/// Writes whose key is optional (sales, renewals, freezes, cancels, refunds of top-ups,
/// reversals): with a key, a retry gets the first answer exactly (same status, same body).
#[derive(Clone, Copy, Debug)]
enum Keyed {
    PassSale,
    MembershipSale,
    TopUpRefund,
    PassReversal,
    PassRenewal,
    PassFreeze,
    MembershipRenewal,
    MembershipFreeze,
    MembershipCancel,
    CheckIn,
}

/// A member, the pass, membership or top-up the write acts on, the visit to reverse, the
/// stored value held, and the figure the effect is measured against.
#[derive(Clone, Debug)]
struct Held {
    member: String,
    target: String,
    use_id: i64,
    held: i64,
    before: i64,
}

impl Keyed {
    const ALL: [Keyed; 10] = [
        Keyed::PassSale,
        Keyed::MembershipSale,
        Keyed::TopUpRefund,
        Keyed::PassReversal,
        Keyed::PassRenewal,
        Keyed::PassFreeze,
        Keyed::MembershipRenewal,
        Keyed::MembershipFreeze,
        Keyed::MembershipCancel,
        Keyed::CheckIn,
    ];

    async fn subject(self, app: &TestApp, owner: &Auth, name: &str) -> Held {
        let member = app.member(owner, NewMember::named(name)).await.id;
        let topped = app
            .top_up(
                owner,
                &member,
                &json!({ "idempotency_key": "seed", "amount": 10_000, "method": "cash" }),
            )
            .await
            .created();
        let held = app.stored_value(owner, &member).await.ok().balance.total;
        let mut h = Held {
            member: member.clone(),
            target: String::new(),
            use_id: 0,
            held,
            before: 0,
        };
        let product = app
            .create_pass_product(
                owner,
                &json!({ "name": format!("pass {name}"), "visits": 1, "validity_days": 30,
                         "price": held }),
            )
            .await
            .ok();
        let plan = app
            .create_membership_plan(
                owner,
                &json!({ "name": format!("plan {name}"), "price": held, "period_unit": "month" }),
            )
            .await
            .ok();
        match self {
            // The sale takes the member's last fen of stored value.
            Keyed::PassSale => h.target = product["id"].as_str().unwrap().into(),
            Keyed::MembershipSale => h.target = plan["id"].as_str().unwrap().into(),
            Keyed::TopUpRefund => h.target = topped.top_up_id.clone(),
            Keyed::PassReversal | Keyed::PassRenewal | Keyed::PassFreeze => {
                let pass = app
                    .sell_pass(
                        owner,
                        &member,
                        &json!({ "product_id": product["id"], "method": "cash" }),
                    )
                    .await
                    .ok();
                h.target = pass["id"].as_str().unwrap().into();
                h.before = pass_day(&pass["expires_on"]);
                if let Keyed::PassReversal = self {
                    // The pass's one visit, used: the reversal gives back the last visit.
                    let used = app
                        .consume_pass(
                            owner,
                            &member,
                            &h.target,
                            &json!({ "idempotency_key": "v" }),
                        )
                        .await
                        .created();
                    h.use_id = used["use_id"].as_i64().unwrap();
                }
            }
            Keyed::CheckIn => {}
            Keyed::MembershipRenewal | Keyed::MembershipFreeze | Keyed::MembershipCancel => {
                let m = app
                    .sell_membership(
                        owner,
                        &member,
                        &json!({ "plan_id": plan["id"], "method": "cash" }),
                    )
                    .await
                    .ok();
                h.target = m["id"].as_str().unwrap().into();
                h.before = pass_day(&m["ends_on"]);
            }
        }
        if matches!(
            self,
            Keyed::PassSale | Keyed::MembershipSale | Keyed::TopUpRefund
        ) {
            h.before = charges(app, owner, &member).await;
        }
        h
    }

    fn body(self, h: &Held, key: &str, other: bool) -> Value {
        let receipt = if other { "R-2" } else { "R-1" };
        match self {
            Keyed::PassSale => json!({ "idempotency_key": key, "product_id": h.target,
                "method": "stored_value", "receipt": receipt }),
            Keyed::MembershipSale => json!({ "idempotency_key": key, "plan_id": h.target,
                "method": "stored_value", "receipt": receipt }),
            Keyed::TopUpRefund
            | Keyed::PassRenewal
            | Keyed::MembershipRenewal
            | Keyed::MembershipCancel => {
                json!({ "idempotency_key": key, "method": "cash", "receipt": receipt })
            }
            Keyed::PassReversal => json!({ "idempotency_key": key,
                "reason": if other { "wrong pass" } else { "wrong member" } }),
            Keyed::PassFreeze | Keyed::MembershipFreeze => {
                json!({ "idempotency_key": key, "days": if other { 6 } else { 5 } })
            }
            // The key travels in a header; a check-in has no body to differ.
            Keyed::CheckIn => json!({ "key": key }),
        }
    }

    async fn send(self, api: &Api, owner: &Auth, h: &Held, body: &Value) -> Reply {
        let (m, t) = (&h.member, &h.target);
        match self {
            Keyed::PassSale => api.sell_pass(owner, m, body).await,
            Keyed::MembershipSale => api.sell_membership(owner, m, body).await,
            Keyed::TopUpRefund => api.refund_top_up(owner, m, t, body).await.untyped(),
            Keyed::PassReversal => api.reverse_pass_use(owner, m, t, h.use_id, body).await,
            Keyed::PassRenewal => api.renew_pass(owner, m, t, body).await,
            Keyed::PassFreeze => api.pass_action(owner, m, t, "freeze", Some(body)).await,
            Keyed::MembershipRenewal => api.membership_action(owner, m, t, "renew", body).await,
            Keyed::MembershipFreeze => api.membership_action(owner, m, t, "freeze", body).await,
            Keyed::MembershipCancel => api.membership_action(owner, m, t, "cancel", body).await,
            Keyed::CheckIn => {
                let key = body["key"].as_str().unwrap();
                api.check_in_with_key(owner, m, key).await.untyped()
            }
        }
    }

    /// How many times the write took effect.
    async fn effects(self, app: &TestApp, owner: &Auth, h: &Held) -> i64 {
        let m = &h.member;
        match self {
            Keyed::PassSale | Keyed::MembershipSale => {
                let left = app.stored_value(owner, m).await.ok().balance.total;
                let n = charges(app, owner, m).await - h.before;
                assert_eq!(left, if n > 0 { 0 } else { h.held });
                n
            }
            Keyed::TopUpRefund => charges(app, owner, m).await - h.before,
            Keyed::PassReversal => {
                let passes = app.member_passes(owner, m).await.ok();
                passes[0]["visits_left"].as_i64().unwrap()
            }
            Keyed::PassRenewal | Keyed::PassFreeze => {
                let passes = app.member_passes(owner, m).await.ok();
                let moved = pass_day(&passes[0]["expires_on"]) - h.before;
                match self {
                    Keyed::PassFreeze => moved / 5,
                    _ => moved / 30,
                }
            }
            Keyed::MembershipRenewal | Keyed::MembershipFreeze => {
                let ms = app.member_memberships(owner, m).await.ok();
                let moved = pass_day(&ms[0]["ends_on"]) - h.before;
                match self {
                    Keyed::MembershipFreeze => moved / 5,
                    // A month from the end: 28 to 31 days.
                    _ => i64::from(moved >= 28) + moved / 56,
                }
            }
            Keyed::CheckIn => {
                // Checked in once today: a check-in without the key says so.
                let probe = app.check_in(owner, m).await.ok();
                i64::from(probe.already)
            }
            Keyed::MembershipCancel => {
                let ms = app.member_memberships(owner, m).await.ok();
                assert_eq!(ms[0]["status"], "cancelled", "{ms:?}");
                let all = app
                    .list_charges(owner, &[("member_id", m.as_str())])
                    .await
                    .ok();
                let refunds = all["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["amount"].as_i64().unwrap() < 0)
                    .count();
                refunds as i64
            }
        }
    }
}

/// A date as days since 1970.
fn pass_day(v: &Value) -> i64 {
    let d = chrono::NaiveDate::parse_from_str(v.as_str().expect("a date"), "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::default()).num_days()
}

async fn charges(app: &TestApp, owner: &Auth, member: &str) -> i64 {
    app.list_charges(owner, &[("member_id", member)]).await.ok()["count"]
        .as_i64()
        .unwrap()
}

async fn keyed_holds_for(op: Keyed) {
    let app = spawn_app_with(16).await;
    let t = app.signup_on("idem-keyed", "pro").await;
    let owner = t.owner();

    // (a) Twice with the key: the same status and body, one effect.
    let h = op.subject(&app, &owner, "Ann").await;
    let first = op.send(&app, &owner, &h, &op.body(&h, "k-1", false)).await;
    assert!(first.status.is_success(), "{op:?}: {first:?}");
    let again = op.send(&app, &owner, &h, &op.body(&h, "k-1", false)).await;
    assert_eq!(again.status, first.status, "{op:?}: {again:?}");
    assert_eq!(again.json, first.json, "{op:?}");
    assert_eq!(op.effects(&app, &owner, &h).await, 1, "{op:?}");

    // (b) The key with another body: 409 naming it.
    if !matches!(op, Keyed::CheckIn) {
        let other = op.send(&app, &owner, &h, &op.body(&h, "k-1", true)).await;
        assert_eq!(other.status, StatusCode::CONFLICT, "{op:?}: {other:?}");
        assert_eq!(other.code(), "idempotency_key_reused", "{op:?}");
        assert_eq!(other.fields(), ["idempotency_key"], "{op:?}");
    }

    // (c) Eight at once: one effect, every answer the first success's.
    let h = op.subject(&app, &owner, "Bo").await;
    let body = op.body(&h, "race", false);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (api, owner, h, body) = (app.api.clone(), owner.clone(), h.clone(), body.clone());
            tokio::spawn(async move { op.send(&api, &owner, &h, &body).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    for r in &replies {
        assert!(
            r.status.is_success(),
            "{op:?}: a duplicate was refused: {r:?}"
        );
        assert_eq!(r.json, replies[0].json, "{op:?}");
    }
    assert_eq!(op.effects(&app, &owner, &h).await, 1, "{op:?}");
    internals::assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn writes_with_an_optional_key_replay_exactly_with_one() {
    for op in Keyed::ALL {
        keyed_holds_for(op).await;
    }
}
