//! Members in files: import from CSV or XLSX (column mapping, dry run, all-or-nothing or
//! valid rows only, duplicates reported, read with bounded memory, progress), and export of
//! a search as rows for CSV or XLSX.

pub mod export;
pub mod import;
pub mod people;
mod read;
pub mod rows;

pub use export::MemberExport;
pub use import::{
    FileFormat, ImportMode, ImportRequest, Importer, Lease, Refusal, RowProblem, RunEnd,
};
pub use people::Layout;

use crate::{AppError, NotFoundAs};
use patron_db::members::{self, Import};
use patron_db::TenantTx;
use uuid::Uuid;

/// An import's progress, and when finished its report.
pub async fn import_status(tx: &mut TenantTx, id: Uuid) -> Result<Import, AppError> {
    members::import_get(tx, id).await.not_found_as("import")
}
