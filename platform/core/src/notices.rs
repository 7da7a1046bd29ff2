//! Notices on the member portal (公告): a title and a body shown for a period, to every
//! member or to the members of some tiers, pinned ones first.

use crate::problem::{FieldCode, Issue};
use crate::Validation;
use chrono::{DateTime, Utc};

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 10_000;
pub const TIERS_MAX: usize = 50;

/// A notice as staff write it, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeDraft {
    pub title: String,
    pub body: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Empty: every member.
    pub tiers: Vec<String>,
    pub pinned: bool,
}

/// Checks a draft: title and body present and not too long, the end after the start, tiers
/// named once each and known to the ladder in force (`known_tiers`).
pub fn check(
    d: &NoticeDraft,
    known_tiers: &[String],
) -> Result<NoticeDraft, Vec<crate::FieldError>> {
    let mut v = Validation::new();
    let title = d.title.trim();
    if title.is_empty() {
        v.check::<()>("title", Err(Issue::required()));
    } else if title.chars().count() > TITLE_MAX {
        v.check::<()>("title", Err(Issue::too_long(TITLE_MAX)));
    }
    if d.body.trim().is_empty() {
        v.check::<()>("body", Err(Issue::required()));
    } else if d.body.chars().count() > BODY_MAX {
        v.check::<()>("body", Err(Issue::too_long(BODY_MAX)));
    }
    if let Some(end) = d.ends_at {
        if end <= d.starts_at {
            v.check::<()>(
                "ends_at",
                Err(
                    Issue::new(FieldCode::BeforeStart, "must be after starts_at")
                        .with("field", "starts_at"),
                ),
            );
        }
    }
    if d.tiers.len() > TIERS_MAX {
        v.check::<()>("tiers", Err(Issue::too_many(TIERS_MAX, "tiers")));
    }
    let mut tiers: Vec<String> = Vec::new();
    for (i, t) in d.tiers.iter().enumerate() {
        let t = t.trim();
        if tiers.iter().any(|x| x == t) {
            v.check::<()>(
                &format!("tiers.{i}"),
                Err(Issue::new(FieldCode::Duplicate, "appears twice")),
            );
        } else if !known_tiers.iter().any(|k| k == t) {
            v.check::<()>(
                &format!("tiers.{i}"),
                Err(
                    Issue::new(FieldCode::NoSuchTier, format!("there is no tier {t}"))
                        .with("value", t),
                ),
            );
        } else {
            tiers.push(t.to_owned());
        }
    }
    v.finish()?;
    Ok(NoticeDraft {
        title: title.to_owned(),
        body: d.body.trim_end().to_owned(),
        starts_at: d.starts_at,
        ends_at: d.ends_at,
        tiers,
        pinned: d.pinned,
    })
}

/// Whether a notice is shown at `now` to a member of tier `tier` (`None`: no tier).
pub fn shown(
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    tiers: &[String],
    tier: Option<&str>,
    now: DateTime<Utc>,
) -> bool {
    starts_at <= now
        && ends_at.is_none_or(|e| now < e)
        && (tiers.is_empty() || tier.is_some_and(|t| tiers.iter().any(|x| x == t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn draft() -> NoticeDraft {
        NoticeDraft {
            title: " 春节营业时间 ".into(),
            body: "除夕休息一天。".into(),
            starts_at: Utc::now(),
            ends_at: None,
            tiers: vec![],
            pinned: false,
        }
    }

    #[test]
    fn a_draft_is_trimmed_and_its_fields_checked() {
        let ok = check(&draft(), &[]).unwrap();
        assert_eq!(ok.title, "春节营业时间");
        let mut bad = draft();
        bad.title = "  ".into();
        bad.body = "x".repeat(BODY_MAX + 1);
        bad.ends_at = Some(bad.starts_at - Duration::hours(1));
        bad.tiers = vec!["gold".into(), "gold".into(), "mud".into()];
        let errs = check(&bad, &["gold".into()]).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "body", "ends_at", "tiers.1", "tiers.2"]);
    }

    #[test]
    fn a_notice_shows_in_its_period_to_its_tiers() {
        let now = Utc::now();
        let (start, end) = (now - Duration::days(1), Some(now + Duration::days(1)));
        assert!(shown(start, end, &[], None, now));
        assert!(!shown(now + Duration::seconds(1), end, &[], None, now));
        assert!(!shown(start, Some(now), &[], None, now));
        let gold = vec!["gold".to_owned()];
        assert!(shown(start, None, &gold, Some("gold"), now));
        assert!(!shown(start, None, &gold, Some("silver"), now));
        assert!(!shown(start, None, &gold, None, now));
    }
}
