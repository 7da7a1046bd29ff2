//! Benchmarks of the member register, run by `scripts/bench-members` and
//! `scripts/bench-import` against the PostgreSQL in `PATRON_DATABASE_URL`.
//!
//! `bench members [COUNT]`: a tenant with COUNT members (default 1,000,000) seeded with COPY,
//! then each kind of lookup timed through the same search code the API runs.
//! `bench import [ROWS]`: a CSV of ROWS members (default 100,000) imported through the HTTP
//! API (valid rows only), timed from upload to the finished report.
//! `bench coupons-segment [COUNT]`: a tenant with COUNT members (default 100,000) seeded
//! with one statement, then one coupon each issued to the segment "every member" by the
//! background job (a template with a total of COUNT and one per member), timed from the
//! request to the job's end, with the process's resident memory sampled while it runs.

use patron_core::members::CardFormat;
use patron_core::pii::PiiKeys;
use patron_db::members::{self, CustomCondition, Search, SortKey};
use patron_tests::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// Common surnames, the most common first (王 and 李 each carry about 7% of people).
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
];
/// Characters common in given names.
const GIVEN: &str = "伟芳娜英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂文华玲建国志海燕晓东红梅鹏飞宇浩然子轩欣怡梓涵诗雨嘉琪思博俊凯佳悦婷雪琳晨阳睿泽宁安瑞祥康乐天翔云龙成斌波辉荣新春秋月星光庆福贵彬亮峰健坤鑫";
const TAGS: &[&str] = &[
    "vip", "yoga", "spin", "pilates", "new", "lapsed", "family", "student",
];

/// A well-mixed hash of (n, salt): each column of the seed is independent of the others.
fn h(n: u64, salt: u64) -> u64 {
    let mut z = n.wrapping_add(salt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn name(n: u64) -> String {
    // Skewed like real surnames: the first ones are much more common.
    let r = h(n, 1) % 1000;
    let s = SURNAMES[((r * r) / 25_000) as usize % SURNAMES.len()];
    let given: Vec<char> = GIVEN.chars().collect();
    let g1 = given[(h(n, 2) % given.len() as u64) as usize];
    let g2 = given[(h(n, 3) % given.len() as u64) as usize];
    if h(n, 4) % 4 == 0 {
        format!("{s}{g1}")
    } else {
        format!("{s}{g1}{g2}")
    }
}

fn phone(i: u64) -> String {
    format!("+86139{:08}", i)
}

/// A cheap deterministic shuffle so samples spread over the whole table.
fn pick(n: u64, k: u64) -> u64 {
    (k.wrapping_mul(2_654_435_761) ^ 0x9e37_79b9) % n
}

fn report(kind: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    let line = format!(
        "| {kind} | {} | {:.1} | {:.1} | {:.1} |",
        samples.len(),
        p(0.5).as_secs_f64() * 1000.0,
        p(0.95).as_secs_f64() * 1000.0,
        p(0.99).as_secs_f64() * 1000.0
    );
    println!("{line}");
}

/// Builds the k-th search of one kind.
type MakeSearch<'a> = Box<dyn Fn(u64) -> Search + 'a>;

fn base_search() -> Search {
    Search {
        sort: SortKey::Created,
        descending: true,
        limit: 51,
        ..Search::default()
    }
}

/// A tenant seeded by an earlier run with at least `count` members, when `BENCH_REUSE=1`.
async fn seeded_tenant(count: u64) -> Option<i64> {
    use sqlx::Connection;
    if std::env::var("BENCH_REUSE").ok().as_deref() != Some("1") {
        return None;
    }
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM platform.tenants WHERE slug LIKE 'bench-%' AND purged_at IS NULL
         ORDER BY id DESC",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for id in ids {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM t_{id}.members"))
            .fetch_one(&mut conn)
            .await
            .unwrap_or(0);
        if n as u64 >= count {
            return Some(id);
        }
    }
    None
}

async fn bench_members(count: u64) {
    let app = spawn_app_with(4).await;
    if let Some(id) = seeded_tenant(count).await {
        eprintln!("reusing the members of tenant {id}");
        let tenant = patron_db::tenants::find_by_id(&app.db, id)
            .await
            .unwrap()
            .unwrap();
        measure_members(&app, &tenant, count, None).await;
        app.stop().await;
        return;
    }
    let t = app.signup_on("bench", "enterprise").await;
    let r = app
        .publish_fields(&t.owner(), &json!({ "fields": [
            { "key": "level", "type": "integer", "label": { "en": "Level" } },
            { "key": "plan", "type": "single_select", "label": { "en": "Plan" }, "options": [
                { "value": "gold", "label": { "en": "Gold" } }, { "value": "silver", "label": { "en": "Silver" } }, { "value": "basic", "label": { "en": "Basic" } }] }
        ] }))
        .await;
    assert!(r.status.is_success(), "{r:?}");
    let keys = PiiKeys::development();
    let tenant = patron_db::tenants::find_by_id(&app.db, t.id)
        .await
        .unwrap()
        .unwrap();
    let schema = format!("t_{}", t.id);
    let fmt = CardFormat::default();

    // Seed with COPY, in chunks, straight into the tenant's tables.
    let started = Instant::now();
    let mut conn = {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&database_url()).await.unwrap()
    };
    let chunk = 100_000u64;
    let mut i = 0u64;
    while i < count {
        let end = (i + chunk).min(count);
        let mut members = String::new();
        let mut cards = String::new();
        for n in i..end {
            let id =
                uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000u128 + n as u128);
            let p = phone(n);
            let (kid, enc) = keys.encrypt(&p);
            let idx = keys.blind_index("phone", &p);
            let email = format!("m{n}@example.com");
            let (_, eenc) = keys.encrypt(&email);
            let eidx = keys.blind_index("email", &email);
            let birthday = chrono::NaiveDate::from_ymd_opt(
                1950 + (h(n, 5) % 55) as i32,
                1 + (h(n, 6) % 12) as u32,
                1 + (h(n, 7) % 28) as u32,
            )
            .unwrap();
            let join = chrono::NaiveDate::from_ymd_opt(
                2015 + (h(n, 8) % 11) as i32,
                1 + (h(n, 9) % 12) as u32,
                1 + (h(n, 10) % 28) as u32,
            )
            .unwrap();
            let tags = match h(n, 11) % 3 {
                0 => "{}".to_owned(),
                1 => format!("{{{}}}", TAGS[(h(n, 12) % 8) as usize]),
                _ => format!(
                    "{{{},{}}}",
                    TAGS[(h(n, 12) % 8) as usize],
                    TAGS[(h(n, 13) % 8) as usize]
                ),
            };
            let plan = ["gold", "silver", "basic"][(h(n, 14) % 3) as usize];
            let custom = format!("{{\"level\": {}, \"plan\": \"{plan}\"}}", h(n, 15) % 100);
            let created =
                chrono::DateTime::from_timestamp(1_600_000_000 + n as i64 * 60, 0).unwrap();
            members.push_str(&format!(
                "{id}\t{}\t\\\\x{}\t{kid}\t\\\\x{}\t\\\\x{}\t{kid}\t\\\\x{}\t{birthday}\t{join}\t{tags}\t{}\tbench\t{}\t{}\n",
                name(n),
                hex(&enc),
                hex(&idx),
                hex(&eenc),
                hex(&eidx),
                custom.replace('\\', "\\\\"),
                created.to_rfc3339(),
                created.to_rfc3339()
            ));
            cards.push_str(&format!(
                "{}\t{id}\tactive\t{}\t{}\n",
                fmt.number(n + 1).unwrap(),
                created.to_rfc3339(),
                created.to_rfc3339()
            ));
        }
        for (table, cols, data) in [
            ("members", "id, name, phone_enc, phone_key, phone_index, email_enc, email_key, email_index, birthday, join_date, tags, custom, channel, created_at, updated_at", members),
            ("member_cards", "number, member_id, status, issued_at, changed_at", cards),
        ] {
            let mut copy = conn
                .copy_in_raw(&format!("COPY {schema}.{table} ({cols}) FROM STDIN"))
                .await
                .unwrap();
            copy.send(data.into_bytes()).await.unwrap();
            copy.finish().await.unwrap();
        }
        i = end;
        eprintln!("seeded {end} members ({:.0?})", started.elapsed());
    }
    sqlx::query(&format!(
        "UPDATE {schema}.member_settings SET card_seq = $1"
    ))
    .bind(count as i64)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(&format!("ANALYZE {schema}.members"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!("ANALYZE {schema}.member_cards"))
        .execute(&mut conn)
        .await
        .unwrap();
    // What autovacuum does soon after a bulk load: statistics, and the visibility map that
    // lets searches read name pieces from their index alone.
    sqlx::query(&format!("VACUUM ANALYZE {schema}.member_name_grams"))
        .execute(&mut conn)
        .await
        .unwrap();
    let seeded = started.elapsed();
    measure_members(&app, &tenant, count, Some(seeded)).await;
    app.stop().await;
}

/// Runs each kind of lookup against a tenant seeded with `count` members.
async fn measure_members(
    app: &TestApp,
    tenant: &patron_db::Tenant,
    count: u64,
    seeded: Option<Duration>,
) {
    let fmt = CardFormat::default();
    // Each kind of lookup, 200 times with different keys, through the search the API runs.
    let runs = 200u64;
    let kinds: Vec<(&str, MakeSearch<'_>)> = vec![
        (
            "card number",
            Box::new(move |k| Search {
                card_number: Some(fmt.number(pick(count, k) + 1).unwrap()),
                ..base_search()
            }),
        ),
        (
            "phone",
            Box::new(|k| Search {
                phone_index: Some(
                    PiiKeys::development().blind_index("phone", &phone(pick(count, k))),
                ),
                ..base_search()
            }),
        ),
        (
            "e-mail",
            Box::new(|k| Search {
                email_index: Some(
                    PiiKeys::development()
                        .blind_index("email", &format!("m{}@example.com", pick(count, k))),
                ),
                ..base_search()
            }),
        ),
        (
            "name substring (Chinese, 2 chars)",
            Box::new(|k| {
                let n = name(pick(count, k));
                Search {
                    name: Some(n.chars().skip(1).take(2).collect()),
                    ..base_search()
                }
            }),
        ),
        (
            "name substring (Chinese, 1 char of a given name)",
            Box::new(|k| Search {
                name: Some(name(pick(count, k)).chars().nth(1).unwrap().to_string()),
                ..base_search()
            }),
        ),
        (
            "name substring (Chinese, 2 chars), oldest first",
            Box::new(|k| {
                let n = name(pick(count, k));
                Search {
                    name: Some(n.chars().skip(1).take(2).collect()),
                    descending: false,
                    ..base_search()
                }
            }),
        ),
        (
            "name substring (Chinese, 2 chars), a later page (keyset)",
            Box::new(move |k| {
                let n = name(pick(count, k));
                Search {
                    name: Some(n.chars().skip(1).take(2).collect()),
                    after: Some((
                        Some(
                            chrono::DateTime::from_timestamp(
                                1_600_000_000 + pick(count, k + 7) as i64 * 60,
                                0,
                            )
                            .unwrap()
                            .to_rfc3339(),
                        ),
                        uuid::Uuid::max(),
                    )),
                    ..base_search()
                }
            }),
        ),
        (
            "name substring (surname, 1 char), by join date",
            Box::new(|k| Search {
                name: Some(SURNAMES[(k % 20) as usize].into()),
                sort: SortKey::JoinDate,
                ..base_search()
            }),
        ),
        (
            "name (Chinese, full)",
            Box::new(|k| Search {
                name: Some(name(pick(count, k))),
                ..base_search()
            }),
        ),
        (
            "tags (2)",
            Box::new(|k| Search {
                tags: vec![
                    TAGS[(k % 8) as usize].into(),
                    TAGS[((k / 8) % 8) as usize].into(),
                ],
                ..base_search()
            }),
        ),
        (
            "custom equality",
            Box::new(|k| Search {
                custom: vec![CustomCondition::Equals(
                    "plan".into(),
                    json!(["gold", "silver", "basic"][(k % 3) as usize]),
                )],
                ..base_search()
            }),
        ),
        (
            "custom range",
            Box::new(|k| Search {
                custom: vec![CustomCondition::NumberRange(
                    "level".into(),
                    Some((k % 90) as f64),
                    Some((k % 90 + 5) as f64),
                )],
                ..base_search()
            }),
        ),
        (
            "join date range (1 month)",
            Box::new(|k| {
                let d =
                    chrono::NaiveDate::from_ymd_opt(2016 + (k % 9) as i32, 1 + (k % 12) as u32, 1)
                        .unwrap();
                Search {
                    joined_from: Some(d),
                    joined_to: Some(d + chrono::Duration::days(30)),
                    sort: SortKey::JoinDate,
                    ..base_search()
                }
            }),
        ),
        (
            "birthday range (1 week)",
            Box::new(|k| {
                let d =
                    chrono::NaiveDate::from_ymd_opt(1960 + (k % 40) as i32, 1 + (k % 12) as u32, 1)
                        .unwrap();
                Search {
                    birthday_from: Some(d),
                    birthday_to: Some(d + chrono::Duration::days(7)),
                    sort: SortKey::Birthday,
                    ..base_search()
                }
            }),
        ),
        (
            "combined: name + tag + custom",
            Box::new(|k| Search {
                name: Some(SURNAMES[(k % 20) as usize].into()),
                tags: vec!["vip".into()],
                custom: vec![CustomCondition::Equals("plan".into(), json!("gold"))],
                ..base_search()
            }),
        ),
        (
            "list page 100 (keyset, deep)",
            Box::new(move |k| Search {
                after: Some((
                    Some(
                        chrono::DateTime::from_timestamp(
                            1_600_000_000 + pick(count, k) as i64 * 60,
                            0,
                        )
                        .unwrap()
                        .to_rfc3339(),
                    ),
                    uuid::Uuid::max(),
                )),
                ..base_search()
            }),
        ),
    ];
    for (kind, make) in &kinds {
        let mut samples = Vec::new();
        for k in 0..runs {
            let s = make(k);
            let t0 = Instant::now();
            let mut tx = app.db.tenant_tx(tenant).await.unwrap();
            let rows = members::search(&mut tx, &s).await.unwrap();
            tx.commit().await.unwrap();
            samples.push(t0.elapsed());
            if k == 0 && kind.starts_with("phone") {
                assert_eq!(rows.len(), 1, "the phone lookup finds its member");
            }
        }
        report(kind, samples);
    }
    match seeded {
        Some(d) => println!("\nseeded {count} members in {d:.1?}"),
        None => println!("\nreused {count} members seeded earlier"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn bench_import(rows: u64) {
    let app = spawn_app_with(6).await;
    let t = app.signup_on("bench-import", "enterprise").await;
    let r = app
        .publish_fields(&t.owner(), &json!({ "fields": [{ "key": "level", "type": "integer", "label": { "en": "Level" } }] }))
        .await;
    assert!(r.status.is_success(), "{r:?}");
    let mut csv = String::from("name,phone,email,birthday,tags,level\n");
    for n in 0..rows {
        csv.push_str(&format!(
            "{},{},i{n}@example.com,{}-{:02}-{:02},vip;yoga,{}\n",
            name(n),
            phone(n),
            1960 + n % 40,
            1 + n % 12,
            1 + n % 28,
            n % 100
        ));
    }
    let size = csv.len();
    let rss_with_csv = rss_mb();
    let started = Instant::now();
    let upload = app
        .start_import(
            &t.owner(),
            &ImportOptions::new("csv", "valid_only"),
            csv.into_bytes(),
        )
        .await;
    assert_eq!(upload.status.as_u16(), 202);
    let id = upload.body().id;
    // The upload is done and its buffer freed: from here the process's memory is the server
    // importing (plus the test client), sampled once a second.
    let rss_after_upload = rss_mb();
    let mut rss_peak = rss_after_upload;
    let report = loop {
        let r = app.member_import(&t.owner(), &id).await.body();
        rss_peak = rss_peak.max(rss_mb());
        if r.status != "running" {
            break r;
        }
        eprintln!(
            "  {} rows read, {} imported ({:.0?}, {} MB resident)",
            r.rows_read,
            r.rows_imported,
            started.elapsed(),
            rss_mb()
        );
        tokio::time::sleep(Duration::from_millis(1000)).await;
    };
    let took = started.elapsed();
    println!(
        "imported {} of {rows} rows ({} MB of CSV) in {took:.1?}: status {}, {} errors",
        report.rows_imported,
        size / 1_000_000,
        report.status,
        report.error_count
    );
    println!(
        "resident memory of the process: {rss_with_csv} MB holding the CSV before the upload, \
         {rss_after_upload} MB after it, at most {rss_peak} MB while importing"
    );
    app.stop().await;
}

async fn bench_coupons_segment(count: u64) {
    let app = spawn_app_with(4).await;
    let t = app.signup_on("bench-coupons", "enterprise").await;
    let owner = t.owner();
    let schema = format!("t_{}", t.id);
    let mut conn = {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&database_url()).await.unwrap()
    };
    let started = Instant::now();
    sqlx::query(&format!(
        "INSERT INTO {schema}.members (id, name, join_date, channel, created_at, updated_at) \
         SELECT gen_random_uuid(), 'Member ' || g, current_date, 'bench', \
                now() - interval '1 day' + g * interval '1 millisecond', now() \
         FROM generate_series(1, $1::bigint) g"
    ))
    .bind(count as i64)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(&format!("ANALYZE {schema}.members"))
        .execute(&mut conn)
        .await
        .unwrap();
    println!("seeded {count} members in {:.1?}", started.elapsed());
    let r = app
        .create_coupon_template(
            &owner,
            &json!({ "name": "Welcome back", "total": count, "per_member": 1,
                     "terms": { "kind": "amount_off", "amount": 500, "valid_days": 30 } }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let template = r.json["id"].as_str().unwrap().to_owned();
    let rss_before = rss_mb();
    let started = Instant::now();
    let r = app
        .issue_coupons_to_segment(
            &owner,
            &template,
            &json!({ "filter": {}, "idempotency_key": "bench-segment" }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    assert_eq!(r.json["matched"].as_u64(), Some(count), "{}", r.json);
    let run = r.json["id"].as_str().unwrap().to_owned();
    // The job, run here as the job runner runs it; the memory sampled meanwhile.
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(rss_mb());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak.max(rss_mb())
        })
    };
    let done = patron_tests::internals::run_segment_issue(&app, &t, &run).await;
    let took = started.elapsed();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let rss_peak = sampler.await.unwrap();
    let (coupons, holders): (i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), count(DISTINCT member_id) FROM {schema}.coupons WHERE template_id = $1::uuid"
    ))
    .bind(&template)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let issued = app.coupon_template(&owner, &template).await.json["issued"]
        .as_i64()
        .unwrap_or(-1);
    println!(
        "segment issue: {count} members, {coupons} coupons to {holders} members (template issued {issued}) in {:.1} s: {:.0} coupons/s; job answer {done}; target (100,000 in < 60 s) {}",
        took.as_secs_f64(),
        coupons as f64 / took.as_secs_f64(),
        if count >= 100_000 && coupons == count as i64 && took.as_secs() < 60 { "met" } else { "NOT met" }
    );
    println!(
        "resident memory of the process: {rss_before} MB before the run, at most {rss_peak} MB during it"
    );
    assert_eq!(coupons, count as i64, "one coupon per member");
    assert_eq!(holders, count as i64, "every member holds one");
    assert_eq!(issued, count as i64, "the template's count agrees");
    app.stop().await;
}

/// The resident memory of this process (server and client), in MB.
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args.get(2).and_then(|a| a.parse().ok());
    match args.get(1).map(String::as_str) {
        Some("members") => bench_members(n.unwrap_or(1_000_000)).await,
        Some("import") => bench_import(n.unwrap_or(100_000)).await,
        Some("coupons-segment") => bench_coupons_segment(n.unwrap_or(100_000)).await,
        _ => eprintln!(
            "usage: bench members [COUNT] | bench import [ROWS] | bench coupons-segment [COUNT]"
        ),
    }
}
