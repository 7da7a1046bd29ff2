//! Prepaid: stored value (principal and bonus kept apart), visit passes and membership
//! periods. Money is in minor units (fen) as `i64`; every split here adds up to exactly
//! the amount it splits, and days are the business's local calendar days (`Zone`).

use crate::problem::{FieldCode, Issue};
use crate::Zone;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The balance above which a named prepaid card needs the business's attention (¥5,000 in
/// fen: the ceiling the prepaid-card rules set for a named card).
pub const NAMED_CARD_LIMIT: i64 = 500_000;
/// The largest single top-up or price accepted, in minor units.
pub const MAX_MONEY: i64 = 100_000_000_000;
/// The names of [`SpendOrder`].
pub const SPEND_ORDERS: &[&str] = &["pro_rata", "bonus_first", "principal_first"];
/// How a membership plan's period is given.
pub const PERIOD_UNITS: &[&str] = &["month", "quarter", "year", "days"];
/// A product's or a plan's name: 1 to this many characters.
pub const NAME_MAX: usize = 100;
/// The most days ahead a list of memberships ending looks.
pub const ENDING_DAYS_MAX: i64 = 366;
/// The most days one freeze lasts.
pub const FREEZE_DAYS_MAX: i64 = 366;
/// The most visits a pass product gives.
pub const VISITS_MAX: i64 = 10_000;
/// The most days a pass or a plan's period runs.
pub const VALIDITY_DAYS_MAX: i64 = 3660;
/// Why a pass use was reversed: 1 to this many characters.
pub const REVERSAL_REASON_MAX: usize = 200;

/// Which sub-ledger a payment from the balance draws on first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpendOrder {
    /// Principal and bonus in proportion to what the member holds of each.
    #[default]
    ProRata,
    BonusFirst,
    PrincipalFirst,
}

impl SpendOrder {
    pub const ALL: [SpendOrder; 3] = [Self::ProRata, Self::BonusFirst, Self::PrincipalFirst];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProRata => "pro_rata",
            Self::BonusFirst => "bonus_first",
            Self::PrincipalFirst => "principal_first",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Issue> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == raw)
            .ok_or_else(|| Issue::not_one_of(raw, SPEND_ORDERS))
    }
}

/// An amount of stored value by sub-ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Split {
    pub principal: i64,
    pub bonus: i64,
}

impl Split {
    pub fn total(self) -> i64 {
        self.principal + self.bonus
    }
}

/// `a * b / c` rounded down, without overflow (`c > 0`, all non-negative).
fn mul_div(a: i64, b: i64, c: i64) -> i64 {
    ((a as i128 * b as i128) / c as i128) as i64
}

/// How `amount` is taken from a balance of `held` under `order`: `None` when the balance
/// does not cover it. Pro rata rounds the bonus part down, so the principal part never
/// exceeds what is held of it.
pub fn split_spend(amount: i64, held: Split, order: SpendOrder) -> Option<Split> {
    if amount < 0 || amount > held.total() {
        return None;
    }
    let bonus = match order {
        SpendOrder::ProRata if held.total() == 0 => 0,
        SpendOrder::ProRata => mul_div(amount, held.bonus, held.total()),
        SpendOrder::BonusFirst => amount.min(held.bonus),
        SpendOrder::PrincipalFirst => amount - amount.min(held.principal),
    };
    Some(Split {
        principal: amount - bonus,
        bonus,
    })
}

/// What a refund of `refund` (of a purchase of `amount`, `refunded_before` of it refunded
/// already) puts back of the stored value that paid it (`taken`): in proportion, each
/// sub-ledger rounded down on the running total, so refunds in parts add up to exactly
/// what was taken.
pub fn refund_back(taken: Split, amount: i64, refunded_before: i64, refund: i64) -> Split {
    if amount <= 0 {
        return Split::default();
    }
    let after = (refunded_before + refund).min(amount);
    let before = refunded_before.min(amount);
    let part = |x: i64| mul_div(x, after, amount) - mul_div(x, before, amount);
    Split {
        principal: part(taken.principal),
        bonus: part(taken.bonus),
    }
}

/// The business's bonus on top-ups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BonusRule {
    #[default]
    None,
    /// Fixed tiers: a top-up of at least `min` gets `bonus` (the highest tier reached).
    Tiers { tiers: Vec<BonusTier> },
    /// A percentage of the top-up, rounded down to the fen.
    Percent { percent: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BonusTier {
    pub min: i64,
    pub bonus: i64,
}

impl BonusRule {
    /// The bonus a top-up of `amount` earns.
    pub fn bonus_for(&self, amount: i64) -> i64 {
        match self {
            Self::None => 0,
            Self::Tiers { tiers } => tiers
                .iter()
                .filter(|t| amount >= t.min)
                .map(|t| t.bonus)
                .max()
                .unwrap_or(0),
            Self::Percent { percent } => mul_div(amount, *percent, 100),
        }
    }

    /// Every problem with the rule, as (field, problem).
    pub fn problems(&self) -> Vec<(String, Issue)> {
        let mut out = Vec::new();
        match self {
            Self::None => {}
            Self::Tiers { tiers } => {
                if tiers.is_empty() || tiers.len() > 20 {
                    out.push((
                        "bonus_rule.tiers".into(),
                        Issue::new(FieldCode::OutOfRange, "must have 1 to 20 tiers")
                            .with("min", 1)
                            .with("max", 20),
                    ));
                }
                for (i, t) in tiers.iter().enumerate() {
                    if !(1..=MAX_MONEY).contains(&t.min) {
                        out.push((
                            format!("bonus_rule.tiers[{i}].min"),
                            Issue::too_small(1).words("must be at least 1 (minor units)"),
                        ));
                    }
                    if !(0..=MAX_MONEY).contains(&t.bonus) {
                        out.push((
                            format!("bonus_rule.tiers[{i}].bonus"),
                            Issue::too_small(0).words("must be 0 or more (minor units)"),
                        ));
                    }
                    if tiers[..i].iter().any(|o| o.min == t.min) {
                        out.push((
                            format!("bonus_rule.tiers[{i}].min"),
                            Issue::new(FieldCode::Duplicate, "appears twice"),
                        ));
                    }
                }
            }
            Self::Percent { percent } => {
                if !(0..=100).contains(percent) {
                    out.push(("bonus_rule.percent".into(), Issue::out_of_range(0, 100)));
                }
            }
        }
        out
    }
}

/// What refunding a top-up gives back: its principal not yet spent is returned, its bonus
/// not yet spent is forfeited. Spending is taken to use the oldest top-ups first, so the
/// stored value of newer top-ups (`newer`, not refunded) counts as unspent before this
/// one's.
pub fn top_up_refund(top_up: Split, held: Split, newer: Split) -> Split {
    let left = |top: i64, held: i64, newer: i64| (held - newer).clamp(0, top);
    Split {
        principal: left(top_up.principal, held.principal, newer.principal),
        bonus: left(top_up.bonus, held.bonus, newer.bonus),
    }
}

/// A membership's or a pass's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "count", rename_all = "snake_case")]
pub enum Period {
    Month,
    Quarter,
    Year,
    Days(i64),
}

impl Period {
    pub fn parse(unit: &str, days: Option<i64>) -> Result<Self, Issue> {
        match (unit, days) {
            ("month", _) => Ok(Self::Month),
            ("quarter", _) => Ok(Self::Quarter),
            ("year", _) => Ok(Self::Year),
            ("days", Some(d)) if (1..=VALIDITY_DAYS_MAX).contains(&d) => Ok(Self::Days(d)),
            ("days", _) => Err(Issue::out_of_range(1, VALIDITY_DAYS_MAX)
                .words("a period in days needs days from 1 to 3660")),
            (other, _) => Err(Issue::not_one_of(other, PERIOD_UNITS)),
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
            Self::Days(_) => "days",
        }
    }

    pub fn days(self) -> Option<i64> {
        match self {
            Self::Days(d) => Some(d),
            _ => None,
        }
    }

    /// The day a period starting on `from` ends (exclusive: the first day no longer
    /// covered). Months keep the day of the month, or the month's last day when it has
    /// fewer: 31 Jan + 1 month is 29 Feb in a leap year, 29 Feb + 1 year is 28 Feb.
    pub fn end_from(self, from: NaiveDate) -> NaiveDate {
        let months = match self {
            Self::Month => 1,
            Self::Quarter => 3,
            Self::Year => 12,
            Self::Days(d) => return from + Duration::days(d),
        };
        from.checked_add_months(Months::new(months))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// A membership's dates: covered from `start` (inclusive) to `end` (exclusive), local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Term {
    /// A new term starting on the business's local day of `now`.
    pub fn starting(zone: Zone, now: DateTime<Utc>, period: Period) -> Self {
        let start = zone.today(now);
        Self {
            start,
            end: period.end_from(start),
        }
    }

    /// Renewal extends from the end (or from `today`, when the term has already ended).
    pub fn renewed(self, period: Period, today: NaiveDate) -> Self {
        let from = self.end.max(today);
        Self {
            start: self.start,
            end: period.end_from(from),
        }
    }

    pub fn days(self) -> i64 {
        (self.end - self.start).num_days().max(0)
    }

    /// Days still to come from `today` (0 once ended; the whole term before it starts).
    pub fn days_left(self, today: NaiveDate) -> i64 {
        (self.end - today.max(self.start))
            .num_days()
            .clamp(0, self.days())
    }
}

/// Why a freeze is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreezeRefused {
    /// More days than the yearly cap leaves (the days still allowed).
    OverCap(i64),
    /// The term has already ended.
    Ended,
}

/// The membership year a day falls in (0 for the first), counted from the term's start on
/// its anniversaries (a 29 Feb start has its anniversary on 28 Feb).
pub fn freeze_year(start: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = (on.year() - start.year()).max(0);
    while years > 0
        && start
            .checked_add_months(Months::new(12 * years as u32))
            .is_some_and(|anniversary| anniversary > on)
    {
        years -= 1;
    }
    years
}

/// Of a freeze of `days` from `from`, the days not used when it ends early on `today`
/// (today included: the pass or membership is usable again from it).
pub fn unfrozen_days(from: NaiveDate, days: i64, today: NaiveDate) -> i64 {
    (days - (today - from).num_days().max(0)).clamp(0, days)
}

/// A freeze of `days` starting `today`: the end moves by the frozen days, within the
/// yearly cap (`used` days already frozen this membership year).
pub fn freeze(
    term: Term,
    today: NaiveDate,
    days: i64,
    used: i64,
    cap: i64,
) -> Result<Term, FreezeRefused> {
    if term.end <= today {
        return Err(FreezeRefused::Ended);
    }
    let left = (cap - used).max(0);
    if days > left {
        return Err(FreezeRefused::OverCap(left));
    }
    Ok(Term {
        start: term.start,
        end: term.end + Duration::days(days),
    })
}

/// What cancelling on `today` refunds of `price`: the unused days' share, rounded down
/// (the business keeps the fraction of a fen).
pub fn unused_refund(price: i64, term: Term, today: NaiveDate) -> i64 {
    let total = term.days();
    if total == 0 {
        return 0;
    }
    mul_div(price, term.days_left(today), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_early_unfreeze_gives_back_the_days_from_today_on() {
        let d = |m, day| NaiveDate::from_ymd_opt(2028, m, day).unwrap();
        // Frozen 10 days from 25 Feb 2028 (a leap year): 25 Feb to 5 Mar.
        assert_eq!(unfrozen_days(d(2, 25), 10, d(2, 25)), 10);
        assert_eq!(unfrozen_days(d(2, 25), 10, d(3, 1)), 5);
        assert_eq!(unfrozen_days(d(2, 25), 10, d(3, 5)), 1);
        assert_eq!(unfrozen_days(d(2, 25), 10, d(3, 6)), 0);
        assert_eq!(unfrozen_days(d(2, 25), 10, d(2, 20)), 10);
    }
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn splits_never_lose_or_make_a_fen() {
        let mut rng = StdRng::seed_from_u64(17);
        for _ in 0..20_000 {
            let held = Split {
                principal: rng.gen_range(0..1_000_000),
                bonus: rng.gen_range(0..300_000),
            };
            let amount = rng.gen_range(0..=held.total() + 10);
            for order in SpendOrder::ALL {
                match split_spend(amount, held, order) {
                    None => assert!(amount > held.total()),
                    Some(s) => {
                        assert_eq!(s.total(), amount, "{held:?} {amount} {order:?}");
                        assert!(s.principal >= 0 && s.principal <= held.principal);
                        assert!(s.bonus >= 0 && s.bonus <= held.bonus);
                    }
                }
            }
        }
    }

    #[test]
    fn the_orders_take_as_the_business_said() {
        let held = Split {
            principal: 100_000,
            bonus: 20_000,
        };
        let s = |o| split_spend(30_000, held, o).unwrap();
        assert_eq!(
            s(SpendOrder::ProRata),
            Split {
                principal: 25_000,
                bonus: 5_000
            }
        );
        assert_eq!(
            s(SpendOrder::BonusFirst),
            Split {
                principal: 10_000,
                bonus: 20_000
            }
        );
        assert_eq!(
            s(SpendOrder::PrincipalFirst),
            Split {
                principal: 30_000,
                bonus: 0
            }
        );
        assert_eq!(split_spend(120_001, held, SpendOrder::ProRata), None);
        // 1 fen of 3 held pro rata: the bonus part rounds down.
        assert_eq!(
            split_spend(
                1,
                Split {
                    principal: 2,
                    bonus: 1
                },
                SpendOrder::ProRata
            ),
            Some(Split {
                principal: 1,
                bonus: 0
            })
        );
    }

    #[test]
    fn refunds_in_parts_give_back_exactly_what_was_taken() {
        let mut rng = StdRng::seed_from_u64(5);
        for _ in 0..5_000 {
            let amount = rng.gen_range(1..500_000);
            let principal = rng.gen_range(0..=amount);
            let bonus = rng.gen_range(0..=amount - principal);
            let taken = Split { principal, bonus };
            let mut refunded = 0;
            let mut back = Split::default();
            while refunded < amount {
                let part = rng.gen_range(1..=amount - refunded);
                let b = refund_back(taken, amount, refunded, part);
                assert!(b.principal >= 0 && b.bonus >= 0);
                back.principal += b.principal;
                back.bonus += b.bonus;
                refunded += part;
                assert!(back.principal <= taken.principal && back.bonus <= taken.bonus);
            }
            assert_eq!(back, taken);
        }
    }

    #[test]
    fn bonus_rules() {
        let tiers = BonusRule::Tiers {
            tiers: vec![
                BonusTier {
                    min: 10_000,
                    bonus: 2_000,
                },
                BonusTier {
                    min: 20_000,
                    bonus: 5_000,
                },
            ],
        };
        assert_eq!(tiers.bonus_for(9_999), 0);
        assert_eq!(tiers.bonus_for(10_000), 2_000);
        assert_eq!(tiers.bonus_for(19_999), 2_000);
        assert_eq!(tiers.bonus_for(50_000), 5_000);
        assert_eq!(BonusRule::Percent { percent: 15 }.bonus_for(10_001), 1_500);
        assert!(tiers.problems().is_empty());
        assert_eq!(BonusRule::Percent { percent: 101 }.problems().len(), 1);
        let bad = BonusRule::Tiers {
            tiers: vec![BonusTier { min: 0, bonus: -1 }],
        };
        assert_eq!(bad.problems().len(), 2);
    }

    #[test]
    fn a_top_up_refund_returns_its_principal_not_yet_spent() {
        // 1000 topped up with 200 bonus, 300 spent under each order.
        let top = Split {
            principal: 100_000,
            bonus: 20_000,
        };
        for (order, principal, bonus) in [
            (SpendOrder::ProRata, 75_000, 15_000),
            (SpendOrder::BonusFirst, 90_000, 0),
            (SpendOrder::PrincipalFirst, 70_000, 20_000),
        ] {
            let spent = split_spend(30_000, top, order).unwrap();
            let held = Split {
                principal: top.principal - spent.principal,
                bonus: top.bonus - spent.bonus,
            };
            assert_eq!(
                top_up_refund(top, held, Split::default()),
                Split { principal, bonus },
                "{order:?}"
            );
        }
        // A newer top-up's value is unspent first: the older one is spent.
        let newer = Split {
            principal: 50_000,
            bonus: 0,
        };
        assert_eq!(
            top_up_refund(
                top,
                Split {
                    principal: 60_000,
                    bonus: 0
                },
                newer
            ),
            Split {
                principal: 10_000,
                bonus: 0
            }
        );
    }

    #[test]
    fn months_end_on_the_same_day_or_the_months_last() {
        assert_eq!(Period::Month.end_from(d(2024, 1, 31)), d(2024, 2, 29));
        assert_eq!(Period::Month.end_from(d(2023, 1, 31)), d(2023, 2, 28));
        assert_eq!(Period::Quarter.end_from(d(2024, 11, 30)), d(2025, 2, 28));
        assert_eq!(Period::Year.end_from(d(2024, 2, 29)), d(2025, 2, 28));
        assert_eq!(Period::Year.end_from(d(2023, 3, 1)), d(2024, 3, 1));
        assert_eq!(Period::Days(30).end_from(d(2024, 2, 15)), d(2024, 3, 16));
        assert!(Period::parse("days", None)
            .unwrap_err()
            .problem
            .contains("days"));
    }

    #[test]
    fn a_term_starts_on_the_local_day_and_renews_from_its_end() {
        let zone = Zone::parse("Asia/Shanghai").unwrap();
        // 17:30 UTC on 28 Feb 2024 is already 29 Feb in Shanghai.
        let now = DateTime::parse_from_rfc3339("2024-02-28T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let t = Term::starting(zone, now, Period::Month);
        assert_eq!(
            t,
            Term {
                start: d(2024, 2, 29),
                end: d(2024, 3, 29)
            }
        );
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(Term::starting(ny, now, Period::Year).start, d(2024, 2, 28));
        // Renewed before it ends: from the end; after: from today.
        let r = t.renewed(Period::Month, d(2024, 3, 10));
        assert_eq!(r.end, d(2024, 4, 29));
        let late = t.renewed(Period::Month, d(2024, 5, 31));
        assert_eq!(late.end, d(2024, 6, 30));
    }

    #[test]
    fn freezes_move_the_end_within_the_yearly_cap() {
        let t = Term {
            start: d(2024, 1, 31),
            end: d(2024, 2, 29),
        };
        let f = freeze(t, d(2024, 2, 10), 7, 0, 30).unwrap();
        assert_eq!(f.end, d(2024, 3, 7));
        assert_eq!(
            freeze(t, d(2024, 2, 10), 10, 25, 30),
            Err(FreezeRefused::OverCap(5))
        );
        assert_eq!(
            freeze(t, d(2024, 2, 29), 1, 0, 30),
            Err(FreezeRefused::Ended)
        );
        assert_eq!(freeze_year(d(2024, 2, 29), d(2025, 2, 27)), 0);
        assert_eq!(freeze_year(d(2024, 2, 29), d(2025, 2, 28)), 1);
        assert_eq!(freeze_year(d(2024, 2, 29), d(2025, 3, 1)), 1);
        assert_eq!(freeze_year(d(2024, 6, 1), d(2025, 5, 31)), 0);
        assert_eq!(freeze_year(d(2024, 6, 1), d(2025, 6, 1)), 1);
    }

    #[test]
    fn cancelling_refunds_the_unused_days() {
        let t = Term {
            start: d(2024, 1, 1),
            end: d(2025, 1, 1),
        };
        assert_eq!(t.days(), 366);
        assert_eq!(unused_refund(36_600, t, d(2024, 1, 1)), 36_600);
        assert_eq!(unused_refund(36_600, t, d(2024, 12, 31)), 100);
        assert_eq!(unused_refund(36_600, t, d(2025, 1, 1)), 0);
        assert_eq!(
            unused_refund(100_000, t, d(2024, 7, 1)),
            100_000 * 184 / 366
        );
    }
}
