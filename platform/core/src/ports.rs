//! Ports: the small traits through which use cases reach the world outside the process.
//! Adapters implement them (the sandbox pool in `patron-rules`, the signed payment webhook in
//! `patron-app`, mail, storage and outgoing webhooks in crates of their own as those
//! capabilities arrive); the server wires adapters into the application. Nothing here knows
//! how a port is carried out, so use cases can be tested with any implementation.

use crate::rules::{Case, Outcome, RuleError, RuleKey, TierCase};
use async_trait::async_trait;
use serde_json::Value;

/// Runs tenants' rule scripts somewhere they cannot harm the server (see DESIGN.md, "Why
/// the sandbox is its own process"). Point rules answer points and reasons; tier scripts
/// answer a tier code. Compiled forms are cached by key plus the script's content, points
/// and tiers in key spaces of their own.
#[async_trait]
pub trait RuleRunner: Send + Sync {
    /// Compiles a point rule; `Err` carries the position of the first error.
    async fn compile(&self, key: RuleKey, script: &str) -> Result<(), RuleError>;
    /// Runs a point rule for one event.
    async fn eval(
        &self,
        key: RuleKey,
        script: &str,
        event: &Value,
        member: &Value,
    ) -> Result<Outcome, RuleError>;
    /// Runs a point rule for many events; one answer per case, in order.
    async fn eval_batch(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[Case],
    ) -> Result<Vec<Result<Outcome, RuleError>>, RuleError>;
    /// Compiles a tier script.
    async fn compile_tier(&self, key: RuleKey, script: &str) -> Result<(), RuleError>;
    /// Runs a tier script for one member: the tier code it answers.
    async fn eval_tier(
        &self,
        key: RuleKey,
        script: &str,
        member: &Value,
        metrics: &Value,
    ) -> Result<String, RuleError>;
    /// Runs a tier script for many members; one answer per case, in order.
    async fn eval_tier_batch(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[TierCase],
    ) -> Result<Vec<Result<String, RuleError>>, RuleError>;
}

/// What a payment provider reports through its webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    InvoicePaid {
        invoice_id: uuid::Uuid,
        reference: String,
    },
    /// Anything else the provider sends; acknowledged and ignored.
    Other(String),
}

/// A payment provider's webhook format: checks that a request really came from the provider
/// and reads the event out. Taking payment is the provider's business.
pub trait PaymentProvider: Send + Sync {
    /// The name in the webhook's path: `/billing/webhooks/<name>`.
    fn name(&self) -> &str;
    /// Verifies and reads one webhook. `header` looks a request header up by its
    /// (case-insensitive) name. `Err` is the reason to refuse it.
    fn parse(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<PaymentEvent, String>;
}

/// A text message ready to leave: the number in E.164, the provider's template and its
/// variables (Chinese providers send only texts filed in advance, filled with variables),
/// and the text as the member reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// Ours, the same on every attempt: the provider may drop a repeat by it.
    pub id: String,
    pub to_e164: String,
    /// Our template name (`code`, or the occasion of a worded message).
    pub template: String,
    pub variables: std::collections::BTreeMap<String, String>,
    pub text: String,
}

/// What a provider answered for one text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsAnswer {
    /// Taken: it is the provider's to deliver.
    Delivered { status: u16, answer: String },
    /// Refused for good (a bad number, an unknown template): never tried again.
    Failed { status: Option<u16>, answer: String },
    /// Not now (the provider busy or unreachable): tried again on the schedule.
    Retry { status: Option<u16>, answer: String },
}

/// Delivers text messages (an SMS provider's API). Messages reach it from the tenant's
/// outbox, never from inside a business transaction.
#[async_trait]
pub trait SmsGateway: Send + Sync {
    /// Hands one message to the provider.
    async fn send(&self, message: &SmsMessage) -> SmsAnswer;
}

/// An e-mail ready to leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// Why an e-mail did not leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFailure {
    /// The server refused it for good (a 5xx at RCPT or DATA: the address bounces); else
    /// worth another try later.
    pub permanent: bool,
    pub reason: String,
}

impl MailFailure {
    pub fn temporary(reason: impl Into<String>) -> Self {
        Self {
            permanent: false,
            reason: reason.into(),
        }
    }
}

/// Delivers e-mail (an SMTP relay). Messages reach it from the tenant's outbox.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: &MailMessage) -> Result<(), MailFailure>;
}

/// A presigned upload: the browser sends the file with `PUT url` and exactly these headers
/// (the content type and length are part of the signature, so the store refuses another
/// type or size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// What the store says of an object it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: i64,
    pub content_type: Option<String>,
}

/// Keeps uploaded files (activity pictures and photos, mall pictures) in an S3-compatible
/// store, under keys that begin with the tenant (`t/<tenant id>/...`). Browsers send and
/// read the bytes themselves through presigned addresses; the server only signs, checks and
/// deletes. `Err` carries the store's reason.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// An address to `PUT` exactly `length` bytes of `content_type` at `key`, valid for
    /// `expires_in`.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: std::time::Duration,
    ) -> Result<PresignedPut, String>;
    /// An address to `GET` the object at `key`, valid for `expires_in`.
    async fn presign_get(
        &self,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, String>;
    /// The object's size and type; `None` when there is none at `key`.
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, String>;
    /// Deletes the object at `key` (no error when there is none).
    async fn delete(&self, key: &str) -> Result<(), String>;
}

/// A signed call to a business's own endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookCall {
    pub url: String,
    pub event: String,
    /// The exact bytes to send (signed as they are; never re-serialised).
    pub body: Vec<u8>,
    /// Headers to send with it: the Standard Webhooks `webhook-id`, `webhook-timestamp` and
    /// `webhook-signature`, computed by the caller (`core::messages::signed_headers`).
    pub headers: Vec<(String, String)>,
}

/// Delivers outgoing webhooks. Calls reach it from the tenant's outbox.
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Sends one call (a JSON POST); `Ok` carries the status the endpoint answered, `Err` a
    /// reason it could not be reached (refused address, timeout, connection).
    async fn send(&self, call: &WebhookCall) -> Result<u16, String>;
}
