use chrono::Duration;
use patron_core::clock::Clock;
use patron_db::{jobs as queue, sessions, tenants};
use patron_server::jobs::{JobRunner, Turn, FANOUT, SESSION_CLEANUP};
use patron_tests::*;
use reqwest::StatusCode;
use std::sync::Arc;

#[tokio::test]
async fn jobs_fan_out_per_tenant_run_once_per_slot_on_two_runners_and_retry_failures_with_backoff()
{
    // A database of its own: the cleanup spans every tenant in the database.
    let (name, url) = fresh_database().await;
    let app = spawn_app_on(&url, 10).await;
    let t = app.signup("jobs").await;
    let fresh = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    assert_eq!(fresh.status, StatusCode::OK);
    let tenant = tenants::find_by_slug(&app.db, &t.slug)
        .await
        .unwrap()
        .unwrap();
    let owner: uuid::Uuid = t.owner_id.parse().unwrap();
    let count = |db: patron_db::Db, tenant: patron_db::Tenant| async move {
        let mut tx = db.tenant_tx(&tenant).await.unwrap();
        let n = sessions::count_for_staff(&mut tx, owner).await.unwrap();
        tx.commit().await.unwrap();
        n
    };
    assert_eq!(count(app.db.clone(), tenant.clone()).await, 2);

    // Two runners, as on two replicas, sharing the moved clock.
    let clock = Arc::new(app.clock.clone());
    let r1 = JobRunner::new(app.db.clone(), clock.clone());
    let r2 = JobRunner::new(app.db.clone(), clock.clone());
    r1.install_schedules().await.unwrap();
    // Both sessions expire (12 h) and pass the 7-day grace; then the hourly slot comes due.
    app.clock.advance(Duration::days(8));
    // The schedule lives in the shared database: make its slot due at the moved time.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("UPDATE platform.schedules SET next_run_at = $1 WHERE name = 'session-cleanup'")
        .bind(app.clock.now())
        .execute(&mut conn)
        .await
        .unwrap();
    let (a, b) = tokio::join!(r1.run_until_idle(), r2.run_until_idle());
    let turns: Vec<Turn> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    let fanouts = turns
        .iter()
        .filter(|t| matches!(t, Turn::Done { kind, .. } if kind == FANOUT))
        .count();
    let mine = turns
        .iter()
        .filter(|x| matches!(x, Turn::Done { kind, tenant_id: Some(id) } if kind == SESSION_CLEANUP && *id == t.id))
        .count();
    assert!(fanouts >= 1, "{turns:?}");
    assert_eq!(
        mine, 1,
        "this tenant's cleanup ran exactly once across both runners"
    );
    assert!(
        !turns.iter().any(|t| matches!(t, Turn::Failed { .. })),
        "{turns:?}"
    );
    assert_eq!(
        count(app.db.clone(), tenant.clone()).await,
        0,
        "stale sessions deleted"
    );

    // Running again at the same moment does nothing more: the next slot is an hour away.
    assert!(r1.run_until_idle().await.unwrap().is_empty());
    let done: Vec<_> = queue::recent(&app.db, SESSION_CLEANUP, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.tenant_id == Some(t.id))
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].status, "done");
    assert_eq!(done[0].result.as_ref().unwrap()["deleted"], 2);

    // A job that keeps failing is retried with backoff, then marked failed.
    let now = app.clock.now();
    let id = enqueue_due(&app.db, "no.such.kind", now - Duration::days(400)).await;
    let runner = JobRunner::new(app.db.clone(), Arc::new(app.clock.clone()));
    let job = || stored_job(&app.db, "no.such.kind", id);
    // Run until it has used up its attempts, moving time past each backoff.
    let mut rec = job().await;
    while rec.status != "failed" {
        if runner.turn().await.unwrap() == Turn::Idle {
            app.clock.advance(Duration::hours(10));
        }
        rec = job().await;
    }
    assert_eq!((rec.status.as_str(), rec.attempts), ("failed", 5));
    assert!(rec.last_error.unwrap().contains("unknown job kind"));

    // A runner whose lease ran out and whose job another runner took over ends nothing:
    // neither done nor failed (which would queue it for a third runner while the second
    // still runs it). The runner holding it ends it.
    let now = app.clock.now();
    let id = enqueue_due(&app.db, "lease.test", now - Duration::days(800)).await;
    let first = queue::claim(&app.db, "runner-a", now, Duration::minutes(5), &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, id);
    let later = now + Duration::minutes(6);
    let taken = queue::claim(&app.db, "runner-b", later, Duration::minutes(5), &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id, taken.attempts), (id, 2));
    let result = serde_json::json!({ "by": "a" });
    assert!(
        !queue::complete_held(&app.db, id, "runner-a", later, result)
            .await
            .unwrap()
    );
    assert!(
        !queue::fail_held(&app.db, &first, "runner-a", later, "late", later)
            .await
            .unwrap()
    );
    let held = || stored_job(&app.db, "lease.test", id);
    let rec = held().await;
    assert_eq!((rec.status.as_str(), rec.last_error), ("running", None));
    let result = serde_json::json!({ "by": "b" });
    assert!(queue::complete_held(&app.db, id, "runner-b", later, result)
        .await
        .unwrap());
    let rec = held().await;
    assert_eq!(rec.status, "done");
    assert_eq!(rec.result.unwrap()["by"], "b");
    drop(conn);
    app.stop().await;
    drop_database(&name).await;
}

/// Adds a job of `kind` with an empty payload, due at `run_at`; its id.
async fn enqueue_due(db: &patron_db::Db, kind: &str, run_at: chrono::DateTime<chrono::Utc>) -> i64 {
    queue::enqueue(db, kind, None, serde_json::json!({}), run_at, None)
        .await
        .unwrap()
        .unwrap()
}

/// Job `id` of `kind` as stored.
async fn stored_job(db: &patron_db::Db, kind: &str, id: i64) -> queue::JobRecord {
    queue::recent(db, kind, 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.id == id)
        .unwrap()
}
