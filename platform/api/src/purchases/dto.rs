//! The purchases API's request and answer bodies, converted to and from
//! `patron_app::purchases`.

use crate::edge::views::{CouponResultView, PointReasonView, RuleCouponView, RuleFailureView};
use chrono::{DateTime, Utc};
use patron_app::purchases as app;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// One line of a purchase.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct PurchaseItem {
    #[oai(default, validator(max_length = 100))]
    pub sku: String,
    #[oai(default, validator(max_length = 200))]
    pub name: String,
    #[oai(default, validator(max_length = 100))]
    pub category: String,
    /// Defaults to 1.
    pub quantity: Option<i64>,
    /// In minor units.
    pub unit_price: i64,
}

/// A purchase to record.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct NewPurchase {
    /// Your id for this purchase (receipt number...). A retry with the same id and body
    /// returns the first result; the same id with a different body is a 409.
    #[oai(validator(max_length = 100))]
    pub external_id: String,
    /// The member: exactly one of `member_id`, `card_number`, `phone`.
    pub member_id: Option<Uuid>,
    #[oai(validator(max_length = 40))]
    pub card_number: Option<String>,
    /// In any formatting; read in the business's phone region.
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    /// Amount paid, in minor units (fen, cents).
    pub amount: i64,
    /// ISO 4217; defaults to the business's currency.
    #[oai(validator(max_length = 3))]
    pub currency: Option<String>,
    #[oai(default, validator(max_items = 500))]
    #[serde(default)]
    pub items: Vec<PurchaseItem>,
    #[oai(validator(max_length = 100))]
    pub store: Option<String>,
    /// When it happened; defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    /// How it was paid: `stored_value` (taken from the member's balance by the business's
    /// spend order; 409 `insufficient_stored_value` when it does not cover it) and the
    /// methods recorded as the till says (`cash`, `card`, `wechat`, `alipay`,
    /// `bank_transfer`). Each method once; the amounts add up to `amount`.
    #[oai(validator(max_items = 6))]
    pub payments: Option<Vec<PaymentInput>>,
    /// Coupon codes to use (at most 5). With coupons, `amount` is what is due before them;
    /// the answer says what each took off, points are earned on what is left to pay, and
    /// `payments` add up to that. A code that does not apply refuses the purchase (409
    /// `coupon_not_applicable`, naming the code and its `reason`); nothing is recorded. A
    /// template's shared code gives the member one coupon of it and uses it; when the
    /// template cannot give one, the code's answer says why and the purchase stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_codes: Option<Vec<String>>,
    /// A reservation of one of the coupons (`POST /coupons/{code}/reservations`): the
    /// coupon it holds is used by this purchase; without it a held coupon is refused with
    /// reason `reserved` until the reservation lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_reservation: Option<uuid::Uuid>,
}

/// One way a purchase was paid.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct PaymentInput {
    #[oai(validator(max_length = 20))]
    pub method: String,
    /// In minor units.
    pub amount: i64,
}

/// One way a purchase was paid, with what stored value took of each sub-ledger.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct PaymentView {
    pub method: String,
    pub amount: i64,
    pub principal: i64,
    pub bonus: i64,
}

/// Stored value by sub-ledger.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct StoredValueBack {
    pub principal: i64,
    pub bonus: i64,
}

/// A referral reward paid to the member who referred this one.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ReferralReward {
    pub referrer_id: Uuid,
    pub points: i64,
}

/// What a recorded purchase earned.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct PurchaseResult {
    pub purchase_id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub points: i64,
    pub reasons: Vec<PointReasonView>,
    /// The rule version that computed the points (absent when no rule is in force).
    pub rule_version: Option<i32>,
    /// Why the rule earned nothing, when it failed; the purchase is recorded regardless.
    pub rule_error: Option<RuleFailureView>,
    /// The member's balance after this purchase.
    pub balance: i64,
    /// Points still owed from earlier refunds.
    pub debt: i64,
    /// Points of this purchase that settled an earlier debt.
    pub settled_debt: i64,
    /// The member's tier after this purchase (none until the business has a tier ladder);
    /// a purchase that reaches a higher tier promotes the member at once.
    pub tier: Option<String>,
    /// The discount of the tier the member held when buying, in percent.
    #[oai(default)]
    #[serde(default)]
    pub discount_percent: i64,
    pub referral: Option<ReferralReward>,
    pub occurred_at: DateTime<Utc>,
    /// How it was paid (empty when the till did not say).
    #[oai(default)]
    #[serde(default)]
    pub payments: Vec<PaymentView>,
    /// What the coupons took off (`amount` is what was paid after them).
    #[oai(default)]
    #[serde(default)]
    pub discount: i64,
    /// Each coupon's discount.
    #[oai(default)]
    #[serde(default)]
    pub coupons: Vec<CouponResultView>,
    /// Coupons the purchase rule gave, or could not give (the purchase stands).
    #[oai(default)]
    #[serde(default)]
    pub rule_coupons: Vec<RuleCouponView>,
    /// True when this answer repeats an earlier call with the same external id.
    #[serde(default)]
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum RecordedPurchase {
    /// Recorded.
    #[oai(status = 201)]
    Created(Json<PurchaseResult>),
    /// Recorded before: the first answer.
    #[oai(status = 200)]
    Replayed(Json<PurchaseResult>),
}

/// A refund of all or part of a purchase.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct NewRefund {
    /// Your id for this refund; retries with the same id and body return the first result.
    #[oai(validator(max_length = 100))]
    pub external_id: String,
    /// The purchase, by our id...
    pub purchase_id: Option<Uuid>,
    /// ... or by yours.
    #[oai(validator(max_length = 100))]
    pub purchase_external_id: Option<String>,
    /// Amount refunded in minor units; defaults to all that is left.
    pub amount: Option<i64>,
}

/// What a refund took back.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct RefundResult {
    pub refund_id: Uuid,
    pub external_id: String,
    pub purchase_id: Uuid,
    pub member_id: Uuid,
    pub amount: i64,
    /// Points taken back.
    pub points: i64,
    /// Of those, points the member had already spent, now owed (debt policy) ...
    pub debt_added: i64,
    pub balance: i64,
    pub debt: i64,
    /// Amount of the purchase still refundable.
    pub refundable: i64,
    /// What went back to the member's stored value, by sub-ledger, when it paid.
    pub stored_value: Option<StoredValueBack>,
    /// Codes of the coupons the purchase used that this refund gave back (a refund in full,
    /// of coupons whose template restores them).
    #[oai(default)]
    #[serde(default)]
    pub restored_coupons: Vec<String>,
    #[serde(default)]
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum RecordedRefund {
    #[oai(status = 201)]
    Created(Json<RefundResult>),
    #[oai(status = 200)]
    Replayed(Json<RefundResult>),
}

/// A purchase in a member's history.
#[derive(Debug, Clone, Object)]
pub struct PurchaseView {
    pub id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub items: Value,
    pub store: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub points: i64,
    pub reasons: Value,
    pub rule_version: Option<i32>,
    pub rule_error: Option<Value>,
    pub refunded: i64,
    pub points_reversed: i64,
}

/// A page of a member's purchases with totals over all of them.
#[derive(Debug, Object)]
pub struct PurchaseHistory {
    pub items: Vec<PurchaseView>,
    /// Pass as `before` for the next page.
    pub next_cursor: Option<String>,
    pub total_count: i64,
    pub total_amount: i64,
    pub total_refunded: i64,
    pub total_points: i64,
}

impl From<PurchaseItem> for app::PurchaseItem {
    fn from(i: PurchaseItem) -> Self {
        Self {
            sku: i.sku,
            name: i.name,
            category: i.category,
            quantity: i.quantity,
            unit_price: i.unit_price,
        }
    }
}

impl From<NewPurchase> for app::NewPurchase {
    fn from(r: NewPurchase) -> Self {
        Self {
            external_id: r.external_id,
            member_id: r.member_id,
            card_number: r.card_number,
            phone: r.phone,
            amount: r.amount,
            currency: r.currency,
            items: r.items.into_iter().map(Into::into).collect(),
            store: r.store,
            occurred_at: r.occurred_at,
            payments: r.payments.map(|ps| {
                ps.into_iter()
                    .map(|p| patron_app::prepaid::PaymentIn {
                        method: p.method,
                        amount: p.amount,
                    })
                    .collect()
            }),
            coupon_codes: r.coupon_codes,
            coupon_reservation: r.coupon_reservation,
        }
    }
}

impl From<app::PurchaseResult> for RecordedPurchase {
    fn from(r: app::PurchaseResult) -> Self {
        let replayed = r.replayed;
        let v = PurchaseResult {
            purchase_id: r.purchase_id,
            external_id: r.external_id,
            member_id: r.member_id,
            amount: r.amount,
            currency: r.currency,
            points: r.points,
            reasons: r.reasons.into_iter().map(Into::into).collect(),
            rule_version: r.rule_version,
            rule_error: r.rule_error.map(Into::into),
            balance: r.balance,
            debt: r.debt,
            settled_debt: r.settled_debt,
            tier: r.tier,
            discount_percent: r.discount_percent,
            referral: r.referral.map(|x| ReferralReward {
                referrer_id: x.referrer_id,
                points: x.points,
            }),
            occurred_at: r.occurred_at,
            payments: r
                .payments
                .into_iter()
                .map(|p| PaymentView {
                    method: p.method,
                    amount: p.amount,
                    principal: p.principal,
                    bonus: p.bonus,
                })
                .collect(),
            discount: r.discount,
            coupons: r.coupons.into_iter().map(Into::into).collect(),
            rule_coupons: r.rule_coupons.into_iter().map(Into::into).collect(),
            replayed: r.replayed,
        };
        if replayed {
            Self::Replayed(Json(v))
        } else {
            Self::Created(Json(v))
        }
    }
}

impl From<NewRefund> for app::NewRefund {
    fn from(r: NewRefund) -> Self {
        Self {
            external_id: r.external_id,
            purchase_id: r.purchase_id,
            purchase_external_id: r.purchase_external_id,
            amount: r.amount,
        }
    }
}

impl From<app::RefundResult> for RecordedRefund {
    fn from(r: app::RefundResult) -> Self {
        let replayed = r.replayed;
        let v = RefundResult {
            refund_id: r.refund_id,
            external_id: r.external_id,
            purchase_id: r.purchase_id,
            member_id: r.member_id,
            amount: r.amount,
            points: r.points,
            debt_added: r.debt_added,
            balance: r.balance,
            debt: r.debt,
            refundable: r.refundable,
            stored_value: r.stored_value.map(|s| StoredValueBack {
                principal: s.principal,
                bonus: s.bonus,
            }),
            restored_coupons: r.restored_coupons,
            replayed: r.replayed,
        };
        if replayed {
            Self::Replayed(Json(v))
        } else {
            Self::Created(Json(v))
        }
    }
}

impl From<patron_db::points::Purchase> for PurchaseView {
    fn from(p: patron_db::points::Purchase) -> Self {
        Self {
            id: p.id,
            external_id: p.external_id,
            member_id: p.member_id,
            amount: p.amount,
            currency: p.currency,
            items: p.items,
            store: p.store,
            occurred_at: p.occurred_at,
            recorded_at: p.recorded_at,
            recorded_by: p.recorded_by,
            points: p.points,
            reasons: p.reasons,
            rule_version: p.rule_version,
            rule_error: p.rule_error,
            refunded: p.refunded,
            points_reversed: p.reversed,
        }
    }
}

impl From<app::PurchaseHistory> for PurchaseHistory {
    fn from(h: app::PurchaseHistory) -> Self {
        Self {
            items: h.items.into_iter().map(Into::into).collect(),
            next_cursor: h.next_cursor,
            total_count: h.total_count,
            total_amount: h.total_amount,
            total_refunded: h.total_refunded,
            total_points: h.total_points,
        }
    }
}
