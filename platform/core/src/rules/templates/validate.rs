//! Checking a form: every bad field named by its path.

use super::*;
use crate::{FieldCode, Issue};

pub(super) fn range(value: i64, min: i64, max: i64) -> Result<(), Issue> {
    if value < min || value > max {
        let words = if min == 1 {
            format!("must be greater than 0 and at most {max}")
        } else {
            format!("must be between {min} and {max}")
        };
        Err(Issue::new(FieldCode::OutOfRange, words)
            .with("min", min)
            .with("max", max))
    } else {
        Ok(())
    }
}

pub(super) fn boost_factor(value: i64) -> Result<(), Issue> {
    if (1000..=MAX_FACTOR).contains(&value) {
        Ok(())
    } else {
        Err(Issue::new(
            FieldCode::OutOfRange,
            format!("must be between 1000 (×1) and {MAX_FACTOR} (×100), in thousandths"),
        )
        .with("min", 1000)
        .with("max", MAX_FACTOR))
    }
}

pub(super) fn text(value: &str) -> Result<(), Issue> {
    if value.trim().is_empty() {
        Err(Issue::required())
    } else if value.chars().count() > MAX_TEXT_CHARS {
        Err(Issue::too_long(MAX_TEXT_CHARS))
    } else if value.chars().any(char::is_control) {
        Err(Issue::new(
            FieldCode::ControlCharacters,
            "must not contain line breaks or control characters",
        ))
    } else {
        Ok(())
    }
}

pub(super) fn label(v: &mut Validation, path: &str, value: &Option<String>) {
    if let Some(value) = value {
        v.check(path, text(value));
    }
}

pub(super) fn earning(v: &mut Validation, path: &str, e: &Earning) {
    v.check(
        &format!("{path}.points"),
        range(e.points, 1, MAX_RATE_POINTS),
    );
    v.check(
        &format!("{path}.per_amount"),
        range(e.per_amount, 1, MAX_AMOUNT),
    );
    label(v, &format!("{path}.label"), &e.label);
}

pub(super) fn list_size<T>(v: &mut Validation, path: &str, list: &[T]) {
    if list.len() > MAX_ENTRIES {
        v.check::<()>(
            path,
            Err(Issue::new(
                FieldCode::TooMany,
                format!("must have at most {MAX_ENTRIES} entries"),
            )
            .with("max", MAX_ENTRIES)),
        );
    }
}

impl PurchaseTemplate {
    pub(super) fn check(&self, v: &mut Validation) {
        earning(v, "base", &self.base);
        if let Some(min) = self.minimum_spend {
            v.check("minimum_spend", range(min, 1, MAX_AMOUNT));
        }

        list_size(v, "multipliers", &self.multipliers);
        for (i, m) in self.multipliers.iter().enumerate() {
            let path = format!("multipliers[{i}]");
            v.check(&format!("{path}.value"), text(&m.value));
            v.check(
                &format!("{path}.factor_permille"),
                range(m.factor_permille, 0, MAX_FACTOR),
            );
            label(v, &format!("{path}.label"), &m.label);
            if let Some(first) = self.multipliers[..i]
                .iter()
                .position(|o| o.on == m.on && o.value == m.value)
            {
                v.check::<()>(
                    &format!("{path}.value"),
                    Err(Issue::new(
                        FieldCode::Duplicate,
                        format!("is already matched by multipliers[{first}]"),
                    )
                    .with("first", format!("multipliers[{first}]"))),
                );
            }
        }

        list_size(v, "tier_multipliers", &self.tier_multipliers);
        for (i, t) in self.tier_multipliers.iter().enumerate() {
            let path = format!("tier_multipliers[{i}]");
            v.check(&format!("{path}.tier"), text(&t.tier));
            v.check(
                &format!("{path}.factor_permille"),
                boost_factor(t.factor_permille),
            );
            label(v, &format!("{path}.label"), &t.label);
            if let Some(first) = self.tier_multipliers[..i]
                .iter()
                .position(|o| o.tier == t.tier)
            {
                v.check::<()>(
                    &format!("{path}.tier"),
                    Err(Issue::new(
                        FieldCode::Duplicate,
                        format!("is already in tier_multipliers[{first}]"),
                    )
                    .with("first", format!("tier_multipliers[{first}]"))),
                );
            }
        }
        if self.use_tier_benefit && !self.tier_multipliers.is_empty() {
            v.check::<()>(
                "use_tier_benefit",
                Err(Issue::new(
                    FieldCode::NotAllowed,
                    "use either the tier's benefit or tier_multipliers, not both",
                )
                .with("reason", "tier_benefit_or_multipliers")),
            );
        }
        label(v, "tier_benefit_label", &self.tier_benefit_label);
        if self.tier_benefit_label.is_some() && !self.use_tier_benefit {
            v.check::<()>(
                "tier_benefit_label",
                Err(
                    Issue::new(FieldCode::NotAllowed, "only applies with use_tier_benefit")
                        .with("reason", "needs_tier_benefit"),
                ),
            );
        }

        if let Some(b) = &self.birthday_month {
            v.check(
                "birthday_month.factor_permille",
                boost_factor(b.factor_permille),
            );
            label(v, "birthday_month.label", &b.label);
        }

        list_size(v, "promotions", &self.promotions);
        for (i, p) in self.promotions.iter().enumerate() {
            p.check(v, &format!("promotions[{i}]"));
        }

        if let Some(cap) = self.per_purchase_cap {
            v.check("per_purchase_cap", range(cap, 1, MAX_POINTS));
        }
        if let Some(cap) = self.daily_cap {
            v.check("daily_cap", range(cap, 1, MAX_POINTS));
        }
        list_size(v, "spend_bonuses", &self.spend_bonuses);
        for (i, b) in self.spend_bonuses.iter().enumerate() {
            v.check(
                &format!("spend_bonuses[{i}].min_amount"),
                range(b.min_amount, 1, MAX_AMOUNT),
            );
            v.check(
                &format!("spend_bonuses[{i}].points"),
                range(b.points, 1, MAX_POINTS),
            );
            label(v, &format!("spend_bonuses[{i}].label"), &b.label);
        }
        if let Some(b) = &self.first_purchase_bonus {
            v.check(
                "first_purchase_bonus.points",
                range(b.points, 1, MAX_POINTS),
            );
            label(v, "first_purchase_bonus.label", &b.label);
        }
    }
}

impl Promotion {
    pub(super) fn check(&self, v: &mut Validation, path: &str) {
        v.check(&format!("{path}.name"), text(&self.name));
        if self.to < self.from {
            v.check::<()>(
                &format!("{path}.to"),
                Err(
                    Issue::new(FieldCode::BeforeStart, "must not be before from")
                        .with("field", "from"),
                ),
            );
        }
        if self.weekdays.len() > 7 {
            v.check::<()>(
                &format!("{path}.weekdays"),
                Err(Issue::new(FieldCode::TooMany, "must have at most 7 days").with("max", 7)),
            );
        }
        for (j, day) in self.weekdays.iter().enumerate() {
            let day_path = format!("{path}.weekdays[{j}]");
            if !(1..=7).contains(day) {
                v.check::<()>(
                    &day_path,
                    Err(Issue::new(
                        FieldCode::OutOfRange,
                        "must be between 1 (Monday) and 7 (Sunday)",
                    )
                    .with("min", 1)
                    .with("max", 7)),
                );
            } else if self.weekdays[..j].contains(day) {
                v.check::<()>(
                    &day_path,
                    Err(Issue::new(FieldCode::Duplicate, "is listed twice")),
                );
            }
        }
        if let Some(hours) = self.hours {
            v.check(&format!("{path}.hours.from"), range(hours.from, 0, 23));
            if !(1..=24).contains(&hours.to) {
                v.check::<()>(
                    &format!("{path}.hours.to"),
                    Err(
                        Issue::new(FieldCode::OutOfRange, "must be between 1 and 24")
                            .with("min", 1)
                            .with("max", 24),
                    ),
                );
            } else if hours.to <= hours.from {
                v.check::<()>(
                    &format!("{path}.hours.to"),
                    Err(Issue::new(
                        FieldCode::BeforeStart,
                        "must be after from (hours across midnight need two promotions)",
                    )
                    .with("field", "from")),
                );
            }
        }
        match (self.factor_permille, self.bonus_points) {
            (None, None) => {
                v.check::<()>(
                    &format!("{path}.factor_permille"),
                    Err(Issue::new(
                        FieldCode::Missing,
                        "give factor_permille, bonus_points or both",
                    )
                    .with("options", "factor_permille, bonus_points")),
                );
            }
            (factor, bonus) => {
                if let Some(f) = factor {
                    v.check(&format!("{path}.factor_permille"), boost_factor(f));
                }
                if let Some(b) = bonus {
                    v.check(&format!("{path}.bonus_points"), range(b, 1, MAX_POINTS));
                }
            }
        }
    }
}

impl CustomEventTemplate {
    pub(super) fn check(&self, v: &mut Validation) {
        v.check("event", event_name(&self.event));
        v.check("points", range(self.points, 0, MAX_POINTS));
        label(v, "label", &self.label);
        match &self.per_amount {
            Some(e) => earning(v, "per_amount", e),
            None if self.points == 0 && self.coupon_template_id.is_none() => {
                v.check::<()>(
                    "points",
                    Err(Issue::new(
                        FieldCode::TooSmall,
                        "must be greater than 0 when there is no per_amount or coupon",
                    )
                    .with("min", 1)),
                );
            }
            None => {}
        }
    }
}

pub(super) fn event_name(name: &str) -> Result<(), Issue> {
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if name.is_empty() || name.len() > 40 {
        Err(
            Issue::new(FieldCode::LengthBetween, "must be 1 to 40 characters")
                .with("min", 1)
                .with("max", 40),
        )
    } else if !well_formed {
        Err(Issue::invalid_format(
            "code",
            "must start with a lower-case letter and hold only a-z, 0-9 and _",
        ))
    } else if BUILT_IN_EVENTS.contains(&name) {
        Err(
            Issue::new(FieldCode::Reserved, format!("{name} has its own template"))
                .with("value", name),
        )
    } else {
        Ok(())
    }
}
