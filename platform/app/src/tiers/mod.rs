//! Tiers: the ladder a business designs, members' standings and moves, pins, and the
//! evaluations that move members.

pub mod evaluation;

pub use evaluation::{after_event, evaluate_tenant, reevaluate, REEVALUATE_JOB};
