//! Rule templates end to end: every form feature is turned into a script, compiled and run
//! by the real `patron-sandbox`, and the points and reasons are checked exactly.
//!
//! Longer than 600 lines on purpose: one test per form feature, each checking exact points
//! and reasons; they share the one sandbox pool this file starts.

use std::path::PathBuf;
use std::time::Duration;

use patron_rules::{
    catalog, default_program, Outcome, RuleKey, SandboxConfig, SandboxPool, Template,
};
use serde_json::{json, Value};

const KEY: RuleKey = RuleKey {
    tenant: 7,
    version: 1,
};
const PER_YUAN: &str = "1 point per 1.00 spent";

fn sandbox() -> PathBuf {
    default_program().unwrap_or_else(|| {
        panic!(
            "patron-sandbox is not built: run `cargo build --manifest-path \
             platform/sandbox/Cargo.toml --target-dir target` (scripts/test does) or set \
             PATRON_SANDBOX_BIN"
        )
    })
}

/// A pool and the forms' scripts run in it.
struct Rules {
    pool: SandboxPool,
}

impl Rules {
    fn start() -> Self {
        let pool = SandboxPool::start(SandboxConfig {
            program: Some(sandbox()),
            workers: 1,
            // Generous: test binaries run in parallel on two cores.
            deadline: Duration::from_secs(5),
            ..SandboxConfig::default()
        })
        .expect("pool starts");
        Self { pool }
    }

    /// Validates the form, compiles its script and runs it.
    async fn earn(&self, form: &Value, event: &Value, member: &Value) -> Outcome {
        let template = Template::parse(form.clone())
            .unwrap_or_else(|errors| panic!("{form} is not valid: {errors:?}"));
        self.run(&template.to_script(), event, member).await
    }

    async fn run(&self, script: &str, event: &Value, member: &Value) -> Outcome {
        if let Err(e) = self.pool.compile(KEY, script).await {
            panic!("the script does not compile: {e:?}\n{script}");
        }
        self.pool
            .eval(KEY, script, event, member)
            .await
            .unwrap_or_else(|e| panic!("the script fails: {e:?}\n{script}"))
    }
}

/// Points, reason and line of every award, in order. A reason the template wrote as a code
/// and values (`@reason:...`) is read back into its English words, as the ledger stores it.
fn awards(outcome: &Outcome) -> Vec<(i64, &str, Option<u32>)> {
    let list: Vec<_> = outcome
        .reasons
        .iter()
        .map(|r| {
            let text: &str = match patron_core::reasons::Reason::parse(&r.reason) {
                Some(coded) => Box::leak(coded.english.into_boxed_str()),
                None => r.reason.as_str(),
            };
            (r.points, text, r.line)
        })
        .collect();
    assert_eq!(
        outcome.points,
        list.iter().map(|a| a.0).sum::<i64>(),
        "the total is the sum of the awards"
    );
    list
}

fn purchase_form(extra: Value) -> Value {
    let mut form = json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100}});
    if let (Some(form), Some(extra)) = (form.as_object_mut(), extra.as_object()) {
        form.extend(extra.clone());
    }
    form
}

/// A purchase on Saturday 2026-03-14 at 09:00 with no lines.
fn purchase(amount: i64) -> Value {
    at(purchase_lines(amount, json!([])), (2026, 3, 14, 6), 9)
}

fn purchase_lines(amount: i64, items: Value) -> Value {
    json!({"kind": "purchase", "amount": amount, "currency": "CNY", "items": items})
}

/// Sets the event's time: (year, month, day, weekday) and hour.
fn at(mut event: Value, (year, month, day, weekday): (i64, i64, i64, i64), hour: i64) -> Value {
    event["time"] = json!({
        "iso": format!("{year:04}-{month:02}-{day:02}T{hour:02}:00:00+08:00"),
        "year": year, "month": month, "day": day, "hour": hour, "weekday": weekday,
    });
    event
}

fn member() -> Value {
    json!({"id": 1, "tier": "", "birthday": "1990-07-20", "totals": {"visits": 3}})
}

fn member_with(extra: Value) -> Value {
    let mut m = member();
    if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    m
}

#[tokio::test]
async fn the_base_rate_rounds_down_to_nearest_or_up_as_the_form_says() {
    let rules = Rules::start();
    let rate = |rounding: &str| {
        purchase_form(json!({"base": {"points": 1, "per_amount": 100, "rounding": rounding}}))
    };
    for (rounding, amount, points) in [
        ("floor", 12_345, 123),
        ("round", 12_345, 123),
        ("ceil", 12_345, 124),
        ("floor", 12_350, 123),
        ("round", 12_350, 124),
        ("ceil", 12_300, 123),
    ] {
        let outcome = rules
            .earn(&rate(rounding), &purchase(amount), &member())
            .await;
        assert_eq!(
            awards(&outcome),
            [(points, PER_YUAN, None)],
            "{rounding} of {amount}"
        );
    }

    let form =
        purchase_form(json!({"base": {"points": 3, "per_amount": 1000, "label": "3 per ten"}}));
    let outcome = rules.earn(&form, &purchase(12_345), &member()).await;
    assert_eq!(awards(&outcome), [(37, "3 per ten", None)]);

    // Nothing to earn, no award at all.
    let outcome = rules.earn(&rate("floor"), &purchase(99), &member()).await;
    assert_eq!(awards(&outcome), []);
}

#[tokio::test]
async fn a_purchase_under_the_minimum_spend_earns_nothing() {
    let rules = Rules::start();
    let form =
        purchase_form(json!({"minimum_spend": 5000, "first_purchase_bonus": {"points": 200}}));
    let first = member_with(json!({"totals": {"visits": 0}}));

    let under = rules.earn(&form, &purchase(4999), &first).await;
    assert_eq!(awards(&under), []);

    let at_minimum = rules.earn(&form, &purchase(5000), &member()).await;
    assert_eq!(awards(&at_minimum), [(50, PER_YUAN, None)]);
}

#[tokio::test]
async fn category_and_sku_multipliers_award_their_lines_and_the_rest_earns_the_base_rate() {
    let rules = Rules::start();
    let form = purchase_form(json!({"multipliers": [
        {"match": "sku", "value": "LATTE", "factor_permille": 3000, "label": "lattes ×3"},
        {"match": "category", "value": "drinks", "factor_permille": 2000},
        {"match": "category", "value": "gift cards", "factor_permille": 0},
    ]}));
    let items = json!([
        {"sku": "TEA", "category": "drinks", "quantity": 2, "unit_price": 1500},
        {"sku": "BAGEL", "category": "food", "quantity": 1, "unit_price": 2345},
        {"sku": "LATTE", "category": "drinks", "quantity": 1, "unit_price": 2850},
        {"sku": "GC100", "category": "gift cards", "quantity": 1, "unit_price": 10000},
    ]);
    let event = at(
        purchase_lines(3000 + 2345 + 2850 + 10_000, items),
        (2026, 3, 14, 6),
        9,
    );
    let outcome = rules.earn(&form, &event, &member()).await;
    assert_eq!(
        awards(&outcome),
        [
            // 30.00 of tea at ×2.
            (60, "drinks ×2", Some(0)),
            // 28.50 of latte at ×3: rounded once, 85.5 -> 85.
            (85, "lattes ×3", Some(2)),
            // The gift card earns nothing; the bagel is the rest.
            (23, PER_YUAN, None),
        ]
    );

    // A discount that makes the lines dearer than the amount paid leaves no rest.
    let items = json!([{"sku": "TEA", "category": "drinks", "quantity": 1, "unit_price": 1500}]);
    let event = at(purchase_lines(1000, items), (2026, 3, 14, 6), 9);
    let outcome = rules.earn(&form, &event, &member()).await;
    assert_eq!(awards(&outcome), [(30, "drinks ×2", Some(0))]);
}

#[tokio::test]
async fn tier_multipliers_apply_to_the_members_tier_only() {
    let rules = Rules::start();
    let form = purchase_form(json!({"tier_multipliers": [
        {"tier": "gold", "factor_permille": 1500},
        {"tier": "silver", "factor_permille": 1200, "label": "silver bonus"},
    ]}));
    let event = purchase(12_345);

    let gold = rules
        .earn(&form, &event, &member_with(json!({"tier": "gold"})))
        .await;
    // 123 × 1.5 = 184.5 -> 184: 61 extra.
    assert_eq!(
        awards(&gold),
        [(123, PER_YUAN, None), (61, "gold tier ×1.5", None)]
    );
    let silver = rules
        .earn(&form, &event, &member_with(json!({"tier": "silver"})))
        .await;
    assert_eq!(
        awards(&silver),
        [(123, PER_YUAN, None), (24, "silver bonus", None)]
    );
    let bronze = rules
        .earn(&form, &event, &member_with(json!({"tier": "bronze"})))
        .await;
    assert_eq!(awards(&bronze), [(123, PER_YUAN, None)]);
}

#[tokio::test]
async fn the_tier_benefit_uses_the_members_own_multiplier() {
    let rules = Rules::start();
    let form = purchase_form(json!({"use_tier_benefit": true}));
    let event = purchase(12_345);

    let gold = member_with(json!({"tier": "gold", "benefits": {"multiplier": 1500}}));
    let outcome = rules.earn(&form, &event, &gold).await;
    assert_eq!(
        awards(&outcome),
        [(123, PER_YUAN, None), (61, "gold tier bonus", None)]
    );

    // Without a tier the multiplier defaults to ×1: nothing extra.
    let outcome = rules.earn(&form, &event, &member()).await;
    assert_eq!(awards(&outcome), [(123, PER_YUAN, None)]);

    let labelled = purchase_form(json!({"use_tier_benefit": true, "tier_benefit_label": "VIP"}));
    let platinum = member_with(json!({"tier": "platinum", "benefits": {"multiplier": 3000}}));
    let outcome = rules.earn(&labelled, &event, &platinum).await;
    assert_eq!(
        awards(&outcome),
        [(123, PER_YUAN, None), (246, "VIP", None)]
    );
}

#[tokio::test]
async fn the_birthday_month_multiplies_only_in_that_month() {
    let rules = Rules::start();
    let form = purchase_form(json!({"birthday_month": {"factor_permille": 2000}}));
    let march_born = member_with(json!({"birthday": "1990-03-02"}));

    let in_month = rules.earn(&form, &purchase(12_345), &march_born).await;
    assert_eq!(
        awards(&in_month),
        [(123, PER_YUAN, None), (123, "birthday month ×2", None)]
    );

    let april = at(purchase_lines(12_345, json!([])), (2026, 4, 14, 2), 9);
    let out_of_month = rules.earn(&form, &april, &march_born).await;
    assert_eq!(awards(&out_of_month), [(123, PER_YUAN, None)]);

    let unknown = member_with(json!({"birthday": ""}));
    let outcome = rules.earn(&form, &purchase(12_345), &unknown).await;
    assert_eq!(awards(&outcome), [(123, PER_YUAN, None)]);
}

#[tokio::test]
async fn a_promotion_applies_on_its_days_and_hours_within_its_dates() {
    let rules = Rules::start();
    let form = purchase_form(json!({"promotions": [{
        "name": "Tuesday double", "from": "2026-03-01", "to": "2026-03-31",
        "weekdays": [2], "hours": {"from": 14, "to": 17}, "factor_permille": 2000,
    }]}));
    let tuesday =
        |date: (i64, i64, i64, i64), hour: i64| at(purchase_lines(12_345, json!([])), date, hour);
    let doubled = [(123, PER_YUAN, None), (123, "Tuesday double", None)];
    let plain = [(123, PER_YUAN, None)];

    for (date, hour, expected) in [
        // Tuesday 10 March, inside the hours.
        ((2026, 3, 10, 2), 15, &doubled[..]),
        ((2026, 3, 10, 2), 14, &doubled[..]),
        // The last hour is excluded, and so is the morning.
        ((2026, 3, 10, 2), 17, &plain[..]),
        ((2026, 3, 10, 2), 13, &plain[..]),
        // The last day is included.
        ((2026, 3, 31, 2), 15, &doubled[..]),
        // A Wednesday.
        ((2026, 3, 11, 3), 15, &plain[..]),
        // Tuesdays outside the dates.
        ((2026, 4, 7, 2), 15, &plain[..]),
        ((2026, 2, 24, 2), 15, &plain[..]),
    ] {
        let outcome = rules.earn(&form, &tuesday(date, hour), &member()).await;
        assert_eq!(awards(&outcome), expected, "{date:?} at {hour}");
    }

    // Bonus points, every day of the window, at any hour.
    let form = purchase_form(json!({"promotions": [{
        "name": "Opening week", "from": "2026-03-14", "to": "2026-03-20", "bonus_points": 50,
    }]}));
    let outcome = rules.earn(&form, &purchase(12_345), &member()).await;
    assert_eq!(
        awards(&outcome),
        [(123, PER_YUAN, None), (50, "Opening week", None)]
    );
    let after = at(purchase_lines(12_345, json!([])), (2026, 3, 21, 6), 9);
    let outcome = rules.earn(&form, &after, &member()).await;
    assert_eq!(awards(&outcome), [(123, PER_YUAN, None)]);
}

#[tokio::test]
async fn the_per_purchase_cap_cuts_the_last_awards_first() {
    let rules = Rules::start();
    let form = purchase_form(json!({
        "tier_multipliers": [{"tier": "gold", "factor_permille": 1500}],
        "per_purchase_cap": 500,
    }));
    let gold = member_with(json!({"tier": "gold"}));

    let outcome = rules.earn(&form, &purchase(40_000), &gold).await;
    assert_eq!(
        awards(&outcome),
        [(400, PER_YUAN, None), (100, "gold tier ×1.5", None)]
    );
    let outcome = rules.earn(&form, &purchase(80_000), &gold).await;
    assert_eq!(awards(&outcome), [(500, PER_YUAN, None)]);
    let outcome = rules.earn(&form, &purchase(20_000), &gold).await;
    assert_eq!(
        awards(&outcome),
        [(200, PER_YUAN, None), (100, "gold tier ×1.5", None)]
    );
}

#[tokio::test]
async fn the_daily_cap_counts_the_points_earned_today() {
    let rules = Rules::start();
    let form = purchase_form(json!({"daily_cap": 1000}));
    let today = |points: i64| member_with(json!({"totals": {"visits": 3, "points_today": points}}));

    let near = rules.earn(&form, &purchase(12_345), &today(950)).await;
    assert_eq!(awards(&near), [(50, PER_YUAN, None)]);
    let reached = rules.earn(&form, &purchase(12_345), &today(1000)).await;
    assert_eq!(awards(&reached), []);
    let beyond = rules.earn(&form, &purchase(12_345), &today(1200)).await;
    assert_eq!(awards(&beyond), []);
    // Not given: nothing earned today yet.
    let fresh = rules.earn(&form, &purchase(12_345), &member()).await;
    assert_eq!(awards(&fresh), [(123, PER_YUAN, None)]);

    // With a per-purchase cap too, the smaller room wins.
    let both = purchase_form(json!({"daily_cap": 1000, "per_purchase_cap": 100}));
    let outcome = rules.earn(&both, &purchase(12_345), &today(0)).await;
    assert_eq!(awards(&outcome), [(100, PER_YUAN, None)]);
    let outcome = rules.earn(&both, &purchase(12_345), &today(960)).await;
    assert_eq!(awards(&outcome), [(40, PER_YUAN, None)]);
}

#[tokio::test]
async fn the_first_purchase_bonus_is_for_the_first_purchase_and_is_not_capped() {
    let rules = Rules::start();
    let form =
        purchase_form(json!({"first_purchase_bonus": {"points": 200}, "per_purchase_cap": 100}));
    let visits = |n: i64| member_with(json!({"totals": {"visits": n}}));

    let first = rules.earn(&form, &purchase(12_345), &visits(0)).await;
    assert_eq!(
        awards(&first),
        [(100, PER_YUAN, None), (200, "welcome bonus", None)]
    );
    let second = rules.earn(&form, &purchase(12_345), &visits(1)).await;
    assert_eq!(awards(&second), [(100, PER_YUAN, None)]);
}

#[tokio::test]
async fn a_combined_form_applies_lines_tier_birthday_promotion_caps_and_bonus_in_order() {
    let rules = Rules::start();
    let form = json!({
        "kind": "purchase",
        "base": {"points": 1, "per_amount": 100},
        "minimum_spend": 5000,
        "multipliers": [{"match": "category", "value": "drinks", "factor_permille": 2000}],
        "tier_multipliers": [{"tier": "gold", "factor_permille": 1500}],
        "birthday_month": {"factor_permille": 2000},
        "promotions": [{"name": "Tuesday double", "from": "2026-03-01", "to": "2026-03-31",
                        "weekdays": [2, 4], "hours": {"from": 14, "to": 17},
                        "factor_permille": 2000, "bonus_points": 10}],
        "per_purchase_cap": 1000,
        "daily_cap": 2000,
        "first_purchase_bonus": {"points": 200},
    });
    let items = json!([
        {"sku": "TEA", "category": "drinks", "quantity": 2, "unit_price": 1500},
        {"sku": "CAKE", "category": "food", "quantity": 1, "unit_price": 9345},
    ]);
    let event = at(purchase_lines(12_345, items), (2026, 3, 10, 2), 15);
    let member = |points_today: i64| {
        json!({"id": 9, "tier": "gold", "birthday": "1990-03-02",
               "totals": {"visits": 0, "points_today": points_today}})
    };

    // Lines 60 + rest 93 = 153; gold 229 (+76); birthday 458 (+229); promotion 916 (+458)
    // and 10 bonus points: 926, under both caps; then the welcome bonus.
    let outcome = rules.earn(&form, &event, &member(0)).await;
    assert_eq!(
        awards(&outcome),
        [
            (60, "drinks ×2", Some(0)),
            (93, PER_YUAN, None),
            (76, "gold tier ×1.5", None),
            (229, "birthday month ×2", None),
            (468, "Tuesday double", None),
            (200, "welcome bonus", None),
        ]
    );
    assert_eq!(outcome.points, 1126);

    // 1,500 earned today leaves room for 500: the promotion is cut to 42.
    let outcome = rules.earn(&form, &event, &member(1500)).await;
    assert_eq!(
        awards(&outcome),
        [
            (60, "drinks ×2", Some(0)),
            (93, PER_YUAN, None),
            (76, "gold tier ×1.5", None),
            (229, "birthday month ×2", None),
            (42, "Tuesday double", None),
            (200, "welcome bonus", None),
        ]
    );
}

#[tokio::test]
async fn a_purchase_rule_gives_nothing_for_other_events() {
    let rules = Rules::start();
    let form = purchase_form(json!({"first_purchase_bonus": {"points": 200}}));
    let check_in = json!({"kind": "check_in", "amount": 12_345});
    let outcome = rules
        .earn(
            &form,
            &check_in,
            &member_with(json!({"totals": {"visits": 0}})),
        )
        .await;
    assert_eq!(awards(&outcome), []);
}

#[tokio::test]
async fn hostile_text_from_a_form_is_only_ever_a_reason() {
    let rules = Rules::start();
    let hostile = "\"); loop {} //";
    let form = purchase_form(json!({
        "base": {"points": 1, "per_amount": 100, "label": hostile},
        "multipliers": [{"match": "category", "value": hostile, "factor_permille": 2000}],
        "promotions": [{"name": hostile, "from": "2026-01-01", "to": "2026-12-31",
                        "bonus_points": 5}],
    }));
    let items = json!([{"sku": "X", "category": hostile, "quantity": 1, "unit_price": 1000}]);
    let event = at(purchase_lines(3000, items), (2026, 3, 14, 6), 9);
    let outcome = rules.earn(&form, &event, &member()).await;
    assert_eq!(
        awards(&outcome),
        [
            (20, "\"); loop {} // ×2", Some(0)),
            (20, hostile, None),
            (5, hostile, None)
        ]
    );

    // Text that validation would refuse is still escaped safely.
    let nasty = "a \\ b \" c\nd\r\te\u{0}f\u{2028}g }\n award(1000000, \"x\"); //";
    let form: Value = json!({"kind": "check_in", "points": 5, "label": nasty});
    let template: Template = serde_json::from_value(form).unwrap();
    assert!(template.validate().is_err());
    let outcome = rules
        .run(
            &template.to_script(),
            &json!({"kind": "check_in"}),
            &member(),
        )
        .await;
    assert_eq!(awards(&outcome), [(5, nasty, None)]);
}

#[tokio::test]
async fn fixed_point_forms_award_their_own_event_only() {
    let rules = Rules::start();
    for (form, kind, expected) in [
        (
            json!({"kind": "check_in", "points": 5}),
            "check_in",
            (5, "check-in"),
        ),
        (
            json!({"kind": "referral", "points": 300, "label": "thanks!"}),
            "referral",
            (300, "thanks!"),
        ),
        (
            json!({"kind": "birthday", "points": 100}),
            "birthday",
            (100, "happy birthday"),
        ),
    ] {
        let event = json!({"kind": kind});
        let outcome = rules.earn(&form, &event, &member()).await;
        assert_eq!(awards(&outcome), [(expected.0, expected.1, None)], "{kind}");
        let outcome = rules.earn(&form, &purchase(12_345), &member()).await;
        assert_eq!(awards(&outcome), [], "{kind} on a purchase");
    }
}

#[tokio::test]
async fn a_custom_event_gives_fixed_points_and_points_per_amount() {
    let rules = Rules::start();
    let form = json!({"kind": "custom_event", "event": "review", "points": 10,
                      "per_amount": {"points": 1, "per_amount": 100, "rounding": "ceil",
                                     "label": "per yuan reviewed"}});
    let event = json!({"kind": "review", "amount": 1001});
    let outcome = rules.earn(&form, &event, &member()).await;
    assert_eq!(
        awards(&outcome),
        [(10, "review", None), (11, "per yuan reviewed", None)]
    );
    let outcome = rules
        .earn(&form, &json!({"kind": "review"}), &member())
        .await;
    assert_eq!(awards(&outcome), [(10, "review", None)]);
    let outcome = rules
        .earn(&form, &json!({"kind": "survey", "amount": 1001}), &member())
        .await;
    assert_eq!(awards(&outcome), []);

    let rate_only = json!({"kind": "custom_event", "event": "order_paid",
                           "per_amount": {"points": 2, "per_amount": 100}});
    let event = json!({"kind": "order_paid", "amount": 1050});
    let outcome = rules.earn(&rate_only, &event, &member()).await;
    assert_eq!(awards(&outcome), [(21, "2 points per 1.00 spent", None)]);
}

#[tokio::test]
async fn every_catalog_example_compiles_and_runs() {
    let rules = Rules::start();
    for entry in catalog().as_array().unwrap() {
        let kind = entry["kind"].as_str().unwrap();
        let event_kind = match kind {
            "custom_event" => entry["example"]["event"].as_str().unwrap(),
            other => other,
        };
        let event = at(
            json!({"kind": event_kind, "amount": 12_345}),
            (2026, 3, 14, 6),
            9,
        );
        let outcome = rules.earn(&entry["example"], &event, &member()).await;
        assert!(outcome.points > 0, "{kind}: {outcome:?}");
    }
}

#[tokio::test]
async fn the_example_in_the_rule_guide_is_what_its_form_gives() {
    let guide = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md"),
    )
    .expect("docs/rules.md");
    let example = &guide[guide.find("### An example").expect("an example")..];
    let block = |fence: &str| {
        let start = example.find(fence).expect("a fenced block") + fence.len();
        let end = start + example[start..].find("\n```").expect("a closing fence");
        example[start..end].to_string()
    };
    let form: Value = serde_json::from_str(&block("```json\n")).expect("the form is JSON");
    let script = Template::parse(form.clone()).unwrap().to_script();
    assert_eq!(block("```rhai\n"), script.trim_end());

    let rules = Rules::start();
    let items = json!([{"sku": "TEA", "category": "drinks", "quantity": 1, "unit_price": 3000}]);
    let event = at(purchase_lines(8000, items), (2026, 3, 17, 2), 15);
    let gold = json!({"tier": "gold", "totals": {"visits": 0, "points_today": 900}});
    let outcome = rules.run(&script, &event, &gold).await;
    // Tea 60, rest 50; gold 165 (+55); Tuesday 330 (+165); 100 left today; then the bonus.
    assert_eq!(
        awards(&outcome),
        [
            (60, "drinks ×2", Some(0)),
            (40, PER_YUAN, None),
            (200, "welcome to the club", None)
        ]
    );
}

#[tokio::test]
async fn a_form_with_a_coupon_gives_it_from_the_minimum_spend_with_the_points() {
    let rules = Rules::start();
    let tpl = "0190f5a2-0000-7000-8000-000000000001";
    let form = purchase_form(json!({"minimum_spend": 5000, "coupon_template_id": tpl}));

    let under = rules.earn(&form, &purchase(4999), &member()).await;
    assert!(under.coupons.is_empty());

    let at_minimum = rules.earn(&form, &purchase(5000), &member()).await;
    assert_eq!(awards(&at_minimum), [(50, PER_YUAN, None)]);
    assert_eq!(at_minimum.coupons, vec![tpl.to_string()]);
}
