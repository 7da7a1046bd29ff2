//! The member import: the uploaded file is kept in the database in parts
//! (`member_import_files`) and the import is a job in `platform.jobs`, claimed at once by the
//! replica that received the file and leased for [`lease`], renewed while it runs. When that
//! replica dies the lease runs out and any replica's job runner takes the import over from
//! the stored file.
//!
//! A run reads the file on a blocking thread in batches of [`BATCH`] rows; each row is
//! mapped to a member's fields, checked like any registration, checked for duplicates within
//! the file (by fingerprint) and against the register (per batch), and written per batch
//! inside ONE transaction that is committed only at the end, together with the outcome (dry
//! runs and all-or-nothing imports with bad rows roll back). A run that dies therefore leaves
//! nothing behind, and the run taking over starts from the first row. Each run has its
//! attempt number on the import's row: taking over raises it, and progress and the outcome
//! are written only by the run whose number it is, so a run thought dead that comes back
//! cannot commit. Progress is saved at most once a second in its own transaction. Rows are
//! mapped and checked in [`super::rows`], the file read in [`super::read`].

use super::read::spawn_reader;
use super::rows::{map_header, GoodRow, RowChecker, Target};
use crate::fields::current_fields;
use crate::members::PlanCheck;
use crate::plans::PlanCatalog;
use crate::{AppError, PlanDenial};
use patron_core::clock::Clock;
use patron_core::fields::FieldSet;
use patron_core::members::Channel;
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_db::members::{self, Actor, Import, ImportCounts, ImportMessage};
use patron_db::{cards, jobs, Db, DbError, Tenant, TenantTx};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// Rows handled per database round.
pub const BATCH: usize = 1000;
/// Bad rows kept in a report (all are counted).
pub const MAX_REPORTED: usize = 1000;
/// The largest file an import takes.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// The file is kept in parts of this size.
const FILE_PART: usize = 1 << 20;
/// The job kind of an import in `platform.jobs`.
pub const JOB_KIND: &str = "members.import";
/// How long a run holds its import without renewing: when its replica dies, another takes
/// the import over this long after the last renewal.
pub fn lease() -> chrono::Duration {
    chrono::Duration::seconds(20)
}
/// How often a running import renews its lease.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

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

    fn parse(s: &str) -> Option<Self> {
        [Self::Csv, Self::Xlsx]
            .into_iter()
            .find(|f| f.as_str() == s)
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

    fn parse(s: &str) -> Option<Self> {
        [Self::DryRun, Self::AllOrNothing, Self::ValidOnly]
            .into_iter()
            .find(|m| m.as_str() == s)
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

/// Why nothing was imported: a stable code and its values (said in the reader's language
/// by the console) and English words for API callers.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// `file_unreadable`, `csv_malformed`, `not_xlsx`, `no_sheet`, `sheet_unreadable`,
    /// `sheet_malformed`, `empty_file`, `no_name_column`, `column_not_a_field`,
    /// `fields_unusable`, `bad_rows`, `plan_limit`, `plan_unchecked` or `gave_up`.
    pub code: &'static str,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub text: String,
}

impl Refusal {
    pub fn new(code: &'static str, text: &str) -> Self {
        Self {
            code,
            params: serde_json::Map::new(),
            text: text.to_owned(),
        }
    }

    pub fn with(mut self, name: &str, value: impl serde::Serialize) -> Self {
        self.params.insert(
            name.to_owned(),
            serde_json::to_value(value).unwrap_or_default(),
        );
        self
    }

    /// The library's own words on what is wrong, appended to the text and kept as `detail`.
    pub fn detail(mut self, e: impl std::fmt::Display) -> Self {
        let d = e.to_string();
        self.text = format!("{}: {d}", self.text);
        self.with("detail", d)
    }
}

/// A run's hold on an import: its job, the worker holding the job's lease, and which
/// attempt this is.
#[derive(Debug, Clone)]
pub struct Lease {
    pub job: i64,
    pub worker: String,
    pub import: Uuid,
    pub attempt: i32,
    pub max_attempts: i32,
}

impl Lease {
    /// The lease a job runner took by claiming an import's job (`None`: not an import job).
    pub fn of_job(job: &jobs::Job, worker: &str) -> Option<Self> {
        let import = job.payload.get("import")?.as_str()?.parse().ok()?;
        Some(Self {
            job: job.id,
            worker: worker.to_owned(),
            import,
            attempt: job.attempts,
            max_attempts: job.max_attempts,
        })
    }
}

/// How a run of an import ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// The run recorded the import's outcome (`done` or `failed`).
    Recorded { status: &'static str },
    /// The import had ended, or a later run holds it: nothing done.
    NothingToDo,
    /// A later run took the import over while this one ran: nothing of this run was kept.
    TakenOver,
    /// The run broke off (the database, the file): the job is retried by a job runner.
    Retry { error: String },
}

/// Why a run stopped before recording an outcome.
enum Stop {
    TakenOver,
    Broken(String),
}

impl From<DbError> for Stop {
    fn from(e: DbError) -> Self {
        Self::Broken(e.to_string())
    }
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Self::Broken(format!("the import's file: {e}"))
    }
}

impl From<AppError> for Stop {
    fn from(e: AppError) -> Self {
        Self::Broken(e.to_string())
    }
}

/// Starts and runs member imports.
#[derive(Clone)]
pub struct Importer {
    db: Db,
    clock: Arc<dyn Clock>,
    keys: Arc<PiiKeys>,
    plans: PlanCatalog,
}

/// What an import is asked to do.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub id: Uuid,
    pub format: FileFormat,
    pub mode: ImportMode,
    pub mapping: BTreeMap<String, String>,
    pub subject: String,
}

impl Importer {
    pub fn new(db: Db, clock: Arc<dyn Clock>, keys: Arc<PiiKeys>, plans: PlanCatalog) -> Self {
        Self {
            db,
            clock,
            keys,
            plans,
        }
    }

    /// Records a new import with its file (spooled at `file`) in `tx` and commits it, its
    /// job queued as already claimed by this replica. Run it with [`Importer::spawn`].
    pub async fn start(
        &self,
        mut tx: TenantTx,
        req: &ImportRequest,
        file: &Path,
    ) -> Result<(Import, Lease), AppError> {
        let worker = format!("import-{}", Uuid::now_v7());
        let now = self.clock.now();
        // The job, the import and its file commit together.
        let tenant_id = tx.tenant_id();
        let job = jobs::enqueue_claimed(
            &mut tx,
            JOB_KIND,
            Some(tenant_id),
            serde_json::json!({ "import": req.id }),
            &worker,
            now,
            lease(),
        )
        .await?;
        let mapping = serde_json::to_value(&req.mapping).map_err(AppError::internal)?;
        let import = members::import_start(
            &mut tx,
            req.id,
            req.format.as_str(),
            req.mode.as_str(),
            &mapping,
            &req.subject,
            now,
        )
        .await?;
        let mut f = tokio::fs::File::open(file)
            .await
            .map_err(AppError::internal)?;
        let mut part = 0;
        loop {
            let chunk = read_part(&mut f).await.map_err(AppError::internal)?;
            if chunk.is_empty() {
                break;
            }
            members::import_file_put(&mut tx, req.id, part, &chunk).await?;
            part += 1;
        }
        tx.commit().await?;
        let lease = Lease::of_job(&job, &worker).expect("an import job");
        Ok((import, lease))
    }

    /// Runs an import in a task of its own; `file` is its file if this replica has it.
    pub fn spawn(&self, lease: Lease, tenant: Tenant, file: Option<tempfile::TempPath>) {
        let me = self.clone();
        tokio::spawn(async move { me.run(lease, &tenant, file).await });
    }

    /// Runs an import to its end and records the outcome (or leaves the job to be retried),
    /// renewing the lease while it runs.
    pub async fn run(
        &self,
        lease: Lease,
        tenant: &Tenant,
        file: Option<tempfile::TempPath>,
    ) -> RunEnd {
        let lost = Arc::new(AtomicBool::new(false));
        let renew = tokio::spawn(keep_lease(
            self.db.clone(),
            self.clock.clone(),
            lease.clone(),
            lost.clone(),
        ));
        let end = match self.run_held(&lease, tenant, file, &lost).await {
            Ok(end) => end,
            Err(Stop::TakenOver) => RunEnd::TakenOver,
            Err(Stop::Broken(error)) => RunEnd::Retry { error },
        };
        renew.abort();
        let now = self.clock.now();
        let finished = match &end {
            RunEnd::Recorded { status } => {
                Some(serde_json::json!({ "import": lease.import, "status": status }))
            }
            RunEnd::NothingToDo => {
                Some(serde_json::json!({ "import": lease.import, "skipped": true }))
            }
            RunEnd::TakenOver | RunEnd::Retry { .. } => None,
        };
        let done = if let Some(result) = finished {
            jobs::complete_held(&self.db, lease.job, &lease.worker, now, result).await
        } else if let RunEnd::Retry { error } = &end {
            tracing::warn!(%error, import = %lease.import, attempt = lease.attempt, "import broke off; it is retried");
            let retry_at = now + jobs::retry_delay(lease.attempt);
            jobs::retry_held(&self.db, lease.job, &lease.worker, error, retry_at).await
        } else {
            Ok(false)
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, import = %lease.import, "cannot record the import job's end");
        }
        end
    }

    async fn run_held(
        &self,
        lease: &Lease,
        tenant: &Tenant,
        file: Option<tempfile::TempPath>,
        lost: &AtomicBool,
    ) -> Result<RunEnd, Stop> {
        let mut tx = self.db.tenant_tx(tenant).await?;
        let Some(run) = members::import_take_over(&mut tx, lease.import, lease.attempt).await?
        else {
            return Ok(RunEnd::NothingToDo);
        };
        tx.commit().await?;
        if lease.attempt > lease.max_attempts {
            let refusal = Refusal::new(
                "gave_up",
                &format!(
                    "the import was started {} times and did not finish; nothing was imported",
                    lease.max_attempts
                ),
            )
            .with("times", lease.max_attempts);
            return self
                .record(lease, tenant, None, &Tally::default(), Some(refusal))
                .await;
        }
        let (Some(format), Some(mode), Ok(mapping)) = (
            FileFormat::parse(&run.format),
            ImportMode::parse(&run.mode),
            serde_json::from_value::<BTreeMap<String, String>>(run.mapping),
        ) else {
            return Err(Stop::Broken("the import's row is not readable".into()));
        };
        let file = match file {
            Some(f) => f,
            None => self.fetch_file(tenant, lease.import).await?,
        };
        let job = Run {
            db: &self.db,
            clock: &*self.clock,
            keys: &self.keys,
            plan: &CatalogPlan {
                plans: &self.plans,
                tenant,
                clock: &*self.clock,
            },
            tenant,
            subject: &run.created_by,
            lease,
            mode,
            mapping: &mapping,
            path: &file,
            format,
            lost,
        };
        let mut tally = Tally::default();
        let (tx, message) = match import_rows(&job, &mut tally).await {
            Ok(Rows::Read(tx)) => ((mode != ImportMode::DryRun).then_some(tx), None),
            Ok(Rows::Refused(m)) => (None, Some(m)),
            Err(e) => return Err(e),
        };
        self.record(lease, tenant, tx, &tally, message).await
    }

    /// Records the outcome in `tx` (the import's writes) or a transaction of its own, with
    /// the file dropped, if this run still holds the import.
    async fn record(
        &self,
        lease: &Lease,
        tenant: &Tenant,
        tx: Option<TenantTx>,
        tally: &Tally,
        refusal: Option<Refusal>,
    ) -> Result<RunEnd, Stop> {
        let mut tx = match tx {
            Some(tx) => tx,
            None => self.db.tenant_tx(tenant).await?,
        };
        let status = if refusal.is_some() { "failed" } else { "done" };
        let report = serde_json::to_value(&tally.report).unwrap_or_default();
        let params = refusal
            .as_ref()
            .map(|r| serde_json::Value::Object(r.params.clone()));
        let message = refusal
            .as_ref()
            .zip(params.as_ref())
            .map(|(r, params)| ImportMessage {
                text: &r.text,
                code: r.code,
                params,
            });
        let counts = ImportCounts {
            rows_read: tally.read,
            rows_valid: tally.valid,
            rows_imported: if refusal.is_some() { 0 } else { tally.imported },
            error_count: tally.errors,
            errors: Some(&report),
        };
        let now = self.clock.now();
        if !members::import_progress(
            &mut tx,
            lease.import,
            lease.attempt,
            status,
            &counts,
            message,
            Some(now),
        )
        .await?
        {
            // Rolled back: a later run holds the import.
            return Err(Stop::TakenOver);
        }
        members::import_file_drop(&mut tx, lease.import).await?;
        tx.commit().await?;
        Ok(RunEnd::Recorded { status })
    }

    /// The import's file from the database, in a temporary file.
    async fn fetch_file(&self, tenant: &Tenant, id: Uuid) -> Result<tempfile::TempPath, Stop> {
        use tokio::io::AsyncWriteExt;
        let (file, path) = tempfile::NamedTempFile::new()?.into_parts();
        let mut out = tokio::fs::File::from_std(file);
        let mut tx = self.db.tenant_tx(tenant).await?;
        let mut part = 0;
        while let Some(data) = members::import_file_part(&mut tx, id, part).await? {
            out.write_all(&data).await?;
            part += 1;
        }
        tx.commit().await?;
        out.flush().await?;
        Ok(path)
    }
}

/// Reads up to [`FILE_PART`] bytes (fewer only at the end of the file).
async fn read_part(f: &mut tokio::fs::File) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; FILE_PART];
    let mut filled = 0;
    while filled < FILE_PART {
        let n = f.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Renews the run's lease every [`RENEW_EVERY`]; sets `lost` when it no longer holds it.
async fn keep_lease(db: Db, clock: Arc<dyn Clock>, lease: Lease, lost: Arc<AtomicBool>) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        match jobs::extend_lease(&db, lease.job, &lease.worker, clock.now() + self::lease()).await {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, import = %lease.import, "cannot renew the import's lease")
            }
        }
    }
}

/// The business's plan, as the import's writes are held to its member limit.
struct CatalogPlan<'a> {
    plans: &'a PlanCatalog,
    tenant: &'a Tenant,
    clock: &'a dyn Clock,
}

#[async_trait::async_trait]
impl PlanCheck for CatalogPlan<'_> {
    async fn check(
        &self,
        tx: &mut TenantTx,
        limit: Limit,
        adding: i64,
    ) -> Result<Result<(), PlanDenial>, AppError> {
        let plan = self.plans.of(self.tenant).await?;
        crate::plans::limit_check(tx, self.plans, &plan, limit, adding, self.clock.now()).await
    }
}

/// One run's inputs.
struct Run<'a> {
    db: &'a Db,
    clock: &'a dyn Clock,
    keys: &'a Arc<PiiKeys>,
    plan: &'a dyn PlanCheck,
    tenant: &'a Tenant,
    subject: &'a str,
    lease: &'a Lease,
    mode: ImportMode,
    mapping: &'a BTreeMap<String, String>,
    path: &'a Path,
    format: FileFormat,
    lost: &'a AtomicBool,
}

#[derive(Default)]
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

/// What reading the rows came to.
enum Rows {
    /// Every row read; the transaction holds the writes (none for a dry run).
    Read(TenantTx),
    /// Nothing may be imported, and why.
    Refused(Refusal),
}

/// Streams the file through validation and (unless a dry run) into the register, in one
/// transaction, returned uncommitted.
async fn import_rows(job: &Run<'_>, t: &mut Tally) -> Result<Rows, Stop> {
    let keys = job.keys.clone();
    let region = job.tenant.settings.phone_region.clone();
    let zone = job.tenant.settings.zone();
    let mut tx = job.db.tenant_tx(job.tenant).await?;
    let (_, set): (i32, FieldSet) = current_fields(&mut tx).await?;
    let validator = match set.validator() {
        Ok(v) => v,
        Err(e) => {
            return Ok(Rows::Refused(
                Refusal::new("fields_unusable", "the member fields cannot be checked").detail(e),
            ))
        }
    };
    let mut rx = spawn_reader(job.path.to_path_buf(), job.format);
    // Made from the header row.
    let mut checker: Option<RowChecker<'_>> = None;
    let mut row_no: u64 = 0;
    let mut last_progress = std::time::Instant::now();
    while let Some(batch) = rx.recv().await {
        if job.lost.load(Ordering::Relaxed) {
            return Err(Stop::TakenOver);
        }
        let batch = match batch {
            Ok(b) => b,
            Err(m) => return Ok(Rows::Refused(m)),
        };
        let mut rows = batch.into_iter();
        if checker.is_none() {
            let Some(header) = rows.next() else { continue };
            row_no += 1;
            match map_header(&header, job.mapping, &set) {
                Ok(cols) => checker = Some(RowChecker::new(cols, &validator, &keys, &region)),
                Err(problems) => return Ok(Rows::Refused(problems)),
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
                subject: job.subject,
                channel: Channel::Import,
                at: job.clock.now(),
            };
            match job
                .plan
                .check(&mut tx, Limit::Members, insert.len() as i64)
                .await
            {
                Ok(Ok(())) => {}
                Ok(Err(denial)) => {
                    return Ok(Rows::Refused(
                        Refusal::new("plan_limit", &denial.message)
                            .with("plan", &denial.plan)
                            .with("allowed", denial.allowed)
                            .with("usage", denial.usage)
                            .with("adding", insert.len())
                            .with("upgrade_to", &denial.upgrade_to),
                    ))
                }
                Err(_) => {
                    return Ok(Rows::Refused(Refusal::new(
                        "plan_unchecked",
                        "the plan's member limit could not be checked",
                    )))
                }
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
            let mut p = job.db.tenant_tx(job.tenant).await?;
            let counts = ImportCounts {
                rows_read: t.read,
                rows_valid: t.valid,
                rows_imported: t.imported,
                error_count: t.errors,
                errors: None,
            };
            let mine = members::import_progress(
                &mut p,
                job.lease.import,
                job.lease.attempt,
                "running",
                &counts,
                None,
                None,
            )
            .await?;
            p.commit().await?;
            if !mine {
                return Err(Stop::TakenOver);
            }
        }
    }
    if checker.is_none() {
        return Ok(Rows::Refused(Refusal::new(
            "empty_file",
            "the file is empty",
        )));
    }
    match job.mode {
        ImportMode::AllOrNothing if t.errors > 0 => Ok(Rows::Refused(
            Refusal::new(
                "bad_rows",
                &format!("{} problems in the file; nothing was imported", t.errors),
            )
            .with("count", t.errors),
        )),
        _ => Ok(Rows::Read(tx)),
    }
}
