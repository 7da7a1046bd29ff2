//! Views more than one capability returns: a rule's failure (point rules and tier
//! scripts) and a reason for points (purchases, events, simulations). Each is the JSON
//! shape of an application type, converted at the edge.

use patron_app::engine::{PointReason, RuleFailure};
use poem_openapi::Object;

/// A coupon a point rule gave, or could not give (the template was unknown, archived,
/// expired, sold out, at the member's or the day's limit, or the plan's coupons of the month
/// were used up); the purchase or event stands either way.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
#[oai(rename = "RuleCoupon")]
pub struct RuleCouponView {
    /// The template the rule named.
    pub template_id: String,
    /// Whether a coupon was given.
    pub given: bool,
    /// The coupon's code, when given.
    pub code: Option<String>,
}

impl From<patron_app::coupons::issue::RuleCoupon> for RuleCouponView {
    fn from(c: patron_app::coupons::issue::RuleCoupon) -> Self {
        Self {
            template_id: c.template_id,
            given: c.given,
            code: c.code,
        }
    }
}

/// A rule failure as staff see it.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
#[oai(rename = "RuleFailure")]
pub struct RuleFailureView {
    /// `compile`, `runtime`, `limit`, `bad_input`, `timeout`, `crashed`, `busy`,
    /// `unavailable`, ...
    pub kind: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// For `limit`: which one.
    pub limit: Option<String>,
}

impl From<RuleFailure> for RuleFailureView {
    fn from(f: RuleFailure) -> Self {
        Self {
            kind: f.kind,
            message: f.message,
            line: f.line,
            column: f.column,
            limit: f.limit,
        }
    }
}

/// One reason for points, as shown on a receipt.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
#[oai(rename = "PointReason")]
pub struct PointReasonView {
    pub points: i64,
    pub reason: String,
    /// The purchase line (from 0) it is for.
    pub line: Option<u32>,
    /// For a reason the system wrote: its stable code and values (see the ledger entry's).
    pub reason_code: Option<String>,
    pub reason_params: Option<serde_json::Value>,
}

impl From<PointReason> for PointReasonView {
    fn from(r: PointReason) -> Self {
        Self {
            points: r.points,
            reason: r.reason,
            line: r.line,
            reason_code: r.reason_code,
            reason_params: r.reason_params,
        }
    }
}

/// What one coupon code did to a purchase or a cart: its discount, or why it does not
/// apply (`unknown_code`, `duplicate`, `other_member`, `used`, `voided`, `not_yet_valid`,
/// `expired`, `excluded_day`, `excluded_hour`, `not_in_scope`, `min_spend`,
/// `not_combinable`, `purchase_limit`, `member_limit`, `reserved`; for a template's shared
/// code that gives no coupon: `sold_out`, `day_limit`, `unavailable`).
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct CouponResultView {
    pub code: String,
    pub applied: bool,
    /// Money off in minor units (0 for a gift or a free visit, or when it does not apply).
    pub discount: i64,
    pub reason: Option<String>,
    pub template_name: Option<String>,
    /// `amount_off`, `percent_off`, `threshold`, `gift` or `free_visit`.
    pub kind: Option<String>,
    /// The free item of a gift coupon.
    pub gift: Option<String>,
    /// For a template's shared code used by a purchase: the coupon it gave the member.
    pub issued_code: Option<String>,
}

impl From<patron_app::coupons::CouponResult> for CouponResultView {
    fn from(c: patron_app::coupons::CouponResult) -> Self {
        Self {
            code: c.code,
            applied: c.applied,
            discount: c.discount,
            reason: c.reason,
            template_name: c.template_name,
            kind: c.kind,
            gift: c.gift,
            issued_code: c.issued_code,
        }
    }
}
