//! Purchases, the points ledger and point rules, through the API: accrual by the rule in
//! force, idempotency, refunds under both shortfall policies, redemption under contention,
//! expiry in the business's time zone, the rule lifecycle, and the ledger's invariants
//! under random sequences.
//!
//! Longer than 600 lines on purpose: each test is a whole scenario told top to bottom, and the
//! capability's scenarios stay in one file so a reader finds them by its name.

use chrono::{DateTime, Duration, TimeZone, Utc};
use patron_tests::internals::{
    assert_ledger_agrees, expire_points, run_birthdays, sandboxed_engine, verify_ledgers,
};
use patron_tests::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;

const PER_YUAN: &str = r#"award(floor_div(event.amount, 100), "1 point per yuan");"#;

/// The points the expiry job took, now.
async fn expire_now(app: &TestApp, tenant_id: i64) -> i64 {
    expire_points(app, tenant_id).await["points"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_purchase_earns_by_the_rule_in_force_and_retries_never_count_twice() {
    let app = spawn_app().await;
    let t = app.signup_on("accrual", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Ann")).await.id;

    // Without a rule a purchase is recorded and earns nothing.
    let first = app.purchase(&owner, &m, "r-0", 5_000).await;
    assert_eq!(first.points, 0);
    assert!(first.rule_version.is_none());

    let v1 = app.publish_script(&owner, "purchase", PER_YUAN).await;
    let input = NewPurchase::for_member("r-1", &m, 12_345)
        .items(json!([{ "sku": "LATTE", "category": "drinks", "quantity": 2, "unit_price": 3000 }]))
        .store("north");
    let r = app.record_purchase(&owner, &input).await.created();
    assert_eq!(r.points, 123);
    assert_eq!(r.reasons[0].reason, "1 point per yuan");
    assert_eq!(r.rule_version, Some(v1));
    assert_eq!(r.balance, 123);

    // A retry returns the first answer and writes nothing.
    let again = app.record_purchase(&owner, &input).await;
    assert_eq!(again.status, StatusCode::OK);
    let again = again.body();
    assert!(again.replayed);
    assert_eq!(again.purchase_id, r.purchase_id);
    assert_eq!(again.balance, 123);
    // The same id with another body is a conflict.
    let mut other = input.clone();
    other.amount = 99_900;
    let c = app.record_purchase(&owner, &other).await;
    assert_eq!(c.status, StatusCode::CONFLICT);
    assert_eq!(c.code(), "external_id_reused");

    // Concurrent duplicates: exactly one is recorded.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (api, owner, m) = (app.api.clone(), owner.clone(), m.clone());
            tokio::spawn(async move {
                api.record_purchase(&owner, &NewPurchase::for_member("r-dup", &m, 1_000))
                    .await
                    .status
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
    let b = app.member_points(&owner, &m).await.ok();
    assert_eq!(b.balance, 133);
    assert_eq!(b.visits, 3);
    assert_eq!(b.spend_total, 5_000 + 12_345 + 1_000);

    // By card number and by phone, too; a member who does not exist is a 422 on the field.
    let card = app.get_member(&owner, &m).await.body().card_number.unwrap();
    let r = app
        .record_purchase(&owner, &NewPurchase::by_card("r-card", &card, 200))
        .await
        .created();
    assert_eq!(r.points, 2);
    let r = app
        .record_purchase(
            &owner,
            &NewPurchase::for_member("r-x", &uuid::Uuid::new_v4().to_string(), 200),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "member_id");
    let r = app
        .record_purchase(
            &owner,
            &json!({ "external_id": " ", "member_id": m, "amount": -5,
                     "items": [{ "unit_price": 1, "quantity": 0 }] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["external_id", "amount", "items[0].quantity"]);

    // History with totals.
    let h = app.member_purchases(&owner, &m).await;
    assert_eq!(h.status, StatusCode::OK);
    let h = h.body();
    assert_eq!(h.total_count, 4);
    assert_eq!(h.total_points, 135);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_failing_rule_records_the_purchase_with_zero_points_and_the_error() {
    let app = spawn_app().await;
    let t = app.signup_on("runaway", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Bo")).await.id;
    let kind = |p: &Purchase| p.rule_error.as_ref().map(|e| e.kind.clone());
    app.publish_script(&owner, "purchase", "let x = 0; loop { x += 1; }")
        .await;
    let r = app.purchase(&owner, &m, "loop-1", 1_000).await;
    assert_eq!(r.points, 0);
    assert_eq!(kind(&r).as_deref(), Some("limit"), "{r:?}");
    let huge = r#"let s = "x"; loop { s += s; }"#;
    app.publish_script(&owner, "purchase", huge).await;
    let r = app.purchase(&owner, &m, "loop-2", 1_000).await;
    assert_eq!(r.points, 0);
    assert_eq!(kind(&r).as_deref(), Some("limit"), "{r:?}");
    app.publish_script(&owner, "purchase", "fn f(n) { f(n + 1) } f(0)")
        .await;
    let r = app.purchase(&owner, &m, "loop-3", 1_000).await;
    assert_eq!(r.points, 0);
    assert!(
        ["limit", "runtime"].contains(&kind(&r).unwrap().as_str()),
        "{r:?}"
    );
    // The purchase is on record, with its error for staff to see.
    let h = app.member_purchases(&owner, &m).await.body();
    assert_eq!(h.total_count, 3);
    assert_eq!(
        h.items[0].rule_error.as_ref().map(|e| e.kind.clone()),
        kind(&r)
    );

    // A rule that does not compile is refused at publish, with its line and column.
    let r = app
        .publish_rule(
            &owner,
            "purchase",
            &json!({ "script": "let a = 1;\nlet b = ;" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let problem = r.problem();
    assert_eq!(problem.fields[0].field, "script");
    assert!(problem.fields[0].problem.contains("line 2"), "{r:?}");
    let v = app.validate_rule(&owner, "let a = 1;\nlet b = ;").await;
    assert_eq!(v.status, StatusCode::OK);
    let v = v.body();
    assert!(!v.ok);
    assert_eq!(v.error.unwrap().line, Some(2));
}

#[tokio::test]
async fn drafts_simulate_without_writing_publish_and_roll_back() {
    let app = spawn_app().await;
    let t = app.signup_on("lifecycle", "pro").await;
    let owner = t.owner();
    let a = app.member(&owner, NewMember::named("A")).await.id;
    let b = app.member(&owner, NewMember::named("B")).await.id;
    let v1 = app.publish_script(&owner, "purchase", PER_YUAN).await;
    for i in 0..5 {
        app.purchase(&owner, &a, &format!("a-{i}"), 10_000).await;
    }
    app.purchase(&owner, &b, "b-0", 1_000).await;

    // A draft doubling points, simulated over the recent purchases and a given event.
    let double = r#"award(floor_div(event.amount, 100) * 2, "double points");"#;
    let r = app
        .save_rule_draft(&owner, "purchase", &json!({ "script": double }))
        .await
        .ok();
    assert!(r.compile_error.is_none());
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
        .simulate_rules(
            &owner,
            &json!({ "last_purchases": 100, "events": [{ "event": { "amount": 5_000 } }] }),
        )
        .await
        .ok();
    assert_eq!(s.active_version, Some(v1));
    assert_eq!(s.totals.cases, 7);
    assert_eq!(s.totals.active_points, 50 + 5 * 100 + 10);
    assert_eq!(s.totals.draft_points, 2 * (50 + 5 * 100 + 10));
    assert_eq!(s.cases[0].draft_points, 100);
    assert_eq!(s.most_affected[0].member_id, a);
    assert_eq!(s.most_affected[0].difference, 500);
    assert_eq!(counts(&app).await, before, "simulation wrote nothing");
    assert_eq!(app.member_points(&owner, &a).await.ok().balance, 500);

    // Publish the draft: new purchases earn double; roll back: single again.
    let v2 = app
        .publish_rule(&owner, "purchase", &json!({ "note": "double" }))
        .await
        .ok()
        .version;
    assert!(v2 > v1);
    assert_eq!(app.purchase(&owner, &b, "b-1", 1_000).await.points, 20);
    app.rollback_rule(&owner, "purchase", v1).await.ok();
    let p = app.purchase(&owner, &b, "b-2", 1_000).await;
    assert_eq!(p.points, 10);
    assert_eq!(p.rule_version, Some(v1));
    let list = app.rule_versions(&owner, "purchase").await.body();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|v| v.active).count(), 1);
    assert_eq!(list[1].version, v1);
    assert!(list[1].active);
    // Rolling back to another trigger's version, or one that does not exist, is refused.
    let r = app.rollback_rule(&owner, "check_in", v1).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn templates_publish_without_the_scripts_feature_and_a_rule_never_crosses_tenants() {
    let app = spawn_app().await;
    // Starter has no `rule_scripts`: templates only.
    let a = app.signup("tpl-a").await;
    let b = app.signup_on("tpl-b", "pro").await;
    let catalog = app.rule_templates(&a.owner()).await;
    assert_eq!(catalog.status, StatusCode::OK);
    assert!(catalog.body().templates.len() >= 5);
    let form = json!({ "kind": "purchase", "base": { "points": 1, "per_amount": 100, "rounding": "floor" },
                       "first_purchase_bonus": { "points": 50 } });
    let script = app
        .render_rule_template(&a.owner(), &form)
        .await
        .ok()
        .script;
    let r = app
        .publish_rule(&a.owner(), "purchase", &json!({ "template": form }))
        .await
        .ok();
    assert_eq!(r.script, script);
    // An edited script needs the feature.
    let r = app
        .publish_rule(
            &a.owner(),
            "purchase",
            &json!({ "script": format!("{script}\naward(1, \"extra\");") }),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    assert_eq!(r.plan_problem().feature.as_deref(), Some("rule_scripts"));
    // A bad form names its field.
    let r = app
        .render_rule_template(
            &a.owner(),
            &json!({ "kind": "purchase", "base": { "points": 1, "per_amount": 0, "rounding": "floor" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].field, "template.base.per_amount");

    let ma = app.member(&a.owner(), NewMember::named("A1")).await.id;
    let p = app.purchase(&a.owner(), &ma, "x-1", 12_345).await;
    assert_eq!(p.points, 123 + 50);
    // Tenant B has no rule: the same purchase earns nothing there.
    let mb = app.member(&b.owner(), NewMember::named("B1")).await.id;
    let p = app.purchase(&b.owner(), &mb, "x-1", 12_345).await;
    assert_eq!(p.points, 0);
    assert!(p.rule_version.is_none());
    // B publishes its own rule with the same version number; A keeps its own.
    let vb = app
        .publish_script(&b.owner(), "purchase", r#"award(7, "flat");"#)
        .await;
    assert_eq!(app.purchase(&b.owner(), &mb, "x-2", 12_345).await.points, 7);
    assert_eq!(vb, 1);
    assert_eq!(
        app.purchase(&a.owner(), &ma, "x-2", 12_345).await.points,
        123
    );
    // A's member is not B's.
    let r = app
        .record_purchase(&b.owner(), &NewPurchase::for_member("x-3", &ma, 100))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn reasons_the_system_writes_on_the_ledger_are_codes_that_outlive_a_change_of_language() {
    let app = spawn_app().await;
    let t = app.signup("ledger-reasons").await;
    let owner = t.owner();
    app.update_settings(&owner, &json!({ "locale": "zh-CN" }))
        .await
        .ok();
    let form = json!({ "kind": "purchase", "base": { "points": 1, "per_amount": 100, "rounding": "floor" },
                       "first_purchase_bonus": { "points": 200 } });
    app.publish_rule(&owner, "purchase", &json!({ "template": form }))
        .await
        .ok();
    app.update_points_settings(
        &owner,
        &json!({ "redeem_points": 100, "redeem_value": 100, "max_deduction_percent": 50, "min_redeem_points": 10 }),
    )
    .await
    .ok();
    let m = app.member(&owner, NewMember::named("王小明")).await.id;
    assert_eq!(app.purchase(&owner, &m, "r-1", 80_000).await.points, 1_000);
    app.redeem_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "r-2", "purchase_amount": 1_798, "points": 899 }),
    )
    .await
    .created();
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "r-3", "points": 5, "reason": "店长赠送" }),
    )
    .await
    .created();
    // The business now speaks English: the stored codes and values say the same in it.
    app.update_settings(&owner, &json!({ "locale": "en" }))
        .await
        .ok();
    let page = app.points_entries(&owner, &m, None).await.ok();
    let [adjusted, redeemed, earned] = &page.items[..] else {
        panic!("three entries: {page:?}")
    };
    assert_eq!(earned.reason_code.as_deref(), Some("several"), "{earned:?}");
    let parts = &earned.reason_params.as_ref().unwrap()["parts"];
    assert_eq!(parts[0]["code"], "earn_rate");
    assert_eq!(parts[0]["params"], json!({ "points": 1, "per": 100 }));
    assert_eq!(parts[1]["code"], "welcome_bonus");
    assert_eq!(earned.reason, "1 point per 1.00 spent; welcome bonus");
    assert_eq!(redeemed.reason_code.as_deref(), Some("redeem_off"));
    assert_eq!(
        redeemed.reason_params.as_ref().unwrap()["value"],
        899,
        "{redeemed:?}"
    );
    // A person's words stay as they were written, with no code.
    assert_eq!(
        (adjusted.reason.as_str(), adjusted.reason_code.as_deref()),
        ("店长赠送", None)
    );
}

#[tokio::test]
async fn refunds_take_back_in_proportion_and_shortfalls_follow_the_policy() {
    let app = spawn_app().await;
    for policy in ["debt", "negative"] {
        let t = app.signup_on(&format!("refund-{policy}"), "pro").await;
        let owner = t.owner();
        app.update_points_settings(&owner, &json!({ "refund_shortfall": policy }))
            .await
            .ok();
        app.publish_script(&owner, "purchase", PER_YUAN).await;
        let m = app.member(&owner, NewMember::named("Cat")).await.id;
        let p = app.purchase(&owner, &m, "p-1", 10_000).await;
        assert_eq!(p.points, 100);
        // Spend 80 of the 100.
        let r = app
            .redeem_points(
                &owner,
                &m,
                &json!({ "idempotency_key": "k1", "points": 80, "reward": "mug" }),
            )
            .await
            .created();
        assert_eq!(r.balance, 20);
        // Refund half: 50 points back, only 20 left.
        let body = json!({ "external_id": "rf-1", "purchase_id": p.purchase_id, "amount": 5_000 });
        let r = app.record_refund(&owner, &body).await.created();
        assert_eq!(r.points, 50);
        assert_eq!(r.refundable, 5_000);
        let again = app.record_refund(&owner, &body).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body().refund_id, r.refund_id);
        match policy {
            "debt" => {
                assert_eq!(r.balance, 0);
                assert_eq!(r.debt, 30);
                assert_eq!(r.debt_added, 30);
            }
            _ => {
                assert_eq!(r.balance, -30);
                assert_eq!(r.debt, 0);
            }
        }
        assert_ledger_agrees(&app, &t.slug).await;
        // The next purchase settles it first: 40 earned, 30 owed → 10 spendable.
        let n = app.purchase(&owner, &m, "p-2", 4_000).await;
        assert_eq!(n.points, 40);
        assert_eq!(n.balance, 10);
        assert_eq!(n.debt, 0);
        let s = app.member_points(&owner, &m).await.ok();
        assert_eq!(s.balance, 10);
        // Refund the rest of the first purchase by its external id: exactly 100 in all.
        let r = app
            .record_refund(
                &owner,
                &json!({ "external_id": "rf-2", "purchase_external_id": "p-1" }),
            )
            .await
            .created();
        assert_eq!(r.points, 50);
        assert_eq!(r.refundable, 0);
        let r = app
            .record_refund(
                &owner,
                &json!({ "external_id": "rf-3", "purchase_external_id": "p-1", "amount": 1 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
        assert_ledger_agrees(&app, &t.slug).await;
    }
}

#[tokio::test]
async fn a_retry_racing_its_first_try_for_the_last_points_replays_it() {
    let app = spawn_app_with(12).await;
    let t = app.signup_on("lastpts", "pro").await;
    let owner = t.owner();
    for trial in 0..20 {
        let m = app
            .member(&owner, NewMember::named(format!("Last {trial}")))
            .await
            .id;
        app.adjust_points(
            &owner,
            &m,
            &json!({ "idempotency_key": "seed", "points": 100, "reason": "opening balance" }),
        )
        .await
        .created();
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (api, owner, m) = (app.api.clone(), owner.clone(), m.clone());
                tokio::spawn(async move {
                    api.redeem_points(
                        &owner,
                        &m,
                        &json!({ "idempotency_key": "till-1", "points": 100, "reward": "towel" }),
                    )
                    .await
                })
            })
            .collect();
        let mut statuses = Vec::new();
        let mut entries = std::collections::HashSet::new();
        for task in tasks {
            let r = task.await.unwrap();
            statuses.push(r.status);
            assert!(
                r.status == StatusCode::CREATED || r.status == StatusCode::OK,
                "trial {trial}: a retry of a redemption that succeeded was refused: {r:?}"
            );
            entries.insert(r.body().entry_id.expect("entry id"));
        }
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CREATED],
            "trial {trial}"
        );
        assert_eq!(
            entries.len(),
            1,
            "trial {trial}: both answers name one entry"
        );
        assert_eq!(app.member_points(&owner, &m).await.ok().balance, 0);
    }
    assert_ledger_agrees(&app, &t.slug).await;
}

/// The `points.redeemed` events in a tenant's outbox: entry id and the balance they tell.
async fn redeemed_events(_app: &TestApp, tenant_id: i64) -> std::collections::BTreeMap<i64, i64> {
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT (data->>'entry_id')::bigint, (data->>'balance')::bigint \
         FROM t_{tenant_id}.outbox WHERE event = 'points.redeemed'"
    ))
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter().collect()
}

#[tokio::test]
async fn a_hundred_concurrent_redemptions_never_overdraw() {
    let app = spawn_app_with(24).await;
    let t = app.signup_on("redeem", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Dee")).await.id;
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "seed", "points": 5_000, "reason": "opening balance" }),
    )
    .await
    .created();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (api, owner, m) = (app.api.clone(), owner.clone(), m.clone());
            tokio::spawn(async move {
                let key = format!("r-{i}");
                let body = json!({ "idempotency_key": key, "points": 100, "reward": "coffee" });
                (body.clone(), api.redeem_points(&owner, &m, &body).await)
            })
        })
        .collect();
    let (mut answered, mut refused) = (Vec::new(), 0);
    for task in tasks {
        let (body, r) = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => answered.push((body, r.body())),
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((answered.len(), refused), (50, 50));
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!(s.balance, 0);
    // Each answer tells the balance its own redemption left (decided from a read without the
    // lock, the redemption takes the balance found under it): 4,900 down to 0, once each; a
    // retry answers the same, and the event says the same.
    let mut balances: Vec<i64> = answered.iter().map(|(_, a)| a.balance).collect();
    balances.sort_unstable();
    assert_eq!(balances, (0..50).map(|i| i * 100).collect::<Vec<i64>>());
    let mut told = std::collections::BTreeMap::new();
    for (body, first) in &answered {
        let again = app.redeem_points(&owner, &m, body).await;
        assert_eq!(again.status, StatusCode::OK);
        let again = again.body();
        assert_eq!(
            (again.balance, again.entry_id),
            (first.balance, first.entry_id)
        );
        told.insert(first.entry_id.expect("entry id"), first.balance);
    }
    let events = redeemed_events(&app, t.id).await;
    assert_eq!(events, told, "the events' balances are the answers'");
    // The refusal carries what its text needs: the balance and what was asked.
    let r = app
        .redeem_points(
            &owner,
            &m,
            &json!({ "idempotency_key": "r-over", "points": 100, "reward": "coffee" }),
        )
        .await;
    assert_eq!(r.code(), "insufficient_points");
    let p = r.problem();
    assert_eq!(p.params, Some(json!({ "balance": 0, "asked": 100 })));
    assert_eq!(p.fields[0].params, json!({ "balance": 0, "asked": 100 }));
    assert_eq!(s.redeemed_total, 5_000);
    assert_ledger_agrees(&app, &t.slug).await;

    // The same redemption sent 20 times at once: spent once, every answer names its entry.
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "refill", "points": 300, "reason": "refill" }),
    )
    .await
    .created();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (api, owner, m) = (app.api.clone(), owner.clone(), m.clone());
            tokio::spawn(async move {
                api.redeem_points(
                    &owner,
                    &m,
                    &json!({ "idempotency_key": "twice", "points": 100, "reward": "tea" }),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    let mut entries = std::collections::HashSet::new();
    for task in tasks {
        let r = task.await.unwrap();
        assert!(
            r.status == StatusCode::CREATED || r.status == StatusCode::OK,
            "{r:?}"
        );
        created += usize::from(r.status == StatusCode::CREATED);
        let body = r.body();
        assert_eq!(body.balance, 200, "{body:?}");
        entries.insert(body.entry_id.expect("entry id"));
    }
    assert_eq!(created, 1);
    assert_eq!(entries.len(), 1, "every answer names the one entry");
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 200);
    assert_ledger_agrees(&app, &t.slug).await;
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!(s.redeemed_total, 5_100);

    // Money off at checkout: the cap and the ratio.
    app.update_points_settings(
        &owner,
        &json!({ "redeem_points": 100, "redeem_value": 100, "max_deduction_percent": 50, "min_redeem_points": 10 }),
    )
    .await
    .ok();
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "top-up", "points": 1_000, "reason": "goodwill" }),
    )
    .await;
    let r = app
        .redeem_points(
            &owner,
            &m,
            &json!({ "idempotency_key": "d-1", "purchase_amount": 1_500 }),
        )
        .await
        .created();
    assert_eq!(r.points, -750);
    assert_eq!(r.value, Some(750));
    assert_eq!(r.amount_due, Some(750));
    let r = app
        .redeem_points(
            &owner,
            &m,
            &json!({ "idempotency_key": "d-2", "purchase_amount": 1_500, "points": 5 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "points");
}

#[tokio::test]
async fn a_redemption_decided_without_the_lock_is_taken_only_while_its_decision_holds() {
    use patron_core::idempotency::{Key, RequestHash, Scope};
    use patron_db::points::{self, RedeemRecord, Source};
    let app = spawn_app().await;
    let t = app.signup_on("redeem-locked", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Lu")).await.id;
    let adjust = |key: &str, points: i64| json!({ "idempotency_key": key, "points": points, "reason": "by hand" });
    app.adjust_points(&owner, &m, &adjust("seed", 500))
        .await
        .created();
    let member: uuid::Uuid = m.parse().unwrap();

    // The tenant function runs the server's own statement, word for word.
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let body: String = sqlx::query_scalar(
        "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = $1 AND p.proname = 'redeem_locked'",
    )
    .bind(format!("t_{}", t.id))
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let statement = points::recorded_redemption_sql(true);
    assert!(
        words(&body).contains(&words(&statement)),
        "redeem_locked (tenant migration 0044) no longer runs the server's statement:\n{statement}"
    );

    // A redemption decided from 500 points read without the lock; 200 more arrive before it
    // is taken.
    let tenant = patron_tests::internals::tenant_row(&app, t.id).await;
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    let seen = points::account(&mut tx, member).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(seen.balance, 500);
    app.adjust_points(&owner, &m, &adjust("more", 200))
        .await
        .created();
    let (now, key, hash) = (
        Utc::now(),
        Key::scoped(member, "locked-1"),
        RequestHash::of(&"locked-1"),
    );
    let src = Source {
        kind: patron_core::points::EntrySource::Redemption,
        id: "locked-1".into(),
        rule_version: None,
        reason: patron_core::reasons::Said::words("tea"),
        detail: None,
        actor: "staff:test",
        at: now,
    };
    let said = json!({ "balance": 0, "entry_id": null });
    let rec = RedeemRecord {
        audit_action: "points.redeemed",
        audit_detail: json!({}),
        scope: Scope::Redemption.as_str(),
        key: key.as_str(),
        answer: said.clone(),
        event: Some(patron_db::messages::EntryEvent {
            event: "points.redeemed",
            member_id: member,
            occasion: None,
            data: said,
            at: now,
        }),
    };
    let once = |points, balance_decides| points::AtOnce {
        seen: &seen,
        points,
        balance_decides,
        hash: &hash,
    };
    let stored = |mut conn: sqlx::PgConnection| {
        let sql = format!(
            "SELECT response FROM t_{}.idempotency_keys WHERE scope = $1 AND key = $2",
            t.id
        );
        let key = key.as_str().to_owned();
        async move {
            let r: Option<Option<serde_json::Value>> = sqlx::query_scalar(&sql)
                .bind(Scope::Redemption.as_str())
                .bind(key)
                .fetch_optional(&mut conn)
                .await
                .unwrap();
            (r, conn)
        }
    };
    let entries = || async {
        let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
        let n = points::ledger_size(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        n
    };
    let before = entries().await;
    // A decision the balance made (as many as it allows) does not hold for another balance;
    // nor does one for more points than the account holds. Nothing is left behind, not even
    // the key's claim.
    for (points, balance_decides) in [(300, true), (701, false)] {
        let r = points::redeem_at_once(&app.db, &tenant, once(points, balance_decides), &src, &rec)
            .await
            .unwrap();
        assert_eq!(
            r, None,
            "{points} points, balance decides: {balance_decides}"
        );
        assert_eq!(entries().await, before);
        let (claim, back) = stored(conn).await;
        conn = back;
        assert_eq!(claim, None, "the key is free again");
    }
    // 300 points named by the request hold for any balance that has them: taken from the 700
    // found under the lock, and the stored answer and the event say 400.
    let done = points::redeem_at_once(&app.db, &tenant, once(300, false), &src, &rec)
        .await
        .unwrap()
        .expect("redeemed");
    assert_eq!(done.balance, 400);
    // The key answered: the same call does nothing (the server replays the stored answer).
    let again = points::redeem_at_once(&app.db, &tenant, once(300, false), &src, &rec)
        .await
        .unwrap();
    assert_eq!(again, None);
    assert_eq!(entries().await, (before.0, before.1 + 1));
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!((s.balance, s.redeemed_total), (400, 300));
    let (answer, _) = stored(conn).await;
    assert_eq!(
        answer,
        Some(Some(json!({ "balance": 400, "entry_id": done.entry_id })))
    );
    assert_eq!(
        redeemed_events(&app, t.id).await,
        std::collections::BTreeMap::from([(done.entry_id, 400)])
    );
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn points_expire_at_local_midnight_across_time_zones_and_leap_days() {
    let app = spawn_app().await;
    let t = app.signup_on("expiry", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.update_settings(&owner, &json!({ "time_zone": "Asia/Shanghai" }))
        .await
        .ok();
    app.update_points_settings(&owner, &json!({ "expiry": { "mode": "days", "days": 1 } }))
        .await
        .ok();
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    let m = app.member(&owner, NewMember::named("Eve")).await.id;
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
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!(s.expiring[0].points, 100);
    assert_eq!(
        s.expiring[0].expires_at,
        local(2028, 3, 2, 0, 0),
        "the end of 1 March in Shanghai"
    );
    // One minute before local midnight nothing expires; after it, all of it.
    app.clock.set(local(2028, 3, 1, 23, 59));
    assert_eq!(expire_now(&app, t.id).await, 0);
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 100);
    app.clock.set(local(2028, 3, 2, 0, 0));
    // Past the instant, before the job comes by: not counted, not spendable.
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!((s.balance, s.expired_total), (0, 100), "{s:?}");
    assert!(s.expiring.is_empty(), "{s:?}");
    let r = app
        .redeem_points(
            &owner,
            &m,
            &json!({ "idempotency_key": "late", "points": 10, "reward": "tea" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.json["code"], "insufficient_points");
    assert_eq!(expire_now(&app, t.id).await, 100);
    // Running it again (or on another replica) changes nothing.
    assert_eq!(expire_now(&app, t.id).await, 0);
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!(s.balance, 0);
    assert_eq!(s.expired_total, 100);
    let entries = app.points_entries(&owner, &m, None).await.body();
    assert_eq!(entries.items[0].kind, "expire");
    assert_eq!(entries.items[0].points, -100);

    // A purchase recorded a day after it occurred: its points expire counting from the
    // day it occurred (end of 4 March + 1 day), not from the day it was recorded.
    app.clock.set(local(2028, 3, 5, 12, 0));
    let occurred = local(2028, 3, 4, 10, 0);
    app.record_purchase(
        &owner,
        &json!({ "external_id": "late-1", "member_id": m, "amount": 5_000, "occurred_at": occurred }),
    )
    .await
    .created();
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!(s.expiring[0].points, 50);
    assert_eq!(s.expiring[0].expires_at, local(2028, 3, 6, 0, 0));
    assert_ledger_agrees(&app, &t.slug).await;
    app.clock.set(Utc::now());
}

#[tokio::test]
async fn check_ins_streaks_custom_events_and_referrals() {
    let app = spawn_app().await;
    let t = app.signup_on("earn", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.update_points_settings(
        &owner,
        &json!({ "check_in_points": 5, "streak_days": 3, "streak_bonus": 20 }),
    )
    .await
    .ok();
    let m = app.member(&owner, NewMember::named("Fay")).await.id;
    let mut total = 0;
    for day in 0..3 {
        let r = app.check_in(&owner, &m).await.ok();
        assert_eq!(r.streak, day + 1);
        total += r.points;
        let again = app.check_in(&owner, &m).await.body();
        assert!(again.already);
        assert_eq!(again.points, 0);
        app.clock.advance(Duration::days(1));
    }
    assert_eq!(total, 5 * 3 + 20);

    // A custom event earns by its own rule, once per external id.
    app.publish_script(
        &owner,
        "event.class_attended",
        r#"award(15 + event.properties.minutes / 10, "class");"#,
    )
    .await;
    let body = json!({ "external_id": "ev-1", "name": "class_attended", "member_id": m, "properties": { "minutes": 60 } });
    let r = app.record_event(&owner, &body).await.created();
    assert_eq!(r.points, 21);
    let again = app.record_event(&owner, &body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body().event_id, r.event_id);
    let r = app
        .record_event(
            &owner,
            &json!({ "external_id": "ev-2", "name": "Bad Name!", "member_id": m }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "name");

    // A referral pays the referrer once, on the referred member's first purchase.
    app.publish_script(
        &owner,
        "referral",
        r#"award(300, "thanks for the referral");"#,
    )
    .await;
    let g = app
        .create_member(&owner, &NewMember::named("Gus").referrer(&m))
        .await
        .body()
        .id;
    let before = app.member_points(&owner, &m).await.ok().balance;
    let p = app.purchase(&owner, &g, "g-1", 1_000).await;
    let referral = p.referral.unwrap();
    assert_eq!(referral.points, 300);
    assert_eq!(referral.referrer_id, m);
    let p = app.purchase(&owner, &g, "g-2", 1_000).await;
    assert!(p.referral.is_none());
    assert_eq!(
        app.member_points(&owner, &m).await.ok().balance,
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
        app.update_points_settings(
            &owner,
            &json!({ "refund_shortfall": policy, "expiry": { "mode": "days", "days": 3 } }),
        )
        .await
        .ok();
        app.publish_script(&owner, "purchase", PER_YUAN).await;
        let members = [
            app.member(&owner, NewMember::named("P1")).await.id,
            app.member(&owner, NewMember::named("P2")).await.id,
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
                    assert_eq!(r.points, amount / 100);
                    let md = &mut model[who];
                    md.balance += amount / 100;
                    let settle = md.debt.min(md.balance.max(0));
                    md.debt -= settle;
                    md.balance -= settle;
                    assert_eq!(r.balance, md.balance, "seed {seed} step {step}");
                    assert_eq!(r.debt, md.debt, "seed {seed} step {step}");
                    purchases.push((id, who, amount));
                }
                4..=5 => {
                    let have = model[who].balance.max(0);
                    let want = rng.gen_range(1..=have.max(1) + 20);
                    let r = app
                        .redeem_points(
                            &owner,
                            m,
                            &json!({ "idempotency_key": format!("k{step}"), "points": want, "reward": "r" }),
                        )
                        .await;
                    if want <= have {
                        assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
                        model[who].balance -= want;
                    } else {
                        assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
                    }
                }
                6..=7 if !purchases.is_empty() => {
                    let (id, owner_of, amount) =
                        purchases[rng.gen_range(0..purchases.len())].clone();
                    let r = app
                        .record_refund(
                            &owner,
                            &json!({ "external_id": format!("rf{step}"), "purchase_external_id": id,
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
                        "{r:?}"
                    );
                    if r.status == StatusCode::CREATED {
                        let refund = r.body();
                        let back = refund.points;
                        let md = &mut model[owner_of];
                        let have = md.balance.max(0);
                        if back <= have || policy == "negative" {
                            md.balance -= back;
                        } else {
                            md.debt += back - have;
                            md.balance -= have;
                        }
                        assert_eq!(refund.balance, md.balance, "seed {seed} step {step}");
                        assert_eq!(refund.debt, md.debt, "seed {seed} step {step}");
                    }
                }
                8 => {
                    app.clock.advance(Duration::hours(rng.gen_range(1..48)));
                    let expired = expire_now(&app, t.id).await;
                    // Expiry takes only what lots hold: resynchronise and check the total.
                    let mut gone = 0;
                    for (i, m) in members.iter().enumerate() {
                        let now = app.member_points(&owner, m).await.ok().balance;
                        assert!(now <= model[i].balance || model[i].balance < 0);
                        gone += model[i].balance - now;
                        model[i].balance = now;
                    }
                    assert_eq!(gone, expired, "seed {seed} step {step}");
                }
                _ => {
                    let s = app.member_points(&owner, m).await.ok();
                    assert_eq!(s.debt, model[who].debt, "seed {seed} step {step}");
                }
            }
        }
        // Whatever happened, the ledger agrees with itself.
        assert_ledger_agrees(&app, &t.slug).await;
        for (i, m) in members.iter().enumerate() {
            let s = app.member_points(&owner, m).await.ok();
            let entries = app.points_entries(&owner, m, Some(200)).await.body();
            let sum: i64 = entries.items.iter().map(|e| e.points).sum();
            assert_eq!(s.balance, sum, "member {i}");
            assert_eq!(s.balance, model[i].balance, "member {i}");
        }
    }
    app.clock.set(Utc::now());
}

#[tokio::test]
async fn members_follow_their_points_and_check_in_from_the_portal() {
    let app = spawn_app().await;
    let t = app.signup_on("portal-pts", "pro").await;
    let owner = t.owner();
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    app.update_points_settings(&owner, &json!({ "check_in_points": 3 }))
        .await
        .ok();
    let slug = &t.slug;
    let r = app.send_portal_code(slug, "13922223333", "register").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    let code = app.last_code(&t, "13922223333").await;
    let me = app
        .register_member(slug, &json!({ "profile": { "name": "Hana", "phone": "13922223333" }, "code": code, "password": PASSWORD }))
        .await
        .created()
        .auth();
    // The till finds the member by phone.
    app.record_purchase(
        &owner,
        &NewPurchase::by_phone("h-1", "139 2222 3333", 8_800),
    )
    .await
    .created();
    let c = app.portal_check_in(slug, &me).await.ok();
    assert_eq!(c.points, 3);
    let s = app.portal_points(slug, &me).await.ok();
    assert_eq!(s.balance, 91);
    let h = app.portal_points_entries(slug, &me).await.body();
    let kinds: Vec<&str> = h.items.iter().map(|e| e.source.as_str()).collect();
    assert_eq!(kinds, ["check_in", "purchase"]);
    // A staff token is not a member token.
    let r = app.portal_points(slug, &owner).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn birthdays_earn_once_a_year_on_the_local_day_and_leap_day_birthdays_count_on_the_28th() {
    let app = spawn_app().await;
    let t = app.signup_on("bday", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.publish_script(&owner, "birthday", r#"award(100, "happy birthday");"#)
        .await;
    let leap = app
        .member(&owner, NewMember::named("Leap").birthday("2000-02-29"))
        .await
        .id;
    let other = app
        .member(&owner, NewMember::named("Other").birthday("1990-03-01"))
        .await
        .id;
    let rules = sandboxed_engine();
    // 28 February 2027, 00:30 in Shanghai (still the 27th in UTC): not a leap year.
    let at = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2027, 2, 28, 0, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    let run = |at| run_birthdays(&app, t.id, &rules, at);
    let balance = |m: String| {
        let (app, owner) = (&app, &owner);
        async move { app.member_points(owner, &m).await.ok().balance }
    };
    let r = run(at).await;
    assert_eq!(r["members"], 1, "{r}");
    assert_eq!(balance(leap.clone()).await, 100);
    assert_eq!(balance(other.clone()).await, 0);
    // Again the same day, or on another replica: nothing more.
    assert_eq!(run(at).await["members"], 0);
    let r = run(at + Duration::days(1)).await;
    assert_eq!(r["members"], 1, "{r}");
    assert_eq!(balance(other).await, 100);
    assert_eq!(balance(leap).await, 100);
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
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    let m = app.member(&owner, NewMember::named("Ann")).await.id;
    let card = app.get_member(&owner, &m).await.body().card_number.unwrap();
    let r = app
        .record_purchase(&owner, &NewPurchase::by_card("o-1", &card, 500))
        .await
        .created();
    assert_eq!(r.member_id, m);
    assert_eq!(r.balance, 5);
    assert_ledger_agrees(&app, &t.slug).await;

    app.report_card_lost(&owner, &card).await.ok();
    let r = app
        .record_purchase(&owner, &NewPurchase::by_card("o-2", &card, 500))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let problem = r.problem();
    assert_eq!(problem.fields[0].field, "card_number");
    assert!(problem.fields[0].problem.contains("lost"), "{r:?}");

    // A purchase stored for a member who has no account (it earned nothing, so no entry
    // or lot would show it).
    let other = app.member(&owner, NewMember::named("Bo")).await.id;
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
    let report = verify_ledgers(&app).await;
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
