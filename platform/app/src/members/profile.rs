//! A member as staff or the member see it: sealed values opened (and masked for staff
//! without `members:read_pii`), custom values split into those of fields in force and
//! archived ones.

use super::input::open;
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::fields::FieldSet;
use patron_core::members as core_members;
use patron_core::pii::PiiKeys;
use patron_db::members::Member;
use serde_json::{Map, Value};
use uuid::Uuid;

/// A member, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: Uuid,
    /// `active` or `erased`.
    pub status: String,
    pub card_number: Option<String>,
    pub name: String,
    /// E.164, or masked.
    pub phone: Option<String>,
    pub phone_verified: bool,
    pub email: Option<String>,
    /// Whether phone and e-mail are masked.
    pub pii_masked: bool,
    pub gender: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub join_date: NaiveDate,
    pub home_store: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub referrer_id: Option<Uuid>,
    /// Values of the custom fields in force.
    pub custom: Value,
    /// Values of archived (or unknown) fields, kept readable.
    pub archived: Value,
    pub channel: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
}

/// The profile of `m`, masked unless `show_pii`.
pub fn profile(m: &Member, set: &FieldSet, keys: &PiiKeys, show_pii: bool) -> Profile {
    let phone = m.phone().and_then(|s| open(keys, &s));
    let email = m.email().and_then(|s| open(keys, &s));
    let (mut custom, mut archived) = (Map::new(), Map::new());
    if let Some(obj) = m.custom.as_object() {
        for (k, v) in obj {
            match set.get(k) {
                Some(f) if !f.archived => custom.insert(k.clone(), v.clone()),
                _ => archived.insert(k.clone(), v.clone()),
            };
        }
    }
    Profile {
        id: m.id,
        status: m.status.clone(),
        card_number: m.card_number.clone(),
        name: m.name.clone(),
        phone: phone.map(|p| {
            if show_pii {
                p
            } else {
                core_members::mask_phone(&p)
            }
        }),
        phone_verified: m.phone_verified_at.is_some(),
        email: email.map(|e| {
            if show_pii {
                e
            } else {
                core_members::mask_email(&e)
            }
        }),
        pii_masked: !show_pii,
        gender: m.gender.clone(),
        birthday: m.birthday,
        join_date: m.join_date,
        home_store: m.home_store.clone(),
        tags: m.tags.clone(),
        notes: m.notes.clone(),
        referrer_id: m.referrer_id,
        custom: Value::Object(custom),
        archived: Value::Object(archived),
        channel: m.channel.clone(),
        created_at: m.created_at,
        updated_at: m.updated_at,
        erased_at: m.erased_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::input::{blank_member, seal_phone};
    use patron_core::members::Phone;
    use serde_json::json;

    #[test]
    fn staff_without_pii_see_masked_phones_and_the_member_sees_theirs() {
        let keys = PiiKeys::development();
        let mut m = blank_member(Utc::now());
        let s = seal_phone(&keys, &Phone::parse("13812345678", "CN").unwrap());
        m.phone_enc = Some(s.ciphertext);
        m.phone_key = Some(s.key_id);
        m.phone_index = Some(s.index);
        let set = FieldSet::default();
        let masked = profile(&m, &set, &keys, false);
        assert!(masked.pii_masked);
        assert_ne!(masked.phone.as_deref(), Some("+8613812345678"));
        assert!(masked.phone.unwrap().contains('*'));
        let own = profile(&m, &set, &keys, true);
        assert_eq!(own.phone.as_deref(), Some("+8613812345678"));
    }

    #[test]
    fn values_of_unknown_fields_are_shown_as_archived() {
        let keys = PiiKeys::development();
        let mut m = blank_member(Utc::now());
        m.custom = json!({"old": 1});
        let p = profile(&m, &FieldSet::default(), &keys, true);
        assert_eq!(p.custom, json!({}));
        assert_eq!(p.archived, json!({"old": 1}));
    }
}
