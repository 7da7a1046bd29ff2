//! Point rules' lifecycle: triggers, drafts (a script, or a template form that generates
//! one), compile checks, publishing a new version and rolling back to an earlier one. The
//! HTTP edge adds the plan gates (hand-written scripts, the number of rules in force).

pub mod lifecycle;
pub mod simulate;

use crate::engine::{self, RuleEngine, RuleFailure};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::lang::Lang;
use patron_core::rules::templates::Template;
use patron_core::rules::{RuleErrorKind, RuleKey};
use patron_db::{rules, DbError, TenantTx};
use serde_json::{json, Value};

/// Drafts are compiled under this version number (with their script's hash), never a real
/// one.
pub const DRAFT_VERSION: i64 = -1;

/// The longest script accepted.
pub const MAX_SCRIPT: usize = 64 * 1024;

/// A trigger name: `purchase`, `check_in`, `referral`, `birthday` or `event.<name>`.
pub fn parse_trigger(raw: &str) -> Result<String, patron_core::Issue> {
    match raw {
        "purchase" | "check_in" | "referral" | "birthday" => Ok(raw.to_owned()),
        _ => match raw.strip_prefix("event.") {
            Some(name)
                if !name.is_empty()
                    && name.len() <= 40
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                Ok(raw.to_owned())
            }
            _ => Err(patron_core::Issue::unknown(
                raw,
                format!(
                    "\"{raw}\" is not a trigger: purchase, check_in, referral, birthday or \
                     event.<name> (lowercase letters, digits, _)"
                ),
            )),
        },
    }
}

/// The trigger, or 422 on `trigger`.
pub fn trigger_of(raw: &str) -> Result<String, AppError> {
    parse_trigger(raw).map_err(|e| AppError::field("trigger", e))
}

/// A template form, checked, with the script it generates (commented in `lang`, the
/// business's language); bad fields are named under `field`.
pub fn render(template: &Value, field: &str, lang: Lang) -> Result<(Template, String), AppError> {
    let t = Template::parse(template.clone()).map_err(|errors| {
        AppError::invalid(
            errors
                .into_iter()
                .map(|mut e| {
                    e.field = if e.field.is_empty() {
                        field.to_owned()
                    } else {
                        format!("{field}.{}", e.field)
                    };
                    e
                })
                .collect(),
        )
    })?;
    let script = t.to_script_in(lang);
    Ok((t, script))
}

/// The trigger a template's rule belongs to.
pub fn template_trigger(t: &Template) -> String {
    match t {
        Template::CustomEvent(_) => format!("event.{}", t.event_kind()),
        _ => t.event_kind().to_owned(),
    }
}

/// 422 unless the template is for `trigger`.
pub fn check_template_trigger(template: Option<&Value>, trigger: &str) -> Result<(), AppError> {
    if let Some(v) = template {
        let (t, _) = render(v, "template", Lang::default())?;
        let wanted = template_trigger(&t);
        if wanted != trigger {
            return Err(AppError::field(
                "template.kind",
                patron_core::Issue::new(
                    patron_core::FieldCode::NotAllowed,
                    format!("this form makes a rule for {wanted}, not {trigger}"),
                )
                .with("reason", "template_trigger")
                .with("wanted", wanted.as_str()),
            ));
        }
    }
    Ok(())
}

/// A script: not empty, at most 64 KiB.
pub fn check_script(script: &str, field: &str) -> Result<(), AppError> {
    if script.trim().is_empty() {
        return Err(AppError::field(field, patron_core::Issue::required()));
    }
    if script.len() > MAX_SCRIPT {
        return Err(AppError::field(field, patron_core::Issue::too_big(64)));
    }
    Ok(())
}

/// The script to work with: given, generated from a template (commented in `lang`), or
/// `None`.
pub fn script_of(
    script: Option<String>,
    template: Option<&Value>,
    lang: Lang,
) -> Result<Option<(String, Option<Value>)>, AppError> {
    match (script, template) {
        (Some(_), Some(_)) => Err(AppError::field(
            "script",
            patron_core::Issue::new(
                patron_core::FieldCode::OneOf,
                "give either script or template, not both",
            )
            .with("options", "script, template"),
        )),
        (Some(s), None) => {
            check_script(&s, "script")?;
            Ok(Some((s, None)))
        }
        (None, Some(t)) => {
            let (_, s) = render(t, "template", lang)?;
            Ok(Some((s, Some(t.clone()))))
        }
        (None, None) => Ok(None),
    }
}

/// Whether `script` is exactly what `template` generates, commented in either language (then
/// no `rule_scripts` feature is needed to publish it).
pub fn from_template(script: &str, template: Option<&Value>) -> bool {
    template
        .and_then(|t| Template::parse(t.clone()).ok())
        .is_some_and(|t| t.generates(script))
}

/// Compiles a draft script: `None` when it compiles, else its compile (or limit) error;
/// 503 when the sandbox cannot answer.
pub async fn compile(
    engine: &RuleEngine,
    tenant: i64,
    script: &str,
) -> Result<Option<RuleFailure>, AppError> {
    let pool = engine
        .runner()
        .ok_or_else(|| engine::unavailable_error(&engine::unavailable()))?;
    let key = RuleKey {
        tenant,
        version: DRAFT_VERSION,
    };
    match pool.compile(key, script).await {
        Ok(()) => Ok(None),
        Err(e) if e.kind == RuleErrorKind::Compile || e.kind == RuleErrorKind::Limit => {
            Ok(Some(RuleFailure::from(&e)))
        }
        Err(e) => Err(engine::unavailable_error(&e)),
    }
}

/// The version of `trigger`'s rule in force, if any.
pub async fn active_version(
    tx: &mut TenantTx,
    trigger: &str,
) -> Result<Option<rules::Active>, DbError> {
    Ok(rules::active(tx)
        .await?
        .into_iter()
        .find(|a| a.trigger == trigger))
}

/// A rule's publish or rollback, in the audit log.
pub async fn audit(
    tx: &mut TenantTx,
    actor: &str,
    action: &str,
    trigger: &str,
    version: i32,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    patron_db::audit::record(
        tx,
        at,
        actor,
        action,
        trigger,
        json!({ "version": version }),
    )
    .await
}

/// Puts version `version` of `trigger`'s rule back in force (422 unless it is one of that
/// trigger's versions), audited. The caller commits, then calls [`RuleEngine::forget`].
pub async fn rollback(
    tx: &mut TenantTx,
    trigger: &str,
    version: i32,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<rules::Version, AppError> {
    let v = match rules::version(tx, version).await {
        Ok(v) if v.trigger == trigger => v,
        Ok(_) | Err(DbError::NotFound) => {
            return Err(AppError::field(
                "version",
                patron_core::Issue::new(
                    patron_core::FieldCode::Unknown,
                    format!("is not a version of the {trigger} rule"),
                )
                .with("value", version),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    rules::activate(tx, trigger, v.version, actor, now).await?;
    audit(tx, actor, "rules.rollback", trigger, v.version, now).await?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers_are_the_built_in_ones_or_a_named_event() {
        assert_eq!(parse_trigger("purchase").as_deref(), Ok("purchase"));
        assert_eq!(
            parse_trigger("event.class_attended").as_deref(),
            Ok("event.class_attended")
        );
        assert!(parse_trigger("event.").is_err());
        assert!(parse_trigger("event.Review").is_err());
        assert!(parse_trigger(&format!("event.{}", "a".repeat(41))).is_err());
        let e = parse_trigger("refund").unwrap_err();
        assert_eq!(e.code, patron_core::FieldCode::Unknown);
        assert!(e.problem.contains("\"refund\" is not a trigger"));
    }

    #[test]
    fn a_template_names_its_bad_fields_under_the_form_and_makes_a_rule_for_its_trigger() {
        let bad = json!({"kind": "check_in", "points": 0});
        let e = render(&bad, "template", Lang::En).unwrap_err();
        assert_eq!(e.fields()[0].field, "template.points");
        let unreadable = json!({"kind": "nope"});
        assert_eq!(
            render(&unreadable, "template", Lang::En)
                .unwrap_err()
                .fields()[0]
                .field,
            "template"
        );
        let custom = json!({"kind": "custom_event", "event": "review", "points": 10});
        let (t, script) = render(&custom, "template", Lang::En).unwrap();
        assert_eq!(template_trigger(&t), "event.review");
        assert!(check_template_trigger(Some(&custom), "event.review").is_ok());
        let wrong = check_template_trigger(Some(&custom), "purchase").unwrap_err();
        assert_eq!(wrong.fields()[0].field, "template.kind");
        assert!(from_template(&script, Some(&custom)));
        assert!(!from_template(
            &format!("{script}\n// edited"),
            Some(&custom)
        ));
        assert!(!from_template(&script, None));
    }

    #[test]
    fn a_draft_is_a_script_or_a_template_never_both_and_never_empty() {
        let form = json!({"kind": "birthday", "points": 100});
        assert!(script_of(Some("1".into()), Some(&form), Lang::En).is_err());
        assert_eq!(script_of(None, None, Lang::En).unwrap(), None);
        let (s, t) = script_of(None, Some(&form), Lang::En).unwrap().unwrap();
        assert!(s.contains("birthday"));
        assert_eq!(t, Some(form));
        assert_eq!(
            script_of(Some("  ".into()), None, Lang::En)
                .unwrap_err()
                .fields()[0]
                .problem,
            "must not be empty"
        );
        assert!(check_script(&"x".repeat(MAX_SCRIPT + 1), "script").is_err());
        assert!(check_script("let x = 1;", "script").is_ok());
    }
}
