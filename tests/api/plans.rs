//! Plans, feature gates, limits, rate limits, the account lifecycle, operators, support
//! sessions and invoices.
//!
//! Longer than 600 lines on purpose: each test is a whole scenario told top to bottom, and the
//! capability's scenarios stay in one file so a reader finds them by its name.

use chrono::{Duration, TimeZone, Utc};
use patron_core::clock::Clock;
use patron_core::plans::Feature;
use patron_db::{billing, tenants};
use patron_server::billing as jobs;
use patron_tests::internals::signed_webhook;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

const PLANS: [&str; 4] = ["free", "starter", "pro", "enterprise"];

async fn plan_features(app: &TestApp) -> Vec<(String, Vec<String>)> {
    app.plan_catalogue()
        .await
        .ok()
        .into_iter()
        .map(|p| (p.code, p.features))
        .collect()
}

#[tokio::test]
async fn the_four_seeded_plans_are_offered_cheapest_first_with_every_feature_and_limit_named() {
    let app = spawn_app().await;
    let plans = app.plan_catalogue().await.body();
    let codes: Vec<&str> = plans.iter().map(|p| p.code.as_str()).collect();
    // Other tests may add plans; the seeded four come in price order.
    let seeded: Vec<&str> = codes
        .iter()
        .copied()
        .filter(|c| PLANS.contains(c))
        .collect();
    assert_eq!(seeded, PLANS);
    let enterprise = plans.iter().find(|p| p.code == "enterprise").unwrap();
    assert_eq!(enterprise.features.len(), Feature::ALL.len());
    let free = plans.iter().find(|p| p.code == "free").unwrap();
    let members = free.limits.iter().find(|l| l.limit == "members").unwrap();
    assert_eq!(members.allowed, Some(500));
}

/// Every gated operation, with the feature it declares; each is called with a body it
/// accepts.
const GATED: [(&str, &str); 5] = [
    ("api_keys", "create_api_key"),
    ("custom_fields", "validate_fields"),
    ("custom_fields", "publish_fields"),
    ("exports", "export_members_csv"),
    ("exports", "export_members_xlsx"),
];

/// Calls the gated operation `op` of [`GATED`] as `auth`.
async fn call_gated(app: &TestApp, op: &str, auth: &Auth) -> Reply {
    match op {
        "create_api_key" => app
            .create_api_key(auth, &json!({ "name": "POS", "role": "front_desk" }))
            .await
            .untyped(),
        "validate_fields" => app
            .validate_fields(auth, &json!({ "fields": [] }))
            .await
            .untyped(),
        "publish_fields" => app
            .publish_fields(auth, &json!({ "fields": [] }))
            .await
            .untyped(),
        "export_members_csv" => app.export_members_csv(auth, &json!({})).await.untyped(),
        "export_members_xlsx" => app.export_members_xlsx(auth, &json!({})).await,
        other => unreachable!("{other} is not gated"),
    }
}

/// For each plan and each gated operation: a plan without the operation's feature gets 402
/// naming the feature and the cheapest plan that has it; a plan with it goes through.
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
        for (feature, op) in GATED {
            let r = call_gated(&app, op, &t.owner()).await;
            if has(feature) {
                assert_ne!(r.status, StatusCode::PAYMENT_REQUIRED, "{plan} {op}: {r:?}");
                assert!(r.status.is_success(), "{plan} {op}: {r:?}");
            } else {
                refused += 1;
                assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{plan} {op}: {r:?}");
                let problem = r.plan_problem();
                assert_eq!(problem.code, "feature_not_in_plan");
                assert_eq!(problem.feature.as_deref(), Some(feature));
                assert_eq!(problem.plan, plan);
                assert_eq!(
                    problem.upgrade_to.as_deref(),
                    Some(cheapest_with(feature).as_str())
                );
                assert!(problem.plans.iter().any(|p| p == "enterprise"));
            }
        }
        // Listing keys is not gated, so a downgraded account can still clean up; ungated
        // endpoints work on every plan.
        assert_eq!(app.list_api_keys(&t.owner()).await.status, StatusCode::OK);
        assert_eq!(app.list_staff(&t.owner()).await.status, StatusCode::OK);
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
        .create_api_key(&t.owner(), &json!({ "name": "POS", "role": "front_desk" }))
        .await
        .created();
    let key = Auth::Key(k.key);
    assert_eq!(app.me(&key).await.status, StatusCode::OK);
    app.set_tenant_plan(&ops, t.id, "free").await.ok();
    let refused = app.me(&key).await;
    assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED, "{refused:?}");
    assert_eq!(refused.plan_problem().feature.as_deref(), Some("api_keys"));
    app.set_tenant_plan(&ops, t.id, "pro").await.ok();
    assert_eq!(app.me(&key).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_staff_limit_allows_the_last_seat_and_refuses_the_next_with_usage_and_the_plan_that_lifts_it(
) {
    let app = spawn_app().await;
    let t = app.signup_on("seats", "free").await; // 3 staff seats; the owner takes one
    let new_staff = |n: u32| json!({ "email": format!("s{n}@{}.example.com", t.slug), "name": "Staff", "password": PASSWORD, "roles": ["front_desk"] });
    for n in 0..2 {
        app.create_staff(&t.owner(), &new_staff(n)).await.created();
    }
    let r = app.create_staff(&t.owner(), &new_staff(9)).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    let problem = r.plan_problem();
    assert_eq!(problem.code, "limit_reached");
    assert_eq!(problem.limit.as_deref(), Some("staff"));
    assert_eq!(problem.allowed, Some(3));
    assert_eq!(problem.usage, Some(3));
    assert_eq!(problem.upgrade_to.as_deref(), Some("starter"));
    // Nothing was written.
    let list = app.list_staff(&t.owner()).await.body();
    assert_eq!(list.len(), 3);

    // The plan page shows the limit reached, and 80% warnings before that.
    let mine = app.my_plan(&t.owner()).await.ok();
    let staff = mine.usage_of("staff");
    assert_eq!(staff.usage, 3);
    assert_eq!(staff.warning.as_deref(), Some("reached"));
    assert!(mine.warnings.iter().any(|w| w.starts_with("staff: 3 of 3")));
    assert!(mine.usage_of("members").warning.is_none());

    // Disabling a seat frees it; enabling it again takes one, so it is refused while full.
    let id = list
        .iter()
        .find(|s| s.email != t.owner_email)
        .unwrap()
        .id
        .clone();
    app.update_staff(&t.owner(), &id, &json!({ "status": "disabled" }))
        .await
        .ok();
    app.create_staff(&t.owner(), &new_staff(10)).await.created();
    let on = app
        .update_staff(&t.owner(), &id, &json!({ "status": "active" }))
        .await;
    assert_eq!(on.status, StatusCode::PAYMENT_REQUIRED, "{on:?}");
}

#[tokio::test]
async fn concurrent_creations_never_pass_the_limit() {
    let app = spawn_app_with(20).await;
    let t = app.signup_on("race", "free").await;
    let owner = t.owner();
    let bodies: Vec<_> = (0..8)
        .map(|n| json!({ "email": format!("r{n}@{}.example.com", t.slug), "name": "Staff", "password": PASSWORD, "roles": ["front_desk"] }))
        .collect();
    let calls = bodies.iter().map(|body| app.create_staff(&owner, body));
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
        let r = app.me(&t.owner()).await;
        assert_eq!(r.status, StatusCode::OK, "request {i}: {r:?}");
    }
    let r = app.me(&t.owner()).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    assert_eq!(r.code(), "rate_limited");
    let retry: u64 = r.header("retry-after").parse().unwrap();
    assert_eq!(retry, 55);
    // Another tenant is not affected.
    assert_eq!(app.me(&other.owner()).await.status, StatusCode::OK);
    // The next minute opens the window again.
    app.clock.advance(Duration::seconds(retry as i64));
    assert_eq!(app.me(&t.owner()).await.status, StatusCode::OK);
    // And the month's request count includes them all.
    app.clock.advance(Duration::seconds(60));
    let mine = app.my_plan(&t.owner()).await.body();
    assert!(mine.api_requests_this_month >= 62, "{mine:?}");
}

#[tokio::test]
async fn a_suspended_account_reads_but_cannot_write_until_resumed() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let t = app.signup("suspend").await;
    let r = app
        .suspend_tenant(&ops, t.id, "abuse report #12")
        .await
        .ok();
    assert_eq!(r.tenant.status, "suspended");
    assert_eq!(r.suspended_reason.as_deref(), Some("operator"));

    assert_eq!(app.list_staff(&t.owner()).await.status, StatusCode::OK);
    assert_eq!(app.settings(&t.owner()).await.status, StatusCode::OK);
    // Searching the register is a read, even though it is a POST.
    app.search_members(&t.owner(), &json!({})).await.ok();
    let export = app.export_members_csv(&t.owner(), &json!({})).await;
    assert_eq!(export.status, StatusCode::OK, "exports are reads too");
    let new_staff = json!({ "email": format!("x@{}.example.com", t.slug), "name": "X", "password": PASSWORD, "roles": ["front_desk"] });
    let w = app.create_staff(&t.owner(), &new_staff).await;
    assert_eq!(w.status, StatusCode::FORBIDDEN, "{w:?}");
    let problem = w.problem();
    assert_eq!(problem.code, "tenant_suspended");
    assert!(problem.message.contains("abuse report #12"));
    let s = app
        .update_settings(&t.owner(), &json!({ "name": "Renamed" }))
        .await;
    assert_eq!(s.code(), "tenant_suspended");

    // Resuming needs a valid move; resuming twice is refused.
    let r = app.resume_tenant(&ops, t.id).await.ok();
    assert_eq!(r.tenant.status, "active");
    let again = app.resume_tenant(&ops, t.id).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "invalid_transition");
    app.create_staff(&t.owner(), &new_staff).await.created();

    // Both changes are in the tenant's own audit log and the platform's.
    let audit = app.audit_log(&t.owner()).await.body();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"tenant.suspended") && actions.contains(&"tenant.active"),
        "{actions:?}"
    );
    let platform = app.platform_audit_log(&ops, t.id).await.body();
    let actions: Vec<&str> = platform.iter().map(|e| e.action.as_str()).collect();
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
    let r = app.change_plan(&t.owner(), "free").await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    let problem = r.problem();
    assert_eq!(problem.code, "downgrade_over_limits");
    assert_eq!(problem.fields[0].field, "limits.staff");
    assert!(problem.fields[0].problem.contains("4 in use"));
    let mine = app.my_plan(&t.owner()).await.body();
    assert_eq!(mine.plan.code, "starter");

    // An upgrade applies at once: pro has webhooks, and pro's limits show.
    let r = app.change_plan(&t.owner(), "pro").await.ok();
    assert_eq!(r.plan, "pro");
    let mine = app.my_plan(&t.owner()).await.body();
    assert_eq!(mine.plan.code, "pro");
    let webhooks = mine
        .features
        .iter()
        .find(|f| f.feature == "webhooks")
        .unwrap();
    assert!(webhooks.included);

    // Unknown plans and a front-desk user are refused.
    let r = app.change_plan(&t.owner(), "platinum").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "plan");
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.change_plan(&desk, "enterprise").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn operator_and_staff_tokens_never_stand_in_for_each_other() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let t = app.signup("tokens").await;
    let staff_on_ops = app.list_tenants(&t.owner(), &TenantFilter::default()).await;
    assert_eq!(staff_on_ops.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.operator_me(&t.owner()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let ops_on_tenant = app.list_staff(&ops).await;
    assert_eq!(ops_on_tenant.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.me(&ops).await.status, StatusCode::UNAUTHORIZED);
    // An API key is no operator either.
    let key = app
        .create_api_key(&t.owner(), &json!({ "name": "k", "role": "owner" }))
        .await
        .body()
        .key;
    assert_eq!(
        app.operator_me(&Auth::Bearer(key)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The operator sees the tenant in the list, with usage; search and filters work.
    let by_slug = TenantFilter {
        q: Some(t.slug.clone()),
        status: None,
    };
    let list = app.list_tenants(&ops, &by_slug).await.ok();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].tenant.slug, t.slug);
    assert_eq!(list[0].usage["staff"], 1);
    let closed = TenantFilter {
        status: Some("closed".into()),
        ..by_slug
    };
    let none = app.list_tenants(&ops, &closed).await.body();
    assert_eq!(none.len(), 0);
    let sleeping = TenantFilter {
        q: None,
        status: Some("sleeping".into()),
    };
    let bad = app.list_tenants(&ops, &sleeping).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Platform totals count the account under its plan and status.
    let totals = app.platform_totals(&ops).await.ok();
    let trial_starter = totals
        .tenants
        .iter()
        .find(|c| c.plan == "starter" && c.status == "trial")
        .expect("starter trials counted");
    assert!(trial_starter.tenants >= 1);
    // Logging out ends the operator token.
    assert_eq!(app.operator_logout(&ops).await.status, StatusCode::OK);
    assert_eq!(app.operator_me(&ops).await.status, StatusCode::UNAUTHORIZED);
    // Wrong passwords are refused without saying which part was wrong.
    let r = app
        .operator_login("nobody@patron.example.com", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "invalid_credentials");
}

#[tokio::test]
async fn a_support_session_reads_the_tenant_for_its_time_only_never_writes_and_is_audited() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let t = app.signup("support").await;
    let too_long = app
        .open_support_session(
            &ops,
            t.id,
            &json!({ "reason": "ticket 881", "minutes": 600 }),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.problem().fields[0].field, "minutes");
    let s = app
        .open_support_session(
            &ops,
            t.id,
            &json!({ "reason": "ticket 881: points missing", "minutes": 30 }),
        )
        .await
        .created();
    let support = Auth::Bearer(s.token.clone());

    let staff = app.list_staff(&support).await;
    assert_eq!(staff.status, StatusCode::OK, "{staff:?}");
    let me = app.me(&support).await.body();
    assert_eq!(me.kind, "support");
    assert!(!me.permissions.iter().any(|p| p == "members:read_pii"));
    let write = app
        .update_settings(&support, &json!({ "name": "Hijacked" }))
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(write.code(), "support_read_only");
    // Only the tenant it was opened for.
    let other = app.signup("support-other").await;
    let forged = s
        .token
        .replacen(&format!("pss_{}_", t.id), &format!("pss_{}_", other.id), 1);
    assert_eq!(
        app.list_staff(&Auth::Bearer(forged)).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The tenant sees the session and every read in its audit log.
    let entries = app.audit_log(&t.owner()).await.body();
    assert!(entries.iter().any(
        |e| e.action == "support.opened" && e.detail["reason"] == "ticket 881: points missing"
    ));
    // The read is logged under the path it asked for.
    assert!(entries
        .iter()
        .any(|e| e.action == "support.read" && e.target.as_deref() == Some("/api/v1/staff")));

    // It ends by itself.
    app.clock.advance(Duration::minutes(31));
    assert_eq!(
        app.list_staff(&support).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Ended early by the operator, a new session stops at once.
    let s2 = app
        .open_support_session(
            &ops,
            t.id,
            &json!({ "reason": "ticket 882", "minutes": 30 }),
        )
        .await
        .body();
    let support2 = Auth::Bearer(s2.token);
    assert_eq!(app.list_staff(&support2).await.status, StatusCode::OK);
    assert_eq!(
        app.end_support_session(&ops, &s2.id).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.list_staff(&support2).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn operators_create_and_edit_plans_with_every_bad_field_named() {
    let app = spawn_app().await;
    let ops = app.operator().await;
    let code = format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let bad = app
        .create_plan(
            &ops,
            &json!({ "code": "Bad Code", "name": "", "monthly_price_minor": -1, "currency": "XX1",
                     "features": ["api_keys", "teleport"], "limits": { "members": 10, "parking": 3 },
                     "overage_minor": { "staff": 5 } }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let fields = bad.fields();
    for f in [
        "code",
        "name",
        "monthly_price_minor",
        "currency",
        "features.1",
        "limits.parking",
        "overage_minor.staff",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    let good = json!({ "code": code, "name": "Studio", "monthly_price_minor": 9900, "currency": "cny",
                       "features": ["api_keys"], "limits": { "members": 2, "sms_per_month": 10 },
                       "overage_minor": { "sms_per_month": 5 } });
    let r = app.create_plan(&ops, &good).await.created();
    assert_eq!(r.currency, "CNY");
    assert_eq!(
        app.create_plan(&ops, &good).await.status,
        StatusCode::CONFLICT
    );
    // Tenants can sign up on it at once, and an edit reaches them at once.
    let t = app.signup_on("studio", &code).await;
    let k = app
        .create_api_key(&t.owner(), &json!({ "name": "k", "role": "front_desk" }))
        .await;
    assert_eq!(k.status, StatusCode::CREATED);
    app.update_plan(&ops, &code,
             &json!({ "name": "Studio", "monthly_price_minor": 9900, "currency": "CNY", "features": [], "limits": { "members": 2 } }))
        .await
        .ok();
    let k = app
        .create_api_key(&t.owner(), &json!({ "name": "k2", "role": "front_desk" }))
        .await;
    assert_eq!(k.status, StatusCode::PAYMENT_REQUIRED, "{k:?}");
    // Archived plans are no longer offered.
    let archive = app
        .update_plan(&ops, &code,
             &json!({ "name": "Studio", "monthly_price_minor": 9900, "currency": "CNY", "features": [], "limits": {}, "archived": true }))
        .await;
    assert_eq!(archive.status, StatusCode::OK);
    let offered = plan_features(&app).await;
    assert!(!offered.iter().any(|(c, _)| *c == code));
    let r = app
        .register_business(&json!({ "business_name": "Late", "slug": unique_slug("late"), "owner_name": "O", "email": "o@late.example.com", "password": PASSWORD, "plan": code }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "plan");
}

/// Logs the owner in again (the clock moves past sessions' lifetime in the lifecycle test).
async fn owner(app: &TestApp, t: &TestTenant) -> Auth {
    let r = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    if r.status != StatusCode::OK {
        return Auth::Bearer(format!("pst_{}_{}", t.id, "x".repeat(43)));
    }
    r.body().auth()
}

/// Logs the owner in, reads the staff list and renames the business: (read status, write
/// reply), to see what an account in some state may do.
async fn read_and_rename(app: &TestApp, t: &TestTenant, name: &str) -> (StatusCode, Reply<Tenant>) {
    let auth = owner(app, t).await;
    let read = app.list_staff(&auth).await.status;
    let write = app.update_settings(&auth, &json!({ "name": name })).await;
    (read, write)
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
    let mine = app.invoices(&owner(&app, &t).await).await.ok();
    assert_eq!(mine[0].total_minor, prorated + 15);
    let ops = app.operator().await;
    let all = app.tenant_invoices(&ops, t.id).await.body();
    assert_eq!(all.len(), 1);

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
    assert_eq!(w.status, StatusCode::PAYMENT_REQUIRED, "{w:?}");
    assert_eq!(w.code(), "payment_required");

    // The provider's webhook: a bad signature is refused; a good one pays the invoice once
    // and lifts the suspension.
    let event = json!({ "type": "invoice.paid", "invoice_id": inv.id, "reference": "ch_123" });
    let (bytes, sig) = signed_webhook(&event);
    let refused = app.payment_webhook(bytes.clone(), "sha256=00").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{refused:?}");
    let paid = app.payment_webhook(bytes.clone(), &sig).await.ok();
    assert_eq!(paid.outcome, "paid");
    assert_eq!(
        app.payment_webhook(bytes, &sig).await.body().outcome,
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
        .close_account(&owner(&app, &t).await, &json!({ "confirm_slug": "nope" }))
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let closed = app
        .close_account(
            &owner(&app, &t).await,
            &json!({ "confirm_slug": t.slug, "reason": "moving on" }),
        )
        .await
        .ok();
    assert_eq!(closed.status, "closed");
    let (read, w) = read_and_rename(&app, &t, "Gone").await;
    assert_eq!(read, StatusCode::OK);
    assert_eq!(w.code(), "tenant_closed");
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
    let mut gone = app.list_staff(&owner(&app, &t).await).await;
    for _ in 0..50 {
        if gone.status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        gone = app.list_staff(&owner(&app, &t).await).await;
    }
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{gone:?}");
    assert_eq!(gone.code(), "tenant_closed");
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
    app.create_plan(
        &ops,
        &json!({ "code": code, "name": "Tiny", "monthly_price_minor": 100, "currency": "CNY",
                 "features": [], "limits": { "sms_per_month": 2 }, "trial_days": 0 }),
    )
    .await
    .created();
    let t = app.signup_on("sms", &code).await;
    let send = |phone: &'static str| app.send_portal_code(&t.slug, phone, "register");
    assert_eq!(send("13700000001").await.status, StatusCode::ACCEPTED);
    assert_eq!(send("13700000002").await.status, StatusCode::ACCEPTED);
    let third = send("13700000003").await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS, "{third:?}");
    assert_eq!(third.code(), "sms_quota_reached");
    let mine = app.my_plan(&t.owner()).await.body();
    let sms = mine.usage_of("sms_per_month");
    assert_eq!((sms.usage, sms.warning.as_deref()), (2, Some("reached")));
    // Archive the test plan so it is never offered to other tests as an upgrade.
    let archive = app
        .update_plan(
            &ops,
            &code,
            &json!({ "name": "Tiny", "monthly_price_minor": 100, "currency": "CNY", "features": [],
                     "limits": { "sms_per_month": 2 }, "trial_days": 0, "archived": true }),
        )
        .await;
    assert_eq!(archive.status, StatusCode::OK);

    // While the account is suspended its portal still shows the form but takes no sign-ups.
    let r = app.suspend_tenant(&ops, t.id, "review").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.portal_form(&t.slug).await.status, StatusCode::OK);
    let refused = app
        .register_member(&t.slug,
              &json!({ "profile": { "name": "Li", "phone": "13700000001" }, "code": "000000", "password": PASSWORD }))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert_eq!(refused.code(), "business_unavailable");
}

#[tokio::test]
async fn the_operators_dashboard_sums_figures_the_job_keeps_and_says_how_fresh_they_are() {
    use patron_server::jobs::{JobRunner, Turn, OPS_FIGURES};
    // A database of its own: the dashboard sums every business in it.
    let (name, url) = fresh_database().await;
    let app = spawn_app_on(&url, 10).await;
    let ops = app.operator().await;
    let a = app.signup("figures-a").await;
    let b = app.signup("figures-b").await;
    let ann = app.member(&a.owner(), NewMember::named("Ann")).await.id;
    app.member(&a.owner(), NewMember::named("Ben")).await;
    let cat = app.member(&b.owner(), NewMember::named("Cat")).await.id;
    let first_run = app.clock.now();
    let three_days_ago = first_run - Duration::days(3);
    app.purchase(&a.owner(), &ann, "fig-a-1", 1_000).await;
    app.purchase(&a.owner(), &ann, "fig-a-2", 2_000).await;
    let mut earlier = NewPurchase::for_member("fig-a-3", &ann, 500);
    earlier.occurred_at = Some(three_days_ago);
    app.record_purchase(&a.owner(), &earlier).await.created();
    app.purchase(&b.owner(), &cat, "fig-b-1", 700).await;
    let near = |at: Option<chrono::DateTime<Utc>>, want: chrono::DateTime<Utc>| {
        at.is_some_and(|at| (at - want).num_milliseconds().abs() < 1)
    };

    // Before the job has run, nothing is counted, and the dashboard says so.
    let before = app.platform_totals(&ops).await.ok();
    assert_eq!(before.tenants.iter().map(|c| c.tenants).sum::<i64>(), 2);
    assert_eq!(before.not_counted, 2);
    assert_eq!(before.as_of, None);
    assert_eq!(before.members, 0);
    assert!(before.purchases_per_day.is_empty());

    // The job's first pass counts both businesses: members, and purchases per UTC day.
    let runner = JobRunner::new(app.db.clone(), std::sync::Arc::new(app.clock.clone()));
    runner.install_schedules().await.unwrap();
    let turns = runner.run_until_idle().await.unwrap();
    assert!(
        turns.contains(&Turn::Done {
            kind: OPS_FIGURES.into(),
            tenant_id: None
        }),
        "{turns:?}"
    );
    let counted = app.platform_totals(&ops).await.ok();
    assert_eq!(counted.members, 3);
    assert_eq!(counted.not_counted, 0);
    assert!(near(counted.as_of, first_run), "{:?}", counted.as_of);
    assert_eq!(
        counted.purchases_per_day,
        vec![
            DayCount {
                day: three_days_ago.date_naive(),
                count: 1
            },
            DayCount {
                day: first_run.date_naive(),
                count: 3
            },
        ]
    );

    // A member added later shows once the figures are taken again (they are kept, not live),
    // and `as_of` moves with them.
    app.member(&b.owner(), NewMember::named("Dan")).await;
    assert_eq!(app.platform_totals(&ops).await.ok().members, 3);
    app.clock.advance(Duration::minutes(11));
    let second_run = app.clock.now();
    runner.run_until_idle().await.unwrap();
    let later = app.platform_totals(&ops).await.ok();
    assert_eq!(later.members, 4);
    assert!(near(later.as_of, second_run), "{:?}", later.as_of);
    assert_eq!(later.purchases_per_day, counted.purchases_per_day);

    // A new business is "not counted" until the next pass, a minute later at most.
    app.signup("figures-c").await;
    let fresh = app.platform_totals(&ops).await.ok();
    assert_eq!(fresh.not_counted, 1);
    assert_eq!(fresh.members, 4);
    app.clock.advance(Duration::minutes(1));
    runner.run_until_idle().await.unwrap();
    let with_c = app.platform_totals(&ops).await.ok();
    assert_eq!(with_c.not_counted, 0);
    assert_eq!(with_c.members, 4);
    // The others were fresh enough to be left alone: the stalest figures are the second run's.
    assert!(near(with_c.as_of, second_run), "{:?}", with_c.as_of);

    // The dashboard reads the platform's own table in one statement: a business whose schema
    // is gone does not stop it, nor does it stop the job counting the others.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query(&format!("DROP SCHEMA t_{} CASCADE", b.id))
        .execute(&mut conn)
        .await
        .unwrap();
    let without_schema = app.platform_totals(&ops).await.ok();
    assert_eq!(without_schema.members, 4);
    app.member(&a.owner(), NewMember::named("Eve")).await;
    app.clock.advance(Duration::minutes(11));
    runner.run_until_idle().await.unwrap();
    let pass = patron_db::jobs::recent(&app.db, OPS_FIGURES, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(pass.status, "done");
    let result = pass.result.unwrap();
    assert_eq!(result["counted"], 2, "{result}");
    assert_eq!(result["failed"][0][0], b.id, "{result}");
    let partly = app.platform_totals(&ops).await.ok();
    assert_eq!(
        partly.members,
        3 + 2,
        "a's three members, b's last figures (2)"
    );
    assert!(
        near(partly.as_of, second_run),
        "b's figures are the stalest"
    );

    // A business that cannot be counted waits as long as a counted one before its next try
    // (failures never take every slot of a pass): a minute later the pass leaves it alone,
    // ten minutes after that it is tried again, behind no one and with the others.
    let figures_pass = || async {
        patron_db::jobs::recent(&app.db, OPS_FIGURES, 1)
            .await
            .unwrap()
            .remove(0)
            .result
            .unwrap()
    };
    app.clock.advance(Duration::minutes(1));
    runner.run_until_idle().await.unwrap();
    let idle = figures_pass().await;
    assert_eq!(
        (
            idle["counted"].as_i64(),
            idle["failed"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0)),
        "{idle}"
    );
    app.clock.advance(Duration::minutes(10));
    runner.run_until_idle().await.unwrap();
    let again = figures_pass().await;
    assert_eq!(again["counted"], 2, "{again}");
    assert_eq!(again["failed"][0][0], b.id, "{again}");

    // Once the business is purged its figures leave the sums.
    sqlx::query("UPDATE platform.tenants SET status = 'closed', purged_at = $2 WHERE id = $1")
        .bind(b.id)
        .bind(app.clock.now())
        .execute(&mut conn)
        .await
        .unwrap();
    let purged = app.platform_totals(&ops).await.ok();
    assert_eq!(purged.members, 3);
    assert_eq!(purged.not_counted, 0);
    assert_eq!(
        purged
            .purchases_per_day
            .iter()
            .map(|d| d.count)
            .sum::<i64>(),
        3
    );
    assert!(purged.as_of.unwrap() > second_run);
    drop(conn);
    app.stop().await;
    drop_database(&name).await;
}
