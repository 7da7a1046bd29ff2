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

    /// A reason of the point ledger, `code` one of [`Reason::CODES`] with its values.
    pub fn point(code: &'static str, params: Value) -> Self {
        let english = english(code, &params);
        Self {
            code,
            params,
            english,
        }
    }

    /// A reason as a rule script writes it (a template's default reasons): the code and
    /// its values in one string that [`Reason::parse`] reads back, so the reason travels
    /// through the rule sandbox as text.
    pub fn token(code: &str, params: &Value) -> String {
        format!("{TOKEN_MARK}{code}{params}")
    }

    /// A reason a rule script gave: a [`Reason::token`] of a known code, else `None` (words
    /// a person wrote, said as written).
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(TOKEN_MARK)?;
        let at = rest.find('{')?;
        let code = Self::CODES.iter().find(|c| **c == &rest[..at])?;
        let params: Value = serde_json::from_str(&rest[at..]).ok()?;
        params.is_object().then(|| Self::point(code, params))
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
        "earn_rate",
        "welcome_bonus",
        "birthday_month_factor",
        "line_factor",
        "tier_factor",
        "tier_bonus",
        "check_in",
        "check_in_streak",
        "referral",
        "happy_birthday",
        "tier_birthday_gift",
        "redeem_off",
        "points_expired",
        "refund",
        "debt_settled",
        "spend_bonus",
        "several",
        "membership_tier",
        "membership_cancelled",
        "mall_order",
        "mall_order_cancelled",
        "coupon_claimed",
        "activity_attended",
        "activity_price",
        "activity_refund",
        "promotion_multiplier",
        "promotion_bonus",
    ];
}

/// Gives every tier code in a reason's values its current names: beside each `tier` (also
/// inside the parts of `several`) a `tier_name` with `zh-CN` and `en`, from `names` (the
/// ladder in force, so a renamed tier shows its new name). A code `names` does not know
/// stays as it is.
pub fn name_tiers(
    params: &mut Value,
    names: &std::collections::HashMap<String, crate::tiers::Names>,
) {
    let Some(map) = params.as_object_mut() else {
        return;
    };
    if let Some(n) = map
        .get("tier")
        .and_then(Value::as_str)
        .and_then(|code| names.get(code))
    {
        map.insert("tier_name".into(), json!({ "zh-CN": n.zh_cn, "en": n.en }));
    }
    if let Some(Value::Array(parts)) = map.get_mut("parts") {
        for part in parts {
            if let Some(p) = part.get_mut("params") {
                name_tiers(p, names);
            }
        }
    }
}

/// What starts a [`Reason::token`].
pub const TOKEN_MARK: &str = "@reason:";

/// The English words of a point reason.
fn english(code: &str, p: &Value) -> String {
    let s = |k: &str| match &p[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let n = |k: &str| p[k].as_i64().unwrap_or(0);
    let money = |k: &str| {
        let v = n(k);
        format!("{}.{:02}", v / 100, (v % 100).abs())
    };
    match code {
        "earn_rate" => {
            let points = n("points");
            let unit = if points == 1 { "point" } else { "points" };
            format!("{points} {unit} per {} spent", money("per"))
        }
        "welcome_bonus" => "welcome bonus".into(),
        "birthday_month_factor" => format!("birthday month ×{}", s("factor")),
        "line_factor" => format!("{} ×{}", s("value"), s("factor")),
        "tier_factor" => format!("{} tier ×{}", s("tier"), s("factor")),
        "tier_bonus" => format!("{} tier bonus", s("tier")),
        "check_in" => "check-in".into(),
        "check_in_streak" => format!("{}-day check-in streak", n("days")),
        "referral" => "referral".into(),
        "happy_birthday" => "happy birthday".into(),
        "tier_birthday_gift" => format!("birthday gift of tier {}", s("tier")),
        "redeem_off" => format!("{} off a purchase", money("value")),
        "points_expired" => "points expired".into(),
        "coupon_claimed" => format!("{} × coupon {}", n("quantity"), s("template")),
        "refund" => format!("refund of purchase {}", s("purchase")),
        "debt_settled" => "settles points owed after a refund".into(),
        "spend_bonus" => format!("spend {}, get {} points", money("min"), n("points")),
        "mall_order" => format!("{} × {} from the points mall", s("item"), n("quantity")),
        "mall_order_cancelled" => format!("points mall order of {} cancelled", s("item")),
        "activity_attended" => format!("attended {}", s("title")),
        "activity_price" => format!("sign-up for {}", s("title")),
        "activity_refund" => format!("refund of the sign-up for {}", s("title")),
        "promotion_multiplier" => format!("{} ×{}", s("promotion"), s("factor")),
        "promotion_bonus" => format!("{} bonus", s("promotion")),
        "several" => p["parts"]
            .as_array()
            .map(|parts| {
                parts
                    .iter()
                    .map(|x| match x["code"].as_str() {
                        Some(c) => english(c, &x["params"]),
                        None => x["text"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// What a ledger entry says: the words, and for words the system wrote, their code and
/// values (stored beside the words, so a reader sees them in their own language).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Said {
    pub text: String,
    pub code: Option<&'static str>,
    pub params: Option<Value>,
}

impl Said {
    /// Words a person wrote (or an older rule's words): said as written.
    pub fn words(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            code: None,
            params: None,
        }
    }

    /// A rule's reason: a token read back as its code, else the words.
    pub fn from_rule(text: &str) -> Self {
        Reason::parse(text).map_or_else(|| Self::words(text), Self::from)
    }

    /// Several reasons in one line (`; ` between them), cut at `max_chars` characters; with
    /// code `several` when any part has a code.
    pub fn joined(parts: &[Said], max_chars: usize) -> Self {
        let mut text = parts
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        if text.chars().count() > max_chars {
            text = text.chars().take(max_chars).collect();
        }
        match parts {
            [one] if one.code.is_some() => Self {
                text,
                ..one.clone()
            },
            _ if parts.iter().any(|p| p.code.is_some()) => Self {
                text,
                code: Some("several"),
                params: Some(json!({ "parts": parts.iter().map(|p| match p.code {
                    Some(c) => json!({ "code": c, "params": p.params }),
                    None => json!({ "text": p.text }),
                }).collect::<Vec<_>>() })),
            },
            _ => Self::words(text),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl From<Reason> for Said {
    fn from(r: Reason) -> Self {
        Self {
            text: r.english,
            code: Some(r.code),
            params: Some(r.params),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_codes_get_their_current_names_also_inside_several() {
        let names = std::collections::HashMap::from([(
            "gold".to_owned(),
            crate::tiers::Names {
                zh_cn: "金卡".into(),
                en: "Gold".into(),
            },
        )]);
        let mut p = json!({"tier": "gold", "factor": "1.5"});
        name_tiers(&mut p, &names);
        assert_eq!(p["tier_name"], json!({"zh-CN": "金卡", "en": "Gold"}));
        let mut p = json!({"parts": [{"code": "tier_bonus", "params": {"tier": "gold"}},
                                     {"code": "tier_bonus", "params": {"tier": "gone"}},
                                     {"text": "words"}]});
        name_tiers(&mut p, &names);
        assert_eq!(p["parts"][0]["params"]["tier_name"]["zh-CN"], "金卡");
        assert!(p["parts"][1]["params"].get("tier_name").is_none());
        let mut p = json!({"value": 899});
        name_tiers(&mut p, &names);
        assert_eq!(p, json!({"value": 899}));
    }

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

    #[test]
    fn a_rule_token_reads_back_as_its_code_and_values_and_other_words_stay_words() {
        let token = Reason::token("earn_rate", &json!({ "points": 1, "per": 100 }));
        let said = Said::from_rule(&token);
        assert_eq!(said.code, Some("earn_rate"));
        assert_eq!(said.text, "1 point per 1.00 spent");
        assert_eq!(said.params.as_ref().unwrap()["per"], 100);
        assert_eq!(Said::from_rule("生日快乐"), Said::words("生日快乐"));
        // An unknown code or broken values are words, not a code.
        assert_eq!(Said::from_rule("@reason:nope{}").code, None);
        assert_eq!(Said::from_rule("@reason:earn_rate{x").code, None);
    }

    #[test]
    fn joined_reasons_keep_every_part() {
        let a = Said::from(Reason::point("welcome_bonus", json!({})));
        let b = Said::words("drinks");
        let j = Said::joined(&[a.clone(), b], 500);
        assert_eq!(j.text, "welcome bonus; drinks");
        assert_eq!(j.code, Some("several"));
        assert_eq!(j.params.unwrap()["parts"][1]["text"], "drinks");
        assert_eq!(Said::joined(std::slice::from_ref(&a), 500), a);
        assert_eq!(Said::joined(&[Said::words("x")], 500), Said::words("x"));
        assert_eq!(Said::joined(&[], 500), Said::words(""));
    }
}
