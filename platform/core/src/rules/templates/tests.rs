use super::script::*;
use super::*;

fn purchase(extra: Value) -> Value {
    let mut form = json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100}});
    if let (Some(form), Some(extra)) = (form.as_object_mut(), extra.as_object()) {
        form.extend(extra.clone());
    }
    form
}

fn read(form: Value) -> Template {
    serde_json::from_value(form).expect("form reads")
}

fn paths(template: &Template) -> Vec<String> {
    match template.validate() {
        Ok(()) => vec![],
        Err(errors) => errors.into_iter().map(|e| e.field).collect(),
    }
}

fn full_purchase() -> Value {
    json!({
        "kind": "purchase",
        "base": {"points": 2, "per_amount": 100, "rounding": "round", "label": "2 per yuan"},
        "minimum_spend": 5000,
        "multipliers": [{"match": "category", "value": "drinks", "factor_permille": 2000, "label": "drinks"}],
        "tier_multipliers": [{"tier": "gold", "factor_permille": 1500, "label": "gold"}],
        "birthday_month": {"factor_permille": 2000, "label": "birthday"},
        "promotions": [{"name": "Tuesdays", "from": "2026-03-01", "to": "2026-03-31",
                        "weekdays": [2], "hours": {"from": 14, "to": 17},
                        "factor_permille": 2000, "bonus_points": 10}],
        "per_purchase_cap": 500,
        "daily_cap": 1000,
        "spend_bonuses": [{"min_amount": 10000, "points": 50, "label": "满100送50"}],
        "first_purchase_bonus": {"points": 200, "label": "welcome"},
    })
}

#[test]
fn a_minimal_purchase_form_is_valid_and_floors_by_default() {
    let template = read(purchase(json!({})));
    assert_eq!(template.validate(), Ok(()));
    let Template::Purchase(p) = &template else {
        panic!("not a purchase form")
    };
    assert_eq!(p.base.rounding, Rounding::Floor);
    let script = template.to_script();
    assert!(script.contains("let points = floor_div(event.amount * POINTS, PER_AMOUNT);"));
    assert!(script.contains("const PER_AMOUNT = 100;"));
    // The default reason is a code with its values, said in each reader's language.
    assert!(
        script.contains(
            "awards.push([-1, points, \"@reason:earn_rate{\\\"per\\\":100,\\\"points\\\":1}\"]);"
        ),
        "{script}"
    );
    assert!(!script.contains("room"), "no caps, no room:\n{script}");
    assert!(!script.contains("award_line") || script.contains("a[0]"));
}

#[test]
fn unknown_fields_and_kinds_are_refused() {
    for form in [
        purchase(json!({"bogus": 1})),
        json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100, "extra": 1}}),
        json!({"kind": "check_in", "points": 5, "colour": "red"}),
        json!({"kind": "lottery", "points": 5}),
        purchase(
            json!({"multipliers": [{"match": "brand", "value": "x", "factor_permille": 2000}]}),
        ),
        purchase(
            json!({"promotions": [{"name": "x", "from": "2026-02-30", "to": "2026-03-01", "bonus_points": 1}]}),
        ),
    ] {
        assert!(
            serde_json::from_value::<Template>(form.clone()).is_err(),
            "{form} was read"
        );
        let errors = Template::parse(form).unwrap_err();
        assert_eq!(errors[0].field, "");
    }
}

#[test]
fn every_bad_field_is_named_by_its_path() {
    let template = read(json!({
        "kind": "purchase",
        "base": {"points": 10_001, "per_amount": 0, "label": " "},
        "minimum_spend": -1,
        "multipliers": [
            {"match": "category", "value": "", "factor_permille": 100_001},
            {"match": "sku", "value": "A", "factor_permille": 1000},
            {"match": "sku", "value": "A", "factor_permille": 2000, "label": "a\nb"},
        ],
        "tier_multipliers": [{"tier": "gold", "factor_permille": 500}],
        "use_tier_benefit": true,
        "birthday_month": {"factor_permille": 999},
        "promotions": [
            {"name": "ok", "from": "2026-03-01", "to": "2026-03-01", "bonus_points": 5},
            {"name": "x", "from": "2026-03-02", "to": "2026-03-01", "weekdays": [0, 3, 3, 8],
             "hours": {"from": 17, "to": 14}},
            {"name": "y", "from": "2026-03-01", "to": "2026-03-02", "hours": {"from": 24, "to": 25},
             "factor_permille": 2000, "bonus_points": 0},
        ],
        "per_purchase_cap": 0,
        "daily_cap": -5,
        "first_purchase_bonus": {"points": 0, "label": ""},
    }));
    assert_eq!(
        paths(&template),
        [
            "base.points",
            "base.per_amount",
            "base.label",
            "minimum_spend",
            "multipliers[0].value",
            "multipliers[0].factor_permille",
            "multipliers[2].label",
            "multipliers[2].value",
            "tier_multipliers[0].factor_permille",
            "use_tier_benefit",
            "birthday_month.factor_permille",
            "promotions[1].to",
            "promotions[1].weekdays[0]",
            "promotions[1].weekdays[2]",
            "promotions[1].weekdays[3]",
            "promotions[1].hours.to",
            "promotions[1].factor_permille",
            "promotions[2].hours.from",
            "promotions[2].hours.to",
            "promotions[2].bonus_points",
            "per_purchase_cap",
            "daily_cap",
            "first_purchase_bonus.points",
            "first_purchase_bonus.label",
        ]
    );
    let errors = template.validate().unwrap_err();
    let to = errors
        .iter()
        .find(|e| e.field == "promotions[1].to")
        .unwrap();
    assert_eq!(to.problem, "must not be before from");
    let per_amount = errors
        .iter()
        .find(|e| e.field == "base.per_amount")
        .unwrap();
    assert_eq!(
        per_amount.problem,
        format!("must be greater than 0 and at most {MAX_AMOUNT}")
    );
    let dup = errors
        .iter()
        .find(|e| e.field == "multipliers[2].value")
        .unwrap();
    assert_eq!(dup.problem, "is already matched by multipliers[1]");
}

#[test]
fn lists_are_limited_to_fifty_entries() {
    let promotions: Vec<Value> = (0..51)
            .map(|i| json!({"name": format!("p{i}"), "from": "2026-01-01", "to": "2026-01-02", "bonus_points": 1}))
            .collect();
    let multipliers: Vec<Value> = (0..51)
        .map(|i| json!({"match": "sku", "value": format!("S{i}"), "factor_permille": 2000}))
        .collect();
    let template = read(purchase(
        json!({"promotions": promotions, "multipliers": multipliers}),
    ));
    assert_eq!(paths(&template), ["multipliers", "promotions"]);
    let long = "x".repeat(MAX_TEXT_CHARS + 1);
    let template = read(json!({"kind": "referral", "points": 1, "label": long}));
    assert_eq!(paths(&template), ["label"]);
}

#[test]
fn fixed_and_custom_forms_are_checked() {
    assert_eq!(
        paths(&read(json!({"kind": "check_in", "points": 0}))),
        ["points"]
    );
    assert_eq!(
        paths(&read(json!({"kind": "birthday", "points": 100}))),
        Vec::<String>::new()
    );
    for bad in [
        "",
        "Review",
        "1st",
        "purchase",
        "check_in",
        "a b",
        "ümlaut",
        "app-open",
        "order.paid",
    ] {
        let form = json!({"kind": "custom_event", "event": bad, "points": 1});
        assert_eq!(paths(&read(form)), ["event"], "{bad:?}");
    }
    let nothing = json!({"kind": "custom_event", "event": "review"});
    assert_eq!(paths(&read(nothing)), ["points"]);
    let rate_only = json!({"kind": "custom_event", "event": "order_paid",
                               "per_amount": {"points": 1, "per_amount": 0}});
    assert_eq!(paths(&read(rate_only)), ["per_amount.per_amount"]);
}

#[test]
fn a_full_form_is_valid_and_survives_a_round_trip() {
    let form = full_purchase();
    let template = Template::parse(form.clone()).expect("valid");
    assert_eq!(serde_json::to_value(&template).unwrap(), form);
    assert_eq!(
        (template.kind(), template.event_kind()),
        ("purchase", "purchase")
    );
}

#[test]
fn form_text_is_escaped_into_string_literals() {
    assert_eq!(rhai_string("plain ¥ ×2"), "\"plain ¥ ×2\"");
    assert_eq!(rhai_string("\"); loop {} //"), "\"\\\"); loop {} //\"");
    assert_eq!(rhai_string("a\\b\nc\r\td"), "\"a\\\\b\\nc\\r\\td\"");
    assert_eq!(
        rhai_string("\u{0}\u{2028}\u{85}"),
        "\"\\U00000000\\U00002028\\U00000085\""
    );
}

#[test]
fn a_hostile_label_never_leaves_its_literal_or_comment() {
    let hostile = "\"); loop {} //\n award(1000000, \"x\"); //";
    let template = read(purchase(json!({
        "multipliers": [{"match": "category", "value": hostile, "factor_permille": 2000}],
        "promotions": [{"name": hostile, "from": "2026-01-01", "to": "2026-01-02", "bonus_points": 1}],
        "tier_multipliers": [{"tier": hostile, "factor_permille": 2000}],
    })));
    let script = template.to_script();
    for line in script.lines() {
        let code = line.trim_start();
        assert!(
            !code.starts_with("award(1000000") && !code.starts_with("loop"),
            "{script}"
        );
    }
    assert!(!script.contains(hostile));
    assert!(script.contains(&rhai_string(hostile)));
}

#[test]
fn rounding_factors_and_money_read_well() {
    assert_eq!(factor_text(1500), "1.5");
    assert_eq!(factor_text(2000), "2");
    assert_eq!(factor_text(1250), "1.25");
    assert_eq!(factor_text(1005), "1.005");
    assert_eq!(factor_text(0), "0");
    assert_eq!(money_text(100), "1.00");
    assert_eq!(money_text(12345), "123.45");
    assert_eq!(money_text(5), "0.05");
    assert_eq!(divide("x", "d", Rounding::Floor), "floor_div(x, d)");
    assert_eq!(divide("x", "d", Rounding::Round), "round_div(x, d)");
    assert_eq!(divide("x", "d", Rounding::Ceil), "floor_div(x + d - 1, d)");
}

#[test]
fn the_full_script_has_every_part_in_order() {
    let script = read(full_purchase()).to_script();
    let order = [
        "if event.kind != \"purchase\"",
        "const POINTS = 2;",
        "if event.amount < 5000 {",
        "if line.category == \"drinks\" {",
        "round_div(price * POINTS * factor, PER_AMOUNT * 1000)",
        "round_div(max(rest, 0) * POINTS, PER_AMOUNT)",
        "if member.tier == \"gold\" {",
        "if is_birthday_month(member, event) {",
        "today >= 20260301 && today <= 20260331",
        "event.time.weekday == 2",
        "event.time.hour >= 14 && event.time.hour < 17",
        "awards.push([-1, extra + 10, \"Tuesdays\"]);",
        "let room = min(500, max(1000 - member.totals.points_today, 0));",
        "award_line(a[0], points, a[2]);",
        "if member.totals.visits == 0 {",
        "award(200, \"welcome\");",
    ];
    let mut from = 0;
    for part in order {
        let at = script[from..]
            .find(part)
            .unwrap_or_else(|| panic!("{part:?} missing or out of order in:\n{script}"));
        from += at + part.len();
    }
}

#[test]
fn fixed_and_custom_scripts_guard_their_event() {
    let script = read(json!({"kind": "check_in", "points": 5})).to_script();
    assert!(script
        .contains("if event.kind == \"check_in\" {\n    award(5, \"@reason:check_in{}\");\n}"));
    let script = read(json!({"kind": "birthday", "points": 100, "label": "生日快乐"})).to_script();
    assert!(script.contains("award(100, \"生日快乐\");"));
    let script = read(json!({"kind": "custom_event", "event": "review", "points": 10,
                                 "per_amount": {"points": 1, "per_amount": 100, "rounding": "ceil"}}))
        .to_script();
    assert!(script.contains("if event.kind == \"review\" {"));
    assert!(script.contains("award(10, \"review\");"));
    assert!(script.contains("floor_div(event.amount * 1 + 100 - 1, 100)"));
}

#[test]
fn the_catalog_examples_read_validate_and_match_their_schemas() {
    let catalog = catalog();
    let entries = catalog.as_array().unwrap();
    let kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "purchase",
            "check_in",
            "referral",
            "birthday",
            "custom_event"
        ]
    );
    for entry in entries {
        let schema = jsonschema::validator_for(&entry["schema"]).expect("a valid schema");
        let example = entry["example"].clone();
        assert!(schema.is_valid(&example), "{example}");
        let template = Template::parse(example).expect("the example is a valid form");
        assert_eq!(template.kind(), entry["kind"]);
        assert!(!entry["title"].as_str().unwrap().is_empty());
    }
    let purchase = jsonschema::validator_for(&entries[0]["schema"]).unwrap();
    assert!(purchase.is_valid(&full_purchase()));
    assert!(!purchase.is_valid(&purchase_with_unknown_field()));
    assert!(!entries[4]["schema"].is_null());
    let custom = jsonschema::validator_for(&entries[4]["schema"]).unwrap();
    assert!(!custom.is_valid(&json!({"kind": "custom_event", "event": "purchase", "points": 1})));
}

fn purchase_with_unknown_field() -> Value {
    purchase(json!({"bogus": true}))
}

#[test]
fn the_purchase_schema_lists_exactly_the_fields_of_the_form() {
    // Serialising a form that uses every field gives every key the schema must list.
    let mut full = full_purchase();
    full["use_tier_benefit"] = json!(true);
    full["tier_benefit_label"] = json!("tier");
    full["coupon_template_id"] = json!("0190f5a2-0000-7000-8000-000000000001");
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let catalog = catalog();
    let schema = &catalog[0]["schema"]["properties"];
    assert_eq!(keys(schema), keys(&full));
    assert_eq!(keys(&schema["base"]["properties"]), keys(&full["base"]));
    assert_eq!(
        keys(&schema["promotions"]["items"]["properties"]),
        keys(&full["promotions"][0])
    );
    assert_eq!(
        keys(&schema["multipliers"]["items"]["properties"]),
        keys(&full["multipliers"][0])
    );
    assert_eq!(
        keys(&schema["spend_bonuses"]["items"]["properties"]),
        keys(&full["spend_bonuses"][0])
    );
}

#[test]
fn spend_bonuses_give_the_highest_threshold_reached_and_are_checked() {
    let form = purchase(json!({
        "spend_bonuses": [
            {"min_amount": 10000, "points": 50},
            {"min_amount": 20000, "points": 120, "label": "满200送120"}
        ]
    }));
    let template = read(form);
    assert_eq!(template.validate(), Ok(()));
    let script = template.to_script();
    let high = script
        .find("if event.amount >= 20000 {\n    award(120, \"满200送120\");")
        .expect(&script);
    let low = script
        .find(" else if event.amount >= 10000 {\n    award(50, \"@reason:spend_bonus{")
        .expect(&script);
    assert!(high < low, "{script}");
    let bad = read(purchase(
        json!({ "spend_bonuses": [{"min_amount": 0, "points": 0}] }),
    ));
    assert_eq!(
        paths(&bad),
        ["spend_bonuses[0].min_amount", "spend_bonuses[0].points"]
    );
}

/// The comment lines of a script, with every string literal (form text) taken out.
fn comments(script: &str) -> Vec<String> {
    script
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("//"))
        .map(|c| {
            let mut out = String::new();
            let mut in_string = false;
            let mut escaped = false;
            for ch in c.chars() {
                match (in_string, escaped, ch) {
                    (true, false, '\\') => escaped = true,
                    (true, true, _) => escaped = false,
                    (_, false, '"') => in_string = !in_string,
                    (false, _, ch) => out.push(ch),
                    _ => {}
                }
            }
            out
        })
        .collect()
}

/// Whether a comment holds an English word (two Latin letters in a row).
fn has_english(comment: &str) -> bool {
    comment
        .as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_alphabetic() && w[1].is_ascii_alphabetic())
}

#[test]
fn scripts_are_commented_in_the_business_language_and_only_the_comments_differ() {
    let mut custom = json!({"kind": "custom_event", "event": "review", "points": 10,
                            "per_amount": {"points": 1, "per_amount": 100}});
    custom["label"] = json!("review");
    let mut tiered = purchase(json!({"use_tier_benefit": true}));
    tiered["spend_bonuses"] = json!([{"min_amount": 10000, "points": 50}]);
    let forms = [
        full_purchase(),
        tiered,
        purchase(json!({})),
        json!({"kind": "check_in", "points": 5}),
        json!({"kind": "referral", "points": 5}),
        json!({"kind": "birthday", "points": 5}),
        custom,
    ];
    for form in forms {
        let t = read(form);
        let zh = t.to_script_in(crate::lang::Lang::ZhCn);
        let en = t.to_script_in(crate::lang::Lang::En);
        let zh_comments = comments(&zh);
        assert!(!zh_comments.is_empty(), "{zh}");
        for c in &zh_comments {
            assert!(
                !has_english(c),
                "an English comment for a zh-CN business: {c:?}\n{zh}"
            );
        }
        assert!(
            zh_comments.iter().any(|c| c.contains("规则，由模板生成")),
            "{zh}"
        );
        let en_comments = comments(&en);
        assert!(
            en_comments
                .iter()
                .all(|c| !c.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch))),
            "Chinese in the English comments:\n{en}"
        );
        assert!(
            en_comments
                .iter()
                .any(|c| c.contains("made from a template")),
            "{en}"
        );
        assert_eq!(t.to_script(), en);
        // The code is the same in both: only comment lines differ.
        let code = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(code(&zh), code(&en));
        assert!(t.generates(&zh) && t.generates(&en));
        assert!(!t.generates(&format!("{zh}\n// edited")));
    }
    let zh = read(full_purchase()).to_script_in(crate::lang::Lang::ZhCn);
    for part in [
        "// 基础比例：每消费 1.00 得 2 积分（最小货币单位 100），四舍五入。",
        "// 最低消费：低于 50.00 的消费不得积分。",
        "// 促销 \"Tuesdays\"：×2并另加 10 积分，2026-03-01 至 2026-03-31，周二，14:00 至 17:00。",
        "// 每天最多 1000，",
    ] {
        assert!(zh.contains(part), "{part:?} missing in:\n{zh}");
    }
}

#[test]
fn a_form_with_a_coupon_gives_it_after_the_minimum_spend_and_an_event_may_give_only_a_coupon() {
    let id = "0190f5a2-0000-7000-8000-000000000001";
    let t = Template::parse(json!({
        "kind": "purchase", "base": {"points": 1, "per_amount": 100},
        "minimum_spend": 5000, "coupon_template_id": id
    }))
    .unwrap();
    assert_eq!(t.coupon_template_id().unwrap().to_string(), id);
    let script = t.to_script();
    let min = script.find("if event.amount < 5000").unwrap();
    let give = script.find(&format!("give_coupon(\"{id}\");")).unwrap();
    assert!(give > min, "{script}");
    let only = Template::parse(json!({"kind": "custom_event", "event": "review",
                                      "coupon_template_id": id}))
    .unwrap();
    assert!(only.to_script().contains("give_coupon("));
    assert!(Template::parse(json!({"kind": "custom_event", "event": "review"})).is_err());
    let plain =
        Template::parse(json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100}}))
            .unwrap();
    assert_eq!(plain.coupon_template_id(), None);
    assert!(!plain.to_script().contains("give_coupon"));
}
