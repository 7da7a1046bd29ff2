//! Reading an import's spooled file (CSV or XLSX) on a blocking thread, in batches.

use super::import::{FileFormat, Refusal, BATCH};

/// Reads rows from a spooled file on a blocking thread and hands them over in batches.
pub(super) fn spawn_reader(
    path: std::path::PathBuf,
    format: FileFormat,
) -> tokio::sync::mpsc::Receiver<Result<Vec<Vec<String>>, Refusal>> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let send = |batch: Vec<Vec<String>>| tx.blocking_send(Ok(batch)).is_ok();
        let result: Result<(), Refusal> = (|| {
            let mut batch = Vec::with_capacity(BATCH);
            match format {
                FileFormat::Csv => {
                    let mut r = csv::ReaderBuilder::new()
                        .has_headers(false)
                        .flexible(true)
                        .from_path(&path)
                        .map_err(|e| {
                            Refusal::new("file_unreadable", "the file cannot be read").detail(e)
                        })?;
                    for rec in r.records() {
                        let rec = rec.map_err(|e| {
                            Refusal::new("csv_malformed", "the CSV is malformed").detail(e)
                        })?;
                        batch.push(rec.iter().map(str::to_owned).collect());
                        if batch.len() == BATCH && !send(std::mem::take(&mut batch)) {
                            return Ok(());
                        }
                    }
                }
                FileFormat::Xlsx => {
                    use calamine::{Reader, Xlsx};
                    let mut wb: Xlsx<_> = calamine::open_workbook(&path).map_err(|e| {
                        Refusal::new("not_xlsx", "the file is not an XLSX workbook").detail(e)
                    })?;
                    let sheet = wb
                        .sheet_names()
                        .first()
                        .cloned()
                        .ok_or_else(|| Refusal::new("no_sheet", "the workbook has no sheet"))?;
                    let mut cells = wb.worksheet_cells_reader(&sheet).map_err(|e| {
                        Refusal::new("sheet_unreadable", "the sheet cannot be read").detail(e)
                    })?;
                    let mut row: Vec<String> = Vec::new();
                    let mut at: Option<u32> = None;
                    while let Some(cell) = cells.next_cell().map_err(|e| {
                        Refusal::new("sheet_malformed", "the sheet is malformed").detail(e)
                    })? {
                        let (r, c) = cell.get_position();
                        if at.is_some_and(|a| a != r) {
                            // Rows missing from the sheet are empty rows.
                            batch.push(std::mem::take(&mut row));
                            for _ in at.unwrap_or(0) + 1..r {
                                batch.push(Vec::new());
                            }
                            if batch.len() >= BATCH && !send(std::mem::take(&mut batch)) {
                                return Ok(());
                            }
                        }
                        at = Some(r);
                        let c = c as usize;
                        if row.len() <= c {
                            row.resize(c + 1, String::new());
                        }
                        row[c] = xlsx_text(cell.get_value());
                    }
                    if at.is_some() {
                        batch.push(row);
                    }
                }
            }
            if !batch.is_empty() {
                send(batch);
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

fn xlsx_text(v: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef as D;
    match v {
        D::Int(i) => i.to_string(),
        D::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        D::Float(f) => f.to_string(),
        D::String(s) => s.clone(),
        D::SharedString(s) => (*s).to_owned(),
        D::Bool(b) => b.to_string(),
        D::DateTime(d) => d
            .as_datetime()
            .map(|d| d.date().to_string())
            .unwrap_or_default(),
        D::DateTimeIso(s) | D::DurationIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        D::Error(_) | D::Empty => String::new(),
    }
}
