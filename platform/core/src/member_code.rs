//! The dynamic member code: a short text a member shows at the counter (as a QR code or a
//! Code128 barcode; a USB scanner types it), valid for one minute, bound to the business and
//! the member, and signed with a server key so it cannot be made up.
//!
//! The text is [`PREFIX`] and 40 characters of Crockford base32 (upper-case letters and
//! digits, no I, L, O or U) over 25 bytes: the member's id (16), the second it was issued
//! (4, big-endian Unix time) and the first 5 bytes of an HMAC over the business, the member
//! and that second. A forged code fails the HMAC; a copied one stops working a minute
//! later.

use crate::ids::{MemberId, TenantId};
use crate::pii::PiiKeys;
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

/// What every member code starts with.
pub const PREFIX: &str = "PM";
/// How long a code works, in seconds.
pub const VALID_SECS: i64 = 60;
/// How much later than [`VALID_SECS`] a code is still taken (a slow scan, clocks apart), and
/// how far in the future its issue time may lie.
pub const GRACE_SECS: i64 = 10;
/// When a portal should fetch a fresh code, in seconds after it got one.
pub const REFRESH_SECS: i64 = 45;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAC_BYTES: usize = 5;
const PAYLOAD_BYTES: usize = 16 + 4 + MAC_BYTES;
/// Characters after the prefix: 25 bytes are exactly 40 base32 digits.
const BODY_CHARS: usize = PAYLOAD_BYTES * 8 / 5;

/// The key a code is signed with: an HMAC over a message.
pub trait CodeSigner {
    fn sign(&self, message: &str) -> Vec<u8>;
}

/// The server's keys sign codes with the blind-index HMAC, under a purpose of their own.
impl CodeSigner for PiiKeys {
    fn sign(&self, message: &str) -> Vec<u8> {
        self.blind_index("member_code", message)
    }
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Genuine, but older than a minute (and the grace).
    Expired,
    /// Malformed, signed with another key, for another business, or issued in the future.
    Invalid,
}

fn mac(signer: &dyn CodeSigner, tenant: TenantId, member: Uuid, issued: u32) -> Vec<u8> {
    let mut m = signer.sign(&format!("{}:{member}:{issued}", tenant.get()));
    m.truncate(MAC_BYTES);
    m
}

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Some(out)
}

/// Whether `text` is meant as a member code (the prefix, then only code characters):
/// lookups treat it as one, so a damaged code is refused rather than searched as a name.
pub fn looks_like(text: &str) -> bool {
    let t = text.trim();
    t.len() >= PREFIX.len() + 8
        && t.starts_with(PREFIX)
        && t.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A fresh code for `member` of `tenant`, and when it stops working.
pub fn issue(
    signer: &dyn CodeSigner,
    tenant: TenantId,
    member: MemberId,
    now: DateTime<Utc>,
) -> (String, DateTime<Utc>) {
    let issued = u32::try_from(now.timestamp().max(0)).unwrap_or(u32::MAX);
    let mut payload = Vec::with_capacity(PAYLOAD_BYTES);
    payload.extend_from_slice(member.get().as_bytes());
    payload.extend_from_slice(&issued.to_be_bytes());
    payload.extend(mac(signer, tenant, member.get(), issued));
    let at = Utc
        .timestamp_opt(i64::from(issued), 0)
        .single()
        .unwrap_or(now);
    (
        format!("{PREFIX}{}", encode(&payload)),
        at + Duration::seconds(VALID_SECS),
    )
}

/// The member a code stands for, if it was issued for `tenant` with this key and is still
/// live at `now`.
pub fn verify(
    signer: &dyn CodeSigner,
    tenant: TenantId,
    text: &str,
    now: DateTime<Utc>,
) -> Result<MemberId, CodeError> {
    let body = text
        .trim()
        .strip_prefix(PREFIX)
        .filter(|b| b.len() == BODY_CHARS)
        .ok_or(CodeError::Invalid)?;
    let payload = decode(body)
        .filter(|p| p.len() == PAYLOAD_BYTES)
        .ok_or(CodeError::Invalid)?;
    let member = Uuid::from_slice(&payload[..16]).map_err(|_| CodeError::Invalid)?;
    let issued = u32::from_be_bytes(payload[16..20].try_into().expect("4 bytes"));
    let expected = mac(signer, tenant, member, issued);
    // Compared in full whatever the first difference, so timing tells nothing.
    let differs = expected
        .iter()
        .zip(&payload[20..])
        .fold(0u8, |d, (a, b)| d | (a ^ b));
    if differs != 0 {
        return Err(CodeError::Invalid);
    }
    let age = now.timestamp() - i64::from(issued);
    if age < -GRACE_SECS {
        return Err(CodeError::Invalid);
    }
    if age > VALID_SECS + GRACE_SECS {
        return Err(CodeError::Expired);
    }
    Ok(MemberId::new(member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn key() -> PiiKeys {
        PiiKeys::new(1, [1u8; 32], Vec::new(), Some([42u8; 32]))
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    const T: TenantId = TenantId::new(7);

    #[test]
    fn a_code_is_short_upper_case_and_names_its_member_for_a_minute() {
        let m = MemberId::new(Uuid::now_v7());
        let now = at(1_790_000_000);
        let (code, expires) = issue(&key(), T, m, now);
        assert!(code.starts_with("PM"));
        assert_eq!(code.len(), 42);
        assert!(code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert!(looks_like(&code));
        assert_eq!(expires, now + Duration::seconds(60));
        assert_eq!(verify(&key(), T, &code, now), Ok(m));
        assert_eq!(verify(&key(), T, &format!("  {code}\n"), now), Ok(m));
        assert_eq!(verify(&key(), T, &code, at(1_790_000_070)), Ok(m));
        assert_eq!(
            verify(&key(), T, &code, at(1_790_000_071)),
            Err(CodeError::Expired)
        );
    }

    #[test]
    fn another_business_another_key_or_a_future_time_makes_a_code_invalid() {
        let m = MemberId::new(Uuid::now_v7());
        let now = at(1_790_000_000);
        let (code, _) = issue(&key(), T, m, now);
        assert_eq!(
            verify(&key(), TenantId::new(8), &code, now),
            Err(CodeError::Invalid)
        );
        let other = PiiKeys::new(1, [1u8; 32], Vec::new(), Some([43u8; 32]));
        assert_eq!(verify(&other, T, &code, now), Err(CodeError::Invalid));
        let (future, _) = issue(&key(), T, m, at(1_790_000_100));
        assert_eq!(verify(&key(), T, &future, now), Err(CodeError::Invalid));
        for bad in ["", "PM", "PM123", "XX", &code[..41], &format!("{code}0")] {
            assert_eq!(
                verify(&key(), T, bad, now),
                Err(CodeError::Invalid),
                "{bad}"
            );
        }
        assert!(!looks_like("Pmasha"));
        assert!(!looks_like("PMA"));
        assert!(!looks_like("13655556666"));
    }

    /// Property: for any member and time, a code verifies to that member while live, and
    /// changing any one character of it never yields a valid code for anyone.
    #[test]
    fn any_code_round_trips_and_no_single_character_change_forges_one() {
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let keys = key();
        for _ in 0..300 {
            let m = MemberId::new(Uuid::from_u128(rng.gen()));
            let now = at(rng.gen_range(1_600_000_000..2_000_000_000));
            let (code, expires) = issue(&keys, T, m, now);
            let within = rng.gen_range(0..=VALID_SECS + GRACE_SECS);
            assert_eq!(
                verify(&keys, T, &code, now + Duration::seconds(within)),
                Ok(m)
            );
            assert!(expires > now);
            let pos = rng.gen_range(PREFIX.len()..code.len());
            let mut bytes = code.clone().into_bytes();
            let original = bytes[pos];
            let replacement = loop {
                let c = ALPHABET[rng.gen_range(0..32)];
                if c != original {
                    break c;
                }
            };
            bytes[pos] = replacement;
            let forged = String::from_utf8(bytes).unwrap();
            // The last character carries no payload bits beyond the 200th: any change
            // there still changes a payload bit, since 40 characters are exactly 25 bytes.
            assert_eq!(
                verify(&keys, T, &forged, now),
                Err(CodeError::Invalid),
                "{code} -> {forged}"
            );
        }
    }

    #[test]
    fn base32_round_trips_any_bytes() {
        let mut rng = StdRng::seed_from_u64(7);
        for len in [0usize, 1, 5, 16, 25] {
            let bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let text = encode(&bytes);
            assert_eq!(&decode(&text).unwrap()[..len], &bytes[..]);
        }
        assert!(decode("IO").is_none());
    }
}
