//! Tier scripts: `member` and `metrics` in, a tier code out, in a key space of their own and
//! under the same limits as point rules.

use patron_sandbox::rules::Limits;
use patron_sandbox::worker::Worker;
use serde_json::{json, Value};

fn ask(worker: &mut Worker, request: Value) -> Value {
    serde_json::from_slice(&worker.handle(request.to_string().as_bytes())).unwrap()
}

fn tier_eval(worker: &mut Worker, script: &str, metrics: Value) -> Value {
    ask(
        worker,
        json!({
            "id": 3, "op": "eval",
            "key": {"tenant": 1, "version": 1, "hash": script, "kind": "tier"},
            "script": script,
            "member": {"tier": "silver", "totals": {"visits": 3}, "fields": {"vip": true}},
            "metrics": metrics,
        }),
    )
}

const SCRIPT: &str = r#"
    if member.fields.vip && metrics.spend >= 1000 { "gold" }
    else if metrics.visits >= 5 { "silver" }
    else { member.tier }
"#;

#[test]
fn a_tier_script_answers_the_code_it_returns() {
    let mut w = Worker::new(&Limits::default(), 8);
    let r = tier_eval(&mut w, SCRIPT, json!({"spend": 1500, "visits": 1}));
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["tier"], "gold");
    let r = tier_eval(&mut w, SCRIPT, json!({"visits": 1}));
    assert_eq!(
        r["tier"], "silver",
        "missing metrics are 0; the member's tier is kept"
    );
}

#[test]
fn a_tier_script_must_return_text_and_cannot_award() {
    let mut w = Worker::new(&Limits::default(), 8);
    let r = tier_eval(&mut w, "42", json!({}));
    assert_eq!(r["error"]["kind"], "runtime", "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("tier code"));
    let r = tier_eval(&mut w, r#"award(5, "x"); "gold""#, json!({}));
    assert_eq!(r["error"]["kind"], "runtime", "{r}");
    let r = tier_eval(&mut w, r#"event.amount"#, json!({}));
    assert_eq!(
        r["error"]["kind"], "compile",
        "no event in a tier script: {r}"
    );
    assert_eq!(r["error"]["line"], 1);
}

#[test]
fn tier_scripts_run_under_the_same_limits() {
    let mut w = Worker::new(&Limits::default(), 8);
    let r = tier_eval(&mut w, "loop {} ", json!({}));
    assert_eq!(r["error"]["kind"], "limit", "{r}");
    assert_eq!(r["error"]["limit"], "operations");
    let r = tier_eval(&mut w, r#"let s = "x"; loop { s += s; }"#, json!({}));
    assert_eq!(r["error"]["kind"], "limit", "{r}");
    assert_eq!(r["error"]["limit"], "string_size");
    let r = tier_eval(&mut w, "metrics.spend", json!({"spend": "lots"}));
    assert_eq!(r["error"]["kind"], "bad_input", "{r}");
}

#[test]
fn tier_scripts_and_point_rules_never_share_a_cached_ast() {
    let mut w = Worker::new(&Limits::default(), 8);
    let key = json!({"tenant": 1, "version": 1, "hash": "same"});
    let r = ask(
        &mut w,
        json!({"id": 1, "op": "compile", "key": key, "script": "5"}),
    );
    assert_eq!(r["ok"], true);
    // The same tenant, version and hash as a tier script: not cached, asks for the script.
    let mut tier_key = key.clone();
    tier_key["kind"] = json!("tier");
    let r = ask(
        &mut w,
        json!({"id": 2, "op": "eval", "key": tier_key, "member": {}, "metrics": {}}),
    );
    assert_eq!(r["error"]["kind"], "not_cached", "{r}");
    let r = ask(
        &mut w,
        json!({"id": 3, "op": "eval_batch", "key": tier_key, "script": r#""gold""#,
               "cases": [{"member": {}, "metrics": {}}, {"member": 5, "metrics": {}}]}),
    );
    assert_eq!(r["results"][0]["tier"], "gold", "{r}");
    assert_eq!(r["results"][1]["error"]["kind"], "bad_input", "{r}");
    // The point rule is still the point rule.
    let r = ask(
        &mut w,
        json!({"id": 4, "op": "eval", "key": key, "event": {}, "member": {}}),
    );
    assert_eq!(r["result"]["points"], 5, "{r}");
}
