//! What a member reads in the portal: the notices shown to them now (公告) with their read
//! marks, their inbox (notices and the e-mails written to them, with the unread count),
//! their contact preferences, and unsubscribing from marketing e-mail by the signed link in
//! those e-mails (no login). The use cases are `patron_app::notices`.

use super::{member_session, MemberToken};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::notices::{self as app, InboxEntry};
use patron_core::plans::Feature;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

pub struct PortalNoticesApi {
    pub state: ApiState,
}

/// A notice as a member sees it.
#[derive(Debug, Object)]
pub struct PortalNotice {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub pinned: bool,
    /// Whether the member opened it.
    pub read: bool,
}

impl From<patron_db::notices::MemberNotice> for PortalNotice {
    fn from(n: patron_db::notices::MemberNotice) -> Self {
        Self {
            id: n.id,
            title: n.title,
            body: n.body,
            starts_at: n.starts_at,
            ends_at: n.ends_at,
            pinned: n.pinned,
            read: n.read_at.is_some(),
        }
    }
}

/// One entry of the member's inbox.
#[derive(Debug, Object)]
pub struct InboxItem {
    /// `notice` or `message`.
    pub kind: String,
    /// The notice's id, or the message's number.
    pub id: String,
    pub title: String,
    pub body: String,
    pub at: DateTime<Utc>,
    pub pinned: bool,
    pub read: bool,
    /// What a message was about (`points.earned`, `birthday` ...); absent for notices.
    pub occasion: Option<String>,
}

/// The member's inbox.
#[derive(Debug, Object)]
pub struct Inbox {
    /// Entries not opened yet.
    pub unread: i64,
    pub items: Vec<InboxItem>,
}

/// A member's choices about being written to.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ContactPreferences {
    /// Birthday wishes, reminders of expiring points and ending memberships by e-mail.
    pub marketing_email: bool,
    /// Campaigns by text message (absent when changing: left as it is).
    pub marketing_sms: Option<bool>,
}

/// The token of an unsubscribe link.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct Unsubscribe {
    #[oai(validator(max_length = 200))]
    pub token: String,
}

#[derive(ApiResponse)]
enum Done {
    /// Returned when done.
    #[oai(status = 204)]
    Done,
}

fn str_of(v: &serde_json::Value, k: &str) -> String {
    v.get(k)
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_owned()
}

impl From<InboxEntry> for InboxItem {
    fn from(e: InboxEntry) -> Self {
        let (at, read) = (e.at(), e.read());
        match e {
            InboxEntry::Notice(n) => Self {
                kind: "notice".into(),
                id: n.id.to_string(),
                title: n.title,
                body: n.body,
                at,
                pinned: n.pinned,
                read,
                occasion: None,
            },
            InboxEntry::Message(m) => Self {
                kind: "message".into(),
                id: m.id.to_string(),
                title: str_of(&m.content, "subject"),
                body: str_of(&m.content, "text"),
                at,
                pinned: false,
                read,
                occasion: m.occasion,
            },
        }
    }
}

impl PortalNoticesApi {
    async fn has_notices(&self, tenant: &patron_db::Tenant) -> Result<bool, ApiError> {
        Ok(self.state.plan_of(tenant).await?.has(Feature::Notices))
    }
}

#[OpenApi(tag = "super::Tag::Portal")]
impl PortalNoticesApi {
    /// The notices shown to me now (in their period, to everyone or to my tier), pinned
    /// first, then the latest first; none when the business's plan has no notices.
    #[oai(
        path = "/portal/:tenant/notices",
        method = "get",
        operation_id = "portalNotices"
    )]
    async fn notices(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Vec<PortalNotice>>, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        if !self.has_notices(&t).await? {
            tx.commit().await?;
            return Ok(Json(Vec::new()));
        }
        let rows = app::for_member(&mut tx, m.id, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Mark a notice read (404 when it is not shown to me now).
    #[oai(
        path = "/portal/:tenant/notices/:id/read",
        method = "post",
        operation_id = "portalReadNotice"
    )]
    async fn read_notice(
        &self,
        tenant: Path<String>,
        id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<Done, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        if !self.has_notices(&t).await? {
            return Err(ApiError::not_found("notice"));
        }
        app::mark_read(&mut tx, m.id, id.0, self.state.now()).await?;
        tx.commit().await?;
        Ok(Done::Done)
    }

    /// My inbox: the notices shown to me and the e-mails the business wrote to me, newest
    /// first (pinned notices on top), with how many I have not opened.
    #[oai(
        path = "/portal/:tenant/inbox",
        method = "get",
        operation_id = "portalInbox"
    )]
    async fn inbox(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Inbox>, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        let with_notices = self.has_notices(&t).await?;
        let (items, unread) = app::inbox(&mut tx, m.id, with_notices, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(Inbox {
            unread,
            items: items.into_iter().map(Into::into).collect(),
        }))
    }

    /// Mark one of my messages read (404 when it is not mine).
    #[oai(
        path = "/portal/:tenant/inbox/:id/read",
        method = "post",
        operation_id = "portalReadMessage"
    )]
    async fn read_message(
        &self,
        tenant: Path<String>,
        id: Path<i64>,
        auth: MemberToken,
    ) -> Result<Done, ApiError> {
        let (mut tx, _, m) = member_session(&self.state, &tenant.0, &auth).await?;
        app::mark_message_read(&mut tx, m.id, id.0, self.state.now()).await?;
        tx.commit().await?;
        Ok(Done::Done)
    }

    /// My contact preferences.
    #[oai(
        path = "/portal/:tenant/me/contact-preferences",
        method = "get",
        operation_id = "portalContactPreferences"
    )]
    async fn preferences(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<ContactPreferences>, ApiError> {
        let (mut tx, _, m) = member_session(&self.state, &tenant.0, &auth).await?;
        let marketing_email = app::marketing_email(&mut tx, m.id).await?;
        let marketing_sms = patron_app::campaigns::marketing_sms(&mut tx, m.id).await?;
        tx.commit().await?;
        Ok(Json(ContactPreferences {
            marketing_email,
            marketing_sms: Some(marketing_sms),
        }))
    }

    /// Change my contact preferences.
    #[oai(
        path = "/portal/:tenant/me/contact-preferences",
        method = "put",
        operation_id = "portalSetContactPreferences"
    )]
    async fn set_preferences(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        body: Json<ContactPreferences>,
    ) -> Result<Json<ContactPreferences>, ApiError> {
        let (mut tx, _, m) = member_session(&self.state, &tenant.0, &auth).await?;
        app::set_marketing_email(
            &mut tx,
            m.id,
            body.0.marketing_email,
            "portal",
            self.state.now(),
        )
        .await?;
        if let Some(on) = body.0.marketing_sms {
            patron_app::campaigns::set_marketing_sms(&mut tx, m.id, on, "portal", self.state.now())
                .await?;
        }
        let marketing_sms = patron_app::campaigns::marketing_sms(&mut tx, m.id).await?;
        tx.commit().await?;
        Ok(Json(ContactPreferences {
            marketing_email: body.0.marketing_email,
            marketing_sms: Some(marketing_sms),
        }))
    }

    /// Stop marketing e-mail with the link from such an e-mail (no login). A token that was
    /// not made by this business for one of its members is a 422 on `token`.
    #[oai(
        path = "/portal/:tenant/unsubscribe",
        method = "post",
        operation_id = "portalUnsubscribe"
    )]
    async fn unsubscribe(
        &self,
        tenant: Path<String>,
        body: Json<Unsubscribe>,
    ) -> Result<Done, ApiError> {
        let t = patron_app::portal::business(&self.state.db, &tenant.0)
            .await?
            .ok_or_else(super::unknown_business)?;
        let tx = self.state.db.tenant_tx(&t).await?;
        app::unsubscribe(tx, &self.state.config.pii, &body.0.token, self.state.now()).await?;
        Ok(Done::Done)
    }
}
