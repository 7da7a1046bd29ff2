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
