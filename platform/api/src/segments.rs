//! Saved segments over HTTP: named member searches staff save, rename, edit, delete and
//! count live; the member list opens them and a campaign takes one as its audience. The use
//! cases are `patron_app::segments`. Reading needs `members:read`, writing
//! `campaigns:manage`; the plan feature `campaigns` gates them.

use crate::edge::auth::{Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::needs_campaigns;
use crate::edge::member_views::MemberSearch;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::members::SearchRequest;
use patron_app::segments::{self as app, SearchContext};
use patron_core::access::Permission;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Saved segments: named member searches.
    Segments,
}

pub struct SegmentsApi {
    pub state: ApiState,
}

/// A saved member search.
#[derive(Debug, Object)]
pub struct Segment {
    pub id: Uuid,
    pub name: String,
    /// The member search's conditions (its `sort`, `descending`, `after` and `limit` are not
    /// kept).
    pub filter: MemberSearch,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl TryFrom<patron_db::segments::Segment> for Segment {
    type Error = ApiError;
    fn try_from(s: patron_db::segments::Segment) -> Result<Self, ApiError> {
        let req = app::request_of(&s)?;
        Ok(Self {
            id: s.id,
            name: s.name,
            filter: req.into(),
            created_at: s.created_at,
            created_by: s.created_by,
            updated_at: s.updated_at,
            updated_by: s.updated_by,
        })
    }
}

/// A segment to save.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewSegment {
    /// Up to 100 characters, unique in the business (case ignored).
    #[oai(validator(max_length = 400))]
    pub name: String,
    /// Any search `POST /members/search` takes; its `sort`, `descending`, `after` and `limit`
    /// are not kept.
    pub filter: MemberSearch,
    /// The same key again answers with the same segment; with another body, 409.
    #[oai(validator(min_length = 1, max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A segment's new name and filter.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SegmentChange {
    /// Up to 100 characters, unique in the business (case ignored).
    #[oai(validator(max_length = 400))]
    pub name: String,
    pub filter: MemberSearch,
}

/// How many members a segment finds now.
#[derive(Debug, Object)]
pub struct SegmentCount {
    /// Counted up to 10,000.
    pub members: i64,
    /// More than `members` match (the count stopped at 10,000).
    pub more: bool,
}

#[derive(ApiResponse)]
enum Deleted {
    /// Returned when the segment was deleted (campaigns sent to it keep their audience).
    #[oai(status = 204)]
    Done,
}

fn ctx<'a>(state: &'a ApiState, me: &'a Principal) -> SearchContext<'a> {
    SearchContext {
        rules: &state.rules,
        keys: &state.config.pii,
        region: &me.tenant.settings.phone_region,
    }
}

#[OpenApi(tag = "Tag::Segments")]
impl SegmentsApi {
    /// The business's saved segments by name (at most 200).
    #[oai(
        path = "/segments",
        method = "get",
        operation_id = "segments",
        transform = "needs_campaigns"
    )]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<Segment>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let ss = app::list(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(
            ss.into_iter()
                .map(Segment::try_from)
                .collect::<Result<_, _>>()?,
        ))
    }

    /// Save a member search as a segment. A taken name is 409 `segment_name_taken` on
    /// `name`; a bad condition is 422 naming it under `filter.`.
    #[oai(
        path = "/segments",
        method = "post",
        operation_id = "createSegment",
        transform = "needs_campaigns"
    )]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<NewSegment>,
    ) -> Result<Json<Segment>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let b = body.0;
        let new = app::NewSegment {
            name: b.name,
            filter: SearchRequest::from(b.filter),
            idempotency_key: b.idempotency_key,
        };
        let s = app::create(
            &mut tx,
            &ctx(&self.state, &me),
            new,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(s.try_into()?))
    }

    /// One segment.
    #[oai(
        path = "/segments/:segment_id",
        method = "get",
        operation_id = "getSegment",
        transform = "needs_campaigns"
    )]
    async fn get(
        &self,
        auth: TenantAuth,
        segment_id: Path<Uuid>,
    ) -> Result<Json<Segment>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let s = app::get(&mut tx, segment_id.0).await?;
        tx.commit().await?;
        Ok(Json(s.try_into()?))
    }

    /// Rename a segment and replace its filter. Campaigns already sent to it keep the
    /// filter they were sent with.
    #[oai(
        path = "/segments/:segment_id",
        method = "put",
        operation_id = "updateSegment",
        transform = "needs_campaigns"
    )]
    async fn update(
        &self,
        auth: TenantAuth,
        segment_id: Path<Uuid>,
        body: Json<SegmentChange>,
    ) -> Result<Json<Segment>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        let b = body.0;
        let s = app::update(
            &mut tx,
            &ctx(&self.state, &me),
            segment_id.0,
            &b.name,
            SearchRequest::from(b.filter),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(s.try_into()?))
    }

    /// Delete a segment.
    #[oai(
        path = "/segments/:segment_id",
        method = "delete",
        operation_id = "deleteSegment",
        transform = "needs_campaigns"
    )]
    async fn delete(&self, auth: TenantAuth, segment_id: Path<Uuid>) -> Result<Deleted, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::CampaignsManage))
            .await?;
        app::delete(&mut tx, segment_id.0, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        Ok(Deleted::Done)
    }

    /// How many members the segment finds now (counted up to 10,000). A segment naming a
    /// custom field or tier since removed is 422 naming that condition under `filter.`.
    #[oai(
        path = "/segments/:segment_id/count",
        method = "get",
        operation_id = "countSegment",
        transform = "needs_campaigns"
    )]
    async fn count(
        &self,
        auth: TenantAuth,
        segment_id: Path<Uuid>,
    ) -> Result<Json<SegmentCount>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let c = app::count(&mut tx, &ctx(&self.state, &me), segment_id.0).await?;
        tx.commit().await?;
        Ok(Json(SegmentCount {
            members: c.members,
            more: c.more,
        }))
    }
}
