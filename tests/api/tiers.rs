//! Tiers through the API: promotion inside the purchase that crosses a threshold (and never
//! on balance alone), the tier's multiplier seen by point rules, rolling-window demotion
//! after retention one rung at a time or directly, pins that hold and lapse, previews that
//! write nothing and agree with the published re-evaluation, and birthday gifts once a year;
//! ladder scripts that decide the tier (and fail without failing the purchase), and the tier
//! history export.
//!
//! Longer than 600 lines on purpose: each test is a whole scenario told top to bottom, and the
//! capability's scenarios stay in one file so a reader finds them by its name.

use chrono::{Duration, TimeZone, Utc};
use patron_core::clock::Clock;
use patron_tests::internals::{
    engine_without_sandbox, evaluate_tiers, reevaluate_tiers, run_birthdays,
};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn tier(code: &str, threshold: i64, benefits: Value) -> Value {
    json!({ "code": code, "name": { "zh-CN": code, "en": code }, "threshold": threshold,
            "benefits": benefits })
}

fn ladder(
    metric: &str,
    window: Value,
    retention_days: u32,
    demotion: &str,
    tiers: Vec<Value>,
) -> Value {
    json!({ "metric": metric, "window": window, "retention_days": retention_days,
            "demotion": demotion, "tiers": tiers })
}

fn spend_ladder(retention_days: u32, demotion: &str) -> Value {
    ladder(
        "spend",
        json!({ "kind": "rolling", "days": 30 }),
        retention_days,
        demotion,
        vec![
            tier("base", 0, json!({})),
            tier("silver", 1_000, json!({})),
            tier("gold", 2_000, json!({})),
            tier("platinum", 3_000, json!({})),
        ],
    )
}

/// Publishes `ladder` and runs the re-evaluation the publish started, as the job would.
async fn publish(app: &TestApp, auth: &Auth, t: &TestTenant, ladder: Value) -> LadderPublished {
    let published = app
        .publish_ladder(auth, &json!({ "ladder": ladder }))
        .await
        .ok();
    reevaluate_tiers(app, t, &published.run.id).await;
    published
}

async fn code_of(app: &TestApp, auth: &Auth, member: &str) -> String {
    app.member_tier(auth, member).await.ok().code().to_owned()
}

#[tokio::test]
async fn the_crossing_purchase_promotes_at_once_balance_alone_never_does_and_rules_see_the_multiplier(
) {
    let app = spawn_app().await;
    let t = app.signup_on("tier-up", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.publish_script(
        &owner,
        "purchase",
        r#"
                let base = floor_div(event.amount, 100);
                award(base * member.benefits.multiplier / 1000, "per yuan, " + member.tier);
            "#,
    )
    .await;
    publish(
        &app,
        &owner,
        &t,
        ladder(
            "points_earned",
            json!({ "kind": "calendar_year" }),
            0,
            "one_rung",
            vec![
                tier("base", 0, json!({})),
                tier(
                    "silver",
                    100,
                    json!({ "multiplier": 2000, "discount_percent": 5,
                            "perks": [{ "zh-CN": "免费停车", "en": "Free parking" }] }),
                ),
                tier("gold", 1_000, json!({ "multiplier": 3000 })),
            ],
        ),
    )
    .await;
    let m = app.member(&owner, NewMember::named("Ann")).await.id;

    // A large adjustment raises the balance, not the points earned: no promotion.
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "gift", "points": 5_000, "reason": "welcome gift" }),
    )
    .await
    .created();
    assert_eq!(code_of(&app, &owner, &m).await, "base");

    let first = app.purchase(&owner, &m, "p-1", 9_900).await;
    assert_eq!(first.points, 99);
    assert_eq!(first.tier.as_deref(), Some("base"));
    // The purchase that reaches 100 points earned promotes inside its own transaction; it
    // earned (and got the discount) as the tier the member held when buying.
    let crossing = app.purchase(&owner, &m, "p-2", 100).await;
    assert_eq!(crossing.points, 1);
    assert_eq!(crossing.tier.as_deref(), Some("silver"));
    assert_eq!(crossing.discount_percent, 0);
    let after = app.purchase(&owner, &m, "p-3", 1_000).await;
    assert_eq!(after.points, 20, "the rule saw the silver multiplier");
    assert_eq!(after.reasons[0].reason, "per yuan, silver");
    assert_eq!(after.discount_percent, 5);

    let view = app.member_tier(&owner, &m).await.ok();
    assert_eq!(view.code(), "silver");
    assert_eq!(
        view.tier.as_ref().unwrap().benefits["perks"][0]["en"],
        "Free parking"
    );
    let progress = view.progress();
    assert_eq!(progress.value, 120);
    let next = progress.next.as_ref().unwrap();
    assert_eq!(next.code, "gold");
    assert_eq!(next.remaining, 880);
    assert_eq!(
        progress.by.as_deref(),
        Some(
            format!(
                "{}-12-31",
                app.clock
                    .now()
                    .with_timezone(&chrono_tz::Asia::Shanghai)
                    .format("%Y")
            )
            .as_str()
        )
    );
    let promotion = &view.history[0];
    assert_eq!(promotion.kind, "promotion");
    assert_eq!(
        (promotion.from.as_str(), promotion.to.as_str()),
        ("base", "silver")
    );
    assert_eq!(promotion.metric, Some(100));
    assert_eq!(promotion.threshold, Some(100));
    // The reason is kept as a code and its values, to be said in any language later.
    assert_eq!(promotion.reason_code.as_deref(), Some("threshold_reached"));
    assert_eq!(
        promotion.reason_params,
        Some(json!({ "metric": "points_earned", "value": 100, "threshold": 100 }))
    );
    assert_eq!(promotion.reason, "points_earned 100 >= 100");

    // A retried purchase answers as before and promotes no one twice.
    let again = app
        .record_purchase(&owner, &NewPurchase::for_member("p-2", &m, 100))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body().tier.as_deref(), Some("silver"));
    assert_eq!(app.member_tier(&owner, &m).await.ok().history.len(), 1);
}

#[tokio::test]
async fn rolling_window_demotion_waits_for_retention_then_steps_one_rung_or_drops_directly() {
    let app = spawn_app().await;
    for (n, demotion) in ["one_rung", "direct"].into_iter().enumerate() {
        let start = Utc.with_ymd_and_hms(2027, 3, 1, 4, 0, 0).unwrap();
        app.clock.set(start);
        let t = app.signup_on(&format!("tier-down-{n}"), "pro").await;
        let owner = app.api_key(&t, "owner").await;
        publish(&app, &owner, &t, spend_ladder(7, demotion)).await;
        let m = app.member(&owner, NewMember::named("Bo")).await.id;
        let idle = app.member(&owner, NewMember::named("Cy")).await.id;
        assert_eq!(
            app.purchase(&owner, &m, "big", 3_500).await.tier.as_deref(),
            Some("platinum")
        );

        // Inside the window: nothing changes, however often the job runs.
        app.clock.set(start + Duration::days(29));
        evaluate_tiers(&app, &t).await;
        evaluate_tiers(&app, &t).await;
        assert_eq!(code_of(&app, &owner, &m).await, "platinum");
        // The purchase leaves the window: retention starts.
        app.clock.set(start + Duration::days(31));
        evaluate_tiers(&app, &t).await;
        let view = app.member_tier(&owner, &m).await.ok();
        assert_eq!(view.code(), "platinum");
        assert_eq!(view.progress().short_of_current, 3_000);
        assert!(view.retained_until.is_some(), "{view:?}");
        app.clock.set(start + Duration::days(37));
        evaluate_tiers(&app, &t).await;
        assert_eq!(code_of(&app, &owner, &m).await, "platinum", "day 6 of 7");

        app.clock.set(start + Duration::days(38));
        let r = evaluate_tiers(&app, &t).await;
        assert_eq!(r["demoted"], 1, "{r}");
        // Twice the same day (or on a second replica): still one step.
        assert_eq!(evaluate_tiers(&app, &t).await["demoted"], 0);
        if demotion == "one_rung" {
            assert_eq!(code_of(&app, &owner, &m).await, "gold");
            app.clock.set(start + Duration::days(39));
            evaluate_tiers(&app, &t).await;
            assert_eq!(code_of(&app, &owner, &m).await, "silver");
            app.clock.set(start + Duration::days(40));
            evaluate_tiers(&app, &t).await;
        }
        let view = app.member_tier(&owner, &m).await.ok();
        assert_eq!(view.code(), "base", "{demotion}");
        assert_eq!(view.history[0].kind, "demotion");
        assert_eq!(view.history[0].metric, Some(0));
        assert_eq!(code_of(&app, &owner, &idle).await, "base");
    }
}

#[tokio::test]
async fn a_pin_holds_its_tier_is_audited_and_lapses_by_itself() {
    let app = spawn_app().await;
    let start = Utc.with_ymd_and_hms(2027, 5, 1, 4, 0, 0).unwrap();
    app.clock.set(start);
    let t = app.signup_on("tier-pin", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    publish(&app, &owner, &t, spend_ladder(0, "direct")).await;
    let m = app.member(&owner, NewMember::named("Di")).await.id;
    let until = start + Duration::days(10);

    // Front desk staff may not pin.
    let desk = app.api_key(&t, "front_desk").await;
    let pin = json!({ "tier": "gold", "until": until, "reason": "VIP guest of the owner" });
    let r = app.pin_member_tier(&desk, &m, &pin).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    for (bad, field) in [
        (
            json!({ "tier": "diamond", "until": until, "reason": "x" }),
            "tier",
        ),
        (
            json!({ "tier": "gold", "until": start - Duration::days(1), "reason": "x" }),
            "until",
        ),
        (
            json!({ "tier": "gold", "until": until, "reason": " " }),
            "reason",
        ),
    ] {
        let r = app.pin_member_tier(&owner, &m, &bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert_eq!(r.problem().fields[0].field, field);
    }
    let r = app.pin_member_tier(&owner, &m, &pin).await.ok();
    assert_eq!(r.code(), "gold");
    assert_eq!(r.pin.unwrap().reason, "VIP guest of the owner");
    let audit = app.member_audit(&owner, &m).await;
    assert!(
        audit.json.to_string().contains("member.tier_pinned"),
        "{audit:?}"
    );

    app.clock.set(start + Duration::days(9));
    evaluate_tiers(&app, &t).await;
    assert_eq!(code_of(&app, &owner, &m).await, "gold", "the pin holds");
    app.clock.set(until + Duration::hours(1));
    evaluate_tiers(&app, &t).await;
    let view = app.member_tier(&owner, &m).await.ok();
    assert_eq!(view.code(), "base");
    assert!(view.pin.is_none());
    assert_eq!(view.history[0].kind, "pin_lapsed");
    assert_eq!(view.history[1].kind, "pin");
}

#[tokio::test]
async fn a_preview_writes_nothing_and_agrees_with_the_published_re_evaluation() {
    let app = spawn_app().await;
    let t = app.signup_on("tier-preview", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let mut ids = Vec::new();
    for (i, spend) in [0, 500, 1_200, 2_500, 4_000, 9_000].into_iter().enumerate() {
        let m = app
            .member(&owner, NewMember::named(format!("M{i}")))
            .await
            .id;
        if spend > 0 {
            app.purchase(&owner, &m, &format!("seed-{i}"), spend).await;
        }
        ids.push(m);
    }
    publish(&app, &owner, &t, spend_ladder(30, "one_rung")).await;
    let before: Vec<String> = {
        let mut v = Vec::new();
        for m in &ids {
            v.push(code_of(&app, &owner, m).await);
        }
        v
    };
    assert_eq!(
        before,
        ["base", "base", "silver", "gold", "platinum", "platinum"]
    );

    // A stricter draft: saved, previewed.
    let draft = ladder(
        "spend",
        json!({ "kind": "rolling", "days": 30 }),
        30,
        "one_rung",
        vec![
            tier("member", 0, json!({})),
            tier("vip", 2_000, json!({})),
            tier("svip", 5_000, json!({})),
        ],
    );
    app.save_ladder_draft(&owner, &draft).await.ok();
    let history_before: usize = {
        let mut n = 0;
        for m in &ids {
            n += app.member_tier(&owner, m).await.ok().history.len();
        }
        n
    };
    let p = app.preview_ladder(&owner, &json!({})).await.ok();
    assert_eq!(p.total, 6);
    let counts = |v: &[TierCount]| -> Vec<(String, i64)> {
        v.iter().map(|c| (c.code.clone(), c.members)).collect()
    };
    assert_eq!(
        counts(&p.now),
        [
            ("base".into(), 2),
            ("silver".into(), 1),
            ("gold".into(), 1),
            ("platinum".into(), 2)
        ]
    );
    assert_eq!(
        counts(&p.draft),
        [("member".into(), 3), ("vip".into(), 2), ("svip".into(), 1)]
    );
    assert_eq!(p.moving, 6);
    // Nothing was written.
    let mut after_preview = Vec::new();
    let mut history_after = 0;
    for m in &ids {
        let v = app.member_tier(&owner, m).await.ok();
        after_preview.push(v.code().to_owned());
        history_after += v.history.len();
    }
    assert_eq!(after_preview, before);
    assert_eq!(history_after, history_before);

    // Publishing the draft re-evaluates everyone exactly as previewed.
    let r = app
        .publish_ladder(&owner, &json!({ "note": "stricter" }))
        .await
        .ok();
    let v2 = r.version.version;
    assert_eq!(r.run.status, "running");
    reevaluate_tiers(&app, &t, &r.run.id).await;
    let overview = app.tiers_overview(&owner).await.body();
    assert_eq!(counts(&overview.counts), counts(&p.draft));
    let run = overview.run.unwrap();
    assert_eq!(run.status, "done");
    assert_eq!(run.done, 6);
    for mv in &p.moves {
        assert_eq!(code_of(&app, &owner, &mv.member_id).await, mv.to);
    }

    // Rollback restores the earlier ladder's placement.
    let r = app.rollback_ladder(&owner, v2 - 1).await.ok();
    reevaluate_tiers(&app, &t, &r.run.id).await;
    let mut restored = Vec::new();
    for m in &ids {
        restored.push(code_of(&app, &owner, m).await);
    }
    assert_eq!(restored, before);
    // The register is searchable by tier, the first tier including members never placed.
    for (code, want) in [
        ("platinum", vec![4, 5]),
        ("base", vec![0, 1]),
        ("gold", vec![3]),
    ] {
        let r = app
            .search_members(&owner, &json!({ "tier": code }))
            .await
            .ok();
        let mut found: Vec<usize> = r
            .items
            .iter()
            .map(|m| ids.iter().position(|i| *i == m.id).unwrap())
            .collect();
        found.sort();
        assert_eq!(found, want, "{code}");
    }
    let r = app
        .search_members(&owner, &json!({ "tier": "diamond" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "tier");
    let versions = app.ladder_versions(&owner).await.body();
    assert_eq!(versions.len(), 2);
    assert!(versions[1].active);
}

#[tokio::test]
async fn tier_birthday_gifts_are_granted_once_a_year_however_often_the_job_runs() {
    let app = spawn_app().await;
    let t = app.signup_on("tier-gift", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    publish(
        &app,
        &owner,
        &t,
        ladder(
            "spend",
            json!({ "kind": "since_joining" }),
            0,
            "direct",
            vec![
                tier("base", 0, json!({})),
                tier("silver", 1_000, json!({ "birthday_gift_points": 50 })),
            ],
        ),
    )
    .await;
    let today = app
        .clock
        .now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let birthday = today.with_year_safe(1990);
    let silver = app
        .member(&owner, NewMember::named("Ed").birthday(&*birthday))
        .await
        .id;
    let plain = app
        .member(&owner, NewMember::named("Fa").birthday(&*birthday))
        .await
        .id;
    app.purchase(&owner, &silver, "s", 1_000).await;
    let engine = engine_without_sandbox();
    let r = run_birthdays(&app, t.id, &engine, app.clock.now()).await;
    assert_eq!(r["members"], 1, "{r}");
    let again = run_birthdays(&app, t.id, &engine, app.clock.now()).await;
    assert_eq!(again["members"], 0, "{again}");
    let points = |m: String| {
        let (app, owner) = (&app, &owner);
        async move { app.member_points(owner, &m).await.body().balance }
    };
    assert_eq!(points(silver).await, 50);
    assert_eq!(points(plain).await, 0);
}

#[tokio::test]
async fn a_bad_ladder_is_refused_with_each_field_named_and_nothing_saved() {
    let app = spawn_app().await;
    let t = app.signup_on("tier-bad", "pro").await;
    let owner = t.owner();
    let mut bad = spend_ladder(0, "direct");
    bad["tiers"][0]["threshold"] = json!(10);
    bad["tiers"][2]["threshold"] = json!(500);
    bad["tiers"][3]["code"] = json!("silver");
    bad["tiers"][1]["benefits"] = json!({ "discount_percent": 120 });
    let r = app.save_ladder_draft(&owner, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let fields = r.fields();
    for f in [
        "tiers[0].threshold",
        "tiers[2].threshold",
        "tiers[3].code",
        "tiers[1].benefits.discount_percent",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let mut unknown = spend_ladder(0, "direct");
    unknown["tiers"][0]["colour"] = json!("#ffffff");
    let r = app.save_ladder_draft(&owner, &unknown).await;
    assert!(r.status.is_client_error(), "{r:?}");
    let overview = app.tiers_overview(&owner).await;
    assert!(overview.body().draft.is_none(), "{overview:?}");
    // No ladder yet: a pin has nothing to hold.
    let m = app.member(&owner, NewMember::named("Gu")).await.id;
    let r = app
        .pin_member_tier(
            &owner,
            &m,
            &json!({ "tier": "gold", "until": app.clock.now() + Duration::days(3), "reason": "x" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "no_ladder");
    // A member without a ladder has no tier.
    assert!(app.member_tier(&owner, &m).await.ok().tier.is_none());
}

trait WithYear {
    fn with_year_safe(self, year: i32) -> String;
}

impl WithYear for chrono::NaiveDate {
    /// The same day in `year` (28 February for 29 February), as a date string.
    fn with_year_safe(self, year: i32) -> String {
        use chrono::Datelike;
        self.with_year(year)
            .or_else(|| chrono::NaiveDate::from_ymd_opt(year, 2, 28))
            .unwrap()
            .to_string()
    }
}

fn script_ladder(script: &str) -> Value {
    let mut l = spend_ladder(0, "direct");
    l["script"] = json!(script);
    l
}

async fn overview(app: &TestApp, auth: &Auth) -> TiersOverview {
    app.tiers_overview(auth).await.ok()
}

#[tokio::test]
async fn a_ladder_script_decides_the_promotion_inside_the_purchase() {
    let app = spawn_app().await;
    let t = app.signup_on("tier-script", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    // The thresholds (1,000 / 2,000 / 3,000 spend) would promote nobody below; the script
    // promotes on the second purchase (the member's totals) or on spend in its own way.
    publish(
        &app,
        &owner,
        &t,
        script_ladder(
            r#"
            if member.totals.visits >= 2 && metrics.spend >= 400 { "gold" }
            else if metrics.spend >= 300 { "silver" }
            else { member.tier }
            "#,
        ),
    )
    .await;
    let m = app.member(&owner, NewMember::named("Sam")).await.id;

    let p = app.purchase(&owner, &m, "s-1", 350).await;
    assert_eq!(p.tier.as_deref(), Some("silver"), "{p:?}");
    let p = app.purchase(&owner, &m, "s-2", 100).await;
    assert_eq!(p.tier.as_deref(), Some("gold"), "{p:?}");
    let v = app.member_tier(&owner, &m).await.ok();
    assert_eq!(v.code(), "gold");
    let last = &v.history[0];
    assert_eq!(last.kind, "promotion");
    assert_eq!((last.from.as_str(), last.to.as_str()), ("silver", "gold"));
    assert!(last.reason.contains("script chose gold"), "{last:?}");
    assert_eq!(last.reason_code.as_deref(), Some("script_chose"));
    assert_eq!(last.reason_params.as_ref().unwrap()["tier"], "gold");
    assert_eq!(last.metric, Some(450));
    assert!(last.threshold.is_none(), "no threshold decided: {last:?}");
    assert_eq!(overview(&app, &owner).await.script_errors_total, 0);
}

#[tokio::test]
async fn a_failing_ladder_script_leaves_the_tier_and_the_purchase_goes_through_with_the_error_shown(
) {
    let app = spawn_app().await;
    let t = app.signup_on("tier-script-fail", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    publish(
        &app,
        &owner,
        &t,
        script_ladder(
            r#"
            if metrics.spend >= 500 { "diamond" }
            else if metrics.spend >= 100 { "silver" }
            else { "base" }
            "#,
        ),
    )
    .await;
    let m = app.member(&owner, NewMember::named("Fay")).await.id;
    assert_eq!(
        app.purchase(&owner, &m, "f-1", 200).await.tier.as_deref(),
        Some("silver")
    );

    // An unknown code: the purchase is recorded, the tier stays, staff see why.
    let p = app.purchase(&owner, &m, "f-2", 400).await;
    assert_eq!(p.tier.as_deref(), Some("silver"), "{p:?}");
    assert_eq!(p.amount, 400);
    let o = overview(&app, &owner).await;
    assert_eq!(o.script_errors_total, 1, "{o:?}");
    let e = &o.script_errors[0];
    assert_eq!(e.member_id, m);
    assert_eq!(e.member_name, "Fay");
    assert_eq!(e.during, "event");
    assert_eq!(e.error.kind, "unknown_tier");
    assert!(e.error.message.contains("diamond"), "{e:?}");

    // A script over its operations limit: the same.
    let runaway = r#"
        if metrics.spend >= 1000 { let n = 0; loop { n += 1; } }
        if metrics.spend >= 100 { "silver" } else { "base" }
    "#;
    publish(&app, &owner, &t, script_ladder(runaway)).await;
    assert_eq!(
        overview(&app, &owner).await.script_errors_total,
        0,
        "a new version starts with a clean slate"
    );
    let p = app.purchase(&owner, &m, "f-3", 500).await;
    assert_eq!(p.tier.as_deref(), Some("silver"), "{p:?}");
    let o = overview(&app, &owner).await;
    let e = &o.script_errors[0];
    assert_eq!(e.error.kind, "limit", "{o:?}");
    assert_eq!(e.error.limit.as_deref(), Some("operations"));
    assert_eq!(code_of(&app, &owner, &m).await, "silver");

    // The scheduled evaluation and a publish's re-evaluation keep the tier too, and count it.
    let r = evaluate_tiers(&app, &t).await;
    assert_eq!(r["errors"], 1, "{r}");
    assert_eq!(code_of(&app, &owner, &m).await, "silver");
    publish(&app, &owner, &t, script_ladder(runaway)).await;
    let o = overview(&app, &owner).await;
    let run = o.run.as_ref().unwrap();
    assert_eq!(run.errors, 1, "{o:?}");
    assert_eq!(run.status, "done");
    assert_eq!(o.script_errors[0].during, "run");
    assert_eq!(code_of(&app, &owner, &m).await, "silver");
}

#[tokio::test]
async fn a_ladder_script_that_does_not_compile_is_refused_naming_script_with_line_and_column() {
    let app = spawn_app().await;
    let t = app.signup_on("tier-script-bad", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let bad = "let a = 1;\nif metrics.spend >= { \"gold\" }";
    let r = app.save_ladder_draft(&owner, &script_ladder(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let problem = r.problem();
    assert_eq!(problem.fields[0].field, "script", "{r:?}");
    let text = &problem.fields[0].problem;
    assert!(text.contains("line 2, column"), "{text}");
    assert!(
        overview(&app, &owner).await.draft.is_none(),
        "nothing saved"
    );

    let r = app
        .publish_ladder(&owner, &json!({ "ladder": script_ladder(bad) }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].field, "ladder.script");
    let r = app
        .preview_ladder(&owner, &json!({ "ladder": script_ladder("event.amount") }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(
        r.problem().fields[0].field,
        "ladder.script",
        "no event in a tier script"
    );

    // The editor's check says where.
    let r = app.check_ladder_script(&owner, bad).await.ok();
    assert!(!r.ok);
    let error = r.error.unwrap();
    assert_eq!(error.line, Some(2));
    assert!(error.column.unwrap() > 0);
    let r = app.check_ladder_script(&owner, r#""gold""#).await;
    assert!(r.body().ok, "{r:?}");
    let r = app
        .save_ladder_draft(&owner, &script_ladder(r#""gold""#))
        .await
        .ok();
    assert_eq!(r.ladder["script"], r#""gold""#);
}

#[tokio::test]
async fn a_preview_runs_the_draft_script_and_agrees_with_the_published_re_evaluation() {
    let app = spawn_app().await;
    let t = app.signup_on("tier-script-preview", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    publish(&app, &owner, &t, spend_ladder(0, "direct")).await;
    let mut ids = Vec::new();
    for (i, spends) in [
        vec![],
        vec![50],
        vec![42],
        vec![300],
        vec![100, 100, 100],
        vec![2_500],
    ]
    .into_iter()
    .enumerate()
    {
        let m = app
            .member(&owner, NewMember::named(format!("P{i}")))
            .await
            .id;
        for (j, spend) in spends.into_iter().enumerate() {
            app.purchase(&owner, &m, &format!("p-{i}-{j}"), spend).await;
        }
        ids.push(m);
    }
    // Three purchases make gold, spend silver; a spend of exactly 42 breaks the script; and a member
    // already on gold or above under the thresholds stays on platinum by the script.
    let script = r#"
        if metrics.spend == 42 { "no_such_tier" }
        else if member.tier == "gold" || member.tier == "platinum" { "platinum" }
        else if member.totals.visits >= 3 { "gold" }
        else if metrics.spend >= 200 { "silver" }
        else { "base" }
    "#;
    let p = app
        .preview_ladder(&owner, &json!({ "ladder": script_ladder(script) }))
        .await
        .ok();
    assert_eq!(p.errors, 1, "{p:?}");
    assert_eq!(p.error_samples[0].member_id, ids[2]);
    assert_eq!(p.error_samples[0].name, "P2");
    assert_eq!(p.error_samples[0].error.kind, "unknown_tier");
    let counts: Vec<i64> = p.draft.iter().map(|c| c.members).collect();
    assert_eq!(counts, [3, 1, 1, 1], "{p:?}");
    let predicted: std::collections::HashMap<String, String> = p
        .moves
        .iter()
        .map(|m| (m.member_id.clone(), m.to.clone()))
        .collect();
    assert_eq!(p.moving, 3, "{p:?}");

    let r = publish(&app, &owner, &t, script_ladder(script)).await;
    assert_eq!(r.version.ladder["script"], script);
    let o = overview(&app, &owner).await;
    let published: Vec<i64> = o.counts.iter().map(|c| c.members).collect();
    assert_eq!(published, counts, "the publish agrees with the preview");
    assert_eq!(o.run.unwrap().errors, 1);
    for m in &ids {
        let code = code_of(&app, &owner, m).await;
        if let Some(to) = predicted.get(m) {
            assert_eq!(&code, to, "member {m}");
        }
    }
    assert_eq!(code_of(&app, &owner, &ids[4]).await, "gold");
    assert_eq!(code_of(&app, &owner, &ids[5]).await, "platinum");
}

#[tokio::test]
async fn tier_history_exports_as_csv_and_xlsx_for_reports_readers_filtered_by_member_and_day() {
    let app = spawn_app().await;
    let start = Utc.with_ymd_and_hms(2027, 3, 1, 4, 0, 0).unwrap(); // 12:00 in Shanghai
    app.clock.set(start);
    let t = app.signup_on("tier-export", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    publish(&app, &owner, &t, spend_ladder(0, "one_rung")).await;
    let ann = app.member(&owner, NewMember::named("Ann")).await.id;
    let bob = app.member(&owner, NewMember::named("Bob")).await.id;
    app.purchase(&owner, &ann, "x-1", 1_500).await;
    app.clock.set(start + Duration::days(2));
    app.purchase(&owner, &bob, "x-2", 2_500).await;
    app.purchase(&owner, &ann, "x-3", 1_000).await;

    let csv = |query: TierHistoryQuery| {
        let app = &app;
        let owner = owner.clone();
        async move {
            let r = app.tier_history_csv(&owner, &query).await;
            assert_eq!(r.status, StatusCode::OK, "{r:?}");
            assert!(r.header("content-type").starts_with("text/csv"));
            r.text().lines().map(str::to_owned).collect::<Vec<_>>()
        }
    };
    let all = csv(TierHistoryQuery::default()).await;
    assert_eq!(
        all[0],
        "at,member_id,card_number,member_name,from,to,kind,metric,threshold,ladder_version,reason,actor,id"
    );
    assert_eq!(all.len(), 4, "{all:?}");
    assert!(
        all[1].contains(&ann) && all[1].contains(",Ann,base,silver,promotion,1500,1000,1,"),
        "{all:?}"
    );
    assert!(
        all[1].starts_with("2027-03-01T12:00:00+08:00"),
        "local time: {all:?}"
    );
    assert!(
        all[2].contains(",Bob,base,gold,promotion,2500,2000,"),
        "{all:?}"
    );
    assert!(
        all[3].contains(",Ann,silver,gold,promotion,2500,2000,"),
        "{all:?}"
    );

    let anns = csv(TierHistoryQuery::default().member(&ann)).await;
    assert_eq!(anns.len(), 3, "{anns:?}");
    assert!(anns[1..].iter().all(|l| l.contains(&ann)));
    let later = csv(TierHistoryQuery::default()
        .from("2027-03-02")
        .to("2027-03-03"))
    .await;
    assert_eq!(later.len(), 3, "{later:?}");
    assert!(later[1..].iter().all(|l| l.starts_with("2027-03-03")));
    let first_day = csv(TierHistoryQuery::default().to("2027-03-01")).await;
    assert_eq!(first_day.len(), 2, "{first_day:?}");
    let bobs_first_day = csv(TierHistoryQuery::default().member(&bob).to("2027-03-01")).await;
    assert_eq!(
        bobs_first_day.len(),
        1,
        "only the header: {bobs_first_day:?}"
    );

    let r = app
        .tier_history_csv(
            &owner,
            &TierHistoryQuery::default()
                .from("2027-03-03")
                .to("2027-03-01"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].field, "to");
    let r = app
        .tier_history_csv(
            &owner,
            &TierHistoryQuery::default().member(&uuid::Uuid::new_v4().to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].field, "member_id");

    // Reports readers only: a marketer may, the front desk may not (logged in on the first
    // day, when the owner's session is still young).
    app.clock.set(start);
    let (_, marketer) = app.staff_with_roles(&t, &["marketer"]).await;
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    let r = app
        .tier_history_csv(&marketer, &TierHistoryQuery::default())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let r = app
        .tier_history_csv(&desk, &TierHistoryQuery::default())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");

    // The workbook holds the same rows.
    let xlsx = app
        .tier_history_xlsx(&owner, &TierHistoryQuery::default().member(&ann))
        .await;
    let rows = xlsx_rows(&xlsx.bytes);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][0], "at");
    assert_eq!(rows[0][5], "to");
    assert_eq!(rows[1][3], "Ann");
    assert_eq!(
        (rows[1][5].as_str(), rows[2][5].as_str()),
        ("silver", "gold")
    );

    // For people: headers, tier names, kinds, reasons and actors in the reader's language,
    // no ids; the same moves.
    let people = csv(TierHistoryQuery::default().member(&ann).for_people("zh-CN")).await;
    assert_eq!(
        people[0].trim_start_matches('\u{feff}'),
        "时间,卡号,会员,原等级,新等级,变动,指标,指标值,门槛,等级体系版本,原因,操作人"
    );
    assert_eq!(people.len(), 3, "{people:?}");
    assert!(
        !people.iter().any(|l| l.contains(&ann)),
        "no ids: {people:?}"
    );
    let first: Vec<&str> = people[1].split(',').collect();
    assert_eq!(first[0], "2027-03-01 12:00", "{people:?}");
    assert_eq!(first[2], "Ann");
    assert_eq!(first[5], "升级");
    assert_eq!(first[6], "消费金额");
    assert_eq!((first[7], first[8]), ("15.00", "10.00"), "spend in yuan");
    assert_eq!(first[10], "消费金额 15.00，达到门槛 10.00");
    assert_eq!(
        first[11], "接口密钥：owner key",
        "the key that recorded the purchase"
    );
    let english = app
        .tier_history_xlsx(
            &owner,
            &TierHistoryQuery::default().member(&ann).for_people("en"),
        )
        .await;
    let rows = xlsx_rows(&english.bytes);
    assert_eq!(rows[0][5], "Change");
    assert_eq!(rows[1][5], "Promotion");
    assert_eq!(rows[1][11], "API key: owner key");
    assert_eq!(rows[2][10], "Spend 25.00 reached the threshold 20.00");
}

#[tokio::test]
async fn tier_codes_in_reasons_and_the_tier_history_come_with_the_current_tier_names() {
    let app = spawn_app().await;
    let t = app.signup_on("tier-names", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let named = |gold: (&str, &str)| {
        ladder(
            "spend",
            json!({ "kind": "since_joining" }),
            0,
            "direct",
            vec![
                json!({ "code": "base", "name": { "zh-CN": "普通会员", "en": "Basic" },
                        "threshold": 0 }),
                json!({ "code": "gold", "name": { "zh-CN": gold.0, "en": gold.1 },
                        "threshold": 1_000, "benefits": { "multiplier": 2000 } }),
            ],
        )
    };
    publish(&app, &owner, &t, named(("金卡", "Gold"))).await;
    // The template's tier bonus names the tier by its code at run time.
    let r = app
        .publish_rule(
            &owner,
            "purchase",
            &json!({ "template": { "kind": "purchase", "base": { "points": 1, "per_amount": 100 },
                                   "use_tier_benefit": true } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let m = app.member(&owner, NewMember::named("Lin")).await.id;
    app.record_purchase(&owner, &NewPurchase::for_member("n-1", &m, 2_000))
        .await
        .created();
    assert_eq!(code_of(&app, &owner, &m).await, "gold");
    app.record_purchase(&owner, &NewPurchase::for_member("n-2", &m, 1_000))
        .await
        .created();

    let bonus_name = |entries: &[LedgerEntry]| -> Value {
        let e = &entries[0];
        assert_eq!(e.reason_code.as_deref(), Some("several"), "{e:?}");
        let parts = e.reason_params.as_ref().unwrap()["parts"]
            .as_array()
            .unwrap()
            .clone();
        let bonus = parts
            .iter()
            .find(|p| p["code"] == "tier_bonus")
            .unwrap_or_else(|| panic!("no tier bonus in {parts:?}"));
        assert_eq!(bonus["params"]["tier"], "gold");
        bonus["params"]["tier_name"].clone()
    };
    let entries = app.points_entries(&owner, &m, None).await.ok().items;
    assert_eq!(
        bonus_name(&entries),
        json!({ "zh-CN": "金卡", "en": "Gold" })
    );
    let history = app.member_tier(&owner, &m).await.ok().history;
    let up = history
        .iter()
        .find(|h| h.to == "gold")
        .expect("a promotion");
    assert_eq!(up.to_name.as_ref().unwrap()["zh-CN"], "金卡");
    assert_eq!(up.from_name.as_ref().unwrap()["en"], "Basic");

    // Renamed: every place shows the tier's name as it is now.
    publish(&app, &owner, &t, named(("黑金卡", "Black Gold"))).await;
    let entries = app.points_entries(&owner, &m, None).await.ok().items;
    assert_eq!(
        bonus_name(&entries),
        json!({ "zh-CN": "黑金卡", "en": "Black Gold" })
    );
    let history = app.member_tier(&owner, &m).await.ok().history;
    let up = history
        .iter()
        .find(|h| h.to == "gold")
        .expect("a promotion");
    assert_eq!(up.to_name.as_ref().unwrap()["zh-CN"], "黑金卡");
}

#[tokio::test]
async fn a_tiers_birthday_coupon_is_given_once_a_year_to_its_members_on_their_local_birthday() {
    let app = spawn_app().await;
    // 20:00 UTC on 1 May is already 2 May in Shanghai, the business's time zone.
    app.clock
        .set(Utc.with_ymd_and_hms(2027, 5, 1, 20, 0, 0).unwrap());
    let t = app.signup_on("tier-bday-coupon", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "Birthday treat",
                     "terms": { "kind": "amount_off", "amount": 1_000, "valid_days": 30 } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let tpl = r.json["id"].as_str().unwrap().to_owned();
    // An unknown template is refused by field.
    let unknown = json!({ "birthday_coupon_template_id": uuid::Uuid::new_v4() });
    let bad = app
        .publish_ladder(
            &owner,
            &json!({ "ladder": ladder("spend", json!({ "kind": "since_joining" }), 0, "direct",
                                      vec![tier("base", 0, json!({})), tier("silver", 1_000, unknown)]) }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    assert_eq!(
        bad.fields(),
        vec!["ladder.tiers[1].benefits.birthday_coupon_template_id"]
    );
    publish(
        &app,
        &owner,
        &t,
        ladder(
            "spend",
            json!({ "kind": "since_joining" }),
            0,
            "direct",
            vec![
                tier("base", 0, json!({})),
                tier(
                    "silver",
                    1_000,
                    json!({ "birthday_coupon_template_id": tpl }),
                ),
            ],
        ),
    )
    .await;
    let versions = app.ladder_versions(&owner).await.json;
    assert_eq!(
        versions[0]["ladder"]["tiers"][1]["benefits"]["birthday_coupon_template_id"],
        tpl.as_str(),
        "{versions}"
    );
    let silver = app
        .member(&owner, NewMember::named("Ed").birthday("1990-05-02"))
        .await
        .id;
    let base = app
        .member(&owner, NewMember::named("Fa").birthday("1990-05-02"))
        .await
        .id;
    // Born on the UTC date, not the business's.
    let utc_day = app
        .member(&owner, NewMember::named("Gu").birthday("1990-05-01"))
        .await
        .id;
    app.purchase(&owner, &silver, "s", 1_000).await;
    app.purchase(&owner, &utc_day, "u", 1_000).await;
    let engine = engine_without_sandbox();
    // Two runners at once, then a third run: one coupon.
    let (a, b) = tokio::join!(
        run_birthdays(&app, t.id, &engine, app.clock.now()),
        run_birthdays(&app, t.id, &engine, app.clock.now())
    );
    assert_eq!(
        a["coupons"]["given"].as_i64().unwrap() + b["coupons"]["given"].as_i64().unwrap(),
        1,
        "{a} {b}"
    );
    let again = run_birthdays(&app, t.id, &engine, app.clock.now()).await;
    assert_eq!(again["coupons"]["given"], 0, "{again}");
    let held = |m: String| {
        let (app, owner) = (&app, &owner);
        async move { app.member_coupons(owner, &m).await.json }
    };
    let ed = held(silver.clone()).await;
    assert_eq!(ed.as_array().unwrap().len(), 1, "{ed}");
    assert_eq!(ed[0]["channel"], "tier");
    assert_eq!(held(base).await, json!([]));
    assert_eq!(held(utc_day).await, json!([]));
    // Next year's birthday gives the next one.
    app.clock
        .set(Utc.with_ymd_and_hms(2028, 5, 2, 4, 0, 0).unwrap());
    let next = run_birthdays(&app, t.id, &engine, app.clock.now()).await;
    assert_eq!(next["coupons"]["given"], 1, "{next}");
    assert_eq!(held(silver).await.as_array().unwrap().len(), 2);
}

/// The points-earned metric read from the per-day running totals the ledger keeps equals the
/// sum of the entries in the window, for windows that start and end inside days, entries
/// written out of time order (a later day's total then exists before an earlier day's entry),
/// reversals, and entries that never count (adjustments, tier gifts, redemptions, expiry);
/// and `patron verify` finds the kept totals in agreement with the entries, and reports a day
/// that drifted. (A database of its own: the entries are written without accounts.)
#[tokio::test]
async fn points_earned_from_the_kept_day_totals_equals_the_entries_in_every_window() {
    use rand::{Rng, SeedableRng};
    use sqlx::Connection;
    let (name, url) = fresh_database().await;
    let app = spawn_app_on(&url, 4).await;
    let t = app.signup("earned-days").await;
    let owner = app.api_key(&t, "owner").await;
    let mut ids: Vec<uuid::Uuid> = Vec::new();
    for n in ["Ann", "Ben", "Cat"] {
        ids.push(
            app.member(&owner, NewMember::named(n))
                .await
                .id
                .parse()
                .unwrap(),
        );
    }
    let tenant = patron_db::tenants::find_by_slug(&app.db, &t.slug)
        .await
        .unwrap()
        .unwrap();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("SET search_path TO t_{}", t.id))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = Utc.with_ymd_and_hms(2027, 5, 10, 0, 0, 0).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(40);
    let kinds = [
        ("earn", "purchase"),
        ("earn", "check_in"),
        ("reverse", "refund"),
        ("earn", "adjustment"),
        ("adjust", "adjustment"),
        ("earn", "tier_gift"),
        ("redeem", "redemption"),
        ("expire", "expiry"),
    ];
    // 400 entries in batches (each its own transaction, as the ledger writes them), at times
    // over 20 days in random order, half of them in the last ten minutes of a day.
    for _ in 0..40 {
        let mut tx = conn.begin().await.unwrap();
        for _ in 0..10 {
            let member = ids[rng.gen_range(0..ids.len())];
            let (kind, source) = kinds[rng.gen_range(0..kinds.len())];
            let day = rng.gen_range(0..20);
            let secs = if rng.gen_bool(0.5) {
                rng.gen_range(0..86_400)
            } else {
                86_400 - rng.gen_range(1..600)
            };
            let points: i64 = match kind {
                "reverse" | "redeem" | "expire" => -rng.gen_range(1..500),
                _ => rng.gen_range(1..500),
            };
            sqlx::query(
                "INSERT INTO point_entries (member_id, kind, points, balance, source, source_id, \
                 actor, at) VALUES ($1, $2, $3, 0, $4, 'test', 'test', $5)",
            )
            .bind(member)
            .bind(kind)
            .bind(points)
            .bind(source)
            .bind(base + Duration::days(day) + Duration::seconds(secs))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let scan = "SELECT coalesce(sum(points), 0)::bigint FROM point_entries \
                WHERE member_id = $1 AND kind IN ('earn', 'reverse') \
                AND source NOT IN ('adjustment', 'tier_gift') \
                AND ($2::timestamptz IS NULL OR at >= $2) AND at <= $3";
    // Random windows, and windows starting and ending exactly at entries' own times.
    let times: Vec<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT at FROM point_entries ORDER BY random() LIMIT 100")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mut windows = Vec::new();
    for round in 0..300 {
        let now = base + Duration::seconds(rng.gen_range(0..22 * 86_400));
        let start =
            (round % 10 != 0).then(|| now - Duration::seconds(rng.gen_range(0..12 * 86_400)));
        windows.push((start, now));
    }
    for pair in times.chunks(2) {
        windows.push((Some(pair[0].min(pair[1])), pair[0].max(pair[1])));
    }
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    for (start, now) in windows {
        let kept = patron_db::tiers::metrics(
            &mut tx,
            patron_core::tiers::Metric::PointsEarned,
            &ids,
            start,
            now,
            "Asia/Shanghai",
        )
        .await
        .unwrap();
        for id in &ids {
            let scanned: i64 = sqlx::query_scalar(scan)
                .bind(id)
                .bind(start)
                .bind(now)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(
                kept.get(id).copied().unwrap_or(0),
                scanned,
                "member {id}, window {start:?} to {now}"
            );
            // The promotion check's one-member statement agrees.
            let (_, one) = patron_db::tiers::lock_standing_with_metric(
                &mut tx,
                *id,
                patron_core::tiers::Metric::PointsEarned,
                start,
                now,
                "Asia/Shanghai",
            )
            .await
            .unwrap();
            assert_eq!(one, scanned, "one member {id}, window {start:?} to {now}");
        }
    }
    let off: Vec<_> = patron_db::points::verify(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.earned_days_off > 0)
        .collect();
    assert!(off.is_empty(), "{off:?}");
    tx.commit().await.unwrap();
    // A day's kept total that drifted from its entries is reported.
    sqlx::query("UPDATE point_earned_days SET total = total + 1 WHERE member_id = $1")
        .bind(ids[0])
        .execute(&mut conn)
        .await
        .unwrap();
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    let off = patron_db::points::verify(&mut tx).await.unwrap();
    assert!(
        off.iter()
            .any(|d| d.member_id == ids[0] && d.earned_days_off > 0),
        "{off:?}"
    );
    drop(tx);
    drop(conn);
    drop(app);
    drop_database(&name).await;
}

#[tokio::test]
async fn a_visits_ladder_counts_days_with_a_purchase_or_a_check_in_and_promotes_on_the_crossing_one(
) {
    let app = spawn_app().await;
    let start = Utc.with_ymd_and_hms(2027, 3, 1, 4, 0, 0).unwrap();
    app.clock.set(start);
    let t = app.signup_on("tiers-visits", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    publish(
        &app,
        &owner,
        &t,
        ladder(
            "visits",
            json!({ "kind": "since_joining" }),
            0,
            "direct",
            vec![tier("base", 0, json!({})), tier("regular", 2, json!({}))],
        ),
    )
    .await;
    let daily = app.member(&owner, NewMember::named("Du")).await.id;
    let same_day = app.member(&owner, NewMember::named("Sa")).await.id;
    let checked_in = app.member(&owner, NewMember::named("Ci")).await.id;
    app.purchase(&owner, &daily, "d1", 1_000).await;
    app.purchase(&owner, &same_day, "s1", 1_000).await;
    app.purchase(&owner, &same_day, "s2", 1_000).await;
    assert_eq!(
        app.check_in(&owner, &checked_in).await.status,
        StatusCode::OK
    );
    assert_eq!(code_of(&app, &owner, &daily).await, "base");
    assert_eq!(
        code_of(&app, &owner, &same_day).await,
        "base",
        "two purchases on one day are one visit"
    );
    app.clock.set(start + Duration::days(1));
    app.purchase(&owner, &daily, "d2", 1_000).await;
    app.purchase(&owner, &checked_in, "c2", 1_000).await;
    assert_eq!(code_of(&app, &owner, &daily).await, "regular");
    assert_eq!(
        code_of(&app, &owner, &checked_in).await,
        "regular",
        "a check-in day and a purchase day"
    );
    assert_eq!(code_of(&app, &owner, &same_day).await, "base");
}
