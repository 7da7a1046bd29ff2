//! Conversations between the front desk and members: a member opens a thread in the portal
//! and writes in it, staff answer, assign, close and reopen it in the console and note
//! follow-ups with a due date. Each staff answer is an outbox event
//! (`conversation.answered`) in the answer's own transaction, so the member's e-mail (when
//! the business worded that occasion and the member has an address) and webhooks go out
//! through the one outbox.

use crate::engine::RuleEngine;
use crate::{AppError, NotFoundAs};
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::conversations::{self as core, Status};
use patron_core::messages::Event;
use patron_core::pii::PiiKeys;
use patron_core::Issue;
use patron_db::conversations::{
    self as db, Author, Conversation, DueFollowUp, Filter, FollowUp, Message,
};
use patron_db::{Tenant, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// Messages shown of one thread.
const MESSAGES_MAX: i64 = 500;
/// Threads of one member in the portal.
const MEMBER_THREADS_MAX: i64 = 100;
/// Due follow-ups listed at once.
const DUE_MAX: i64 = 200;

/// What a write did, as kept for a retry with the same key.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Written {
    pub conversation_id: Uuid,
    pub message_id: i64,
}

/// A thread with its messages (oldest first) and follow-ups.
#[derive(Debug, Clone)]
pub struct Thread {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    pub follow_ups: Vec<FollowUp>,
}

/// Who is writing on the business's side: a staff member (or an integration) by name.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: Option<Uuid>,
    pub name: String,
}

/// A member opens a thread with its first message.
pub async fn start(
    tx: &mut TenantTx,
    member_id: Uuid,
    member_name: &str,
    subject: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Written, AppError> {
    let (subject, body) = core::check_new(subject, body).map_err(AppError::invalid)?;
    let id = db::create(tx, member_id, &subject, now).await?;
    let m = db::add_message(
        tx,
        id,
        &Author {
            kind: "member",
            staff_id: None,
            name: member_name,
        },
        &body,
        now,
    )
    .await?;
    Ok(Written {
        conversation_id: id,
        message_id: m.id,
    })
}

/// A member writes in their own thread (a closed one opens again); 404 for another
/// member's thread.
pub async fn member_writes(
    tx: &mut TenantTx,
    member_id: Uuid,
    member_name: &str,
    id: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Written, AppError> {
    let body = core::check_body(body).map_err(AppError::invalid)?;
    db::get_of_member(tx, member_id, id)
        .await
        .not_found_as("conversation")?;
    db::lock(tx, id).await?;
    let m = db::add_message(
        tx,
        id,
        &Author {
            kind: "member",
            staff_id: None,
            name: member_name,
        },
        &body,
        now,
    )
    .await?;
    Ok(Written {
        conversation_id: id,
        message_id: m.id,
    })
}

/// Staff answer a thread: it waits for the member, the member sees it unread, and the
/// outbox gets `conversation.answered` for the member (e-mail when worded, webhooks).
pub async fn answer(
    tx: &mut TenantTx,
    id: Uuid,
    by: &Staff,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Written, AppError> {
    let body = core::check_body(body).map_err(AppError::invalid)?;
    db::lock(tx, id).await.not_found_as("conversation")?;
    let c = db::get(tx, id).await?;
    let m = db::add_message(
        tx,
        id,
        &Author {
            kind: "staff",
            staff_id: by.id,
            name: &by.name,
        },
        &body,
        now,
    )
    .await?;
    crate::messages::record(
        tx,
        Event::ConversationAnswered,
        c.member_id,
        &format!("{id}:{}", m.id),
        json!({
            "conversation_id": id,
            "subject": c.subject,
            "answer": body,
            "staff": by.name,
        }),
        now,
    )
    .await?;
    Ok(Written {
        conversation_id: id,
        message_id: m.id,
    })
}

/// A thread as staff see it.
pub async fn thread(tx: &mut TenantTx, id: Uuid) -> Result<Thread, AppError> {
    let conversation = db::get(tx, id).await.not_found_as("conversation")?;
    let messages = db::messages(tx, id, MESSAGES_MAX).await?;
    let follow_ups = db::follow_ups(tx, id).await?;
    Ok(Thread {
        conversation,
        messages,
        follow_ups,
    })
}

/// A member's own thread (no follow-ups: those are staff's notes); 404 for another's.
pub async fn member_thread(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: Uuid,
) -> Result<Thread, AppError> {
    let conversation = db::get_of_member(tx, member_id, id)
        .await
        .not_found_as("conversation")?;
    let messages = db::messages(tx, id, MESSAGES_MAX).await?;
    Ok(Thread {
        conversation,
        messages,
        follow_ups: Vec::new(),
    })
}

/// The member opened their thread: the answers in it are read.
pub async fn member_read(tx: &mut TenantTx, member_id: Uuid, id: Uuid) -> Result<(), AppError> {
    if !db::member_read(tx, member_id, id).await? {
        return Err(AppError::not_found("conversation"));
    }
    Ok(())
}

/// A member's threads, the latest first, and how many staff answers they have not read.
pub async fn of_member(
    tx: &mut TenantTx,
    member_id: Uuid,
) -> Result<(Vec<Conversation>, i64), AppError> {
    let rows = db::of_member(tx, member_id, MEMBER_THREADS_MAX).await?;
    let unread = rows.iter().map(|c| i64::from(c.member_unread)).sum();
    Ok((rows, unread))
}

/// Assigns a thread to an active staff member (`None`: to nobody); an unknown or disabled
/// staff member is 422 on `staff_id`.
pub async fn assign(
    tx: &mut TenantTx,
    id: Uuid,
    staff_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db::lock(tx, id).await.not_found_as("conversation")?;
    let to = match staff_id {
        None => None,
        Some(s) => {
            let name = db::active_staff_name(tx, s).await?.ok_or_else(|| {
                AppError::field(
                    "staff_id",
                    Issue::unknown(
                        &s.to_string(),
                        "there is no active staff member with this id",
                    ),
                )
            })?;
            Some((s, name))
        }
    };
    db::assign(tx, id, to.as_ref().map(|(s, n)| (*s, n.as_str())), now).await?;
    Ok(())
}

/// Closes a thread (closing a closed one changes nothing).
pub async fn close(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
    db::lock(tx, id).await.not_found_as("conversation")?;
    db::set_status(tx, id, Status::Closed.as_str(), now).await?;
    Ok(())
}

/// Reopens a closed thread: it waits for an answer again (an open one stays as it is).
pub async fn reopen(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
    let status = db::lock(tx, id).await.not_found_as("conversation")?;
    if status == Status::Closed.as_str() {
        db::set_status(tx, id, Status::Open.as_str(), now).await?;
    }
    Ok(())
}

/// Notes a follow-up on a thread, due on a day of the business (today or later).
pub async fn add_follow_up(
    tx: &mut TenantTx,
    id: Uuid,
    due_on: NaiveDate,
    note: &str,
    by: &str,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<FollowUp, AppError> {
    let note = core::check_follow_up(due_on, note, today).map_err(AppError::invalid)?;
    db::lock(tx, id).await.not_found_as("conversation")?;
    Ok(db::add_follow_up(tx, id, due_on, &note, by, now).await?)
}

/// Marks a follow-up done.
pub async fn finish_follow_up(
    tx: &mut TenantTx,
    id: Uuid,
    follow_up: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<FollowUp, AppError> {
    db::finish_follow_up(tx, id, follow_up, by, now)
        .await
        .not_found_as("follow_up")
}

/// Follow-ups not done and due on or before `on`.
pub async fn due_follow_ups(
    tx: &mut TenantTx,
    on: NaiveDate,
) -> Result<Vec<DueFollowUp>, AppError> {
    Ok(db::due_follow_ups(tx, on, DUE_MAX).await?)
}

/// The console's search.
#[derive(Debug, Default, Clone)]
pub struct Query {
    pub status: Option<String>,
    pub assignee: Option<Uuid>,
    pub unassigned: bool,
    pub member_id: Option<Uuid>,
    /// A name, a phone (or its last four digits), a card number or a member code.
    pub member: Option<String>,
    pub keyword: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// One page of the console's list (the latest message first), the cursor of the next page,
/// and how many threads wait for an answer.
pub struct Page {
    pub items: Vec<Conversation>,
    pub next: Option<String>,
    pub waiting: i64,
}

fn renamed(e: AppError, to: &str) -> AppError {
    match e {
        AppError::Invalid(mut fields) => {
            for f in &mut fields {
                if f.field == "q" {
                    f.field = to.to_owned();
                }
            }
            AppError::Invalid(fields)
        }
        AppError::Refused {
            code,
            field,
            message,
        } => AppError::Refused {
            code,
            field: if field == "q" { to.to_owned() } else { field },
            message,
        },
        e => e,
    }
}

/// Searches threads by state, assignee, member (a member search as the desk's lookup reads
/// it), keyword (subject and messages, any language) and the dates of their messages.
pub async fn search(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    keys: &PiiKeys,
    q: &Query,
    now: DateTime<Utc>,
) -> Result<Page, AppError> {
    let mut v = patron_core::Validation::new();
    let status = q
        .status
        .as_deref()
        .and_then(|s| v.check("status", Status::parse(s)));
    let after = q
        .cursor
        .as_deref()
        .and_then(|c| v.check("cursor", core::parse_cursor(c)));
    let keyword = q
        .keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty());
    if keyword.is_some_and(|k| k.chars().count() > core::KEYWORD_MAX) {
        v.check::<()>("keyword", Err(Issue::too_long(core::KEYWORD_MAX)));
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to <= from {
            v.check::<()>(
                "to",
                Err(Issue::new(
                    patron_core::problem::FieldCode::BeforeStart,
                    "must be after from",
                )
                .with("field", "from")),
            );
        }
    }
    v.finish().map_err(AppError::invalid)?;
    let mut members: Option<Vec<Uuid>> = q.member_id.map(|m| vec![m]);
    if let Some(text) = q.member.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let found = crate::desk::lookup(tx, engine, tenant, keys, text, now)
            .await
            .map_err(|e| renamed(e, "member"))?;
        let ids: Vec<Uuid> = found.matches.iter().map(|m| m.member.id).collect();
        members = Some(match members {
            Some(only) => only.into_iter().filter(|m| ids.contains(m)).collect(),
            None => ids,
        });
    }
    let pattern = keyword.map(core::like_pattern);
    if !(1..=core::PAGE_MAX).contains(&q.limit) {
        return Err(AppError::field(
            "limit",
            patron_core::Issue::out_of_range(1, core::PAGE_MAX),
        ));
    }
    let limit = q.limit;
    let mut items = db::search(
        tx,
        &Filter {
            status: status.map(Status::as_str),
            assignee: q.assignee,
            unassigned: q.unassigned,
            members: members.as_deref(),
            keyword: pattern.as_deref(),
            from: q.from,
            to: q.to,
            after,
            limit: limit + 1,
        },
    )
    .await?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|c| core::cursor(c.last_message_at, c.id))
    } else {
        None
    };
    let waiting = db::waiting_for_answer(tx).await?;
    Ok(Page {
        items,
        next,
        waiting,
    })
}
