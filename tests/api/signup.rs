//! Sign-up: a new business with its owner logged in, defaults, taken and invalid slugs, and
//! a failed sign-up that leaves nothing behind.

use patron_db::tenants::NewTenant;
use patron_db::{provision, tenants, DbError};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn a_new_business_signs_up_and_its_owner_is_logged_in_with_every_permission() {
    let app = spawn_app().await;
    let slug = unique_slug("gym");
    let r = app
        .register_business(
            &json!({ "business_name": "铁人健身", "slug": slug, "owner_name": "王老板", "email": "Boss@Iron.example.com",
                     "password": PASSWORD, "time_zone": "Europe/Paris", "currency": "eur", "locale": "en", "phone_region": "fr" }),
        )
        .await
        .created();
    assert_eq!(r.tenant.slug, slug);
    assert_eq!(r.tenant.name, "铁人健身");
    assert_eq!(r.tenant.time_zone, "Europe/Paris");
    assert_eq!(r.tenant.currency, "EUR");
    assert_eq!(r.tenant.phone_region, "FR");
    // New accounts start on the default plan's trial.
    assert_eq!(r.tenant.plan, "starter");
    assert_eq!(r.tenant.status, "trial");
    assert!(r.tenant.trial_ends_at.is_some());
    assert_eq!(r.session.staff.roles, ["owner"]);

    let token = r.session.auth();
    let me = app.me(&token).await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.body();
    assert_eq!(me.email.as_deref(), Some("Boss@Iron.example.com"));
    assert_eq!(
        me.permissions.len(),
        patron_core::access::Permission::ALL.len()
    );

    let tenant = tenants::find_by_slug(&app.db, &slug)
        .await
        .unwrap()
        .expect("tenant row");
    assert!(tenants::schema_exists(&app.db, tenant.schema())
        .await
        .unwrap());
    assert_eq!(
        tenant.schema_version,
        patron_db::migrate::latest_tenant_version()
    );

    // The e-mail is matched case-insensitively at login.
    let login = app.login(&slug, "boss@iron.example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");
}

#[tokio::test]
async fn signup_defaults_to_shanghai_cny_zh_cn_and_cn() {
    let app = spawn_app().await;
    let t = app.signup("defaults").await;
    let s = app.settings(&t.owner()).await;
    assert_eq!(s.status, StatusCode::OK);
    let s = s.body();
    assert_eq!(
        (s.time_zone.as_str(), s.currency.as_str()),
        ("Asia/Shanghai", "CNY")
    );
    assert_eq!(
        (s.locale.as_str(), s.phone_region.as_str()),
        ("zh-CN", "CN")
    );
}

#[tokio::test]
async fn a_taken_slug_is_a_conflict_naming_the_slug() {
    let app = spawn_app().await;
    let t = app.signup("dup").await;
    let r = app
        .register_business(&json!({ "business_name": "Other", "slug": t.slug, "owner_name": "X", "email": "x@other.example.com", "password": PASSWORD }))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "slug_taken");
    assert_eq!(r.problem().fields[0].field, "slug");
}

#[tokio::test]
async fn invalid_slugs_and_values_are_refused_with_every_bad_field_named() {
    let app = spawn_app().await;
    for bad in [
        "ab",
        "Upper-case",
        "under_score",
        "-lead",
        "trail-",
        "api",
        "admin",
        "健身房",
        &"a".repeat(41),
    ] {
        let r = app
            .register_business(&json!({ "business_name": "B", "slug": bad, "owner_name": "O", "email": "o@b.example.com", "password": PASSWORD }))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {r:?}");
        assert_eq!(r.problem().fields[0].field, "slug", "{bad}");
        assert!(tenants::find_by_slug(&app.db, bad).await.unwrap().is_none());
    }
    let r = app
        .register_business(
            &json!({ "business_name": " ", "slug": unique_slug("ok"), "owner_name": "O", "email": "nope", "password": "short",
                     "time_zone": "Mars/Base", "currency": "XYZ", "locale": "fr", "phone_region": "ZZ" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "business_name",
            "currency",
            "email",
            "locale",
            "password",
            "phone_region",
            "time_zone"
        ]
    );
}

#[tokio::test]
async fn a_signup_that_fails_after_its_schema_was_created_leaves_no_row_and_no_schema() {
    let app = spawn_app().await;
    let slug = unique_slug("doomed");
    let seen = Arc::new(Mutex::new(None::<(i64, String)>));
    let seen_in = seen.clone();
    let new = NewTenant {
        slug: patron_core::tenants::Slug::parse(&slug).unwrap(),
        name: "Doomed".into(),
        settings: Default::default(),
        plan_code: None,
        now: chrono::Utc::now(),
    };
    let result = provision(&app.db, new, move |tx| {
        Box::pin(async move {
            // By now the row exists, the schema exists and its migrations ran; the owner and
            // roles are created through this very transaction.
            patron_db::access::seed_builtin_roles(tx).await?;
            *seen_in.lock().unwrap() = Some((tx.tenant_id(), tx.domain().to_owned()));
            Err::<(), _>(DbError::Aborted("owner creation failed".into()))
        })
    })
    .await;
    assert!(matches!(result, Err(DbError::Aborted(_))));
    let (id, schema) = seen
        .lock()
        .unwrap()
        .clone()
        .expect("init ran after the schema was created");
    assert!(
        tenants::find_by_id(&app.db, id).await.unwrap().is_none(),
        "tenant row left behind"
    );
    assert!(tenants::find_by_slug(&app.db, &slug)
        .await
        .unwrap()
        .is_none());
    assert!(
        !tenants::schema_exists(&app.db, &schema).await.unwrap(),
        "schema {schema} left behind"
    );

    // The slug is free again.
    app.register_business(&json!({ "business_name": "Second try", "slug": slug, "owner_name": "O", "email": "o@b.example.com", "password": PASSWORD }))
        .await
        .created();
}

/// The spare schemas waiting for a signup: (id, version), in id order.
async fn spares(sql: &sqlx::PgPool) -> Vec<(i64, i64)> {
    sqlx::query_as("SELECT id, schema_version FROM platform.spare_schemas ORDER BY id")
        .fetch_all(sql)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_signup_takes_a_spare_schema_made_ahead_and_a_failed_one_leaves_it_spare() {
    use patron_app::signup::{keep_spare_schemas, SparePass};
    // Its own database: the spares are the whole platform's, and other tests sign up.
    let (name, url) = fresh_database().await;
    let app = spawn_app_on(&url, 12).await;
    let sql = sqlx::PgPool::connect(&url).await.unwrap();
    let latest = patron_db::migrate::latest_tenant_version();

    // Two are made, each a schema with every tenant migration; a second pass makes none.
    let pass = keep_spare_schemas(&app.db, 2).await.unwrap();
    assert_eq!(
        pass,
        SparePass {
            dropped: 0,
            made: 2
        }
    );
    assert_eq!(
        keep_spare_schemas(&app.db, 2).await.unwrap(),
        SparePass::default()
    );
    let made = spares(&sql).await;
    assert_eq!(
        made.iter().map(|s| s.1).collect::<Vec<_>>(),
        [latest, latest]
    );
    for (id, _) in &made {
        assert!(tenants::schema_exists(&app.db, &format!("t_{id}"))
            .await
            .unwrap());
        let applied: i64 = sqlx::query_scalar(&format!(
            "SELECT max(version) FROM \"t_{id}\".schema_migrations"
        ))
        .fetch_one(&sql)
        .await
        .unwrap();
        assert_eq!(applied, latest);
    }

    // A signup takes the oldest spare: its id is the account's, and the account works.
    let t = app.signup("spare").await;
    assert_eq!(t.id, made[0].0);
    assert_eq!(spares(&sql).await, [made[1]]);
    let tenant = tenants::find_by_id(&app.db, t.id).await.unwrap().unwrap();
    assert_eq!(tenant.schema(), format!("t_{}", t.id));
    assert_eq!(tenant.schema_version, latest);
    let m = app.member(&t.owner(), NewMember::named("Ann")).await.id;
    let adjusted = app
        .adjust_points(
            &t.owner(),
            &m,
            &json!({ "idempotency_key": "w-1", "points": 30, "reason": "welcome" }),
        )
        .await
        .created();
    assert_eq!(adjusted.balance, 30);
    let login = app.login(&t.slug, &t.owner_email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");

    // A signup that fails after taking the spare (the slug is taken) puts it back.
    let r = app
        .register_business(
            &json!({ "business_name": "Again", "slug": t.slug, "owner_name": "O",
                                    "email": "o@again.example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(spares(&sql).await, [made[1]]);

    // Six signups at once with one spare: each gets its own schema, exactly one of them
    // the spare; the others make theirs.
    let signups = futures::future::join_all((0..6).map(|i| {
        let app = &app;
        async move { app.signup(&format!("rush{i}")).await.id }
    }))
    .await;
    let mut ids = signups.clone();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6, "{signups:?}");
    assert_eq!(signups.iter().filter(|id| **id == made[1].0).count(), 1);
    assert!(spares(&sql).await.is_empty());
    for id in &signups {
        let t = tenants::find_by_id(&app.db, *id).await.unwrap().unwrap();
        assert_eq!(t.schema_version, latest);
    }

    // A spare older than the server's migrations is not taken, and the next pass drops it
    // (with its schema) and makes a new one.
    keep_spare_schemas(&app.db, 1).await.unwrap();
    let old = spares(&sql).await[0].0;
    sqlx::query("UPDATE platform.spare_schemas SET schema_version = schema_version - 1")
        .execute(&sql)
        .await
        .unwrap();
    let t = app.signup("after-upgrade").await;
    assert_ne!(t.id, old);
    assert_eq!(spares(&sql).await, [(old, latest - 1)]);
    let pass = keep_spare_schemas(&app.db, 1).await.unwrap();
    assert_eq!(
        pass,
        SparePass {
            dropped: 1,
            made: 1
        }
    );
    assert!(!tenants::schema_exists(&app.db, &format!("t_{old}"))
        .await
        .unwrap());
    let fresh = spares(&sql).await;
    assert_eq!(fresh.len(), 1);
    assert!(fresh[0].0 > old && fresh[0].1 == latest);

    sql.close().await;
    app.stop().await;
    drop_database(&name).await;
}
