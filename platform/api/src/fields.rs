//! Member fields: read the tenant's current field schema (JSON Schema + UI schema), check a
//! draft without saving it, and publish a new version without losing stored values.

use crate::edge::auth::TenantAuth;
use crate::edge::error::{ApiError, FieldProblem};
use crate::edge::gate::needs_custom_fields;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_core::access::Permission;
use patron_core::fields::{self as core_fields, FieldSet};
use patron_core::FieldError;
use patron_db::{fields, TenantTx};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The member fields each business designs.
    Fields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum FieldTypeDto {
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

impl From<FieldTypeDto> for core_fields::FieldType {
    fn from(t: FieldTypeDto) -> Self {
        use core_fields::FieldType as F;
        match t {
            FieldTypeDto::Text => F::Text,
            FieldTypeDto::LongText => F::LongText,
            FieldTypeDto::Integer => F::Integer,
            FieldTypeDto::Decimal => F::Decimal,
            FieldTypeDto::Date => F::Date,
            FieldTypeDto::Boolean => F::Boolean,
            FieldTypeDto::SingleSelect => F::SingleSelect,
            FieldTypeDto::MultiSelect => F::MultiSelect,
            FieldTypeDto::Phone => F::Phone,
            FieldTypeDto::Email => F::Email,
        }
    }
}

impl From<core_fields::FieldType> for FieldTypeDto {
    fn from(t: core_fields::FieldType) -> Self {
        use core_fields::FieldType as F;
        match t {
            F::Text => Self::Text,
            F::LongText => Self::LongText,
            F::Integer => Self::Integer,
            F::Decimal => Self::Decimal,
            F::Date => Self::Date,
            F::Boolean => Self::Boolean,
            F::SingleSelect => Self::SingleSelect,
            F::MultiSelect => Self::MultiSelect,
            F::Phone => Self::Phone,
            F::Email => Self::Email,
        }
    }
}

/// A text in each locale.
#[derive(Debug, Clone, Object, Default)]
#[oai(deny_unknown_fields)]
pub struct LabelsDto {
    #[oai(rename = "zh-CN", default, validator(max_length = 200))]
    pub zh_cn: String,
    #[oai(default, validator(max_length = 200))]
    pub en: String,
}

#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct OptionDto {
    #[oai(validator(max_length = 200))]
    pub value: String,
    pub label: LabelsDto,
}

/// One custom field.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct FieldDto {
    /// Stable key: lowercase letters, digits, underscores.
    #[oai(validator(max_length = 100))]
    pub key: String,
    #[oai(rename = "type")]
    pub ty: FieldTypeDto,
    pub label: LabelsDto,
    #[oai(default)]
    pub required: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    #[oai(validator(max_length = 1000))]
    pub pattern: Option<String>,
    #[oai(default, validator(max_items = 500))]
    pub options: Vec<OptionDto>,
    /// Whether members may edit this field in the portal.
    #[oai(default)]
    pub member_editable: bool,
    pub help: Option<LabelsDto>,
    /// Read-only: set on fields removed in a later version (values kept, not writable).
    #[oai(default, read_only)]
    pub archived: bool,
}

fn labels_in(l: LabelsDto) -> core_fields::Labels {
    core_fields::Labels {
        zh_cn: l.zh_cn,
        en: l.en,
    }
}

fn labels_out(l: &core_fields::Labels) -> LabelsDto {
    LabelsDto {
        zh_cn: l.zh_cn.clone(),
        en: l.en.clone(),
    }
}

impl From<FieldDto> for core_fields::FieldDef {
    fn from(f: FieldDto) -> Self {
        Self {
            key: f.key,
            ty: f.ty.into(),
            label: labels_in(f.label),
            required: f.required,
            minimum: f.minimum,
            maximum: f.maximum,
            min_length: f.min_length,
            max_length: f.max_length,
            pattern: f.pattern,
            options: f
                .options
                .into_iter()
                .map(|o| core_fields::FieldOption {
                    value: o.value,
                    label: labels_in(o.label),
                })
                .collect(),
            member_editable: f.member_editable,
            help: f.help.map(labels_in),
            archived: false,
        }
    }
}

impl From<&core_fields::FieldDef> for FieldDto {
    fn from(f: &core_fields::FieldDef) -> Self {
        Self {
            key: f.key.clone(),
            ty: f.ty.into(),
            label: labels_out(&f.label),
            required: f.required,
            minimum: f.minimum,
            maximum: f.maximum,
            min_length: f.min_length,
            max_length: f.max_length,
            pattern: f.pattern.clone(),
            options: f
                .options
                .iter()
                .map(|o| OptionDto {
                    value: o.value.clone(),
                    label: labels_out(&o.label),
                })
                .collect(),
            member_editable: f.member_editable,
            help: f.help.as_ref().map(labels_out),
            archived: f.archived,
        }
    }
}

/// A built-in field every business has.
#[derive(Debug, Object)]
pub struct BuiltinField {
    pub key: String,
    #[oai(rename = "type")]
    pub ty: String,
    pub label: LabelsDto,
}

/// The field schema in force.
#[derive(Debug, Object)]
pub struct FieldsView {
    /// 0 until the first version is published.
    pub version: i32,
    /// Custom fields accepting values, in form order.
    pub fields: Vec<FieldDto>,
    /// Fields removed by a later version: their values are kept and shown, not written.
    pub archived: Vec<FieldDto>,
    pub builtin: Vec<BuiltinField>,
    /// JSON Schema (2020-12) of the custom values.
    pub json_schema: Value,
    /// react-jsonschema-form UI schema.
    pub ui_schema: Value,
    pub published_at: Option<DateTime<Utc>>,
    pub published_by: Option<String>,
}

/// What to do about stored values a new version would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[oai(rename_all = "snake_case")]
pub enum OnConflict {
    /// Refuse to publish and report the members concerned.
    #[default]
    Refuse,
    /// Publish; existing values stay as they are and only new writes must satisfy the new
    /// rules.
    NewWritesOnly,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct FieldsDraft {
    /// The complete list of custom fields; fields left out are archived, not deleted.
    #[oai(validator(max_items = 200))]
    pub fields: Vec<FieldDto>,
    #[oai(default)]
    pub on_conflict: OnConflict,
    /// Values given, in the same transaction, to members who have none for these fields
    /// (e.g. a field becoming required).
    #[oai(default)]
    pub defaults: BTreeMap<String, Value>,
}

/// How a draft would affect stored values.
#[derive(Debug, Object)]
pub struct ChangeReport {
    /// `field_change_conflict` when values would break.
    pub code: String,
    pub message: String,
    /// Each field whose stored values would break, and how many members hold such values.
    pub fields: Vec<FieldProblem>,
    /// How many members hold values the draft would reject.
    pub affected_members: i64,
    /// The first of them (at most 50).
    pub member_ids: Vec<Uuid>,
    /// Affected members per field.
    pub by_field: BTreeMap<String, i64>,
}

#[derive(Debug, Object)]
pub struct DraftCheck {
    pub valid: bool,
    /// Problems with the definitions themselves.
    pub errors: Vec<FieldProblem>,
    /// The schemas the draft compiles to (absent when invalid).
    pub json_schema: Option<Value>,
    pub ui_schema: Option<Value>,
    /// What publishing it would do to stored values.
    pub impact: Option<ChangeReport>,
}

#[derive(ApiResponse)]
enum Published {
    /// Returned when the new version is in force.
    #[oai(status = 201)]
    Created(Json<FieldsView>),
    /// Returned when stored values would break and the draft neither supplies defaults nor
    /// chooses `new_writes_only`: nothing was published.
    #[oai(status = 409)]
    Conflict(Json<ChangeReport>),
}

pub struct FieldsApi {
    pub state: ApiState,
}

/// The field set in force in this tenant (empty before the first publish).
pub async fn current_fields(tx: &mut TenantTx) -> Result<(i32, FieldSet), ApiError> {
    match fields::current(tx).await? {
        Some(v) => {
            let set: FieldSet =
                serde_json::from_value(v.definition).map_err(|e| ApiError::internal(&e))?;
            Ok((v.version, set))
        }
        None => Ok((0, FieldSet::default())),
    }
}

fn builtin() -> Vec<BuiltinField> {
    [
        ("name", "text", "姓名", "Name"),
        ("phone", "phone", "手机号", "Phone"),
        ("email", "email", "电子邮箱", "E-mail"),
        ("gender", "single_select", "性别", "Gender"),
        ("birthday", "date", "生日", "Birthday"),
        ("join_date", "date", "入会日期", "Join date"),
        ("home_store", "text", "所属门店", "Home store"),
        ("tags", "multi_select", "标签", "Tags"),
        ("notes", "long_text", "备注", "Notes"),
        ("referrer_id", "member", "推荐人", "Referrer"),
    ]
    .into_iter()
    .map(|(k, t, zh, en)| BuiltinField {
        key: k.into(),
        ty: t.into(),
        label: LabelsDto {
            zh_cn: zh.into(),
            en: en.into(),
        },
    })
    .collect()
}

fn view(version: i32, set: &FieldSet, meta: Option<&fields::FieldVersion>) -> FieldsView {
    FieldsView {
        version,
        fields: set.active().map(FieldDto::from).collect(),
        archived: set
            .fields
            .iter()
            .filter(|f| f.archived)
            .map(FieldDto::from)
            .collect(),
        builtin: builtin(),
        json_schema: set.json_schema(),
        ui_schema: set.ui_schema(),
        published_at: meta.map(|m| m.published_at),
        published_by: meta.map(|m| m.published_by.clone()),
    }
}

fn problems(errors: Vec<FieldError>) -> Vec<FieldProblem> {
    errors
        .into_iter()
        .map(|e| FieldProblem {
            field: e.field,
            problem: e.problem,
        })
        .collect()
}

/// Stored values the `next` version would reject, after `defaults` fill missing ones.
async fn impact(
    tx: &mut TenantTx,
    current: &FieldSet,
    next: &FieldSet,
    defaults: &BTreeMap<String, Value>,
) -> Result<ChangeReport, ApiError> {
    let tightened = next.tightened_since(current);
    let mut by_field: BTreeMap<String, i64> = BTreeMap::new();
    let mut member_ids = Vec::new();
    let mut affected = 0i64;
    if !tightened.is_empty() {
        let validator = next
            .validator()
            .map_err(|e| ApiError::invalid_field("fields", e))?;
        fields::scan_custom(tx, |id, values| {
            let mut filled = values.clone();
            for (k, v) in defaults {
                if filled.get(k).is_none_or(Value::is_null) {
                    filled.insert(k.clone(), v.clone());
                }
            }
            let bad: Vec<String> = validator
                .violations(&filled)
                .into_iter()
                .filter(|k| tightened.contains(k))
                .collect();
            if !bad.is_empty() {
                affected += 1;
                if member_ids.len() < 50 {
                    member_ids.push(id);
                }
                for k in bad {
                    *by_field.entry(k).or_default() += 1;
                }
            }
        })
        .await?;
    }
    Ok(ChangeReport {
        code: if affected > 0 {
            "field_change_conflict".into()
        } else {
            "ok".into()
        },
        message: if affected > 0 {
            format!(
                "{affected} members hold values the new version would reject; supply defaults \
                 for missing values or publish with on_conflict = new_writes_only"
            )
        } else {
            "no stored value breaks".into()
        },
        fields: by_field
            .iter()
            .map(|(k, n)| FieldProblem {
                field: format!("custom.{k}"),
                problem: format!("{n} members hold values this version rejects"),
            })
            .collect(),
        affected_members: affected,
        member_ids,
        by_field,
    })
}

/// Checks defaults against the draft: known active fields, valid values.
fn check_defaults(
    next: &FieldSet,
    defaults: &BTreeMap<String, Value>,
    region: &str,
) -> Result<(), ApiError> {
    if defaults.is_empty() {
        return Ok(());
    }
    let validator = next
        .validator()
        .map_err(|e| ApiError::invalid_field("fields", e))?;
    let changes: serde_json::Map<String, Value> = defaults
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    validator
        .apply(
            &serde_json::Map::new(),
            &changes,
            core_fields::WriteKind::Patch,
            region,
            "defaults.",
        )
        .map(|_| ())
        .map_err(ApiError::invalid)
}

#[OpenApi(tag = "Tag::Fields")]
impl FieldsApi {
    /// The member fields in force: custom fields, archived ones, built-ins, and the JSON
    /// Schema and UI schema to render the form.
    #[oai(path = "/fields", method = "get", operation_id = "getFields")]
    async fn get(&self, auth: TenantAuth) -> Result<Json<FieldsView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let meta = fields::current(&mut tx).await?;
        let (version, set) = current_fields(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(view(version, &set, meta.as_ref())))
    }

    /// Check a draft without saving it: definition errors with paths, the schemas it
    /// compiles to, and which stored values it would break.
    #[oai(
        path = "/fields/validate",
        method = "post",
        operation_id = "validateFields",
        transform = "needs_custom_fields"
    )]
    async fn validate(
        &self,
        auth: TenantAuth,
        req: Json<FieldsDraft>,
    ) -> Result<Json<DraftCheck>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::FieldsManage))
            .await?;
        let (_, current) = current_fields(&mut tx).await?;
        let draft = req.0;
        let next = match current.evolve(draft.fields.into_iter().map(Into::into).collect()) {
            Ok(n) => n,
            Err(errors) => {
                return Ok(Json(DraftCheck {
                    valid: false,
                    errors: problems(errors),
                    json_schema: None,
                    ui_schema: None,
                    impact: None,
                }))
            }
        };
        if let Err(ApiError::Invalid(p)) =
            check_defaults(&next, &draft.defaults, &me.tenant.settings.phone_region)
        {
            return Ok(Json(DraftCheck {
                valid: false,
                errors: p.0.fields,
                json_schema: Some(next.json_schema()),
                ui_schema: Some(next.ui_schema()),
                impact: None,
            }));
        }
        let report = impact(&mut tx, &current, &next, &draft.defaults).await?;
        tx.commit().await?;
        Ok(Json(DraftCheck {
            valid: true,
            errors: Vec::new(),
            json_schema: Some(next.json_schema()),
            ui_schema: Some(next.ui_schema()),
            impact: Some(report),
        }))
    }

    /// Publish a new version. Fields left out are archived (values kept). When stored
    /// values would break, nothing is published (409 with a report) unless `defaults` fill
    /// them or `on_conflict` is `new_writes_only`.
    #[oai(
        path = "/fields/versions",
        method = "post",
        operation_id = "publishFields",
        transform = "needs_custom_fields"
    )]
    async fn publish(
        &self,
        auth: TenantAuth,
        req: Json<FieldsDraft>,
    ) -> Result<Published, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::FieldsManage))
            .await?;
        fields::lock(&mut tx).await?;
        let (version, current) = current_fields(&mut tx).await?;
        let draft = req.0;
        let next = current
            .evolve(draft.fields.into_iter().map(Into::into).collect())
            .map_err(ApiError::invalid)?;
        check_defaults(&next, &draft.defaults, &me.tenant.settings.phone_region)?;
        let report = impact(&mut tx, &current, &next, &draft.defaults).await?;
        if report.affected_members > 0 && draft.on_conflict == OnConflict::Refuse {
            return Ok(Published::Conflict(Json(report)));
        }
        let now = self.state.now();
        let subject = me.subject();
        let mut filled = BTreeMap::new();
        for (k, v) in &draft.defaults {
            let v = match next.get(k).map(|f| f.ty) {
                // Defaults go through the same normalisation as any write.
                Some(core_fields::FieldType::Phone) => Value::String(
                    patron_core::members::Phone::parse(
                        v.as_str().unwrap_or(""),
                        &me.tenant.settings.phone_region,
                    )
                    .map_err(|p| ApiError::invalid_field(&format!("defaults.{k}"), p))?
                    .e164()
                    .to_owned(),
                ),
                _ => v.clone(),
            };
            let n = fields::backfill(&mut tx, k, &v, &subject, now).await?;
            filled.insert(k.clone(), n);
        }
        let row = fields::FieldVersion {
            version: version + 1,
            definition: serde_json::to_value(&next).map_err(|e| ApiError::internal(&e))?,
            json_schema: next.json_schema(),
            ui_schema: next.ui_schema(),
            mode: match draft.on_conflict {
                OnConflict::Refuse => "strict".into(),
                OnConflict::NewWritesOnly => "new_writes_only".into(),
            },
            published_by: subject.clone(),
            published_at: now,
        };
        fields::insert(&mut tx, &row).await?;
        for f in next.active() {
            match f.ty {
                core_fields::FieldType::Integer | core_fields::FieldType::Decimal => {
                    patron_db::members::index_custom_field(&mut tx, &f.key, true).await?
                }
                core_fields::FieldType::Date => {
                    patron_db::members::index_custom_field(&mut tx, &f.key, false).await?
                }
                _ => {}
            }
        }
        patron_db::audit::record(
            &mut tx,
            now,
            &subject,
            "fields.published",
            &row.version.to_string(),
            serde_json::json!({ "mode": row.mode, "backfilled": filled, "affected_members": report.affected_members }),
        )
        .await?;
        tx.commit().await?;
        Ok(Published::Created(Json(view(
            row.version,
            &next,
            Some(&row),
        ))))
    }
}
