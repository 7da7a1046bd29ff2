//! A trigger's rule from draft to force: the overview of triggers, saving a draft (it may
//! not compile yet; its compile error comes back with it), publishing (it must compile; a
//! hand-written script needs the plan feature `rule_scripts`; a first rule in force counts
//! against the plan's active rules), and the list of versions. Rollback is in the module
//! above.

use super::{active_version, audit, check_template_trigger, compile, from_template, script_of};
use crate::engine::{self, RuleEngine, RuleFailure};
use crate::plans::{check_limit, require_feature, PlanCatalog};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::lang::Lang;
use patron_core::plans::{Feature, Limit, Plan};
use patron_db::rules::{self, Draft, Version};
use patron_db::TenantTx;
use serde_json::Value;
use std::collections::BTreeMap;

/// A draft with where it fails to compile, if it does.
#[derive(Debug, Clone)]
pub struct CheckedDraft {
    pub draft: Draft,
    pub compile_error: Option<RuleFailure>,
}

/// One trigger: the version in force (with when it was put in force) and the draft.
#[derive(Debug, Clone)]
pub struct TriggerState {
    pub trigger: String,
    pub active_version: Option<i32>,
    pub activated_at: Option<DateTime<Utc>>,
    pub draft: Option<CheckedDraft>,
}

/// A draft as given: a script, or a template form to generate one from.
#[derive(Debug, Clone, Default)]
pub struct DraftInput {
    pub script: Option<String>,
    pub template: Option<Value>,
}

/// Who acts, for which business, under which plan.
pub struct Acting<'a> {
    pub tenant: i64,
    pub plan: &'a Plan,
    pub subject: &'a str,
    /// The business's language: generated scripts are commented in it.
    pub lang: Lang,
}

async fn checked(engine: &RuleEngine, tenant: i64, draft: Draft) -> Result<CheckedDraft, AppError> {
    let compile_error = compile(engine, tenant, &draft.script).await?;
    Ok(CheckedDraft {
        draft,
        compile_error,
    })
}

/// Every trigger with a rule in force or a draft, by trigger.
pub async fn overview(
    mut tx: TenantTx,
    engine: &RuleEngine,
    tenant: i64,
) -> Result<Vec<TriggerState>, AppError> {
    let active = rules::active(&mut tx).await?;
    let drafts = rules::drafts(&mut tx).await?;
    tx.commit().await?;
    let mut by: BTreeMap<String, TriggerState> = BTreeMap::new();
    for a in active {
        by.insert(
            a.trigger.clone(),
            TriggerState {
                trigger: a.trigger,
                active_version: Some(a.version),
                activated_at: Some(a.activated_at),
                draft: None,
            },
        );
    }
    for d in drafts {
        let view = checked(engine, tenant, d).await?;
        let trigger = view.draft.trigger.clone();
        by.entry(trigger.clone())
            .or_insert_with(|| TriggerState {
                trigger,
                active_version: None,
                activated_at: None,
                draft: None,
            })
            .draft = Some(view);
    }
    Ok(by.into_values().collect())
}

/// 422 on `template.coupon_template_id` when a form gives a coupon of a template this
/// business does not have.
async fn check_template_coupon(
    tx: &mut TenantTx,
    template: Option<&serde_json::Value>,
) -> Result<(), AppError> {
    let Some(id) = template
        .and_then(|v| patron_core::rules::templates::Template::parse(v.clone()).ok())
        .and_then(|t| t.coupon_template_id())
    else {
        return Ok(());
    };
    if patron_db::coupons::template(tx, id).await?.is_none() {
        return Err(AppError::field(
            "template.coupon_template_id",
            patron_core::Issue::unknown(&id.to_string(), "there is no such coupon template"),
        ));
    }
    Ok(())
}

/// Saves a trigger's draft (`trigger` already read with `trigger_of`) and answers it with
/// its compile error, if any.
pub async fn save_draft(
    mut tx: TenantTx,
    engine: &RuleEngine,
    who: &Acting<'_>,
    trigger: &str,
    input: DraftInput,
    now: DateTime<Utc>,
) -> Result<CheckedDraft, AppError> {
    check_template_trigger(input.template.as_ref(), trigger)?;
    check_template_coupon(&mut tx, input.template.as_ref()).await?;
    let (script, template) = script_of(input.script, input.template.as_ref(), who.lang)?
        .ok_or_else(|| {
            AppError::field(
                "script",
                patron_core::Issue::new(
                    patron_core::FieldCode::Missing,
                    "give a script or a template",
                )
                .with("options", "script, template"),
            )
        })?;
    let d = rules::save_draft(
        &mut tx,
        trigger,
        &script,
        template.as_ref(),
        who.subject,
        now,
    )
    .await?;
    tx.commit().await?;
    checked(engine, who.tenant, d).await
}

/// Publishes a new version of `trigger`'s rule and puts it in force: the given script or
/// template, else the draft. The caller drops the tenant's cached rules once this returns.
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    mut tx: TenantTx,
    engine: &RuleEngine,
    plans: &PlanCatalog,
    who: &Acting<'_>,
    trigger: &str,
    input: DraftInput,
    note: &str,
    now: DateTime<Utc>,
) -> Result<Version, AppError> {
    check_template_trigger(input.template.as_ref(), trigger)?;
    check_template_coupon(&mut tx, input.template.as_ref()).await?;
    let (script, template) = match script_of(input.script, input.template.as_ref(), who.lang)? {
        Some(x) => x,
        None => {
            let d = rules::drafts(&mut tx)
                .await?
                .into_iter()
                .find(|d| d.trigger == trigger)
                .ok_or_else(|| {
                    AppError::field(
                        "script",
                        patron_core::Issue::new(
                            patron_core::FieldCode::NoDraft,
                            "give a script: this trigger has no draft",
                        ),
                    )
                })?;
            (d.script, d.template)
        }
    };
    if !from_template(&script, template.as_ref()) {
        require_feature(plans, who.plan, Feature::RuleScripts).await?;
    }
    if let Some(f) = compile(engine, who.tenant, &script).await? {
        return Err(engine::compile_problem(&f, "script"));
    }
    if active_version(&mut tx, trigger).await?.is_none() {
        check_limit(&mut tx, plans, who.plan, Limit::ActiveRules, 1, now).await?;
    }
    let template = template.filter(|t| from_template(&script, Some(t)));
    let v = rules::publish(
        &mut tx,
        trigger,
        &script,
        template.as_ref(),
        note.trim(),
        who.subject,
        now,
    )
    .await?;
    audit(
        &mut tx,
        who.subject,
        "rules.publish",
        trigger,
        v.version,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// A trigger's versions, newest first, with the one in force marked.
pub async fn versions(mut tx: TenantTx, trigger: &str) -> Result<Vec<(Version, bool)>, AppError> {
    let active = active_version(&mut tx, trigger).await?.map(|a| a.version);
    let list = rules::versions(&mut tx, trigger).await?;
    tx.commit().await?;
    Ok(list
        .into_iter()
        .map(|v| {
            let on = Some(v.version) == active;
            (v, on)
        })
        .collect())
}
