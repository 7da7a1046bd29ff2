//! The member portal's DTOs.

use crate::edge::member_views::{MemberView, NewMember};
use chrono::{DateTime, Utc};
use patron_app::portal::codes::CodePurpose as AppPurpose;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum CodePurpose {
    Register,
    ResetPassword,
    PhoneChange,
}

impl From<CodePurpose> for AppPurpose {
    fn from(p: CodePurpose) -> Self {
        match p {
            CodePurpose::Register => Self::Register,
            CodePurpose::ResetPassword => Self::ResetPassword,
            CodePurpose::PhoneChange => Self::PhoneChange,
        }
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CodeRequest {
    #[oai(validator(max_length = 100))]
    pub phone: String,
    pub purpose: CodePurpose,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct Registration {
    /// Name, phone (required), e-mail, birthday... and custom field values.
    pub profile: NewMember,
    /// The code sent to `phone` for `register`.
    #[oai(validator(max_length = 20))]
    pub code: String,
    #[oai(validator(max_length = 1000))]
    pub password: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MemberLogin {
    /// Phone (any formatting) or e-mail.
    #[oai(validator(max_length = 300))]
    pub login: String,
    #[oai(validator(max_length = 1000))]
    pub password: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordReset {
    #[oai(validator(max_length = 100))]
    pub phone: String,
    #[oai(validator(max_length = 20))]
    pub code: String,
    #[oai(validator(max_length = 1000))]
    pub new_password: String,
}

/// A member's profile edit: only built-ins members may change and member-editable custom
/// fields are accepted.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ProfileChange {
    #[oai(validator(max_length = 1000))]
    pub name: Option<String>,
    #[oai(validator(max_length = 1000))]
    pub email: MaybeUndefined<String>,
    #[oai(validator(max_length = 100))]
    pub gender: MaybeUndefined<String>,
    #[oai(validator(max_length = 100))]
    pub birthday: MaybeUndefined<String>,
    /// A new phone, with `phone_code` sent to it for `phone_change`.
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    #[oai(validator(max_length = 20))]
    pub phone_code: Option<String>,
    pub custom: Option<Value>,
}

#[derive(Debug, Object)]
pub struct MemberSession {
    /// Send as `Authorization: Bearer <token>` to the portal.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub member: MemberView,
}

/// The registration form: JSON Schema and UI schema of the business's custom fields.
#[derive(Debug, Object)]
pub struct PortalForm {
    pub business: String,
    pub json_schema: Value,
    pub ui_schema: Value,
    /// Custom fields members may edit after registering.
    pub member_editable: Vec<String>,
}

#[derive(Debug, Object)]
pub struct SmsView {
    pub id: i64,
    pub phone: String,
    pub body: String,
    pub purpose: String,
    pub created_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum Accepted {
    /// Returned when the code was sent (or, for password resets, would have been had the
    /// phone been registered: the answer never reveals who is a member).
    #[oai(status = 202)]
    Accepted,
}

#[derive(ApiResponse)]
pub enum Registered {
    /// Returned when the member was registered and logged in.
    #[oai(status = 201)]
    Created(Json<MemberSession>),
}

#[derive(ApiResponse)]
pub enum Done {
    /// Returned when the password was changed; existing logins end.
    #[oai(status = 204)]
    NoContent,
}

impl From<patron_app::portal::Session> for MemberSession {
    fn from(s: patron_app::portal::Session) -> Self {
        Self {
            token: s.token,
            expires_at: s.expires_at,
            member: s.member.into(),
        }
    }
}

/// A JSON field left out, `null`, or given.
fn change<T>(v: MaybeUndefined<T>) -> patron_app::members::Change<T> {
    use patron_app::members::Change;
    match v {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(v) => Change::Set(v),
    }
}

impl From<ProfileChange> for patron_app::portal::ProfileChange {
    fn from(c: ProfileChange) -> Self {
        Self {
            name: c.name,
            email: change(c.email),
            gender: change(c.gender),
            birthday: change(c.birthday),
            phone: c.phone,
            phone_code: c.phone_code,
            custom: c.custom,
        }
    }
}

impl From<patron_db::portal::OutboxMessage> for SmsView {
    fn from(r: patron_db::portal::OutboxMessage) -> Self {
        Self {
            id: r.id,
            phone: r.phone,
            body: r.body,
            purpose: r.purpose,
            created_at: r.created_at,
        }
    }
}

/// The member's code for the counter.
#[derive(Debug, Clone, Object)]
pub struct MemberCode {
    /// Upper-case letters and digits, for a QR code or a Code128 barcode.
    pub code: String,
    /// When the code stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Seconds after which to fetch a fresh code.
    pub refresh_in: i64,
}
