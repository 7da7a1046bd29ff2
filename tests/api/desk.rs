//! The front desk through the API: the one-box lookup (phone, last four digits, card,
//! member code, name), the member summary and its alerts, the member's code from the
//! portal (expired and forged codes refused), and the member's confirmation of a large
//! redemption, which never weakens the no-overdraft guarantee.

use chrono::{Datelike, Duration, Timelike};
use patron_core::clock::Clock;
use patron_tests::internals::assert_ledger_agrees;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

const PER_YUAN: &str = r#"award(floor_div(event.amount, 100), "1 point per yuan");"#;

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
async fn one_box_finds_members_by_phone_last_four_digits_card_and_name() {
    let app = spawn_app().await;
    let t = app.signup_on("desk-find", "pro").await;
    let owner = t.owner();
    let wang = app
        .member(&owner, NewMember::named("王小明").phone("136 5555 6666"))
        .await;
    let li = app
        .member(&owner, NewMember::named("李四").phone("13955556666"))
        .await;
    let zhao = app
        .member(&owner, NewMember::named("赵六").phone("13711112222"))
        .await;
    let gone = app
        .member(&owner, NewMember::named("Gone").phone("13822226666"))
        .await;
    app.erase_member(&owner, &gone.id).await.ok();

    // Four digits: every member whose phone ends so, newest first, masked; erased never.
    let r = app.desk_lookup(&owner, "6666").await.ok();
    assert_eq!(r.kind, "phone_last4");
    assert_eq!(r.names(), ["李四", "王小明"]);
    assert_eq!(r.matches[1].phone_masked.as_deref(), Some("136 **** 6666"));
    assert_eq!(r.matches[1].card_number, wang.card_number);
    assert_eq!(r.matches[1].status, "active");
    assert_eq!(r.matches[1].balance, 0);

    // Each match shows its own member's points.
    app.adjust_points(
        &owner,
        &li.id,
        &json!({ "idempotency_key": "li-seed", "points": 250, "reason": "seed" }),
    )
    .await
    .created();
    let li_points = app.member_points(&owner, &li.id).await.ok().balance;
    assert_eq!(li_points, 250);
    let r = app.desk_lookup(&owner, "6666").await.ok();
    assert_eq!(r.names(), ["李四", "王小明"]);
    assert_eq!((r.matches[0].balance, r.matches[1].balance), (li_points, 0));

    // A full phone in any formatting, a card, a piece of a name.
    let r = app.desk_lookup(&owner, "+86 136-5555-6666").await.ok();
    assert_eq!((r.kind.as_str(), r.names()), ("phone", vec!["王小明"]));
    let r = app.desk_lookup(&owner, zhao.card()).await.ok();
    assert_eq!((r.kind.as_str(), r.names()), ("card", vec!["赵六"]));
    let r = app.desk_lookup(&owner, "小明").await.ok();
    assert_eq!((r.kind.as_str(), r.names()), ("name", vec!["王小明"]));
    let r = app.desk_lookup(&owner, "13800000000").await.ok();
    assert_eq!(r.kind, "phone");
    assert!(r.matches.is_empty());

    // A changed phone moves the member to its new last four digits.
    app.update_member(&owner, &li.id, &json!({ "phone": "13955557777" }))
        .await
        .ok();
    assert_eq!(
        app.desk_lookup(&owner, "6666").await.ok().names(),
        ["王小明"]
    );
    assert_eq!(app.desk_lookup(&owner, "7777").await.ok().names(), ["李四"]);

    // Members imported in bulk are indexed on the first last-four lookup.
    let file = "name,phone\n导入一,13600001234\n导入二,13700001234\n";
    let report = app
        .import_members(
            &owner,
            &ImportOptions::new("csv", "valid_only")
                .mapping(&json!({ "name": "name", "phone": "phone" })),
            file.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(report.rows_imported, 2, "{report:?}");
    let r = app.desk_lookup(&owner, "1234").await.ok();
    assert_eq!(r.names(), ["导入二", "导入一"]);

    // Blank is refused on its field.
    let r = app.desk_lookup(&owner, "  ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["q"]);
}

#[tokio::test]
async fn a_member_code_from_the_portal_opens_the_member_for_a_minute_and_forgeries_are_refused() {
    let app = spawn_app().await;
    let t = app.signup_on("desk-code", "pro").await;
    let owner = t.owner();
    let hana = portal_member(&app, &t, "Hana", "13922223333").await;
    let c = app.portal_my_code(&t.slug, &hana.auth()).await.ok();
    assert!(c.code.starts_with("PM"), "{c:?}");
    assert!(c
        .code
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
    assert!(c.code.len() <= 48);
    assert_eq!(
        c.expires_at,
        app.clock.now().with_nanosecond(0).unwrap() + Duration::seconds(60)
    );
    assert!(c.refresh_in > 0 && c.refresh_in < 60);

    let r = app.desk_lookup(&owner, &c.code).await.ok();
    assert_eq!(r.kind, "member_code");
    assert_eq!(r.matches.len(), 1);
    assert_eq!(r.matches[0].id, hana.member.id);

    // One character changed: forged.
    let mut forged = c.code.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let r = app
        .desk_lookup(&owner, &String::from_utf8(forged).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().code, "member_code_invalid");
    assert_eq!(r.fields(), ["q"]);

    // Another business cannot use it.
    let other = app.signup_on("desk-other", "pro").await;
    let r = app.desk_lookup(&other.owner(), &c.code).await;
    assert_eq!(r.problem().code, "member_code_invalid");

    // A minute (and the grace) later it has expired.
    app.clock.advance(Duration::seconds(71));
    let r = app.desk_lookup(&owner, &c.code).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().code, "member_code_expired");
    assert_eq!(r.fields(), ["q"]);
    // A fresh one works again; a staff token gets no member code.
    let fresh = app.portal_my_code(&t.slug, &hana.auth()).await.ok();
    assert_ne!(fresh.code, c.code);
    assert_eq!(
        app.desk_lookup(&owner, &fresh.code)
            .await
            .ok()
            .matches
            .len(),
        1
    );
    let r = app.portal_my_code(&t.slug, &owner).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_summary_shows_points_tier_progress_last_visit_and_what_to_notice() {
    let app = spawn_app().await;
    let t = app.signup_on("desk-sum", "pro").await;
    let owner = t.owner();
    app.publish_script(&owner, "purchase", PER_YUAN).await;
    app.update_points_settings(&owner, &json!({ "expiry": { "mode": "days", "days": 10 } }))
        .await
        .ok();
    let ladder = json!({ "metric": "spend", "window": { "kind": "rolling", "days": 365 },
        "retention_days": 0, "demotion": "direct", "tiers": [
            { "code": "base", "name": { "zh-CN": "普通", "en": "Base" }, "threshold": 0 },
            { "code": "silver", "name": { "zh-CN": "白银", "en": "Silver" }, "threshold": 50_000 } ] });
    let r = app
        .publish_ladder(&owner, &json!({ "ladder": ladder }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // Birthday today in the business's zone (Asia/Shanghai).
    let today = (app.clock.now() + Duration::hours(8)).date_naive();
    let birthday = today.with_year(1990).unwrap_or(today).to_string();
    let m = app
        .member(
            &owner,
            NewMember::named("Mia")
                .phone("13655556666")
                .birthday(birthday.clone())
                .tags(&["vip"]),
        )
        .await;
    let s = app.member_summary(&owner, &m.id).await.ok();
    assert_eq!(s.balance, 0);
    assert_eq!(s.last_visit, None);
    assert_eq!(s.alert_codes(), ["birthday_today"]);

    app.purchase(&owner, &m.id, "mia-1", 12_000).await;
    let s = app.member_summary(&owner, &m.id).await.ok();
    assert_eq!(s.name, "Mia");
    assert_eq!(s.phone.as_deref(), Some("136 5555 6666"));
    assert_eq!(s.card_number, m.card_number);
    assert_eq!(s.tags, ["vip"]);
    assert_eq!(s.birthday.as_deref(), Some(birthday.as_str()));
    assert_eq!(s.balance, 120);
    assert_eq!(s.debt, 0);
    assert_eq!(s.tier.as_ref().map(|t| t.code.as_str()), Some("base"));
    assert_eq!(s.tier.as_ref().unwrap().name["zh-CN"], "普通");
    let next = s.next_tier.as_ref().expect("a next tier");
    assert_eq!((next.code.as_str(), next.remaining), ("silver", 38_000));
    assert_eq!(s.last_visit.as_deref(), Some(today.to_string().as_str()));
    let e = s.expiring.as_ref().expect("points expire");
    assert_eq!(e.points, 120);
    assert_eq!(s.alert_codes(), ["birthday_today", "points_expiring"]);
    assert_eq!(s.alerts[1].params["points"], 120);

    // Spend the points, refund the purchase: the member owes points.
    app.redeem_points(
        &owner,
        &m.id,
        &json!({ "idempotency_key": "spend", "points": 100, "reward": "mug" }),
    )
    .await
    .created();
    let purchase = app.member_purchases(&owner, &m.id).await.ok().items[0]
        .id
        .clone();
    app.record_refund(
        &owner,
        &json!({ "external_id": "mia-r1", "purchase_id": purchase, "amount": 12_000 }),
    )
    .await
    .created();
    let s = app.member_summary(&owner, &m.id).await.ok();
    assert_eq!(s.debt, 100);
    assert!(s.alert_codes().contains(&"in_debt"), "{:?}", s.alerts);
    let debt = s.alerts.iter().find(|a| a.code == "in_debt").unwrap();
    assert_eq!(debt.params["points"], 100);

    // Staff who may not see phones get it masked; erased members have no summary.
    let (_, marketer) = app.staff_with_roles(&t, &["marketer"]).await;
    let s = app.member_summary(&marketer, &m.id).await.ok();
    assert_eq!(s.phone.as_deref(), Some("136 **** 6666"));
    app.erase_member(&owner, &m.id).await.ok();
    assert_eq!(
        app.member_summary(&owner, &m.id).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_large_redemption_needs_the_members_live_code_or_an_sms_code() {
    let app = spawn_app().await;
    let t = app.signup_on("desk-check", "pro").await;
    let owner = t.owner();
    let s = app
        .update_points_settings(&owner, &json!({ "redemption_check_above": 100 }))
        .await;
    assert_eq!(s.status, StatusCode::OK, "{s:?}");
    let v = app.points_settings(&owner).await.ok();
    assert_eq!(v.redemption_check_above, Some(100));
    let hana = portal_member(&app, &t, "Hana", "13922223333").await;
    let other = portal_member(&app, &t, "Ola", "13933334444").await;
    let m = hana.member.id.clone();
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "seed", "points": 1_000, "reason": "opening" }),
    )
    .await
    .created();
    let redeem = |key: &str, extra: serde_json::Value| {
        let mut body = json!({ "idempotency_key": key, "points": 200, "reward": "bag" });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };

    // At or under the threshold: no check.
    app.redeem_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "small", "points": 100, "reward": "pen" }),
    )
    .await
    .created();
    // Above: refused without a confirmation.
    let r = app
        .redeem_points(&owner, &m, &redeem("big", json!({})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().code, "member_check_required");
    assert_eq!(r.fields(), ["member_code"]);
    // Money off with the points left empty is checked on what it would spend.
    let r = app
        .redeem_points(
            &owner,
            &m,
            &json!({ "idempotency_key": "off", "purchase_amount": 50_000 }),
        )
        .await;
    assert_eq!(r.problem().code, "member_check_required");
    // Another member's code, a forged code, an expired code: each refused on member_code.
    let theirs = app.portal_my_code(&t.slug, &other.auth()).await.ok().code;
    let r = app
        .redeem_points(&owner, &m, &redeem("big", json!({ "member_code": theirs })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().code, "member_code_invalid");
    assert_eq!(r.fields(), ["member_code"]);
    let old = app.portal_my_code(&t.slug, &hana.auth()).await.ok().code;
    app.clock.advance(Duration::seconds(90));
    let r = app
        .redeem_points(&owner, &m, &redeem("big", json!({ "member_code": old })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().code, "member_code_expired");
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 900);
    // The member's live code: spent.
    let live = app.portal_my_code(&t.slug, &hana.auth()).await.ok().code;
    let done = app
        .redeem_points(&owner, &m, &redeem("big", json!({ "member_code": live })))
        .await
        .created();
    assert_eq!(done.balance, 700);
    // A retry with the same key and a fresh code answers the same redemption.
    app.clock.advance(Duration::seconds(90));
    let fresh = app.portal_my_code(&t.slug, &hana.auth()).await.ok().code;
    let again = app
        .redeem_points(&owner, &m, &redeem("big", json!({ "member_code": fresh })))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.body().entry_id, done.entry_id);

    // Or a code sent to the member's phone: a wrong one is refused on sms_code.
    let r = app.send_redemption_code(&owner, &m).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let sms = app.sms_outbox(&owner, Some("13922223333")).await.ok();
    assert_eq!(sms[0].purpose, "redemption");
    let code = app.last_code(&t, "13922223333").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = app
        .redeem_points(&owner, &m, &redeem("sms", json!({ "sms_code": wrong })))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["sms_code"]);
    let done = app
        .redeem_points(
            &owner,
            &m,
            &redeem("sms", json!({ "sms_code": code.clone() })),
        )
        .await
        .created();
    assert_eq!(done.balance, 500);
    // Single use.
    let r = app
        .redeem_points(&owner, &m, &redeem("sms-2", json!({ "sms_code": code })))
        .await;
    assert_eq!(r.fields(), ["sms_code"]);
    assert_eq!(app.member_points(&owner, &m).await.ok().balance, 500);

    // Nonsense settings are refused on their field.
    let r = app
        .update_points_settings(&owner, &json!({ "redemption_check_above": -1 }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.fields(), ["redemption_check_above"]);
}

#[tokio::test]
async fn confirmed_redemptions_in_parallel_still_never_overdraw() {
    let app = spawn_app_with(24).await;
    let t = app.signup_on("desk-race", "pro").await;
    let owner = t.owner();
    app.update_points_settings(&owner, &json!({ "redemption_check_above": 100 }))
        .await
        .ok();
    let hana = portal_member(&app, &t, "Hana", "13922223333").await;
    let m = hana.member.id.clone();
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "seed", "points": 1_000, "reason": "opening" }),
    )
    .await
    .created();
    let code = app.portal_my_code(&t.slug, &hana.auth()).await.ok().code;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (api, owner, m, code) = (app.api.clone(), owner.clone(), m.clone(), code.clone());
            tokio::spawn(async move {
                api.redeem_points(
                    &owner,
                    &m,
                    &json!({ "idempotency_key": format!("r-{i}"), "points": 200,
                             "reward": "bag", "member_code": code }),
                )
                .await
                .status
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
    assert_eq!((ok, refused), (5, 15));
    let s = app.member_points(&owner, &m).await.ok();
    assert_eq!(s.balance, 0);
    assert_eq!(s.redeemed_total, 1_000);
    assert_ledger_agrees(&app, &t.slug).await;
}

#[tokio::test]
async fn item_lines_offer_what_the_business_sold_lately_at_its_last_price_and_every_category() {
    let app = spawn_app().await;
    let t = app.signup_on("desk-items", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Buyer")).await.id;
    let buy = |id: &'static str, items: serde_json::Value| json!({ "external_id": id, "member_id": m, "amount": 10_000, "items": items });
    let sold = [
        buy(
            "p1",
            json!([{ "sku": "LATTE-L", "name": "Latte", "category": "drinks", "unit_price": 2800 },
                   { "name": "Bagel", "category": "food", "unit_price": 1200 }]),
        ),
        // The latte again at a new price, and a second bagel line in the same purchase.
        buy(
            "p2",
            json!([{ "sku": "LATTE-L", "name": "Latte", "category": "drinks", "unit_price": 3000 },
                   { "name": "Bagel", "category": "food", "unit_price": 1200, "quantity": 2 }]),
        ),
        buy(
            "p3",
            json!([{ "sku": "TEA-1", "name": "Jasmine tea", "unit_price": 1800 }]),
        ),
    ];
    for p in &sold {
        let r = app.record_purchase(&owner, p).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    }
    // Categories the business named elsewhere: a coupon's scope, a visit pass.
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "Cake day", "terms": { "kind": "amount_off", "amount": 500,
                     "valid_days": 30, "categories": ["cakes"] } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    app.create_pass_product(
        &owner,
        &json!({ "name": "10 washes", "visits": 10, "categories": ["car wash", "drinks"],
                 "price": 30_000 }),
    )
    .await
    .ok();

    let all = app.desk_items(&owner, "", None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.json);
    let names: Vec<(&str, i64)> = all.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap(),
                i["unit_price"].as_i64().unwrap(),
            )
        })
        .collect();
    // The latest sold first, each once, at the price it was last sold at.
    assert_eq!(
        names,
        [("Jasmine tea", 1800), ("Bagel", 1200), ("Latte", 3000)]
    );
    assert_eq!(all.json["items"][2]["sku"], "LATTE-L");
    assert_eq!(all.json["items"][2]["category"], "drinks");
    assert_eq!(
        all.json["categories"],
        json!(["cakes", "car wash", "drinks", "food"])
    );
    // What the clerk typed, in any case, in the name or the SKU.
    let r = app.desk_items(&owner, "  latte-", None).await.json;
    assert_eq!(r["items"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["items"][0]["name"], "Latte");
    let r = app.desk_items(&owner, "AGE", None).await.json;
    assert_eq!(r["items"][0]["name"], "Bagel", "{r}");
    let r = app.desk_items(&owner, "", Some(1)).await.json;
    assert_eq!(r["items"].as_array().unwrap().len(), 1, "{r}");
    // Another business sees none of it.
    let other = app.signup_on("desk-items-other", "pro").await;
    let r = app.desk_items(&other.owner(), "", None).await.json;
    assert_eq!(r["items"], json!([]), "{r}");
    assert_eq!(r["categories"], json!([]), "{r}");

    // Bad input names the field (a limit outside what the document states is refused
    // where the query is read, as for every paged list).
    for limit in [0, 51, i64::MIN] {
        let r = app.desk_items(&owner, "", Some(limit)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.json);
        assert_eq!(r.fields(), ["limit"]);
    }
    let long = "x".repeat(101);
    let r = app.desk_items(&owner, &long, None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert_eq!(r.fields(), ["q"]);
}
