//! Prepaid: stored value ([`stored_value`]), visit passes ([`passes`]) and membership plans
//! with their charge records ([`memberships`]). The arithmetic is `patron_core::prepaid`;
//! the statements are `patron_db::prepaid`.

pub mod memberships;
pub mod mine;
pub mod passes;
pub mod stored_value;

pub use stored_value::{
    check_payments, pay_purchase, preview_top_up, preview_top_up_refund, record_payments,
    refund_purchase, refund_top_up, set_settings, settings, stored_value, top_up, NewTopUp,
    NewTopUpRefund, PaymentIn, PrepaidSettings, StoredValue, TopUpPreview, TopUpRefundPreview,
    TopUpResult,
};

use crate::points::check_external_id;
use patron_core::problem::Issue;

/// How money changed hands: recorded as the staff say, never charged by us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    StoredValue,
    Cash,
    Card,
    Wechat,
    Alipay,
    BankTransfer,
}

impl Method {
    pub const ALL: [Method; 6] = [
        Self::StoredValue,
        Self::Cash,
        Self::Card,
        Self::Wechat,
        Self::Alipay,
        Self::BankTransfer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::StoredValue => "stored_value",
            Self::Cash => "cash",
            Self::Card => "card",
            Self::Wechat => "wechat",
            Self::Alipay => "alipay",
            Self::BankTransfer => "bank_transfer",
        }
    }
}

/// A payment method; `stored_value` only where the balance may pay (`balance_ok`).
pub(crate) fn check_method(
    v: &mut patron_core::Validation,
    field: &str,
    raw: &str,
    balance_ok: bool,
) -> Option<Method> {
    let found = Method::ALL
        .into_iter()
        .filter(|m| balance_ok || *m != Method::StoredValue)
        .find(|m| m.as_str() == raw.trim());
    if found.is_none() {
        let names: Vec<&str> = Method::ALL
            .into_iter()
            .filter(|m| balance_ok || *m != Method::StoredValue)
            .map(Method::as_str)
            .collect();
        v.check::<()>(field, Err(Issue::not_one_of(raw, &names)));
    }
    found
}

pub(crate) fn check_key(v: &mut patron_core::Validation, key: &str) {
    check_external_id(v, "idempotency_key", key);
    if key.len() > 100 {
        v.check::<()>("idempotency_key", Err(Issue::too_long(100)));
    }
}

pub(crate) fn check_receipt(v: &mut patron_core::Validation, receipt: Option<&str>) {
    if let Some(r) = receipt {
        if r.len() > 100 || r.chars().any(char::is_control) {
            v.check::<()>("receipt", Err(Issue::too_long(100)));
        }
    }
}
