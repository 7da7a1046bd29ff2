//! Member fields: read the tenant's current field schema (JSON Schema + UI schema), check a
//! draft without saving it, and publish a new version without losing stored values. The
//! use cases are `patron_app::fields`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::{ApiError, FieldProblem};
use crate::edge::gate::needs_custom_fields;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::fields::{self as app_fields, Draft, DraftCheck, Impact, Publication};
use patron_core::access::Permission;
use patron_core::fields::{self as core_fields, FieldSet};
use patron_core::FieldError;
use patron_db::fields;
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
    /// Whether members see this field in the portal and fill it when they register
    /// (true when left out). Neither this nor `member_editable`: a staff-only field.
    #[oai(default = "visible_by_default")]
    pub member_visible: bool,
    /// Whether members may edit this field in the portal (needs `member_visible`).
    #[oai(default)]
    pub member_editable: bool,
    pub help: Option<LabelsDto>,
    /// Read-only: set on fields removed in a later version (values kept, not writable).
    #[oai(default, read_only)]
    pub archived: bool,
}

fn visible_by_default() -> bool {
    true
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
            member_visible: f.member_visible,
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
            member_visible: f.member_visible,
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
#[oai(rename = "DraftCheck")]
pub struct DraftCheckView {
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
    errors.into_iter().map(FieldProblem::from).collect()
}

fn report(i: Impact) -> ChangeReport {
    ChangeReport {
        code: i.code().into(),
        message: i.message(),
        fields: problems(i.problems()),
        affected_members: i.affected_members,
        member_ids: i.member_ids,
        by_field: i.by_field,
    }
}

impl From<FieldsDraft> for Draft {
    fn from(d: FieldsDraft) -> Self {
        Self {
            fields: d.fields.into_iter().map(Into::into).collect(),
            on_conflict: match d.on_conflict {
                OnConflict::Refuse => app_fields::OnConflict::Refuse,
                OnConflict::NewWritesOnly => app_fields::OnConflict::NewWritesOnly,
            },
            defaults: d.defaults,
        }
    }
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
        let (version, set, meta) = app_fields::current(&mut tx).await?;
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
    ) -> Result<Json<DraftCheckView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::FieldsManage))
            .await?;
        let checked =
            app_fields::check_draft(&mut tx, req.0.into(), &me.tenant.settings.phone_region)
                .await?;
        Ok(Json(match checked {
            DraftCheck::Invalid { errors, next: None } => DraftCheckView {
                valid: false,
                errors: problems(errors),
                json_schema: None,
                ui_schema: None,
                impact: None,
            },
            DraftCheck::Invalid {
                errors,
                next: Some(next),
            } => DraftCheckView {
                valid: false,
                errors: problems(errors),
                json_schema: Some(next.json_schema()),
                ui_schema: Some(next.ui_schema()),
                impact: None,
            },
            DraftCheck::Valid { next, impact } => {
                tx.commit().await?;
                DraftCheckView {
                    valid: true,
                    errors: Vec::new(),
                    json_schema: Some(next.json_schema()),
                    ui_schema: Some(next.ui_schema()),
                    impact: Some(report(impact)),
                }
            }
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
        let published = app_fields::publish(
            &mut tx,
            req.0.into(),
            &me.tenant.settings.phone_region,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        match published {
            Publication::Refused(impact) => Ok(Published::Conflict(Json(report(impact)))),
            Publication::Published { set, row } => {
                tx.commit().await?;
                Ok(Published::Created(Json(view(
                    row.version,
                    &set,
                    Some(&row),
                ))))
            }
        }
    }
}
