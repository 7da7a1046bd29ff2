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
