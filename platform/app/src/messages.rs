//! Messages and outgoing webhooks, through one outbox.
//!
//! A change calls [`record`] in its own transaction: one INSERT, so a change that rolls back
//! sends nothing. The job runner then calls [`run_tenant`]: [`dispatch`] turns each new
//! outbox row into deliveries (the member's e-mail when the business worded the occasion, a
//! call to each subscribed webhook endpoint), each under a unique key, and [`deliver`] sends
//! what is due through the ports, logs every attempt and retries on the schedule of
//! `core::messages::retry_after`.

use crate::members::open;
use crate::{AppError, NotFoundAs, OrNotFound};
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use patron_core::lang::Lang;
use patron_core::messages::{
    self as core_messages, parse_endpoint_url, parse_locale, parse_occasion, signed_headers,
    variables_of, Channel, Event, Secret, Template,
};
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_core::ports::{
    MailMessage, Mailer, SmsAnswer, SmsGateway, SmsMessage, WebhookCall, WebhookSender,
};
use patron_core::problem::Issue;
use patron_core::Validation;
use patron_db::messages::{self as db, Attempt, Delivery, Endpoint, NewDelivery, TemplateRow};
use patron_db::{members, Db, DbError, Tenant, TenantTx};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// Records that `event` happened to `member`, in the caller's transaction. `occasion` makes
/// the occasion unique for the member (an entry id; a tier and a day).
pub async fn record(
    tx: &mut TenantTx,
    event: Event,
    member: Uuid,
    occasion: &str,
    data: Value,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    db::record(
        tx,
        event.as_str(),
        Some(member),
        &format!("member:{member}"),
        occasion,
        &data,
        now,
    )
    .await
}

/// What delivery needs from the world: the ports, and how strict to be.
#[derive(Clone)]
pub struct Senders {
    pub mailer: Option<Arc<dyn Mailer>>,
    pub webhooks: Option<Arc<dyn WebhookSender>>,
    /// The SMS gateway (none: text messages stay in the development `sms_outbox` table and
    /// no SMS delivery is queued).
    pub sms: Option<Arc<dyn SmsGateway>>,
    /// The SMS gateway's shared key, which signs its callbacks (members' replies); none
    /// without a gateway.
    pub sms_key: Option<String>,
    /// Opens members' e-mail addresses.
    pub keys: Arc<PiiKeys>,
    /// Endpoints on private addresses are accepted (tests, development).
    pub allow_private: bool,
    /// Where the console and the portal are served: the origin of unsubscribe links.
    pub console_url: String,
}

impl Senders {
    /// `path` (from its leading `/`) under the console's address, for links in messages.
    pub fn console_link(&self, path: &str) -> String {
        format!("{}{path}", self.console_url.trim_end_matches('/'))
    }

    /// The link in a marketing message that turns `member`'s marketing e-mail off.
    pub fn unsubscribe_url(&self, tenant: &Tenant, member: Uuid) -> String {
        self.console_link(&format!(
            "/m/{}/unsubscribe?token={}",
            tenant.slug,
            crate::notices::unsubscribe_token(&self.keys, tenant.id, member)
        ))
    }
}

/// Outbox rows turned into deliveries per transaction.
const DISPATCH_BATCH: i64 = 200;
/// Deliveries claimed at once.
const DELIVER_BATCH: i64 = 50;
/// Deliveries of a batch sent at the same time.
const DELIVER_PARALLEL: usize = 16;
/// How long a claimed delivery is held before another runner may take it.
fn lease() -> Duration {
    Duration::minutes(2)
}

/// What one run did, for the job's report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub dispatched: i64,
    pub sent: i64,
    pub failed: i64,
}

/// Dispatches, then delivers what is due, for one tenant.
pub async fn run_tenant(
    db: &Db,
    tenant: &Tenant,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<Report, AppError> {
    let dispatched = dispatch(db, tenant, senders, now).await?;
    let (sent, failed) = deliver(db, tenant, senders, now).await?;
    Ok(Report {
        dispatched,
        sent,
        failed,
    })
}

/// The body of a webhook call for an outbox row: the exact bytes every attempt sends.
pub fn webhook_body(row: &db::OutboxRow, sequence: i64) -> String {
    json!({
        "type": row.event,
        "timestamp": row.created_at,
        "sequence": sequence,
        "data": row.data,
    })
    .to_string()
}

fn webhook_delivery_content(row: &db::OutboxRow, sequence: i64) -> Value {
    json!({
        "id": format!("msg_{}", row.id),
        "event": row.event,
        "body": webhook_body(row, sequence),
    })
}

/// Turns undispatched outbox rows into deliveries. Returns how many rows it dispatched.
///
/// A batch takes a fixed number of statements whatever its size, besides the deliveries it
/// writes: the rows claimed, numbered and marked in one statement each, the business's
/// webhook endpoints and e-mail templates read once.
pub async fn dispatch(
    db: &Db,
    tenant: &Tenant,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let mut total = 0;
    let lang = lang_of(tenant);
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let rows = db::claim_undispatched(&mut tx, DISPATCH_BATCH).await?;
        let n = rows.len() as i64;
        if n == 0 {
            tx.commit().await?;
            return Ok(total);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let sequences: HashMap<i64, i64> = db::mark_dispatched(&mut tx, &ids, now)
            .await?
            .into_iter()
            .collect();
        let endpoints: Vec<Endpoint> = db::endpoints(&mut tx)
            .await?
            .into_iter()
            .filter(|e| e.enabled)
            .collect();
        let templates: Vec<TemplateRow> = if rows.iter().any(|r| r.member_id.is_some()) {
            db::templates(&mut tx)
                .await?
                .into_iter()
                .filter(|t| t.enabled && t.channel == Channel::Email.as_str())
                .collect()
        } else {
            Vec::new()
        };
        for row in rows {
            let sequence = sequences.get(&row.id).copied().unwrap_or_default();
            for ep in endpoints.iter().filter(|e| e.events.contains(&row.event)) {
                let key = format!("webhook:{}:{}", ep.id, row.id);
                let content = webhook_delivery_content(&row, sequence);
                db::add_delivery(
                    &mut tx,
                    &NewDelivery {
                        outbox_id: Some(row.id),
                        channel: "webhook",
                        endpoint_id: Some(ep.id),
                        member_id: row.member_id,
                        occasion: None,
                        dedupe_key: &key,
                        recipient: &ep.url,
                        content: &content,
                    },
                    now,
                )
                .await?;
            }
            // A tier change is e-mailed by the scheduled notice `tier.changed`, when the
            // business switches it on (`notices::scheduled`), not from the event.
            if row.event == Event::TierChanged.as_str() {
                continue;
            }
            let (Some(member_id), Some(t)) =
                (row.member_id, pick_template(&templates, &row.event, lang))
            else {
                continue;
            };
            queue_email_with(
                &mut tx,
                tenant,
                senders,
                t,
                member_id,
                &row.occasion,
                &row.data,
                Some(row.id),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        total += n;
        if n < DISPATCH_BATCH {
            return Ok(total);
        }
    }
}

/// The template `template_for` would choose, from a business's enabled e-mail templates:
/// the occasion's in `lang` when there is one, else in the other language.
fn pick_template<'t>(
    templates: &'t [TemplateRow],
    occasion: &str,
    lang: Lang,
) -> Option<&'t TemplateRow> {
    let mut of = templates.iter().filter(|t| t.occasion == occasion);
    let first = of.clone().next();
    of.find(|t| t.locale == lang.code()).or(first)
}

/// The language a tenant's members are written to in.
fn lang_of(tenant: &Tenant) -> Lang {
    Lang::parse(&tenant.settings.locale).unwrap_or_default()
}

/// Queues the e-mail for `occasion` to a member, once per (member, template, occasion):
/// only when the business has a template for it and the member has an address.
#[allow(clippy::too_many_arguments)]
pub async fn queue_member_email(
    tx: &mut TenantTx,
    tenant: &Tenant,
    senders: &Senders,
    member_id: Uuid,
    template: &str,
    occasion: &str,
    data: &Value,
    outbox_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let lang = lang_of(tenant);
    let Some(t) = db::template_for(tx, template, Channel::Email.as_str(), lang.code()).await?
    else {
        return Ok(false);
    };
    queue_email_with(
        tx, tenant, senders, &t, member_id, occasion, data, outbox_id, now,
    )
    .await
}

/// Queues the e-mail of template `t` (of occasion `t.occasion`) to a member, once per
/// (member, template, occasion): only when the member has an address.
#[allow(clippy::too_many_arguments)]
async fn queue_email_with(
    tx: &mut TenantTx,
    tenant: &Tenant,
    senders: &Senders,
    t: &TemplateRow,
    member_id: Uuid,
    occasion: &str,
    data: &Value,
    outbox_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let template = t.occasion.as_str();
    let member = match members::get(tx, member_id).await {
        Ok(m) => m,
        Err(DbError::NotFound) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if member.status != "active" {
        return Ok(false);
    }
    let Some(sealed) = member.email() else {
        return Ok(false);
    };
    if open(&senders.keys, &sealed).is_none() {
        return Ok(false);
    }
    let marketing = core_messages::is_marketing(template);
    let bounced = marketing && db::bounced(tx, &sealed.index).await?.is_some();
    if marketing && !patron_db::notices::marketing_email(tx, member_id).await? {
        return Ok(false);
    }
    let mut vars = variables_of(data);
    vars.insert("member.name".into(), member.name.clone());
    if let Some(card) = &member.card_number {
        vars.insert("member.card".into(), card.clone());
    }
    vars.insert("business.name".into(), tenant.name.clone());
    let unsubscribe = marketing.then(|| senders.unsubscribe_url(tenant, member_id));
    if let Some(link) = &unsubscribe {
        vars.insert("unsubscribe.link".into(), link.clone());
    }
    let mut content = render(t, &vars);
    if let Some(link) = &unsubscribe {
        with_unsubscribe_link(&mut content, link, t, lang_of(tenant));
    }
    let key = format!("email:{member_id}:{template}:{occasion}");
    if bounced {
        // Not sent to an address that bounced, and logged as such (once per occasion).
        if let Some(id) = db::add_delivery(
            tx,
            &NewDelivery {
                outbox_id,
                channel: "email",
                endpoint_id: None,
                member_id: Some(member_id),
                occasion: Some(template),
                dedupe_key: &key,
                recipient: "",
                content: &content,
            },
            now,
        )
        .await?
        {
            let skipped = Attempt {
                ok: false,
                status_code: None,
                answer: SKIPPED_BOUNCED.into(),
                retry_at: None,
                stop: true,
            };
            db::finish_delivery(tx, id, &skipped, now).await?;
        }
        return Ok(false);
    }
    let added = db::add_delivery(
        tx,
        &NewDelivery {
            outbox_id,
            channel: "email",
            endpoint_id: None,
            member_id: Some(member_id),
            occasion: Some(template),
            dedupe_key: &key,
            // Opened again when sent: addresses are not kept in clear.
            recipient: "",
            content: &content,
        },
        now,
    )
    .await?;
    Ok(added.is_some())
}

/// Queues the text message for `occasion` to a member, once per (member, template,
/// occasion): only when the business worded it for SMS (template channel `sms`), the member
/// is active with a phone, and, for marketing, has not turned marketing texts off. Marketing
/// texts end with the opt-out line (`core::messages::sms_opt_out`). Returns its delivery key
/// when queued.
#[allow(clippy::too_many_arguments)]
pub async fn queue_member_sms(
    tx: &mut TenantTx,
    tenant: &Tenant,
    senders: &Senders,
    member_id: Uuid,
    template: &str,
    occasion: &str,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    let lang = lang_of(tenant);
    let Some(t) = db::template_for(tx, template, Channel::Sms.as_str(), lang.code()).await? else {
        return Ok(None);
    };
    let member = match members::get(tx, member_id).await {
        Ok(m) => m,
        Err(DbError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if member.status != "active" {
        return Ok(None);
    }
    let Some(phone) = member.phone().and_then(|s| open(&senders.keys, &s)) else {
        return Ok(None);
    };
    let marketing = core_messages::is_marketing(template);
    if marketing && !patron_db::notices::marketing_sms(tx, member_id).await? {
        return Ok(None);
    }
    let mut vars = variables_of(data);
    vars.insert("member.name".into(), member.name.clone());
    if let Some(card) = &member.card_number {
        vars.insert("member.card".into(), card.clone());
    }
    vars.insert("business.name".into(), tenant.name.clone());
    let text = Template::parse(&t.body_text)
        .map(|s| s.render(&vars, false))
        .unwrap_or_else(|_| t.body_text.clone());
    let text = if marketing {
        core_messages::with_sms_opt_out(&text, Lang::parse(&t.locale).unwrap_or(lang))
    } else {
        text
    };
    let sms = crate::sms::SmsText {
        template: template.to_owned(),
        variables: vars,
        body: text,
        purpose: template.to_owned(),
    };
    let key = format!("sms:{member_id}:{template}:{occasion}");
    let added = db::add_delivery(
        tx,
        &NewDelivery {
            outbox_id: None,
            channel: "sms",
            endpoint_id: None,
            member_id: Some(member_id),
            occasion: Some(template),
            dedupe_key: &key,
            recipient: "",
            content: &crate::sms::delivery_content(&senders.keys, &phone, &sms),
        },
        now,
    )
    .await?;
    let Some(id) = added else {
        return Ok(None);
    };
    // Counted against the plan's texts of the month in this transaction (one conditional
    // statement); over the quota the text is not sent, and the log says why.
    if !take_sms_quota(tx, id, now).await? {
        return Ok(None);
    }
    Ok(Some(key))
}

/// The reason in the log of a text not sent because the month's texts ran out.
pub const STOPPED_OVER_SMS_QUOTA: &str = "sms_per_month: the plan's texts of the month are used up";

/// Takes one text of the plan's `sms_per_month` for the queued delivery `id`, in `tx` (the
/// month's counter, one conditional statement: parallel senders queue on its row). Over
/// the quota the delivery is stopped with [`STOPPED_OVER_SMS_QUOTA`] and the answer is
/// `false`.
pub async fn take_sms_quota(
    tx: &mut TenantTx,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let took = patron_db::plans::take_monthly(tx, Limit::SmsPerMonth, now, 1).await?;
    if took.cap.is_some() && took.taken.is_none() {
        let stopped = Attempt {
            ok: false,
            status_code: None,
            answer: STOPPED_OVER_SMS_QUOTA.into(),
            retry_at: None,
            stop: true,
        };
        db::finish_delivery(tx, id, &stopped, now).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Adds the unsubscribe link to a marketing e-mail whose template does not place it
/// (`{{unsubscribe.link}}`) itself: a line at the end of the text, a paragraph in the HTML.
fn with_unsubscribe_link(content: &mut Value, link: &str, t: &TemplateRow, lang: Lang) {
    let words = lang.pick("退订营销邮件：", "Unsubscribe from these e-mails: ");
    if !t.body_text.contains("{{unsubscribe.link}}") {
        if let Some(text) = content.get("text").and_then(Value::as_str) {
            let text = format!("{text}\n\n{words}{link}");
            content["text"] = Value::String(text);
        }
    }
    let html_has = t
        .body_html
        .as_deref()
        .is_some_and(|h| h.contains("{{unsubscribe.link}}"));
    if !html_has {
        if let Some(html) = content.get("html").and_then(Value::as_str) {
            let escaped = link.replace('&', "&amp;").replace('"', "&quot;");
            let html = format!("{html}<p>{words}<a href=\"{escaped}\">{escaped}</a></p>");
            content["html"] = Value::String(html);
        }
    }
    content["unsubscribe"] = Value::String(link.to_owned());
}

/// A template filled in: `{"subject", "text", "html"}`.
pub fn render(t: &TemplateRow, vars: &BTreeMap<String, String>) -> Value {
    let subject = Template::parse(&t.subject)
        .map(|s| s.render(vars, false))
        .unwrap_or_else(|_| t.subject.clone());
    let text = Template::parse(&t.body_text)
        .map(|s| s.render(vars, false))
        .unwrap_or_else(|_| t.body_text.clone());
    let html = t.body_html.as_ref().map(|h| {
        Template::parse(h)
            .map(|s| s.render(vars, true))
            .unwrap_or_else(|_| h.clone())
    });
    json!({ "subject": subject, "text": text, "html": html })
}

/// Sends due deliveries until none is left. Returns (sent, failed attempts).
///
/// A claimed batch is sent [`DELIVER_PARALLEL`] at a time, so a slow SMTP server or
/// endpoint holds up only its own calls. An endpoint's calls about one member still go one
/// after the other, in order (a retry can overtake; `sequence` tells the receiver).
pub async fn deliver(
    db: &Db,
    tenant: &Tenant,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<(i64, i64), AppError> {
    let (mut sent, mut failed) = (0, 0);
    // E-mails count against the plan's monthly quota when they are sent; over it they are
    // held (with the reason in the log) until the next month, never dropped.
    let plan = patron_db::plans::find(db, &tenant.plan_code).await.ok();
    {
        let mut tx = db.tenant_tx(tenant).await?;
        patron_db::notices::release_held(&mut tx, now).await?;
        tx.commit().await?;
    }
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let mut batch = db::claim_deliveries(&mut tx, now, lease(), DELIVER_BATCH).await?;
        // In the order they were due (RETURNING keeps none).
        batch.sort_by_key(|d| (d.next_at, d.id));
        let mut endpoints: BTreeMap<Uuid, Option<Endpoint>> = BTreeMap::new();
        let mut addresses: BTreeMap<i64, String> = BTreeMap::new();
        for d in &batch {
            if let (true, Some(member_id)) = (d.channel == "email", d.member_id) {
                if let Ok(m) = members::get(&mut tx, member_id).await {
                    if let Some(email) = m.email().and_then(|s| open(&senders.keys, &s)) {
                        addresses.insert(d.id, email);
                    }
                }
            }
            if let Some(id) = d.endpoint_id {
                if let std::collections::btree_map::Entry::Vacant(e) = endpoints.entry(id) {
                    e.insert(db::endpoint(&mut tx, id).await.ok());
                }
            }
        }
        tx.commit().await?;
        if batch.is_empty() {
            return Ok((sent, failed));
        }
        // One endpoint's calls about one member go in turn, in the order they were due; the
        // rest at once.
        let mut lanes: BTreeMap<(Option<Uuid>, Option<Uuid>, i64), Vec<_>> = BTreeMap::new();
        for mut d in batch {
            let ep = d
                .endpoint_id
                .and_then(|id| endpoints.get(&id).cloned().flatten());
            if let Some(email) = addresses.remove(&d.id) {
                d.recipient = email;
            }
            let lane = match d.endpoint_id {
                Some(endpoint) => (Some(endpoint), d.member_id, 0),
                None => (None, None, d.id),
            };
            lanes.entry(lane).or_default().push((d, ep));
        }
        let plan = plan.as_ref();
        let results: Vec<_> = futures::stream::iter(lanes.into_values())
            .map(|lane| async move {
                let mut out = Vec::with_capacity(lane.len());
                for (d, ep) in lane {
                    out.push(deliver_one(db, tenant, senders, plan, d, ep, now).await?);
                }
                Ok::<_, AppError>(out)
            })
            .buffer_unordered(DELIVER_PARALLEL)
            .collect()
            .await;
        for r in results {
            for outcome in r? {
                match outcome {
                    Some(true) => sent += 1,
                    Some(false) => failed += 1,
                    None => {}
                }
            }
        }
    }
}

/// Sends the business's due text messages at once, as the job runner would (claimed under
/// the same lease, so each goes once whoever takes it): a one-time code leaves when it is
/// asked for, not at the runner's next turn. What fails here is retried by the runner.
pub async fn deliver_texts_now(
    db: &Db,
    tenant: &Tenant,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<(i64, i64), AppError> {
    if senders.sms.is_none() {
        return Ok((0, 0));
    }
    let batch = {
        let mut tx = db.tenant_tx(tenant).await?;
        let batch =
            db::claim_deliveries_of(&mut tx, Some("sms"), now, lease(), DELIVER_BATCH).await?;
        tx.commit().await?;
        batch
    };
    let (mut sent, mut failed) = (0, 0);
    for d in batch {
        match deliver_one(db, tenant, senders, None, d, None, now).await? {
            Some(true) => sent += 1,
            Some(false) => failed += 1,
            None => {}
        }
    }
    Ok((sent, failed))
}

/// One delivery's attempt and its log: `Some(true)` sent, `Some(false)` failed, `None` held
/// over the month's quota.
async fn deliver_one(
    db: &Db,
    tenant: &Tenant,
    senders: &Senders,
    plan: Option<&patron_core::plans::Plan>,
    d: Delivery,
    ep: Option<Endpoint>,
    now: DateTime<Utc>,
) -> Result<Option<bool>, AppError> {
    // Members' e-mails count against the quota; staff's own (password resets, new
    // devices) never wait for next month, and a campaign's were counted when it sent.
    let metered = d.channel == "email"
        && d.member_id.is_some()
        && !d.recipient.is_empty()
        && d.occasion.as_deref() != Some(crate::campaigns::OCCASION);
    if metered && !take_email_quota(db, tenant, plan, d.id, now).await? {
        return Ok(None);
    }
    if d.channel == "sms" && senders.sms.is_none() {
        // No gateway: the development provider, the `sms_outbox` table.
        let mut tx = db.tenant_tx(tenant).await?;
        let attempt = match crate::sms::delivery_phone(&senders.keys, &d.content) {
            Some(phone) => {
                patron_db::portal::outbox_push(
                    &mut tx,
                    &phone,
                    &str_of(&d.content, "text"),
                    &str_of(&d.content, "purpose"),
                    now,
                )
                .await?;
                Attempt {
                    ok: true,
                    status_code: None,
                    answer: "written to the development SMS outbox".into(),
                    retry_at: None,
                    stop: false,
                }
            }
            None => Attempt {
                ok: false,
                status_code: None,
                answer: "the number does not open".into(),
                retry_at: None,
                stop: true,
            },
        };
        db::finish_delivery(&mut tx, d.id, &attempt, now).await?;
        tx.commit().await?;
        return Ok(Some(attempt.ok));
    }
    let attempt = attempt(senders, &d, ep.as_ref(), now).await;
    let mut tx = db.tenant_tx(tenant).await?;
    db::finish_delivery(&mut tx, d.id, &attempt, now).await?;
    if d.channel == "email" && d.member_id.is_some() && attempt.answer.starts_with(BOUNCED) {
        // The member's address bounces: later marketing e-mails to it are skipped.
        let index = email_index(&senders.keys, &d.recipient);
        db::record_bounce(&mut tx, &index, &attempt.answer, now).await?;
    }
    if metered && !attempt.ok {
        // Not sent: the e-mail taken from the quota is given back.
        patron_db::plans::meter_in(&mut tx, Limit::EmailsPerMonth.as_str(), now, -1).await?;
    }
    if let Some(ep) = &ep {
        let switched_off = if attempt.status_code == Some(410) {
            db::disable_endpoint(&mut tx, ep.id, "gone", now)
                .await?
                .then_some("gone")
        } else if !attempt.stop {
            db::note_endpoint_result(
                &mut tx,
                ep.id,
                attempt.ok,
                now,
                core_messages::disable_after(),
            )
            .await?
            .then_some("failing")
        } else {
            None
        };
        if let Some(reason) = switched_off {
            // The owners hear of it once, in the transaction that switched it off.
            tell_owners_endpoint_off(&mut tx, tenant, senders, ep, reason, &attempt.answer, now)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(Some(attempt.ok))
}

/// The occasion of the e-mail to the business's owners when a webhook endpoint is switched
/// off.
pub const ENDPOINT_OFF: &str = "webhook.disabled";

/// Queues, in the transaction that switched the endpoint off, an e-mail to each of the
/// business's owners (in the business's language) naming the endpoint's URL, why it was
/// switched off (`gone`: it answered 410; `failing`: no success for days), the last error
/// and a link to the console's webhook page. Keyed by the endpoint, the time it was switched
/// off and the owner, so each switch-off is told once.
pub async fn tell_owners_endpoint_off(
    tx: &mut TenantTx,
    tenant: &Tenant,
    senders: &Senders,
    ep: &Endpoint,
    reason: &str,
    last_error: &str,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let lang = lang_of(tenant);
    let template = match db::template_for(tx, ENDPOINT_OFF, "email", lang.code()).await? {
        Some(t) => t,
        None => default_template(ENDPOINT_OFF, lang).or_not_found("template")?,
    };
    let why = match reason {
        "gone" => lang.pick(
            "对方回复 410 Gone，表示不再接收",
            "it answered 410 Gone: it wants no more calls",
        ),
        _ => lang.pick(
            "连续 5 天没有一次成功送达",
            "no call has succeeded for 5 days",
        ),
    };
    let console = senders.console_url.trim_end_matches('/');
    let link = if console.is_empty() {
        String::new()
    } else {
        format!("{console}/messages?tab=webhooks")
    };
    let mut vars = variables_of(&json!({
        "url": ep.url,
        "reason": why,
        "error": if last_error.is_empty() { "-" } else { last_error },
        "link": link,
    }));
    vars.insert("business.name".into(), tenant.name.clone());
    let content = render(&template, &vars);
    let mut queued = 0;
    for to in patron_db::staff::owner_emails(tx).await? {
        let key = format!(
            "staff:{to}:{ENDPOINT_OFF}:{}:{}",
            ep.id,
            now.timestamp_micros()
        );
        let added = db::add_delivery(
            tx,
            &NewDelivery {
                outbox_id: None,
                channel: "email",
                endpoint_id: None,
                member_id: None,
                occasion: Some(ENDPOINT_OFF),
                dedupe_key: &key,
                recipient: &to,
                content: &content,
            },
            now,
        )
        .await?;
        queued += usize::from(added.is_some());
    }
    Ok(queued)
}

/// When the member's current e-mail address bounced, if it did.
pub async fn email_bounced(
    tx: &mut TenantTx,
    member_id: Uuid,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let m = match members::get(tx, member_id).await {
        Ok(m) => m,
        Err(DbError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match m.email() {
        Some(sealed) => Ok(db::bounced(tx, &sealed.index).await?),
        None => Ok(None),
    }
}

/// How the log's answer of a bounced e-mail begins.
pub const BOUNCED: &str = "bounced: ";

/// The reason in the log of a marketing e-mail skipped because its address bounced.
pub const SKIPPED_BOUNCED: &str = "skipped: the address bounced";

/// The keyed hash of an e-mail address, as members' addresses are indexed.
fn email_index(keys: &PiiKeys, address: &str) -> Vec<u8> {
    keys.blind_index("email", &patron_core::members::email_lookup_key(address))
}

/// The reason in the log of an e-mail held over the plan's monthly quota.
pub const HELD_OVER_QUOTA: &str = "emails_per_month";

/// Takes one e-mail from the plan's monthly quota for delivery `id` (metered, under the
/// tenant's limit lock); over the quota the delivery is held until the next month and the
/// answer is `false`.
async fn take_email_quota(
    db: &Db,
    tenant: &Tenant,
    plan: Option<&patron_core::plans::Plan>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let mut tx = db.tenant_tx(tenant).await?;
    if let Some(plan) = plan {
        if crate::plans::within_limit(&mut tx, plan, Limit::EmailsPerMonth, 1, now)
            .await?
            .is_err()
        {
            let (_, next_month) = patron_core::plans::month_bounds(now);
            patron_db::notices::hold_delivery(&mut tx, id, HELD_OVER_QUOTA, next_month).await?;
            tx.commit().await?;
            return Ok(false);
        }
    }
    patron_db::plans::meter_in(&mut tx, Limit::EmailsPerMonth.as_str(), now, 1).await?;
    tx.commit().await?;
    Ok(true)
}

fn failure(d: &Delivery, answer: String, status_code: Option<i32>, now: DateTime<Utc>) -> Attempt {
    Attempt {
        ok: false,
        status_code,
        answer,
        retry_at: core_messages::retry_after(d.attempts).map(|after| now + after),
        stop: false,
    }
}

/// One attempt at one delivery.
async fn attempt(
    senders: &Senders,
    d: &Delivery,
    ep: Option<&Endpoint>,
    now: DateTime<Utc>,
) -> Attempt {
    match d.channel.as_str() {
        "email" => {
            if d.recipient.is_empty() {
                return Attempt {
                    ok: false,
                    status_code: None,
                    answer: "the member has no e-mail address any more".into(),
                    retry_at: None,
                    stop: true,
                };
            }
            let Some(mailer) = &senders.mailer else {
                return failure(d, "no mail server is configured".into(), None, now);
            };
            let msg = MailMessage {
                to: d.recipient.clone(),
                subject: str_of(&d.content, "subject"),
                text: str_of(&d.content, "text"),
                html: d
                    .content
                    .get("html")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            match mailer.send(&msg).await {
                Ok(()) => Attempt {
                    ok: true,
                    status_code: Some(250),
                    answer: "accepted".into(),
                    retry_at: None,
                    stop: false,
                },
                // Refused for good: the address bounces; never tried again.
                Err(e) if e.permanent => Attempt {
                    ok: false,
                    status_code: None,
                    answer: format!("{BOUNCED}{}", e.reason),
                    retry_at: None,
                    stop: false,
                },
                Err(e) => failure(d, e.reason, None, now),
            }
        }
        "webhook" => {
            let Some(sender) = &senders.webhooks else {
                return failure(d, "webhooks are not configured".into(), None, now);
            };
            let Some(ep) = ep else {
                return Attempt {
                    ok: false,
                    status_code: None,
                    answer: "the endpoint was deleted".into(),
                    retry_at: None,
                    stop: true,
                };
            };
            if !ep.enabled {
                return Attempt {
                    ok: false,
                    status_code: None,
                    answer: "the endpoint is disabled".into(),
                    retry_at: None,
                    stop: true,
                };
            }
            let body = str_of(&d.content, "body").into_bytes();
            let id = str_of(&d.content, "id");
            let secrets = signing_secrets(ep, now);
            let refs: Vec<&Secret> = secrets.iter().collect();
            let call = WebhookCall {
                url: ep.url.clone(),
                event: str_of(&d.content, "event"),
                headers: signed_headers(&id, now, &body, &refs),
                body,
            };
            match sender.send(&call).await {
                Ok(status) if (200..300).contains(&status) => Attempt {
                    ok: true,
                    status_code: Some(i32::from(status)),
                    answer: String::new(),
                    retry_at: None,
                    stop: false,
                },
                // 410 Gone: the receiver wants no more; the endpoint is switched off.
                Ok(410) => Attempt {
                    ok: false,
                    status_code: Some(410),
                    answer: "410 Gone: the endpoint was switched off".into(),
                    retry_at: None,
                    stop: true,
                },
                Ok(status) => failure(
                    d,
                    format!("answered {status}"),
                    Some(i32::from(status)),
                    now,
                ),
                Err(e) => failure(d, e, None, now),
            }
        }
        "sms" => {
            let Some(gateway) = &senders.sms else {
                return failure(d, "no SMS gateway is configured".into(), None, now);
            };
            let Some(to) = crate::sms::delivery_phone(&senders.keys, &d.content) else {
                return Attempt {
                    ok: false,
                    status_code: None,
                    answer: "the number does not open".into(),
                    retry_at: None,
                    stop: true,
                };
            };
            let variables = d
                .content
                .get("variables")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            let msg = SmsMessage {
                id: format!("sms_{}", d.id),
                to_e164: to,
                template: str_of(&d.content, "template"),
                variables,
                text: str_of(&d.content, "text"),
            };
            match gateway.send(&msg).await {
                SmsAnswer::Delivered { status, answer } => Attempt {
                    ok: true,
                    status_code: Some(i32::from(status)),
                    answer,
                    retry_at: None,
                    stop: false,
                },
                SmsAnswer::Failed { status, answer } => Attempt {
                    ok: false,
                    status_code: status.map(i32::from),
                    answer,
                    retry_at: None,
                    stop: false,
                },
                SmsAnswer::Retry { status, answer } => {
                    failure(d, answer, status.map(i32::from), now)
                }
            }
        }
        other => failure(d, format!("no sender for {other}"), None, now),
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The secrets a call is signed with: the current one, and the previous one while its
/// rotation grace lasts.
fn signing_secrets(ep: &Endpoint, now: DateTime<Utc>) -> Vec<Secret> {
    let mut out = Vec::new();
    if let Ok(s) = Secret::parse(&ep.secret) {
        out.push(s);
    }
    if let (Some(prev), Some(until)) = (&ep.previous_secret, ep.previous_until) {
        if until > now {
            if let Ok(s) = Secret::parse(prev) {
                out.push(s);
            }
        }
    }
    out
}

// ---- templates ----

/// A template as staff write it.
pub struct TemplateInput {
    pub occasion: String,
    pub channel: String,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub enabled: bool,
}

fn check_template(input: &TemplateInput) -> Result<(), AppError> {
    let mut v = Validation::new();
    v.check("occasion", parse_occasion(&input.occasion));
    let channel = v.check("channel", Channel::parse(&input.channel));
    v.check("locale", parse_locale(&input.locale));
    if channel == Some(Channel::Email) && input.subject.trim().is_empty() {
        v.check::<()>(
            "subject",
            Err(Issue::required().words("an e-mail needs a subject")),
        );
    }
    if input.subject.chars().count() > 300 {
        v.check::<()>("subject", Err(Issue::too_long(300)));
    }
    v.check("subject", Template::parse(&input.subject));
    if input.body_text.trim().is_empty() {
        v.check::<()>("body_text", Err(Issue::required()));
    }
    v.check("body_text", Template::parse(&input.body_text));
    if let Some(h) = &input.body_html {
        v.check("body_html", Template::parse(h));
    }
    v.finish().map_err(AppError::invalid)
}

pub async fn templates(mut tx: TenantTx) -> Result<Vec<TemplateRow>, AppError> {
    let rows = db::templates(&mut tx).await?;
    tx.commit().await?;
    Ok(rows)
}

pub async fn save_template(
    mut tx: TenantTx,
    input: TemplateInput,
    by: &str,
    now: DateTime<Utc>,
) -> Result<TemplateRow, AppError> {
    check_template(&input)?;
    let row = db::upsert_template(
        &mut tx,
        &TemplateRow {
            occasion: input.occasion,
            channel: input.channel,
            locale: input.locale,
            subject: input.subject.trim().to_owned(),
            body_text: input.body_text,
            body_html: input.body_html.filter(|h| !h.trim().is_empty()),
            enabled: input.enabled,
            updated_at: now,
            updated_by: by.to_owned(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn delete_template(
    mut tx: TenantTx,
    occasion: &str,
    channel: &str,
    locale: &str,
) -> Result<(), AppError> {
    if !db::delete_template(&mut tx, occasion, channel, locale).await? {
        return Err(AppError::not_found("template"));
    }
    tx.commit().await?;
    Ok(())
}

/// Sample values for previews, per occasion.
pub fn sample_data(occasion: &str, lang: Lang) -> Value {
    let name = lang.pick("李小龙", "Alex Li");
    let mut data = json!({
        "member": { "name": name, "card": "8800123456" },
        "business": { "name": lang.pick("星光咖啡", "Starlight Coffee") },
    });
    let extra = match occasion {
        "points.earned" => json!({ "points": 120, "balance": 1520 }),
        "points.redeemed" => json!({ "points": 500, "balance": 1020 }),
        "tier.changed" => {
            json!({ "from": lang.pick("银卡", "Silver"), "to": lang.pick("金卡", "Gold") })
        }
        "points.expiring" => json!({ "points": 300, "date": "2026-12-31" }),
        "membership.ending" => {
            json!({ "plan": lang.pick("年卡", "Annual membership"), "date": "2026-12-31" })
        }
        "pass.ending" => json!({
            "pass": lang.pick("十次理发卡", "10 haircuts"),
            "date": "2026-12-31",
            "visits": 3,
        }),
        "activity.reminder" => json!({
            "activity": lang.pick("周末咖啡品鉴会", "Weekend coffee tasting"),
            "time": "2026-12-05 14:00",
            "place": lang.pick("一楼大厅", "Ground floor hall"),
        }),
        "activity.cancelled" => json!({
            "activity": lang.pick("周末咖啡品鉴会", "Weekend coffee tasting"),
            "time": "2026-12-05 14:00",
            "place": lang.pick("一楼大厅", "Ground floor hall"),
            "points_refunded": 200,
        }),
        "activity.offered" => json!({
            "activity": lang.pick("周末咖啡品鉴会", "Weekend coffee tasting"),
            "time": "2026-12-05 14:00",
            "place": lang.pick("一楼大厅", "Ground floor hall"),
            "until": "2026-12-04 18:30",
        }),
        "activity.approved" => json!({
            "activity": lang.pick("周末咖啡品鉴会", "Weekend coffee tasting"),
            "time": "2026-12-05 14:00",
            "place": lang.pick("一楼大厅", "Ground floor hall"),
            "status": "confirmed",
        }),
        "activity.rejected" => json!({
            "activity": lang.pick("周末咖啡品鉴会", "Weekend coffee tasting"),
            "time": "2026-12-05 14:00",
            "place": lang.pick("一楼大厅", "Ground floor hall"),
            "reason": lang.pick("名额仅限会员本人", "Places are for members only"),
        }),
        "conversation.answered" => json!({
            "subject": lang.pick("退款问题", "A refund"),
            "answer": lang.pick("您好，已为您办理。", "Hello, it is done."),
            "staff": lang.pick("前台小王", "Sam at the desk"),
        }),
        "staff.password_reset" => json!({ "link": "https://example.com/reset?token=..." }),
        "webhook.disabled" => json!({
            "url": "https://example.com/hooks",
            "reason": lang.pick("对方回复 410 Gone，表示不再接收", "it answered 410 Gone: it wants no more calls"),
            "error": "410 Gone",
            "link": "https://example.com/messages?tab=webhooks",
        }),
        "staff.new_device" => {
            json!({ "time": "2026-01-01 09:00 CST", "ip": "203.0.113.7", "device": "Mozilla/5.0" })
        }
        _ => json!({}),
    };
    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    data
}

/// A template (saved or not) filled with sample values.
pub fn preview(input: TemplateInput, now: DateTime<Utc>) -> Result<Value, AppError> {
    check_template(&input)?;
    let lang = parse_locale(&input.locale).unwrap_or_default();
    let vars = variables_of(&sample_data(&input.occasion, lang));
    Ok(render(
        &TemplateRow {
            occasion: input.occasion,
            channel: input.channel,
            locale: input.locale,
            subject: input.subject,
            body_text: input.body_text,
            body_html: input.body_html,
            enabled: input.enabled,
            updated_at: now,
            updated_by: String::new(),
        },
        &vars,
    ))
}

// ---- webhook endpoints ----

/// An endpoint as staff describe it.
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
}

fn check_endpoint(
    input: &EndpointInput,
    allow_private: bool,
) -> Result<(String, Vec<String>), AppError> {
    let mut v = Validation::new();
    let url = v.check("url", parse_endpoint_url(&input.url, allow_private));
    if input.description.chars().count() > 500 {
        v.check::<()>("description", Err(Issue::too_long(500)));
    }
    let mut events = Vec::new();
    if input.events.is_empty() {
        v.check::<()>(
            "events",
            Err(Issue::required().words("choose at least one event type")),
        );
    }
    for (i, e) in input.events.iter().enumerate() {
        if let Some(e) = v.check(&format!("events.{i}"), Event::parse(e)) {
            if !events.contains(&e.as_str().to_owned()) {
                events.push(e.as_str().to_owned());
            }
        }
    }
    v.finish().map_err(AppError::invalid)?;
    Ok((url.unwrap_or_default(), events))
}

pub async fn endpoints(mut tx: TenantTx) -> Result<Vec<Endpoint>, AppError> {
    let rows = db::endpoints(&mut tx).await?;
    tx.commit().await?;
    Ok(rows)
}

pub async fn endpoint(mut tx: TenantTx, id: Uuid) -> Result<Endpoint, AppError> {
    let ep = db::endpoint(&mut tx, id).await.not_found_as("endpoint")?;
    tx.commit().await?;
    Ok(ep)
}

pub async fn create_endpoint(
    mut tx: TenantTx,
    input: EndpointInput,
    allow_private: bool,
    now: DateTime<Utc>,
) -> Result<Endpoint, AppError> {
    let (url, events) = check_endpoint(&input, allow_private)?;
    let secret = Secret::generate().expose();
    let ep = db::create_endpoint(
        &mut tx,
        &url,
        input.description.trim(),
        &events,
        &secret,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ep)
}

pub async fn update_endpoint(
    mut tx: TenantTx,
    id: Uuid,
    input: EndpointInput,
    allow_private: bool,
    now: DateTime<Utc>,
) -> Result<Endpoint, AppError> {
    let (url, events) = check_endpoint(&input, allow_private)?;
    let ep = db::update_endpoint(
        &mut tx,
        id,
        &url,
        input.description.trim(),
        &events,
        input.enabled,
        now,
    )
    .await
    .not_found_as("endpoint")?;
    tx.commit().await?;
    Ok(ep)
}

/// How long the previous secret keeps signing after a rotation.
pub fn rotation_grace() -> Duration {
    Duration::hours(24)
}

pub async fn rotate_secret(
    mut tx: TenantTx,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Endpoint, AppError> {
    let secret = Secret::generate().expose();
    let ep = db::rotate_secret(&mut tx, id, &secret, now + rotation_grace(), now)
        .await
        .not_found_as("endpoint")?;
    tx.commit().await?;
    Ok(ep)
}

pub async fn delete_endpoint(mut tx: TenantTx, id: Uuid) -> Result<(), AppError> {
    if !db::delete_endpoint(&mut tx, id).await? {
        return Err(AppError::not_found("endpoint"));
    }
    tx.commit().await?;
    Ok(())
}

/// An endpoint's deliveries (newest first) with their attempts.
pub async fn endpoint_deliveries(
    mut tx: TenantTx,
    id: Uuid,
    limit: i64,
) -> Result<(Vec<Delivery>, Vec<db::AttemptRow>), AppError> {
    db::endpoint(&mut tx, id).await.not_found_as("endpoint")?;
    let ds = db::deliveries(&mut tx, Some(id), None, limit.clamp(1, 500)).await?;
    let ids: Vec<i64> = ds.iter().map(|d| d.id).collect();
    let attempts = db::attempts(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok((ds, attempts))
}

/// Queues again, for one endpoint, every event of its types since `since` that did not
/// reach it (never queued, failed or stopped); events it received are not sent twice.
/// Returns how many were queued.
pub async fn replay(
    mut tx: TenantTx,
    id: Uuid,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    let ep = db::endpoint(&mut tx, id).await.not_found_as("endpoint")?;
    if since > now {
        return Err(AppError::field("since", Issue::in_future()));
    }
    let rows = db::events_since(&mut tx, &ep.events, since, 10_000).await?;
    let mut queued = 0;
    for row in rows {
        let key = format!("webhook:{}:{}", ep.id, row.id);
        let content = webhook_delivery_content(&row, row.sequence.unwrap_or_default());
        if db::add_or_retry_delivery(
            &mut tx,
            &NewDelivery {
                outbox_id: Some(row.id),
                channel: "webhook",
                endpoint_id: Some(ep.id),
                member_id: row.member_id,
                occasion: None,
                dedupe_key: &key,
                recipient: &ep.url,
                content: &content,
            },
            now,
        )
        .await?
        {
            queued += 1;
        }
    }
    tx.commit().await?;
    Ok(queued)
}

/// Sends a `webhook.test` call to the endpoint now and answers how it went (not retried).
pub async fn send_test(
    mut tx: TenantTx,
    senders: &Senders,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(bool, Option<u16>, String), AppError> {
    let ep = db::endpoint(&mut tx, id).await.not_found_as("endpoint")?;
    tx.commit().await?;
    let Some(sender) = &senders.webhooks else {
        return Err(AppError::unavailable(
            "webhooks_unavailable",
            "outgoing webhooks are not configured on this server",
        ));
    };
    let body = json!({
        "type": "webhook.test",
        "timestamp": now,
        "data": { "endpoint_id": ep.id },
    })
    .to_string()
    .into_bytes();
    let msg_id = format!("msg_test_{}", Uuid::now_v7().simple());
    let secrets = signing_secrets(&ep, now);
    let refs: Vec<&Secret> = secrets.iter().collect();
    let call = WebhookCall {
        url: ep.url.clone(),
        event: "webhook.test".into(),
        headers: signed_headers(&msg_id, now, &body, &refs),
        body,
    };
    Ok(match sender.send(&call).await {
        Ok(status) => ((200..300).contains(&status), Some(status), String::new()),
        Err(e) => (false, None, e),
    })
}

/// The member's e-mails (newest first), for the console.
pub async fn member_deliveries(
    mut tx: TenantTx,
    channel: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>, AppError> {
    let ds = db::deliveries(&mut tx, None, channel, limit.clamp(1, 500)).await?;
    tx.commit().await?;
    Ok(ds)
}

/// A staff member's password-reset e-mail, straight into the outbox's deliveries (there is
/// no member). `link` carries the reset token.
pub async fn queue_staff_email(
    tx: &mut TenantTx,
    tenant: &Tenant,
    to: &str,
    occasion: &str,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let lang = lang_of(tenant);
    let template = match db::template_for(tx, occasion, "email", lang.code()).await? {
        Some(t) => t,
        None => default_template(occasion, lang).or_not_found("template")?,
    };
    let mut vars = variables_of(data);
    vars.insert("business.name".into(), tenant.name.clone());
    let content = render(&template, &vars);
    let key = format!("staff:{to}:{occasion}:{}", Uuid::now_v7());
    Ok(db::add_delivery(
        tx,
        &NewDelivery {
            outbox_id: None,
            channel: "email",
            endpoint_id: None,
            member_id: None,
            occasion: Some(occasion),
            dedupe_key: &key,
            recipient: to,
            content: &content,
        },
        now,
    )
    .await?
    .is_some())
}

/// The product's own wording for occasions a business need not word itself.
fn default_template(occasion: &str, lang: Lang) -> Option<TemplateRow> {
    let (subject, text) = match occasion {
        "staff.password_reset" => (
            lang.pick("重设 {{business.name}} 后台密码", "Reset your {{business.name}} password"),
            lang.pick(
                "请打开以下链接重设密码（30 分钟内有效，只能使用一次）：\n{{link}}\n\n如非本人操作，请忽略此邮件。",
                "Open this link to choose a new password (it works once, for 30 minutes):\n{{link}}\n\nIf you did not ask for this, ignore this e-mail.",
            ),
        ),
        "staff.new_device" => (
            lang.pick("{{business.name}} 后台：新设备登录", "{{business.name}}: a login from a new device"),
            lang.pick(
                "您的账号于 {{time}} 在一台新设备上登录。\n地址：{{ip}}\n浏览器：{{device}}\n\n如非本人操作，请立即修改密码并开启两步验证。",
                "Your account was used to log in from a new device at {{time}}.\nAddress: {{ip}}\nBrowser: {{device}}\n\nIf this was not you, change your password now and turn on two-factor codes.",
            ),
        ),
        "webhook.disabled" => (
            lang.pick(
                "{{business.name}}：Webhook 地址已停用",
                "{{business.name}}: a webhook endpoint was switched off",
            ),
            lang.pick(
                "Webhook 地址 {{url}} 已被自动停用。\n原因：{{reason}}\n最后一次错误：{{error}}\n\n修复后请在后台重新启用，并可重放停用期间错过的事件：\n{{link}}",
                "The webhook endpoint {{url}} was switched off.\nWhy: {{reason}}\nLast error: {{error}}\n\nOnce it is fixed, switch it on again in the console and replay the events it missed:\n{{link}}",
            ),
        ),
        _ => return None,
    };
    Some(TemplateRow {
        occasion: occasion.to_owned(),
        channel: "email".into(),
        locale: lang.code().into(),
        subject: subject.into(),
        body_text: text.into(),
        body_html: None,
        enabled: true,
        updated_at: DateTime::<Utc>::MIN_UTC,
        updated_by: String::new(),
    })
}
