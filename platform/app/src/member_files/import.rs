//! The member import: a CSV or XLSX file spooled to disk is read on a blocking thread in
//! batches of [`BATCH`] rows; each row is mapped to a member's fields, checked like any
//! registration, checked for duplicates within the file (by fingerprint) and against the
//! register (per batch), and written per batch inside ONE transaction that is committed only
//! at the end (dry runs and all-or-nothing imports with bad rows roll back). Progress is
//! saved at most once a second in its own transaction.

use crate::members::{parse_new_member, NewMember, PlanCheck};
use crate::AppError;
use patron_core::clock::Clock;
use patron_core::fields::{CustomValidator, FieldSet, FieldType};
use patron_core::members::normalise_card_number;
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_db::members::{self, Actor, NewMemberRow};
use patron_db::{cards, Db, DbError, Tenant};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
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
    pub problem: String,
}

/// Where a column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
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
    /// A mapping target (`name`, `custom.<key>` or a bare custom key); archived and unknown
    /// fields are none.
    pub fn parse(raw: &str, set: &FieldSet) -> Option<Self> {
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

    pub fn field(&self) -> String {
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

/// Checks a requested mapping (column header -> field) before the file is read.
pub fn check_mapping(mapping: &BTreeMap<String, String>, set: &FieldSet) -> Result<(), AppError> {
    for (col, target) in mapping {
        if target != "-" && Target::parse(target, set).is_none() {
            return Err(AppError::invalid_field(
                &format!("mapping.{col}"),
                format!("\"{target}\" is not a member field"),
            ));
        }
    }
    Ok(())
}

/// A column that is read: its index, its header, where it goes.
pub type Column = (usize, String, Target);

/// The columns a header row maps, or why the file cannot be imported.
pub fn map_header(
    header: &[String],
    mapping: &BTreeMap<String, String>,
    set: &FieldSet,
) -> Result<Vec<Column>, String> {
    let mut cols = Vec::new();
    let mut problems = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim_start_matches('\u{feff}').trim().to_owned();
        let target = mapping.get(&h).cloned().unwrap_or_else(|| h.clone());
        if target.is_empty() || target == "-" {
            continue;
        }
        match Target::parse(&target, set) {
            Some(tg) => cols.push((i, h, tg)),
            None if mapping.contains_key(&h) => problems.push(format!(
                "column \"{h}\" maps to \"{target}\", which is not a member field"
            )),
            None => {}
        }
    }
    if !cols.iter().any(|c| c.2 == Target::Name) {
        problems.push("no column maps to name".into());
    }
    if problems.is_empty() {
        Ok(cols)
    } else {
        Err(problems.join("; "))
    }
}

/// A custom value from a cell: numbers, booleans and lists where the field wants them;
/// anything unreadable goes through as text for the schema to name.
pub fn cell_value(raw: &str, ty: FieldType) -> Value {
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

/// A row's cells as a new member's details, with its card number (or what is wrong with
/// it). Empty cells are left out.
pub fn row_input(cols: &[Column], row: &[String]) -> (NewMember, Option<String>, Option<String>) {
    let cell = |i: usize| row.get(i).map(|s| s.trim()).unwrap_or("");
    let mut m = NewMember::default();
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
    (m, card, card_problem)
}

/// A cheap fingerprint of a blind index or card number, to find duplicates within a file
/// without keeping every value.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h = [0u8; 8];
    for (i, b) in bytes.iter().enumerate() {
        h[i % 8] = h[i % 8].wrapping_mul(31).wrapping_add(*b);
    }
    u64::from_le_bytes(h) ^ (bytes.len() as u64).rotate_left(56)
}

/// A row that passed its own checks: its number, the member, and its unique keys.
pub type GoodRow = (u64, NewMemberRow, Vec<(Target, Vec<u8>)>);

/// Checks rows one by one, remembering the unique keys seen so far in the file.
pub struct RowChecker<'a> {
    pub cols: Vec<Column>,
    pub validator: &'a CustomValidator,
    pub keys: &'a PiiKeys,
    pub region: &'a str,
    seen: HashMap<u64, u64>,
}

impl<'a> RowChecker<'a> {
    pub fn new(
        cols: Vec<Column>,
        validator: &'a CustomValidator,
        keys: &'a PiiKeys,
        region: &'a str,
    ) -> Self {
        Self {
            cols,
            validator,
            keys,
            region,
            seen: HashMap::new(),
        }
    }

    fn column_of(&self, field: &str) -> Option<String> {
        self.cols
            .iter()
            .find(|c| c.2.field() == field)
            .map(|c| c.1.clone())
    }

    /// Row `row_no` checked on its own and against earlier rows of the file.
    pub fn check(
        &mut self,
        row_no: u64,
        row: &[String],
        today: chrono::NaiveDate,
    ) -> Result<GoodRow, Vec<RowProblem>> {
        let (m, card, card_problem) = row_input(&self.cols, row);
        let mut problems = Vec::new();
        if let Some(p) = card_problem {
            problems.push(("card_number".to_owned(), p));
        }
        let parsed = match parse_new_member(m, self.validator, self.keys, self.region, today) {
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
            match self.seen.get(&fingerprint(&tagged)) {
                Some(first) => {
                    problems.push((tg.field(), format!("duplicates row {first} of this file")))
                }
                None => {
                    self.seen.insert(fingerprint(&tagged), row_no);
                }
            }
        }
        if problems.is_empty() {
            let p = parsed.expect("no problems");
            Ok((
                row_no,
                NewMemberRow {
                    data: p.data,
                    password_hash: None,
                    card_number: card,
                },
                uniques,
            ))
        } else {
            Err(problems
                .into_iter()
                .map(|(field, problem)| RowProblem {
                    row: row_no,
                    column: self.column_of(&field),
                    field,
                    problem,
                })
                .collect())
        }
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
            members::create_many(&mut tx, &insert, &by).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| (*s).to_owned()).collect()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    #[test]
    fn headers_map_by_name_or_by_mapping_and_need_a_name_column() {
        let set = FieldSet::default();
        let mapping: BTreeMap<String, String> = [
            ("姓名".to_owned(), "name".to_owned()),
            ("skip".to_owned(), "-".to_owned()),
        ]
        .into();
        let cols = map_header(
            &strings(&["\u{feff}姓名", "phone", "skip", "whatever"]),
            &mapping,
            &set,
        )
        .unwrap();
        let targets: Vec<&Target> = cols.iter().map(|c| &c.2).collect();
        assert_eq!(targets, [&Target::Name, &Target::Phone]);
        assert_eq!(cols[0].1, "姓名");
        let e = map_header(&strings(&["phone"]), &BTreeMap::new(), &set).unwrap_err();
        assert_eq!(e, "no column maps to name");
        let bad: BTreeMap<String, String> = [("x".to_owned(), "nope".to_owned())].into();
        let e = map_header(&strings(&["x", "name"]), &bad, &set).unwrap_err();
        assert!(e.contains("\"x\" maps to \"nope\""));
        assert!(check_mapping(&bad, &set).is_err());
    }

    #[test]
    fn cells_become_the_values_their_field_wants() {
        assert_eq!(cell_value(" 42 ", FieldType::Integer), Value::from(42));
        assert_eq!(cell_value("4.5", FieldType::Decimal), Value::from(4.5));
        assert_eq!(cell_value("是", FieldType::Boolean), Value::Bool(true));
        assert_eq!(cell_value("n", FieldType::Boolean), Value::Bool(false));
        assert_eq!(
            cell_value("a；b, c", FieldType::MultiSelect),
            serde_json::json!(["a", "b", "c"])
        );
        assert_eq!(cell_value("x1", FieldType::Integer), Value::from("x1"));
    }

    #[test]
    fn a_row_maps_its_cells_and_reads_its_card() {
        let set = FieldSet::default();
        let cols = map_header(
            &strings(&["name", "gender", "tags", "card_number"]),
            &BTreeMap::new(),
            &set,
        )
        .unwrap();
        let (m, card, problem) = row_input(&cols, &strings(&[" Li ", "MALE", "a;b", ""]));
        assert_eq!(m.name, "Li");
        assert_eq!(m.gender.as_deref(), Some("male"));
        assert_eq!(m.tags, ["a", "b"]);
        assert_eq!((card, problem), (None, None));
        let (_, card, problem) = row_input(&cols, &strings(&["Li", "", "", "??"]));
        assert!(card.is_none() && problem.is_some());
    }

    #[test]
    fn bad_rows_name_their_column_and_later_duplicates_name_the_first_row() {
        let set = FieldSet::default();
        let validator = set.validator().unwrap();
        let keys = PiiKeys::development();
        let cols = map_header(
            &strings(&["name", "Mobile"]),
            &[("Mobile".to_owned(), "phone".to_owned())].into(),
            &set,
        )
        .unwrap();
        let mut c = RowChecker::new(cols, &validator, &keys, "CN");
        let ok = c
            .check(2, &strings(&["Li", "13800138000"]), today())
            .unwrap();
        assert_eq!(ok.0, 2);
        assert_eq!(ok.2[0].0, Target::Phone);
        let dup = c
            .check(3, &strings(&["Han", "138 0013 8000"]), today())
            .unwrap_err();
        assert_eq!(dup.len(), 1);
        assert_eq!(dup[0].problem, "duplicates row 2 of this file");
        assert_eq!(dup[0].column.as_deref(), Some("Mobile"));
        let bad = c.check(4, &strings(&["", "12"]), today()).unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "phone"]);
        assert_eq!(bad[0].row, 4);
    }

    #[test]
    fn fingerprints_tell_values_apart() {
        assert_eq!(fingerprint(b"phone:abc"), fingerprint(b"phone:abc"));
        assert_ne!(fingerprint(b"phone:abc"), fingerprint(b"email:abc"));
        assert_ne!(fingerprint(b"a"), fingerprint(b"a\0"));
    }
}
