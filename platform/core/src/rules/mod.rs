//! What a tenant's rule is asked and answers, whatever runs it: the key of a compiled rule,
//! the cases it is given, its outcome and its failures. The sandbox adapter
//! (`patron-rules`) carries these over its pipe; the [`crate::ports::RuleRunner`] port
//! speaks them.

pub mod templates;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which rule: the tenant and the rule version. The pool adds the script's hash, so a
/// changed script can never be mistaken for a cached one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleKey {
    pub tenant: i64,
    pub version: i64,
}

/// One case of a batch: an event and the member it is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub event: Value,
    pub member: Value,
}

/// One case of a tier script's batch: the member and their metrics in the ladder's window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierCase {
    pub member: Value,
    pub metrics: Value,
}

/// What a rule earned: the total and one line per award.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub points: i64,
    pub reasons: Vec<Reason>,
    /// Coupon templates (ids as the script wrote them) the rule gives one coupon of
    /// (`give_coupon`), in call order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coupons: Vec<String>,
}

/// One award: points, why, and the purchase line (from 0) it is for, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub points: i64,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

/// Why a rule produced no outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleErrorKind {
    /// The script does not compile (line and column given).
    Compile,
    /// The script failed while running (line and column when known).
    Runtime,
    /// The script exceeded a limit; `limit` says which (operations, call_levels,
    /// expression_depth, string_size, array_size, map_size, memory, ...).
    Limit,
    /// The event or member handed to the rule was malformed.
    BadInput,
    /// The worker did not have the rule compiled (handled inside the pool; callers only see
    /// it if a worker keeps forgetting).
    NotCached,
    /// The worker did not answer within the deadline; it was killed and replaced.
    Timeout,
    /// The worker died during the call; it was replaced.
    Crashed,
    /// The worker answered something that is not the protocol; it was killed and replaced.
    Protocol,
    /// Every worker stayed busy until the deadline.
    Busy,
    /// No worker could be started (the sandbox binary is missing or fails to start).
    Unavailable,
}

/// A rule failure, with the script position when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("rule error ({kind:?}): {message}")]
pub struct RuleError {
    pub kind: RuleErrorKind,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl RuleError {
    pub fn new(kind: RuleErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            line: None,
            column: None,
            limit: None,
        }
    }
}
