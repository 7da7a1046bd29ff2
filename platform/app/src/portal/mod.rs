//! The member portal's use cases: one-time codes, registration with the fields members see
//! (phone verified by code, consent to the privacy terms when the business has them), login
//! with phone or e-mail and a password or with phone and a code, password reset by code, and
//! the member's own profile edits. The portal's page settings are in [`site`].
//!
//! Use cases that refuse after counting an attempt (a wrong code, a wrong password) take
//! the transaction by value and commit it themselves, so guesses stay limited.

pub mod codes;
pub mod site;

use crate::fields::current_fields;
use crate::members::{
    self as app_members, apply_change, parse_new_member, profile, taken, Change, MemberChange,
    NewMember, PlanCheck, Profile,
};
use crate::sms::SmsSender;
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use codes::{exhausted, verify_code, wrong_code, CodeCheck, CodePurpose};
use patron_core::auth::{
    dummy_password_hash, issue_token, Email, LoginThrottle, Password, TokenKind,
};
use patron_core::fields::FieldSet;
use patron_core::members::Channel;
use patron_core::members::{email_lookup_key, Phone};
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_core::FieldError;
use patron_db::members::{self, Actor, Member};
use patron_db::{portal, Tenant, TenantTx};
use serde_json::Value;

/// How long a member's login lasts.
pub const MEMBER_SESSION_DAYS: i64 = 30;

/// Who the portal writes as in the audit log: the member, through the portal.
fn by_self(now: DateTime<Utc>) -> Actor<'static> {
    Actor {
        subject: "member:self",
        channel: Channel::Portal,
        at: now,
    }
}

/// A member's login: the token (shown once) and the member.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub member: Profile,
}

/// A registration: the profile (phone required), the code sent to the phone, a password
/// (optional: without one the member logs in by code), and the version of the privacy
/// terms the member agreed to.
#[derive(Debug, Clone)]
pub struct Registration {
    pub profile: NewMember,
    pub code: String,
    pub password: Option<String>,
    pub consent_version: Option<i32>,
}

/// How a member proves who they are at login.
#[derive(Debug, Clone)]
pub enum Credential {
    Password(String),
    /// A code sent to the phone for `login`.
    Code(String),
}

/// A member's own profile edit: the built-ins members may change and member-editable
/// custom fields; a new phone needs the code sent to it.
#[derive(Debug, Clone, Default)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub email: Change<String>,
    pub gender: Change<String>,
    pub birthday: Change<String>,
    pub phone: Option<String>,
    pub phone_code: Option<String>,
    pub custom: Option<Value>,
}

/// A phone in the business's region.
pub fn parse_phone(raw: &str, t: &Tenant) -> Result<Phone, AppError> {
    Phone::parse(raw, &t.settings.phone_region).map_err(|p| AppError::field("phone", p))
}

fn bad_member_token() -> AppError {
    AppError::unauthorized(
        "invalid_token",
        "the member token is missing, malformed, expired or revoked",
    )
}

fn wrong_login() -> AppError {
    AppError::unauthorized("wrong_credentials", "the login or password is wrong")
}

/// Runs argon2 off the async threads.
async fn hash_password(password: Password) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || password.hash())
        .await
        .map_err(AppError::internal)
}

/// Verifies a password off the async threads.
async fn verify_password(attempt: String, phc: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || patron_core::auth::verify_password(&attempt, &phc))
        .await
        .map_err(AppError::internal)
}

/// The member behind a session token's hash, locked for the rest of `tx`.
pub async fn session_member(
    tx: &mut TenantTx,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Member, AppError> {
    let id = portal::authenticate(tx, token_hash, now)
        .await?
        .ok_or_else(bad_member_token)?;
    Ok(members::get_for_update(tx, id).await?)
}

/// Starts a login for `m`.
async fn start_session(
    tx: &mut TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    m: &Member,
    now: DateTime<Utc>,
) -> Result<Session, AppError> {
    let issued = issue_token(TokenKind::MemberSession, tenant.id);
    let expires_at = now + Duration::days(MEMBER_SESSION_DAYS);
    portal::create_session(tx, m.id, &issued.hash, now, expires_at).await?;
    let (_, set) = current_fields(tx).await?;
    Ok(Session {
        token: issued.text,
        expires_at,
        member: own(profile(m, &set, keys, true), &set),
    })
}

/// What a member sees of their own profile: the custom values of fields visible to
/// members, nothing of staff-only or archived fields.
pub fn own(mut p: Profile, set: &FieldSet) -> Profile {
    if let Value::Object(custom) = &mut p.custom {
        custom.retain(|k, _| set.get(k).is_some_and(|f| f.member_visible && !f.archived));
    }
    p.archived = Value::Object(Default::default());
    p
}

/// The member's own profile, as the portal shows it.
pub async fn own_view(tx: &mut TenantTx, keys: &PiiKeys, m: &Member) -> Result<Profile, AppError> {
    let (_, set) = current_fields(tx).await?;
    Ok(own(profile(m, &set, keys, true), &set))
}

/// Sends a one-time code. Registering and changing phone need a phone no member has; a
/// reset for an unknown phone answers the same as a real one and sends nothing.
#[allow(clippy::too_many_arguments)]
pub async fn send_code(
    tx: &mut TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    sms: &dyn SmsSender,
    plan: &dyn PlanCheck,
    phone: &Phone,
    purpose: CodePurpose,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let index = keys.blind_index("phone", phone.e164());
    let existing = members::find_by_phone_index(tx, &index).await?;
    match purpose {
        CodePurpose::Register | CodePurpose::PhoneChange if existing.is_some() => {
            return Err(AppError::conflict(
                "phone_taken",
                Some("phone"),
                "this phone number is already registered; log in or reset the password",
            ));
        }
        // Say nothing about who is a member.
        CodePurpose::ResetPassword | CodePurpose::Login
            if existing.as_ref().is_none_or(|m| m.status != "active") =>
        {
            return Ok(())
        }
        _ => {}
    }
    codes::send_code(tx, keys, sms, plan, phone, purpose, tenant, now).await
}

/// The custom values of `custom` members may not fill: staff-only fields.
fn staff_only(set: &FieldSet, custom: &Option<Value>) -> Vec<FieldError> {
    match custom {
        Some(Value::Object(c)) => c
            .keys()
            .filter(|k| set.get(k).is_some_and(|f| !f.member_visible))
            .map(|k| {
                patron_core::Issue::new(
                    patron_core::FieldCode::NotForMembers,
                    "members cannot fill this field",
                )
                .at(format!("custom.{k}"))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Registers a member with the fields members see and a code sent to the phone, records
/// their consent to the privacy terms, and logs them in. Commits `tx`, also when a wrong
/// code is refused.
pub async fn register(
    mut tx: TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    plan: &dyn PlanCheck,
    req: Registration,
    now: DateTime<Utc>,
) -> Result<Session, AppError> {
    let password = req
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(Password::parse)
        .transpose();
    let phone_raw = req.profile.phone.clone().unwrap_or_default();
    let phone = parse_phone(&phone_raw, tenant);
    let (_, set) = current_fields(&mut tx).await?;
    let hidden = staff_only(&set, &req.profile.custom);
    // Members fill only what they see: a required staff-only field is staff's to fill.
    let validator = set
        .for_members()
        .validator()
        .map_err(|e| AppError::internal(std::io::Error::other(e)))?;
    let mut profile_in = req.profile;
    if let Some(Value::Object(c)) = &mut profile_in.custom {
        c.retain(|k, _| !hidden.iter().any(|e| e.field == format!("custom.{k}")));
    }
    let parsed = parse_new_member(
        profile_in,
        &validator,
        keys,
        &tenant.settings.phone_region,
        app_members::today(tenant, now),
    );
    // Every bad field at once.
    let mut errors = hidden;
    if let Err(p) = &password {
        errors.push(p.clone().at("password"));
    }
    if phone_raw.trim().is_empty() {
        errors.push(
            patron_core::Issue::new(patron_core::FieldCode::Required, "is required to register")
                .at("phone"),
        );
    }
    let parsed = match parsed {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let password = password.map_err(|p| AppError::field("password", p))?;
    let (mut parsed, phone) = (parsed.expect("checked"), phone?);
    let consent = site::check_consent(&site::get(&mut tx).await?, req.consent_version)?;
    match verify_code(&mut tx, keys, CodePurpose::Register, &phone, &req.code, now).await? {
        CodeCheck::Ok => {}
        CodeCheck::Exhausted => return Err(exhausted()),
        CodeCheck::Wrong => {
            tx.commit().await?;
            return Err(wrong_code());
        }
    }
    parsed.data.phone_verified_at = Some(now);
    // The business's plan caps its members; a member cannot upgrade it, so say so plainly.
    if plan.check(&mut tx, Limit::Members, 1).await?.is_err() {
        return Err(AppError::conflict(
            "registration_unavailable",
            None,
            "this business cannot take new members right now; please ask at the counter",
        ));
    }
    let hash = match password {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let by = by_self(now);
    let m = members::create(&mut tx, &parsed.data, hash.as_deref(), &by)
        .await
        .map_err(taken)?;
    if let Some(version) = consent {
        portal::record_consent(&mut tx, m.id, version, by.channel.as_str(), now).await?;
        members::audit(
            &mut tx,
            m.id,
            &by,
            "member.consent",
            Some("consent_version"),
            None,
            Some(Value::from(version)),
        )
        .await?;
    }
    let session = start_session(&mut tx, tenant, keys, &m, now).await?;
    tx.commit().await?;
    Ok(session)
}

/// Logs in with phone or e-mail and password, or with phone and a code sent for `login`.
/// Failed password logins lock the member out for a while, wrong codes wear the code out;
/// commits `tx`, also when the password or code is wrong.
pub async fn login(
    tx: TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    login: &str,
    credential: Credential,
    now: DateTime<Utc>,
) -> Result<Session, AppError> {
    match credential {
        Credential::Password(password) => {
            login_with_password(tx, tenant, keys, login, password, now).await
        }
        Credential::Code(code) => login_with_code(tx, tenant, keys, login, &code, now).await,
    }
}

/// Logs in with phone and a code sent to it for `login`. Commits `tx`, also when the code
/// is wrong (the attempt counts against the code).
async fn login_with_code(
    mut tx: TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    login: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Session, AppError> {
    if login.contains('@') {
        return Err(AppError::field(
            "login",
            patron_core::Issue::new(
                patron_core::FieldCode::NotAllowed,
                "log in with a code by phone number; e-mail logins need the password",
            )
            .with("reason", "email_login_needs_password"),
        ));
    }
    let phone = parse_phone(login.trim(), tenant).map_err(|_| {
        AppError::field(
            "login",
            patron_core::Issue::new(
                patron_core::FieldCode::NotAPhone,
                "is not a phone number of this region",
            )
            .with("value", login.trim()),
        )
    })?;
    match verify_code(&mut tx, keys, CodePurpose::Login, &phone, code, now).await? {
        CodeCheck::Ok => {}
        CodeCheck::Exhausted => return Err(exhausted()),
        CodeCheck::Wrong => {
            tx.commit().await?;
            return Err(wrong_code());
        }
    }
    let m = members::find_by_phone_index(&mut tx, &keys.blind_index("phone", phone.e164()))
        .await?
        .filter(|m| m.status == "active")
        .ok_or_else(wrong_code)?;
    if let Some(until) = m.locked_until.filter(|u| *u > now) {
        let wait = (until - now).num_seconds().max(1) as u64;
        return Err(AppError::too_many(
            "login_locked",
            format!("too many failed logins; try again in {wait} seconds"),
            wait,
        ));
    }
    members::login_succeeded(&mut tx, m.id).await?;
    let session = start_session(&mut tx, tenant, keys, &m, now).await?;
    tx.commit().await?;
    Ok(session)
}

async fn login_with_password(
    mut tx: TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    login: &str,
    password: String,
    now: DateTime<Utc>,
) -> Result<Session, AppError> {
    let login = login.trim().to_owned();
    let found = if login.contains('@') {
        match Email::parse(&login) {
            Ok(e) => {
                members::find_by_email_index(
                    &mut tx,
                    &keys.blind_index("email", &email_lookup_key(e.as_str())),
                )
                .await?
            }
            Err(_) => None,
        }
    } else {
        match Phone::parse(&login, &tenant.settings.phone_region) {
            Ok(p) => {
                members::find_by_phone_index(&mut tx, &keys.blind_index("phone", p.e164())).await?
            }
            Err(_) => None,
        }
    };
    let Some(m) = found.filter(|m| m.status == "active" && m.password_hash.is_some()) else {
        verify_password(password, dummy_password_hash().to_owned()).await?;
        return Err(wrong_login());
    };
    if let Some(until) = m.locked_until.filter(|u| *u > now) {
        let wait = (until - now).num_seconds().max(1) as u64;
        return Err(AppError::too_many(
            "login_locked",
            format!("too many failed logins; try again in {wait} seconds"),
            wait,
        ));
    }
    if !verify_password(password, m.password_hash.clone().unwrap_or_default()).await? {
        let lock = LoginThrottle::lock_for(m.failed_logins + 1).map(|d| now + d);
        members::login_failed(&mut tx, m.id, lock).await?;
        tx.commit().await?;
        return Err(wrong_login());
    }
    members::login_succeeded(&mut tx, m.id).await?;
    let session = start_session(&mut tx, tenant, keys, &m, now).await?;
    tx.commit().await?;
    Ok(session)
}

/// Sets a new password with a code sent to the member's phone; other logins end. The phone
/// and password were read before the transaction began. Commits `tx`.
pub async fn reset_password(
    mut tx: TenantTx,
    keys: &PiiKeys,
    phone: &Phone,
    password: Password,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match verify_code(&mut tx, keys, CodePurpose::ResetPassword, phone, code, now).await? {
        CodeCheck::Ok => {}
        CodeCheck::Exhausted => return Err(exhausted()),
        CodeCheck::Wrong => {
            tx.commit().await?;
            return Err(wrong_code());
        }
    }
    let m = members::find_by_phone_index(&mut tx, &keys.blind_index("phone", phone.e164()))
        .await?
        .filter(|m| m.status == "active")
        .ok_or_else(wrong_code)?;
    let hash = hash_password(password).await?;
    members::set_password(&mut tx, m.id, &hash).await?;
    portal::revoke_sessions(&mut tx, m.id, now).await?;
    members::audit(
        &mut tx,
        m.id,
        &by_self(now),
        "member.password_reset",
        Some("password"),
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The custom fields of `custom` members may not edit.
fn locked_fields(set: &FieldSet, custom: &Option<Value>) -> Vec<FieldError> {
    match custom {
        Some(Value::Object(c)) => c
            .keys()
            .filter(|k| !set.get(k).is_some_and(|f| f.member_editable && !f.archived))
            .map(|k| {
                patron_core::Issue::new(
                    patron_core::FieldCode::NotForMembers,
                    "members cannot edit this field",
                )
                .at(format!("custom.{k}"))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The member's own profile edit; audited like a staff change. Commits `tx`, also when a
/// wrong phone code is refused.
pub async fn update_profile(
    mut tx: TenantTx,
    tenant: &Tenant,
    keys: &PiiKeys,
    m: &Member,
    req: ProfileChange,
    now: DateTime<Utc>,
) -> Result<Profile, AppError> {
    let (_, set) = current_fields(&mut tx).await?;
    let locked = locked_fields(&set, &req.custom);
    if !locked.is_empty() {
        return Err(AppError::invalid(locked));
    }
    let new_phone = match &req.phone {
        Some(p) => Some(parse_phone(p, tenant)?),
        None => None,
    };
    if let Some(p) = &new_phone {
        let code = req.phone_code.as_deref().ok_or_else(|| {
            AppError::field(
                "phone_code",
                patron_core::Issue::new(
                    patron_core::FieldCode::Required,
                    "is needed to change the phone",
                )
                .with("with", "phone"),
            )
        })?;
        match verify_code(&mut tx, keys, CodePurpose::PhoneChange, p, code, now).await? {
            CodeCheck::Ok => {}
            CodeCheck::Exhausted => return Err(exhausted()),
            CodeCheck::Wrong => {
                tx.commit().await?;
                return Err(wrong_code());
            }
        }
    }
    let change = MemberChange {
        name: req.name,
        phone: match &req.phone {
            Some(p) => Change::Set(p.clone()),
            None => Change::Keep,
        },
        email: req.email,
        gender: req.gender,
        birthday: req.birthday,
        custom: req.custom,
        ..Default::default()
    };
    let validator = set
        .validator()
        .map_err(|e| AppError::internal(std::io::Error::other(e)))?;
    let (mut data, _) = apply_change(
        m,
        change,
        &validator,
        keys,
        &tenant.settings.phone_region,
        app_members::today(tenant, now),
    )
    .map_err(AppError::invalid)?;
    if new_phone.is_some() {
        data.phone_verified_at = Some(now);
    }
    let m = app_members::store_change(&mut tx, keys, m, &data, &by_self(now)).await?;
    tx.commit().await?;
    Ok(own(profile(&m, &set, keys, true), &set))
}

/// Text messages the default sender recorded, newest first (1 to 500, 50 by default).
pub async fn outbox(
    tx: &mut TenantTx,
    region: &str,
    phone: Option<&str>,
    limit: Option<i64>,
) -> Result<Vec<portal::OutboxMessage>, AppError> {
    let phone = match phone {
        Some(p) => Some(Phone::parse(p, region).map_err(|e| AppError::field("phone", e))?),
        None => None,
    };
    Ok(portal::outbox(
        tx,
        phone.as_ref().map(Phone::e164),
        limit.unwrap_or(50).clamp(1, 500),
    )
    .await?)
}

/// The business a portal address names, when its portal is open at all (an account that
/// has lost all access answers like an unknown one).
pub async fn business(db: &patron_db::Db, slug: &str) -> Result<Option<Tenant>, AppError> {
    Ok(patron_db::tenants::find_by_slug(db, slug.trim())
        .await?
        .filter(|t| t.access() != patron_core::plans::Access::None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_may_only_edit_fields_marked_member_editable() {
        let set = FieldSet::default();
        let locked = locked_fields(&set, &Some(json!({"size": "L"})));
        assert_eq!(locked.len(), 1);
        assert_eq!(locked[0].field, "custom.size");
        assert!(locked_fields(&set, &None).is_empty());
        assert!(locked_fields(&set, &Some(json!({}))).is_empty());
    }

    #[test]
    fn members_may_not_fill_staff_only_fields_and_do_not_see_their_values() {
        let set = FieldSet::parse(
            serde_json::from_value(json!([
                { "key": "expires", "type": "date", "label": { "en": "Expires" }, "member_visible": false, "required": true },
                { "key": "shoe", "type": "integer", "label": { "en": "Shoe" } }
            ]))
            .unwrap(),
        )
        .unwrap();
        let refused = staff_only(&set, &Some(json!({"expires": "2030-01-01", "shoe": 40})));
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].field, "custom.expires");
        assert!(staff_only(&set, &Some(json!({"shoe": 40}))).is_empty());
    }

    #[test]
    fn the_portal_writes_as_the_member_through_the_portal() {
        let now = Utc::now();
        let a = by_self(now);
        assert_eq!(
            (a.subject, a.channel, a.at),
            ("member:self", Channel::Portal, now)
        );
    }
}
