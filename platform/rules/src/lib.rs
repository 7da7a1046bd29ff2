//! Point rules on the server side: a pool of `patron-sandbox` worker processes.
//!
//! Tenants' Rhai scripts never run in the server process (casbin forces Rhai's `unchecked`
//! feature on it; see DESIGN.md, "Why the sandbox is its own process"). [`SandboxPool`] keeps
//! a few sandbox workers, sends them compile / eval / eval_batch requests over pipes, gives
//! every call a deadline, and replaces a worker that misses it, crashes, answers garbage or
//! runs out of memory. Callers always get an [`Outcome`] or a [`RuleError`], never a panic.
//! Tier scripts (which answer a tier code instead of points) go through the same workers,
//! limits and deadlines, cached in a key space of their own.
//!
//! The no-code forms for the common rules (`templates`) are pure code in
//! `patron_core::rules::templates`; they are re-exported here for the pool's users.

mod batch;
mod pool;
mod wire;
mod workers;

pub use patron_core::rules::templates::{self, catalog, Template};
pub use patron_core::rules::{Case, Outcome, Reason, RuleError, RuleErrorKind, RuleKey, TierCase};
pub use pool::{default_program, PoolStats, SandboxConfig, SandboxPool};
