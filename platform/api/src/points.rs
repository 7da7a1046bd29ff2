//! A member's points: balance and history, redemption, adjustments by hand, daily
//! check-ins, custom events from integrations, and the business's point settings.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_events;
use crate::edge::state::ApiState;
use crate::edge::views::{PointReasonView, RuleFailureView};
use crate::purchases::{
    check_external_id, local_date, member_ref, request_hash, resolve_member, run_rule, summary,
    MAX_AMOUNT,
};
use chrono::{DateTime, Duration, Utc};
use patron_app::engine::{self, PointReason};
use patron_core::access::Permission;
use patron_core::points::{self as core_points, PointSettings};
use patron_db::members::{self, Member};
use patron_db::points::{self, Account, Source};
use patron_db::{DbError, TenantTx};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Balances, the ledger, redemption, adjustments, check-ins, custom events.
    Points,
}

/// Points that expire on one date.
#[derive(Debug, Object)]
pub struct Expiring {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// A member's points at a glance.
#[derive(Debug, Object)]
pub struct PointsSummary {
    pub member_id: Uuid,
    /// Spendable points (negative when a refund took back more than was left and the
    /// business allows it).
    pub balance: i64,
    /// Points owed after refunds, settled by the next earnings.
    pub debt: i64,
    /// What the balance is worth at checkout, in minor units.
    pub balance_value: i64,
    pub earned_total: i64,
    pub redeemed_total: i64,
    pub expired_total: i64,
    pub spend_total: i64,
    pub visits: i64,
    pub streak: i32,
    pub last_check_in: Option<chrono::NaiveDate>,
    /// The soonest expiries, grouped by instant.
    pub expiring: Vec<Expiring>,
}

/// One ledger entry.
#[derive(Debug, Object)]
pub struct EntryView {
    pub id: i64,
    /// `earn`, `redeem`, `expire`, `adjust` or `reverse`.
    pub kind: String,
    /// Signed: positive adds to the balance.
    pub points: i64,
    /// The balance after this entry.
    pub balance: i64,
    /// What produced it: `purchase`, `refund`, `check_in`, `referral`, `event`,
    /// `redemption`, `adjustment`, `expiry`, `debt`.
    pub source: String,
    pub source_id: String,
    pub rule_version: Option<i32>,
    pub reason: String,
    pub detail: Option<Value>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    /// Pass as `before` for older entries.
    pub next_cursor: Option<i64>,
}

/// A change of points by hand.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(deny_unknown_fields)]
pub struct NewAdjustment {
    /// Makes retries safe: the same key and body return the first answer.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: String,
    /// Points to add (positive) or take away (negative).
    pub points: i64,
    /// Why; shown in the member's history.
    #[oai(validator(max_length = 500))]
    pub reason: String,
}

/// Spending points: for a reward (`reward` and `points`), or as money off a purchase
/// (`purchase_amount`, and `points` if not the most allowed).
#[derive(Debug, Clone, Object, Serialize)]
#[oai(deny_unknown_fields)]
pub struct NewRedemption {
    #[oai(validator(max_length = 100))]
    pub idempotency_key: String,
    /// Points to spend. For a deduction, defaults to as many as the balance and the
    /// business's cap allow.
    pub points: Option<i64>,
    /// What the points buy (a reward's name).
    #[oai(validator(max_length = 200))]
    pub reward: Option<String>,
    /// The amount of the purchase being paid, in minor units, for money off at checkout.
    pub purchase_amount: Option<i64>,
}

/// What a change of points did.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct PointsChange {
    pub member_id: Uuid,
    /// Points added (positive) or spent / taken (negative).
    pub points: i64,
    /// For a deduction: the money off, in minor units.
    pub value: Option<i64>,
    /// For a deduction: what is left to pay.
    pub amount_due: Option<i64>,
    pub balance: i64,
    pub entry_id: Option<i64>,
    #[serde(default)]
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum ChangeResponse {
    #[oai(status = 201)]
    Created(Json<PointsChange>),
    #[oai(status = 200)]
    Replayed(Json<PointsChange>),
}

/// A daily check-in.
#[derive(Debug, Object)]
pub struct CheckInResult {
    pub member_id: Uuid,
    pub day: chrono::NaiveDate,
    /// Consecutive days including today.
    pub streak: i32,
    pub points: i64,
    /// Of `points`, the streak bonus.
    pub streak_bonus: i64,
    pub reasons: Vec<PointReasonView>,
    pub rule_error: Option<RuleFailureView>,
    pub balance: i64,
    /// True when the member had already checked in today (nothing was earned again).
    pub already: bool,
}

/// An event from an integration that may earn points (a class attended, a review written).
#[derive(Debug, Clone, Object, Serialize)]
#[oai(deny_unknown_fields)]
pub struct NewEvent {
    /// Your id for it; retries with the same id and body return the first answer.
    #[oai(validator(max_length = 100))]
    pub external_id: String,
    /// The event's name: letters, digits and `_`, as the rule for it is named
    /// (`event.<name>`).
    #[oai(validator(max_length = 40))]
    pub name: String,
    /// The member: exactly one of `member_id`, `card_number`, `phone`.
    pub member_id: Option<Uuid>,
    #[oai(validator(max_length = 40))]
    pub card_number: Option<String>,
    /// In any formatting; read in the business's phone region.
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    /// An amount, if the event has one, in minor units.
    pub amount: Option<i64>,
    /// Anything else about the event; the rule sees it as `event.properties`.
    pub properties: Option<Value>,
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct EventResult {
    pub event_id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub name: String,
    pub points: i64,
    pub reasons: Vec<PointReasonView>,
    pub rule_version: Option<i32>,
    pub rule_error: Option<RuleFailureView>,
    pub balance: i64,
    #[serde(default)]
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum EventResponse {
    #[oai(status = 201)]
    Created(Json<EventResult>),
    #[oai(status = 200)]
    Replayed(Json<EventResult>),
}

/// The business's point settings. See docs/points.md.
#[derive(Debug, Object)]
pub struct PointSettingsView {
    /// `{"mode": "never"}`, `{"mode": "days", "days": 365}`,
    /// `{"mode": "end_of_month", "months": 12}` or `{"mode": "end_of_year", "months": 12}`.
    pub expiry: Value,
    /// `debt` or `negative`.
    pub refund_shortfall: String,
    pub redeem_points: i64,
    pub redeem_value: i64,
    pub min_redeem_points: i64,
    pub max_deduction_percent: i64,
    pub check_in_points: i64,
    pub streak_days: i64,
    pub streak_bonus: i64,
}

fn settings_view(s: &PointSettings) -> PointSettingsView {
    let v = serde_json::to_value(s).expect("serialisable");
    PointSettingsView {
        expiry: v["expiry"].clone(),
        refund_shortfall: v["refund_shortfall"].as_str().unwrap_or("debt").to_owned(),
        redeem_points: s.redeem_points,
        redeem_value: s.redeem_value,
        min_redeem_points: s.min_redeem_points,
        max_deduction_percent: s.max_deduction_percent,
        check_in_points: s.check_in_points,
        streak_days: s.streak_days,
        streak_bonus: s.streak_bonus,
    }
}

pub struct PointsApi {
    pub state: ApiState,
}

async fn member_of(tx: &mut TenantTx, id: Uuid) -> Result<Member, ApiError> {
    let m = members::get(tx, id).await.map_err(|e| match e {
        DbError::NotFound => ApiError::not_found("member"),
        other => other.into(),
    })?;
    if m.status == "erased" {
        return Err(ApiError::conflict(
            "member_erased",
            None,
            "this member was erased",
        ));
    }
    Ok(m)
}

/// Answers a retry with the first answer, or 409 when the key came with another body.
async fn replayed<T: serde::de::DeserializeOwned>(
    tx: &mut TenantTx,
    scope: &str,
    key: &str,
    hash: &[u8],
    field: &str,
) -> Result<Option<T>, ApiError> {
    match points::replay(tx, scope, key, hash).await {
        Ok(Some(v)) => Ok(Some(
            serde_json::from_value(v).map_err(|e| ApiError::internal(&e))?,
        )),
        Ok(None) => Ok(None),
        Err(DbError::Conflict(_)) => Err(key_reused(field)),
        Err(e) => Err(e.into()),
    }
}

/// 409: the idempotency key (`field`) came before with another body.
fn key_reused(field: &str) -> ApiError {
    ApiError::conflict(
        "idempotency_key_reused",
        Some(field),
        "this key was used before with a different request",
    )
}

/// The summary of an account.
pub async fn summary_of(
    tx: &mut TenantTx,
    a: &Account,
    settings: &PointSettings,
) -> Result<PointsSummary, ApiError> {
    let mut expiring: Vec<Expiring> = Vec::new();
    for lot in points::open_lots(tx, a.member_id).await? {
        let Some(at) = lot.expires_at else { continue };
        if let Some(e) = expiring.last_mut().filter(|e| e.expires_at == at) {
            e.points += lot.remaining;
        } else if expiring.len() >= 5 {
            break;
        } else {
            expiring.push(Expiring {
                points: lot.remaining,
                expires_at: at,
            });
        }
    }
    Ok(PointsSummary {
        member_id: a.member_id,
        balance: a.balance,
        debt: a.debt,
        balance_value: settings.value_of(a.balance.max(0)),
        earned_total: a.earned_total,
        redeemed_total: a.redeemed_total,
        expired_total: a.expired_total,
        spend_total: a.spend_total,
        visits: a.visits,
        streak: a.streak,
        last_check_in: a.last_check_in,
        expiring,
    })
}

pub fn entry_view(e: points::Entry) -> EntryView {
    EntryView {
        id: e.id,
        kind: e.kind,
        points: e.points,
        balance: e.balance,
        source: e.source,
        source_id: e.source_id,
        rule_version: e.rule_version,
        reason: e.reason,
        detail: e.detail,
        actor: e.actor,
        at: e.at,
    }
}

/// Checks in a member for today (local): the check-in rule (or the settings' fixed points)
/// plus the streak bonus. A second check-in the same day earns nothing.
pub async fn check_in(
    state: &ApiState,
    tx: &mut TenantTx,
    tenant: &patron_db::Tenant,
    member: &Member,
    actor: &str,
) -> Result<CheckInResult, ApiError> {
    let now = state.now();
    let today = local_date(tenant, now);
    let mut a = points::lock_account(tx, member.id, now).await?;
    if a.last_check_in == Some(today) {
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
    }
    let streak = if a.last_check_in == today.pred_opt() {
        a.streak + 1
    } else {
        1
    };
    let rules = state.rules.tenant(tx).await?;
    let zone = tenant.settings.zone();
    let tz = zone.tz();
    let (mut points, mut reasons, version, failure) = if rules.rules.contains_key("check_in") {
        let event = json!({
            "kind": "check_in",
            "time": engine::event_time(now, zone),
            "streak": streak,
        });
        let tier = engine::MemberTier::of(tx, &rules, member.id).await?;
        let input = engine::member_input(member, &a, &tier, today);
        run_rule(state, &rules, tenant.id, "check_in", &event, &input).await
    } else if rules.settings.check_in_points > 0 {
        let p = rules.settings.check_in_points;
        (
            p,
            vec![PointReason {
                points: p,
                reason: "daily check-in".into(),
                line: None,
            }],
            None,
            None,
        )
    } else {
        (0, Vec::new(), None, None)
    };
    let bonus = rules.settings.streak_bonus_for(i64::from(streak));
    if bonus > 0 {
        points += bonus;
        reasons.push(PointReason {
            points: bonus,
            reason: format!("{streak}-day check-in streak"),
            line: None,
        });
    }
    a.last_check_in = Some(today);
    a.streak = streak;
    let src = Source {
        kind: "check_in",
        id: today.to_string(),
        rule_version: version,
        reason: summary(&reasons),
        detail: Some(json!({ "streak": streak })),
        actor,
        at: now,
    };
    let expires = core_points::expires_at(rules.settings.expiry, now, tz);
    points::earn(tx, &mut a, points, &src, expires, today).await?;
    points::save_account(tx, &a, now).await?;
    points::record_check_in(tx, member.id, today, streak, points, now).await?;
    patron_app::tiers::after_event(tx, &state.rules, &rules, tenant, member.id, now, actor).await?;
    Ok(CheckInResult {
        member_id: member.id,
        day: today,
        streak,
        points,
        streak_bonus: bonus,
        reasons: reasons.into_iter().map(Into::into).collect(),
        rule_error: failure.map(Into::into),
        balance: a.balance,
        already: false,
    })
}

fn valid_event_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[OpenApi(tag = "Tag::Points")]
impl PointsApi {
    /// A member's balance, debt, totals and soonest expiries.
    #[oai(
        path = "/members/:id/points",
        method = "get",
        operation_id = "memberPoints"
    )]
    async fn summary(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PointsSummary>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        members::get(&mut tx, id.0).await.map_err(|e| match e {
            DbError::NotFound => ApiError::not_found("member"),
            other => other.into(),
        })?;
        let a = points::account(&mut tx, id.0).await?;
        let rules = self.state.rules.tenant(&mut tx).await?;
        let s = summary_of(&mut tx, &a, &rules.settings).await?;
        tx.commit().await?;
        Ok(Json(s))
    }

    /// A member's ledger, newest first.
    #[oai(
        path = "/members/:id/points/entries",
        method = "get",
        operation_id = "memberPointEntries"
    )]
    async fn entries(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        before: Query<Option<i64>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<EntryPage>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let limit = limit.0.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid_field("limit", "must be 1 to 200"));
        }
        members::get(&mut tx, id.0).await.map_err(|e| match e {
            DbError::NotFound => ApiError::not_found("member"),
            other => other.into(),
        })?;
        let rows = points::entries(&mut tx, id.0, before.0, limit).await?;
        let next_cursor = (rows.len() as i64 == limit)
            .then(|| rows.last().map(|e| e.id))
            .flatten();
        tx.commit().await?;
        Ok(Json(EntryPage {
            items: rows.into_iter().map(entry_view).collect(),
            next_cursor,
        }))
    }

    /// Add or take away points by hand, with a reason (needs `points:adjust`). Taking away
    /// cannot go below zero.
    #[oai(
        path = "/members/:id/points/adjustments",
        method = "post",
        operation_id = "adjustPoints"
    )]
    async fn adjust(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<NewAdjustment>,
    ) -> Result<ChangeResponse, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PointsAdjust))
            .await?;
        let mut v = patron_core::Validation::new();
        check_external_id(&mut v, "idempotency_key", &req.0.idempotency_key);
        if req.0.points == 0 || req.0.points.abs() > 1_000_000_000 {
            v.check::<()>(
                "points",
                Err("must be non-zero, at most 1000000000 either way".into()),
            );
        }
        if req.0.reason.trim().is_empty() {
            v.check::<()>("reason", Err("is required: say why".into()));
        }
        v.finish().map_err(ApiError::invalid)?;
        let member = member_of(&mut tx, id.0).await?;
        let now = self.state.now();
        let mut a = points::lock_account(&mut tx, member.id, now).await?;
        // Points past their expiry are never spent, even before the expiry job comes by.
        if points::expire(&mut tx, &mut a, now, "system:expiry").await? > 0 {
            points::save_account(&mut tx, &a, now).await?;
        }
        let key = format!("{}:{}", member.id, req.0.idempotency_key.trim());
        let hash = request_hash(&req.0);
        if let Some(mut r) =
            replayed::<PointsChange>(&mut tx, "adjustment", &key, &hash, "idempotency_key").await?
        {
            r.replayed = true;
            tx.commit().await?;
            return Ok(ChangeResponse::Replayed(Json(r)));
        }
        let subject = me.subject();
        let src = Source {
            kind: "adjustment",
            id: req.0.idempotency_key.trim().to_owned(),
            rule_version: None,
            reason: req.0.reason.trim().to_owned(),
            detail: None,
            actor: &subject,
            at: now,
        };
        let entry = if req.0.points > 0 {
            let rules = self.state.rules.tenant(&mut tx).await?;
            let zone = me.tenant.settings.zone();
            let tz = zone.tz();
            let expires = core_points::expires_at(rules.settings.expiry, now, tz);
            // An adjustment is not earning from activity: it does not count towards the
            // day's points for caps.
            let day_before = (a.day, a.day_points);
            let done = points::earn(
                &mut tx,
                &mut a,
                req.0.points,
                &src,
                expires,
                local_date(&me.tenant, now),
            )
            .await?;
            (a.day, a.day_points) = day_before;
            a.earned_total -= req.0.points;
            done.entry_id
        } else {
            let take = -req.0.points;
            if take > a.balance {
                return Err(ApiError::conflict(
                    "insufficient_points",
                    Some("points"),
                    format!("the member has {} points", a.balance.max(0)),
                ));
            }
            Some(points::take(&mut tx, &mut a, "adjust", take, &src, None).await?)
        };
        points::save_account(&mut tx, &a, now).await?;
        let result = PointsChange {
            member_id: member.id,
            points: req.0.points,
            value: None,
            amount_due: None,
            balance: a.balance,
            entry_id: entry,
            replayed: false,
        };
        points::remember(
            &mut tx,
            "adjustment",
            &key,
            &hash,
            &serde_json::to_value(&result).expect("serialisable"),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ChangeResponse::Created(Json(result)))
    }

    /// Spend points: for a reward, or as money off a purchase (within the business's ratio,
    /// minimum and cap; partial redemption allowed). The balance check and the debit are
    /// one step: concurrent redemptions never overdraw. Idempotent by `idempotency_key`.
    #[oai(
        path = "/members/:id/redemptions",
        method = "post",
        operation_id = "redeemPoints"
    )]
    async fn redeem(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<NewRedemption>,
    ) -> Result<ChangeResponse, ApiError> {
        if let Some(r) = redeem_once(&self.state, &auth, id.0, &req.0).await? {
            return Ok(r);
        }
        // The same key committed while this request waited for the account: start over,
        // which answers with that redemption (or a 409).
        redeem_once(&self.state, &auth, id.0, &req.0)
            .await?
            .ok_or_else(|| key_reused("idempotency_key"))
    }

    /// Check a member in for today (once a day; consecutive days make a streak).
    #[oai(
        path = "/members/:id/check-ins",
        method = "post",
        operation_id = "checkIn",
        transform = "needs_events"
    )]
    async fn check_in(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CheckInResult>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let member = member_of(&mut tx, id.0).await?;
        let r = check_in(&self.state, &mut tx, &me.tenant, &member, &me.subject()).await?;
        tx.commit().await?;
        Ok(Json(r))
    }

    /// Record a custom event from an integration; the rule `event.<name>` in force decides
    /// its points. Idempotent by `external_id`.
    #[oai(
        path = "/events",
        method = "post",
        operation_id = "recordEvent",
        transform = "needs_events"
    )]
    async fn event(
        &self,
        auth: TenantAuth,
        req: Json<NewEvent>,
    ) -> Result<EventResponse, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let now = self.state.now();
        let mut v = patron_core::Validation::new();
        check_external_id(&mut v, "external_id", &req.0.external_id);
        if !valid_event_name(&req.0.name) {
            v.check::<()>(
                "name",
                Err("must be 1 to 40 lowercase letters, digits or _".into()),
            );
        }
        if let Some(a) = req.0.amount {
            if !(0..=MAX_AMOUNT).contains(&a) {
                v.check::<()>("amount", Err(format!("must be 0 to {MAX_AMOUNT}")));
            }
        }
        match &req.0.properties {
            None | Some(Value::Object(_)) => {}
            Some(_) => {
                v.check::<()>("properties", Err("must be an object".into()));
            }
        }
        if req
            .0
            .properties
            .as_ref()
            .is_some_and(|p| p.to_string().len() > 16 * 1024)
        {
            v.check::<()>("properties", Err("must be at most 16 KiB".into()));
        }
        let occurred_at = req.0.occurred_at.unwrap_or(now);
        if occurred_at > now + Duration::minutes(10) {
            v.check::<()>("occurred_at", Err("must not be in the future".into()));
        }
        v.finish().map_err(ApiError::invalid)?;
        let member = resolve_member(
            &self.state,
            &mut tx,
            &me,
            &member_ref(req.0.member_id, &req.0.card_number, &req.0.phone),
        )
        .await?;
        let mut a = points::lock_account(&mut tx, member.id, now).await?;
        let hash = request_hash(&req.0);
        let external_id = req.0.external_id.trim().to_owned();
        if let Some((h, r)) = points::event_by_external_id(&mut tx, &external_id).await? {
            if h != hash {
                return Err(crate::purchases::external_id_reused());
            }
            let mut r: EventResult =
                serde_json::from_value(r).map_err(|e| ApiError::internal(&e))?;
            r.replayed = true;
            tx.commit().await?;
            return Ok(EventResponse::Replayed(Json(r)));
        }
        let rules = self.state.rules.tenant(&mut tx).await?;
        let zone = me.tenant.settings.zone();
        let tz = zone.tz();
        let today = local_date(&me.tenant, occurred_at);
        let trigger = format!("event.{}", req.0.name);
        let event = json!({
            "kind": req.0.name,
            "amount": req.0.amount.unwrap_or(0),
            "time": engine::event_time(occurred_at, zone),
            "properties": req.0.properties.clone().unwrap_or_else(|| json!({})),
        });
        let tier = engine::MemberTier::of(&mut tx, &rules, member.id).await?;
        let input = engine::member_input(&member, &a, &tier, today);
        let (earned, reasons, version, failure) =
            run_rule(&self.state, &rules, me.tenant.id, &trigger, &event, &input).await;
        let id = Uuid::now_v7();
        let subject = me.subject();
        let src = Source {
            kind: "event",
            id: id.to_string(),
            rule_version: version,
            reason: if reasons.is_empty() {
                req.0.name.clone()
            } else {
                summary(&reasons)
            },
            detail: Some(json!({ "name": req.0.name, "external_id": external_id })),
            actor: &subject,
            at: now,
        };
        let expires = core_points::expires_at(rules.settings.expiry, now, tz);
        points::earn(
            &mut tx,
            &mut a,
            earned,
            &src,
            expires,
            local_date(&me.tenant, now),
        )
        .await?;
        points::save_account(&mut tx, &a, now).await?;
        patron_app::tiers::after_event(
            &mut tx,
            &self.state.rules,
            &rules,
            &me.tenant,
            member.id,
            now,
            &subject,
        )
        .await?;
        let result = EventResult {
            event_id: id,
            external_id: external_id.clone(),
            member_id: member.id,
            name: req.0.name.clone(),
            points: earned,
            reasons: reasons.into_iter().map(Into::into).collect(),
            rule_version: version,
            rule_error: failure.map(Into::into),
            balance: a.balance,
            replayed: false,
        };
        points::insert_event(
            &mut tx,
            &points::NewEventRow {
                id,
                external_id: &external_id,
                hash: &hash,
                member_id: member.id,
                name: &req.0.name,
                amount: req.0.amount.unwrap_or(0),
                properties: req.0.properties.clone().unwrap_or_else(|| json!({})),
                occurred_at,
                points: earned,
                rule_version: version,
                rule_error: result
                    .rule_error
                    .as_ref()
                    .map(|e| serde_json::to_value(e).expect("serialisable")),
                at: now,
                response: serde_json::to_value(&result).expect("serialisable"),
            },
        )
        .await
        .map_err(|e| match e {
            DbError::Conflict(c) if c == "custom_events_external_id_key" => {
                crate::purchases::external_id_reused()
            }
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(EventResponse::Created(Json(result)))
    }

    /// The business's point settings.
    #[oai(
        path = "/points/settings",
        method = "get",
        operation_id = "getPointSettings"
    )]
    async fn get_settings(&self, auth: TenantAuth) -> Result<Json<PointSettingsView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        let s = points::settings(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(settings_view(&s)))
    }

    /// Change the point settings (expiry applies to points earned from now on).
    #[oai(
        path = "/points/settings",
        method = "put",
        operation_id = "setPointSettings"
    )]
    async fn set_settings(
        &self,
        auth: TenantAuth,
        req: Json<Value>,
    ) -> Result<Json<PointSettingsView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let s: PointSettings = serde_json::from_value(req.0).map_err(|e| {
            let msg = e.to_string();
            let field = msg
                .split('`')
                .nth(1)
                .filter(|f| !f.is_empty())
                .unwrap_or("settings")
                .to_owned();
            ApiError::invalid_field(&field, msg)
        })?;
        s.validate().map_err(ApiError::invalid)?;
        let now = self.state.now();
        points::set_settings(&mut tx, &s, &me.subject(), now).await?;
        patron_db::audit::record(
            &mut tx,
            now,
            &me.subject(),
            "points.settings",
            "points_settings",
            serde_json::to_value(&s).expect("serialisable"),
        )
        .await?;
        patron_db::rules::notify(&mut tx).await?;
        tx.commit().await?;
        self.state.rules.forget(me.tenant.id).await;
        Ok(Json(settings_view(&s)))
    }
}

/// One try at a redemption (see `PointsApi::redeem`); `None` when a request with the same
/// key committed after this one's read.
async fn redeem_once(
    state: &ApiState,
    auth: &TenantAuth,
    id: Uuid,
    req: &NewRedemption,
) -> Result<Option<ChangeResponse>, ApiError> {
    let (mut tx, me) = state
        .authorize(auth, Some(Permission::PurchasesWrite))
        .await?;
    let mut v = patron_core::Validation::new();
    check_external_id(&mut v, "idempotency_key", &req.idempotency_key);
    match (&req.reward, req.purchase_amount, req.points) {
        (Some(_), Some(_), _) => {
            v.check::<()>(
                "reward",
                Err("give either reward or purchase_amount".into()),
            );
        }
        (Some(r), None, p) => {
            if r.trim().is_empty() {
                v.check::<()>("reward", Err("must not be empty".into()));
            }
            if p.is_none() {
                v.check::<()>("points", Err("is required for a reward".into()));
            }
        }
        (None, Some(a), _) if !(1..=MAX_AMOUNT).contains(&a) => {
            v.check::<()>(
                "purchase_amount",
                Err("must be at least 1 (minor units)".into()),
            );
        }
        (None, None, _) => {
            v.check::<()>(
                "reward",
                Err("give either reward or purchase_amount".into()),
            );
        }
        _ => {}
    }
    if let Some(p) = req.points {
        if !(1..=1_000_000_000).contains(&p) {
            v.check::<()>("points", Err("must be 1 to 1000000000".into()));
        }
    }
    v.finish().map_err(ApiError::invalid)?;
    let member = member_of(&mut tx, id).await?;
    let now = state.now();
    let key = format!("{}:{}", member.id, req.idempotency_key.trim());
    let hash = request_hash(req);
    // The account's lock, whether any lot is past its expiry, and an earlier answer under
    // this key: one round trip.
    let (locked, expiry_due, earlier) =
        points::lock_for_change(&mut tx, member.id, now, "redemption", &key).await?;
    let mut a = match locked {
        Some(a) => a,
        None => points::lock_account(&mut tx, member.id, now).await?,
    };
    if let Some((h, response)) = earlier {
        if h != hash {
            return Err(key_reused("idempotency_key"));
        }
        let mut r: PointsChange =
            serde_json::from_value(response).map_err(|e| ApiError::internal(&e))?;
        r.replayed = true;
        tx.commit().await?;
        return Ok(Some(ChangeResponse::Replayed(Json(r))));
    }
    // Points past their expiry are never spent, even before the expiry job comes by.
    if expiry_due && points::expire(&mut tx, &mut a, now, "system:expiry").await? > 0 {
        points::save_account(&mut tx, &a, now).await?;
    }
    let rules = state.rules.tenant(&mut tx).await?;
    let s = &rules.settings;
    let available = a.balance.max(0);
    let (spend, value, due) = match req.purchase_amount {
        Some(amount) => {
            let cap = s.max_points_for_purchase(amount).min(available);
            let spend = req.points.unwrap_or(cap);
            if spend > s.max_points_for_purchase(amount) {
                return Err(ApiError::invalid_field(
                    "points",
                    format!(
                        "at most {} points may go towards this purchase",
                        s.max_points_for_purchase(amount)
                    ),
                ));
            }
            let value = s.value_of(spend).min(amount);
            (spend, Some(value), Some(amount - value))
        }
        None => (req.points.unwrap_or(0), None, None),
    };
    if spend < s.min_redeem_points {
        return Err(ApiError::invalid_field(
            "points",
            format!("a redemption uses at least {} points", s.min_redeem_points),
        ));
    }
    if spend > available {
        return Err(ApiError::conflict(
            "insufficient_points",
            Some("points"),
            format!("the member has {available} points"),
        ));
    }
    let subject = me.subject();
    let src = Source {
        kind: "redemption",
        id: req.idempotency_key.trim().to_owned(),
        rule_version: None,
        reason: match (&req.reward, value) {
            (Some(r), _) => r.trim().to_owned(),
            (None, Some(v)) => format!("{v} off a purchase"),
            _ => String::new(),
        },
        detail: Some(json!({ "purchase_amount": req.purchase_amount, "value": value })),
        actor: &subject,
        at: now,
    };
    a.balance -= spend;
    a.redeemed_total += spend;
    let mut result = PointsChange {
        member_id: member.id,
        points: -spend,
        value,
        amount_due: due,
        balance: a.balance,
        entry_id: None,
        replayed: false,
    };
    let answer = serde_json::to_value(&result).expect("serialisable");
    match points::redeem(&mut tx, &a, spend, &src, "redemption", &key, &hash, &answer).await {
        Ok(entry) => result.entry_id = Some(entry),
        Err(DbError::Conflict(c)) if c == "point_requests_pkey" => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(Some(ChangeResponse::Created(Json(result))))
}
