//! `patron tenant export` / `import`: one business written to a file and restored into
//! another database answers every read the same, its logins and keys still work, its ledger
//! agrees with itself, and restoring over an existing copy needs --replace.

use patron_db::transfer;
use patron_tests::internals::assert_ledger_agrees;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn okj<T>(r: Reply<T>) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    r.json
}

/// The reads compared before and after: (what, answer).
async fn reads(app: &TestApp, owner: &Auth, members: &[String]) -> Vec<(String, Value)> {
    let mut out = vec![
        ("me".to_owned(), okj(app.me(owner).await)),
        ("staff".to_owned(), okj(app.list_staff(owner).await)),
        ("members".to_owned(), okj(app.list_members(owner).await)),
        (
            "search by name".to_owned(),
            okj(app.search_members(owner, &json!({ "name": "Zhang" })).await),
        ),
        (
            "points settings".to_owned(),
            okj(app.points_settings(owner).await),
        ),
    ];
    for m in members {
        out.push((format!("member {m}"), okj(app.get_member(owner, m).await)));
        out.push((
            format!("points {m}"),
            okj(app.member_points(owner, m).await),
        ));
        out.push((
            format!("purchases {m}"),
            okj(app.member_purchases(owner, m).await),
        ));
        out.push((
            format!("entries {m}"),
            okj(app.points_entries(owner, m, Some(100)).await),
        ));
    }
    out
}

#[tokio::test]
async fn a_business_exported_and_imported_into_another_database_answers_the_same() {
    let a = spawn_app().await;
    let t = a.signup_on("moving", "pro").await;
    let owner = t.owner();
    let ann = a
        .member(&owner, NewMember::named("Zhang Ann").phone("13800138000"))
        .await
        .id;
    let bo = a
        .member(&owner, NewMember::named("Li Bo").referrer(&ann))
        .await
        .id;
    a.publish_script(
        &owner,
        "purchase",
        r#"award(floor_div(event.amount, 100), "1 point per yuan");"#,
    )
    .await;
    for (n, (m, amount)) in [(&ann, 12_300), (&bo, 4_500), (&ann, 800)]
        .into_iter()
        .enumerate()
    {
        a.purchase(&owner, m, &format!("p-{n}"), amount).await;
    }
    let members = vec![ann.clone(), bo.clone()];
    let before = reads(&a, &owner, &members).await;

    let mut file = Vec::new();
    let written = transfer::export(&a.db, &t.slug, &mut file).await.unwrap();
    assert!(written.rows["members"] >= 2, "{:?}", written.rows);
    assert_eq!(written.rows["platform.tenants"], 1);

    let (name, url) = fresh_database().await;
    let b = spawn_app_on(&url, 5).await;
    // The other database made a spare schema under the business's id: it gives way.
    let mut sql = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA t_{}", t.id))
        .execute(&mut sql)
        .await
        .unwrap();
    sqlx::query("INSERT INTO platform.spare_schemas (id, schema_version) VALUES ($1, $2)")
        .bind(t.id)
        .bind(patron_db::migrate::latest_tenant_version())
        .execute(&mut sql)
        .await
        .unwrap();
    let read = transfer::import(&b.db, &mut file.as_slice(), false)
        .await
        .unwrap();
    assert_eq!(read.rows, written.rows);
    let spares: i64 = sqlx::query_scalar("SELECT count(*) FROM platform.spare_schemas")
        .fetch_one(&mut sql)
        .await
        .unwrap();
    assert_eq!(spares, 0);
    drop(sql);

    // The same login works on the new database, and every read answers the same.
    let after = reads(&b, &owner, &members).await;
    for ((what, x), (_, y)) in before.iter().zip(&after) {
        assert_eq!(x, y, "{what} differs after the move");
    }
    assert_ledger_agrees(&b, &t.slug).await;
    // New writes continue the imported sequences (no clash with imported rows).
    let more = b.purchase(&owner, &bo, "p-after", 1_000).await;
    assert_eq!(more.balance, 45 + 10);
    let carol = b.member(&owner, NewMember::named("Carol")).await;
    assert_ne!(carol.id, ann);

    // Importing again over the copy is refused, and allowed with replace.
    let again = transfer::import(&b.db, &mut file.as_slice(), false).await;
    assert!(
        again.is_err(),
        "a second import without replace was accepted"
    );
    transfer::import(&b.db, &mut file.as_slice(), true)
        .await
        .unwrap();
    let restored = b.member_purchases(&owner, &bo).await.ok();
    assert_eq!(
        restored.total_count, 1,
        "the restore brought back the exported state"
    );
    assert_eq!(
        b.get_member(&owner, &carol.id).await.status,
        StatusCode::NOT_FOUND
    );
    b.stop().await;
    drop_database(&name).await;
}
