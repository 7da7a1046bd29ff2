//! Staff sessions: logging in (with the lock-out after repeated failures), logging out,
//! changing one's password, and starting the session a new account's owner gets.

use crate::security::{self, Origin};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::auth::{
    dummy_password_hash, issue_token, Email, LoginThrottle, Password, TokenKind,
};
use patron_core::pii::PiiKeys;
use patron_core::plans::Access;
use patron_db::access::staff_subject;
use patron_db::staff::Staff;
use patron_db::{audit, sessions, staff, tenants, Db, DbError, TenantTx};
use uuid::Uuid;

/// A new login: the token is shown only once.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// Sent as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub staff: Staff,
    pub roles: Vec<String>,
    /// The business asks owners to use two-factor codes and this owner has none yet: the
    /// console sends them to enrol before anything else.
    pub two_factor_setup_required: bool,
}

/// Issues a session token for `who` inside `tx`.
pub async fn start_session(
    tx: &mut TenantTx,
    who: &Staff,
    now: DateTime<Utc>,
    ttl: Duration,
    user_agent: Option<&str>,
) -> Result<NewSession, DbError> {
    let issued = issue_token(TokenKind::StaffSession, tx.tenant_id());
    let expires_at = now + ttl;
    sessions::create(tx, who.id, &issued.hash, now, expires_at, user_agent).await?;
    let roles = patron_db::access::roles_of(tx, &staff_subject(who.id)).await?;
    Ok(NewSession {
        token: issued.text,
        expires_at,
        staff: who.clone(),
        roles,
        two_factor_setup_required: false,
    })
}

/// Hashes a password (argon2) off the async threads.
pub async fn hash_password(password: Password) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || password.hash())
        .await
        .map_err(AppError::internal)
}

/// Verifies a password off the async threads.
pub async fn verify_password(attempt: String, phc: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || patron_core::auth::verify_password(&attempt, &phc))
        .await
        .map_err(AppError::internal)
}

/// What a staff login presents.
#[derive(Debug, Clone)]
pub struct Login {
    /// The business's slug.
    pub tenant: String,
    pub email: String,
    pub password: String,
    /// A two-factor code (from the authenticator app) or a recovery code, when the account
    /// has two-factor on.
    pub code: Option<String>,
}

fn wrong_credentials() -> AppError {
    AppError::unauthorized(
        "invalid_credentials",
        "the business, e-mail or password is wrong",
    )
}

/// One login attempt, for the history.
struct Attempt<'a> {
    tenant: &'a patron_db::Tenant,
    staff_id: Uuid,
    email: &'a str,
    origin: &'a Origin,
    now: DateTime<Utc>,
}

impl Attempt<'_> {
    async fn note(
        &self,
        tx: &mut TenantTx,
        success: bool,
        method: &str,
        failure: Option<&str>,
    ) -> Result<bool, AppError> {
        security::record_login(
            tx,
            self.tenant,
            self.staff_id,
            self.email,
            self.origin,
            success,
            method,
            failure,
            self.now,
        )
        .await
    }
}

/// Logs a staff member in. An unknown business or e-mail costs the same password check as
/// a known one, so timing does not tell which exist; after five wrong passwords (or
/// two-factor codes) in a row the account is locked for a while (see `LoginThrottle`).
/// Every attempt on a known account is written to its login history.
pub async fn login(
    db: &Db,
    req: Login,
    now: DateTime<Utc>,
    ttl: Duration,
    origin: &Origin,
    keys: &PiiKeys,
) -> Result<NewSession, AppError> {
    let Ok(email) = Email::parse(&req.email) else {
        return Err(AppError::field(
            "email",
            patron_core::Issue::new(
                patron_core::FieldCode::NotAnEmail,
                "is not a valid e-mail address",
            ),
        ));
    };
    let Some(tenant) = tenants::find_by_slug(db, req.tenant.trim()).await? else {
        verify_password(req.password, dummy_password_hash().to_owned()).await?;
        return Err(wrong_credentials());
    };
    if tenant.access() == Access::None {
        return Err(AppError::unauthorized(
            "tenant_closed",
            "this account is closed",
        ));
    }
    let mut tx = db.tenant_tx(&tenant).await?;
    let Some(record) = staff::login_record(&mut tx, email.as_str()).await? else {
        verify_password(req.password, dummy_password_hash().to_owned()).await?;
        return Err(wrong_credentials());
    };
    let attempt = Attempt {
        tenant: &tenant,
        staff_id: record.id,
        email: email.as_str(),
        origin,
        now,
    };
    if let Some(until) = record.locked_until.filter(|u| *u > now) {
        let wait = (until - now).num_seconds().max(1) as u64;
        attempt
            .note(&mut tx, false, "password", Some("locked"))
            .await?;
        tx.commit().await?;
        return Err(AppError::too_many(
            "login_locked",
            format!("too many failed logins; try again in {wait} seconds"),
            wait,
        ));
    }
    let fail = |failures: i32| {
        let locked_until = LoginThrottle::lock_for(failures).map(|d| now + d);
        (failures, locked_until)
    };
    if !verify_password(req.password, record.password_hash.clone()).await? {
        let (failures, locked_until) = fail(record.failed_logins + 1);
        staff::record_login_failure(&mut tx, record.id, failures, locked_until).await?;
        audit::record(
            &mut tx,
            now,
            &staff_subject(record.id),
            "login.failed",
            "",
            serde_json::json!({ "failures": failures }),
        )
        .await?;
        attempt
            .note(&mut tx, false, "password", Some("wrong_password"))
            .await?;
        tx.commit().await?;
        return Err(wrong_credentials());
    }
    if record.status != "active" {
        attempt
            .note(&mut tx, false, "password", Some("disabled"))
            .await?;
        tx.commit().await?;
        return Err(AppError::forbidden(
            "account_disabled",
            "this staff account is disabled",
        ));
    }
    let mut method = "password";
    let two_factor_on = security::Account::Staff(&mut tx, record.id, keys)
        .enabled()
        .await?;
    if two_factor_on {
        let Some(code) = req.code.as_deref().filter(|c| !c.trim().is_empty()) else {
            attempt
                .note(&mut tx, false, "password", Some("code_required"))
                .await?;
            tx.commit().await?;
            return Err(security::code_required());
        };
        match security::Account::Staff(&mut tx, record.id, keys)
            .spend_code(code, now)
            .await?
        {
            Some(m) => method = m.as_str(),
            None => {
                let (failures, locked_until) = fail(record.failed_logins + 1);
                staff::record_login_failure(&mut tx, record.id, failures, locked_until).await?;
                audit::record(
                    &mut tx,
                    now,
                    &staff_subject(record.id),
                    "login.failed",
                    "",
                    serde_json::json!({ "failures": failures, "reason": "two_factor_code" }),
                )
                .await?;
                attempt
                    .note(&mut tx, false, "totp", Some("wrong_code"))
                    .await?;
                tx.commit().await?;
                return Err(security::code_refused());
            }
        }
    }
    staff::record_login_success(&mut tx, record.id, now).await?;
    attempt.note(&mut tx, true, method, None).await?;
    let who = staff::find(&mut tx, record.id).await?;
    let mut session = start_session(&mut tx, &who, now, ttl, origin.user_agent.as_deref()).await?;
    session.two_factor_setup_required = !two_factor_on
        && session.roles.iter().any(|r| r == "owner")
        && security::owners_require_2fa(&mut tx).await?;
    tx.commit().await?;
    Ok(session)
}

/// Ends a session: its token stops working at once.
pub async fn logout(
    mut tx: TenantTx,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    sessions::revoke(&mut tx, session_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a new password's rules before anything else is looked at.
pub fn parse_new_password(raw: &str) -> Result<Password, AppError> {
    Password::parse(raw).map_err(|p| AppError::field("new_password", p))
}

/// Changes a staff member's password after checking the current one; every other session
/// of theirs is logged out.
pub async fn change_password(
    mut tx: TenantTx,
    staff_id: Uuid,
    session_id: Uuid,
    actor: &str,
    current_password: String,
    new: Password,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let current = staff::password_hash(&mut tx, staff_id).await?;
    if !verify_password(current_password, current).await? {
        return Err(AppError::field(
            "current_password",
            patron_core::Issue::new(patron_core::FieldCode::Wrong, "is wrong"),
        ));
    }
    staff::set_password(&mut tx, staff_id, &hash_password(new).await?, now).await?;
    sessions::revoke_all_for_staff(&mut tx, staff_id, Some(session_id), now).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "staff.password_changed",
        &staff_id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The roles held by the caller (`subject`: a staff member, key or support session).
pub async fn roles(tx: &mut TenantTx, subject: &str) -> Result<Vec<String>, AppError> {
    Ok(patron_db::access::roles_of(tx, subject).await?)
}

/// How long a password-reset link works.
pub fn reset_ttl() -> Duration {
    Duration::minutes(30)
}

/// Resets asked for one address per hour before further ones send nothing.
pub const RESETS_PER_HOUR: i64 = 3;

/// What happened to a reset request (the caller answers the same whatever it is, so no one
/// learns which addresses have accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetAsked {
    /// The e-mail with the link was queued.
    Sent,
    /// No such business, account or active account: nothing is sent.
    Unknown,
    /// The address asked too often within the hour: nothing is sent.
    Limited,
}

/// Asks for a staff password reset: when the business and an active account with that
/// address exist, a single-use link valid for [`reset_ttl`] is e-mailed through the outbox
/// (`staff.password_reset`). At most [`RESETS_PER_HOUR`] per address are sent in an hour.
/// `console_url` is where the console is served (the link's origin).
pub async fn request_password_reset(
    db: &Db,
    tenant_slug: &str,
    email: &str,
    console_url: &str,
    keys: &PiiKeys,
    now: DateTime<Utc>,
) -> Result<ResetAsked, AppError> {
    let Ok(email) = Email::parse(email) else {
        return Err(AppError::field(
            "email",
            patron_core::Issue::new(
                patron_core::FieldCode::NotAnEmail,
                "is not a valid e-mail address",
            ),
        ));
    };
    let Some(tenant) = tenants::find_by_slug(db, tenant_slug.trim()).await? else {
        return Ok(ResetAsked::Unknown);
    };
    if tenant.access() == Access::None {
        return Ok(ResetAsked::Unknown);
    }
    let mut tx = db.tenant_tx(&tenant).await?;
    let address = hex::encode(keys.blind_index("staff_email", &email.as_str().to_lowercase()));
    let asked = staff::note_reset_request(&mut tx, &address, now, now - Duration::hours(1)).await?;
    if asked > RESETS_PER_HOUR {
        tx.commit().await?;
        return Ok(ResetAsked::Limited);
    }
    let who = staff::find_by_email(&mut tx, email.as_str()).await?;
    let Some(who) = who.filter(|s| s.status == "active") else {
        tx.commit().await?;
        return Ok(ResetAsked::Unknown);
    };
    let issued = issue_token(TokenKind::PasswordReset, tx.tenant_id());
    staff::add_password_reset(&mut tx, who.id, &issued.hash, now, now + reset_ttl()).await?;
    let link = format!(
        "{}/reset-password?token={}",
        console_url.trim_end_matches('/'),
        issued.text
    );
    let data = serde_json::json!({
        "link": link,
        "name": who.name,
        "minutes": reset_ttl().num_minutes(),
    });
    crate::messages::queue_staff_email(
        &mut tx,
        &tenant,
        &who.email,
        "staff.password_reset",
        &data,
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        &staff_subject(who.id),
        "staff.password_reset_requested",
        &who.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(ResetAsked::Sent)
}

fn reset_link_refused() -> AppError {
    AppError::field(
        "token",
        patron_core::Issue::new(
            patron_core::FieldCode::Wrong,
            "the link is wrong, used or expired",
        ),
    )
}

/// Sets a new password with a reset link's token: the token works once and only until it
/// expires; every session of that staff member ends, and other reset links stop working.
pub async fn confirm_password_reset(
    db: &Db,
    token: &str,
    new: Password,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Some(presented) = patron_core::auth::parse_token(TokenKind::PasswordReset, token.trim())
    else {
        return Err(reset_link_refused());
    };
    let Some(tenant) = tenants::find_by_id(db, presented.tenant_id).await? else {
        return Err(reset_link_refused());
    };
    if tenant.access() == Access::None {
        return Err(reset_link_refused());
    }
    let hash = hash_password(new).await?;
    let mut tx = db.tenant_tx(&tenant).await?;
    let Some(staff_id) = staff::use_password_reset(&mut tx, &presented.hash, now).await? else {
        return Err(reset_link_refused());
    };
    staff::set_password(&mut tx, staff_id, &hash, now).await?;
    staff::void_password_resets(&mut tx, staff_id, now).await?;
    sessions::revoke_all_for_staff(&mut tx, staff_id, None, now).await?;
    audit::record(
        &mut tx,
        now,
        &staff_subject(staff_id),
        "staff.password_reset",
        &staff_id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
