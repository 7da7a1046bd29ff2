//! A member's details as every channel (counter, portal, import) gives them, checked and
//! turned into storable values: phones and e-mails sealed, dates read, custom values
//! validated against the field set. Pure: no database.

use chrono::{Datelike, NaiveDate};
use patron_core::auth::Email;
use patron_core::fields::{CustomValidator, WriteKind};
use patron_core::members::{self as core_members, Gender, Phone};
use patron_core::pii::PiiKeys;
use patron_core::{FieldCode, FieldError, Issue};
use patron_db::members::{Member, MemberData, Sealed};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A new member's details, as given. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMember {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub gender: Option<String>,
    pub birthday: Option<String>,
    /// Defaults to today in the business's time zone.
    pub join_date: Option<String>,
    pub home_store: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub referrer_id: Option<Uuid>,
    /// Values of custom fields, by key.
    pub custom: Option<Value>,
}

/// One field of a change: left as it is, cleared, or set.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    pub fn is_keep(&self) -> bool {
        matches!(self, Self::Keep)
    }
}

/// Changes to a member; `Keep` fields keep their value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberChange {
    pub name: Option<String>,
    pub phone: Change<String>,
    /// A code sent to the new phone, to change a verified phone without
    /// `members:manage_sensitive`.
    pub phone_code: Option<String>,
    pub email: Change<String>,
    pub gender: Change<String>,
    pub birthday: Change<String>,
    pub join_date: Option<String>,
    pub home_store: Change<String>,
    pub tags: Option<Vec<String>>,
    pub notes: Change<String>,
    pub referrer_id: Change<Uuid>,
    /// Custom values to set (`null` removes one).
    pub custom: Option<Value>,
}

/// Opens a sealed value; a value that does not decrypt is logged and shown as absent.
pub fn open(keys: &PiiKeys, s: &Sealed) -> Option<String> {
    match keys.decrypt(s.key_id, &s.ciphertext) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, key_id = s.key_id, "a sealed value does not open");
            None
        }
    }
}

pub fn seal_phone(keys: &PiiKeys, p: &Phone) -> Sealed {
    let (key_id, ciphertext) = keys.encrypt(p.e164());
    Sealed {
        ciphertext,
        key_id,
        index: keys.blind_index("phone", p.e164()),
    }
}

pub fn seal_email(keys: &PiiKeys, e: &Email) -> Sealed {
    let (key_id, ciphertext) = keys.encrypt(e.as_str());
    Sealed {
        ciphertext,
        key_id,
        index: keys.blind_index("email", &core_members::email_lookup_key(e.as_str())),
    }
}

/// A date like `2024-05-31`, between the years 1900 and 2200.
pub fn parse_date(raw: &str) -> Result<NaiveDate, Issue> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| {
            Issue::new(
                FieldCode::NotADate,
                format!("\"{raw}\" is not a date like 2024-05-31"),
            )
            .with("value", raw)
        })
        .and_then(|d| {
            if d.year_ce().1 < 1900 || d.year_ce().1 > 2200 {
                Err(
                    Issue::new(FieldCode::OutOfRange, format!("\"{raw}\" is out of range"))
                        .with("min", "1900-01-01")
                        .with("max", "2200-12-31"),
                )
            } else {
                Ok(d)
            }
        })
}

fn opt_text(raw: &str, max: usize) -> Result<Option<String>, Issue> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(Issue::too_long(max));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Issue::control_characters());
    }
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

fn not_an_object() -> FieldError {
    Issue::invalid_format("object", "must be an object of field values").at("custom")
}

fn parse_name(raw: &str) -> Result<String, Issue> {
    patron_core::tenants::parse_display_name(raw, 100)
}

/// The fields of a request, parsed into storable values; the same for every channel.
pub struct Parsed {
    pub data: MemberData,
    pub phone: Option<Phone>,
}

/// Checks a new member's details (counter, portal, import share this). Every bad field is
/// reported at once, with its path.
pub fn parse_new_member(
    req: NewMember,
    validator: &CustomValidator,
    keys: &PiiKeys,
    region: &str,
    today: NaiveDate,
) -> Result<Parsed, Vec<FieldError>> {
    let mut v = patron_core::Validation::new();
    let name = v.check("name", parse_name(&req.name));
    let phone = match &req.phone {
        Some(p) if !p.trim().is_empty() => v.check("phone", Phone::parse(p, region)),
        _ => None,
    };
    let email = match &req.email {
        Some(e) if !e.trim().is_empty() => v.check("email", Email::parse(e)),
        _ => None,
    };
    let gender = req
        .gender
        .as_deref()
        .and_then(|g| v.check("gender", Gender::parse(g)));
    let birthday = req
        .birthday
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|b| v.check("birthday", parse_date(b)));
    if birthday.is_some_and(|b| b > today) {
        v.check::<()>("birthday", Err(Issue::in_future()));
    }
    let join_date = match req.join_date.as_deref() {
        Some(j) => v.check("join_date", parse_date(j)),
        None => Some(today),
    };
    let home_store = req
        .home_store
        .as_deref()
        .and_then(|h| v.check("home_store", opt_text(h, 100)))
        .flatten();
    let tags = v.check("tags", core_members::parse_tags(&req.tags));
    let notes = req
        .notes
        .as_deref()
        .and_then(|n| v.check("notes", opt_text(n, 5000)))
        .flatten();
    let mut errors = v.finish().err().unwrap_or_default();
    let custom = match req.custom {
        None => validator.apply(
            &Map::new(),
            &Map::new(),
            WriteKind::Create,
            region,
            "custom.",
        ),
        Some(Value::Object(obj)) => {
            validator.apply(&Map::new(), &obj, WriteKind::Create, region, "custom.")
        }
        Some(_) => Err(vec![not_an_object()]),
    };
    let custom = match custom {
        Ok(c) => Some(c),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed {
        data: MemberData {
            name: name.expect("checked"),
            phone: phone.as_ref().map(|p| seal_phone(keys, p)),
            phone_verified_at: None,
            email: email.as_ref().map(|e| seal_email(keys, e)),
            gender: gender.map(|g| g.as_str().to_owned()),
            birthday,
            join_date: join_date.expect("checked"),
            home_store,
            tags: tags.expect("checked"),
            notes,
            referrer_id: req.referrer_id,
            custom: Value::Object(custom.expect("checked")),
        },
        phone,
    })
}

/// The stored, writable state of a member.
pub fn data_of(m: &Member) -> MemberData {
    MemberData {
        name: m.name.clone(),
        phone: m.phone(),
        phone_verified_at: m.phone_verified_at,
        email: m.email(),
        gender: m.gender.clone(),
        birthday: m.birthday,
        join_date: m.join_date,
        home_store: m.home_store.clone(),
        tags: m.tags.clone(),
        notes: m.notes.clone(),
        referrer_id: m.referrer_id,
        custom: m.custom.clone(),
    }
}

/// Applies a change to a member's stored data. Every bad field is reported. Answers the new
/// data and the new phone when the phone changed.
pub fn apply_change(
    current: &Member,
    req: MemberChange,
    validator: &CustomValidator,
    keys: &PiiKeys,
    region: &str,
    today: NaiveDate,
) -> Result<(MemberData, Option<Phone>), Vec<FieldError>> {
    let mut d = data_of(current);
    let mut v = patron_core::Validation::new();
    if let Some(n) = &req.name {
        if let Some(n) = v.check("name", parse_name(n)) {
            d.name = n;
        }
    }
    let mut new_phone = None;
    match &req.phone {
        Change::Keep => {}
        Change::Clear => {
            d.phone = None;
            d.phone_verified_at = None;
        }
        Change::Set(p) => {
            if let Some(p) = v.check("phone", Phone::parse(p, region)) {
                let sealed = seal_phone(keys, &p);
                if d.phone.as_ref().map(|s| &s.index) != Some(&sealed.index) {
                    d.phone = Some(sealed);
                    d.phone_verified_at = None;
                    new_phone = Some(p);
                }
            }
        }
    }
    match &req.email {
        Change::Keep => {}
        Change::Clear => d.email = None,
        Change::Set(e) => {
            if let Some(e) = v.check("email", Email::parse(e)) {
                let sealed = seal_email(keys, &e);
                if d.email.as_ref().map(|s| &s.index) != Some(&sealed.index) {
                    d.email = Some(sealed);
                }
            }
        }
    }
    match &req.gender {
        Change::Keep => {}
        Change::Clear => d.gender = None,
        Change::Set(g) => {
            if let Some(g) = v.check("gender", Gender::parse(g)) {
                d.gender = Some(g.as_str().to_owned());
            }
        }
    }
    match &req.birthday {
        Change::Keep => {}
        Change::Clear => d.birthday = None,
        Change::Set(b) => {
            if let Some(b) = v.check("birthday", parse_date(b)) {
                if b > today {
                    v.check::<()>("birthday", Err(Issue::in_future()));
                }
                d.birthday = Some(b);
            }
        }
    }
    if let Some(j) = &req.join_date {
        if let Some(j) = v.check("join_date", parse_date(j)) {
            d.join_date = j;
        }
    }
    match &req.home_store {
        Change::Keep => {}
        Change::Clear => d.home_store = None,
        Change::Set(h) => {
            if let Some(h) = v.check("home_store", opt_text(h, 100)) {
                d.home_store = h;
            }
        }
    }
    if let Some(t) = &req.tags {
        if let Some(t) = v.check("tags", core_members::parse_tags(t)) {
            d.tags = t;
        }
    }
    match &req.notes {
        Change::Keep => {}
        Change::Clear => d.notes = None,
        Change::Set(n) => {
            if let Some(n) = v.check("notes", opt_text(n, 5000)) {
                d.notes = n;
            }
        }
    }
    match &req.referrer_id {
        Change::Keep => {}
        Change::Clear => d.referrer_id = None,
        Change::Set(r) => {
            if *r == current.id {
                v.check::<()>(
                    "referrer_id",
                    Err(
                        Issue::new(FieldCode::NotAllowed, "a member cannot refer themselves")
                            .with("reason", "self_referral"),
                    ),
                );
            }
            d.referrer_id = Some(*r);
        }
    }
    let mut errors = v.finish().err().unwrap_or_default();
    match req.custom {
        None => {}
        Some(Value::Object(changes)) => {
            let empty = Map::new();
            match validator.apply(
                current.custom.as_object().unwrap_or(&empty),
                &changes,
                WriteKind::Patch,
                region,
                "custom.",
            ) {
                Ok(merged) => d.custom = Value::Object(merged),
                Err(e) => errors.extend(e),
            }
        }
        Some(_) => errors.push(not_an_object()),
    }
    if errors.is_empty() {
        Ok((d, new_phone))
    } else {
        Err(errors)
    }
}

/// A member row with every optional value empty, for tests.
#[cfg(test)]
pub(crate) fn blank_member(now: chrono::DateTime<chrono::Utc>) -> Member {
    Member {
        id: Uuid::now_v7(),
        status: "active".into(),
        name: "Li Lei".into(),
        phone_enc: None,
        phone_key: None,
        phone_index: None,
        phone_verified_at: None,
        email_enc: None,
        email_key: None,
        email_index: None,
        gender: None,
        birthday: None,
        join_date: now.date_naive(),
        home_store: None,
        tags: Vec::new(),
        notes: None,
        referrer_id: None,
        custom: Value::Object(Map::new()),
        channel: "counter".into(),
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        erased_at: None,
        created_at: now,
        updated_at: now,
        card_number: None,
        sort_balance: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use patron_core::fields::FieldSet;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    fn fields_of(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_new_member_reports_every_bad_field_at_once() {
        let v = FieldSet::default().validator().unwrap();
        let keys = PiiKeys::development();
        let req = NewMember {
            name: " ".into(),
            phone: Some("12".into()),
            birthday: Some("2030-01-01".into()),
            join_date: Some("1800-01-01".into()),
            custom: Some(Value::from(3)),
            ..Default::default()
        };
        let errors = parse_new_member(req, &v, &keys, "CN", today())
            .err()
            .unwrap();
        assert_eq!(
            fields_of(&errors),
            ["name", "phone", "birthday", "join_date", "custom"]
        );
    }

    #[test]
    fn a_new_member_is_sealed_and_joins_today_by_default() {
        let v = FieldSet::default().validator().unwrap();
        let keys = PiiKeys::development();
        let req = NewMember {
            name: "Han Meimei".into(),
            phone: Some("138 0013 8000".into()),
            email: Some("Han@Example.com".into()),
            home_store: Some("  ".into()),
            ..Default::default()
        };
        let p = parse_new_member(req, &v, &keys, "CN", today()).unwrap();
        assert_eq!(p.data.join_date, today());
        assert_eq!(p.data.home_store, None);
        let phone = p.data.phone.as_ref().unwrap();
        assert_eq!(open(&keys, phone).as_deref(), Some("+8613800138000"));
        assert_eq!(phone.index, keys.blind_index("phone", "+8613800138000"));
        assert_eq!(p.phone.unwrap().e164(), "+8613800138000");
    }

    #[test]
    fn a_change_keeps_what_it_leaves_out_and_clears_what_it_nulls() {
        let v = FieldSet::default().validator().unwrap();
        let keys = PiiKeys::development();
        let mut m = blank_member(Utc::now());
        m.notes = Some("vip".into());
        m.home_store = Some("north".into());
        let change = MemberChange {
            notes: Change::Clear,
            phone: Change::Set("13800138000".into()),
            ..Default::default()
        };
        let (d, new_phone) = apply_change(&m, change, &v, &keys, "CN", today()).unwrap();
        assert_eq!(d.notes, None);
        assert_eq!(d.home_store.as_deref(), Some("north"));
        assert_eq!(d.name, m.name);
        assert!(new_phone.is_some());
        assert!(d.phone_verified_at.is_none());
    }

    #[test]
    fn a_member_cannot_refer_themselves_or_be_born_tomorrow() {
        let v = FieldSet::default().validator().unwrap();
        let keys = PiiKeys::development();
        let m = blank_member(Utc::now());
        let change = MemberChange {
            referrer_id: Change::Set(m.id),
            birthday: Change::Set("2025-06-02".into()),
            ..Default::default()
        };
        let errors = apply_change(&m, change, &v, &keys, "CN", today())
            .err()
            .unwrap();
        assert_eq!(fields_of(&errors), ["birthday", "referrer_id"]);
    }

    #[test]
    fn dates_outside_the_plausible_years_are_refused() {
        assert!(parse_date("2024-02-29").is_ok());
        let old = parse_date("1899-12-31").unwrap_err();
        assert_eq!(old.code, FieldCode::OutOfRange);
        assert!(old.problem.contains("out of range"));
        let bad = parse_date("31/05/2024").unwrap_err();
        assert_eq!(bad.code, FieldCode::NotADate);
        assert_eq!(bad.params["value"], "31/05/2024");
    }
}
