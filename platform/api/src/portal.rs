//! The member portal API, `/portal/{tenant}/...`: members register with the business's
//! fields (phone verified by a one-time SMS code), log in with phone or e-mail and a
//! password, read and edit their own profile, and reset their password by code.
//!
//! Member tokens (`pmt_...`) are their own kind: staff endpoints never accept them and the
//! portal never accepts staff tokens. A token works only in the tenant that issued it.

use crate::edge::auth::{hash_password, verify_password, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use crate::fields::current_fields;
use crate::members::{
    apply_change, member_view, parse_new_member, taken, MemberChange, MemberView, NewMember,
};
use chrono::{DateTime, Duration, Utc};
use patron_core::access::Permission;
use patron_core::auth::{
    dummy_password_hash, issue_token, parse_token, Email, LoginThrottle, Password, TokenKind,
};
use patron_core::members::{email_lookup_key, Phone};
use patron_core::pii::PiiKeys;
use patron_core::plans::Limit;
use patron_db::members::{self, Actor};
use patron_db::{portal, tenants, DbError, Tenant, TenantTx};
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, SecurityScheme, Tags};
use rand::Rng;
use serde_json::Value;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The member portal: self-service registration, login and profile.
    Portal,
}

/// How long a one-time code works.
pub const CODE_TTL_MINUTES: i64 = 10;
/// Wrong guesses a code survives.
pub const CODE_MAX_ATTEMPTS: i32 = 5;
/// Codes one phone may be sent per hour.
pub const CODES_PER_HOUR: i64 = 5;
/// How long a member's login lasts.
pub const MEMBER_SESSION_DAYS: i64 = 30;

/// A member's portal token, as `Authorization: Bearer pmt_...`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque")]
pub struct MemberToken(Bearer);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum CodePurpose {
    Register,
    ResetPassword,
    PhoneChange,
}

impl CodePurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::ResetPassword => "reset_password",
            Self::PhoneChange => "phone_change",
        }
    }
}

fn code_hash(keys: &PiiKeys, id: Uuid, code: &str) -> Vec<u8> {
    keys.blind_index("code", &format!("{id}:{code}"))
}

/// Sends a fresh code for `purpose` to `phone`, unless this phone had too many this hour.
pub async fn send_code(
    state: &ApiState,
    tx: &mut TenantTx,
    phone: &Phone,
    purpose: &str,
    business: &str,
) -> Result<(), ApiError> {
    let keys = &state.config.pii;
    let index = keys.blind_index("phone", phone.e164());
    let now = state.now();
    if portal::codes_sent_since(tx, &index, now - Duration::hours(1)).await? >= CODES_PER_HOUR {
        return Err(ApiError::too_many(
            "too_many_codes",
            "too many codes were sent to this phone; try again later",
            3600,
        ));
    }
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
    let id = Uuid::now_v7();
    portal::insert_code(
        tx,
        id,
        purpose,
        &index,
        &code_hash(keys, id, &code),
        now,
        now + Duration::minutes(CODE_TTL_MINUTES),
    )
    .await?;
    let body =
        format!("【{business}】验证码 {code}，{CODE_TTL_MINUTES} 分钟内有效。Your code is {code}.");
    // One-time codes count against the plan's text messages per month (billed beyond it
    // on plans with an overage price), metered in the same transaction as the send.
    let tenant = state
        .tenant(tx.tenant_id())
        .await?
        .ok_or_else(|| ApiError::not_found("business"))?;
    let plan = state.plan_of(&tenant).await?;
    if state
        .within_limit(tx, &plan, Limit::SmsPerMonth, 1)
        .await?
        .is_err()
    {
        return Err(ApiError::too_many(
            "sms_quota_reached",
            "this business cannot send more text messages this month",
            3600,
        ));
    }
    state.sms.send(tx, phone, &body, purpose, now).await?;
    patron_db::plans::meter_in(tx, Limit::SmsPerMonth.as_str(), now, 1).await?;
    Ok(())
}

/// What checking a code found.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Ok,
    /// Wrong, expired or missing: the attempt was counted; commit before answering.
    Wrong,
    Exhausted,
}

/// Checks and consumes a code. On `Wrong` the attempt is recorded in `tx`: the caller must
/// commit it before refusing, so guesses stay limited.
pub async fn verify_code(
    tx: &mut TenantTx,
    keys: &PiiKeys,
    purpose: &str,
    phone: &Phone,
    code: &str,
    now: DateTime<Utc>,
) -> Result<CodeCheck, DbError> {
    let index = keys.blind_index("phone", phone.e164());
    let Some(c) = portal::live_code(tx, &index, purpose).await? else {
        return Ok(CodeCheck::Wrong);
    };
    if c.expires_at <= now {
        return Ok(CodeCheck::Wrong);
    }
    if c.attempts >= CODE_MAX_ATTEMPTS {
        return Ok(CodeCheck::Exhausted);
    }
    if code_hash(keys, c.id, code.trim()) != c.code_hash {
        portal::code_attempted(tx, c.id).await?;
        return Ok(CodeCheck::Wrong);
    }
    portal::code_used(tx, c.id, now).await?;
    Ok(CodeCheck::Ok)
}

fn wrong_code() -> ApiError {
    ApiError::invalid_field("code", "is wrong or expired; ask for a new one")
}

fn exhausted() -> ApiError {
    ApiError::too_many(
        "code_exhausted",
        "too many wrong codes; ask for a new one",
        60,
    )
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
enum Accepted {
    /// Returned when the code was sent (or, for password resets, would have been had the
    /// phone been registered: the answer never reveals who is a member).
    #[oai(status = 202)]
    Accepted,
}

#[derive(ApiResponse)]
enum Registered {
    /// Returned when the member was registered and logged in.
    #[oai(status = 201)]
    Created(Json<MemberSession>),
}

#[derive(ApiResponse)]
enum Done {
    /// Returned when the password was changed; existing logins end.
    #[oai(status = 204)]
    NoContent,
}

pub struct PortalApi {
    pub state: ApiState,
}

fn unknown_business() -> ApiError {
    ApiError::not_found("business")
}

fn bad_member_token() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "the member token is missing, malformed, expired or revoked",
    )
}

fn wrong_login() -> ApiError {
    ApiError::unauthorized("wrong_credentials", "the login or password is wrong")
}

impl PortalApi {
    async fn tenant(&self, slug: &str) -> Result<Tenant, ApiError> {
        let t = tenants::find_by_slug(&self.state.db, slug.trim())
            .await?
            .ok_or_else(unknown_business)?;
        if t.access() == patron_core::plans::Access::None {
            return Err(unknown_business());
        }
        tracing::Span::current().record("tenant", t.slug.as_str());
        Ok(t)
    }

    /// The member behind a token, which must belong to the tenant in the path.
    async fn member(
        &self,
        slug: &str,
        auth: &MemberToken,
    ) -> Result<(TenantTx, Tenant, members::Member), ApiError> {
        let presented =
            parse_token(TokenKind::MemberSession, &auth.0.token).ok_or_else(bad_member_token)?;
        let tenant = self.tenant(slug).await?;
        if presented.tenant_id != tenant.id {
            return Err(bad_member_token());
        }
        let mut tx = self.state.db.tenant_tx(&tenant).await?;
        let id = portal::authenticate(&mut tx, &presented.hash, self.state.now())
            .await?
            .ok_or_else(bad_member_token)?;
        let m = members::get_for_update(&mut tx, id).await?;
        Ok((tx, tenant, m))
    }

    async fn start_session(
        &self,
        tx: &mut TenantTx,
        tenant: &Tenant,
        m: &members::Member,
    ) -> Result<MemberSession, ApiError> {
        let issued = issue_token(TokenKind::MemberSession, tenant.id);
        let now = self.state.now();
        let expires_at = now + Duration::days(MEMBER_SESSION_DAYS);
        portal::create_session(tx, m.id, &issued.hash, now, expires_at).await?;
        let (_, set) = current_fields(tx).await?;
        Ok(MemberSession {
            token: issued.text,
            expires_at,
            member: member_view(m, &set, &self.state.config.pii, true),
        })
    }
}

fn parse_phone(raw: &str, t: &Tenant) -> Result<Phone, ApiError> {
    Phone::parse(raw, &t.settings.phone_region).map_err(|p| ApiError::invalid_field("phone", p))
}

#[OpenApi(tag = "Tag::Portal")]
impl PortalApi {
    /// The registration form of a business.
    #[oai(
        path = "/portal/:tenant/form",
        method = "get",
        operation_id = "portalForm"
    )]
    async fn form(&self, tenant: Path<String>) -> Result<Json<PortalForm>, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        let mut tx = self.state.db.tenant_tx(&t).await?;
        let (_, set) = current_fields(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(PortalForm {
            business: t.name.clone(),
            json_schema: set.json_schema(),
            ui_schema: set.ui_schema(),
            member_editable: set
                .active()
                .filter(|f| f.member_editable)
                .map(|f| f.key.clone())
                .collect(),
        }))
    }

    /// Send a one-time code by SMS: to register, to reset a password or to change phone.
    #[oai(
        path = "/portal/:tenant/codes",
        method = "post",
        operation_id = "portalSendCode"
    )]
    async fn send(
        &self,
        tenant: Path<String>,
        req: Json<CodeRequest>,
    ) -> Result<Accepted, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        // Sign-ups and changes wait while the business's account is read-only.
        self.state.open_for_members(&t).await?;
        let phone = parse_phone(&req.0.phone, &t)?;
        let mut tx = self.state.db.tenant_tx(&t).await?;
        let index = self.state.config.pii.blind_index("phone", phone.e164());
        let existing = members::find_by_phone_index(&mut tx, &index).await?;
        match req.0.purpose {
            CodePurpose::Register | CodePurpose::PhoneChange if existing.is_some() => {
                return Err(ApiError::conflict(
                    "phone_taken",
                    Some("phone"),
                    "this phone number is already registered; log in or reset the password",
                ));
            }
            // Say nothing about who is a member.
            CodePurpose::ResetPassword if existing.is_none() => return Ok(Accepted::Accepted),
            _ => {}
        }
        send_code(
            &self.state,
            &mut tx,
            &phone,
            req.0.purpose.as_str(),
            &t.name,
        )
        .await?;
        tx.commit().await?;
        Ok(Accepted::Accepted)
    }

    /// Register with the business's fields and a code sent to the phone; logs the member in.
    #[oai(
        path = "/portal/:tenant/register",
        method = "post",
        operation_id = "portalRegister"
    )]
    async fn register(
        &self,
        tenant: Path<String>,
        req: Json<Registration>,
    ) -> Result<Registered, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        // Sign-ups and changes wait while the business's account is read-only.
        let plan = self.state.open_for_members(&t).await?;
        let req = req.0;
        let password =
            Password::parse(&req.password).map_err(|p| ApiError::invalid_field("password", p));
        let phone_raw = req.profile.phone.clone().unwrap_or_default();
        let phone = parse_phone(&phone_raw, &t);
        let mut tx = self.state.db.tenant_tx(&t).await?;
        let (_, set) = current_fields(&mut tx).await?;
        let validator = set
            .validator()
            .map_err(|e| ApiError::internal(&std::io::Error::other(e)))?;
        let tz: chrono_tz::Tz = t
            .settings
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai);
        let today = self.state.now().with_timezone(&tz).date_naive();
        let parsed = parse_new_member(
            req.profile,
            &validator,
            &self.state.config.pii,
            &t.settings.phone_region,
            today,
        );
        // Every bad field at once.
        let mut errors = Vec::new();
        if let Err(ApiError::Invalid(p)) = &password {
            errors.extend(
                p.0.fields
                    .iter()
                    .map(|f| patron_core::FieldError::new(f.field.clone(), f.problem.clone())),
            );
        }
        if phone_raw.trim().is_empty() {
            errors.push(patron_core::FieldError::new(
                "phone",
                "is required to register",
            ));
        }
        let parsed = match parsed {
            Ok(p) => Some(p),
            Err(e) => {
                errors.extend(e);
                None
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        let (mut parsed, password, phone) = (parsed.expect("checked"), password?, phone?);
        let now = self.state.now();
        match verify_code(
            &mut tx,
            &self.state.config.pii,
            "register",
            &phone,
            &req.code,
            now,
        )
        .await?
        {
            CodeCheck::Ok => {}
            CodeCheck::Exhausted => return Err(exhausted()),
            CodeCheck::Wrong => {
                tx.commit().await?;
                return Err(wrong_code());
            }
        }
        parsed.data.phone_verified_at = Some(now);
        // The business's plan caps its members; a member cannot upgrade it, so say so plainly.
        if self
            .state
            .within_limit(&mut tx, &plan, Limit::Members, 1)
            .await?
            .is_err()
        {
            return Err(ApiError::conflict(
                "registration_unavailable",
                None,
                "this business cannot take new members right now; please ask at the counter",
            ));
        }
        let hash = hash_password(password).await?;
        let by = Actor {
            subject: "member:self",
            channel: "portal",
            at: now,
        };
        let m = members::create(&mut tx, &parsed.data, Some(&hash), &by)
            .await
            .map_err(taken)?;
        let session = self.start_session(&mut tx, &t, &m).await?;
        tx.commit().await?;
        Ok(Registered::Created(Json(session)))
    }

    /// Log in with phone or e-mail and password.
    #[oai(
        path = "/portal/:tenant/login",
        method = "post",
        operation_id = "portalLogin"
    )]
    async fn login(
        &self,
        tenant: Path<String>,
        req: Json<MemberLogin>,
    ) -> Result<Json<MemberSession>, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        let keys = self.state.config.pii.clone();
        let mut tx = self.state.db.tenant_tx(&t).await?;
        let login = req.0.login.trim().to_owned();
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
            match Phone::parse(&login, &t.settings.phone_region) {
                Ok(p) => {
                    members::find_by_phone_index(&mut tx, &keys.blind_index("phone", p.e164()))
                        .await?
                }
                Err(_) => None,
            }
        };
        let Some(m) = found.filter(|m| m.status == "active" && m.password_hash.is_some()) else {
            verify_password(req.0.password, dummy_password_hash().to_owned()).await?;
            return Err(wrong_login());
        };
        let now = self.state.now();
        if let Some(until) = m.locked_until.filter(|u| *u > now) {
            let wait = (until - now).num_seconds().max(1) as u64;
            return Err(ApiError::too_many(
                "login_locked",
                format!("too many failed logins; try again in {wait} seconds"),
                wait,
            ));
        }
        if !verify_password(req.0.password, m.password_hash.clone().unwrap_or_default()).await? {
            let lock = LoginThrottle::lock_for(m.failed_logins + 1).map(|d| now + d);
            members::login_failed(&mut tx, m.id, lock).await?;
            tx.commit().await?;
            return Err(wrong_login());
        }
        members::login_succeeded(&mut tx, m.id).await?;
        let session = self.start_session(&mut tx, &t, &m).await?;
        tx.commit().await?;
        Ok(Json(session))
    }

    /// Set a new password with a code sent to the member's phone; other logins end.
    #[oai(
        path = "/portal/:tenant/password-reset",
        method = "post",
        operation_id = "portalResetPassword"
    )]
    async fn reset(
        &self,
        tenant: Path<String>,
        req: Json<PasswordReset>,
    ) -> Result<Done, ApiError> {
        let t = self.tenant(&tenant.0).await?;
        // Sign-ups and changes wait while the business's account is read-only.
        self.state.open_for_members(&t).await?;
        let phone = parse_phone(&req.0.phone, &t)?;
        let password = Password::parse(&req.0.new_password)
            .map_err(|p| ApiError::invalid_field("new_password", p))?;
        let keys = self.state.config.pii.clone();
        let mut tx = self.state.db.tenant_tx(&t).await?;
        let now = self.state.now();
        match verify_code(&mut tx, &keys, "reset_password", &phone, &req.0.code, now).await? {
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
        let by = Actor {
            subject: "member:self",
            channel: "portal",
            at: now,
        };
        members::audit(
            &mut tx,
            m.id,
            &by,
            "member.password_reset",
            Some("password"),
            None,
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(Done::NoContent)
    }

    /// The member's own profile.
    #[oai(path = "/portal/:tenant/me", method = "get", operation_id = "portalMe")]
    async fn me(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let (_, set) = current_fields(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(member_view(&m, &set, &self.state.config.pii, true)))
    }

    /// The member's own points: balance, debt, totals and soonest expiries.
    #[oai(
        path = "/portal/:tenant/me/points",
        method = "get",
        operation_id = "portalMyPoints"
    )]
    async fn my_points(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<crate::points::PointsSummary>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let a = patron_db::points::account(&mut tx, m.id).await?;
        let rules = self.state.rules.tenant(&mut tx).await?;
        let s = crate::points::summary_of(&mut tx, &a, &rules.settings).await?;
        tx.commit().await?;
        Ok(Json(s))
    }

    /// The member's own tier: what it gives, progress to the next one ("spend 320 more by
    /// 2027-12-31") and what keeps the current one.
    #[oai(
        path = "/portal/:tenant/me/tier",
        method = "get",
        operation_id = "portalMyTier"
    )]
    async fn my_tier(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<crate::tiers::MemberTierView>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth).await?;
        let rules = self.state.rules.tenant(&mut tx).await?;
        let mut view =
            crate::tiers::member_tier_view(&mut tx, &rules, &t, m.id, self.state.now(), true)
                .await?;
        tx.commit().await?;
        // Members see their moves, not which staff member made them.
        for h in &mut view.history {
            h.actor = String::new();
        }
        Ok(Json(view))
    }

    /// The member's own points history, newest first.
    #[oai(
        path = "/portal/:tenant/me/points/entries",
        method = "get",
        operation_id = "portalMyPointEntries"
    )]
    async fn my_entries(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        before: Query<Option<i64>>,
    ) -> Result<Json<crate::points::EntryPage>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let rows = patron_db::points::entries(&mut tx, m.id, before.0, 50).await?;
        tx.commit().await?;
        let next_cursor = (rows.len() == 50)
            .then(|| rows.last().map(|e| e.id))
            .flatten();
        Ok(Json(crate::points::EntryPage {
            items: rows.into_iter().map(crate::points::entry_view).collect(),
            next_cursor,
        }))
    }

    /// Check in for today (once a day; consecutive days make a streak), when the business's
    /// plan includes events.
    #[oai(
        path = "/portal/:tenant/me/check-in",
        method = "post",
        operation_id = "portalCheckIn"
    )]
    async fn my_check_in(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<crate::points::CheckInResult>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth).await?;
        let plan = self.state.open_for_members(&t).await?;
        if !plan.has(patron_core::plans::Feature::Events) {
            return Err(ApiError::forbidden(
                "check_in_unavailable",
                "this business does not offer check-ins",
            ));
        }
        let r = crate::points::check_in(&self.state, &mut tx, &t, &m, &format!("member:{}", m.id))
            .await?;
        tx.commit().await?;
        Ok(Json(r))
    }

    /// Edit the own profile: name, e-mail, gender, birthday, phone (with a code sent to the
    /// new number) and the custom fields the business marked member-editable.
    #[oai(
        path = "/portal/:tenant/me",
        method = "patch",
        operation_id = "portalUpdateMe"
    )]
    async fn update_me(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        req: Json<ProfileChange>,
    ) -> Result<Json<MemberView>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth).await?;
        self.state.open_for_members(&t).await?;
        let (_, set) = current_fields(&mut tx).await?;
        let req = req.0;
        if let Some(Value::Object(c)) = &req.custom {
            let locked: Vec<patron_core::FieldError> = c
                .keys()
                .filter(|k| !set.get(k).is_some_and(|f| f.member_editable && !f.archived))
                .map(|k| {
                    patron_core::FieldError::new(
                        format!("custom.{k}"),
                        "members cannot edit this field",
                    )
                })
                .collect();
            if !locked.is_empty() {
                return Err(ApiError::invalid(locked));
            }
        }
        let new_phone = match &req.phone {
            Some(p) => Some(parse_phone(p, &t)?),
            None => None,
        };
        let now = self.state.now();
        let keys = self.state.config.pii.clone();
        if let Some(p) = &new_phone {
            let code = req.phone_code.as_deref().ok_or_else(|| {
                ApiError::invalid_field("phone_code", "is needed to change the phone")
            })?;
            match verify_code(&mut tx, &keys, "phone_change", p, code, now).await? {
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
                Some(p) => MaybeUndefined::Value(p.clone()),
                None => MaybeUndefined::Undefined,
            },
            email: req.email,
            gender: req.gender,
            birthday: req.birthday,
            custom: req.custom,
            ..Default::default()
        };
        let validator = set
            .validator()
            .map_err(|e| ApiError::internal(&std::io::Error::other(e)))?;
        let tz: chrono_tz::Tz = t
            .settings
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai);
        let today = now.with_timezone(&tz).date_naive();
        let (mut data, _) = apply_change(
            &m,
            change,
            &validator,
            &keys,
            &t.settings.phone_region,
            today,
        )
        .map_err(ApiError::invalid)?;
        if new_phone.is_some() {
            data.phone_verified_at = Some(now);
        }
        let by = Actor {
            subject: "member:self",
            channel: "portal",
            at: now,
        };
        members::update(&mut tx, m.id, &data, now)
            .await
            .map_err(taken)?;
        crate::members::audit_diff(
            &mut tx,
            &keys,
            m.id,
            &crate::members::data_of(&m),
            &data,
            &by,
        )
        .await?;
        let m = members::get(&mut tx, m.id).await?;
        tx.commit().await?;
        Ok(Json(member_view(&m, &set, &keys, true)))
    }

    /// Text messages the default sender recorded (newest first), for the console.
    #[oai(path = "/sms-outbox", method = "get", operation_id = "smsOutbox")]
    async fn outbox(
        &self,
        auth: TenantAuth,
        phone: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<SmsView>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersReadPii))
            .await?;
        let phone = match phone.0 {
            Some(p) => Some(
                Phone::parse(&p, &me.tenant.settings.phone_region)
                    .map_err(|e| ApiError::invalid_field("phone", e))?,
            ),
            None => None,
        };
        let rows = portal::outbox(
            &mut tx,
            phone.as_ref().map(Phone::e164),
            limit.0.unwrap_or(50).clamp(1, 500),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(
            rows.into_iter()
                .map(|r| SmsView {
                    id: r.id,
                    phone: r.phone,
                    body: r.body,
                    purpose: r.purpose,
                    created_at: r.created_at,
                })
                .collect(),
        ))
    }
}
