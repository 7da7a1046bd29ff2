//! Exports' shared edge pieces: CSV lines safe to open in a spreadsheet, and the two ways
//! an export leaves the server, fed by rows a capability supplies a page at a time.
//!
//! # Using it
//!
//! A capability implements [`RowPages`] for its cursor (typically holding the tenant
//! transaction and a keyset position): `next_rows` answers the next page of rows (each row
//! a `Vec<String>` of cells, in the header's order), `Ok(None)` when done.
//!
//! - [`csv_body`]`(header, pages, what)`: a streamed CSV body (UTF-8 with a byte order mark,
//!   for Excel), every cell defused. A failure mid-stream is logged as "`what` stopped" and
//!   breaks the body off; the cursor is dropped at once (its transaction rolls back).
//! - [`xlsx_body`]`(header, pages)`: an XLSX workbook written with bounded memory (pages go
//!   to a blocking writer in constant-memory mode; the workbook to an unnamed temporary
//!   file, sent from there and gone once sent). Errors come back before anything is sent.
//!
//! Cells are written as text; empty cells are left blank.

use crate::edge::error::ApiError;
use patron_core::lang::Lang;
use poem::Body;
use poem_openapi::Enum;

/// How an export is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ExportLayout {
    /// For machines: codes, ids, UTC times (for members, the columns the import reads).
    #[default]
    Machine,
    /// For people: headers, names and labels in `lang`, times in the business's zone.
    People,
}

/// The language of a people export: the one asked for, else the business's.
pub fn export_lang(asked: Option<&str>, business: &str) -> Lang {
    asked
        .and_then(Lang::parse)
        .or_else(|| Lang::parse(business))
        .unwrap_or_default()
}

/// Cells starting with these could run as formulas in a spreadsheet: prefix them.
pub fn defuse(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@']) && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

/// One CSV record, each cell defused.
pub fn csv_line(cells: Vec<String>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(cells.into_iter().map(defuse));
    w.into_inner().unwrap_or_default()
}

/// A source of export rows, a page at a time.
#[async_trait::async_trait]
pub trait RowPages: Send + 'static {
    type Error: std::fmt::Display + Into<ApiError> + Send;

    /// The next page of rows; `Ok(None)` when there are no more.
    async fn next_rows(&mut self) -> Result<Option<Vec<Vec<String>>>, Self::Error>;
}

/// The whole CSV export as a streamed body: the header line (after a byte order mark), then
/// one chunk per page.
pub fn csv_body<P: RowPages>(header: Vec<String>, pages: P, what: &'static str) -> Body {
    let start = (Some(header), Some(pages));
    let stream = futures::stream::unfold(start, move |(header, pages)| async move {
        if let Some(h) = header {
            let mut bytes = "\u{feff}".as_bytes().to_vec();
            bytes.extend(csv_line(h));
            return Some((Ok::<Vec<u8>, std::io::Error>(bytes), (None, pages)));
        }
        let mut pages = pages?;
        match pages.next_rows().await {
            Ok(Some(rows)) => {
                let mut bytes = Vec::new();
                for row in rows {
                    bytes.extend(csv_line(row));
                }
                Some((Ok(bytes), (None, Some(pages))))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "{what} stopped");
                Some((Err(std::io::Error::other("export failed")), (None, None)))
            }
        }
    });
    Body::from_bytes_stream(stream)
}

/// The whole XLSX export, written to an unnamed temporary file, as a body read from it.
pub async fn xlsx_body<P: RowPages>(header: Vec<String>, mut pages: P) -> Result<Body, ApiError> {
    // Rows go to a blocking writer thread page by page. The worksheet is in constant memory
    // mode (each row goes to a temporary file as soon as the next one starts) and the
    // finished workbook is written to an unnamed temporary file and sent from there, so
    // memory holds a few pages of rows and the zip writer's buffers, never the file.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<String>>>(4);
    let writer = tokio::task::spawn_blocking(
        move || -> Result<std::fs::File, rust_xlsxwriter::XlsxError> {
            use std::io::Seek;
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet_with_constant_memory();
            for (c, h) in header.iter().enumerate() {
                ws.write_string(0, c as u16, h)?;
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
            // Unnamed: the file is gone once the response has been sent (or dropped).
            let mut file = tempfile::tempfile()?;
            wb.save_to_writer(&mut file)?;
            file.rewind()?;
            Ok(file)
        },
    );
    while let Some(rows) = pages.next_rows().await.map_err(Into::into)? {
        if tx.send(rows).await.is_err() {
            break;
        }
    }
    drop(tx);
    let file = writer
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Body::from_async_read(tokio::io::BufReader::new(
        tokio::fs::File::from_std(file),
    )))
}
