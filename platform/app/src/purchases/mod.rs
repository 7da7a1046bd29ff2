//! Purchases and refunds: recording a purchase runs the earn pipeline (the purchase rule in
//! force, the ledger, the tier check, a first purchase's referral reward); a refund takes
//! back the points in proportion. Both are idempotent by the caller's external id.

mod history;
mod lookup;
mod record;
mod refunds;

pub use history::{history, purchase, PurchaseHistory};
pub use lookup::{resolve_member, MemberRef};
pub use record::{record_once, NewPurchase, PurchaseItem, PurchaseResult, ReferralReward};
pub use refunds::{refund, NewRefund, RefundResult};
