//! The forms for a console: each kind's title, description, JSON Schema and example.

use super::*;

/// The forms for a console: a JSON array with, for each kind, its `kind`, `title`,
/// `description`, a JSON Schema (draft 07) of the form and an `example` form to start from.
pub fn catalog() -> Value {
    let text = |description: &str| {
        json!({"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS,
               "description": description})
    };
    let label = |default: &str| text(&format!("Reason shown to members; default {default}."));
    let points = |description: &str| json!({"type": "integer", "minimum": 1, "maximum": MAX_POINTS, "description": description});
    let boost = |description: &str| {
        json!({"type": "integer", "minimum": 1000, "maximum": MAX_FACTOR,
               "description": format!("{description} In thousandths: 1500 = ×1.5.")})
    };
    let earning = |description: &str| {
        json!({
            "type": "object",
            "description": description,
            "additionalProperties": false,
            "required": ["points", "per_amount"],
            "properties": {
                "points": {"type": "integer", "minimum": 1, "maximum": MAX_RATE_POINTS,
                           "description": "Points for every per_amount spent."},
                "per_amount": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT,
                               "description": "Amount in the smallest unit: 100 = per yuan."},
                "rounding": {"type": "string", "enum": ["floor", "round", "ceil"],
                             "default": "floor",
                             "description": "floor: down; round: to nearest, halves up; ceil: up."},
                "label": label("like \"1 point per 1.00 spent\""),
            }
        })
    };
    let form = |kind: &str, required: &[&str], properties: Value| {
        let mut properties = properties;
        properties["kind"] = json!({"const": kind});
        let mut required: Vec<&str> = required.to_vec();
        required.insert(0, "kind");
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "required": required,
            "properties": properties,
        })
    };
    let fixed = |default: &str| {
        form(
            "",
            &["points"],
            json!({"points": points("Points for each event."), "label": label(default)}),
        )
    };
    let coupon = json!({"type": "string", "format": "uuid",
        "description": "A coupon of this template for each event the rule applies to, \
                        within the template's limits."});
    let with_kind = |mut schema: Value, kind: &str| {
        schema["properties"]["kind"] = json!({"const": kind});
        schema
    };

    let purchase = form(
        "purchase",
        &["base"],
        json!({
            "base": earning("Points for the amount paid."),
            "minimum_spend": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT,
                              "description": "Purchases paying less (smallest unit) earn nothing."},
            "multipliers": {
                "type": "array", "maxItems": MAX_ENTRIES,
                "description": "Lines of a category or SKU earn a multiple of the base rate; the first match applies.",
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["match", "value", "factor_permille"],
                    "properties": {
                        "match": {"type": "string", "enum": ["category", "sku"]},
                        "value": text("The category or SKU, as the purchase lines carry it."),
                        "factor_permille": {"type": "integer", "minimum": 0, "maximum": MAX_FACTOR,
                                            "description": "In thousandths: 2000 = ×2, 0 = these lines earn nothing."},
                        "label": label("like \"drinks ×2\""),
                    }
                }
            },
            "tier_multipliers": {
                "type": "array", "maxItems": MAX_ENTRIES,
                "description": "A factor by tier; the first match applies.",
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["tier", "factor_permille"],
                    "properties": {
                        "tier": text("Tier name, e.g. gold."),
                        "factor_permille": boost("Factor for members of the tier."),
                        "label": label("like \"gold tier ×1.5\""),
                    }
                }
            },
            "use_tier_benefit": {"type": "boolean", "default": false,
                                 "description": "Use the tier's own multiplier instead of tier_multipliers."},
            "tier_benefit_label": label("\"<tier> tier bonus\""),
            "birthday_month": {
                "type": "object", "additionalProperties": false,
                "required": ["factor_permille"],
                "properties": {
                    "factor_permille": boost("Factor in the member's birthday month."),
                    "label": label("like \"birthday month ×2\""),
                }
            },
            "promotions": {
                "type": "array", "maxItems": MAX_ENTRIES,
                "description": "Factors or bonus points in a date window, optionally on some weekdays and hours.",
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["name", "from", "to"],
                    "anyOf": [{"required": ["factor_permille"]}, {"required": ["bonus_points"]}],
                    "properties": {
                        "name": text("Shown to members as the reason."),
                        "from": {"type": "string", "format": "date", "description": "First day, included."},
                        "to": {"type": "string", "format": "date", "description": "Last day, included."},
                        "weekdays": {"type": "array", "maxItems": 7, "uniqueItems": true,
                                     "items": {"type": "integer", "minimum": 1, "maximum": 7},
                                     "description": "1 = Monday … 7 = Sunday; none means every day."},
                        "hours": {
                            "type": "object", "additionalProperties": false,
                            "required": ["from", "to"],
                            "description": "From the hour `from` until before the hour `to`.",
                            "properties": {
                                "from": {"type": "integer", "minimum": 0, "maximum": 23},
                                "to": {"type": "integer", "minimum": 1, "maximum": 24},
                            }
                        },
                        "factor_permille": boost("Multiplies what was earned so far."),
                        "bonus_points": points("Extra points for each purchase in the promotion."),
                    }
                }
            },
            "per_purchase_cap": points("Most points one purchase may earn."),
            "daily_cap": points("Most points a member may earn a day, counting what they earned today already."),
            "spend_bonuses": {
                "type": "array", "maxItems": MAX_ENTRIES,
                "description": "Spend at least min_amount, get points: the highest threshold reached applies; not capped.",
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["min_amount", "points"],
                    "properties": {
                        "min_amount": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT,
                                       "description": "In the smallest unit of the currency."},
                        "points": points("Extra points for a purchase of at least min_amount."),
                        "label": label("like \"spend 100.00, get 50 points\""),
                    }
                }
            },
            "first_purchase_bonus": {
                "type": "object", "additionalProperties": false,
                "required": ["points"],
                "properties": {
                    "points": points("Extra points on the member's first purchase; not capped."),
                    "label": label("\"welcome bonus\""),
                }
            },
            "coupon_template_id": coupon.clone(),
        }),
    );
    let custom = form(
        "custom_event",
        &["event"],
        json!({
            "event": {"type": "string", "minLength": 1, "maxLength": 40,
                      "pattern": "^[a-z][a-z0-9_]*$",
                      "not": {"enum": BUILT_IN_EVENTS},
                      "description": "The event's name, e.g. review."},
            "points": {"type": "integer", "minimum": 0, "maximum": MAX_POINTS, "default": 0,
                       "description": "Fixed points for each event."},
            "label": label("the event's name"),
            "per_amount": earning("Points for the event's amount, in addition."),
            "coupon_template_id": coupon,
        }),
    );

    let entry = |kind: &str, title: &str, description: &str, schema: Value, example: Value| {
        json!({"kind": kind, "title": title, "description": description,
               "schema": schema, "example": example})
    };
    json!([
        entry(
            "purchase",
            "Points for purchases",
            "Points per amount spent, with optional minimum spend, category or SKU multipliers, \
             tier and birthday-month multipliers, promotions, caps and a first-purchase bonus.",
            purchase,
            json!({"kind": "purchase", "base": {"points": 1, "per_amount": 100}}),
        ),
        entry(
            "check_in",
            "Points for a check-in",
            "Fixed points each time a member checks in.",
            with_kind(fixed("\"check-in\""), "check_in"),
            json!({"kind": "check_in", "points": 5}),
        ),
        entry(
            "referral",
            "Points for a referral",
            "Fixed points for each member referred.",
            with_kind(fixed("\"referral\""), "referral"),
            json!({"kind": "referral", "points": 300}),
        ),
        entry(
            "birthday",
            "Birthday points",
            "Fixed points on the member's birthday.",
            with_kind(fixed("\"happy birthday\""), "birthday"),
            json!({"kind": "birthday", "points": 100}),
        ),
        entry(
            "custom_event",
            "Points for an event of your own",
            "Fixed points, points per amount, or both, for an event your systems send.",
            custom,
            json!({"kind": "custom_event", "event": "review", "points": 10}),
        ),
    ])
}
