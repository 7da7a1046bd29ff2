//! The application layer's one error type. Every use case answers `Result<T, AppError>`;
//! the HTTP edge maps each variant to a status and a problem body in one place, the CLI and
//! the job runner print or retry it. Each variant carries a stable `code` a console can
//! translate, and bad input names every bad field.

use patron_core::FieldError;
use patron_db::DbError;
use std::borrow::Cow;

/// What a plan refuses: the feature or limit, and which plans would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDenial {
    /// `feature_not_in_plan`, `limit_reached`, `payment_required` or `plan_unavailable`.
    pub code: String,
    pub message: String,
    /// The tenant's plan now.
    pub plan: String,
    pub feature: Option<String>,
    pub limit: Option<String>,
    pub allowed: Option<i64>,
    pub usage: Option<i64>,
    /// The cheapest plan that includes the feature or lifts the limit.
    pub upgrade_to: Option<String>,
    /// Every plan that would do, cheapest first.
    pub plans: Vec<String>,
}

impl PlanDenial {
    /// A denial by `plan` with nothing more said yet.
    pub fn new(code: &str, message: String, plan: &str) -> Self {
        Self {
            code: code.into(),
            message,
            plan: plan.into(),
            feature: None,
            limit: None,
            allowed: None,
            usage: None,
            upgrade_to: None,
            plans: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input cannot be read at all (the edge usually catches this first).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Credentials are missing, expired or wrong.
    #[error("{code}: {message}")]
    Unauthorized {
        code: Cow<'static, str>,
        message: String,
    },
    /// The plan does not include the feature, a limit is reached, or the account is
    /// suspended for non-payment.
    #[error("{}: {}", .0.code, .0.message)]
    Plan(Box<PlanDenial>),
    /// The caller is known but may not do this.
    #[error("{code}: {message}")]
    Forbidden {
        code: Cow<'static, str>,
        message: String,
    },
    /// The thing named does not exist in the caller's tenant.
    #[error("{what} not found")]
    NotFound { what: Cow<'static, str> },
    /// The request conflicts with what exists (a taken phone, a reused key).
    #[error("{code}: {message}")]
    Conflict {
        code: Cow<'static, str>,
        field: Option<String>,
        message: String,
        /// Values the console's text for `code` needs (`{"balance": 1199}`).
        params: serde_json::Map<String, serde_json::Value>,
    },
    /// Values that are well-formed but not acceptable: every bad field at once.
    #[error("invalid input: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// One value refused for a reason the client acts on by its stable code (a consent
    /// that is missing or out of date); answered like `Invalid`, with that code.
    #[error("{code}: {field} {message}")]
    Refused {
        code: Cow<'static, str>,
        field: String,
        message: String,
    },
    /// Too many attempts; retry after the given seconds.
    #[error("{code}: {message}")]
    TooMany {
        code: Cow<'static, str>,
        message: String,
        retry_after_secs: u64,
    },
    /// A part the request needs (the rule sandbox) could not answer; retrying is safe.
    #[error("{code}: {message}")]
    Unavailable {
        code: Cow<'static, str>,
        message: String,
    },
    /// Something failed that the caller cannot fix; the cause is logged, never shown.
    #[error(transparent)]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

fn describe(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{} {}", one.field, one.problem),
        many => format!("{} fields are invalid", many.len()),
    }
}

impl AppError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    pub fn unauthorized(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn forbidden(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl Into<Cow<'static, str>>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// A conflict, blamed on one field when there is one.
    pub fn conflict(
        code: impl Into<Cow<'static, str>>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Self::Conflict {
            code: code.into(),
            field: field.map(str::to_owned),
            message: message.into(),
            params: Default::default(),
        }
    }

    /// Adds a value the console's text needs: to a conflict's parameters, or to the one
    /// bad field's. Other errors are returned as they are.
    pub fn with_param(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        match &mut self {
            Self::Conflict { params, .. } => {
                params.insert(key.to_owned(), value.into());
            }
            Self::Invalid(fields) if fields.len() == 1 => {
                fields[0].params.insert(key.to_owned(), value.into());
            }
            _ => {}
        }
        self
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }

    /// Only English words, no code: kept for callers not converted yet (a test in
    /// `patron_core::problem` lists them). Prefer [`AppError::field`].
    pub fn invalid_field(field: &str, problem: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, problem)])
    }

    /// One bad field, with its code and parameters.
    pub fn field(field: &str, issue: patron_core::Issue) -> Self {
        Self::Invalid(vec![issue.at(field)])
    }

    /// One value refused, with a stable code of its own.
    pub fn refused(
        code: impl Into<Cow<'static, str>>,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self::Refused {
            code: code.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn payment_required(denial: PlanDenial) -> Self {
        Self::Plan(Box::new(denial))
    }

    pub fn too_many(
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
        retry_after_secs: u64,
    ) -> Self {
        Self::TooMany {
            code: code.into(),
            message: message.into(),
            retry_after_secs: retry_after_secs.max(1),
        }
    }

    pub fn unavailable(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::Unavailable {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A failure the caller cannot fix.
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(cause))
    }

    /// A failure the caller cannot fix, described in words.
    pub fn internal_msg(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }

    /// True when the database aborted the transaction to break a deadlock or a
    /// serialization conflict: nothing was written, and trying again in a new transaction
    /// is safe.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Internal(e)
            if e.downcast_ref::<DbError>().is_some_and(DbError::is_transient))
    }

    /// The stable code, for tests, logs and translations.
    pub fn code(&self) -> &str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Refused { code, .. }
            | Self::TooMany { code, .. }
            | Self::Unavailable { code, .. } => code,
            Self::Plan(p) => &p.code,
            Self::NotFound { .. } => "not_found",
            Self::Invalid(_) => "invalid_input",
            Self::Internal(_) => "internal",
        }
    }

    /// The field errors of an `Invalid`, else none.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            Self::Invalid(f) => f,
            _ => &[],
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::not_found("resource"),
            DbError::Conflict(c) => AppError::conflict(
                "conflict",
                None,
                format!("conflicts with existing data ({c})"),
            ),
            other => AppError::internal(other),
        }
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Invalid(errors)
    }
}

/// `.or_not_found("member")`: a missing row (`None`, or `DbError::NotFound`) becomes a
/// `NotFound` naming what was looked for.
pub trait OrNotFound<T> {
    fn or_not_found(self, what: &'static str) -> Result<T, AppError>;
}

impl<T> OrNotFound<T> for Result<Option<T>, DbError> {
    fn or_not_found(self, what: &'static str) -> Result<T, AppError> {
        match self {
            Ok(Some(v)) => Ok(v),
            Ok(None) | Err(DbError::NotFound) => Err(AppError::not_found(what)),
            Err(e) => Err(e.into()),
        }
    }
}

/// `.not_found_as("member")`: for storage calls that answer `DbError::NotFound` (a `get`
/// rather than a `find`), the same naming of what was missing.
pub trait NotFoundAs<T> {
    fn not_found_as(self, what: &'static str) -> Result<T, AppError>;
}

impl<T> NotFoundAs<T> for Result<T, DbError> {
    fn not_found_as(self, what: &'static str) -> Result<T, AppError> {
        self.map_err(|e| match e {
            DbError::NotFound => AppError::not_found(what),
            e => e.into(),
        })
    }
}

impl<T> OrNotFound<T> for Option<T> {
    fn or_not_found(self, what: &'static str) -> Result<T, AppError> {
        self.ok_or_else(|| AppError::not_found(what))
    }
}

/// `.on_constraint(constraints::MEMBERS_PHONE, || AppError::conflict(...))`: a write refused
/// by the named constraint becomes the client error the caller chose; any other failure
/// passes through as usual.
pub trait OnConstraint<T> {
    fn on_constraint(self, constraint: &str, to: impl FnOnce() -> AppError) -> Result<T, AppError>;
}

impl<T> OnConstraint<T> for Result<T, DbError> {
    fn on_constraint(self, constraint: &str, to: impl FnOnce() -> AppError) -> Result<T, AppError> {
        self.map_err(|e| {
            if e.is_conflict_on(constraint) {
                to()
            } else {
                e.into()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_row_names_what_was_looked_for() {
        let none: Result<Option<i32>, DbError> = Ok(None);
        let e = none.or_not_found("member").unwrap_err();
        assert_eq!(e.to_string(), "member not found");
        let gone: Result<i32, DbError> = Err(DbError::NotFound);
        assert!(
            matches!(gone.not_found_as("card"), Err(AppError::NotFound { what }) if what == "card")
        );
    }

    #[test]
    fn only_the_named_constraint_becomes_the_chosen_error() {
        let taken: Result<(), DbError> = Err(DbError::Conflict("members_phone_key".into()));
        let e = taken
            .on_constraint("members_phone_key", || {
                AppError::conflict("phone_taken", Some("phone"), "taken")
            })
            .unwrap_err();
        assert_eq!(e.code(), "phone_taken");
        let other: Result<(), DbError> = Err(DbError::Conflict("members_email_key".into()));
        let e = other
            .on_constraint("members_phone_key", || {
                AppError::conflict("phone_taken", None, "")
            })
            .unwrap_err();
        assert_eq!(e.code(), "conflict");
    }
}
