//! Purchases, the points ledger and point rules, through the API: accrual by the rule in
//! force, idempotency, refunds under both shortfall policies, redemption under contention,
//! expiry in the business's time zone, the rule lifecycle, and the ledger's invariants
//! under random sequences.

use chrono::{DateTime, Duration, TimeZone, Utc};
use patron_core::clock::Clock;
use patron_tests::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

const PER_YUAN: &str = r#"award(floor_div(event.amount, 100), "1 point per yuan");"#;

async fn member(app: &TestApp, auth: &Auth, name: &str) -> String {
    let r = app
        .post("/api/v1/members", auth, json!({ "name": name }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn publish(app: &TestApp, auth: &Auth, trigger: &str, script: &str) -> i64 {
    let r = app
        .post(
            &format!("/api/v1/rules/{trigger}/publish"),
            auth,
            json!({ "script": script }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["version"].as_i64().unwrap()
}

async fn balance(app: &TestApp, auth: &Auth, member: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/members/{member}/points"), auth)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

async fn set_points_settings(app: &TestApp, auth: &Auth, settings: Value) {
    let r = app.put("/api/v1/points/settings", auth, settings).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// `patron verify`'s check for one tenant: no differences, no purchase without its entry.
async fn assert_ledger_agrees(app: &TestApp, slug: &str) {
    let report = patron_server::points::verify_all(&app.db).await.unwrap();
    let t = report
        .iter()
        .find(|t| t.tenant == slug)
        .expect("tenant checked");
    assert!(t.differences.is_empty(), "{:?}", t.differences);
    assert_eq!(t.purchases_without_entry, 0);
}

async fn expire_now(app: &TestApp, tenant_id: i64) -> Value {
    let tenant = patron_db::tenants::find_by_id(&app.db, tenant_id)
        .await
        .unwrap()
        .unwrap();
    patron_server::points::expire_tenant(&app.db, &tenant, app.clock.now())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_purchase_earns_by_the_rule_in_force_and_retries_never_count_twice() {
    let app = spawn_app().await;
    let t = app.signup_on("accrual", "pro").await;
    let owner = t.owner();
    let m = member(&app, &owner, "Ann").await;

    // Without a rule a purchase is recorded and earns nothing.
    let first = app.purchase(&owner, &m, "r-0", 5_000).await;
    assert_eq!(first["points"], 0);
    assert!(first["rule_version"].is_null());

    let v1 = publish(&app, &owner, "purchase", PER_YUAN).await;
    let body = json!({ "external_id": "r-1", "member_id": m, "amount": 12_345,
        "items": [{ "sku": "LATTE", "category": "drinks", "quantity": 2, "unit_price": 3000 }],
        "store": "north" });
    let r = app.post("/api/v1/purchases", &owner, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["points"], 123);
    assert_eq!(r.body["reasons"][0]["reason"], "1 point per yuan");
    assert_eq!(r.body["rule_version"], v1);
    assert_eq!(r.body["balance"], 123);

    // A retry returns the first answer and writes nothing.
    let again = app.post("/api/v1/purchases", &owner, body.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["replayed"], true);
    assert_eq!(again.body["purchase_id"], r.body["purchase_id"]);
    assert_eq!(again.body["balance"], 123);
    // The same id with another body is a conflict.
    let mut other = body.clone();
    other["amount"] = json!(99_900);
    let c = app.post("/api/v1/purchases", &owner, other).await;
    assert_eq!(c.status, StatusCode::CONFLICT);
    assert_eq!(c.code(), "external_id_reused");

    // Concurrent duplicates: exactly one is recorded.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (app_base, client, owner, m) = (
                app.base.clone(),
                app.client.clone(),
                owner.clone(),
                m.clone(),
            );
            tokio::spawn(async move {
                let Auth::Bearer(token) = owner else {
                    unreachable!()
                };
                client
                    .post(format!("{app_base}/api/v1/purchases"))
                    .bearer_auth(token)
                    .json(&json!({ "external_id": "r-dup", "member_id": m, "amount": 1_000 }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}"
        );
        created += usize::from(status == StatusCode::CREATED);
    }
    assert_eq!(created, 1);
    let b = balance(&app, &owner, &m).await;
    assert_eq!(b["balance"], 133);
    assert_eq!(b["visits"], 3);
    assert_eq!(b["spend_total"], 5_000 + 12_345 + 1_000);

    // By card number and by phone, too; a member who does not exist is a 422 on the field.
    let card = app.get(&format!("/api/v1/members/{m}"), &owner).await.body["card_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(
            "/api/v1/purchases",
            &owner,
            json!({ "external_id": "r-card", "card_number": card, "amount": 200 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["points"], 2);
    let r = app
        .post(
            "/api/v1/purchases",
            &owner,
            json!({ "external_id": "r-x", "member_id": uuid::Uuid::new_v4(), "amount": 200 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "member_id");
    let r = app
        .post(
            "/api/v1/purchases",
            &owner,
            json!({ "external_id": " ", "member_id": m, "amount": -5,
                    "items": [{ "unit_price": 1, "quantity": 0 }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["external_id", "amount", "items[0].quantity"]);

    // History with totals.
    let h = app
        .get(&format!("/api/v1/members/{m}/purchases"), &owner)
        .await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.body["total_count"], 4);
    assert_eq!(h.body["total_points"], 135);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_failing_rule_records_the_purchase_with_zero_points_and_the_error() {
    let app = spawn_app().await;
    let t = app.signup_on("runaway", "pro").await;
    let owner = t.owner();
    let m = member(&app, &owner, "Bo").await;
    publish(&app, &owner, "purchase", "let x = 0; loop { x += 1; }").await;
    let r = app.purchase(&owner, &m, "loop-1", 1_000).await;
    assert_eq!(r["points"], 0);
    assert_eq!(r["rule_error"]["kind"], "limit", "{r:?}");
    let huge = r#"let s = "x"; loop { s += s; }"#;
    publish(&app, &owner, "purchase", huge).await;
    let r = app.purchase(&owner, &m, "loop-2", 1_000).await;
    assert_eq!(r["points"], 0);
    assert_eq!(r["rule_error"]["kind"], "limit", "{r:?}");
    publish(&app, &owner, "purchase", "fn f(n) { f(n + 1) } f(0)").await;
    let r = app.purchase(&owner, &m, "loop-3", 1_000).await;
    assert_eq!(r["points"], 0);
    assert!(
        ["limit", "runtime"].contains(&r["rule_error"]["kind"].as_str().unwrap()),
        "{r:?}"
    );
    // The purchase is on record, with its error for staff to see.
    let h = app
        .get(&format!("/api/v1/members/{m}/purchases"), &owner)
        .await;
    assert_eq!(h.body["total_count"], 3);
    assert_eq!(
        h.body["items"][0]["rule_error"]["kind"],
        r["rule_error"]["kind"]
    );

    // A rule that does not compile is refused at publish, with its line and column.
    let r = app
        .post(
            "/api/v1/rules/purchase/publish",
            &owner,
            json!({ "script": "let a = 1;\nlet b = ;" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["fields"][0]["field"], "script");
    assert!(
        r.body["fields"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{:?}",
        r.body
    );
    let v = app
        .post(
            "/api/v1/rules/validate",
            &owner,
            json!({ "script": "let a = 1;\nlet b = ;" }),
        )
        .await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.body["ok"], false);
    assert_eq!(v.body["error"]["line"], 2);
}

#[tokio::test]
async fn drafts_simulate_without_writing_publish_and_roll_back() {
    let app = spawn_app().await;
    let t = app.signup_on("lifecycle", "pro").await;
    let owner = t.owner();
    let a = member(&app, &owner, "A").await;
    let b = member(&app, &owner, "B").await;
    let v1 = publish(&app, &owner, "purchase", PER_YUAN).await;
    for i in 0..5 {
        app.purchase(&owner, &a, &format!("a-{i}"), 10_000).await;
    }
    app.purchase(&owner, &b, "b-0", 1_000).await;

    // A draft doubling points, simulated over the recent purchases and a given event.
    let double = r#"award(floor_div(event.amount, 100) * 2, "double points");"#;
    let r = app
        .put(
            "/api/v1/rules/purchase/draft",
            &owner,
            json!({ "script": double }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.body["compile_error"].is_null());
    let counts = |app: &TestApp| {
        let db = app.db.clone();
        let schema = format!("t_{}", t.id);
        async move {
            let tenant = patron_db::tenants::find_by_id(&db, t.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(tenant.schema(), schema);
            let mut tx = db.tenant_tx(&tenant).await.unwrap();
            let c = patron_db::points::ledger_size(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
            c
        }
    };
    let before = counts(&app).await;
    let s = app
        .post(
            "/api/v1/rules/simulate",
            &owner,
            json!({ "last_purchases": 100, "events": [{ "event": { "amount": 5_000 } }] }),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    assert_eq!(s.body["active_version"], v1);
    assert_eq!(s.body["totals"]["cases"], 7);
    assert_eq!(s.body["totals"]["active_points"], 50 + 5 * 100 + 10);
    assert_eq!(s.body["totals"]["draft_points"], 2 * (50 + 5 * 100 + 10));
    assert_eq!(s.body["cases"][0]["draft_points"], 100);
    assert_eq!(s.body["most_affected"][0]["member_id"], a);
    assert_eq!(s.body["most_affected"][0]["difference"], 500);
    assert_eq!(counts(&app).await, before, "simulation wrote nothing");
    assert_eq!(balance(&app, &owner, &a).await["balance"], 500);

    // Publish the draft: new purchases earn double; roll back: single again.
    let r = app
        .post(
            "/api/v1/rules/purchase/publish",
            &owner,
            json!({ "note": "double" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let v2 = r.body["version"].as_i64().unwrap();
    assert!(v2 > v1);
    assert_eq!(app.purchase(&owner, &b, "b-1", 1_000).await["points"], 20);
    let r = app
        .post(
            "/api/v1/rules/purchase/rollback",
            &owner,
            json!({ "version": v1 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let p = app.purchase(&owner, &b, "b-2", 1_000).await;
    assert_eq!(p["points"], 10);
    assert_eq!(p["rule_version"], v1);
    let versions = app.get("/api/v1/rules/purchase/versions", &owner).await;
    let list = versions.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|v| v["active"] == true).count(), 1);
    assert_eq!(list[1]["version"], v1);
    assert_eq!(list[1]["active"], true);
    // Rolling back to another trigger's version, or one that does not exist, is refused.
    let r = app
        .post(
            "/api/v1/rules/check_in/rollback",
            &owner,
            json!({ "version": v1 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn templates_publish_without_the_scripts_feature_and_a_rule_never_crosses_tenants() {
    let app = spawn_app().await;
    // Starter has no `rule_scripts`: templates only.
    let a = app.signup("tpl-a").await;
    let b = app.signup_on("tpl-b", "pro").await;
    let catalog = app.get("/api/v1/rules/templates", &a.owner()).await;
    assert_eq!(catalog.status, StatusCode::OK);
    assert!(catalog.body["templates"].as_array().unwrap().len() >= 5);
    let form = json!({ "kind": "purchase", "base": { "points": 1, "per_amount": 100, "rounding": "floor" },
                       "first_purchase_bonus": { "points": 50 } });
    let rendered = app
        .post(
            "/api/v1/rules/templates/render",
            &a.owner(),
            json!({ "template": form }),
        )
        .await;
    assert_eq!(rendered.status, StatusCode::OK, "{:?}", rendered.body);
    let script = rendered.body["script"].as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/v1/rules/purchase/publish",
            &a.owner(),
            json!({ "template": form }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["script"], script);
    // An edited script needs the feature.
    let r = app
        .post(
            "/api/v1/rules/purchase/publish",
            &a.owner(),
            json!({ "script": format!("{script}\naward(1, \"extra\");") }),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{:?}", r.body);
    assert_eq!(r.body["feature"], "rule_scripts");
    // A bad form names its field.
    let r = app
        .post(
            "/api/v1/rules/templates/render",
            &a.owner(),
            json!({ "template": { "kind": "purchase", "base": { "points": 1, "per_amount": 0, "rounding": "floor" } } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["fields"][0]["field"], "template.base.per_amount");

    let ma = member(&app, &a.owner(), "A1").await;
    let p = app.purchase(&a.owner(), &ma, "x-1", 12_345).await;
    assert_eq!(p["points"], 123 + 50);
    // Tenant B has no rule: the same purchase earns nothing there.
    let mb = member(&app, &b.owner(), "B1").await;
    let p = app.purchase(&b.owner(), &mb, "x-1", 12_345).await;
    assert_eq!(p["points"], 0);
    assert!(p["rule_version"].is_null());
    // B publishes its own rule with the same version number; A keeps its own.
    let vb = publish(&app, &b.owner(), "purchase", r#"award(7, "flat");"#).await;
    assert_eq!(
        app.purchase(&b.owner(), &mb, "x-2", 12_345).await["points"],
        7
    );
    assert_eq!(vb, 1);
    assert_eq!(
        app.purchase(&a.owner(), &ma, "x-2", 12_345).await["points"],
        123
    );
    // A's member is not B's.
    let r = app
        .post(
            "/api/v1/purchases",
            &b.owner(),
            json!({ "external_id": "x-3", "member_id": ma, "amount": 100 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn refunds_take_back_in_proportion_and_shortfalls_follow_the_policy() {
    let app = spawn_app().await;
    for policy in ["debt", "negative"] {
        let t = app.signup_on(&format!("refund-{policy}"), "pro").await;
        let owner = t.owner();
        set_points_settings(&app, &owner, json!({ "refund_shortfall": policy })).await;
        publish(&app, &owner, "purchase", PER_YUAN).await;
        let m = member(&app, &owner, "Cat").await;
        let p = app.purchase(&owner, &m, "p-1", 10_000).await;
        assert_eq!(p["points"], 100);
        // Spend 80 of the 100.
        let r = app
            .post(
                &format!("/api/v1/members/{m}/redemptions"),
                &owner,
                json!({ "idempotency_key": "k1", "points": 80, "reward": "mug" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["balance"], 20);
        // Refund half: 50 points back, only 20 left.
        let body =
            json!({ "external_id": "rf-1", "purchase_id": p["purchase_id"], "amount": 5_000 });
        let r = app.post("/api/v1/refunds", &owner, body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["points"], 50);
        assert_eq!(r.body["refundable"], 5_000);
        let again = app.post("/api/v1/refunds", &owner, body).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body["refund_id"], r.body["refund_id"]);
        match policy {
            "debt" => {
                assert_eq!(r.body["balance"], 0);
                assert_eq!(r.body["debt"], 30);
                assert_eq!(r.body["debt_added"], 30);
            }
            _ => {
                assert_eq!(r.body["balance"], -30);
                assert_eq!(r.body["debt"], 0);
            }
        }
        assert_ledger_agrees(&app, &t.slug).await;
        // The next purchase settles it first: 40 earned, 30 owed → 10 spendable.
        let n = app.purchase(&owner, &m, "p-2", 4_000).await;
        assert_eq!(n["points"], 40);
        assert_eq!(n["balance"], 10);
        assert_eq!(n["debt"], 0);
        let s = balance(&app, &owner, &m).await;
        assert_eq!(s["balance"], 10);
        // Refund the rest of the first purchase by its external id: exactly 100 in all.
        let r = app
            .post(
                "/api/v1/refunds",
                &owner,
                json!({ "external_id": "rf-2", "purchase_external_id": "p-1" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["points"], 50);
        assert_eq!(r.body["refundable"], 0);
        let r = app
            .post(
                "/api/v1/refunds",
                &owner,
                json!({ "external_id": "rf-3", "purchase_external_id": "p-1", "amount": 1 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
        assert_ledger_agrees(&app, &t.slug).await;
    }
}

#[tokio::test]
async fn a_hundred_concurrent_redemptions_never_overdraw() {
    let app = spawn_app_with(24).await;
    let t = app.signup_on("redeem", "pro").await;
    let owner = t.owner();
    let m = member(&app, &owner, "Dee").await;
    let r = app
        .post(
            &format!("/api/v1/members/{m}/points/adjustments"),
            &owner,
            json!({ "idempotency_key": "seed", "points": 5_000, "reason": "opening balance" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let Auth::Bearer(token) = owner.clone() else {
        unreachable!()
    };
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (base, client, token, m) =
                (app.base.clone(), app.client.clone(), token.clone(), m.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{base}/api/v1/members/{m}/redemptions"))
                    .bearer_auth(token)
                    .json(&json!({ "idempotency_key": format!("r-{i}"), "points": 100, "reward": "coffee" }))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, refused), (50, 50));
    let s = balance(&app, &owner, &m).await;
    assert_eq!(s["balance"], 0);
    assert_eq!(s["redeemed_total"], 5_000);
    assert_ledger_agrees(&app, &t.slug).await;

    // The same redemption sent 20 times at once: spent once, every answer names its entry.
    let r = app
        .post(
            &format!("/api/v1/members/{m}/points/adjustments"),
            &owner,
            json!({ "idempotency_key": "refill", "points": 300, "reason": "refill" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (base, client, token, m) = (
                app.base.clone(),
                app.client.clone(),
                token.clone(),
                m.clone(),
            );
            tokio::spawn(async move {
                let r = client
                    .post(format!("{base}/api/v1/members/{m}/redemptions"))
                    .bearer_auth(token)
                    .json(&json!({ "idempotency_key": "twice", "points": 100, "reward": "tea" }))
                    .send()
                    .await
                    .unwrap();
                (r.status(), r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut created = 0;
    let mut entries = std::collections::HashSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status} {body:?}"
        );
        created += usize::from(status == StatusCode::CREATED);
        assert_eq!(body["balance"], 200, "{body:?}");
        entries.insert(body["entry_id"].as_i64().expect("entry id"));
    }
    assert_eq!(created, 1);
    assert_eq!(entries.len(), 1, "every answer names the one entry");
    assert_eq!(balance(&app, &owner, &m).await["balance"], 200);
    assert_ledger_agrees(&app, &t.slug).await;
    let s = balance(&app, &owner, &m).await;
    assert_eq!(s["redeemed_total"], 5_100);

    // Money off at checkout: the cap and the ratio.
    set_points_settings(
        &app,
        &owner,
        json!({ "redeem_points": 100, "redeem_value": 100, "max_deduction_percent": 50, "min_redeem_points": 10 }),
    )
    .await;
    app.post(
        &format!("/api/v1/members/{m}/points/adjustments"),
        &owner,
        json!({ "idempotency_key": "top-up", "points": 1_000, "reason": "goodwill" }),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/members/{m}/redemptions"),
            &owner,
            json!({ "idempotency_key": "d-1", "purchase_amount": 1_500 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["points"], -750);
    assert_eq!(r.body["value"], 750);
    assert_eq!(r.body["amount_due"], 750);
    let r = app
        .post(
            &format!("/api/v1/members/{m}/redemptions"),
            &owner,
            json!({ "idempotency_key": "d-2", "purchase_amount": 1_500, "points": 5 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "points");
}

#[tokio::test]
async fn points_expire_at_local_midnight_across_time_zones_and_leap_days() {
    let app = spawn_app().await;
    let t = app.signup_on("expiry", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let r = app
        .patch(
            "/api/v1/settings",
            &owner,
            json!({ "time_zone": "Asia/Shanghai" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    set_points_settings(
        &app,
        &owner,
        json!({ "expiry": { "mode": "days", "days": 1 } }),
    )
    .await;
    publish(&app, &owner, "purchase", PER_YUAN).await;
    let m = member(&app, &owner, "Eve").await;
    // 2028-02-29 07:30 in Shanghai is still 28 February in UTC.
    let shanghai = chrono_tz::Asia::Shanghai;
    let local = |y, mo, d, h, mi| -> DateTime<Utc> {
        shanghai
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    app.clock.set(local(2028, 2, 29, 7, 30));
    app.purchase(&owner, &m, "e-1", 10_000).await;
    let s = balance(&app, &owner, &m).await;
    assert_eq!(s["expiring"][0]["points"], 100);
    let expires: DateTime<Utc> = s["expiring"][0]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        expires,
        local(2028, 3, 2, 0, 0),
        "the end of 1 March in Shanghai"
    );
    // One minute before local midnight nothing expires; after it, all of it.
    app.clock.set(local(2028, 3, 1, 23, 59));
    assert_eq!(expire_now(&app, t.id).await["points"], 0);
    assert_eq!(balance(&app, &owner, &m).await["balance"], 100);
    app.clock.set(local(2028, 3, 2, 0, 0));
    assert_eq!(expire_now(&app, t.id).await["points"], 100);
    // Running it again (or on another replica) changes nothing.
    assert_eq!(expire_now(&app, t.id).await["points"], 0);
    let s = balance(&app, &owner, &m).await;
    assert_eq!(s["balance"], 0);
    assert_eq!(s["expired_total"], 100);
    let entries = app
        .get(&format!("/api/v1/members/{m}/points/entries"), &owner)
        .await;
    assert_eq!(entries.body["items"][0]["kind"], "expire");
    assert_eq!(entries.body["items"][0]["points"], -100);
    assert_ledger_agrees(&app, &t.slug).await;
    app.clock.set(Utc::now());
}

#[tokio::test]
async fn check_ins_streaks_custom_events_and_referrals() {
    let app = spawn_app().await;
    let t = app.signup_on("earn", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    set_points_settings(
        &app,
        &owner,
        json!({ "check_in_points": 5, "streak_days": 3, "streak_bonus": 20 }),
    )
    .await;
    let m = member(&app, &owner, "Fay").await;
    let mut total = 0;
    for day in 0..3 {
        let r = app
            .post(&format!("/api/v1/members/{m}/check-ins"), &owner, json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["streak"], day + 1);
        total += r.body["points"].as_i64().unwrap();
        let again = app
            .post(&format!("/api/v1/members/{m}/check-ins"), &owner, json!({}))
            .await;
        assert_eq!(again.body["already"], true);
        assert_eq!(again.body["points"], 0);
        app.clock.advance(Duration::days(1));
    }
    assert_eq!(total, 5 * 3 + 20);

    // A custom event earns by its own rule, once per external id.
    publish(
        &app,
        &owner,
        "event.class_attended",
        r#"award(15 + event.properties.minutes / 10, "class");"#,
    )
    .await;
    let body = json!({ "external_id": "ev-1", "name": "class_attended", "member_id": m, "properties": { "minutes": 60 } });
    let r = app.post("/api/v1/events", &owner, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["points"], 21);
    let again = app.post("/api/v1/events", &owner, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["event_id"], r.body["event_id"]);
    let r = app
        .post(
            "/api/v1/events",
            &owner,
            json!({ "external_id": "ev-2", "name": "Bad Name!", "member_id": m }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "name");

    // A referral pays the referrer once, on the referred member's first purchase.
    publish(
        &app,
        &owner,
        "referral",
        r#"award(300, "thanks for the referral");"#,
    )
    .await;
    let r = app
        .post(
            "/api/v1/members",
            &owner,
            json!({ "name": "Gus", "referrer_id": m }),
        )
        .await;
    let g = r.body["id"].as_str().unwrap().to_owned();
    let before = balance(&app, &owner, &m).await["balance"].as_i64().unwrap();
    let p = app.purchase(&owner, &g, "g-1", 1_000).await;
    assert_eq!(p["referral"]["points"], 300);
    assert_eq!(p["referral"]["referrer_id"], m);
    let p = app.purchase(&owner, &g, "g-2", 1_000).await;
    assert!(p["referral"].is_null());
    assert_eq!(
        balance(&app, &owner, &m).await["balance"].as_i64().unwrap(),
        before + 300
    );
    assert_ledger_agrees(&app, &t.slug).await;
    app.clock.set(Utc::now());
}

/// A model of one member's points, to compare the ledger with.
#[derive(Default, Debug)]
struct Model {
    balance: i64,
    debt: i64,
}

#[tokio::test]
async fn the_ledger_stays_consistent_under_random_sequences() {
    let app = spawn_app().await;
    for seed in [7_u64, 11, 2026] {
        let mut rng = StdRng::seed_from_u64(seed);
        let t = app.signup_on(&format!("prop-{seed}"), "pro").await;
        let owner = app.api_key(&t, "owner").await;
        let policy = if seed % 2 == 0 { "negative" } else { "debt" };
        set_points_settings(
            &app,
            &owner,
            json!({ "refund_shortfall": policy, "expiry": { "mode": "days", "days": 3 } }),
        )
        .await;
        publish(&app, &owner, "purchase", PER_YUAN).await;
        let members = [
            member(&app, &owner, "P1").await,
            member(&app, &owner, "P2").await,
        ];
        let mut purchases: Vec<(String, usize, i64)> = Vec::new();
        let mut model = [Model::default(), Model::default()];
        for step in 0..60 {
            let who = rng.gen_range(0..2);
            let m = &members[who];
            match rng.gen_range(0..10) {
                0..=3 => {
                    let amount = rng.gen_range(0..50_000);
                    let id = format!("s{seed}-{step}");
                    let r = app.purchase(&owner, m, &id, amount).await;
                    assert_eq!(r["points"], amount / 100);
                    let md = &mut model[who];
                    md.balance += amount / 100;
                    let settle = md.debt.min(md.balance.max(0));
                    md.debt -= settle;
                    md.balance -= settle;
                    assert_eq!(r["balance"], md.balance, "seed {seed} step {step}");
                    assert_eq!(r["debt"], md.debt, "seed {seed} step {step}");
                    purchases.push((id, who, amount));
                }
                4..=5 => {
                    let have = model[who].balance.max(0);
                    let want = rng.gen_range(1..=have.max(1) + 20);
                    let r = app
                        .post(
                            &format!("/api/v1/members/{m}/redemptions"),
                            &owner,
                            json!({ "idempotency_key": format!("k{step}"), "points": want, "reward": "r" }),
                        )
                        .await;
                    if want <= have {
                        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
                        model[who].balance -= want;
                    } else {
                        assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
                    }
                }
                6..=7 if !purchases.is_empty() => {
                    let (id, owner_of, amount) =
                        purchases[rng.gen_range(0..purchases.len())].clone();
                    let r = app
                        .post(
                            "/api/v1/refunds",
                            &owner,
                            json!({ "external_id": format!("rf{step}"), "purchase_external_id": id,
                                    "amount": rng.gen_range(1..=amount.max(1)) }),
                        )
                        .await;
                    assert!(
                        [
                            StatusCode::CREATED,
                            StatusCode::CONFLICT,
                            StatusCode::UNPROCESSABLE_ENTITY
                        ]
                        .contains(&r.status),
                        "{:?}",
                        r.body
                    );
                    if r.status == StatusCode::CREATED {
                        let back = r.body["points"].as_i64().unwrap();
                        let md = &mut model[owner_of];
                        let have = md.balance.max(0);
                        if back <= have || policy == "negative" {
                            md.balance -= back;
                        } else {
                            md.debt += back - have;
                            md.balance -= have;
                        }
                        assert_eq!(r.body["balance"], md.balance, "seed {seed} step {step}");
                        assert_eq!(r.body["debt"], md.debt, "seed {seed} step {step}");
                    }
                }
                8 => {
                    app.clock.advance(Duration::hours(rng.gen_range(1..48)));
                    let expired = expire_now(&app, t.id).await["points"].as_i64().unwrap();
                    // Expiry takes only what lots hold: resynchronise and check the total.
                    let mut gone = 0;
                    for (i, m) in members.iter().enumerate() {
                        let s = balance(&app, &owner, m).await;
                        let now = s["balance"].as_i64().unwrap();
                        assert!(now <= model[i].balance || model[i].balance < 0);
                        gone += model[i].balance - now;
                        model[i].balance = now;
                    }
                    assert_eq!(gone, expired, "seed {seed} step {step}");
                }
                _ => {
                    let s = balance(&app, &owner, m).await;
                    assert_eq!(s["debt"], model[who].debt, "seed {seed} step {step}");
                }
            }
        }
        // Whatever happened, the ledger agrees with itself.
        assert_ledger_agrees(&app, &t.slug).await;
        for (i, m) in members.iter().enumerate() {
            let s = balance(&app, &owner, m).await;
            let entries = app
                .get(
                    &format!("/api/v1/members/{m}/points/entries?limit=200"),
                    &owner,
                )
                .await;
            let sum: i64 = entries.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["points"].as_i64().unwrap())
                .sum();
            assert_eq!(s["balance"].as_i64().unwrap(), sum, "member {i}");
            assert_eq!(s["balance"], model[i].balance, "member {i}");
        }
    }
    app.clock.set(Utc::now());
}

#[tokio::test]
async fn members_follow_their_points_and_check_in_from_the_portal() {
    let app = spawn_app().await;
    let t = app.signup_on("portal-pts", "pro").await;
    let owner = t.owner();
    publish(&app, &owner, "purchase", PER_YUAN).await;
    set_points_settings(&app, &owner, json!({ "check_in_points": 3 })).await;
    let slug = &t.slug;
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/codes"),
            &Auth::None,
            json!({ "phone": "13922223333", "purpose": "register" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let code = crate::portal::last_code(&app, &t, "13922223333").await;
    let r = app
        .post(
            &format!("/api/v1/portal/{slug}/register"),
            &Auth::None,
            json!({ "profile": { "name": "Hana", "phone": "13922223333" }, "code": code, "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let me = Auth::Bearer(r.body["token"].as_str().unwrap().to_owned());
    // The till finds the member by phone.
    let p = app
        .post(
            "/api/v1/purchases",
            &owner,
            json!({ "external_id": "h-1", "phone": "139 2222 3333", "amount": 8_800 }),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
    let c = app
        .post(
            &format!("/api/v1/portal/{slug}/me/check-in"),
            &me,
            json!({}),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{:?}", c.body);
    assert_eq!(c.body["points"], 3);
    let s = app
        .get(&format!("/api/v1/portal/{slug}/me/points"), &me)
        .await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    assert_eq!(s.body["balance"], 91);
    let h = app
        .get(&format!("/api/v1/portal/{slug}/me/points/entries"), &me)
        .await;
    let kinds: Vec<&str> = h.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["check_in", "purchase"]);
    // A staff token is not a member token.
    let r = app
        .get(&format!("/api/v1/portal/{slug}/me/points"), &owner)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn birthdays_earn_once_a_year_on_the_local_day_and_leap_day_birthdays_count_on_the_28th() {
    let app = spawn_app().await;
    let t = app.signup_on("bday", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    publish(&app, &owner, "birthday", r#"award(100, "happy birthday");"#).await;
    let create = |name: &'static str, birthday: &'static str| {
        let (app, owner) = (&app, owner.clone());
        async move {
            let r = app
                .post(
                    "/api/v1/members",
                    &owner,
                    json!({ "name": name, "birthday": birthday }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        }
    };
    let leap = create("Leap", "2000-02-29").await;
    let other = create("Other", "1990-03-01").await;
    let tenant = patron_db::tenants::find_by_id(&app.db, t.id)
        .await
        .unwrap()
        .unwrap();
    let pool = patron_rules::SandboxPool::start(patron_rules::SandboxConfig::default()).unwrap();
    let rules = patron_app::engine::RuleEngine::new(Some(std::sync::Arc::new(pool)));
    // 28 February 2027, 00:30 in Shanghai (still the 27th in UTC): not a leap year.
    let at = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2027, 2, 28, 0, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    let run = |at| patron_server::points::birthdays_tenant(&app.db, &tenant, &rules, at);
    let r = run(at).await.unwrap();
    assert_eq!(r["members"], 1, "{r}");
    assert_eq!(balance(&app, &owner, &leap).await["balance"], 100);
    assert_eq!(balance(&app, &owner, &other).await["balance"], 0);
    // Again the same day, or on another replica: nothing more.
    assert_eq!(run(at).await.unwrap()["members"], 0);
    let r = run(at + Duration::days(1)).await.unwrap();
    assert_eq!(r["members"], 1, "{r}");
    assert_eq!(balance(&app, &owner, &other).await["balance"], 100);
    assert_eq!(balance(&app, &owner, &leap).await["balance"], 100);
    assert_ledger_agrees(&app, &t.slug).await;
}

/// The ledger's rows carry no foreign key of their own (they are written under the lock on
/// the member's account, which does): `patron verify` reports any that have no account.
/// Purchases name their member by card in the same one-statement read, and a lost card is
/// refused on its field.
#[tokio::test]
async fn verify_reports_ledger_rows_without_an_account_and_lost_cards_are_refused() {
    let app = spawn_app().await;
    let t = app.signup_on("orphans", "pro").await;
    let owner = t.owner();
    publish(&app, &owner, "purchase", PER_YUAN).await;
    let m = member(&app, &owner, "Ann").await;
    let card = app.get(&format!("/api/v1/members/{m}"), &owner).await.body["card_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(
            "/api/v1/purchases",
            &owner,
            json!({ "external_id": "o-1", "card_number": card, "amount": 500 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["member_id"], m.as_str());
    assert_eq!(r.body["balance"], 5);
    assert_ledger_agrees(&app, &t.slug).await;

    let r = app
        .post(&format!("/api/v1/cards/{card}/lost"), &owner, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/purchases",
            &owner,
            json!({ "external_id": "o-2", "card_number": card, "amount": 500 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["fields"][0]["field"], "card_number");
    assert!(
        r.body["fields"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("lost"),
        "{:?}",
        r.body
    );

    // A purchase stored for a member who has no account (it earned nothing, so no entry
    // or lot would show it).
    let other = member(&app, &owner, "Bo").await;
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    sqlx::query(&format!(
        "INSERT INTO t_{}.purchases (id, external_id, request_hash, member_id, amount, currency, \
         occurred_at, recorded_at, recorded_by, points, response) \
         VALUES (gen_random_uuid(), 'o-3', '\\x00', $1::uuid, 0, 'CNY', now(), now(), 'test', 0, '{{}}')",
        t.id
    ))
    .bind(&other)
    .execute(&mut conn)
    .await
    .unwrap();
    let report = patron_server::points::verify_all(&app.db).await.unwrap();
    let found = report.iter().find(|r| r.tenant == t.slug).unwrap();
    assert_eq!(found.differences.len(), 1, "{:?}", found.differences);
    assert_eq!(found.differences[0].member_id.to_string(), other);
    // Removed again (the suite's database is verified as a whole afterwards).
    sqlx::query(&format!(
        "DELETE FROM t_{}.purchases WHERE external_id = 'o-3'",
        t.id
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    assert_ledger_agrees(&app, &t.slug).await;
}
