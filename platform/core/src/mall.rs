//! The points mall (积分商城): catalogue items bought with points (or points and cash), and
//! the life of an order: pending -> approved -> shipped / ready for pickup -> completed, or
//! cancelled, with who may move it where. Pure rules; the database takes stock and points
//! with conditional statements (`db::mall`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An item's name: 1 to this many characters.
pub const NAME_MAX: usize = 100;
/// An item's description: at most this many characters.
pub const DESCRIPTION_MAX: usize = 2000;
/// Pictures (web addresses) per item.
pub const PICTURES_MAX: usize = 10;
/// A picture's web address: at most this many characters.
pub const URL_MAX: usize = 500;
/// The most points one unit costs.
pub const POINTS_MAX: i64 = 100_000_000;
/// The most cash (minor units) one unit costs beside its points.
pub const CASH_MAX: i64 = 100_000_000;
/// The most units in stock.
pub const STOCK_MAX: i64 = 1_000_000;
/// The most units of one item in one order, and the largest per-member limit.
pub const QUANTITY_MAX: i64 = 1_000;
/// Tiers an item may be restricted to.
pub const TIERS_MAX: usize = 50;
/// A reason (a cancel's, a change's): at most this many characters.
pub const REASON_MAX: usize = 200;
/// A shipping address's parts: at most this many characters each.
pub const ADDRESS_PART_MAX: usize = 200;
/// A tracking number: at most this many characters.
pub const TRACKING_MAX: usize = 100;
/// A pickup code's length (digits).
pub const PICKUP_CODE_LEN: usize = 8;
/// The longest a pending order may wait before it is cancelled on its own (hours).
pub const PENDING_HOURS_MAX: i64 = 24 * 365;

/// How an item reaches the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Collected in store against a verification code.
    Pickup,
    /// Sent to the member's address.
    Shipping,
    /// Coupons of a template, given to the member as the order is placed (the order is
    /// completed at once).
    Virtual,
}

/// The names of [`Delivery`].
pub const DELIVERIES: &[&str] = &["pickup", "shipping", "virtual"];

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pickup => "pickup",
            Self::Shipping => "shipping",
            Self::Virtual => "virtual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pickup" => Some(Self::Pickup),
            "shipping" => Some(Self::Shipping),
            "virtual" => Some(Self::Virtual),
            _ => None,
        }
    }
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pending,
    Approved,
    Shipped,
    ReadyForPickup,
    Completed,
    Cancelled,
}

/// The names of [`State`].
pub const STATES: &[&str] = &[
    "pending",
    "approved",
    "shipped",
    "ready_for_pickup",
    "completed",
    "cancelled",
];

impl State {
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Approved,
        Self::Shipped,
        Self::ReadyForPickup,
        Self::Completed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Shipped => "shipped",
            Self::ReadyForPickup => "ready_for_pickup",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Completed and cancelled orders never move again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

/// A move of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Approve,
    Ship,
    Ready,
    Complete,
    Cancel,
}

/// The names of [`Action`].
pub const ACTIONS: &[&str] = &["approve", "ship", "ready", "complete", "cancel"];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Ship => "ship",
            Self::Ready => "ready",
            Self::Complete => "complete",
            Self::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Approve,
            Self::Ship,
            Self::Ready,
            Self::Complete,
            Self::Cancel,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// Who moves an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The member, in the portal.
    Member,
    /// The business's staff (or an integration).
    Staff,
    /// The system, when a pending order waited past the business's limit.
    System,
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The order's state does not allow the move (or not for this delivery).
    NotFromState,
    /// Only staff may make this move (or, for a member, only while pending).
    NotAllowed,
}

/// Where `action` by `by` takes an order in `state` delivered by `delivery`.
///
/// - staff approve a pending order; ship an approved shipping order, or make an approved
///   pickup order ready; complete a shipped or ready order (a pickup order also straight
///   from approved, when the member shows the code at the counter);
/// - the member cancels only while pending; staff cancel at any step before completed;
///   the system cancels only pending orders (the business's time limit);
/// - a virtual order is completed as it is placed; staff may still cancel it (while none
///   of its coupons is used, which the database checks).
pub fn next(state: State, action: Action, by: By, delivery: Delivery) -> Result<State, Refusal> {
    use State::*;
    if by != By::Staff && action != Action::Cancel {
        return Err(Refusal::NotAllowed);
    }
    match (action, state) {
        (Action::Cancel, Pending) => Ok(Cancelled),
        (Action::Cancel, Completed) if by == By::Staff && delivery == Delivery::Virtual => {
            Ok(Cancelled)
        }
        (Action::Cancel, s) if s.is_final() => Err(Refusal::NotFromState),
        (Action::Cancel, _) if by == By::Staff => Ok(Cancelled),
        (Action::Cancel, _) => Err(Refusal::NotAllowed),
        (Action::Approve, Pending) => Ok(Approved),
        (Action::Ship, Approved) if delivery == Delivery::Shipping => Ok(Shipped),
        (Action::Ready, Approved) if delivery == Delivery::Pickup => Ok(ReadyForPickup),
        (Action::Complete, Shipped) => Ok(Completed),
        (Action::Complete, Approved | ReadyForPickup) if delivery == Delivery::Pickup => {
            Ok(Completed)
        }
        _ => Err(Refusal::NotFromState),
    }
}

/// The moves staff can make next from `state` (what the console offers).
pub fn staff_moves(state: State, delivery: Delivery) -> Vec<Action> {
    [
        Action::Approve,
        Action::Ship,
        Action::Ready,
        Action::Complete,
        Action::Cancel,
    ]
    .into_iter()
    .filter(|a| next(state, *a, By::Staff, delivery).is_ok())
    .collect()
}

/// What an item costs for `quantity` units: points and cash (minor units).
pub fn price(points: i64, cash: i64, quantity: i64) -> (i64, i64) {
    (points * quantity, cash * quantity)
}

/// Why an item cannot be ordered at `now` (before the stock and the limits, which the
/// database checks as it takes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    Archived,
    NotYet,
    Ended,
}

/// Whether an item is offered at `now`: not archived, inside its window (`from` included,
/// `until` excluded).
pub fn offered(
    archived: bool,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Unavailable> {
    if archived {
        return Err(Unavailable::Archived);
    }
    if from.is_some_and(|f| now < f) {
        return Err(Unavailable::NotYet);
    }
    if until.is_some_and(|u| now >= u) {
        return Err(Unavailable::Ended);
    }
    Ok(())
}

/// Whether a member of tier `tier` (none without a standing) may order an item restricted
/// to `tiers` (any member when empty).
pub fn tier_allows(tiers: &[String], tier: Option<&str>) -> bool {
    tiers.is_empty() || tier.is_some_and(|t| tiers.iter().any(|x| x == t))
}

/// A pickup code from random digits (`PICKUP_CODE_LEN` of them, leading zeros kept).
pub fn pickup_code(random: u64) -> String {
    format!("{:08}", random % 100_000_000)
}

/// A pickup code as typed or scanned: spaces and dashes dropped; `None` when what is left
/// is not `PICKUP_CODE_LEN` digits.
pub fn normalise_pickup_code(s: &str) -> Option<String> {
    let digits: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == PICKUP_CODE_LEN && digits.chars().all(|c| c.is_ascii_digit()))
        .then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn the_member_cancels_only_while_pending_and_staff_until_completed() {
        use Delivery::*;
        use State::*;
        assert_eq!(
            next(Pending, Action::Cancel, By::Member, Pickup),
            Ok(Cancelled)
        );
        for s in [Approved, Shipped, ReadyForPickup] {
            assert_eq!(
                next(s, Action::Cancel, By::Member, Shipping),
                Err(Refusal::NotAllowed)
            );
            assert_eq!(next(s, Action::Cancel, By::Staff, Shipping), Ok(Cancelled));
            assert_eq!(
                next(s, Action::Cancel, By::System, Shipping),
                Err(Refusal::NotAllowed)
            );
        }
        for s in [Completed, Cancelled] {
            for by in [By::Member, By::Staff, By::System] {
                assert_eq!(
                    next(s, Action::Cancel, by, Pickup),
                    Err(Refusal::NotFromState)
                );
            }
        }
        assert_eq!(
            next(Pending, Action::Approve, By::Member, Pickup),
            Err(Refusal::NotAllowed)
        );
    }

    #[test]
    fn fulfilment_follows_the_delivery() {
        use Delivery::*;
        use State::*;
        let staff = |s, a, d| next(s, a, By::Staff, d);
        assert_eq!(staff(Pending, Action::Approve, Pickup), Ok(Approved));
        assert_eq!(staff(Approved, Action::Ship, Shipping), Ok(Shipped));
        assert_eq!(
            staff(Approved, Action::Ship, Pickup),
            Err(Refusal::NotFromState)
        );
        assert_eq!(staff(Approved, Action::Ready, Pickup), Ok(ReadyForPickup));
        assert_eq!(
            staff(Approved, Action::Ready, Shipping),
            Err(Refusal::NotFromState)
        );
        assert_eq!(
            staff(ReadyForPickup, Action::Complete, Pickup),
            Ok(Completed)
        );
        assert_eq!(staff(Approved, Action::Complete, Pickup), Ok(Completed));
        assert_eq!(
            staff(Approved, Action::Complete, Shipping),
            Err(Refusal::NotFromState)
        );
        assert_eq!(staff(Shipped, Action::Complete, Shipping), Ok(Completed));
        assert_eq!(
            staff(Pending, Action::Complete, Pickup),
            Err(Refusal::NotFromState)
        );
        assert_eq!(
            staff_moves(Approved, Pickup),
            [Action::Ready, Action::Complete, Action::Cancel]
        );
        assert!(staff_moves(Completed, Shipping).is_empty());
        assert_eq!(staff_moves(Completed, Virtual), [Action::Cancel]);
        assert_eq!(
            next(Completed, Action::Cancel, By::Member, Virtual),
            Err(Refusal::NotFromState)
        );
        assert!(staff_moves(Cancelled, Virtual).is_empty());
    }

    #[test]
    fn names_read_back() {
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
            assert!(STATES.contains(&s.as_str()));
        }
        for a in ACTIONS {
            assert_eq!(Action::parse(a).map(Action::as_str), Some(*a));
        }
        for d in DELIVERIES {
            assert_eq!(Delivery::parse(d).map(Delivery::as_str), Some(*d));
        }
    }

    #[test]
    fn an_item_is_offered_inside_its_window_and_to_its_tiers() {
        let now = Utc::now();
        let h = Duration::hours(1);
        assert_eq!(offered(false, None, None, now), Ok(()));
        assert_eq!(offered(true, None, None, now), Err(Unavailable::Archived));
        assert_eq!(
            offered(false, Some(now + h), None, now),
            Err(Unavailable::NotYet)
        );
        assert_eq!(offered(false, Some(now), Some(now + h), now), Ok(()));
        assert_eq!(
            offered(false, None, Some(now), now),
            Err(Unavailable::Ended)
        );
        let gold = vec!["gold".to_owned()];
        assert!(tier_allows(&[], None));
        assert!(tier_allows(&gold, Some("gold")));
        assert!(!tier_allows(&gold, Some("silver")));
        assert!(!tier_allows(&gold, None));
    }

    #[test]
    fn pickup_codes_are_eight_digits_and_read_back_as_typed() {
        assert_eq!(pickup_code(42), "00000042");
        assert_eq!(pickup_code(u64::MAX).len(), 8);
        assert_eq!(
            normalise_pickup_code(" 1234-5678 ").as_deref(),
            Some("12345678")
        );
        assert_eq!(normalise_pickup_code("1234567"), None);
        assert_eq!(normalise_pickup_code("1234567a"), None);
        assert_eq!(price(300, 990, 2), (600, 1980));
    }
}
