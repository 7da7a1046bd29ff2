//! Text messages as use cases send them: into the tenant's outbox, in the caller's
//! transaction, so nothing is sent for a change that rolls back.
//!
//! Without a gateway (development, tests) the message is written to the `sms_outbox` table,
//! where the console and tests read it ([`OutboxSms`]). With one ([`QueuedSms`]) it becomes a
//! delivery of the outbox (channel `sms`), which the job runner hands to the `SmsGateway`
//! port with retries, logging every attempt, like e-mails.

use chrono::{DateTime, Utc};
use patron_core::members::Phone;
use patron_core::pii::PiiKeys;
use patron_db::messages::{self as db_messages, NewDelivery};
use patron_db::{portal, DbError, TenantTx};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// One text message: the provider's template (by our name) and its variables, and the text
/// as the member reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsText {
    /// `code` for one-time codes, the occasion for worded messages.
    pub template: String,
    pub variables: BTreeMap<String, String>,
    pub body: String,
    /// Why it is sent (`register`, `login`...), shown in the log.
    pub purpose: String,
}

/// Sends text messages, in the caller's transaction.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(
        &self,
        tx: &mut TenantTx,
        phone: &Phone,
        text: &SmsText,
        now: DateTime<Utc>,
    ) -> Result<(), DbError>;
}

/// The development sender: the `sms_outbox` table, in the caller's transaction.
pub struct OutboxSms;

#[async_trait::async_trait]
impl SmsSender for OutboxSms {
    async fn send(
        &self,
        tx: &mut TenantTx,
        phone: &Phone,
        text: &SmsText,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        portal::outbox_push(tx, phone.e164(), &text.body, &text.purpose, now).await
    }
}

/// The sender when a gateway is configured: a delivery of the outbox (channel `sms`), the
/// number sealed with the PII keys, delivered by the job runner.
pub struct QueuedSms {
    pub keys: Arc<PiiKeys>,
}

/// The content of an SMS delivery: the sealed number, the template, its variables, the text.
pub fn delivery_content(keys: &PiiKeys, e164: &str, text: &SmsText) -> serde_json::Value {
    use base64::Engine as _;
    let (key_id, sealed) = keys.encrypt(e164);
    json!({
        "to_key": key_id,
        "to": base64::engine::general_purpose::STANDARD.encode(sealed),
        "template": text.template,
        "variables": text.variables,
        "text": text.body,
        "purpose": text.purpose,
    })
}

/// The number of an SMS delivery's content, opened.
pub fn delivery_phone(keys: &PiiKeys, content: &serde_json::Value) -> Option<String> {
    use base64::Engine as _;
    let key_id = i16::try_from(content.get("to_key")?.as_i64()?).ok()?;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(content.get("to")?.as_str()?)
        .ok()?;
    keys.decrypt(key_id, &sealed).ok()
}

#[async_trait::async_trait]
impl SmsSender for QueuedSms {
    async fn send(
        &self,
        tx: &mut TenantTx,
        phone: &Phone,
        text: &SmsText,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let key = format!("sms:{}", Uuid::now_v7());
        db_messages::add_delivery(
            tx,
            &NewDelivery {
                outbox_id: None,
                channel: "sms",
                endpoint_id: None,
                member_id: None,
                occasion: Some(&text.purpose),
                dedupe_key: &key,
                recipient: "",
                content: &delivery_content(&self.keys, phone.e164(), text),
            },
            now,
        )
        .await?;
        Ok(())
    }
}

/// The default SMS sender, shared.
pub fn default_sender() -> Arc<dyn SmsSender> {
    Arc::new(OutboxSms)
}
