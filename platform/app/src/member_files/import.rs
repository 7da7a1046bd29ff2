//! The member import: a CSV or XLSX file spooled to disk is read on a blocking thread in
//! batches of [`BATCH`] rows; each row is mapped to a member's fields, checked like any
//! registration, checked for duplicates within the file (by fingerprint) and against the
//! register (per batch), and written per batch inside ONE transaction that is committed only
//! at the end (dry runs and all-or-nothing imports with bad rows roll back). Progress is
//! saved at most once a second in its own transaction. Rows are mapped and checked in
//! [`super::rows`], the file read in [`super::read`].

use super::read::spawn_reader;
use super::rows::{map_header, GoodRow, RowChecker, Target};
use crate::members::PlanCheck;
use patron_core::clock::Clock;
use patron_core::fields::FieldSet;
use patron_core::members::Channel;
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_db::members::{self, Actor};
use patron_db::{cards, Db, DbError, Tenant};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// Rows handled per database round.
pub const BATCH: usize = 1000;
/// Bad rows kept in a report (all are counted).
pub const MAX_REPORTED: usize = 1000;

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// What an import does with the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Check every row, write nothing.
    DryRun,
    /// Import every row, or none if any row is bad.
    AllOrNothing,
    /// Import the good rows, report the bad ones.
    ValidOnly,
}

impl ImportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "dry_run",
            Self::AllOrNothing => "all_or_nothing",
            Self::ValidOnly => "valid_only",
        }
    }
}

/// One bad row: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowProblem {
    /// Row in the file, counting the header as row 1.
    pub row: u64,
    /// The file's column header (absent for problems with the row as a whole).
    pub column: Option<String>,
    /// The member field it maps to.
    pub field: String,
    /// English words for API callers.
    pub problem: String,
    /// The stable code (a field problem's) and its values, said in the reader's language.
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl RowProblem {
    /// Row `row`'s problem `issue` at `field` (under the file's `column`).
    pub fn new(row: u64, column: Option<String>, field: String, issue: patron_core::Issue) -> Self {
        Self {
            row,
            column,
            field,
            problem: issue.problem,
            code: issue.code.as_str().to_owned(),
            params: issue.params,
        }
    }
}

/// Everything a background import needs.
pub struct Job {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<PiiKeys>,
    /// The plan's member limit, as the staff member who started the import is held to it.
    pub plan: Arc<dyn PlanCheck>,
    pub tenant: Tenant,
    pub subject: String,
    pub id: Uuid,
    pub mode: ImportMode,
    pub set: FieldSet,
    pub mapping: BTreeMap<String, String>,
    pub path: tempfile::TempPath,
    pub format: FileFormat,
}

struct Tally {
    read: i64,
    valid: i64,
    imported: i64,
    errors: i64,
    report: Vec<RowProblem>,
}

impl Tally {
    fn bad(&mut self, p: RowProblem) {
        self.errors += 1;
        if self.report.len() < MAX_REPORTED {
            self.report.push(p);
        }
    }
}

/// Runs an import to its end and records its outcome (`done` or `failed` with a message).
pub async fn run_import(job: Job) {
    let mut tally = Tally {
        read: 0,
        valid: 0,
        imported: 0,
        errors: 0,
        report: Vec::new(),
    };
    let outcome = import_rows(&job, &mut tally).await;
    let (status, message) = match outcome {
        Ok(None) => ("done", None),
        Ok(Some(m)) => ("failed", Some(m)),
        Err(e) => {
            tracing::error!(error = %e, import = %job.id, "import failed");
            (
                "failed",
                Some("the import failed on the server; nothing was imported".to_owned()),
            )
        }
    };
    if status == "failed" {
        tally.imported = 0;
    }
    let now = job.clock.now();
    let save = async {
        let mut tx = job.db.tenant_tx(&job.tenant).await?;
        members::import_progress(
            &mut tx,
            job.id,
            status,
            tally.read,
            tally.valid,
            tally.imported,
            tally.errors,
            &serde_json::to_value(&tally.report).unwrap_or_default(),
            message.as_deref(),
            Some(now),
        )
        .await?;
        tx.commit().await
    };
    if let Err(e) = save.await {
        tracing::error!(error = %e, import = %job.id, "cannot record the import's outcome");
    }
}

/// Streams the file through validation and (unless a dry run) into the register, in one
/// transaction. `Ok(Some(message))` means nothing was imported, and why.
async fn import_rows(job: &Job, t: &mut Tally) -> Result<Option<String>, DbError> {
    let keys = job.keys.clone();
    let region = job.tenant.settings.phone_region.clone();
    let zone = job.tenant.settings.zone();
    let validator = match job.set.validator() {
        Ok(v) => v,
        Err(e) => return Ok(Some(e)),
    };
    let mut rx = spawn_reader(job.path.to_path_buf(), job.format);
    let mut tx = job.db.tenant_tx(&job.tenant).await?;
    // Made from the header row.
    let mut checker: Option<RowChecker<'_>> = None;
    let mut row_no: u64 = 0;
    let mut last_progress = std::time::Instant::now();
    while let Some(batch) = rx.recv().await {
        let batch = match batch {
            Ok(b) => b,
            Err(m) => return Ok(Some(m)),
        };
        let mut rows = batch.into_iter();
        if checker.is_none() {
            let Some(header) = rows.next() else { continue };
            row_no += 1;
            match map_header(&header, &job.mapping, &job.set) {
                Ok(cols) => checker = Some(RowChecker::new(cols, &validator, &keys, &region)),
                Err(problems) => return Ok(Some(problems)),
            }
        }
        let checker = checker.as_mut().expect("header read");
        let today = zone.today(job.clock.now());
        // Parse and check each row; remember the good ones with their row numbers.
        let mut good: Vec<GoodRow> = Vec::new();
        for row in rows {
            row_no += 1;
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            t.read += 1;
            match checker.check(row_no, &row, today) {
                Ok(g) => good.push(g),
                Err(problems) => {
                    for p in problems {
                        t.bad(p);
                    }
                }
            }
        }
        let cols = &checker.cols;
        // Duplicates against the register, for the whole batch at once.
        let phones: Vec<Vec<u8>> = good
            .iter()
            .flat_map(|g| {
                g.2.iter()
                    .filter(|u| u.0 == Target::Phone)
                    .map(|u| u.1.clone())
            })
            .collect();
        let emails: Vec<Vec<u8>> = good
            .iter()
            .flat_map(|g| {
                g.2.iter()
                    .filter(|u| u.0 == Target::Email)
                    .map(|u| u.1.clone())
            })
            .collect();
        let numbers: Vec<String> = good
            .iter()
            .filter_map(|g| g.1.card_number.clone())
            .collect();
        let taken = members::existing_indexes(&mut tx, &phones, &emails).await?;
        let taken_cards = cards::existing_numbers(&mut tx, &numbers).await?;
        let mut insert = Vec::with_capacity(good.len());
        for (row, new, uniques) in good {
            let mut clash = false;
            for (tg, key) in &uniques {
                let dup = match tg {
                    Target::CardNumber => {
                        taken_cards.iter().any(|n| n.as_bytes() == key.as_slice())
                    }
                    _ => taken.iter().any(|k| k == key),
                };
                if dup {
                    clash = true;
                    t.bad(RowProblem::new(
                        row,
                        cols.iter().find(|c| &c.2 == tg).map(|c| c.1.clone()),
                        tg.field(),
                        patron_core::Issue::new(
                            patron_core::FieldCode::Taken,
                            "already belongs to a member",
                        )
                        .with("reason", "belongs_to_member"),
                    ));
                }
            }
            if !clash {
                t.valid += 1;
                insert.push(new);
            }
        }
        let write = match job.mode {
            ImportMode::DryRun => false,
            ImportMode::AllOrNothing => t.errors == 0,
            ImportMode::ValidOnly => true,
        };
        if write && !insert.is_empty() {
            let by = Actor {
                subject: &job.subject,
                channel: Channel::Import,
                at: job.clock.now(),
            };
            match job
                .plan
                .check(&mut tx, Limit::Members, insert.len() as i64)
                .await
            {
                Ok(Ok(())) => {}
                Ok(Err(denial)) => return Ok(Some(denial.message)),
                Err(_) => return Ok(Some("the plan's member limit could not be checked".into())),
            }
            let ids = members::create_many(&mut tx, &insert, &by).await?;
            patron_db::audit::record_members(
                &mut tx,
                by.at,
                by.subject,
                "member.imported",
                &ids,
                serde_json::json!({}),
            )
            .await?;
            t.imported += insert.len() as i64;
        }
        if last_progress.elapsed() > std::time::Duration::from_secs(1) {
            last_progress = std::time::Instant::now();
            let mut p = job.db.tenant_tx(&job.tenant).await?;
            members::import_progress(
                &mut p,
                job.id,
                "running",
                t.read,
                t.valid,
                t.imported,
                t.errors,
                &Value::Array(vec![]),
                None,
                None,
            )
            .await?;
            p.commit().await?;
        }
    }
    if checker.is_none() {
        return Ok(Some("the file is empty".into()));
    }
    match job.mode {
        ImportMode::DryRun => Ok(None),
        ImportMode::AllOrNothing if t.errors > 0 => Ok(Some(format!(
            "{} problems in the file; nothing was imported",
            t.errors
        ))),
        _ => {
            tx.commit().await?;
            Ok(None)
        }
    }
}
