//! The register's own DTOs (the shared ones are in `edge::member_views`).

use crate::edge::member_views::MemberView;
use crate::edge::tier_views::NamesDoc;
use chrono::{DateTime, Utc};
use patron_app::members::{self as app_members, Change};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object};
use serde_json::Value;
use uuid::Uuid;

/// Changes to a member; fields left out keep their value, `null` clears one.
#[derive(Debug, Object, Default)]
#[oai(deny_unknown_fields)]
pub struct MemberChange {
    #[oai(validator(max_length = 1000))]
    pub name: Option<String>,
    #[oai(validator(max_length = 100))]
    pub phone: MaybeUndefined<String>,
    /// A code sent to the new phone (`POST /members/{id}/phone-code`), needed to change a
    /// verified phone without `members:manage_sensitive`.
    #[oai(validator(max_length = 20))]
    pub phone_code: Option<String>,
    #[oai(validator(max_length = 1000))]
    pub email: MaybeUndefined<String>,
    #[oai(validator(max_length = 100))]
    pub gender: MaybeUndefined<String>,
    #[oai(validator(max_length = 100))]
    pub birthday: MaybeUndefined<String>,
    #[oai(validator(max_length = 100))]
    pub join_date: Option<String>,
    #[oai(validator(max_length = 1000))]
    pub home_store: MaybeUndefined<String>,
    #[oai(validator(max_items = 100))]
    pub tags: Option<Vec<String>>,
    #[oai(validator(max_length = 20000))]
    pub notes: MaybeUndefined<String>,
    pub referrer_id: MaybeUndefined<Uuid>,
    /// Custom values to set (`null` removes one).
    pub custom: Option<Value>,
}

/// A JSON field left out, `null`, or given.
pub fn change<T>(v: MaybeUndefined<T>) -> Change<T> {
    match v {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(v) => Change::Set(v),
    }
}

impl From<MemberChange> for app_members::MemberChange {
    fn from(c: MemberChange) -> Self {
        Self {
            name: c.name,
            phone: change(c.phone),
            phone_code: c.phone_code,
            email: change(c.email),
            gender: change(c.gender),
            birthday: change(c.birthday),
            join_date: c.join_date,
            home_store: change(c.home_store),
            tags: c.tags,
            notes: change(c.notes),
            referrer_id: change(c.referrer_id),
            custom: c.custom,
        }
    }
}

/// A page of members.
#[derive(Debug, Object)]
pub struct MemberPage {
    pub items: Vec<MemberRow>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many members match the search (at most 10,000; see `total_capped`).
    pub total: i64,
    /// More than 10,000 members match: `total` stops there.
    pub total_capped: bool,
}

/// A member in a list: the profile and where the member stands.
#[derive(Debug, Object)]
pub struct MemberRow {
    #[oai(flatten)]
    pub member: MemberView,
    /// The point balance.
    pub points: i64,
    /// The tier's code, when the business has a ladder.
    pub tier: Option<String>,
    pub tier_name: Option<NamesDoc>,
    /// The latest purchase or check-in.
    pub last_visit_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct MemberAuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// counter, portal, import, schema, api.
    pub channel: String,
    pub action: String,
    pub field: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl From<patron_db::members::AuditEntry> for MemberAuditView {
    fn from(r: patron_db::members::AuditEntry) -> Self {
        Self {
            id: r.id,
            at: r.at,
            actor: r.actor,
            channel: r.channel,
            action: r.action,
            field: r.field,
            before: r.before,
            after: r.after,
        }
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewPhone {
    #[oai(validator(max_length = 100))]
    pub phone: String,
}

#[derive(Debug, Object)]
pub struct Sent {
    pub sent: bool,
}

#[derive(ApiResponse)]
pub enum CreatedMember {
    /// Returned when the member was registered (with a card).
    #[oai(status = 201)]
    Created(Json<MemberView>),
}
