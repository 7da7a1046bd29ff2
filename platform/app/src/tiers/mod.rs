//! Tiers: the ladder a business designs (draft, preview, publish, rollback), members'
//! standings and moves, pins, the history export, and the evaluations that move members.

pub mod evaluation;
pub mod export;
pub mod ladder;
pub mod member;
pub mod preview;

pub use evaluation::{after_event, evaluate_tenant, reevaluate, REEVALUATE_JOB};
