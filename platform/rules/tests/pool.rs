//! The sandbox pool against the real `patron-sandbox` binary: results, limits, deadlines,
//! dead and misbehaving workers, load.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use patron_rules::{default_program, Case, RuleErrorKind, RuleKey, SandboxConfig, SandboxPool};
use serde_json::{json, Value};

const KEY: RuleKey = RuleKey {
    tenant: 1,
    version: 1,
};
const PER_YUAN: &str = r#"award(floor_div(event.amount, 100), "1 point per yuan")"#;

fn sandbox() -> PathBuf {
    default_program().unwrap_or_else(|| {
        panic!(
            "patron-sandbox is not built: run `cargo build --manifest-path \
             platform/sandbox/Cargo.toml --target-dir target` (scripts/test does) or set \
             PATRON_SANDBOX_BIN"
        )
    })
}

fn pool(config: SandboxConfig) -> SandboxPool {
    SandboxPool::start(SandboxConfig {
        program: Some(sandbox()),
        ..config
    })
    .expect("pool starts")
}

fn event(amount: i64) -> Value {
    json!({"kind": "purchase", "amount": amount, "currency": "CNY",
           "items": [{"sku": "A", "category": "drinks", "quantity": 1, "unit_price": amount}],
           "time": {"iso": "2026-03-14", "year": 2026, "month": 3, "day": 14, "hour": 9, "weekday": 6}})
}

fn member() -> Value {
    json!({"id": 1, "tier": "gold", "birthday": "1990-03-02"})
}

#[tokio::test]
async fn a_rule_earns_points_with_reasons_and_a_bad_one_says_where() {
    let pool = pool(SandboxConfig::default());
    let outcome = pool
        .eval(KEY, PER_YUAN, &event(12_345), &member())
        .await
        .unwrap();
    assert_eq!(outcome.points, 123);
    assert_eq!(outcome.reasons[0].reason, "1 point per yuan");

    pool.compile(KEY, PER_YUAN).await.unwrap();
    let e = pool
        .compile(
            RuleKey {
                tenant: 1,
                version: 2,
            },
            "let a = 1;\nlet b = ;",
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.line, e.column),
        (RuleErrorKind::Compile, Some(2), Some(9))
    );
    let e = pool
        .eval(KEY, "event.amount / 0", &event(1), &member())
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.line), (RuleErrorKind::Runtime, Some(1)));
    let e = pool
        .eval(KEY, PER_YUAN, &json!("nope"), &member())
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::BadInput);
}

#[tokio::test]
async fn a_runaway_loop_is_a_limit_error_well_within_the_deadline_and_the_pool_goes_on() {
    let pool = pool(SandboxConfig {
        workers: 1,
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    let e = pool
        .eval(KEY, "loop {}", &event(1), &member())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        (e.kind, e.limit.as_deref()),
        (RuleErrorKind::Limit, Some("operations"))
    );
    assert!(took < Duration::from_millis(200), "took {took:?}");
    let outcome = pool
        .eval(KEY, PER_YUAN, &event(500), &member())
        .await
        .unwrap();
    assert_eq!(outcome.points, 5);
    assert_eq!(pool.stats().restarts, 0);
}

#[tokio::test]
async fn a_rule_past_its_deadline_is_killed_and_its_worker_replaced() {
    let pool = pool(SandboxConfig {
        workers: 1,
        max_operations: u64::MAX / 2,
        deadline: Duration::from_millis(150),
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    let e = pool
        .eval(KEY, "loop {}", &event(1), &member())
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        pool.eval(KEY, PER_YUAN, &event(900), &member())
            .await
            .unwrap()
            .points,
        9
    );
    let stats = pool.stats();
    assert_eq!((stats.timeouts, stats.restarts), (1, 1));
}

#[tokio::test]
async fn a_worker_killed_from_outside_is_replaced() {
    let pool = pool(SandboxConfig {
        workers: 2,
        ..SandboxConfig::default()
    });
    let pids = pool.idle_pids();
    assert_eq!(pids.len(), 2);
    for pid in &pids {
        let status = std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status();
        assert!(status.unwrap().success());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    for amount in [100, 200, 300] {
        let outcome = pool
            .eval(KEY, PER_YUAN, &event(amount), &member())
            .await
            .unwrap();
        assert_eq!(outcome.points, amount / 100);
    }
    assert!(pool.stats().restarts >= 1);
    assert!(pool.idle_pids().iter().any(|pid| !pids.contains(pid)));
}

#[tokio::test]
async fn a_memory_bomb_ends_as_an_error_not_a_hang() {
    // With the size limits on, the string limit stops it.
    let defaults = pool(SandboxConfig {
        workers: 1,
        ..SandboxConfig::default()
    });
    let bomb = r#"let s = "x"; loop { s += s; }"#;
    let e = defaults
        .eval(KEY, bomb, &event(1), &member())
        .await
        .unwrap_err();
    assert_eq!(e.limit.as_deref(), Some("string_size"));

    // With them off, the process's memory limit does, and the worker is replaced.
    let pool = pool(SandboxConfig {
        workers: 1,
        max_memory_mb: 64,
        max_operations: 10_000_000,
        deadline: Duration::from_secs(5),
        extra_args: vec!["--max-string-size".into(), "0".into()],
        ..SandboxConfig::default()
    });
    let started = Instant::now();
    let e = pool
        .eval(KEY, bomb, &event(1), &member())
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.limit.as_deref()),
        (RuleErrorKind::Limit, Some("memory")),
        "{e:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        pool.eval(KEY, PER_YUAN, &event(700), &member())
            .await
            .unwrap()
            .points,
        7
    );
    assert_eq!(pool.stats().restarts, 1);
}

#[tokio::test]
async fn a_thousand_evaluations_of_a_cached_rule_on_two_workers() {
    let pool = pool(SandboxConfig {
        workers: 2,
        ..SandboxConfig::default()
    });
    pool.compile(KEY, PER_YUAN).await.unwrap();
    let member = member();
    for i in 0..1000 {
        let outcome = pool
            .eval(KEY, PER_YUAN, &event(i * 100), &member)
            .await
            .unwrap();
        assert_eq!(outcome.points, i);
    }
    let stats = pool.stats();
    assert_eq!((stats.calls, stats.errors, stats.restarts), (1001, 0, 0));
}

#[tokio::test]
async fn many_callers_at_once_wait_for_a_free_worker() {
    let pool = pool(SandboxConfig {
        workers: 2,
        deadline: Duration::from_secs(5),
        ..SandboxConfig::default()
    });
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..64i64 {
        let pool = pool.clone();
        tasks.spawn(async move {
            let key = RuleKey {
                tenant: t % 4,
                version: 1,
            };
            let script = format!("{PER_YUAN}; {}", t % 4);
            for i in 0..20i64 {
                let outcome = pool
                    .eval(key, &script, &event(i * 100), &member())
                    .await
                    .unwrap();
                assert_eq!(outcome.points, i + t % 4);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(pool.stats().errors, 0);
}

#[tokio::test]
async fn a_busy_pool_answers_busy_at_the_deadline() {
    let pool = pool(SandboxConfig {
        workers: 1,
        max_operations: u64::MAX / 2,
        deadline: Duration::from_millis(150),
        per_case: Duration::from_millis(500),
        ..SandboxConfig::default()
    });
    // A one-case batch holds the only worker for 650 ms, longer than an eval's deadline.
    let runaway = {
        let pool = pool.clone();
        let cases = vec![Case {
            event: event(1),
            member: member(),
        }];
        tokio::spawn(async move { pool.eval_batch(KEY, "loop {}", &cases).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    let e = pool
        .eval(KEY, PER_YUAN, &event(1), &member())
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Busy);
    assert_eq!(
        runaway.await.unwrap().unwrap_err().kind,
        RuleErrorKind::Timeout
    );
    assert_eq!(
        pool.eval(KEY, PER_YUAN, &event(100), &member())
            .await
            .unwrap()
            .points,
        1
    );
}

#[tokio::test]
async fn an_evicted_rule_is_sent_again() {
    let pool = pool(SandboxConfig {
        workers: 1,
        extra_args: vec!["--cache-size".into(), "1".into()],
        ..SandboxConfig::default()
    });
    let other = RuleKey {
        tenant: 2,
        version: 1,
    };
    for i in 1..=3 {
        assert_eq!(
            pool.eval(KEY, PER_YUAN, &event(i * 100), &member())
                .await
                .unwrap()
                .points,
            i
        );
        assert_eq!(
            pool.eval(other, "7", &event(1), &member())
                .await
                .unwrap()
                .points,
            7
        );
    }
    assert_eq!(pool.stats().errors, 0);
}

#[tokio::test]
async fn a_batch_keeps_its_order_across_workers_and_reports_each_case() {
    let pool = pool(SandboxConfig {
        workers: 2,
        ..SandboxConfig::default()
    });
    let mut cases: Vec<Case> = (0..1_200)
        .map(|i| Case {
            event: event(i * 100),
            member: member(),
        })
        .collect();
    cases[700].event = json!("not an event");
    let results = pool.eval_batch(KEY, PER_YUAN, &cases).await.unwrap();
    assert_eq!(results.len(), 1_200);
    for (i, result) in results.iter().enumerate() {
        match i {
            700 => assert_eq!(result.as_ref().unwrap_err().kind, RuleErrorKind::BadInput),
            _ => assert_eq!(result.as_ref().unwrap().points, i as i64),
        }
    }
    let e = pool
        .eval_batch(KEY, "let = 1;", &cases[..2])
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Compile);
}

#[tokio::test]
async fn a_worker_that_answers_garbage_is_replaced_and_a_missing_binary_is_unavailable() {
    let dir = std::env::temp_dir().join(format!("patron-rules-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let echo = dir.join("echo-sandbox");
    std::fs::write(&echo, "#!/bin/sh\nexec cat\n").unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&echo)
        .status()
        .unwrap();
    let pool = SandboxPool::start(SandboxConfig {
        program: Some(echo),
        workers: 1,
        ..SandboxConfig::default()
    })
    .unwrap();
    let e = pool
        .eval(KEY, PER_YUAN, &event(1), &member())
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Protocol);
    assert_eq!(pool.stats().restarts, 1);

    let missing = SandboxPool::start(SandboxConfig {
        program: Some(dir.join("missing")),
        ..SandboxConfig::default()
    });
    assert_eq!(
        missing.err().map(|e| e.kind),
        Some(RuleErrorKind::Unavailable)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_request_over_the_frame_limit_is_bad_input_and_nothing_is_sent() {
    let pool = pool(SandboxConfig {
        workers: 1,
        ..SandboxConfig::default()
    });
    let huge = json!({"kind": "purchase", "note": "x".repeat(5 * 1024 * 1024)});
    let e = pool
        .eval(KEY, PER_YUAN, &huge, &member())
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::BadInput);
    assert_eq!(
        pool.eval(KEY, PER_YUAN, &event(300), &member())
            .await
            .unwrap()
            .points,
        3
    );
    assert_eq!(pool.stats().restarts, 0);
}

#[tokio::test]
async fn tier_scripts_answer_codes_beside_point_rules_of_the_same_key_and_a_runaway_one_is_stopped()
{
    let pool = pool(SandboxConfig::default());
    let script = r#"if metrics.spend >= 1000 { "gold" } else { member.tier }"#;
    // The same key as a point rule, compiled first: the tier script does not collide.
    pool.eval(KEY, PER_YUAN, &event(100), &member())
        .await
        .unwrap();
    pool.compile_tier(KEY, script).await.unwrap();
    let code = pool
        .eval_tier(KEY, script, &member(), &json!({"spend": 1500}))
        .await
        .unwrap();
    assert_eq!(code, "gold");
    let cases: Vec<_> = (0..1200)
        .map(|i| patron_rules::TierCase {
            member: json!({"tier": "base"}),
            metrics: json!({"spend": i}),
        })
        .collect();
    let results = pool.eval_tier_batch(KEY, script, &cases).await.unwrap();
    assert_eq!(results.len(), 1200);
    assert_eq!(results[999].as_deref(), Ok("base"));
    assert_eq!(results[1000].as_deref(), Ok("gold"));
    let e = pool
        .compile_tier(KEY, "if metrics.spend {")
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Compile);
    assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
    let started = Instant::now();
    let e = pool
        .eval_tier(KEY, "loop {}", &member(), &json!({}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, RuleErrorKind::Limit, "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    // Point rules still earn as before.
    let outcome = pool
        .eval(KEY, PER_YUAN, &event(12_345), &member())
        .await
        .unwrap();
    assert_eq!(outcome.points, 123);
}
