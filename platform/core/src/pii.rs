//! Personal data at rest: AES-256-GCM encryption with a key id stored beside every value
//! (so keys can rotate), and an HMAC-SHA256 blind index to find values without decrypting.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

/// Encryption keys by id, the id new values are written with, and the blind-index key.
#[derive(Clone)]
pub struct PiiKeys {
    current: i16,
    keys: BTreeMap<i16, [u8; 32]>,
    index_key: [u8; 32],
}

impl fmt::Debug for PiiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PiiKeys")
            .field("current", &self.current)
            .field("ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Decodes a base64 key of exactly 32 bytes.
pub fn decode_key(b64: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| "is not base64".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| "must decode to exactly 32 bytes".to_owned())
}

impl PiiKeys {
    /// `current` encrypts new values; `retired` only decrypts old ones. The blind-index key is
    /// `index_key` when given, else derived from the current key, and must never change
    /// (existing indexes would stop matching).
    pub fn new(
        current_id: i16,
        current: [u8; 32],
        retired: Vec<(i16, [u8; 32])>,
        index_key: Option<[u8; 32]>,
    ) -> Self {
        let mut keys: BTreeMap<i16, [u8; 32]> = retired.into_iter().collect();
        keys.insert(current_id, current);
        let index_key = index_key.unwrap_or_else(|| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&current).expect("any key size");
            mac.update(b"patron blind index v1");
            mac.finalize().into_bytes().into()
        });
        Self {
            current: current_id,
            keys,
            index_key,
        }
    }

    /// A fixed key for development and tests. Never for real data.
    pub fn development() -> Self {
        Self::new(1, [7u8; 32], Vec::new(), None)
    }

    pub fn current_id(&self) -> i16 {
        self.current
    }

    /// These keys after a rotation: `new_key` (id `new_id`) seals new values, the current key
    /// is retired (it still opens what it sealed), and the blind-index key stays.
    pub fn rotated(&self, new_id: i16, new_key: [u8; 32]) -> Self {
        let mut keys = self.keys.clone();
        keys.insert(new_id, new_key);
        Self {
            current: new_id,
            keys,
            index_key: self.index_key,
        }
    }

    /// These keys without the retired ones: what is left once every value has been re-sealed
    /// under the current key.
    pub fn without_retired(&self) -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(self.current, self.keys[&self.current]);
        Self {
            current: self.current,
            keys,
            index_key: self.index_key,
        }
    }

    /// Encrypts: `nonce (12 bytes) || ciphertext+tag`, with the key id to store beside it.
    pub fn encrypt(&self, plaintext: &str) -> (i16, Vec<u8>) {
        let key = &self.keys[&self.current];
        let cipher = Aes256Gcm::new_from_slice(key).expect("32-byte key");
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        (self.current, out)
    }

    pub fn decrypt(&self, key_id: i16, blob: &[u8]) -> Result<String, String> {
        let key = self
            .keys
            .get(&key_id)
            .ok_or_else(|| format!("no key with id {key_id} is configured"))?;
        if blob.len() < 12 + 16 {
            return Err("ciphertext too short".into());
        }
        let cipher = Aes256Gcm::new_from_slice(key).expect("32-byte key");
        let pt = cipher
            .decrypt(Nonce::from_slice(&blob[..12]), &blob[12..])
            .map_err(|_| "ciphertext does not authenticate".to_owned())?;
        String::from_utf8(pt).map_err(|_| "plaintext is not UTF-8".into())
    }

    /// The keyed hash of a normalised value, domain-separated by `kind` (`phone`, `email`).
    pub fn blind_index(&self, kind: &str, normalised: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("any key size");
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_old_keys_still_decrypt_after_rotation() {
        let old = PiiKeys::new(1, [1u8; 32], vec![], Some([9u8; 32]));
        let (id, blob) = old.encrypt("+8613800138000");
        assert_eq!(id, 1);
        assert!(!blob.windows(5).any(|w| w == b"13800"));
        let rotated = PiiKeys::new(2, [2u8; 32], vec![(1, [1u8; 32])], Some([9u8; 32]));
        assert_eq!(rotated.decrypt(id, &blob).unwrap(), "+8613800138000");
        assert_eq!(rotated.encrypt("x").0, 2);
        assert_eq!(
            old.blind_index("phone", "+86138"),
            rotated.blind_index("phone", "+86138")
        );
        assert_ne!(old.blind_index("phone", "a"), old.blind_index("email", "a"));
        let mut tampered = blob.clone();
        tampered[20] ^= 1;
        assert!(old.decrypt(1, &tampered).is_err());
        assert!(old.decrypt(5, &blob).is_err());
    }

    #[test]
    fn a_rotation_keeps_the_blind_index_and_retiring_the_old_key_stops_it_opening() {
        let old = PiiKeys::new(1, [1u8; 32], vec![], None);
        let (_, blob) = old.encrypt("a@b.example");
        let rotated = old.rotated(2, [2u8; 32]);
        assert_eq!(rotated.current_id(), 2);
        assert_eq!(rotated.decrypt(1, &blob).unwrap(), "a@b.example");
        assert_eq!(
            old.blind_index("email", "a@b.example"),
            rotated.blind_index("email", "a@b.example")
        );
        let (id, fresh) = rotated.encrypt("x");
        let only = rotated.without_retired();
        assert!(only.decrypt(1, &blob).is_err());
        assert_eq!(only.decrypt(id, &fresh).unwrap(), "x");
        assert_eq!(
            only.blind_index("email", "a@b.example"),
            old.blind_index("email", "a@b.example")
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(decode_key("AAAA").is_err());
        assert!(decode_key("not base64!").is_err());
        let k = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        assert_eq!(decode_key(&k).unwrap(), [3u8; 32]);
    }
}
