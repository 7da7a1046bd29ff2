//! The points API's own request and answer bodies, converted to and from
//! `patron_app::points`. Views the portal returns too are in `crate::edge::point_views`.

use crate::edge::views::{PointReasonView, RuleCouponView, RuleFailureView};
use chrono::{DateTime, Utc};
use patron_app::points as app;
use patron_core::points::PointSettings;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

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

impl From<NewAdjustment> for app::NewAdjustment {
    fn from(r: NewAdjustment) -> Self {
        Self {
            idempotency_key: r.idempotency_key,
            points: r.points,
            reason: r.reason,
        }
    }
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
    /// The member's live member code (from their portal), when the redemption is above the
    /// business's `redemption_check_above`.
    #[oai(validator(max_length = 100))]
    pub member_code: Option<String>,
    /// Or the code sent to the member's phone by `sendRedemptionCode`.
    #[oai(validator(max_length = 20))]
    pub sms_code: Option<String>,
}

impl From<NewRedemption> for app::NewRedemption {
    fn from(r: NewRedemption) -> Self {
        Self {
            idempotency_key: r.idempotency_key,
            points: r.points,
            reward: r.reward,
            purchase_amount: r.purchase_amount,
            member_code: r.member_code,
            sms_code: r.sms_code,
        }
    }
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

impl From<app::PointsChange> for ChangeResponse {
    fn from(c: app::PointsChange) -> Self {
        let replayed = c.replayed;
        let v = PointsChange {
            member_id: c.member_id,
            points: c.points,
            value: c.value,
            amount_due: c.amount_due,
            balance: c.balance,
            entry_id: c.entry_id,
            replayed: c.replayed,
        };
        if replayed {
            Self::Replayed(Json(v))
        } else {
            Self::Created(Json(v))
        }
    }
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

impl From<NewEvent> for app::NewEvent {
    fn from(r: NewEvent) -> Self {
        Self {
            external_id: r.external_id,
            name: r.name,
            member_id: r.member_id,
            card_number: r.card_number,
            phone: r.phone,
            amount: r.amount,
            properties: r.properties,
            occurred_at: r.occurred_at,
        }
    }
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
    /// Coupons the event's rule gave, or could not give (the event stands).
    #[oai(default)]
    #[serde(default)]
    pub coupons: Vec<RuleCouponView>,
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

impl From<app::EventResult> for EventResponse {
    fn from(r: app::EventResult) -> Self {
        let replayed = r.replayed;
        let v = EventResult {
            event_id: r.event_id,
            external_id: r.external_id,
            member_id: r.member_id,
            name: r.name,
            points: r.points,
            reasons: r.reasons.into_iter().map(Into::into).collect(),
            rule_version: r.rule_version,
            rule_error: r.rule_error.map(Into::into),
            balance: r.balance,
            coupons: r.coupons.into_iter().map(Into::into).collect(),
            replayed: r.replayed,
        };
        if replayed {
            Self::Replayed(Json(v))
        } else {
            Self::Created(Json(v))
        }
    }
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
    /// A redemption of more points than this needs the member's confirmation
    /// (`member_code` or `sms_code`); absent: never.
    pub redemption_check_above: Option<i64>,
}

impl From<&PointSettings> for PointSettingsView {
    fn from(s: &PointSettings) -> Self {
        let v = serde_json::to_value(s).expect("serialisable");
        Self {
            expiry: v["expiry"].clone(),
            refund_shortfall: v["refund_shortfall"].as_str().unwrap_or("debt").to_owned(),
            redeem_points: s.redeem_points,
            redeem_value: s.redeem_value,
            min_redeem_points: s.min_redeem_points,
            max_deduction_percent: s.max_deduction_percent,
            check_in_points: s.check_in_points,
            streak_days: s.streak_days,
            streak_bonus: s.streak_bonus,
            redemption_check_above: s.redemption_check_above,
        }
    }
}
