//! Reasons the system writes for people to read later (a ledger entry's, a tier move's):
//! a stable code and the values its text needs, stored beside English words. The console
//! and the portal say them in the reader's language, so a change of language says them again.

use serde_json::{json, Value};

/// A reason as a code and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// Stable snake_case code; the console has a text for each under `reasons.<code>`.
    pub code: &'static str,
    /// A JSON object.
    pub params: Value,
    /// The English words, stored as the entry's `reason`.
    pub english: String,
}

impl Reason {
    /// A member's metric reached a tier's threshold (`up`) or fell below it.
    pub fn threshold(metric: &str, value: i64, threshold: i64, up: bool) -> Self {
        Self {
            code: if up {
                "threshold_reached"
            } else {
                "below_threshold"
            },
            params: json!({ "metric": metric, "value": value, "threshold": threshold }),
            english: format!(
                "{metric} {value} {} {threshold}",
                if up { ">=" } else { "<" }
            ),
        }
    }

    /// The ladder's script chose tier `tier`.
    pub fn script_chose(metric: &str, value: i64, tier: &str) -> Self {
        Self {
            code: "script_chose",
            params: json!({ "metric": metric, "value": value, "tier": tier }),
            english: format!("ladder script chose {tier} ({metric} {value})"),
        }
    }

    /// A new ladder version was published and placed the member.
    pub fn ladder_published(version: i32) -> Self {
        Self {
            code: "ladder_published",
            params: json!({ "version": version }),
            english: format!("ladder version {version} published"),
        }
    }

    /// A membership of plan `plan` holds the member on its tier until it ends.
    pub fn membership_tier(plan: &str) -> Self {
        Self {
            code: "membership_tier",
            params: json!({ "plan": plan }),
            english: format!("membership {plan}"),
        }
    }

    /// The membership of plan `plan` that held the member's tier was cancelled.
    pub fn membership_cancelled(plan: &str) -> Self {
        Self {
            code: "membership_cancelled",
            params: json!({ "plan": plan }),
            english: format!("membership {plan} cancelled"),
        }
    }

    /// Every code, for the translation check.
    pub const CODES: &'static [&'static str] = &[
        "threshold_reached",
        "below_threshold",
        "script_chose",
        "ladder_published",
        "membership_tier",
        "membership_cancelled",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_keeps_its_values_beside_the_english_words() {
        let r = Reason::threshold("points_earned", 1200, 1000, true);
        assert_eq!(r.code, "threshold_reached");
        assert_eq!(r.params["value"], 1200);
        assert_eq!(r.english, "points_earned 1200 >= 1000");
        let r = Reason::ladder_published(3);
        assert_eq!(
            (r.code, r.english.as_str()),
            ("ladder_published", "ladder version 3 published")
        );
        assert!(Reason::CODES.contains(&r.code));
    }
}
