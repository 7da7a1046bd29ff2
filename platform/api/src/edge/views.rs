//! Views more than one capability returns: a rule's failure (point rules and tier
//! scripts) and a reason for points (purchases, events, simulations). Each is the JSON
//! shape of an application type, converted at the edge.

use patron_app::engine::{PointReason, RuleFailure};
use poem_openapi::Object;

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
