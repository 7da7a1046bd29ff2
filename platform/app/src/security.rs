//! Account defences: two-factor codes (TOTP, RFC 6238) with recovery codes for staff and
//! operators, the staff login history with its new-device notice, and the business's
//! "owners must use two-factor" setting. The rules themselves are in `core::security`.

use crate::session::verify_password;
use crate::{AppError, NotFoundAs};
use chrono::{DateTime, Utc};
use patron_core::pii::PiiKeys;
use patron_core::security::{
    check_totp, hash_recovery_code, looks_like_totp, new_recovery_codes, new_totp_secret,
    open_secret, otpauth_uri, seal_secret, sealed_key_id,
};
use patron_core::{FieldCode, Issue};
use patron_db::security::{self as db, LoginEntry, NewLogin, TwoFactor};
use patron_db::{staff, Db, Tenant, TenantTx};
use uuid::Uuid;

/// Where a login came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A secret handed out by an enrolment: shown once, good after a code confirms it.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_uri: String,
}

/// Whether two-factor is on, and how many recovery codes are left.
#[derive(Debug, Clone)]
pub struct Status {
    pub enabled: bool,
    pub enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_left: i64,
}

/// How a second factor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Totp,
    RecoveryCode,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::RecoveryCode => "recovery_code",
        }
    }
}

fn already_on() -> AppError {
    AppError::conflict(
        "two_factor_already_on",
        None,
        "two-factor codes are already on; turn them off first",
    )
}

fn not_started() -> AppError {
    AppError::conflict(
        "two_factor_not_started",
        None,
        "start an enrolment first (POST .../2fa/enrol)",
    )
}

fn off() -> AppError {
    AppError::conflict("two_factor_off", None, "two-factor codes are not on")
}

fn wrong_code() -> AppError {
    AppError::field(
        "code",
        Issue::new(FieldCode::Wrong, "is wrong, expired or already used"),
    )
}

/// The error a login gets when the password was right and a code is needed.
pub fn code_required() -> AppError {
    AppError::unauthorized(
        "two_factor_required",
        "this account uses two-factor codes: send `code` (from the authenticator app, or a recovery code)",
    )
}

/// The error a login gets for a wrong, expired or replayed code.
pub fn code_refused() -> AppError {
    AppError::unauthorized(
        "two_factor_code_wrong",
        "the two-factor code is wrong, expired or already used",
    )
}

fn unix(now: DateTime<Utc>) -> i64 {
    now.timestamp()
}

/// Which accounts a second factor is checked for, with the keys their secrets are sealed
/// with (the personal-data keys).
pub enum Account<'a> {
    Staff(&'a mut TenantTx, Uuid, &'a PiiKeys),
    Operator(&'a Db, Uuid, &'a PiiKeys),
}

fn open(keys: &PiiKeys, stored: &str) -> Result<String, AppError> {
    open_secret(keys, stored)
        .map_err(|e| AppError::internal_msg(format!("cannot open a two-factor secret: {e}")))
}

impl Account<'_> {
    fn keys(&self) -> &PiiKeys {
        match self {
            Account::Staff(_, _, k) | Account::Operator(_, _, k) => k,
        }
    }

    /// The stored state; the secrets in it are as stored (sealed).
    async fn two_factor(&mut self) -> Result<TwoFactor, AppError> {
        Ok(match self {
            Account::Staff(tx, id, _) => db::staff_two_factor(tx, *id).await?,
            Account::Operator(d, id, _) => db::operator_two_factor(d, *id).await?,
        })
    }

    /// Checks a code (TOTP or recovery) against the confirmed secret and spends it.
    pub async fn spend_code(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Method>, AppError> {
        let tf = self.two_factor().await?;
        let Some(sealed) = tf.totp_secret else {
            return Ok(None);
        };
        if looks_like_totp(code) {
            let secret = open(self.keys(), &sealed)?;
            let Some(step) = check_totp(&secret, code, unix(now), tf.totp_last_step) else {
                return Ok(None);
            };
            let taken = match self {
                Account::Staff(tx, id, _) => db::staff_take_step(tx, *id, step).await?,
                Account::Operator(d, id, _) => db::operator_take_step(d, *id, step).await?,
            };
            return Ok(taken.then_some(Method::Totp));
        }
        let hash = hash_recovery_code(code);
        let used = match self {
            Account::Staff(tx, id, _) => db::staff_use_code(tx, *id, &hash, now).await?,
            Account::Operator(d, id, _) => db::operator_use_code(d, *id, &hash, now).await?,
        };
        Ok(used.then_some(Method::RecoveryCode))
    }

    /// Whether the account has two-factor on.
    pub async fn enabled(&mut self) -> Result<bool, AppError> {
        Ok(self.two_factor().await?.totp_secret.is_some())
    }

    pub async fn status(&mut self) -> Result<Status, AppError> {
        let tf = self.two_factor().await?;
        let left = match self {
            Account::Staff(tx, id, _) => db::staff_codes_left(tx, *id).await?,
            Account::Operator(d, id, _) => db::operator_codes_left(d, *id).await?,
        };
        Ok(Status {
            enabled: tf.totp_secret.is_some(),
            enabled_at: tf.totp_enabled_at,
            recovery_codes_left: if tf.totp_secret.is_some() { left } else { 0 },
        })
    }

    /// Starts an enrolment: a fresh secret, pending until [`Account::confirm`].
    pub async fn enrol(&mut self, issuer: &str, account: &str) -> Result<Enrolment, AppError> {
        if self.enabled().await? {
            return Err(already_on());
        }
        let secret = new_totp_secret();
        let sealed = seal_secret(self.keys(), &secret);
        match self {
            Account::Staff(tx, id, _) => db::staff_set_pending(tx, *id, &sealed).await?,
            Account::Operator(d, id, _) => db::operator_set_pending(d, *id, &sealed).await?,
        }
        Ok(Enrolment {
            otpauth_uri: otpauth_uri(&secret, issuer, account),
            secret,
        })
    }

    /// Confirms an enrolment with a code from the app: two-factor is on from now, and the
    /// answer is the ten recovery codes (shown this once).
    pub async fn confirm(
        &mut self,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, AppError> {
        let tf = self.two_factor().await?;
        if tf.totp_secret.is_some() {
            return Err(already_on());
        }
        let Some(pending) = tf.totp_pending_secret else {
            return Err(not_started());
        };
        let Some(step) = check_totp(&open(self.keys(), &pending)?, code, unix(now), None) else {
            return Err(wrong_code());
        };
        let codes = new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| hash_recovery_code(c)).collect();
        let done = match self {
            Account::Staff(tx, id, _) => {
                db::staff_enable(tx, *id, &pending, step, &hashes, now).await?
            }
            Account::Operator(d, id, _) => {
                db::operator_enable(d, *id, &pending, step, &hashes, now).await?
            }
        };
        if !done {
            return Err(not_started());
        }
        Ok(codes)
    }

    /// Replaces every recovery code with ten new ones (answered, shown this once) after
    /// checking the password and a current code from the authenticator app; the old codes
    /// stop working at once.
    pub async fn renew_recovery_codes(
        &mut self,
        password: String,
        password_hash: String,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, AppError> {
        if !self.enabled().await? {
            return Err(off());
        }
        if !verify_password(password, password_hash).await? {
            return Err(AppError::field(
                "password",
                Issue::new(FieldCode::Wrong, "is wrong"),
            ));
        }
        // A recovery code cannot mint new ones: whoever holds only those should not keep
        // two-factor going without the app.
        if !looks_like_totp(code) || self.spend_code(code, now).await? != Some(Method::Totp) {
            return Err(wrong_code());
        }
        let codes = new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| hash_recovery_code(c)).collect();
        match self {
            Account::Staff(tx, id, _) => db::staff_replace_codes(tx, *id, &hashes).await?,
            Account::Operator(d, id, _) => db::operator_replace_codes(d, *id, &hashes).await?,
        }
        Ok(codes)
    }

    /// Turns two-factor off after checking the password and a code.
    pub async fn disable(
        &mut self,
        password: String,
        password_hash: String,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        if !self.enabled().await? {
            return Err(off());
        }
        if !verify_password(password, password_hash).await? {
            return Err(AppError::field(
                "password",
                Issue::new(FieldCode::Wrong, "is wrong"),
            ));
        }
        if self.spend_code(code, now).await?.is_none() {
            return Err(wrong_code());
        }
        match self {
            Account::Staff(tx, id, _) => db::staff_disable(tx, *id).await?,
            Account::Operator(d, id, _) => db::operator_disable(d, *id).await?,
        }
        Ok(())
    }
}

/// Staff: the password hash, for [`Account::disable`].
pub async fn staff_password_hash(tx: &mut TenantTx, id: Uuid) -> Result<String, AppError> {
    Ok(staff::password_hash(tx, id).await?)
}

/// Records a staff login attempt. On a success from a device not seen before (and not the
/// account's first login) a notice e-mail goes to the staff member through the outbox.
#[allow(clippy::too_many_arguments)]
pub async fn record_login(
    tx: &mut TenantTx,
    tenant: &Tenant,
    staff_id: Uuid,
    email: &str,
    origin: &Origin,
    success: bool,
    method: &str,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let device =
        patron_core::security::device_key(origin.user_agent.as_deref(), origin.ip.as_deref());
    let (known, any_before) = db::record_login(
        tx,
        &NewLogin {
            staff_id,
            ip: origin.ip.as_deref(),
            user_agent: origin.user_agent.as_deref(),
            device: &device,
            success,
            method,
            failure,
        },
        now,
    )
    .await?;
    let new_device = success && !known && any_before;
    if new_device {
        let data = serde_json::json!({
            "time": now.with_timezone(&tenant.settings.zone().tz()).format("%Y-%m-%d %H:%M %Z").to_string(),
            "ip": origin.ip.clone().unwrap_or_else(|| "-".into()),
            "device": origin.user_agent.clone().unwrap_or_else(|| "-".into()),
        });
        crate::messages::queue_staff_email(tx, tenant, email, "staff.new_device", &data, now)
            .await?;
    }
    Ok(new_device)
}

/// A staff member's latest login attempts (at most 100), newest first.
pub async fn login_history(tx: &mut TenantTx, staff_id: Uuid) -> Result<Vec<LoginEntry>, AppError> {
    Ok(db::logins(tx, staff_id, 100).await?)
}

/// Another staff member's history (404 when there is no such staff member).
pub async fn login_history_of(
    tx: &mut TenantTx,
    staff_id: Uuid,
) -> Result<Vec<LoginEntry>, AppError> {
    staff::find(tx, staff_id)
        .await
        .not_found_as("staff member")?;
    login_history(tx, staff_id).await
}

pub async fn owners_require_2fa(tx: &mut TenantTx) -> Result<bool, AppError> {
    Ok(db::owners_require_2fa(tx).await?)
}

pub async fn set_owners_require_2fa(
    tx: &mut TenantTx,
    on: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    db::set_owners_require_2fa(tx, on, now).await?;
    patron_db::audit::record(
        tx,
        now,
        actor,
        "security.settings_changed",
        "",
        serde_json::json!({ "owners_require_2fa": on }),
    )
    .await?;
    Ok(())
}

/// Seals every two-factor secret (staff of every business, and operators) stored as is or
/// under another key than the current one, with the current personal-data key; answers how
/// many were sealed. Run by `patron migrate`, `concurrency` businesses at once; safe to run
/// again (a value is replaced only if it still holds what was read).
pub async fn seal_two_factor_secrets(
    d: &Db,
    keys: &PiiKeys,
    concurrency: usize,
) -> Result<u64, AppError> {
    use futures::{StreamExt, TryStreamExt};
    let current = keys.current_id();
    let stale = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|s| sealed_key_id(s) != Some(current))
    };
    let reseal = |s: &Option<String>| -> Result<Option<String>, AppError> {
        match s {
            Some(v) if sealed_key_id(v) != Some(current) => {
                Ok(Some(seal_secret(keys, &open(keys, v)?)))
            }
            other => Ok(other.clone()),
        }
    };
    let mut sealed = 0;
    for row in db::operator_secrets(d).await? {
        if stale(&row.secret) || stale(&row.pending) {
            let (secret, pending) = (reseal(&row.secret)?, reseal(&row.pending)?);
            if db::operator_write_secrets(d, &row, secret.as_deref(), pending.as_deref()).await? {
                sealed += 1;
            }
        }
    }
    let tenants = patron_db::tenants::list(d).await?;
    let per_tenant = futures::stream::iter(
        tenants
            .into_iter()
            .filter(|t| t.access() != patron_core::plans::Access::None),
    )
    .map(|tenant| async move {
        let mut sealed = 0u64;
        let mut tx = d.tenant_tx(&tenant).await?;
        for row in db::staff_secrets(&mut tx).await? {
            if stale(&row.secret) || stale(&row.pending) {
                let (secret, pending) = (reseal(&row.secret)?, reseal(&row.pending)?);
                if db::staff_write_secrets(&mut tx, &row, secret.as_deref(), pending.as_deref())
                    .await?
                {
                    sealed += 1;
                }
            }
        }
        tx.commit().await?;
        Ok::<u64, AppError>(sealed)
    })
    .buffer_unordered(concurrency.max(1));
    Ok(sealed
        + per_tenant
            .try_fold(0, |sum, n| async move { Ok(sum + n) })
            .await?)
}
