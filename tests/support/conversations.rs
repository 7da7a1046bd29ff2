//! Conversations between the front desk and members: staff's list, threads, answers,
//! assignment, states and follow-ups; the member's threads in the portal.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Clone, Debug, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub member_id: String,
    pub member_name: String,
    pub subject: String,
    pub status: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub member_unread: i32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ConversationMessage {
    pub id: i64,
    pub author: String,
    pub author_name: String,
    pub body: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ConversationFollowUp {
    pub id: String,
    pub due_on: String,
    pub note: String,
    pub done_at: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ConversationThread {
    pub conversation: ConversationSummary,
    pub messages: Vec<ConversationMessage>,
    pub follow_ups: Vec<ConversationFollowUp>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    pub next_cursor: Option<String>,
    pub waiting: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct DueConversationFollowUp {
    pub id: String,
    pub conversation_id: String,
    pub due_on: String,
    pub note: String,
    pub member_name: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyConversation {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub unread: i32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyConversations {
    pub available: bool,
    pub unread: i64,
    pub items: Vec<MyConversation>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyConversationMessage {
    pub author: String,
    pub author_name: String,
    pub body: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyConversationThread {
    pub conversation: MyConversation,
    pub messages: Vec<MyConversationMessage>,
}

impl Api {
    /// `GET /conversations` with the given query (`[("keyword", "退款")]`).
    pub async fn conversations(
        &self,
        auth: &Auth,
        query: &[(&str, &str)],
    ) -> Reply<ConversationPage> {
        self.v1(Method::GET, "/conversations")
            .auth(auth)
            .query(&query)
            .send()
            .await
    }

    /// `GET /conversations/{id}`.
    pub async fn conversation(&self, auth: &Auth, id: &str) -> Reply<ConversationThread> {
        self.v1(Method::GET, &format!("/conversations/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /conversations/{id}/messages`, with an `Idempotency-Key` when given.
    pub async fn answer_conversation(
        &self,
        auth: &Auth,
        id: &str,
        body: &str,
        key: Option<&str>,
    ) -> Reply<ConversationThread> {
        let mut call = self
            .v1(Method::POST, &format!("/conversations/{id}/messages"))
            .auth(auth)
            .json(&json!({ "body": body }));
        if let Some(k) = key {
            call = call.header("Idempotency-Key", k);
        }
        call.send().await
    }

    /// `PUT /conversations/{id}/assignee`.
    pub async fn assign_conversation(
        &self,
        auth: &Auth,
        id: &str,
        staff_id: Option<&str>,
    ) -> Reply<ConversationThread> {
        self.v1(Method::PUT, &format!("/conversations/{id}/assignee"))
            .auth(auth)
            .json(&json!({ "staff_id": staff_id }))
            .send()
            .await
    }

    /// `POST /conversations/{id}/close` or `/reopen`.
    pub async fn move_conversation(
        &self,
        auth: &Auth,
        id: &str,
        to: &str,
    ) -> Reply<ConversationThread> {
        self.v1(Method::POST, &format!("/conversations/{id}/{to}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /conversations/{id}/follow-ups`.
    pub async fn add_conversation_follow_up(
        &self,
        auth: &Auth,
        id: &str,
        body: &Value,
        key: Option<&str>,
    ) -> Reply<ConversationThread> {
        let mut call = self
            .v1(Method::POST, &format!("/conversations/{id}/follow-ups"))
            .auth(auth)
            .json(body);
        if let Some(k) = key {
            call = call.header("Idempotency-Key", k);
        }
        call.send().await
    }

    /// `POST /conversations/{id}/follow-ups/{follow_up_id}/done`.
    pub async fn finish_conversation_follow_up(
        &self,
        auth: &Auth,
        id: &str,
        follow_up_id: &str,
    ) -> Reply<ConversationThread> {
        self.v1(
            Method::POST,
            &format!("/conversations/{id}/follow-ups/{follow_up_id}/done"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `GET /conversations/follow-ups/due`.
    pub async fn due_conversation_follow_ups(
        &self,
        auth: &Auth,
        on: Option<&str>,
    ) -> Reply<Vec<DueConversationFollowUp>> {
        let mut call = self
            .v1(Method::GET, "/conversations/follow-ups/due")
            .auth(auth);
        if let Some(on) = on {
            call = call.query(&[("on", on)]);
        }
        call.send().await
    }

    /// `GET /portal/{tenant}/conversations`.
    pub async fn portal_conversations(&self, slug: &str, auth: &Auth) -> Reply<MyConversations> {
        self.v1(Method::GET, &format!("/portal/{slug}/conversations"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/conversations`, with an `Idempotency-Key` when given.
    pub async fn portal_start_conversation(
        &self,
        slug: &str,
        auth: &Auth,
        body: &Value,
        key: Option<&str>,
    ) -> Reply<MyConversationThread> {
        let mut call = self
            .v1(Method::POST, &format!("/portal/{slug}/conversations"))
            .auth(auth)
            .json(body);
        if let Some(k) = key {
            call = call.header("Idempotency-Key", k);
        }
        call.send().await
    }

    /// `GET /portal/{tenant}/conversations/{id}`.
    pub async fn portal_conversation(
        &self,
        slug: &str,
        auth: &Auth,
        id: &str,
    ) -> Reply<MyConversationThread> {
        self.v1(Method::GET, &format!("/portal/{slug}/conversations/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/conversations/{id}/messages`.
    pub async fn portal_write_conversation(
        &self,
        slug: &str,
        auth: &Auth,
        id: &str,
        body: &str,
        key: Option<&str>,
    ) -> Reply<MyConversationThread> {
        let mut call = self
            .v1(
                Method::POST,
                &format!("/portal/{slug}/conversations/{id}/messages"),
            )
            .auth(auth)
            .json(&json!({ "body": body }));
        if let Some(k) = key {
            call = call.header("Idempotency-Key", k);
        }
        call.send().await
    }

    /// `POST /portal/{tenant}/conversations/{id}/read`.
    pub async fn portal_read_conversation(&self, slug: &str, auth: &Auth, id: &str) -> Reply<()> {
        self.v1(
            Method::POST,
            &format!("/portal/{slug}/conversations/{id}/read"),
        )
        .auth(auth)
        .send()
        .await
    }
}
