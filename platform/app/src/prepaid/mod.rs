//! Prepaid: stored value ([`stored_value`]), visit passes ([`passes`]) and membership plans
//! with their charge records ([`memberships`]). The arithmetic is `patron_core::prepaid`;
//! the statements are `patron_db::prepaid`.

pub mod memberships;
pub mod mine;
pub mod passes;
pub mod stored_value;

pub use stored_value::{
    check_payments, insufficient_stored_value, payment_rows, preview_top_up, preview_top_up_refund,
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

/// The names of every [`Method`], and of those that pay from outside (not from the balance).
pub const METHOD_NAMES: &[&str] = &[
    "stored_value",
    "cash",
    "card",
    "wechat",
    "alipay",
    "bank_transfer",
];
pub const OUTSIDE_METHOD_NAMES: &[&str] = &["cash", "card", "wechat", "alipay", "bank_transfer"];

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
        if r.chars().count() > 100 {
            v.check::<()>("receipt", Err(Issue::too_long(100)));
        } else if r.chars().any(char::is_control) {
            v.check::<()>("receipt", Err(Issue::control_characters()));
        }
    }
}

/// Takes a sale's price (a membership, its renewal, a pass) from the member's stored value
/// by the business's spend order, in the sale's transaction: the balance row is locked, the
/// split decided, and the balance moved by one conditional statement that never lets either
/// sub-ledger below zero (409 `insufficient_stored_value` on `method` when it does not
/// cover the price). The entries name the sale's charge record.
pub(crate) async fn pay_sale_from_balance(
    tx: &mut patron_db::TenantTx,
    member_id: uuid::Uuid,
    amount: i64,
    charge_id: uuid::Uuid,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<patron_core::prepaid::Split, crate::AppError> {
    use patron_core::prepaid::{split_spend, Split};
    use patron_db::prepaid as db;
    if amount <= 0 {
        return Ok(Split::default());
    }
    let held = db::lock_balance(tx, member_id, now).await?;
    let order = stored_value::settings(tx).await?.spend_order;
    let insufficient = || insufficient_stored_value("method", held.principal + held.bonus, amount);
    let split = split_spend(
        amount,
        Split {
            principal: held.principal,
            bonus: held.bonus,
        },
        order,
    )
    .ok_or_else(insufficient)?;
    let refs = db::Refs {
        charge_id: Some(charge_id),
        reason: "sale",
        ..db::Refs::default()
    };
    db::apply(
        tx,
        member_id,
        -split.principal,
        -split.bonus,
        "spend",
        &refs,
        actor,
        now,
    )
    .await?
    .ok_or_else(insufficient)?;
    Ok(split)
}

/// Puts stored value back to the sub-ledgers it was taken from (a cancelled membership's
/// unused part), naming the refund's charge record.
pub(crate) async fn refund_sale_to_balance(
    tx: &mut patron_db::TenantTx,
    member_id: uuid::Uuid,
    back: patron_core::prepaid::Split,
    charge_id: uuid::Uuid,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), crate::AppError> {
    use patron_db::prepaid as db;
    if back.total() <= 0 {
        return Ok(());
    }
    db::lock_balance(tx, member_id, now).await?;
    let refs = db::Refs {
        charge_id: Some(charge_id),
        reason: "sale refunded",
        ..db::Refs::default()
    };
    db::apply(
        tx,
        member_id,
        back.principal,
        back.bonus,
        "refund",
        &refs,
        actor,
        now,
    )
    .await?
    .ok_or_else(|| crate::AppError::internal_msg("a refund cannot lower a balance"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_method_names_are_the_methods() {
        let all: Vec<&str> = Method::ALL.into_iter().map(Method::as_str).collect();
        assert_eq!(all, METHOD_NAMES);
        assert_eq!(&all[1..], OUTSIDE_METHOD_NAMES);
    }
}
