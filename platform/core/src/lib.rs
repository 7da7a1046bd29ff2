//! Patron's domain: the rules that matter, as pure code.
//!
//! Nothing here does I/O: no database, no HTTP. Every type that crosses a trust boundary
//! has a `parse` constructor, so a value of that type is valid by construction.

pub mod access;
pub mod actors;
pub mod auth;
pub mod clock;
pub mod desk;
pub mod fields;
pub mod ids;
pub mod lang;
pub mod member_code;
pub mod members;
pub mod messages;
pub mod pii;
pub mod plans;
pub mod points;
pub mod ports;
pub mod prepaid;
pub mod rules;
pub mod tenants;
pub mod tiers;
pub mod zone;

pub use ids::{MemberId, TenantId};
pub use zone::Zone;

/// A problem with one field of some input, reported back to the caller as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the bad field, dotted (`owner.email`).
    pub field: String,
    /// What is wrong with it, in words a person can act on.
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Collects field errors so that a caller hears about every bad field at once.
#[derive(Debug, Default)]
pub struct Validation {
    errors: Vec<FieldError>,
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs one parse; on failure records the error under `field` and returns `None`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(problem) => {
                self.errors.push(FieldError::new(field, problem));
                None
            }
        }
    }

    /// `Ok(())` when nothing failed, else every error collected.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}
