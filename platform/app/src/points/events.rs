//! Earning from activity other than purchases: the daily check-in (the check-in rule or the
//! settings' fixed points, plus the streak bonus) and custom events from integrations (the
//! rule `event.<name>`). Both go through the earn pipeline.

use super::decide::{self, Replayable};
use super::earn::{self, Credit, Ctx, Earning, RuleRun};
use super::{check_external_id, external_id_reused, request_hash, stored, MAX_AMOUNT};
use crate::engine::{self, MemberTier, PointReason, RuleFailure};
use crate::idempotency::{self, Request};
use crate::purchases::{resolve_member, MemberRef};
use crate::{AppError, OnConstraint};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::idempotency::Scope;
use patron_core::pii::PiiKeys;
use patron_core::points::EntrySource;
use patron_core::reasons::Said;
use patron_core::{Issue, MemberId};
use patron_db::members::Member;
use patron_db::{constraints, points, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// A daily check-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckInResult {
    pub member_id: Uuid,
    pub day: NaiveDate,
    /// Consecutive days including today.
    pub streak: i32,
    pub points: i64,
    /// Of `points`, the streak bonus.
    pub streak_bonus: i64,
    pub reasons: Vec<PointReason>,
    pub rule_error: Option<RuleFailure>,
    pub balance: i64,
    /// True when the member had already checked in today (nothing was earned again).
    pub already: bool,
}

/// Checks in a member for today (local): the check-in rule (or the settings' fixed points)
/// plus the streak bonus. A second check-in the same day earns nothing.
pub async fn check_in(
    tx: &mut TenantTx,
    engine: &engine::RuleEngine,
    tenant: &patron_db::Tenant,
    member: &Member,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<CheckInResult, AppError> {
    let zone = tenant.settings.zone();
    let today = zone.today(now);
    let mut a = points::lock_account(tx, member.id, now).await?;
    let Some(streak) = decide::check_in_streak(a.last_check_in, a.streak, today) else {
        return Ok(CheckInResult {
            member_id: member.id,
            day: today,
            streak: a.streak,
            points: 0,
            streak_bonus: 0,
            reasons: Vec::new(),
            rule_error: None,
            balance: a.balance,
            already: true,
        });
    };
    let rules = engine.tenant(tx).await?;
    let ctx = Ctx {
        engine,
        rules: &rules,
        tenant,
        now,
        actor,
    };
    let RuleRun {
        mut points,
        mut reasons,
        version,
        failure,
        ..
    } = if rules.rules.contains_key("check_in") {
        let event = json!({
            "kind": "check_in",
            "time": engine::event_time(now, zone),
            "streak": streak,
        });
        let tier = MemberTier::of(tx, &rules, member.id).await?;
        let input = engine::member_input(member, &a, &tier, today);
        earn::evaluate(engine, &rules, tenant.id, "check_in", &event, &input).await
    } else {
        let (points, reasons) = decide::fixed_check_in(&rules.settings);
        RuleRun {
            points,
            reasons,
            ..RuleRun::default()
        }
    };
    let bonus = decide::add_streak_bonus(&rules.settings, streak, &mut points, &mut reasons);
    a.last_check_in = Some(today);
    a.streak = streak;
    let credit = Credit {
        source: EntrySource::CheckIn,
        source_id: today.to_string(),
        rule_version: version,
        reason: decide::reason_line(&reasons),
        detail: Some(json!({ "streak": streak })),
    };
    earn::credit(tx, &ctx, &mut a, points, &credit.source(&ctx), today).await?;
    points::save_account(tx, &a, now).await?;
    points::record_check_in(tx, member.id, today, streak, points, now).await?;
    earn::tier_check(tx, &ctx, MemberId::new(member.id)).await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "member.checked_in",
        member.id,
        json!({ "points": points, "streak": streak }),
    )
    .await?;
    Ok(CheckInResult {
        member_id: member.id,
        day: today,
        streak,
        points,
        streak_bonus: bonus,
        reasons,
        rule_error: failure,
        balance: a.balance,
        already: false,
    })
}

/// An event from an integration, as the caller sent it (hashed in this field order).
#[derive(Debug, Clone, Serialize)]
pub struct NewEvent {
    pub external_id: String,
    pub name: String,
    pub member_id: Option<Uuid>,
    pub card_number: Option<String>,
    pub phone: Option<String>,
    pub amount: Option<i64>,
    pub properties: Option<Value>,
    pub occurred_at: Option<DateTime<Utc>>,
}

/// What a custom event earned (stored as the answer to a retry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventResult {
    pub event_id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub name: String,
    pub points: i64,
    pub reasons: Vec<PointReason>,
    pub rule_version: Option<i32>,
    pub rule_error: Option<RuleFailure>,
    pub balance: i64,
    /// Coupons the rule gave (or could not give).
    #[serde(default)]
    pub coupons: Vec<crate::coupons::issue::RuleCoupon>,
    #[serde(default)]
    pub replayed: bool,
}

impl Replayable for EventResult {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

/// An event name: 1 to 40 lowercase letters, digits or `_`.
pub fn valid_event_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check_event(req: &NewEvent, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    let mut v = patron_core::Validation::new();
    check_external_id(&mut v, "external_id", &req.external_id);
    if !valid_event_name(&req.name) {
        v.check::<()>(
            "name",
            Err(
                Issue::invalid_format("code", "must be 1 to 40 lowercase letters, digits or _")
                    .with("max", 40),
            ),
        );
    }
    if let Some(a) = req.amount {
        if !(0..=MAX_AMOUNT).contains(&a) {
            v.check::<()>("amount", Err(Issue::out_of_range(0, MAX_AMOUNT)));
        }
    }
    match &req.properties {
        None | Some(Value::Object(_)) => {}
        Some(_) => {
            v.check::<()>(
                "properties",
                Err(Issue::invalid_format("object", "must be an object")),
            );
        }
    }
    if req
        .properties
        .as_ref()
        .is_some_and(|p| p.to_string().len() > 16 * 1024)
    {
        v.check::<()>("properties", Err(Issue::too_big(16)));
    }
    let occurred_at = req.occurred_at.unwrap_or(now);
    if occurred_at > now + Duration::minutes(10) {
        v.check::<()>("occurred_at", Err(Issue::in_future()));
    }
    v.finish().map_err(AppError::invalid)?;
    Ok(occurred_at)
}

/// Records a custom event: the rule `event.<name>` in force decides its points.
/// Idempotent by `external_id`. The caller commits `tx`.
pub async fn record_event(
    tx: &mut TenantTx,
    engine: &engine::RuleEngine,
    tenant: &patron_db::Tenant,
    pii: &PiiKeys,
    req: &NewEvent,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<EventResult, AppError> {
    let occurred_at = check_event(req, now)?;
    let named = MemberRef {
        member_id: req.member_id,
        card_number: req.card_number.clone(),
        phone: req.phone.clone(),
    };
    let key = Request::global(Scope::Event, "external_id", &req.external_id, req);
    idempotency::run(tx, &key, now, async |tx| {
        event_once(
            tx,
            engine,
            tenant,
            pii,
            req,
            &named,
            occurred_at,
            actor,
            now,
        )
        .await
    })
    .await
}

#[allow(clippy::too_many_arguments)]
async fn event_once(
    tx: &mut TenantTx,
    engine: &engine::RuleEngine,
    tenant: &patron_db::Tenant,
    pii: &PiiKeys,
    req: &NewEvent,
    named: &MemberRef,
    occurred_at: DateTime<Utc>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<EventResult, AppError> {
    let member = resolve_member(tx, tenant, pii, named).await?;
    let mut a = points::lock_account(tx, member.id, now).await?;
    let hash = request_hash(req);
    let external_id = req.external_id.trim().to_owned();
    if let Some((h, r)) = points::event_by_external_id(tx, &external_id).await? {
        return decide::replay(&h, &hash, stored::<EventResult>(r)?).ok_or_else(external_id_reused);
    }
    let rules = engine.tenant(tx).await?;
    let zone = tenant.settings.zone();
    let trigger = format!("event.{}", req.name);
    let event = json!({
        "kind": req.name,
        "amount": req.amount.unwrap_or(0),
        "time": engine::event_time(occurred_at, zone),
        "properties": req.properties.clone().unwrap_or_else(|| json!({})),
    });
    let id = Uuid::now_v7();
    let ctx = Ctx {
        engine,
        rules: &rules,
        tenant,
        now,
        actor,
    };
    let run = earn::earn(
        tx,
        &ctx,
        &member,
        &mut a,
        Earning {
            trigger: &trigger,
            event: &event,
            rule_day: zone.today(occurred_at),
            source: EntrySource::Event,
            source_id: id.to_string(),
            fallback_reason: Said::words(req.name.clone()),
            detail: Some(json!({ "name": req.name, "external_id": external_id })),
        },
    )
    .await?;
    // Coupons the rule gives, in the event's transaction: a replay gives none again.
    let coupons =
        crate::coupons::issue::give_for_rule(tx, zone, &run.coupons, &[], member.id, actor, now)
            .await?;
    let result = EventResult {
        event_id: id,
        external_id: external_id.clone(),
        member_id: member.id,
        name: req.name.clone(),
        points: run.points,
        reasons: run.reasons,
        rule_version: run.version,
        rule_error: run.failure,
        balance: a.balance,
        coupons,
        replayed: false,
    };
    points::insert_event(
        tx,
        &points::NewEventRow {
            id,
            external_id: &external_id,
            hash: &hash,
            member_id: member.id,
            name: &req.name,
            amount: req.amount.unwrap_or(0),
            properties: req.properties.clone().unwrap_or_else(|| json!({})),
            occurred_at,
            points: run.points,
            rule_version: run.version,
            rule_error: result
                .rule_error
                .as_ref()
                .map(|e| serde_json::to_value(e).expect("serialisable")),
            at: now,
            response: serde_json::to_value(&result).expect("serialisable"),
        },
    )
    .await
    .on_constraint(constraints::CUSTOM_EVENTS_EXTERNAL_ID, external_id_reused)?;
    Ok(result)
}
