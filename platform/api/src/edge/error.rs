//! The API's one error type: every failure becomes JSON with a stable `code`, a human
//! `message` and, for bad input, the path of each bad field.

use patron_app::{AppError, PlanDenial};
use patron_core::FieldError;
use patron_db::DbError;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// One bad field of a request.
#[derive(Debug, Clone, Object)]
pub struct FieldProblem {
    /// Dotted path of the field (`email`, `roles.1`).
    pub field: String,
    /// Stable code of what is wrong (`required`, `too_long`, `not_a_phone` ...; for a
    /// conflict or a refusal, the problem's own code). `invalid` when only words are known.
    pub code: String,
    /// The values the code's text needs, e.g. `{"max": 40}` or `{"value": "12345"}`.
    pub params: serde_json::Value,
    /// What is wrong with it, in English.
    pub problem: String,
}

impl From<FieldError> for FieldProblem {
    fn from(e: FieldError) -> Self {
        Self {
            field: e.field,
            code: e.code.as_str().to_owned(),
            params: serde_json::Value::Object(e.params),
            problem: e.problem,
        }
    }
}

impl FieldProblem {
    /// A field blamed by a problem with a code of its own (a conflict, a refusal).
    pub(crate) fn blamed(field: &str, code: &str, problem: String) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            params: serde_json::Value::Object(Default::default()),
            problem,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// Stable machine-readable code, e.g. `invalid_input`, `slug_taken`, `forbidden`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// For bad input: each bad field and what is wrong with it.
    #[oai(default, skip_serializing_if_is_empty)]
    pub fields: Vec<FieldProblem>,
    /// Values the code's text needs (`{"balance": 1199, "asked": 1500}`), when it has any.
    #[oai(skip_serializing_if_is_none)]
    pub params: Option<serde_json::Value>,
}

/// The body of a 402: what the tenant's plan lacks and which plans have it.
#[derive(Debug, Clone, Object)]
pub struct PlanProblem {
    /// `feature_not_in_plan`, `limit_reached`, `payment_required` or `plan_unavailable`.
    pub code: String,
    pub message: String,
    /// The tenant's plan now.
    pub plan: String,
    /// The feature the operation needs, when that is what is missing.
    #[oai(skip_serializing_if_is_none)]
    pub feature: Option<String>,
    /// The limit that was reached, with what the plan allows and what is used.
    #[oai(skip_serializing_if_is_none)]
    pub limit: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub allowed: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub usage: Option<i64>,
    /// The cheapest plan that includes the feature or lifts the limit.
    #[oai(skip_serializing_if_is_none)]
    pub upgrade_to: Option<String>,
    /// Every plan that would do, cheapest first.
    #[oai(skip_serializing_if_is_empty)]
    pub plans: Vec<String>,
}

#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// Returned when the request is malformed (bad JSON, wrong types, unknown fields).
    #[oai(status = 400)]
    BadRequest(Json<Problem>),
    /// Returned when credentials are missing, malformed, expired or wrong.
    #[oai(status = 401)]
    Unauthorized(Json<Problem>),
    /// Returned when the tenant's plan does not include the feature, a plan limit is reached,
    /// or the account is suspended for non-payment.
    #[oai(status = 402)]
    PaymentRequired(Json<Box<PlanProblem>>),
    /// Returned when the caller is known but lacks the permission the operation needs.
    #[oai(status = 403)]
    Forbidden(Json<Problem>),
    /// Returned when the resource does not exist in the caller's tenant.
    #[oai(status = 404)]
    NotFound(Json<Problem>),
    /// Returned when the request conflicts with existing data (taken slug or e-mail...).
    #[oai(status = 409)]
    Conflict(Json<Problem>),
    /// Returned when fields are well-formed JSON but their values are not acceptable.
    #[oai(status = 422)]
    Invalid(Json<Problem>),
    /// Returned when too many attempts were made; retry after the given seconds.
    #[oai(status = 429)]
    TooManyRequests(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// Returned when the server failed; details are in its logs, never in the response.
    #[oai(status = 500)]
    Internal(Json<Problem>),
    /// Returned when a part the request needs (the rule sandbox) could not answer in time;
    /// retrying is safe.
    #[oai(status = 503)]
    Unavailable(Json<Problem>),
}

fn problem(code: &str, message: impl Into<String>) -> Json<Problem> {
    Json(Problem {
        code: code.into(),
        message: message.into(),
        fields: Vec::new(),
        params: None,
    })
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(problem("bad_request", message))
    }

    pub fn unauthorized(code: &str, message: impl Into<String>) -> Self {
        Self::Unauthorized(problem(code, message))
    }

    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::Forbidden(problem(code, message))
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(problem("not_found", format!("{what} not found")))
    }

    /// A conflict blamed on one field.
    pub fn conflict(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut p = problem(code, message.clone());
        if let Some(f) = field {
            p.0.fields.push(FieldProblem::blamed(f, code, message));
        }
        Self::Conflict(p)
    }

    /// Adds a conflict's parameters to the problem and to the field it blames.
    fn with_params(mut self, params: serde_json::Map<String, serde_json::Value>) -> Self {
        if params.is_empty() {
            return self;
        }
        if let Self::Conflict(p) = &mut self {
            for f in &mut p.0.fields {
                f.params = serde_json::Value::Object(params.clone());
            }
            p.0.params = Some(serde_json::Value::Object(params));
        }
        self
    }

    /// Bad values: every field error at once.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("{} {}", one.field, one.problem),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut p = problem("invalid_input", message);
        p.0.fields = errors.into_iter().map(FieldProblem::from).collect();
        Self::Invalid(p)
    }

    /// A 422 with a code of its own (not `invalid_input`), blamed on one field.
    pub fn refused(code: &str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut p = problem(code, format!("{field} {message}"));
        p.0.fields.push(FieldProblem::blamed(field, code, message));
        Self::Invalid(p)
    }

    /// Only English words, no code: kept for callers not converted yet (a test in
    /// `patron_core::problem` lists them). Prefer [`ApiError::field`].
    pub fn invalid_field(field: &str, problem: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, problem)])
    }

    /// One bad field, with its code and parameters.
    pub fn field(field: &str, issue: patron_core::Issue) -> Self {
        Self::invalid(vec![issue.at(field)])
    }

    pub fn payment_required(p: PlanProblem) -> Self {
        Self::PaymentRequired(Json(Box::new(p)))
    }

    pub fn too_many(code: &str, message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::TooManyRequests(problem(code, message), retry_after_secs.max(1))
    }

    /// A server-side failure: logged in full here, shown to the client as a bare 500.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut source = cause.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %chain, "internal error");
        Self::Internal(problem(
            "internal",
            "the server failed to handle this request; it has been logged",
        ))
    }

    pub fn unavailable(code: &str, message: impl Into<String>) -> Self {
        Self::Unavailable(problem(code, message))
    }

    /// The stable code, for tests and logs.
    pub fn code(&self) -> &str {
        match self {
            Self::BadRequest(p)
            | Self::Unauthorized(p)
            | Self::Forbidden(p)
            | Self::NotFound(p)
            | Self::Conflict(p)
            | Self::Invalid(p)
            | Self::TooManyRequests(p, _)
            | Self::Internal(p)
            | Self::Unavailable(p) => &p.0.code,
            Self::PaymentRequired(p) => &p.0.code,
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        AppError::from(e).into()
    }
}

impl From<PlanDenial> for PlanProblem {
    fn from(d: PlanDenial) -> Self {
        Self {
            code: d.code,
            message: d.message,
            plan: d.plan,
            feature: d.feature,
            limit: d.limit,
            allowed: d.allowed,
            usage: d.usage,
            upgrade_to: d.upgrade_to,
            plans: d.plans,
        }
    }
}

/// The one mapping from a use case's error to a status and a problem body.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::BadRequest(m) => ApiError::bad_request(m),
            AppError::Unauthorized { code, message } => ApiError::unauthorized(&code, message),
            AppError::Plan(d) => ApiError::payment_required((*d).into()),
            AppError::Forbidden { code, message } => ApiError::forbidden(&code, message),
            AppError::NotFound { what } => ApiError::not_found(&what),
            AppError::Conflict {
                code,
                field,
                message,
                params,
            } => ApiError::conflict(&code, field.as_deref(), message).with_params(params),
            AppError::Invalid(errors) => ApiError::invalid(errors),
            AppError::Refused {
                code,
                field,
                message,
            } => ApiError::refused(&code, &field, message),
            AppError::TooMany {
                code,
                message,
                retry_after_secs,
            } => ApiError::too_many(&code, message, retry_after_secs),
            AppError::Unavailable { code, message } => ApiError::unavailable(&code, message),
            AppError::Internal(cause) => ApiError::internal(&*cause),
        }
    }
}

/// Turns any error poem produced on its own (unparseable JSON, wrong content type, unknown
/// route, missing credentials) into the same JSON shape.
pub fn framework_error_body(err: &poem::Error) -> (poem::http::StatusCode, Problem) {
    use poem::http::StatusCode;
    let status = err.status();
    let message = err.to_string();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    let fields = field_from_message(&message)
        .map(|f| vec![FieldProblem::blamed(&f, code, message.clone())])
        .unwrap_or_default();
    let message = if status == StatusCode::UNAUTHORIZED {
        "credentials are missing: send `Authorization: Bearer <token>` or `X-Api-Key: <key>`"
            .to_owned()
    } else if status.is_server_error() {
        tracing::error!(error = %message, "internal error");
        "the server failed to handle this request; it has been logged".to_owned()
    } else {
        message
    };
    (
        status,
        Problem {
            code: code.into(),
            message,
            fields,
            params: None,
        },
    )
}

/// poem-openapi names the offending field in its parse messages, in back-quotes or quotes
/// (`failed to parse "Signup": field \`slug\` ...`); pull it out when present.
fn field_from_message(message: &str) -> Option<String> {
    for (open, close) in [
        ("field `", '`'),
        ("parameter `", '`'),
        ("field \"", '"'),
        ("field '", '\''),
    ] {
        if let Some(start) = message.find(open) {
            let rest = &message[start + open.len()..];
            if let Some(end) = rest.find(close) {
                return Some(rest[..end].to_owned());
            }
        }
    }
    None
}
