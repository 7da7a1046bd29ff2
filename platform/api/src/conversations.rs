//! Conversations with members, staff's side: the list (search by state, assignee, member,
//! keyword and dates, paged by cursor, with how many threads wait for an answer), a thread,
//! answers, assignment, closing and reopening, follow-ups and the due ones. Members write
//! in the portal (`portal::conversations`). The use cases are `patron_app::conversations`.

use crate::edge::auth::{Actor, Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::needs_conversations;
use crate::edge::state::ApiState;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::conversations::{self as app, Query as Search, Staff, Thread};
use patron_app::idempotency::{self, Request};
use patron_core::access::Permission;
use patron_core::idempotency::Scope;
use patron_db::conversations as rows;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Conversations between the front desk and members.
    Conversations,
}

/// A thread in the list.
#[derive(Debug, Object)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub subject: String,
    /// `open` (waits for an answer), `waiting` (answered, waits for the member) or `closed`.
    pub status: String,
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    /// Answers the member has not opened yet.
    pub member_unread: i32,
}

impl From<rows::Conversation> for ConversationSummary {
    fn from(c: rows::Conversation) -> Self {
        Self {
            id: c.id,
            member_id: c.member_id,
            member_name: c.member_name,
            subject: c.subject,
            status: c.status,
            assignee_id: c.assignee_id,
            assignee_name: c.assignee_name,
            created_at: c.created_at,
            last_message_at: c.last_message_at,
            member_unread: c.member_unread,
        }
    }
}

/// One message of a thread.
#[derive(Debug, Object)]
pub struct ConversationMessage {
    pub id: i64,
    /// `member` or `staff`.
    pub author: String,
    /// The member's name, or the staff member's.
    pub author_name: String,
    pub staff_id: Option<Uuid>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<rows::Message> for ConversationMessage {
    fn from(m: rows::Message) -> Self {
        Self {
            id: m.id,
            author: m.author,
            author_name: m.author_name,
            staff_id: m.staff_id,
            body: m.body,
            created_at: m.created_at,
        }
    }
}

/// A follow-up: call the member back on a day.
#[derive(Debug, Object)]
pub struct ConversationFollowUp {
    pub id: Uuid,
    pub due_on: NaiveDate,
    pub note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

impl From<rows::FollowUp> for ConversationFollowUp {
    fn from(f: rows::FollowUp) -> Self {
        Self {
            id: f.id,
            due_on: f.due_on,
            note: f.note,
            created_by: f.created_by,
            created_at: f.created_at,
            done_at: f.done_at,
            done_by: f.done_by,
        }
    }
}

/// A thread with its messages (oldest first) and follow-ups.
#[derive(Debug, Object)]
pub struct ConversationThread {
    pub conversation: ConversationSummary,
    pub messages: Vec<ConversationMessage>,
    pub follow_ups: Vec<ConversationFollowUp>,
}

impl From<Thread> for ConversationThread {
    fn from(t: Thread) -> Self {
        Self {
            conversation: t.conversation.into(),
            messages: t.messages.into_iter().map(Into::into).collect(),
            follow_ups: t.follow_ups.into_iter().map(Into::into).collect(),
        }
    }
}

/// One page of threads.
#[derive(Debug, Object)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// Threads waiting for an answer (the member wrote last), whatever the filters.
    pub waiting: i64,
}

/// A staff answer.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ConversationAnswer {
    /// Up to 4,000 characters.
    pub body: String,
}

/// Who a thread is assigned to.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ConversationAssignment {
    /// An active staff member; absent or null: nobody.
    pub staff_id: Option<Uuid>,
}

/// A follow-up as staff note it.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewConversationFollowUp {
    /// The business's local day, today or later.
    pub due_on: NaiveDate,
    /// Up to 500 characters ("call back about the refund").
    #[oai(default)]
    pub note: String,
}

/// A follow-up that is due, with its thread.
#[derive(Debug, Object)]
pub struct DueConversationFollowUp {
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

impl From<rows::DueFollowUp> for DueConversationFollowUp {
    fn from(f: rows::DueFollowUp) -> Self {
        Self {
            id: f.id,
            conversation_id: f.conversation_id,
            due_on: f.due_on,
            note: f.note,
            created_by: f.created_by,
            subject: f.subject,
            member_id: f.member_id,
            member_name: f.member_name,
            assignee_name: f.assignee_name,
        }
    }
}

/// The staff member (or integration) writing, by name.
fn staff_of(me: &Principal) -> Staff {
    match &me.actor {
        Actor::Staff { id, name, .. } => Staff {
            id: Some(*id),
            name: name.clone(),
        },
        Actor::Key { name, .. } => Staff {
            id: None,
            name: name.clone(),
        },
        Actor::Support { .. } => Staff {
            id: None,
            name: "support".into(),
        },
    }
}

pub struct ConversationsApi {
    pub state: ApiState,
}

impl ConversationsApi {
    async fn thread_of(
        &self,
        mut tx: patron_db::TenantTx,
        id: Uuid,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let t = app::thread(&mut tx, id).await?;
        tx.commit().await?;
        Ok(Json(t.into()))
    }
}

#[OpenApi(tag = "Tag::Conversations")]
impl ConversationsApi {
    /// Threads, the latest message first: by `status` (`open`, `waiting`, `closed`),
    /// `assignee` (a staff id) or `unassigned`, `member_id`, `member` (a name, phone, card
    /// number or member code, as the desk's lookup reads it), `keyword` (in the subject or
    /// any message, Chinese included) and the dates of their messages (`from`, `to`);
    /// paged by `cursor`.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/conversations",
        method = "get",
        operation_id = "listConversations",
        transform = "needs_conversations"
    )]
    async fn list(
        &self,
        auth: TenantAuth,
        status: Query<Option<String>>,
        assignee: Query<Option<Uuid>>,
        #[oai(default)] unassigned: Query<bool>,
        member_id: Query<Option<Uuid>>,
        member: Query<Option<String>>,
        keyword: Query<Option<String>>,
        from: Query<Option<DateTime<Utc>>>,
        to: Query<Option<DateTime<Utc>>>,
        cursor: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<ConversationPage>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let q = Search {
            status: status.0,
            assignee: assignee.0,
            unassigned: unassigned.0,
            member_id: member_id.0,
            member: member.0,
            keyword: keyword.0,
            from: from.0,
            to: to.0,
            cursor: cursor.0,
            limit: limit.0.unwrap_or(50),
        };
        let page = app::search(
            &mut tx,
            &self.state.rules,
            &me.tenant,
            &self.state.config.pii,
            &q,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(ConversationPage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next,
            waiting: page.waiting,
        }))
    }

    /// A thread with its messages and follow-ups.
    #[oai(
        path = "/conversations/:id",
        method = "get",
        operation_id = "getConversation",
        transform = "needs_conversations"
    )]
    async fn get(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        self.thread_of(tx, id.0).await
    }

    /// Answer a thread: it then waits for the member, who sees the answer unread; the
    /// member's e-mail `conversation.answered` goes out through the outbox when the business
    /// worded it. A retry with the same `Idempotency-Key` answers once.
    #[oai(
        path = "/conversations/:id/messages",
        method = "post",
        operation_id = "answerConversation",
        transform = "needs_conversations"
    )]
    async fn answer(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        /// Optional: a retry with the same key and body adds nothing and answers the same.
        #[oai(name = "Idempotency-Key")]
        key: Header<Option<String>>,
        body: Json<ConversationAnswer>,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let now = self.state.now();
        let req = Request::optional(
            Scope::ConversationReply,
            id.0,
            key.0.as_deref(),
            &body.0.body,
        )?;
        let by = staff_of(&me);
        idempotency::run_keyed(&mut tx, req, now, async |tx| {
            app::answer(tx, id.0, &by, &body.0.body, now).await
        })
        .await?;
        self.thread_of(tx, id.0).await
    }

    /// Assign a thread to an active staff member, or to nobody.
    #[oai(
        path = "/conversations/:id/assignee",
        method = "put",
        operation_id = "assignConversation",
        transform = "needs_conversations"
    )]
    async fn assign(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<ConversationAssignment>,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        app::assign(&mut tx, id.0, body.0.staff_id, self.state.now()).await?;
        self.thread_of(tx, id.0).await
    }

    /// Close a thread (the member writing in it opens it again).
    #[oai(
        path = "/conversations/:id/close",
        method = "post",
        operation_id = "closeConversation",
        transform = "needs_conversations"
    )]
    async fn close(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        app::close(&mut tx, id.0, self.state.now()).await?;
        self.thread_of(tx, id.0).await
    }

    /// Reopen a closed thread: it waits for an answer again.
    #[oai(
        path = "/conversations/:id/reopen",
        method = "post",
        operation_id = "reopenConversation",
        transform = "needs_conversations"
    )]
    async fn reopen(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        app::reopen(&mut tx, id.0, self.state.now()).await?;
        self.thread_of(tx, id.0).await
    }

    /// Note a follow-up on a thread ("call back on ..."), due on a day of the business.
    /// A retry with the same `Idempotency-Key` notes it once.
    #[oai(
        path = "/conversations/:id/follow-ups",
        method = "post",
        operation_id = "addConversationFollowUp",
        transform = "needs_conversations"
    )]
    async fn add_follow_up(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        /// Optional: a retry with the same key and body notes nothing more.
        #[oai(name = "Idempotency-Key")]
        key: Header<Option<String>>,
        body: Json<NewConversationFollowUp>,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let now = self.state.now();
        let today = me.tenant.settings.zone().today(now);
        let input = (body.0.due_on, body.0.note.clone());
        let req = Request::optional(Scope::ConversationFollowUp, id.0, key.0.as_deref(), &input)?;
        let by = staff_of(&me).name;
        idempotency::run_keyed(&mut tx, req, now, async |tx| {
            app::add_follow_up(tx, id.0, input.0, &input.1, &by, today, now)
                .await
                .map(|f| f.id)
        })
        .await?;
        self.thread_of(tx, id.0).await
    }

    /// Mark a follow-up done.
    #[oai(
        path = "/conversations/:id/follow-ups/:follow_up_id/done",
        method = "post",
        operation_id = "finishConversationFollowUp",
        transform = "needs_conversations"
    )]
    async fn finish_follow_up(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        follow_up_id: Path<Uuid>,
    ) -> Result<Json<ConversationThread>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let by = staff_of(&me).name;
        app::finish_follow_up(&mut tx, id.0, follow_up_id.0, &by, self.state.now()).await?;
        self.thread_of(tx, id.0).await
    }

    /// Follow-ups not done and due on `on` (the business's day; absent: today) or before,
    /// the earliest first.
    #[oai(
        path = "/conversations/follow-ups/due",
        method = "get",
        operation_id = "dueConversationFollowUps",
        transform = "needs_conversations"
    )]
    async fn due(
        &self,
        auth: TenantAuth,
        on: Query<Option<NaiveDate>>,
    ) -> Result<Json<Vec<DueConversationFollowUp>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let on =
            on.0.unwrap_or_else(|| me.tenant.settings.zone().today(self.state.now()));
        let rows = app::due_follow_ups(&mut tx, on).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }
}
