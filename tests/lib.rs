//! Test support: start the real server on a free port against the real PostgreSQL named by
//! `PATRON_DATABASE_URL`, and talk to it over HTTP like any client.

use chrono::Utc;
use patron_core::clock::ManualClock;
use patron_db::Db;
use patron_server::{Application, Options};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

/// The database every test shares; each test makes its own tenants, so none collide.
pub fn database_url() -> String {
    std::env::var("PATRON_DATABASE_URL")
        .expect("PATRON_DATABASE_URL must point at a PostgreSQL database (scripts/test sets it)")
}

/// A URL for another database on the same server.
pub fn database_url_for(name: &str) -> String {
    let url = database_url();
    let (base, _) = url.rsplit_once('/').expect("URL has a database name");
    format!("{base}/{name}")
}

/// Connects and migrates (idempotent; the migrator serialises concurrent callers).
pub async fn migrated_db(url: &str, max_connections: u32) -> Db {
    let db = Db::connect(url, max_connections).await.expect("connect");
    patron_db::migrate::migrate_platform(&db)
        .await
        .expect("migrate platform");
    db
}

/// A unique slug for a test tenant.
pub fn unique_slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// The payment webhook's shared secret in tests.
pub const PAYMENT_SECRET: &str = "test-payment-webhook-secret";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub clock: ManualClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A response: status, headers and the JSON body (or `Null`).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// Credentials to send with a request.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Key(String),
}

/// A tenant made for a test, with its owner logged in.
#[derive(Clone, Debug)]
pub struct TestTenant {
    pub id: i64,
    pub slug: String,
    pub owner_email: String,
    pub owner_password: String,
    pub owner_token: String,
    pub owner_id: String,
}

impl TestTenant {
    pub fn owner(&self) -> Auth {
        Auth::Bearer(self.owner_token.clone())
    }
}

pub const PASSWORD: &str = "a-good-long-password";

/// Creates an empty database of its own on the test server; returns (name, URL).
pub async fn fresh_database() -> (String, String) {
    use sqlx::Connection;
    let name = format!("patron_t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&database_url())
        .await
        .expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    (name.clone(), database_url_for(&name))
}

pub async fn drop_database(name: &str) {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&database_url())
        .await
        .expect("connect");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop database");
}

/// Starts the server with a database pool of `max_connections`.
pub async fn spawn_app_with(max_connections: u32) -> TestApp {
    spawn_app_on(&database_url(), max_connections).await
}

/// Starts the server on the database at `url` (for tests whose background work spans every
/// tenant and so must not share a database with other tests).
pub async fn spawn_app_on(url: &str, max_connections: u32) -> TestApp {
    spawn_app_with_keys(
        url,
        max_connections,
        patron_core::pii::PiiKeys::development(),
    )
    .await
}

/// Starts the server on the database at `url` with these keys sealing personal data (two
/// servers with different keys can share one database, as replicas do during a rotation).
pub async fn spawn_app_with_keys(
    url: &str,
    max_connections: u32,
    pii_keys: patron_core::pii::PiiKeys,
) -> TestApp {
    let db = migrated_db(url, max_connections).await;
    let clock = ManualClock::new(Utc::now());
    let app = Application::build(
        db.clone(),
        Arc::new(clock.clone()),
        Options {
            listen: "127.0.0.1:0".into(),
            session_ttl: chrono::Duration::hours(12),
            console_dir: None,
            run_jobs: false,
            pii_keys,
            payment_webhook_secret: Some(PAYMENT_SECRET.to_owned().into()),
            sandbox: Some(patron_rules::SandboxConfig::default()),
        },
    )
    .await
    .expect("build application");
    let base = format!("http://{}", app.addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::new(),
        db,
        clock,
        stop: Some(tx),
        handle: Some(handle),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(10).await
}

impl TestApp {
    /// Sends a request; `body` of `Null` sends none.
    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Value) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        req = match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Key(k) => req.header("X-Api-Key", k),
        };
        if !body.is_null() {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        });
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Reply {
        self.call(Method::GET, path, auth, Value::Null).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Reply {
        self.call(Method::POST, path, auth, body).await
    }

    pub async fn patch(&self, path: &str, auth: &Auth, body: Value) -> Reply {
        self.call(Method::PATCH, path, auth, body).await
    }

    pub async fn delete(&self, path: &str, auth: &Auth) -> Reply {
        self.call(Method::DELETE, path, auth, Value::Null).await
    }

    /// Signs a new business up on the default plan; panics unless it succeeds.
    pub async fn signup(&self, prefix: &str) -> TestTenant {
        self.sign_up(prefix, None).await
    }

    pub async fn login(&self, tenant: &str, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({ "tenant": tenant, "email": email, "password": password }),
        )
        .await
    }

    /// Creates a staff member with `roles` and logs them in; returns (id, token).
    pub async fn staff_with_roles(&self, t: &TestTenant, roles: &[&str]) -> (String, Auth) {
        let email = format!("{}@{}.example.com", uuid::Uuid::new_v4().simple(), t.slug);
        let r = self
            .post(
                "/api/v1/staff",
                &t.owner(),
                json!({ "email": email, "name": "Staff", "password": PASSWORD, "roles": roles }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let id = r.body["id"].as_str().expect("id").to_owned();
        let l = self.login(&t.slug, &email, PASSWORD).await;
        assert_eq!(l.status, StatusCode::OK, "{:?}", l.body);
        (
            id,
            Auth::Bearer(l.body["token"].as_str().expect("token").to_owned()),
        )
    }

    pub async fn put(&self, path: &str, auth: &Auth, body: Value) -> Reply {
        self.call(Method::PUT, path, auth, body).await
    }

    /// Signs a new business up on `plan`; panics unless it succeeds.
    pub async fn signup_on(&self, prefix: &str, plan: &str) -> TestTenant {
        self.sign_up(prefix, Some(plan)).await
    }

    async fn sign_up(&self, prefix: &str, plan: Option<&str>) -> TestTenant {
        let slug = unique_slug(prefix);
        let owner_email = format!("owner@{slug}.example.com");
        let mut body = json!({ "business_name": format!("Business {slug}"), "slug": slug, "owner_name": "Owner", "email": owner_email, "password": PASSWORD });
        if let Some(plan) = plan {
            body["plan"] = json!(plan);
        }
        let r = self.post("/api/v1/signup", &Auth::None, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "signup failed: {:?}", r.body);
        if let Some(plan) = plan {
            assert_eq!(r.body["tenant"]["plan"], plan);
        }
        TestTenant {
            id: r.body["tenant"]["id"].as_i64().expect("tenant id"),
            slug,
            owner_email,
            owner_password: PASSWORD.into(),
            owner_token: r.body["session"]["token"]
                .as_str()
                .expect("token")
                .to_owned(),
            owner_id: r.body["session"]["staff"]["id"]
                .as_str()
                .expect("staff id")
                .to_owned(),
        }
    }

    /// An integration key with `role`, made by the owner. Unlike a login, it lasts while a
    /// test moves the clock by days.
    pub async fn api_key(&self, t: &TestTenant, role: &str) -> Auth {
        let r = self
            .post(
                "/api/v1/api-keys",
                &t.owner(),
                json!({ "name": format!("{role} key"), "role": role }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        Auth::Key(r.body["key"].as_str().expect("key").to_owned())
    }

    /// Records a purchase of `amount` for `member`; panics unless it is created.
    pub async fn purchase(
        &self,
        auth: &Auth,
        member: &str,
        external_id: &str,
        amount: i64,
    ) -> Value {
        let r = self
            .post(
                "/api/v1/purchases",
                auth,
                json!({ "external_id": external_id, "member_id": member, "amount": amount }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body
    }

    /// Creates a platform operator straight in the database (as `patron operator create`
    /// does) and logs in through the API; returns the operator's token.
    pub async fn operator(&self) -> Auth {
        let email = format!("op-{}@patron.example.com", uuid::Uuid::new_v4().simple());
        let hash = patron_core::auth::Password::parse(PASSWORD).unwrap().hash();
        patron_db::operators::create(&self.db, &email, "Operator", &hash, Utc::now())
            .await
            .expect("operator created");
        let r = self
            .post(
                "/api/v1/ops/login",
                &Auth::None,
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        Auth::Bearer(r.body["token"].as_str().expect("token").to_owned())
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server ran cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
