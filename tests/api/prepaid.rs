//! Prepaid through the API: stored value topped up with the business's bonus, spent from
//! purchases by its spend order and never below zero under contention, purchase refunds
//! back to the sub-ledgers, top-up refunds, idempotent top-ups, and tenant isolation.

use patron_tests::internals::assert_ledger_agrees;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

fn top_up_body(key: &str, amount: i64) -> serde_json::Value {
    json!({ "idempotency_key": key, "amount": amount, "method": "wechat", "receipt": "R-1" })
}

fn paid_from_balance(external_id: &str, member: &str, amount: i64) -> serde_json::Value {
    json!({ "external_id": external_id, "member_id": member, "amount": amount,
            "payments": [{ "method": "stored_value", "amount": amount }] })
}

async fn set_order(app: &TestApp, owner: &Auth, order: &str) {
    app.set_prepaid_settings(
        owner,
        &json!({ "spend_order": order,
                 "bonus_rule": { "kind": "tiers", "tiers": [
                     { "min": 10_000, "bonus": 2_000 }, { "min": 20_000, "bonus": 5_000 }] },
                 "balance_cap": null, "freeze_days_per_year": 30 }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_top_up_earns_the_bonus_and_retries_never_count_twice() {
    let app = spawn_app().await;
    let t = app.signup_on("sv-top", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Mei")).await.id;
    set_order(&app, &owner, "pro_rata").await;

    // The bonus is shown before confirming, and the top-up gives what it showed.
    let p = app
        .preview_top_up(&owner, &m, &json!({ "amount": 20_000 }))
        .await
        .ok();
    assert_eq!((p.principal, p.bonus), (20_000, 5_000));
    assert_eq!(p.balance_after.total, 25_000);
    let first = app
        .top_up(&owner, &m, &top_up_body("k-1", 20_000))
        .await
        .created();
    assert_eq!((first.principal, first.bonus), (20_000, 5_000));
    assert!(first.warnings.is_empty());

    // A retry answers the first top-up; another body under the key is a 409.
    let again = app.top_up(&owner, &m, &top_up_body("k-1", 20_000)).await;
    assert_eq!(again.status, StatusCode::OK);
    let again = again.body();
    assert!(again.replayed);
    assert_eq!(again.top_up_id, first.top_up_id);
    let other = app.top_up(&owner, &m, &top_up_body("k-1", 30_000)).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "idempotency_key_reused");

    // The same top-up sent 10 times at once: credited once, every answer names it.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (api, owner, m) = (app.api.clone(), owner.clone(), m.clone());
            tokio::spawn(
                async move { api.top_up(&owner, &m, &top_up_body("k-race", 10_000)).await },
            )
        })
        .collect();
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let r = task.await.unwrap();
        assert!(
            r.status == StatusCode::CREATED || r.status == StatusCode::OK,
            "{r:?}"
        );
        created += usize::from(r.status == StatusCode::CREATED);
        ids.insert(r.body().top_up_id);
    }
    assert_eq!((created, ids.len()), (1, 1));
    let sv = app.stored_value(&owner, &m).await.ok();
    assert_eq!(
        sv.balance,
        SvBalance {
            principal: 30_000,
            bonus: 7_000,
            total: 37_000
        }
    );
    assert_eq!(sv.top_ups.len(), 2);
    assert_eq!(
        sv.entries.len(),
        4,
        "a principal and a bonus entry per top-up"
    );

    // Past ¥5,000 on the card: a warning; past the business's cap: refused.
    let big = app
        .top_up(&owner, &m, &top_up_body("k-big", 500_000))
        .await
        .created();
    assert_eq!(big.warnings, ["named_card_limit"]);
    app.set_prepaid_settings(
        &owner,
        &json!({ "spend_order": "pro_rata", "bonus_rule": { "kind": "percent", "percent": 10 },
                 "balance_cap": 590_000, "freeze_days_per_year": 30 }),
    )
    .await
    .ok();
    let over = app.top_up(&owner, &m, &top_up_body("k-over", 50_000)).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(over.code(), "stored_value_cap_exceeded");
    assert_eq!(over.problem().fields[0].field, "amount");

    // Bad input: every field named.
    let bad = app
        .top_up(
            &owner,
            &m,
            &json!({ "idempotency_key": " ", "amount": 0, "method": "gold" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<String> = bad.problem().fields.into_iter().map(|f| f.field).collect();
    fields.sort();
    assert_eq!(fields, ["amount", "idempotency_key", "method"]);
    let bad = app
        .set_prepaid_settings(
            &owner,
            &json!({ "spend_order": "random", "bonus_rule": { "kind": "percent", "percent": 120 },
                     "balance_cap": null, "freeze_days_per_year": 30 }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn twenty_parallel_spends_on_a_balance_for_five_leave_it_at_zero() {
    let app = spawn_app_with(24).await;
    let t = app.signup_on("sv-race", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Lin")).await.id;
    set_order(&app, &owner, "pro_rata").await;
    // 100 + 20 bonus = 120 covers five spends of 24.
    app.top_up(&owner, &m, &top_up_body("seed", 10_000))
        .await
        .created();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (api, owner, m) = (app.api.clone(), owner.clone(), m.clone());
            tokio::spawn(async move {
                api.record_purchase(&owner, &paid_from_balance(&format!("p-{i}"), &m, 2_400))
                    .await
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(r.code(), "insufficient_stored_value");
                refused += 1
            }
            other => panic!("unexpected {other}: {r:?}"),
        }
    }
    assert_eq!((ok, refused), (5, 15));
    let sv = app.stored_value(&owner, &m).await.ok();
    assert_eq!(sv.balance.total, 0);
    assert!(sv.entries.iter().all(|e| e.balance >= 0));
    // A refused purchase was not recorded either.
    let history = app.member_purchases(&owner, &m).await.ok();
    assert_eq!(history.total_count, 5);
    assert_ledger_agrees(&app, &t.slug).await;

    // Payments that do not add up, or an unknown method: 422 on the field.
    let bad = app
        .record_purchase(
            &owner,
            &json!({ "external_id": "bad", "member_id": m, "amount": 500,
                     "payments": [{ "method": "stored_value", "amount": 100 },
                                  { "method": "coins", "amount": 400 }] }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = bad.problem().fields.into_iter().map(|f| f.field).collect();
    assert_eq!(fields, ["payments[1].method"]);
    let bad = app
        .record_purchase(
            &owner,
            &json!({ "external_id": "bad", "member_id": m, "amount": 500,
                     "payments": [{ "method": "cash", "amount": 100 }] }),
        )
        .await;
    assert_eq!(bad.problem().fields[0].field, "payments");
}

#[tokio::test]
async fn a_purchase_refund_puts_back_principal_and_bonus_as_taken() {
    let app = spawn_app().await;
    let t = app.signup_on("sv-refund", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Zhou")).await.id;
    set_order(&app, &owner, "pro_rata").await;
    app.top_up(&owner, &m, &top_up_body("seed", 10_000))
        .await
        .created();
    // 100 principal + 20 bonus; a purchase of 70, 60 of it from the balance, 10 in cash.
    let p = app
        .record_purchase(
            &owner,
            &json!({ "external_id": "mixed", "member_id": m, "amount": 7_000,
                     "payments": [{ "method": "stored_value", "amount": 6_000 },
                                  { "method": "cash", "amount": 1_000 }] }),
        )
        .await
        .created();
    let sv_paid = p
        .payments
        .iter()
        .find(|x| x["method"] == "stored_value")
        .unwrap();
    assert_eq!(
        (sv_paid["principal"].as_i64(), sv_paid["bonus"].as_i64()),
        (Some(5_000), Some(1_000))
    );
    assert_eq!(
        app.stored_value(&owner, &m).await.ok().balance,
        SvBalance {
            principal: 5_000,
            bonus: 1_000,
            total: 6_000
        }
    );
    // Refunded in two parts (1/3 then the rest): the parts add up to exactly what was taken.
    let r1 = app
        .record_refund(
            &owner,
            &json!({ "external_id": "rf-1", "purchase_id": p.purchase_id, "amount": 2_333 }),
        )
        .await
        .created();
    let back1 = r1.stored_value.unwrap();
    let r2 = app
        .record_refund(
            &owner,
            &json!({ "external_id": "rf-2", "purchase_id": p.purchase_id }),
        )
        .await
        .created();
    let back2 = r2.stored_value.unwrap();
    assert_eq!(
        back1["principal"].as_i64().unwrap() + back2["principal"].as_i64().unwrap(),
        5_000
    );
    assert_eq!(
        back1["bonus"].as_i64().unwrap() + back2["bonus"].as_i64().unwrap(),
        1_000
    );
    assert_eq!(
        app.stored_value(&owner, &m).await.ok().balance,
        SvBalance {
            principal: 10_000,
            bonus: 2_000,
            total: 12_000
        }
    );
    // A retry of a refund answers the first one and puts nothing back twice.
    let again = app
        .record_refund(
            &owner,
            &json!({ "external_id": "rf-2", "purchase_id": p.purchase_id }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        app.stored_value(&owner, &m).await.ok().balance.total,
        12_000
    );
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn a_top_up_refund_returns_the_principal_not_spent_under_each_order() {
    let app = spawn_app().await;
    let t = app.signup_on("sv-tur", "pro").await;
    let owner = t.owner();
    // 100 topped up with 20 bonus, then 30 spent: what comes back depends on the order.
    for (order, principal, forfeited) in [
        ("pro_rata", 7_500, 1_500),
        ("bonus_first", 9_000, 0),
        ("principal_first", 7_000, 2_000),
    ] {
        set_order(&app, &owner, order).await;
        let m = app.member(&owner, NewMember::named(order)).await.id;
        let top = app
            .top_up(&owner, &m, &top_up_body("seed", 10_000))
            .await
            .created();
        app.record_purchase(&owner, &paid_from_balance(&format!("{order}-p"), &m, 3_000))
            .await
            .created();
        let preview = app
            .preview_top_up_refund(&owner, &m, &top.top_up_id)
            .await
            .ok();
        assert_eq!(
            (preview.principal, preview.bonus_forfeited),
            (principal, forfeited),
            "{order}"
        );
        assert_eq!(preview.principal_spent, 10_000 - principal);
        assert_eq!(preview.balance_after.total, 0);
        // What the preview showed must still hold when confirming.
        let changed = app
            .refund_top_up(
                &owner,
                &m,
                &top.top_up_id,
                &json!({ "method": "cash", "expected_principal": principal + 1 }),
            )
            .await;
        assert_eq!(changed.status, StatusCode::CONFLICT);
        assert_eq!(changed.code(), "top_up_refund_changed");
        let done = app
            .refund_top_up(
                &owner,
                &m,
                &top.top_up_id,
                &json!({ "method": "cash", "expected_principal": principal }),
            )
            .await
            .ok();
        assert_eq!(done.principal, principal);
        assert_eq!(app.stored_value(&owner, &m).await.ok().balance.total, 0);
        let twice = app
            .refund_top_up(&owner, &m, &top.top_up_id, &json!({ "method": "cash" }))
            .await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        assert_eq!(twice.code(), "top_up_refunded");
    }
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn another_business_cannot_see_or_spend_the_balance() {
    let app = spawn_app().await;
    let a = app.signup_on("sv-a", "pro").await;
    let b = app.signup_on("sv-b", "pro").await;
    let (owner_a, owner_b) = (a.owner(), b.owner());
    let m = app.member(&owner_a, NewMember::named("Ann")).await.id;
    let top = app
        .top_up(&owner_a, &m, &top_up_body("seed", 10_000))
        .await
        .created();
    assert_eq!(
        app.stored_value(&owner_b, &m).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.top_up(&owner_b, &m, &top_up_body("x", 100))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.preview_top_up_refund(&owner_b, &m, &top.top_up_id)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let spend = app
        .record_purchase(&owner_b, &paid_from_balance("steal", &m, 100))
        .await;
    assert_eq!(spend.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.stored_value(&owner_a, &m).await.ok().balance.total,
        10_000
    );

    // A plan without stored value: 402.
    let free = app.signup_on("sv-free", "starter").await;
    let r = app.prepaid_settings(&free.owner()).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
}

#[tokio::test]
async fn ten_parallel_check_ins_on_a_pass_with_three_visits_take_exactly_three() {
    let app = spawn_app_with(24).await;
    let t = app.signup_on("pass-race", "pro").await;
    // A key, not a login: it lasts while the clock moves by days.
    let owner = app.api_key(&t, "owner").await;
    let m = app.member(&owner, NewMember::named("Wu")).await.id;
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "3 haircuts", "visits": 3, "validity_days": 30,
                     "categories": ["haircut"], "price": 30_000 }),
        )
        .await
        .ok();
    let pass = app
        .sell_pass(
            &owner,
            &m,
            &json!({ "product_id": product["id"], "method": "alipay", "receipt": "A-9" }),
        )
        .await
        .ok();
    let pass_id = pass["id"].as_str().unwrap().to_owned();
    assert_eq!(pass["visits_left"], 3);

    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (api, owner, m, p) = (app.api.clone(), owner.clone(), m.clone(), pass_id.clone());
            tokio::spawn(async move {
                api.consume_pass(
                    &owner,
                    &m,
                    &p,
                    &json!({ "idempotency_key": format!("visit-{i}"), "category": "haircut" }),
                )
                .await
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(r.code(), "pass_used_up");
                refused += 1
            }
            other => panic!("unexpected {other}: {r:?}"),
        }
    }
    assert_eq!((ok, refused), (3, 7));
    let passes = app.member_passes(&owner, &m).await.ok();
    assert_eq!(passes[0]["visits_left"], 0);
    assert_eq!(passes[0]["status"], "used_up");
    assert_eq!(passes[0]["uses"].as_array().unwrap().len(), 3);

    // A use reversed with a reason gives the visit back, once; a retry of a consumption
    // answers the first one and takes nothing more.
    let use_id = passes[0]["uses"][0]["id"].as_i64().unwrap();
    let key = passes[0]["uses"][0]["category"].clone();
    assert_eq!(key, "haircut");
    let back = app
        .reverse_pass_use(
            &owner,
            &m,
            &pass_id,
            use_id,
            &json!({ "reason": "wrong member" }),
        )
        .await
        .ok();
    assert_eq!(back["visits_left"], 1);
    let twice = app
        .reverse_pass_use(&owner, &m, &pass_id, use_id, &json!({ "reason": "again" }))
        .await;
    assert_eq!(twice.code(), "pass_use_reversed");
    let first = app
        .consume_pass(
            &owner,
            &m,
            &pass_id,
            &json!({ "idempotency_key": "again", "category": "haircut" }),
        )
        .await
        .created();
    assert_eq!(first["visits_left"], 0);
    let retry = app
        .consume_pass(
            &owner,
            &m,
            &pass_id,
            &json!({ "idempotency_key": "again", "category": "haircut" }),
        )
        .await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.body()["replayed"], true);
    let other = app
        .consume_pass(
            &owner,
            &m,
            &pass_id,
            &json!({ "idempotency_key": "again", "category": "color" }),
        )
        .await;
    assert_eq!(other.code(), "idempotency_key_reused");

    // Limited to haircuts: a colouring is refused.
    let pass2 = app
        .sell_pass(
            &owner,
            &m,
            &json!({ "product_id": product["id"], "method": "cash" }),
        )
        .await
        .ok();
    let p2 = pass2["id"].as_str().unwrap().to_owned();
    let wrong = app
        .consume_pass(
            &owner,
            &m,
            &p2,
            &json!({ "idempotency_key": "c", "category": "color" }),
        )
        .await;
    assert_eq!(wrong.code(), "pass_category_not_covered");

    // Expired after its 30 days (the business's days): refused until renewed, then the
    // visits it had left are usable again.
    app.clock.advance(chrono::Duration::days(31));
    let late = app
        .consume_pass(
            &owner,
            &m,
            &p2,
            &json!({ "idempotency_key": "late", "category": "haircut" }),
        )
        .await;
    assert_eq!(late.code(), "pass_expired");
    let renewed = app
        .renew_pass(&owner, &m, &p2, &json!({ "method": "wechat" }))
        .await
        .ok();
    assert_eq!(renewed["visits_left"], 3);
    let used = app
        .consume_pass(
            &owner,
            &m,
            &p2,
            &json!({ "idempotency_key": "late", "category": "haircut" }),
        )
        .await
        .created();
    assert_eq!(used["visits_left"], 2);

    // Another business sees none of it; bad input names its fields.
    let other_biz = app.signup_on("pass-other", "pro").await;
    let r = app
        .member_passes(&app.api_key(&other_biz, "owner").await, &m)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let bad = app
        .create_pass_product(&owner, &json!({ "name": "", "visits": 0, "price": -1 }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<String> = bad.problem().fields.into_iter().map(|f| f.field).collect();
    fields.sort();
    assert_eq!(fields, ["name", "price", "visits"]);
}

#[tokio::test]
async fn memberships_renew_from_the_end_freeze_within_the_cap_and_refund_the_unused_days() {
    use chrono::{TimeZone, Utc};
    let app = spawn_app().await;
    let t = app.signup_on("ms", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.update_settings(&owner, &json!({ "time_zone": "Asia/Shanghai" }))
        .await
        .ok();
    let shanghai = chrono_tz::Asia::Shanghai;
    let local = |y, mo, d, h| -> chrono::DateTime<Utc> {
        shanghai
            .with_ymd_and_hms(y, mo, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    // 31 January 2028, 07:00 in Shanghai (still the 30th in UTC).
    app.clock.set(local(2028, 1, 31, 7));
    let m = app.member(&owner, NewMember::named("Gao")).await.id;
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "Classes", "visits": 8, "price": 0 }),
        )
        .await
        .ok();
    let plan = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "Monthly", "price": 30_000, "period_unit": "month",
                     "pass_product_id": product["id"], "stored_value": 5_000 }),
        )
        .await
        .ok();
    let sold = app
        .sell_membership(
            &owner,
            &m,
            &json!({ "plan_id": plan["id"], "method": "wechat", "receipt": "W-1" }),
        )
        .await
        .ok();
    let ms = sold["id"].as_str().unwrap().to_owned();
    // A month from 31 January: February has no 31st, so it ends on its last day, the 29th
    // in 2028 (`ends_on` is the first day no longer covered).
    assert_eq!(sold["starts_on"], "2028-01-31");
    assert_eq!(sold["ends_on"], "2028-02-29");
    // What the plan includes came with it.
    assert_eq!(
        app.member_passes(&owner, &m).await.ok()[0]["visits_left"],
        8
    );
    assert_eq!(
        app.stored_value(&owner, &m).await.ok().balance,
        SvBalance {
            principal: 0,
            bonus: 5_000,
            total: 5_000
        }
    );

    // Renewal extends from the end, not from today.
    let renewed = app
        .membership_action(&owner, &m, &ms, "renew", &json!({ "method": "cash" }))
        .await
        .ok();
    assert_eq!(renewed["ends_on"], "2028-03-29");
    assert_eq!(renewed["paid"], 60_000);

    // Freezing moves the end by the frozen days, within 30 a membership year.
    let frozen = app
        .membership_action(&owner, &m, &ms, "freeze", &json!({ "days": 7 }))
        .await
        .ok();
    assert_eq!(frozen["ends_on"], "2028-04-05");
    assert_eq!(frozen["frozen_days"], 7);
    let over = app
        .membership_action(&owner, &m, &ms, "freeze", &json!({ "days": 24 }))
        .await;
    assert_eq!(over.status, StatusCode::CONFLICT);
    assert_eq!(over.code(), "freeze_cap_reached");

    // Ending soon: within 70 days it is listed, within 30 it is not.
    let soon = app.memberships_ending(&owner, 70).await.ok();
    assert_eq!(soon.len(), 1);
    assert!(app.memberships_ending(&owner, 30).await.ok().is_empty());

    // Cancelled on 15 February: 50 of its 65 days unused, 60,000 paid -> 46,153 back.
    app.clock.set(local(2028, 2, 15, 9));
    let c = app
        .membership_action(&owner, &m, &ms, "cancel", &json!({ "method": "cash" }))
        .await
        .ok();
    assert_eq!(c["refund"], 46_153);
    assert_eq!(c["membership"]["status"], "cancelled");
    let again = app
        .membership_action(&owner, &m, &ms, "renew", &json!({ "method": "cash" }))
        .await;
    assert_eq!(again.code(), "membership_cancelled");

    // Charge records with totals by day and method, and filters.
    let all = app.list_charges(&owner, &[]).await.ok();
    assert_eq!(all["count"], 3);
    assert_eq!(all["amount"], 30_000 + 30_000 - 46_153);
    let cash = app.list_charges(&owner, &[("method", "cash")]).await.ok();
    assert_eq!(cash["amount"], 30_000 - 46_153);
    let jan = app
        .list_charges(&owner, &[("from", "2028-01-31"), ("to", "2028-01-31")])
        .await
        .ok();
    assert_eq!(jan["count"], 2);
    let days: Vec<&str> = jan["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2028-01-31", "2028-01-31"]);
    let bad = app.list_charges(&owner, &[("method", "gold")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Bad plans name their field; another business sees nothing.
    let bad = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "Weekly", "price": 100, "period_unit": "week" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.problem().fields[0].field, "period_unit");
    let other = app.signup_on("ms-other", "pro").await;
    let other_key = app.api_key(&other, "owner").await;
    assert_eq!(
        app.member_memberships(&other_key, &m).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.list_charges(&other_key, &[]).await.ok()["count"], 0);
    app.clock.set(Utc::now());
}

/// Registers a member through the portal of `t` and returns their portal login.
async fn portal_member(app: &TestApp, t: &TestTenant, phone: &str, name: &str) -> Auth {
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
                 "password": "portal-prepaid-password-1" }),
    )
    .await
    .created()
    .auth()
}

#[tokio::test]
async fn members_see_only_their_own_prepaid_in_the_portal_and_only_what_the_plan_includes() {
    let app = spawn_app().await;
    let a = app.signup_on("sv-portal-a", "pro").await;
    let owner = a.owner();
    set_order(&app, &owner, "pro_rata").await;
    let mei = portal_member(&app, &a, "13855550001", "Mei").await;
    let lin = portal_member(&app, &a, "13855550002", "Lin").await;
    let mei_id = app.portal_me(&a.slug, &mei).await.ok().id;
    let lin_id = app.portal_me(&a.slug, &lin).await.ok().id;

    // Mei holds a membership, a pass with three visits (one used) and ¥200 + ¥50 bonus.
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "5 yoga classes", "visits": 5, "price": 50_000 }),
        )
        .await
        .ok();
    let pass = app
        .sell_pass(
            &owner,
            &mei_id,
            &json!({ "product_id": product["id"], "method": "cash" }),
        )
        .await
        .ok();
    app.consume_pass(
        &owner,
        &mei_id,
        pass["id"].as_str().unwrap(),
        &json!({ "idempotency_key": "yoga-1" }),
    )
    .await
    .created();
    let plan = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "Yearly", "price": 120_000, "period_unit": "year" }),
        )
        .await
        .ok();
    let sold = app
        .sell_membership(
            &owner,
            &mei_id,
            &json!({ "plan_id": plan["id"], "method": "card", "receipt": "C-1" }),
        )
        .await
        .ok();
    app.top_up(&owner, &mei_id, &top_up_body("mei-1", 20_000))
        .await
        .created();
    app.top_up(&owner, &lin_id, &top_up_body("lin-1", 5_000))
        .await
        .created();

    let mine = app.portal_prepaid(&a.slug, &mei).await.ok();
    let ms = mine["memberships"].as_array().unwrap();
    assert_eq!(ms.len(), 1);
    assert_eq!(ms[0]["plan_name"], "Yearly");
    assert_eq!(ms[0]["status"], "active");
    assert_eq!(ms[0]["starts_on"], sold["starts_on"]);
    let ends: chrono::NaiveDate = sold["ends_on"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        ms[0]["last_day"],
        (ends - chrono::Duration::days(1)).to_string()
    );
    let sv = &mine["stored_value"];
    assert_eq!(
        (
            sv["principal"].as_i64(),
            sv["bonus"].as_i64(),
            sv["total"].as_i64()
        ),
        (Some(20_000), Some(5_000), Some(25_000))
    );
    let entries = sv["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "one entry per sub-ledger: {entries:?}");
    assert!(entries
        .iter()
        .all(|e| e["kind"] == "top_up" && e.get("actor").is_none()));
    let passes = mine["passes"].as_array().unwrap();
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0]["product_name"], "5 yoga classes");
    assert_eq!(
        (
            passes[0]["visits_left"].as_i64(),
            passes[0]["visits_total"].as_i64()
        ),
        (Some(4), Some(5))
    );
    assert_eq!(passes[0]["status"], "active");

    // Lin, in the same business, sees only Lin's.
    let theirs = app.portal_prepaid(&a.slug, &lin).await.ok();
    assert_eq!(theirs["memberships"].as_array().unwrap().len(), 0);
    assert_eq!(theirs["passes"].as_array().unwrap().len(), 0);
    assert_eq!(theirs["stored_value"]["total"], 5_000);

    // A member of another business (same phone) sees none of it, and Mei's login does not
    // open the other business's portal; staff tokens do not open the portal.
    let b = app.signup_on("sv-portal-b", "pro").await;
    let other = portal_member(&app, &b, "13855550001", "Mei elsewhere").await;
    let elsewhere = app.portal_prepaid(&b.slug, &other).await.ok();
    assert_eq!(elsewhere["memberships"].as_array().unwrap().len(), 0);
    assert_eq!(elsewhere["passes"].as_array().unwrap().len(), 0);
    assert_eq!(elsewhere["stored_value"]["total"], 0);
    assert_eq!(
        app.portal_prepaid(&b.slug, &mei).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.portal_prepaid(&a.slug, &owner).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A plan without the features: the portal gets none of the parts.
    let c = app.signup_on("sv-portal-c", "starter").await;
    let plain = portal_member(&app, &c, "13855550003", "Plain").await;
    let none = app.portal_prepaid(&c.slug, &plain).await.ok();
    assert!(
        none.get("memberships").is_none_or(|v| v.is_null()),
        "{none}"
    );
    assert!(
        none.get("stored_value").is_none_or(|v| v.is_null()),
        "{none}"
    );
    assert!(none.get("passes").is_none_or(|v| v.is_null()), "{none}");
}

async fn publish_gold_ladder(app: &TestApp, owner: &Auth, t: &TestTenant) {
    let tier = |code: &str, threshold: i64| {
        json!({ "code": code, "name": { "zh-CN": code, "en": code }, "threshold": threshold,
                "benefits": {} })
    };
    let published = app
        .publish_ladder(
            owner,
            &json!({ "ladder": { "metric": "spend", "window": { "kind": "rolling", "days": 30 },
                     "retention_days": 0, "demotion": "direct",
                     "tiers": [tier("base", 0), tier("gold", 1_000_000)] } }),
        )
        .await
        .ok();
    patron_tests::internals::reevaluate_tiers(app, t, &published.run.id).await;
}

#[tokio::test]
async fn a_membership_holds_its_plans_tier_until_it_ends_and_cancelling_releases_it() {
    use chrono::{Duration, TimeZone, Utc};
    use patron_tests::internals::evaluate_tiers;
    let app = spawn_app().await;
    // 1 May 2027, 12:00 in Shanghai.
    let start = Utc.with_ymd_and_hms(2027, 5, 1, 4, 0, 0).unwrap();
    app.clock.set(start);
    let t = app.signup_on("ms-tier", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.update_settings(&owner, &json!({ "time_zone": "Asia/Shanghai" }))
        .await
        .ok();
    let gold_plan = json!({ "name": "Gold 10 days", "price": 10_000, "period_unit": "days", "period_days": 10,
                "tier": "gold" });
    // Without a ladder that has the tier, the plan is refused.
    let r = app.create_membership_plan(&owner, &gold_plan).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "membership_tier_not_on_ladder");
    publish_gold_ladder(&app, &owner, &t).await;
    let plan = app.create_membership_plan(&owner, &gold_plan).await.ok();
    let m = app.member(&owner, NewMember::named("Jin")).await.id;
    assert_eq!(app.member_tier(&owner, &m).await.ok().code(), "base");

    // Sold on 1 May for 10 days: gold at once, pinned until the start of 11 May (local).
    let sold = app
        .sell_membership(
            &owner,
            &m,
            &json!({ "plan_id": plan["id"], "method": "cash" }),
        )
        .await
        .ok();
    assert_eq!(sold["ends_on"], "2027-05-11");
    let view = app.member_tier(&owner, &m).await.ok();
    assert_eq!(view.code(), "gold");
    assert_eq!(view.pin.as_ref().unwrap().tier, "gold");
    assert_eq!(view.history[0].kind, "pin");
    assert_eq!(
        view.history[0].reason_code.as_deref(),
        Some("membership_tier")
    );
    assert_eq!(
        view.history[0].reason_params.as_ref().unwrap()["plan"],
        "Gold 10 days"
    );
    let ms = sold["id"].as_str().unwrap().to_owned();

    // Frozen 3 days: the pin holds 3 days longer with the membership.
    let frozen = app
        .membership_action(&owner, &m, &ms, "freeze", &json!({ "days": 3 }))
        .await
        .ok();
    assert_eq!(frozen["ends_on"], "2027-05-14");
    // On 13 May (local) the member is still gold; from 14 May the pin lapses.
    app.clock.set(start + Duration::days(12));
    evaluate_tiers(&app, &t).await;
    assert_eq!(app.member_tier(&owner, &m).await.ok().code(), "gold");
    app.clock.set(start + Duration::days(13));
    evaluate_tiers(&app, &t).await;
    let view = app.member_tier(&owner, &m).await.ok();
    assert_eq!(view.code(), "base", "{view:?}");
    assert!(view.pin.is_none());
    assert_eq!(view.history[0].kind, "pin_lapsed");

    // Renewed after it ended: from today, gold again until the new end.
    let renewed = app
        .membership_action(&owner, &m, &ms, "renew", &json!({ "method": "cash" }))
        .await
        .ok();
    assert_eq!(renewed["ends_on"], "2027-05-24");
    assert_eq!(app.member_tier(&owner, &m).await.ok().code(), "gold");

    // Cancelling ends the pin now; the next evaluation applies the ladder.
    app.membership_action(&owner, &m, &ms, "cancel", &json!({ "method": "cash" }))
        .await
        .ok();
    let view = app.member_tier(&owner, &m).await.ok();
    assert_eq!(view.code(), "gold", "until the next evaluation");
    assert!(view.pin.is_none(), "{view:?}");
    assert_eq!(view.history[0].kind, "unpin");
    assert_eq!(
        view.history[0].reason_code.as_deref(),
        Some("membership_cancelled")
    );
    app.clock.set(start + Duration::days(14));
    evaluate_tiers(&app, &t).await;
    assert_eq!(app.member_tier(&owner, &m).await.ok().code(), "base");

    // A staff pin that holds longer is left alone by a sale, and by its cancellation.
    let other = app.member(&owner, NewMember::named("Lan")).await.id;
    let until = start + Duration::days(100);
    app.pin_member_tier(
        &owner,
        &other,
        &json!({ "tier": "gold", "until": until, "reason": "partner" }),
    )
    .await
    .ok();
    let sold = app
        .sell_membership(
            &owner,
            &other,
            &json!({ "plan_id": plan["id"], "method": "cash" }),
        )
        .await
        .ok();
    app.membership_action(
        &owner,
        &other,
        sold["id"].as_str().unwrap(),
        "cancel",
        &json!({ "method": "cash" }),
    )
    .await
    .ok();
    let view = app.member_tier(&owner, &other).await.ok();
    assert_eq!(view.pin.unwrap().reason, "partner");
    app.clock.set(Utc::now());
}

#[tokio::test]
async fn a_frozen_pass_refuses_visits_moves_its_last_day_and_an_early_unfreeze_gives_days_back() {
    use chrono::{Duration, TimeZone, Utc};
    let app = spawn_app().await;
    // 25 February 2028, 10:00 in Shanghai (a leap year: 29 February is a day).
    let start = Utc.with_ymd_and_hms(2028, 2, 25, 2, 0, 0).unwrap();
    app.clock.set(start);
    let t = app.signup_on("pass-freeze", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.update_settings(&owner, &json!({ "time_zone": "Asia/Shanghai" }))
        .await
        .ok();
    app.set_prepaid_settings(
        &owner,
        &json!({ "spend_order": "pro_rata", "bonus_rule": { "kind": "none" },
                 "balance_cap": null, "freeze_days_per_year": 15 }),
    )
    .await
    .ok();
    let m = app.member(&owner, NewMember::named("Wu")).await.id;
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "Haircuts", "visits": 5, "validity_days": 10, "price": 0 }),
        )
        .await
        .ok();
    let pass = app
        .sell_pass(
            &owner,
            &m,
            &json!({ "product_id": product["id"], "method": "cash" }),
        )
        .await
        .ok();
    let p = pass["id"].as_str().unwrap().to_owned();
    assert_eq!(pass["expires_on"], "2028-03-05");
    let visit = |key: &str| json!({ "idempotency_key": key });

    // Frozen 10 days from today: 25 Feb to 5 Mar; the last day moves to 15 Mar.
    let frozen = app
        .pass_action(&owner, &m, &p, "freeze", Some(&json!({ "days": 10 })))
        .await
        .ok();
    assert_eq!(frozen["frozen_from"], "2028-02-25");
    assert_eq!(frozen["frozen_until"], "2028-03-05");
    assert_eq!(frozen["expires_on"], "2028-03-15");
    assert_eq!(frozen["status"], "frozen");
    let r = app.consume_pass(&owner, &m, &p, &visit("v-1")).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "pass_frozen");
    let again = app
        .pass_action(&owner, &m, &p, "freeze", Some(&json!({ "days": 1 })))
        .await;
    assert_eq!(again.code(), "pass_frozen");
    assert_eq!(
        app.member_passes(&owner, &m).await.ok()[0]["status"],
        "frozen"
    );

    // Unfrozen early on 1 March (local): 5 frozen days unused (1 to 5 March) go back.
    app.clock.set(start + Duration::days(5));
    let open = app.pass_action(&owner, &m, &p, "unfreeze", None).await.ok();
    assert_eq!(open["expires_on"], "2028-03-10");
    assert!(open["frozen_until"].is_null());
    let used = app
        .consume_pass(&owner, &m, &p, &visit("v-1"))
        .await
        .created();
    assert_eq!(used["visits_left"], 4);
    let r = app.pass_action(&owner, &m, &p, "unfreeze", None).await;
    assert_eq!(r.code(), "pass_not_frozen");

    // 5 days counted against 15 a year: 10 more are allowed, 11 are not.
    let r = app
        .pass_action(&owner, &m, &p, "freeze", Some(&json!({ "days": 11 })))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "freeze_cap_reached");
    let frozen = app
        .pass_action(&owner, &m, &p, "freeze", Some(&json!({ "days": 10 })))
        .await
        .ok();
    assert_eq!(frozen["expires_on"], "2028-03-20");
    let r = app
        .pass_action(&owner, &m, &p, "freeze", Some(&json!({ "days": 0 })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The freeze runs out by itself: usable again on 11 March.
    app.clock.set(start + Duration::days(15));
    let used = app
        .consume_pass(&owner, &m, &p, &visit("v-2"))
        .await
        .created();
    assert_eq!(used["visits_left"], 3);
    app.clock.set(Utc::now());
}

#[tokio::test]
async fn ten_parallel_sales_paid_from_a_balance_for_three_take_it_to_zero_and_cancelling_gives_it_back(
) {
    use chrono::{Duration, TimeZone, Utc};
    let app = spawn_app_with(16).await;
    let start = Utc.with_ymd_and_hms(2027, 6, 1, 4, 0, 0).unwrap();
    app.clock.set(start);
    let t = app.signup_on("sv-sales", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    set_order(&app, &owner, "bonus_first").await;
    let m = app.member(&owner, NewMember::named("Qin")).await.id;
    // 90.00 (below the first bonus tier): three sales of 30.00.
    app.top_up(&owner, &m, &top_up_body("seed", 9_000))
        .await
        .created();
    let plan = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "Month", "price": 3_000, "period_unit": "days", "period_days": 30 }),
        )
        .await
        .ok();
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "Five classes", "visits": 5, "price": 3_000 }),
        )
        .await
        .ok();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (api, owner, m) = (app.api.clone(), owner.clone(), m.clone());
            let (plan_id, product_id) = (plan["id"].clone(), product["id"].clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    api.sell_membership(
                        &owner,
                        &m,
                        &json!({ "plan_id": plan_id, "method": "stored_value" }),
                    )
                    .await
                } else {
                    api.sell_pass(
                        &owner,
                        &m,
                        &json!({ "product_id": product_id, "method": "stored_value" }),
                    )
                    .await
                }
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(r.code(), "insufficient_stored_value");
                assert_eq!(r.problem().fields[0].field, "method");
                refused += 1
            }
            other => panic!("unexpected {other}: {r:?}"),
        }
    }
    assert_eq!((ok, refused), (3, 7));
    let sv = app.stored_value(&owner, &m).await.ok();
    assert_eq!(sv.balance.total, 0);
    assert!(sv.entries.iter().all(|e| e.balance >= 0));
    let sold = app.member_memberships(&owner, &m).await.ok().len()
        + app.member_passes(&owner, &m).await.ok().len();
    assert_eq!(sold, 3, "a refused sale left nothing behind");
    let paid = app
        .list_charges(&owner, &[("method", "stored_value")])
        .await
        .ok();
    assert_eq!(
        (paid["count"].as_i64(), paid["amount"].as_i64()),
        (Some(3), Some(9_000))
    );
    assert_ledger_agrees(&app, &t.slug).await;

    // Another member: 100.00 + 20.00 bonus, spent bonus first on a 60.00 membership
    // (20.00 bonus + 40.00 principal), renewed for 60.00 in cash.
    let n = app.member(&owner, NewMember::named("Yao")).await.id;
    app.top_up(&owner, &n, &top_up_body("seed", 10_000))
        .await
        .created();
    let plan = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "Month+", "price": 6_000, "period_unit": "days", "period_days": 30 }),
        )
        .await
        .ok();
    let sold = app
        .sell_membership(
            &owner,
            &n,
            &json!({ "plan_id": plan["id"], "method": "stored_value" }),
        )
        .await
        .ok();
    let ms = sold["id"].as_str().unwrap().to_owned();
    let sv = app.stored_value(&owner, &n).await.ok().balance;
    assert_eq!((sv.principal, sv.bonus), (6_000, 0));
    app.membership_action(&owner, &n, &ms, "renew", &json!({ "method": "cash" }))
        .await
        .ok();
    // Cancelled 15 days into 60: 45/60 of 120.00 = 90.00 back; what stored value paid
    // (40.00 + 20.00 of the 120.00) goes back in that share, 30.00 + 15.00, the rest in cash.
    app.clock.set(start + Duration::days(15));
    let c = app
        .membership_action(&owner, &n, &ms, "cancel", &json!({ "method": "cash" }))
        .await
        .ok();
    assert_eq!(c["refund"], 9_000);
    assert_eq!(
        c["stored_value"],
        json!({ "principal": 3_000, "bonus": 1_500 })
    );
    let sv = app.stored_value(&owner, &n).await.ok().balance;
    assert_eq!((sv.principal, sv.bonus), (9_000, 1_500));
    let back = app
        .list_charges(&owner, &[("member_id", n.as_str())])
        .await
        .ok();
    let refunds: Vec<(String, i64, i64, i64)> = back["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "membership_refund")
        .map(|c| {
            (
                c["method"].as_str().unwrap().to_owned(),
                c["amount"].as_i64().unwrap(),
                c["principal"].as_i64().unwrap(),
                c["bonus"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(refunds.len(), 2, "{refunds:?}");
    assert!(refunds.contains(&("stored_value".into(), -4_500, -3_000, -1_500)));
    assert!(refunds.contains(&("cash".into(), -4_500, 0, 0)));
    // A cancellation's own method cannot be the balance: what it paid goes back there.
    let r = app
        .membership_action(
            &owner,
            &n,
            &ms,
            "cancel",
            &json!({ "method": "stored_value" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_ledger_agrees(&app, &t.slug).await;
    app.clock.set(Utc::now());
}

#[tokio::test]
async fn every_prepaid_operation_on_an_erased_member_is_refused() {
    let app = spawn_app().await;
    let t = app.signup_on("sv-erased", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Ren")).await.id;
    let top = app
        .top_up(&owner, &m, &top_up_body("seed", 5_000))
        .await
        .created();
    let product = app
        .create_pass_product(&owner, &json!({ "name": "Three", "visits": 3, "price": 0 }))
        .await
        .ok();
    let pass = app
        .sell_pass(
            &owner,
            &m,
            &json!({ "product_id": product["id"], "method": "cash" }),
        )
        .await
        .ok();
    let p = pass["id"].as_str().unwrap().to_owned();
    let used = app
        .consume_pass(&owner, &m, &p, &json!({ "idempotency_key": "u" }))
        .await
        .created();
    let plan = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "Month", "price": 100, "period_unit": "month" }),
        )
        .await
        .ok();
    let ms = app
        .sell_membership(
            &owner,
            &m,
            &json!({ "plan_id": plan["id"], "method": "cash" }),
        )
        .await
        .ok();
    let ms = ms["id"].as_str().unwrap().to_owned();
    app.erase_member(&owner, &m).await.ok();

    let top_up_id = top.top_up_id.to_string();
    let use_id = used["use_id"].as_i64().unwrap();
    let pay = json!({ "method": "cash" });
    let answers = vec![
        (
            "memberStoredValue",
            app.stored_value(&owner, &m).await.untyped(),
        ),
        (
            "previewTopUp",
            app.preview_top_up(&owner, &m, &json!({ "amount": 100 }))
                .await
                .untyped(),
        ),
        (
            "topUp",
            app.top_up(&owner, &m, &top_up_body("k", 100))
                .await
                .untyped(),
        ),
        (
            "previewTopUpRefund",
            app.preview_top_up_refund(&owner, &m, &top_up_id)
                .await
                .untyped(),
        ),
        (
            "refundTopUp",
            app.refund_top_up(&owner, &m, &top_up_id, &pay)
                .await
                .untyped(),
        ),
        (
            "memberPasses",
            app.member_passes(&owner, &m).await.untyped(),
        ),
        (
            "sellPass",
            app.sell_pass(
                &owner,
                &m,
                &json!({ "product_id": product["id"], "method": "cash" }),
            )
            .await
            .untyped(),
        ),
        (
            "consumePass",
            app.consume_pass(&owner, &m, &p, &json!({ "idempotency_key": "v" }))
                .await
                .untyped(),
        ),
        (
            "reversePassUse",
            app.reverse_pass_use(&owner, &m, &p, use_id, &json!({ "reason": "x" }))
                .await
                .untyped(),
        ),
        (
            "renewPass",
            app.renew_pass(&owner, &m, &p, &pay).await.untyped(),
        ),
        (
            "freezePass",
            app.pass_action(&owner, &m, &p, "freeze", Some(&json!({ "days": 1 })))
                .await
                .untyped(),
        ),
        (
            "unfreezePass",
            app.pass_action(&owner, &m, &p, "unfreeze", None)
                .await
                .untyped(),
        ),
        (
            "memberMemberships",
            app.member_memberships(&owner, &m).await.untyped(),
        ),
        (
            "sellMembership",
            app.sell_membership(
                &owner,
                &m,
                &json!({ "plan_id": plan["id"], "method": "cash" }),
            )
            .await
            .untyped(),
        ),
        (
            "renewMembership",
            app.membership_action(&owner, &m, &ms, "renew", &pay)
                .await
                .untyped(),
        ),
        (
            "freezeMembership",
            app.membership_action(&owner, &m, &ms, "freeze", &json!({ "days": 1 }))
                .await
                .untyped(),
        ),
        (
            "cancelMembership",
            app.membership_action(&owner, &m, &ms, "cancel", &pay)
                .await
                .untyped(),
        ),
    ];
    for (op, r) in answers {
        assert_eq!(r.status, StatusCode::CONFLICT, "{op}: {r:?}");
        assert_eq!(r.code(), "member_erased", "{op}");
    }
}

#[tokio::test]
async fn archived_fee_standards_and_pass_products_are_not_sold_but_what_was_sold_keeps_working() {
    let app = spawn_app().await;
    let t = app.signup_on("archive", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let m = app
        .member(&owner, NewMember::named("Zhou Archive"))
        .await
        .id;
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "5 massages", "visits": 5, "price": 50_000 }),
        )
        .await
        .ok();
    let product_id = product["id"].as_str().unwrap().to_owned();
    let plan = app
        .create_membership_plan(
            &owner,
            &json!({ "name": "Quarterly", "price": 90_000, "period_unit": "quarter" }),
        )
        .await
        .ok();
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let pass = app
        .sell_pass(
            &owner,
            &m,
            &json!({ "product_id": product_id, "method": "cash" }),
        )
        .await
        .ok();
    let ms = app
        .sell_membership(&owner, &m, &json!({ "plan_id": plan_id, "method": "card" }))
        .await
        .ok();

    let archived = app
        .set_pass_product_archived(&owner, &product_id, true)
        .await
        .ok();
    assert_eq!(archived["archived"], true);
    let archived = app
        .set_membership_plan_archived(&owner, &plan_id, true)
        .await
        .ok();
    assert_eq!(archived["archived"], true);

    // No longer offered for sale.
    let refused = app
        .sell_pass(
            &owner,
            &m,
            &json!({ "product_id": product_id, "method": "cash" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.fields(), ["product_id"]);
    let refused = app
        .sell_membership(&owner, &m, &json!({ "plan_id": plan_id, "method": "card" }))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.fields(), ["plan_id"]);

    // What was sold keeps working, under its name.
    let pass_id = pass["id"].as_str().unwrap();
    let used = app
        .consume_pass(
            &owner,
            &m,
            pass_id,
            &json!({ "idempotency_key": "after-archive" }),
        )
        .await;
    assert_eq!(used.status, StatusCode::CREATED, "{used:?}");
    let passes = app.member_passes(&owner, &m).await.ok();
    assert_eq!(passes[0]["product_name"], "5 massages");
    assert_eq!(passes[0]["visits_left"], 4);
    let renewed = app
        .membership_action(
            &owner,
            &m,
            ms["id"].as_str().unwrap(),
            "renew",
            &json!({ "method": "cash" }),
        )
        .await
        .ok();
    assert_eq!(renewed["plan_name"], "Quarterly");

    // Brought back, it is sold again; an unknown id is a 404.
    app.set_pass_product_archived(&owner, &product_id, false)
        .await
        .ok();
    let again = app
        .sell_pass(
            &owner,
            &m,
            &json!({ "product_id": product_id, "method": "cash" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    let missing = app
        .set_membership_plan_archived(&owner, &uuid::Uuid::nil().to_string(), true)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // The charge records carry the member's name with each row.
    let charges = app.list_charges(&owner, &[]).await.ok();
    let items = charges["items"].as_array().unwrap();
    assert!(items.len() >= 3);
    assert!(items.iter().all(|c| c["member_name"] == "Zhou Archive"));
}
