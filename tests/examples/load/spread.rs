//! Purchases and member lookups spread over many businesses against the same load on one
//! (`scripts/bench-spread`).
//!
//! `points_load spread-setup --base URL --state FILE --businesses N --members M --ops-email E
//! --ops-password P`: N businesses on the load plan, each with an integration key, the purchase
//! rule, the tier ladder of `setup` and M members with phones (the first business F members,
//! `--first-members`, default 2,000); written to FILE. Signups go
//! four at a time; a business already in FILE (same slug) is kept, so an interrupted set-up
//! resumes.
//! `points_load spread --state FILE [--base URL] --kind purchase|lookup --businesses K
//! --clients C --seconds S`: C clients for S seconds (after a warm-up), each request for a random member of
//! a random business among the first K: a purchase (`POST /purchases`), or the counter's
//! lookup by phone (`GET /desk/lookup?q=<phone>`, which must find exactly that member).

use super::{call, client, expect, pct, purchase_body, purchase_template, Args, Res, PASSWORD};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One business of the spread: its key and its members (id, phone).
#[derive(Clone)]
struct Business {
    key: String,
    members: Vec<(String, String)>,
}

fn load_state(path: &str) -> Res<(String, Vec<Value>)> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let base = v["base"].as_str().ok_or("base")?.to_owned();
    let list = v["businesses"].as_array().cloned().unwrap_or_default();
    Ok((base, list))
}

fn business(v: &Value) -> Res<Business> {
    Ok(Business {
        key: v["key"].as_str().ok_or("key")?.to_owned(),
        members: v["members"]
            .as_array()
            .ok_or("members")?
            .iter()
            .map(|m| {
                (
                    m["id"].as_str().unwrap_or_default().to_owned(),
                    m["phone"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
    })
}

/// Registers member `j` with `phone` in the business of `key`: its `{id, phone}` for the state.
async fn add_member(
    c: &reqwest::Client,
    base: &str,
    key: &str,
    j: u64,
    phone: String,
) -> Res<Value> {
    let r = call(
        c,
        Method::POST,
        &format!("{base}/api/v1/members"),
        Some(("X-Api-Key", key)),
        &json!({ "name": format!("Member {j}"), "phone": phone }),
    )
    .await?;
    let m = expect(r, &[StatusCode::CREATED], "member")?;
    Ok(json!({ "id": m["id"], "phone": phone }))
}

/// Signs up business `i` and gives it what `setup` gives the benchmark business.
async fn make_business(c: &reqwest::Client, base: &str, i: u64, members: u64) -> Res<Value> {
    let api = |p: &str| format!("{base}/api/v1{p}");
    let slug = format!("spread-{i:05}");
    let r = call(
        c,
        Method::POST,
        &api("/signup"),
        None,
        &json!({ "business_name": format!("Spread {i}"), "slug": slug, "owner_name": "Owner",
                 "email": format!("owner@{slug}.example.com"), "password": PASSWORD,
                 "plan": "loadtest" }),
    )
    .await?;
    let s = expect(r, &[StatusCode::CREATED], "signup")?;
    let owner = format!("Bearer {}", s["session"]["token"].as_str().ok_or("token")?);
    let r = call(
        c,
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
        c,
        Method::POST,
        &api("/rules/purchase/publish"),
        Some(("X-Api-Key", &key)),
        &json!({ "template": purchase_template() }),
    )
    .await?;
    expect(r, &[StatusCode::OK], "publish purchase rule")?;
    let r = call(
        c,
        Method::POST,
        &api("/tiers/publish"),
        Some(("X-Api-Key", &key)),
        &super::ladder(),
    )
    .await?;
    expect(r, &[StatusCode::OK], "publish tier ladder")?;
    let mut list = Vec::new();
    for j in 0..members {
        let phone = format!("138{:04}{:04}", i % 10_000, j % 10_000);
        list.push(add_member(c, base, &key, j, phone).await?);
    }
    Ok(json!({ "slug": slug, "id": s["tenant"]["id"], "key": key, "members": list }))
}

pub(super) async fn setup(a: &Args) -> Res<()> {
    let base = a
        .get("base")
        .ok_or("--base")?
        .trim_end_matches('/')
        .to_owned();
    let state_path = a.get("state").ok_or("--state")?.to_owned();
    let n = a.num("businesses", 1_000);
    let members = a.num("members", 20);
    let c = client(Duration::from_secs(120));
    super::load_plan(
        &c,
        &base,
        a.get("ops-email").ok_or("--ops-email")?,
        a.get("ops-password").ok_or("--ops-password")?,
    )
    .await?;
    let kept = load_state(&state_path).map(|(_, l)| l).unwrap_or_default();
    let done: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(kept));
    let have: std::collections::HashSet<String> = done
        .lock()
        .unwrap()
        .iter()
        .filter_map(|b| b["slug"].as_str().map(str::to_owned))
        .collect();
    let todo: Arc<Vec<u64>> = Arc::new(
        (0..n)
            .filter(|i| !have.contains(&format!("spread-{i:05}")))
            .collect(),
    );
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let save = |list: &[Value]| {
        std::fs::write(
            &state_path,
            serde_json::to_vec(&json!({ "base": base, "businesses": list })).expect("json"),
        )
    };
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (c, base, todo, next, done) = (
                c.clone(),
                base.clone(),
                todo.clone(),
                next.clone(),
                done.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some(&i) = todo.get(k) else {
                        return Ok::<(), String>(());
                    };
                    let b = make_business(&c, &base, i, members)
                        .await
                        .map_err(|e| format!("business {i}: {e}"))?;
                    done.lock().unwrap().push(b);
                }
            })
        })
        .collect();
    let mut failed = None;
    for t in tasks {
        if let Err(e) = t.await? {
            failed.get_or_insert(e);
        }
    }
    let mut list = done.lock().unwrap().clone();
    list.sort_by(|a, b| a["slug"].as_str().cmp(&b["slug"].as_str()));
    save(&list)?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    // The first business, which the "one business" phases use, gets as many members as it
    // takes for its clients not to queue on the same members' rows.
    let first = a.num("first-members", 2_000);
    if let Some(b) = list.first_mut() {
        let key = b["key"].as_str().ok_or("key")?.to_owned();
        let have = b["members"].as_array().map_or(0, Vec::len) as u64;
        for j in have..first {
            let m = add_member(&c, &base, &key, j, format!("139{:08}", j)).await?;
            b["members"].as_array_mut().ok_or("members")?.push(m);
        }
        save(&list)?;
    }
    println!(
        "spread-setup: {} businesses ({} new) with {members} members each in {:.0} s",
        list.len(),
        todo.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(super) async fn run(a: &Args) -> Res<()> {
    let (stored, list) = load_state(a.get("state").ok_or("--state")?)?;
    // The server's address of this run (the port may differ from the set-up's).
    let base = a
        .get("base")
        .map_or(stored, |b| b.trim_end_matches('/').to_owned());
    let kind = a.get("kind").unwrap_or("purchase").to_owned();
    if kind != "purchase" && kind != "lookup" {
        return Err("--kind takes purchase or lookup".into());
    }
    let k = (a.num("businesses", list.len() as u64) as usize).min(list.len());
    if k == 0 {
        return Err("no business in the state file".into());
    }
    let businesses = Arc::new(
        list[..k]
            .iter()
            .map(business)
            .collect::<Res<Vec<Business>>>()?,
    );
    let clients = a.num("clients", 16);
    let seconds = a.num("seconds", 20);
    let warmup = a.num("warmup", 3);
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let c = client(Duration::from_secs(30));
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(warmup);
    let end = measure_from + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|w| {
            let (c, base, businesses, run, kind) = (
                c.clone(),
                base.clone(),
                businesses.clone(),
                run.clone(),
                kind.clone(),
            );
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(w ^ 0x5eed);
                let (mut lat, mut errors, mut warm) = (Vec::new(), Vec::<String>::new(), 0u64);
                let mut n = 0u64;
                while Instant::now() < end {
                    n += 1;
                    let b = &businesses[rng.gen_range(0..businesses.len())];
                    let (id, phone) = &b.members[rng.gen_range(0..b.members.len())];
                    let t = Instant::now();
                    let ok = if kind == "purchase" {
                        let amount = rng.gen_range(100..50_000i64);
                        let body = purchase_body(&format!("s{run}-{w}-{n}"), id, amount);
                        let url = format!("{base}/api/v1/purchases");
                        call(&c, Method::POST, &url, Some(("X-Api-Key", &b.key)), &body)
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|r| {
                                expect(r, &[StatusCode::CREATED], "purchase")
                                    .map(|_| ())
                                    .map_err(|e| e.to_string())
                            })
                    } else {
                        let url = format!("{base}/api/v1/desk/lookup?q={phone}");
                        call(
                            &c,
                            Method::GET,
                            &url,
                            Some(("X-Api-Key", &b.key)),
                            &Value::Null,
                        )
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| {
                            let v = expect(r, &[StatusCode::OK], "lookup")
                                .map_err(|e| e.to_string())?;
                            let found = v["matches"].as_array().cloned().unwrap_or_default();
                            if found.len() == 1 && found[0]["id"].as_str() == Some(id) {
                                Ok(())
                            } else {
                                Err(format!("lookup of {phone} found {v}"))
                            }
                        })
                    };
                    let us = t.elapsed().as_micros() as u64;
                    match ok {
                        Ok(()) if t >= measure_from => lat.push(us),
                        Ok(()) => warm += 1,
                        Err(e) => errors.push(e),
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
    println!(
        "spread: kind {kind} businesses {k} clients {clients} seconds {seconds} ok {} warmup {warm} errors {} throughput {:.0}/s p50 {:.2} ms p95 {:.2} ms p99 {:.2} ms",
        lat.len(),
        errors.len(),
        lat.len() as f64 / seconds as f64,
        pct(&lat, 0.50),
        pct(&lat, 0.95),
        pct(&lat, 0.99),
    );
    if let Some(e) = errors.first() {
        println!("spread: first error: {e}");
    }
    Ok(())
}
