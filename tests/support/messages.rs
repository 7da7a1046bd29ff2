//! Messages and webhooks: templates, endpoints, their delivery log, replay; a real webhook
//! receiver on 127.0.0.1 and a real SMTP server (aiosmtpd) that store what they get.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Deserialize)]
pub struct MessageTemplate {
    pub occasion: String,
    pub channel: String,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub enabled: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TemplatePreview {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MessageRow {
    pub id: i64,
    pub channel: String,
    pub member_id: Option<String>,
    pub occasion: Option<String>,
    pub subject: Option<String>,
    pub status: String,
    pub attempts: i32,
    /// Why a held message waits.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WebhookAttempt {
    pub ok: bool,
    pub status_code: Option<i32>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub message_id: String,
    pub event: String,
    pub status: String,
    pub attempts: i32,
    pub body: String,
    pub tries: Vec<WebhookAttempt>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Replay {
    pub queued: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WebhookTest {
    pub ok: bool,
    pub status_code: Option<u16>,
}

/// A template body for `saveMessageTemplate`.
pub fn email_template(occasion: &str, locale: &str, subject: &str, text: &str) -> Value {
    json!({
        "occasion": occasion,
        "channel": "email",
        "locale": locale,
        "subject": subject,
        "body_text": text,
    })
}

impl Api {
    pub async fn list_message_templates(&self, auth: &Auth) -> Reply<Vec<MessageTemplate>> {
        self.v1(Method::GET, "/messages/templates")
            .auth(auth)
            .send()
            .await
    }

    pub async fn save_message_template(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<MessageTemplate> {
        self.v1(Method::PUT, "/messages/templates")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    pub async fn preview_message_template(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<TemplatePreview> {
        self.v1(Method::POST, "/messages/templates/preview")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    pub async fn list_messages(&self, auth: &Auth) -> Reply<Vec<MessageRow>> {
        self.v1(Method::GET, "/messages").auth(auth).send().await
    }

    /// The messages of one channel (`email`, `sms`).
    pub async fn list_messages_of(&self, auth: &Auth, channel: &str) -> Reply<Vec<MessageRow>> {
        self.v1(Method::GET, "/messages")
            .auth(auth)
            .query(&[("channel", channel)])
            .send()
            .await
    }

    pub async fn list_webhook_endpoints(&self, auth: &Auth) -> Reply<Vec<WebhookEndpoint>> {
        self.v1(Method::GET, "/webhooks/endpoints")
            .auth(auth)
            .send()
            .await
    }

    pub async fn create_webhook_endpoint(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<WebhookEndpoint> {
        self.v1(Method::POST, "/webhooks/endpoints")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    pub async fn get_webhook_endpoint(&self, auth: &Auth, id: &str) -> Reply<WebhookEndpoint> {
        self.v1(Method::GET, &format!("/webhooks/endpoints/{id}"))
            .auth(auth)
            .send()
            .await
    }

    pub async fn update_webhook_endpoint(
        &self,
        auth: &Auth,
        id: &str,
        input: &impl Serialize,
    ) -> Reply<WebhookEndpoint> {
        self.v1(Method::PUT, &format!("/webhooks/endpoints/{id}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    pub async fn rotate_webhook_secret(&self, auth: &Auth, id: &str) -> Reply<WebhookEndpoint> {
        self.v1(
            Method::POST,
            &format!("/webhooks/endpoints/{id}/rotate-secret"),
        )
        .auth(auth)
        .send()
        .await
    }

    pub async fn webhook_deliveries(&self, auth: &Auth, id: &str) -> Reply<Vec<WebhookDelivery>> {
        self.v1(Method::GET, &format!("/webhooks/endpoints/{id}/deliveries"))
            .auth(auth)
            .send()
            .await
    }

    pub async fn replay_webhooks(&self, auth: &Auth, id: &str, since: &str) -> Reply<Replay> {
        self.v1(Method::POST, &format!("/webhooks/endpoints/{id}/replay"))
            .auth(auth)
            .json(&json!({ "since": since }))
            .send()
            .await
    }

    pub async fn test_webhook_endpoint(&self, auth: &Auth, id: &str) -> Reply<WebhookTest> {
        self.v1(Method::POST, &format!("/webhooks/endpoints/{id}/test"))
            .auth(auth)
            .send()
            .await
    }
}

/// One call a [`Receiver`] got.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// What a receiver shares with its handler: the calls kept, the statuses still to answer.
type ReceiverState = (Arc<Mutex<Vec<Received>>>, Arc<Mutex<Vec<u16>>>);

/// A webhook endpoint on 127.0.0.1: keeps every call and answers the statuses it is told,
/// in order (then 200).
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    calls: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        use poem::{handler, web::Data, EndpointExt, Route};
        let calls: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers: Arc<Mutex<Vec<u16>>> = Arc::default();

        #[handler]
        fn hook(
            req: &poem::Request,
            body: Vec<u8>,
            state: Data<&ReceiverState>,
        ) -> poem::http::StatusCode {
            let h = |n: &str| {
                req.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            state.0 .0.lock().unwrap().push(Received {
                id: h("webhook-id"),
                timestamp: h("webhook-timestamp"),
                signature: h("webhook-signature"),
                body,
            });
            let mut answers = state.0 .1.lock().unwrap();
            let status = if answers.is_empty() {
                200
            } else {
                answers.remove(0)
            };
            poem::http::StatusCode::from_u16(status).unwrap()
        }

        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let app = Route::new()
            .at("/hook", poem::post(hook))
            .data((calls.clone(), answers.clone()));
        let server = poem::Server::new(poem::listener::TcpListener::bind(addr.to_string()));
        tokio::spawn(async move {
            let _ = server.run(app).await;
        });
        wait_for_port(addr.port()).await;
        Self {
            url: format!("http://{addr}/hook"),
            calls,
            answers,
        }
    }

    /// The next calls get these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend_from_slice(statuses);
    }

    pub fn calls(&self) -> Vec<Received> {
        self.calls.lock().unwrap().clone()
    }
}

/// A real SMTP server (aiosmtpd, `tests/servers/smtp_sink.py`) storing what it receives.
pub struct SmtpSink {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: tokio::process::Child,
}

impl SmtpSink {
    /// Starts one on a free port. The Python with aiosmtpd is `PATRON_TEST_SMTP_PYTHON`
    /// (scripts/test installs it), else `.tools/aiosmtpd/bin/python` in the repository.
    pub async fn start() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let python = std::env::var("PATRON_TEST_SMTP_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join(".tools/aiosmtpd/bin/python"));
        assert!(
            python.exists(),
            "no Python with aiosmtpd at {} (scripts/test installs it; or set PATRON_TEST_SMTP_PYTHON)",
            python.display()
        );
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().unwrap();
        let child = tokio::process::Command::new(python)
            .arg(root.join("tests/servers/smtp_sink.py"))
            .arg(port.to_string())
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("aiosmtpd starts");
        wait_for_port(port).await;
        Self { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, raw, in order.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| {
                let p = e.ok()?.path();
                let n = p.file_stem()?.to_str()?.parse().ok()?;
                (p.extension()? == "eml").then_some((n, p))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Waits (up to 20 s) until something listens on 127.0.0.1:`port`.
pub(crate) async fn wait_for_port(port: u16) {
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port} after 20 s");
}
