//! Members at the counter: register, look up, edit, search, cards, the per-member audit log
//! and erasure. Phones and e-mails are sealed at rest and masked for staff without
//! `members:read_pii`.

use crate::edge::auth::{Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::read_only_safe;
use crate::edge::state::ApiState;
use crate::fields::current_fields;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::access::Permission;
use patron_core::auth::Email;
use patron_core::fields::{CustomValidator, FieldSet, WriteKind};
use patron_core::members::{self as core_members, Gender, Phone};
use patron_core::pii::PiiKeys;
use patron_core::FieldError;
use patron_db::members::{self, Actor, CustomCondition, Member, MemberData, Sealed, SortKey};
use patron_db::{cards, DbError, TenantTx};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde_json::{Map, Value};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The member register: registration, profiles, search, cards, audit, erasure.
    Members,
}

/// A member as staff see it.
#[derive(Debug, Object)]
pub struct MemberView {
    pub id: Uuid,
    /// `active` or `erased`.
    pub status: String,
    /// The card in use.
    pub card_number: Option<String>,
    pub name: String,
    /// E.164, or masked (`138****5678`) without `members:read_pii`.
    pub phone: Option<String>,
    pub phone_verified: bool,
    /// Masked (`a***@x.com`) without `members:read_pii`.
    pub email: Option<String>,
    /// Whether phone and e-mail are masked in this response.
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
    /// Values of archived fields, kept readable.
    pub archived: Value,
    /// How the member registered: counter, portal, import, api.
    pub channel: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
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

/// The view of `m`, masked unless `show_pii`.
pub fn member_view(m: &Member, set: &FieldSet, keys: &PiiKeys, show_pii: bool) -> MemberView {
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
    MemberView {
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

/// A new member's details. Dates are `YYYY-MM-DD`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewMember {
    #[oai(validator(max_length = 1000))]
    pub name: String,
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    #[oai(validator(max_length = 1000))]
    pub email: Option<String>,
    #[oai(validator(max_length = 100))]
    pub gender: Option<String>,
    #[oai(validator(max_length = 100))]
    pub birthday: Option<String>,
    /// Defaults to today in the business's time zone.
    #[oai(validator(max_length = 100))]
    pub join_date: Option<String>,
    #[oai(validator(max_length = 1000))]
    pub home_store: Option<String>,
    #[oai(default, validator(max_items = 100))]
    pub tags: Vec<String>,
    #[oai(validator(max_length = 20000))]
    pub notes: Option<String>,
    pub referrer_id: Option<Uuid>,
    /// Values of custom fields, by key.
    pub custom: Option<Value>,
}

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

fn parse_date(raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| format!("\"{raw}\" is not a date like 2024-05-31"))
        .and_then(|d| {
            if d.year_ce().1 < 1900 || d.year_ce().1 > 2200 {
                Err(format!("\"{raw}\" is out of range"))
            } else {
                Ok(d)
            }
        })
}

use chrono::Datelike;

fn opt_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err("must not contain control characters".into());
    }
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

fn parse_name(raw: &str) -> Result<String, String> {
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
        v.check::<()>("birthday", Err("must not be in the future".into()));
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
        Some(_) => Err(vec![FieldError::new(
            "custom",
            "must be an object of field values",
        )]),
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

/// Maps a taken phone or e-mail to a 409 naming the field.
pub fn taken(e: DbError) -> ApiError {
    match e {
        DbError::Conflict(c) if c == "members_phone_key" => ApiError::conflict(
            "phone_taken",
            Some("phone"),
            "another member already has this phone number",
        ),
        DbError::Conflict(c) if c == "members_email_key" => ApiError::conflict(
            "email_taken",
            Some("email"),
            "another member already has this e-mail address",
        ),
        DbError::Conflict(c) if c == "members_referrer_id_fkey" => {
            ApiError::invalid_field("referrer_id", "there is no such member")
        }
        other => other.into(),
    }
}

/// Today in the tenant's time zone.
pub fn today(state: &ApiState, p: &Principal) -> NaiveDate {
    let tz: chrono_tz::Tz = p
        .tenant
        .settings
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    state.now().with_timezone(&tz).date_naive()
}

fn member_not_found(e: DbError) -> ApiError {
    match e {
        DbError::NotFound => ApiError::not_found("member"),
        other => other.into(),
    }
}

/// A page of members.
#[derive(Debug, Object)]
pub struct MemberPage {
    pub items: Vec<MemberView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[oai(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Created,
    JoinDate,
    Birthday,
    Name,
}

/// One condition on a custom field: `eq`, or a range with `min`/`max` (numbers) or
/// `from`/`to` (dates).
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CustomFilter {
    #[oai(validator(max_length = 40))]
    pub field: String,
    pub eq: Option<Value>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    #[oai(validator(max_length = 40))]
    pub from: Option<String>,
    #[oai(validator(max_length = 40))]
    pub to: Option<String>,
}

/// A member search; every condition given must hold.
#[derive(Debug, Object, Default)]
#[oai(deny_unknown_fields)]
pub struct MemberSearch {
    #[oai(validator(max_length = 40))]
    pub card_number: Option<String>,
    /// In any formatting; read in the business's phone region.
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    #[oai(validator(max_length = 300))]
    pub email: Option<String>,
    /// Substring of the name (works for Chinese).
    #[oai(validator(max_length = 100))]
    pub name: Option<String>,
    /// Members carrying all of these tags.
    #[oai(default, validator(max_items = 20))]
    pub tags: Vec<String>,
    #[oai(default, validator(max_items = 20))]
    pub custom: Vec<CustomFilter>,
    #[oai(validator(max_length = 20))]
    pub joined_from: Option<String>,
    #[oai(validator(max_length = 20))]
    pub joined_to: Option<String>,
    #[oai(validator(max_length = 20))]
    pub birthday_from: Option<String>,
    #[oai(validator(max_length = 20))]
    pub birthday_to: Option<String>,
    /// Members on this tier (its code in the ladder in force).
    #[oai(validator(max_length = 32))]
    pub tier: Option<String>,
    #[oai(default)]
    pub sort: SortBy,
    #[oai(default)]
    pub descending: bool,
    /// The `next_cursor` of the previous page.
    #[oai(validator(max_length = 500))]
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// The `tier` search condition, checked against the ladder in force.
pub async fn tier_filter(
    state: &ApiState,
    tx: &mut TenantTx,
    tier: Option<&str>,
) -> Result<Option<members::TierFilter>, ApiError> {
    let Some(code) = tier.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let rules = state.rules.tenant(tx).await?;
    let Some(l) = &rules.ladder else {
        return Err(ApiError::invalid_field(
            "tier",
            "the business has no tier ladder",
        ));
    };
    match l.ladder.tiers.iter().position(|t| t.code == code) {
        Some(i) => Ok(Some(members::TierFilter {
            code: code.to_owned(),
            first: i == 0,
        })),
        None => Err(ApiError::invalid_field(
            "tier",
            "the ladder has no such tier",
        )),
    }
}

/// Turns a search request into the storage query; bad values are 422 with their path.
pub fn build_search(
    req: &MemberSearch,
    set: &FieldSet,
    keys: &PiiKeys,
    region: &str,
) -> Result<members::Search, ApiError> {
    let mut v = patron_core::Validation::new();
    let card_number = req
        .card_number
        .as_deref()
        .and_then(|c| v.check("card_number", core_members::normalise_card_number(c)));
    let phone_index = req
        .phone
        .as_deref()
        .and_then(|p| v.check("phone", Phone::parse(p, region)))
        .map(|p| keys.blind_index("phone", p.e164()));
    let email_index = req
        .email
        .as_deref()
        .map(|e| keys.blind_index("email", &core_members::email_lookup_key(e)));
    let name = req
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let date = |v: &mut patron_core::Validation, f: &str, d: &Option<String>| {
        d.as_deref().and_then(|s| v.check(f, parse_date(s)))
    };
    let joined_from = date(&mut v, "joined_from", &req.joined_from);
    let joined_to = date(&mut v, "joined_to", &req.joined_to);
    let birthday_from = date(&mut v, "birthday_from", &req.birthday_from);
    let birthday_to = date(&mut v, "birthday_to", &req.birthday_to);
    let limit = req.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        v.check::<()>("limit", Err("must be 1 to 200".into()));
    }
    let mut custom = Vec::new();
    for (i, c) in req.custom.iter().enumerate() {
        let Some(f) = set.get(&c.field) else {
            v.check::<()>(
                &format!("custom.{i}.field"),
                Err(format!("\"{}\" is not a field", c.field)),
            );
            continue;
        };
        if let Some(eq) = &c.eq {
            custom.push(CustomCondition::Equals(f.key.clone(), eq.clone()));
        }
        if c.min.is_some() || c.max.is_some() {
            custom.push(CustomCondition::NumberRange(f.key.clone(), c.min, c.max));
        }
        if c.from.is_some() || c.to.is_some() {
            custom.push(CustomCondition::TextRange(
                f.key.clone(),
                c.from.clone(),
                c.to.clone(),
            ));
        }
    }
    let after = match &req.after {
        None => None,
        Some(c) => v.check("after", decode_cursor(c)),
    };
    v.finish().map_err(ApiError::invalid)?;
    Ok(members::Search {
        card_number,
        phone_index,
        email_index,
        name,
        tags: req.tags.iter().map(|t| t.trim().to_owned()).collect(),
        custom,
        joined_from,
        joined_to,
        birthday_from,
        birthday_to,
        tier: None,
        include_erased: false,
        sort: match req.sort {
            SortBy::Created => SortKey::Created,
            SortBy::JoinDate => SortKey::JoinDate,
            SortBy::Birthday => SortKey::Birthday,
            SortBy::Name => SortKey::Name,
        },
        descending: req.descending,
        after,
        limit,
    })
}

fn encode_cursor(value: Option<String>, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::json!([value, id]).to_string())
}

fn decode_cursor(raw: &str) -> Result<(Option<String>, Uuid), String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| "is not a cursor from a previous page".to_owned())?;
    serde_json::from_slice::<(Option<String>, Uuid)>(&bytes)
        .map_err(|_| "is not a cursor from a previous page".to_owned())
}

/// Runs a search; refuses lookups by a lost or blocked card with a clear error.
pub async fn run_search(
    tx: &mut TenantTx,
    search: &members::Search,
) -> Result<(Vec<Member>, Option<String>), ApiError> {
    if let Some(n) = &search.card_number {
        if let Some(card) = cards::find(tx, n).await? {
            refuse_unusable(&card)?;
        }
    }
    let mut page = search.clone();
    page.limit = search.limit + 1;
    let mut rows = members::search(tx, &page).await?;
    let next = if rows.len() as i64 > search.limit {
        rows.truncate(search.limit as usize);
        rows.last()
            .map(|m| encode_cursor(members::sort_value(m, search.sort), m.id))
    } else {
        None
    };
    Ok((rows, next))
}

/// A lost card is frozen and a replaced one blocked: lookups by them are refused.
pub fn refuse_unusable(card: &cards::Card) -> Result<(), ApiError> {
    match card.status.as_str() {
        "lost" => Err(ApiError::conflict(
            "card_lost",
            Some("card_number"),
            "this card was reported lost and is frozen; reissue a card to the member",
        )),
        "blocked" => Err(ApiError::conflict(
            "card_blocked",
            Some("card_number"),
            match &card.replaced_by {
                Some(_) => "this card was replaced and is permanently blocked",
                None => "this card is permanently blocked",
            },
        )),
        _ => Ok(()),
    }
}

#[derive(Debug, Object)]
pub struct CardView {
    pub number: String,
    /// `active`, `lost` or `blocked`.
    pub status: String,
    pub physical_code: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub replaced_by: Option<String>,
}

impl From<cards::Card> for CardView {
    fn from(c: cards::Card) -> Self {
        Self {
            number: c.number,
            status: c.status,
            physical_code: c.physical_code,
            issued_at: c.issued_at,
            replaced_by: c.replaced_by,
        }
    }
}

#[derive(Debug, Object)]
pub struct CardEventView {
    pub number: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// issued, physical_bound, reported_lost, blocked.
    pub event: String,
    pub detail: Value,
}

#[derive(Debug, Object)]
pub struct CardsView {
    pub cards: Vec<CardView>,
    pub history: Vec<CardEventView>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PhysicalCard {
    #[oai(validator(max_length = 100))]
    pub physical_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum CardModeDto {
    Sequence,
    Random,
}

/// How new card numbers look.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CardFormatDto {
    #[oai(validator(max_length = 20))]
    pub prefix: String,
    pub length: u32,
    pub mode: CardModeDto,
    pub luhn: bool,
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
enum CreatedMember {
    /// Returned when the member was registered (with a card).
    #[oai(status = 201)]
    Created(Json<MemberView>),
}

pub struct MembersApi {
    pub state: ApiState,
}

impl MembersApi {
    fn can_see_pii(&self, p: &Principal) -> bool {
        self.state.require(p, Permission::MembersReadPii).is_ok()
    }

    async fn view_of(
        &self,
        tx: &mut TenantTx,
        p: &Principal,
        m: &Member,
    ) -> Result<MemberView, ApiError> {
        let (_, set) = current_fields(tx).await?;
        Ok(member_view(
            m,
            &set,
            &self.state.config.pii,
            self.can_see_pii(p),
        ))
    }
}

/// Audits the difference between two stored states of a member, field by field. PII is
/// recorded masked so the log never holds it in clear.
pub async fn audit_diff(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    id: Uuid,
    before: &MemberData,
    after: &MemberData,
    by: &Actor<'_>,
) -> Result<(), DbError> {
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
    for (field, b, a) in changes {
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

/// Applies a change to a member's stored data. `allowed` limits which custom keys may be
/// written (the portal passes the member-editable ones). Every bad field is reported.
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
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => {
            d.phone = None;
            d.phone_verified_at = None;
        }
        MaybeUndefined::Value(p) => {
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
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => d.email = None,
        MaybeUndefined::Value(e) => {
            if let Some(e) = v.check("email", Email::parse(e)) {
                let sealed = seal_email(keys, &e);
                if d.email.as_ref().map(|s| &s.index) != Some(&sealed.index) {
                    d.email = Some(sealed);
                }
            }
        }
    }
    match &req.gender {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => d.gender = None,
        MaybeUndefined::Value(g) => {
            if let Some(g) = v.check("gender", Gender::parse(g)) {
                d.gender = Some(g.as_str().to_owned());
            }
        }
    }
    match &req.birthday {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => d.birthday = None,
        MaybeUndefined::Value(b) => {
            if let Some(b) = v.check("birthday", parse_date(b)) {
                if b > today {
                    v.check::<()>("birthday", Err("must not be in the future".into()));
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
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => d.home_store = None,
        MaybeUndefined::Value(h) => {
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
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => d.notes = None,
        MaybeUndefined::Value(n) => {
            if let Some(n) = v.check("notes", opt_text(n, 5000)) {
                d.notes = n;
            }
        }
    }
    match &req.referrer_id {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => d.referrer_id = None,
        MaybeUndefined::Value(r) => {
            if *r == current.id {
                v.check::<()>(
                    "referrer_id",
                    Err("a member cannot refer themselves".into()),
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
        Some(_) => errors.push(FieldError::new(
            "custom",
            "must be an object of field values",
        )),
    }
    if errors.is_empty() {
        Ok((d, new_phone))
    } else {
        Err(errors)
    }
}

#[OpenApi(tag = "Tag::Members")]
impl MembersApi {
    /// Register a member at the counter; a card is issued at once.
    #[oai(path = "/members", method = "post", operation_id = "createMember")]
    async fn create(
        &self,
        auth: TenantAuth,
        req: Json<NewMember>,
    ) -> Result<CreatedMember, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let (_, set) = current_fields(&mut tx).await?;
        let validator = set
            .validator()
            .map_err(|e| ApiError::internal(&std::io::Error::other(e)))?;
        let parsed = parse_new_member(
            req.0,
            &validator,
            &self.state.config.pii,
            &me.tenant.settings.phone_region,
            today(&self.state, &me),
        )
        .map_err(ApiError::invalid)?;
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: self.state.now(),
        };
        self.state
            .check_limit(&mut tx, &me, patron_core::plans::Limit::Members, 1)
            .await?;
        let m = members::create(&mut tx, &parsed.data, None, &by)
            .await
            .map_err(taken)?;
        let view = member_view(&m, &set, &self.state.config.pii, self.can_see_pii(&me));
        tx.commit().await?;
        Ok(CreatedMember::Created(Json(view)))
    }

    /// One member.
    #[oai(path = "/members/:id", method = "get", operation_id = "getMember")]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let m = members::get(&mut tx, id.0)
            .await
            .map_err(member_not_found)?;
        let view = self.view_of(&mut tx, &me, &m).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// Edit a member: fields left out keep their value. Each change is audited. Changing a
    /// verified phone needs `phone_code` (sent to the new number) or
    /// `members:manage_sensitive`.
    #[oai(path = "/members/:id", method = "patch", operation_id = "updateMember")]
    async fn update(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<MemberChange>,
    ) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let m = members::get_for_update(&mut tx, id.0)
            .await
            .map_err(member_not_found)?;
        if m.status == "erased" {
            return Err(ApiError::conflict(
                "member_erased",
                None,
                "this member was erased",
            ));
        }
        let (_, set) = current_fields(&mut tx).await?;
        let validator = set
            .validator()
            .map_err(|e| ApiError::internal(&std::io::Error::other(e)))?;
        let code = req.0.phone_code.clone();
        let phone_touched = !matches!(req.0.phone, MaybeUndefined::Undefined);
        let keys = self.state.config.pii.clone();
        let (mut data, new_phone) = apply_change(
            &m,
            req.0,
            &validator,
            &keys,
            &me.tenant.settings.phone_region,
            today(&self.state, &me),
        )
        .map_err(ApiError::invalid)?;
        let phone_changed = data.phone.as_ref().map(|s| &s.index) != m.phone_index.as_ref();
        let now = self.state.now();
        if phone_touched && phone_changed && m.phone_verified_at.is_some() {
            let sensitive = self
                .state
                .require(&me, Permission::MembersManageSensitive)
                .is_ok();
            match (&new_phone, code) {
                (Some(p), Some(code)) => {
                    use crate::portal::{verify_code, CodeCheck};
                    match verify_code(&mut tx, &keys, "phone_change", p, &code, now).await? {
                        CodeCheck::Ok => data.phone_verified_at = Some(now),
                        CodeCheck::Exhausted => {
                            return Err(ApiError::too_many("code_exhausted", "too many wrong codes; ask for a new one", 60))
                        }
                        CodeCheck::Wrong => {
                            // Keep the counted attempt.
                            tx.commit().await?;
                            return Err(ApiError::invalid_field("phone_code", "is wrong or expired; ask for a new one"));
                        }
                    }
                }
                _ if sensitive => {}
                _ => {
                    return Err(ApiError::forbidden(
                        "phone_verified",
                        "this member's phone is verified: changing it needs a code sent to the new number (phone_code) or the permission members:manage_sensitive",
                    ))
                }
            }
        }
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: now,
        };
        members::update(&mut tx, m.id, &data, now)
            .await
            .map_err(taken)?;
        audit_diff(&mut tx, &keys, m.id, &data_of(&m), &data, &by).await?;
        let m = members::get(&mut tx, m.id).await?;
        let view = member_view(&m, &set, &keys, self.can_see_pii(&me));
        tx.commit().await?;
        Ok(Json(view))
    }

    /// Send a code to a member's new phone number, to change a verified phone without
    /// `members:manage_sensitive`.
    #[oai(
        path = "/members/:id/phone-code",
        method = "post",
        operation_id = "sendPhoneChangeCode"
    )]
    async fn phone_code(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<NewPhone>,
    ) -> Result<Json<Sent>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        members::get(&mut tx, id.0)
            .await
            .map_err(member_not_found)?;
        let p = Phone::parse(&req.0.phone, &me.tenant.settings.phone_region)
            .map_err(|e| ApiError::invalid_field("phone", e))?;
        crate::portal::send_code(&self.state, &mut tx, &p, "phone_change", &me.tenant.name).await?;
        tx.commit().await?;
        Ok(Json(Sent { sent: true }))
    }

    /// Members, newest first, a page at a time (`after` = previous `next_cursor`).
    #[oai(path = "/members", method = "get", operation_id = "listMembers")]
    async fn list(
        &self,
        auth: TenantAuth,
        after: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<MemberPage>, ApiError> {
        let req = MemberSearch {
            after: after.0,
            limit: limit.0,
            descending: true,
            ..Default::default()
        };
        self.search_inner(auth, req).await
    }

    /// Search members by card, phone (any formatting), e-mail, name substring, tags,
    /// custom values (equality or ranges), join date and birthday ranges; keyset pages.
    #[oai(
        path = "/members/search",
        method = "post",
        operation_id = "searchMembers",
        transform = "read_only_safe"
    )]
    async fn search(
        &self,
        auth: TenantAuth,
        req: Json<MemberSearch>,
    ) -> Result<Json<MemberPage>, ApiError> {
        self.search_inner(auth, req.0).await
    }

    /// The member's audit log: every change, who made it, when, through which channel.
    #[oai(
        path = "/members/:id/audit",
        method = "get",
        operation_id = "memberAudit"
    )]
    async fn audit(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        after: Query<Option<i64>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<MemberAuditView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        members::get(&mut tx, id.0)
            .await
            .map_err(member_not_found)?;
        let rows = members::audit_log(
            &mut tx,
            id.0,
            after.0,
            limit.0.unwrap_or(200).clamp(1, 1000),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(
            rows.into_iter()
                .map(|r| MemberAuditView {
                    id: r.id,
                    at: r.at,
                    actor: r.actor,
                    channel: r.channel,
                    action: r.action,
                    field: r.field,
                    before: r.before,
                    after: r.after,
                })
                .collect(),
        ))
    }

    /// Erase a member's personal data for good. The member stays, under its anonymous id,
    /// so points and reports still add up; the erasure is audited.
    #[oai(
        path = "/members/:id/erase",
        method = "post",
        operation_id = "eraseMember"
    )]
    async fn erase(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersManageSensitive))
            .await?;
        let m = members::get_for_update(&mut tx, id.0)
            .await
            .map_err(member_not_found)?;
        if m.status == "erased" {
            return Err(ApiError::conflict(
                "member_erased",
                None,
                "this member was already erased",
            ));
        }
        let subject = me.subject();
        let now = self.state.now();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: now,
        };
        // Texts sent to the member's phone go too: the outbox keeps numbers in the clear.
        if let Some(phone) = m.phone().and_then(|s| open(&self.state.config.pii, &s)) {
            patron_db::portal::forget_outbox(&mut tx, &phone).await?;
        }
        members::erase(&mut tx, m.id, &by).await?;
        patron_db::audit::record(
            &mut tx,
            now,
            &subject,
            "member.erased",
            &m.id.to_string(),
            serde_json::json!({}),
        )
        .await?;
        let m = members::get(&mut tx, m.id).await?;
        let view = self.view_of(&mut tx, &me, &m).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// The member's cards and their history.
    #[oai(
        path = "/members/:id/cards",
        method = "get",
        operation_id = "memberCards"
    )]
    async fn member_cards(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CardsView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        members::get(&mut tx, id.0)
            .await
            .map_err(member_not_found)?;
        let list = cards::of_member(&mut tx, id.0).await?;
        let history = cards::history(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(CardsView {
            cards: list.into_iter().map(CardView::from).collect(),
            history: history
                .into_iter()
                .map(|e| CardEventView {
                    number: e.number,
                    at: e.at,
                    actor: e.actor,
                    event: e.event,
                    detail: e.detail,
                })
                .collect(),
        }))
    }

    /// Tie a physical card to the member's card in use.
    #[oai(
        path = "/members/:id/cards/physical",
        method = "post",
        operation_id = "bindPhysicalCard"
    )]
    async fn bind_physical(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<PhysicalCard>,
    ) -> Result<Json<CardView>, ApiError> {
        let code = core_members::parse_physical_code(&req.0.physical_code)
            .map_err(|p| ApiError::invalid_field("physical_code", p))?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        members::get(&mut tx, id.0)
            .await
            .map_err(member_not_found)?;
        let card = cards::active_of(&mut tx, id.0).await?.ok_or_else(|| {
            ApiError::conflict(
                "no_active_card",
                None,
                "the member has no card in use; reissue one first",
            )
        })?;
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: self.state.now(),
        };
        let card = cards::bind_physical(&mut tx, &card, &code, &by)
            .await
            .map_err(|e| match e {
                DbError::Conflict(_) => ApiError::conflict(
                    "physical_card_taken",
                    Some("physical_code"),
                    "this physical card is bound to another card",
                ),
                other => other.into(),
            })?;
        members::audit(
            &mut tx,
            id.0,
            &by,
            "card.physical_bound",
            Some("card"),
            None,
            Some(Value::from(code)),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(card.into()))
    }

    /// Look a member up by card number (or a physical card's code). Lost and blocked cards
    /// are refused with `card_lost` / `card_blocked`.
    #[oai(path = "/cards/:number", method = "get", operation_id = "lookupCard")]
    async fn lookup_card(
        &self,
        auth: TenantAuth,
        number: Path<String>,
    ) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let card = self.find_card(&mut tx, &number.0).await?;
        refuse_unusable(&card)?;
        let m = members::get(&mut tx, card.member_id).await?;
        let view = self.view_of(&mut tx, &me, &m).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// Report a card lost: it is frozen at once.
    #[oai(
        path = "/cards/:number/lost",
        method = "post",
        operation_id = "reportCardLost"
    )]
    async fn report_lost(
        &self,
        auth: TenantAuth,
        number: Path<String>,
    ) -> Result<Json<CardView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let card = self.find_card(&mut tx, &number.0).await?;
        if card.status != "active" {
            refuse_unusable(&card)?;
        }
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: self.state.now(),
        };
        let card = cards::report_lost(&mut tx, &card, &by).await?;
        members::audit(
            &mut tx,
            card.member_id,
            &by,
            "card.reported_lost",
            Some("card"),
            Some(Value::from(card.number.clone())),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(card.into()))
    }

    /// Reissue: a new number for the member; the old one is blocked for good. Points, tier
    /// and history belong to the member and carry over.
    #[oai(
        path = "/cards/:number/reissue",
        method = "post",
        operation_id = "reissueCard"
    )]
    async fn reissue(
        &self,
        auth: TenantAuth,
        number: Path<String>,
    ) -> Result<Json<CardView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let card = self.find_card(&mut tx, &number.0).await?;
        if card.status == "blocked" {
            refuse_unusable(&card)?;
        }
        let m = members::get(&mut tx, card.member_id).await?;
        if m.status == "erased" {
            return Err(ApiError::conflict(
                "member_erased",
                None,
                "this member was erased",
            ));
        }
        let subject = me.subject();
        let by = Actor {
            subject: &subject,
            channel: me.channel(),
            at: self.state.now(),
        };
        let new = cards::reissue(&mut tx, &card, &by).await?;
        members::audit(
            &mut tx,
            card.member_id,
            &by,
            "card.reissued",
            Some("card"),
            Some(Value::from(card.number.clone())),
            Some(Value::from(new.number.clone())),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(new.into()))
    }

    /// How new card numbers look.
    #[oai(path = "/card-format", method = "get", operation_id = "getCardFormat")]
    async fn get_format(&self, auth: TenantAuth) -> Result<Json<CardFormatDto>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let f = cards::format(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(CardFormatDto {
            prefix: f.prefix,
            length: f.length,
            mode: match f.mode {
                core_members::CardMode::Sequence => CardModeDto::Sequence,
                core_members::CardMode::Random => CardModeDto::Random,
            },
            luhn: f.luhn,
        }))
    }

    /// Change how new card numbers look (existing numbers stay).
    #[oai(path = "/card-format", method = "put", operation_id = "setCardFormat")]
    async fn set_format(
        &self,
        auth: TenantAuth,
        req: Json<CardFormatDto>,
    ) -> Result<Json<CardFormatDto>, ApiError> {
        let f = core_members::CardFormat {
            prefix: req.0.prefix.clone(),
            length: req.0.length,
            mode: match req.0.mode {
                CardModeDto::Sequence => core_members::CardMode::Sequence,
                CardModeDto::Random => core_members::CardMode::Random,
            },
            luhn: req.0.luhn,
        };
        f.check().map_err(|e| ApiError::invalid(vec![e]))?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::FieldsManage))
            .await?;
        cards::set_format(&mut tx, &f).await?;
        patron_db::audit::record(
            &mut tx,
            self.state.now(),
            &me.subject(),
            "card_format.changed",
            "",
            serde_json::to_value(&f).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(req)
    }
}

impl MembersApi {
    async fn find_card(&self, tx: &mut TenantTx, raw: &str) -> Result<cards::Card, ApiError> {
        if let Ok(n) = core_members::normalise_card_number(raw) {
            if let Some(c) = cards::find(tx, &n).await? {
                return Ok(c);
            }
        }
        if let Ok(code) = core_members::parse_physical_code(raw) {
            if let Some(c) = cards::find_by_physical(tx, &code).await? {
                return Ok(c);
            }
        }
        Err(ApiError::not_found("card"))
    }

    async fn search_inner(
        &self,
        auth: TenantAuth,
        req: MemberSearch,
    ) -> Result<Json<MemberPage>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let (_, set) = current_fields(&mut tx).await?;
        let search = build_search(
            &req,
            &set,
            &self.state.config.pii,
            &me.tenant.settings.phone_region,
        )?;
        let mut search = search;
        search.tier = tier_filter(&self.state, &mut tx, req.tier.as_deref()).await?;
        let (rows, next_cursor) = run_search(&mut tx, &search).await?;
        tx.commit().await?;
        let pii = self.can_see_pii(&me);
        Ok(Json(MemberPage {
            items: rows
                .iter()
                .map(|m| member_view(m, &set, &self.state.config.pii, pii))
                .collect(),
            next_cursor,
        }))
    }
}
