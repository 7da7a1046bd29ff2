//! On a Citus cluster with schema-based sharding (scripts/citus runs these; elsewhere they
//! are ignored): a business's schema is a distributed schema on one worker, and moving it to
//! another worker while purchases arrive loses no acknowledged purchase and leaves its
//! ledger consistent.

use patron_db::tenants;
use patron_tests::internals::assert_ledger_agrees;
use patron_tests::*;
use reqwest::StatusCode;

/// Where the tenant schema's tables are placed: (a shard id, node name, node port).
async fn placement(conn: &mut sqlx::PgConnection, schema: &str) -> (i64, String, i32) {
    sqlx::query_as(
        "SELECT shardid, nodename::text, nodeport FROM citus_shards
         WHERE citus_table_type = 'schema' AND colocation_id =
               (SELECT colocation_id FROM citus_schemas WHERE schema_name = $1::regnamespace)
         ORDER BY shardid LIMIT 1",
    )
    .bind(schema)
    .fetch_one(conn)
    .await
    .expect("the tenant schema is a distributed schema with shards")
}

#[tokio::test]
#[ignore = "needs a Citus cluster with schema-based sharding: scripts/citus"]
async fn a_tenant_moved_to_another_worker_while_purchases_run_loses_nothing() {
    use sqlx::Connection;
    let app = spawn_app_with(20).await;
    let t = app.signup_on("citus-move", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("Ann")).await.id;
    app.publish_script(
        &owner,
        "purchase",
        r#"award(floor_div(event.amount, 100), "1 point per yuan");"#,
    )
    .await;
    let tenant = tenants::find_by_slug(&app.db, &t.slug)
        .await
        .unwrap()
        .unwrap();
    let schema = tenant.schema().to_owned();
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let (shard, from_host, from_port) = placement(&mut conn, &schema).await;
    let (to_host, to_port): (String, i32) = sqlx::query_as(
        "SELECT nodename::text, nodeport FROM pg_dist_node
         WHERE noderole = 'primary' AND shouldhaveshards AND groupid <> 0
           AND NOT (nodename = $1 AND nodeport = $2)
         ORDER BY nodeid LIMIT 1",
    )
    .bind(&from_host)
    .bind(from_port)
    .fetch_one(&mut conn)
    .await
    .expect("a second worker");

    // Four tills, each sending purchases one after another, while the schema moves.
    let tills: Vec<_> = (0..4)
        .map(|till| {
            let api = app.api.clone();
            let (owner, m) = (owner.clone(), m.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut refused = Vec::new();
                for n in 0..40 {
                    let id = format!("till{till}-{n}");
                    let r = api
                        .record_purchase(&owner, &NewPurchase::for_member(&id, &m, 100))
                        .await;
                    if r.status == StatusCode::CREATED {
                        acknowledged.push((id, r.body().points));
                    } else {
                        refused.push((id, r.status));
                    }
                }
                (acknowledged, refused)
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    sqlx::query("SELECT citus_move_shard_placement($1, $2, $3, $4, $5, 'block_writes')")
        .bind(shard)
        .bind(&from_host)
        .bind(from_port)
        .bind(&to_host)
        .bind(to_port)
        .execute(&mut conn)
        .await
        .expect("citus_move_shard_placement");
    let moved_in = started.elapsed();
    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    for till in tills {
        let (a, r) = till.await.unwrap();
        acknowledged.extend(a);
        refused.extend(r);
    }
    let (_, _, now_port) = placement(&mut conn, &schema).await;
    assert_eq!(now_port, to_port, "the schema moved to the other worker");
    assert!(
        refused.is_empty(),
        "purchases refused during the move: {refused:?}"
    );
    assert_eq!(acknowledged.len(), 160);

    // Every acknowledged purchase is there, once, with the points it was acknowledged with
    // (a rule evaluation that missed its deadline on a loaded machine earns 0, by design).
    let history = app.member_purchases(&owner, &m).await.body();
    assert_eq!(history.total_count, 160, "moved in {moved_in:?}");
    let earned: i64 = acknowledged.iter().map(|(_, p)| p).sum();
    assert!(earned > 0);
    let points = app.member_points(&owner, &m).await.body();
    assert_eq!(points.balance, earned);
    assert_ledger_agrees(&app, &t.slug).await;
}
