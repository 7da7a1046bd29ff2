//! Member files' DTOs.

use chrono::{DateTime, Utc};
use patron_app::member_files::{
    FileFormat as AppFormat, ImportMode as AppMode, RowProblem as AppProblem,
};
use poem::Body;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl From<FileFormat> for AppFormat {
    fn from(f: FileFormat) -> Self {
        match f {
            FileFormat::Csv => Self::Csv,
            FileFormat::Xlsx => Self::Xlsx,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum ImportMode {
    /// Check every row, write nothing.
    DryRun,
    /// Import every row, or none if any row is bad.
    AllOrNothing,
    /// Import the good rows, report the bad ones.
    ValidOnly,
}

impl From<ImportMode> for AppMode {
    fn from(m: ImportMode) -> Self {
        match m {
            ImportMode::DryRun => Self::DryRun,
            ImportMode::AllOrNothing => Self::AllOrNothing,
            ImportMode::ValidOnly => Self::ValidOnly,
        }
    }
}

/// One bad row: where, and why.
#[derive(Debug, Clone, Object)]
pub struct RowProblem {
    /// Row in the file, counting the header as row 1.
    pub row: u64,
    /// The file's column header (absent for problems with the row as a whole).
    pub column: Option<String>,
    /// The member field it maps to.
    pub field: String,
    /// English words for API callers.
    pub problem: String,
    /// The field problem's stable code (`required`, `not_a_phone`, `duplicate`, `taken` ...)
    /// and the values its text needs; absent for rows checked before codes were kept.
    pub code: Option<String>,
    pub params: Option<serde_json::Value>,
}

impl From<AppProblem> for RowProblem {
    fn from(p: AppProblem) -> Self {
        Self {
            row: p.row,
            column: p.column,
            field: p.field,
            problem: p.problem,
            code: (!p.code.is_empty()).then_some(p.code),
            params: Some(serde_json::Value::Object(p.params)),
        }
    }
}

#[derive(Debug, Object)]
pub struct ImportView {
    pub id: Uuid,
    pub format: String,
    pub mode: String,
    /// `running`, `done` or `failed` (all-or-nothing with bad rows, or a broken file).
    pub status: String,
    pub rows_read: i64,
    pub rows_valid: i64,
    pub rows_imported: i64,
    pub error_count: i64,
    /// The first bad rows (at most 1000; `error_count` counts all).
    pub errors: Vec<RowProblem>,
    /// Why a failed import imported nothing, in English words for API callers.
    pub message: Option<String>,
    /// The same as a stable code (`file_unreadable`, `csv_malformed`, `not_xlsx`, `no_sheet`,
    /// `sheet_unreadable`, `sheet_malformed`, `empty_file`, `no_name_column`,
    /// `column_not_a_field`, `fields_unusable`, `bad_rows`, `plan_limit`, `plan_unchecked`,
    /// `gave_up`) and the values its text needs (`detail`, `column`, `field`, `count`,
    /// `plan`, `allowed`, `usage`, `adding`, `upgrade_to`, `times`).
    pub message_code: Option<String>,
    pub message_params: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<patron_db::members::Import> for ImportView {
    fn from(i: patron_db::members::Import) -> Self {
        let errors: Vec<AppProblem> = serde_json::from_value(i.errors).unwrap_or_default();
        Self {
            id: i.id,
            format: i.format,
            mode: i.mode,
            status: i.status,
            rows_read: i.rows_read,
            rows_valid: i.rows_valid,
            rows_imported: i.rows_imported,
            error_count: i.error_count,
            errors: errors.into_iter().map(Into::into).collect(),
            message: i.message,
            message_code: i.message_code,
            message_params: i.message_params,
            created_at: i.created_at,
            finished_at: i.finished_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum Started {
    /// Returned when the file was received; poll the import for progress and its report.
    #[oai(status = 202)]
    Accepted(Json<ImportView>),
}

#[derive(ApiResponse)]
pub enum CsvFile {
    /// Returned with the members as CSV (UTF-8 with a byte order mark, for Excel).
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

#[derive(ApiResponse)]
pub enum XlsxFile {
    /// Returned with the members as an Excel workbook.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}
