//! The rule API and the sandbox's limits, through the same request handling the binary uses.

use patron_sandbox::rules::{ErrorKind, Limits, Outcome, RuleError};
use patron_sandbox::worker::Worker;
use serde_json::{json, Value};

fn event() -> Value {
    json!({
        "kind": "purchase", "amount": 12_345, "currency": "CNY", "store": "north",
        "items": [
            {"sku": "LATTE", "name": "Latte", "category": "drinks", "quantity": 2, "unit_price": 3_000},
            {"sku": "BAGEL", "name": "Bagel", "category": "food", "quantity": 1, "unit_price": 1_500}
        ],
        "time": {"iso": "2026-03-14T09:30:00+08:00", "year": 2026, "month": 3, "day": 14, "hour": 9, "weekday": 6}
    })
}

fn member() -> Value {
    json!({
        "id": 42, "tier": "gold", "fields": {"vip": true}, "join_date": "2025-03-01",
        "birthday": "1990-03-20", "totals": {"spend": 500_000, "visits": 12, "points_earned": 900},
        "benefits": {"multiplier": 1500, "discount_percent": 5}
    })
}

fn run_with(
    worker: &mut Worker,
    script: &str,
    event: Value,
    member: Value,
) -> Result<Outcome, Value> {
    let request = json!({
        "id": 7, "op": "eval", "key": {"tenant": 1, "version": 1, "hash": script},
        "script": script, "event": event, "member": member
    });
    let response: Value =
        serde_json::from_slice(&worker.handle(request.to_string().as_bytes())).unwrap();
    assert_eq!(response["id"], 7);
    if response["ok"] == true {
        let result = &response["result"];
        let reasons = result["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| patron_sandbox::rules::Award {
                points: r["points"].as_i64().unwrap(),
                reason: r["reason"].as_str().unwrap().to_string(),
                line: r["line"].as_u64().map(|l| l as usize),
            })
            .collect();
        Ok(Outcome {
            points: result["points"].as_i64().unwrap(),
            reasons,
            coupons: result["coupons"]
                .as_array()
                .map(|a| a.iter().map(|c| c.as_str().unwrap().to_string()).collect())
                .unwrap_or_default(),
        })
    } else {
        Err(response["error"].clone())
    }
}

fn run(script: &str) -> Result<Outcome, Value> {
    run_with(
        &mut Worker::new(&Limits::default(), 16),
        script,
        event(),
        member(),
    )
}

fn points(script: &str) -> i64 {
    run(script)
        .unwrap_or_else(|e| panic!("{script}: {e}"))
        .points
}

fn error(script: &str) -> Value {
    run(script).expect_err(script)
}

#[test]
fn a_returned_integer_is_that_many_points_for_the_reason_rule() {
    let outcome = run("floor_div(event.amount, 100)").unwrap();
    assert_eq!(outcome.points, 123);
    assert_eq!(outcome.reasons[0].reason, "rule");
}

#[test]
fn awards_accumulate_with_reasons_and_lines() {
    let outcome = run(r#"
        award(floor_div(event.amount, 100), "1 point per yuan");
        for (item, i) in event.items { if item.category == "drinks" { award_line(i, 10, "drink bonus") } }
    "#)
    .unwrap();
    assert_eq!(outcome.points, 133);
    assert_eq!(outcome.reasons.len(), 2);
    assert_eq!(outcome.reasons[1].line, Some(0));
}

#[test]
fn helpers_compute_what_the_rule_guide_says() {
    assert_eq!(points("round_div(5, 2)"), 3);
    assert_eq!(points("round_div(-5, 2) + 10"), 8);
    assert_eq!(points("round_div(14, 10)"), 1);
    assert_eq!(points("floor_div(-7, 2) + 10"), 6);
    assert_eq!(points("percent(199, 10)"), 20);
    // The examples in the helper table of docs/rules.md.
    assert_eq!(points("floor_div(1999, 100)"), 19);
    assert_eq!(points("round_div(1950, 100)"), 20);
    assert_eq!(points("percent(12345, 10)"), 1235);
    assert_eq!(points(r#"days_between("2026-01-01", "2026-03-01")"#), 59);
    assert_eq!(points(r#"days_between("2024-02-28", "2024-03-01")"#), 2);
    assert_eq!(
        points(r#"days_between(member.join_date, event.time.iso)"#),
        378
    );
    assert_eq!(
        points("if is_birthday_month(member, event) { 1 } else { 0 }"),
        1
    );
    assert_eq!(
        points(r#"items_total(items_in_category(event, "drinks"))"#),
        6_000
    );
    assert_eq!(points(r#"items_with_sku(event, "BAGEL").len()"#), 1);
    assert_eq!(points("items_total(event.items)"), 7_500);
    assert_eq!(
        points("floor_div(event.amount * member.benefits.multiplier, 100_000)"),
        185
    );
}

#[test]
fn missing_fields_get_defaults_and_wrong_types_are_bad_input() {
    let mut worker = Worker::new(&Limits::default(), 4);
    let outcome = run_with(
        &mut worker,
        "event.amount + event.items.len() + member.benefits.multiplier",
        json!({}),
        json!({}),
    )
    .unwrap();
    assert_eq!(outcome.points, 1000);
    let e = run_with(&mut worker, "1", json!({"amount": "12"}), json!({})).unwrap_err();
    assert_eq!(e["kind"], "bad_input");
    let e = run_with(&mut worker, "1", json!([1]), json!({})).unwrap_err();
    assert_eq!(e["kind"], "bad_input");
}

#[test]
fn an_infinite_loop_stops_at_the_operation_limit() {
    let e = error("loop {}");
    assert_eq!(
        (e["kind"].as_str(), e["limit"].as_str()),
        (Some("limit"), Some("operations"))
    );
}

#[test]
fn deep_recursion_stops_at_the_call_limit() {
    let e = error("fn f(x) { f(x + 1) } f(0)");
    assert_eq!(
        (e["kind"].as_str(), e["limit"].as_str()),
        (Some("limit"), Some("call_levels"))
    );
    let nested = format!("let x = {}1{};", "(".repeat(300), ")".repeat(300));
    let e = error(&nested);
    assert_eq!(e["limit"], "expression_depth");
    let closures = format!("let f = {}1{}; f", "|| { ".repeat(80), " }".repeat(80));
    assert_eq!(error(&closures)["kind"], "limit");
}

#[test]
fn huge_strings_arrays_and_maps_stop_at_their_limits() {
    assert_eq!(
        error(r#"let s = "x"; loop { s += s; }"#)["limit"],
        "string_size"
    );
    assert_eq!(
        error("let a = [1]; loop { a += a; }")["limit"],
        "array_size"
    );
    // Rhai checks map sizes on calls such as `set`, not on `m[k] = v` itself (that path is
    // bounded by the operation limit and the process's memory limit).
    let limits = Limits {
        max_map_size: 100,
        ..Limits::default()
    };
    let script = "let m = #{}; let i = 0; loop { m.set(`k${i}`, i); i += 1; }";
    let e = run_with(&mut Worker::new(&limits, 1), script, event(), member()).unwrap_err();
    assert_eq!(e["limit"], "map_size");
}

#[test]
fn eval_and_import_are_refused_at_compile_time() {
    let e = error(r#"eval("1 + 1")"#);
    assert_eq!(e["kind"], "compile");
    assert_eq!(e["line"], 1);
    assert_eq!(error(r#"import "os" as os;"#)["kind"], "compile");
}

#[test]
fn compile_errors_carry_line_and_column() {
    let e = error("let a = 1;\nlet b = ;");
    assert_eq!(
        (e["kind"].as_str(), e["line"].as_u64(), e["column"].as_u64()),
        (Some("compile"), Some(2), Some(9))
    );
    assert_eq!(error("undefined_name + 1")["kind"], "compile");
}

#[test]
fn overflow_is_an_error_not_a_wrap() {
    assert_eq!(error("9223372036854775807 + 1")["kind"], "runtime");
    let e = error("award(9223372036854775807, \"a\"); award(1, \"b\")");
    assert!(e["message"].as_str().unwrap().contains("overflow"), "{e}");
    assert_eq!(error("award(-1, \"x\")")["kind"], "runtime");
    assert_eq!(error("award(1.5)")["kind"], "runtime");
    assert_eq!(error("award_line(9, 1, \"x\")")["kind"], "runtime");
}

#[test]
fn a_misspelt_property_is_a_runtime_error_with_a_position() {
    let e = error("event.amout");
    assert_eq!(
        (e["kind"].as_str(), e["line"].as_u64()),
        (Some("runtime"), Some(1))
    );
}

#[test]
fn there_is_no_clock_and_results_are_deterministic() {
    assert_eq!(error("timestamp()")["kind"], "runtime");
    let script =
        r#"let m = #{b: 1, a: 2}; let s = ""; for k in m.keys() { s += k; } award(s.len(), s); 0"#;
    let first = run(script).unwrap();
    for _ in 0..5 {
        assert_eq!(run(script).unwrap(), first);
    }
    assert_eq!(first.reasons[0].reason, "ab");
}

#[test]
fn print_and_debug_write_nothing_and_do_not_fail() {
    assert_eq!(points(r#"print("hello"); debug(1); 3"#), 3);
}

#[test]
fn a_key_not_cached_asks_for_the_script_and_a_compiled_one_is_reused() {
    let mut worker = Worker::new(&Limits::default(), 2);
    let key = json!({"tenant": 1, "version": 2, "hash": "h"});
    let ask = |worker: &mut Worker, body: Value| -> Value {
        serde_json::from_slice(&worker.handle(body.to_string().as_bytes())).unwrap()
    };
    let r = ask(
        &mut worker,
        json!({"id": 1, "op": "eval", "key": key, "event": {}, "member": {}}),
    );
    assert_eq!(r["error"]["kind"], "not_cached");
    let r = ask(
        &mut worker,
        json!({"id": 2, "op": "compile", "key": key, "script": "5"}),
    );
    assert_eq!(r, json!({"id": 2, "ok": true}));
    let r = ask(
        &mut worker,
        json!({"id": 3, "op": "eval_batch", "key": key, "cases": [
            {"event": {}, "member": {}}, {"event": 1, "member": {}}
        ]}),
    );
    assert_eq!(r["results"][0]["result"]["points"], 5);
    assert_eq!(r["results"][1]["error"]["kind"], "bad_input");
    // Two more rules evict the first from a cache of two.
    for v in 10..12 {
        ask(
            &mut worker,
            json!({"id": 4, "op": "compile", "key": {"tenant": 1, "version": v, "hash": "h"}, "script": "1"}),
        );
    }
    let r = ask(
        &mut worker,
        json!({"id": 5, "op": "eval", "key": key, "event": {}, "member": {}}),
    );
    assert_eq!(r["error"]["kind"], "not_cached");
}

#[test]
fn garbage_requests_get_bad_input_answers() {
    let mut worker = Worker::new(&Limits::default(), 2);
    let r: Value = serde_json::from_slice(&worker.handle(b"not json")).unwrap();
    assert_eq!(
        (r["id"].as_u64(), r["error"]["kind"].as_str()),
        (Some(0), Some("bad_input"))
    );
    let r: Value = serde_json::from_slice(
        &worker.handle(br#"{"id": 9, "op": "dance", "key": {"tenant":1,"version":1,"hash":""}}"#),
    )
    .unwrap();
    assert_eq!(
        (r["id"].as_u64(), r["error"]["kind"].as_str()),
        (Some(9), Some("bad_input"))
    );
    let r: Value = serde_json::from_slice(&Worker::too_large(5 << 20)).unwrap();
    assert_eq!(r["error"]["kind"], "bad_input");
}

#[test]
fn rule_error_displays_its_position() {
    let e = RuleError {
        line: Some(2),
        column: Some(3),
        ..RuleError::new(ErrorKind::Runtime, "boom")
    };
    assert_eq!(e.to_string(), "Runtime: boom (line 2, column 3)");
}

/// Every example in docs/rules.md compiles and runs against a sample purchase.
#[test]
fn the_examples_in_the_rule_guide_run() {
    let guide =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md"))
            .expect("docs/rules.md is readable");
    let examples: Vec<&str> = guide
        .split("```rhai\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(examples.len() >= 8, "found {} examples", examples.len());
    for example in examples {
        let outcome = run(example).unwrap_or_else(|e| panic!("{example}\nfailed: {e}"));
        assert!(outcome.points > 0, "{example}\nearned nothing");
    }
}

#[test]
fn give_coupon_names_the_templates_in_call_order_without_points() {
    let o = run(r#"give_coupon("tpl-a"); if event.amount > 0 { give_coupon("tpl-b"); }"#).unwrap();
    assert_eq!(o.points, 0);
    assert_eq!(o.coupons, vec!["tpl-a".to_string(), "tpl-b".to_string()]);
    assert!(run("5").unwrap().coupons.is_empty());
}

#[test]
fn give_coupon_refuses_an_empty_id_and_more_than_ten_a_rule() {
    assert_eq!(error(r#"give_coupon("")"#)["kind"], "runtime");
    assert_eq!(
        error(r#"for i in 0..11 { give_coupon("tpl"); }"#)["kind"],
        "runtime"
    );
}
