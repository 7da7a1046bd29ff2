//! Members: phone numbers, genders, masking of personal data, and member card numbers.

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::{FieldCode, Issue};

/// The genders a member may be given.
pub const GENDERS: &[&str] = &["female", "male", "other", "undisclosed"];
/// A card number's length, in digits.
pub const CARD_LENGTH: (i64, i64) = (8, 19);

/// A phone number in E.164 (`+8613800138000`), read in the tenant's default region when it
/// has no country code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str, default_region: &str) -> Result<Self, Issue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Issue::required());
        }
        if s.len() > 32 {
            return Err(Issue::too_long(32));
        }
        let region = phonenumber::country::Id::from_str(default_region).ok();
        let n = phonenumber::parse(region, s).map_err(|_| Issue::not_a_phone(s))?;
        if !phonenumber::is_valid(&n) {
            return Err(Issue::new(
                FieldCode::NotAPhone,
                format!("\"{s}\" is not a valid phone number"),
            )
            .with("value", s));
        }
        Ok(Self(n.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn e164(&self) -> &str {
        &self.0
    }
}

/// Gender as members choose to state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    Other,
    Undisclosed,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::Other => "other",
            Self::Undisclosed => "undisclosed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Issue> {
        Ok(match raw {
            "female" => Self::Female,
            "male" => Self::Male,
            "other" => Self::Other,
            "undisclosed" => Self::Undisclosed,
            _ => {
                return Err(Issue::not_one_of(raw, GENDERS)
                    .words("must be one of female, male, other, undisclosed"))
            }
        })
    }
}

/// Tags: 1–40 characters each, at most 50, trimmed, duplicates dropped.
pub fn parse_tags(raw: &[String]) -> Result<Vec<String>, Issue> {
    if raw.len() > 50 {
        return Err(Issue::too_many(50, "tags"));
    }
    let mut out: Vec<String> = Vec::new();
    for t in raw {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > 40 || t.chars().any(char::is_control) {
            return Err(Issue::new(
                FieldCode::InvalidFormat,
                format!("\"{t}\" must be 1 to 40 characters without control characters"),
            )
            .with("format", "tag")
            .with("value", t));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// `+8613812345678` → `138****5678`: the national number with its middle hidden.
pub fn mask_phone(e164: &str) -> String {
    let digits: String = match phonenumber::parse(None, e164) {
        Ok(n) => n.national().value().to_string(),
        Err(_) => e164.chars().filter(char::is_ascii_digit).collect(),
    };
    let n = digits.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    let head = if n >= 11 { 3 } else { 2.min(n - 4) };
    format!(
        "{}{}{}",
        &digits[..head],
        "*".repeat(n - head - 4),
        &digits[n - 4..]
    )
}

/// `alice@example.com` → `a***@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Keys used to look members up by phone or e-mail: the E.164 number, and the e-mail
/// lower-cased.
pub fn email_lookup_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// How a tenant's card numbers look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFormat {
    /// Digits every number starts with (0–8 digits).
    pub prefix: String,
    /// Total length, check digit included (8–19).
    pub length: u32,
    /// `sequence` numbers in order; `random` draws them.
    pub mode: CardMode,
    /// Whether the last digit is a Luhn check digit.
    pub luhn: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardMode {
    Sequence,
    Random,
}

impl Default for CardFormat {
    fn default() -> Self {
        Self {
            prefix: "8".into(),
            length: 12,
            mode: CardMode::Sequence,
            luhn: true,
        }
    }
}

impl CardFormat {
    pub fn check(&self) -> Result<(), crate::FieldError> {
        if self.prefix.len() > 8 || !self.prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Issue::invalid_format("digits", "must be 0 to 8 digits")
                .with("min", 0)
                .with("max", 8)
                .at("prefix"));
        }
        if !(CARD_LENGTH.0..=CARD_LENGTH.1).contains(&i64::from(self.length)) {
            return Err(Issue::out_of_range(CARD_LENGTH.0, CARD_LENGTH.1).at("length"));
        }
        if self.body_digits() < 4 {
            return Err(Issue::new(
                FieldCode::NotAllowed,
                "leaves fewer than 4 digits after the prefix",
            )
            .with("reason", "card_prefix_too_long")
            .at("length"));
        }
        Ok(())
    }

    /// Digits between the prefix and the check digit.
    fn body_digits(&self) -> u32 {
        self.length - self.prefix.len() as u32 - u32::from(self.luhn)
    }

    /// The number for sequence value `seq` (sequence mode), or a random one.
    pub fn number(&self, seq: u64) -> Result<String, String> {
        let width = self.body_digits() as usize;
        let body = match self.mode {
            CardMode::Sequence => {
                let s = seq.to_string();
                if s.len() > width {
                    return Err("the card number sequence is exhausted for this format".into());
                }
                format!("{s:0>width$}")
            }
            CardMode::Random => {
                let mut rng = rand::thread_rng();
                (0..width)
                    .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                    .collect()
            }
        };
        let mut n = format!("{}{}", self.prefix, body);
        if self.luhn {
            n.push(char::from(b'0' + luhn_digit(&n)));
        }
        Ok(n)
    }

    /// Whether `raw` could be one of this format's numbers.
    pub fn accepts(&self, raw: &str) -> bool {
        raw.len() == self.length as usize
            && raw.starts_with(&self.prefix)
            && raw.bytes().all(|b| b.is_ascii_digit())
            && (!self.luhn || luhn_valid(raw))
    }
}

/// The Luhn check digit for `digits`.
pub fn luhn_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

pub fn luhn_valid(number: &str) -> bool {
    number.len() >= 2
        && number.bytes().all(|b| b.is_ascii_digit())
        && luhn_digit(&number[..number.len() - 1]) == number.as_bytes()[number.len() - 1] - b'0'
}

/// A card number as typed at the counter: spaces and dashes ignored, digits only.
pub fn normalise_card_number(raw: &str) -> Result<String, Issue> {
    let n: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if n.is_empty() || n.len() > 19 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Issue::invalid_format("digits", "must be 1 to 19 digits")
            .with("min", 1)
            .with("max", 19));
    }
    Ok(n)
}

/// A physical card's printed code: 4–64 letters, digits or dashes.
pub fn parse_physical_code(raw: &str) -> Result<String, Issue> {
    let s = raw.trim();
    if !(4..=64).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Issue::invalid_format(
            "card_code",
            "must be 4 to 64 letters, digits or dashes",
        )
        .with("min", 4)
        .with("max", 64));
    }
    Ok(s.to_ascii_uppercase())
}

/// Where a member or a change to one came from: staff at the counter, an integration's key,
/// operator support, the member in the portal, or a file import. Stored as its `as_str`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Counter,
    Api,
    Support,
    Portal,
    Import,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Counter,
        Channel::Api,
        Channel::Support,
        Channel::Portal,
        Channel::Import,
    ];

    /// The stored and shown form.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Counter => "counter",
            Channel::Api => "api",
            Channel::Support => "support",
            Channel::Portal => "portal",
            Channel::Import => "import",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_read_back_what_they_store() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Channel::parse("fax"), None);
    }

    #[test]
    fn phones_in_any_formatting_become_e164() {
        for raw in [
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "(+86)13800138000",
        ] {
            assert_eq!(
                Phone::parse(raw, "CN").unwrap().e164(),
                "+8613800138000",
                "{raw}"
            );
        }
        assert_eq!(
            Phone::parse("020 7946 0958", "GB").unwrap().e164(),
            "+442079460958"
        );
        for bad in ["", "12", "abc", "+86 1", &"1".repeat(40)] {
            assert!(Phone::parse(bad, "CN").is_err(), "{bad}");
        }
    }

    #[test]
    fn masks_hide_the_middle_of_phones_and_the_local_part_of_emails() {
        assert_eq!(mask_phone("+8613812345678"), "138****5678");
        assert_eq!(mask_email("alice@x.com"), "a***@x.com");
    }

    #[test]
    fn card_numbers_follow_the_format_and_carry_a_luhn_digit() {
        let f = CardFormat::default();
        let n = f.number(42).unwrap();
        assert_eq!(n.len(), 12);
        assert!(n.starts_with("80000000042"));
        assert!(luhn_valid(&n) && f.accepts(&n));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        let r = CardFormat {
            prefix: "66".into(),
            length: 16,
            mode: CardMode::Random,
            luhn: true,
        };
        let a = r.number(0).unwrap();
        assert!(r.accepts(&a));
        let short = CardFormat {
            prefix: "1234567".into(),
            length: 8,
            ..CardFormat::default()
        };
        assert!(short.check().is_err());
        let tiny = CardFormat {
            prefix: "9".into(),
            length: 8,
            mode: CardMode::Sequence,
            luhn: false,
        };
        assert!(tiny.number(9_999_999).is_ok());
        assert!(tiny.number(10_000_000).is_err());
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        assert_eq!(
            parse_tags(&[" vip ".into(), "vip".into(), "瑜伽".into()]).unwrap(),
            vec!["vip", "瑜伽"]
        );
        assert!(parse_tags(&["".into()]).is_err());
    }
}
