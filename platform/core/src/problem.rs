//! What is wrong with one value: a stable code, the values it depends on, and English words.
//!
//! The console and the portal render a field problem from its `code` and `params` in the
//! reader's language; `problem` stays the English sentence API callers read. Every code is a
//! [`FieldCode`]; its `as_str` is what crosses the wire (the console's texts are checked
//! against that list).

use serde_json::{Map, Value};
use std::fmt;

/// The stable codes a field problem can carry. Parameters are named in each comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldCode {
    /// Only English words (kept for callers not converted yet).
    Invalid,
    /// Must not be empty.
    Required,
    /// `{max}` characters at most.
    TooLong,
    /// `{min}` characters at least.
    TooShort,
    /// `{min}` to `{max}` characters long.
    LengthBetween,
    /// A number `{min}` to `{max}`.
    OutOfRange,
    /// A number `{min}` at least.
    TooSmall,
    /// A number `{max}` at most.
    TooLarge,
    /// `{max}` items at most.
    TooMany,
    /// Not a phone number: `{value}`.
    NotAPhone,
    /// Not an e-mail address.
    NotAnEmail,
    /// Not in the shape the field asks for; `{format}` says which (a stable word).
    InvalidFormat,
    /// Contains control characters.
    ControlCharacters,
    /// `{value}` is not one of `{allowed}`.
    NotOneOf,
    /// `{value}` is not a known thing of this kind.
    Unknown,
    /// Not a date (`YYYY-MM-DD`).
    NotADate,
    /// Not a cursor from this list.
    NotACursor,
    /// A time zone `{value}` that is not an IANA zone.
    NotATimeZone,
    /// A currency `{value}` that is not an ISO 4217 code.
    NotACurrency,
    /// A language `{value}` the product is not translated into.
    NotALocale,
    /// A region `{value}` without a phone plan.
    NotARegion,
    /// `{value}` is reserved.
    Reserved,
    /// Already used (by `{by}` when it helps).
    Taken,
    /// Appears twice (the first at `{first}` when known).
    Duplicate,
    /// There is no such member.
    NoSuchMember,
    /// There is no such purchase.
    NoSuchPurchase,
    /// There is no such tier `{value}`.
    NoSuchTier,
    /// There is no such role `{value}`.
    NoSuchRole,
    /// The member was erased.
    MemberErased,
    /// A password that is one character repeated.
    WeakPassword,
    /// A password on the list of common and breached passwords.
    CommonPassword,
    /// The password or code given is wrong.
    Wrong,
    /// A one-time code that is wrong or expired.
    CodeWrongOrExpired,
    /// Must be in the future.
    NotInFuture,
    /// Must not be in the future.
    InFuture,
    /// At most `{kib}` KiB.
    TooBig,
    /// At most `{years}` years ahead.
    TooFarAhead,
    /// An end `{field}` before its start.
    BeforeStart,
    /// Exactly one of `{options}` must be given.
    OneOf,
    /// Give one of `{options}`.
    Missing,
    /// Members cannot fill or edit this field.
    NotForMembers,
    /// The script does not compile (`{message}`, at `{line}`).
    DoesNotCompile,
    /// The field's value does not fit its field definition (`{detail}`).
    DoesNotFit,
    /// The empty file, or one with no rows.
    EmptyFile,
    /// More points than the member has: `{balance}`, `{asked}`.
    NotEnoughPoints,
    /// More points than a redemption allows (`{max}`) or fewer than it needs (`{min}`).
    PointsOutOfBounds,
    /// This trigger has no draft to run.
    NoDraft,
    /// Something else the English words explain; `{reason}` is a stable word.
    NotAllowed,
    /// A value of another JSON type than the field's: `{expected}` (`string`, `integer`,
    /// `number`, `boolean`, `array`, `object`).
    WrongType,
    /// A member the object does not have.
    UnknownField,
}

impl FieldCode {
    /// The code on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Required => "required",
            Self::TooLong => "too_long",
            Self::TooShort => "too_short",
            Self::LengthBetween => "length_between",
            Self::OutOfRange => "out_of_range",
            Self::TooSmall => "too_small",
            Self::TooLarge => "too_large",
            Self::TooMany => "too_many",
            Self::NotAPhone => "not_a_phone",
            Self::NotAnEmail => "not_an_email",
            Self::InvalidFormat => "invalid_format",
            Self::ControlCharacters => "control_characters",
            Self::NotOneOf => "not_one_of",
            Self::Unknown => "unknown",
            Self::NotADate => "not_a_date",
            Self::NotACursor => "not_a_cursor",
            Self::NotATimeZone => "not_a_time_zone",
            Self::NotACurrency => "not_a_currency",
            Self::NotALocale => "not_a_locale",
            Self::NotARegion => "not_a_region",
            Self::Reserved => "reserved",
            Self::Taken => "taken",
            Self::Duplicate => "duplicate",
            Self::NoSuchMember => "no_such_member",
            Self::NoSuchPurchase => "no_such_purchase",
            Self::NoSuchTier => "no_such_tier",
            Self::NoSuchRole => "no_such_role",
            Self::MemberErased => "member_erased",
            Self::WeakPassword => "weak_password",
            Self::CommonPassword => "common_password",
            Self::Wrong => "wrong",
            Self::CodeWrongOrExpired => "code_wrong_or_expired",
            Self::NotInFuture => "not_in_future",
            Self::InFuture => "in_future",
            Self::TooBig => "too_big",
            Self::TooFarAhead => "too_far_ahead",
            Self::BeforeStart => "before_start",
            Self::OneOf => "one_of",
            Self::Missing => "missing",
            Self::NotForMembers => "not_for_members",
            Self::DoesNotCompile => "does_not_compile",
            Self::DoesNotFit => "does_not_fit",
            Self::EmptyFile => "empty_file",
            Self::NotEnoughPoints => "not_enough_points",
            Self::PointsOutOfBounds => "points_out_of_bounds",
            Self::NoDraft => "no_draft",
            Self::NotAllowed => "not_allowed",
            Self::WrongType => "wrong_type",
            Self::UnknownField => "unknown_field",
        }
    }
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with one value, before it is placed at a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub code: FieldCode,
    /// The values the code's text needs (`{"max": 40}`); an object, possibly empty.
    pub params: Map<String, Value>,
    /// English words for API callers.
    pub problem: String,
}

impl Issue {
    pub fn new(code: FieldCode, problem: impl Into<String>) -> Self {
        Self {
            code,
            params: Map::new(),
            problem: problem.into(),
        }
    }

    /// Adds one parameter.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.params.insert(key.to_owned(), value.into());
        self
    }

    pub fn required() -> Self {
        Self::new(FieldCode::Required, "must not be empty")
    }

    pub fn too_long(max: usize) -> Self {
        Self::new(
            FieldCode::TooLong,
            format!("must be at most {max} characters"),
        )
        .with("max", max)
    }

    pub fn too_short(min: usize) -> Self {
        Self::new(
            FieldCode::TooShort,
            format!("must be at least {min} characters"),
        )
        .with("min", min)
    }

    pub fn length_between(min: usize, max: usize) -> Self {
        Self::new(
            FieldCode::LengthBetween,
            format!("must be {min} to {max} characters long"),
        )
        .with("min", min)
        .with("max", max)
    }

    pub fn out_of_range(min: i64, max: i64) -> Self {
        Self::new(FieldCode::OutOfRange, format!("must be {min} to {max}"))
            .with("min", min)
            .with("max", max)
    }

    pub fn too_small(min: i64) -> Self {
        Self::new(FieldCode::TooSmall, format!("must be at least {min}")).with("min", min)
    }

    pub fn too_large(max: i64) -> Self {
        Self::new(FieldCode::TooLarge, format!("must be at most {max}")).with("max", max)
    }

    /// A JSON value of another type than `expected` (`string`, `integer`, `boolean` ...).
    pub fn wrong_type(expected: &str) -> Self {
        Self::new(FieldCode::WrongType, format!("must be of type {expected}"))
            .with("expected", expected)
    }

    pub fn unknown_field() -> Self {
        Self::new(FieldCode::UnknownField, "is not a field of this object")
    }

    pub fn too_many(max: usize, what: &str) -> Self {
        Self::new(FieldCode::TooMany, format!("at most {max} {what}")).with("max", max)
    }

    pub fn control_characters() -> Self {
        Self::new(
            FieldCode::ControlCharacters,
            "must not contain control characters",
        )
    }

    pub fn not_a_phone(value: &str) -> Self {
        Self::new(
            FieldCode::NotAPhone,
            format!("\"{value}\" is not a phone number"),
        )
        .with("value", value)
    }

    /// `format` is a stable word the console names (`digits`, `slug`, `role_name` ...).
    pub fn invalid_format(format: &str, problem: impl Into<String>) -> Self {
        Self::new(FieldCode::InvalidFormat, problem).with("format", format)
    }

    pub fn not_one_of(value: &str, allowed: &[&str]) -> Self {
        Self::new(
            FieldCode::NotOneOf,
            format!("\"{value}\" is not one of: {}", allowed.join(", ")),
        )
        .with("value", value)
        .with("allowed", allowed.join(", "))
    }

    pub fn unknown(value: &str, problem: impl Into<String>) -> Self {
        Self::new(FieldCode::Unknown, problem).with("value", value)
    }

    pub fn in_future() -> Self {
        Self::new(FieldCode::InFuture, "must not be in the future")
    }

    pub fn too_big(kib: usize) -> Self {
        Self::new(FieldCode::TooBig, format!("must be at most {kib} KiB")).with("kib", kib)
    }

    pub fn not_a_cursor() -> Self {
        Self::new(FieldCode::NotACursor, "is not a cursor from this list")
    }

    pub fn no_such_member() -> Self {
        Self::new(FieldCode::NoSuchMember, "there is no such member")
    }

    pub fn member_erased() -> Self {
        Self::new(FieldCode::MemberErased, "this member was erased")
    }

    /// The same problem in other English words.
    pub fn words(mut self, problem: impl Into<String>) -> Self {
        self.problem = problem.into();
        self
    }

    /// Places the issue at a field.
    pub fn at(self, field: impl Into<String>) -> crate::FieldError {
        crate::FieldError {
            field: field.into(),
            code: self.code,
            params: self.params,
            problem: self.problem,
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)
    }
}

impl std::error::Error for Issue {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_travel_with_the_words() {
        let e = Issue::too_long(40).at("name");
        assert_eq!(e.code.as_str(), "too_long");
        assert_eq!(e.params["max"], 40);
        assert_eq!(e.problem, "must be at most 40 characters");
    }

    /// Call sites that still give only English words. The list is printed so that each can
    /// be given a code; none may remain.
    #[test]
    fn every_field_problem_in_the_sources_has_a_code() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut uncoded = Vec::new();
        for krate in ["core", "db", "app", "api", "server"] {
            walk(&root.join(krate).join("src"), &mut |path, text| {
                let code = text.split("\n#[cfg(test)]").next().unwrap_or("");
                let mut previous = "";
                for (i, line) in code.lines().enumerate() {
                    let l = line.trim_start();
                    let in_definition = previous.starts_with("pub fn invalid_field(");
                    previous = l;
                    if l.starts_with("//") || l.starts_with("pub fn ") || in_definition {
                        continue;
                    }
                    if l.contains("FieldError::new(") || l.contains("invalid_field(") {
                        uncoded.push(format!("{}:{}: {}", path.display(), i + 1, l));
                    }
                }
            });
        }
        assert!(
            uncoded.is_empty(),
            "field problems without a code (use Issue::..., FieldError::coded or \
             AppError::field):\n{}",
            uncoded.join("\n")
        );
    }

    fn walk(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &str)) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, f);
            } else if p.extension().is_some_and(|e| e == "rs") {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    f(&p, &text);
                }
            }
        }
    }
}
