use patron_core::clock::SystemClock;
use patron_db::migrate::{latest_tenant_version, readiness, Readiness};
use patron_db::Db;
use patron_server::{commands, Application, Options};
use patron_tests::*;
use sqlx::Connection;
use std::sync::Arc;

fn options() -> Options {
    Options {
        listen: "127.0.0.1:0".into(),
        session_ttl: chrono::Duration::hours(1),
        console_dir: None,
        run_jobs: false,
        spare_schemas: 0,
        pii_keys: patron_core::pii::PiiKeys::development(),
        payment_webhook_secret: None,
        sandbox: None,
        messages: Default::default(),
        trust_proxy: false,
        storage: None,
        console_url: None,
    }
}

#[tokio::test]
async fn serve_refuses_an_unmigrated_database_and_says_to_run_migrate() {
    let (name, url) = fresh_database().await;
    let db = Db::connect(&url, 2).await.unwrap();
    let err = Application::build(db.clone(), Arc::new(SystemClock), options())
        .await
        .err()
        .expect("must refuse");
    assert!(err.to_string().contains("run `patron migrate`"), "{err}");
    db.close().await;
    drop_database(&name).await;
}

#[tokio::test]
async fn migrate_upgrades_200_tenant_schemas_reports_a_broken_one_resumes_and_is_idempotent() {
    let (name, url) = fresh_database().await;
    let db = Db::connect(&url, 12).await.unwrap();
    let first = commands::migrate(&db, 8, None).await.unwrap();
    assert_eq!(first.pending, 0);

    // 200 tenants whose schemas exist but have never been migrated (as after a release that
    // adds the tenant tables), one of them with a table in the way.
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    for i in 1..=200i64 {
        sqlx::query("INSERT INTO platform.tenants (id, slug, name, schema_name, plan_code) VALUES ($1, $2, $3, $4, 'free')")
            .bind(i)
            .bind(format!("bulk-{i}"))
            .bind(format!("Bulk {i}"))
            .bind(format!("t_{i}"))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE SCHEMA t_{i}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query("SELECT setval(pg_get_serial_sequence('platform.tenants', 'id'), 200)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE t_77.staff (unexpected int)")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        readiness(&db).await.unwrap(),
        Readiness::NotMigrated {
            tenants_behind: 200,
            ..
        }
    ));

    let report = commands::migrate(&db, 8, None).await.unwrap();
    assert_eq!(
        (report.pending, report.upgraded, report.failed.len()),
        (200, 199, 1)
    );
    assert_eq!(report.failed[0].slug, "bulk-77");
    assert!(
        report.failed[0]
            .result
            .as_ref()
            .unwrap_err()
            .contains("staff"),
        "{:?}",
        report.failed[0]
    );
    let behind: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.tenants WHERE schema_version < $1")
            .bind(latest_tenant_version())
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(behind, 1);
    // The failed tenant was rolled back whole: no half-made tables.
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 't_77'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(tables, 1, "only the table that was in the way");

    // Fix it and run again: only that tenant is touched.
    sqlx::query("DROP TABLE t_77.staff")
        .execute(&mut conn)
        .await
        .unwrap();
    let resumed = commands::migrate(&db, 8, None).await.unwrap();
    assert_eq!(
        (resumed.pending, resumed.upgraded, resumed.failed.len()),
        (1, 1, 0)
    );
    let again = commands::migrate(&db, 8, None).await.unwrap();
    assert_eq!((again.pending, again.upgraded), (0, 0), "idempotent");

    let with_staff: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE tablename = 'staff' AND schemaname LIKE 't\\_%'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(with_staff, 200);
    // Versions are reserved per capability, so the numbers may have gaps: the latest is
    // recorded.
    let recorded: i64 = sqlx::query_scalar("SELECT max(version) FROM t_123.schema_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(recorded as usize, latest_tenant_version() as usize);
    assert_eq!(readiness(&db).await.unwrap(), Readiness::Ready);
    Application::build(db.clone(), Arc::new(SystemClock), options())
        .await
        .expect("serves once migrated");

    conn.close().await.unwrap();
    db.close().await;
    drop_database(&name).await;
}
