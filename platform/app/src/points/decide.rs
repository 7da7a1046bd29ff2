//! The earn pipeline's and the ledger's decisions, as pure functions: a check-in's streak
//! and points, the reason line of an entry, what a redemption spends, how a refund takes
//! its points back, what a retry is answered, the soonest expiries. No I/O: the use cases
//! beside this module read and write, these decide.

use super::PointReason;
use chrono::{DateTime, NaiveDate, Utc};
use patron_core::points::{self as core_points, PointSettings, RefundShortfall};
use patron_core::reasons::{Reason, Said};
use patron_core::Zone;
use serde_json::json;

/// The longest reason line on a ledger entry, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// One line summing up the reasons (the ledger entry's reason): joined by `; `, cut at
/// [`MAX_REASON_CHARS`] characters.
/// The parts the system wrote keep their codes and values.
pub fn reason_line(reasons: &[PointReason]) -> Said {
    let parts: Vec<Said> = reasons.iter().map(PointReason::said).collect();
    Said::joined(&parts, MAX_REASON_CHARS)
}

/// The reason line, or `fallback` when the rule gave no reason.
pub fn reason_or(reasons: &[PointReason], fallback: Said) -> Said {
    if reasons.is_empty() {
        fallback
    } else {
        reason_line(reasons)
    }
}

/// When points earned `now` expire under the business's settings, in its zone.
pub fn expiry_of(
    settings: &PointSettings,
    now: DateTime<Utc>,
    zone: Zone,
) -> Option<DateTime<Utc>> {
    core_points::expires_at(settings.expiry, now, zone.tz())
}

/// The streak a check-in on `today` makes, after the last one on `last` with `streak`
/// days; `None` when the member already checked in today.
pub fn check_in_streak(last: Option<NaiveDate>, streak: i32, today: NaiveDate) -> Option<i32> {
    if last == Some(today) {
        None
    } else if last == today.pred_opt() {
        Some(streak + 1)
    } else {
        Some(1)
    }
}

/// A check-in's points when no check-in rule is in force: the settings' fixed points.
pub fn fixed_check_in(settings: &PointSettings) -> (i64, Vec<PointReason>) {
    if settings.check_in_points > 0 {
        let p = settings.check_in_points;
        (
            p,
            vec![PointReason::new(
                p,
                Reason::point("check_in", json!({})).into(),
                None,
            )],
        )
    } else {
        (0, Vec::new())
    }
}

/// Adds the streak bonus of the `streak`-th day to a check-in's points and reasons;
/// returns the bonus.
pub fn add_streak_bonus(
    settings: &PointSettings,
    streak: i32,
    points: &mut i64,
    reasons: &mut Vec<PointReason>,
) -> i64 {
    let bonus = settings.streak_bonus_for(i64::from(streak));
    if bonus > 0 {
        *points += bonus;
        reasons.push(PointReason::new(
            bonus,
            Reason::point("check_in_streak", json!({ "days": streak })).into(),
            None,
        ));
    }
    bonus
}

/// What a redemption spends: points, and for money off a purchase, their value and what is
/// left to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    pub points: i64,
    pub value: Option<i64>,
    pub amount_due: Option<i64>,
}

/// Why a redemption is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendRefused {
    /// More points than may go towards this purchase (the most allowed).
    OverCap(i64),
    /// Fewer points than one redemption uses (the fewest).
    UnderMinimum(i64),
    /// More than the member has (their balance, below zero when they owe points).
    Insufficient(i64),
}

/// Decides a redemption of `asked` points (for money off, `purchase_amount`) from a
/// `balance`: the business's ratio, cap and minimum; as many as allowed when a deduction
/// names no number.
pub fn spend(
    settings: &PointSettings,
    balance: i64,
    purchase_amount: Option<i64>,
    asked: Option<i64>,
) -> Result<Spend, SpendRefused> {
    let available = balance.max(0);
    let s = settings;
    let decided = match purchase_amount {
        Some(amount) => {
            let cap = s.max_points_for_purchase(amount).min(available);
            let spend = asked.unwrap_or(cap);
            if spend > s.max_points_for_purchase(amount) {
                return Err(SpendRefused::OverCap(s.max_points_for_purchase(amount)));
            }
            let value = s.value_of(spend).min(amount);
            Spend {
                points: spend,
                value: Some(value),
                amount_due: Some(amount - value),
            }
        }
        None => Spend {
            points: asked.unwrap_or(0),
            value: None,
            amount_due: None,
        },
    };
    if decided.points < s.min_redeem_points {
        return Err(SpendRefused::UnderMinimum(s.min_redeem_points));
    }
    if decided.points > available {
        return Err(SpendRefused::Insufficient(balance));
    }
    Ok(decided)
}

/// How a refund takes back `back` points from a `balance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeBack {
    /// Nothing to take back.
    Nothing,
    /// All of it from the open lots.
    FromLots(i64),
    /// All of it, the balance going below zero (the lots give what they hold).
    IntoNegative(i64),
    /// What the lots hold (maybe nothing), the rest owed as a debt.
    WithDebt { from_lots: i64, debt: i64 },
}

impl TakeBack {
    /// The points that become a debt.
    pub fn debt(self) -> i64 {
        match self {
            Self::WithDebt { debt, .. } => debt,
            _ => 0,
        }
    }
}

/// Decides how `back` points are taken back from `balance` under the business's policy for
/// points already spent.
pub fn take_back(back: i64, balance: i64, policy: RefundShortfall) -> TakeBack {
    let available = balance.max(0);
    if back <= 0 {
        TakeBack::Nothing
    } else if back <= available {
        TakeBack::FromLots(back)
    } else {
        match policy {
            RefundShortfall::Negative => TakeBack::IntoNegative(back),
            RefundShortfall::Debt => TakeBack::WithDebt {
                from_lots: available,
                debt: back - available,
            },
        }
    }
}

/// A refund of `asked` (all that is left by default) of a purchase with `refundable` left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundAmount {
    Refund(i64),
    /// Nothing is left to refund.
    FullyRefunded,
    /// More than is left (what is left).
    TooMuch(i64),
}

pub fn refund_amount(refundable: i64, asked: Option<i64>) -> RefundAmount {
    let amount = asked.unwrap_or(refundable);
    if refundable <= 0 {
        RefundAmount::FullyRefunded
    } else if amount > refundable {
        RefundAmount::TooMuch(refundable)
    } else {
        RefundAmount::Refund(amount)
    }
}

/// What a request under a key (or external id) seen before is answered: the stored answer,
/// marked as replayed, when the request is the same (same hash); `None` when the key came
/// with another request (a 409 for the caller).
pub fn replay<T: Replayable>(stored_hash: &[u8], hash: &[u8], mut stored: T) -> Option<T> {
    if stored_hash != hash {
        return None;
    }
    stored.mark_replayed();
    Some(stored)
}

/// An answer that is stored and given again to a retry.
pub trait Replayable {
    fn mark_replayed(&mut self);
}

/// Points that expire at one instant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Expiring {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// Points of open lots already past their expiry at `now`: the expiry job has not come by
/// yet, so a read counts them out of the balance (and into the expired total) itself.
pub fn due_at(
    lots: impl IntoIterator<Item = (i64, Option<DateTime<Utc>>)>,
    now: DateTime<Utc>,
) -> i64 {
    lots.into_iter()
        .filter(|(_, at)| at.is_some_and(|at| at <= now))
        .map(|(remaining, _)| remaining)
        .sum()
}

/// The soonest expiries, grouped by instant (at most five), from open lots in order of
/// expiry (`(remaining, expires_at)`; lots that never expire are skipped).
pub fn soonest_expiries(
    lots: impl IntoIterator<Item = (i64, Option<DateTime<Utc>>)>,
) -> Vec<Expiring> {
    let mut expiring: Vec<Expiring> = Vec::new();
    for (remaining, at) in lots {
        let Some(at) = at else { continue };
        if let Some(e) = expiring.last_mut().filter(|e| e.expires_at == at) {
            e.points += remaining;
        } else if expiring.len() >= 5 {
            break;
        } else {
            expiring.push(Expiring {
                points: remaining,
                expires_at: at,
            });
        }
    }
    expiring
}

#[cfg(test)]
mod tests {
    #[test]
    fn lots_past_their_instant_are_due_and_those_at_or_after_now_are_not() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let lots = [
            (30, Some(now - chrono::Duration::seconds(1))),
            (20, Some(now)),
            (50, Some(now + chrono::Duration::seconds(1))),
            (70, None),
        ];
        assert_eq!(super::due_at(lots, now), 50);
        assert_eq!(super::due_at(lots, now - chrono::Duration::days(1)), 0);
    }

    use super::*;
    use chrono::TimeZone;

    fn reason(s: &str) -> PointReason {
        PointReason {
            reason_code: None,
            reason_params: None,
            points: 1,
            reason: s.into(),
            line: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_reason_line_joins_reasons_and_stops_at_500_characters() {
        assert_eq!(reason_line(&[reason("a"), reason("b")]).text, "a; b");
        assert_eq!(reason_line(&[]).text, "");
        let long = reason(&"积".repeat(600));
        assert_eq!(reason_line(&[long]).text.chars().count(), 500);
        assert_eq!(reason_or(&[], Said::words("referral")).text, "referral");
        assert_eq!(reason_or(&[reason("x")], Said::words("referral")).text, "x");
    }

    #[test]
    fn a_streak_grows_on_consecutive_days_and_restarts_after_a_gap() {
        let today = day("2026-03-10");
        assert_eq!(check_in_streak(None, 0, today), Some(1));
        assert_eq!(check_in_streak(Some(day("2026-03-09")), 4, today), Some(5));
        assert_eq!(check_in_streak(Some(day("2026-03-08")), 4, today), Some(1));
        assert_eq!(check_in_streak(Some(today), 4, today), None);
    }

    #[test]
    fn a_check_in_without_a_rule_earns_the_fixed_points_and_the_streak_bonus() {
        let s = PointSettings {
            check_in_points: 5,
            streak_days: 7,
            streak_bonus: 50,
            ..PointSettings::default()
        };
        let (mut points, mut reasons) = fixed_check_in(&s);
        assert_eq!(points, 5);
        assert_eq!(add_streak_bonus(&s, 6, &mut points, &mut reasons), 0);
        assert_eq!(points, 5);
        assert_eq!(add_streak_bonus(&s, 14, &mut points, &mut reasons), 50);
        assert_eq!(points, 55);
        assert_eq!(reasons[1].reason, "14-day check-in streak");
        // Said in the reader's language from its code and values.
        let said = reason_line(&reasons);
        assert_eq!(said.code, Some("several"));
        assert_eq!(said.params.unwrap()["parts"][1]["params"]["days"], 14);
        let (none, why) = fixed_check_in(&PointSettings::default());
        assert_eq!((none, why.len()), (0, 0));
    }

    fn ratio(max_percent: i64, min: i64) -> PointSettings {
        PointSettings {
            redeem_points: 100,
            redeem_value: 100,
            max_deduction_percent: max_percent,
            min_redeem_points: min,
            ..PointSettings::default()
        }
    }

    #[test]
    fn a_deduction_takes_as_many_points_as_the_cap_and_balance_allow() {
        let s = ratio(50, 1);
        assert_eq!(
            spend(&s, 10_000, Some(999), None),
            Ok(Spend {
                points: 499,
                value: Some(499),
                amount_due: Some(500)
            })
        );
        // The balance is the limit when it is below the cap.
        assert_eq!(spend(&s, 120, Some(999), None).unwrap().points, 120);
        assert_eq!(
            spend(&s, 10_000, Some(999), Some(600)),
            Err(SpendRefused::OverCap(499))
        );
    }

    #[test]
    fn a_redemption_respects_the_minimum_and_the_balance() {
        let s = ratio(100, 10);
        assert_eq!(
            spend(&s, 100, None, Some(5)),
            Err(SpendRefused::UnderMinimum(10))
        );
        assert_eq!(
            spend(&s, 100, None, Some(101)),
            Err(SpendRefused::Insufficient(100))
        );
        // A negative balance has nothing to spend, and the refusal says what is owed.
        assert_eq!(
            spend(&s, -20, None, Some(10)),
            Err(SpendRefused::Insufficient(-20))
        );
        assert_eq!(
            spend(&s, 100, None, Some(100)),
            Ok(Spend {
                points: 100,
                value: None,
                amount_due: None
            })
        );
    }

    #[test]
    fn a_refund_takes_back_from_lots_then_by_the_shortfall_policy() {
        assert_eq!(take_back(0, 50, RefundShortfall::Debt), TakeBack::Nothing);
        assert_eq!(
            take_back(30, 50, RefundShortfall::Debt),
            TakeBack::FromLots(30)
        );
        assert_eq!(
            take_back(80, 50, RefundShortfall::Negative),
            TakeBack::IntoNegative(80)
        );
        let debt = take_back(80, 50, RefundShortfall::Debt);
        assert_eq!(
            debt,
            TakeBack::WithDebt {
                from_lots: 50,
                debt: 30
            }
        );
        assert_eq!(debt.debt(), 30);
        assert_eq!(
            take_back(80, -10, RefundShortfall::Debt),
            TakeBack::WithDebt {
                from_lots: 0,
                debt: 80
            }
        );
    }

    #[test]
    fn a_refund_defaults_to_all_that_is_left_and_never_more() {
        assert_eq!(refund_amount(500, None), RefundAmount::Refund(500));
        assert_eq!(refund_amount(500, Some(200)), RefundAmount::Refund(200));
        assert_eq!(refund_amount(500, Some(501)), RefundAmount::TooMuch(500));
        assert_eq!(refund_amount(0, Some(1)), RefundAmount::FullyRefunded);
    }

    #[derive(Debug, PartialEq)]
    struct Answer(bool);
    impl Replayable for Answer {
        fn mark_replayed(&mut self) {
            self.0 = true;
        }
    }

    #[test]
    fn a_retry_gets_the_first_answer_and_another_request_under_its_key_does_not() {
        assert_eq!(replay(b"h1", b"h1", Answer(false)), Some(Answer(true)));
        assert_eq!(replay(b"h1", b"h2", Answer(false)), None);
    }

    #[test]
    fn expiries_are_grouped_by_instant_and_only_the_soonest_five_are_shown() {
        let at = |d: u32| Some(Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap());
        let lots = vec![
            (10, at(1)),
            (5, at(1)),
            (7, at(2)),
            (1, at(3)),
            (1, at(4)),
            (1, at(5)),
            (1, at(6)),
            (3, None),
        ];
        let e = soonest_expiries(lots);
        assert_eq!(e.len(), 5);
        assert_eq!((e[0].points, e[1].points), (15, 7));
        assert_eq!(e[4].expires_at, at(5).unwrap());
        assert!(soonest_expiries(vec![(3, None)]).is_empty());
    }
}
