//! Messages: the business's templates per occasion (zh-CN and en, with variables and a
//! preview) and the log of e-mails sent from the outbox.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::messages as app;
use patron_core::access::Permission;
use patron_db::messages::{Delivery, TemplateRow};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Message templates and the e-mails sent to members.
    Messages,
}

/// A template: what members read on one occasion, in one channel and language.
#[derive(Debug, Object)]
pub struct TemplateView {
    /// `member.created`, `points.earned`, `points.redeemed`, `tier.changed`, `birthday`,
    /// `points.expiring` or `staff.password_reset`.
    pub occasion: String,
    /// `email` or `sms`.
    pub channel: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    pub enabled: bool,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl From<TemplateRow> for TemplateView {
    fn from(t: TemplateRow) -> Self {
        Self {
            occasion: t.occasion,
            channel: t.channel,
            locale: t.locale,
            subject: t.subject,
            body_text: t.body_text,
            body_html: t.body_html,
            enabled: t.enabled,
            updated_at: t.updated_at,
            updated_by: t.updated_by,
        }
    }
}

/// A template as written. Texts may use `{{member.name}}`, `{{member.card}}`,
/// `{{business.name}}` and the event's own values (`{{points}}`, `{{balance}}`, `{{to}}`...).
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TemplateInput {
    #[oai(validator(max_length = 60))]
    pub occasion: String,
    #[oai(validator(max_length = 10))]
    pub channel: String,
    #[oai(validator(max_length = 10))]
    pub locale: String,
    #[oai(default, validator(max_length = 1000))]
    pub subject: String,
    #[oai(validator(max_length = 20000))]
    pub body_text: String,
    #[oai(validator(max_length = 20000))]
    pub body_html: Option<String>,
    #[oai(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl From<TemplateInput> for app::TemplateInput {
    fn from(t: TemplateInput) -> Self {
        Self {
            occasion: t.occasion,
            channel: t.channel,
            locale: t.locale,
            subject: t.subject,
            body_text: t.body_text,
            body_html: t.body_html,
            enabled: t.enabled,
        }
    }
}

/// A template filled with sample values.
#[derive(Debug, Object)]
pub struct PreviewView {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// One message the outbox queued, and how it went.
#[derive(Debug, Object)]
pub struct MessageView {
    pub id: i64,
    /// `email`, `sms` or `webhook`.
    pub channel: String,
    pub member_id: Option<Uuid>,
    pub occasion: Option<String>,
    pub subject: Option<String>,
    /// `pending`, `sending`, `sent`, `failed`, `stopped` or `held` (over the plan's monthly
    /// e-mails: `reason` says so, and it goes out next month).
    pub status: String,
    /// Why a held message waits: `emails_per_month`.
    pub reason: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub next_at: DateTime<Utc>,
}

impl From<Delivery> for MessageView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            subject: d
                .content
                .get("subject")
                .and_then(|s| s.as_str())
                .map(str::to_owned),
            reason: (d.status == "held").then(|| d.last_error.clone()).flatten(),
            channel: d.channel,
            member_id: d.member_id,
            occasion: d.occasion,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: d.created_at,
            sent_at: d.sent_at,
            next_at: d.next_at,
        }
    }
}

#[derive(ApiResponse)]
enum Deleted {
    /// Returned when the template was deleted.
    #[oai(status = 204)]
    Done,
}

fn default_limit() -> i64 {
    50
}

pub struct MessagesApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Messages")]
impl MessagesApi {
    /// The business's message templates.
    #[oai(
        path = "/messages/templates",
        method = "get",
        operation_id = "listMessageTemplates"
    )]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<TemplateView>>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let rows = app::templates(tx).await?;
        Ok(Json(rows.into_iter().map(TemplateView::from).collect()))
    }

    /// Save the template of an occasion in one channel and language (created or replaced).
    #[oai(
        path = "/messages/templates",
        method = "put",
        operation_id = "saveMessageTemplate"
    )]
    async fn save(
        &self,
        auth: TenantAuth,
        body: Json<TemplateInput>,
    ) -> Result<Json<TemplateView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let row = app::save_template(tx, body.0.into(), &me.subject(), self.state.now()).await?;
        Ok(Json(row.into()))
    }

    /// A template filled with sample values, saved or not.
    #[oai(
        path = "/messages/templates/preview",
        method = "post",
        operation_id = "previewMessageTemplate"
    )]
    async fn preview(
        &self,
        auth: TenantAuth,
        body: Json<TemplateInput>,
    ) -> Result<Json<PreviewView>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        tx.commit().await.map_err(patron_app::AppError::from)?;
        let v = app::preview(body.0.into(), self.state.now())?;
        let s = |k: &str| v.get(k).and_then(|s| s.as_str()).map(str::to_owned);
        Ok(Json(PreviewView {
            subject: s("subject").unwrap_or_default(),
            text: s("text").unwrap_or_default(),
            html: s("html"),
        }))
    }

    /// Delete a template: the occasion sends nothing in that language any more.
    #[oai(
        path = "/messages/templates/:occasion/:channel/:locale",
        method = "delete",
        operation_id = "deleteMessageTemplate"
    )]
    async fn delete(
        &self,
        auth: TenantAuth,
        occasion: Path<String>,
        channel: Path<String>,
        locale: Path<String>,
    ) -> Result<Deleted, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        app::delete_template(tx, &occasion.0, &channel.0, &locale.0).await?;
        Ok(Deleted::Done)
    }

    /// Messages the outbox queued (e-mails, text messages), newest first.
    #[oai(path = "/messages", method = "get", operation_id = "listMessages")]
    async fn messages(
        &self,
        auth: TenantAuth,
        /// `email` (the default) or `sms`.
        channel: Query<Option<String>>,
        /// Page size, 1–500 (default 50).
        #[oai(
            default = "default_limit",
            validator(minimum(value = "1"), maximum(value = "500"))
        )]
        limit: Query<i64>,
    ) -> Result<Json<Vec<MessageView>>, ApiError> {
        let channel = match channel.0.as_deref() {
            None => None,
            Some(c @ ("email" | "sms")) => Some(c.to_owned()),
            Some(other) => {
                return Err(patron_app::AppError::field(
                    "channel",
                    patron_core::problem::Issue::not_one_of(other, &["email", "sms"]),
                )
                .into())
            }
        };
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let channel = channel.unwrap_or_else(|| "email".to_owned());
        let rows = app::member_deliveries(tx, Some(&channel), limit.0).await?;
        Ok(Json(rows.into_iter().map(MessageView::from).collect()))
    }
}
