//! The ladder a business designs: the draft, the check of a tier script, publish and
//! rollback (version bookkeeping, audit, the re-evaluation run and its job), the versions
//! and the overview. The preview of a draft is `super::preview`.
//!
//! Ladders arrive in their public JSON shape (docs/tiers.md), the shape the console edits
//! and the draft is stored in; [`parse`] checks one and names every bad field.

use super::evaluation::{DRAFT_VERSION, REEVALUATE_JOB};
use crate::engine::{self, RuleEngine, RuleFailure};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::clock::Clock;
use patron_core::rules::RuleErrorKind;
use patron_core::tiers::{Ladder, Tier};
use patron_core::TenantId;
use patron_db::{tiers, Db, TenantTx};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The longest publish note, in characters.
const MAX_NOTE: usize = 500;

/// A ladder in its public JSON shape, checked; every bad field named under `prefix`
/// (`ladder.` when it came inside a request, empty when it is the request).
pub fn parse(given: Value, prefix: &str) -> Result<Ladder, AppError> {
    let ladder: Ladder = serde_json::from_value(given).map_err(|e| {
        AppError::field(
            prefix.trim_end_matches('.'),
            patron_core::Issue::new(patron_core::FieldCode::DoesNotFit, e.to_string()),
        )
    })?;
    ladder.validate().map_err(|errors| {
        AppError::invalid(
            errors
                .into_iter()
                .map(|mut e| {
                    e.field = format!("{prefix}{}", e.field);
                    e
                })
                .collect(),
        )
    })?;
    Ok(ladder)
}

/// A ladder as stored (a version or the draft): written by us, so unreadable is a bug.
pub fn stored(value: Value) -> Result<Ladder, AppError> {
    serde_json::from_value(value).map_err(AppError::internal)
}

/// The ladder a request gives (checked, errors under `ladder.`), else the saved draft.
pub async fn given_or_draft(tx: &mut TenantTx, given: Option<Value>) -> Result<Ladder, AppError> {
    match given {
        Some(l) => parse(l, "ladder."),
        None => match tiers::draft(tx).await? {
            Some(d) => stored(d.ladder),
            None => Err(AppError::field(
                "ladder",
                patron_core::Issue::new(
                    patron_core::FieldCode::NoDraft,
                    "give a ladder: there is no saved draft",
                ),
            )),
        },
    }
}

/// 422 naming `tiers[i].benefits.birthday_coupon_template_id` (under `prefix`) when a
/// tier's birthday coupon is of a template this business does not have.
pub async fn check_coupons(
    tx: &mut TenantTx,
    ladder: &Ladder,
    prefix: &str,
) -> Result<(), AppError> {
    for (i, t) in ladder.tiers.iter().enumerate() {
        let Some(id) = t.benefits.birthday_coupon_template_id else {
            continue;
        };
        if patron_db::coupons::template(tx, id).await?.is_none() {
            return Err(AppError::field(
                &format!("{prefix}tiers[{i}].benefits.birthday_coupon_template_id"),
                patron_core::Issue::unknown(&id.to_string(), "there is no such coupon template"),
            ));
        }
    }
    Ok(())
}

/// Where a ladder's script is named in errors: `ladder.script` when the request gave the
/// ladder, `script` for the saved draft.
pub fn script_field(given: bool) -> &'static str {
    if given {
        "ladder.script"
    } else {
        "script"
    }
}

/// What pins and the like answer while the business has no ladder in force.
pub fn no_ladder() -> AppError {
    AppError::conflict(
        "no_ladder",
        None,
        "the business has not published a tier ladder yet",
    )
}

/// Compiles a tier script: `None`, or the compile error with line and column. The sandbox
/// not answering is the call's error.
pub async fn compile(
    engine: &RuleEngine,
    tenant: i64,
    script: &str,
) -> Result<Option<RuleFailure>, AppError> {
    match engine.compile_tier(tenant, DRAFT_VERSION, script).await {
        Ok(()) => Ok(None),
        Err(e) if matches!(e.kind, RuleErrorKind::Compile | RuleErrorKind::Limit) => {
            Ok(Some(RuleFailure::from(&e)))
        }
        Err(e) => Err(engine::unavailable_error(&e)),
    }
}

/// Compiles a ladder's script, if it has one: `Ok`, or invalid input naming `field` with the
/// line and column.
pub async fn check_script(
    engine: &RuleEngine,
    tenant: i64,
    ladder: &Ladder,
    field: &str,
) -> Result<(), AppError> {
    match &ladder.script {
        None => Ok(()),
        Some(script) => match compile(engine, tenant, script).await? {
            None => Ok(()),
            Some(f) => Err(engine::compile_problem(&f, field)),
        },
    }
}

/// A published version of the ladder.
#[derive(Debug, Clone)]
pub struct Version {
    pub version: i32,
    pub ladder: Ladder,
    pub note: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    /// True for the version in force.
    pub active: bool,
}

fn version_of(v: tiers::LadderVersion, active: Option<i32>) -> Result<Version, AppError> {
    Ok(Version {
        active: active == Some(v.version),
        ladder: stored(v.ladder)?,
        version: v.version,
        note: v.note,
        published_by: v.published_by,
        published_at: v.published_at,
    })
}

/// How many members stand on a tier.
#[derive(Debug, Clone, PartialEq)]
pub struct TierCount {
    pub tier: Tier,
    pub members: i64,
}

/// Members per tier of `ladder`, from the counts by code (tiers nobody stands on count 0).
pub fn counts_of(ladder: &Ladder, counts: &HashMap<String, i64>) -> Vec<TierCount> {
    ladder
        .tiers
        .iter()
        .map(|t| TierCount {
            tier: t.clone(),
            members: counts.get(&t.code).copied().unwrap_or(0),
        })
        .collect()
}

/// Current counts under the ladder in force: members without a standing (or with a code
/// the ladder lost) on the first tier.
pub(super) async fn current_counts(
    tx: &mut TenantTx,
    ladder: &Ladder,
) -> Result<Vec<TierCount>, AppError> {
    let stored = tiers::counts(tx).await?;
    let total = tiers::active_members(tx).await?;
    let mut by_code: HashMap<String, i64> = HashMap::new();
    let mut placed = 0;
    for (code, n) in stored {
        if ladder.tiers.iter().any(|t| t.code == code) {
            *by_code.entry(code).or_default() += n;
            placed += n;
        }
    }
    *by_code.entry(ladder.tiers[0].code.clone()).or_default() += total - placed;
    Ok(counts_of(ladder, &by_code))
}

/// The ladder in force, the draft, members per tier, the latest re-evaluation and the
/// script's failures.
#[derive(Debug)]
pub struct Overview {
    pub active: Option<Version>,
    /// The draft as the console saved it (its public JSON shape).
    pub draft: Option<tiers::Draft>,
    pub counts: Vec<TierCount>,
    pub run: Option<tiers::Run>,
    /// Newest first, at most 50.
    pub script_errors: Vec<tiers::ScriptError>,
    pub script_errors_total: i64,
}

pub async fn overview(tx: &mut TenantTx) -> Result<Overview, AppError> {
    let active = tiers::active(tx).await?;
    let draft = tiers::draft(tx).await?;
    let run = tiers::latest_run(tx).await?;
    let (script_errors, script_errors_total) = tiers::script_errors(tx, 50).await?;
    let (active, counts) = match active {
        Some(v) => {
            let version = v.version;
            let v = version_of(v, Some(version))?;
            let counts = current_counts(tx, &v.ladder).await?;
            (Some(v), counts)
        }
        None => (None, Vec::new()),
    };
    Ok(Overview {
        active,
        draft,
        counts,
        run,
        script_errors,
        script_errors_total,
    })
}

/// Saves the draft (checked: every bad field named; its script must compile), as given.
pub async fn save_draft(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: i64,
    given: Value,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<tiers::Draft, AppError> {
    let ladder = parse(given.clone(), "")?;
    check_coupons(tx, &ladder, "").await?;
    check_script(engine, tenant, &ladder, "script").await?;
    Ok(tiers::save_draft(tx, &given, actor, now).await?)
}

/// Every published version, newest first.
pub async fn versions(tx: &mut TenantTx) -> Result<Vec<Version>, AppError> {
    let active = tiers::active(tx).await?.map(|v| v.version);
    tiers::versions(tx)
        .await?
        .into_iter()
        .map(|v| version_of(v, active))
        .collect()
}

/// A version put in force, and the re-evaluation of every member it started.
#[derive(Debug)]
pub struct Published {
    pub version: Version,
    pub run: tiers::Run,
}

/// Publishes a ladder (the given one, else the saved draft) as a new version and puts it in
/// force: the script's failures are cleared, a re-evaluation run starts and is audited, and
/// after the commit the tenant's rules are forgotten and the run's job is queued.
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    mut tx: TenantTx,
    db: &Db,
    engine: &RuleEngine,
    clock: &dyn Clock,
    tenant: i64,
    given: Option<Value>,
    note: &str,
    actor: &str,
) -> Result<Published, AppError> {
    if note.chars().count() > MAX_NOTE {
        return Err(AppError::field(
            "note",
            patron_core::Issue::too_long(500).words("at most 500 characters"),
        ));
    }
    let field = script_field(given.is_some());
    let prefix = if given.is_some() { "ladder." } else { "" };
    let ladder = given_or_draft(&mut tx, given).await?;
    check_coupons(&mut tx, &ladder, prefix).await?;
    check_script(engine, tenant, &ladder, field).await?;
    let now = clock.now();
    let value = serde_json::to_value(&ladder).map_err(AppError::internal)?;
    let v = tiers::publish(&mut tx, &value, note, actor, now).await?;
    tiers::clear_script_errors(&mut tx).await?;
    let run = start_run(&mut tx, v.version, now).await?;
    audit(&mut tx, actor, "tiers.publish", v.version, now).await?;
    tx.commit().await?;
    engine.forget(TenantId::new(tenant)).await;
    enqueue(db, tenant, &run, clock.now()).await;
    let version = v.version;
    Ok(Published {
        version: version_of(v, Some(version))?,
        run,
    })
}

/// Puts an earlier version back in force; as a publish, every member is re-evaluated
/// under it.
pub async fn rollback(
    mut tx: TenantTx,
    db: &Db,
    engine: &RuleEngine,
    clock: &dyn Clock,
    tenant: i64,
    version: i32,
    actor: &str,
) -> Result<Published, AppError> {
    let Some(v) = tiers::version(&mut tx, version).await? else {
        return Err(AppError::field(
            "version",
            patron_core::Issue::new(patron_core::FieldCode::Unknown, "there is no such version")
                .with("value", version),
        ));
    };
    let now = clock.now();
    tiers::activate(&mut tx, v.version, actor, now).await?;
    tiers::clear_script_errors(&mut tx).await?;
    let run = start_run(&mut tx, v.version, now).await?;
    audit(&mut tx, actor, "tiers.rollback", v.version, now).await?;
    tx.commit().await?;
    engine.forget(TenantId::new(tenant)).await;
    enqueue(db, tenant, &run, clock.now()).await;
    let version = v.version;
    Ok(Published {
        version: version_of(v, Some(version))?,
        run,
    })
}

/// Starts a re-evaluation of everyone under `version` (after the commit, the job).
async fn start_run(
    tx: &mut TenantTx,
    version: i32,
    now: DateTime<Utc>,
) -> Result<tiers::Run, AppError> {
    let total = tiers::active_members(tx).await?;
    Ok(tiers::start_run(tx, version, total, now).await?)
}

async fn audit(
    tx: &mut TenantTx,
    actor: &str,
    action: &str,
    version: i32,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    patron_db::audit::record(
        tx,
        at,
        actor,
        action,
        "tiers",
        json!({ "version": version }),
    )
    .await?;
    Ok(())
}

async fn enqueue(db: &Db, tenant: i64, run: &tiers::Run, now: DateTime<Utc>) {
    let r = patron_db::jobs::enqueue(
        db,
        REEVALUATE_JOB,
        Some(tenant),
        json!({ "run": run.id }),
        now,
        Some(&format!("{REEVALUATE_JOB}:{}", run.id)),
    )
    .await;
    // The hourly evaluation resumes a run whose job could not be queued.
    if let Err(e) = r {
        tracing::warn!(error = %e, "could not queue the tier re-evaluation");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder(tiers: &[(&str, i64)]) -> Ladder {
        Ladder::from_thresholds(tiers)
    }

    #[test]
    fn counts_list_every_tier_of_the_ladder_in_order_with_zero_for_empty_ones() {
        let l = ladder(&[("base", 0), ("silver", 100), ("gold", 500)]);
        let counts = HashMap::from([("gold".to_string(), 3), ("lost".to_string(), 9)]);

        let out = counts_of(&l, &counts);

        let got: Vec<_> = out
            .iter()
            .map(|c| (c.tier.code.as_str(), c.members))
            .collect();
        assert_eq!(got, vec![("base", 0), ("silver", 0), ("gold", 3)]);
    }

    #[test]
    fn a_given_ladder_names_its_bad_fields_under_the_prefix() {
        let bad = json!({
            "metric": "spend",
            "window": { "kind": "rolling", "days": 0 },
            "demotion": "one_rung",
            "tiers": [{ "code": "base", "name": { "zh-CN": "b", "en": "b" }, "threshold": 0 }],
        });

        let err = parse(bad.clone(), "ladder.").unwrap_err();
        let AppError::Invalid(fields) = err else {
            panic!("not invalid: {err:?}")
        };
        assert!(fields.iter().any(|f| f.field == "ladder.window.days"));

        let AppError::Invalid(fields) = parse(bad, "").unwrap_err() else {
            panic!("not invalid")
        };
        assert!(fields.iter().any(|f| f.field == "window.days"));
    }

    #[test]
    fn an_unreadable_ladder_is_blamed_on_the_ladder_field() {
        let err = parse(json!({ "metric": "height" }), "ladder.").unwrap_err();
        let AppError::Invalid(fields) = err else {
            panic!("not invalid: {err:?}")
        };
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].field, "ladder");
    }

    #[test]
    fn a_script_is_named_where_the_request_put_it() {
        assert_eq!(script_field(true), "ladder.script");
        assert_eq!(script_field(false), "script");
    }
}
