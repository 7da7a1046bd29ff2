//! Plans, feature gates, limits, rate limits, the account lifecycle, operators, support
//! sessions and invoices.

use chrono::{Duration, TimeZone, Utc};
use patron_app::billing::SignedWebhook;
use patron_core::clock::Clock;
use patron_core::plans::Feature;
use patron_db::{billing, tenants};
use patron_server::billing as jobs;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PLANS: [&str; 4] = ["free", "starter", "pro", "enterprise"];

async fn plan_features(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let r = app.get("/api/v1/plans", &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_four_seeded_plans_are_offered_cheapest_first_with_every_feature_and_limit_named() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/plans", &Auth::None).await;
    let codes: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    // Other tests may add plans; the seeded four come in price order.
    let seeded: Vec<&str> = codes
        .iter()
        .copied()
        .filter(|c| PLANS.contains(c))
        .collect();
    assert_eq!(seeded, PLANS);
    let enterprise = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "enterprise")
        .unwrap();
    assert_eq!(
        enterprise["features"].as_array().unwrap().len(),
        Feature::ALL.len()
    );
    let free = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "free")
        .unwrap();
    let members = free["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["limit"] == "members")
        .unwrap();
    assert_eq!(members["allowed"], 500);
}

/// Every gated route, with the feature it declares and a body it accepts.
fn gated_routes() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "api_keys",
            "/api/v1/api-keys",
            json!({ "name": "POS", "role": "front_desk" }),
        ),
        (
            "custom_fields",
            "/api/v1/fields/validate",
            json!({ "fields": [] }),
        ),
        (
            "custom_fields",
            "/api/v1/fields/versions",
            json!({ "fields": [] }),
        ),
        ("exports", "/api/v1/members/export.csv", json!({})),
        ("exports", "/api/v1/members/export.xlsx", json!({})),
    ]
}

/// For each plan and each gated route: a plan without the route's feature gets 402 naming
/// the feature and the cheapest plan that has it; a plan with it goes through.
#[tokio::test]
async fn feature_gate_answers_402_naming_the_feature_and_the_cheapest_plan_for_each_plan_without_it(
) {
    let app = spawn_app().await;
    let features = plan_features(&app).await;
    let cheapest_with = |feature: &str| {
        features
            .iter()
            .find(|(c, f)| PLANS.contains(&c.as_str()) && f.iter().any(|x| x == feature))
            .map(|(c, _)| c.clone())
            .unwrap()
    };
    let mut refused = 0;
    for plan in PLANS {
        let t = app.signup_on("gate", plan).await;
        let has = |feature: &str| {
            features
                .iter()
                .find(|(c, _)| c == plan)
                .unwrap()
                .1
                .iter()
                .any(|f| f == feature)
        };
        for (feature, path, body) in gated_routes() {
            let r = app.post(path, &t.owner(), body).await;
            if has(feature) {
                assert_ne!(
                    r.status,
                    StatusCode::PAYMENT_REQUIRED,
                    "{plan} {path}: {:?}",
                    r.body
                );
                assert!(r.status.is_success(), "{plan} {path}: {:?}", r.body);
            } else {
                refused += 1;
                assert_eq!(
                    r.status,
                    StatusCode::PAYMENT_REQUIRED,
                    "{plan} {path}: {:?}",
                    r.body
                );
                assert_eq!(r.body["code"], "feature_not_in_plan");
                assert_eq!(r.body["feature"], feature);
                assert_eq!(r.body["plan"], plan);
                assert_eq!(r.body["upgrade_to"], cheapest_with(feature).as_str());
                assert!(r.body["plans"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("enterprise")));
            }
        }
        // Listing keys is not gated, so a downgraded account can still clean up; ungated
        // endpoints work on every plan.
        assert_eq!(
            app.get("/api/v1/api-keys", &t.owner()).await.status,
            StatusCode::OK
        );
        assert_eq!(
            app.get("/api/v1/staff", &t.owner()).await.status,
            StatusCode::OK
        );
    }
    // free lacks all three features, starter none of them.
    assert_eq!(refused, 5);
}

#[tokio::test]
async fn an_integration_key_stops_working_when_the_plan_loses_api_keys_and_works_again_after_an_upgrade(
) {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let t = app.signup_on("keyplan", "starter").await;
    let k = app
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "POS", "role": "front_desk" }),
        )
        .await;
    assert_eq!(k.status, StatusCode::CREATED, "{:?}", k.body);
    let key = Auth::Key(k.body["key"].as_str().unwrap().to_owned());
    assert_eq!(app.get("/api/v1/me", &key).await.status, StatusCode::OK);
    let down = app
        .post(
            &format!("/api/v1/ops/tenants/{}/plan", t.id),
            &ops,
            json!({ "plan": "free" }),
        )
        .await;
    assert_eq!(down.status, StatusCode::OK, "{:?}", down.body);
    let refused = app.get("/api/v1/me", &key).await;
    assert_eq!(
        refused.status,
        StatusCode::PAYMENT_REQUIRED,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["feature"], "api_keys");
    let up = app
        .post(
            &format!("/api/v1/ops/tenants/{}/plan", t.id),
            &ops,
            json!({ "plan": "pro" }),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{:?}", up.body);
    assert_eq!(app.get("/api/v1/me", &key).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_staff_limit_allows_the_last_seat_and_refuses_the_next_with_usage_and_the_plan_that_lifts_it(
) {
    let app = spawn_app().await;
    let t = app.signup_on("seats", "free").await; // 3 staff seats; the owner takes one
    let new_staff = |n: u32| json!({ "email": format!("s{n}@{}.example.com", t.slug), "name": "Staff", "password": PASSWORD, "roles": ["front_desk"] });
    for n in 0..2 {
        let r = app.post("/api/v1/staff", &t.owner(), new_staff(n)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let r = app.post("/api/v1/staff", &t.owner(), new_staff(9)).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{:?}", r.body);
    assert_eq!(r.body["code"], "limit_reached");
    assert_eq!(r.body["limit"], "staff");
    assert_eq!(r.body["allowed"], 3);
    assert_eq!(r.body["usage"], 3);
    assert_eq!(r.body["upgrade_to"], "starter");
    // Nothing was written.
    let list = app.get("/api/v1/staff", &t.owner()).await;
    assert_eq!(list.body.as_array().unwrap().len(), 3);

    // The plan page shows the limit reached, and 80% warnings before that.
    let mine = app.get("/api/v1/plan", &t.owner()).await;
    assert_eq!(mine.status, StatusCode::OK, "{:?}", mine.body);
    let staff = mine.body["usage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["limit"] == "staff")
        .unwrap();
    assert_eq!(staff["usage"], 3);
    assert_eq!(staff["warning"], "reached");
    assert!(mine.body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().starts_with("staff: 3 of 3")));
    let members = mine.body["usage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["limit"] == "members")
        .unwrap();
    assert!(members["warning"].is_null());

    // Disabling a seat frees it; enabling it again takes one, so it is refused while full.
    let id = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] != t.owner_email.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let off = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            &t.owner(),
            json!({ "status": "disabled" }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    let r = app.post("/api/v1/staff", &t.owner(), new_staff(10)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let on = app
        .patch(
            &format!("/api/v1/staff/{id}"),
            &t.owner(),
            json!({ "status": "active" }),
        )
        .await;
    assert_eq!(on.status, StatusCode::PAYMENT_REQUIRED, "{:?}", on.body);
}

#[tokio::test]
async fn concurrent_creations_never_pass_the_limit() {
    let app = spawn_app_with(20).await;
    let t = app.signup_on("race", "free").await;
    let owner = t.owner();
    let calls = (0..8).map(|n| {
        app.post(
            "/api/v1/staff",
            &owner,
            json!({ "email": format!("r{n}@{}.example.com", t.slug), "name": "Staff", "password": PASSWORD, "roles": ["front_desk"] }),
        )
    });
    let results = futures::future::join_all(calls).await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused = results
        .iter()
        .filter(|r| r.status == StatusCode::PAYMENT_REQUIRED)
        .count();
    assert_eq!((created, refused), (2, 6), "{results:?}");
}

#[tokio::test]
async fn api_requests_are_rate_limited_per_tenant_per_minute_with_retry_after() {
    let app = spawn_app().await;
    // Start on a minute boundary so the whole burst falls in one window.
    let now = app.clock.now();
    let next_minute = Utc
        .timestamp_opt((now.timestamp() / 60 + 1) * 60, 0)
        .unwrap();
    app.clock.advance(next_minute - now + Duration::seconds(5));
    let t = app.signup_on("rate", "free").await; // 60 per minute
    let other = app.signup_on("rate-other", "free").await;
    for i in 0..60 {
        let r = app.get("/api/v1/me", &t.owner()).await;
        assert_eq!(r.status, StatusCode::OK, "request {i}: {:?}", r.body);
    }
    let r = app.get("/api/v1/me", &t.owner()).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.body["code"], "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert_eq!(retry, 55);
    // Another tenant is not affected.
    assert_eq!(
        app.get("/api/v1/me", &other.owner()).await.status,
        StatusCode::OK
    );
    // The next minute opens the window again.
    app.clock.advance(Duration::seconds(retry as i64));
    assert_eq!(
        app.get("/api/v1/me", &t.owner()).await.status,
        StatusCode::OK
    );
    // And the month's request count includes them all.
    app.clock.advance(Duration::seconds(60));
    let mine = app.get("/api/v1/plan", &t.owner()).await;
    assert!(
        mine.body["api_requests_this_month"].as_i64().unwrap() >= 62,
        "{:?}",
        mine.body
    );
}

#[tokio::test]
async fn a_suspended_account_reads_but_cannot_write_until_resumed() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let t = app.signup("suspend").await;
    let r = app
        .post(
            &format!("/api/v1/ops/tenants/{}/suspend", t.id),
            &ops,
            json!({ "reason": "abuse report #12" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["tenant"]["status"], "suspended");
    assert_eq!(r.body["suspended_reason"], "operator");

    assert_eq!(
        app.get("/api/v1/staff", &t.owner()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/settings", &t.owner()).await.status,
        StatusCode::OK
    );
    // Searching the register is a read, even though it is a POST.
    let found = app
        .post("/api/v1/members/search", &t.owner(), json!({}))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{:?}", found.body);
    let export = app
        .post("/api/v1/members/export.csv", &t.owner(), json!({}))
        .await;
    assert_eq!(export.status, StatusCode::OK, "exports are reads too");
    let w = app
        .post("/api/v1/staff", &t.owner(), json!({ "email": format!("x@{}.example.com", t.slug), "name": "X", "password": PASSWORD, "roles": ["front_desk"] }))
        .await;
    assert_eq!(w.status, StatusCode::FORBIDDEN, "{:?}", w.body);
    assert_eq!(w.body["code"], "tenant_suspended");
    assert!(w.body["message"]
        .as_str()
        .unwrap()
        .contains("abuse report #12"));
    let s = app
        .patch("/api/v1/settings", &t.owner(), json!({ "name": "Renamed" }))
        .await;
    assert_eq!(s.body["code"], "tenant_suspended");

    // Resuming needs a valid move; resuming twice is refused.
    let r = app
        .post(
            &format!("/api/v1/ops/tenants/{}/resume", t.id),
            &ops,
            Value::Null,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["tenant"]["status"], "active");
    let again = app
        .post(
            &format!("/api/v1/ops/tenants/{}/resume", t.id),
            &ops,
            Value::Null,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["code"], "invalid_transition");
    let w = app
        .post("/api/v1/staff", &t.owner(), json!({ "email": format!("x@{}.example.com", t.slug), "name": "X", "password": PASSWORD, "roles": ["front_desk"] }))
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{:?}", w.body);

    // Both changes are in the tenant's own audit log and the platform's.
    let audit = app.get("/api/v1/audit-log", &t.owner()).await;
    let actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"tenant.suspended") && actions.contains(&"tenant.active"),
        "{actions:?}"
    );
    let platform = app
        .get(&format!("/api/v1/ops/audit-log?tenant={}", t.id), &ops)
        .await;
    let actions: Vec<&str> = platform
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"tenant.suspended"), "{actions:?}");
}

#[tokio::test]
async fn a_downgrade_the_usage_does_not_fit_is_refused_with_the_list_and_an_upgrade_applies_at_once(
) {
    let app = spawn_app().await;
    let t = app.signup_on("downgrade", "starter").await;
    for n in 0..3 {
        app.staff_with_roles(&t, &["front_desk"]).await;
        let _ = n;
    }
    // 4 staff; free allows 3.
    let r = app
        .post("/api/v1/plan", &t.owner(), json!({ "plan": "free" }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.body["code"], "downgrade_over_limits");
    assert_eq!(r.body["fields"][0]["field"], "limits.staff");
    assert!(r.body["fields"][0]["problem"]
        .as_str()
        .unwrap()
        .contains("4 in use"));
    let mine = app.get("/api/v1/plan", &t.owner()).await;
    assert_eq!(mine.body["plan"]["code"], "starter");

    // An upgrade applies at once: pro has webhooks, and pro's limits show.
    let r = app
        .post("/api/v1/plan", &t.owner(), json!({ "plan": "pro" }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["plan"], "pro");
    let mine = app.get("/api/v1/plan", &t.owner()).await;
    assert_eq!(mine.body["plan"]["code"], "pro");
    let webhooks = mine.body["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["feature"] == "webhooks")
        .unwrap();
    assert_eq!(webhooks["included"], true);

    // Unknown plans and a front-desk user are refused.
    let r = app
        .post("/api/v1/plan", &t.owner(), json!({ "plan": "platinum" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "plan");
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.post("/api/v1/plan", &desk, json!({ "plan": "enterprise" }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn operator_and_staff_tokens_never_stand_in_for_each_other() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let t = app.signup("tokens").await;
    let staff_on_ops = app.get("/api/v1/ops/tenants", &t.owner()).await;
    assert_eq!(staff_on_ops.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/ops/me", &t.owner()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let ops_on_tenant = app.get("/api/v1/staff", &ops).await;
    assert_eq!(ops_on_tenant.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/me", &ops).await.status,
        StatusCode::UNAUTHORIZED
    );
    // An API key is no operator either.
    let k = app
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "k", "role": "owner" }),
        )
        .await;
    let key = k.body["key"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/ops/me", &Auth::Bearer(key.into()))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The operator sees the tenant in the list, with usage; search and filters work.
    let list = app
        .get(&format!("/api/v1/ops/tenants?q={}", t.slug), &ops)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["tenant"]["slug"], t.slug.as_str());
    assert_eq!(list.body[0]["usage"]["staff"], 1);
    let none = app
        .get(
            &format!("/api/v1/ops/tenants?q={}&status=closed", t.slug),
            &ops,
        )
        .await;
    assert_eq!(none.body.as_array().unwrap().len(), 0);
    let bad = app.get("/api/v1/ops/tenants?status=sleeping", &ops).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Platform totals count the account under its plan and status.
    let totals = app.get("/api/v1/ops/totals", &ops).await;
    assert_eq!(totals.status, StatusCode::OK, "{:?}", totals.body);
    let trial_starter = totals.body["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["plan"] == "starter" && c["status"] == "trial")
        .expect("starter trials counted");
    assert!(trial_starter["tenants"].as_i64().unwrap() >= 1);
    // Logging out ends the operator token.
    assert_eq!(
        app.post("/api/v1/ops/logout", &ops, Value::Null)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/ops/me", &ops).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Wrong passwords are refused without saying which part was wrong.
    let r = app
        .post(
            "/api/v1/ops/login",
            &Auth::None,
            json!({ "email": "nobody@patron.example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["code"], "invalid_credentials");
}

#[tokio::test]
async fn a_support_session_reads_the_tenant_for_its_time_only_never_writes_and_is_audited() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let t = app.signup("support").await;
    let too_long = app
        .post(
            &format!("/api/v1/ops/tenants/{}/support-sessions", t.id),
            &ops,
            json!({ "reason": "ticket 881", "minutes": 600 }),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.body["fields"][0]["field"], "minutes");
    let s = app
        .post(
            &format!("/api/v1/ops/tenants/{}/support-sessions", t.id),
            &ops,
            json!({ "reason": "ticket 881: points missing", "minutes": 30 }),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{:?}", s.body);
    let support = Auth::Bearer(s.body["token"].as_str().unwrap().to_owned());

    let staff = app.get("/api/v1/staff", &support).await;
    assert_eq!(staff.status, StatusCode::OK, "{:?}", staff.body);
    let me = app.get("/api/v1/me", &support).await;
    assert_eq!(me.body["kind"], "support");
    assert!(!me.body["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("members:read_pii")));
    let write = app
        .patch("/api/v1/settings", &support, json!({ "name": "Hijacked" }))
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(write.body["code"], "support_read_only");
    // Only the tenant it was opened for.
    let other = app.signup("support-other").await;
    let _ = other;
    let token = s.body["token"].as_str().unwrap();
    let forged = token.replacen(&format!("pss_{}_", t.id), &format!("pss_{}_", other.id), 1);
    assert_eq!(
        app.get("/api/v1/staff", &Auth::Bearer(forged)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The tenant sees the session and every read in its audit log.
    let audit = app.get("/api/v1/audit-log", &t.owner()).await;
    let entries = audit.body.as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "support.opened"
        && e["detail"]["reason"] == "ticket 881: points missing"));
    assert!(entries
        .iter()
        .any(|e| e["action"] == "support.read" && e["target"] == "/api/v1/staff"));

    // It ends by itself.
    app.clock.advance(Duration::minutes(31));
    assert_eq!(
        app.get("/api/v1/staff", &support).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Ended early by the operator, a new session stops at once.
    let s2 = app
        .post(
            &format!("/api/v1/ops/tenants/{}/support-sessions", t.id),
            &ops,
            json!({ "reason": "ticket 882", "minutes": 30 }),
        )
        .await;
    let support2 = Auth::Bearer(s2.body["token"].as_str().unwrap().to_owned());
    assert_eq!(
        app.get("/api/v1/staff", &support2).await.status,
        StatusCode::OK
    );
    let id = s2.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/ops/support-sessions/{id}"), &ops)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/staff", &support2).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn operators_create_and_edit_plans_with_every_bad_field_named() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let code = format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let bad = app
        .post(
            "/api/v1/ops/plans",
            &ops,
            json!({ "code": "Bad Code", "name": "", "monthly_price_minor": -1, "currency": "XX1",
                    "features": ["api_keys", "teleport"], "limits": { "members": 10, "parking": 3 },
                    "overage_minor": { "staff": 5 } }),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.body
    );
    let fields: Vec<&str> = bad.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in [
        "code",
        "name",
        "monthly_price_minor",
        "currency",
        "features.1",
        "limits.parking",
        "overage_minor.staff",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let good = json!({ "code": code, "name": "Studio", "monthly_price_minor": 9900, "currency": "cny",
                       "features": ["api_keys"], "limits": { "members": 2, "sms_per_month": 10 },
                       "overage_minor": { "sms_per_month": 5 } });
    let r = app.post("/api/v1/ops/plans", &ops, good.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["currency"], "CNY");
    assert_eq!(
        app.post("/api/v1/ops/plans", &ops, good).await.status,
        StatusCode::CONFLICT
    );
    // Tenants can sign up on it at once, and an edit reaches them at once.
    let t = app.signup_on("studio", &code).await;
    let k = app
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "k", "role": "front_desk" }),
        )
        .await;
    assert_eq!(k.status, StatusCode::CREATED);
    let edit = app
        .put(&format!("/api/v1/ops/plans/{code}"), &ops,
             json!({ "name": "Studio", "monthly_price_minor": 9900, "currency": "CNY", "features": [], "limits": { "members": 2 } }))
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
    let k = app
        .post(
            "/api/v1/api-keys",
            &t.owner(),
            json!({ "name": "k2", "role": "front_desk" }),
        )
        .await;
    assert_eq!(k.status, StatusCode::PAYMENT_REQUIRED, "{:?}", k.body);
    // Archived plans are no longer offered.
    let archive = app
        .put(&format!("/api/v1/ops/plans/{code}"), &ops,
             json!({ "name": "Studio", "monthly_price_minor": 9900, "currency": "CNY", "features": [], "limits": {}, "archived": true }))
        .await;
    assert_eq!(archive.status, StatusCode::OK);
    let offered = plan_features(&app).await;
    assert!(!offered.iter().any(|(c, _)| *c == code));
    let r = app
        .post("/api/v1/signup", &Auth::None,
              json!({ "business_name": "Late", "slug": unique_slug("late"), "owner_name": "O", "email": "o@late.example.com", "password": PASSWORD, "plan": code }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "plan");
}

/// Logs the owner in again (the clock moves past sessions' lifetime in the lifecycle test).
async fn owner(app: &TestApp, t: &TestTenant) -> Auth {
    let r = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    if r.status != StatusCode::OK {
        return Auth::Bearer(format!("pst_{}_{}", t.id, "x".repeat(43)));
    }
    Auth::Bearer(r.body["token"].as_str().unwrap().to_owned())
}

/// Logs the owner in, reads the staff list and renames the business: (read status, write
/// reply), to see what an account in some state may do.
async fn read_and_rename(app: &TestApp, t: &TestTenant, name: &str) -> (StatusCode, Reply) {
    let auth = owner(app, t).await;
    let read = app.get("/api/v1/staff", &auth).await.status;
    let write = app
        .patch("/api/v1/settings", &auth, json!({ "name": name }))
        .await;
    (read, write)
}

fn signed(body: &Value) -> (Vec<u8>, String) {
    let bytes = serde_json::to_vec(body).unwrap();
    let sig = SignedWebhook::sign(PAYMENT_SECRET, &bytes);
    (bytes, sig)
}

async fn webhook(app: &TestApp, body: &Value, signature: &str) -> Reply {
    let (bytes, _) = signed(body);
    let resp = app
        .client
        .post(format!("{}/api/v1/billing/webhooks/signed", app.base))
        .header("content-type", "application/json")
        .header("x-patron-signature", signature)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

/// The lifecycle's jobs span every account in a database, so this runs on its own.
#[tokio::test]
async fn trial_expiry_invoices_dunning_payment_and_closure_follow_the_clock() {
    let (name, url) = fresh_database().await;
    let app = spawn_app_on(&url, 10).await;
    // Start mid-month, so the first period is part of a month.
    let start = Utc.with_ymd_and_hms(2031, 3, 10, 12, 0, 0).unwrap();
    app.clock.set(start);
    let t = app.signup_on("life", "pro").await;
    let free = app.signup_on("life-free", "free").await;
    let row = tenants::find_by_id(&app.db, t.id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "trial");
    assert_eq!(row.trial_ends_at, Some(start + Duration::days(14)));
    let free_row = tenants::find_by_id(&app.db, free.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        free_row.status.as_str(),
        "active",
        "a plan without a trial starts active"
    );

    // Nothing happens before the trial ends.
    app.clock.advance(Duration::days(13));
    assert_eq!(
        jobs::end_trials(&app.db, app.clock.now()).await.unwrap()["moved"],
        0
    );
    app.clock.advance(Duration::days(1));
    let trial_end = start + Duration::days(14);
    // Twice, as on two replicas: the account moves once.
    let (a, b) = tokio::join!(
        jobs::end_trials(&app.db, app.clock.now()),
        jobs::end_trials(&app.db, app.clock.now())
    );
    assert_eq!(
        a.unwrap()["moved"].as_i64().unwrap() + b.unwrap()["moved"].as_i64().unwrap(),
        1
    );
    let row = tenants::find_by_id(&app.db, t.id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active");
    assert_eq!(row.period_start, Some(trial_end));
    assert_eq!(
        row.period_end,
        Some(Utc.with_ymd_and_hms(2031, 4, 1, 0, 0, 0).unwrap())
    );

    // Metered SMS beyond pro's 5,000 are billed as overage on the period's invoice.
    patron_db::plans::meter(&app.db, t.id, "sms_per_month", app.clock.now(), 5_003)
        .await
        .unwrap();

    // The period ends: one invoice, however often and however concurrently the job runs.
    app.clock
        .set(Utc.with_ymd_and_hms(2031, 4, 1, 0, 5, 0).unwrap());
    let (a, b) = tokio::join!(
        jobs::close_periods(&app.db, app.clock.now()),
        jobs::close_periods(&app.db, app.clock.now())
    );
    a.unwrap();
    b.unwrap();
    jobs::close_periods(&app.db, app.clock.now()).await.unwrap();
    let invoices = billing::list(&app.db, Some(t.id)).await.unwrap();
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    let inv = &invoices[0];
    // 24 March 12:00 to 1 April: 7.5 of 31 days of 599.00, plus 3 SMS at 0.05.
    let prorated = (59_900i64 * 648_000 + 2_678_400 / 2) / 2_678_400;
    assert_eq!(inv.lines.0[0].amount_minor, prorated);
    assert_eq!(inv.lines.0[1].quantity, 3);
    assert_eq!(inv.total_minor, prorated + 15);
    assert_eq!(inv.status, "open");
    assert!(
        billing::list(&app.db, Some(free.id))
            .await
            .unwrap()
            .is_empty(),
        "a free plan is not invoiced"
    );
    // The tenant reads its invoice.
    let mine = app.get("/api/v1/invoices", &owner(&app, &t).await).await;
    assert_eq!(mine.status, StatusCode::OK, "{:?}", mine.body);
    assert_eq!(mine.body[0]["total_minor"], prorated + 15);
    let ops = app.operator().await;
    let all = app
        .get(&format!("/api/v1/ops/invoices?tenant={}", t.id), &ops)
        .await;
    assert_eq!(all.body.as_array().unwrap().len(), 1);

    // Unpaid past its due date: past-due (still writable), then after the grace suspended
    // for billing (reads work, writes 402).
    app.clock.advance(Duration::days(8));
    jobs::dun(&app.db, app.clock.now()).await.unwrap();
    let row = tenants::find_by_id(&app.db, t.id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "past_due");
    assert_eq!(
        read_and_rename(&app, &t, "Still fine").await.1.status,
        StatusCode::OK
    );
    app.clock.advance(Duration::days(14));
    jobs::dun(&app.db, app.clock.now()).await.unwrap();
    jobs::dun(&app.db, app.clock.now()).await.unwrap();
    let row = tenants::find_by_id(&app.db, t.id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "suspended");
    let (read, w) = read_and_rename(&app, &t, "Nope").await;
    assert_eq!(read, StatusCode::OK);
    assert_eq!(w.status, StatusCode::PAYMENT_REQUIRED, "{:?}", w.body);
    assert_eq!(w.body["code"], "payment_required");

    // The provider's webhook: a bad signature is refused; a good one pays the invoice once
    // and lifts the suspension.
    let event = json!({ "type": "invoice.paid", "invoice_id": inv.id, "reference": "ch_123" });
    let refused = webhook(&app, &event, "sha256=00").await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        refused.body
    );
    let (_, sig) = signed(&event);
    let paid = webhook(&app, &event, &sig).await;
    assert_eq!(paid.status, StatusCode::OK, "{:?}", paid.body);
    assert_eq!(paid.body["outcome"], "paid");
    assert_eq!(
        webhook(&app, &event, &sig).await.body["outcome"],
        "already_paid"
    );
    let row = tenants::find_by_id(&app.db, t.id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "active");
    assert_eq!(
        read_and_rename(&app, &t, "Paid up").await.1.status,
        StatusCode::OK
    );

    // Closing: read-only and exportable for the retention, then the schema is dropped.
    let wrong = app
        .post(
            "/api/v1/account/close",
            &owner(&app, &t).await,
            json!({ "confirm_slug": "nope" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let closed = app
        .post(
            "/api/v1/account/close",
            &owner(&app, &t).await,
            json!({ "confirm_slug": t.slug, "reason": "moving on" }),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{:?}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    let (read, w) = read_and_rename(&app, &t, "Gone").await;
    assert_eq!(read, StatusCode::OK);
    assert_eq!(w.body["code"], "tenant_closed");
    app.clock.advance(Duration::days(29));
    assert_eq!(
        jobs::purge_closed(&app.db, app.clock.now()).await.unwrap()["purged"],
        0
    );
    app.clock.advance(Duration::days(2));
    assert_eq!(
        jobs::purge_closed(&app.db, app.clock.now()).await.unwrap()["purged"],
        1
    );
    assert_eq!(
        jobs::purge_closed(&app.db, app.clock.now()).await.unwrap()["purged"],
        0
    );
    let row = tenants::find_by_id(&app.db, t.id).await.unwrap().unwrap();
    assert!(row.purged_at.is_some());
    assert!(!tenants::schema_exists(&app.db, row.schema()).await.unwrap());
    // Every replica hears of the purge; give the notification a moment to arrive.
    let mut gone = app.get("/api/v1/staff", &owner(&app, &t).await).await;
    for _ in 0..50 {
        if gone.status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        gone = app.get("/api/v1/staff", &owner(&app, &t).await).await;
    }
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{:?}", gone.body);
    assert_eq!(gone.body["code"], "tenant_closed");
    // The invoices and the audit trail stay.
    assert_eq!(billing::list(&app.db, Some(t.id)).await.unwrap().len(), 1);
    // `patron migrate` leaves the purged account alone.
    let report = patron_db::migrate::migrate_all_tenants(&app.db, 2, |_| {}, |_| {})
        .await
        .unwrap();
    assert!(report.failed.is_empty());

    app.stop().await;
    drop_database(&name).await;
}

#[tokio::test]
async fn one_time_codes_count_against_the_monthly_sms_limit_and_the_portal_waits_while_suspended() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let code = format!("sms{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let r = app
        .post(
            "/api/v1/ops/plans",
            &ops,
            json!({ "code": code, "name": "Tiny", "monthly_price_minor": 100, "currency": "CNY",
                      "features": [], "limits": { "sms_per_month": 2 }, "trial_days": 0 }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let t = app.signup_on("sms", &code).await;
    let codes_path = format!("/api/v1/portal/{}/codes", t.slug);
    let send = |phone: &'static str| {
        app.post(
            &codes_path,
            &Auth::None,
            json!({ "phone": phone, "purpose": "register" }),
        )
    };
    assert_eq!(send("13700000001").await.status, StatusCode::ACCEPTED);
    assert_eq!(send("13700000002").await.status, StatusCode::ACCEPTED);
    let third = send("13700000003").await;
    assert_eq!(
        third.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        third.body
    );
    assert_eq!(third.body["code"], "sms_quota_reached");
    let mine = app.get("/api/v1/plan", &t.owner()).await;
    let sms = mine.body["usage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["limit"] == "sms_per_month")
        .unwrap();
    assert_eq!(
        (sms["usage"].as_i64(), sms["warning"].as_str()),
        (Some(2), Some("reached"))
    );
    // Archive the test plan so it is never offered to other tests as an upgrade.
    let archive = app
        .put(
            &format!("/api/v1/ops/plans/{code}"),
            &ops,
            json!({ "name": "Tiny", "monthly_price_minor": 100, "currency": "CNY", "features": [],
                     "limits": { "sms_per_month": 2 }, "trial_days": 0, "archived": true }),
        )
        .await;
    assert_eq!(archive.status, StatusCode::OK);

    // While the account is suspended its portal still shows the form but takes no sign-ups.
    let r = app
        .post(
            &format!("/api/v1/ops/tenants/{}/suspend", t.id),
            &ops,
            json!({ "reason": "review" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        app.get(&format!("/api/v1/portal/{}/form", t.slug), &Auth::None)
            .await
            .status,
        StatusCode::OK
    );
    let refused = app
        .post(&format!("/api/v1/portal/{}/register", t.slug), &Auth::None,
              json!({ "profile": { "name": "Li", "phone": "13700000001" }, "code": "000000", "password": PASSWORD }))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    assert_eq!(refused.body["code"], "business_unavailable");
}
