//! Portal notices (公告) for staff: write them with a period, an audience (everyone or some
//! tiers) and a pin; see how many members read each. Members read them in the portal
//! (`portal::notices`). The use cases are `patron_app::notices`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_notices;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::notices as app;
use patron_core::access::Permission;
use patron_core::notices::NoticeDraft;
use patron_db::notices::Notice as NoticeRow;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Notices on the member portal.
    Notices,
}

/// A notice as staff see it.
#[derive(Debug, Object)]
pub struct Notice {
    pub id: Uuid,
    pub title: String,
    pub body: String,
    pub starts_at: DateTime<Utc>,
    /// Shown until then; absent: until deleted.
    pub ends_at: Option<DateTime<Utc>>,
    /// The tiers (codes) whose members see it; empty: every member.
    pub tiers: Vec<String>,
    pub pinned: bool,
    /// Members who opened it.
    pub read_by: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl Notice {
    fn of(n: NoticeRow, read_by: i64) -> Self {
        Self {
            id: n.id,
            title: n.title,
            body: n.body,
            starts_at: n.starts_at,
            ends_at: n.ends_at,
            tiers: n.tiers,
            pinned: n.pinned,
            read_by,
            created_at: n.created_at,
            updated_at: n.updated_at,
            updated_by: n.updated_by,
        }
    }
}

/// A notice as written.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NoticeInput {
    /// Up to 200 characters.
    #[oai(validator(max_length = 1000))]
    pub title: String,
    /// Plain text, up to 10,000 characters.
    #[oai(validator(max_length = 20000))]
    pub body: String,
    /// Shown from then (absent: now).
    pub starts_at: Option<DateTime<Utc>>,
    /// Shown until then (absent: until deleted); after `starts_at`.
    pub ends_at: Option<DateTime<Utc>>,
    /// Tier codes of the ladder in force; empty or absent: every member.
    #[oai(default, validator(max_items = 200))]
    pub tiers: Vec<String>,
    #[oai(default)]
    pub pinned: bool,
}

impl NoticeInput {
    fn draft(self, now: DateTime<Utc>) -> NoticeDraft {
        NoticeDraft {
            title: self.title,
            body: self.body,
            starts_at: self.starts_at.unwrap_or(now),
            ends_at: self.ends_at,
            tiers: self.tiers,
            pinned: self.pinned,
        }
    }
}

/// A scheduled notice's setting.
#[derive(Debug, Object)]
pub struct ScheduledNotice {
    /// `birthday`, `points.expiring`, `membership.ending`, `pass.ending`,
    /// `activity.reminder` or `tier.changed`; its wording is the e-mail template of the same
    /// occasion.
    pub occasion: String,
    pub enabled: bool,
    /// Days ahead (`points.expiring`, `membership.ending`, `pass.ending`: 1–90; the others
    /// 0).
    pub days_ahead: i32,
    /// Whether the business has worded it (an enabled e-mail template of the occasion).
    pub worded: bool,
    pub updated_by: String,
}

/// A scheduled notice switched on or off.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ScheduledNoticeInput {
    pub enabled: bool,
    /// Days ahead, for `points.expiring`, `membership.ending` and `pass.ending` (1–90).
    #[oai(default)]
    pub days_ahead: i32,
}

#[derive(ApiResponse)]
enum Deleted {
    /// Returned when the notice was deleted.
    #[oai(status = 204)]
    Done,
}

pub struct NoticesApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Notices")]
impl NoticesApi {
    /// Every notice, pinned first, then the latest first, with how many members read each.
    #[oai(
        path = "/notices",
        method = "get",
        operation_id = "listNotices",
        transform = "needs_notices"
    )]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<Notice>>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let rows = app::list(tx).await?;
        Ok(Json(
            rows.into_iter().map(|(n, c)| Notice::of(n, c)).collect(),
        ))
    }

    /// Write a notice.
    #[oai(
        path = "/notices",
        method = "post",
        operation_id = "createNotice",
        transform = "needs_notices"
    )]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<NoticeInput>,
    ) -> Result<Json<Notice>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let now = self.state.now();
        let n = app::create(tx, &self.state.rules, body.0.draft(now), &me.subject(), now).await?;
        Ok(Json(Notice::of(n, 0)))
    }

    /// Change a notice (every field replaced).
    #[oai(
        path = "/notices/:id",
        method = "put",
        operation_id = "updateNotice",
        transform = "needs_notices"
    )]
    async fn update(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NoticeInput>,
    ) -> Result<Json<Notice>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let now = self.state.now();
        let (n, read_by) = app::update(
            tx,
            &self.state.rules,
            id.0,
            body.0.draft(now),
            &me.subject(),
            now,
        )
        .await?;
        Ok(Json(Notice::of(n, read_by)))
    }

    /// The scheduled notices and whether each is on (birthday, points expiring in N days,
    /// a membership ending in N days, a visit pass ending in N days, the reminder the day
    /// before an activity, a tier change).
    #[oai(
        path = "/notices/scheduled",
        method = "get",
        operation_id = "listScheduledNotices",
        transform = "needs_notices"
    )]
    async fn scheduled(&self, auth: TenantAuth) -> Result<Json<Vec<ScheduledNotice>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let templates = patron_db::messages::templates(&mut tx).await?;
        let rows = app::scheduled::settings(tx).await?;
        Ok(Json(
            rows.into_iter()
                .map(|r| ScheduledNotice {
                    worded: templates
                        .iter()
                        .any(|t| t.occasion == r.occasion && t.enabled && t.channel == "email"),
                    occasion: r.occasion,
                    enabled: r.enabled,
                    days_ahead: r.days_ahead,
                    updated_by: r.updated_by,
                })
                .collect(),
        ))
    }

    /// Switch a scheduled notice on or off.
    #[oai(
        path = "/notices/scheduled/:occasion",
        method = "put",
        operation_id = "setScheduledNotice",
        transform = "needs_notices"
    )]
    async fn set_scheduled(
        &self,
        auth: TenantAuth,
        occasion: Path<String>,
        body: Json<ScheduledNoticeInput>,
    ) -> Result<Json<ScheduledNotice>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let worded = patron_db::messages::templates(&mut tx)
            .await?
            .iter()
            .any(|t| t.occasion == occasion.0 && t.enabled && t.channel == "email");
        let r = app::scheduled::set(
            tx,
            &occasion.0,
            body.0.enabled,
            body.0.days_ahead,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        Ok(Json(ScheduledNotice {
            occasion: r.occasion,
            enabled: r.enabled,
            days_ahead: r.days_ahead,
            worded,
            updated_by: r.updated_by,
        }))
    }

    /// Delete a notice: members no longer see it.
    #[oai(
        path = "/notices/:id",
        method = "delete",
        operation_id = "deleteNotice",
        transform = "needs_notices"
    )]
    async fn delete(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Deleted, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        app::delete(tx, id.0).await?;
        Ok(Deleted::Done)
    }
}
