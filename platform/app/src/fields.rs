//! Member fields: the field set in force, checking a draft against it and the stored
//! values, and publishing a new version without losing values.

use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::fields::{self as core_fields, FieldSet};
use patron_core::{FieldCode, FieldError, Issue};
use patron_db::{audit, fields, members, TenantTx};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The field set in force in this tenant (empty before the first publish), with its version
/// (0 before the first publish).
pub async fn current_fields(tx: &mut TenantTx) -> Result<(i32, FieldSet), AppError> {
    match fields::current(tx).await? {
        Some(v) => {
            let set: FieldSet = serde_json::from_value(v.definition).map_err(AppError::internal)?;
            Ok((v.version, set))
        }
        None => Ok((0, FieldSet::default())),
    }
}

/// The field set in force and the row it came from, for showing it.
pub async fn current(
    tx: &mut TenantTx,
) -> Result<(i32, FieldSet, Option<fields::FieldVersion>), AppError> {
    let meta = fields::current(tx).await?;
    let (version, set) = current_fields(tx).await?;
    Ok((version, set, meta))
}

/// What to do about stored values a new version would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Refuse to publish and report the members concerned.
    #[default]
    Refuse,
    /// Publish; existing values stay and only new writes must satisfy the new rules.
    NewWritesOnly,
}

impl OnConflict {
    /// The mode recorded with the version.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refuse => "strict",
            Self::NewWritesOnly => "new_writes_only",
        }
    }
}

/// A proposed new field list.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The complete list of custom fields; fields left out are archived, not deleted.
    pub fields: Vec<core_fields::FieldDef>,
    pub on_conflict: OnConflict,
    /// Values given to members who have none for these fields.
    pub defaults: BTreeMap<String, Value>,
}

/// How a draft would affect stored values.
#[derive(Debug, Clone, PartialEq)]
pub struct Impact {
    /// How many members hold values the draft would reject.
    pub affected_members: i64,
    /// The first of them (at most 50).
    pub member_ids: Vec<Uuid>,
    /// Affected members per field.
    pub by_field: BTreeMap<String, i64>,
}

impl Impact {
    /// `field_change_conflict` when values would break, else `ok`.
    pub fn code(&self) -> &'static str {
        if self.affected_members > 0 {
            "field_change_conflict"
        } else {
            "ok"
        }
    }

    pub fn message(&self) -> String {
        let affected = self.affected_members;
        if affected > 0 {
            format!(
                "{affected} members hold values the new version would reject; supply defaults \
                 for missing values or publish with on_conflict = new_writes_only"
            )
        } else {
            "no stored value breaks".into()
        }
    }

    /// Each field whose stored values would break, with its problem.
    pub fn problems(&self) -> Vec<FieldError> {
        self.by_field
            .iter()
            .map(|(k, n)| {
                Issue::new(
                    FieldCode::NotAllowed,
                    format!("{n} members hold values this version rejects"),
                )
                .with("reason", "members_hold_values")
                .with("count", *n)
                .at(format!("custom.{k}"))
            })
            .collect()
    }
}

/// Tallies one member's stored values against the next version: `bad` are the keys the
/// validator rejects; only keys the new version tightened count.
fn tally(
    impact: &mut Impact,
    id: Uuid,
    bad: impl IntoIterator<Item = String>,
    tightened: &[String],
) {
    let bad: Vec<String> = bad.into_iter().filter(|k| tightened.contains(k)).collect();
    if !bad.is_empty() {
        impact.affected_members += 1;
        if impact.member_ids.len() < 50 {
            impact.member_ids.push(id);
        }
        for k in bad {
            *impact.by_field.entry(k).or_default() += 1;
        }
    }
}

/// Fills the missing (absent or null) values of `values` from `defaults`.
fn with_defaults(
    values: &Map<String, Value>,
    defaults: &BTreeMap<String, Value>,
) -> Map<String, Value> {
    let mut filled = values.clone();
    for (k, v) in defaults {
        if filled.get(k).is_none_or(Value::is_null) {
            filled.insert(k.clone(), v.clone());
        }
    }
    filled
}

/// Stored values the `next` version would reject, after `defaults` fill missing ones.
async fn impact(
    tx: &mut TenantTx,
    current: &FieldSet,
    next: &FieldSet,
    defaults: &BTreeMap<String, Value>,
) -> Result<Impact, AppError> {
    let tightened = next.tightened_since(current);
    let mut out = Impact {
        affected_members: 0,
        member_ids: Vec::new(),
        by_field: BTreeMap::new(),
    };
    if !tightened.is_empty() {
        let validator = next
            .validator()
            .map_err(|e| AppError::field("fields", Issue::new(FieldCode::DoesNotFit, e)))?;
        fields::scan_custom(tx, |id, values| {
            let filled = with_defaults(values, defaults);
            tally(&mut out, id, validator.violations(&filled), &tightened);
        })
        .await?;
    }
    Ok(out)
}

/// Checks defaults against the draft: known active fields, valid values.
fn check_defaults(
    next: &FieldSet,
    defaults: &BTreeMap<String, Value>,
    region: &str,
) -> Result<(), AppError> {
    if defaults.is_empty() {
        return Ok(());
    }
    let validator = next
        .validator()
        .map_err(|e| AppError::field("fields", Issue::new(FieldCode::DoesNotFit, e)))?;
    let changes: Map<String, Value> = defaults
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    validator
        .apply(
            &Map::new(),
            &changes,
            core_fields::WriteKind::Patch,
            region,
            "defaults.",
        )
        .map(|_| ())
        .map_err(AppError::invalid)
}

/// What checking a draft found.
#[derive(Debug)]
pub enum DraftCheck {
    /// The definitions themselves are wrong (`next` absent) or the defaults are (`next`
    /// present).
    Invalid {
        errors: Vec<FieldError>,
        next: Option<FieldSet>,
    },
    /// The draft compiles; what publishing it would do to stored values.
    Valid { next: FieldSet, impact: Impact },
}

/// Checks a draft without saving it.
pub async fn check_draft(
    tx: &mut TenantTx,
    draft: Draft,
    region: &str,
) -> Result<DraftCheck, AppError> {
    let (_, current) = current_fields(tx).await?;
    let next = match current.evolve(draft.fields) {
        Ok(n) => n,
        Err(errors) => return Ok(DraftCheck::Invalid { errors, next: None }),
    };
    if let Err(AppError::Invalid(errors)) = check_defaults(&next, &draft.defaults, region) {
        return Ok(DraftCheck::Invalid {
            errors,
            next: Some(next),
        });
    }
    let impact = impact(tx, &current, &next, &draft.defaults).await?;
    Ok(DraftCheck::Valid { next, impact })
}

/// What publishing did.
#[derive(Debug)]
pub enum Publication {
    /// The new version is in force.
    Published {
        set: FieldSet,
        row: fields::FieldVersion,
    },
    /// Stored values would break and the draft neither fills them nor accepts that:
    /// nothing was published.
    Refused(Impact),
}

/// Publishes a new version, under the tenant's fields lock. Fields left out are archived.
pub async fn publish(
    tx: &mut TenantTx,
    draft: Draft,
    region: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<Publication, AppError> {
    fields::lock(tx).await?;
    let (version, current) = current_fields(tx).await?;
    let next = current.evolve(draft.fields).map_err(AppError::invalid)?;
    check_defaults(&next, &draft.defaults, region)?;
    let report = impact(tx, &current, &next, &draft.defaults).await?;
    if report.affected_members > 0 && draft.on_conflict == OnConflict::Refuse {
        return Ok(Publication::Refused(report));
    }
    let mut filled = BTreeMap::new();
    for (k, v) in &draft.defaults {
        let v = match next.get(k).map(|f| f.ty) {
            // Defaults go through the same normalisation as any write.
            Some(core_fields::FieldType::Phone) => Value::String(
                patron_core::members::Phone::parse(v.as_str().unwrap_or(""), region)
                    .map_err(|p| AppError::field(&format!("defaults.{k}"), p))?
                    .e164()
                    .to_owned(),
            ),
            _ => v.clone(),
        };
        let n = fields::backfill(tx, k, &v, subject, now).await?;
        filled.insert(k.clone(), n);
    }
    let row = fields::FieldVersion {
        version: version + 1,
        definition: serde_json::to_value(&next).map_err(AppError::internal)?,
        json_schema: next.json_schema(),
        ui_schema: next.ui_schema(),
        mode: draft.on_conflict.as_str().into(),
        published_by: subject.to_owned(),
        published_at: now,
    };
    fields::insert(tx, &row).await?;
    for f in next.active() {
        match f.ty {
            core_fields::FieldType::Integer | core_fields::FieldType::Decimal => {
                members::index_custom_field(tx, &f.key, true).await?
            }
            core_fields::FieldType::Date => members::index_custom_field(tx, &f.key, false).await?,
            _ => {}
        }
    }
    audit::record(
        tx,
        now,
        subject,
        "fields.published",
        &row.version.to_string(),
        serde_json::json!({ "mode": row.mode, "backfilled": filled, "affected_members": report.affected_members }),
    )
    .await?;
    Ok(Publication::Published { set: next, row })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_only_missing_or_null_values() {
        let values = json!({"a": 1, "b": null}).as_object().unwrap().clone();
        let defaults: BTreeMap<String, Value> = [
            ("a".into(), json!(9)),
            ("b".into(), json!(2)),
            ("c".into(), json!(3)),
        ]
        .into();
        let filled = with_defaults(&values, &defaults);
        assert_eq!(Value::Object(filled), json!({"a": 1, "b": 2, "c": 3}));
    }

    #[test]
    fn only_tightened_fields_count_and_ids_stop_at_fifty() {
        let mut i = Impact {
            affected_members: 0,
            member_ids: Vec::new(),
            by_field: BTreeMap::new(),
        };
        let tightened = vec!["size".to_owned()];
        tally(&mut i, Uuid::nil(), ["colour".to_owned()], &tightened);
        assert_eq!(i.affected_members, 0);
        for _ in 0..60 {
            tally(
                &mut i,
                Uuid::now_v7(),
                ["size".to_owned(), "colour".to_owned()],
                &tightened,
            );
        }
        assert_eq!(i.affected_members, 60);
        assert_eq!(i.member_ids.len(), 50);
        assert_eq!(i.by_field, [("size".to_owned(), 60)].into());
        assert_eq!(i.code(), "field_change_conflict");
        assert_eq!(i.problems()[0].field, "custom.size");
        assert!(i.message().starts_with("60 members"));
    }

    #[test]
    fn the_recorded_mode_names_the_conflict_policy() {
        assert_eq!(OnConflict::Refuse.as_str(), "strict");
        assert_eq!(OnConflict::NewWritesOnly.as_str(), "new_writes_only");
    }
}
