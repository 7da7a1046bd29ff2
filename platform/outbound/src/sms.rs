//! Text messages through an SMS provider's HTTP API: one JSON POST per message with the
//! provider's template id and its variables (as Chinese providers take them), signed with
//! the shared key.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use patron_core::ports::{SmsAnswer, SmsGateway, SmsMessage};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;

/// How to reach the gateway.
#[derive(Debug, Clone)]
pub struct SmsGatewayConfig {
    /// Where messages are posted (`PATRON_SMS_GATEWAY_URL`).
    pub url: String,
    /// The shared key: sent as `Authorization: Bearer <key>` and signing every body
    /// (`PATRON_SMS_GATEWAY_KEY`).
    pub key: String,
    /// Our template names to the provider's template ids (`PATRON_SMS_TEMPLATES`,
    /// `code=SMS_123,birthday=SMS_456`); a name not listed is sent as it is.
    pub templates: BTreeMap<String, String>,
}

impl SmsGatewayConfig {
    /// Reads `name=id,name=id`; `Err` names the first entry that is not `name=id`.
    pub fn parse_templates(raw: &str) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((name, id)) = entry.split_once('=') else {
                return Err(format!("{entry:?} is not name=template id"));
            };
            let (name, id) = (name.trim(), id.trim());
            if name.is_empty() || id.is_empty() {
                return Err(format!("{entry:?} is not name=template id"));
            }
            out.insert(name.to_owned(), id.to_owned());
        }
        Ok(out)
    }
}

/// The signature of a body sent at `timestamp` (seconds since the epoch): `v1=` and the hex
/// HMAC-SHA256, under the shared key, of `<timestamp>.<body>`. The gateway recomputes it.
pub fn sms_signature(key: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts text messages to one gateway: a 15 s deadline, no redirects followed.
pub struct HttpSmsGateway {
    client: reqwest::Client,
    config: SmsGatewayConfig,
}

impl HttpSmsGateway {
    pub fn new(config: SmsGatewayConfig) -> Result<Self, String> {
        reqwest::Url::parse(&config.url).map_err(|e| format!("the gateway URL: {e}"))?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .user_agent("Patron-SMS/1")
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, config })
    }

    /// The body posted for `m`.
    pub fn body(&self, m: &SmsMessage) -> Vec<u8> {
        let template = self
            .config
            .templates
            .get(&m.template)
            .unwrap_or(&m.template);
        serde_json::json!({
            "id": m.id,
            "to": m.to_e164,
            "template": template,
            "variables": m.variables,
            "text": m.text,
        })
        .to_string()
        .into_bytes()
    }
}

/// What an HTTP answer means: 2xx taken; 408, 425, 429 and 5xx worth another try later;
/// any other answer a refusal for good.
pub fn judge(status: u16, answer: String) -> SmsAnswer {
    match status {
        200..=299 => SmsAnswer::Delivered { status, answer },
        408 | 425 | 429 | 500..=599 => SmsAnswer::Retry {
            status: Some(status),
            answer,
        },
        _ => SmsAnswer::Failed {
            status: Some(status),
            answer,
        },
    }
}

#[async_trait]
impl SmsGateway for HttpSmsGateway {
    async fn send(&self, m: &SmsMessage) -> SmsAnswer {
        let body = self.body(m);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let resp = self
            .client
            .post(&self.config.url)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.config.key))
            .header("x-patron-timestamp", now.to_string())
            .header(
                "x-patron-signature",
                sms_signature(&self.config.key, now, &body),
            )
            .body(body)
            .send()
            .await;
        match resp {
            Ok(r) => {
                let status = r.status().as_u16();
                let mut answer = r.text().await.unwrap_or_default();
                if answer.len() > 500 {
                    let mut cut = 500;
                    while !answer.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    answer.truncate(cut);
                }
                judge(status, answer)
            }
            Err(e) => SmsAnswer::Retry {
                status: None,
                answer: format!("{e}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_taken_refused_or_tried_again() {
        assert!(matches!(
            judge(200, "ok".into()),
            SmsAnswer::Delivered { .. }
        ));
        assert!(matches!(
            judge(202, String::new()),
            SmsAnswer::Delivered { .. }
        ));
        for s in [408, 429, 500, 502, 503] {
            assert!(
                matches!(judge(s, String::new()), SmsAnswer::Retry { .. }),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 410, 422] {
            assert!(
                matches!(judge(s, String::new()), SmsAnswer::Failed { .. }),
                "{s}"
            );
        }
    }

    #[test]
    fn templates_map_our_names_to_the_providers_ids() {
        let t = SmsGatewayConfig::parse_templates(" code=SMS_1 , birthday=SMS_2,").unwrap();
        assert_eq!(t["code"], "SMS_1");
        assert_eq!(t["birthday"], "SMS_2");
        assert!(SmsGatewayConfig::parse_templates("code").is_err());
        assert!(SmsGatewayConfig::parse_templates("=SMS_1").is_err());
    }

    #[test]
    fn the_signature_binds_the_time_and_the_body() {
        let a = sms_signature("k", 1, b"{}");
        assert!(a.starts_with("v1="));
        assert_ne!(a, sms_signature("k", 2, b"{}"));
        assert_ne!(a, sms_signature("k", 1, b"{ }"));
        assert_ne!(a, sms_signature("other", 1, b"{}"));
    }
}
