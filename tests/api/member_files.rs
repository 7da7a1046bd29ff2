//! Member import (CSV, XLSX; dry run, all-or-nothing, valid rows only) and export.

use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// The columns of [`BAD_FILE`] to fields.
fn mapping() -> serde_json::Value {
    json!({ "姓名": "name", "手机": "phone", "Email": "email", "生日": "birthday", "等级": "custom.level", "卡号": "card_number", "备注": "-" })
}

const BAD_FILE: &str = "姓名,手机,Email,生日,等级,卡号,备注
好人,13800000101,good@x.com,1990-01-01,3,,ok
坏电话,12,,,,,
坏日期,13800000102,,1990-02-30,,,
重复电话,138 0000 0101,,,,,
已存在,13800000999,,,,,
坏等级,13800000103,,,abc,,
,13800000104,,,,,
卡号一,13800000105,,,,12345678,
卡号二,13800000106,,,,12345678,
";

async fn setup(app: &TestApp) -> TestTenant {
    let t = app.signup("import").await;
    let r = app
        .publish_fields(&t.owner(), &json!({ "fields": [{ "key": "level", "type": "integer", "label": { "zh-CN": "等级" } }] }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .create_member(
            &t.owner(),
            &NewMember::named("Existing").phone("13800000999"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    t
}

async fn count(app: &TestApp, t: &TestTenant) -> usize {
    app.search_members(&t.owner(), &json!({ "limit": 200 }))
        .await
        .body()
        .items
        .len()
}

#[tokio::test]
async fn a_dry_run_reports_every_bad_row_with_its_column_and_writes_nothing() {
    let app = spawn_app().await;
    let t = setup(&app).await;
    let r = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "dry_run").mapping(&mapping()),
            BAD_FILE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, "done", "{r:?}");
    assert_eq!(r.rows_read, 9);
    assert_eq!(r.rows_valid, 2, "{r:?}");
    assert_eq!(r.rows_imported, 0);
    let errors = &r.errors;
    let has = |row: u64, column: &str, needle: &str| {
        errors.iter().any(|e| {
            e.row == row && e.column.as_deref() == Some(column) && e.problem.contains(needle)
        })
    };
    assert!(has(3, "手机", "not"), "{errors:?}");
    assert!(has(4, "生日", "not a date"), "{errors:?}");
    assert!(has(5, "手机", "duplicates row 2"), "{errors:?}");
    assert!(has(6, "手机", "already belongs"), "{errors:?}");
    assert!(has(7, "等级", "wrong type"), "{errors:?}");
    assert!(has(8, "姓名", "empty"), "{errors:?}");
    assert!(has(10, "卡号", "duplicates row 9"), "{errors:?}");
    assert_eq!(r.error_count, 7);
    assert_eq!(count(&app, &t).await, 1, "a dry run writes nothing");

    // A mapping to an unknown field is refused up front; a broken file fails cleanly.
    let r = app
        .start_import(
            &t.owner(),
            &ImportOptions::new("csv", "dry_run").mapping(&json!({ "x": "shoe" })),
            b"x\n1\n".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "mapping.x");
    let r = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("xlsx", "valid_only"),
            BAD_FILE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, "failed");
    assert!(r.message.as_deref().unwrap().contains("XLSX"), "{r:?}");
    assert_eq!(r.message_code.as_deref(), Some("not_xlsx"), "{r:?}");
    assert!(r.message_params["detail"].is_string(), "{r:?}");
    let r = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "valid_only"),
            b"foo,bar\n1,2\n".to_vec(),
        )
        .await;
    assert_eq!(r.status, "failed");
    assert!(r.message.as_deref().unwrap().contains("name"), "{r:?}");
    assert_eq!(r.message_code.as_deref(), Some("no_name_column"), "{r:?}");
}

#[tokio::test]
async fn all_or_nothing_imports_nothing_when_a_row_is_bad_and_everything_when_all_are_good() {
    let app = spawn_app().await;
    let t = setup(&app).await;
    let r = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "all_or_nothing").mapping(&mapping()),
            BAD_FILE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, "failed");
    assert_eq!(r.rows_imported, 0);
    assert_eq!(r.error_count, 7);
    assert_eq!(r.message_code.as_deref(), Some("bad_rows"), "{r:?}");
    assert_eq!(r.message_params["count"], 7);
    assert_eq!(count(&app, &t).await, 1);

    let good = "姓名,手机,Email,生日,等级,卡号\n甲,13800000201,a@x.com,1990-01-01,1,80001234\n乙,13800000202,,,2,\n";
    let r = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "all_or_nothing").mapping(&mapping()),
            good.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, "done", "{r:?}");
    assert_eq!(r.rows_imported, 2);
    let found = app
        .search_members(&t.owner(), &json!({ "card_number": "80001234" }))
        .await
        .body();
    let m = &found.items[0];
    assert_eq!(m.name, "甲");
    assert_eq!(m.phone.as_deref(), Some("+8613800000201"));
    assert_eq!(m.custom["level"], 1);
    assert_eq!(m.channel, "import");
    let b = app
        .search_members(&t.owner(), &json!({ "name": "乙" }))
        .await
        .body();
    assert!(
        b.items[0].card().len() == 12,
        "a card is issued when the file has none"
    );
    let log = app.member_audit(&t.owner(), &m.id).await.body();
    assert_eq!(log[0].channel, "import");
}

#[tokio::test]
async fn valid_only_imports_the_good_rows_of_csv_and_xlsx_files_and_reports_the_rest() {
    let app = spawn_app().await;
    let t = setup(&app).await;
    let r = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "valid_only").mapping(&mapping()),
            BAD_FILE.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(r.status, "done");
    assert_eq!(r.rows_imported, 2);
    assert_eq!(r.error_count, 7);
    assert_eq!(count(&app, &t).await, 3);

    // The same in XLSX, with numbers and dates as Excel stores them.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["name", "phone", "birthday", "level", "tags"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "表格一").unwrap();
    ws.write_number(1, 1, 13800000301.0).unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1995, 7, 1).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_datetime_with_format(1, 2, &date, &fmt).unwrap();
    ws.write_number(1, 3, 7.0).unwrap();
    ws.write_string(1, 4, "vip;new").unwrap();
    ws.write_string(2, 0, "表格二").unwrap();
    ws.write_string(2, 1, "not a phone").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let r = app
        .import_members(&t.owner(), &ImportOptions::new("xlsx", "valid_only"), bytes)
        .await;
    assert_eq!(r.status, "done", "{r:?}");
    assert_eq!(r.rows_imported, 1);
    assert_eq!(r.errors[0].row, 3);
    assert_eq!(r.errors[0].column.as_deref(), Some("phone"));
    let found = app
        .search_members(&t.owner(), &json!({ "phone": "13800000301" }))
        .await
        .body();
    let m = &found.items[0];
    assert_eq!(m.name, "表格一");
    assert_eq!(m.birthday.as_deref(), Some("1995-07-01"));
    assert_eq!(m.custom["level"], 7);
    assert_eq!(m.tags, ["vip", "new"]);
}

#[tokio::test]
async fn exports_hold_the_search_results_and_personal_data_only_for_those_allowed() {
    let app = spawn_app().await;
    let t = setup(&app).await;
    for (name, phone) in [
        ("导出一", "13800000401"),
        ("导出二", "13800000402"),
        ("=HYPERLINK(\"x\")", "13800000403"),
    ] {
        let r = app
            .create_member(
                &t.owner(),
                &NewMember::named(name)
                    .phone(phone)
                    .tags(&["exp"])
                    .custom(json!({ "level": 4 })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let csv = app
        .export_members_csv(&t.owner(), &json!({ "tags": ["exp"] }))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    let text = csv.text().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with("id,card_number,name,phone,email,")
            && lines[0].ends_with("custom.level"),
        "{}",
        lines[0]
    );
    assert!(
        text.contains("导出一") && text.contains("+8613800000401") && !text.contains("Existing")
    );
    assert!(
        text.contains("\"'=HYPERLINK"),
        "formulas are defused: {text}"
    );

    // A marketer may export but not see personal data.
    let (_, marketer) = app.staff_with_roles(&t, &["marketer"]).await;
    let csv = app
        .export_members_csv(&marketer, &json!({ "tags": ["exp"] }))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.body();
    assert!(
        !text.contains("phone") && !text.contains("13800000401") && !text.contains("138****"),
        "{text}"
    );
    assert!(text.contains("导出二"));
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.export_members_csv(&desk, &json!({})).await.status,
        StatusCode::FORBIDDEN
    );

    let xlsx = app
        .export_members_xlsx(&t.owner(), &json!({ "tags": ["exp"] }))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let rows = xlsx_rows(&xlsx.bytes);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0][3], "phone");
    assert!(
        rows.iter()
            .any(|r| r[2] == "导出二" && r[3] == "+8613800000402"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn an_xlsx_export_of_several_pages_holds_every_member_once_in_creation_order() {
    // Arrange: more members than two export pages (1,000 each), imported in one file.
    let app = spawn_app().await;
    let t = setup(&app).await;
    let mut csv = String::from("name,phone\n");
    for n in 0..2_345 {
        csv.push_str(&format!("会员{n},1370000{n:04}\n"));
    }
    let report = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "all_or_nothing"),
            csv.into_bytes(),
        )
        .await;
    assert_eq!(report.rows_imported, 2_345, "{report:?}");

    // Act: the same search as a workbook, streamed from its temporary file.
    let xlsx = app
        .export_members_xlsx(&t.owner(), &json!({ "name": "会员" }))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);

    // Assert: every member once, oldest first (ties by id), as the search pages them.
    let rows = xlsx_rows(&xlsx.bytes);
    assert_eq!(rows.len(), 2_346);
    assert_eq!(rows[0][0], "id");
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 2_345);
    let mut phones: Vec<&str> = rows[1..].iter().map(|r| r[3].as_str()).collect();
    phones.sort_unstable();
    assert_eq!(phones[0], "+8613700000000");
    assert_eq!(phones[2_344], "+8613700002344");
    let page: Vec<String> = app
        .search_all(&t.owner(), json!({ "name": "会员" }), 200)
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, page);
}

#[tokio::test]
async fn an_export_for_people_speaks_their_language_names_options_and_uses_the_business_time() {
    let app = spawn_app().await;
    let t = app.signup("people").await;
    let o = t.owner();
    app.publish_fields(&o, &json!({ "fields": [
            { "key": "plan", "type": "single_select", "label": { "zh-CN": "会籍类型", "en": "Membership" },
              "options": [{ "value": "yearly", "label": { "zh-CN": "年卡", "en": "Yearly" } }] }
        ] }))
        .await
        .created();
    let m = app
        .member(
            &o,
            NewMember::named("王芳")
                .phone("13800000501")
                .gender("female")
                .tags(&["people"])
                .custom(json!({ "plan": "yearly" })),
        )
        .await;
    app.adjust_points(
        &o,
        &m.id,
        &json!({ "idempotency_key": "seed", "points": 880, "reason": "opening balance" }),
    )
    .await
    .created();

    let csv = app
        .export_members_csv_for_people(&o, &json!({ "tags": ["people"] }), "zh-CN")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text().to_owned();
    // No cell of this member holds a comma or a quote.
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    let (header, row) = (&lines[0], &lines[1]);
    let cell = |name: &str| {
        let i = header.iter().position(|c| *c == name);
        row[i.unwrap_or_else(|| panic!("{name} in {header:?}"))].to_owned()
    };
    assert_eq!(cell("姓名"), "王芳");
    assert_eq!(cell("性别"), "女");
    assert_eq!(cell("会籍类型"), "年卡", "the option's label, not its code");
    assert_eq!(cell("积分"), "880");
    // The business is in Asia/Shanghai: the registration time carries no UTC offset and
    // reads as local time, to the minute.
    let at = cell("登记时间");
    assert_eq!(at.len(), "2026-12-03 19:31".len(), "{at}");
    assert!(
        !text.contains("custom.") && !text.contains("yearly"),
        "{text}"
    );

    let en = app
        .export_members_csv_for_people(&o, &json!({ "tags": ["people"] }), "en")
        .await
        .body();
    assert!(
        en.trim_start_matches('\u{feff}')
            .starts_with("Card number,Name,Phone,E-mail,Gender"),
        "{en}"
    );
    assert!(en.contains("Yearly") && en.contains("Female"), "{en}");

    // The machine layout stays the import's.
    let machine = app
        .export_members_csv(&o, &json!({ "tags": ["people"] }))
        .await
        .body();
    assert!(
        machine
            .trim_start_matches('\u{feff}')
            .starts_with("id,card_number,name,"),
        "{machine}"
    );
    assert!(machine.contains("yearly"));
}

/// One number from the database at `url`.
async fn scalar(url: &str, sql: &str, id: Option<uuid::Uuid>) -> i64 {
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

/// Members in the business's schema, counted in the database.
async fn members_in(url: &str, tenant: &patron_db::Tenant) -> i64 {
    let sql = format!("SELECT count(*) FROM {}.members", tenant.schema());
    scalar(url, &sql, None).await
}

/// The parts of an import's file still stored.
async fn stored_parts(url: &str, tenant: &patron_db::Tenant, id: uuid::Uuid) -> i64 {
    let sql = format!(
        "SELECT count(*) FROM {}.member_import_files WHERE import_id = $1::uuid",
        tenant.schema()
    );
    scalar(url, &sql, Some(id)).await
}

async fn finished(app: &TestApp, t: &TestTenant, id: uuid::Uuid) -> Import {
    for _ in 0..600 {
        let r = app.member_import(&t.owner(), &id.to_string()).await.body();
        if r.status != "running" {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import did not finish");
}

#[tokio::test]
async fn an_import_whose_replica_died_is_taken_over_from_its_stored_file_and_a_stale_run_keeps_nothing(
) {
    use chrono::Duration;
    use patron_app::member_files::{
        FileFormat, ImportMode, ImportRequest, Importer, Lease, RunEnd,
    };
    use patron_core::clock::Clock;
    use patron_db::jobs as queue;
    use patron_server::jobs::{JobRunner, Turn, MEMBERS_IMPORT};
    use std::sync::Arc;
    // A database of its own: a job runner claims every due job in its database.
    let (_name, url) = fresh_database().await;
    let app = spawn_app_on(&url, 10).await;
    let t = setup(&app).await;
    let tenant = patron_db::tenants::find_by_slug(&app.db, &t.slug)
        .await
        .unwrap()
        .unwrap();
    let clock = Arc::new(app.clock.clone());
    // As the servers' importers: the same keys seal the phones.
    let importer = Importer::new(
        app.db.clone(),
        clock.clone(),
        Arc::new(patron_core::pii::PiiKeys::development()),
        patron_app::plans::PlanCatalog::new(app.db.clone()),
    );
    let request = |rows: std::ops::Range<u32>| {
        // A skipped column pads the file past one stored part (1 MiB).
        let pad = "备".repeat(150);
        let mut csv = String::from("姓名,手机,备注\n");
        for i in rows {
            csv += &format!("会员{i},139{i:08},{pad}\n");
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &csv).unwrap();
        let request = ImportRequest {
            id: uuid::Uuid::now_v7(),
            format: FileFormat::Csv,
            mode: ImportMode::ValidOnly,
            mapping: [("姓名", "name"), ("手机", "phone"), ("备注", "-")]
                .into_iter()
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .collect(),
            subject: format!("staff:{}", t.owner_id),
        };
        (request, file, csv.len())
    };

    // The replica that received a file of 2,500 members stored it and died before running it.
    let (req, file, size) = request(0..2500);
    assert!(size > 1 << 20, "{size}");
    let (_, first) = importer
        .start(app.db.tenant_tx(&tenant).await.unwrap(), &req, file.path())
        .await
        .unwrap();
    drop(file);
    assert_eq!(first.attempt, 1);
    assert_eq!(stored_parts(&url, &tenant, req.id).await, 2);
    let r = app
        .member_import(&t.owner(), &req.id.to_string())
        .await
        .body();
    assert_eq!((r.status.as_str(), r.rows_read), ("running", 0));

    // Another replica's runner leaves it while the lease lasts, and takes it over after.
    let runner = JobRunner::new(app.db.clone(), clock.clone()).with_imports(importer.clone());
    assert_eq!(runner.turn().await.unwrap(), Turn::Idle);
    app.clock.advance(Duration::seconds(30));
    assert!(
        matches!(runner.turn().await.unwrap(), Turn::Started { kind, .. } if kind == MEMBERS_IMPORT)
    );
    let r = finished(&app, &t, req.id).await;
    assert_eq!(
        (
            r.status.as_str(),
            r.rows_read,
            r.rows_imported,
            r.error_count
        ),
        ("done", 2500, 2500, 0),
        "{r:?}"
    );
    assert_eq!(members_in(&url, &tenant).await, 2501);
    assert_eq!(
        stored_parts(&url, &tenant, req.id).await,
        0,
        "the file is dropped"
    );
    let jobs = queue::recent(&app.db, MEMBERS_IMPORT, 5).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].status.as_str(), jobs[0].attempts), ("done", 2));
    // The first replica comes back and runs its lease: nothing to do, nothing added.
    assert_eq!(
        importer.run(first, &tenant, None).await,
        RunEnd::NothingToDo
    );
    assert_eq!(members_in(&url, &tenant).await, 2501);

    // A run taken over while it writes keeps nothing: its insert is held on a lock, the
    // import is taken over meanwhile, then the held run goes on and reaches its end.
    let (req, file, _) = request(5000..5003);
    let (_, stale) = importer
        .start(app.db.tenant_tx(&tenant).await.unwrap(), &req, file.path())
        .await
        .unwrap();
    let mut lock = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("BEGIN").execute(&mut lock).await.unwrap();
    sqlx::query(&format!(
        "LOCK TABLE {}.members IN SHARE MODE",
        tenant.schema()
    ))
    .execute(&mut lock)
    .await
    .unwrap();
    let held = {
        let (importer, tenant) = (importer.clone(), tenant.clone());
        tokio::spawn(async move { importer.run(stale, &tenant, None).await })
    };
    let mut waiting = false;
    for _ in 0..200 {
        let n = scalar(
            &url,
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND $1::uuid IS NULL",
            None,
        )
        .await;
        if n > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(waiting, "the run's insert waits on the lock");
    app.clock.advance(Duration::seconds(30));
    let job = queue::claim(
        &app.db,
        "another-replica",
        clock.now(),
        Duration::minutes(5),
        &[],
    )
    .await
    .unwrap()
    .expect("the lapsed import's job");
    let taker = Lease::of_job(&job, "another-replica").unwrap();
    assert_eq!((taker.import, taker.attempt), (req.id, 2));
    let mut tx = app.db.tenant_tx(&tenant).await.unwrap();
    assert!(patron_db::members::import_take_over(&mut tx, req.id, 2)
        .await
        .unwrap()
        .is_some());
    tx.commit().await.unwrap();
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    assert_eq!(held.await.unwrap(), RunEnd::TakenOver);
    assert_eq!(
        members_in(&url, &tenant).await,
        2501,
        "the stale run kept nothing"
    );
    assert_eq!(
        importer.run(taker, &tenant, None).await,
        RunEnd::Recorded { status: "done" }
    );
    let r = finished(&app, &t, req.id).await;
    assert_eq!((r.status.as_str(), r.rows_imported), ("done", 3), "{r:?}");
    assert_eq!(members_in(&url, &tenant).await, 2504);
    app.stop().await;
}
