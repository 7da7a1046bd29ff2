//! Portal notices (公告) and what a member reads in the portal: the notices shown to them
//! now with their read marks, their inbox (their e-mails and the notices, with unread
//! counts), their contact preferences, and the unsubscribe link of marketing e-mails.

pub mod scheduled;

use crate::engine::RuleEngine;
use crate::{AppError, NotFoundAs};
use chrono::{DateTime, Utc};
use patron_core::notices::{self as core, NoticeDraft};
use patron_core::pii::PiiKeys;
use patron_core::problem::{FieldCode, Issue};
use patron_db::notices::{self as db, InboxMessage, MemberNotice, Notice, NoticeRow};
use patron_db::TenantTx;
use uuid::Uuid;

/// Every notice, pinned first, then the latest first, with how many members read each.
pub async fn list(mut tx: TenantTx) -> Result<Vec<(Notice, i64)>, AppError> {
    let rows = db::list(&mut tx, 500).await?;
    let ids: Vec<Uuid> = rows.iter().map(|n| n.id).collect();
    let counts: std::collections::HashMap<Uuid, i64> =
        db::read_counts(&mut tx, &ids).await?.into_iter().collect();
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|n| {
            let c = counts.get(&n.id).copied().unwrap_or(0);
            (n, c)
        })
        .collect())
}

async fn checked(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    draft: &NoticeDraft,
) -> Result<NoticeDraft, AppError> {
    let known: Vec<String> = if draft.tiers.is_empty() {
        Vec::new()
    } else {
        engine.tenant(tx).await?.tier_names().into_keys().collect()
    };
    core::check(draft, &known).map_err(AppError::invalid)
}

fn row(d: &NoticeDraft) -> NoticeRow<'_> {
    NoticeRow {
        title: &d.title,
        body: &d.body,
        starts_at: d.starts_at,
        ends_at: d.ends_at,
        tiers: &d.tiers,
        pinned: d.pinned,
    }
}

pub async fn create(
    mut tx: TenantTx,
    engine: &RuleEngine,
    draft: NoticeDraft,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Notice, AppError> {
    let d = checked(&mut tx, engine, &draft).await?;
    let n = db::create(&mut tx, &row(&d), by, now).await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn update(
    mut tx: TenantTx,
    engine: &RuleEngine,
    id: Uuid,
    draft: NoticeDraft,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(Notice, i64), AppError> {
    db::get(&mut tx, id).await.not_found_as("notice")?;
    let d = checked(&mut tx, engine, &draft).await?;
    let n = db::update(&mut tx, id, &row(&d), by, now).await?;
    let read_by = db::read_counts(&mut tx, &[id])
        .await?
        .first()
        .map(|(_, c)| *c)
        .unwrap_or(0);
    tx.commit().await?;
    Ok((n, read_by))
}

pub async fn delete(mut tx: TenantTx, id: Uuid) -> Result<(), AppError> {
    if !db::delete(&mut tx, id).await? {
        return Err(AppError::not_found("notice"));
    }
    tx.commit().await?;
    Ok(())
}

/// The notices shown to a member now.
pub async fn for_member(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<MemberNotice>, AppError> {
    Ok(db::for_member(tx, member_id, now).await?)
}

/// Marks a notice read by the member; 404 when it is not shown to them now.
pub async fn mark_read(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !db::mark_read(tx, member_id, id, now).await? {
        return Err(AppError::not_found("notice"));
    }
    Ok(())
}

/// One entry of a member's inbox.
#[derive(Debug, Clone)]
pub enum InboxEntry {
    Notice(MemberNotice),
    Message(InboxMessage),
}

impl InboxEntry {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Notice(n) => n.starts_at,
            Self::Message(m) => m.created_at,
        }
    }

    pub fn read(&self) -> bool {
        match self {
            Self::Notice(n) => n.read_at.is_some(),
            Self::Message(m) => m.read_at.is_some(),
        }
    }
}

/// A member's inbox: the notices shown to them now (when `with_notices`, the plan has them)
/// and the e-mails written to them, newest first (pinned notices on top), and how many are
/// unread.
pub async fn inbox(
    tx: &mut TenantTx,
    member_id: Uuid,
    with_notices: bool,
    now: DateTime<Utc>,
) -> Result<(Vec<InboxEntry>, i64), AppError> {
    let mut out: Vec<InboxEntry> = Vec::new();
    if with_notices {
        out.extend(
            db::for_member(tx, member_id, now)
                .await?
                .into_iter()
                .map(InboxEntry::Notice),
        );
    }
    out.extend(
        db::inbox(tx, member_id, 200)
            .await?
            .into_iter()
            .map(InboxEntry::Message),
    );
    out.sort_by(|a, b| {
        let pinned = |e: &InboxEntry| matches!(e, InboxEntry::Notice(n) if n.pinned);
        pinned(b).cmp(&pinned(a)).then(b.at().cmp(&a.at()))
    });
    let unread = out.iter().filter(|e| !e.read()).count() as i64;
    Ok((out, unread))
}

/// Marks one of the member's messages read; 404 when it is not theirs.
pub async fn mark_message_read(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !db::mark_message_read(tx, member_id, id, now).await? {
        return Err(AppError::not_found("message"));
    }
    Ok(())
}

// ---- contact preferences and unsubscribing ----

pub async fn marketing_email(tx: &mut TenantTx, member_id: Uuid) -> Result<bool, AppError> {
    Ok(db::marketing_email(tx, member_id).await?)
}

pub async fn set_marketing_email(
    tx: &mut TenantTx,
    member_id: Uuid,
    on: bool,
    via: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db::set_marketing_email(tx, member_id, on, via, now).await?;
    patron_db::audit::record(
        tx,
        now,
        &format!("member:{member_id}"),
        "member.contact_preferences",
        &member_id.to_string(),
        serde_json::json!({ "marketing_email": on, "via": via }),
    )
    .await?;
    Ok(())
}

pub async fn marketing_sms(tx: &mut TenantTx, member_id: Uuid) -> Result<bool, AppError> {
    Ok(db::marketing_sms(tx, member_id).await?)
}

pub async fn set_marketing_sms(
    tx: &mut TenantTx,
    member_id: Uuid,
    on: bool,
    via: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db::set_marketing_sms(tx, member_id, on, via, now).await?;
    patron_db::audit::record(
        tx,
        now,
        &format!("member:{member_id}"),
        "member.contact_preferences",
        &member_id.to_string(),
        serde_json::json!({ "marketing_sms": on, "via": via }),
    )
    .await?;
    Ok(())
}

/// The signature of a link in an e-mail: a keyed hash (the PII index key) of what the link
/// is for (`purpose`), the business and `subject`, so the link works for that one thing of
/// that business only and cannot be made up or enumerated. Unsubscribe links and the image
/// that tells a campaign e-mail was opened carry one.
pub(crate) fn link_signature(
    keys: &PiiKeys,
    purpose: &str,
    tenant_id: i64,
    subject: &str,
) -> String {
    use base64::Engine as _;
    let mac = keys.blind_index(purpose, &format!("{tenant_id}:{subject}"));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac[..24])
}

/// Whether `given` is the signature [`link_signature`] makes of the same things (compared
/// in constant time).
pub(crate) fn link_signature_holds(
    keys: &PiiKeys,
    purpose: &str,
    tenant_id: i64,
    subject: &str,
    given: &str,
) -> bool {
    let expected = link_signature(keys, purpose, tenant_id, subject);
    expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The token of a member's unsubscribe link: `<member id>.<signature>`.
pub fn unsubscribe_token(keys: &PiiKeys, tenant_id: i64, member_id: Uuid) -> String {
    let member = member_id.simple().to_string();
    format!(
        "{member}.{}",
        link_signature(keys, "unsubscribe", tenant_id, &member)
    )
}

fn token_refused() -> AppError {
    AppError::field(
        "token",
        Issue::new(FieldCode::Wrong, "the unsubscribe link is not valid"),
    )
}

/// The member an unsubscribe token was made for, when its signature holds.
pub fn unsubscribe_member(keys: &PiiKeys, tenant_id: i64, token: &str) -> Result<Uuid, AppError> {
    let (id, mac) = token.trim().split_once('.').ok_or_else(token_refused)?;
    let member_id = Uuid::try_parse(id).map_err(|_| token_refused())?;
    let member = member_id.simple().to_string();
    if !link_signature_holds(keys, "unsubscribe", tenant_id, &member, mac) {
        return Err(token_refused());
    }
    Ok(member_id)
}

/// Turns marketing e-mail off for the member a signed link names (no login).
pub async fn unsubscribe(
    mut tx: TenantTx,
    keys: &PiiKeys,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let member_id = unsubscribe_member(keys, tx.tenant_id(), token)?;
    match patron_db::members::get(&mut tx, member_id).await {
        Ok(_) => {}
        Err(patron_db::DbError::NotFound) => return Err(token_refused()),
        Err(e) => return Err(e.into()),
    }
    set_marketing_email(&mut tx, member_id, false, "unsubscribe", now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsubscribe_token_names_its_member_and_cannot_be_forged() {
        let keys = PiiKeys::development();
        let m = Uuid::now_v7();
        let t = unsubscribe_token(&keys, 7, m);
        assert_eq!(unsubscribe_member(&keys, 7, &t).unwrap(), m);
        // Another business, another member, a changed signature: refused.
        assert!(unsubscribe_member(&keys, 8, &t).is_err());
        let other = Uuid::now_v7();
        let moved = t.replace(&m.simple().to_string(), &other.simple().to_string());
        assert!(unsubscribe_member(&keys, 7, &moved).is_err());
        let mut forged = t.clone();
        forged.pop();
        forged.push('A');
        if forged != t {
            assert!(unsubscribe_member(&keys, 7, &forged).is_err());
        }
        assert!(unsubscribe_member(&keys, 7, "nonsense").is_err());
    }
}
