//! The portal's own page as the business sets it: logo, address, opening hours and the
//! privacy terms members agree to when they register (PIPL). Saving a changed text of the
//! terms makes a new version; each consent names the version it agreed to.

use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::FieldError;
use patron_db::portal::{self, PortalSettings};
use patron_db::TenantTx;

/// The settings as the business sends them (every field; empty clears it).
#[derive(Debug, Clone, Default)]
pub struct SiteChange {
    pub logo_url: String,
    pub address: String,
    pub opening_hours: String,
    pub privacy_text: String,
}

/// Longest values accepted, in characters.
const MAX_URL: usize = 2000;
const MAX_ADDRESS: usize = 500;
const MAX_HOURS: usize = 1000;
const MAX_PRIVACY: usize = 50_000;

fn too_long(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    if value.chars().count() > max {
        errors.push(patron_core::Issue::too_long(max).at(field));
    }
}

/// Whether `url` may stand in an `<img src>` on the portal: a web address, a path on this
/// site, or an image inlined as a data address (no scripts run in an image).
fn logo_address(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let allowed = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//"))
        || ["png", "jpeg", "gif", "webp", "svg+xml"].iter().any(|t| {
            lower.starts_with(&format!("data:image/{t};"))
                || lower.starts_with(&format!("data:image/{t},"))
        });
    allowed
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
}

/// Checks and trims a change; every bad field at once.
pub fn parse(change: SiteChange) -> Result<SiteChange, AppError> {
    let c = SiteChange {
        logo_url: change.logo_url.trim().to_owned(),
        address: change.address.trim().to_owned(),
        opening_hours: change.opening_hours.trim().to_owned(),
        privacy_text: change.privacy_text.trim().to_owned(),
    };
    let mut errors = Vec::new();
    too_long("logo_url", &c.logo_url, MAX_URL, &mut errors);
    too_long("address", &c.address, MAX_ADDRESS, &mut errors);
    too_long("opening_hours", &c.opening_hours, MAX_HOURS, &mut errors);
    too_long("privacy_text", &c.privacy_text, MAX_PRIVACY, &mut errors);
    if !c.logo_url.is_empty() && !logo_address(&c.logo_url) {
        errors.push(patron_core::Issue::invalid_format(
            "logo_url",
            "must be a web address (https://...), a path on this site (/...) or a small image as data:image/...",
        ).at("logo_url"));
    }
    if errors.is_empty() {
        Ok(c)
    } else {
        Err(AppError::invalid(errors))
    }
}

/// The version the terms get when saved as `text` over `old`: the same when the text is
/// unchanged, one more when it changed (cleared terms keep their number, so terms set
/// again later never reuse a version members agreed to).
pub fn next_version(old: &PortalSettings, text: &str) -> i32 {
    if text == old.privacy_text || text.is_empty() {
        old.privacy_version
    } else {
        old.privacy_version + 1
    }
}

/// The current privacy terms and their version, when the business has any.
pub fn privacy(s: &PortalSettings) -> Option<(&str, i32)> {
    (!s.privacy_text.is_empty() && s.privacy_version > 0)
        .then_some((s.privacy_text.as_str(), s.privacy_version))
}

/// The portal's settings.
pub async fn get(tx: &mut TenantTx) -> Result<PortalSettings, AppError> {
    Ok(portal::settings(tx).await?)
}

/// Saves the portal's settings; a changed text of the terms gets the next version.
pub async fn set(
    tx: &mut TenantTx,
    change: SiteChange,
    by: &str,
    now: DateTime<Utc>,
) -> Result<PortalSettings, AppError> {
    let c = parse(change)?;
    let old = portal::settings_for_update(tx).await?.unwrap_or_default();
    let next = PortalSettings {
        privacy_version: next_version(&old, &c.privacy_text),
        logo_url: c.logo_url,
        address: c.address,
        opening_hours: c.opening_hours,
        privacy_text: c.privacy_text,
    };
    portal::save_settings(tx, &next, by, now).await?;
    Ok(next)
}

/// Checks a registration's consent against the terms in force: none needed without terms;
/// with terms, exactly their current version.
pub fn check_consent(s: &PortalSettings, given: Option<i32>) -> Result<Option<i32>, AppError> {
    match privacy(s) {
        None => Ok(None),
        Some((_, version)) if given == Some(version) => Ok(Some(version)),
        Some((_, version)) => Err(AppError::refused(
            "consent_required",
            "consent_version",
            format!("must be {version}: agree to the current privacy terms to register"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_terms(text: &str, version: i32) -> PortalSettings {
        PortalSettings {
            privacy_text: text.into(),
            privacy_version: version,
            ..Default::default()
        }
    }

    #[test]
    fn a_changed_text_gets_the_next_version_and_an_unchanged_one_keeps_it() {
        let none = PortalSettings::default();
        assert_eq!(next_version(&none, ""), 0);
        assert_eq!(next_version(&none, "条款"), 1);
        let v1 = with_terms("条款", 1);
        assert_eq!(next_version(&v1, "条款"), 1);
        assert_eq!(next_version(&v1, "新条款"), 2);
        // Cleared terms keep the number, and setting them again moves past it.
        let cleared = with_terms("", 2);
        assert_eq!(next_version(&v1, ""), 1);
        assert_eq!(next_version(&cleared, "again"), 3);
    }

    #[test]
    fn registration_needs_the_current_version_only_when_there_are_terms() {
        assert_eq!(
            check_consent(&PortalSettings::default(), None).unwrap(),
            None
        );
        assert_eq!(check_consent(&with_terms("", 2), None).unwrap(), None);
        let s = with_terms("条款", 2);
        assert_eq!(check_consent(&s, Some(2)).unwrap(), Some(2));
        for given in [None, Some(1), Some(3)] {
            let e = check_consent(&s, given).unwrap_err();
            assert_eq!(e.code(), "consent_required");
            assert!(matches!(e, AppError::Refused { ref field, .. } if field == "consent_version"));
        }
    }

    #[test]
    fn logo_addresses_must_be_web_or_site_paths_and_lengths_are_bounded() {
        let ok = parse(SiteChange {
            logo_url: " https://cdn.example.com/logo.png ".into(),
            address: " 上海市 ".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.logo_url, "https://cdn.example.com/logo.png");
        assert_eq!(ok.address, "上海市");
        for ok in [
            "/static/logo.png",
            "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=",
        ] {
            assert!(
                parse(SiteChange {
                    logo_url: ok.into(),
                    ..Default::default()
                })
                .is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "data:text/html;base64,PGgxPg==",
            "//evil.example.com/x.png",
            "https://a b",
        ] {
            assert!(
                parse(SiteChange {
                    logo_url: bad.into(),
                    ..Default::default()
                })
                .is_err(),
                "{bad}"
            );
        }
        let e = parse(SiteChange {
            logo_url: "javascript:alert(1)".into(),
            address: "x".repeat(501),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["address", "logo_url"]);
    }
}
