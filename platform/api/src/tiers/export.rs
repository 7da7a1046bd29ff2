//! The tier history export at the edge: the app's cursor (`patron_app::tiers::export`)
//! written out as CSV (streamed) or as an Excel workbook.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::exports::{csv_body, export_lang, xlsx_body, ExportLayout, RowPages};
use crate::edge::state::ApiState;
use chrono::NaiveDate;
use patron_app::tiers::export::{self, HistoryCursor, HistoryLayout};
use patron_app::AppError;
use patron_core::access::Permission;
use poem::Body;
use poem_openapi::payload::Binary;
use poem_openapi::ApiResponse;
use uuid::Uuid;

#[derive(ApiResponse)]
pub(super) enum TierHistoryCsv {
    /// Returned with the tier history as CSV (UTF-8 with a byte order mark, for Excel).
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

#[derive(ApiResponse)]
pub(super) enum TierHistoryXlsx {
    /// Returned with the tier history as an Excel workbook.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

/// Which moves: one member or all, between two local days (both included).
pub(super) struct HistoryQuery {
    pub member_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub layout: ExportLayout,
    pub lang: Option<String>,
}

/// The export's cursor: authorised, checked and audited by the use case.
async fn cursor(
    state: &ApiState,
    auth: &TenantAuth,
    q: HistoryQuery,
) -> Result<HistoryCursor, ApiError> {
    let (tx, me) = state.authorize(auth, Some(Permission::ReportsRead)).await?;
    let layout = match q.layout {
        ExportLayout::Machine => HistoryLayout::Machine,
        ExportLayout::People => {
            HistoryLayout::People(export_lang(q.lang.as_deref(), &me.tenant.settings.locale))
        }
    };
    Ok(export::history(
        tx,
        &state.rules,
        &me.tenant,
        &me.subject(),
        q.member_id,
        q.from,
        q.to,
        layout,
        state.now(),
    )
    .await?)
}

/// The history's pages, as the shared exports read them.
struct Pages(HistoryCursor);

#[async_trait::async_trait]
impl RowPages for Pages {
    type Error = AppError;

    async fn next_rows(&mut self) -> Result<Option<Vec<Vec<String>>>, AppError> {
        self.0.next_page().await
    }
}

/// The CSV export, streamed: a byte order mark and the header, then a chunk per page.
pub(super) async fn csv(
    state: &ApiState,
    auth: &TenantAuth,
    q: HistoryQuery,
) -> Result<TierHistoryCsv, ApiError> {
    let c = cursor(state, auth, q).await?;
    let header = c.header();
    Ok(TierHistoryCsv::Ok(
        Binary(csv_body(header, Pages(c), "tier history export")),
        "attachment; filename=\"tier-history.csv\"".into(),
    ))
}

/// The Excel export, written with bounded memory to a temporary file and sent from it.
pub(super) async fn xlsx(
    state: &ApiState,
    auth: &TenantAuth,
    q: HistoryQuery,
) -> Result<TierHistoryXlsx, ApiError> {
    let c = cursor(state, auth, q).await?;
    let header = c.header();
    Ok(TierHistoryXlsx::Ok(
        Binary(xlsx_body(header, Pages(c)).await?),
        "attachment; filename=\"tier-history.xlsx\"".into(),
    ))
}
