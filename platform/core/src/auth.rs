//! Credentials: e-mail addresses, passwords (argon2id), opaque tokens, and the lockout
//! policy for repeated failed logins.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine as _;
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// An e-mail address, trimmed; compared case-insensitively by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, crate::Issue> {
        let s = raw.trim();
        if s.len() > 254 {
            return Err(crate::Issue::too_long(254));
        }
        let not_email = |why: String| {
            crate::Issue::new(
                crate::FieldCode::NotAnEmail,
                format!("is not a valid e-mail address ({why})"),
            )
            .with("value", s)
        };
        let parsed =
            email_address::EmailAddress::from_str(s).map_err(|e| not_email(e.to_string()))?;
        if !parsed.domain().contains('.') {
            return Err(not_email("the domain needs a dot".into()));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password a person chose: 10–128 characters, not all the same character, not on the
/// list of common passwords.
/// Never printed: `Debug` shows a placeholder.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 10;
    pub const MAX: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, crate::Issue> {
        let n = raw.chars().count();
        if n < Self::MIN {
            return Err(crate::Issue::too_short(Self::MIN));
        }
        if n > Self::MAX {
            return Err(crate::Issue::too_long(Self::MAX));
        }
        let mut chars = raw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(crate::Issue::new(
                crate::FieldCode::WeakPassword,
                "must not be one character repeated",
            ));
        }
        if crate::security::is_common_password(raw) {
            return Err(crate::Issue::new(
                crate::FieldCode::CommonPassword,
                "is too common: it is on a list of passwords attackers try first",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// An argon2id PHC string with a fresh salt.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .expect("argon2 with default parameters cannot fail")
            .to_string()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Checks a password attempt against a stored PHC string. A malformed hash never matches.
pub fn verify_password(attempt: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(attempt.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the account does not exist, so that a miss costs the
/// same time as a hit and response times do not reveal which e-mails have accounts.
pub fn dummy_password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| Password("not-a-real-password".into()).hash())
}

/// The kinds of opaque bearer secrets Patron hands out. The prefix tells a reader (and a
/// secret scanner) what a leaked string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A staff login session.
    StaffSession,
    /// An integration API key.
    ApiKey,
    /// A member's portal login.
    MemberSession,
    /// A platform operator's login session (tenant part always 0).
    OperatorSession,
    /// An operator's read-only support session inside one tenant.
    SupportSession,
    /// A staff member's password-reset link (single use, short-lived).
    PasswordReset,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::StaffSession => "pst",
            Self::ApiKey => "pak",
            Self::MemberSession => "pmt",
            Self::OperatorSession => "pop",
            Self::SupportSession => "pss",
            Self::PasswordReset => "prs",
        }
    }
}

/// A freshly minted secret: the full text goes to the client once; only the hash is stored.
#[derive(Debug)]
pub struct IssuedToken {
    pub text: String,
    pub hash: Vec<u8>,
}

/// A presented secret, split into the tenant it claims and the hash to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    pub tenant_id: i64,
    pub hash: Vec<u8>,
}

/// Mints `<prefix>_<tenant id>_<43 chars of base64url randomness>`.
pub fn issue_token(kind: TokenKind, tenant_id: i64) -> IssuedToken {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let text = format!(
        "{}_{}_{}",
        kind.prefix(),
        tenant_id,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let hash = token_hash(&text);
    IssuedToken { text, hash }
}

/// Reads a presented token of the expected kind. Anything malformed is `None`: the caller
/// answers 401 without touching the database.
pub fn parse_token(kind: TokenKind, text: &str) -> Option<PresentedToken> {
    let mut parts = text.splitn(3, '_');
    if parts.next()? != kind.prefix() {
        return None;
    }
    let tenant = parts.next()?;
    if tenant.is_empty() || tenant.len() > 18 || !tenant.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let tenant_id: i64 = tenant.parse().ok()?;
    let secret = parts.next()?;
    if secret.len() != 43 {
        return None;
    }
    Some(PresentedToken {
        tenant_id,
        hash: token_hash(text),
    })
}

fn token_hash(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// The first characters of a token, safe to show in lists so people can tell keys apart.
pub fn token_preview(text: &str) -> String {
    let head = text.match_indices('_').nth(1).map_or(0, |(i, _)| i + 1);
    let end = (head + 6).min(text.len());
    format!("{}…", &text[..end])
}

/// Lockout after repeated failed logins for one account.
///
/// The first [`LoginThrottle::FREE_ATTEMPTS`] failures cost nothing; each failure after
/// that locks the account for twice as long as the previous one, from 30 seconds up to
/// 15 minutes. A successful login resets the count.
pub struct LoginThrottle;

impl LoginThrottle {
    pub const FREE_ATTEMPTS: i32 = 5;

    /// How long to lock the account after its `failures`-th consecutive failure.
    pub fn lock_for(failures: i32) -> Option<Duration> {
        if failures < Self::FREE_ATTEMPTS {
            return None;
        }
        let step = (failures - Self::FREE_ATTEMPTS).min(5) as u32;
        Some(Duration::seconds((30i64 << step).min(15 * 60)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_checked() {
        assert_eq!(
            Email::parse(" li.lei@example.cn ").unwrap().as_str(),
            "li.lei@example.cn"
        );
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "two@@example.com",
            "sp ace@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let pw = Password::parse("correct horse battery").unwrap();
        let phc = pw.hash();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("anything", "not a phc string"));
        assert_ne!(phc, pw.hash(), "each hash has its own salt");
    }

    #[test]
    fn weak_passwords_are_refused_and_never_printed() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("aaaaaaaaaaaa").is_err());
        assert!(Password::parse(&"x1".repeat(65)).is_err());
        let pw = Password::parse("a perfectly fine one").unwrap();
        assert!(!format!("{pw:?}").contains("perfectly"));
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let issued = issue_token(TokenKind::StaffSession, 42);
        assert!(issued.text.starts_with("pst_42_"));
        let presented = parse_token(TokenKind::StaffSession, &issued.text).unwrap();
        assert_eq!(presented.tenant_id, 42);
        assert_eq!(presented.hash, issued.hash);
        // The tenant id is part of what is hashed: moving a token to another tenant breaks it.
        let moved = issued.text.replacen("pst_42_", "pst_43_", 1);
        assert_ne!(
            parse_token(TokenKind::StaffSession, &moved).unwrap().hash,
            issued.hash
        );
        assert!(parse_token(TokenKind::ApiKey, &issued.text).is_none());
        for bad in [
            "",
            "pst",
            "pst_x_abc",
            "pst_1_short",
            "Bearer pst_1_x",
            "pst__abc",
        ] {
            assert!(parse_token(TokenKind::StaffSession, bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn previews_show_the_prefix_and_a_few_characters_only() {
        let issued = issue_token(TokenKind::ApiKey, 7);
        let preview = token_preview(&issued.text);
        assert!(preview.starts_with("pak_7_"));
        assert_eq!(preview.chars().count(), "pak_7_".len() + 6 + 1);
    }

    #[test]
    fn lockout_grows_after_the_free_attempts_and_is_capped() {
        assert_eq!(LoginThrottle::lock_for(4), None);
        // Kinds never stand in for each other.
        let op = issue_token(TokenKind::OperatorSession, 0);
        assert!(parse_token(TokenKind::OperatorSession, &op.text).is_some());
        assert!(parse_token(TokenKind::StaffSession, &op.text).is_none());
        let support = issue_token(TokenKind::SupportSession, 7);
        assert_eq!(
            parse_token(TokenKind::SupportSession, &support.text)
                .unwrap()
                .tenant_id,
            7
        );
        assert!(parse_token(TokenKind::StaffSession, &support.text).is_none());
        assert_eq!(LoginThrottle::lock_for(5), Some(Duration::seconds(30)));
        assert_eq!(LoginThrottle::lock_for(6), Some(Duration::seconds(60)));
        assert_eq!(LoginThrottle::lock_for(50), Some(Duration::minutes(15)));
    }
}
