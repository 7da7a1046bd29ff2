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
    Login,
    ResetPassword,
    PhoneChange,
}

impl From<CodePurpose> for AppPurpose {
    fn from(p: CodePurpose) -> Self {
        match p {
            CodePurpose::Register => Self::Register,
            CodePurpose::Login => Self::Login,
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
    /// Optional: a member without one logs in with a code sent to the phone.
    #[oai(validator(max_length = 1000))]
    pub password: Option<String>,
    /// The version of the privacy terms the member agreed to; required (and must be the
    /// current one) when the business has terms.
    pub consent_version: Option<i32>,
}

/// A login: phone (any formatting) or e-mail with the password, or phone with a code sent
/// to it for `login`. Exactly one of `password` and `code`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct MemberLogin {
    /// Phone (any formatting) or e-mail.
    #[oai(validator(max_length = 300))]
    pub login: String,
    #[oai(validator(max_length = 1000))]
    pub password: Option<String>,
    /// The code sent to the phone for `login`.
    #[oai(validator(max_length = 20))]
    pub code: Option<String>,
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

/// The registration form: JSON Schema and UI schema of the custom fields members see, and
/// what the business shows on its portal.
#[derive(Debug, Object)]
pub struct PortalForm {
    pub business: String,
    /// Only the fields members see (staff-only fields are left out).
    pub json_schema: Value,
    pub ui_schema: Value,
    /// Custom fields members may edit after registering.
    pub member_editable: Vec<String>,
    /// The business's logo (a web address or a path on this site); empty when none.
    pub logo_url: String,
    pub address: String,
    /// Opening hours, as the business wrote them.
    pub opening_hours: String,
    /// Whether the business offers check-ins (its plan includes events).
    pub check_ins: bool,
    /// The privacy terms members agree to when they register, when the business has any.
    pub privacy: Option<PrivacyTerms>,
}

/// Privacy terms and the version a registration's `consent_version` must name.
#[derive(Debug, Object)]
pub struct PrivacyTerms {
    pub text: String,
    pub version: i32,
}

/// The portal's page as the business sets it.
#[derive(Debug, Object)]
pub struct PortalSettings {
    /// A web address (`https://...`) or a path on this site (`/...`); empty for none.
    pub logo_url: String,
    pub address: String,
    pub opening_hours: String,
    /// Privacy terms members agree to when they register (PIPL); empty for none.
    pub privacy_text: String,
    /// 0 while no terms were saved; each saved change of the text adds one.
    pub privacy_version: i32,
}

/// New portal settings (every field; an empty text clears it).
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PortalSettingsChange {
    #[oai(validator(max_length = 2000))]
    pub logo_url: String,
    #[oai(validator(max_length = 500))]
    pub address: String,
    #[oai(validator(max_length = 1000))]
    pub opening_hours: String,
    #[oai(validator(max_length = 50000))]
    pub privacy_text: String,
}

impl From<patron_db::portal::PortalSettings> for PortalSettings {
    fn from(s: patron_db::portal::PortalSettings) -> Self {
        Self {
            logo_url: s.logo_url,
            address: s.address,
            opening_hours: s.opening_hours,
            privacy_text: s.privacy_text,
            privacy_version: s.privacy_version,
        }
    }
}

impl From<PortalSettingsChange> for patron_app::portal::site::SiteChange {
    fn from(c: PortalSettingsChange) -> Self {
        Self {
            logo_url: c.logo_url,
            address: c.address,
            opening_hours: c.opening_hours,
            privacy_text: c.privacy_text,
        }
    }
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

/// A membership as its member sees it.
#[derive(Debug, Clone, Object)]
pub struct MyMembership {
    pub plan_name: String,
    pub starts_on: chrono::NaiveDate,
    /// The last day covered, in the business's days.
    pub last_day: chrono::NaiveDate,
    /// `active`, `ended` or `cancelled`.
    pub status: String,
    pub frozen_days: i64,
}

/// One change of the member's stored value.
#[derive(Debug, Clone, Object)]
pub struct MyStoredValueEntry {
    /// `principal` or `bonus`.
    pub ledger: String,
    /// `top_up`, `spend`, `refund`, `top_up_refund` or `included`.
    pub kind: String,
    /// Minor units; negative when taken.
    pub amount: i64,
    /// The sub-ledger's balance after it.
    pub balance: i64,
    pub at: DateTime<Utc>,
}

/// The member's stored value: the balance by sub-ledger and its latest changes.
#[derive(Debug, Clone, Object)]
pub struct MyStoredValue {
    pub principal: i64,
    pub bonus: i64,
    pub total: i64,
    /// Newest first, at most 50.
    pub entries: Vec<MyStoredValueEntry>,
}

/// A visit pass as its member sees it.
#[derive(Debug, Clone, Object)]
pub struct MyPass {
    pub product_name: String,
    pub categories: Vec<String>,
    pub visits_total: i32,
    pub visits_left: i32,
    /// The last usable day; absent for a pass that never expires.
    pub expires_on: Option<chrono::NaiveDate>,
    /// `active`, `expired` or `used_up`.
    pub status: String,
}

/// The member's own prepaid. Each part is absent when the business's plan does not include
/// it (`memberships`, `stored_value`, `visit_passes`), and the portal leaves it out.
#[derive(Debug, Clone, Object)]
pub struct MyPrepaid {
    pub memberships: Option<Vec<MyMembership>>,
    pub stored_value: Option<MyStoredValue>,
    pub passes: Option<Vec<MyPass>>,
}
