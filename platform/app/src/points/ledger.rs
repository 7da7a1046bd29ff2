//! The ledger as staff and members read it (a summary, the entries), and points changed by
//! hand.

use super::decide::{self, Expiring, Replayable};
use super::{check_external_id, member_of};
use crate::engine::RuleEngine;
use crate::idempotency::{self, Request};
use crate::{AppError, NotFoundAs};
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::idempotency::Scope;
use patron_core::points::{EntryKind, EntrySource, PointSettings};
use patron_core::reasons::Said;
use patron_db::points::{self, Account, Entry, Source};
use patron_db::{Tenant, TenantTx};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A member's points at a glance.
#[derive(Debug, Clone)]
pub struct PointsSummary {
    pub member_id: Uuid,
    pub balance: i64,
    pub debt: i64,
    pub balance_value: i64,
    pub earned_total: i64,
    pub redeemed_total: i64,
    pub expired_total: i64,
    pub spend_total: i64,
    pub visits: i64,
    pub streak: i32,
    pub last_check_in: Option<NaiveDate>,
    pub expiring: Vec<Expiring>,
}

/// The summary of an account at `now`: its figures, its value at checkout and the soonest
/// expiries. Lots past their expiry instant are counted out as if the expiry job had run.
pub async fn summary_of(
    tx: &mut TenantTx,
    a: &Account,
    settings: &PointSettings,
    now: DateTime<Utc>,
) -> Result<PointsSummary, AppError> {
    let lots = points::open_lots(tx, a.member_id).await?;
    let due = decide::due_at(lots.iter().map(|l| (l.remaining, l.expires_at)), now);
    let expiring = decide::soonest_expiries(
        lots.iter()
            .filter(|l| l.expires_at.is_none_or(|at| at > now))
            .map(|l| (l.remaining, l.expires_at)),
    );
    let balance = a.balance - due;
    Ok(PointsSummary {
        member_id: a.member_id,
        balance,
        debt: a.debt,
        balance_value: settings.value_of(balance.max(0)),
        earned_total: a.earned_total,
        redeemed_total: a.redeemed_total,
        expired_total: a.expired_total + due,
        spend_total: a.spend_total,
        visits: a.visits,
        streak: a.streak,
        last_check_in: a.last_check_in,
        expiring,
    })
}

/// A member's points summary (the member must exist; erased members still have one).
pub async fn summary(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    member_id: Uuid,
    check_member: bool,
    now: DateTime<Utc>,
) -> Result<PointsSummary, AppError> {
    if check_member {
        patron_db::members::get(tx, member_id)
            .await
            .not_found_as("member")?;
    }
    let a = points::account(tx, member_id).await?;
    let rules = engine.tenant(tx).await?;
    summary_of(tx, &a, &rules.settings, now).await
}

/// A page of a member's ledger, newest first.
#[derive(Debug)]
pub struct EntryPage {
    pub items: Vec<Entry>,
    /// Pass as `before` for older entries.
    pub next_cursor: Option<i64>,
}

/// A member's ledger, newest first, `limit` entries before entry `before`. Staff name the
/// member (checked to exist); the portal's member is known. Tier codes in reasons come with
/// the tiers' current names.
pub async fn entries(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    member_id: Uuid,
    before: Option<i64>,
    limit: i64,
    check_member: bool,
) -> Result<EntryPage, AppError> {
    if check_member {
        if !(1..=patron_core::PAGE_MAX).contains(&limit) {
            return Err(AppError::field(
                "limit",
                patron_core::Issue::out_of_range(1, patron_core::PAGE_MAX),
            ));
        }
        patron_db::members::get(tx, member_id)
            .await
            .not_found_as("member")?;
    }
    let mut rows = points::entries(tx, member_id, before, limit).await?;
    let names = engine.tenant(tx).await?.tier_names();
    for e in &mut rows {
        if let Some(p) = &mut e.reason_params {
            patron_core::reasons::name_tiers(p, &names);
        }
    }
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    Ok(EntryPage {
        items: rows,
        next_cursor,
    })
}

/// A change of points by hand (hashed as the caller sent it: the fields in this order).
#[derive(Debug, Clone, Serialize)]
pub struct NewAdjustment {
    pub idempotency_key: String,
    pub points: i64,
    pub reason: String,
}

/// What a change of points did (stored as the answer to a retry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointsChange {
    pub member_id: Uuid,
    pub points: i64,
    pub value: Option<i64>,
    pub amount_due: Option<i64>,
    pub balance: i64,
    pub entry_id: Option<i64>,
    #[serde(default)]
    pub replayed: bool,
}

impl Replayable for PointsChange {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

/// Adds or takes away points by hand, with a reason; taking away cannot go below zero.
/// Idempotent by the key (per member).
#[allow(clippy::too_many_arguments)]
pub async fn adjust(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    member_id: Uuid,
    adj: &NewAdjustment,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<PointsChange, AppError> {
    let mut v = patron_core::Validation::new();
    check_external_id(&mut v, "idempotency_key", &adj.idempotency_key);
    use patron_core::points::MAX_ADJUSTMENT;
    if adj.points == 0 || !(-MAX_ADJUSTMENT..=MAX_ADJUSTMENT).contains(&adj.points) {
        v.check::<()>(
            "points",
            Err(patron_core::Issue::new(
                patron_core::FieldCode::OutOfRange,
                "must be non-zero, at most 1000000000 either way",
            )
            .with("min", -MAX_ADJUSTMENT)
            .with("max", MAX_ADJUSTMENT)),
        );
    }
    if adj.reason.trim().is_empty() {
        v.check::<()>(
            "reason",
            Err(patron_core::Issue::new(
                patron_core::FieldCode::Required,
                "is required: say why",
            )),
        );
    }
    v.finish().map_err(AppError::invalid)?;
    let member = member_of(tx, member_id).await?;
    let req = Request::scoped(
        Scope::Adjustment,
        member.id,
        "idempotency_key",
        &adj.idempotency_key,
        adj,
    );
    idempotency::run(tx, &req, now, async |tx| {
        adjust_once(tx, engine, tenant, &member, adj, actor, now).await
    })
    .await
}

#[allow(clippy::too_many_arguments)]
async fn adjust_once(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    member: &patron_db::members::Member,
    adj: &NewAdjustment,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<PointsChange, AppError> {
    let mut a = points::lock_account(tx, member.id, now).await?;
    // Points past their expiry are never spent, even before the expiry job comes by.
    if points::expire(tx, &mut a, now, "system:expiry").await? > 0 {
        points::save_account(tx, &a, now).await?;
    }
    let src = Source {
        kind: EntrySource::Adjustment,
        id: adj.idempotency_key.trim().to_owned(),
        rule_version: None,
        reason: Said::words(adj.reason.trim()),
        detail: None,
        actor,
        at: now,
    };
    let entry = if adj.points > 0 {
        let rules = engine.tenant(tx).await?;
        let zone = tenant.settings.zone();
        let expires = decide::expiry_of(&rules.settings, now, zone);
        // An adjustment is not earning from activity: it does not count towards the
        // day's points for caps.
        let day_before = (a.day, a.day_points);
        let done = points::earn(tx, &mut a, adj.points, &src, expires, zone.today(now)).await?;
        (a.day, a.day_points) = day_before;
        a.earned_total -= adj.points;
        done.entry_id
    } else {
        let take = -adj.points;
        if take > a.balance {
            return Err(AppError::conflict(
                "insufficient_points",
                Some("points"),
                format!("the member has {} points", a.balance.max(0)),
            ));
        }
        Some(points::take(tx, &mut a, EntryKind::Adjust, take, &src, None).await?)
    };
    points::save_account(tx, &a, now).await?;
    let result = PointsChange {
        member_id: member.id,
        points: adj.points,
        value: None,
        amount_due: None,
        balance: a.balance,
        entry_id: entry,
        replayed: false,
    };
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "points.adjusted",
        member.id,
        serde_json::json!({ "points": adj.points, "reason": adj.reason.trim() }),
    )
    .await?;
    Ok(result)
}
