//! Conversations with the business, the member's side (联系我们): my threads with how many
//! answers I have not read, one thread, a new thread, writing in a thread (a closed one
//! opens again) and marking a thread read. Another member's thread is 404. The use cases
//! are `patron_app::conversations`.

use super::{member_session, MemberToken};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::conversations::{self as app, Thread};
use patron_app::idempotency::{self, Request};
use patron_core::idempotency::Scope;
use patron_core::plans::Feature;
use patron_db::conversations as rows;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

pub struct PortalConversationsApi {
    pub state: ApiState,
}

/// One of my threads.
#[derive(Debug, Object)]
pub struct MyConversation {
    pub id: Uuid,
    pub subject: String,
    /// `open` (waits for the business), `waiting` (answered) or `closed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    /// Answers I have not opened yet.
    pub unread: i32,
}

impl From<rows::Conversation> for MyConversation {
    fn from(c: rows::Conversation) -> Self {
        Self {
            id: c.id,
            subject: c.subject,
            status: c.status,
            created_at: c.created_at,
            last_message_at: c.last_message_at,
            unread: c.member_unread,
        }
    }
}

/// My threads.
#[derive(Debug, Object)]
pub struct MyConversations {
    /// Whether the business takes conversations (its plan has them).
    pub available: bool,
    /// Answers I have not opened, over all my threads.
    pub unread: i64,
    pub items: Vec<MyConversation>,
}

/// One message as I see it.
#[derive(Debug, Object)]
pub struct MyConversationMessage {
    pub id: i64,
    /// `member` (me) or `staff`.
    pub author: String,
    /// My name, or the staff member's who answered.
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One of my threads with its messages, oldest first.
#[derive(Debug, Object)]
pub struct MyConversationThread {
    pub conversation: MyConversation,
    pub messages: Vec<MyConversationMessage>,
}

impl From<Thread> for MyConversationThread {
    fn from(t: Thread) -> Self {
        Self {
            conversation: t.conversation.into(),
            messages: t
                .messages
                .into_iter()
                .map(|m| MyConversationMessage {
                    id: m.id,
                    author: m.author,
                    author_name: m.author_name,
                    body: m.body,
                    created_at: m.created_at,
                })
                .collect(),
        }
    }
}

/// A new thread: a subject and the first message.
#[derive(Debug, Object, serde::Serialize)]
#[oai(deny_unknown_fields)]
pub struct MyNewConversation {
    /// One line, up to 200 characters.
    pub subject: String,
    /// Up to 4,000 characters.
    pub body: String,
}

/// A message I write in my thread.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MyConversationWrite {
    /// Up to 4,000 characters.
    pub body: String,
}

#[derive(ApiResponse)]
enum Done {
    /// Returned when done.
    #[oai(status = 204)]
    Done,
}

fn unavailable() -> ApiError {
    ApiError::forbidden(
        "conversations_unavailable",
        "this business does not take conversations",
    )
}

#[OpenApi(tag = "super::Tag::Portal")]
impl PortalConversationsApi {
    /// My threads with the business, the latest first, with how many answers I have not
    /// read (`available` is false when the business does not take conversations).
    #[oai(
        path = "/portal/:tenant/conversations",
        method = "get",
        operation_id = "portalConversations"
    )]
    async fn list(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<MyConversations>, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        if !self.state.plan_of(&t).await?.has(Feature::Conversations) {
            tx.commit().await?;
            return Ok(Json(MyConversations {
                available: false,
                unread: 0,
                items: Vec::new(),
            }));
        }
        let (items, unread) = app::of_member(&mut tx, m.id).await?;
        tx.commit().await?;
        Ok(Json(MyConversations {
            available: true,
            unread,
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Ask the business something: a new thread with its first message. A retry with the
    /// same `Idempotency-Key` opens one thread only.
    #[oai(
        path = "/portal/:tenant/conversations",
        method = "post",
        operation_id = "portalStartConversation"
    )]
    async fn start(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        /// Optional: a retry with the same key and body opens nothing more.
        #[oai(name = "Idempotency-Key")]
        key: Header<Option<String>>,
        body: Json<MyNewConversation>,
    ) -> Result<Json<MyConversationThread>, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        if !self
            .state
            .open_for_members(&t)
            .await?
            .has(Feature::Conversations)
        {
            return Err(unavailable());
        }
        let now = self.state.now();
        let req = Request::optional(Scope::ConversationStart, m.id, key.0.as_deref(), &body.0)?;
        let w = idempotency::run_keyed(&mut tx, req, now, async |tx| {
            app::start(tx, m.id, &m.name, &body.0.subject, &body.0.body, now).await
        })
        .await?;
        let thread = app::member_thread(&mut tx, m.id, w.conversation_id).await?;
        tx.commit().await?;
        Ok(Json(thread.into()))
    }

    /// One of my threads with its messages (404 when it is not mine).
    #[oai(
        path = "/portal/:tenant/conversations/:id",
        method = "get",
        operation_id = "portalConversation"
    )]
    async fn get(
        &self,
        tenant: Path<String>,
        id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<Json<MyConversationThread>, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        if !self.state.plan_of(&t).await?.has(Feature::Conversations) {
            return Err(unavailable());
        }
        let thread = app::member_thread(&mut tx, m.id, id.0).await?;
        tx.commit().await?;
        Ok(Json(thread.into()))
    }

    /// Write in one of my threads (a closed one opens again). A retry with the same
    /// `Idempotency-Key` adds the message once.
    #[oai(
        path = "/portal/:tenant/conversations/:id/messages",
        method = "post",
        operation_id = "portalWriteConversation"
    )]
    async fn write(
        &self,
        tenant: Path<String>,
        id: Path<Uuid>,
        auth: MemberToken,
        /// Optional: a retry with the same key and body adds nothing more.
        #[oai(name = "Idempotency-Key")]
        key: Header<Option<String>>,
        body: Json<MyConversationWrite>,
    ) -> Result<Json<MyConversationThread>, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        if !self
            .state
            .open_for_members(&t)
            .await?
            .has(Feature::Conversations)
        {
            return Err(unavailable());
        }
        let now = self.state.now();
        let req = Request::optional(
            Scope::ConversationMessage,
            id.0,
            key.0.as_deref(),
            &body.0.body,
        )?;
        idempotency::run_keyed(&mut tx, req, now, async |tx| {
            app::member_writes(tx, m.id, &m.name, id.0, &body.0.body, now).await
        })
        .await?;
        let thread = app::member_thread(&mut tx, m.id, id.0).await?;
        tx.commit().await?;
        Ok(Json(thread.into()))
    }

    /// I opened one of my threads: its answers are read (404 when it is not mine).
    #[oai(
        path = "/portal/:tenant/conversations/:id/read",
        method = "post",
        operation_id = "portalReadConversation"
    )]
    async fn read(
        &self,
        tenant: Path<String>,
        id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<Done, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        if !self.state.plan_of(&t).await?.has(Feature::Conversations) {
            return Err(unavailable());
        }
        app::member_read(&mut tx, m.id, id.0).await?;
        tx.commit().await?;
        Ok(Done::Done)
    }
}
