//! The front desk: what a clerk should notice about a member the moment they open them
//! (a birthday, points about to expire, a debt), decided from the member's figures and the
//! business's local day.

use crate::zone::Zone;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{json, Value};

/// Points expiring within this many days are worth mentioning.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;
/// A birthday within this many days after today is "this week".
pub const BIRTHDAY_AHEAD_DAYS: i64 = 6;

/// One thing to notice: a stable code the console translates, and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub code: &'static str,
    pub params: Value,
}

/// What the alerts are decided from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub birthday: Option<NaiveDate>,
    /// Points owed (from refunds of points already spent).
    pub debt: i64,
    /// The soonest expiry: points and when.
    pub soonest_expiry: Option<(i64, DateTime<Utc>)>,
}

/// The day a birthday falls on in `year` (29 February on the 28th in other years).
fn birthday_in(b: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, b.month(), b.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, b.month(), b.day() - 1))
}

/// Days from `today` to the member's next birthday (0 on the day itself).
pub fn days_to_birthday(birthday: NaiveDate, today: NaiveDate) -> Option<i64> {
    let this = birthday_in(birthday, today.year())?;
    let next = if this >= today {
        this
    } else {
        birthday_in(birthday, today.year() + 1)?
    };
    Some((next - today).num_days())
}

/// The alerts for a member at `now`, in the business's zone, most pressing first.
pub fn alerts(facts: &Facts, zone: Zone, now: DateTime<Utc>) -> Vec<Alert> {
    let today = zone.today(now);
    let mut out = Vec::new();
    if let Some(b) = facts.birthday {
        match days_to_birthday(b, today) {
            Some(0) => out.push(Alert {
                code: "birthday_today",
                params: json!({}),
            }),
            Some(d) if d <= BIRTHDAY_AHEAD_DAYS => out.push(Alert {
                code: "birthday_this_week",
                params: json!({ "days": d, "on": today + chrono::Duration::days(d) }),
            }),
            _ => {}
        }
    }
    if let Some((points, at)) = facts.soonest_expiry {
        let on = zone.today(at);
        if points > 0 && at > now && (on - today).num_days() <= EXPIRING_WITHIN_DAYS {
            out.push(Alert {
                code: "points_expiring",
                params: json!({ "points": points, "on": on }),
            });
        }
    }
    if facts.debt > 0 {
        out.push(Alert {
            code: "in_debt",
            params: json!({ "points": facts.debt }),
        });
    }
    out
}

/// The national digits of a phone in E.164 (`+8613655556666` → `13655556666`).
fn national(e164: &str) -> String {
    match phonenumber::parse(None, e164) {
        Ok(n) => n.national().value().to_string(),
        Err(_) => e164.chars().filter(char::is_ascii_digit).collect(),
    }
}

/// Digits in groups as a clerk reads them aloud: 3-4-4 for eleven digits (`136 5555 6666`),
/// else in fours from the end.
fn grouped(digits: &str) -> String {
    let n = digits.len();
    let cuts: Vec<usize> = if n == 11 {
        vec![3, 7]
    } else {
        (1..n).filter(|i| (n - i) % 4 == 0).collect()
    };
    let mut out = String::with_capacity(n + cuts.len());
    for (i, c) in digits.chars().enumerate() {
        if cuts.contains(&i) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A phone as the desk shows it: `136 5555 6666`.
pub fn format_phone(e164: &str) -> String {
    grouped(&national(e164))
}

/// A phone with all but its first three and last four digits hidden: `136 **** 6666`.
pub fn mask_phone(e164: &str) -> String {
    let digits = national(e164);
    let n = digits.len();
    if n <= 4 {
        return "*".repeat(n);
    }
    let head = if n >= 11 { 3 } else { 0 };
    let hidden: String = digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - 4 { c } else { '*' })
        .collect();
    grouped(&hidden)
}

/// The last four digits of a phone, the key of the last-four lookup.
pub fn last_four(e164: &str) -> String {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn shanghai() -> Zone {
        Zone::parse("Asia/Shanghai").unwrap()
    }

    fn codes(a: &[Alert]) -> Vec<&str> {
        a.iter().map(|a| a.code).collect()
    }

    #[test]
    fn a_birthday_counts_in_the_business_zone_not_in_utc() {
        // 2026-12-03 17:00 UTC is already the 4th in Shanghai.
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 17, 0, 0).unwrap();
        let facts = Facts {
            birthday: Some(d(1990, 12, 4)),
            ..Facts::default()
        };
        assert_eq!(codes(&alerts(&facts, shanghai(), now)), ["birthday_today"]);
        let utc = Zone::parse("UTC").unwrap();
        let a = alerts(&facts, utc, now);
        assert_eq!(codes(&a), ["birthday_this_week"]);
        assert_eq!(a[0].params, json!({ "days": 1, "on": "2026-12-04" }));
    }

    #[test]
    fn a_birthday_a_week_away_or_just_past_says_nothing() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 4, 0, 0).unwrap();
        let in_six = Facts {
            birthday: Some(d(2000, 6, 7)),
            ..Facts::default()
        };
        assert_eq!(
            codes(&alerts(&in_six, shanghai(), now)),
            ["birthday_this_week"]
        );
        let in_seven = Facts {
            birthday: Some(d(2000, 6, 8)),
            ..Facts::default()
        };
        assert!(alerts(&in_seven, shanghai(), now).is_empty());
        let yesterday = Facts {
            birthday: Some(d(2000, 5, 31)),
            ..Facts::default()
        };
        assert!(alerts(&yesterday, shanghai(), now).is_empty());
    }

    #[test]
    fn phones_read_in_groups_and_mask_their_middle() {
        assert_eq!(format_phone("+8613655556666"), "136 5555 6666");
        assert_eq!(mask_phone("+8613655556666"), "136 **** 6666");
        assert_eq!(last_four("+8613655556666"), "6666");
        assert_eq!(format_phone("+14155550123"), "41 5555 0123");
        assert_eq!(mask_phone("+14155550123"), "** **** 0123");
    }

    #[test]
    fn a_leap_day_birthday_is_kept_on_the_28th_and_the_year_turns() {
        assert_eq!(days_to_birthday(d(2000, 2, 29), d(2026, 2, 28)), Some(0));
        assert_eq!(days_to_birthday(d(2000, 2, 29), d(2028, 2, 28)), Some(1));
        assert_eq!(days_to_birthday(d(1999, 1, 2), d(2026, 12, 30)), Some(3));
    }

    #[test]
    fn expiring_points_within_thirty_days_and_a_debt_are_raised_with_their_figures() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 2, 0, 0).unwrap();
        let soon = Utc.with_ymd_and_hms(2026, 3, 20, 15, 59, 59).unwrap();
        let facts = Facts {
            birthday: None,
            debt: 40,
            soonest_expiry: Some((120, soon)),
        };
        let a = alerts(&facts, shanghai(), now);
        assert_eq!(codes(&a), ["points_expiring", "in_debt"]);
        assert_eq!(a[0].params, json!({ "points": 120, "on": "2026-03-20" }));
        assert_eq!(a[1].params, json!({ "points": 40 }));
        let later = Facts {
            soonest_expiry: Some((120, Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap())),
            ..Facts::default()
        };
        assert!(alerts(&later, shanghai(), now).is_empty());
    }
}
