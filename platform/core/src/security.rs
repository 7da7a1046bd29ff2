//! Account defences that need no I/O: time-based one-time codes (RFC 6238, through the
//! `totp-rs` crate), recovery codes, the list of common passwords, and what makes two logins
//! "the same device".

use crate::pii::PiiKeys;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use totp_rs::{Algorithm, TOTP};

/// Seconds per code.
pub const TOTP_STEP: u64 = 30;
/// Digits per code.
pub const TOTP_DIGITS: usize = 6;
/// Codes of the step before and after the current one are accepted too (clock drift).
const TOTP_SKEW: i64 = 1;
/// How many recovery codes an enrolment hands out.
pub const RECOVERY_CODES: usize = 10;

/// A new TOTP secret: 20 random bytes (160 bits, as RFC 4226 recommends), in base32.
pub fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base32_encode(&bytes)
}

fn base32_encode(bytes: &[u8]) -> String {
    totp_rs::Secret::Raw(bytes.to_vec())
        .to_encoded()
        .to_string()
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Option<TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .ok()?;
    // The otpauth label may not contain ':'.
    let clean = |s: &str| s.replace(':', " ").trim().to_owned();
    TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        TOTP_SKEW as u8,
        TOTP_STEP,
        bytes,
        Some(clean(issuer)).filter(|s| !s.is_empty()),
        clean(account),
    )
    .ok()
}

/// The `otpauth://` URI an authenticator app reads (from a QR code or typed in).
pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> String {
    totp(secret_b32, issuer, account)
        .map(|t| t.get_url())
        .unwrap_or_default()
}

/// The code for the step holding `unix_seconds` (tests and tools).
pub fn totp_code(secret_b32: &str, unix_seconds: u64) -> String {
    totp(secret_b32, "", "x")
        .map(|t| t.generate(unix_seconds))
        .unwrap_or_default()
}

/// Checks a 6-digit code at `unix_seconds`. Answers the time step it matched, only when
/// that step is later than `last_used` (a code is good once: a replayed or older code is
/// refused). The caller stores the step it gets back.
pub fn check_totp(
    secret_b32: &str,
    code: &str,
    unix_seconds: i64,
    last_used: Option<i64>,
) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, "", "x")?;
    let now_step = unix_seconds.max(0) / TOTP_STEP as i64;
    let mut found = None;
    for step in (now_step - TOTP_SKEW)..=(now_step + TOTP_SKEW) {
        if step < 0 {
            continue;
        }
        let expected = t.generate(step as u64 * TOTP_STEP);
        // Compare every candidate in full, whatever matched before.
        if constant_eq(expected.as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found.filter(|s| last_used.is_none_or(|last| *s > last))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Ten fresh recovery codes, `xxxxx-xxxxx` from an alphabet without look-alikes (50 bits
/// each): shown once, stored only as [`hash_recovery_code`].
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed, reduced to what counts: lower case, no dashes or spaces.
fn normalize_recovery_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// How a recovery code is stored: SHA-256 of its normal form, hex. The codes are random
/// (50 bits), so a fast hash is enough; the stored value does not give the code back.
pub fn hash_recovery_code(raw: &str) -> String {
    let digest = Sha256::digest(normalize_recovery_code(raw).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a code as typed looks like a TOTP code (digits) rather than a recovery code.
pub fn looks_like_totp(raw: &str) -> bool {
    let c: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    c.len() == TOTP_DIGITS && c.bytes().all(|b| b.is_ascii_digit())
}

static COMMON_PASSWORDS: &str = include_str!("../data/common_passwords.txt");

/// Whether `password` is on the shipped list of common and breached passwords (compared
/// without regard to case).
pub fn is_common_password(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let set = SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });
    set.contains(password.to_lowercase().as_str())
}

/// What makes two logins the same device: the user agent and the network the address is in
/// (IPv4 /24, IPv6 /48), so a phone moving between addresses of one network stays known.
pub fn device_key(user_agent: Option<&str>, ip: Option<&str>) -> String {
    let network = match ip.and_then(|i| i.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
        None => "-".into(),
    };
    let ua = user_agent.unwrap_or("").trim();
    let digest = Sha256::digest(format!("{network}\n{ua}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// How a sealed two-factor secret begins: `pii:<key id>:<base64 of nonce and ciphertext>`.
/// A base32 secret never holds a `:`, so a value without the prefix is one stored before
/// secrets were sealed.
const SEALED_PREFIX: &str = "pii:";

/// Seals a two-factor secret with the personal-data key (AES-256-GCM, the key id kept beside
/// it for rotation), for storing at rest.
pub fn seal_secret(keys: &PiiKeys, secret: &str) -> String {
    let (id, blob) = keys.encrypt(secret);
    format!(
        "{SEALED_PREFIX}{id}:{}",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

/// The key id a stored secret is sealed under; `None` for a secret stored as is.
pub fn sealed_key_id(stored: &str) -> Option<i16> {
    stored
        .strip_prefix(SEALED_PREFIX)?
        .split_once(':')?
        .0
        .parse()
        .ok()
}

/// Opens a stored two-factor secret (one stored as is, before sealing, is answered as is).
pub fn open_secret(keys: &PiiKeys, stored: &str) -> Result<String, String> {
    let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
        return Ok(stored.to_owned());
    };
    let (id, b64) = rest
        .split_once(':')
        .ok_or_else(|| "sealed secret without a key id".to_owned())?;
    let id: i16 = id
        .parse()
        .map_err(|_| "sealed secret with a bad key id".to_owned())?;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| "sealed secret is not base64".to_owned())?;
    keys.decrypt(id, &blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_holds_no_plain_text_and_opens_again_after_a_rotation() {
        let keys = crate::pii::PiiKeys::development();
        let secret = new_totp_secret();
        let sealed = seal_secret(&keys, &secret);
        assert!(sealed.starts_with("pii:1:"), "{sealed}");
        assert!(!sealed.contains(&secret));
        assert_ne!(
            seal_secret(&keys, &secret),
            sealed,
            "a fresh nonce each time"
        );
        assert_eq!(sealed_key_id(&sealed), Some(1));
        assert_eq!(sealed_key_id(&secret), None);
        assert_eq!(open_secret(&keys, &sealed).unwrap(), secret);
        assert_eq!(
            open_secret(&keys, &secret).unwrap(),
            secret,
            "stored as is before"
        );
        let rotated = keys.rotated(2, [9u8; 32]);
        assert_eq!(open_secret(&rotated, &sealed).unwrap(), secret);
        assert!(open_secret(&rotated.without_retired(), &sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert!(open_secret(&keys, &tampered).is_err());
    }

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn a_code_is_good_once_and_only_near_its_time() {
        let now = 1_800_000_000;
        let code = totp_code(SECRET, now as u64);
        let step = check_totp(SECRET, &code, now, None).expect("the current code");
        assert_eq!(step, now / 30);
        // The same code again (a replay) is refused.
        assert_eq!(check_totp(SECRET, &code, now, Some(step)), None);
        // One step of drift either way is accepted; three are not.
        assert!(check_totp(SECRET, &code, now + 30, None).is_some());
        assert!(check_totp(SECRET, &code, now - 30, None).is_some());
        assert_eq!(check_totp(SECRET, &code, now + 90, None), None);
        assert_eq!(check_totp(SECRET, "12345", now, None), None);
        assert_eq!(check_totp(SECRET, "abcdef", now, None), None);
    }

    #[test]
    fn the_rfc_6238_vector_matches() {
        // RFC 6238 appendix B, SHA-1, T = 59 -> 94287082 (8 digits); the last 6 digits.
        let secret = base32_encode(b"12345678901234567890");
        assert_eq!(totp_code(&secret, 59), "287082");
    }

    #[test]
    fn the_uri_names_issuer_and_account() {
        let uri = otpauth_uri(SECRET, "Tea: House", "ann@example.com");
        assert!(
            uri.starts_with("otpauth://totp/Tea%20%20House:ann%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={SECRET}")), "{uri}");
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_as_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), 10);
        let c = &codes[0];
        assert_eq!(
            hash_recovery_code(c),
            hash_recovery_code(&c.to_uppercase().replace('-', " "))
        );
        assert_ne!(hash_recovery_code(c), hash_recovery_code(&codes[1]));
        assert!(!looks_like_totp(c));
        assert!(looks_like_totp("123 456"));
    }

    #[test]
    fn common_passwords_are_found_in_any_case() {
        assert!(is_common_password("password123"));
        assert!(is_common_password("QwertyUIOP"));
        assert!(!is_common_password("correct horse battery"));
    }

    #[test]
    fn a_device_is_its_agent_and_network() {
        let a = device_key(Some("Firefox"), Some("203.0.113.7"));
        assert_eq!(a, device_key(Some("Firefox"), Some("203.0.113.200")));
        assert_ne!(a, device_key(Some("Firefox"), Some("203.0.114.7")));
        assert_ne!(a, device_key(Some("Chrome"), Some("203.0.113.7")));
        assert_eq!(
            device_key(None, Some("2001:db8:1:2::1")),
            device_key(None, Some("2001:db8:1:ffff::9"))
        );
    }
}
