//! Template rules evaluated natively (`patron_core`'s `Template::evaluate`) against the
//! same forms' scripts run here, through the request handling the sandbox binary uses and
//! under its default limits: whenever native evaluation answers, the sandbox answers the
//! very same outcome.
//!
//! The forms, purchases and members are random but seeded, so a failure repeats; it prints
//! the form, the inputs and both answers. `PATRON_NATIVE_SEED` and `PATRON_NATIVE_FORMS`
//! explore other seeds and more forms.

use fastrand::Rng;
use patron_core::lang::Lang;
use patron_core::rules::templates::{Template, MAX_NATIVE_LINES};
use patron_core::rules::Outcome;
use patron_sandbox::rules::Limits;
use patron_sandbox::worker::{Worker, DEFAULT_CACHE_SIZE};
use serde_json::{json, Map, Value};

const SEED: u64 = 0x7a7e_2201;
/// Random forms, each tried on [`EVENTS_PER_FORM`] purchases or events.
const FORMS: usize = 1_500;
const EVENTS_PER_FORM: usize = 8;

/// A worker as the pool starts it (default limits), and a counter for fresh rule keys.
struct Sandbox {
    worker: Worker,
    next_key: i64,
}

impl Sandbox {
    fn new(limits: &Limits) -> Self {
        Self {
            worker: Worker::new(limits, DEFAULT_CACHE_SIZE),
            next_key: 0,
        }
    }

    /// A fresh key for a script: each form is compiled once and evaluated on every case.
    fn key(&mut self) -> i64 {
        self.next_key += 1;
        self.next_key
    }

    /// Runs `script` (cached under `version`) as the pool asks for it; the outcome read as
    /// the pool reads it, or the error frame.
    fn eval(
        &mut self,
        version: i64,
        script: &str,
        event: &Value,
        member: &Value,
    ) -> Result<Outcome, Value> {
        let request = json!({
            "id": 1, "op": "eval", "key": {"tenant": 1, "version": version, "hash": "h"},
            "script": script, "event": event, "member": member
        });
        let response: Value =
            serde_json::from_slice(&self.worker.handle(request.to_string().as_bytes()))
                .expect("the worker answers JSON");
        if response["ok"] == true {
            Ok(serde_json::from_value(response["result"].clone()).expect("an outcome"))
        } else {
            Err(response["error"].clone())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random forms

const CATEGORIES: [&str; 6] = [
    "drinks",
    "food",
    "清洁用品",
    "a \"quoted\" one",
    "back\\slash",
    "x",
];
const SKUS: [&str; 5] = ["LATTE", "BAGEL", "SKU-1", "sku 2", "咖啡豆"];
const TIERS: [&str; 5] = ["gold", "silver", "vip", "金卡", "it's \"odd\""];
const LABELS: [&str; 6] = [
    "double points",
    "满100送50",
    "say \"thanks\"",
    "tab\\t and \\n stay text",
    "emoji 🎉 and ünïcödé",
    "@reason:not_a_code{}",
];
const EVENTS: [&str; 3] = ["class_attended", "review", "a1"];

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.usize(..from.len())]
}

fn chance(rng: &mut Rng, percent: u32) -> bool {
    rng.u32(..100) < percent
}

/// A label sometimes, now and then one of 100 characters (a long reason).
fn label(rng: &mut Rng) -> Option<Value> {
    match rng.u32(..10) {
        0..=5 => None,
        6 => Some(json!("長".repeat(100))),
        _ => Some(json!(pick(rng, &LABELS))),
    }
}

fn with_label(mut v: Value, rng: &mut Rng) -> Value {
    if let Some(l) = label(rng) {
        v["label"] = l;
    }
    v
}

fn factor(rng: &mut Rng, min: i64) -> i64 {
    match rng.u32(..6) {
        0 => 1000.max(min),
        1 => 1500,
        2 => 2000,
        3 => 3333,
        4 => rng.i64(min..=100_000),
        _ => rng.i64(min..=5_000),
    }
}

fn earning(rng: &mut Rng) -> Value {
    let points = match rng.u32(..6) {
        0..=2 => 1,
        3 => rng.i64(2..=10),
        4 => rng.i64(1..=10_000),
        _ => 3,
    };
    let per_amount = match rng.u32(..7) {
        0..=2 => 100,
        3 => 1,
        4 => rng.i64(1..=5_000),
        5 => 10_000_000_000,
        _ => rng.i64(1..=10_000_000_000),
    };
    let rounding = pick(rng, &["floor", "round", "ceil"]);
    with_label(
        json!({"points": points, "per_amount": per_amount, "rounding": rounding}),
        rng,
    )
}

/// A date as `YYYY-MM-DD`, `offset` days from 2026-01-01, with its weekday (1 = Monday).
fn date(offset: i64) -> (i64, i64, i64, i64) {
    let days_in = |y: i64, m: i64| match m {
        2 if y % 4 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let (mut y, mut m, mut d) = (2026, 1, 1);
    let mut left = offset;
    while left > 0 {
        d += 1;
        if d > days_in(y, m) {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
        left -= 1;
    }
    while left < 0 {
        d -= 1;
        if d == 0 {
            m -= 1;
            if m == 0 {
                m = 12;
                y -= 1;
            }
            d = days_in(y, m);
        }
        left += 1;
    }
    // 2026-01-01 is a Thursday.
    let weekday = (3 + offset).rem_euclid(7) + 1;
    (y, m, d, weekday)
}

fn iso((y, m, d, _): (i64, i64, i64, i64)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

fn promotion(rng: &mut Rng) -> Value {
    let from = rng.i64(-60..=90);
    let to = from + rng.i64(0..=40);
    let mut p = json!({
        "name": if chance(rng, 80) { pick(rng, &["Spring", "周二双倍", "Happy \"hour\"", "x"]).to_string() } else { "名".repeat(100) },
        "from": iso(date(from)),
        "to": iso(date(to)),
    });
    if chance(rng, 40) {
        let mut days: Vec<i64> = (1..=7).filter(|_| chance(rng, 40)).collect();
        rng.shuffle(&mut days);
        p["weekdays"] = json!(days);
    }
    if chance(rng, 40) {
        let from = rng.i64(0..=23);
        p["hours"] = json!({"from": from, "to": rng.i64(from + 1..=24)});
    }
    match rng.u32(..3) {
        0 => p["factor_permille"] = json!(factor(rng, 1000)),
        1 => p["bonus_points"] = json!(rng.i64(1..=500)),
        _ => {
            p["factor_permille"] = json!(factor(rng, 1000));
            p["bonus_points"] = json!(rng.i64(1..=500));
        }
    }
    p
}

fn purchase_form(rng: &mut Rng) -> Value {
    let mut f = json!({"kind": "purchase", "base": earning(rng)});
    if chance(rng, 25) {
        f["minimum_spend"] = json!(rng.i64(1..=20_000));
    }
    if chance(rng, 45) {
        let n = if chance(rng, 5) { 50 } else { rng.usize(1..=4) };
        let mut list: Vec<Value> = (0..n)
            .map(|i| {
                let (on, value) = if i < 11 && chance(rng, 85) {
                    if rng.bool() {
                        ("category", pick(rng, &CATEGORIES).to_string())
                    } else {
                        ("sku", pick(rng, &SKUS).to_string())
                    }
                } else {
                    ("sku", format!("other-{i}"))
                };
                let factor = if chance(rng, 10) { 0 } else { factor(rng, 0) };
                with_label(
                    json!({"match": on, "value": value, "factor_permille": factor}),
                    rng,
                )
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        list.retain(|m| seen.insert((m["match"].clone(), m["value"].clone())));
        f["multipliers"] = json!(list);
    }
    if chance(rng, 20) {
        f["use_tier_benefit"] = json!(true);
        if chance(rng, 40) {
            f["tier_benefit_label"] = json!(pick(rng, &LABELS));
        }
    } else if chance(rng, 35) {
        let mut list: Vec<Value> = (0..rng.usize(1..=3))
            .map(|_| {
                with_label(
                    json!({"tier": pick(rng, &TIERS), "factor_permille": factor(rng, 1000)}),
                    rng,
                )
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        list.retain(|t| seen.insert(t["tier"].clone()));
        f["tier_multipliers"] = json!(list);
    }
    if chance(rng, 25) {
        f["birthday_month"] = with_label(json!({"factor_permille": factor(rng, 1000)}), rng);
    }
    if chance(rng, 40) {
        let list: Vec<Value> = (0..rng.usize(1..=3)).map(|_| promotion(rng)).collect();
        f["promotions"] = json!(list);
    }
    if chance(rng, 30) {
        f["per_purchase_cap"] = json!(if rng.bool() {
            rng.i64(1..=300)
        } else {
            rng.i64(1..=1_000_000)
        });
    }
    if chance(rng, 30) {
        f["daily_cap"] = json!(if rng.bool() {
            rng.i64(1..=1000)
        } else {
            rng.i64(1..=1_000_000)
        });
    }
    if chance(rng, 30) {
        let list: Vec<Value> = (0..rng.usize(1..=3))
            .map(|_| {
                let min = match rng.u32(..3) {
                    0 => 10_000,
                    1 => 5_000,
                    _ => rng.i64(1..=50_000),
                };
                with_label(json!({"min_amount": min, "points": rng.i64(1..=200)}), rng)
            })
            .collect();
        f["spend_bonuses"] = json!(list);
    }
    if chance(rng, 45) {
        f["first_purchase_bonus"] = with_label(json!({"points": rng.i64(1..=500)}), rng);
    }
    if chance(rng, 20) {
        f["coupon_template_id"] = json!(format!(
            "0190f5a2-5b1c-7d3e-8f00-{:012x}",
            rng.u64(..1 << 48)
        ));
    }
    f
}

fn form(rng: &mut Rng) -> Value {
    match rng.u32(..20) {
        0..=13 => purchase_form(rng),
        14..=16 => with_label(
            json!({"kind": pick(rng, &["check_in", "referral", "birthday"]), "points": rng.i64(1..=1000)}),
            rng,
        ),
        _ => {
            let mut f = with_label(
                json!({"kind": "custom_event", "event": pick(rng, &EVENTS), "points": rng.i64(0..=100)}),
                rng,
            );
            if chance(rng, 60) {
                f["per_amount"] = earning(rng);
            }
            if chance(rng, 30) {
                f["coupon_template_id"] = json!("0190f5a2-5b1c-7d3e-8f00-1234567890ab");
            }
            f
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random events and members

/// A whole number, now and then an awkward one (zero, negative, near overflow).
fn awkward(rng: &mut Rng, usual: i64) -> i64 {
    match rng.u32(..40) {
        0 => 0,
        1 => -rng.i64(1..=usual.max(1)),
        2 => i64::MAX / rng.i64(1..=1_000_000),
        3 => i64::MIN / rng.i64(1..=1_000_000),
        _ => rng.i64(0..=usual),
    }
}

/// In an odd input, now and then a value the sandbox refuses or reads differently from a
/// whole number (or leaves to its default).
fn odd_number(rng: &mut Rng, odd: bool, usual: Value) -> Value {
    if !odd {
        return usual;
    }
    match rng.u32(..40) {
        0 => json!("12"),
        1 => json!(12.5),
        2 => json!(u64::MAX),
        3 => Value::Null,
        _ => usual,
    }
}

fn item(rng: &mut Rng, odd: bool) -> Value {
    let mut item = Map::new();
    if chance(rng, 95) {
        item.insert("sku".into(), json!(pick(rng, &SKUS)));
    }
    if chance(rng, 95) {
        item.insert(
            "category".into(),
            json!(if chance(rng, 90) {
                pick(rng, &CATEGORIES)
            } else {
                "misc"
            }),
        );
    }
    item.insert("name".into(), json!("Something"));
    if chance(rng, 90) {
        let q = if chance(rng, 90) {
            rng.i64(1..=5)
        } else {
            awkward(rng, 1000)
        };
        item.insert("quantity".into(), odd_number(rng, odd, json!(q)));
    }
    if chance(rng, 97) {
        let p = if chance(rng, 90) {
            rng.i64(0..=20_000)
        } else {
            awkward(rng, 1_000_000)
        };
        item.insert("unit_price".into(), odd_number(rng, odd, json!(p)));
    }
    if odd && chance(rng, 3) {
        item.insert("sku".into(), json!(7));
    }
    Value::Object(item)
}

fn event(rng: &mut Rng, form: &Value) -> Value {
    let own = match form["kind"].as_str() {
        Some("custom_event") => form["event"].as_str().unwrap_or_default(),
        Some(k) => k,
        None => "purchase",
    };
    let kind = if chance(rng, 90) {
        own.to_string()
    } else {
        pick(rng, &["purchase", "check_in", "review", ""]).to_string()
    };
    let n = match rng.u32(..50) {
        0 => MAX_NATIVE_LINES + rng.usize(0..=20),
        1 => rng.usize(20..=MAX_NATIVE_LINES),
        _ => rng.usize(0..=6),
    };
    // One event in twenty has odd fields.
    let odd = chance(rng, 5);
    let items: Vec<Value> = (0..n).map(|_| item(rng, odd)).collect();
    let lines_total: i64 = items
        .iter()
        .map(|i| {
            i["quantity"]
                .as_i64()
                .unwrap_or(1)
                .saturating_mul(i["unit_price"].as_i64().unwrap_or(0))
        })
        .fold(0, i64::saturating_add);
    let amount = match rng.u32(..10) {
        0..=4 => lines_total,
        5 => lines_total.saturating_sub(rng.i64(0..=5_000)),
        6 => rng.i64(0..=200),
        _ => awkward(rng, 100_000),
    };
    let day = date(rng.i64(-70..=100));
    let time = json!({
        "iso": format!("{}T10:00:00+08:00", iso(day)),
        "year": day.0, "month": day.1, "day": day.2,
        "hour": rng.i64(0..=23), "weekday": day.3,
    });
    let mut e = Map::new();
    e.insert("kind".into(), json!(kind));
    e.insert("amount".into(), odd_number(rng, odd, json!(amount)));
    e.insert("currency".into(), json!("CNY"));
    if chance(rng, 95) {
        e.insert("items".into(), json!(items));
    }
    match rng.u32(..100) {
        0 => {}
        1 => {
            e.insert("time".into(), json!({"year": 2026}));
        }
        2 => {
            e.insert(
                "time".into(),
                json!({"year": i64::MAX, "month": 1, "day": 1}),
            );
        }
        _ => {
            e.insert("time".into(), time);
        }
    }
    if odd && chance(rng, 10) {
        e.insert("store".into(), json!(["not", "text"]));
    }
    Value::Object(e)
}

fn member(rng: &mut Rng) -> Value {
    let birthday = match rng.u32(..8) {
        0 => String::new(),
        1 => "19x0-1-02".to_string(),
        _ => format!("1990-{:02}-15", rng.i64(1..=12)),
    };
    let odd = chance(rng, 5);
    let visits = if chance(rng, 40) { 0 } else { rng.i64(1..=50) };
    let points_today = match rng.u32(..6) {
        0..=1 => 0,
        2 => rng.i64(0..=2_000),
        3 => awkward(rng, 1_000_000),
        _ => rng.i64(0..=300),
    };
    let multiplier = match rng.u32(..6) {
        0..=1 => 1000,
        2 => 1500,
        3 => 900,
        4 => rng.i64(0..=100_000),
        _ => 2000,
    };
    let mut m = json!({
        "id": "0190f5a2-5b1c-7d3e-8f00-000000000042",
        "tier": if chance(rng, 85) { pick(rng, &TIERS) } else { "" },
        "fields": {"vip": true},
        "join_date": "2025-03-01",
        "birthday": birthday,
        "totals": {"spend": rng.i64(0..=1_000_000), "visits": odd_number(rng, odd, json!(visits)),
                   "points_earned": 900, "points_today": odd_number(rng, odd, json!(points_today))},
        "benefits": {"multiplier": odd_number(rng, odd, json!(multiplier)), "discount_percent": 5,
                     "birthday_gift_points": 0},
    });
    match rng.u32(..if odd { 3 } else { 30 }) {
        0 => {
            m.as_object_mut().map(|o| o.remove("totals"));
        }
        1 => {
            m.as_object_mut().map(|o| o.remove("benefits"));
        }
        2 if odd => m["fields"] = json!("not an object"),
        _ => {}
    }
    m
}

// ---------------------------------------------------------------------------------------------
// The tests

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn native_evaluation_matches_the_sandbox() {
    let seed = env_or("PATRON_NATIVE_SEED", SEED);
    let forms = env_or("PATRON_NATIVE_FORMS", FORMS as u64) as usize;
    let mut rng = Rng::with_seed(seed);
    let mut sandbox = Sandbox::new(&Limits::default());
    let (mut cases, mut native, mut sandbox_errors, mut invalid) = (0, 0, 0, 0);
    let mut awarded = 0;

    for f in 0..forms {
        let form = form(&mut rng);
        let Ok(template) = Template::parse(form.clone()) else {
            invalid += 1;
            continue;
        };
        let lang = if f % 2 == 0 { Lang::En } else { Lang::ZhCn };
        let script = template.to_script_in(lang);
        assert!(template.generates(&script));
        let key = sandbox.key();
        for _ in 0..EVENTS_PER_FORM {
            let event = event(&mut rng, &form);
            let member = member(&mut rng);
            cases += 1;
            let ours = template.evaluate(&event, &member);
            let theirs = sandbox.eval(key, &script, &event, &member);
            let report = || {
                format!(
                    "seed {seed}, form {f}\nform: {form:#}\nevent: {event:#}\nmember: {member:#}\n\
                     script:\n{script}\nnative: {ours:#?}\nsandbox: {theirs:#?}"
                )
            };
            match (&ours, &theirs) {
                (Some(o), Ok(t)) => {
                    assert_eq!(o, t, "native and sandbox differ\n{}", report());
                    native += 1;
                    awarded += usize::from(o.points > 0);
                }
                (Some(_), Err(_)) => {
                    panic!("native answered where the sandbox failed\n{}", report())
                }
                (None, Err(_)) => sandbox_errors += 1,
                (None, Ok(_)) => {}
            }
        }
    }

    eprintln!(
        "{cases} cases on {} valid forms ({invalid} invalid skipped): {native} native, \
         {sandbox_errors} failed in the sandbox too, {} left to the sandbox; {awarded} with points",
        forms - invalid,
        cases - native - sandbox_errors
    );
    // Most forms are valid, most cases are ordinary purchases native evaluation takes, and
    // enough of them earn points for the comparison to mean something.
    assert!(invalid * 10 < forms, "{invalid} of {forms} forms invalid");
    assert!(
        native * 100 >= cases * 80,
        "only {native} of {cases} native"
    );
    assert!(
        awarded * 2 >= native,
        "only {awarded} of {native} earned points"
    );
}

/// The bench's form: one point per yuan, floored, 50 on the first purchase.
fn bench_form() -> Template {
    Template::parse(json!({ "kind": "purchase",
        "base": { "points": 1, "per_amount": 100, "rounding": "floor" },
        "first_purchase_bonus": { "points": 50 } }))
    .expect("valid")
}

#[test]
fn the_bench_form_is_native_and_agrees_with_the_sandbox() {
    let template = bench_form();
    let script = template.to_script();
    let mut sandbox = Sandbox::new(&Limits::default());
    let event = json!({
        "kind": "purchase", "amount": 12_345, "currency": "CNY", "store": "",
        "items": [{"sku": "A", "name": "a", "category": "c", "quantity": 1, "unit_price": 12_345}],
        "time": {"iso": "2026-03-14T09:30:00+08:00", "year": 2026, "month": 3, "day": 14,
                 "hour": 9, "weekday": 6}
    });
    let member = json!({"id": "m", "tier": "", "fields": {}, "join_date": "2026-03-14",
        "birthday": "", "totals": {"spend": 0, "visits": 0, "points_earned": 0, "points_today": 0},
        "benefits": {"multiplier": 1000, "discount_percent": 0, "birthday_gift_points": 0}});

    let ours = template.evaluate(&event, &member).expect("native");

    assert_eq!(ours.points, 123 + 50);
    assert_eq!(Ok(ours), sandbox.eval(1, &script, &event, &member));
}

#[test]
fn the_largest_inputs_native_takes_stay_far_inside_the_sandbox_limits() {
    // Every list of the form at its longest, every promotion running with every condition,
    // and the most lines native evaluation takes, each matching the last multiplier only:
    // the script's most operations (2026-03-15 is a Sunday, the last weekday listed). Half
    // the operations the pool allows must still do.
    let multipliers: Vec<Value> = (0..50)
        .map(|i| {
            json!({"match": "sku", "value": format!("S{i}"), "factor_permille": 1500,
                        "label": "長".repeat(100)})
        })
        .collect();
    let tiers: Vec<Value> = (0..50)
        .map(|i| json!({"tier": format!("t{i}"), "factor_permille": 1001}))
        .collect();
    let promotions: Vec<Value> = (0..50)
        .map(|i| {
            json!({"name": format!("{i:02}{}", "名".repeat(98)), "from": "2026-01-01",
                        "to": "2026-12-31", "weekdays": [1, 2, 3, 4, 5, 6, 7],
                        "hours": {"from": 0, "to": 24}, "factor_permille": 1001,
                        "bonus_points": 1})
        })
        .collect();
    let bonuses: Vec<Value> = (0..50)
        .map(|i| json!({"min_amount": 1_000_000 - i, "points": 1}))
        .collect();
    let template = Template::parse(json!({
        "kind": "purchase", "base": {"points": 1, "per_amount": 100, "rounding": "ceil"},
        "multipliers": multipliers, "tier_multipliers": tiers,
        "birthday_month": {"factor_permille": 1001}, "promotions": promotions,
        "per_purchase_cap": 1_000_000, "daily_cap": 1_000_000, "spend_bonuses": bonuses,
        "first_purchase_bonus": {"points": 1},
        "coupon_template_id": "0190f5a2-5b1c-7d3e-8f00-1234567890ab"
    }))
    .expect("valid");
    let items: Vec<Value> = (0..MAX_NATIVE_LINES)
        .map(|_| json!({"sku": "S49", "category": "c", "name": "n", "quantity": 1, "unit_price": 100}))
        .collect();
    let event = json!({"kind": "purchase", "amount": 1, "items": items,
        "time": {"iso": "", "year": 2026, "month": 3, "day": 15, "hour": 23, "weekday": 7}});
    let member = json!({"tier": "t49", "birthday": "1990-03-01",
        "totals": {"visits": 0, "points_today": 0}});
    let limits = Limits {
        max_operations: Limits::default().max_operations / 2,
        ..Limits::default()
    };
    let mut sandbox = Sandbox::new(&limits);

    let ours = template.evaluate(&event, &member).expect("native");

    assert_eq!(
        Ok(ours),
        sandbox.eval(1, &template.to_script(), &event, &member)
    );
}
