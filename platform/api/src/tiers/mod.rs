//! Tiers at the HTTP edge: the ladder a business designs (draft -> preview -> publish ->
//! rollback), a member's tier with pins, and the history export. The use cases are in
//! `patron_app::tiers`; this module authorises, converts and answers. One `TiersApi` holds
//! every operation (their paths, gates and docs); the bodies are by sub-resource in
//! `ladder`, `member` and `export`, the documents in `dto`.

mod dto;
mod export;
mod ladder;
mod member;

pub use dto::*;

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::exports::ExportLayout;
use crate::edge::gate::{export_read, needs_tiers};
use crate::edge::state::ApiState;
use chrono::NaiveDate;
use export::{HistoryQuery, TierHistoryCsv, TierHistoryXlsx};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The tier ladder, members' tiers and pins.
    Tiers,
}

pub struct TiersApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Tiers")]
impl TiersApi {
    /// The ladder in force, the draft, members per tier, and the latest re-evaluation.
    #[oai(path = "/tiers", method = "get", operation_id = "getTiers")]
    async fn overview(&self, auth: TenantAuth) -> Result<Json<TiersOverview>, ApiError> {
        ladder::overview(&self.state, &auth).await.map(Json)
    }

    /// Save the draft ladder (checked: every bad field is named).
    #[oai(
        path = "/tiers/draft",
        method = "put",
        operation_id = "saveTierDraft",
        transform = "needs_tiers"
    )]
    async fn save_draft(
        &self,
        auth: TenantAuth,
        req: Json<LadderDoc>,
    ) -> Result<Json<LadderDraftView>, ApiError> {
        ladder::save_draft(&self.state, &auth, req.0)
            .await
            .map(Json)
    }

    /// Compile a tier script: `ok`, or the error with line and column (for the editor).
    #[oai(
        path = "/tiers/script/check",
        method = "post",
        operation_id = "checkTierScript",
        transform = "needs_tiers"
    )]
    async fn check_script_endpoint(
        &self,
        auth: TenantAuth,
        req: Json<TierScriptInput>,
    ) -> Result<Json<TierScriptCheck>, ApiError> {
        ladder::check_script(&self.state, &auth, req.0)
            .await
            .map(Json)
    }

    /// How many members would stand on each tier under a draft, compared with now, and who
    /// would move. Nothing is written.
    #[oai(
        path = "/tiers/preview",
        method = "post",
        operation_id = "previewTiers",
        transform = "needs_tiers"
    )]
    async fn preview(
        &self,
        auth: TenantAuth,
        req: Json<TierPreviewInput>,
    ) -> Result<Json<TierPreview>, ApiError> {
        ladder::preview(&self.state, &auth, req.0).await.map(Json)
    }

    /// Publish a ladder (the draft unless one is given) as a new version and put it in force;
    /// every member is then re-evaluated in the background (see `run`).
    #[oai(
        path = "/tiers/publish",
        method = "post",
        operation_id = "publishTiers",
        transform = "needs_tiers"
    )]
    async fn publish(
        &self,
        auth: TenantAuth,
        req: Json<LadderPublishInput>,
    ) -> Result<Json<LadderPublished>, ApiError> {
        ladder::publish(&self.state, &auth, req.0).await.map(Json)
    }

    /// Export the tier history (every member's, or one member's) as CSV, streamed, oldest
    /// first; `from` and `to` are local days, both included.
    #[oai(
        path = "/tiers/history/export.csv",
        method = "get",
        operation_id = "exportTierHistoryCsv",
        transform = "export_read"
    )]
    async fn export_history_csv(
        &self,
        auth: TenantAuth,
        member_id: Query<Option<Uuid>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        /// `machine` (codes and ids, the default) or `people` (names and words in `lang`).
        layout: Query<Option<ExportLayout>>,
        /// The language of a people export (`zh-CN`, `en`); the business's by default.
        #[oai(validator(max_length = 10))]
        lang: Query<Option<String>>,
    ) -> Result<TierHistoryCsv, ApiError> {
        let q = HistoryQuery {
            member_id: member_id.0,
            from: from.0,
            to: to.0,
            layout: layout.0.unwrap_or_default(),
            lang: lang.0,
        };
        export::csv(&self.state, &auth, q).await
    }

    /// Export the tier history (every member's, or one member's) as an Excel workbook,
    /// written with bounded memory to a temporary file and sent from it; `from` and `to` are
    /// local days, both included.
    #[oai(
        path = "/tiers/history/export.xlsx",
        method = "get",
        operation_id = "exportTierHistoryXlsx",
        transform = "export_read"
    )]
    async fn export_history_xlsx(
        &self,
        auth: TenantAuth,
        member_id: Query<Option<Uuid>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        /// `machine` (codes and ids, the default) or `people` (names and words in `lang`).
        layout: Query<Option<ExportLayout>>,
        /// The language of a people export (`zh-CN`, `en`); the business's by default.
        #[oai(validator(max_length = 10))]
        lang: Query<Option<String>>,
    ) -> Result<TierHistoryXlsx, ApiError> {
        let q = HistoryQuery {
            member_id: member_id.0,
            from: from.0,
            to: to.0,
            layout: layout.0.unwrap_or_default(),
            lang: lang.0,
        };
        export::xlsx(&self.state, &auth, q).await
    }

    /// Every published version, newest first.
    #[oai(
        path = "/tiers/versions",
        method = "get",
        operation_id = "tierVersions"
    )]
    async fn versions(&self, auth: TenantAuth) -> Result<Json<Vec<LadderVersionView>>, ApiError> {
        ladder::versions(&self.state, &auth).await.map(Json)
    }

    /// Put an earlier version back in force; every member is re-evaluated under it.
    #[oai(
        path = "/tiers/rollback",
        method = "post",
        operation_id = "rollbackTiers",
        transform = "needs_tiers"
    )]
    async fn rollback(
        &self,
        auth: TenantAuth,
        req: Json<LadderRollbackInput>,
    ) -> Result<Json<LadderPublished>, ApiError> {
        ladder::rollback(&self.state, &auth, req.0).await.map(Json)
    }

    /// A member's tier: benefits, progress to the next one, what keeps this one, pin and
    /// history.
    #[oai(
        path = "/members/:id/tier",
        method = "get",
        operation_id = "memberTier"
    )]
    async fn member_tier(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<MemberTierView>, ApiError> {
        member::show(&self.state, &auth, id.0).await.map(Json)
    }

    /// Pin a member's tier until a date, with a reason (audited). The ladder's rules apply
    /// again when the pin lapses; meanwhile the member can still rise above it.
    #[oai(
        path = "/members/:id/tier/pin",
        method = "put",
        operation_id = "pinMemberTier",
        transform = "needs_tiers"
    )]
    async fn pin(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<TierPinInput>,
    ) -> Result<Json<MemberTierView>, ApiError> {
        member::pin(&self.state, &auth, id.0, req.0).await.map(Json)
    }

    /// End a member's pin now, with a reason (audited); the next evaluation applies the
    /// ladder's rules (retention counts from then).
    #[oai(
        path = "/members/:id/tier/unpin",
        method = "post",
        operation_id = "unpinMemberTier",
        transform = "needs_tiers"
    )]
    async fn unpin(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<TierUnpinInput>,
    ) -> Result<Json<MemberTierView>, ApiError> {
        member::unpin(&self.state, &auth, id.0, req.0)
            .await
            .map(Json)
    }
}
