//! Campaigns: one message to the members a search finds, by e-mail, SMS and the portal's
//! inbox, now or at a time in the future.
//!
//! Creating a campaign to send now takes what it will use from the plan's monthly e-mail
//! and SMS quotas (one conditional statement each, `db::plans::take_monthly`): over a quota
//! it is refused with 402 naming it and nothing is written. A scheduled campaign is checked
//! the same way when it is created (taken and given back) and takes its quota when its
//! time comes; over the quota then, it stops with the quota as its reason.
//!
//! Sending is the job [`SEND_JOB`]: it walks the audience in creation order, [`BATCH`]
//! members per transaction under the campaign's row lock, from the campaign's keyset, so
//! memory stays bounded, two runners never overlap, and a runner that died is resumed from
//! the last committed batch. Each batch writes one `campaign_sends` row per member and
//! channel (sent, or skipped with its reason) in one statement whose primary key is
//! (campaign, member, channel), then the e-mails (deliveries the outbox's deliverer sends)
//! and inbox messages (deliveries written as sent) for the rows that were new, and the text
//! messages through the SMS port. Unused quota is given back when the campaign ends.
//!
//! A campaign e-mail has a text and an HTML part; the HTML part alone ends with a 1×1 image
//! whose signed address ([`open_token`]) records when that member's e-mail was first opened
//! ([`record_open`]).
//!
//! A campaign with text messages does not send inside the business's quiet hours (those of
//! the scheduled notices): its job comes back when they end, for every channel.

use crate::members::open;
use crate::messages::Senders;
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::campaigns::{self as rules, budget_room, Draft, Message, BUDGET_DAYS, CHANNELS};
use patron_core::lang::Lang;
use patron_core::pii::PiiKeys;
use patron_core::plans::{Limit, Plan};
use patron_core::Issue;
use patron_db::campaigns::{self as db, Campaign, ChannelResult, Reach};
use patron_db::members::{self as members, Sealed, Search};
use patron_db::{Db, Tenant, TenantTx};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use uuid::Uuid;

/// The job that sends a campaign (payload `{"campaign": id}`).
pub const SEND_JOB: &str = "campaigns.send";

/// Members per transaction.
pub const BATCH: i64 = 500;

/// The occasion of campaign deliveries (their e-mails are counted when the campaign sends,
/// not again when delivered).
pub const OCCASION: &str = "campaign";

fn since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(BUDGET_DAYS)
}

fn lang_of(tenant: &Tenant) -> Lang {
    Lang::parse(&tenant.settings.locale).unwrap_or_default()
}

/// A campaign as staff send it.
pub struct NewCampaign {
    pub draft: Draft,
    pub search: Search,
    /// The audience as staff gave it (shown back).
    pub filter: Value,
    /// The saved segment the audience was taken from.
    pub segment_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
}

/// What a campaign would cost against one monthly quota.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QuotaCost {
    /// `emails_per_month` or `sms_per_month`.
    pub limit: &'static str,
    /// Used this month so far.
    pub used: i64,
    /// The plan's cap (`None`: unlimited, or billed beyond).
    pub allowed: Option<i64>,
    /// What this campaign would use.
    pub campaign: i64,
    /// What would remain after it (`None`: unlimited); negative when it does not fit.
    pub remaining: Option<i64>,
}

/// The audience counted per channel and the cost against the quotas.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Preview {
    pub reach: Reach,
    pub contact_budget: Option<i32>,
    pub quotas: Vec<QuotaCost>,
}

fn limit_of(channel: &str) -> Option<Limit> {
    match channel {
        "email" => Some(Limit::EmailsPerMonth),
        "sms" => Some(Limit::SmsPerMonth),
        _ => None,
    }
}

fn used_by(reach: &Reach, channel: &str) -> i64 {
    match channel {
        "email" => reach.email,
        "sms" => reach.sms,
        _ => reach.inbox,
    }
}

/// Counts the audience per channel and what it would take from the plan's quotas.
pub async fn preview(
    tx: &mut TenantTx,
    plan: &Plan,
    search: &Search,
    channels: &[String],
    now: DateTime<Utc>,
) -> Result<Preview, AppError> {
    let mut v = patron_core::Validation::new();
    for (i, c) in channels.iter().enumerate() {
        if !CHANNELS.contains(&c.as_str()) {
            v.check::<()>(
                &format!("channels.{i}"),
                Err(Issue::not_one_of(c, CHANNELS)),
            );
        }
    }
    v.finish().map_err(AppError::invalid)?;
    let budget = db::contact_budget(tx).await?;
    let reach = db::reach(tx, search, budget, since(now)).await?;
    let mut quotas = Vec::new();
    for c in channels {
        let Some(limit) = limit_of(c) else { continue };
        let used = patron_db::plans::monthly_in(tx, limit, now).await?;
        let allowed = if plan.allows_overage(limit) {
            None
        } else {
            plan.limit(limit)
        };
        let campaign = used_by(&reach, c);
        quotas.push(QuotaCost {
            limit: limit.as_str(),
            used,
            allowed,
            campaign,
            remaining: allowed.map(|a| a - used - campaign),
        });
    }
    Ok(Preview {
        reach,
        contact_budget: budget,
        quotas,
    })
}

fn request_hash(draft: &Draft, search: &Search, segment: Option<Uuid>) -> String {
    let body = json!({
        "segment_id": segment,
        "name": draft.name,
        "channels": draft.channels,
        "messages": draft.messages,
        "send_at": draft.send_at,
        "search": format!("{search:?}"),
    });
    hex::encode(Sha256::digest(body.to_string().as_bytes()))
}

/// Creates a campaign: to send now (its quotas taken, 402 naming the one it would pass,
/// nothing written) or at `send_at` (checked against the quotas as they are now). The same
/// idempotency key again answers the campaign written then; with another body, 409.
pub async fn create(
    tx: &mut TenantTx,
    new: NewCampaign,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Campaign, AppError> {
    new.draft.check(now).map_err(AppError::invalid)?;
    let hash = request_hash(&new.draft, &new.search, new.segment_id);
    if let Some(key) = &new.idempotency_key {
        if let Some(c) = db::by_key(tx, key).await? {
            if c.request_hash == hash {
                return Ok(c);
            }
            return Err(crate::points::key_reused("idempotency_key"));
        }
    }
    let later = new.draft.send_at.filter(|at| *at > now);
    let c = Campaign {
        id: Uuid::now_v7(),
        name: new.draft.name.trim().to_owned(),
        search: serde_json::to_value(&new.search).map_err(AppError::internal)?,
        filter: new.filter,
        channels: new.draft.channels.clone(),
        messages: serde_json::to_value(&new.draft.messages).map_err(AppError::internal)?,
        send_at: Some(later.unwrap_or(now)),
        status: "scheduled".into(),
        stop_reason: None,
        cursor_at: None,
        cursor_id: None,
        email_reserved: 0,
        sms_reserved: 0,
        email_used: 0,
        sms_used: 0,
        matched: 0,
        done: 0,
        idempotency_key: new.idempotency_key.clone(),
        request_hash: hash,
        created_at: now,
        created_by: actor.to_owned(),
        started_at: None,
        finished_at: None,
        segment_id: new.segment_id,
    };
    let Some(c) = db::insert(tx, &c).await? else {
        // The key was taken by a request running at the same time (now committed): the
        // same body answers its campaign, another one is refused.
        let key = c.idempotency_key.as_deref().unwrap_or_default();
        return match db::by_key(tx, key).await? {
            Some(other) if other.request_hash == c.request_hash => Ok(other),
            _ => Err(crate::points::key_reused("idempotency_key")),
        };
    };
    if later.is_some() {
        // Checked now (taken and given back): a campaign that would not fit is refused.
        let reach = reach_of(tx, &c, now).await?;
        for ch in &c.channels {
            if let Some(limit) = limit_of(ch) {
                let n = used_by(&reach, ch);
                crate::plans::take_monthly(tx, limit, n, now).await?;
                patron_db::plans::meter_in(tx, limit.as_str(), now, -n).await?;
            }
        }
        Ok(c)
    } else {
        reserve(tx, &c, now).await?;
        Ok(db::get(tx, c.id, false).await?.unwrap_or(c))
    }
}

async fn reach_of(tx: &mut TenantTx, c: &Campaign, now: DateTime<Utc>) -> Result<Reach, AppError> {
    let search: Search = serde_json::from_value(c.search.clone()).map_err(AppError::internal)?;
    let budget = db::contact_budget(tx).await?;
    Ok(db::reach(tx, &search, budget, since(now)).await?)
}

/// Starts sending: takes the campaign's e-mails and text messages from the plan's month
/// (402 naming the quota it would pass).
async fn reserve(tx: &mut TenantTx, c: &Campaign, now: DateTime<Utc>) -> Result<(), AppError> {
    let reach = reach_of(tx, c, now).await?;
    let (mut email, mut sms) = (0, 0);
    for ch in &c.channels {
        if let Some(limit) = limit_of(ch) {
            let n = used_by(&reach, ch);
            crate::plans::take_monthly(tx, limit, n, now).await?;
            match limit {
                Limit::EmailsPerMonth => email = n,
                _ => sms = n,
            }
        }
    }
    db::start(tx, c.id, email, sms, reach.members, now).await?;
    Ok(())
}

/// Queues the job that sends `campaign` at its time (once while one is waiting).
pub async fn enqueue(db: &Db, tenant: i64, c: &Campaign, now: DateTime<Utc>) {
    let at = c.send_at.unwrap_or(now).max(now);
    let r = patron_db::jobs::enqueue(
        db,
        SEND_JOB,
        Some(tenant),
        json!({ "campaign": c.id }),
        at,
        Some(&format!("{SEND_JOB}:{}", c.id)),
    )
    .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, campaign = %c.id, "could not queue the campaign");
    }
}

/// A campaign with its results.
#[derive(Debug, Clone)]
pub struct Report {
    pub campaign: Campaign,
    pub results: Vec<ChannelResult>,
    pub unsubscribed: i64,
}

pub async fn list(tx: &mut TenantTx) -> Result<Vec<Report>, AppError> {
    let cs = db::list(tx, 100).await?;
    let mut out = Vec::with_capacity(cs.len());
    for c in cs {
        out.push(report(tx, c).await?);
    }
    Ok(out)
}

async fn report(tx: &mut TenantTx, c: Campaign) -> Result<Report, AppError> {
    let results = db::results(tx, c.id).await?;
    let unsubscribed = match c.started_at {
        Some(at) => db::unsubscribed_after(tx, c.id, at).await?,
        None => 0,
    };
    Ok(Report {
        campaign: c,
        results,
        unsubscribed,
    })
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Report, AppError> {
    let c = db::get(tx, id, false)
        .await?
        .ok_or_else(|| AppError::not_found("campaign"))?;
    report(tx, c).await
}

/// Cancels a scheduled campaign (409 `campaign_not_scheduled` once it is sending or over).
pub async fn cancel(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<Report, AppError> {
    let c = db::get(tx, id, true)
        .await?
        .ok_or_else(|| AppError::not_found("campaign"))?;
    if !db::cancel(tx, id, now).await? {
        return Err(AppError::conflict(
            "campaign_not_scheduled",
            None,
            "only a campaign waiting for its time can be cancelled",
        )
        .with_param("status", c.status.clone()));
    }
    get(tx, id).await
}

/// The business's contact budget.
pub async fn contact_budget(tx: &mut TenantTx) -> Result<Option<i32>, AppError> {
    Ok(db::contact_budget(tx).await?)
}

/// Sets the contact budget: 1–100 messages per member per 7 days, or none.
pub async fn set_contact_budget(
    tx: &mut TenantTx,
    budget: Option<i32>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<i32>, AppError> {
    if let Some(b) = budget {
        if !(1..=rules::BUDGET_MAX).contains(&b) {
            return Err(AppError::field(
                "contact_budget",
                Issue::out_of_range(1, rules::BUDGET_MAX.into()),
            ));
        }
    }
    db::set_contact_budget(tx, budget, by, now).await?;
    Ok(budget)
}

/// What one batch decided for a member and channel.
struct Send {
    member: Uuid,
    channel: &'static str,
    skipped: Option<&'static str>,
}

/// Sends a campaign to its end, a batch per transaction. Safe to run twice at once and to
/// resume after a crash.
pub async fn run(
    db: &Db,
    tenant: &Tenant,
    senders: &Senders,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
    let lang = lang_of(tenant);
    let sms = crate::sms::sender_for(senders);
    let mut batches = 0;
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let Some(c) = db::get(&mut tx, id, true).await? else {
            return Ok(json!({ "skipped": "no such campaign" }));
        };
        match c.status.as_str() {
            "scheduled" if c.send_at.is_some_and(|at| at > now) => {
                tx.commit().await?;
                return Ok(json!({ "status": "scheduled", "waiting": true }));
            }
            "scheduled" | "sending" if c.channels.iter().any(|ch| ch == "sms") => {
                // A campaign with text messages waits out the quiet hours (its e-mails and
                // inbox messages with it, so a member gets the campaign at one time).
                if let Some(until) = quiet_until(tenant, now) {
                    tx.commit().await?;
                    patron_db::jobs::enqueue(
                        db,
                        SEND_JOB,
                        Some(tenant.id),
                        json!({ "campaign": id }),
                        until,
                        Some(&format!("{SEND_JOB}:{id}:{}", until.timestamp())),
                    )
                    .await?;
                    return Ok(json!({ "status": c.status, "quiet_until": until }));
                }
            }
            _ => {}
        }
        match c.status.as_str() {
            "scheduled" => {
                // Its time came: the quotas are taken now, or it stops naming the one it
                // would pass.
                match reserve(&mut tx, &c, now).await {
                    Ok(()) => {}
                    Err(AppError::Plan(d)) => {
                        drop(tx);
                        let mut tx = db.tenant_tx(tenant).await?;
                        let reason = d.limit.clone().unwrap_or_else(|| d.code.clone());
                        db::finish(&mut tx, id, "stopped", Some(&reason), now).await?;
                        tx.commit().await?;
                        return Ok(json!({ "status": "stopped", "reason": reason }));
                    }
                    Err(e) => return Err(e),
                }
                tx.commit().await?;
                continue;
            }
            "sending" => {}
            other => {
                tx.commit().await?;
                return Ok(json!({ "status": other, "batches": batches }));
            }
        }
        batches += 1;
        db::lock_budget(&mut tx).await?;
        let search: Search =
            serde_json::from_value(c.search.clone()).map_err(AppError::internal)?;
        let after = c.cursor_at.zip(c.cursor_id);
        let page = members::page_ids(&mut tx, &search, after, BATCH).await?;
        let Some(&(last_id, last_at)) = page.last() else {
            // The end: what was taken and not used goes back to the month.
            let (e, s) = (c.email_reserved - c.email_used, c.sms_reserved - c.sms_used);
            let month = c.started_at.unwrap_or(now);
            if e > 0 {
                patron_db::plans::meter_in(&mut tx, Limit::EmailsPerMonth.as_str(), month, -e)
                    .await?;
            }
            if s > 0 {
                patron_db::plans::meter_in(&mut tx, Limit::SmsPerMonth.as_str(), month, -s).await?;
            }
            db::finish(&mut tx, id, "done", None, now).await?;
            tx.commit().await?;
            continue;
        };
        let ids: Vec<Uuid> = page.iter().map(|p| p.0).collect();
        let budget = db::contact_budget(&mut tx).await?;
        let targets = db::targets(&mut tx, &ids, since(now)).await?;
        let draft = Draft {
            name: c.name.clone(),
            channels: c.channels.clone(),
            messages: serde_json::from_value::<Vec<Message>>(c.messages.clone())
                .map_err(AppError::internal)?,
            send_at: c.send_at,
        };
        // Each member's channels in budget order: contact and consent first, then the room
        // the budget leaves.
        let mut sends: Vec<Send> = Vec::new();
        let mut phones: BTreeMap<Uuid, String> = BTreeMap::new();
        for t in targets.iter().filter(|t| t.status == "active") {
            let mut ok: Vec<&'static str> = Vec::new();
            for ch in CHANNELS
                .iter()
                .copied()
                .filter(|ch| c.channels.iter().any(|x| x == ch))
            {
                let skipped = match ch {
                    // An address that bounced for good is no contact.
                    "email" if t.email_enc.is_none() || t.email_bounced => Some("no_contact"),
                    "email" if !t.marketing_email => Some("opted_out"),
                    "sms" => {
                        let phone = t.phone_enc.as_ref().zip(t.phone_key).and_then(|(c, k)| {
                            open(
                                &senders.keys,
                                &Sealed {
                                    ciphertext: c.clone(),
                                    key_id: k,
                                    index: Vec::new(),
                                },
                            )
                        });
                        match phone {
                            None => Some("no_contact"),
                            Some(_) if !t.marketing_sms => Some("opted_out"),
                            Some(p) => {
                                phones.insert(t.id, p);
                                None
                            }
                        }
                    }
                    _ => None,
                };
                match skipped {
                    Some(why) => sends.push(Send {
                        member: t.id,
                        channel: ch,
                        skipped: Some(why),
                    }),
                    None => ok.push(ch),
                }
            }
            let room = budget_room(t.recent, budget, ok.len());
            for (i, ch) in ok.into_iter().enumerate() {
                sends.push(Send {
                    member: t.id,
                    channel: ch,
                    skipped: (i >= room).then_some("over_budget"),
                });
            }
        }
        // The quotas: what was taken for the campaign, then more from the month while it
        // fits; beyond that the members are skipped for the quota.
        let mut used = BTreeMap::from([("email", 0i64), ("sms", 0i64)]);
        for (ch, limit, reserved, already) in [
            (
                "email",
                Limit::EmailsPerMonth,
                c.email_reserved,
                c.email_used,
            ),
            ("sms", Limit::SmsPerMonth, c.sms_reserved, c.sms_used),
        ] {
            let wanted = sends
                .iter()
                .filter(|s| s.channel == ch && s.skipped.is_none())
                .count() as i64;
            let left = (reserved - already).max(0);
            let mut allowed = wanted.min(left);
            if wanted > left {
                let extra = wanted - left;
                let took = patron_db::plans::take_monthly(&mut tx, limit, now, extra).await?;
                if took.cap.is_none() || took.taken.is_some() {
                    allowed = wanted;
                    // Counted as reserved too, so the end gives back only what was unused.
                }
            }
            let mut n = 0;
            for s in sends
                .iter_mut()
                .filter(|s| s.channel == ch && s.skipped.is_none())
            {
                if n >= allowed {
                    s.skipped = Some("quota");
                } else {
                    n += 1;
                }
            }
            used.insert(ch, n);
        }
        let written: HashSet<(Uuid, String)> = db::record_sends(
            &mut tx,
            c.id,
            &sends.iter().map(|s| s.member).collect::<Vec<_>>(),
            &sends
                .iter()
                .map(|s| s.channel.to_owned())
                .collect::<Vec<_>>(),
            &sends
                .iter()
                .map(|s| s.skipped.map(str::to_owned))
                .collect::<Vec<_>>(),
            now,
        )
        .await?
        .into_iter()
        .collect();
        let by_id: BTreeMap<Uuid, &db::Target> = targets.iter().map(|t| (t.id, t)).collect();
        for ch in ["email", "inbox"] {
            let Some(m) = draft.message(ch, lang) else {
                continue;
            };
            let mut to = Vec::new();
            let mut contents = Vec::new();
            for s in sends.iter().filter(|s| {
                s.channel == ch
                    && s.skipped.is_none()
                    && written.contains(&(s.member, ch.to_owned()))
            }) {
                let Some(t) = by_id.get(&s.member) else {
                    continue;
                };
                let mut vars = vars(tenant, t);
                let link = (ch == "email").then(|| senders.unsubscribe_url(tenant, t.id));
                if let Some(link) = &link {
                    vars.insert("unsubscribe.link".to_owned(), link.clone());
                }
                let (subject, mut text) = rules::render(m, &vars, lang);
                let mut content = json!({ "subject": subject, "text": text, "html": null });
                if let Some(link) = link {
                    if !m.body.contains("{{unsubscribe.link}}") {
                        text = format!(
                            "{text}\n\n{}{link}",
                            lang.pick("退订营销邮件：", "Unsubscribe from these e-mails: ")
                        );
                    }
                    // The HTML part alone carries the image that tells the e-mail was opened.
                    let pixel = senders.console_link(&format!(
                        "/api/v1/portal/{}/opened/{}",
                        tenant.slug,
                        open_token(&senders.keys, tenant.id, c.id, t.id)
                    ));
                    content["html"] = Value::String(rules::email_html(&text, &[&link], &pixel));
                    content["text"] = Value::String(text);
                    content["unsubscribe"] = Value::String(link);
                }
                content["campaign"] = Value::String(c.id.to_string());
                to.push(t.id);
                contents.push(content);
            }
            if !to.is_empty() {
                db::add_deliveries(&mut tx, c.id, ch, &to, &contents, now).await?;
            }
        }
        if let Some(m) = draft.message("sms", lang) {
            for s in sends.iter().filter(|s| {
                s.channel == "sms"
                    && s.skipped.is_none()
                    && written.contains(&(s.member, "sms".to_owned()))
            }) {
                let (Some(t), Some(phone)) = (by_id.get(&s.member), phones.get(&s.member)) else {
                    continue;
                };
                let (_, body) = rules::render(m, &vars(tenant, t), lang);
                let phone =
                    patron_core::members::Phone::parse(phone, &tenant.settings.phone_region)
                        .map_err(|_| AppError::internal_msg("a member's phone does not parse"))?;
                let text = crate::sms::SmsText {
                    template: "campaign".to_owned(),
                    variables: [("text".to_owned(), body.clone())].into(),
                    body,
                    purpose: format!("campaign:{}", c.id),
                };
                sms.send(&mut tx, &phone, &text, now).await?;
            }
        }
        db::advance(
            &mut tx,
            c.id,
            ids.len() as i64,
            used["email"],
            used["sms"],
            (last_at, last_id),
        )
        .await?;
        tx.commit().await?;
    }
}

/// What the image of a campaign e-mail is signed for (see [`open_token`]).
const OPEN_PURPOSE: &str = "campaign_open";

/// The token in the address of a campaign e-mail's image: `<campaign>.<member>.<signature>`,
/// the signature that of the unsubscribe links (`notices::link_signature`), so it names one
/// member's e-mail of one campaign of this business and cannot be made up or enumerated.
pub fn open_token(keys: &PiiKeys, tenant_id: i64, campaign: Uuid, member: Uuid) -> String {
    let subject = format!("{}.{}", campaign.simple(), member.simple());
    let signature = crate::notices::link_signature(keys, OPEN_PURPOSE, tenant_id, &subject);
    format!("{subject}.{signature}")
}

/// The campaign and member an open token names, when its signature holds.
pub fn open_token_names(keys: &PiiKeys, tenant_id: i64, token: &str) -> Option<(Uuid, Uuid)> {
    let mut parts = token.trim().splitn(3, '.');
    let (campaign, member, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let (campaign, member) = (
        Uuid::try_parse(campaign).ok()?,
        Uuid::try_parse(member).ok()?,
    );
    let subject = format!("{}.{}", campaign.simple(), member.simple());
    crate::notices::link_signature_holds(keys, OPEN_PURPOSE, tenant_id, &subject, signature)
        .then_some((campaign, member))
}

/// A campaign e-mail's image was loaded: records the first open of that member's e-mail
/// (later loads change nothing). A token that does not hold changes nothing either and
/// touches no table. `true` when this was the first open.
pub async fn record_open(
    db: &Db,
    tenant: &Tenant,
    keys: &PiiKeys,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let Some((campaign, member)) = open_token_names(keys, tenant.id, token) else {
        return Ok(false);
    };
    let mut tx = db.tenant_tx(tenant).await?;
    let first = db::record_email_open(&mut tx, campaign, member, now).await?;
    tx.commit().await?;
    Ok(first)
}

/// When `now` is inside the business's quiet hours (those of the scheduled notices, in its
/// time zone), the moment they end.
pub fn quiet_until(tenant: &Tenant, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    crate::notices::scheduled::quiet_hours().wait_until(tenant.settings.zone(), now)
}

fn vars(tenant: &Tenant, t: &db::Target) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("member.name".to_owned(), t.name.clone());
    if let Some(card) = &t.card_number {
        v.insert("member.card".to_owned(), card.clone());
    }
    v.insert("business.name".to_owned(), tenant.name.clone());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_token_names_its_campaign_and_member_and_cannot_be_forged() {
        let keys = PiiKeys::development();
        let (c, m, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let t = open_token(&keys, 7, c, m);
        assert_eq!(open_token_names(&keys, 7, &t), Some((c, m)));
        // Another business, another member under the same signature, a changed signature,
        // an unsubscribe token: refused.
        assert_eq!(open_token_names(&keys, 8, &t), None);
        let moved = t.replace(&m.simple().to_string(), &other.simple().to_string());
        assert_eq!(open_token_names(&keys, 7, &moved), None);
        let mut forged = t.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(open_token_names(&keys, 7, &forged), None);
        let unsubscribe = crate::notices::unsubscribe_token(&keys, 7, m);
        assert_eq!(open_token_names(&keys, 7, &unsubscribe), None);
        assert_eq!(open_token_names(&keys, 7, "a.b.c"), None);
    }
}
