//! Promotions through the API: a multiplier that applies only within its period (the
//! business's days) and audience and says so in the points' reason; a coupon given once
//! per member under parallel purchases; a mall item's reduced price; drafts, publishing,
//! stopping and their refusals; the member's list in the portal; bad input named by field;
//! the plan gate; another business cannot see them.

use chrono::{Duration, TimeZone, Utc};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PER_YUAN: &str = r#"award(floor_div(event.amount, 100), "1 point per yuan");"#;

/// 1 May 2027, 12:00 in Shanghai.
fn may_first() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 5, 1, 4, 0, 0).unwrap()
}

async fn shop(app: &TestApp, prefix: &str) -> (TestTenant, Auth) {
    app.clock.set(may_first());
    let t = app.signup_on(prefix, "pro").await;
    // A key, not a login: the clock moves past a login's lifetime.
    let owner = app.api_key(&t, "owner").await;
    app.update_settings(&owner, &json!({ "time_zone": "Asia/Shanghai" }))
        .await
        .ok();
    (t, owner)
}

async fn published(app: &TestApp, owner: &Auth, body: Value) -> Value {
    let r = app.create_promotion(owner, &body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["phase"], "draft");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = app.publish_promotion(owner, &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    r.json
}

async fn buy(app: &TestApp, owner: &Auth, member: &str, id: &str, amount: i64) -> Value {
    let r = app
        .record_purchase(owner, &NewPurchase::for_member(id, member, amount))
        .await
        .untyped();
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    r.json
}

async fn publish_gold_ladder(app: &TestApp, owner: &Auth) {
    let tier = |code: &str, threshold: i64| {
        json!({ "code": code, "name": { "zh-CN": code, "en": code }, "threshold": threshold,
                "benefits": {} })
    };
    app.publish_ladder(
        owner,
        &json!({ "ladder": { "metric": "spend", "window": { "kind": "rolling", "days": 30 },
                 "retention_days": 0, "demotion": "direct",
                 "tiers": [tier("base", 0), tier("gold", 50_000)] } }),
    )
    .await
    .ok();
}

#[tokio::test]
async fn a_multiplier_applies_only_within_its_days_and_audience_and_shows_in_the_reason() {
    let app = spawn_app().await;
    let (_t, owner) = shop(&app, "promo-window").await;
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    publish_gold_ladder(&app, &owner).await;
    let gold = app.member(&owner, NewMember::named("Gold")).await.id;
    let base = app.member(&owner, NewMember::named("Base")).await.id;
    // 600 yuan makes Gold a gold member at once.
    buy(&app, &owner, &gold, "g-0", 60_000).await;

    // 2 and 3 May (Shanghai), gold members only, ×2.
    let p = published(
        &app,
        &owner,
        json!({ "name": "Golden days", "starts_on": "2027-05-02", "ends_on": "2027-05-03",
                "tiers": ["gold"], "multiplier": 2.0 }),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["phase"], "scheduled");
    // The period is the business's days: 2 May 00:00 in Shanghai is 1 May 16:00 UTC.
    assert_eq!(p["starts_at"], "2027-05-01T16:00:00+00:00");
    assert_eq!(p["ends_at"], "2027-05-03T16:00:00+00:00");

    // Before it: the rule's points only.
    let r = buy(&app, &owner, &gold, "g-1", 10_000).await;
    assert_eq!(r["points"], 100);

    // 1 May 16:30 UTC is 2 May in Shanghai: running, twice the points for gold.
    app.clock.set(may_first() + Duration::minutes(12 * 60 + 30));
    assert_eq!(app.promotion(&owner, &id).await.json["phase"], "running");
    let r = buy(&app, &owner, &gold, "g-2", 10_000).await;
    assert_eq!(r["points"], 200, "{r}");
    let extra = r["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["reason_code"] == "promotion_multiplier")
        .unwrap_or_else(|| panic!("a promotion reason in {r}"))
        .clone();
    assert_eq!(extra["points"], 100);
    assert_eq!(extra["reason_params"]["promotion"], "Golden days");
    assert_eq!(extra["reason_params"]["factor"], "2");
    // The ledger entry says it too.
    let entries = app.points_entries(&owner, &gold, Some(1)).await.ok();
    let e = &entries.items[0];
    assert_eq!(e.points, 200);
    assert!(e.reason.contains("Golden days ×2"), "{}", e.reason);
    // Not for a member outside the audience.
    let r = buy(&app, &owner, &base, "b-1", 10_000).await;
    assert_eq!(r["points"], 100);

    // 3 May 16:00 UTC is 4 May in Shanghai: ended.
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 5, 3, 16, 0, 0).unwrap());
    let r = buy(&app, &owner, &gold, "g-3", 10_000).await;
    assert_eq!(r["points"], 100);
    let p = app.promotion(&owner, &id).await.json;
    assert_eq!(p["phase"], "ended");
    assert_eq!(p["results"]["members"], 1);
    assert_eq!(p["results"]["purchases"], 1);
    assert_eq!(p["results"]["points"], 100);
    assert_eq!(p["results"]["sales"], 10_000);
    // A purchase that occurred during it but is recorded now still counts.
    let mut late = NewPurchase::for_member("g-4", &gold, 5_000);
    late.occurred_at = Some(may_first() + Duration::hours(13));
    let r = app.record_purchase(&owner, &late).await.created();
    assert_eq!(r.points, 100);
}

#[tokio::test]
async fn twenty_parallel_purchases_give_the_promotions_coupon_once() {
    let app = spawn_app().await;
    let (_t, owner) = shop(&app, "promo-coupon").await;
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "Thank you", "terms": { "kind": "amount_off", "amount": 500, "valid_days": 30 } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let tpl = r.json["id"].as_str().unwrap().to_owned();
    let p = published(
        &app,
        &owner,
        json!({ "name": "Buy and get", "starts_on": "2027-05-01", "ends_on": "2027-05-07",
                "coupon_template_id": tpl }),
    )
    .await;
    assert_eq!(p["phase"], "running");
    assert_eq!(p["coupon_template_name"], "Thank you");
    let id = p["id"].as_str().unwrap().to_owned();
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;
    let bob = app.member(&owner, NewMember::named("Bob")).await.id;

    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (api, owner, m) = (app.api.clone(), owner.clone(), ann.clone());
            tokio::spawn(async move {
                api.record_purchase(
                    &owner,
                    &NewPurchase::for_member(&format!("p-{n}"), &m, 1_000),
                )
                .await
                .status
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    let coupons = app.member_coupons(&owner, &ann).await.json;
    let list = coupons.as_array().cloned().unwrap_or_else(|| {
        coupons["items"]
            .as_array()
            .cloned()
            .expect("a list of coupons")
    });
    assert_eq!(list.len(), 1, "{coupons}");
    buy(&app, &owner, &bob, "bob-1", 2_000).await;
    let r = app.promotion(&owner, &id).await.json;
    assert_eq!(r["results"]["members"], 2);
    assert_eq!(r["results"]["purchases"], 21);
    assert_eq!(r["results"]["sales"], 22_000);
    assert_eq!(r["results"]["coupons_issued"], 2);
    assert_eq!(r["results"]["coupons_used"], 0);
    // Stopped, it gives no more coupons.
    let r = app.stop_promotion(&owner, &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["phase"], "stopped");
    let cy = app.member(&owner, NewMember::named("Cy")).await.id;
    buy(&app, &owner, &cy, "cy-1", 2_000).await;
    assert_eq!(
        app.promotion(&owner, &id).await.json["results"]["coupons_issued"],
        2
    );
    let r = app.stop_promotion(&owner, &id).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "promotion_not_stoppable");
}

#[tokio::test]
async fn a_running_promotion_lowers_a_mall_items_points_price() {
    let app = spawn_app().await;
    let (_t, owner) = shop(&app, "promo-mall").await;
    let item = app
        .create_mall_item(
            &owner,
            &json!({ "name": "Mug", "points": 100, "stock": 10, "delivery": "pickup" }),
        )
        .await
        .ok();
    let m = app.member(&owner, NewMember::named("Ann")).await.id;
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "g", "points": 1_000, "reason": "welcome" }),
    )
    .await
    .created();
    published(
        &app,
        &owner,
        json!({ "name": "Mug week", "starts_on": "2027-05-01", "ends_on": "2027-05-07",
                "mall_items": [{ "item_id": item.id, "points": 60 }] }),
    )
    .await;
    let placed = app
        .place_mall_order(
            &owner,
            &m,
            &json!({ "idempotency_key": "o-1", "item_id": item.id, "quantity": 2 }),
        )
        .await
        .created();
    assert_eq!(placed.order.points, 120);
    assert_eq!(placed.balance, 880);
    // After the period the item's own price.
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 5, 8, 0, 0, 0).unwrap());
    let placed = app
        .place_mall_order(
            &owner,
            &m,
            &json!({ "idempotency_key": "o-2", "item_id": item.id, "quantity": 1 }),
        )
        .await
        .created();
    assert_eq!(placed.order.points, 100);
}

#[tokio::test]
async fn only_drafts_change_and_the_portal_shows_running_and_upcoming_ones() {
    let app = spawn_app().await;
    let (t, owner) = shop(&app, "promo-life").await;
    let body = json!({ "name": "Later", "starts_on": "2027-06-01", "ends_on": "2027-06-30",
                       "bonus_points": 50, "description": "Fifty more points a purchase" });
    let draft = app.create_promotion(&owner, &body).await.json;
    let later = draft["id"].as_str().unwrap().to_owned();
    let mut renamed = body.clone();
    renamed["name"] = json!("June bonus");
    let r = app.update_promotion(&owner, &later, &renamed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["name"], "June bonus");
    app.publish_promotion(&owner, &later).await;
    let r = app.update_promotion(&owner, &later, &body).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "promotion_not_draft");
    assert_eq!(
        app.delete_promotion(&owner, &later).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.publish_promotion(&owner, &later).await.code(),
        "promotion_not_draft"
    );
    // A period already over cannot be published.
    let past = app
        .create_promotion(
            &owner,
            &json!({ "name": "April", "starts_on": "2027-04-01", "ends_on": "2027-04-30", "bonus_points": 5 }),
        )
        .await
        .json;
    let past_id = past["id"].as_str().unwrap().to_owned();
    let r = app.publish_promotion(&owner, &past_id).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "promotion_period_over");
    // A draft can be deleted.
    assert_eq!(
        app.delete_promotion(&owner, &past_id).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.promotion(&owner, &past_id).await.status,
        StatusCode::NOT_FOUND
    );
    published(
        &app,
        &owner,
        json!({ "name": "Now", "starts_on": "2027-05-01", "ends_on": "2027-05-02", "bonus_points": 10 }),
    )
    .await;
    published(
        &app,
        &owner,
        json!({ "name": "Gold only", "starts_on": "2027-05-01", "ends_on": "2027-05-02",
                "bonus_points": 10, "tiers": ["gold"] }),
    )
    .await;
    let listed = app.promotions(&owner, Some("running")).await.json;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(
        app.promotions(&owner, Some("soon")).await.fields(),
        vec!["phase"]
    );

    // The member sees the running one and the upcoming one, not the other tier's.
    let phone = "13900007777";
    assert_eq!(
        app.send_portal_code(&t.slug, phone, "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&t, phone).await;
    let s = app
        .register_member(&t.slug, &json!({ "profile": { "name": "Mia", "phone": phone }, "code": code, "password": PASSWORD }))
        .await
        .created();
    let mine = app.portal_promotions(&t.slug, &s.auth()).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.json);
    let names: Vec<(&str, &str)> = mine
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["phase"].as_str().unwrap()))
        .collect();
    assert_eq!(names, vec![("Now", "running"), ("June bonus", "scheduled")]);
}

#[tokio::test]
async fn bad_input_is_named_by_field_plans_gate_and_other_businesses_see_nothing() {
    let app = spawn_app().await;
    let (_t, owner) = shop(&app, "promo-bad").await;
    let ok = json!({ "name": "Fine", "starts_on": "2027-05-01", "ends_on": "2027-05-02", "multiplier": 1.5 });
    let cases = [
        ("name", json!({ "name": "" })),
        ("ends_on", json!({ "ends_on": "2027-04-01" })),
        ("multiplier", json!({ "multiplier": 11 })),
        ("multiplier", json!({ "multiplier": 1.234 })),
        ("bonus_points", json!({ "bonus_points": -1 })),
        (
            "coupon_template_id",
            json!({ "coupon_template_id": "0190a5d2-0000-7000-8000-000000000000" }),
        ),
        (
            "mall_items[0].item_id",
            json!({ "mall_items": [{ "item_id": "0190a5d2-0000-7000-8000-000000000000", "points": 5 }] }),
        ),
        (
            "mall_items[0].points",
            json!({ "mall_items": [{ "item_id": "0190a5d2-0000-7000-8000-000000000000", "points": 0 }] }),
        ),
        ("tiers[0]", json!({ "tiers": [""] })),
    ];
    for (field, change) in cases {
        let mut body = ok.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.create_promotion(&owner, &body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.json
        );
        assert_eq!(r.fields(), vec![field.to_owned()], "{}", r.json);
    }
    // Nothing to give.
    let r = app
        .create_promotion(
            &owner,
            &json!({ "name": "Empty", "starts_on": "2027-05-01", "ends_on": "2027-05-02" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), vec!["multiplier"]);
    assert_eq!(
        app.create_promotion(&owner, &ok).await.status,
        StatusCode::OK
    );
    let mine = app.promotions(&owner, None).await.json;
    let id = mine[0]["id"].as_str().unwrap().to_owned();

    // Another business: not found, and not listed.
    let other = app.signup_on("promo-other", "pro").await;
    assert_eq!(
        app.promotion(&other.owner(), &id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.publish_promotion(&other.owner(), &id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.promotions(&other.owner(), None).await.json, json!([]));

    // A plan without promotions: 402 naming the feature.
    let basic = app.signup_on("promo-basic", "starter").await;
    let r = app.create_promotion(&basic.owner(), &ok).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(r.plan_problem().feature.as_deref(), Some("promotions"));
}

#[tokio::test]
async fn a_promotions_coupon_past_the_plans_coupons_of_the_month_is_not_given_and_the_purchase_stands(
) {
    let app = spawn_app().await;
    app.clock.set(may_first());
    let plan = json!({ "name": "One coupon", "monthly_price_minor": 9_999_999, "currency": "CNY",
                       "features": ["coupons", "promotions", "api_keys"],
                       "limits": { "coupons_per_month": 1 }, "trial_days": 0 });
    let t = app.signup_on_own_plan("promo-cap", &plan).await;
    let owner = app.api_key(&t, "owner").await;
    app.update_settings(&owner, &json!({ "time_zone": "Asia/Shanghai" }))
        .await
        .ok();
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "Thanks", "terms": { "kind": "amount_off", "amount": 500, "valid_days": 30 } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let tpl = r.json["id"].as_str().unwrap().to_owned();
    let p = published(
        &app,
        &owner,
        json!({ "name": "Buy and get", "starts_on": "2027-05-01", "ends_on": "2027-05-07",
                "coupon_template_id": tpl }),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_owned();
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;
    let bob = app.member(&owner, NewMember::named("Bob")).await.id;
    buy(&app, &owner, &ann, "ann-1", 2_000).await;
    // The month's one coupon is Ann's; Bob's purchase is recorded without one.
    buy(&app, &owner, &bob, "bob-1", 2_000).await;
    let count = |v: Value| v.as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(count(app.member_coupons(&owner, &ann).await.json), 1);
    assert_eq!(count(app.member_coupons(&owner, &bob).await.json), 0);
    let r = app.promotion(&owner, &id).await.json;
    assert_eq!(r["results"]["purchases"], 2);
    assert_eq!(r["results"]["coupons_issued"], 1);
}
