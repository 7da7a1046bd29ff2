//! The preview of a draft ladder: every member run through it (`evaluation::qualify`, as a
//! publish would), counted per tier against the ladder in force, with who would move and
//! whom the draft's script failed for. Nothing is written.

use super::evaluation::{self, Qualified, DRAFT_VERSION};
use super::ladder::{
    check_script, counts_of, current_counts, given_or_draft, script_field, stored, TierCount,
};
use crate::engine::{RuleEngine, RuleFailure};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::clock::Clock;
use patron_core::tiers::{self as core_tiers, Ladder, Standing};
use patron_db::{members, tiers, Tenant, TenantTx};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// How many of the members a preview would move it names.
const PREVIEW_MOVES: usize = 100;
/// How many of the members a draft's script failed for a preview names.
const PREVIEW_ERROR_SAMPLES: usize = 20;
/// Members per page of a preview.
const PREVIEW_PAGE: i64 = 2000;

/// A member a preview would move.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewMove {
    pub member_id: Uuid,
    pub name: String,
    pub from: String,
    pub to: String,
    pub metric: i64,
}

/// A member the draft's script failed for.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewError {
    pub member_id: Uuid,
    pub name: String,
    pub error: RuleFailure,
}

/// Members per tier now and under the draft, and who would move.
#[derive(Debug)]
pub struct Preview {
    pub total: i64,
    pub now: Vec<TierCount>,
    pub draft: Vec<TierCount>,
    /// How many members would change tier.
    pub moving: i64,
    /// The first 100 of them.
    pub moves: Vec<PreviewMove>,
    /// Members the draft's script failed for (counted on their current tier, which a
    /// publish would leave them on).
    pub errors: i64,
    /// The first 20 of them.
    pub error_samples: Vec<PreviewError>,
}

/// What a preview has counted so far, member by member (pure: the caller reads the pages).
#[derive(Debug, Default)]
pub struct Tally {
    pub total: i64,
    pub moving: i64,
    /// Members per tier code under the draft.
    pub draft_counts: HashMap<String, i64>,
    /// The first movers: member, from (under the ladder in force; empty without one), to,
    /// metric.
    pub moves: Vec<(Uuid, String, String, i64)>,
    pub errors: i64,
    pub error_samples: Vec<(Uuid, RuleFailure)>,
}

impl Tally {
    /// Counts one member: where the draft puts them (as a publish would: their pin holds;
    /// when the script fails for them, or says nothing, they stay where they are), and
    /// whether that is a move from their tier under `current`.
    pub fn add(
        &mut self,
        draft: &Ladder,
        current: Option<&Ladder>,
        id: Uuid,
        standing: &Standing,
        qualified: Option<&Qualified>,
        now: DateTime<Utc>,
    ) {
        self.total += 1;
        let (metric, to) = match qualified.map(|x| (x.metric, &x.q)) {
            Some((metric, Ok(q))) => (
                metric,
                &draft.tiers[core_tiers::applied(draft, standing, *q, now)].code,
            ),
            other => {
                // As a publish would: the member stays where they are.
                self.errors += 1;
                if let Some((_, Err(f))) = other {
                    if self.error_samples.len() < PREVIEW_ERROR_SAMPLES {
                        self.error_samples.push((id, f.clone()));
                    }
                }
                let metric = other.map_or(0, |o| o.0);
                (metric, &draft.tier(standing.tier.as_deref()).code)
            }
        };
        *self.draft_counts.entry(to.clone()).or_default() += 1;
        let from = match current {
            Some(l) => l.tier(standing.tier.as_deref()).code.clone(),
            None => String::new(),
        };
        if &from != to {
            self.moving += 1;
            if self.moves.len() < PREVIEW_MOVES {
                self.moves.push((id, from, to.clone(), metric));
            }
        }
    }
}

/// How many members would stand on each tier under a draft (the given ladder, else the
/// saved draft), compared with now, and who would move. Nothing is written; the caller
/// drops the transaction.
pub async fn preview(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    clock: &dyn Clock,
    tenant: &Tenant,
    given: Option<Value>,
) -> Result<Preview, AppError> {
    let field = script_field(given.is_some());
    let draft = given_or_draft(tx, given).await?;
    check_script(engine, tenant.id, &draft, field).await?;
    let now = clock.now();
    let current = match tiers::active(tx).await? {
        Some(v) => Some(stored(v.ladder)?),
        None => None,
    };
    let mut after = None;
    let mut tally = Tally::default();
    loop {
        let ids = tiers::member_page(tx, after, PREVIEW_PAGE).await?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        after = Some(last);
        let rows = tiers::standings(tx, &ids).await?;
        let qualified =
            evaluation::qualify(tx, engine, tenant, &draft, DRAFT_VERSION, &ids, &rows, now)
                .await?;
        for id in &ids {
            let standing = rows.get(id).map(|r| r.standing()).unwrap_or_default();
            tally.add(
                &draft,
                current.as_ref(),
                *id,
                &standing,
                qualified.get(id),
                now,
            );
        }
    }
    let mut moves = Vec::with_capacity(tally.moves.len());
    for (id, from, to, metric) in tally.moves {
        let m = members::get(tx, id).await?;
        moves.push(PreviewMove {
            member_id: id,
            name: m.name,
            from,
            to,
            metric,
        });
    }
    let mut error_samples = Vec::with_capacity(tally.error_samples.len());
    for (id, error) in tally.error_samples {
        let m = members::get(tx, id).await?;
        error_samples.push(PreviewError {
            member_id: id,
            name: m.name,
            error,
        });
    }
    let now_counts = match &current {
        Some(l) => current_counts(tx, l).await?,
        None => Vec::new(),
    };
    Ok(Preview {
        total: tally.total,
        now: now_counts,
        draft: counts_of(&draft, &tally.draft_counts),
        moving: tally.moving,
        moves,
        errors: tally.errors,
        error_samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use patron_core::tiers::Pin;

    fn ladder(tiers: &[(&str, i64)]) -> Ladder {
        Ladder::from_thresholds(tiers)
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn on(code: &str) -> Standing {
        Standing {
            tier: Some(code.into()),
            ..Standing::default()
        }
    }

    fn ok(metric: i64, q: usize) -> Qualified {
        Qualified { metric, q: Ok(q) }
    }

    fn failed(metric: i64) -> Qualified {
        Qualified {
            metric,
            q: Err(RuleFailure {
                kind: "runtime".into(),
                message: "boom".into(),
                line: Some(3),
                column: Some(7),
                limit: None,
            }),
        }
    }

    #[test]
    fn a_member_who_qualifies_higher_under_the_draft_is_counted_as_a_move() {
        let current = ladder(&[("base", 0), ("gold", 500)]);
        let draft = ladder(&[("base", 0), ("silver", 100), ("gold", 500)]);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut t = Tally::default();

        t.add(
            &draft,
            Some(&current),
            a,
            &on("base"),
            Some(&ok(150, 1)),
            now(),
        );
        t.add(
            &draft,
            Some(&current),
            b,
            &on("base"),
            Some(&ok(10, 0)),
            now(),
        );

        assert_eq!(t.total, 2);
        assert_eq!(t.moving, 1);
        assert_eq!(t.moves, vec![(a, "base".into(), "silver".into(), 150)]);
        assert_eq!(t.draft_counts.get("silver"), Some(&1));
        assert_eq!(t.draft_counts.get("base"), Some(&1));
        assert_eq!(t.errors, 0);
    }

    #[test]
    fn a_member_the_script_failed_for_stays_on_their_tier_and_is_sampled() {
        let draft = ladder(&[("base", 0), ("silver", 100)]);
        let id = Uuid::from_u128(7);
        let mut t = Tally::default();

        t.add(
            &draft,
            Some(&draft),
            id,
            &on("silver"),
            Some(&failed(42)),
            now(),
        );
        t.add(
            &draft,
            Some(&draft),
            Uuid::from_u128(8),
            &on("silver"),
            None,
            now(),
        );

        assert_eq!(t.errors, 2);
        // Only a real failure is a sample; a member the script said nothing about is not.
        assert_eq!(t.error_samples.len(), 1);
        assert_eq!(t.error_samples[0].0, id);
        assert_eq!(t.error_samples[0].1.message, "boom");
        assert_eq!(t.draft_counts.get("silver"), Some(&2));
        assert_eq!(t.moving, 0);
    }

    #[test]
    fn a_pin_that_holds_keeps_the_member_on_the_pinned_tier_in_a_preview() {
        let draft = ladder(&[("base", 0), ("gold", 500)]);
        let pinned = Standing {
            tier: Some("gold".into()),
            below_since: None,
            pin: Some(Pin {
                tier: "gold".into(),
                until: now() + Duration::days(30),
            }),
        };
        let lapsed = Standing {
            pin: Some(Pin {
                tier: "gold".into(),
                until: now() - Duration::days(1),
            }),
            ..pinned.clone()
        };
        let mut t = Tally::default();

        t.add(
            &draft,
            Some(&draft),
            Uuid::from_u128(1),
            &pinned,
            Some(&ok(0, 0)),
            now(),
        );
        t.add(
            &draft,
            Some(&draft),
            Uuid::from_u128(2),
            &lapsed,
            Some(&ok(0, 0)),
            now(),
        );

        assert_eq!(t.draft_counts.get("gold"), Some(&1));
        assert_eq!(t.draft_counts.get("base"), Some(&1));
        assert_eq!(t.moving, 1);
        assert_eq!(t.moves[0].0, Uuid::from_u128(2));
    }

    #[test]
    fn without_a_ladder_in_force_everyone_moves_from_nowhere() {
        let draft = ladder(&[("base", 0)]);
        let mut t = Tally::default();

        t.add(
            &draft,
            None,
            Uuid::from_u128(1),
            &Standing::default(),
            Some(&ok(0, 0)),
            now(),
        );

        assert_eq!(t.moving, 1);
        assert_eq!(t.moves[0].1, "");
        assert_eq!(t.moves[0].2, "base");
    }

    #[test]
    fn a_preview_names_at_most_100_movers_and_20_failures_but_counts_them_all() {
        let draft = ladder(&[("base", 0), ("gold", 500)]);
        let mut t = Tally::default();

        for i in 0..150 {
            let id = Uuid::from_u128(i);
            t.add(
                &draft,
                Some(&draft),
                id,
                &on("base"),
                Some(&ok(900, 1)),
                now(),
            );
            t.add(
                &draft,
                Some(&draft),
                id,
                &on("base"),
                Some(&failed(1)),
                now(),
            );
        }

        assert_eq!(t.total, 300);
        assert_eq!(t.moving, 150);
        assert_eq!(t.moves.len(), 100);
        assert_eq!(t.errors, 150);
        assert_eq!(t.error_samples.len(), 20);
    }
}
