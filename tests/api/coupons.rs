//! Coupons through the API: quantities held under parallel claims (total, per member), a
//! single-use coupon in parallel purchases used once, claims charged for their quantity,
//! refunds restoring by the template's policy, every reason a code does not apply, tenant
//! isolation, and bad input named by field.

use chrono::{Duration, Timelike, Utc};
use patron_core::clock::Clock;
use patron_tests::internals::run_segment_issue;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn terms(extra: Value) -> Value {
    let mut t = json!({ "kind": "amount_off", "amount": 500, "valid_days": 30 });
    for (k, v) in extra.as_object().expect("an object") {
        t[k] = v.clone();
    }
    t
}

async fn template(app: &TestApp, owner: &Auth, name: &str, extra: Value, top: Value) -> String {
    let mut body = json!({ "name": name, "terms": terms(extra) });
    for (k, v) in top.as_object().expect("an object") {
        body[k] = v.clone();
    }
    let r = app.create_coupon_template(owner, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["id"].as_str().expect("an id").to_owned()
}

async fn give(app: &TestApp, owner: &Auth, member: &str, template: &str) -> String {
    let r = app
        .issue_coupons(owner, member, &json!({ "template_id": template }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json["codes"][0].as_str().expect("a code").to_owned()
}

async fn portal_member(app: &TestApp, t: &TestTenant, phone: &str) -> (Auth, String) {
    assert_eq!(
        app.send_portal_code(&t.slug, phone, "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(t, phone).await;
    let s = app
        .register_member(&t.slug, &json!({ "profile": { "name": "Claimer", "phone": phone }, "code": code, "password": PASSWORD }))
        .await
        .created();
    (s.auth(), s.member.id.clone())
}

/// The owner's token after the clock moved past its lifetime.
async fn owner_again(app: &TestApp, t: &TestTenant) -> Auth {
    app.login(&t.slug, &t.owner_email, PASSWORD)
        .await
        .ok()
        .auth()
}

fn purchase(external_id: &str, member: &str, amount: i64, codes: &[&str]) -> Value {
    json!({ "external_id": external_id, "member_id": member, "amount": amount, "coupon_codes": codes })
}

async fn cart(app: &TestApp, owner: &Auth, body: Value) -> Value {
    let r = app.validate_coupons(owner, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json
}

#[tokio::test]
async fn a_total_of_five_claimed_by_64_parallel_requests_gives_exactly_five() {
    // One connection per parallel claim or so: the claims queue on the member's row lock,
    // not for the pool (whose wait is bounded) on a loaded machine.
    let app = spawn_app_with(32).await;
    let t = app.signup("cp-total").await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Five only",
        json!({}),
        json!({ "total": 5, "claimable": true }),
    )
    .await;
    let (member, member_id) = portal_member(&app, &t, "13900001111").await;
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (api, member, slug, tpl) =
                (app.api.clone(), member.clone(), t.slug.clone(), tpl.clone());
            tokio::spawn(async move {
                api.portal_claim_coupon(
                    &slug,
                    &member,
                    &json!({ "template_id": tpl, "idempotency_key": format!("claim-{i}") }),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => assert_eq!(r.code(), "coupon_sold_out", "{}", r.json),
            other => panic!("{other}: {}", r.json),
        }
    }
    assert_eq!(ok, 5);
    let tpl_now = app.coupon_template(&owner, &tpl).await.json;
    assert_eq!(tpl_now["issued"], 5);
    let held = app.member_coupons(&owner, &member_id).await.json;
    assert_eq!(held.as_array().unwrap().len(), 5);
    // A retry of a claim that succeeded replays it; nothing more is issued.
    let mine = app.portal_my_coupons(&t.slug, &member).await.json;
    assert_eq!(mine.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_member_limit_holds_under_parallel_claims_and_a_quantity_is_charged_in_full() {
    // One connection per parallel claim or so: the claims queue on the member's row lock,
    // not for the pool (whose wait is bounded) on a loaded machine.
    let app = spawn_app_with(32).await;
    let t = app.signup("cp-member").await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Two each",
        json!({}),
        json!({ "per_member": 2, "claimable": true, "points_price": 100 }),
    )
    .await;
    let (member, member_id) = portal_member(&app, &t, "13900002222").await;
    let r = app
        .adjust_points(
            &owner,
            &member_id,
            &json!({ "idempotency_key": "seed", "points": 1000, "reason": "seed" }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);

    // A quantity of 3 is more than the member may hold: refused, nothing charged.
    let r = app
        .portal_claim_coupon(
            &t.slug,
            &member,
            &json!({ "template_id": tpl, "quantity": 3, "idempotency_key": "q3" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.code(), "coupon_member_limit");
    assert_eq!(
        app.member_points(&owner, &member_id).await.json["balance"],
        1000
    );

    // A quantity of 2 costs twice the price.
    let r = app
        .portal_claim_coupon(
            &t.slug,
            &member,
            &json!({ "template_id": tpl, "quantity": 2, "idempotency_key": "q2" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["points"], 200);
    assert_eq!(r.json["balance"], 800);
    assert_eq!(r.json["codes"].as_array().unwrap().len(), 2);
    // The same key again: the first answer, not another charge.
    let again = app
        .portal_claim_coupon(
            &t.slug,
            &member,
            &json!({ "template_id": tpl, "quantity": 2, "idempotency_key": "q2" }),
        )
        .await;
    assert_eq!(again.json["replayed"], true);
    assert_eq!(again.json["codes"], r.json["codes"]);
    assert_eq!(
        app.member_points(&owner, &member_id).await.json["balance"],
        800
    );

    // Another template with a limit of 2: ten parallel claims give exactly two.
    let tpl2 = template(
        &app,
        &owner,
        "Two each, free",
        json!({}),
        json!({ "per_member": 2, "claimable": true }),
    )
    .await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (api, member, slug, tpl) = (
                app.api.clone(),
                member.clone(),
                t.slug.clone(),
                tpl2.clone(),
            );
            tokio::spawn(async move {
                api.portal_claim_coupon(
                    &slug,
                    &member,
                    &json!({ "template_id": tpl, "idempotency_key": format!("p-{i}") }),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let r = task.await.unwrap();
        if r.status == StatusCode::OK {
            ok += 1;
        } else {
            assert_eq!(r.code(), "coupon_member_limit", "{}", r.json);
        }
    }
    assert_eq!(ok, 2);

    // Points short for the quantity: 409, nothing issued.
    let tpl3 = template(
        &app,
        &owner,
        "Dear",
        json!({}),
        json!({ "claimable": true, "points_price": 500 }),
    )
    .await;
    let r = app
        .portal_claim_coupon(
            &t.slug,
            &member,
            &json!({ "template_id": tpl3, "quantity": 2, "idempotency_key": "dear" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.code(), "insufficient_points");
    assert_eq!(app.coupon_template(&owner, &tpl3).await.json["issued"], 0);
}

#[tokio::test]
async fn a_single_use_coupon_in_five_parallel_purchases_is_applied_once() {
    let app = spawn_app().await;
    let t = app.signup("cp-race").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Racer")).await.id;
    let tpl = template(&app, &owner, "Once", json!({ "amount": 2000 }), json!({})).await;
    let code = give(&app, &owner, &m, &tpl).await;
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let (api, owner, body) = (
                app.api.clone(),
                owner.clone(),
                purchase(&format!("race-{i}"), &m, 10_000, &[&code]),
            );
            tokio::spawn(async move { api.record_purchase(&owner, &body).await })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        let r = task.await.unwrap();
        match r.status {
            StatusCode::CREATED => {
                applied += 1;
                assert_eq!(r.json["discount"], 2000);
                assert_eq!(r.json["amount"], 8000);
                assert_eq!(r.json["coupons"][0]["code"], code.as_str());
            }
            StatusCode::CONFLICT => {
                assert_eq!(r.code(), "coupon_not_applicable", "{}", r.json);
                assert_eq!(r.json["params"]["reason"], "used", "{}", r.json);
                assert_eq!(r.fields(), ["coupon_codes[0]"]);
            }
            other => panic!("{other}: {}", r.json),
        }
    }
    assert_eq!(applied, 1);
    // The refused purchases recorded nothing.
    let h = app.member_purchases(&owner, &m).await.json;
    assert_eq!(h["total_count"], 1, "{h}");

    // Points are earned on what was paid: as much as a purchase of 8000 without a coupon.
    let other = app.member(&owner, NewMember::named("Plain")).await.id;
    let plain = app
        .record_purchase(
            &owner,
            &json!({ "external_id": "plain", "member_id": other, "amount": 8000 }),
        )
        .await;
    let with = h["items"][0]["points"].clone();
    assert_eq!(with, plain.json["points"]);
    // The template counts it as used, in the list and on its own.
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["used"], 1);
    let listed = app.coupon_templates(&owner).await.json;
    let mine = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == tpl.as_str())
        .unwrap();
    assert_eq!(
        (mine["used"].clone(), mine["issued"].clone()),
        (json!(1), json!(1))
    );
    // The coupon's life shows its use.
    let coupons = app.member_coupons(&owner, &m).await.json;
    assert_eq!(coupons[0]["status"], "used");
    let kinds: Vec<&str> = coupons[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["issued", "used"]);
}

#[tokio::test]
async fn a_refund_in_full_restores_the_coupon_by_the_templates_policy() {
    let app = spawn_app().await;
    let t = app.signup("cp-refund").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Refunder")).await.id;
    let restore = template(&app, &owner, "Back", json!({ "valid_days": 2 }), json!({})).await;
    let forfeit = template(
        &app,
        &owner,
        "Gone",
        json!({ "on_refund": "forfeit" }),
        json!({}),
    )
    .await;
    let back = give(&app, &owner, &m, &restore).await;
    let gone = give(&app, &owner, &m, &forfeit).await;

    let p1 = app
        .record_purchase(&owner, &purchase("r-1", &m, 3000, &[&back]))
        .await;
    assert_eq!(p1.status, StatusCode::CREATED, "{}", p1.json);
    let p2 = app
        .record_purchase(&owner, &purchase("r-2", &m, 3000, &[&gone]))
        .await;
    assert_eq!(p2.status, StatusCode::CREATED, "{}", p2.json);

    // A partial refund gives nothing back.
    let r = app
        .record_refund(
            &owner,
            &json!({ "external_id": "rf-1a", "purchase_external_id": "r-1", "amount": 1000 }),
        )
        .await;
    assert_eq!(r.json["restored_coupons"], json!([]), "{}", r.json);
    // Past the coupon's validity, the refund of the rest restores it with the time it had
    // left when used.
    app.clock.advance(Duration::days(3));
    let owner = owner_again(&app, &t).await;
    let r = app
        .record_refund(
            &owner,
            &json!({ "external_id": "rf-1b", "purchase_external_id": "r-1" }),
        )
        .await;
    assert_eq!(r.json["restored_coupons"], json!([back]), "{}", r.json);
    let r = app
        .record_refund(
            &owner,
            &json!({ "external_id": "rf-2", "purchase_external_id": "r-2" }),
        )
        .await;
    assert_eq!(r.json["restored_coupons"], json!([]), "{}", r.json);

    let coupons = app.member_coupons(&owner, &m).await.json;
    let find = |code: &str| {
        coupons
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .cloned()
            .unwrap()
    };
    let restored = find(&back);
    assert_eq!(restored["status"], "issued", "{restored}");
    let until: chrono::DateTime<Utc> =
        serde_json::from_value(restored["valid_until"].clone()).unwrap();
    assert!(until > app.clock.now() + Duration::hours(1), "{restored}");
    let kinds: Vec<&str> = restored["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["issued", "used", "restored"]);
    assert_eq!(find(&gone)["status"], "used");
    // The restored coupon can be used again.
    let r = app
        .record_purchase(&owner, &purchase("r-3", &m, 3000, &[&back]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
}

#[tokio::test]
async fn every_reason_a_code_does_not_apply_is_answered() {
    let app = spawn_app().await;
    let t = app.signup("cp-reasons").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Mei")).await.id;
    let other = app.member(&owner, NewMember::named("Bo")).await.id;
    // A coupon valid for one day, two days ago.
    let short = template(&app, &owner, "Short", json!({ "valid_days": 1 }), json!({})).await;
    let expired_code = give(&app, &owner, &m, &short).await;
    app.clock.advance(Duration::days(2));
    let owner = owner_again(&app, &t).await;
    let now = app.clock.now();
    let local = now + Duration::hours(8); // the business's zone, Asia/Shanghai
    let today = local.date_naive();
    let hour = i64::from(local.hour());
    let (from, until) = if hour >= 2 {
        (0, hour - 1)
    } else {
        (hour + 2, hour + 3)
    };

    let plain = template(&app, &owner, "Plain", json!({}), json!({})).await;
    let plain2 = template(&app, &owner, "Plain too", json!({}), json!({})).await;
    let combinable = template(
        &app,
        &owner,
        "Combo",
        json!({ "stacking": "combinable" }),
        json!({}),
    )
    .await;
    let later = template(
        &app,
        &owner,
        "Later",
        json!({ "valid_days": null, "valid_from": now + Duration::days(1), "valid_until": now + Duration::days(2) }),
        json!({}),
    )
    .await;
    let off_day = template(
        &app,
        &owner,
        "Off day",
        json!({ "excluded_dates": [today.pred_opt().unwrap(), today, today.succ_opt().unwrap()] }),
        json!({}),
    )
    .await;
    let off_hour = template(
        &app,
        &owner,
        "Off hour",
        json!({ "hours_from": from, "hours_until": until }),
        json!({}),
    )
    .await;
    let north = template(
        &app,
        &owner,
        "North",
        json!({ "stores": ["north"] }),
        json!({}),
    )
    .await;
    let big = template(
        &app,
        &owner,
        "Big spend",
        json!({ "kind": "threshold", "amount": 1000, "min_spend": 10_000 }),
        json!({}),
    )
    .await;
    let limited = template(
        &app,
        &owner,
        "One each",
        json!({}),
        json!({ "per_member": 1 }),
    )
    .await;

    let used = give(&app, &owner, &m, &plain).await;
    let r = app
        .record_purchase(&owner, &purchase("used-1", &m, 5000, &[&used]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let voided = give(&app, &owner, &m, &plain).await;
    let voided_id = app
        .member_coupons(&owner, &m)
        .await
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == voided.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .void_coupon(&owner, &voided_id, "given by mistake")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        app.void_coupon(&owner, &voided_id, "again").await.code(),
        "coupon_not_voidable"
    );

    let others = give(&app, &owner, &other, &plain).await;
    let not_yet = give(&app, &owner, &m, &later).await;
    let day = give(&app, &owner, &m, &off_day).await;
    let hour_code = give(&app, &owner, &m, &off_hour).await;
    let scope = give(&app, &owner, &m, &north).await;
    let spend = give(&app, &owner, &m, &big).await;
    let exclusive_a = give(&app, &owner, &m, &plain).await;
    let exclusive_b = give(&app, &owner, &m, &plain2).await;
    let same_b = give(&app, &owner, &m, &plain).await;
    let combo_a = give(&app, &owner, &m, &combinable).await;
    let combo_b = give(&app, &owner, &m, &combinable).await;
    // A batch code of a template the member holds their one of already.
    give(&app, &owner, &m, &limited).await;
    let b = app
        .create_coupon_batch(
            &owner,
            &limited,
            &json!({ "count": 3, "pattern": "LIM-####" }),
        )
        .await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.json);
    let batch_codes = app
        .coupon_batch_codes(&owner, &limited, b.json["id"].as_str().unwrap())
        .await
        .json;
    assert_eq!(batch_codes.as_array().unwrap().len(), 3);
    let unbound = batch_codes[0]["code"].as_str().unwrap().to_owned();
    assert!(unbound.starts_with("LIM-"));

    let check = |codes: Vec<&str>, amount: i64| json!({ "member_id": m, "amount": amount, "store": "south", "coupon_codes": codes });
    let mut reached = std::collections::BTreeSet::new();
    for (codes, amount, expect) in [
        (vec!["NO-SUCH-CODE"], 5000, vec!["unknown_code"]),
        (
            vec![&*exclusive_a, &*exclusive_a],
            5000,
            vec!["", "duplicate"],
        ),
        (vec![&*others], 5000, vec!["other_member"]),
        (vec![&*used], 5000, vec!["used"]),
        (vec![&*voided], 5000, vec!["voided"]),
        (vec![&*not_yet], 5000, vec!["not_yet_valid"]),
        (vec![&*expired_code], 5000, vec!["expired"]),
        (vec![&*day], 5000, vec!["excluded_day"]),
        (vec![&*hour_code], 5000, vec!["excluded_hour"]),
        (vec![&*scope], 5000, vec!["not_in_scope"]),
        (vec![&*spend], 5000, vec!["min_spend"]),
        (
            vec![&*exclusive_a, &*exclusive_b],
            5000,
            vec!["", "not_combinable"],
        ),
        (vec![&*combo_a, &*combo_b], 5000, vec!["", "purchase_limit"]),
        (
            vec![&*exclusive_a, &*same_b],
            5000,
            vec!["", "purchase_limit"],
        ),
        (vec![&*unbound], 5000, vec!["member_limit"]),
    ] {
        let r = cart(&app, &owner, check(codes.clone(), amount)).await;
        let got: Vec<&str> = r["coupons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["reason"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(got, expect, "{codes:?}: {r}");
        assert_eq!(r["applicable"], expect.iter().all(|e| e.is_empty()));
        reached.extend(expect.into_iter().filter(|e| !e.is_empty()));
    }
    assert_eq!(reached.len(), 14, "{reached:?}");
    // The validation wrote nothing: the first exclusive coupon is still usable.
    let ok = cart(&app, &owner, check(vec![&exclusive_a], 5000)).await;
    assert_eq!(
        (ok["discount"].clone(), ok["payable"].clone()),
        (json!(500), json!(4500))
    );
    // A purchase with a code that does not apply is refused naming the code and the reason.
    let r = app
        .record_purchase(
            &owner,
            &purchase("refused", &m, 5000, &[&exclusive_a, &spend]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.fields(), ["coupon_codes[1]"]);
    assert_eq!(r.json["params"]["reason"], "min_spend");
    // ... and nothing of it stays: the first code is still issued.
    let c = app.member_coupons(&owner, &m).await.json;
    let a = c
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == exclusive_a.as_str())
        .unwrap();
    assert_eq!(a["status"], "issued");
}

#[tokio::test]
async fn a_tenants_codes_are_unknown_to_another_and_bad_input_names_the_field() {
    let app = spawn_app().await;
    let a = app.signup("cp-iso-a").await;
    let b = app.signup("cp-iso-b").await;
    let ma = app.member(&a.owner(), NewMember::named("A")).await.id;
    let mb = app.member(&b.owner(), NewMember::named("B")).await.id;
    let tpl = template(&app, &a.owner(), "Mine", json!({}), json!({})).await;
    let code = give(&app, &a.owner(), &ma, &tpl).await;
    let r = cart(
        &app,
        &b.owner(),
        json!({ "member_id": mb, "amount": 5000, "coupon_codes": [code] }),
    )
    .await;
    assert_eq!(r["coupons"][0]["reason"], "unknown_code");
    let r = app
        .record_purchase(&b.owner(), &purchase("iso", &mb, 5000, &[&code]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json["params"]["reason"], "unknown_code");
    assert_eq!(
        app.coupon_template(&b.owner(), &tpl).await.status,
        StatusCode::NOT_FOUND
    );

    let owner = a.owner();
    fn bad<T>(r: &Reply<T>, field: &str) {
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.json
        );
        assert!(r.fields().iter().any(|f| f == field), "{field}: {}", r.json);
    }
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "X", "terms": { "kind": "half_off", "valid_days": 3 } }),
        )
        .await;
    bad(&r, "terms.kind");
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "X", "terms": { "kind": "percent_off", "valid_days": 3 } }),
        )
        .await;
    bad(&r, "terms.percent");
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "X", "terms": { "kind": "amount_off", "amount": 100 } }),
        )
        .await;
    bad(&r, "terms.valid_days");
    let r = app
        .create_coupon_batch(&owner, &tpl, &json!({ "count": 6, "pattern": "A-#" }))
        .await;
    bad(&r, "pattern");
    assert_eq!(r.json["fields"][0]["params"]["reason"], "pattern_too_small");
    let r = app
        .issue_coupons(&owner, &ma, &json!({ "template_id": tpl, "quantity": 0 }))
        .await;
    bad(&r, "quantity");
    let r = app
        .record_purchase(
            &owner,
            &purchase("bad", &ma, 5000, &["A", "B", "C", "D", "E", "F"]),
        )
        .await;
    bad(&r, "coupon_codes");
    let r = app
        .validate_coupons(
            &owner,
            &json!({ "member_id": ma, "amount": 5000, "coupon_codes": ["  "] }),
        )
        .await;
    bad(&r, "coupon_codes[0]");
    let id = app.member_coupons(&owner, &ma).await.json[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.void_coupon(&owner, &id, "   ").await;
    bad(&r, "reason");
    // An archived template gives no more coupons.
    app.archive_coupon_template(&owner, &tpl, true).await;
    let r = app
        .issue_coupons(&owner, &ma, &json!({ "template_id": tpl }))
        .await;
    assert_eq!(r.code(), "coupon_template_archived");
}

#[tokio::test]
async fn an_edit_makes_a_new_version_and_issued_coupons_keep_their_terms() {
    let app = spawn_app().await;
    let t = app.signup("cp-version").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Keeper")).await.id;
    let tpl = template(
        &app,
        &owner,
        "Five off",
        json!({ "amount": 500 }),
        json!({}),
    )
    .await;
    let first = give(&app, &owner, &m, &tpl).await;
    let r = app
        .update_coupon_template(
            &owner,
            &tpl,
            &json!({ "name": "Nine off", "terms": terms(json!({ "amount": 900 })) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["version"], 2);
    let second = give(&app, &owner, &m, &tpl).await;
    let r = cart(
        &app,
        &owner,
        json!({ "member_id": m, "amount": 5000, "coupon_codes": [first] }),
    )
    .await;
    assert_eq!(r["discount"], 500);
    let r = cart(
        &app,
        &owner,
        json!({ "member_id": m, "amount": 5000, "coupon_codes": [second] }),
    )
    .await;
    assert_eq!(r["discount"], 900);
}

#[tokio::test]
async fn a_reservation_holds_a_coupon_for_its_cart_and_lapses_by_the_clock() {
    let app = spawn_app().await;
    let t = app.signup("cp-hold").await;
    let owner = t.owner();
    let tpl = template(&app, &owner, "Held", json!({}), json!({})).await;
    let m = app.member(&owner, NewMember::named("Holder")).await.id;
    let code = give(&app, &owner, &m, &tpl).await;
    let later = give(&app, &owner, &m, &tpl).await;

    let r = app.reserve_coupon(&owner, &code, 5).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let reservation = r.json["reservation_id"].as_str().unwrap().to_owned();
    // Another cart cannot hold it, nor use it, meanwhile.
    let again = app.reserve_coupon(&owner, &code, 5).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "coupon_reserved");
    let r = app
        .record_purchase(&owner, &purchase("other-cart", &m, 10_000, &[&code]))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.json["params"]["reason"], "reserved", "{}", r.json);
    let check = cart(
        &app,
        &owner,
        json!({ "member_id": m, "amount": 10_000, "coupon_codes": [code] }),
    )
    .await;
    assert_eq!(check["coupons"][0]["reason"], "reserved", "{check}");
    // The cart that holds it uses it.
    let mut mine = purchase("held-cart", &m, 10_000, &[&code]);
    mine["coupon_reservation"] = json!(reservation);
    let r = app.record_purchase(&owner, &mine).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["discount"], 500);
    let used = app.reserve_coupon(&owner, &code, 5).await;
    assert_eq!(used.status, StatusCode::CONFLICT);
    assert_eq!(used.code(), "coupon_not_reservable");
    assert_eq!(used.json["params"]["reason"], "used");

    // A reservation nobody used lapses by the clock alone.
    assert_eq!(
        app.reserve_coupon(&owner, &later, 2).await.status,
        StatusCode::OK
    );
    let r = app
        .record_purchase(&owner, &purchase("too-soon", &m, 10_000, &[&later]))
        .await;
    assert_eq!(r.json["params"]["reason"], "reserved", "{}", r.json);
    app.clock.advance(Duration::minutes(3));
    let r = app
        .record_purchase(&owner, &purchase("after-lapse", &m, 10_000, &[&later]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);

    // Bad input names the field; an unknown code is not found; another business's too.
    let r = app.reserve_coupon(&owner, &later, 0).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["minutes"]);
    assert_eq!(
        app.reserve_coupon(&owner, "NOPE-NOPE", 5).await.status,
        StatusCode::NOT_FOUND
    );
    let other = app.signup("cp-hold-other").await;
    let fresh = give(&app, &owner, &m, &tpl).await;
    assert_eq!(
        app.reserve_coupon(&other.owner(), &fresh, 5).await.status,
        StatusCode::NOT_FOUND
    );
}

/// A plan with `coupons` and the given limits, and a business on it.
async fn business_with_limits(app: &TestApp, limits: Value) -> TestTenant {
    // Dear, and archived once the business is on it: never offered to other tests.
    let plan = json!({ "name": "Coupons", "monthly_price_minor": 9_999_999, "currency": "CNY",
                       "features": ["coupons", "promotions"], "limits": limits, "trial_days": 0 });
    app.signup_on_own_plan("cp-plan", &plan).await
}

fn assert_limit(r: &Reply, limit: &str, allowed: i64, usage: i64) {
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{}", r.json);
    let p = r.plan_problem();
    assert_eq!(
        (p.code.as_str(), p.limit.as_deref(), p.allowed, p.usage),
        ("limit_reached", Some(limit), Some(allowed), Some(usage)),
        "{}",
        r.json
    );
}

#[tokio::test]
async fn active_templates_are_capped_by_the_plan_even_in_parallel_and_archiving_frees_one() {
    let app = spawn_app().await;
    let t = business_with_limits(&app, json!({ "coupon_templates": 3 })).await;
    let owner = t.owner();
    let first = template(&app, &owner, "One", json!({}), json!({})).await;
    template(&app, &owner, "Two", json!({}), json!({})).await;
    // The last one, eight creations at once: exactly one takes it.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (api, owner) = (app.api.clone(), owner.clone());
            tokio::spawn(async move {
                api.create_coupon_template(
                    &owner,
                    &json!({ "name": format!("Race {i}"), "terms": terms(json!({})) }),
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let r = task.await.unwrap();
        if r.status == StatusCode::OK {
            ok += 1;
        } else {
            assert_limit(&r, "coupon_templates", 3, 3);
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        app.my_plan(&owner)
            .await
            .body()
            .usage_of("coupon_templates")
            .usage,
        3
    );
    // Archiving frees one; bringing it back needs one again.
    assert_eq!(
        app.archive_coupon_template(&owner, &first, true)
            .await
            .status,
        StatusCode::OK
    );
    template(&app, &owner, "Three", json!({}), json!({})).await;
    let r = app.archive_coupon_template(&owner, &first, false).await;
    assert_limit(&r, "coupon_templates", 3, 3);
    assert_eq!(
        app.coupon_template(&owner, &first).await.json["archived"],
        true
    );
}

#[tokio::test]
async fn coupons_issued_a_month_are_capped_by_the_plan_on_every_path_even_in_parallel() {
    let app = spawn_app().await;
    let t = business_with_limits(&app, json!({ "coupons_per_month": 10 })).await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Monthly",
        json!({}),
        json!({ "claimable": true }),
    )
    .await;
    let m = app.member(&owner, NewMember::named("Counted")).await.id;
    // A batch and a staff issue count; asking past the cap takes nothing.
    let r = app
        .create_coupon_batch(&owner, &tpl, &json!({ "count": 6, "pattern": "M-####" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = app
        .issue_coupons(&owner, &m, &json!({ "template_id": tpl, "quantity": 5 }))
        .await;
    assert_limit(&r, "coupons_per_month", 10, 6);
    let r = app
        .issue_coupons(&owner, &m, &json!({ "template_id": tpl, "quantity": 3 }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    // The last coupon of the month, sixteen issues at once: exactly one is given.
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (api, owner, m, tpl) = (app.api.clone(), owner.clone(), m.clone(), tpl.clone());
            tokio::spawn(async move {
                api.issue_coupons(&owner, &m, &json!({ "template_id": tpl }))
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        let r = task.await.unwrap();
        if r.status == StatusCode::OK {
            ok += 1;
        } else {
            assert_limit(&r, "coupons_per_month", 10, 10);
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 10);
    assert_eq!(
        app.my_plan(&owner)
            .await
            .body()
            .usage_of("coupons_per_month")
            .usage,
        10
    );
    // A member's claim is refused in words a member can act on (not a plan's 402).
    let (member, _) = portal_member(&app, &t, "13900005555").await;
    let r = app
        .portal_claim_coupon(
            &t.slug,
            &member,
            &json!({ "template_id": tpl, "idempotency_key": "over" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.code(), "coupons_unavailable");
}

#[tokio::test]
async fn a_segment_issue_gives_the_searchs_members_one_each_within_the_limits_and_resumes_safely() {
    let app = spawn_app().await;
    let t = app.signup("cp-segment").await;
    let owner = t.owner();
    let mut vips = Vec::new();
    for i in 0..8 {
        let mut m = NewMember::named(format!("Vip {i}"));
        m.tags = Some(vec!["vip".into()]);
        vips.push(app.member(&owner, m).await.id);
    }
    let plain = app.member(&owner, NewMember::named("Plain")).await.id;
    let tpl = template(
        &app,
        &owner,
        "For VIPs",
        json!({}),
        json!({ "total": 6, "per_member": 1 }),
    )
    .await;
    // The first VIP holds one already: skipped.
    give(&app, &owner, &vips[0], &tpl).await;
    let body = json!({ "filter": { "tags": ["vip"] }, "idempotency_key": "vip-1" });
    let r = app.issue_coupons_to_segment(&owner, &tpl, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        (r.json["status"].as_str(), r.json["matched"].as_i64()),
        (Some("running"), Some(8))
    );
    let run = r.json["id"].as_str().unwrap().to_owned();
    run_segment_issue(&app, &t, &run).await;
    let runs = app.coupon_segment_issues(&owner, &tpl).await.json;
    let done = &runs[0];
    assert_eq!(done["id"], run.as_str());
    // Five left of six: five given, then sold out.
    assert_eq!(
        (
            done["status"].as_str(),
            done["stop_reason"].as_str(),
            done["issued"].as_i64(),
            done["done"].as_i64()
        ),
        (Some("stopped"), Some("sold_out"), Some(5), Some(8)),
        "{done}"
    );
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 6);
    for (i, m) in vips.iter().enumerate() {
        let held = app.member_coupons(&owner, m).await.json;
        let n = held.as_array().unwrap().len();
        assert!(n <= 1, "vip {i} holds {n}");
    }
    assert_eq!(
        app.member_coupons(&owner, &plain).await.json,
        json!([]),
        "not in the segment"
    );
    // Running the job again, or the same request again, gives nothing more.
    run_segment_issue(&app, &t, &run).await;
    let again = app.issue_coupons_to_segment(&owner, &tpl, &body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["id"], run.as_str());
    assert_eq!(again.json["issued"], 5);
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 6);
    // The same key with another filter is refused; a bad filter names its field.
    let other = json!({ "filter": { "tags": ["gold"] }, "idempotency_key": "vip-1" });
    let r = app.issue_coupons_to_segment(&owner, &tpl, &other).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    let bad = json!({ "filter": { "joined_from": "soon" } });
    let r = app.issue_coupons_to_segment(&owner, &tpl, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert_eq!(r.fields(), vec!["filter.joined_from".to_owned()]);

    // Two workers on one run at once (a job picked up again while the first still runs):
    // every VIP gets exactly one.
    let open = template(&app, &owner, "Open", json!({}), json!({ "per_member": 1 })).await;
    let r = app
        .issue_coupons_to_segment(&owner, &open, &json!({ "filter": { "tags": ["vip"] } }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let run = r.json["id"].as_str().unwrap().to_owned();
    let (a, b) = tokio::join!(
        run_segment_issue(&app, &t, &run),
        run_segment_issue(&app, &t, &run)
    );
    let _ = (a, b);
    let runs = app.coupon_segment_issues(&owner, &open).await.json;
    assert_eq!(
        (runs[0]["status"].as_str(), runs[0]["issued"].as_i64()),
        (Some("done"), Some(8)),
        "{runs}"
    );
    assert_eq!(app.coupon_template(&owner, &open).await.json["issued"], 8);
}

async fn held(app: &TestApp, owner: &Auth, member: &str) -> usize {
    let v = app.member_coupons(owner, member).await.json;
    v.as_array().map(Vec::len).unwrap_or(0)
}

/// Publishes a purchase rule form: 1 point per yuan and a coupon of `template`.
async fn purchase_rule_with_coupon(app: &TestApp, owner: &Auth, template: &str) {
    let form = json!({ "kind": "purchase", "base": { "points": 1, "per_amount": 100 },
                       "minimum_spend": 1_000, "coupon_template_id": template });
    let r = app
        .publish_rule(owner, "purchase", &json!({ "template": form }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

#[tokio::test]
async fn a_rule_with_a_coupon_gives_one_per_purchase_a_replay_none_more_and_past_the_total_none_while_the_purchase_stands(
) {
    let app = spawn_app().await;
    let t = app.signup("cp-rule").await;
    let owner = t.owner();
    let tpl = template(&app, &owner, "Thanks", json!({}), json!({ "total": 2 })).await;
    purchase_rule_with_coupon(&app, &owner, &tpl).await;
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;
    let buy =
        |id: &str, amount: i64| json!({ "external_id": id, "member_id": ann, "amount": amount });

    let first = app.record_purchase(&owner, &buy("r-1", 2_000)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert_eq!(first.json["points"], 20);
    let given = &first.json["rule_coupons"];
    assert_eq!(given.as_array().unwrap().len(), 1, "{}", first.json);
    assert_eq!(given[0]["template_id"], tpl.as_str());
    assert_eq!(given[0]["given"], true);
    let code = given[0]["code"].as_str().unwrap().to_owned();

    // The same purchase again: the first answer, no second coupon.
    let replay = app.record_purchase(&owner, &buy("r-1", 2_000)).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.json);
    assert_eq!(replay.json["rule_coupons"][0]["code"], code.as_str());
    assert_eq!(held(&app, &owner, &ann).await, 1);

    // Under the rule's minimum spend: no points, no coupon.
    let small = app.record_purchase(&owner, &buy("r-small", 500)).await;
    assert_eq!(small.status, StatusCode::CREATED, "{}", small.json);
    assert_eq!(small.json["rule_coupons"], json!([]));
    assert_eq!(held(&app, &owner, &ann).await, 1);

    let second = app.record_purchase(&owner, &buy("r-2", 3_000)).await;
    assert_eq!(
        second.json["rule_coupons"][0]["given"], true,
        "{}",
        second.json
    );
    assert_eq!(held(&app, &owner, &ann).await, 2);

    // The template's total is reached: the purchase is recorded with its points, and the
    // coupon is said not given.
    let third = app.record_purchase(&owner, &buy("r-3", 4_000)).await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.json);
    assert_eq!(third.json["points"], 40);
    assert_eq!(
        third.json["rule_coupons"][0]["given"], false,
        "{}",
        third.json
    );
    assert!(third.json["rule_coupons"][0]["code"].is_null());
    assert_eq!(held(&app, &owner, &ann).await, 2);
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 2);
    let again = app.record_purchase(&owner, &buy("r-3", 4_000)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json["rule_coupons"][0]["given"], false);
}

#[tokio::test]
async fn a_custom_event_rule_may_give_only_a_coupon_and_an_unknown_template_is_refused_by_field() {
    let app = spawn_app().await;
    let t = app.signup_on("cp-rule-ev", "pro").await;
    let owner = t.owner();
    let tpl = template(&app, &owner, "Review thanks", json!({}), json!({})).await;
    let unknown = uuid::Uuid::new_v4().to_string();
    let bad = app
        .publish_rule(
            &owner,
            "event.review",
            &json!({ "template": { "kind": "custom_event", "event": "review",
                                   "coupon_template_id": unknown } }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.json);
    assert_eq!(
        bad.fields(),
        vec!["template.coupon_template_id"],
        "{}",
        bad.json
    );
    let ok = app
        .publish_rule(
            &owner,
            "event.review",
            &json!({ "template": { "kind": "custom_event", "event": "review",
                                   "coupon_template_id": tpl } }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.json);
    let bo = app.member(&owner, NewMember::named("Bo")).await.id;
    let event = json!({ "external_id": "rv-1", "member_id": bo, "name": "review" });
    let r = app.record_event(&owner, &event).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["points"], 0);
    assert_eq!(r.json["coupons"][0]["given"], true, "{}", r.json);
    let replay = app.record_event(&owner, &event).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.json);
    let held = app.member_coupons(&owner, &bo).await.json;
    assert_eq!(held.as_array().unwrap().len(), 1);
    assert_eq!(held[0]["channel"], "rule", "{held}");
}

#[tokio::test]
async fn parallel_replays_of_a_purchase_give_one_rule_coupon_and_parallel_purchases_stop_at_the_members_limit(
) {
    let app = spawn_app().await;
    let t = app.signup("cp-rule-par").await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Per visit",
        json!({}),
        json!({ "per_member": 3 }),
    )
    .await;
    purchase_rule_with_coupon(&app, &owner, &tpl).await;
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;
    let fire = |ids: Vec<String>| {
        let tasks: Vec<_> = ids
            .into_iter()
            .map(|id| {
                let (api, owner, ann) = (app.api.clone(), owner.clone(), ann.clone());
                tokio::spawn(async move {
                    api.record_purchase(
                        &owner,
                        &json!({ "external_id": id, "member_id": ann, "amount": 2_000 }),
                    )
                    .await
                })
            })
            .collect();
        async move {
            let mut out = Vec::new();
            for task in tasks {
                let r = task.await.unwrap();
                assert!(r.status.is_success(), "{}: {}", r.status, r.json);
                out.push(r.json);
            }
            out
        }
    };
    let same = fire(vec!["same".to_owned(); 8]).await;
    assert_eq!(held(&app, &owner, &ann).await, 1);
    let codes: std::collections::BTreeSet<_> = same
        .iter()
        .map(|r| r["rule_coupons"][0]["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 1, "every replay answers the first coupon");
    let distinct = fire((0..8).map(|i| format!("p-{i}")).collect()).await;
    // Two more under the member's limit of 3; the other purchases stand without one.
    assert_eq!(held(&app, &owner, &ann).await, 3);
    let given = distinct
        .iter()
        .filter(|r| r["rule_coupons"][0]["given"] == true)
        .count();
    assert_eq!(given, 2);
    assert!(distinct.iter().all(|r| r["points"] == 20));
}

#[tokio::test]
async fn a_shared_code_at_the_till_gives_the_member_one_coupon_and_uses_it_and_a_replay_gives_none_more(
) {
    let app = spawn_app().await;
    let t = app.signup("cp-shared").await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Summer",
        json!({ "amount": 2000 }),
        json!({ "shared_code": "SUMMER20", "per_member": 1 }),
    )
    .await;
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;

    // Typed in lower case at the till: the same code.
    let first = app
        .record_purchase(&owner, &purchase("sh-1", &ann, 10_000, &["summer20"]))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    assert_eq!(first.json["discount"], 2000);
    assert_eq!(first.json["amount"], 8000);
    let result = &first.json["coupons"][0];
    assert_eq!(result["code"], "SUMMER20", "{}", first.json);
    assert_eq!(result["applied"], true);
    let issued = result["issued_code"].as_str().expect("a coupon").to_owned();
    // The member holds it, used by this purchase.
    let coupons = app.member_coupons(&owner, &ann).await.json;
    assert_eq!(coupons.as_array().unwrap().len(), 1, "{coupons}");
    assert_eq!(coupons[0]["code"], issued.as_str());
    assert_eq!(coupons[0]["status"], "used");
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 1);

    // The same purchase again: the first answer, nothing more given.
    let replay = app
        .record_purchase(&owner, &purchase("sh-1", &ann, 10_000, &["summer20"]))
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.json);
    assert_eq!(replay.json["coupons"][0]["issued_code"], issued.as_str());
    assert_eq!(held(&app, &owner, &ann).await, 1);
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 1);

    // One per member: a second purchase stands without it, saying why.
    let second = app
        .record_purchase(&owner, &purchase("sh-2", &ann, 10_000, &["SUMMER20"]))
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.json);
    assert_eq!(second.json["discount"], 0);
    assert_eq!(second.json["amount"], 10_000);
    assert_eq!(second.json["coupons"][0]["applied"], false);
    assert_eq!(second.json["coupons"][0]["reason"], "member_limit");
    assert!(second.json["coupons"][0]["issued_code"].is_null());
    assert_eq!(held(&app, &owner, &ann).await, 1);
    let h = app.member_purchases(&owner, &ann).await.json;
    assert_eq!(h["total_count"], 2, "{h}");
}

#[tokio::test]
async fn validating_a_shared_code_answers_what_the_purchase_would_do_and_writes_nothing() {
    let app = spawn_app().await;
    let t = app.signup("cp-shared-v").await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Summer",
        json!({ "amount": 2000, "min_spend": 5000 }),
        json!({ "shared_code": "SUMMER20", "total": 1 }),
    )
    .await;
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;
    let bob = app.member(&owner, NewMember::named("Bob")).await.id;

    let v = cart(&app, &owner, till_cart(&ann, 10_000, &["Summer20"])).await;
    assert_eq!(v["discount"], 2000, "{v}");
    assert_eq!(v["applicable"], true);
    assert_eq!(v["coupons"][0]["code"], "SUMMER20");
    assert_eq!(v["coupons"][0]["applied"], true);
    assert!(v["coupons"][0]["issued_code"].is_null());
    // Under the minimum spend: the reason the purchase would be refused with.
    let low = cart(&app, &owner, till_cart(&ann, 4_000, &["SUMMER20"])).await;
    assert_eq!(low["coupons"][0]["reason"], "min_spend", "{low}");
    assert_eq!(low["applicable"], false);
    // Nothing was written.
    assert_eq!(held(&app, &owner, &ann).await, 0);
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 0);

    // Once the only coupon is given, another member's cart hears it is sold out, and a
    // purchase with it stands without it.
    let r = app
        .record_purchase(&owner, &purchase("v-1", &ann, 10_000, &["SUMMER20"]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let v = cart(&app, &owner, till_cart(&bob, 10_000, &["SUMMER20"])).await;
    assert_eq!(v["coupons"][0]["reason"], "sold_out", "{v}");
    assert_eq!(v["applicable"], true);
    assert_eq!(v["discount"], 0);
    let r = app
        .record_purchase(&owner, &purchase("v-2", &bob, 10_000, &["SUMMER20"]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["coupons"][0]["reason"], "sold_out");
    assert_eq!(held(&app, &owner, &bob).await, 0);
}

#[tokio::test]
async fn a_shared_code_with_a_total_of_three_in_ten_parallel_purchases_is_applied_three_times() {
    let app = spawn_app().await;
    let t = app.signup("cp-shared-race").await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Three",
        json!({ "amount": 1000 }),
        json!({ "shared_code": "THREE", "total": 3 }),
    )
    .await;
    let mut members = Vec::new();
    for i in 0..10 {
        members.push(
            app.member(&owner, NewMember::named(format!("M{i}")))
                .await
                .id,
        );
    }
    let tasks: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (api, owner, body) = (
                app.api.clone(),
                owner.clone(),
                purchase(&format!("three-{i}"), m, 5_000, &["THREE"]),
            );
            tokio::spawn(async move { api.record_purchase(&owner, &body).await })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        if r.json["coupons"][0]["applied"] == true {
            applied += 1;
            assert_eq!(r.json["amount"], 4_000);
        } else {
            assert_eq!(r.json["coupons"][0]["reason"], "sold_out", "{}", r.json);
            assert_eq!(r.json["amount"], 5_000);
        }
    }
    assert_eq!(applied, 3);
    assert_eq!(app.coupon_template(&owner, &tpl).await.json["issued"], 3);
}

fn till_cart(member: &str, amount: i64, codes: &[&str]) -> Value {
    json!({ "member_id": member, "amount": amount, "coupon_codes": codes })
}

#[tokio::test]
async fn purchases_whose_shared_codes_and_rule_coupons_cross_templates_all_stand() {
    // Each purchase locks its shared code's template together with the rule's templates, in
    // id order, so codes of both templates in flight wait for each other without a deadlock
    // (should the database still abort one, that purchase is tried again): every one is
    // recorded with its coupons.
    let app = spawn_app().await;
    let t = app.signup_on("cp-cross", "pro").await;
    let owner = t.owner();
    let a = template(
        &app,
        &owner,
        "Alpha",
        json!({ "amount": 100 }),
        json!({ "shared_code": "ALPHA" }),
    )
    .await;
    let b = template(
        &app,
        &owner,
        "Beta",
        json!({ "amount": 100 }),
        json!({ "shared_code": "BETA" }),
    )
    .await;
    let script = format!(
        "award(floor_div(event.amount, 100), \"1 point per yuan\");\n\
         give_coupon(\"{a}\");\ngive_coupon(\"{b}\");"
    );
    app.save_rule_draft(&owner, "purchase", &json!({ "script": script }))
        .await
        .ok();
    app.publish_rule(&owner, "purchase", &json!({ "note": "both" }))
        .await
        .ok();
    let mut members = Vec::new();
    for i in 0..16 {
        members.push(
            app.member(&owner, NewMember::named(format!("X{i}")))
                .await
                .id,
        );
    }
    let tasks: Vec<_> = members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let code = if i % 2 == 0 { "ALPHA" } else { "BETA" };
            let (api, owner, body) = (
                app.api.clone(),
                owner.clone(),
                purchase(&format!("cross-{i}"), m, 5_000, &[code]),
            );
            tokio::spawn(async move { api.record_purchase(&owner, &body).await })
        })
        .collect();
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        assert_eq!(r.json["coupons"][0]["applied"], true, "{}", r.json);
        assert_eq!(
            r.json["rule_coupons"].as_array().map(Vec::len),
            Some(2),
            "{}",
            r.json
        );
    }
    // One coupon of each template per purchase from the rule, one more from the code typed.
    let issued = |v: Value| v["issued"].as_i64().unwrap_or(-1);
    assert_eq!(issued(app.coupon_template(&owner, &a).await.json), 16 + 8);
    assert_eq!(issued(app.coupon_template(&owner, &b).await.json), 16 + 8);
}

#[tokio::test]
async fn a_cart_holds_several_coupons_under_its_own_id_renews_them_and_lets_them_go() {
    let app = spawn_app_with(16).await;
    let t = app.signup("cp-cart").await;
    let owner = t.owner();
    let tpl = template(&app, &owner, "Cart", json!({}), json!({})).await;
    let m = app.member(&owner, NewMember::named("Carter")).await.id;
    let first = give(&app, &owner, &m, &tpl).await;
    let second = give(&app, &owner, &m, &tpl).await;
    let cart_id = uuid::Uuid::new_v4().to_string();

    // Both held under the cart's id; holding again extends, and the life says it once.
    let r = app.hold_coupon(&owner, &first, &cart_id, 2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["reservation_id"], cart_id);
    let until: chrono::DateTime<chrono::Utc> =
        r.json["reserved_until"].as_str().unwrap().parse().unwrap();
    let r = app.hold_coupon(&owner, &second, &cart_id, 5).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    app.clock.advance(Duration::minutes(1));
    let renewed = app.hold_coupon(&owner, &first, &cart_id, 5).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.json);
    let later: chrono::DateTime<chrono::Utc> = renewed.json["reserved_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(later - until, Duration::minutes(4));
    let life = app.member_coupons(&owner, &m).await.json;
    let held = life
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == first.as_str())
        .unwrap();
    let kinds: Vec<&str> = held["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["issued", "reserved"]);
    // Past the first hold's end, the renewal still holds it.
    app.clock.advance(Duration::minutes(2));
    let check = cart(
        &app,
        &owner,
        json!({ "member_id": m, "amount": 10_000, "coupon_codes": [first] }),
    )
    .await;
    assert_eq!(check["coupons"][0]["reason"], "reserved", "{check}");
    let theirs = uuid::Uuid::new_v4().to_string();
    let r = app.hold_coupon(&owner, &first, &theirs, 5).await;
    assert_eq!(r.code(), "coupon_reserved", "{}", r.json);

    // Letting go: a wrong id changes nothing; the cart's frees the coupon for another.
    assert_eq!(
        app.release_coupon(&owner, &second, &theirs).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.hold_coupon(&owner, &second, &theirs, 5).await.code(),
        "coupon_reserved"
    );
    assert_eq!(
        app.release_coupon(&owner, &second, &cart_id).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app.hold_coupon(&owner, &second, &theirs, 5).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        app.release_coupon(&owner, "NOPE-NOPE", &cart_id)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The cart uses what it holds; letting go afterwards changes nothing.
    let mut mine = purchase("cart-buy", &m, 10_000, &[&first]);
    mine["coupon_reservation"] = json!(cart_id);
    let r = app.record_purchase(&owner, &mine).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["discount"], 500);
    assert_eq!(
        app.release_coupon(&owner, &first, &cart_id).await.status,
        StatusCode::NO_CONTENT
    );
    let life = app.member_coupons(&owner, &m).await.json;
    let used = life
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == first.as_str())
        .unwrap();
    assert_eq!(used["status"], "used");

    // Ten carts reach for one coupon at once: one holds it, nine are told it is held.
    let last = give(&app, &owner, &m, &tpl).await;
    let tries = (0..10).map(|_| {
        let (app, owner, last) = (&app, &owner, &last);
        async move {
            let id = uuid::Uuid::new_v4().to_string();
            app.hold_coupon(owner, last, &id, 5).await
        }
    });
    let answers = futures::future::join_all(tries).await;
    let held = answers
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "coupon_reserved")
        .count();
    assert_eq!((held, refused), (1, 9), "{answers:?}");
}

#[tokio::test]
async fn a_free_claim_retried_or_raced_with_its_key_gives_one_coupon_and_a_refusal_stores_nothing()
{
    let app = spawn_app_with(16).await;
    let t = app.signup("cp-claim-key").await;
    let owner = t.owner();
    let tpl = template(
        &app,
        &owner,
        "Free tea",
        json!({}),
        json!({ "total": 3, "claimable": true }),
    )
    .await;
    let (member, member_id) = portal_member(&app, &t, "13900002222").await;
    let body = json!({ "template_id": tpl, "idempotency_key": "tea-1" });
    // Eight copies of one claim at once: one coupon, the same answer to all.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (api, member, slug, body) = (
                app.api.clone(),
                member.clone(),
                t.slug.clone(),
                body.clone(),
            );
            tokio::spawn(async move { api.portal_claim_coupon(&slug, &member, &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let r = task.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        answers.push(r.json);
    }
    let codes = answers[0]["codes"].clone();
    assert_eq!(codes.as_array().unwrap().len(), 1, "{codes}");
    for a in &answers {
        assert_eq!(a["codes"], codes);
        assert_eq!(a["valid_until"], answers[0]["valid_until"]);
    }
    assert_eq!(
        answers.iter().filter(|a| a["replayed"] == false).count(),
        1,
        "{answers:?}"
    );
    let held = app.member_coupons(&owner, &member_id).await.json;
    assert_eq!(held.as_array().unwrap().len(), 1);
    assert_eq!(held[0]["code"], codes[0]);
    // The key with another body is refused.
    let r = app
        .portal_claim_coupon(
            &t.slug,
            &member,
            &json!({ "template_id": tpl, "quantity": 2, "idempotency_key": "tea-1" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.code(), "idempotency_key_reused");

    // Two more take the rest; the next is sold out and keeps nothing under its key: once
    // the total is raised, the same key claims for real (not a replay of the refusal or of
    // an answer stored before the refusal).
    let r = app
        .portal_claim_coupon(
            &t.slug,
            &member,
            &json!({ "template_id": tpl, "quantity": 2, "idempotency_key": "tea-2" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let late = json!({ "template_id": tpl, "idempotency_key": "tea-3" });
    let r = app.portal_claim_coupon(&t.slug, &member, &late).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.json);
    assert_eq!(r.code(), "coupon_sold_out");
    let r = app
        .update_coupon_template(
            &owner,
            &tpl,
            &json!({ "name": "Free tea", "terms": terms(json!({})), "total": 4,
                     "claimable": true }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = app.portal_claim_coupon(&t.slug, &member, &late).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["replayed"], false);
    assert_eq!(
        app.member_coupons(&owner, &member_id)
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let tpl_now = app.coupon_template(&owner, &tpl).await.json;
    assert_eq!(tpl_now["issued"], 4);
}
