//! An import's rows: where each column goes, cells read as the values their field wants,
//! each row checked like any registration and against earlier rows of the file. Pure: no
//! database, no file.

use super::import::{Refusal, RowProblem};
use crate::members::{parse_new_member, NewMember};
use crate::AppError;
use patron_core::fields::{CustomValidator, FieldSet, FieldType};
use patron_core::members::normalise_card_number;
use patron_core::pii::PiiKeys;
use patron_db::members::NewMemberRow;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

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
            return Err(AppError::field(
                &format!("mapping.{col}"),
                patron_core::Issue::unknown(target, format!("\"{target}\" is not a member field")),
            ));
        }
    }
    Ok(())
}

/// A column that is read: its index, its header, where it goes.
pub type Column = (usize, String, Target);

/// The columns a header row maps, or why the file cannot be imported (every problem in the
/// words; the code and values of the first).
pub fn map_header(
    header: &[String],
    mapping: &BTreeMap<String, String>,
    set: &FieldSet,
) -> Result<Vec<Column>, Refusal> {
    let mut cols = Vec::new();
    let mut problems: Vec<Refusal> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim_start_matches('\u{feff}').trim().to_owned();
        let target = mapping.get(&h).cloned().unwrap_or_else(|| h.clone());
        if target.is_empty() || target == "-" {
            continue;
        }
        match Target::parse(&target, set) {
            Some(tg) => cols.push((i, h, tg)),
            None if mapping.contains_key(&h) => problems.push(
                Refusal::new(
                    "column_not_a_field",
                    &format!("column \"{h}\" maps to \"{target}\", which is not a member field"),
                )
                .with("column", &h)
                .with("field", &target),
            ),
            None => {}
        }
    }
    if !cols.iter().any(|c| c.2 == Target::Name) {
        problems.push(Refusal::new("no_name_column", "no column maps to name"));
    }
    let mut problems = problems.into_iter();
    match problems.next() {
        None => Ok(cols),
        Some(mut first) => {
            for p in problems {
                first.text = format!("{}; {}", first.text, p.text);
            }
            Err(first)
        }
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
pub fn row_input(
    cols: &[Column],
    row: &[String],
) -> (NewMember, Option<String>, Option<patron_core::Issue>) {
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
        let issue = |e: patron_core::FieldError| patron_core::Issue {
            code: e.code,
            params: e.params,
            problem: e.problem,
        };
        let parsed = match parse_new_member(m, self.validator, self.keys, self.region, today) {
            Ok(p) => Some(p),
            Err(errs) => {
                problems.extend(errs.into_iter().map(|e| (e.field.clone(), issue(e))));
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
                Some(first) => problems.push((
                    tg.field(),
                    patron_core::Issue::new(
                        patron_core::FieldCode::Duplicate,
                        format!("duplicates row {first} of this file"),
                    )
                    .with("reason", "duplicate_row")
                    .with("row", *first),
                )),
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
                .map(|(field, issue)| RowProblem::new(row_no, self.column_of(&field), field, issue))
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use patron_core::fields::FieldSet;

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
        assert_eq!(
            (e.code, e.text.as_str()),
            ("no_name_column", "no column maps to name")
        );
        let bad: BTreeMap<String, String> = [("x".to_owned(), "nope".to_owned())].into();
        let e = map_header(&strings(&["x", "name"]), &bad, &set).unwrap_err();
        assert!(e.text.contains("\"x\" maps to \"nope\""));
        assert_eq!(e.code, "column_not_a_field");
        assert_eq!(
            (&e.params["column"], &e.params["field"]),
            (&serde_json::json!("x"), &serde_json::json!("nope"))
        );
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
        // Said in the reader's language from its code and values.
        assert_eq!(
            (dup[0].code.as_str(), &dup[0].params["row"]),
            ("duplicate", &serde_json::json!(2))
        );
        assert_eq!(dup[0].params["reason"], "duplicate_row");
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
