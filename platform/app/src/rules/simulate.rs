//! Simulation: a draft rule tried against given events and/or the business's recent
//! purchases, next to the version in force. Nothing is written. The cases are built here
//! from the tenant's data as it is now; both rules run as batches in the sandbox; [`tally`]
//! compares them.

use super::{active_version, script_of, trigger_of, DRAFT_VERSION};
use crate::engine::{self, PointReason, RuleEngine, RuleFailure};
use crate::points::MAX_AMOUNT;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::rules::{Case, Outcome, RuleError, RuleErrorKind, RuleKey};
use patron_db::{DbError, Tenant, TenantTx};
use serde_json::{json, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// At most this many cases are reported one by one (all are counted).
pub const MAX_CASES_SHOWN: usize = 1000;
/// At most this many members are named among the most affected.
pub const MOST_AFFECTED: usize = 20;

/// A purchase (or other event) to simulate with.
#[derive(Debug, Clone, Default)]
pub struct SimEvent {
    /// The event as a rule sees it; `kind` defaults to the trigger's.
    pub event: Value,
    /// The member as a rule sees it; defaults to an empty member. Or ...
    pub member: Option<Value>,
    /// ... a real member, as they are now.
    pub member_id: Option<Uuid>,
}

/// What to simulate.
#[derive(Debug, Clone, Default)]
pub struct SimulateInput {
    /// Defaults to `purchase`.
    pub trigger: Option<String>,
    /// The draft to try; defaults to the trigger's saved draft.
    pub script: Option<String>,
    pub template: Option<Value>,
    pub events: Vec<SimEvent>,
    /// The business's last N purchases (at most 10,000), each with its member as they are now.
    pub last_purchases: Option<i64>,
}

/// One case: the draft's and the version in force's points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimCase {
    pub index: i64,
    pub purchase_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub draft_points: i64,
    pub active_points: i64,
    pub difference: i64,
    pub draft_reasons: Vec<PointReason>,
    pub draft_error: Option<RuleFailure>,
    pub active_error: Option<RuleFailure>,
}

/// A member whose points change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimMember {
    pub member_id: Uuid,
    pub draft_points: i64,
    pub active_points: i64,
    pub difference: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulation {
    pub trigger: String,
    /// The version compared against (none in force: every case's active points are 0).
    pub active_version: Option<i32>,
    pub totals: SimTotals,
    /// The members whose points change most, largest change first.
    pub most_affected: Vec<SimMember>,
    /// Per case; at most the first [`MAX_CASES_SHOWN`].
    pub cases: Vec<SimCase>,
}

/// Runs the simulation. `tx` is only read, and dropped before the sandbox runs.
pub async fn simulate(
    mut tx: TenantTx,
    rules: &RuleEngine,
    tenant: &Tenant,
    req: SimulateInput,
    now: DateTime<Utc>,
) -> Result<Simulation, AppError> {
    let trigger = trigger_of(req.trigger.as_deref().unwrap_or("purchase"))?;
    let last = req.last_purchases.unwrap_or(0);
    if !(0..=10_000).contains(&last) {
        return Err(AppError::field(
            "last_purchases",
            patron_core::Issue::out_of_range(0, 10_000),
        ));
    }
    if req.events.is_empty() && last == 0 {
        return Err(AppError::field(
            "events",
            patron_core::Issue::new(
                patron_core::FieldCode::Missing,
                "give events, last_purchases, or both",
            )
            .with("options", "events, last_purchases"),
        ));
    }
    let script = match script_of(
        req.script,
        req.template.as_ref(),
        patron_core::lang::Lang::parse(&tenant.settings.locale).unwrap_or_default(),
    )? {
        Some((s, _)) => s,
        None => patron_db::rules::drafts(&mut tx)
            .await?
            .into_iter()
            .find(|d| d.trigger == trigger)
            .map(|d| d.script)
            .ok_or_else(|| {
                AppError::field(
                    "script",
                    patron_core::Issue::new(
                        patron_core::FieldCode::NoDraft,
                        "give a script: this trigger has no draft",
                    ),
                )
            })?,
    };
    let zone = tenant.settings.zone();
    let in_force = rules.tenant(&mut tx).await?;
    let mut cases = Vec::new();
    let mut meta: Vec<(Option<Uuid>, Option<Uuid>)> = Vec::new();
    let kind = trigger
        .strip_prefix("event.")
        .unwrap_or(&trigger)
        .to_owned();
    for (i, e) in req.events.iter().enumerate() {
        let Value::Object(obj) = &e.event else {
            return Err(AppError::field(
                &format!("events[{i}].event"),
                patron_core::Issue::invalid_format("object", "must be an object"),
            ));
        };
        let mut event = Value::Object(obj.clone());
        if event.get("kind").is_none() {
            event["kind"] = json!(kind);
        }
        if let Some(a) = event.get("amount").and_then(Value::as_i64) {
            if !(0..=MAX_AMOUNT).contains(&a) {
                return Err(AppError::field(
                    &format!("events[{i}].event.amount"),
                    patron_core::Issue::out_of_range(0, MAX_AMOUNT),
                ));
            }
        }
        if event.get("time").is_none() {
            event["time"] = engine::event_time(now, zone);
        }
        let member = match (&e.member, e.member_id) {
            (Some(_), Some(_)) => {
                return Err(AppError::field(
                    &format!("events[{i}].member_id"),
                    patron_core::Issue::new(
                        patron_core::FieldCode::OneOf,
                        "give member or member_id, not both",
                    )
                    .with("options", "member, member_id"),
                ))
            }
            (Some(m), None) => m.clone(),
            (None, Some(id)) => {
                let m = patron_db::members::get(&mut tx, id)
                    .await
                    .map_err(|e| match e {
                        DbError::NotFound => AppError::field(
                            &format!("events[{i}].member_id"),
                            patron_core::Issue::no_such_member(),
                        ),
                        other => other.into(),
                    })?;
                let a = patron_db::points::account(&mut tx, id).await?;
                let tier = engine::MemberTier::of(&mut tx, &in_force, id).await?;
                engine::member_input(&m, &a, &tier, zone.today(now))
            }
            (None, None) => json!({}),
        };
        cases.push(Case { event, member });
        meta.push((None, e.member_id));
    }
    if last > 0 {
        let recent = patron_db::points::recent_purchases(&mut tx, last).await?;
        let ids: Vec<Uuid> = recent.iter().map(|(p, _, _)| p.member_id).collect();
        let standings = match &in_force.ladder {
            Some(_) => patron_db::tiers::standings(&mut tx, &ids).await?,
            None => Default::default(),
        };
        for (p, m, a) in recent {
            let today = zone.today(p.occurred_at);
            let tier = match &in_force.ladder {
                Some(l) => engine::MemberTier::from_code(
                    &l.ladder,
                    standings.get(&p.member_id).map(|s| s.tier.as_str()),
                ),
                None => engine::MemberTier::default(),
            };
            cases.push(Case {
                event: json!({
                    "kind": "purchase",
                    "amount": p.amount,
                    "currency": p.currency,
                    "items": p.items,
                    "store": p.store,
                    "time": engine::event_time(p.occurred_at, zone),
                }),
                member: engine::member_input(&m, &a, &tier, today),
            });
            meta.push((Some(p.id), Some(p.member_id)));
        }
    }
    let active = active_version(&mut tx, &trigger).await?;
    // Nothing is written: the transaction only read.
    drop(tx);
    let pool = rules
        .runner()
        .ok_or_else(|| engine::unavailable_error(&engine::unavailable()))?;
    let draft_key = RuleKey {
        tenant: tenant.id,
        version: DRAFT_VERSION,
    };
    let draft_run = pool.eval_batch(draft_key, &script, &cases);
    let active_run = async {
        match &active {
            Some(a) => pool
                .eval_batch(
                    RuleKey {
                        tenant: tenant.id,
                        version: i64::from(a.version),
                    },
                    &a.script,
                    &cases,
                )
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let (draft, active_results) = tokio::join!(draft_run, active_run);
    let draft = match draft {
        Ok(d) => d,
        Err(e) if e.kind == RuleErrorKind::Compile => {
            return Err(engine::compile_problem(&RuleFailure::from(&e), "script"))
        }
        Err(e) => return Err(engine::unavailable_error(&e)),
    };
    let active_results = active_results.map_err(|e| engine::unavailable_error(&e))?;
    let (totals, cases, most_affected) = tally(draft, active_results, &meta);
    Ok(Simulation {
        trigger,
        active_version: active.map(|a| a.version),
        totals,
        most_affected,
        cases,
    })
}

type Answers = Vec<Result<Outcome, RuleError>>;

/// Compares the draft's answers with the version in force's (none: every case's active
/// points are 0), case by case (`meta`: each case's purchase and member): the totals, the
/// first [`MAX_CASES_SHOWN`] cases, and the [`MOST_AFFECTED`] members whose points change
/// most (largest change first, then by id).
pub fn tally(
    draft: Answers,
    active: Option<Answers>,
    meta: &[(Option<Uuid>, Option<Uuid>)],
) -> (SimTotals, Vec<SimCase>, Vec<SimMember>) {
    let mut totals = SimTotals {
        cases: draft.len() as i64,
        ..SimTotals::default()
    };
    let mut per_member: HashMap<Uuid, (i64, i64)> = HashMap::new();
    let mut out = Vec::new();
    for (i, d) in draft.into_iter().enumerate() {
        let (draft_points, draft_reasons, draft_error) = match d {
            Ok(o) => (o.points, engine::reasons_of(&o), None),
            Err(e) => {
                totals.draft_errors += 1;
                (0, Vec::new(), Some(RuleFailure::from(&e)))
            }
        };
        let (active_points, active_error) = match active.as_ref().map(|r| &r[i]) {
            Some(Ok(o)) => (o.points, None),
            Some(Err(e)) => {
                totals.active_errors += 1;
                (0, Some(RuleFailure::from(e)))
            }
            None => (0, None),
        };
        totals.draft_points += draft_points;
        totals.active_points += active_points;
        if draft_points != active_points {
            totals.changed += 1;
        }
        let (purchase_id, member_id) = meta[i];
        if let Some(m) = member_id {
            let e = per_member.entry(m).or_default();
            e.0 += draft_points;
            e.1 += active_points;
        }
        if out.len() < MAX_CASES_SHOWN {
            out.push(SimCase {
                index: i as i64,
                purchase_id,
                member_id,
                draft_points,
                active_points,
                difference: draft_points - active_points,
                draft_reasons,
                draft_error,
                active_error,
            });
        }
    }
    totals.difference = totals.draft_points - totals.active_points;
    let mut most: Vec<SimMember> = per_member
        .into_iter()
        .filter(|(_, (d, a))| d != a)
        .map(|(member_id, (d, a))| SimMember {
            member_id,
            draft_points: d,
            active_points: a,
            difference: d - a,
        })
        .collect();
    most.sort_by(|a, b| {
        b.difference
            .abs()
            .cmp(&a.difference.abs())
            .then(a.member_id.cmp(&b.member_id))
    });
    most.truncate(MOST_AFFECTED);
    (totals, out, most)
}

#[cfg(test)]
mod tests {
    use super::*;
    use patron_core::rules::RuleErrorKind;

    fn points(n: i64) -> Result<Outcome, RuleError> {
        Ok(Outcome {
            points: n,
            ..Outcome::default()
        })
    }

    #[test]
    fn the_draft_is_compared_case_by_case_and_members_are_ranked_by_change() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let draft = vec![points(10), points(5), points(7)];
        let active = vec![points(4), points(5), points(1)];
        let meta = [(None, Some(a)), (None, Some(b)), (None, Some(a))];
        let (totals, cases, most) = tally(draft, Some(active), &meta);
        assert_eq!(totals.cases, 3);
        assert_eq!((totals.draft_points, totals.active_points), (22, 10));
        assert_eq!((totals.difference, totals.changed), (12, 2));
        assert_eq!(cases[0].difference, 6);
        // b's points do not change, so only a is named.
        assert_eq!(most.len(), 1);
        assert_eq!((most[0].member_id, most[0].difference), (a, 12));
    }

    #[test]
    fn failures_count_as_no_points_and_without_a_version_in_force_everything_is_new() {
        let draft = vec![
            Err(RuleError::new(RuleErrorKind::Runtime, "boom")),
            points(3),
        ];
        let (totals, cases, _) = tally(draft, None, &[(None, None), (None, None)]);
        assert_eq!((totals.draft_errors, totals.active_errors), (1, 0));
        assert_eq!((totals.draft_points, totals.changed), (3, 1));
        assert_eq!(cases[0].draft_error.as_ref().unwrap().kind, "runtime");
        assert_eq!(cases[1].active_points, 0);
    }

    #[test]
    fn only_the_first_thousand_cases_are_shown_but_all_are_counted() {
        let n = MAX_CASES_SHOWN + 5;
        let draft = (0..n).map(|_| points(1)).collect();
        let meta = vec![(None, None); n];
        let (totals, cases, _) = tally(draft, None, &meta);
        assert_eq!(totals.cases, n as i64);
        assert_eq!(cases.len(), MAX_CASES_SHOWN);
    }
}
