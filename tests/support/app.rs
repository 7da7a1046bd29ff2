//! The server under test: databases, starting and stopping it, credentials, and [`Api`], the
//! HTTP client every capability module adds its operations to.

use super::reply::Reply;
use chrono::Utc;
use patron_core::clock::ManualClock;
use patron_db::Db;
use patron_server::{Application, Options};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
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

/// The payment webhook's shared secret in tests.
pub const PAYMENT_SECRET: &str = "test-payment-webhook-secret";

/// The password every test account gets.
pub const PASSWORD: &str = "a-good-long-password";

/// Credentials to send with a request.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Key(String),
}

/// A client of one running server: one typed method per API operation, added by the
/// capability modules. Cheap to clone into spawned tasks.
#[derive(Clone, Debug)]
pub struct Api {
    /// `http://127.0.0.1:port`.
    pub base: String,
    pub http: reqwest::Client,
}

/// One request being put together.
pub struct Call {
    req: reqwest::RequestBuilder,
}

impl Call {
    pub fn auth(mut self, auth: &Auth) -> Self {
        self.req = match auth {
            Auth::None => self.req,
            Auth::Bearer(t) => self.req.bearer_auth(t),
            Auth::Key(k) => self.req.header("X-Api-Key", k),
        };
        self
    }

    /// A JSON body; `null` sends none.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        let body = serde_json::to_value(body).expect("a JSON body");
        if !body.is_null() {
            self.req = self.req.json(&body);
        }
        self
    }

    /// Query parameters (`None` values are left out).
    pub fn query(mut self, query: &impl Serialize) -> Self {
        self.req = self.req.query(query);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.req = self.req.header(name, value);
        self
    }

    /// A raw body of `content_type`.
    pub fn bytes(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.req = self.req.header("content-type", content_type).body(bytes);
        self
    }

    pub async fn send<T: DeserializeOwned>(self) -> Reply<T> {
        let (http, req) = self.req.build_split();
        let req = req.expect("a request");
        let (method, url) = (req.method().clone(), req.url().clone());
        let resp = http.execute(req).await.expect("request sent");
        let base = format!("{}://{}", url.scheme(), url.authority());
        super::documented::check(&http, &base, &method, &url, resp.status()).await;
        Reply::read(resp).await
    }
}

impl Api {
    /// A request to `path` under the server's root.
    pub(crate) fn at(&self, method: Method, path: &str) -> Call {
        Call {
            req: self.http.request(method, format!("{}{path}", self.base)),
        }
    }

    /// A request to `path` under `/api/v1`.
    pub(crate) fn v1(&self, method: Method, path: &str) -> Call {
        self.at(method, &format!("/api/v1{path}"))
    }

    /// RAW HTTP, for tests about routing, unknown paths and malformed requests only: every
    /// other test goes through the typed operations. `body` of `Null` sends none.
    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Value) -> Reply {
        self.at(method, path).auth(auth).json(&body).send().await
    }

    /// RAW HTTP, as [`Api::call`], for requests that need headers or bodies of their own.
    pub fn raw(&self, method: Method, path: &str) -> Call {
        self.at(method, path)
    }
}

/// A running server on a free port, with its database and the clock it reads.
pub struct TestApp {
    pub api: Api,
    pub db: Db,
    pub clock: ManualClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(10).await
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
    spawn_app_full(url, max_connections, pii_keys, None).await
}

/// Starts the server with every option the tests vary: the keys, and the object store for
/// uploads (none: uploads answer 503).
pub async fn spawn_app_full(
    url: &str,
    max_connections: u32,
    pii_keys: patron_core::pii::PiiKeys,
    storage: Option<patron_storage::S3Config>,
) -> TestApp {
    spawn_app_configured(url, max_connections, pii_keys, storage, None).await
}

/// [`spawn_app_full`], and the SMS gateway text messages go through (none: they stay in the
/// development `sms_outbox` table).
pub async fn spawn_app_configured(
    url: &str,
    max_connections: u32,
    pii_keys: patron_core::pii::PiiKeys,
    storage: Option<patron_storage::S3Config>,
    sms: Option<patron_outbound::SmsGatewayConfig>,
) -> TestApp {
    // `PATRON_TEST_LOG=warn` (any filter) prints the servers' logs, such as the error behind
    // a 500, to the test's output.
    if let Ok(filter) = std::env::var("PATRON_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
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
            spare_schemas: 0,
            pii_keys,
            payment_webhook_secret: Some(PAYMENT_SECRET.to_owned().into()),
            sandbox: Some(patron_rules::SandboxConfig::default()),
            messages: patron_server::MessagesConfig {
                smtp: None,
                sms,
                webhooks_allow_private: true,
            },
            // As behind a TLS proxy: the tests set X-Forwarded-Proto and X-Forwarded-For.
            trust_proxy: true,
            storage,
            console_url: None,
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
        api: Api {
            base,
            http: reqwest::Client::new(),
        },
        db,
        clock,
        stop: Some(tx),
        handle: Some(handle),
    }
}

impl TestApp {
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
