//! Tier evaluation: how members qualify on a ladder (its thresholds, or its script), the
//! promotion inside the transaction of the event that qualifies a member, the background
//! re-evaluation that follows a publish, and the scheduled evaluation (promotions events
//! missed, pin lapses, demotion after the retention period). The decisions themselves are
//! `patron_core::tiers`; this module reads, locks and records.

use crate::engine::{self, MemberTier, RuleEngine, RuleFailure, TenantRules};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::reasons::Reason;
use patron_core::rules::TierCase;
use patron_core::tiers::{self as core_tiers, Ladder, Standing};
use patron_core::MemberId;
use patron_db::{points, tiers, Db, DbError, Tenant, TenantTx};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// The job that re-evaluates every member after a publish or rollback.
pub const REEVALUATE_JOB: &str = "tiers.reevaluate";

/// Members per transaction in evaluations and previews.
pub const BATCH: i64 = 200;

/// The metric of each of `ids` under `ladder` at `now`.
pub async fn metrics_of(
    tx: &mut TenantTx,
    ladder: &Ladder,
    ids: &[Uuid],
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, i64>, DbError> {
    let tz = tenant.settings.zone().tz();
    tiers::metrics(
        tx,
        ladder.metric,
        ids,
        ladder.window.start(now, tz),
        now,
        tz.name(),
    )
    .await
}

/// The tier a member gets when a ladder is (re)applied to everyone: the one their metric
/// qualifies for, or their pinned tier while the pin holds and is higher.
pub fn applied(ladder: &Ladder, standing: &Standing, metric: i64, now: DateTime<Utc>) -> usize {
    core_tiers::applied(ladder, standing, ladder.qualifying(metric), now)
}

pub fn reason_text(ladder: &Ladder, metric: i64, threshold: i64, up: bool) -> String {
    threshold_reason(ladder, metric, threshold, up).english
}

/// The history's reason for a move the thresholds decided, as code and values.
pub fn threshold_reason(ladder: &Ladder, metric: i64, threshold: i64, up: bool) -> Reason {
    Reason::threshold(ladder.metric.as_str(), metric, threshold, up)
}

/// The history's reason for a move the ladder's script decided.
pub fn script_reason(ladder: &Ladder, metric: i64, to: &str) -> String {
    script_chose(ladder, metric, to).english
}

fn script_chose(ladder: &Ladder, metric: i64, to: &str) -> Reason {
    Reason::script_chose(ladder.metric.as_str(), metric, to)
}

/// Drafts' tier scripts are compiled under this version number (with their hash).
pub const DRAFT_VERSION: i64 = -1;

/// How a member qualifies on a ladder: their value of the ladder's metric, and the position
/// of the tier the thresholds or the ladder's script give (or why the script failed).
#[derive(Debug, Clone)]
pub struct Qualified {
    pub metric: i64,
    pub q: Result<usize, RuleFailure>,
}

/// How each of `ids` qualifies on `ladder` at `now`. Without a script, the thresholds on the
/// metric decide. With one, the script decides from `member` (as point rules see it, with
/// the tier of `standings` read under this ladder) and `metrics` (every metric in the
/// ladder's window); a failure, or a code the ladder does not have, is that member's error
/// and never the whole call's. `version` keys the compiled script (a draft's is
/// [`DRAFT_VERSION`]).
#[allow(clippy::too_many_arguments)]
pub async fn qualify(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    ladder: &Ladder,
    version: i64,
    ids: &[Uuid],
    standings: &HashMap<Uuid, tiers::StandingRow>,
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Qualified>, AppError> {
    let Some(script) = &ladder.script else {
        let metrics = metrics_of(tx, ladder, ids, tenant, now).await?;
        return Ok(ids
            .iter()
            .map(|id| {
                let metric = metrics.get(id).copied().unwrap_or(0);
                let q = Ok(ladder.qualifying(metric));
                (*id, Qualified { metric, q })
            })
            .collect());
    };
    let tz = tenant.settings.zone().tz();
    let start = ladder.window.start(now, tz);
    let mut values = HashMap::new();
    for m in [
        core_tiers::Metric::PointsEarned,
        core_tiers::Metric::Spend,
        core_tiers::Metric::Visits,
    ] {
        values.insert(m, tiers::metrics(tx, m, ids, start, now, tz.name()).await?);
    }
    let value = |m: core_tiers::Metric, id: &Uuid| values[&m].get(id).copied().unwrap_or(0);
    let people = tiers::members_with_accounts(tx, ids).await?;
    let today = tenant.settings.zone().today(now);
    let mut out = HashMap::with_capacity(ids.len());
    let (mut asked, mut cases) = (Vec::new(), Vec::new());
    for id in ids {
        let metric = value(ladder.metric, id);
        let Some((m, a)) = people.get(id) else {
            let q = Err(failure("bad_input", "no such member".into()));
            out.insert(*id, Qualified { metric, q });
            continue;
        };
        let tier = MemberTier::from_code(ladder, standings.get(id).map(|r| r.tier.as_str()));
        cases.push(TierCase {
            member: engine::member_input(m, a, &tier, today),
            metrics: json!({
                "points_earned": value(core_tiers::Metric::PointsEarned, id),
                "spend": value(core_tiers::Metric::Spend, id),
                "visits": value(core_tiers::Metric::Visits, id),
            }),
        });
        asked.push((*id, metric));
    }
    let answers = match cases.as_slice() {
        [] => Vec::new(),
        [one] => vec![engine.decide_tier(tenant.id, version, script, one).await],
        many => match engine.decide_tiers(tenant.id, version, script, many).await {
            Ok(answers) => answers,
            Err(e) => vec![Err(e); many.len()],
        },
    };
    for ((id, metric), answer) in asked.into_iter().zip(answers) {
        let q = match answer {
            Ok(code) => ladder
                .find(&code)
                .ok_or_else(|| unknown_tier(ladder, &code)),
            Err(e) => Err(RuleFailure::from(&e)),
        };
        out.insert(id, Qualified { metric, q });
    }
    Ok(out)
}

fn failure(kind: &str, message: String) -> RuleFailure {
    RuleFailure {
        kind: kind.into(),
        message,
        line: None,
        column: None,
        limit: None,
    }
}

fn unknown_tier(ladder: &Ladder, code: &str) -> RuleFailure {
    let codes: Vec<&str> = ladder.tiers.iter().map(|t| t.code.as_str()).collect();
    let shown: String = code.chars().take(64).collect();
    failure(
        "unknown_tier",
        format!(
            "the script returned \"{shown}\", which is not a tier of this ladder ({})",
            codes.join(", ")
        ),
    )
}

/// Keeps a script failure for staff to see (the tiers page).
async fn record_failure(
    tx: &mut TenantTx,
    member_id: Uuid,
    version: i32,
    during: &str,
    f: &RuleFailure,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    tracing::info!(%member_id, version, during, kind = %f.kind, message = %f.message, "a tier script failed");
    tiers::record_script_error(
        tx,
        &tiers::NewScriptError {
            member_id,
            ladder_version: version,
            during,
            kind: &f.kind,
            message: &f.message,
            line: f.line,
            column: f.column,
            limit: f.limit.as_deref(),
            at: now,
        },
    )
    .await
}

/// After an event that can qualify the member (a purchase, a check-in, an earning): the
/// member's tier, promoted at once when the metric now reaches a higher one. Runs in the
/// event's transaction, with the member's point account locked. Returns the tier held
/// before and after.
///
/// With a ladder script, the script decides; when it fails (or names a tier the ladder does
/// not have) the member keeps their tier, the failure is kept for staff
/// ([`tiers::record_script_error`]) and the event goes on.
pub async fn after_event(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    rules: &TenantRules,
    tenant: &Tenant,
    member: MemberId,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<(MemberTier, MemberTier), AppError> {
    let member_id = member.get();
    let Some(active) = &rules.ladder else {
        return Ok((MemberTier::default(), MemberTier::default()));
    };
    let ladder = &active.ladder;
    // Without a script, the standing's lock and the metric come in one round trip.
    let (row, computed) = if ladder.script.is_none() {
        let tz = tenant.settings.zone().tz();
        let (row, metric) = tiers::lock_standing_with_metric(
            tx,
            member_id,
            ladder.metric,
            ladder.window.start(now, tz),
            now,
            tz.name(),
        )
        .await?;
        (row, Some(metric))
    } else {
        (tiers::standing(tx, member_id, true).await?, None)
    };
    let standing = row.as_ref().map(|r| r.standing()).unwrap_or_default();
    let before = MemberTier::from_code(ladder, standing.tier.as_deref());
    if ladder.position(standing.tier.as_deref()) + 1 >= ladder.tiers.len() {
        return Ok((before.clone(), before));
    }
    let (metric, to) = if let Some(metric) = computed {
        (
            metric,
            core_tiers::promote_on_event(ladder, &standing, metric),
        )
    } else {
        let rows: HashMap<Uuid, tiers::StandingRow> =
            row.iter().map(|r| (member_id, r.clone())).collect();
        let version = i64::from(active.version);
        let ids = [member_id];
        let mut by_id = qualify(tx, engine, tenant, ladder, version, &ids, &rows, now).await?;
        let Some(Qualified { metric, q }) = by_id.remove(&member_id) else {
            return Ok((before.clone(), before));
        };
        match q {
            Ok(q) => (metric, core_tiers::promote_to(ladder, &standing, q)),
            Err(f) => {
                record_failure(tx, member_id, active.version, "event", &f, now).await?;
                return Ok((before.clone(), before));
            }
        }
    };
    let Some(to) = to else {
        return Ok((before.clone(), before));
    };
    let tier = &ladder.tiers[to];
    let next = Standing {
        tier: Some(tier.code.clone()),
        below_since: None,
        pin: standing.pin.clone(),
    };
    let pin_reason = row.as_ref().and_then(|r| r.pin_reason.as_deref());
    let pinned_by = row.as_ref().and_then(|r| r.pinned_by.as_deref());
    tiers::save_standing(tx, member_id, &next, pin_reason, pinned_by, None, now).await?;
    let why = match ladder.script {
        None => threshold_reason(ladder, metric, tier.threshold, true),
        Some(_) => script_chose(ladder, metric, &tier.code),
    };
    super::moved(
        tx,
        &tiers::NewMove {
            member_id,
            from: &before.code,
            to: &tier.code,
            kind: "promotion",
            metric: Some(metric),
            threshold: ladder.script.is_none().then_some(tier.threshold),
            ladder_version: Some(active.version),
            reason: &why.english,
            coded: Some(&why),
            actor,
            at: now,
        },
        tenant.settings.zone(),
    )
    .await?;
    Ok((before, MemberTier::from_code(ladder, Some(&tier.code))))
}

/// Continues a re-evaluation run until every member is done (or a later run supersedes
/// it), a batch per transaction. Safe to run twice at once: batches take the run's row lock
/// and carry on from its cursor. Each member gets exactly what [`applied`] gives, as the
/// preview showed.
///
/// A member the ladder's script fails for keeps their tier; the failure is counted on the
/// run and kept for staff.
pub async fn reevaluate(
    db: &Db,
    engine: &RuleEngine,
    tenant: &Tenant,
    run_id: Uuid,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError> {
    let mut batches = 0;
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let Some(run) = tiers::run(&mut tx, run_id, true).await? else {
            return Ok(json!({ "skipped": "no such run" }));
        };
        if run.status != "running" {
            return Ok(json!({ "status": run.status, "done": run.done, "batches": batches }));
        }
        let Some(version) = tiers::version(&mut tx, run.version).await? else {
            return Err(AppError::internal_msg(format!(
                "ladder version {} is missing",
                run.version
            )));
        };
        let ladder: Ladder = serde_json::from_value(version.ladder)
            .map_err(|e| AppError::internal_msg(format!("ladder version {}: {e}", run.version)))?;
        let ids = tiers::member_page(&mut tx, run.cursor, BATCH).await?;
        if ids.is_empty() {
            let p = tiers::RunProgress::default();
            tiers::advance_run(&mut tx, run.id, p, None, true, now).await?;
            tx.commit().await?;
            continue;
        }
        // The members' accounts are locked like an event locks them, so a purchase landing
        // meanwhile is counted either here or by its own promotion, never lost.
        points::lock_accounts(&mut tx, &ids, now).await?;
        let rows = tiers::standings(&mut tx, &ids).await?;
        let version = i64::from(run.version);
        let qualified =
            qualify(&mut tx, engine, tenant, &ladder, version, &ids, &rows, now).await?;
        let mut progress = tiers::RunProgress {
            done: ids.len() as i64,
            ..Default::default()
        };
        for id in &ids {
            let row = rows.get(id);
            let standing = row.map(|r| r.standing()).unwrap_or_default();
            let Some(Qualified { metric, q }) = qualified.get(id) else {
                continue;
            };
            let (metric, q) = match q {
                Ok(q) => (*metric, *q),
                Err(f) => {
                    record_failure(&mut tx, *id, run.version, "run", f, now).await?;
                    progress.errors += 1;
                    continue;
                }
            };
            let to = &ladder.tiers[core_tiers::applied(&ladder, &standing, q, now)];
            let from = row.map(|r| r.tier.as_str());
            if from == Some(to.code.as_str()) || (from.is_none() && to.threshold == 0) {
                continue;
            }
            let next = Standing {
                tier: Some(to.code.clone()),
                below_since: None,
                pin: standing.pin.clone(),
            };
            tiers::save_standing(
                &mut tx,
                *id,
                &next,
                row.and_then(|r| r.pin_reason.as_deref()),
                row.and_then(|r| r.pinned_by.as_deref()),
                None,
                now,
            )
            .await?;
            let published = Reason::ladder_published(run.version);
            super::moved(
                &mut tx,
                &tiers::NewMove {
                    member_id: *id,
                    from: from.unwrap_or(""),
                    to: &to.code,
                    kind: "ladder",
                    metric: Some(metric),
                    threshold: ladder.script.is_none().then_some(to.threshold),
                    ladder_version: Some(run.version),
                    reason: &published.english,
                    coded: Some(&published),
                    actor: "system:tiers",
                    at: now,
                },
                tenant.settings.zone(),
            )
            .await?;
            progress.moved += 1;
        }
        let last = ids.last().copied();
        tiers::advance_run(&mut tx, run.id, progress, last, false, now).await?;
        tx.commit().await?;
        batches += 1;
    }
}

/// The scheduled evaluation of one tenant at `now`: finishes an interrupted re-evaluation,
/// then evaluates each member with a standing once per local day — promotions events
/// missed, pins that lapse, and demotion after the retention period. Safe to run again or
/// on two replicas at once (members are locked and marked with the day).
pub async fn evaluate_tenant(
    db: &Db,
    tenant: &Tenant,
    rules: &RuleEngine,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let set = rules.tenant(&mut tx).await?;
    let running = tiers::latest_run(&mut tx).await?;
    tx.commit().await?;
    if let Some(r) = running.filter(|r| r.status == "running") {
        reevaluate(db, rules, tenant, r.id, now).await?;
    }
    let Some(active) = set.ladder.clone() else {
        return Ok(json!({ "skipped": "no ladder" }));
    };
    let ladder = &active.ladder;
    let today = tenant.settings.zone().today(now);
    let (mut seen, mut promoted, mut demoted, mut errors) = (0, 0, 0, 0);
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let ids = tiers::due(&mut tx, today, BATCH).await?;
        if ids.is_empty() {
            break;
        }
        points::lock_accounts(&mut tx, &ids, now).await?;
        let rows = tiers::standings(&mut tx, &ids).await?;
        let version = i64::from(active.version);
        let qualified = qualify(&mut tx, rules, tenant, ladder, version, &ids, &rows, now).await?;
        for id in &ids {
            // Locked, and read again: another replica may have done this member today.
            let Some(row) = tiers::standing(&mut tx, *id, true).await? else {
                continue;
            };
            if row.evaluated_on == Some(today) {
                continue;
            }
            seen += 1;
            let Some(Qualified { metric, q }) = qualified.get(id) else {
                continue;
            };
            let metric = *metric;
            let q = match q {
                Ok(q) => *q,
                Err(f) => {
                    // The tier stays as it is; the member is done for today all the same.
                    errors += 1;
                    record_failure(&mut tx, *id, active.version, "evaluation", f, now).await?;
                    tiers::save_standing(
                        &mut tx,
                        *id,
                        &row.standing(),
                        row.pin_reason.as_deref(),
                        row.pinned_by.as_deref(),
                        Some(today),
                        now,
                    )
                    .await?;
                    continue;
                }
            };
            let e = core_tiers::evaluate_qualified(ladder, &row.standing(), q, now);
            tiers::save_standing(
                &mut tx,
                *id,
                &e.standing,
                row.pin_reason.as_deref(),
                row.pinned_by.as_deref(),
                Some(today),
                now,
            )
            .await?;
            if let Some(m) = e.moved {
                let to = e.standing.tier.clone().unwrap_or_default();
                let up = m == core_tiers::Move::Promotion;
                if up {
                    promoted += 1;
                } else {
                    demoted += 1;
                }
                let why = match ladder.script {
                    None => threshold_reason(ladder, metric, e.threshold, up),
                    Some(_) => script_chose(ladder, metric, &to),
                };
                super::moved(
                    &mut tx,
                    &tiers::NewMove {
                        member_id: *id,
                        from: &row.tier,
                        to: &to,
                        kind: m.as_str(),
                        metric: Some(metric),
                        threshold: ladder.script.is_none().then_some(e.threshold),
                        ladder_version: Some(active.version),
                        reason: &why.english,
                        coded: Some(&why),
                        actor: "system:tiers",
                        at: now,
                    },
                    tenant.settings.zone(),
                )
                .await?;
            }
        }
        tx.commit().await?;
    }
    Ok(json!({ "members": seen, "promoted": promoted, "demoted": demoted, "errors": errors }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Ladder {
        serde_json::from_value(json!({
            "metric": "spend",
            "tiers": [
                { "code": "base", "name": { "zh-CN": "普通", "en": "Base" }, "color": "#888888", "threshold": 0 },
                { "code": "gold", "name": { "zh-CN": "金卡", "en": "Gold" }, "color": "#ffcc00", "threshold": 1000 }
            ]
        }))
        .expect("a ladder")
    }

    #[test]
    fn a_threshold_move_gives_the_metric_and_the_threshold_it_crossed() {
        let l = ladder();
        assert_eq!(reason_text(&l, 1200, 1000, true), "spend 1200 >= 1000");
        assert_eq!(reason_text(&l, 800, 1000, false), "spend 800 < 1000");
        assert_eq!(
            script_reason(&l, 1200, "gold"),
            "ladder script chose gold (spend 1200)"
        );
    }

    #[test]
    fn a_code_the_ladder_lacks_is_that_members_failure_naming_the_codes_it_has() {
        let l = ladder();
        let f = unknown_tier(&l, "diamond");
        assert_eq!(f.kind, "unknown_tier");
        assert!(f.message.contains("\"diamond\""), "{}", f.message);
        assert!(f.message.ends_with("(base, gold)"), "{}", f.message);
        // A runaway answer is cut, so a script cannot flood the failure list.
        let long = "x".repeat(500);
        let f = unknown_tier(&l, &long);
        assert!(f.message.len() < 200, "{}", f.message.len());
    }
}
