//! The helper functions a rule may call (`floor_div`, `round_div`, `percent`,
//! `days_between`, `is_birthday_month`, the purchase-line filters and `items_total`):
//! integer arithmetic that never overflows silently, and date math without a clock.

use super::Fallible;
use rhai::{Array, Engine, EvalAltResult, Map, INT};

fn floor_div_i128(a: i128, b: i128) -> Option<i128> {
    let q = a.checked_div(b)?;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        Some(q - 1)
    } else {
        Some(q)
    }
}

fn to_int(value: i128, what: &str) -> Fallible<INT> {
    INT::try_from(value).map_err(|_| format!("{what}: result overflows").into())
}

/// `a / b` rounded down (towards minus infinity).
pub fn floor_div(a: INT, b: INT) -> Fallible<INT> {
    if b == 0 {
        return Err("floor_div: division by zero".into());
    }
    to_int(
        floor_div_i128(a.into(), b.into()).unwrap_or_default(),
        "floor_div",
    )
}

/// `a / b` rounded to the nearest whole number, halves up (2.5 -> 3, -2.5 -> -2).
pub fn round_div(a: INT, b: INT) -> Fallible<INT> {
    if b == 0 {
        return Err("round_div: division by zero".into());
    }
    let (a, b) = (i128::from(a), i128::from(b));
    to_int(
        floor_div_i128(2 * a + b, 2 * b).unwrap_or_default(),
        "round_div",
    )
}

/// `pct` percent of `amount`, rounded half up.
pub fn percent(amount: INT, pct: INT) -> Fallible<INT> {
    let scaled = i128::from(amount) * i128::from(pct);
    to_int(
        floor_div_i128(2 * scaled + 100, 200).unwrap_or_default(),
        "percent",
    )
}

/// Days since 1970-01-01 of an ISO date (`YYYY-MM-DD`, anything after the date is ignored).
fn days_from_iso(text: &str) -> Option<i64> {
    let date = text.get(..10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Whole days from `a` to `b` (negative when `b` is earlier).
pub fn days_between(a: &str, b: &str) -> Fallible<INT> {
    let parse = |s: &str| {
        days_from_iso(s).ok_or_else(|| -> Box<EvalAltResult> {
            format!("days_between: '{s}' is not a date like 2026-01-31").into()
        })
    };
    Ok(parse(b)? - parse(a)?)
}

fn get_str(map: &Map, key: &str) -> String {
    map.get(key)
        .and_then(|v| v.clone().into_immutable_string().ok())
        .map(|s| s.to_string())
        .unwrap_or_default()
}

fn is_birthday_month(member: &mut Map, event: Map) -> bool {
    let birthday = get_str(member, "birthday");
    let month = event.get("time").and_then(|t| {
        t.read_lock::<Map>()
            .and_then(|t| t.get("month").and_then(|m| m.as_int().ok()))
    });
    match (
        birthday.get(5..7).and_then(|m| m.parse::<INT>().ok()),
        month,
    ) {
        (Some(b), Some(m)) => b == m,
        _ => false,
    }
}

fn items_where(event: &Map, key: &str, wanted: &str) -> Array {
    let Some(items) = event.get("items").and_then(|i| i.read_lock::<Array>()) else {
        return Array::new();
    };
    items
        .iter()
        .filter(|item| {
            item.read_lock::<Map>()
                .is_some_and(|m| get_str(&m, key) == wanted)
        })
        .cloned()
        .collect()
}

fn items_total(items: Array) -> Fallible<INT> {
    let mut total: INT = 0;
    for item in &items {
        let Some(map) = item.read_lock::<Map>() else {
            return Err("items_total: expects an array of purchase lines".into());
        };
        let field = |key: &str| map.get(key).and_then(|v| v.as_int().ok()).unwrap_or(0);
        let line = field("quantity")
            .checked_mul(field("unit_price"))
            .and_then(|line| total.checked_add(line));
        total =
            line.ok_or_else(|| -> Box<EvalAltResult> { "items_total: total overflows".into() })?;
    }
    Ok(total)
}

pub(super) fn register_helpers(engine: &mut Engine) {
    engine.register_fn("floor_div", floor_div);
    engine.register_fn("round_div", round_div);
    engine.register_fn("percent", percent);
    engine.register_fn("days_between", |a: &str, b: &str| days_between(a, b));
    engine.register_fn("is_birthday_month", is_birthday_month);
    engine.register_fn("items_in_category", |event: &mut Map, category: &str| {
        items_where(event, "category", category)
    });
    engine.register_fn("items_with_sku", |event: &mut Map, sku: &str| {
        items_where(event, "sku", sku)
    });
    engine.register_fn("items_total", items_total);
}
