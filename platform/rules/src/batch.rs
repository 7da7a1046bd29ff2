//! What a batch can carry: point-rule events (`Case`, answered by an `Outcome`) or
//! tier-script members (`TierCase`, answered by a tier code). The pool's one batch fan-out
//! is generic over it.

use crate::wire::{CaseResult, Kind, Payload};
use patron_core::rules::{Case, Outcome, RuleError, TierCase};

/// A case a batch can carry: point-rule events or tier-script members.
pub(crate) trait Batched: Clone + Send + Sync + 'static {
    type Answer: Send + 'static;
    const KIND: Kind;
    fn payload(cases: &[Self]) -> Payload<'_>;
    fn answer(result: CaseResult) -> Result<Self::Answer, RuleError>;
}

impl Batched for Case {
    type Answer = Outcome;
    const KIND: Kind = Kind::Points;

    fn payload(cases: &[Self]) -> Payload<'_> {
        Payload::Batch(cases)
    }

    fn answer(result: CaseResult) -> Result<Outcome, RuleError> {
        result.into_result()
    }
}

impl Batched for TierCase {
    type Answer = String;
    const KIND: Kind = Kind::Tier;

    fn payload(cases: &[Self]) -> Payload<'_> {
        Payload::TierBatch(cases)
    }

    fn answer(result: CaseResult) -> Result<String, RuleError> {
        result.into_tier()
    }
}
