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

/// The sender for these senders: with an SMS gateway, text messages become deliveries of the
/// outbox ([`QueuedSms`]); without one, they stay in the development `sms_outbox` table.
pub fn sender_for(senders: &crate::messages::Senders) -> Arc<dyn SmsSender> {
    if senders.sms.is_some() {
        Arc::new(QueuedSms {
            keys: senders.keys.clone(),
        })
    } else {
        default_sender()
    }
}

// ---- members' replies (the gateway's callback) ----

/// A member's reply to a text, as the gateway reports it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The provider's id of the incoming message: a callback sent again is applied once.
    pub id: String,
    /// The member's number as the provider gives it (`+8613912345678`, `13912345678`).
    pub from: String,
    pub text: String,
}

/// What a reply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyOutcome {
    /// `opted_out` (marketing texts turned off for the member with that number) or
    /// `ignored` (the reply asks for nothing, or no member has that number).
    pub action: String,
    pub member_found: bool,
    /// This id was reported before (with the same body): nothing was done again.
    pub duplicate: bool,
}

/// A member replied to a text of `tenant`: `R`, `TD`, `退订`, `STOP`... turn marketing texts
/// off for the member with that number (stored with `via` `sms_reply` and audited, as the
/// portal's switch is). Once per provider id: the same id with the same body answers what
/// it did the first time; with another body, 409.
pub async fn member_replied(
    db: &patron_db::Db,
    keys: &PiiKeys,
    tenant: &patron_db::Tenant,
    reply: &Reply,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<ReplyOutcome, crate::AppError> {
    use sha2::Digest as _;
    let mut v = patron_core::Validation::new();
    if reply.id.trim().is_empty() {
        v.check::<()>("id", Err(patron_core::Issue::required()));
    } else if reply.id.chars().count() > 200 {
        v.check::<()>("id", Err(patron_core::Issue::too_long(200)));
    }
    let phone = v.check(
        "from",
        Phone::parse(&reply.from, &tenant.settings.phone_region),
    );
    if reply.text.chars().count() > 1_000 {
        v.check::<()>("text", Err(patron_core::Issue::too_long(1_000)));
    }
    v.finish().map_err(crate::AppError::invalid)?;
    let phone = phone.expect("checked");
    let index = keys.blind_index("phone", phone.e164());
    let mut tx = db.tenant_tx(tenant).await?;
    let member = patron_db::members::find_by_phone_index(&mut tx, &index).await?;
    let opt_out = patron_core::messages::is_sms_opt_out(&reply.text);
    let action = if opt_out && member.is_some() {
        "opted_out"
    } else {
        "ignored"
    };
    let record = patron_db::messages::SmsReply {
        provider_id: reply.id.trim().to_owned(),
        body_hash: sha2::Sha256::digest(body).to_vec(),
        member_id: member.as_ref().map(|m| m.id),
        action: action.to_owned(),
    };
    if let Some(before) = db_messages::record_sms_reply(&mut tx, &record, &index, now).await? {
        tx.commit().await?;
        if before.body_hash != record.body_hash {
            return Err(crate::points::key_reused("id"));
        }
        return Ok(ReplyOutcome {
            action: before.action,
            member_found: before.member_id.is_some(),
            duplicate: true,
        });
    }
    if let (Some(m), true) = (&member, opt_out) {
        crate::notices::set_marketing_sms(&mut tx, m.id, false, "sms_reply", now).await?;
    }
    tx.commit().await?;
    Ok(ReplyOutcome {
        action: action.to_owned(),
        member_found: member.is_some(),
        duplicate: false,
    })
}

// ---- the gateway's status and a test send (console) ----

/// How the business's texts leave, and how many of the month's it has used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `gateway` (the HTTP gateway is configured) or `development_outbox` (texts stay in
    /// the `sms_outbox` table).
    pub provider: &'static str,
    /// Texts counted this month (codes, member texts, campaigns, tests).
    pub used_this_month: i64,
    /// The plan's `sms_per_month` (`None`: unlimited).
    pub quota: Option<i64>,
    /// Beyond the quota texts are billed rather than refused.
    pub overage: bool,
}

pub async fn status(
    mut tx: TenantTx,
    plan: &patron_core::plans::Plan,
    gateway: bool,
    now: DateTime<Utc>,
) -> Result<Status, crate::AppError> {
    use patron_core::plans::Limit;
    let used = patron_db::plans::monthly_in(&mut tx, Limit::SmsPerMonth, now).await?;
    tx.commit().await?;
    Ok(Status {
        provider: if gateway {
            "gateway"
        } else {
            "development_outbox"
        },
        used_this_month: used,
        quota: plan.limit(Limit::SmsPerMonth),
        overage: plan.allows_overage(Limit::SmsPerMonth),
    })
}

/// The text of a test message.
pub fn test_text(business: &str, lang: patron_core::lang::Lang) -> String {
    lang.pick(
        &format!("【{business}】这是一条测试短信，收到即表示短信通道工作正常。"),
        &format!("[{business}] This is a test message: the text channel works."),
    )
    .to_owned()
}

/// Sends a test text to a number staff typed: counted against the number's limits (as codes
/// are: one a minute, five an hour, ten a day; 429 `too_many_codes`) and the month's
/// `sms_per_month` (402 `limit_reached`), in the transaction that queues it.
pub async fn send_test(
    mut tx: TenantTx,
    keys: &PiiKeys,
    sender: &dyn SmsSender,
    tenant: &patron_db::Tenant,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<(), crate::AppError> {
    use crate::portal::codes::{too_many_codes, wait_secs, CODE_LIMITS};
    let phone = Phone::parse(phone, &tenant.settings.phone_region)
        .map_err(|e| crate::AppError::field("phone", e))?;
    let index = keys.blind_index("phone", phone.e164());
    if !portal::take_sms_slot(&mut tx, &index, CODE_LIMITS, now).await? {
        let wait = match portal::sms_count(&mut tx, &index).await? {
            Some(c) => wait_secs(&c, CODE_LIMITS, now),
            None => 1,
        };
        return Err(too_many_codes(wait));
    }
    crate::plans::take_monthly(&mut tx, patron_core::plans::Limit::SmsPerMonth, 1, now).await?;
    let lang = patron_core::lang::Lang::parse(&tenant.settings.locale).unwrap_or_default();
    let text = SmsText {
        template: "test".into(),
        variables: BTreeMap::from([("business".to_owned(), tenant.name.clone())]),
        body: test_text(&tenant.name, lang),
        purpose: "test".into(),
    };
    sender.send(&mut tx, &phone, &text, now).await?;
    tx.commit().await?;
    Ok(())
}
