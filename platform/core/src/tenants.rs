//! Tenants: the businesses that sign up. Slugs, settings and their defaults.

use crate::{FieldCode, Issue};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Words that can never be a tenant slug: they name parts of the product or would confuse
/// people reading URLs such as `/m/<slug>`.
pub const RESERVED_SLUGS: &[&str] = &[
    "admin",
    "administrator",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "console",
    "dashboard",
    "demo-admin",
    "docs",
    "help",
    "internal",
    "login",
    "logout",
    "metrics",
    "null",
    "ops",
    "operator",
    "operators",
    "patron",
    "platform",
    "portal",
    "public",
    "root",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "tenant",
    "tenants",
    "test",
    "undefined",
    "www",
    "healthz",
    "readyz",
    "openapi",
    "mail",
    "smtp",
    "security",
    "settings",
];

/// A tenant's URL name: lowercase ASCII letters, digits and single hyphens, 3–40 characters,
/// starting with a letter, not ending with a hyphen, and not reserved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, Issue> {
        let s = raw.trim();
        let len = s.chars().count();
        if !(3..=40).contains(&len) {
            return Err(Issue::new(
                FieldCode::LengthBetween,
                format!("must be 3 to 40 characters long (got {len})"),
            )
            .with("min", 3)
            .with("max", 40));
        }
        let slug = |problem: &str| Issue::invalid_format("slug", problem);
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(slug(
                "may contain only lowercase letters a-z, digits and hyphens",
            ));
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(slug("must start with a letter"));
        }
        if s.ends_with('-') || s.contains("--") {
            return Err(slug(
                "may not end with a hyphen or contain two hyphens in a row",
            ));
        }
        if RESERVED_SLUGS.contains(&s) {
            return Err(Issue::new(
                FieldCode::Reserved,
                format!("\"{s}\" is reserved; choose another"),
            )
            .with("value", s));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value).map_err(|e| e.problem)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant's display name: 1–120 characters after trimming, no control characters.
pub fn parse_display_name(raw: &str, max: usize) -> Result<String, Issue> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(Issue::required());
    }
    if s.chars().count() > max {
        return Err(Issue::too_long(max));
    }
    if s.chars().any(char::is_control) {
        return Err(Issue::control_characters());
    }
    Ok(s.to_owned())
}

/// Locales the console and portal are translated into.
pub const SUPPORTED_LOCALES: &[&str] = &["zh-CN", "en"];

/// Settings every capability honours: how to show time, money, language and phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: String,
    /// ISO 4217 currency code, e.g. `CNY`.
    pub currency: String,
    /// One of [`SUPPORTED_LOCALES`].
    pub locale: String,
    /// ISO 3166-1 alpha-2 region used to read phone numbers written without a country code.
    pub phone_region: String,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            time_zone: "Asia/Shanghai".into(),
            currency: "CNY".into(),
            locale: "zh-CN".into(),
            phone_region: "CN".into(),
        }
    }
}

impl TenantSettings {
    /// The business's time zone, which decides its local days.
    pub fn zone(&self) -> crate::Zone {
        crate::Zone::of_setting(&self.time_zone)
    }
}

pub fn parse_time_zone(raw: &str) -> Result<String, Issue> {
    crate::Zone::parse(raw).map(|z| z.name().to_owned())
}

/// ISO 4217 codes in use, from the standard's current list.
const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SYP", "SZL", "THB", "TJS",
    "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

pub fn parse_currency(raw: &str) -> Result<String, Issue> {
    let code = raw.trim().to_ascii_uppercase();
    if CURRENCIES.contains(&code.as_str()) {
        Ok(code)
    } else {
        Err(Issue::new(
            FieldCode::NotACurrency,
            format!("\"{raw}\" is not an ISO 4217 currency code such as CNY"),
        )
        .with("value", raw))
    }
}

pub fn parse_locale(raw: &str) -> Result<String, Issue> {
    SUPPORTED_LOCALES
        .iter()
        .find(|l| l.eq_ignore_ascii_case(raw.trim()))
        .map(|l| (*l).to_owned())
        .ok_or_else(|| {
            Issue::new(
                FieldCode::NotALocale,
                format!("\"{raw}\" is not supported; use one of {SUPPORTED_LOCALES:?}"),
            )
            .with("value", raw)
        })
}

pub fn parse_phone_region(raw: &str) -> Result<String, Issue> {
    let code = raw.trim().to_ascii_uppercase();
    phonenumber::country::Id::from_str(&code)
        .map(|_| code)
        .map_err(|_| {
            Issue::new(
                FieldCode::NotARegion,
                format!("\"{raw}\" is not a region code with a phone plan, such as CN"),
            )
            .with("value", raw)
        })
}

/// Where a tenant is in its life. Only `trial` and `active` accept writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Trial,
    Active,
    PastDue,
    Suspended,
    Closed,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trial => "trial",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "trial" => Self::Trial,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "suspended" => Self::Suspended,
            "closed" => Self::Closed,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_lowercase_letters_digits_and_hyphens() {
        for ok in ["abc", "iron-gym", "salon-88", "a1-b2-c3", &"a".repeat(40)] {
            assert_eq!(Slug::parse(ok).unwrap().as_str(), ok, "{ok}");
        }
    }

    #[test]
    fn slugs_refuse_bad_shapes_and_reserved_words() {
        for bad in [
            "ab",
            &"a".repeat(41),
            "Iron",
            "iron_gym",
            "1gym",
            "-gym",
            "gym-",
            "gy--m",
            "健身房",
            "api",
            "admin",
            "ops",
            "iron gym",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn settings_parse_known_values_and_refuse_unknown_ones() {
        assert_eq!(parse_time_zone("Europe/Paris").unwrap(), "Europe/Paris");
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert_eq!(parse_currency("usd").unwrap(), "USD");
        assert!(parse_currency("XXY").is_err());
        assert_eq!(parse_locale("EN").unwrap(), "en");
        assert!(parse_locale("fr").is_err());
        assert_eq!(parse_phone_region("hk").unwrap(), "HK");
        assert!(parse_phone_region("QQ").is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(parse_display_name("  铁人健身  ", 120).unwrap(), "铁人健身");
        assert!(parse_display_name("   ", 120).is_err());
        assert!(parse_display_name(&"x".repeat(121), 120).is_err());
        assert!(parse_display_name("a\u{0}b", 120).is_err());
    }
}
