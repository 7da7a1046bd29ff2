//! Sandbox round trips through the pool: latency of one evaluation with a cached AST (one
//! caller, then many), and a simulation batch. Run by `scripts/bench-rules`.
//!
//! Options: --workers N (2) --evals N (20000) --concurrency N (8) --batch N (10000)

use std::time::{Duration, Instant};

use patron_rules::{Case, RuleKey, SandboxConfig, SandboxPool};
use serde_json::{json, Value};

const RULE: &str = r#"
let points = floor_div(event.amount, 100);
points = floor_div(points * member.benefits.multiplier, 1000);
award(points, "1 point per yuan, tier multiplier");
let drinks = items_total(items_in_category(event, "drinks"));
if drinks >= 2000 { award(20, "coffee lover bonus"); }
if is_birthday_month(member, event) { award(points, "birthday month doubles points"); }
"#;

fn event(i: i64) -> Value {
    json!({
        "kind": "purchase", "amount": 1_000 + (i % 50) * 137, "currency": "CNY", "store": "north",
        "items": [
            {"sku": "LATTE", "name": "Latte", "category": "drinks", "quantity": 1 + i % 3, "unit_price": 1_200},
            {"sku": "BAGEL", "name": "Bagel", "category": "food", "quantity": 1, "unit_price": 800}
        ],
        "time": {"iso": "2026-03-14T09:30:00+08:00", "year": 2026, "month": 3, "day": 14, "hour": 9, "weekday": 6}
    })
}

fn member(i: i64) -> Value {
    json!({
        "id": i, "tier": "gold", "fields": {}, "join_date": "2025-01-01",
        "birthday": if i % 12 == 0 { "1990-03-02" } else { "1990-07-02" },
        "totals": {"spend": 100_000, "visits": 10, "points_earned": 1_000},
        "benefits": {"multiplier": 1_500, "discount_percent": 0}
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn report(label: &str, mut latencies: Vec<Duration>, wall: Duration) {
    latencies.sort();
    println!(
        "{label}: {} evals in {:.2} s = {:.0} evals/s; latency p50 {:.0} us, p99 {:.0} us, max {:.0} us",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
        latencies.last().unwrap().as_secs_f64() * 1e6,
    );
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().expect("a whole number"))
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let workers = arg("--workers", 2);
    let evals = arg("--evals", 20_000);
    let concurrency = arg("--concurrency", 8).max(1);
    let batch = arg("--batch", 10_000);
    let pool = SandboxPool::start(SandboxConfig {
        workers,
        ..SandboxConfig::default()
    })
    .expect("the sandbox pool starts");
    let key = RuleKey {
        tenant: 1,
        version: 1,
    };

    let started = Instant::now();
    pool.compile(key, RULE).await.expect("the rule compiles");
    println!(
        "compile (first, includes worker warm-up): {:.0} us",
        started.elapsed().as_secs_f64() * 1e6
    );
    let (events, members): (Vec<Value>, Vec<Value>) =
        (0..1_000).map(|i| (event(i), member(i))).unzip();
    for i in 0..2_000 {
        pool.eval(key, RULE, &events[i % 1_000], &members[i % 1_000])
            .await
            .unwrap();
    }

    let mut latencies = Vec::with_capacity(evals);
    let wall = Instant::now();
    for i in 0..evals {
        let t = Instant::now();
        pool.eval(key, RULE, &events[i % 1_000], &members[i % 1_000])
            .await
            .unwrap();
        latencies.push(t.elapsed());
    }
    report("one caller", latencies, wall.elapsed());

    let wall = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..concurrency {
        let (pool, events, members) = (pool.clone(), events.clone(), members.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(evals / concurrency);
            for i in (c..evals).step_by(concurrency) {
                let t = Instant::now();
                pool.eval(key, RULE, &events[i % 1_000], &members[i % 1_000])
                    .await
                    .unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(evals);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.unwrap());
    }
    report(
        &format!("{concurrency} callers, {workers} workers"),
        latencies,
        wall.elapsed(),
    );

    let cases: Vec<Case> = (0..batch as i64)
        .map(|i| Case {
            event: event(i),
            member: member(i),
        })
        .collect();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let results = pool
            .eval_batch(key, RULE, &cases)
            .await
            .expect("the batch runs");
        runs.push(t.elapsed());
        assert!(results.iter().all(Result::is_ok));
    }
    runs.sort();
    println!(
        "simulation of {batch} purchases: median {:.0} ms (runs: {:?})",
        runs[1].as_secs_f64() * 1e3,
        runs.iter()
            .map(|r| format!("{:.0} ms", r.as_secs_f64() * 1e3))
            .collect::<Vec<_>>()
    );
    let stats = pool.stats();
    println!(
        "pool: {} calls, {} errors, {} restarts",
        stats.calls, stats.errors, stats.restarts
    );
}
