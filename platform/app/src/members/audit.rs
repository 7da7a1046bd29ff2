//! The member's audit log: every change field by field, who made it, when, through which
//! channel. Phones and e-mails are recorded masked, so the log never holds them in clear.

use crate::{AppError, NotFoundAs};
use patron_core::members as core_members;
use patron_core::pii::PiiKeys;
use patron_db::members::{self, Actor, AuditEntry, MemberData, Sealed};
use patron_db::{DbError, TenantTx};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The fields that differ between two stored states of a member: `(field, before, after)`,
/// custom values as `custom.<key>`, PII masked.
pub fn diff(
    keys: &PiiKeys,
    before: &MemberData,
    after: &MemberData,
) -> Vec<(String, Value, Value)> {
    let pii = |s: &Option<Sealed>, phone: bool| -> Value {
        s.as_ref()
            .and_then(|s| keys.decrypt(s.key_id, &s.ciphertext).ok())
            .map(|v| {
                Value::String(if phone {
                    core_members::mask_phone(&v)
                } else {
                    core_members::mask_email(&v)
                })
            })
            .unwrap_or(Value::Null)
    };
    let mut changes: Vec<(String, Value, Value)> = Vec::new();
    let mut push = |f: &str, b: Value, a: Value| {
        if b != a {
            changes.push((f.to_owned(), b, a));
        }
    };
    push(
        "name",
        Value::from(before.name.clone()),
        Value::from(after.name.clone()),
    );
    if before.phone.as_ref().map(|s| &s.index) != after.phone.as_ref().map(|s| &s.index) {
        push("phone", pii(&before.phone, true), pii(&after.phone, true));
    }
    if before.email.as_ref().map(|s| &s.index) != after.email.as_ref().map(|s| &s.index) {
        push("email", pii(&before.email, false), pii(&after.email, false));
    }
    let j = |v: &dyn erased::Json| v.json();
    push("gender", j(&before.gender), j(&after.gender));
    push("birthday", j(&before.birthday), j(&after.birthday));
    push("join_date", j(&before.join_date), j(&after.join_date));
    push("home_store", j(&before.home_store), j(&after.home_store));
    push("tags", j(&before.tags), j(&after.tags));
    push("notes", j(&before.notes), j(&after.notes));
    push("referrer_id", j(&before.referrer_id), j(&after.referrer_id));
    let empty = Map::new();
    let (b, a) = (
        before.custom.as_object().unwrap_or(&empty),
        after.custom.as_object().unwrap_or(&empty),
    );
    let mut keys_all: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys_all.sort();
    keys_all.dedup();
    for k in keys_all {
        push(
            &format!("custom.{k}"),
            b.get(k).cloned().unwrap_or(Value::Null),
            a.get(k).cloned().unwrap_or(Value::Null),
        );
    }
    changes
}

/// Audits the difference between two stored states of a member, field by field.
pub async fn audit_diff(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    id: Uuid,
    before: &MemberData,
    after: &MemberData,
    by: &Actor<'_>,
) -> Result<(), DbError> {
    for (field, b, a) in diff(keys, before, after) {
        let nullable = |v: Value| (!v.is_null()).then_some(v);
        members::audit(
            tx,
            id,
            by,
            "member.updated",
            Some(&field),
            nullable(b),
            nullable(a),
        )
        .await?;
    }
    Ok(())
}

/// A page of a member's audit log (`after` an entry id; 1 to 1000 entries, 200 by default).
pub async fn log(
    tx: &mut TenantTx,
    id: Uuid,
    after: Option<i64>,
    limit: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    members::get(tx, id).await.not_found_as("member")?;
    Ok(members::audit_log(tx, id, after, limit.unwrap_or(200).clamp(1, 1000)).await?)
}

mod erased {
    /// Anything serialisable, as JSON, without naming its type at each call.
    pub trait Json {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::members::input::{blank_member, data_of, seal_phone};
    use chrono::Utc;
    use patron_core::members::Phone;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_logged_and_phones_masked() {
        let keys = PiiKeys::development();
        let m = blank_member(Utc::now());
        let before = data_of(&m);
        let mut after = data_of(&m);
        after.phone = Some(seal_phone(
            &keys,
            &Phone::parse("13812345678", "CN").unwrap(),
        ));
        after.tags = vec!["vip".into()];
        after.custom = json!({"size": "L"});
        let d = diff(&keys, &before, &after);
        let fields: Vec<&str> = d.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(fields, ["phone", "tags", "custom.size"]);
        assert_eq!(d[0].1, Value::Null);
        let shown = d[0].2.as_str().unwrap();
        assert!(shown.contains('*') && !shown.contains("12345678"));
        assert_eq!(d[2].2, json!("L"));
        assert!(diff(&keys, &before, &data_of(&m)).is_empty());
    }
}
