//! Idempotency of writes from outside: what a key is claimed under (the operation's
//! [`Scope`] and the [`Key`], scoped to what the write acts on) and the [`RequestHash`] that
//! tells a retry (same body: the first answer is replayed) from a reuse (another body: 409
//! `idempotency_key_reused`). The claim, the stored answer and the replay are in
//! `db::idempotency` and `app::idempotency`; docs/idempotency.md is the rule for
//! integrators.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// The operation a key belongs to: the same key may be used once per scope (and per
/// owner, see [`Key::scoped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Redemption,
    Adjustment,
    Purchase,
    Refund,
    Event,
    CheckIn,
    TopUp,
    TopUpRefund,
    PassUse,
    PassReversal,
    PassSale,
    PassRenewal,
    PassFreeze,
    MembershipSale,
    MembershipRenewal,
    MembershipFreeze,
    MembershipCancel,
    MallOrder,
    MallOrderMove,
    CouponIssue,
    CouponClaim,
    CouponBatch,
    CouponSegmentIssue,
    ActivitySignUp,
    ActivityCancel,
    ActivityDecision,
    ActivityGuest,
    ConversationStart,
    ConversationMessage,
    ConversationReply,
    ConversationFollowUp,
}

impl Scope {
    pub const ALL: [Scope; 31] = [
        Scope::Redemption,
        Scope::Adjustment,
        Scope::Purchase,
        Scope::Refund,
        Scope::Event,
        Scope::CheckIn,
        Scope::TopUp,
        Scope::TopUpRefund,
        Scope::PassUse,
        Scope::PassReversal,
        Scope::PassSale,
        Scope::PassRenewal,
        Scope::PassFreeze,
        Scope::MembershipSale,
        Scope::MembershipRenewal,
        Scope::MembershipFreeze,
        Scope::MembershipCancel,
        Scope::MallOrder,
        Scope::MallOrderMove,
        Scope::CouponIssue,
        Scope::CouponClaim,
        Scope::CouponBatch,
        Scope::CouponSegmentIssue,
        Scope::ActivitySignUp,
        Scope::ActivityCancel,
        Scope::ActivityDecision,
        Scope::ActivityGuest,
        Scope::ConversationStart,
        Scope::ConversationMessage,
        Scope::ConversationReply,
        Scope::ConversationFollowUp,
    ];

    /// The name stored in `idempotency_keys.scope` (the first names are those the stored
    /// answers had before the table was shared: `redemption`, `adjustment`, `top_up`,
    /// `pass_use`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Redemption => "redemption",
            Scope::Adjustment => "adjustment",
            Scope::Purchase => "purchase",
            Scope::Refund => "refund",
            Scope::Event => "event",
            Scope::CheckIn => "check_in",
            Scope::TopUp => "top_up",
            Scope::TopUpRefund => "top_up_refund",
            Scope::PassUse => "pass_use",
            Scope::PassReversal => "pass_reversal",
            Scope::PassSale => "pass_sale",
            Scope::PassRenewal => "pass_renewal",
            Scope::PassFreeze => "pass_freeze",
            Scope::MembershipSale => "membership_sale",
            Scope::MembershipRenewal => "membership_renewal",
            Scope::MembershipFreeze => "membership_freeze",
            Scope::MembershipCancel => "membership_cancel",
            Scope::MallOrder => "mall_order",
            Scope::MallOrderMove => "mall_order_move",
            Scope::CouponIssue => "coupon_issue",
            Scope::CouponClaim => "coupon_claim",
            Scope::CouponBatch => "coupon_batch",
            Scope::CouponSegmentIssue => "coupon_segment_issue",
            Scope::ActivitySignUp => "activity_sign_up",
            Scope::ActivityCancel => "activity_cancel",
            Scope::ActivityDecision => "activity_decision",
            Scope::ActivityGuest => "activity_guest",
            Scope::ConversationStart => "conversation_start",
            Scope::ConversationMessage => "conversation_message",
            Scope::ConversationReply => "conversation_reply",
            Scope::ConversationFollowUp => "conversation_follow_up",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A caller's key as stored: trimmed, and prefixed with what the write acts on when keys
/// are unique per member (or per pass, per top-up ...), so two members' tills may use the
/// same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    /// A key unique in its scope (an external id: a purchase's, a refund's, an event's).
    pub fn global(key: &str) -> Key {
        Key(key.trim().to_owned())
    }

    /// A key unique per `owner` (a member, a pass, a membership, a top-up).
    pub fn scoped(owner: impl fmt::Display, key: &str) -> Key {
        Key(format!("{owner}:{}", key.trim()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 of a request's JSON: the caller's own values as received (defaults not filled
/// in), so a retry of the same body has the same hash and any other value another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestHash(Vec<u8>);

impl RequestHash {
    pub fn of<T: Serialize>(req: &T) -> RequestHash {
        RequestHash(Sha256::digest(serde_json::to_vec(req).expect("serialisable")).to_vec())
    }

    pub fn from_stored(bytes: Vec<u8>) -> RequestHash {
        RequestHash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What a claimed key's stored row means for a new request with `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier<T> {
    /// The same body: answer what the first request answered.
    Replay(T),
    /// Another body under the key: 409 naming the key's field.
    Reused,
}

/// Decides between a replay and a reuse.
pub fn compare<T>(stored: &RequestHash, hash: &RequestHash, answer: T) -> Earlier<T> {
    if stored == hash {
        Earlier::Replay(answer)
    } else {
        Earlier::Reused
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashSet;

    #[test]
    fn scope_names_are_distinct_and_keep_the_stored_names() {
        let names: HashSet<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), Scope::ALL.len());
        // Rows stored before the shared table keep answering under these names.
        assert_eq!(Scope::Redemption.as_str(), "redemption");
        assert_eq!(Scope::Adjustment.as_str(), "adjustment");
        assert_eq!(Scope::TopUp.as_str(), "top_up");
        assert_eq!(Scope::PassUse.as_str(), "pass_use");
        assert_eq!(Scope::MembershipCancel.to_string(), "membership_cancel");
    }

    #[test]
    fn keys_are_trimmed_and_scoped_by_owner() {
        assert_eq!(Key::global("  r-1 ").as_str(), "r-1");
        assert_eq!(Key::scoped("m1", " k ").as_str(), "m1:k");
        assert_ne!(Key::scoped("m1", "k"), Key::scoped("m2", "k"));
        assert_ne!(Key::scoped("m1", "k"), Key::global("k"));
    }

    #[test]
    fn the_hash_tells_a_retry_from_another_body() {
        let a = RequestHash::of(&json!({ "key": "k", "points": 10 }));
        let same = RequestHash::of(&json!({ "key": "k", "points": 10 }));
        let other = RequestHash::of(&json!({ "key": "k", "points": 11 }));
        assert_eq!(a, same);
        assert_ne!(a, other);
        assert_eq!(a.as_bytes().len(), 32);
        assert_eq!(RequestHash::from_stored(a.as_bytes().to_vec()), a);
    }

    #[test]
    fn same_hash_replays_and_another_is_a_reuse() {
        let h = RequestHash::of(&1);
        assert_eq!(compare(&h, &h, "first"), Earlier::Replay("first"));
        assert_eq!(compare(&h, &RequestHash::of(&2), "first"), Earlier::Reused);
    }
}
