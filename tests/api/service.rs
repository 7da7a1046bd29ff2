//! The service around the API: health, readiness, the OpenAPI document and docs, routing of
//! unknown paths, request ids and metrics, and graceful shutdown.

use patron_tests::*;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn health_readiness_openapi_and_docs_are_served() {
    let app = spawn_app().await;
    assert_eq!(app.health().await.body().status, "ok");
    assert_eq!(app.readiness().await.body().status, "ready");
    let spec = app.openapi_document().await;
    assert_eq!(spec.status, StatusCode::OK);
    let spec = spec.body();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    // Paths as the document lists them.
    for path in [
        "/signup",
        "/auth/login",
        "/me",
        "/staff",
        "/roles",
        "/api-keys",
        "/settings",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let docs = app.api_docs().await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.body().contains("swagger"));
    // Routing: an unknown path, as raw HTTP.
    let unknown = app
        .call(
            Method::GET,
            "/api/v1/does-not-exist",
            &Auth::None,
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "not_found")
    );
}

#[tokio::test]
async fn requests_are_counted_by_route_and_status_and_carry_a_request_id() {
    let app = spawn_app().await;
    let t = app.signup("metrics").await;
    app.me(&t.owner()).await;
    // Raw HTTP: a request id of the caller's own, and no credentials.
    let r = app
        .raw(Method::GET, "/api/v1/me")
        .header("x-request-id", "trace-me-123")
        .send::<serde_json::Value>()
        .await;
    assert_eq!(r.headers["x-request-id"], "trace-me-123");
    let generated = app.health().await;
    assert!(generated.headers["x-request-id"].len() >= 32);
    let metrics = app.metrics().await.body();
    assert!(
        metrics.contains(r#"patron_http_requests_total{method="GET",route="me",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"patron_http_requests_total{method="GET",route="me",status="401"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="signup",status="201"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("patron_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn the_server_shuts_down_gracefully() {
    let app = spawn_app().await;
    assert_eq!(app.health().await.status, StatusCode::OK);
    let base = app.base.clone();
    app.stop().await;
    // Raw HTTP: nothing answers any more.
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "still listening after shutdown"
    );
}

#[tokio::test]
async fn the_database_answers_a_pool_whose_idle_connections_just_died() {
    use patron_db::OnPlatform;
    use sqlx::Connection;
    // Four connections, all open and idle, their sessions known.
    let db = patron_db::Db::connect(&database_url(), 4).await.unwrap();
    let mut txs = Vec::new();
    for _ in 0..4 {
        txs.push(db.platform_tx().await.unwrap());
    }
    let mut pids = Vec::new();
    for tx in &mut txs {
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(tx.platform_conn())
            .await
            .unwrap();
        pids.push(pid);
    }
    for tx in txs {
        tx.commit().await.unwrap();
    }
    // All four ended at once (waiting until they are gone), and asked at once: each idle
    // connection is dead, and too recently used to be pinged before use.
    let mut admin = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM unnest($1::int[]) pid",
    )
    .bind(&pids)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(ended, 4);
    db.ping()
        .await
        .expect("the database answers on a new connection");
    db.close().await;
}

#[tokio::test]
async fn a_server_whose_idle_connections_were_all_ended_is_still_ready_and_serves() {
    use sqlx::Connection;
    // A database of its own: every session of the server's on it is ended.
    let (name, url) = fresh_database().await;
    let app = spawn_app_on(&url, 10).await;
    let t = app.signup("pool-ended").await;
    let owner = t.owner();
    // Many requests at once, so the pool holds several idle connections.
    let calls = (0..24).map(|_| app.me(&owner));
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.status, StatusCode::OK);
    }
    for r in futures::future::join_all((0..24).map(|_| app.readiness())).await {
        assert_eq!(r.status, StatusCode::OK);
    }
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    // Waits (up to 5 s each) until every one is gone, as an operator's or a restart's would.
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'patron'",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(ended >= 3, "only {ended} sessions to end");

    // Readiness asks on another connection until one answers (a new one at the last).
    let ready = app.readiness().await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body().status, "ready");
    // Connections idle a second or more are pinged before use: the next requests, many at
    // once, find the dead ones before their statements and open new ones.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for r in futures::future::join_all((0..12).map(|_| app.me(&owner))).await {
        assert_eq!(r.status, StatusCode::OK);
    }
    drop(admin);
    app.stop().await;
    drop_database(&name).await;
}

/// The backend serving the open transaction of tenant `schema` (its last statement set the
/// search path to that schema).
async fn backend_of(conn: &mut sqlx::PgConnection, schema: &str) -> Vec<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity
         WHERE application_name = 'patron' AND state = 'idle in transaction'
           AND query LIKE '%search_path%' AND query LIKE '%\"' || $1 || '\"%'",
    )
    .bind(schema)
    .fetch_all(conn)
    .await
    .unwrap()
}

/// A `Db` of eight connections (two groups of four) with `setting` applied, the app, and two
/// new businesses whose home groups differ (ids of different parity), as that `Db` reads them.
async fn two_groups(
    prefix: &str,
    setting: impl FnOnce(patron_db::Db) -> patron_db::Db,
) -> (TestApp, patron_db::Db, patron_db::Tenant, patron_db::Tenant) {
    let db = setting(patron_db::Db::connect(&database_url(), 8).await.unwrap());
    assert_eq!(patron_db::tenant_groups(8), 2);
    let app = spawn_app().await;
    let a = app.signup(&format!("{prefix}-a")).await;
    let mut b = app.signup(&format!("{prefix}-b")).await;
    while b.id % 2 == a.id % 2 {
        b = app.signup(&format!("{prefix}-b{}", b.id)).await;
    }
    let mut found = Vec::new();
    for id in [a.id, b.id] {
        found.push(
            patron_db::tenants::find_by_id(&db, id)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let b = found.pop().unwrap();
    let a = found.pop().unwrap();
    (app, db, a, b)
}

/// Opens as many of `t`'s transactions as its home group has connections (four of a `Db` of
/// eight), so that the group is all held while they are.
async fn hold_group(db: &patron_db::Db, t: &patron_db::Tenant) -> Vec<patron_db::TenantTx> {
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(db.tenant_tx(t).await.unwrap());
    }
    held
}

#[tokio::test]
async fn a_business_is_served_by_its_own_connections_while_they_are_free_and_by_all_when_busy() {
    use sqlx::Connection;
    let url = database_url();
    let (_app, db, ta, tb) = two_groups("pool-home", |db| db).await;
    let mut watch = sqlx::PgConnection::connect(&url).await.unwrap();

    // One after another, each business's transactions stay on its own group's connections,
    // and the two groups never share one.
    let (mut seen_a, mut seen_b) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    for _ in 0..12 {
        for (t, seen) in [(&ta, &mut seen_a), (&tb, &mut seen_b)] {
            let tx = db.tenant_tx(t).await.unwrap();
            let pids = backend_of(&mut watch, t.schema()).await;
            assert_eq!(pids.len(), 1, "{pids:?}");
            seen.insert(pids[0]);
            tx.commit().await.unwrap();
        }
    }
    assert!(
        seen_a.len() <= 4 && seen_b.len() <= 4,
        "{seen_a:?} {seen_b:?}"
    );
    assert!(seen_a.is_disjoint(&seen_b), "{seen_a:?} {seen_b:?}");

    // One busy business: eight transactions open at once, so it borrows the other group's
    // connections instead of waiting for its own.
    let mut open = Vec::new();
    for _ in 0..8 {
        open.push(
            tokio::time::timeout(std::time::Duration::from_secs(5), db.tenant_tx(&ta))
                .await
                .expect("a free connection of the other group is used, not waited for")
                .unwrap(),
        );
    }
    let pids = backend_of(&mut watch, ta.schema()).await;
    assert_eq!(pids.len(), 8, "{pids:?}");
    assert!(
        pids.iter().any(|p| seen_b.contains(p)),
        "{pids:?} {seen_b:?}"
    );
    for tx in open {
        tx.commit().await.unwrap();
    }

    // Statements that are no business's (the request budget, operators, jobs' claims) take a
    // free connection of any group: with the first group's connections all in transactions,
    // a read of `platform` runs at once instead of waiting for one of them.
    let first = if ta.id % 2 == 0 { &ta } else { &tb };
    let held = hold_group(&db, first).await;
    let found = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        patron_db::tenants::find_by_id(&db, first.id),
    )
    .await
    .expect("a platform statement does not wait for the first group")
    .unwrap();
    assert_eq!(found.map(|t| t.id), Some(first.id));
    for tx in held {
        tx.commit().await.unwrap();
    }
    db.close().await;
}

#[tokio::test]
async fn without_borrowing_a_busy_business_waits_for_its_own_group_and_leaves_the_others_alone() {
    let (_app, db, ta, tb) = two_groups("pool-own", |db| db.with_borrowing(false)).await;

    // Business A holds every connection of its group.
    let mut held = hold_group(&db, &ta).await;
    // A fifth transaction of A waits for one of them instead of taking the other group's
    // free connections...
    let waiting = tokio::spawn({
        let db = db.clone();
        let ta = ta.clone();
        async move { db.tenant_tx(&ta).await.map(|tx| tx.tenant_id()) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "A took another group's connection");
    // ...which business B still opens at once.
    let tx = tokio::time::timeout(std::time::Duration::from_secs(5), db.tenant_tx(&tb))
        .await
        .expect("B's group is free")
        .unwrap();
    tx.commit().await.unwrap();
    // One of A's transactions ends: the waiting one opens on its connection.
    held.pop().unwrap().commit().await.unwrap();
    let opened = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("the waiting transaction opened once a connection of its group was free")
        .unwrap()
        .unwrap();
    assert_eq!(opened, ta.id);
    for tx in held {
        tx.commit().await.unwrap();
    }
    db.close().await;
}

#[tokio::test]
async fn a_busy_business_waits_a_moment_for_its_own_group_before_it_borrows() {
    use sqlx::Connection;
    use std::time::{Duration, Instant};
    let url = database_url();
    // A wait long enough to see on any machine.
    let wait = Duration::from_secs(2);
    let (_app, db, ta, _) = two_groups("pool-wait", |db| db.with_borrow_after(wait)).await;
    let mut watch = sqlx::PgConnection::connect(&url).await.unwrap();

    // Business A holds every connection of its group.
    let mut held = hold_group(&db, &ta).await;
    let home: std::collections::BTreeSet<i32> = backend_of(&mut watch, ta.schema())
        .await
        .into_iter()
        .collect();
    assert_eq!(home.len(), 4, "{home:?}");

    // A fifth transaction of A waits for its own group instead of taking the other group's
    // free connection at once...
    let waiting = tokio::spawn({
        let db = db.clone();
        let ta = ta.clone();
        async move { db.tenant_tx(&ta).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "A took another group's connection at once"
    );
    // ...and opens on the connection one of A's transactions frees within the wait.
    held.pop().unwrap().commit().await.unwrap();
    let fifth = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the freed connection of A's group is handed to the waiting transaction")
        .unwrap()
        .unwrap();
    held.push(fifth);
    let pids = backend_of(&mut watch, ta.schema()).await;
    assert_eq!(pids.len(), 4, "{pids:?}");
    assert!(pids.iter().all(|p| home.contains(p)), "{pids:?} {home:?}");

    // When the group stays busy for the whole wait, the next one borrows, so a request that
    // holds one of its group's connections while it asks for another is never stuck.
    let started = Instant::now();
    let borrowed = tokio::time::timeout(Duration::from_secs(10), db.tenant_tx(&ta))
        .await
        .expect("a free connection of the other group is taken after the wait")
        .unwrap();
    assert!(started.elapsed() >= wait, "{:?}", started.elapsed());
    let pids = backend_of(&mut watch, ta.schema()).await;
    assert_eq!(pids.len(), 5, "{pids:?}");
    assert_eq!(
        pids.iter().filter(|p| !home.contains(p)).count(),
        1,
        "{pids:?} {home:?}"
    );
    borrowed.commit().await.unwrap();
    for tx in held {
        tx.commit().await.unwrap();
    }
    db.close().await;
}

#[tokio::test]
async fn a_business_that_finds_every_group_busy_keeps_its_place_in_its_own_queue() {
    use std::time::Duration;
    // A wait long enough to see on any machine.
    let wait = Duration::from_secs(2);
    let (_app, db, ta, tb) = two_groups("pool-queue", |db| db.with_borrow_after(wait)).await;

    // Every connection of both groups is held.
    let mut held_a = hold_group(&db, &ta).await;
    let held_b = hold_group(&db, &tb).await;
    // A transaction of A asks for a connection, and a second one half a wait later. The
    // first's wait runs out, it finds the other group as busy and waits on, while the
    // second is still within its wait.
    let ask = |db: &patron_db::Db| {
        let db = db.clone();
        let ta = ta.clone();
        tokio::spawn(async move { db.tenant_tx(&ta).await })
    };
    let first = ask(&db);
    tokio::time::sleep(wait / 2).await;
    let second = ask(&db);
    tokio::time::sleep(wait * 3 / 4).await;
    assert!(!first.is_finished() && !second.is_finished());

    // The connection A's group frees goes to the one that asked first: looking at the other
    // group after its wait did not send it behind the second in its group's queue.
    held_a.pop().unwrap().commit().await.unwrap();
    let opened = tokio::time::timeout(Duration::from_secs(5), first)
        .await
        .expect("the first to ask gets the freed connection")
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "the second took the freed connection"
    );
    held_a.push(opened);
    held_a.pop().unwrap().commit().await.unwrap();
    let opened = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the next connection freed goes to the second")
        .unwrap()
        .unwrap();
    held_a.push(opened);
    for tx in held_a.into_iter().chain(held_b) {
        tx.commit().await.unwrap();
    }
    db.close().await;
}
