//! The tier history export at the edge: the app's cursor (`patron_app::tiers::export`)
//! written out as CSV (streamed) or as an Excel workbook.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::NaiveDate;
use patron_app::tiers::export::{self, HistoryCursor, HISTORY_COLUMNS};
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
}

/// The export's cursor: authorised, checked and audited by the use case.
async fn cursor(
    state: &ApiState,
    auth: &TenantAuth,
    q: HistoryQuery,
) -> Result<HistoryCursor, ApiError> {
    let (tx, me) = state.authorize(auth, Some(Permission::ReportsRead)).await?;
    Ok(export::history(
        tx,
        &me.tenant,
        &me.subject(),
        q.member_id,
        q.from,
        q.to,
        state.now(),
    )
    .await?)
}

/// The CSV export, streamed: a byte order mark and the header, then a chunk per page.
pub(super) async fn csv(
    state: &ApiState,
    auth: &TenantAuth,
    q: HistoryQuery,
) -> Result<TierHistoryCsv, ApiError> {
    let cursor = cursor(state, auth, q).await?;
    let stream = futures::stream::unfold((true, cursor), |(header, mut c)| async move {
        if header {
            let mut bytes = "\u{feff}".as_bytes().to_vec();
            bytes.extend(crate::edge::exports::csv_line(
                HISTORY_COLUMNS.map(String::from).to_vec(),
            ));
            return Some((Ok::<Vec<u8>, std::io::Error>(bytes), (false, c)));
        }
        match c.next_page().await {
            Ok(Some(rows)) => {
                let mut bytes = Vec::new();
                for row in rows {
                    bytes.extend(crate::edge::exports::csv_line(row));
                }
                Some((Ok(bytes), (false, c)))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "tier history export stopped");
                c.stop();
                Some((Err(std::io::Error::other("export failed")), (false, c)))
            }
        }
    });
    Ok(TierHistoryCsv::Ok(
        Binary(Body::from_bytes_stream(stream)),
        "attachment; filename=\"tier-history.csv\"".into(),
    ))
}

/// The Excel export, written with bounded memory to a temporary file and sent from it.
pub(super) async fn xlsx(
    state: &ApiState,
    auth: &TenantAuth,
    q: HistoryQuery,
) -> Result<TierHistoryXlsx, ApiError> {
    let cursor = cursor(state, auth, q).await?;
    let file = write_xlsx(cursor).await?;
    Ok(TierHistoryXlsx::Ok(
        Binary(Body::from_async_read(tokio::io::BufReader::new(
            tokio::fs::File::from_std(file),
        ))),
        "attachment; filename=\"tier-history.xlsx\"".into(),
    ))
}

/// The cursor's pages as a workbook in an unnamed temporary file, rewound.
///
/// As the member export: pages go to a blocking writer in constant-memory mode. This is the
/// one place that duplicates the member export's XLSX streaming; it is to be replaced by the
/// shared helper in `edge::exports` once that exists.
async fn write_xlsx(mut cursor: HistoryCursor) -> Result<std::fs::File, ApiError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<String>>>(4);
    let writer = tokio::task::spawn_blocking(
        move || -> Result<std::fs::File, rust_xlsxwriter::XlsxError> {
            use std::io::Seek;
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet_with_constant_memory();
            for (c, h) in HISTORY_COLUMNS.iter().enumerate() {
                ws.write_string(0, c as u16, *h)?;
            }
            let mut r = 1u32;
            while let Some(rows) = rx.blocking_recv() {
                for row in rows {
                    for (c, v) in row.iter().enumerate() {
                        if !v.is_empty() {
                            ws.write_string(r, c as u16, v)?;
                        }
                    }
                    r += 1;
                }
            }
            let mut file = tempfile::tempfile()?;
            wb.save_to_writer(&mut file)?;
            file.rewind()?;
            Ok(file)
        },
    );
    while let Some(rows) = cursor.next_page().await? {
        if tx.send(rows).await.is_err() {
            break;
        }
    }
    drop(tx);
    writer
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))
}
