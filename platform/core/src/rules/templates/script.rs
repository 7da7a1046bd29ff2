//! Writing a form's Rhai script: readable, commented, every form text a safe literal.

use super::*;
use crate::lang::Lang;
use std::fmt::Write as _;

/// `value` as a Rhai string literal that reads back exactly as `value`: quotes, backslashes
/// and every control or line-separating character are escaped, so form text can never end
/// the literal (or a comment it appears in).
pub fn rhai_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `1500` as `1.5`, `2000` as `2`.
pub(super) fn factor_text(permille: i64) -> String {
    let (whole, frac) = (permille / 1000, (permille % 1000).abs());
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// `12345` (smallest unit) as `123.45`.
pub(super) fn money_text(amount: i64) -> String {
    format!("{}.{:02}", amount / 100, (amount % 100).abs())
}

pub(super) fn points_text(points: i64, l: Lang) -> String {
    match l {
        Lang::ZhCn => format!("{points} 积分"),
        Lang::En if points == 1 => "1 point".into(),
        Lang::En => format!("{points} points"),
    }
}

pub(super) fn rate_text(e: &Earning, l: Lang) -> String {
    match l {
        Lang::ZhCn => format!(
            "每消费 {} 得 {}",
            money_text(e.per_amount),
            points_text(e.points, l)
        ),
        Lang::En => format!(
            "{} per {} spent",
            points_text(e.points, l),
            money_text(e.per_amount)
        ),
    }
}

/// The rate's comment: the rate, its amount in the smallest unit and its rounding.
pub(super) fn rate_comment(e: &Earning, l: Lang) -> String {
    match l {
        Lang::ZhCn => format!(
            "{}（最小货币单位 {}），{}",
            rate_text(e, l),
            e.per_amount,
            rounding_text(e.rounding, l)
        ),
        Lang::En => format!(
            "{} ({} in the smallest unit), {}",
            rate_text(e, l),
            e.per_amount,
            rounding_text(e.rounding, l)
        ),
    }
}

pub(super) fn rounding_text(r: Rounding, l: Lang) -> &'static str {
    match r {
        Rounding::Floor => l.pick("向下取整", "rounded down"),
        Rounding::Round => l.pick("四舍五入", "rounded to nearest"),
        Rounding::Ceil => l.pick("向上取整", "rounded up"),
    }
}

pub(super) fn weekday_text(day: i64, l: Lang) -> &'static str {
    match day {
        1 => l.pick("周一", "Monday"),
        2 => l.pick("周二", "Tuesday"),
        3 => l.pick("周三", "Wednesday"),
        4 => l.pick("周四", "Thursday"),
        5 => l.pick("周五", "Friday"),
        6 => l.pick("周六", "Saturday"),
        7 => l.pick("周日", "Sunday"),
        _ => "?",
    }
}

/// `numerator / denominator` with the rounding, as Rhai.
pub(super) fn divide(numerator: &str, denominator: &str, rounding: Rounding) -> String {
    match rounding {
        Rounding::Floor => format!("floor_div({numerator}, {denominator})"),
        Rounding::Round => format!("round_div({numerator}, {denominator})"),
        Rounding::Ceil => {
            format!("floor_div({numerator} + {denominator} - 1, {denominator})")
        }
    }
}

/// The reason: the form's label, else the default text.
pub(super) fn reason(label: &Option<String>, default: impl FnOnce() -> String) -> String {
    rhai_string(label.as_deref().unwrap_or(&default()))
}

/// A default reason as a code and its values ([`crate::reasons::Reason::token`]), so that
/// each reader sees it in their own language.
pub(super) fn coded(code: &str, params: serde_json::Value) -> String {
    crate::reasons::Reason::token(code, &params)
}

/// The base rate's default reason, coded.
pub(super) fn rate_reason(e: &Earning) -> String {
    coded(
        "earn_rate",
        serde_json::json!({ "points": e.points, "per": e.per_amount }),
    )
}

/// The first comment line; `what` is the rule's kind as `(zh-CN, en)`.
pub(super) fn header(out: &mut String, what: (&str, &str), l: Lang) {
    let _ = match l {
        Lang::ZhCn => writeln!(out, "// {}规则，由模板生成，可以修改。", what.0),
        Lang::En => writeln!(
            out,
            "// {} rule, made from a template. You may edit it.",
            what.1
        ),
    };
}

pub(super) fn fixed_script(
    kind: &str,
    what: (&str, &str),
    t: &FixedTemplate,
    default: &str,
    l: Lang,
) -> String {
    let mut out = String::new();
    header(&mut out, what, l);
    let _ = writeln!(out);
    let _ = writeln!(out, "if event.kind == {} {{", rhai_string(kind));
    let _ = writeln!(
        out,
        "    award({}, {});",
        t.points,
        reason(&t.label, || coded(default, serde_json::json!({})))
    );
    let _ = writeln!(out, "}}");
    out
}

impl CustomEventTemplate {
    pub(super) fn script(&self, l: Lang) -> String {
        let mut out = String::new();
        header(&mut out, ("自定义事件", "Custom event"), l);
        let _ = writeln!(out);
        let _ = writeln!(out, "if event.kind == {} {{", rhai_string(&self.event));
        if self.points > 0 {
            let _ = writeln!(
                out,
                "    award({}, {});",
                self.points,
                reason(&self.label, || self.event.clone())
            );
        }
        if let Some(e) = &self.per_amount {
            let _ = writeln!(out, "    // {}{}", rate_comment(e, l), l.pick("。", "."));
            let _ = writeln!(
                out,
                "    let points = {};",
                divide(
                    &format!("event.amount * {}", e.points),
                    &e.per_amount.to_string(),
                    e.rounding
                )
            );
            let _ = writeln!(out, "    if points > 0 {{");
            let _ = writeln!(
                out,
                "        award(points, {});",
                reason(&e.label, || rate_reason(e))
            );
            let _ = writeln!(out, "    }}");
        }
        if let Some(id) = self.coupon_template_id {
            coupon(&mut out, id, "    ", l);
        }
        let _ = writeln!(out, "}}");
        out
    }
}

/// One coupon of the template for the event (given within the template's limits).
pub(super) fn coupon(o: &mut String, template: uuid::Uuid, indent: &str, l: Lang) {
    let _ = writeln!(
        o,
        "{indent}{}",
        l.pick(
            "// 赠送一张优惠券（在券模板的数量和限领范围内）。",
            "// One coupon of this template (within the template's limits)."
        )
    );
    let _ = writeln!(
        o,
        "{indent}give_coupon({});",
        rhai_string(&template.to_string())
    );
}

impl PurchaseTemplate {
    pub(super) fn script(&self, l: Lang) -> String {
        let mut out = String::new();
        let o = &mut out;
        header(o, ("消费", "Purchase"), l);
        let _ = writeln!(
            o,
            "{}",
            l.pick(
                "//\n\
                 // 有倍数的商品行和其余金额先得积分；再乘以等级、生日月和促销的倍数；上限限制总数；\n\
                 // 首单奖励最后发放。奖励先记为 [行, 积分, 原因]（行为 -1 表示整单），最后一起发放。\n",
                "//\n\
                 // Lines with a multiplier and the rest of the purchase earn points first; the tier,\n\
                 // birthday-month and promotion factors then multiply them; the caps limit the total;\n\
                 // a first-purchase bonus comes last. Awards are collected as [line, points, reason]\n\
                 // (line -1 for the whole purchase) and given at the end.\n"
            )
        );
        let _ = writeln!(o, "if event.kind != \"purchase\" {{\n    return;\n}}\n");

        let base = &self.base;
        let _ = writeln!(
            o,
            "{}{}{}",
            l.pick("// 基础比例：", "// Base rate: "),
            rate_comment(base, l),
            l.pick("。", ".")
        );
        let _ = writeln!(o, "const POINTS = {};", base.points);
        let _ = writeln!(o, "const PER_AMOUNT = {};\n", base.per_amount);

        if let Some(min) = self.minimum_spend {
            let _ = match l {
                Lang::ZhCn => writeln!(o, "// 最低消费：低于 {} 的消费不得积分。", money_text(min)),
                Lang::En => writeln!(
                    o,
                    "// Minimum spend: a purchase under {} earns nothing.",
                    money_text(min)
                ),
            };
            let _ = writeln!(o, "if event.amount < {min} {{\n    return;\n}}\n");
        }

        let _ = writeln!(o, "let awards = [];");
        let _ = writeln!(o, "let earned = 0;\n");

        let base_reason = reason(&base.label, || rate_reason(base));
        if self.multipliers.is_empty() {
            let _ = writeln!(
                o,
                "{}",
                l.pick(
                    "// 整单按基础比例得积分。",
                    "// The purchase earns the base rate."
                )
            );
            let _ = writeln!(
                o,
                "let points = {};",
                divide("event.amount * POINTS", "PER_AMOUNT", base.rounding)
            );
        } else {
            self.line_multipliers(o, l);
            let _ = writeln!(
                o,
                "{}",
                l.pick(
                    "// 其余金额（不小于零）按基础比例得积分。",
                    "// The rest of the purchase (never below zero) earns the base rate."
                )
            );
            let _ = writeln!(
                o,
                "let points = {};",
                divide("max(rest, 0) * POINTS", "PER_AMOUNT", base.rounding)
            );
        }
        let _ = writeln!(o, "awards.push([-1, points, {base_reason}]);");
        let _ = writeln!(o, "earned += points;\n");

        self.tiers(o, l);
        if let Some(b) = &self.birthday_month {
            let _ = writeln!(
                o,
                "{}×{}{}",
                l.pick("// 生日月：", "// Birthday month: "),
                factor_text(b.factor_permille),
                l.pick("。", ".")
            );
            let _ = writeln!(o, "if is_birthday_month(member, event) {{");
            let r = reason(&b.label, || {
                coded(
                    "birthday_month_factor",
                    serde_json::json!({ "factor": factor_text(b.factor_permille) }),
                )
            });
            boost(o, &b.factor_permille.to_string(), &r, "    ");
            let _ = writeln!(o, "}}\n");
        }
        self.promotions(o, l);
        self.caps_and_awards(o, l);
        self.spend_bonuses(o, l);

        if let Some(b) = &self.first_purchase_bonus {
            let _ = writeln!(
                o,
                "{}",
                l.pick(
                    "// 首单：新客奖励，不受上限限制。",
                    "// First purchase: a welcome bonus, not limited by caps."
                )
            );
            let _ = writeln!(o, "if member.totals.visits == 0 {{");
            let _ = writeln!(
                o,
                "    award({}, {});",
                b.points,
                reason(&b.label, || coded("welcome_bonus", serde_json::json!({})))
            );
            let _ = writeln!(o, "}}\n");
        }
        if let Some(id) = self.coupon_template_id {
            coupon(o, id, "", l);
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    /// Spend bonuses, the highest threshold first: only the highest reached gives points.
    pub(super) fn spend_bonuses(&self, o: &mut String, l: Lang) {
        if self.spend_bonuses.is_empty() {
            return;
        }
        let mut bonuses: Vec<&SpendBonus> = self.spend_bonuses.iter().collect();
        bonuses.sort_by_key(|b| std::cmp::Reverse(b.min_amount));
        let _ = writeln!(
            o,
            "{}",
            l.pick(
                "// 满额奖励：达到的最高门槛给出它的积分，不受上限限制。",
                "// Spend bonuses: the highest threshold reached gives its points, not limited by caps."
            )
        );
        for (i, b) in bonuses.iter().enumerate() {
            let keyword = if i == 0 { "if" } else { " else if" };
            let r = reason(&b.label, || {
                coded(
                    "spend_bonus",
                    serde_json::json!({ "min": b.min_amount, "points": b.points }),
                )
            });
            let _ = write!(
                o,
                "{keyword} event.amount >= {} {{\n    award({}, {r});\n}}",
                b.min_amount, b.points
            );
        }
        let _ = writeln!(o, "\n");
    }

    pub(super) fn line_multipliers(&self, o: &mut String, l: Lang) {
        let _ = writeln!(
            o,
            "{}",
            l.pick(
                "// 商品行倍数：第一条匹配的生效；该行按金额（数量 × 单价）以基础比例得积分，\n\
                 // 再乘以倍数（以千分之一计）。",
                "// Line multipliers: the first that matches a line applies; that line earns the base\n\
                 // rate on its price (quantity × unit price) times the factor (in thousandths)."
            )
        );
        let _ = writeln!(o, "let rest = event.amount;");
        let _ = writeln!(o, "for (line, i) in event.items {{");
        let _ = writeln!(o, "    let factor = -1;");
        let _ = writeln!(o, "    let reason = \"\";");
        for (i, m) in self.multipliers.iter().enumerate() {
            let field = match m.on {
                LineMatch::Category => "category",
                LineMatch::Sku => "sku",
            };
            let keyword = if i == 0 { "    if" } else { " else if" };
            let r = reason(&m.label, || {
                coded(
                    "line_factor",
                    serde_json::json!({ "value": m.value, "factor": factor_text(m.factor_permille) }),
                )
            });
            let _ = write!(
                o,
                "{keyword} line.{field} == {} {{\n        factor = {};\n        reason = {r};\n    }}",
                rhai_string(&m.value),
                m.factor_permille,
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "    if factor >= 0 {{");
        let _ = writeln!(o, "        let price = line.quantity * line.unit_price;");
        let _ = writeln!(o, "        rest -= price;");
        let _ = writeln!(
            o,
            "        let points = {};",
            divide(
                "price * POINTS * factor",
                "PER_AMOUNT * 1000",
                self.base.rounding
            )
        );
        let _ = writeln!(o, "        awards.push([i, points, reason]);");
        let _ = writeln!(o, "        earned += points;");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}\n");
    }

    pub(super) fn tiers(&self, o: &mut String, l: Lang) {
        if self.use_tier_benefit {
            let _ = writeln!(
                o,
                "{}",
                l.pick(
                    "// 等级：按等级自己的倍数（以千分之一计）；×1 及以下不加积分。",
                    "// Tier: the tier's own multiplier (in thousandths); ×1 or below adds nothing."
                )
            );
            let _ = writeln!(o, "if member.benefits.multiplier > 1000 {{");
            let r = match &self.tier_benefit_label {
                Some(l) => rhai_string(l),
                // The tier is the member's at run time: its code goes into the values there.
                None => format!(
                    "{} + member.tier + {}",
                    rhai_string(&format!(
                        "{}tier_bonus{{\"tier\":\"",
                        crate::reasons::TOKEN_MARK
                    )),
                    rhai_string("\"}")
                ),
            };
            boost(o, "member.benefits.multiplier", &r, "    ");
            let _ = writeln!(o, "}}\n");
            return;
        }
        if self.tier_multipliers.is_empty() {
            return;
        }
        let list: Vec<String> = self
            .tier_multipliers
            .iter()
            .map(|t| {
                format!(
                    "{} ×{}",
                    rhai_string(&t.tier),
                    factor_text(t.factor_permille)
                )
            })
            .collect();
        let _ = match l {
            Lang::ZhCn => writeln!(o, "// 等级倍数：{}。", list.join("，")),
            Lang::En => writeln!(o, "// Tier multipliers: {}.", list.join(", ")),
        };
        for (i, t) in self.tier_multipliers.iter().enumerate() {
            let keyword = if i == 0 { "if" } else { " else if" };
            let _ = writeln!(o, "{keyword} member.tier == {} {{", rhai_string(&t.tier));
            let r = reason(&t.label, || {
                coded(
                    "tier_factor",
                    serde_json::json!({ "tier": t.tier, "factor": factor_text(t.factor_permille) }),
                )
            });
            boost(o, &t.factor_permille.to_string(), &r, "    ");
            let _ = write!(o, "}}");
        }
        let _ = writeln!(o, "\n");
    }

    pub(super) fn promotions(&self, o: &mut String, l: Lang) {
        if self.promotions.is_empty() {
            return;
        }
        let _ = writeln!(
            o,
            "{}",
            l.pick(
                "// 促销，按商户的时区。日期写成数字：20260314。",
                "// Promotions, in the business's time zone. The date as a number: 20260314."
            )
        );
        let _ = writeln!(
            o,
            "let today = event.time.year * 10000 + event.time.month * 100 + event.time.day;\n"
        );
        for p in &self.promotions {
            let mut when = match l {
                Lang::ZhCn => format!("{} 至 {}", p.from, p.to),
                Lang::En => format!("from {} to {}", p.from, p.to),
            };
            let mut conditions = vec![format!(
                "today >= {} && today <= {}",
                p.from.format("%Y%m%d"),
                p.to.format("%Y%m%d")
            )];
            if !p.weekdays.is_empty() {
                let names: Vec<&str> = p.weekdays.iter().map(|d| weekday_text(*d, l)).collect();
                let _ = match l {
                    Lang::ZhCn => write!(when, "，{}", names.join("、")),
                    Lang::En => write!(when, ", on {}", names.join(", ")),
                };
                let days: Vec<String> = p
                    .weekdays
                    .iter()
                    .map(|d| format!("event.time.weekday == {d}"))
                    .collect();
                conditions.push(if days.len() == 1 {
                    days.join("")
                } else {
                    format!("({})", days.join(" || "))
                });
            }
            if let Some(h) = p.hours {
                let _ = match l {
                    Lang::ZhCn => write!(when, "，{:02}:00 至 {:02}:00", h.from, h.to),
                    Lang::En => write!(when, ", {:02}:00 to {:02}:00", h.from, h.to),
                };
                conditions.push(format!(
                    "event.time.hour >= {} && event.time.hour < {}",
                    h.from, h.to
                ));
            }
            let mut what = Vec::new();
            if let Some(f) = p.factor_permille {
                what.push(format!("×{}", factor_text(f)));
            }
            if let Some(b) = p.bonus_points {
                what.push(match l {
                    Lang::ZhCn => format!("另加 {}", points_text(b, l)),
                    Lang::En => format!("{} extra", points_text(b, l)),
                });
            }
            let _ = match l {
                Lang::ZhCn => writeln!(
                    o,
                    "// 促销 {}：{}，{}。",
                    rhai_string(&p.name),
                    what.join("并"),
                    when
                ),
                Lang::En => writeln!(
                    o,
                    "// Promotion {}: {}, {}.",
                    rhai_string(&p.name),
                    what.join(" and "),
                    when
                ),
            };
            let _ = writeln!(o, "if {} {{", conditions.join("\n    && "));
            let r = rhai_string(&p.name);
            match (p.factor_permille, p.bonus_points) {
                (Some(f), bonus) => {
                    let _ = writeln!(o, "    let extra = floor_div(earned * {f}, 1000) - earned;");
                    let _ = writeln!(o, "    earned += extra;");
                    match bonus {
                        Some(b) => {
                            let _ = writeln!(o, "    awards.push([-1, extra + {b}, {r}]);");
                        }
                        None => {
                            let _ = writeln!(o, "    awards.push([-1, extra, {r}]);");
                        }
                    }
                }
                (None, Some(b)) => {
                    let _ = writeln!(o, "    awards.push([-1, {b}, {r}]);");
                }
                (None, None) => {}
            }
            let _ = writeln!(o, "}}\n");
        }
    }

    pub(super) fn caps_and_awards(&self, o: &mut String, l: Lang) {
        let daily = |cap: i64| format!("max({cap} - member.totals.points_today, 0)");
        let room = match (self.per_purchase_cap, self.daily_cap) {
            (Some(per), Some(day)) => Some(format!("min({per}, {})", daily(day))),
            (Some(per), None) => Some(per.to_string()),
            (None, Some(day)) => Some(daily(day)),
            (None, None) => None,
        };
        let capped = room.is_some();
        if let Some(room) = room {
            let _ = writeln!(
                o,
                "{}",
                l.pick(
                    "// 上限：还可以发放的积分；超出的奖励被削减，从最后一项开始。",
                    "// Caps: the points still allowed; awards beyond them are cut, last ones first."
                )
            );
            if let Some(cap) = self.per_purchase_cap {
                let _ = match l {
                    Lang::ZhCn => writeln!(o, "// 每笔消费最多 {cap}。"),
                    Lang::En => writeln!(o, "// At most {cap} per purchase."),
                };
            }
            if let Some(cap) = self.daily_cap {
                let _ = match l {
                    Lang::ZhCn => writeln!(o, "// 每天最多 {cap}，包括会员今天在这笔消费之前已得的积分。"),
                    Lang::En => writeln!(
                        o,
                        "// At most {cap} a day, counting what the member earned today before this purchase."
                    ),
                };
            }
            let _ = writeln!(o, "let room = {room};\n");
        }
        let _ = writeln!(o, "{}", l.pick("// 发放奖励。", "// Give the awards."));
        let _ = writeln!(o, "for a in awards {{");
        if capped {
            let _ = writeln!(o, "    let points = min(a[1], room);");
            let _ = writeln!(o, "    room -= points;");
        } else {
            let _ = writeln!(o, "    let points = a[1];");
        }
        let _ = writeln!(o, "    if points > 0 && a[0] < 0 {{");
        let _ = writeln!(o, "        award(points, a[2]);");
        let _ = writeln!(o, "    }} else if points > 0 {{");
        let _ = writeln!(o, "        award_line(a[0], points, a[2]);");
        let _ = writeln!(o, "    }}");
        let _ = writeln!(o, "}}\n");
    }
}

/// Multiplies `earned` by `factor` thousandths and collects the extra as an award.
pub(super) fn boost(o: &mut String, factor: &str, reason: &str, indent: &str) {
    let _ = writeln!(
        o,
        "{indent}let extra = floor_div(earned * {factor}, 1000) - earned;"
    );
    let _ = writeln!(o, "{indent}awards.push([-1, extra, {reason}]);");
    let _ = writeln!(o, "{indent}earned += extra;");
}
