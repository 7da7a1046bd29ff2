//! Conversations between the front desk and members: threads, their messages, assignment
//! and states, follow-ups with due dates, and the search of the console's list.

use crate::{DbError, TenantTx};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

/// A thread, with its member's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Conversation {
    pub id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub subject: String,
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub member_unread: i32,
}

const SELECT: &str = "SELECT c.id, c.member_id, m.name AS member_name, c.subject, c.status,
        c.assignee_id, c.assignee_name, c.created_at, c.updated_at, c.last_message_at,
        c.member_unread
    FROM conversations c JOIN members m ON m.id = c.member_id";

/// One message of a thread.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub author: String,
    pub staff_id: Option<Uuid>,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A follow-up: "call back on ...".
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowUp {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub due_on: NaiveDate,
    pub note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

const FOLLOW_UP: &str =
    "id, conversation_id, due_on, note, created_by, created_at, done_at, done_by";

/// Opens a thread (its first message is added with [`add_message`]).
pub async fn create(
    tx: &mut TenantTx,
    member_id: Uuid,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO conversations (id, member_id, subject, status, created_at, updated_at,
             last_message_at)
         VALUES ($1, $2, $3, 'open', $4, $4, $4) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(member_id)
    .bind(subject)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Who wrote a message.
pub struct Author<'a> {
    /// `member` or `staff`.
    pub kind: &'a str,
    pub staff_id: Option<Uuid>,
    pub name: &'a str,
}

/// Adds a message to a thread and moves the thread: a member's message opens it (from any
/// state), a staff answer makes it wait for the member (a closed thread stays closed) and
/// counts as unread for the member. One statement each.
pub async fn add_message(
    tx: &mut TenantTx,
    id: Uuid,
    author: &Author<'_>,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Message, DbError> {
    let m: Message = sqlx::query_as(
        "INSERT INTO conversation_messages (conversation_id, author, staff_id, author_name, body,
             created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, author, staff_id, author_name, body, created_at",
    )
    .bind(id)
    .bind(author.kind)
    .bind(author.staff_id)
    .bind(author.name)
    .bind(body)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    let moved = if author.kind == "member" {
        "UPDATE conversations SET status = 'open', last_message_at = $2, updated_at = $2
         WHERE id = $1"
    } else {
        "UPDATE conversations
         SET status = CASE WHEN status = 'closed' THEN 'closed' ELSE 'waiting' END,
             member_unread = member_unread + 1, last_message_at = $2, updated_at = $2
         WHERE id = $1"
    };
    sqlx::query(moved)
        .bind(id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(m)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Conversation, DbError> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_one(tx.conn())
        .await?)
}

/// A member's own thread; `NotFound` for another member's.
pub async fn get_of_member(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: Uuid,
) -> Result<Conversation, DbError> {
    Ok(
        sqlx::query_as(&format!("{SELECT} WHERE c.id = $1 AND c.member_id = $2"))
            .bind(id)
            .bind(member_id)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Locks a thread for a change (its state is read again after the lock).
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<String, DbError> {
    Ok(
        sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_one(tx.conn())
            .await?,
    )
}

/// A thread's messages, oldest first.
pub async fn messages(tx: &mut TenantTx, id: Uuid, limit: i64) -> Result<Vec<Message>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, author, staff_id, author_name, body, created_at FROM conversation_messages
         WHERE conversation_id = $1 ORDER BY id LIMIT $2",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Sets a thread's state.
pub async fn set_status(
    tx: &mut TenantTx,
    id: Uuid,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE conversations SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Assigns a thread to a staff member (`None`: to nobody).
pub async fn assign(
    tx: &mut TenantTx,
    id: Uuid,
    to: Option<(Uuid, &str)>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE conversations SET assignee_id = $2, assignee_name = $3, updated_at = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(to.map(|t| t.0))
    .bind(to.map(|t| t.1))
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        > 0)
}

/// The name of an active staff member.
pub async fn active_staff_name(tx: &mut TenantTx, id: Uuid) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT name FROM staff WHERE id = $1 AND status = 'active'")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// The member opened their thread: staff answers are read.
pub async fn member_read(tx: &mut TenantTx, member_id: Uuid, id: Uuid) -> Result<bool, DbError> {
    Ok(
        sqlx::query("UPDATE conversations SET member_unread = 0 WHERE id = $1 AND member_id = $2")
            .bind(id)
            .bind(member_id)
            .execute(tx.conn())
            .await?
            .rows_affected()
            > 0,
    )
}

/// A member's threads, the latest first.
pub async fn of_member(
    tx: &mut TenantTx,
    member_id: Uuid,
    limit: i64,
) -> Result<Vec<Conversation>, DbError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE c.member_id = $1 ORDER BY c.last_message_at DESC, c.id DESC LIMIT $2"
    ))
    .bind(member_id)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// Threads waiting for an answer (the member wrote last).
pub async fn waiting_for_answer(tx: &mut TenantTx) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM conversations WHERE status = 'open'")
            .fetch_one(tx.conn())
            .await?,
    )
}

/// What the console's list is narrowed to.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub status: Option<&'a str>,
    pub assignee: Option<Uuid>,
    pub unassigned: bool,
    /// Only these members' threads (a member search's matches).
    pub members: Option<&'a [Uuid]>,
    /// An `ILIKE` pattern matched against the subject and every message.
    pub keyword: Option<&'a str>,
    /// A message written at or after.
    pub from: Option<DateTime<Utc>>,
    /// A message written before.
    pub to: Option<DateTime<Utc>>,
    /// After this (time of the latest message, id) in the list's order.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// The console's list: the threads with the latest message first.
pub async fn search(tx: &mut TenantTx, f: &Filter<'_>) -> Result<Vec<Conversation>, DbError> {
    let mut q = QueryBuilder::<Postgres>::new(SELECT);
    q.push(" WHERE true");
    if let Some(s) = f.status {
        q.push(" AND c.status = ").push_bind(s.to_owned());
    }
    if let Some(a) = f.assignee {
        q.push(" AND c.assignee_id = ").push_bind(a);
    }
    if f.unassigned {
        q.push(" AND c.assignee_id IS NULL");
    }
    if let Some(ids) = f.members {
        q.push(" AND c.member_id = ANY(")
            .push_bind(ids.to_vec())
            .push(")");
    }
    if let Some(k) = f.keyword {
        q.push(" AND (c.subject ILIKE ")
            .push_bind(k.to_owned())
            .push(" OR EXISTS (SELECT 1 FROM conversation_messages x WHERE x.conversation_id = c.id AND x.body ILIKE ")
            .push_bind(k.to_owned())
            .push("))");
    }
    if f.from.is_some() || f.to.is_some() {
        q.push(" AND EXISTS (SELECT 1 FROM conversation_messages y WHERE y.conversation_id = c.id");
        if let Some(from) = f.from {
            q.push(" AND y.created_at >= ").push_bind(from);
        }
        if let Some(to) = f.to {
            q.push(" AND y.created_at < ").push_bind(to);
        }
        q.push(")");
    }
    if let Some((at, id)) = f.after {
        q.push(" AND (c.last_message_at, c.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY c.last_message_at DESC, c.id DESC LIMIT ")
        .push_bind(f.limit);
    Ok(q.build_query_as().fetch_all(tx.conn()).await?)
}

// ---- follow-ups ----

pub async fn add_follow_up(
    tx: &mut TenantTx,
    conversation_id: Uuid,
    due_on: NaiveDate,
    note: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<FollowUp, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO conversation_follow_ups (id, conversation_id, due_on, note, created_by,
             created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {FOLLOW_UP}"
    ))
    .bind(Uuid::now_v7())
    .bind(conversation_id)
    .bind(due_on)
    .bind(note)
    .bind(by)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Marks a follow-up done (once; a second time changes nothing). `NotFound` when the
/// thread has no such follow-up.
pub async fn finish_follow_up(
    tx: &mut TenantTx,
    conversation_id: Uuid,
    id: Uuid,
    by: &str,
    now: DateTime<Utc>,
) -> Result<FollowUp, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE conversation_follow_ups
         SET done_at = coalesce(done_at, $3), done_by = coalesce(done_by, $4)
         WHERE id = $2 AND conversation_id = $1 RETURNING {FOLLOW_UP}"
    ))
    .bind(conversation_id)
    .bind(id)
    .bind(now)
    .bind(by)
    .fetch_one(tx.conn())
    .await?)
}

/// A thread's follow-ups, the earliest due first.
pub async fn follow_ups(
    tx: &mut TenantTx,
    conversation_id: Uuid,
) -> Result<Vec<FollowUp>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {FOLLOW_UP} FROM conversation_follow_ups WHERE conversation_id = $1
         ORDER BY due_on, created_at"
    ))
    .bind(conversation_id)
    .fetch_all(tx.conn())
    .await?)
}

/// A follow-up that is due, with its thread's subject and member.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueFollowUp {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub due_on: NaiveDate,
    pub note: String,
    pub created_by: String,
    pub subject: String,
    pub member_id: Uuid,
    pub member_name: String,
    pub assignee_name: Option<String>,
}

/// Follow-ups not done and due on or before `on`, the earliest first.
pub async fn due_follow_ups(
    tx: &mut TenantTx,
    on: NaiveDate,
    limit: i64,
) -> Result<Vec<DueFollowUp>, DbError> {
    Ok(sqlx::query_as(
        "SELECT f.id, f.conversation_id, f.due_on, f.note, f.created_by, c.subject, c.member_id,
                m.name AS member_name, c.assignee_name
         FROM conversation_follow_ups f
         JOIN conversations c ON c.id = f.conversation_id
         JOIN members m ON m.id = c.member_id
         WHERE f.done_at IS NULL AND f.due_on <= $1
         ORDER BY f.due_on, f.created_at LIMIT $2",
    )
    .bind(on)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
