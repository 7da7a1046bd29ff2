//! Load for the points ledger over HTTP, run by `scripts/bench` and `scripts/faults` against a
//! running `patron serve`.
//!
//! `points_load setup --state FILE [--members N]`: a plan with every feature and no limits, a
//! business on it, an integration key, the purchase rule published from a template, a tier
//! ladder (points earned over a rolling year, four tiers) and N
//! members; written to FILE for the other modes.
//! `points_load accrual --state FILE --clients C --seconds S [--from F --to T]`: purchases with
//! unique external ids from C clients at once for S seconds (after a warm-up), for random
//! members (of members F..T only when given); throughput and latency.
//! `points_load redeem --state FILE --clients C --balance B`: one member holding B points,
//! 1-point redemptions from C clients until more than B were asked for; then proves that
//! exactly B succeeded, that the balance never went below zero and that the ledger agrees.
//! `points_load paid --state FILE --clients C --seconds S [--members N]`: purchases paid in
//! full from stored value against purchases without payments, in the same run (plain, paid,
//! plain, S seconds each, N members topped up first); throughput of each and the ratio.
//! `points_load spend --state FILE --clients C --balance B`: one member with B fen of stored
//! value, 1-fen purchases paid from it from C clients until more than B were asked for; then
//! proves that exactly B succeeded, that no sub-ledger entry went below zero and that the
//! balance row agrees with its entries.
//! `points_load coupons --state FILE --clients C --seconds S [--members N]`: purchases with
//! one coupon (an amount off, each code used once, from batches made first) against
//! purchases without, in the same run (plain, coupon, plain); throughput of each, the ratio,
//! and the statements each kind of purchase made (`pg_stat_statements`, reset per phase).
//! `points_load claims --state FILE --clients C --total T [--members N]`: N members who
//! registered in the portal claim coupons of one template with a total of T from C clients
//! until more than T were asked for; successful claims per second, then the proof that
//! exactly T were issued.
//! `points_load outbox --state FILE --clients C --seconds S [--queued Q] [--smtp-dir DIR]`:
//! purchases without a webhook endpoint, with one subscribed (served by this process) and
//! without again; then Q events queued at once, each a webhook call and an e-mail, delivered
//! by the job runner: deliveries per second.
//! `points_load simulate --state FILE --purchases N --runs R`: `POST /rules/simulate` over the
//! business's last N purchases, R times.
//! `points_load faults --state FILE --clients C --seconds S [--base URL,URL...]`: a random mix
//! of purchases, refunds, redemptions, adjustments, check-ins and custom events, taking turns
//! over the given servers (replicas on one database; default the state's), every failed or
//! timed out request retried with the same external id on the next server (and some
//! successful ones sent twice, to another server), while scripts/faults kills sandbox
//! workers, database connections and whole servers; then checks that every acknowledged write
//! exists exactly once. Exits non-zero on any difference.
//!
//! `points_load spread-setup` and `points_load spread`: see `load/spread.rs`.
//! `points_load stack-server --exchanges 4|2`: see `load/stack.rs`.
//!
//! The database checks read `PATRON_DATABASE_URL` directly.
//!
//! Longer than 600 lines on purpose: an example is one binary, and the load generator's modes
//! share its client, its tallies and its final proof.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "load/spread.rs"]
mod spread;
#[path = "load/stack.rs"]
mod stack;

/// The server's allocator (`patron serve` uses it), for `stack-server`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const PASSWORD: &str = "bench-password-2026";

/// The purchase rule: one point per yuan, floored, and a first-purchase bonus.
fn purchase_template() -> Value {
    json!({ "kind": "purchase", "base": { "points": 1, "per_amount": 100, "rounding": "floor" },
            "first_purchase_bonus": { "points": 50 } })
}

struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        let flag = format!("--{name}");
        self.0
            .iter()
            .position(|a| *a == flag)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }
    fn num(&self, name: &str, default: u64) -> u64 {
        self.get(name)
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("--{name} takes a number"))
            })
            .unwrap_or(default)
    }
}

/// What `setup` wrote.
struct State {
    base: String,
    slug: String,
    tenant_id: i64,
    key: String,
    members: Vec<String>,
}

impl State {
    fn load(path: &str) -> Res<Self> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        Ok(Self {
            base: v["base"].as_str().ok_or("base")?.to_owned(),
            slug: v["slug"].as_str().ok_or("slug")?.to_owned(),
            tenant_id: v["tenant_id"].as_i64().ok_or("tenant_id")?,
            key: v["key"].as_str().ok_or("key")?.to_owned(),
            members: v["members"]
                .as_array()
                .ok_or("members")?
                .iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect(),
        })
    }
}

/// One answer: status and JSON body.
struct Reply {
    status: StatusCode,
    body: Value,
}

async fn call(
    client: &Client,
    method: Method,
    url: &str,
    auth: Option<(&str, &str)>,
    body: &Value,
) -> Result<Reply, reqwest::Error> {
    let mut req = client.request(method, url);
    if let Some((header, value)) = auth {
        req = req.header(header, value);
    }
    if !body.is_null() {
        req = req.json(body);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    Ok(Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    })
}

fn expect(r: Reply, want: &[StatusCode], what: &str) -> Res<Value> {
    if want.contains(&r.status) {
        Ok(r.body)
    } else {
        Err(format!("{what}: {} {}", r.status, r.body).into())
    }
}

fn client(timeout: Duration) -> Client {
    Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(256)
        .build()
        .expect("client")
}

// ---------------------------------------------------------------------------------------------
// setup

/// The load plan: every feature and no limits (a limit left out is unlimited), so neither the
/// per-minute API limit nor a member cap shapes the numbers. Created, or updated if it exists.
async fn load_plan(c: &Client, base: &str, ops_email: &str, ops_password: &str) -> Res<()> {
    let api = |p: &str| format!("{base}/api/v1{p}");
    let r = call(
        c,
        Method::POST,
        &api("/ops/login"),
        None,
        &json!({ "email": ops_email, "password": ops_password }),
    )
    .await?;
    let ops = expect(r, &[StatusCode::OK], "operator login")?["token"]
        .as_str()
        .ok_or("operator token")?
        .to_owned();
    let ops_auth = format!("Bearer {ops}");
    let plan = json!({ "name": "Load test", "monthly_price_minor": 0, "currency": "CNY",
        "features": ["custom_fields", "rule_scripts", "tiers", "coupons", "events", "sms",
                     "campaigns", "api_keys", "webhooks", "exports", "multi_store",
                     "reports_advanced", "stored_value", "visit_passes", "memberships",
                     "promotions", "points_mall", "activities"],
        "limits": {}, "trial_days": 0 });
    let mut create = plan.clone();
    create["code"] = json!("loadtest");
    let r = call(
        c,
        Method::POST,
        &api("/ops/plans"),
        Some(("Authorization", &ops_auth)),
        &create,
    )
    .await?;
    if !r.status.is_success() {
        let r = call(
            c,
            Method::PUT,
            &api("/ops/plans/loadtest"),
            Some(("Authorization", &ops_auth)),
            &plan,
        )
        .await?;
        expect(r, &[StatusCode::OK], "plan update")?;
    }

    Ok(())
}

/// The tier ladder: points earned over a rolling year, four tiers.
fn ladder() -> Value {
    let tier = |code: &str, threshold: i64, multiplier: i64| {
        json!({ "code": code, "name": { "zh-CN": code, "en": code }, "threshold": threshold,
                "benefits": { "multiplier": multiplier } })
    };
    json!({ "ladder": { "metric": "points_earned", "window": { "kind": "rolling", "days": 365 },
             "retention_days": 30, "demotion": "one_rung",
             "tiers": [tier("member", 0, 1_000), tier("silver", 1_000, 1_200),
                       tier("gold", 5_000, 1_500), tier("platinum", 20_000, 2_000)] } })
}

async fn setup(a: &Args) -> Res<()> {
    let base = a
        .get("base")
        .ok_or("--base")?
        .trim_end_matches('/')
        .to_owned();
    let state_path = a.get("state").ok_or("--state")?;
    let members = a.num("members", 2_000);
    let ops_email = a.get("ops-email").ok_or("--ops-email")?;
    let ops_password = a.get("ops-password").ok_or("--ops-password")?;
    let c = client(Duration::from_secs(60));
    let api = |p: &str| format!("{base}/api/v1{p}");

    load_plan(&c, &base, ops_email, ops_password).await?;

    let slug = format!("load-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let r = call(
        &c,
        Method::POST,
        &api("/signup"),
        None,
        &json!({ "business_name": format!("Load {slug}"), "slug": slug, "owner_name": "Owner",
                 "email": format!("owner@{slug}.example.com"), "password": PASSWORD,
                 "plan": "loadtest" }),
    )
    .await?;
    let s = expect(r, &[StatusCode::CREATED], "signup")?;
    let tenant_id = s["tenant"]["id"].as_i64().ok_or("tenant id")?;
    let owner = format!("Bearer {}", s["session"]["token"].as_str().ok_or("token")?);
    let r = call(
        &c,
        Method::POST,
        &api("/api-keys"),
        Some(("Authorization", &owner)),
        &json!({ "name": "till", "role": "owner" }),
    )
    .await?;
    let key = expect(r, &[StatusCode::CREATED], "api key")?["key"]
        .as_str()
        .ok_or("key")?
        .to_owned();
    let r = call(
        &c,
        Method::POST,
        &api("/rules/purchase/publish"),
        Some(("X-Api-Key", &key)),
        &json!({ "template": purchase_template() }),
    )
    .await?;
    expect(r, &[StatusCode::OK], "publish purchase rule")?;
    // A tier ladder, so that every purchase also checks for a promotion (and some promote).
    let r = call(
        &c,
        Method::POST,
        &api("/tiers/publish"),
        Some(("X-Api-Key", &key)),
        &ladder(),
    )
    .await?;
    expect(r, &[StatusCode::OK], "publish tier ladder")?;
    // For the faults mode: a custom event rule and check-in points.
    let r = call(
        &c,
        Method::POST,
        &api("/rules/event.visit/publish"),
        Some(("X-Api-Key", &key)),
        &json!({ "script": r#"award(5 + event.properties.minutes / 10, "visit");"# }),
    )
    .await?;
    expect(r, &[StatusCode::OK], "publish event rule")?;
    let r = call(
        &c,
        Method::PUT,
        &api("/points/settings"),
        Some(("X-Api-Key", &key)),
        &json!({ "check_in_points": 5, "streak_days": 3, "streak_bonus": 20 }),
    )
    .await?;
    expect(r, &[StatusCode::OK], "points settings")?;

    let started = Instant::now();
    let ids = Arc::new(Mutex::new(Vec::with_capacity(members as usize)));
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (c, key, ids, next, url) = (
                c.clone(),
                key.clone(),
                ids.clone(),
                next.clone(),
                api("/members"),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= members {
                        return Ok::<(), String>(());
                    }
                    let r = call(
                        &c,
                        Method::POST,
                        &url,
                        Some(("X-Api-Key", &key)),
                        &json!({ "name": format!("Member {i}") }),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    let m =
                        expect(r, &[StatusCode::CREATED], "member").map_err(|e| e.to_string())?;
                    ids.lock()
                        .unwrap()
                        .push(m["id"].as_str().unwrap_or_default().to_owned());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let ids = ids.lock().unwrap().clone();
    println!(
        "setup: business {slug} (id {tenant_id}) on plan loadtest, {} members in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    std::fs::write(
        state_path,
        serde_json::to_vec_pretty(&json!({ "base": base, "slug": slug, "tenant_id": tenant_id,
                                           "key": key, "members": ids }))?,
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// accrual

/// The body of `POST /purchases` every load mode sends: one item for the whole amount, in
/// the store the purchase rule rewards.
fn purchase_body(external_id: &str, member: &str, amount: i64) -> Value {
    json!({ "external_id": external_id, "member_id": member, "amount": amount, "store": "north",
            "items": [{ "sku": "SKU-1", "name": "Item", "category": "general",
                        "quantity": 1, "unit_price": amount }] })
}

/// This process's CPU time so far (user and system), in milliseconds: `/proc/self/stat`'s
/// utime and stime, in the kernel's clock ticks (100 a second on Linux).
fn own_cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after it.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) as f64 * 10.0
}

fn pct(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

async fn accrual(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 8);
    let seconds = a.num("seconds", 30);
    let warmup = a.num("warmup", 3);
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let c = client(Duration::from_secs(30));
    let url = format!("{}/api/v1/purchases", st.base);
    // `--from F --to T`: only members F..T of the business (the history benchmark compares
    // members with a long ledger against members without, in one run).
    let from = (a.num("from", 0) as usize).min(st.members.len());
    let to = (a.num("to", st.members.len() as u64) as usize).clamp(from, st.members.len());
    if from == to {
        return Err("--from/--to select no member".into());
    }
    let members = Arc::new(st.members[from..to].to_vec());
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let end = measure_from + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (c, url, key, members, run) = (
                c.clone(),
                url.clone(),
                st.key.clone(),
                members.clone(),
                run.clone(),
            );
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(w);
                let (mut lat, mut errors, mut warm) = (Vec::new(), Vec::<String>::new(), 0u64);
                let mut n = 0u64;
                loop {
                    let now = Instant::now();
                    if now >= end {
                        break;
                    }
                    n += 1;
                    let m = &members[rng.gen_range(0..members.len())];
                    let amount = rng.gen_range(100..50_000i64);
                    let body = purchase_body(&format!("b{run}-{w}-{n}"), m, amount);
                    let t = Instant::now();
                    let r = call(&c, Method::POST, &url, Some(("X-Api-Key", &key)), &body).await;
                    let us = t.elapsed().as_micros() as u64;
                    match r {
                        Ok(r) if r.status == StatusCode::CREATED => {
                            if t >= measure_from {
                                lat.push(us);
                            } else {
                                warm += 1;
                            }
                        }
                        Ok(r) => errors.push(format!("{} {}", r.status, r.body)),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (lat, errors, warm)
            })
        })
        .collect();
    let (mut lat, mut errors, mut warm) = (Vec::new(), Vec::new(), 0);
    for t in tasks {
        let (l, e, w) = t.await?;
        lat.extend(l);
        errors.extend(e);
        warm += w;
    }
    lat.sort_unstable();
    let tput = lat.len() as f64 / seconds as f64;
    let requests = (lat.len() as u64 + warm + errors.len() as u64).max(1);
    println!(
        "accrual: clients {clients} seconds {seconds} ok {} warmup {warm} errors {} throughput {tput:.0}/s p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms max {:.2} ms client CPU {:.3} ms per request",
        lat.len(),
        errors.len(),
        pct(&lat, 0.50),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(0) as f64 / 1000.0,
        own_cpu_ms() / requests as f64,
    );
    if let Some(e) = errors.first() {
        println!("accrual: first error: {e}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// redemptions against one member

async fn redeem(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 16);
    let balance = a.num("balance", 10_000) as i64;
    // More asks than points: the tail end must be refused, never overdrawn.
    let asks = balance + balance / 5;
    let c = client(Duration::from_secs(30));
    let api = |p: &str| format!("{}/api/v1{p}", st.base);
    let auth = Some(("X-Api-Key", st.key.as_str()));
    let r = call(
        &c,
        Method::POST,
        &api("/members"),
        auth,
        &json!({ "name": "Redeemer" }),
    )
    .await?;
    let m = expect(r, &[StatusCode::CREATED], "member")?["id"]
        .as_str()
        .ok_or("id")?
        .to_owned();
    let r = call(
        &c,
        Method::POST,
        &api(&format!("/members/{m}/points/adjustments")),
        auth,
        &json!({ "idempotency_key": "seed", "points": balance, "reason": "opening balance" }),
    )
    .await?;
    expect(r, &[StatusCode::CREATED], "opening balance")?;

    let next = Arc::new(AtomicU64::new(0));
    let url = api(&format!("/members/{m}/redemptions"));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (c, url, key, next) = (c.clone(), url.clone(), st.key.clone(), next.clone());
            tokio::spawn(async move {
                let (mut ok_lat, mut refused, mut errors) = (Vec::new(), 0u64, Vec::<String>::new());
                let mut last_ok = start;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= asks as u64 {
                        break;
                    }
                    let body =
                        json!({ "idempotency_key": format!("r-{i}"), "points": 1, "reward": "coffee" });
                    let t = Instant::now();
                    match call(&c, Method::POST, &url, Some(("X-Api-Key", &key)), &body).await {
                        Ok(r) if r.status == StatusCode::CREATED => {
                            ok_lat.push(t.elapsed().as_micros() as u64);
                            last_ok = Instant::now();
                        }
                        Ok(r) if r.status == StatusCode::CONFLICT => refused += 1,
                        Ok(r) => errors.push(format!("{} {}", r.status, r.body)),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (ok_lat, refused, errors, last_ok)
            })
        })
        .collect();
    let (mut lat, mut refused, mut errors, mut last_ok) = (Vec::new(), 0, Vec::new(), start);
    for t in tasks {
        let (l, r, e, lo) = t.await?;
        lat.extend(l);
        refused += r;
        errors.extend(e);
        last_ok = last_ok.max(lo);
    }
    let all = start.elapsed().as_secs_f64();
    let ok_secs = (last_ok - start).as_secs_f64();
    lat.sort_unstable();
    let ok = lat.len() as i64;
    println!(
        "redeem: clients {clients} balance {balance} asked {asks} ok {ok} refused {refused} errors {} in {all:.2} s; successful redemptions {:.0}/s (until the balance ran out, {ok_secs:.2} s), all answers {:.0}/s; p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms",
        errors.len(),
        ok as f64 / ok_secs.max(1e-9),
        asks as f64 / all,
        pct(&lat, 0.50),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
    );
    if let Some(e) = errors.first() {
        println!("redeem: first error: {e}");
    }

    // The proof: exactly `balance` points taken, by exactly `ok` redemptions, the balance
    // never below zero, and the member's figures agree with the ledger.
    let r = call(
        &c,
        Method::GET,
        &api(&format!("/members/{m}/points")),
        auth,
        &Value::Null,
    )
    .await?;
    let s = expect(r, &[StatusCode::OK], "balance")?;
    let db = db_pool().await?;
    let schema = format!("t_{}", st.tenant_id);
    let (entries, taken, min_balance): (i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*) FILTER (WHERE kind = 'redeem'), \
                coalesce(-sum(points) FILTER (WHERE kind = 'redeem'), 0)::bigint, \
                coalesce(min(balance), 0) \
         FROM \"{schema}\".point_entries WHERE member_id = $1::uuid"
    ))
    .bind(&m)
    .fetch_one(&db)
    .await?;
    let mut bad = Vec::new();
    if ok != balance {
        bad.push(format!("{ok} redemptions succeeded, expected {balance}"));
    }
    if s["balance"] != json!(0) || s["redeemed_total"] != json!(balance) {
        bad.push(format!(
            "balance {} redeemed_total {}, expected 0 and {balance}",
            s["balance"], s["redeemed_total"]
        ));
    }
    if entries != ok || taken != ok {
        bad.push(format!(
            "{entries} redeem entries taking {taken} points for {ok} successful redemptions"
        ));
    }
    if min_balance < 0 {
        bad.push(format!("the balance went down to {min_balance}"));
    }
    if !errors.is_empty() {
        bad.push(format!("{} requests failed", errors.len()));
    }
    println!(
        "redeem: check: {ok} successful x 1 point = {taken} points taken by {entries} ledger entries; lowest balance {min_balance}; final balance {}; {}",
        s["balance"],
        if bad.is_empty() { "no overdraft".to_owned() } else { format!("DIFFERENCES: {}", bad.join("; ")) }
    );
    if bad.is_empty() {
        Ok(())
    } else {
        Err("redemption check failed".into())
    }
}

async fn db_pool() -> Res<sqlx::PgPool> {
    let url = std::env::var("PATRON_DATABASE_URL").map_err(|_| "PATRON_DATABASE_URL is not set")?;
    Ok(sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// stored value: purchases paid from the balance, and spends against one member

/// Tops up each member with `amount` fen from 8 clients at once.
async fn top_up_all(c: &Client, st: &State, members: &[String], amount: i64) -> Res<()> {
    let next = Arc::new(AtomicU64::new(0));
    let members = Arc::new(members.to_vec());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (c, key, next, members, base) = (
                c.clone(),
                st.key.clone(),
                next.clone(),
                members.clone(),
                st.base.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(m) = members.get(i) else {
                        return Ok::<(), String>(());
                    };
                    let r = call(
                        &c,
                        Method::POST,
                        &format!("{base}/api/v1/members/{m}/stored-value/top-ups"),
                        Some(("X-Api-Key", &key)),
                        &json!({ "idempotency_key": format!("bench-{amount}"), "amount": amount,
                                 "method": "cash" }),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    expect(r, &[StatusCode::CREATED, StatusCode::OK], "top-up")
                        .map_err(|e| e.to_string())?;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// What a phase's purchases carry besides the amount and the line.
#[derive(Clone)]
enum With {
    Nothing,
    /// Paid in full from stored value.
    StoredValue,
    /// One coupon each, the codes taken in turn (each used once).
    Coupon(Arc<Vec<String>>, Arc<std::sync::atomic::AtomicUsize>),
}

/// One measured phase of purchases: (successful after the warm-up, sorted latencies in
/// µs, errors).
async fn purchase_phase(
    c: &Client,
    st: &State,
    members: &Arc<Vec<String>>,
    clients: u64,
    seconds: u64,
    with: With,
    tag: &str,
) -> (Vec<u64>, Vec<String>) {
    let url = format!("{}/api/v1/purchases", st.base);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(2);
    let end = measure_from + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (c, url, key, members, tag, with) = (
                c.clone(),
                url.clone(),
                st.key.clone(),
                members.clone(),
                tag.to_owned(),
                with.clone(),
            );
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(w + 1_000);
                let (mut lat, mut errors, mut n) = (Vec::new(), Vec::<String>::new(), 0u64);
                while Instant::now() < end {
                    n += 1;
                    let m = &members[rng.gen_range(0..members.len())];
                    let amount = rng.gen_range(100..50_000i64);
                    let mut body = purchase_body(&format!("{tag}-{w}-{n}"), m, amount);
                    match &with {
                        With::Nothing => {}
                        With::StoredValue => {
                            body["payments"] =
                                json!([{ "method": "stored_value", "amount": amount }]);
                        }
                        With::Coupon(codes, next) => {
                            let Some(code) = codes.get(next.fetch_add(1, Ordering::Relaxed)) else {
                                errors.push("the benchmark ran out of coupon codes".into());
                                break;
                            };
                            body["coupon_codes"] = json!([code]);
                        }
                    }
                    let t = Instant::now();
                    let r = call(&c, Method::POST, &url, Some(("X-Api-Key", &key)), &body).await;
                    match r {
                        Ok(r) if r.status == StatusCode::CREATED => {
                            if t >= measure_from {
                                lat.push(t.elapsed().as_micros() as u64);
                            }
                        }
                        Ok(r) => errors.push(format!("{} {}", r.status, r.body)),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let (mut lat, mut errors) = (Vec::new(), Vec::new());
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            errors.extend(e);
        }
    }
    lat.sort_unstable();
    (lat, errors)
}

async fn paid(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 16);
    let seconds = a.num("seconds", 20);
    let n = (a.num("members", 1_000) as usize).min(st.members.len());
    let c = client(Duration::from_secs(30));
    let members = Arc::new(st.members[..n].to_vec());
    let started = Instant::now();
    // 50,000 yuan each: more than any phase can spend (about 250 yuan a purchase).
    top_up_all(&c, &st, &members, 5_000_000).await?;
    println!(
        "paid: {n} members topped up with 5,000,000 fen each in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let mut rates = Vec::new();
    let mut failed = 0;
    for (i, pay) in [false, true, false].into_iter().enumerate() {
        let tag = format!("sv{run}-{i}");
        let with = if pay {
            With::StoredValue
        } else {
            With::Nothing
        };
        let (lat, errors) = purchase_phase(&c, &st, &members, clients, seconds, with, &tag).await;
        let tput = lat.len() as f64 / seconds as f64;
        rates.push(tput);
        failed += errors.len();
        println!(
            "paid: {} clients {clients} seconds {seconds} ok {} errors {} throughput {tput:.0}/s p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms",
            if pay { "from stored value" } else { "plain" },
            lat.len(),
            errors.len(),
            pct(&lat, 0.50),
            pct(&lat, 0.95),
            pct(&lat, 0.99),
        );
        if let Some(e) = errors.first() {
            println!("paid: first error: {e}");
        }
    }
    let plain = (rates[0] + rates[2]) / 2.0;
    let ratio = rates[1] / plain.max(1e-9);
    println!(
        "paid: stored value {:.0}/s against plain {plain:.0}/s (mean of the runs before and after): ratio {ratio:.2}; target (>= 0.8) {}",
        rates[1],
        if ratio >= 0.8 { "met" } else { "NOT met" }
    );
    if failed > 0 {
        return Err(format!("{failed} purchases failed").into());
    }
    Ok(())
}

async fn spend(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 16);
    let balance = a.num("balance", 5_000) as i64;
    // More asks than fen: the tail end must be refused, never overdrawn.
    let asks = balance + balance / 5;
    let c = client(Duration::from_secs(30));
    let api = |p: &str| format!("{}/api/v1{p}", st.base);
    let auth = Some(("X-Api-Key", st.key.as_str()));
    let r = call(
        &c,
        Method::POST,
        &api("/members"),
        auth,
        &json!({ "name": "Spender" }),
    )
    .await?;
    let m = expect(r, &[StatusCode::CREATED], "member")?["id"]
        .as_str()
        .ok_or("id")?
        .to_owned();
    top_up_all(&c, &st, std::slice::from_ref(&m), balance).await?;
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let next = Arc::new(AtomicU64::new(0));
    let url = api("/purchases");
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (c, url, key, next, m, run) = (
                c.clone(),
                url.clone(),
                st.key.clone(),
                next.clone(),
                m.clone(),
                run.clone(),
            );
            tokio::spawn(async move {
                let (mut ok_lat, mut refused, mut errors) =
                    (Vec::new(), 0u64, Vec::<String>::new());
                let mut last_ok = start;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= asks as u64 {
                        break;
                    }
                    let body = json!({ "external_id": format!("sp{run}-{i}"), "member_id": m,
                        "amount": 1, "payments": [{ "method": "stored_value", "amount": 1 }] });
                    let t = Instant::now();
                    match call(&c, Method::POST, &url, Some(("X-Api-Key", &key)), &body).await {
                        Ok(r) if r.status == StatusCode::CREATED => {
                            ok_lat.push(t.elapsed().as_micros() as u64);
                            last_ok = Instant::now();
                        }
                        Ok(r)
                            if r.status == StatusCode::CONFLICT
                                && r.body["code"] == "insufficient_stored_value" =>
                        {
                            refused += 1
                        }
                        Ok(r) => errors.push(format!("{} {}", r.status, r.body)),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (ok_lat, refused, errors, last_ok)
            })
        })
        .collect();
    let (mut lat, mut refused, mut errors, mut last_ok) = (Vec::new(), 0, Vec::new(), start);
    for t in tasks {
        let (l, r, e, lo) = t.await?;
        lat.extend(l);
        refused += r;
        errors.extend(e);
        last_ok = last_ok.max(lo);
    }
    let all = start.elapsed().as_secs_f64();
    let ok_secs = (last_ok - start).as_secs_f64();
    lat.sort_unstable();
    let ok = lat.len() as i64;
    let rate = ok as f64 / ok_secs.max(1e-9);
    println!(
        "spend: clients {clients} balance {balance} fen asked {asks} ok {ok} refused {refused} errors {} in {all:.2} s; successful spends {rate:.0}/s (until the balance ran out, {ok_secs:.2} s); p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms; target (500/s) {}",
        errors.len(),
        pct(&lat, 0.50),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
        if rate >= 500.0 { "met" } else { "NOT met" },
    );
    if let Some(e) = errors.first() {
        println!("spend: first error: {e}");
    }

    // The proof: exactly `balance` fen taken by exactly `ok` spends, no entry below zero, the
    // balance row at zero and equal to the sum of its entries.
    let db = db_pool().await?;
    let schema = format!("t_{}", st.tenant_id);
    let (spends, taken, min_balance, sum): (i64, i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT count(DISTINCT purchase_id) FILTER (WHERE kind = 'spend'), \
                coalesce(-sum(amount) FILTER (WHERE kind = 'spend'), 0)::bigint, \
                coalesce(min(balance), 0), coalesce(sum(amount), 0)::bigint \
         FROM \"{schema}\".stored_value_entries WHERE member_id = $1::uuid"
    ))
    .bind(&m)
    .fetch_one(&db)
    .await?;
    let (principal, bonus): (i64, i64) = sqlx::query_as(&format!(
        "SELECT principal, bonus FROM \"{schema}\".stored_value_balances WHERE member_id = $1::uuid"
    ))
    .bind(&m)
    .fetch_one(&db)
    .await?;
    let mut bad = Vec::new();
    if ok != balance {
        bad.push(format!("{ok} spends succeeded, expected {balance}"));
    }
    if spends != ok || taken != ok {
        bad.push(format!(
            "{spends} spends in the ledger taking {taken} fen for {ok} successful"
        ));
    }
    if min_balance < 0 {
        bad.push(format!("an entry left the balance at {min_balance}"));
    }
    if principal + bonus != 0 || principal + bonus != sum {
        bad.push(format!(
            "balance row {principal} + {bonus}, entries add up to {sum}"
        ));
    }
    if !errors.is_empty() {
        bad.push(format!("{} requests failed", errors.len()));
    }
    println!(
        "spend: check: {ok} successful x 1 fen = {taken} fen taken by {spends} purchases' entries; lowest balance after an entry {min_balance}; balance row {}; {}",
        principal + bonus,
        if bad.is_empty() { "zero overdrafts".to_owned() } else { format!("DIFFERENCES: {}", bad.join("; ")) }
    );
    if bad.is_empty() {
        Ok(())
    } else {
        Err("spend check failed".into())
    }
}

// ---------------------------------------------------------------------------------------------
// coupons: purchases with a coupon against plain ones, and claims against one template

/// PostgreSQL's own foreign-key check (`SELECT 1 FROM ONLY .. FOR KEY SHARE OF x`): a
/// deferred constraint's check runs inside COMMIT, so `pg_stat_statements` lists it as a
/// statement of its own although no client sent it.
const KEY_CHECK: &str = "% FOR KEY SHARE OF x";

/// Statements the clients sent (round trips, BEGIN and COMMIT included) in this database
/// since the last reset; foreign-key checks run inside a COMMIT are not counted.
async fn statements(db: &sqlx::PgPool) -> Res<i64> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND query NOT LIKE $1",
    )
    .bind(KEY_CHECK)
    .fetch_one(db)
    .await?)
}

/// The `limit` statements called most in this database since the last reset: calls and
/// the statement's first 100 characters on one line (foreign-key checks run inside a
/// COMMIT included: they are work, not round trips).
async fn statement_kinds(db: &sqlx::PgPool, limit: i64) -> Res<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         ORDER BY calls DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

async fn coupons(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 16);
    let seconds = a.num("seconds", 20);
    let n = (a.num("members", 1_000) as usize).min(st.members.len());
    let c = client(Duration::from_secs(120));
    let api = |p: &str| format!("{}/api/v1{p}", st.base);
    let auth = Some(("X-Api-Key", st.key.as_str()));
    let run = uuid::Uuid::new_v4().simple().to_string()[..6].to_uppercase();
    let r = call(
        &c,
        Method::POST,
        &api("/coupon-templates"),
        auth,
        &json!({ "name": format!("Bench {run}"),
                 "terms": { "kind": "amount_off", "amount": 50, "valid_days": 30 } }),
    )
    .await?;
    let template = expect(r, &[StatusCode::OK], "coupon template")?["id"]
        .as_str()
        .ok_or("template id")?
        .to_owned();
    // Codes for more purchases than the phase can make (10,000 a batch).
    let batches = a.num("batches", 4);
    let started = Instant::now();
    let mut codes = Vec::new();
    for b in 0..batches {
        let r = call(
            &c,
            Method::POST,
            &api(&format!("/coupon-templates/{template}/batches")),
            auth,
            &json!({ "count": 10_000, "pattern": format!("B{run}{b}-????????") }),
        )
        .await?;
        let batch = expect(r, &[StatusCode::OK], "coupon batch")?["id"]
            .as_str()
            .ok_or("batch id")?
            .to_owned();
        let r = call(
            &c,
            Method::GET,
            &api(&format!(
                "/coupon-templates/{template}/batches/{batch}/codes"
            )),
            auth,
            &Value::Null,
        )
        .await?;
        let list = expect(r, &[StatusCode::OK], "batch codes")?;
        codes.extend(
            list.as_array()
                .ok_or("codes")?
                .iter()
                .filter_map(|c| c["code"].as_str().map(str::to_owned)),
        );
    }
    println!(
        "coupons: {} codes in {batches} batches in {:.1} s",
        codes.len(),
        started.elapsed().as_secs_f64()
    );
    let db = db_pool().await?;
    let members = Arc::new(st.members[..n].to_vec());
    let codes = Arc::new(codes);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut rates = Vec::new();
    let mut per = Vec::new();
    let mut failed = 0;
    for (i, coupon) in [false, true, false].into_iter().enumerate() {
        let tag = format!("cp{run}-{i}");
        let with = if coupon {
            With::Coupon(codes.clone(), next.clone())
        } else {
            With::Nothing
        };
        sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(&db)
            .await?;
        let before = statements(&db).await?;
        let (lat, errors) = purchase_phase(&c, &st, &members, clients, seconds, with, &tag).await;
        let made = statements(&db).await? - before;
        // Every purchase the phase made, the warm-up's included, for the statements' share.
        let all: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM t_{}.purchases WHERE external_id LIKE $1",
            st.tenant_id
        ))
        .bind(format!("{tag}-%"))
        .fetch_one(&db)
        .await?;
        let tput = lat.len() as f64 / seconds as f64;
        rates.push(tput);
        let share = made as f64 / all.max(1) as f64;
        per.push(share);
        failed += errors.len();
        println!(
            "coupons: {} clients {clients} seconds {seconds} ok {} errors {} throughput {tput:.0}/s p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms; {share:.1} statements (round trips) per purchase",
            if coupon { "with one coupon" } else { "plain" },
            lat.len(),
            errors.len(),
            pct(&lat, 0.50),
            pct(&lat, 0.95),
            pct(&lat, 0.99),
        );
        if let Some(e) = errors.first() {
            println!("coupons: first error: {e}");
        }
        // Which statements, per purchase: the difference between the phases is the
        // coupon's own work (the background's statements are in every phase).
        for (calls, query) in statement_kinds(&db, 14).await? {
            println!(
                "coupons:   {:>6.2} per purchase  {query}",
                calls as f64 / all.max(1) as f64
            );
        }
    }
    let plain = (rates[0] + rates[2]) / 2.0;
    let ratio = rates[1] / plain.max(1e-9);
    let extra = per[1] - (per[0] + per[2]) / 2.0;
    println!(
        "coupons: with one coupon {:.0}/s against plain {plain:.0}/s (mean of the runs before and after): ratio {ratio:.2}, target (>= 0.8) {}; {extra:+.1} round trips per purchase, target (at most one more) {}",
        rates[1],
        if ratio >= 0.8 { "met" } else { "NOT met" },
        if extra <= 1.05 { "met" } else { "NOT met" }
    );
    // Each code used at most once: as many used coupons as purchases that carried one.
    let used: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM t_{}.coupons WHERE template_id = $1::uuid AND status = 'used'",
        st.tenant_id
    ))
    .bind(&template)
    .fetch_one(&db)
    .await?;
    let carried: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM t_{}.purchases WHERE external_id LIKE $1",
        st.tenant_id
    ))
    .bind(format!("cp{run}-1-%"))
    .fetch_one(&db)
    .await?;
    println!("coupons: check: {used} coupons used by {carried} purchases that carried one");
    if failed > 0 || used != carried {
        return Err(format!("{failed} purchases failed; {used} used for {carried}").into());
    }
    Ok(())
}

/// A member registered in the portal (the code read from the development SMS outbox): the
/// session's bearer token.
async fn portal_member(c: &Client, st: &State, db: &sqlx::PgPool, phone: &str) -> Res<String> {
    let api = |p: &str| format!("{}/api/v1/portal/{}{p}", st.base, st.slug);
    let r = call(
        c,
        Method::POST,
        &api("/codes"),
        None,
        &json!({ "phone": phone, "purpose": "register" }),
    )
    .await?;
    expect(r, &[StatusCode::ACCEPTED], "portal code")?;
    // The message may be delivered by the job runner a moment later.
    let mut body = None;
    for _ in 0..100 {
        body = sqlx::query_scalar::<_, String>(&format!(
            "SELECT body FROM t_{}.sms_outbox WHERE phone = $1 ORDER BY id DESC LIMIT 1",
            st.tenant_id
        ))
        .bind(phone)
        .fetch_optional(db)
        .await?;
        if body.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = body.ok_or("no code was sent")?;
    let code: String = body
        .split_whitespace()
        .find(|w| w.len() >= 6 && w.chars().take(6).all(|c| c.is_ascii_digit()))
        .map(|w| w.chars().take(6).collect())
        .ok_or("a code in the message")?;
    let r = call(
        c,
        Method::POST,
        &api("/register"),
        None,
        &json!({ "profile": { "name": format!("Claimer {phone}"), "phone": phone },
                 "code": code, "password": PASSWORD }),
    )
    .await?;
    let s = expect(r, &[StatusCode::CREATED], "portal registration")?;
    Ok(format!(
        "Bearer {}",
        s["token"].as_str().ok_or("portal token")?
    ))
}

async fn claims(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 16);
    let total = a.num("total", 5_000) as i64;
    let n = a.num("members", 16);
    let asks = total + total / 5;
    let c = client(Duration::from_secs(30));
    let api = |p: &str| format!("{}/api/v1{p}", st.base);
    let db = db_pool().await?;
    let run = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    let r = call(
        &c,
        Method::POST,
        &api("/coupon-templates"),
        Some(("X-Api-Key", st.key.as_str())),
        &json!({ "name": format!("Claims {run}"), "total": total, "claimable": true,
                 "terms": { "kind": "amount_off", "amount": 50, "valid_days": 30 } }),
    )
    .await?;
    let template = expect(r, &[StatusCode::OK], "coupon template")?["id"]
        .as_str()
        .ok_or("template id")?
        .to_owned();
    // Phone numbers of this run: 139 and 8 digits from the run's hash and the member's place.
    let seed = u64::from_str_radix(&run, 16).unwrap_or(0) % 9_000;
    let mut tokens = Vec::new();
    for i in 0..n {
        let phone = format!("+86139{:04}{:04}", 1_000 + seed, i);
        tokens.push(portal_member(&c, &st, &db, &phone).await?);
    }
    let tokens = Arc::new(tokens);
    let url = format!("{}/api/v1/portal/{}/me/coupons/claim", st.base, st.slug);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (c, url, next, tokens, template, run) = (
                c.clone(),
                url.clone(),
                next.clone(),
                tokens.clone(),
                template.clone(),
                run.clone(),
            );
            tokio::spawn(async move {
                let (mut ok_lat, mut sold_out, mut errors) =
                    (Vec::new(), 0u64, Vec::<String>::new());
                let mut last_ok = start;
                let token = &tokens[w as usize % tokens.len()];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= asks as u64 {
                        break;
                    }
                    let body = json!({ "template_id": template,
                                       "idempotency_key": format!("cl{run}-{i}") });
                    let t = Instant::now();
                    match call(
                        &c,
                        Method::POST,
                        &url,
                        Some(("Authorization", token)),
                        &body,
                    )
                    .await
                    {
                        Ok(r) if r.status == StatusCode::OK => {
                            ok_lat.push(t.elapsed().as_micros() as u64);
                            last_ok = Instant::now();
                        }
                        Ok(r)
                            if r.status == StatusCode::CONFLICT
                                && r.body["code"] == "coupon_sold_out" =>
                        {
                            sold_out += 1
                        }
                        Ok(r) => errors.push(format!("{} {}", r.status, r.body)),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                (ok_lat, sold_out, errors, last_ok)
            })
        })
        .collect();
    let (mut lat, mut sold_out, mut errors, mut last_ok) = (Vec::new(), 0, Vec::new(), start);
    for t in tasks {
        let (l, s, e, lo) = t.await?;
        lat.extend(l);
        sold_out += s;
        errors.extend(e);
        last_ok = last_ok.max(lo);
    }
    lat.sort_unstable();
    let ok = lat.len() as i64;
    let ok_secs = (last_ok - start).as_secs_f64();
    let rate = ok as f64 / ok_secs.max(1e-9);
    println!(
        "claims: clients {clients} members {n} total {total} asked {asks} ok {ok} sold out {sold_out} errors {} in {:.2} s; successful claims {rate:.0}/s (until sold out, {ok_secs:.2} s); p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms; target (500/s) {}",
        errors.len(),
        start.elapsed().as_secs_f64(),
        pct(&lat, 0.50),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
        if rate >= 500.0 { "met" } else { "NOT met" },
    );
    if let Some(e) = errors.first() {
        println!("claims: first error: {e}");
    }
    let (coupons, issued): (i64, i32) = sqlx::query_as(&format!(
        "SELECT (SELECT count(*) FROM t_{0}.coupons WHERE template_id = $1::uuid), \
                (SELECT issued FROM t_{0}.coupon_templates WHERE id = $1::uuid)",
        st.tenant_id
    ))
    .bind(&template)
    .fetch_one(&db)
    .await?;
    let good = ok == total && coupons == total && i64::from(issued) == total && errors.is_empty();
    println!(
        "claims: check: {ok} successful claims, {coupons} coupons of the template, its count {issued}, total {total}: {}",
        if good { "zero over-issue".to_owned() } else { "DIFFERENCES".to_owned() }
    );
    if good {
        Ok(())
    } else {
        Err("claims check failed".into())
    }
}

// ---------------------------------------------------------------------------------------------
// simulation

async fn simulate(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let purchases = a.num("purchases", 10_000);
    let runs = a.num("runs", 3);
    let c = client(Duration::from_secs(120));
    let url = format!("{}/api/v1/rules/simulate", st.base);
    let mut draft = purchase_template();
    draft["base"]["points"] = json!(2);
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let r = call(
            &c,
            Method::POST,
            &url,
            Some(("X-Api-Key", &st.key)),
            &json!({ "trigger": "purchase", "template": draft, "last_purchases": purchases }),
        )
        .await?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let body = expect(r, &[StatusCode::OK], "simulate")?;
        let t = &body["totals"];
        println!(
            "simulate: {} purchases (draft and version in force, {} and {} rule errors) in {ms:.0} ms",
            t["cases"], t["draft_errors"], t["active_errors"]
        );
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "simulate: last {purchases} purchases, median of {runs}: {:.0} ms (min {:.0}, max {:.0})",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// faults

/// What the client saw acknowledged, by kind: external id or key -> the id in the answer.
#[derive(Default)]
struct Acked {
    purchases: HashMap<String, (String, i64)>,
    refunds: HashMap<String, String>,
    events: HashMap<String, String>,
    redemptions: HashMap<String, i64>,
    adjustments: HashMap<String, i64>,
    check_ins: u64,
    refused: HashMap<String, u64>,
    gave_up: HashMap<String, u64>,
    replays: u64,
    replay_mismatch: Vec<String>,
}

/// The servers of a faults run (`--base`, comma-separated: replicas on one database) and what
/// happened to the attempts sent to each.
struct Servers {
    /// Each server's API root (`.../api/v1`).
    bases: Vec<String>,
    /// Attempts sent to each server.
    sent: Vec<AtomicU64>,
    /// Answers (success or a business refusal) from each server.
    answered: Vec<AtomicU64>,
    /// Attempts sent again after a failure.
    retries: AtomicU64,
    /// Attempts that could not connect (the server was down).
    refused: AtomicU64,
    /// Attempts whose connection closed or reset after the request went out (the server died
    /// while working on it).
    cut_off: AtomicU64,
    /// Attempts without an answer within the client's timeout.
    timed_out: AtomicU64,
    /// Attempts answered 5xx or 429.
    server_errors: AtomicU64,
    /// Requests answered by another server than the one their last failed attempt went to.
    failed_over: AtomicU64,
    /// Of those (first sends only, not the deliberate second sends), the ones the other server
    /// answered as a replay: the write was already stored by the server whose answer never
    /// arrived.
    failed_over_replayed: AtomicU64,
}

impl Servers {
    fn new(bases: &str) -> Self {
        let bases: Vec<String> = bases
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .map(|b| format!("{}/api/v1", b.trim_end_matches('/')))
            .collect();
        let zeros = || (0..bases.len()).map(|_| AtomicU64::new(0)).collect();
        Self {
            sent: zeros(),
            answered: zeros(),
            bases,
            retries: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            cut_off: AtomicU64::new(0),
            timed_out: AtomicU64::new(0),
            server_errors: AtomicU64::new(0),
            failed_over: AtomicU64::new(0),
            failed_over_replayed: AtomicU64::new(0),
        }
    }

    fn counts(v: &[AtomicU64]) -> Vec<u64> {
        v.iter().map(|n| n.load(Ordering::Relaxed)).collect()
    }
}

/// Sends `body` to `path` until it gets an answer that is not a server or transport failure
/// (the same external id or idempotency key every time), up to `tries` attempts: the first to
/// server `first`, each retry to the next server, so a request whose server died is finished
/// by another. Returns the answer, the server that gave it and whether an earlier attempt
/// failed on another server; `None` when it gave up.
#[allow(clippy::too_many_arguments)]
async fn send_retrying(
    c: &Client,
    servers: &Servers,
    first: usize,
    method: Method,
    path: &str,
    key: &str,
    body: &Value,
    tries: u32,
) -> Option<(Reply, usize, bool)> {
    let mut s = first % servers.bases.len();
    let mut failed_on = None;
    for attempt in 0..tries {
        if attempt > 0 {
            servers.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt.min(10)))).await;
        }
        servers.sent[s].fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{path}", servers.bases[s]);
        let failure = match call(c, method.clone(), &url, Some(("X-Api-Key", key)), body).await {
            Ok(r) if r.status.is_server_error() || r.status == StatusCode::TOO_MANY_REQUESTS => {
                &servers.server_errors
            }
            Ok(r) => {
                servers.answered[s].fetch_add(1, Ordering::Relaxed);
                let failed_over = failed_on.is_some_and(|f| f != s);
                if failed_over {
                    servers.failed_over.fetch_add(1, Ordering::Relaxed);
                }
                return Some((r, s, failed_over));
            }
            Err(e) if e.is_connect() => &servers.refused,
            Err(e) if e.is_timeout() => &servers.timed_out,
            Err(_) => &servers.cut_off,
        };
        failure.fetch_add(1, Ordering::Relaxed);
        failed_on = Some(s);
        s = (s + 1) % servers.bases.len();
    }
    None
}

async fn faults(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 8);
    let seconds = a.num("seconds", 300);
    let members_used = a.num("members", 50) as usize;
    let seed = a.num("seed", 1);
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    // Short timeouts: a request cut off while the server still works on it is the hardest
    // case for idempotency.
    let c = client(Duration::from_millis(a.num("timeout-ms", 1_500)));
    let members: Arc<Vec<String>> = Arc::new(
        st.members
            .iter()
            .take(members_used.max(1))
            .cloned()
            .collect(),
    );
    let acked = Arc::new(Mutex::new(Acked::default()));
    let servers = Arc::new(Servers::new(a.get("base").unwrap_or(&st.base)));
    if servers.bases.is_empty() {
        return Err("--base names no server".into());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let ops = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (c, servers, key, members, acked, stop, run, ops) = (
                c.clone(),
                servers.clone(),
                st.key.clone(),
                members.clone(),
                acked.clone(),
                stop.clone(),
                run.clone(),
                ops.clone(),
            );
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed * 1000 + w);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) && started.elapsed().as_secs() < seconds {
                    n += 1;
                    ops.fetch_add(1, Ordering::Relaxed);
                    let m = members[rng.gen_range(0..members.len())].clone();
                    let id = format!("f{run}-{w}-{n}");
                    let roll = rng.gen_range(0..100);
                    let (kind, method, path, body) = if roll < 45 {
                        let amount = rng.gen_range(100..30_000i64);
                        ("purchase", Method::POST, "/purchases".to_owned(),
                         json!({ "external_id": id, "member_id": m, "amount": amount }))
                    } else if roll < 55 {
                        let target = {
                            let g = acked.lock().unwrap();
                            if g.purchases.is_empty() {
                                None
                            } else {
                                let k = rng.gen_range(0..g.purchases.len());
                                g.purchases.keys().nth(k).cloned().map(|e| (e.clone(), g.purchases[&e].1))
                            }
                        };
                        let Some((ext, amount)) = target else { continue };
                        let part = if rng.gen_bool(0.5) { None } else { Some((amount / 3).max(1)) };
                        let mut body = json!({ "external_id": id, "purchase_external_id": ext });
                        if let Some(p) = part {
                            body["amount"] = json!(p);
                        }
                        ("refund", Method::POST, "/refunds".to_owned(), body)
                    } else if roll < 72 {
                        ("redemption", Method::POST, format!("/members/{m}/redemptions"),
                         json!({ "idempotency_key": id, "points": rng.gen_range(1..60i64), "reward": "coffee" }))
                    } else if roll < 80 {
                        let p = if rng.gen_bool(0.7) { rng.gen_range(1..100i64) } else { -rng.gen_range(1..40i64) };
                        ("adjustment", Method::POST, format!("/members/{m}/points/adjustments"),
                         json!({ "idempotency_key": id, "points": p, "reason": "goodwill" }))
                    } else if roll < 88 {
                        ("check_in", Method::POST, format!("/members/{m}/check-ins"), json!({}))
                    } else {
                        ("event", Method::POST, "/events".to_owned(),
                         json!({ "external_id": id, "name": "visit", "member_id": m,
                                 "properties": { "minutes": rng.gen_range(10..120i64) } }))
                    };
                    // Requests take turns over the servers; a retry goes to the next one.
                    let first_server = (w + n) as usize;
                    let Some((r, answered_by, failed_over)) =
                        send_retrying(&c, &servers, first_server, method.clone(), &path, &key, &body, 40).await
                    else {
                        *acked.lock().unwrap().gave_up.entry(kind.to_owned()).or_default() += 1;
                        continue;
                    };
                    if !r.status.is_success() {
                        // Refused for a business reason (not enough points, refunded in
                        // full...): nothing was written, and that is checked by verify.
                        *acked
                            .lock()
                            .unwrap()
                            .refused
                            .entry(format!("{kind} {}", r.status.as_u16()))
                            .or_default() += 1;
                        continue;
                    }
                    let answer_id = |b: &Value| -> String {
                        for f in ["refund_id", "event_id", "purchase_id", "entry_id"] {
                            if !b[f].is_null() {
                                return b[f].to_string();
                            }
                        }
                        String::new()
                    };
                    if failed_over && r.body["replayed"] == json!(true) {
                        servers.failed_over_replayed.fetch_add(1, Ordering::Relaxed);
                    }
                    let first = answer_id(&r.body);
                    {
                        let mut g = acked.lock().unwrap();
                        match kind {
                            "purchase" => {
                                g.purchases.insert(id.clone(), (first.clone(), body["amount"].as_i64().unwrap_or(0)));
                            }
                            "refund" => {
                                g.refunds.insert(id.clone(), first.clone());
                            }
                            "event" => {
                                g.events.insert(id.clone(), first.clone());
                            }
                            "redemption" => {
                                g.redemptions.insert(id.clone(), r.body["points"].as_i64().unwrap_or(0));
                            }
                            "adjustment" => {
                                g.adjustments.insert(id.clone(), r.body["points"].as_i64().unwrap_or(0));
                            }
                            _ => g.check_ins += 1,
                        }
                    }
                    // Now and then the client did not hear the answer and sends it again, to
                    // another server when there are several.
                    if kind != "check_in" && rng.gen_bool(0.1) {
                        if let Some((again, _, _)) =
                            send_retrying(&c, &servers, answered_by + 1, method, &path, &key, &body, 40).await
                        {
                            let mut g = acked.lock().unwrap();
                            g.replays += 1;
                            let same = again.status.is_success() && answer_id(&again.body) == first;
                            if !same {
                                g.replay_mismatch.push(format!("{kind} {id}: first {first}, again {} {}", again.status, again.body));
                            }
                        }
                    }
                }
            })
        })
        .collect();
    // Progress once a minute.
    let progress = {
        let (ops, servers, stop) = (ops.clone(), servers.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_secs(30)).await;
                println!(
                    "faults: {:.0} s, {} operations, {} retries, {} answered by another server after a failure",
                    started.elapsed().as_secs_f64(),
                    ops.load(Ordering::Relaxed),
                    servers.retries.load(Ordering::Relaxed),
                    servers.failed_over.load(Ordering::Relaxed)
                );
            }
        })
    };
    for t in tasks {
        t.await?;
    }
    stop.store(true, Ordering::Relaxed);
    progress.abort();
    let g = std::mem::take(&mut *acked.lock().unwrap());
    let mut refused: Vec<_> = g.refused.iter().collect();
    refused.sort();
    println!(
        "faults: business {}: {:.0} s, {} operations from {clients} clients on {} members: acknowledged {} purchases, {} refunds, {} redemptions, {} adjustments, {} check-ins, {} events; {} retries of failed or timed-out requests; {} acknowledged requests sent again; refused (business rules): {:?}; gave up after 40 tries: {:?}",
        st.slug,
        started.elapsed().as_secs_f64(),
        ops.load(Ordering::Relaxed),
        members.len(),
        g.purchases.len(),
        g.refunds.len(),
        g.redemptions.len(),
        g.adjustments.len(),
        g.check_ins,
        g.events.len(),
        servers.retries.load(Ordering::Relaxed),
        g.replays,
        refused,
        g.gave_up,
    );
    println!(
        "faults: servers {:?}: attempts sent {:?}, answered {:?}; failed attempts: {} refused (server down), {} cut off after the request went out (connection closed or reset), {} timed out, {} answered 5xx or 429; {} requests answered by another server after a failure, {} of them as a replay (stored by the server whose answer was lost)",
        servers.bases,
        Servers::counts(&servers.sent),
        Servers::counts(&servers.answered),
        servers.refused.load(Ordering::Relaxed),
        servers.cut_off.load(Ordering::Relaxed),
        servers.timed_out.load(Ordering::Relaxed),
        servers.server_errors.load(Ordering::Relaxed),
        servers.failed_over.load(Ordering::Relaxed),
        servers.failed_over_replayed.load(Ordering::Relaxed),
    );

    // Every acknowledged write exists exactly once, with the id its answer gave.
    let db = db_pool().await?;
    let schema = format!("\"t_{}\"", st.tenant_id);
    let mut bad: Vec<String> = g.replay_mismatch.clone();
    let prefix = format!("f{run}-%");
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT p.external_id, p.id::text, p.points, coalesce(e.n, 0) \
         FROM {schema}.purchases p LEFT JOIN ( \
             SELECT source_id, count(*) AS n FROM {schema}.point_entries \
             WHERE source = 'purchase' AND kind = 'earn' GROUP BY source_id \
         ) e ON e.source_id = p.id::text \
         WHERE p.external_id LIKE $1"
    ))
    .bind(&prefix)
    .fetch_all(&db)
    .await?;
    let stored: HashMap<&str, (&str, i64, i64)> = rows
        .iter()
        .map(|(e, i, p, n)| (e.as_str(), (i.as_str(), *p, *n)))
        .collect();
    let mut lost = 0;
    for (ext, (id, _)) in &g.purchases {
        match stored.get(ext.as_str()) {
            None => {
                lost += 1;
                bad.push(format!(
                    "purchase {ext} was acknowledged ({id}) but is not stored"
                ));
            }
            Some((sid, _, _)) if format!("\"{sid}\"") != *id => {
                bad.push(format!(
                    "purchase {ext}: acknowledged as {id}, stored as {sid}"
                ));
            }
            _ => {}
        }
    }
    for (ext, (id, points, earns)) in &stored {
        let want = i64::from(*points > 0);
        if *earns != want {
            bad.push(format!(
                "purchase {ext} ({id}) earned {points} points and has {earns} earn entries"
            ));
        }
    }
    let unacked = stored
        .keys()
        .filter(|e| !g.purchases.contains_key(**e))
        .count();
    // A purchase stored without an acknowledgement is one the client gave up on; any more was
    // written twice (a retry the servers did not take for the same purchase).
    let gave_up = g.gave_up.get("purchase").copied().unwrap_or(0) as usize;
    if unacked > gave_up {
        bad.push(format!(
            "{unacked} purchases stored that the client never saw acknowledged, and it gave up on only {gave_up}"
        ));
    }
    let count_ids = |table: &str, col: &str| {
        format!("SELECT {col}, id::text FROM {schema}.{table} WHERE {col} LIKE $1")
    };
    for (table, acked_map) in [("refunds", &g.refunds), ("custom_events", &g.events)] {
        let rows: Vec<(String, String)> = sqlx::query_as(&count_ids(table, "external_id"))
            .bind(&prefix)
            .fetch_all(&db)
            .await?;
        let stored: HashMap<&str, &str> =
            rows.iter().map(|(e, i)| (e.as_str(), i.as_str())).collect();
        for (ext, id) in acked_map {
            match stored.get(ext.as_str()) {
                Some(sid) if format!("\"{sid}\"") == *id => {}
                other => bad.push(format!(
                    "{table} {ext}: acknowledged {id}, stored {other:?}"
                )),
            }
        }
    }
    let keys: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT scope, substr(key, strpos(key, ':') + 1) FROM {schema}.idempotency_keys \
         WHERE scope IN ('redemption', 'adjustment') AND substr(key, strpos(key, ':') + 1) LIKE $1"
    ))
    .bind(&prefix)
    .fetch_all(&db)
    .await?;
    let mut by_key: HashMap<&str, u32> = HashMap::new();
    for (_, k) in &keys {
        *by_key.entry(k.as_str()).or_default() += 1;
    }
    for k in g.redemptions.keys().chain(g.adjustments.keys()) {
        if by_key.get(k.as_str()).copied().unwrap_or(0) != 1 {
            bad.push(format!(
                "request {k} was acknowledged and is stored {} times",
                by_key.get(k.as_str()).copied().unwrap_or(0)
            ));
        }
    }
    let (min_balance,): (Option<i64>,) =
        sqlx::query_as(&format!("SELECT min(balance) FROM {schema}.point_accounts"))
            .fetch_one(&db)
            .await?;
    if min_balance.unwrap_or(0) < 0 {
        bad.push(format!(
            "a balance is negative ({min_balance:?}) under the debt policy"
        ));
    }
    println!(
        "faults: check: {} acknowledged purchases stored exactly once with their entry ({lost} lost); {unacked} purchases stored whose answer the client never saw (gave up); {} refunds, {} events, {} redemptions and adjustments found by their ids; {} differences",
        g.purchases.len() - lost,
        g.refunds.len(),
        g.events.len(),
        g.redemptions.len() + g.adjustments.len(),
        bad.len()
    );
    for b in bad.iter().take(20) {
        println!("faults: DIFFERENCE: {b}");
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("{} differences", bad.len()).into())
    }
}

// ---------------------------------------------------------------------------------------------
// outbox: accrual with a webhook subscribed, and the delivery of queued messages

/// A local webhook endpoint: answers 204 to every call and counts them.
async fn webhook_sink() -> Res<(String, Arc<AtomicU64>)> {
    use poem::listener::{Acceptor, Listener};
    let calls = Arc::new(AtomicU64::new(0));
    let counted = calls.clone();
    let app = poem::Route::new().at(
        "/hook",
        poem::post(poem::endpoint::make(move |_req: poem::Request| {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                poem::http::StatusCode::NO_CONTENT
            }
        })),
    );
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or("the sink's address")?;
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(app));
    Ok((format!("http://{addr}/hook"), calls))
}

/// Waits for the job runner to dispatch and deliver everything waiting.
async fn drain(db: &sqlx::PgPool, schema: &str) -> Res<()> {
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(&format!(
            "SELECT (SELECT count(*) FROM {schema}.outbox WHERE dispatched_at IS NULL)
                  + (SELECT count(*) FROM {schema}.deliveries WHERE status IN ('pending', 'sending'))"
        ))
        .fetch_one(db)
        .await?;
        if waiting == 0 {
            println!(
                "outbox: everything waiting delivered after {:.0} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(1_800) {
            return Err(format!("{waiting} messages still waiting after 30 minutes").into());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Calls of statements whose text starts with `prefix` since the last reset.
async fn statement_calls(db: &sqlx::PgPool, prefix: &str) -> Res<i64> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND ltrim(query) LIKE $1",
    )
    .bind(format!("{prefix}%"))
    .fetch_one(db)
    .await?)
}

/// `points_load outbox --state FILE --clients C --seconds S [--members N] [--queued Q]
/// [--smtp-dir DIR]`: purchases without a webhook endpoint, with one subscribed to what a
/// purchase causes (served by this process), and without again (S seconds each, the job
/// runner delivering in the background); throughput of each, the ratio, the outbox's
/// statements per purchase. Then Q outbox rows are queued at once for 200 members with an
/// e-mail address and an e-mail template (Q webhook calls and Q e-mails), and the job runner
/// delivers them: deliveries per second from the first attempt to the last, per channel,
/// with the calls the endpoint received and the e-mails the SMTP server stored.
async fn outbox(a: &Args) -> Res<()> {
    let st = State::load(a.get("state").ok_or("--state")?)?;
    let clients = a.num("clients", 16);
    let seconds = a.num("seconds", 60);
    let queued = a.num("queued", 50_000) as i64;
    let n = (a.num("members", 1_000) as usize).min(st.members.len());
    let c = client(Duration::from_secs(120));
    let api = |p: &str| format!("{}/api/v1{p}", st.base);
    let auth = Some(("X-Api-Key", st.key.as_str()));
    let schema = format!("t_{}", st.tenant_id);
    let db = db_pool().await?;
    let (hook, calls) = webhook_sink().await?;
    let run = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    let events = json!([
        "points.earned",
        "points.redeemed",
        "tier.changed",
        "member.updated"
    ]);
    let r = call(
        &c,
        Method::POST,
        &api("/webhooks/endpoints"),
        auth,
        &json!({ "url": hook, "description": format!("bench {run}"), "events": events,
                 "enabled": false }),
    )
    .await?;
    let endpoint = expect(r, &[StatusCode::CREATED], "webhook endpoint")?["id"]
        .as_str()
        .ok_or("endpoint id")?
        .to_owned();
    let switch = |on: bool| {
        let (c, url, hook, events) = (
            c.clone(),
            api(&format!("/webhooks/endpoints/{endpoint}")),
            hook.clone(),
            events.clone(),
        );
        let key = st.key.clone();
        async move {
            let r = call(
                &c,
                Method::PUT,
                &url,
                Some(("X-Api-Key", &key)),
                &json!({ "url": hook, "events": events, "enabled": on }),
            )
            .await?;
            expect(r, &[StatusCode::OK], "switch the endpoint").map(|_| ())
        }
    };
    let members = Arc::new(st.members[..n].to_vec());
    let (mut rates, mut per, mut inserts) = (Vec::new(), Vec::new(), Vec::new());
    let mut failed = 0;
    for (i, on) in [false, true, false].into_iter().enumerate() {
        if i == 2 {
            // The webhook phase's calls are delivered (the endpoint still on) before the
            // endpoint is switched off: they are its work, not lost.
            drain(&db, &schema).await?;
        }
        switch(on).await?;
        let tag = format!("ob{run}-{i}");
        let calls_before = calls.load(Ordering::Relaxed);
        sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(&db)
            .await?;
        let (lat, errors) =
            purchase_phase(&c, &st, &members, clients, seconds, With::Nothing, &tag).await;
        let made = statements(&db).await?;
        let outbox_rows = statement_calls(&db, "INSERT INTO outbox").await?;
        let all: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {schema}.purchases WHERE external_id LIKE $1"
        ))
        .bind(format!("{tag}-%"))
        .fetch_one(&db)
        .await?;
        let tput = lat.len() as f64 / seconds as f64;
        rates.push(tput);
        per.push(made as f64 / all.max(1) as f64);
        inserts.push(outbox_rows as f64 / all.max(1) as f64);
        failed += errors.len();
        println!(
            "outbox: {} clients {clients} seconds {seconds} ok {} errors {} throughput {tput:.0}/s p50 {:.2} ms p99 {:.2} ms; {:.2} outbox inserts and {:.1} statements in all (background work included) per purchase; {} webhook calls received",
            if on { "with a webhook endpoint" } else { "plain" },
            lat.len(),
            errors.len(),
            pct(&lat, 0.50),
            pct(&lat, 0.99),
            inserts[i],
            per[i],
            calls.load(Ordering::Relaxed) - calls_before,
        );
        if let Some(e) = errors.first() {
            println!("outbox: first error: {e}");
        }
    }
    let plain = (rates[0] + rates[2]) / 2.0;
    let ratio = rates[1] / plain.max(1e-9);
    println!(
        "outbox: check: with a webhook endpoint {:.0}/s against plain {plain:.0}/s: ratio {ratio:.2} (target >= 0.9: {}); outbox inserts per purchase {:.2} with, {:.2} without (target <= 1: {})",
        rates[1],
        if ratio >= 0.9 { "met" } else { "NOT met" },
        inserts[1],
        (inserts[0] + inserts[2]) / 2.0,
        if inserts.iter().all(|x| *x <= 1.0) { "met" } else { "NOT met" },
    );

    // The queue: Q events for one member with an e-mail address, worded as an e-mail.
    switch(true).await?;
    let r = call(
        &c,
        Method::PUT,
        &api("/messages/templates"),
        auth,
        &json!({ "occasion": "points.earned", "channel": "email", "locale": "zh-CN",
                 "subject": "积分到账", "body_text": "{{member.name}}，您获得了积分。" }),
    )
    .await?;
    expect(r, &[StatusCode::OK, StatusCode::CREATED], "e-mail template")?;
    // 200 members with an address: the events are spread over them, as a business's are.
    let mut mail_members = Vec::new();
    for i in 0..200 {
        let r = call(
            &c,
            Method::POST,
            &api("/members"),
            auth,
            &json!({ "name": format!("Mail {run} {i}"),
                     "email": format!("mail-{run}-{i}@bench.example.com") }),
        )
        .await?;
        let id = expect(r, &[StatusCode::CREATED], "member with an address")?["id"]
            .as_str()
            .ok_or("member id")?
            .to_owned();
        mail_members.push(uuid::Uuid::parse_str(&id)?);
    }
    // The queue's deliveries are the only ones.
    drain(&db, &schema).await?;
    let first_delivery: i64 = sqlx::query_scalar(&format!(
        "SELECT coalesce(max(id), 0) FROM {schema}.deliveries"
    ))
    .fetch_one(&db)
    .await?;
    let calls_before = calls.load(Ordering::Relaxed);
    let started = Instant::now();
    sqlx::query(&format!(
        "INSERT INTO {schema}.outbox (event, member_id, entity, occasion, data, created_at)
         SELECT 'points.earned', m, 'member:' || m, 'bench-{run}-' || g,
                jsonb_build_object('member_id', m, 'points', 10, 'balance', 10 * g), now()
         FROM generate_series(1, $2) g,
              LATERAL (SELECT ($1::uuid[])[1 + g % array_length($1::uuid[], 1)] AS m) x"
    ))
    .bind(&mail_members)
    .bind(queued)
    .execute(&db)
    .await?;
    println!(
        "outbox: {queued} events queued in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let want = 2 * queued;
    // Each channel's finish, seen by polling every half second (attempts are logged with
    // the time their job run started, so their timestamps cannot time a long run).
    let mut finished: BTreeMap<String, f64> = BTreeMap::new();
    let mut first: Option<f64> = None;
    loop {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
            "SELECT channel, count(*) FILTER (WHERE status NOT IN ('pending', 'sending')),
                    count(*) FILTER (WHERE status = 'sent')
             FROM {schema}.deliveries WHERE id > $1 GROUP BY 1"
        ))
        .bind(first_delivery)
        .fetch_all(&db)
        .await?;
        let t = started.elapsed().as_secs_f64();
        let done: i64 = rows.iter().map(|r| r.1).sum();
        if done > 0 && first.is_none() {
            first = Some(t);
        }
        for (channel, n, _) in &rows {
            if *n >= queued {
                finished.entry(channel.clone()).or_insert(t);
            }
        }
        if done >= want {
            for (channel, n, sent) in &rows {
                println!(
                    "outbox: {channel}: {n} delivered ({sent} sent) {:.1} s after queueing: {:.0} per second",
                    finished.get(channel).copied().unwrap_or(t),
                    *n as f64 / finished.get(channel).copied().unwrap_or(t).max(1e-3),
                );
            }
            break;
        }
        if started.elapsed() > Duration::from_secs(3_600) {
            return Err(format!("{done} of {want} delivered after an hour").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let total = started.elapsed().as_secs_f64();
    let from_first = total - first.unwrap_or(0.0);
    let stored = a
        .get("smtp-dir")
        .map(|d| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0))
        .unwrap_or(0);
    println!(
        "outbox: delivery: {want} messages ({queued} webhook calls, {queued} e-mails) in {total:.1} s from queueing to the last ({:.0} per second; {from_first:.1} s and {:.0} per second from the first delivered, the job runner's minute tick excluded); the endpoint received {} calls, the SMTP server stored {stored} messages in all",
        want as f64 / total.max(1e-3),
        want as f64 / from_first.max(1e-3),
        calls.load(Ordering::Relaxed) - calls_before,
    );
    if failed > 0 {
        return Err(format!("{failed} purchases failed").into());
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    let a = Args(args);
    let r = if mode == "stack-server" {
        stack::serve(a.num("exchanges", 4))
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(run(&mode, &a))
    };
    if let Err(e) = r {
        eprintln!("points_load {mode}: {e}");
        std::process::exit(1);
    }
}

async fn run(mode: &str, a: &Args) -> Res<()> {
    match mode {
        "setup" => setup(a).await,
        "accrual" => accrual(a).await,
        "redeem" => redeem(a).await,
        "paid" => paid(a).await,
        "spend" => spend(a).await,
        "coupons" => coupons(a).await,
        "claims" => claims(a).await,
        "outbox" => outbox(a).await,
        "simulate" => simulate(a).await,
        "faults" => faults(a).await,
        "spread-setup" => spread::setup(a).await,
        "spread" => spread::run(a).await,
        _ => Err(
            "usage: points_load setup|accrual|redeem|paid|spend|coupons|claims|outbox|simulate|faults|spread-setup|spread|stack-server --state FILE ..."
                .into(),
        ),
    }
}
