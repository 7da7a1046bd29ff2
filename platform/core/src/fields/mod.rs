//! Member fields a tenant designs: the field definitions an admin edits, the JSON Schema and
//! UI schema (react-jsonschema-form) compiled from them, validation of stored values, and the
//! check that a new version does not strand values members already have.
//!
//! A tenant edits a list of [`FieldDef`]s. Removed fields are never dropped: they stay in the
//! version as archived definitions, so their stored values remain readable, and adding the
//! field back brings the values back.
//!
//! Slightly over 600 lines: the definitions, the schemas compiled from them and the checks
//! of stored values are one language, and read best together.

use crate::{FieldCode, FieldError, Issue};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Names of the fields every tenant has as columns; custom fields may not reuse them.
pub const BUILTIN_FIELDS: &[&str] = &[
    "name",
    "phone",
    "email",
    "gender",
    "birthday",
    "join_date",
    "home_store",
    "tags",
    "notes",
    "referrer",
    "referrer_id",
    "card",
    "card_number",
    "id",
    "status",
    "password",
];

/// Most custom fields a tenant may define (archived ones included).
pub const MAX_FIELDS: usize = 200;

/// The kinds of value a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Integer,
    Decimal,
    Date,
    Boolean,
    SingleSelect,
    MultiSelect,
    Phone,
    Email,
}

impl FieldType {
    /// Whether values of `self` are always acceptable as values of `to` (a widening or no
    /// change). Anything else is a narrowing that existing values must be checked against.
    pub fn widens_to(self, to: FieldType) -> bool {
        use FieldType::*;
        self == to
            || matches!(
                (self, to),
                (Text, LongText) | (Integer, Decimal) | (Phone, Text) | (Email, Text)
            )
    }

    fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::LongText | FieldType::Phone | FieldType::Email
        )
    }

    fn is_number(self) -> bool {
        matches!(self, FieldType::Integer | FieldType::Decimal)
    }

    /// Longest text accepted when the admin sets no limit.
    fn default_max_length(self) -> u64 {
        match self {
            FieldType::LongText => 5000,
            FieldType::Email => 254,
            FieldType::Phone => 32,
            _ => 200,
        }
    }
}

/// A label in each supported locale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Labels {
    #[serde(rename = "zh-CN", default)]
    pub zh_cn: String,
    #[serde(default)]
    pub en: String,
}

/// One choice of a select field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldOption {
    pub value: String,
    pub label: Labels,
}

/// One custom field as the admin defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    /// Stable key: lowercase letters, digits and underscores, starting with a letter.
    pub key: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub label: Labels,
    #[serde(default)]
    pub required: bool,
    /// Smallest and largest number (integer, decimal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    /// Shortest and longest text, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// A regular expression text values must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Choices of a select field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
    /// Whether members see the field in the portal and fill it when they register. Fields
    /// stored before this existed were shown to members, so they stay visible.
    #[serde(default = "visible_by_default")]
    pub member_visible: bool,
    /// Whether members may edit the value in the portal (only visible fields).
    #[serde(default)]
    pub member_editable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Labels>,
    /// Set by the platform on fields removed in a later version: values stay readable,
    /// writes are refused.
    #[serde(default)]
    pub archived: bool,
}

fn visible_by_default() -> bool {
    true
}

fn valid_key(key: &str) -> Result<(), Issue> {
    if key.is_empty() || key.len() > 40 {
        return Err(
            Issue::new(FieldCode::LengthBetween, "must be 1 to 40 characters")
                .with("min", 1)
                .with("max", 40),
        );
    }
    if !key.starts_with(|c: char| c.is_ascii_lowercase())
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Issue::invalid_format(
            "code",
            "must be lowercase letters, digits and underscores, starting with a letter",
        ));
    }
    if BUILTIN_FIELDS.contains(&key) {
        return Err(Issue::new(
            FieldCode::Reserved,
            format!("\"{key}\" is a built-in field"),
        )
        .with("value", key));
    }
    Ok(())
}

/// A checked set of field definitions: keys unique and well-formed, constraints consistent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FieldSet {
    pub fields: Vec<FieldDef>,
}

impl FieldSet {
    /// Checks definitions an admin sent; errors name `fields.<i>.<attribute>`.
    pub fn parse(defs: Vec<FieldDef>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if defs.len() > MAX_FIELDS {
            errors.push(Issue::too_many(MAX_FIELDS, "fields").at("fields"));
        }
        // A rule the definition breaks: `reason` is a stable word the console names.
        let rule = |reason: &str, words: &str| {
            Issue::new(FieldCode::NotAllowed, words).with("reason", reason)
        };
        for (i, f) in defs.iter().enumerate() {
            let at = |attr: &str| format!("fields.{i}.{attr}");
            if let Err(p) = valid_key(&f.key) {
                errors.push(p.at(at("key")));
            }
            if defs[..i].iter().any(|g| g.key == f.key) {
                errors.push(
                    Issue::new(FieldCode::Duplicate, format!("\"{}\" is used twice", f.key))
                        .with("value", f.key.as_str())
                        .at(at("key")),
                );
            }
            if f.label.zh_cn.trim().is_empty() && f.label.en.trim().is_empty() {
                errors.push(
                    Issue::new(FieldCode::Required, "needs a label in zh-CN or en").at(at("label")),
                );
            }
            if f.label.zh_cn.chars().count() > 100 || f.label.en.chars().count() > 100 {
                errors.push(Issue::too_long(100).at(at("label")));
            }
            let numeric = f.ty.is_number();
            if (f.minimum.is_some() || f.maximum.is_some()) && !numeric {
                errors.push(
                    rule(
                        "bounds_need_number",
                        "minimum and maximum apply to integer and decimal fields only",
                    )
                    .at(at("minimum")),
                );
            }
            if let (Some(lo), Some(hi)) = (f.minimum, f.maximum) {
                if lo > hi {
                    errors.push(
                        Issue::new(FieldCode::BeforeStart, "must not be below minimum")
                            .with("field", "minimum")
                            .at(at("maximum")),
                    );
                }
            }
            let texty = f.ty.is_text();
            if (f.min_length.is_some() || f.max_length.is_some() || f.pattern.is_some()) && !texty {
                errors.push(
                    rule(
                        "lengths_need_text",
                        "lengths and patterns apply to text fields only",
                    )
                    .at(at("max_length")),
                );
            }
            if let (Some(lo), Some(hi)) = (f.min_length, f.max_length) {
                if lo > hi {
                    errors.push(
                        Issue::new(FieldCode::BeforeStart, "must not be below min_length")
                            .with("field", "min_length")
                            .at(at("max_length")),
                    );
                }
            }
            if f.max_length.is_some_and(|m| m > 20_000) {
                errors.push(
                    Issue::new(FieldCode::TooLarge, "must be at most 20000")
                        .with("max", 20_000)
                        .at(at("max_length")),
                );
            }
            if let Some(p) = &f.pattern {
                if p.len() > 500 {
                    errors.push(Issue::too_long(500).at(at("pattern")));
                } else if jsonschema::validator_for(&json!({ "pattern": p })).is_err() {
                    errors.push(
                        Issue::invalid_format("regex", "is not a valid regular expression")
                            .at(at("pattern")),
                    );
                }
            }
            if f.member_editable && !f.member_visible {
                errors.push(
                    rule(
                        "editable_needs_visible",
                        "a field members may edit must be visible to them",
                    )
                    .at(at("member_visible")),
                );
            }
            let select = matches!(f.ty, FieldType::SingleSelect | FieldType::MultiSelect);
            if select && f.options.is_empty() {
                errors.push(
                    Issue::new(FieldCode::Required, "a select field needs options")
                        .at(at("options")),
                );
            }
            if !select && !f.options.is_empty() {
                errors.push(
                    rule("options_need_select", "only select fields have options")
                        .at(at("options")),
                );
            }
            for (j, o) in f.options.iter().enumerate() {
                if o.value.is_empty() || o.value.chars().count() > 100 {
                    errors.push(
                        Issue::new(FieldCode::LengthBetween, "must be 1 to 100 characters")
                            .with("min", 1)
                            .with("max", 100)
                            .at(format!("fields.{i}.options.{j}.value")),
                    );
                }
                if f.options[..j].iter().any(|p| p.value == o.value) {
                    errors.push(
                        Issue::new(FieldCode::Duplicate, "is used twice")
                            .with("value", o.value.as_str())
                            .at(format!("fields.{i}.options.{j}.value")),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(Self { fields: defs })
        } else {
            Err(errors)
        }
    }

    /// Fields that accept values.
    pub fn active(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| !f.archived)
    }

    pub fn get(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The fields members see in the portal (and fill when they register): staff-only
    /// fields are left out, so the schema, the UI schema and the validator of the result
    /// know nothing of them.
    pub fn for_members(&self) -> FieldSet {
        FieldSet {
            fields: self
                .fields
                .iter()
                .filter(|f| f.member_visible)
                .cloned()
                .collect(),
        }
    }

    /// The next version: `defs` as sent, plus every field of `self` that `defs` leaves out,
    /// kept as archived so its values stay readable.
    pub fn evolve(&self, defs: Vec<FieldDef>) -> Result<FieldSet, Vec<FieldError>> {
        let mut next = FieldSet::parse(
            defs.into_iter()
                .map(|mut f| {
                    f.archived = false;
                    f
                })
                .collect(),
        )?;
        for old in &self.fields {
            if next.get(&old.key).is_none() {
                let mut kept = old.clone();
                kept.archived = true;
                next.fields.push(kept);
            }
        }
        Ok(next)
    }

    /// Keys of active fields whose constraints in `self` may reject values that were valid
    /// under `old`: new required fields, narrowed types, tightened limits, removed options.
    pub fn tightened_since(&self, old: &FieldSet) -> Vec<String> {
        let mut keys = Vec::new();
        for f in self.active() {
            let Some(o) = old.get(&f.key) else {
                if f.required {
                    keys.push(f.key.clone());
                }
                continue;
            };
            let narrowed = o.archived // coming back: old values were never checked against it
                || !o.ty.widens_to(f.ty)
                || (f.required && !o.required)
                || tighter_min(o.minimum, f.minimum)
                || tighter_max(o.maximum, f.maximum)
                || tighter_min(o.min_length.map(|v| v as f64), f.min_length.map(|v| v as f64))
                || tighter_max(
                    Some(o.max_length.unwrap_or(o.ty.default_max_length()) as f64),
                    Some(f.max_length.unwrap_or(f.ty.default_max_length()) as f64),
                )
                || (f.pattern.is_some() && f.pattern != o.pattern)
                || o.options.iter().any(|opt| !f.options.iter().any(|n| n.value == opt.value));
            if narrowed {
                keys.push(f.key.clone());
            }
        }
        keys
    }

    /// The JSON Schema (draft 2020-12) values must satisfy. Archived fields are not in it:
    /// their stored values are kept but no longer written.
    pub fn json_schema(&self) -> Value {
        let mut props = Map::new();
        let mut required = Vec::new();
        for f in self.active() {
            let mut p = Map::new();
            let title = if f.label.en.is_empty() {
                &f.label.zh_cn
            } else {
                &f.label.en
            };
            p.insert("title".into(), json!(title));
            match f.ty {
                FieldType::Text | FieldType::LongText | FieldType::Phone | FieldType::Email => {
                    p.insert("type".into(), json!("string"));
                    p.insert(
                        "maxLength".into(),
                        json!(f.max_length.unwrap_or(f.ty.default_max_length())),
                    );
                    if let Some(m) = f.min_length {
                        p.insert("minLength".into(), json!(m));
                    }
                    if let Some(pat) = &f.pattern {
                        p.insert("pattern".into(), json!(pat));
                    }
                    if f.ty == FieldType::Email {
                        p.insert("format".into(), json!("email"));
                    }
                }
                FieldType::Integer | FieldType::Decimal => {
                    p.insert(
                        "type".into(),
                        json!(if f.ty == FieldType::Integer {
                            "integer"
                        } else {
                            "number"
                        }),
                    );
                    if let Some(m) = f.minimum {
                        p.insert("minimum".into(), json!(m));
                    }
                    if let Some(m) = f.maximum {
                        p.insert("maximum".into(), json!(m));
                    }
                }
                FieldType::Date => {
                    p.insert("type".into(), json!("string"));
                    p.insert("format".into(), json!("date"));
                }
                FieldType::Boolean => {
                    p.insert("type".into(), json!("boolean"));
                }
                FieldType::SingleSelect => {
                    p.insert("type".into(), json!("string"));
                    p.insert(
                        "enum".into(),
                        json!(f.options.iter().map(|o| &o.value).collect::<Vec<_>>()),
                    );
                }
                FieldType::MultiSelect => {
                    p.insert("type".into(), json!("array"));
                    p.insert("uniqueItems".into(), json!(true));
                    p.insert(
                        "items".into(),
                        json!({ "type": "string", "enum": f.options.iter().map(|o| &o.value).collect::<Vec<_>>() }),
                    );
                }
            }
            props.insert(f.key.clone(), Value::Object(p));
            if f.required {
                required.push(f.key.clone());
            }
        }
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// The react-jsonschema-form UI schema: order, widgets, labels and help in both locales.
    pub fn ui_schema(&self) -> Value {
        let mut ui = Map::new();
        let order: Vec<&str> = self.active().map(|f| f.key.as_str()).collect();
        ui.insert("ui:order".into(), json!(order));
        for f in self.active() {
            let mut u = Map::new();
            let widget = match f.ty {
                FieldType::LongText => Some("textarea"),
                FieldType::Date => Some("date"),
                FieldType::Boolean => Some("checkbox"),
                FieldType::SingleSelect => Some("select"),
                FieldType::MultiSelect => Some("checkboxes"),
                FieldType::Email => Some("email"),
                FieldType::Phone => Some("tel"),
                _ => None,
            };
            if let Some(w) = widget {
                u.insert("ui:widget".into(), json!(w));
            }
            if let Some(h) = &f.help {
                u.insert(
                    "ui:help".into(),
                    json!(if h.en.is_empty() { &h.zh_cn } else { &h.en }),
                );
            }
            u.insert(
                "ui:options".into(),
                json!({
                    "labels": f.label,
                    "help": f.help,
                    "memberVisible": f.member_visible,
                    "memberEditable": f.member_editable,
                    "enumLabels": f.options.iter().map(|o| (o.value.clone(), o.label.clone())).collect::<std::collections::BTreeMap<_, _>>(),
                }),
            );
            ui.insert(f.key.clone(), Value::Object(u));
        }
        Value::Object(ui)
    }

    /// A validator for this version's values.
    pub fn validator(&self) -> Result<CustomValidator, String> {
        let v = jsonschema::options()
            .should_validate_formats(true)
            .build(&self.json_schema())
            .map_err(|e| e.to_string())?;
        Ok(CustomValidator {
            schema: v,
            fields: self.clone(),
        })
    }
}

fn tighter_min(old: Option<f64>, new: Option<f64>) -> bool {
    match (old, new) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(o), Some(n)) => n > o,
    }
}

fn tighter_max(old: Option<f64>, new: Option<f64>) -> bool {
    match (old, new) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(o), Some(n)) => n < o,
    }
}

/// A compiled schema for one version, plus the definitions for checks JSON Schema lacks
/// (phone numbers).
pub struct CustomValidator {
    schema: jsonschema::Validator,
    fields: FieldSet,
}

/// How values are being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A whole new set of values (registration, import): everything is checked.
    Create,
    /// An edit: only the keys being written are checked, so values accepted under an earlier
    /// version ("apply to new writes only") do not block unrelated edits.
    Patch,
}

impl CustomValidator {
    pub fn fields(&self) -> &FieldSet {
        &self.fields
    }

    /// Checks and normalises the custom values `changes` about to be merged over `current`.
    /// `null` removes a value. Returns the merged object. Error paths are `<prefix><key>`.
    pub fn apply(
        &self,
        current: &Map<String, Value>,
        changes: &Map<String, Value>,
        kind: WriteKind,
        phone_region: &str,
        prefix: &str,
    ) -> Result<Map<String, Value>, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut merged = current.clone();
        for (k, v) in changes {
            match self.fields.get(k) {
                None => errors.push(
                    Issue::unknown(k, "is not a field of this business").at(format!("{prefix}{k}")),
                ),
                Some(f) if f.archived => errors.push(
                    Issue::new(
                        FieldCode::NotAllowed,
                        "is archived: its values can be read but no longer written",
                    )
                    .with("reason", "archived")
                    .at(format!("{prefix}{k}")),
                ),
                Some(f) => {
                    if v.is_null() {
                        merged.remove(k);
                    } else if f.ty == FieldType::Phone {
                        match v
                            .as_str()
                            .map(|s| crate::members::Phone::parse(s, phone_region))
                        {
                            Some(Ok(p)) => {
                                merged.insert(k.clone(), Value::String(p.e164().to_owned()));
                            }
                            Some(Err(e)) => errors.push(e.at(format!("{prefix}{k}"))),
                            None => errors.push(
                                Issue::new(FieldCode::NotAPhone, "must be a phone number as text")
                                    .at(format!("{prefix}{k}")),
                            ),
                        }
                    } else {
                        merged.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        // Archived values ride along untouched and unchecked.
        let mut active = Map::new();
        for (k, v) in &merged {
            if self.fields.get(k).is_some_and(|f| !f.archived) {
                active.insert(k.clone(), v.clone());
            }
        }
        let instance = Value::Object(active);
        for e in self.schema.iter_errors(&instance) {
            let (key, problem) = match &e.kind {
                jsonschema::error::ValidationErrorKind::Required { property } => (
                    property.as_str().unwrap_or("").to_owned(),
                    Issue::new(FieldCode::Required, "is required"),
                ),
                _ => {
                    let path = e.instance_path.as_str().trim_start_matches('/');
                    let key = path.split('/').next().unwrap_or("").to_owned();
                    (key, describe(&e))
                }
            };
            let counts = match kind {
                WriteKind::Create => true,
                WriteKind::Patch => changes.contains_key(&key),
            };
            let path = format!("{prefix}{key}");
            if counts && !errors.iter().any(|e| e.field == path) {
                errors.push(problem.at(path));
            }
        }
        if errors.is_empty() {
            Ok(merged)
        } else {
            Err(errors)
        }
    }

    /// Whether stored values satisfy this version (for the publish report).
    pub fn violations(&self, values: &Map<String, Value>) -> Vec<String> {
        let active: Map<String, Value> = values
            .iter()
            .filter(|(k, _)| self.fields.get(k).is_some_and(|f| !f.archived))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let instance = Value::Object(active);
        let mut keys: Vec<String> = self
            .schema
            .iter_errors(&instance)
            .map(|e| match &e.kind {
                jsonschema::error::ValidationErrorKind::Required { property } => {
                    property.as_str().unwrap_or("").to_owned()
                }
                _ => e
                    .instance_path
                    .as_str()
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// A short, stable description of a schema violation (without echoing the whole value).
fn describe(e: &jsonschema::ValidationError<'_>) -> Issue {
    use jsonschema::error::ValidationErrorKind as K;
    match &e.kind {
        K::Type { .. } => Issue::invalid_format("type", "has the wrong type"),
        K::MaxLength { limit } => Issue::too_long(*limit as usize),
        K::MinLength { limit } => Issue::too_short(*limit as usize),
        K::Minimum { limit } => {
            Issue::new(FieldCode::TooSmall, format!("must be at least {limit}"))
                .with("min", limit.clone())
        }
        K::Maximum { limit } => Issue::new(FieldCode::TooLarge, format!("must be at most {limit}"))
            .with("max", limit.clone()),
        K::Pattern { pattern } => {
            Issue::invalid_format("pattern", format!("must match the pattern {pattern}"))
                .with("pattern", pattern.as_str())
        }
        K::Enum { .. } => Issue::new(FieldCode::NotOneOf, "is not one of the options"),
        K::Format { format } => Issue::invalid_format(format, format!("is not a valid {format}")),
        K::UniqueItems => Issue::new(FieldCode::Duplicate, "lists an option twice"),
        _ => {
            let s = e.to_string();
            let words = if s.len() > 200 {
                format!(
                    "{}…",
                    &s[..s.char_indices().nth(150).map_or(s.len(), |(i, _)| i)]
                )
            } else {
                s
            };
            Issue::new(FieldCode::DoesNotFit, words)
        }
    }
}

#[cfg(test)]
mod tests;
