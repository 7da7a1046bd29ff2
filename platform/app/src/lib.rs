//! Patron's use cases, one module per capability: validation, transactions, the earn
//! pipeline (purchase / check-in / event -> rule -> ledger -> tier), and the bodies of
//! background jobs. Called by the HTTP edge (`patron-api`), the job runner and the CLI
//! (`patron-server`); knows nothing of HTTP. Every use case answers `Result<T, AppError>`.
//!
//! The outside world is reached through ports (`patron_core::ports`), which the server wires
//! to adapters.

pub mod access;
pub mod activities;
pub mod actors;
pub mod api_keys;
pub mod billing;
pub mod campaigns;
pub mod conversations;
pub mod coupons;
pub mod dashboard;
pub mod desk;
pub mod engine;
pub mod error;
pub mod fields;
pub mod idempotency;
pub mod lifecycle;
pub mod mall;
pub mod member_files;
pub mod members;
pub mod messages;
pub mod notices;
pub mod ops;
pub mod plans;
pub mod points;
pub mod portal;
pub mod prepaid;
pub mod promotions;
pub mod purchases;
pub mod roles;
pub mod rules;
pub mod security;
pub mod segments;
pub mod session;
pub mod settings;
pub mod signup;
pub mod sms;
pub mod staff;
pub mod tiers;
pub mod uploads;

pub use error::{AppError, NotFoundAs, OnConstraint, OrNotFound, PlanDenial};
