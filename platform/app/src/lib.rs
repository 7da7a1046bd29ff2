//! Patron's use cases, one module per capability: validation, transactions, the earn
//! pipeline (purchase / check-in / event -> rule -> ledger -> tier), and the bodies of
//! background jobs. Called by the HTTP edge (`patron-api`), the job runner and the CLI
//! (`patron-server`); knows nothing of HTTP. Every use case answers `Result<T, AppError>`.
//!
//! The outside world is reached through ports (`patron_core::ports`), which the server wires
//! to adapters.

pub mod billing;
pub mod dashboard;
pub mod engine;
pub mod error;
pub mod points;
pub mod purchases;
pub mod rules;
pub mod sms;
pub mod tiers;

pub use error::{AppError, NotFoundAs, OnConstraint, OrNotFound, PlanDenial};
