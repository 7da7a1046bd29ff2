//! Stored value (储值): top-ups with the business's bonus, payments from the balance by its
//! spend order, refunds of purchases (back to the sub-ledgers they came from) and of
//! top-ups (principal not yet spent; the bonus is forfeited). Every keyed change claims
//! its key first (`idempotency::run`), then locks the member's balance row.

use super::{check_key, check_method, check_receipt, Method};
use crate::idempotency::{self, Request};
use crate::points::decide::Replayable;
use crate::points::{member_of, MAX_AMOUNT};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::idempotency::Scope;
use patron_core::prepaid::{self as core, BonusRule, SpendOrder, Split, NAMED_CARD_LIMIT};
use patron_core::problem::{FieldCode, Issue};
use patron_db::prepaid::{self as db, Balance, Refs};
use patron_db::TenantTx;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The business's stored-value and membership settings, read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrepaidSettings {
    pub spend_order: SpendOrder,
    pub bonus_rule: BonusRule,
    pub balance_cap: Option<i64>,
    pub freeze_days_per_year: i64,
}

pub async fn settings(tx: &mut TenantTx) -> Result<PrepaidSettings, AppError> {
    let s = db::settings(tx).await?;
    Ok(PrepaidSettings {
        spend_order: SpendOrder::parse(&s.spend_order).unwrap_or_default(),
        bonus_rule: serde_json::from_value(s.bonus_rule).unwrap_or_default(),
        balance_cap: s.balance_cap,
        freeze_days_per_year: s.freeze_days_per_year.into(),
    })
}

pub async fn set_settings(
    tx: &mut TenantTx,
    s: &PrepaidSettings,
    now: DateTime<Utc>,
) -> Result<PrepaidSettings, AppError> {
    let mut v = patron_core::Validation::new();
    for (field, problem) in s.bonus_rule.problems() {
        v.check::<()>(&field, Err(problem));
    }
    if let Some(cap) = s.balance_cap {
        if !(1..=MAX_AMOUNT).contains(&cap) {
            v.check::<()>(
                "balance_cap",
                Err(Issue::too_small(1).words("must be at least 1 (minor units)")),
            );
        }
    }
    if !(0..=366).contains(&s.freeze_days_per_year) {
        v.check::<()>("freeze_days_per_year", Err(Issue::out_of_range(0, 366)));
    }
    v.finish().map_err(AppError::invalid)?;
    db::set_settings(
        tx,
        &db::Settings {
            spend_order: s.spend_order.as_str().into(),
            bonus_rule: serde_json::to_value(&s.bonus_rule).expect("serialisable"),
            balance_cap: s.balance_cap,
            freeze_days_per_year: s.freeze_days_per_year as i32,
        },
        now,
    )
    .await?;
    settings(tx).await
}

/// What a top-up of an amount would give, before it is confirmed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopUpPreview {
    pub principal: i64,
    pub bonus: i64,
    pub balance_after: Balance,
    /// `named_card_limit` when the balance would pass ¥5,000.
    pub warnings: Vec<String>,
}

fn warnings(after: Balance) -> Vec<String> {
    if after.principal + after.bonus > NAMED_CARD_LIMIT {
        vec!["named_card_limit".into()]
    } else {
        Vec::new()
    }
}

fn check_amount(v: &mut patron_core::Validation, field: &str, amount: i64) {
    if !(1..=core::MAX_MONEY).contains(&amount) {
        v.check::<()>(
            field,
            Err(Issue::out_of_range(1, core::MAX_MONEY)
                .words(format!("must be 1 to {} (minor units)", core::MAX_MONEY))),
        );
    }
}

fn preview_of(s: &PrepaidSettings, held: Balance, amount: i64) -> Result<TopUpPreview, AppError> {
    let bonus = s.bonus_rule.bonus_for(amount);
    let after = Balance {
        principal: held.principal + amount,
        bonus: held.bonus + bonus,
    };
    if let Some(cap) = s.balance_cap {
        if after.principal + after.bonus > cap {
            return Err(AppError::refused(
                "stored_value_cap_exceeded",
                "amount",
                format!(
                    "the balance would be {} and the business allows at most {cap}",
                    after.principal + after.bonus
                ),
            ));
        }
    }
    Ok(TopUpPreview {
        principal: amount,
        bonus,
        balance_after: after,
        warnings: warnings(after),
    })
}

/// What a top-up of `amount` would give the member now.
pub async fn preview_top_up(
    tx: &mut TenantTx,
    member_id: Uuid,
    amount: i64,
) -> Result<TopUpPreview, AppError> {
    let mut v = patron_core::Validation::new();
    check_amount(&mut v, "amount", amount);
    v.finish().map_err(AppError::invalid)?;
    let member = member_of(tx, member_id).await?;
    let s = settings(tx).await?;
    let held = db::balance(tx, member.id).await?;
    preview_of(&s, held, amount)
}

/// A top-up as sent (hashed in this field order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTopUp {
    pub idempotency_key: String,
    pub amount: i64,
    pub method: String,
    pub receipt: Option<String>,
}

/// What a top-up did (stored as the answer to a retry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopUpResult {
    pub top_up_id: Uuid,
    pub member_id: Uuid,
    pub principal: i64,
    pub bonus: i64,
    pub balance: Balance,
    pub warnings: Vec<String>,
    #[serde(default)]
    pub replayed: bool,
}

impl Replayable for TopUpResult {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

/// Tops up a member's stored value: the amount paid to the principal, the business's bonus
/// to the bonus, a charge record of the payment. Idempotent by the key (per member). The
/// caller commits.
pub async fn top_up(
    tx: &mut TenantTx,
    member_id: Uuid,
    req: &NewTopUp,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<TopUpResult, AppError> {
    let mut v = patron_core::Validation::new();
    check_key(&mut v, &req.idempotency_key);
    check_amount(&mut v, "amount", req.amount);
    let method = check_method(&mut v, "method", &req.method, false);
    check_receipt(&mut v, req.receipt.as_deref());
    v.finish().map_err(AppError::invalid)?;
    let method = method.expect("checked");
    let member = member_of(tx, member_id).await?;
    let key = Request::scoped(
        Scope::TopUp,
        member.id,
        "idempotency_key",
        &req.idempotency_key,
        req,
    );
    idempotency::run(tx, &key, now, async |tx| {
        top_up_once(tx, &member, method, req, actor, now).await
    })
    .await
}

async fn top_up_once(
    tx: &mut TenantTx,
    member: &patron_db::members::Member,
    method: Method,
    req: &NewTopUp,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<TopUpResult, AppError> {
    let held = db::lock_balance(tx, member.id, now).await?;
    let s = settings(tx).await?;
    let preview = preview_of(&s, held, req.amount)?;
    let id = Uuid::now_v7();
    db::insert_top_up(
        tx,
        &db::TopUp {
            id,
            member_id: member.id,
            principal: preview.principal,
            bonus: preview.bonus,
            method: method.as_str().into(),
            receipt: req.receipt.as_deref().unwrap_or("").trim().into(),
            at: now,
            actor: actor.into(),
            refunded_at: None,
            refunded_principal: None,
            forfeited_bonus: None,
        },
    )
    .await?;
    let refs = Refs {
        top_up_id: Some(id),
        reason: "top-up",
        ..Refs::default()
    };
    let balance = db::apply(
        tx,
        member.id,
        preview.principal,
        preview.bonus,
        "top_up",
        &refs,
        actor,
        now,
    )
    .await?
    .ok_or_else(|| AppError::internal_msg("a top-up cannot lower a balance"))?;
    db::insert_charge(
        tx,
        &db::Charge {
            id: Uuid::now_v7(),
            member_id: member.id,
            kind: "top_up".into(),
            amount: req.amount,
            method: method.as_str().into(),
            receipt: req.receipt.as_deref().unwrap_or("").trim().into(),
            staff: actor.into(),
            plan_id: None,
            membership_id: None,
            pass_id: None,
            top_up_id: Some(id),
            at: now,
            principal: 0,
            bonus: 0,
        },
    )
    .await?;
    let result = TopUpResult {
        top_up_id: id,
        member_id: member.id,
        principal: preview.principal,
        bonus: preview.bonus,
        balance,
        warnings: warnings(balance),
        replayed: false,
    };
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "stored_value.topped_up",
        member.id,
        serde_json::json!({ "principal": result.principal, "bonus": result.bonus }),
    )
    .await?;
    Ok(result)
}

/// What refunding a top-up gives back now.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TopUpRefundPreview {
    pub top_up_id: Uuid,
    /// Principal returned to the member (what of it was not spent).
    pub principal: i64,
    /// Bonus taken back (what of it was not spent).
    pub bonus_forfeited: i64,
    /// Principal of this top-up already spent.
    pub principal_spent: i64,
    pub balance_after: Balance,
}

async fn refund_preview_of(
    tx: &mut TenantTx,
    t: &db::TopUp,
    held: Balance,
) -> Result<TopUpRefundPreview, AppError> {
    if t.refunded_at.is_some() {
        return Err(AppError::conflict(
            "top_up_refunded",
            None,
            "this top-up has been refunded",
        ));
    }
    let newer = db::newer_top_ups(tx, t).await?;
    let back = core::top_up_refund(
        Split {
            principal: t.principal,
            bonus: t.bonus,
        },
        Split {
            principal: held.principal,
            bonus: held.bonus,
        },
        Split {
            principal: newer.principal,
            bonus: newer.bonus,
        },
    );
    Ok(TopUpRefundPreview {
        top_up_id: t.id,
        principal: back.principal,
        bonus_forfeited: back.bonus,
        principal_spent: t.principal - back.principal,
        balance_after: Balance {
            principal: held.principal - back.principal,
            bonus: held.bonus - back.bonus,
        },
    })
}

pub async fn preview_top_up_refund(
    tx: &mut TenantTx,
    member_id: Uuid,
    top_up_id: Uuid,
) -> Result<TopUpRefundPreview, AppError> {
    let member = member_of(tx, member_id).await?;
    let t = db::top_up(tx, member.id, top_up_id)
        .await?
        .ok_or_else(|| AppError::not_found("top-up"))?;
    let held = db::balance(tx, member.id).await?;
    refund_preview_of(tx, &t, held).await
}

/// A refund of a top-up as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTopUpRefund {
    /// How the money goes back (`cash`, `card`, `wechat`, `alipay`, `bank_transfer`).
    pub method: String,
    pub receipt: Option<String>,
    /// The principal the preview showed: refused when it changed since (a spend in
    /// between), so the member is paid what they were told.
    pub expected_principal: Option<i64>,
}

/// Refunds a top-up: its unspent principal goes back (recorded as a negative charge), its
/// unspent bonus is forfeited. Once per top-up. The caller commits.
pub async fn refund_top_up(
    tx: &mut TenantTx,
    member_id: Uuid,
    top_up_id: Uuid,
    req: &NewTopUpRefund,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<TopUpRefundPreview, AppError> {
    let mut v = patron_core::Validation::new();
    let method = check_method(&mut v, "method", &req.method, false);
    check_receipt(&mut v, req.receipt.as_deref());
    v.finish().map_err(AppError::invalid)?;
    let method = method.expect("checked");
    let member = member_of(tx, member_id).await?;
    let held = db::lock_balance(tx, member.id, now).await?;
    let t = db::top_up(tx, member.id, top_up_id)
        .await?
        .ok_or_else(|| AppError::not_found("top-up"))?;
    let p = refund_preview_of(tx, &t, held).await?;
    if let Some(expected) = req.expected_principal {
        if expected != p.principal {
            return Err(AppError::conflict(
                "top_up_refund_changed",
                Some("expected_principal"),
                format!("the refund is now {}; preview it again", p.principal),
            ));
        }
    }
    let refs = Refs {
        top_up_id: Some(t.id),
        reason: "top-up refunded",
        ..Refs::default()
    };
    if p.principal > 0 || p.bonus_forfeited > 0 {
        db::apply(
            tx,
            member.id,
            -p.principal,
            -p.bonus_forfeited,
            "top_up_refund",
            &refs,
            actor,
            now,
        )
        .await?
        .ok_or_else(|| AppError::internal_msg("a top-up refund found less than it previewed"))?;
    }
    db::mark_top_up_refunded(tx, t.id, p.principal, p.bonus_forfeited, now).await?;
    db::insert_charge(
        tx,
        &db::Charge {
            id: Uuid::now_v7(),
            member_id: member.id,
            kind: "top_up_refund".into(),
            amount: -p.principal,
            method: method.as_str().into(),
            receipt: req.receipt.as_deref().unwrap_or("").trim().into(),
            staff: actor.into(),
            plan_id: None,
            membership_id: None,
            pass_id: None,
            top_up_id: Some(t.id),
            at: now,
            principal: 0,
            bonus: 0,
        },
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "stored_value.refunded",
        member_id,
        serde_json::json!({ "principal": p.principal, "bonus_forfeited": p.bonus_forfeited }),
    )
    .await?;
    Ok(p)
}

/// A member's stored value: the balance by sub-ledger, their top-ups, and the latest
/// entries.
#[derive(Debug, Clone, Serialize)]
pub struct StoredValue {
    pub balance: Balance,
    pub top_ups: Vec<db::TopUp>,
    pub entries: Vec<db::Entry>,
}

pub async fn stored_value(
    tx: &mut TenantTx,
    member_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<StoredValue, AppError> {
    let member = member_of(tx, member_id).await?;
    Ok(StoredValue {
        balance: db::balance(tx, member.id).await?,
        top_ups: db::top_ups(tx, member.id).await?,
        entries: db::entries(tx, member.id, before, limit.clamp(1, 200)).await?,
    })
}

/// One way a purchase is paid, as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PaymentIn {
    pub method: String,
    pub amount: i64,
}

/// Checks a purchase's payments: known methods, each once, amounts above zero that add up
/// to the purchase's amount.
pub fn check_payments(v: &mut patron_core::Validation, payments: &[PaymentIn], amount: i64) {
    let mut seen = Vec::new();
    for (i, p) in payments.iter().enumerate() {
        if let Some(m) = check_method(v, &format!("payments[{i}].method"), &p.method, true) {
            if seen.contains(&m) {
                v.check::<()>(
                    &format!("payments[{i}].method"),
                    Err(Issue::new(FieldCode::Duplicate, "appears twice")),
                );
            }
            seen.push(m);
        }
        if !(1..=MAX_AMOUNT).contains(&p.amount) {
            v.check::<()>(
                &format!("payments[{i}].amount"),
                Err(Issue::too_small(1).words("must be at least 1 (minor units)")),
            );
        }
    }
    let total: i128 = payments.iter().map(|p| p.amount as i128).sum();
    if !payments.is_empty() && total != amount as i128 {
        v.check::<()>(
            "payments",
            Err(Issue::new(
                FieldCode::NotAllowed,
                format!("must add up to the purchase's amount ({amount})"),
            )
            .with("reason", "payments_total")
            .with("amount", amount)),
        );
    }
}

/// The payment rows of a purchase as sent; what stored value takes of each sub-ledger is
/// filled in by the statement that pays it (`patron_db::prepaid::pay_ctes`).
pub fn payment_rows(payments: &[PaymentIn]) -> Vec<db::Payment> {
    payments
        .iter()
        .map(|p| db::Payment {
            method: p.method.trim().to_owned(),
            amount: p.amount,
            principal: 0,
            bonus: 0,
        })
        .collect()
}

/// 409 `insufficient_stored_value` on `field`: the member's balance (`held`) does not cover
/// the `asked` amount. Every path that spends stored value answers with this one (params
/// `balance` and `asked`).
pub fn insufficient_stored_value(field: &str, held: i64, asked: i64) -> AppError {
    AppError::conflict(
        "insufficient_stored_value",
        Some(field),
        format!("the member's stored value is {held}, {asked} was asked"),
    )
    .with_param("balance", held)
    .with_param("asked", asked)
}

/// Puts back the stored value a purchase took, in proportion to the part refunded: each
/// sub-ledger gets back its share, and refunds in parts add up to exactly what was taken.
/// Runs inside the refund's transaction, after the refund row is written.
#[allow(clippy::too_many_arguments)]
pub async fn refund_purchase(
    tx: &mut TenantTx,
    member_id: Uuid,
    purchase_id: Uuid,
    purchase_amount: i64,
    refunded_before: i64,
    refund: i64,
    refund_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Split>, AppError> {
    let Some(paid) = db::stored_value_payment(tx, purchase_id).await? else {
        return Ok(None);
    };
    let back = core::refund_back(
        Split {
            principal: paid.principal,
            bonus: paid.bonus,
        },
        purchase_amount,
        refunded_before,
        refund,
    );
    if back.total() > 0 {
        db::lock_balance(tx, member_id, now).await?;
        let refs = Refs {
            purchase_id: Some(purchase_id),
            refund_id: Some(refund_id),
            reason: "purchase refunded",
            ..Refs::default()
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
        .ok_or_else(|| AppError::internal_msg("a refund cannot lower a balance"))?;
    }
    Ok(Some(back))
}
