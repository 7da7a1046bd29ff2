//! Activities (活动): a trail run, a workshop, a members' night. What an activity may hold
//! (the limits its fields are checked against), the states it moves through, and the
//! rotating check-in code a registration shows at the door.
//!
//! The check-in code is `AC` and 16 characters of Crockford base32 over 10 bytes: the
//! registration's number (4, big-endian) and the first 6 bytes of an HMAC over the business,
//! the registration's id and the current 30-second window. A code is taken in its window
//! and the one before (a slow scan); an older genuine code is expired, anything else forged.

use crate::ids::TenantId;
use crate::pii::PiiKeys;
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

/// Longest guest name.
pub const GUEST_NAME_MAX: usize = 100;

pub const TITLE_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 4000;
pub const PLACE_MAX: usize = 200;
pub const URL_MAX: usize = 500;
pub const CAPACITY_MAX: i64 = 100_000;
/// The most points an activity may cost, or award for attending.
pub const POINTS_MAX: i64 = 1_000_000;
/// A budget, in minor units.
pub const BUDGET_MAX: i64 = 1_000_000_000_000;
/// How long an offer of a freed seat may be held, in minutes (5 minutes to 7 days).
pub const OFFER_MINUTES_MIN: i64 = 5;
pub const OFFER_MINUTES_MAX: i64 = 7 * 24 * 60;
pub const ORGANISERS_MAX: usize = 20;
pub const TIERS_MAX: usize = 50;
pub const REASON_MAX: usize = 200;
pub const COMMENT_MAX: usize = 1000;
/// A rating can be changed this many days after it was first given.
pub const RATING_EDIT_DAYS: i64 = 7;
/// How long each check-in code window lasts, in seconds.
pub const CODE_WINDOW_SECS: i64 = 30;
/// The prefix of every check-in code.
pub const CODE_PREFIX: &str = "AC";

/// An activity's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Being prepared: staff see it, members do not.
    Draft,
    /// Members see it and sign up (within the sign-up window).
    Published,
    /// Sign-ups are closed; check-in goes on.
    Closed,
    /// It took place: ratings are open.
    Finished,
    /// Called off: every sign-up was refunded.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Published,
        Status::Closed,
        Status::Finished,
        Status::Cancelled,
    ];
    pub const NAMES: &'static [&'static str] =
        &["draft", "published", "closed", "finished", "cancelled"];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
            Status::Closed => "closed",
            Status::Finished => "finished",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether an activity in this state may move to `next`: draft -> published -> closed
    /// -> finished (a closed one may open again), and anything not finished may be
    /// cancelled.
    pub fn may_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Draft, Published)
                | (Published, Closed)
                | (Closed, Published)
                | (Published, Finished)
                | (Closed, Finished)
                | (Draft | Published | Closed, Cancelled)
        )
    }

    /// Whether its details may still be edited.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::Published | Status::Closed)
    }
}

/// Who approves a sign-up.
/// The most an activity may cost in stored value (minor units: ¥1,000,000).
pub const PRICE_FEN_MAX: i64 = 100_000_000;

/// What an activity costs a member: nothing, points, stored value, or one visit of a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceKind {
    Free,
    Points,
    StoredValue,
    Pass,
}

/// The price kinds as the API names them.
pub const PRICE_KINDS: &[&str] = &["free", "points", "stored_value", "pass"];

impl PriceKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "free" => Self::Free,
            "points" => Self::Points,
            "stored_value" => Self::StoredValue,
            "pass" => Self::Pass,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Points => "points",
            Self::StoredValue => "stored_value",
            Self::Pass => "pass",
        }
    }
}

pub const APPROVALS: &[&str] = &["automatic", "staff"];

/// A registration's state: `pending` (waiting for staff), `confirmed` (holds a seat),
/// `waitlisted` (in line), `offered` (holds a freed seat until its offer ends),
/// `cancelled`, `rejected`, `lapsed` (an offer not taken in time).
pub const REGISTRATION_STATES: &[&str] = &[
    "pending",
    "confirmed",
    "waitlisted",
    "offered",
    "cancelled",
    "rejected",
    "lapsed",
];

/// Whether a registration in this state holds one of the activity's seats.
pub fn holds_seat(state: &str) -> bool {
    matches!(state, "confirmed" | "offered")
}

/// Whether a registration in this state is still live (counts as the member's one sign-up).
pub fn is_live(state: &str) -> bool {
    matches!(state, "pending" | "confirmed" | "waitlisted" | "offered")
}

/// Why a check-in code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeError {
    /// Genuine, but from a window before the previous one (a screenshot).
    Expired,
    /// Malformed, or not signed for this registration of this business.
    Invalid,
}

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const MAC_BYTES: usize = 6;
const PAYLOAD_BYTES: usize = 4 + MAC_BYTES;
const BODY_CHARS: usize = PAYLOAD_BYTES * 8 / 5;
/// How many windows back a genuine code is still recognised as expired (one day); older
/// ones are simply invalid.
const RECOGNISED_WINDOWS: u64 = 24 * 60 * 60 / CODE_WINDOW_SECS as u64;

fn window_of(at: DateTime<Utc>) -> u64 {
    (at.timestamp().max(0) / CODE_WINDOW_SECS) as u64
}

fn mac(keys: &PiiKeys, tenant: TenantId, registration: Uuid, window: u64) -> Vec<u8> {
    let mut m = keys.blind_index(
        "activity_check_in",
        &format!("{}:{registration}:{window}", tenant.get()),
    );
    m.truncate(MAC_BYTES);
    m
}

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    out
}

fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let c = c.to_ascii_uppercase();
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Some(out)
}

/// The check-in code of registration `id` (number `number`) at `now`, and when the portal
/// should show a fresh one (the end of the window).
pub fn issue_code(
    keys: &PiiKeys,
    tenant: TenantId,
    number: u32,
    id: Uuid,
    now: DateTime<Utc>,
) -> (String, DateTime<Utc>) {
    let w = window_of(now);
    let mut payload = Vec::with_capacity(PAYLOAD_BYTES);
    payload.extend_from_slice(&number.to_be_bytes());
    payload.extend(mac(keys, tenant, id, w));
    let next = Utc
        .timestamp_opt((w as i64 + 1) * CODE_WINDOW_SECS, 0)
        .single()
        .unwrap_or(now + Duration::seconds(CODE_WINDOW_SECS));
    (format!("{CODE_PREFIX}{}", encode(&payload)), next)
}

/// A code as typed or scanned: the registration's number and the signature to check, or
/// `None` when it is not a check-in code at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedCode {
    pub number: u32,
    mac: Vec<u8>,
}

/// Reads a code (spaces around it and lower case forgiven).
pub fn read_code(text: &str) -> Option<PresentedCode> {
    let t = text.trim();
    let body = t
        .get(..CODE_PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(CODE_PREFIX))
        .and_then(|_| t.get(CODE_PREFIX.len()..))
        .filter(|b| b.len() == BODY_CHARS)?;
    let payload = decode(body).filter(|p| p.len() == PAYLOAD_BYTES)?;
    Some(PresentedCode {
        number: u32::from_be_bytes(payload[..4].try_into().expect("4 bytes")),
        mac: payload[4..].to_vec(),
    })
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Whether `code` was signed for registration `id` of `tenant` in the current window or
/// the one before it at `now`.
pub fn check_code(
    keys: &PiiKeys,
    tenant: TenantId,
    id: Uuid,
    code: &PresentedCode,
    now: DateTime<Utc>,
) -> Result<(), CodeError> {
    let w = window_of(now);
    for back in 0..=1u64 {
        if w >= back && same(&mac(keys, tenant, id, w - back), &code.mac) {
            return Ok(());
        }
    }
    // A genuine code from an older window is a screenshot: say so rather than "forged".
    for back in 2..=RECOGNISED_WINDOWS.min(w) {
        if same(&mac(keys, tenant, id, w - back), &code.mac) {
            return Err(CodeError::Expired);
        }
    }
    Err(CodeError::Invalid)
}

/// What the statistics of an activity say, from its counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Sign-ups that held a seat when the activity took place (confirmed).
    pub confirmed: i64,
    pub attended: i64,
    pub no_shows: i64,
    /// attended / confirmed, 0 to 1; `None` before anyone was confirmed.
    pub attendance_rate: Option<f64>,
    /// The budget (minor units) divided by the attendees; `None` without a budget or anyone.
    pub cost_per_attendee: Option<i64>,
}

/// The figures of an activity with `confirmed` seat holders of whom `attended` came.
pub fn figures(confirmed: i64, attended: i64, budget: Option<i64>) -> Figures {
    Figures {
        confirmed,
        attended,
        no_shows: (confirmed - attended).max(0),
        attendance_rate: (confirmed > 0).then(|| attended as f64 / confirmed as f64),
        cost_per_attendee: budget.filter(|_| attended > 0).map(|b| b / attended),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> PiiKeys {
        PiiKeys::new(1, [1u8; 32], Vec::new(), Some([42u8; 32]))
    }

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    const T: TenantId = TenantId::new(7);

    #[test]
    fn a_code_is_taken_in_its_window_and_the_next_then_expires() {
        let id = Uuid::now_v7();
        let start = at(1_790_000_010);
        let (code, next) = issue_code(&keys(), T, 42, id, start);
        assert!(code.starts_with("AC"));
        assert_eq!(code.len(), 18);
        assert_eq!(next, at(1_790_000_040));
        let p = read_code(&format!(" {} ", code.to_lowercase())).unwrap();
        assert_eq!(p.number, 42);
        assert_eq!(check_code(&keys(), T, id, &p, start), Ok(()));
        assert_eq!(check_code(&keys(), T, id, &p, at(1_790_000_069)), Ok(()));
        assert_eq!(
            check_code(&keys(), T, id, &p, at(1_790_000_070)),
            Err(CodeError::Expired)
        );
    }

    #[test]
    fn another_registration_business_or_a_changed_character_is_invalid() {
        let id = Uuid::now_v7();
        let now = at(1_790_000_000);
        let (code, _) = issue_code(&keys(), T, 1, id, now);
        let p = read_code(&code).unwrap();
        assert_eq!(
            check_code(&keys(), T, Uuid::now_v7(), &p, now),
            Err(CodeError::Invalid)
        );
        assert_eq!(
            check_code(&keys(), TenantId::new(8), id, &p, now),
            Err(CodeError::Invalid)
        );
        let mut forged = code.clone().into_bytes();
        let last = forged.len() - 1;
        forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
        let forged = read_code(std::str::from_utf8(&forged).unwrap()).unwrap();
        assert_eq!(
            check_code(&keys(), T, id, &forged, now),
            Err(CodeError::Invalid)
        );
        assert_eq!(read_code("PM123"), None);
        assert_eq!(read_code("ACIIIIIIIIIIIIIIII"), None);
    }

    #[test]
    fn states_move_forward_and_anything_unfinished_may_be_cancelled() {
        use Status::*;
        assert!(Draft.may_become(Published));
        assert!(!Draft.may_become(Finished));
        assert!(Closed.may_become(Published));
        assert!(!Finished.may_become(Cancelled));
        assert!(!Cancelled.may_become(Published));
        assert!(Published.may_become(Cancelled));
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, Status::NAMES);
    }

    #[test]
    fn every_price_kind_reads_back_as_its_name_and_nothing_else_reads() {
        for name in PRICE_KINDS {
            assert_eq!(PriceKind::parse(name).map(PriceKind::as_str), Some(*name));
        }
        assert_eq!(PriceKind::parse("yuan"), None);
    }

    #[test]
    fn figures_count_no_shows_rate_and_cost() {
        let f = figures(10, 8, Some(100_000));
        assert_eq!(f.no_shows, 2);
        assert_eq!(f.attendance_rate, Some(0.8));
        assert_eq!(f.cost_per_attendee, Some(12_500));
        assert_eq!(figures(0, 0, Some(5)).attendance_rate, None);
        assert_eq!(figures(3, 0, Some(5)).cost_per_attendee, None);
    }
}
