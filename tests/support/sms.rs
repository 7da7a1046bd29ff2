//! A real SMS gateway for the tests: an HTTP server on 127.0.0.1 that keeps every message
//! posted to it and answers the statuses it is told, and a server configured to post there.

use super::app::{database_url, spawn_app_configured, TestApp};
use super::messages::wait_for_port;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// The key the test gateway shares with the server.
pub const SMS_GATEWAY_KEY: &str = "test-gateway-key";

/// One message the gateway got.
#[derive(Clone, Debug)]
pub struct GatewayCall {
    pub authorization: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

impl GatewayCall {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

type GatewayState = (Arc<Mutex<Vec<GatewayCall>>>, Arc<Mutex<Vec<u16>>>);

/// An SMS provider's HTTP API on 127.0.0.1.
#[derive(Clone)]
pub struct SmsGatewayServer {
    pub url: String,
    calls: Arc<Mutex<Vec<GatewayCall>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl SmsGatewayServer {
    pub async fn start() -> Self {
        use poem::{handler, web::Data, EndpointExt, Route};
        let calls: Arc<Mutex<Vec<GatewayCall>>> = Arc::default();
        let answers: Arc<Mutex<Vec<u16>>> = Arc::default();

        #[handler]
        fn send(req: &poem::Request, body: Vec<u8>, state: Data<&GatewayState>) -> poem::Response {
            let h = |n: &str| {
                req.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            state.0 .0.lock().unwrap().push(GatewayCall {
                authorization: h("authorization"),
                timestamp: h("x-patron-timestamp"),
                signature: h("x-patron-signature"),
                body,
            });
            let mut answers = state.0 .1.lock().unwrap();
            let status = if answers.is_empty() {
                200
            } else {
                answers.remove(0)
            };
            poem::Response::builder()
                .status(poem::http::StatusCode::from_u16(status).unwrap())
                .body(format!("{{\"answered\":{status}}}"))
        }

        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let app = Route::new()
            .at("/sms", poem::post(send))
            .data((calls.clone(), answers.clone()));
        let server = poem::Server::new(poem::listener::TcpListener::bind(addr.to_string()));
        tokio::spawn(async move {
            let _ = server.run(app).await;
        });
        wait_for_port(addr.port()).await;
        Self {
            url: format!("http://{addr}/sms"),
            calls,
            answers,
        }
    }

    /// The server's settings for this gateway: our `code` template is the provider's
    /// `SMS_CODE_1`.
    pub fn config(&self) -> patron_outbound::SmsGatewayConfig {
        patron_outbound::SmsGatewayConfig {
            url: self.url.clone(),
            key: SMS_GATEWAY_KEY.into(),
            templates: [("code".to_owned(), "SMS_CODE_1".to_owned())].into(),
        }
    }

    /// The next messages get these statuses, in order (then 200).
    pub fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend_from_slice(statuses);
    }

    pub fn calls(&self) -> Vec<GatewayCall> {
        self.calls.lock().unwrap().clone()
    }
}

/// A server whose text messages go through `gateway`.
pub async fn spawn_app_with_sms_gateway(gateway: &SmsGatewayServer) -> TestApp {
    spawn_app_configured(
        &database_url(),
        20,
        patron_core::pii::PiiKeys::development(),
        None,
        Some(gateway.config()),
    )
    .await
}

/// What the server answered the gateway's reply callback.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SmsReplyAck {
    pub id: String,
    pub action: String,
    pub member_found: bool,
    pub duplicate: bool,
}

/// The signature the gateway puts on a callback: `v1=` and the hex HMAC-SHA256 under `key`
/// of `"<timestamp>.<body>"` (computed here with the published algorithm, not the server's).
pub fn gateway_signature(key: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl TestApp {
    /// `POST /sms/replies`: `body` exactly as the gateway sends it, with its headers.
    pub async fn sms_reply_raw(
        &self,
        body: Vec<u8>,
        timestamp: &str,
        signature: &str,
    ) -> super::reply::Reply<SmsReplyAck> {
        self.v1(reqwest::Method::POST, "/sms/replies")
            .header("x-patron-timestamp", timestamp)
            .header("x-patron-signature", signature)
            .bytes("application/json", body)
            .send()
            .await
    }

    /// `POST /sms/replies`, signed with `key` now (by the app's clock).
    pub async fn sms_reply(&self, body: &Value, key: &str) -> super::reply::Reply<SmsReplyAck> {
        use patron_core::clock::Clock as _;
        let bytes = serde_json::to_vec(body).unwrap();
        let ts = self.clock.now().timestamp();
        let sig = gateway_signature(key, ts, &bytes);
        self.sms_reply_raw(bytes, &ts.to_string(), &sig).await
    }
}

/// How the business's texts leave, as the console shows it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SmsStatus {
    pub provider: String,
    pub used_this_month: i64,
    #[serde(default)]
    pub quota: Option<i64>,
    pub overage: bool,
}

impl TestApp {
    /// `GET /sms/status`.
    pub async fn sms_status(&self, auth: &super::app::Auth) -> super::reply::Reply<SmsStatus> {
        self.v1(reqwest::Method::GET, "/sms/status")
            .auth(auth)
            .send()
            .await
    }

    /// `POST /sms/test`.
    pub async fn send_test_sms(
        &self,
        auth: &super::app::Auth,
        phone: &str,
    ) -> super::reply::Reply<Value> {
        self.v1(reqwest::Method::POST, "/sms/test")
            .auth(auth)
            .json(&serde_json::json!({ "phone": phone }))
            .send()
            .await
    }
}
