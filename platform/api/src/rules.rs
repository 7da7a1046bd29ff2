//! Point rules' lifecycle: draft, validate (compile errors with line and column), simulate
//! against given events or recent purchases, publish as a new version, roll back to any
//! earlier one. Templates are forms that generate a rule the admin can open and edit.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use crate::edge::views::{PointReasonView, RuleFailureView};
use chrono::{DateTime, Utc};
use patron_app::rules::{self as app, lifecycle, simulate as sim};
use patron_core::access::Permission;
use patron_core::lang::Lang;
use patron_core::rules::templates::Template;
use patron_db::rules;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde_json::Value;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Point rules: drafts, validation, simulation, versions, templates.
    Rules,
}

#[derive(Debug, Object)]
pub struct VersionView {
    pub version: i32,
    pub trigger: String,
    pub script: String,
    /// The template form it was generated from, when it was.
    pub template: Option<Value>,
    pub note: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    /// Whether this version is the one in force.
    pub active: bool,
}

#[derive(Debug, Object)]
pub struct DraftView {
    pub trigger: String,
    pub script: String,
    pub template: Option<Value>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    /// The draft's compile error, if it has one.
    pub compile_error: Option<RuleFailureView>,
}

#[derive(Debug, Object)]
pub struct TriggerRules {
    pub trigger: String,
    /// The version in force.
    pub active_version: Option<i32>,
    pub activated_at: Option<DateTime<Utc>>,
    pub draft: Option<DraftView>,
}

#[derive(Debug, Object)]
pub struct RulesOverview {
    pub triggers: Vec<TriggerRules>,
}

/// A draft: a script, or a template form (the script is generated from it).
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct DraftInput {
    #[oai(validator(max_length = 65536))]
    pub script: Option<String>,
    pub template: Option<Value>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ValidateInput {
    #[oai(validator(max_length = 65536))]
    pub script: String,
}

#[derive(Debug, Object)]
pub struct Validation {
    pub ok: bool,
    /// The compile error, with line and column.
    pub error: Option<RuleFailureView>,
}

/// Publish: the given script or template, or else the trigger's draft.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PublishInput {
    #[oai(validator(max_length = 65536))]
    pub script: Option<String>,
    pub template: Option<Value>,
    #[oai(default, validator(max_length = 500))]
    pub note: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RollbackInput {
    pub version: i32,
}

/// A purchase (or other event) to simulate with.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct SimEvent {
    /// The event as a rule sees it (`amount`, `items`, `store`, `time`...); `kind` defaults
    /// to the trigger's.
    pub event: Value,
    /// The member as a rule sees it; defaults to an empty member. Alternatively...
    pub member: Option<Value>,
    /// ... a real member, as they are now.
    pub member_id: Option<Uuid>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SimulateInput {
    /// Defaults to `purchase`.
    #[oai(validator(max_length = 50))]
    pub trigger: Option<String>,
    /// The draft to try; defaults to the trigger's saved draft.
    #[oai(validator(max_length = 65536))]
    pub script: Option<String>,
    pub template: Option<Value>,
    /// Events to try it on ...
    #[oai(default, validator(max_items = 1000))]
    pub events: Vec<SimEvent>,
    /// ... and/or the business's last N purchases (at most 10,000), each with its member
    /// as they are now.
    pub last_purchases: Option<i64>,
}

#[derive(Debug, Object)]
pub struct SimCase {
    /// Index in `events`, then the recent purchases in order.
    pub index: i64,
    pub purchase_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub draft_points: i64,
    pub active_points: i64,
    pub difference: i64,
    pub draft_reasons: Vec<PointReasonView>,
    pub draft_error: Option<RuleFailureView>,
    pub active_error: Option<RuleFailureView>,
}

#[derive(Debug, Object)]
pub struct SimMember {
    pub member_id: Uuid,
    pub draft_points: i64,
    pub active_points: i64,
    pub difference: i64,
}

#[derive(Debug, Object)]
pub struct SimTotals {
    pub cases: i64,
    pub draft_points: i64,
    pub active_points: i64,
    pub difference: i64,
    pub draft_errors: i64,
    pub active_errors: i64,
    /// Cases whose points differ.
    pub changed: i64,
}

#[derive(Debug, Object)]
pub struct Simulation {
    pub trigger: String,
    /// The version compared against (none in force: every case's active points are 0).
    pub active_version: Option<i32>,
    pub totals: SimTotals,
    /// The members whose points change most (up to 20), largest change first.
    pub most_affected: Vec<SimMember>,
    /// Per case; at most the first 1,000.
    pub cases: Vec<SimCase>,
}

#[derive(Debug, Object)]
pub struct TemplateCatalog {
    /// Each template: its kind, title and the JSON Schema of its form.
    pub templates: Value,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RenderInput {
    pub template: Value,
}

#[derive(Debug, Object)]
pub struct Rendered {
    pub script: String,
}

pub struct RulesApi {
    pub state: ApiState,
}

fn draft_view(d: lifecycle::CheckedDraft) -> DraftView {
    DraftView {
        trigger: d.draft.trigger,
        script: d.draft.script,
        template: d.draft.template,
        updated_by: d.draft.updated_by,
        updated_at: d.draft.updated_at,
        compile_error: d.compile_error.map(Into::into),
    }
}

#[OpenApi(tag = "Tag::Rules")]
impl RulesApi {
    /// Every trigger with a rule in force or a draft.
    #[oai(path = "/rules", method = "get", operation_id = "listRules")]
    async fn overview(&self, auth: TenantAuth) -> Result<Json<RulesOverview>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RulesRead))
            .await?;
        let triggers = lifecycle::overview(tx, &self.state.rules, me.tenant.id).await?;
        Ok(Json(RulesOverview {
            triggers: triggers
                .into_iter()
                .map(|t| TriggerRules {
                    trigger: t.trigger,
                    active_version: t.active_version,
                    activated_at: t.activated_at,
                    draft: t.draft.map(draft_view),
                })
                .collect(),
        }))
    }

    /// Save a trigger's draft: a script, or a template form (the script is generated and
    /// can then be edited). A draft may not compile yet; the answer says where it fails.
    #[oai(
        path = "/rules/:trigger/draft",
        method = "put",
        operation_id = "saveRuleDraft"
    )]
    async fn save_draft(
        &self,
        auth: TenantAuth,
        trigger: Path<String>,
        req: Json<DraftInput>,
    ) -> Result<Json<DraftView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RulesWrite))
            .await?;
        let trigger = app::trigger_of(&trigger.0)?;
        let subject = me.subject();
        let who = lifecycle::Acting {
            tenant: me.tenant.id,
            plan: &me.plan,
            subject: &subject,
            lang: Lang::parse(&me.tenant.settings.locale).unwrap_or_default(),
        };
        let input = lifecycle::DraftInput {
            script: req.0.script,
            template: req.0.template,
        };
        let d = lifecycle::save_draft(
            tx,
            &self.state.rules,
            &who,
            &trigger,
            input,
            self.state.now(),
        )
        .await?;
        Ok(Json(draft_view(d)))
    }

    /// Compile a script: `ok`, or the error with line and column.
    #[oai(
        path = "/rules/validate",
        method = "post",
        operation_id = "validateRule"
    )]
    async fn validate(
        &self,
        auth: TenantAuth,
        req: Json<ValidateInput>,
    ) -> Result<Json<Validation>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RulesWrite))
            .await?;
        drop(tx);
        app::check_script(&req.0.script, "script")?;
        let error = app::compile(&self.state.rules, me.tenant.id, &req.0.script).await?;
        Ok(Json(Validation {
            ok: error.is_none(),
            error: error.map(Into::into),
        }))
    }

    /// Try a draft against given events and/or recent purchases, next to the version in
    /// force. Nothing is written.
    #[oai(
        path = "/rules/simulate",
        method = "post",
        operation_id = "simulateRule"
    )]
    async fn simulate(
        &self,
        auth: TenantAuth,
        req: Json<SimulateInput>,
    ) -> Result<Json<Simulation>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RulesWrite))
            .await?;
        let r = sim::simulate(
            tx,
            &self.state.rules,
            &me.tenant,
            req.0.into(),
            self.state.now(),
        )
        .await?;
        Ok(Json(r.into()))
    }

    /// Publish a new version of a trigger's rule and put it in force (the given script or
    /// template, else the draft). It must compile. A script written or edited by hand
    /// needs the plan feature `rule_scripts`; one generated from a template does not.
    #[oai(
        path = "/rules/:trigger/publish",
        method = "post",
        operation_id = "publishRule"
    )]
    async fn publish(
        &self,
        auth: TenantAuth,
        trigger: Path<String>,
        req: Json<PublishInput>,
    ) -> Result<Json<VersionView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RulesPublish))
            .await?;
        let trigger = app::trigger_of(&trigger.0)?;
        let subject = me.subject();
        let who = lifecycle::Acting {
            tenant: me.tenant.id,
            plan: &me.plan,
            subject: &subject,
            lang: Lang::parse(&me.tenant.settings.locale).unwrap_or_default(),
        };
        let input = lifecycle::DraftInput {
            script: req.0.script,
            template: req.0.template,
        };
        let v = lifecycle::publish(
            tx,
            &self.state.rules,
            &self.state.plans,
            &who,
            &trigger,
            input,
            &req.0.note,
            self.state.now(),
        )
        .await?;
        self.state
            .rules
            .forget(patron_core::TenantId::new(me.tenant.id))
            .await;
        Ok(Json(version_view(v, true)))
    }

    /// A trigger's versions, newest first.
    #[oai(
        path = "/rules/:trigger/versions",
        method = "get",
        operation_id = "ruleVersions"
    )]
    async fn versions(
        &self,
        auth: TenantAuth,
        trigger: Path<String>,
    ) -> Result<Json<Vec<VersionView>>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::RulesRead))
            .await?;
        let trigger = app::trigger_of(&trigger.0)?;
        let list = lifecycle::versions(tx, &trigger).await?;
        Ok(Json(
            list.into_iter()
                .map(|(v, on)| version_view(v, on))
                .collect(),
        ))
    }

    /// Put an earlier version of a trigger's rule back in force.
    #[oai(
        path = "/rules/:trigger/rollback",
        method = "post",
        operation_id = "rollbackRule"
    )]
    async fn rollback(
        &self,
        auth: TenantAuth,
        trigger: Path<String>,
        req: Json<RollbackInput>,
    ) -> Result<Json<VersionView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RulesPublish))
            .await?;
        let trigger = app::trigger_of(&trigger.0)?;
        let v = app::rollback(
            &mut tx,
            &trigger,
            req.0.version,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        self.state
            .rules
            .forget(patron_core::TenantId::new(me.tenant.id))
            .await;
        Ok(Json(version_view(v, true)))
    }

    /// The rule templates and their forms.
    #[oai(
        path = "/rules/templates",
        method = "get",
        operation_id = "ruleTemplates"
    )]
    async fn templates(&self, auth: TenantAuth) -> Result<Json<TemplateCatalog>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::RulesRead))
            .await?;
        drop(tx);
        Ok(Json(TemplateCatalog {
            templates: Template::catalog(),
        }))
    }

    /// The script a template form generates (every bad field of the form named).
    #[oai(
        path = "/rules/templates/render",
        method = "post",
        operation_id = "renderTemplate"
    )]
    async fn render_template(
        &self,
        auth: TenantAuth,
        req: Json<RenderInput>,
    ) -> Result<Json<Rendered>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RulesRead))
            .await?;
        drop(tx);
        let lang = Lang::parse(&me.tenant.settings.locale).unwrap_or_default();
        let (_, script) = app::render(&req.0.template, "template", lang)?;
        Ok(Json(Rendered { script }))
    }
}

fn version_view(v: rules::Version, active: bool) -> VersionView {
    VersionView {
        version: v.version,
        trigger: v.trigger,
        script: v.script,
        template: v.template,
        note: v.note,
        published_by: v.published_by,
        published_at: v.published_at,
        active,
    }
}

impl From<SimulateInput> for sim::SimulateInput {
    fn from(i: SimulateInput) -> Self {
        Self {
            trigger: i.trigger,
            script: i.script,
            template: i.template,
            events: i
                .events
                .into_iter()
                .map(|e| sim::SimEvent {
                    event: e.event,
                    member: e.member,
                    member_id: e.member_id,
                })
                .collect(),
            last_purchases: i.last_purchases,
        }
    }
}

impl From<sim::Simulation> for Simulation {
    fn from(s: sim::Simulation) -> Self {
        let t = s.totals;
        Self {
            trigger: s.trigger,
            active_version: s.active_version,
            totals: SimTotals {
                cases: t.cases,
                draft_points: t.draft_points,
                active_points: t.active_points,
                difference: t.difference,
                draft_errors: t.draft_errors,
                active_errors: t.active_errors,
                changed: t.changed,
            },
            most_affected: s
                .most_affected
                .into_iter()
                .map(|m| SimMember {
                    member_id: m.member_id,
                    draft_points: m.draft_points,
                    active_points: m.active_points,
                    difference: m.difference,
                })
                .collect(),
            cases: s
                .cases
                .into_iter()
                .map(|c| SimCase {
                    index: c.index,
                    purchase_id: c.purchase_id,
                    member_id: c.member_id,
                    draft_points: c.draft_points,
                    active_points: c.active_points,
                    difference: c.difference,
                    draft_reasons: c.draft_reasons.into_iter().map(Into::into).collect(),
                    draft_error: c.draft_error.map(Into::into),
                    active_error: c.active_error.map(Into::into),
                })
                .collect(),
        }
    }
}
