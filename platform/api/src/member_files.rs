//! Members in files: import from CSV or XLSX (column mapping, dry run, all-or-nothing or
//! valid rows only, duplicates reported, streamed with bounded memory, progress), and export
//! of a search as CSV (streamed) or XLSX.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::exports::csv_line;
use crate::edge::gate::export_read;
use crate::edge::state::ApiState;
use crate::fields::current_fields;
use crate::members::{build_search, member_view, parse_new_member, MemberSearch, NewMember};
use chrono::{DateTime, Utc};
use patron_core::access::Permission;
use patron_core::fields::{FieldSet, FieldType};
use patron_core::members::normalise_card_number;
use patron_core::plans::Limit;
use patron_db::members::{self, Actor, NewMemberRow, SortKey};
use patron_db::{cards, Tenant, TenantTx};
use poem::Body;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Member import and export.
    MemberFiles,
}

/// Rows handled per database round.
const BATCH: usize = 1000;
/// Bad rows kept in a report (all are counted).
const MAX_REPORTED: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Xlsx,
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

impl ImportMode {
    fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "dry_run",
            Self::AllOrNothing => "all_or_nothing",
            Self::ValidOnly => "valid_only",
        }
    }
}

/// One bad row: where, and why.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct RowProblem {
    /// Row in the file, counting the header as row 1.
    pub row: u64,
    /// The file's column header (absent for problems with the row as a whole).
    pub column: Option<String>,
    /// The member field it maps to.
    pub field: String,
    pub problem: String,
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
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<members::Import> for ImportView {
    fn from(i: members::Import) -> Self {
        Self {
            id: i.id,
            format: i.format,
            mode: i.mode,
            status: i.status,
            rows_read: i.rows_read,
            rows_valid: i.rows_valid,
            rows_imported: i.rows_imported,
            error_count: i.error_count,
            errors: serde_json::from_value(i.errors).unwrap_or_default(),
            message: i.message,
            created_at: i.created_at,
            finished_at: i.finished_at,
        }
    }
}

#[derive(ApiResponse)]
enum Started {
    /// Returned when the file was received; poll the import for progress and its report.
    #[oai(status = 202)]
    Accepted(Json<ImportView>),
}

#[derive(ApiResponse)]
enum CsvFile {
    /// Returned with the members as CSV (UTF-8 with a byte order mark, for Excel).
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

#[derive(ApiResponse)]
enum XlsxFile {
    /// Returned with the members as an Excel workbook.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

/// Where a column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Name,
    Phone,
    Email,
    Gender,
    Birthday,
    JoinDate,
    HomeStore,
    Tags,
    Notes,
    CardNumber,
    Custom(String, FieldType),
}

impl Target {
    fn parse(raw: &str, set: &FieldSet) -> Option<Self> {
        Some(match raw.trim() {
            "name" => Self::Name,
            "phone" => Self::Phone,
            "email" => Self::Email,
            "gender" => Self::Gender,
            "birthday" => Self::Birthday,
            "join_date" => Self::JoinDate,
            "home_store" => Self::HomeStore,
            "tags" => Self::Tags,
            "notes" => Self::Notes,
            "card_number" => Self::CardNumber,
            other => {
                let key = other.strip_prefix("custom.").unwrap_or(other);
                let f = set.get(key).filter(|f| !f.archived)?;
                Self::Custom(f.key.clone(), f.ty)
            }
        })
    }

    fn field(&self) -> String {
        match self {
            Self::Name => "name".into(),
            Self::Phone => "phone".into(),
            Self::Email => "email".into(),
            Self::Gender => "gender".into(),
            Self::Birthday => "birthday".into(),
            Self::JoinDate => "join_date".into(),
            Self::HomeStore => "home_store".into(),
            Self::Tags => "tags".into(),
            Self::Notes => "notes".into(),
            Self::CardNumber => "card_number".into(),
            Self::Custom(k, _) => format!("custom.{k}"),
        }
    }
}

/// A custom value from a cell: numbers, booleans and lists where the field wants them;
/// anything unreadable goes through as text for the schema to name.
fn cell_value(raw: &str, ty: FieldType) -> Value {
    let s = raw.trim();
    match ty {
        FieldType::Integer => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(s)),
        FieldType::Decimal => s
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(s)),
        FieldType::Boolean => match s.to_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "是" => Value::Bool(true),
            "false" | "0" | "no" | "n" | "否" => Value::Bool(false),
            _ => Value::from(s),
        },
        FieldType::MultiSelect => Value::from(
            s.split([';', '；', ','])
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>(),
        ),
        _ => Value::from(s),
    }
}

/// Reads rows from a spooled file on a blocking thread and hands them over in batches.
fn spawn_reader(
    path: std::path::PathBuf,
    format: FileFormat,
) -> tokio::sync::mpsc::Receiver<Result<Vec<Vec<String>>, String>> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let send = |batch: Vec<Vec<String>>| tx.blocking_send(Ok(batch)).is_ok();
        let result: Result<(), String> = (|| {
            let mut batch = Vec::with_capacity(BATCH);
            match format {
                FileFormat::Csv => {
                    let mut r = csv::ReaderBuilder::new()
                        .has_headers(false)
                        .flexible(true)
                        .from_path(&path)
                        .map_err(|e| format!("the file cannot be read: {e}"))?;
                    for rec in r.records() {
                        let rec = rec.map_err(|e| format!("the CSV is malformed: {e}"))?;
                        batch.push(rec.iter().map(str::to_owned).collect());
                        if batch.len() == BATCH && !send(std::mem::take(&mut batch)) {
                            return Ok(());
                        }
                    }
                }
                FileFormat::Xlsx => {
                    use calamine::{Reader, Xlsx};
                    let mut wb: Xlsx<_> = calamine::open_workbook(&path)
                        .map_err(|e| format!("the file is not an XLSX workbook: {e}"))?;
                    let sheet = wb
                        .sheet_names()
                        .first()
                        .cloned()
                        .ok_or("the workbook has no sheet")?;
                    let mut cells = wb
                        .worksheet_cells_reader(&sheet)
                        .map_err(|e| format!("the sheet cannot be read: {e}"))?;
                    let mut row: Vec<String> = Vec::new();
                    let mut at: Option<u32> = None;
                    while let Some(cell) = cells
                        .next_cell()
                        .map_err(|e| format!("the sheet is malformed: {e}"))?
                    {
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

/// A cheap fingerprint of a blind index or card number, to find duplicates within a file
/// without keeping every value.
fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = [0u8; 8];
    for (i, b) in bytes.iter().enumerate() {
        h[i % 8] = h[i % 8].wrapping_mul(31).wrapping_add(*b);
    }
    u64::from_le_bytes(h) ^ (bytes.len() as u64).rotate_left(56)
}

/// A row that passed its own checks: its number, the member, and its unique keys.
type GoodRow = (u64, NewMemberRow, Vec<(Target, Vec<u8>)>);

struct Job {
    state: ApiState,
    principal: crate::edge::auth::Principal,
    tenant: Tenant,
    subject: String,
    id: Uuid,
    mode: ImportMode,
    set: FieldSet,
    mapping: BTreeMap<String, String>,
    path: tempfile::TempPath,
    format: FileFormat,
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

async fn run_import(job: Job) {
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
    let now = job.state.now();
    let save = async {
        let mut tx = job.state.db.tenant_tx(&job.tenant).await?;
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
async fn import_rows(job: &Job, t: &mut Tally) -> Result<Option<String>, patron_db::DbError> {
    let keys = job.state.config.pii.clone();
    let region = job.tenant.settings.phone_region.clone();
    let tz: chrono_tz::Tz = job
        .tenant
        .settings
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let validator = match job.set.validator() {
        Ok(v) => v,
        Err(e) => return Ok(Some(e)),
    };
    let mut rx = spawn_reader(job.path.to_path_buf(), job.format);
    let mut tx = job.state.db.tenant_tx(&job.tenant).await?;
    let mut columns: Option<Vec<(usize, String, Target)>> = None;
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut row_no: u64 = 0;
    let mut last_progress = std::time::Instant::now();
    while let Some(batch) = rx.recv().await {
        let batch = match batch {
            Ok(b) => b,
            Err(m) => return Ok(Some(m)),
        };
        let mut rows = batch.into_iter();
        if columns.is_none() {
            let Some(header) = rows.next() else { continue };
            row_no += 1;
            let mut cols = Vec::new();
            let mut problems = Vec::new();
            for (i, h) in header.iter().enumerate() {
                let h = h.trim_start_matches('\u{feff}').trim().to_owned();
                let target = job.mapping.get(&h).cloned().unwrap_or_else(|| h.clone());
                if target.is_empty() || target == "-" {
                    continue;
                }
                match Target::parse(&target, &job.set) {
                    Some(tg) => cols.push((i, h, tg)),
                    None if job.mapping.contains_key(&h) => problems.push(format!(
                        "column \"{h}\" maps to \"{target}\", which is not a member field"
                    )),
                    None => {}
                }
            }
            if !cols.iter().any(|c| c.2 == Target::Name) {
                problems.push("no column maps to name".into());
            }
            if !problems.is_empty() {
                return Ok(Some(problems.join("; ")));
            }
            columns = Some(cols);
        }
        let cols = columns.as_ref().expect("header read");
        let today = job.state.now().with_timezone(&tz).date_naive();
        // Parse and check each row; remember the good ones with their row numbers.
        let mut good: Vec<GoodRow> = Vec::new();
        for row in rows {
            row_no += 1;
            if row.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            t.read += 1;
            let cell = |i: usize| row.get(i).map(|s| s.trim()).unwrap_or("");
            let mut m = NewMember {
                name: String::new(),
                phone: None,
                email: None,
                gender: None,
                birthday: None,
                join_date: None,
                home_store: None,
                tags: Vec::new(),
                notes: None,
                referrer_id: None,
                custom: None,
            };
            let mut custom = Map::new();
            let mut card = None;
            let mut card_problem = None;
            for (i, _, tg) in cols {
                let v = cell(*i);
                if v.is_empty() {
                    continue;
                }
                match tg {
                    Target::Name => m.name = v.to_owned(),
                    Target::Phone => m.phone = Some(v.to_owned()),
                    Target::Email => m.email = Some(v.to_owned()),
                    Target::Gender => m.gender = Some(v.to_lowercase()),
                    Target::Birthday => m.birthday = Some(v.to_owned()),
                    Target::JoinDate => m.join_date = Some(v.to_owned()),
                    Target::HomeStore => m.home_store = Some(v.to_owned()),
                    Target::Tags => {
                        m.tags = v
                            .split([';', '；', ','])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    }
                    Target::Notes => m.notes = Some(v.to_owned()),
                    Target::CardNumber => match normalise_card_number(v) {
                        Ok(n) => card = Some(n),
                        Err(p) => card_problem = Some(p),
                    },
                    Target::Custom(k, ty) => {
                        custom.insert(k.clone(), cell_value(v, *ty));
                    }
                }
            }
            m.custom = Some(Value::Object(custom));
            let column_of = |field: &str| {
                cols.iter()
                    .find(|c| c.2.field() == field)
                    .map(|c| c.1.clone())
            };
            let mut problems = Vec::new();
            if let Some(p) = card_problem {
                problems.push(("card_number".to_owned(), p));
            }
            let parsed = match parse_new_member(m, &validator, &keys, &region, today) {
                Ok(p) => Some(p),
                Err(errs) => {
                    problems.extend(errs.into_iter().map(|e| (e.field, e.problem)));
                    None
                }
            };
            // Duplicates within the file.
            let mut uniques: Vec<(Target, Vec<u8>)> = Vec::new();
            if let Some(p) = &parsed {
                if let Some(s) = &p.data.phone {
                    uniques.push((Target::Phone, s.index.clone()));
                }
                if let Some(s) = &p.data.email {
                    uniques.push((Target::Email, s.index.clone()));
                }
            }
            if let Some(c) = &card {
                uniques.push((Target::CardNumber, c.as_bytes().to_vec()));
            }
            for (tg, key) in &uniques {
                let mut tagged = tg.field().into_bytes();
                tagged.extend(key);
                match seen.get(&fingerprint(&tagged)) {
                    Some(first) => {
                        problems.push((tg.field(), format!("duplicates row {first} of this file")))
                    }
                    None => {
                        seen.insert(fingerprint(&tagged), row_no);
                    }
                }
            }
            if problems.is_empty() {
                let p = parsed.expect("no problems");
                good.push((
                    row_no,
                    NewMemberRow {
                        data: p.data,
                        password_hash: None,
                        card_number: card,
                    },
                    uniques,
                ));
            } else {
                for (field, problem) in problems {
                    t.bad(RowProblem {
                        row: row_no,
                        column: column_of(&field),
                        field,
                        problem,
                    });
                }
            }
        }
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
                    t.bad(RowProblem {
                        row,
                        column: cols.iter().find(|c| &c.2 == tg).map(|c| c.1.clone()),
                        field: tg.field(),
                        problem: "already belongs to a member".into(),
                    });
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
                channel: "import",
                at: job.state.now(),
            };
            if let Err(e) = job
                .state
                .check_limit(&mut tx, &job.principal, Limit::Members, insert.len() as i64)
                .await
            {
                return Ok(Some(match e {
                    ApiError::PaymentRequired(p) => p.0.message,
                    _ => "the plan's member limit could not be checked".into(),
                }));
            }
            members::create_many(&mut tx, &insert, &by).await?;
            t.imported += insert.len() as i64;
        }
        if last_progress.elapsed() > std::time::Duration::from_secs(1) {
            last_progress = std::time::Instant::now();
            let mut p = job.state.db.tenant_tx(&job.tenant).await?;
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
    if columns.is_none() {
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

pub struct MemberFilesApi {
    pub state: ApiState,
}

/// The columns of an export.
fn export_header(set: &FieldSet, pii: bool) -> Vec<String> {
    let mut h: Vec<String> = ["id", "card_number", "name"].map(String::from).to_vec();
    if pii {
        h.push("phone".into());
        h.push("email".into());
    }
    h.extend(
        [
            "gender",
            "birthday",
            "join_date",
            "home_store",
            "tags",
            "notes",
            "referrer_id",
            "created_at",
        ]
        .map(String::from),
    );
    h.extend(set.active().map(|f| format!("custom.{}", f.key)));
    h
}

fn export_row(v: &crate::members::MemberView, set: &FieldSet, pii: bool) -> Vec<String> {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let mut r = vec![v.id.to_string(), opt(&v.card_number), v.name.clone()];
    if pii {
        r.push(opt(&v.phone));
        r.push(opt(&v.email));
    }
    r.push(opt(&v.gender));
    r.push(v.birthday.map(|d| d.to_string()).unwrap_or_default());
    r.push(v.join_date.to_string());
    r.push(opt(&v.home_store));
    r.push(v.tags.join(";"));
    r.push(opt(&v.notes));
    r.push(v.referrer_id.map(|d| d.to_string()).unwrap_or_default());
    r.push(v.created_at.to_rfc3339());
    for f in set.active() {
        r.push(match v.custom.get(&f.key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join(";"),
            Some(other) => other.to_string(),
        });
    }
    r
}

struct ExportCursor {
    tx: Option<TenantTx>,
    search: members::Search,
    set: FieldSet,
    pii: bool,
    keys: std::sync::Arc<patron_core::pii::PiiKeys>,
    header: bool,
}

impl ExportCursor {
    /// The next page as views; `None` when done (the transaction is then closed).
    async fn next_page(
        &mut self,
    ) -> Result<Option<Vec<crate::members::MemberView>>, patron_db::DbError> {
        let Some(tx) = self.tx.as_mut() else {
            return Ok(None);
        };
        let rows = members::search(tx, &self.search).await?;
        if rows.is_empty() {
            if let Some(tx) = self.tx.take() {
                tx.commit().await?;
            }
            return Ok(None);
        }
        let last = rows.last().expect("not empty");
        self.search.after = Some((members::sort_value(last, self.search.sort), last.id));
        Ok(Some(
            rows.iter()
                .map(|m| member_view(m, &self.set, &self.keys, self.pii))
                .collect(),
        ))
    }
}

impl MemberFilesApi {
    async fn export_cursor(
        &self,
        auth: &TenantAuth,
        req: MemberSearch,
    ) -> Result<ExportCursor, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(auth, Some(Permission::MembersExport))
            .await?;
        let (_, set) = current_fields(&mut tx).await?;
        let tier = crate::members::tier_filter(&self.state, &mut tx, req.tier.as_deref()).await?;
        let mut search = build_search(
            &MemberSearch {
                limit: None,
                after: None,
                ..req
            },
            &set,
            &self.state.config.pii,
            &me.tenant.settings.phone_region,
        )?;
        search.tier = tier;
        search.limit = 1000;
        search.sort = SortKey::Created;
        search.descending = false;
        if let Some(n) = &search.card_number {
            if let Some(card) = cards::find(&mut tx, n).await? {
                crate::members::refuse_unusable(&card)?;
            }
        }
        let pii = self.state.require(&me, Permission::MembersReadPii).is_ok();
        patron_db::audit::record(
            &mut tx,
            self.state.now(),
            &me.subject(),
            "members.exported",
            "",
            serde_json::json!({ "pii": pii }),
        )
        .await?;
        Ok(ExportCursor {
            tx: Some(tx),
            search,
            set,
            pii,
            keys: self.state.config.pii.clone(),
            header: true,
        })
    }
}

#[OpenApi(tag = "Tag::MemberFiles")]
impl MemberFilesApi {
    /// Import members from a CSV or XLSX file sent as the body. `mapping` is a JSON object
    /// from column headers to fields (`name`, `phone`, `email`, `gender`, `birthday`,
    /// `join_date`, `home_store`, `tags`, `notes`, `card_number`, `custom.<key>`; `-` skips
    /// a column); headers named like a field map to it without one. Runs in the background:
    /// poll `GET /members/imports/{id}` for progress and the report of bad rows.
    #[oai(
        path = "/members/imports",
        method = "post",
        operation_id = "importMembers"
    )]
    async fn import(
        &self,
        auth: TenantAuth,
        format: Query<FileFormat>,
        mode: Query<ImportMode>,
        mapping: Query<Option<String>>,
        body: Binary<Body>,
    ) -> Result<Started, ApiError> {
        let mapping: BTreeMap<String, String> = match mapping.0.as_deref() {
            None | Some("") => BTreeMap::new(),
            Some(m) => serde_json::from_str(m).map_err(|_| {
                ApiError::invalid_field(
                    "mapping",
                    "must be a JSON object from column headers to field names",
                )
            })?,
        };
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersImport))
            .await?;
        let (_, set) = current_fields(&mut tx).await?;
        for (col, target) in &mapping {
            if target != "-" && Target::parse(target, &set).is_none() {
                return Err(ApiError::invalid_field(
                    &format!("mapping.{col}"),
                    format!("\"{target}\" is not a member field"),
                ));
            }
        }
        // Spool the upload to a temporary file: memory stays bounded whatever its size.
        let file = tempfile::NamedTempFile::new().map_err(|e| ApiError::internal(&e))?;
        let (std_file, path) = file.into_parts();
        let mut out = tokio::fs::File::from_std(std_file);
        let mut stream = body.0.into_bytes_stream();
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let mut size = 0usize;
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request(format!("the upload broke off: {e}")))?;
            size += chunk.len();
            out.write_all(&chunk)
                .await
                .map_err(|e| ApiError::internal(&e))?;
        }
        out.flush().await.map_err(|e| ApiError::internal(&e))?;
        if size == 0 {
            return Err(ApiError::invalid_field("body", "the file is empty"));
        }
        let id = Uuid::now_v7();
        let subject = me.subject();
        let started = members::import_start(
            &mut tx,
            id,
            match format.0 {
                FileFormat::Csv => "csv",
                FileFormat::Xlsx => "xlsx",
            },
            mode.0.as_str(),
            &subject,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        let job = Job {
            state: self.state.clone(),
            principal: me.clone(),
            tenant: me.tenant.clone(),
            subject,
            id,
            mode: mode.0,
            set,
            mapping,
            path,
            format: format.0,
        };
        tokio::spawn(run_import(job));
        Ok(Started::Accepted(Json(started.into())))
    }

    /// An import's progress, and when finished its report.
    #[oai(
        path = "/members/imports/:id",
        method = "get",
        operation_id = "getMemberImport"
    )]
    async fn import_status(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ImportView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersImport))
            .await?;
        let i = members::import_get(&mut tx, id.0)
            .await
            .map_err(|e| match e {
                patron_db::DbError::NotFound => ApiError::not_found("import"),
                other => other.into(),
            })?;
        tx.commit().await?;
        Ok(Json(i.into()))
    }

    /// Export the members a search finds as CSV, streamed. Phone and e-mail columns only
    /// with `members:read_pii`.
    #[oai(
        path = "/members/export.csv",
        method = "post",
        operation_id = "exportMembersCsv",
        transform = "export_read"
    )]
    async fn export_csv(
        &self,
        auth: TenantAuth,
        req: Json<MemberSearch>,
    ) -> Result<CsvFile, ApiError> {
        let cursor = self.export_cursor(&auth, req.0).await?;
        let stream = futures::stream::unfold(cursor, |mut c| async move {
            if c.header {
                c.header = false;
                let mut bytes = "\u{feff}".as_bytes().to_vec();
                bytes.extend(csv_line(export_header(&c.set, c.pii)));
                return Some((Ok::<Vec<u8>, std::io::Error>(bytes), c));
            }
            match c.next_page().await {
                Ok(Some(views)) => {
                    let mut bytes = Vec::new();
                    for v in &views {
                        bytes.extend(csv_line(export_row(v, &c.set, c.pii)));
                    }
                    Some((Ok(bytes), c))
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "export stopped");
                    Some((
                        Err(std::io::Error::other("export failed")),
                        ExportCursor { tx: None, ..c },
                    ))
                }
            }
        });
        Ok(CsvFile::Ok(
            Binary(Body::from_bytes_stream(stream)),
            "attachment; filename=\"members.csv\"".into(),
        ))
    }

    /// Export the members a search finds as an Excel workbook (written with bounded memory
    /// to a temporary file, then sent from it). Phone and e-mail columns only with
    /// `members:read_pii`.
    #[oai(
        path = "/members/export.xlsx",
        method = "post",
        operation_id = "exportMembersXlsx",
        transform = "export_read"
    )]
    async fn export_xlsx(
        &self,
        auth: TenantAuth,
        req: Json<MemberSearch>,
    ) -> Result<XlsxFile, ApiError> {
        let mut cursor = self.export_cursor(&auth, req.0).await?;
        // Rows go to a blocking writer thread page by page. The worksheet is in constant
        // memory mode (each row goes to a temporary file as soon as the next one starts) and
        // the finished workbook is written to an unnamed temporary file and sent from there,
        // so memory holds a few pages of rows and the zip writer's buffers, never the file.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<String>>>(4);
        let header = export_header(&cursor.set, cursor.pii);
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
        while let Some(views) = cursor.next_page().await? {
            let rows = views
                .iter()
                .map(|v| export_row(v, &cursor.set, cursor.pii))
                .collect();
            if tx.send(rows).await.is_err() {
                break;
            }
        }
        drop(tx);
        let file = writer
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(|e| ApiError::internal(&e))?;
        Ok(XlsxFile::Ok(
            Binary(Body::from_async_read(tokio::io::BufReader::new(
                tokio::fs::File::from_std(file),
            ))),
            "attachment; filename=\"members.xlsx\"".into(),
        ))
    }
}
