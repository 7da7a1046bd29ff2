//! Members in files: import from CSV or XLSX (column mapping, dry run, all-or-nothing or
//! valid rows only, duplicates reported, read with bounded memory, progress), and export of
//! a search as rows for CSV or XLSX.

pub mod export;
pub mod import;
pub mod people;
mod read;
pub mod rows;

pub use export::MemberExport;
pub use import::{FileFormat, ImportMode, Job, RowProblem};
pub use people::Layout;

use crate::{AppError, NotFoundAs};
use chrono::{DateTime, Utc};
use patron_db::members::{self, Import};
use patron_db::TenantTx;
use uuid::Uuid;

/// Records a new import as running; the job then runs with [`import::run_import`].
pub async fn start_import(
    tx: &mut TenantTx,
    id: Uuid,
    format: FileFormat,
    mode: ImportMode,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Import, AppError> {
    Ok(members::import_start(tx, id, format.as_str(), mode.as_str(), subject, now).await?)
}

/// An import's progress, and when finished its report.
pub async fn import_status(tx: &mut TenantTx, id: Uuid) -> Result<Import, AppError> {
    members::import_get(tx, id).await.not_found_as("import")
}
