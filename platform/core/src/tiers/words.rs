//! A tier move as people read it, in their language: the kind of move, the metric, and
//! the reasons the system wrote (stored as a code and its values, see [`crate::reasons`]).
//! The console says the same words from its own locale files; exports say them here.

use super::{Metric, Names};
use crate::lang::Lang;
use serde_json::Value;
use std::collections::HashMap;

/// The kind of a move (`promotion`, `pin`...); an unknown kind as written.
pub fn kind(code: &str, lang: Lang) -> String {
    let (zh, en) = match code {
        "promotion" => ("升级", "Promotion"),
        "demotion" => ("降级", "Demotion"),
        "pin" => ("锁定", "Pinned"),
        "unpin" => ("解除锁定", "Unpinned"),
        "pin_lapsed" => ("锁定到期", "Pin lapsed"),
        "ladder" => ("新体系", "New ladder"),
        other => return other.to_owned(),
    };
    lang.pick(zh, en).to_owned()
}

/// A metric's name; an unknown metric as written.
pub fn metric(code: &str, lang: Lang) -> String {
    let (zh, en) = match code {
        "points_earned" => ("累计获得积分", "Points earned"),
        "spend" => ("消费金额", "Spend"),
        "visits" => ("到店次数", "Visits"),
        other => return other.to_owned(),
    };
    lang.pick(zh, en).to_owned()
}

/// A metric's value as people read it: spend (kept in the currency's smallest unit) with
/// two decimals, the others as counts.
pub fn metric_value(metric: &str, value: i64) -> String {
    if metric == Metric::Spend.as_str() {
        let sign = if value < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", value.abs() / 100, value.abs() % 100)
    } else {
        value.to_string()
    }
}

/// A tier by its current name in `lang`; a code the ladder no longer has as written.
pub fn tier(code: &str, names: &HashMap<String, Names>, lang: Lang) -> String {
    names
        .get(code)
        .map(|n| lang.name(n).to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| code.to_owned())
}

/// A tier move's reason in `lang`: for a reason the system wrote (`code` and `params`),
/// its words; else `written` (words a person wrote), as written.
pub fn reason(
    written: &str,
    code: Option<&str>,
    params: Option<&Value>,
    names: &HashMap<String, Names>,
    lang: Lang,
) -> String {
    let (Some(code), Some(p)) = (code, params) else {
        return written.to_owned();
    };
    let s = |k: &str| match &p[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let m = s("metric");
    let value = |k: &str| metric_value(&m, p[k].as_i64().unwrap_or(0));
    match code {
        "threshold_reached" => match lang {
            Lang::ZhCn => format!(
                "{} {}，达到门槛 {}",
                metric(&m, lang),
                value("value"),
                value("threshold")
            ),
            Lang::En => format!(
                "{} {} reached the threshold {}",
                metric(&m, lang),
                value("value"),
                value("threshold")
            ),
        },
        "below_threshold" => match lang {
            Lang::ZhCn => format!(
                "{} {}，低于门槛 {}",
                metric(&m, lang),
                value("value"),
                value("threshold")
            ),
            Lang::En => format!(
                "{} {} is below the threshold {}",
                metric(&m, lang),
                value("value"),
                value("threshold")
            ),
        },
        "script_chose" => {
            let t = tier(&s("tier"), names, lang);
            match lang {
                Lang::ZhCn => format!(
                    "等级脚本评为 {t}（{} {}）",
                    metric(&m, lang),
                    value("value")
                ),
                Lang::En => format!(
                    "The ladder's script chose {t} ({} {})",
                    metric(&m, lang),
                    value("value")
                ),
            }
        }
        "ladder_published" => match lang {
            Lang::ZhCn => format!("等级体系 v{} 发布后重新评定", s("version")),
            Lang::En => format!("Re-evaluated when ladder v{} was published", s("version")),
        },
        "membership_tier" => match lang {
            Lang::ZhCn => format!("会员资格「{}」保持此等级", s("plan")),
            Lang::En => format!("Held by the membership {}", s("plan")),
        },
        "membership_cancelled" => match lang {
            Lang::ZhCn => format!("会员资格「{}」已取消", s("plan")),
            Lang::En => format!("The membership {} was cancelled", s("plan")),
        },
        _ => written.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reasons::Reason;

    fn names() -> HashMap<String, Names> {
        HashMap::from([(
            "gold".to_owned(),
            Names {
                zh_cn: "金卡".into(),
                en: "Gold".into(),
            },
        )])
    }

    fn said(r: &Reason, lang: Lang) -> String {
        reason(&r.english, Some(r.code), Some(&r.params), &names(), lang)
    }

    #[test]
    fn system_reasons_are_said_in_the_readers_language_with_names_and_amounts() {
        let up = Reason::threshold("spend", 150_050, 100_000, true);
        assert_eq!(said(&up, Lang::ZhCn), "消费金额 1500.50，达到门槛 1000.00");
        assert_eq!(
            said(&up, Lang::En),
            "Spend 1500.50 reached the threshold 1000.00"
        );
        let down = Reason::threshold("points_earned", 20, 500, false);
        assert_eq!(said(&down, Lang::ZhCn), "累计获得积分 20，低于门槛 500");
        let script = Reason::script_chose("visits", 12, "gold");
        assert_eq!(
            said(&script, Lang::ZhCn),
            "等级脚本评为 金卡（到店次数 12）"
        );
        assert_eq!(
            said(&script, Lang::En),
            "The ladder's script chose Gold (Visits 12)"
        );
        assert_eq!(
            said(&Reason::ladder_published(3), Lang::ZhCn),
            "等级体系 v3 发布后重新评定"
        );
        assert_eq!(
            said(&Reason::membership_tier("年卡"), Lang::En),
            "Held by the membership 年卡"
        );
    }

    #[test]
    fn words_a_person_wrote_and_unknown_codes_stay_as_written() {
        assert_eq!(
            reason("VIP 客户", None, None, &names(), Lang::En),
            "VIP 客户"
        );
        let p = serde_json::json!({});
        assert_eq!(
            reason(
                "as written",
                Some("no_such_code"),
                Some(&p),
                &names(),
                Lang::ZhCn
            ),
            "as written"
        );
    }

    #[test]
    fn kinds_metrics_and_tiers_have_names_and_unknown_ones_stay_as_codes() {
        assert_eq!(kind("promotion", Lang::ZhCn), "升级");
        assert_eq!(kind("pin_lapsed", Lang::En), "Pin lapsed");
        assert_eq!(kind("future_kind", Lang::ZhCn), "future_kind");
        assert_eq!(metric("spend", Lang::ZhCn), "消费金额");
        assert_eq!(metric_value("spend", -5), "-0.05");
        assert_eq!(metric_value("visits", 7), "7");
        assert_eq!(tier("gold", &names(), Lang::ZhCn), "金卡");
        assert_eq!(tier("gone", &names(), Lang::ZhCn), "gone");
    }
}
