//! The rule sandbox: tenants' Rhai point rules run here, in a process of their own, with
//! Rhai's limits on (see DESIGN.md, "Why the sandbox is its own process").
//!
//! - [`rules`]: the engine, the rule API and what an evaluation returns.
//! - [`worker`]: the protocol requests (compile, eval, eval_batch) and the AST cache.
//! - [`frame`]: length-prefixed JSON frames over stdin/stdout.

pub mod frame;
pub mod rules;
pub mod worker;
