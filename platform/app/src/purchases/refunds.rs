//! Refunds: the points a purchase earned are taken back in proportion (refunds in parts add
//! up to exactly the whole); points already spent follow the business's policy (a negative
//! balance, or a debt the next earnings settle).

use crate::idempotency::{self, Request};
use crate::points::decide::{self, RefundAmount, Replayable, TakeBack};
use crate::points::{check_external_id, external_id_reused, request_hash, stored, MAX_AMOUNT};
use crate::{AppError, OnConstraint};
use chrono::{DateTime, Utc};
use patron_core::idempotency::Scope;
use patron_core::points::{self as core_points, EntryKind, EntrySource};
use patron_core::prepaid::Split;
use patron_core::reasons::Reason;
use patron_db::points::{self, Source};
use patron_db::{constraints, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// A refund as the caller sent it (hashed in this field order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRefund {
    pub external_id: String,
    pub purchase_id: Option<Uuid>,
    pub purchase_external_id: Option<String>,
    pub amount: Option<i64>,
}

/// What a refund took back (stored as the answer to a retry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefundResult {
    pub refund_id: Uuid,
    pub external_id: String,
    pub purchase_id: Uuid,
    pub member_id: Uuid,
    pub amount: i64,
    pub points: i64,
    pub debt_added: i64,
    pub balance: i64,
    pub debt: i64,
    pub refundable: i64,
    /// What went back to the member's stored value, by sub-ledger (when it paid).
    #[serde(default)]
    pub stored_value: Option<Split>,
    /// Coupons the purchase used that a refund in full gave back (by their terms).
    #[serde(default)]
    pub restored_coupons: Vec<String>,
    #[serde(default)]
    pub replayed: bool,
}

impl Replayable for RefundResult {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

/// Refunds all or part of a purchase. Idempotent by `external_id`. The caller commits `tx`.
pub async fn refund(
    tx: &mut TenantTx,
    engine: &crate::engine::RuleEngine,
    req: &NewRefund,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RefundResult, AppError> {
    let mut v = patron_core::Validation::new();
    check_external_id(&mut v, "external_id", &req.external_id);
    if let Some(a) = req.amount {
        if !(1..=MAX_AMOUNT).contains(&a) {
            v.check::<()>(
                "amount",
                Err(patron_core::Issue::new(
                    patron_core::FieldCode::OutOfRange,
                    "must be at least 1 (minor units)",
                )
                .with("min", 1)
                .with("max", MAX_AMOUNT)),
            );
        }
    }
    if req.purchase_id.is_some() == req.purchase_external_id.is_some() {
        v.check::<()>(
            "purchase_id",
            Err(patron_core::Issue::new(
                patron_core::FieldCode::OneOf,
                "give exactly one of purchase_id or purchase_external_id",
            )
            .with("options", "purchase_id, purchase_external_id")),
        );
    }
    v.finish().map_err(AppError::invalid)?;
    let key = Request::global(Scope::Refund, "external_id", &req.external_id, req);
    idempotency::run(tx, &key, now, async |tx| {
        refund_once(tx, engine, req, actor, now).await
    })
    .await
}

async fn refund_once(
    tx: &mut TenantTx,
    engine: &crate::engine::RuleEngine,
    req: &NewRefund,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RefundResult, AppError> {
    let field = if req.purchase_id.is_some() {
        "purchase_id"
    } else {
        "purchase_external_id"
    };
    let member_id = points::purchase_member(
        tx,
        req.purchase_id,
        req.purchase_external_id.as_deref().map(str::trim),
    )
    .await?
    .ok_or_else(|| {
        AppError::field(
            field,
            patron_core::Issue::new(
                patron_core::FieldCode::NoSuchPurchase,
                "there is no such purchase",
            ),
        )
    })?;
    let mut account = points::lock_account(tx, member_id, now).await?;
    let hash = request_hash(req);
    let external_id = req.external_id.trim().to_owned();
    if let Some((h, r)) = points::refund_by_external_id(tx, &external_id).await? {
        if h != hash {
            return Err(external_id_reused());
        }
        return decide::replay(&h, &hash, stored::<RefundResult>(r)?)
            .ok_or_else(external_id_reused);
    }
    let p = points::purchase_for_update(
        tx,
        req.purchase_id,
        req.purchase_external_id.as_deref().map(str::trim),
    )
    .await?;
    let refundable = p.amount - p.refunded;
    let amount = match decide::refund_amount(refundable, req.amount) {
        RefundAmount::Refund(a) => a,
        RefundAmount::FullyRefunded => {
            return Err(AppError::conflict(
                "fully_refunded",
                Some(field),
                "this purchase has been refunded in full",
            ))
        }
        RefundAmount::TooMuch(left) => {
            return Err(AppError::field(
                "amount",
                patron_core::Issue::new(
                    patron_core::FieldCode::TooLarge,
                    format!("at most {left} of this purchase is left to refund"),
                )
                .with("max", left),
            ))
        }
    };
    let back = core_points::points_to_reverse(p.points, p.amount, p.refunded, p.reversed, amount);
    let rules = engine.tenant(tx).await?;
    let id = Uuid::now_v7();
    let src = Source {
        kind: EntrySource::Refund,
        id: id.to_string(),
        rule_version: p.rule_version,
        reason: Reason::point("refund", json!({ "purchase": p.external_id })).into(),
        detail: Some(json!({ "purchase_id": p.id, "amount": amount })),
        actor,
        at: now,
    };
    let how = decide::take_back(back, account.balance, rules.settings.refund_shortfall);
    match how {
        TakeBack::Nothing => {}
        TakeBack::FromLots(n) => {
            points::take(tx, &mut account, EntryKind::Reverse, n, &src, p.entry_id).await?;
        }
        TakeBack::IntoNegative(n) => {
            points::take_into_negative(tx, &mut account, n, &src, p.entry_id).await?;
        }
        TakeBack::WithDebt { from_lots, .. } => {
            if from_lots > 0 {
                points::take(
                    tx,
                    &mut account,
                    EntryKind::Reverse,
                    from_lots,
                    &src,
                    p.entry_id,
                )
                .await?;
            }
        }
    }
    let debt_added = how.debt();
    account.spend_total -= amount;
    // Stored value that paid goes back to the sub-ledgers it came from.
    let stored_value = crate::prepaid::refund_purchase(
        tx, member_id, p.id, p.amount, p.refunded, amount, id, actor, now,
    )
    .await?;
    let restored_coupons =
        crate::coupons::restore_for_refund(tx, p.id, amount == refundable, id, actor, now).await?;
    let result = RefundResult {
        refund_id: id,
        external_id: external_id.clone(),
        purchase_id: p.id,
        member_id,
        amount,
        points: back,
        debt_added,
        balance: account.balance,
        debt: account.debt + debt_added,
        refundable: refundable - amount,
        stored_value,
        restored_coupons,
        replayed: false,
    };
    points::insert_refund(
        tx,
        &points::NewRefundRow {
            id,
            external_id: &external_id,
            hash: &hash,
            purchase_id: p.id,
            amount,
            points: back,
            debt: debt_added,
            at: now,
            by: actor,
            response: serde_json::to_value(&result).expect("serialisable"),
        },
    )
    .await
    .on_constraint(constraints::REFUNDS_EXTERNAL_ID, external_id_reused)?;
    if debt_added > 0 {
        points::add_debt(tx, &mut account, id, debt_added, now).await?;
    }
    points::save_account(tx, &account, now).await?;
    Ok(result)
}
