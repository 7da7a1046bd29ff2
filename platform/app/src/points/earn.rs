//! The earn pipeline: an event (a purchase, a check-in, a custom event, a referral, a
//! birthday) -> the rule in force for its trigger -> a ledger entry and its lot -> the tier
//! check. Each path takes the steps it needs, in this order, under the member's account
//! lock: [`evaluate`] (the rule), [`credit`] (entry, lot, debt settled, by the settings'
//! expiry), then `save_account` and [`tier_check`]. [`earn`] runs them all for the paths
//! that need nothing in between (custom events, referrals, check-ins); the purchase path in
//! `crate::purchases` stores its earning in one statement where it can.

use super::decide;
use crate::engine::{
    self, reasons_of, MemberTier, PointReason, RuleEngine, RuleFailure, TenantRules,
};
use crate::AppError;
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::points::EntrySource;
use patron_core::reasons::Said;
use patron_core::MemberId;
use patron_db::members::Member;
use patron_db::points::{self, Account, Earned, Source};
use patron_db::{Tenant, TenantTx};
use serde_json::Value;

/// Who is earning, when, and by whose hand: what every step of the pipeline needs.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub engine: &'a RuleEngine,
    pub rules: &'a TenantRules,
    pub tenant: &'a Tenant,
    pub now: DateTime<Utc>,
    /// `staff:<id>`, `key:<id>`, `member:<id>`, `system:<job>`.
    pub actor: &'a str,
}

/// What the rule in force for a trigger said: its points and reasons, its version, and why
/// it earned nothing when it failed.
#[derive(Debug, Clone, Default)]
pub struct RuleRun {
    pub points: i64,
    pub reasons: Vec<PointReason>,
    pub version: Option<i32>,
    pub failure: Option<RuleFailure>,
    /// Coupon templates the rule gives one coupon of (`give_coupon`).
    pub coupons: Vec<String>,
}

/// Runs the rule in force for `trigger` (if any) on `event` and `member` (as a rule sees
/// them). A failing rule earns nothing and says why.
pub async fn evaluate(
    engine: &RuleEngine,
    rules: &TenantRules,
    tenant: i64,
    trigger: &str,
    event: &Value,
    member: &Value,
) -> RuleRun {
    let Some(rule) = rules.rules.get(trigger) else {
        return RuleRun::default();
    };
    match engine.eval(tenant, rule, event, member).await {
        Ok(o) => RuleRun {
            points: o.points,
            reasons: reasons_of(&o),
            version: Some(rule.version),
            failure: None,
            coupons: o.coupons,
        },
        Err(e) => {
            tracing::info!(trigger, version = rule.version, error = %e, "a point rule failed");
            RuleRun {
                points: 0,
                reasons: Vec::new(),
                version: Some(rule.version),
                failure: Some(RuleFailure::from(&e)),
                coupons: Vec::new(),
            }
        }
    }
}

/// The ledger half of an earning: where the points come from and why.
pub struct Credit {
    pub source: EntrySource,
    pub source_id: String,
    pub rule_version: Option<i32>,
    pub reason: Said,
    pub detail: Option<Value>,
}

impl Credit {
    /// The ledger's view of it, at `ctx.now` by `ctx.actor`.
    pub fn source<'a>(&self, ctx: &Ctx<'a>) -> Source<'a> {
        Source {
            kind: self.source,
            id: self.source_id.clone(),
            rule_version: self.rule_version,
            reason: self.reason.clone(),
            detail: self.detail.clone(),
            actor: ctx.actor,
            at: ctx.now,
        }
    }
}

/// Credits `points` to the locked `account`: the entry and its lot, expiring by the
/// business's settings, any debt settled first. `day` is the local day of the earning (for
/// daily caps). The caller saves the account.
pub async fn credit(
    tx: &mut TenantTx,
    ctx: &Ctx<'_>,
    account: &mut Account,
    points: i64,
    src: &Source<'_>,
    day: NaiveDate,
) -> Result<Earned, AppError> {
    credit_earned_at(tx, ctx, account, points, src, day, ctx.now).await
}

/// As [`credit`], for points earned by something that happened at `earned_at` (a purchase
/// recorded later than it occurred): the lot's expiry counts from then.
pub async fn credit_earned_at(
    tx: &mut TenantTx,
    ctx: &Ctx<'_>,
    account: &mut Account,
    points: i64,
    src: &Source<'_>,
    day: NaiveDate,
    earned_at: DateTime<Utc>,
) -> Result<Earned, AppError> {
    let expires = decide::expiry_of(&ctx.rules.settings, earned_at, ctx.tenant.settings.zone());
    let earned = points::earn(tx, account, points, src, expires, day).await?;
    if let Some(entry_id) = earned.entry_id {
        crate::messages::record(
            tx,
            patron_core::messages::Event::PointsEarned,
            account.member_id,
            &entry_id.to_string(),
            serde_json::json!({
                "member_id": account.member_id,
                "points": points,
                "balance": account.balance,
                "entry_id": entry_id,
                "source": src.kind.as_str(),
                "reason": src.reason.text,
            }),
            ctx.now,
        )
        .await?;
    }
    Ok(earned)
}

/// The tier check after an event: the member's tier may change at once.
pub async fn tier_check(
    tx: &mut TenantTx,
    ctx: &Ctx<'_>,
    member: MemberId,
) -> Result<(MemberTier, MemberTier), AppError> {
    crate::tiers::after_event(
        tx, ctx.engine, ctx.rules, ctx.tenant, member, ctx.now, ctx.actor,
    )
    .await
}

/// An event for the whole pipeline: the trigger whose rule decides, the event as the rule
/// sees it, the local day the rule sees, and how the entry reads.
pub struct Earning<'e> {
    pub trigger: &'e str,
    pub event: &'e Value,
    /// The member's local day for the rule (`points_today`).
    pub rule_day: NaiveDate,
    pub source: EntrySource,
    pub source_id: String,
    /// The entry's reason when the rule gave none.
    pub fallback_reason: Said,
    pub detail: Option<Value>,
}

/// The whole pipeline for one member whose account is locked: the rule in force, the
/// ledger entry (on today's local day), the account saved, the tier check.
pub async fn earn(
    tx: &mut TenantTx,
    ctx: &Ctx<'_>,
    member: &Member,
    account: &mut Account,
    e: Earning<'_>,
) -> Result<RuleRun, AppError> {
    let tier = MemberTier::of(tx, ctx.rules, member.id).await?;
    let input = engine::member_input(member, account, &tier, e.rule_day);
    let run = evaluate(
        ctx.engine,
        ctx.rules,
        ctx.tenant.id,
        e.trigger,
        e.event,
        &input,
    )
    .await;
    let credit_of = Credit {
        source: e.source,
        source_id: e.source_id,
        rule_version: run.version,
        reason: decide::reason_or(&run.reasons, e.fallback_reason),
        detail: e.detail,
    };
    let today = ctx.tenant.settings.zone().today(ctx.now);
    credit(tx, ctx, account, run.points, &credit_of.source(ctx), today).await?;
    points::save_account(tx, account, ctx.now).await?;
    tier_check(tx, ctx, MemberId::new(member.id)).await?;
    Ok(run)
}
