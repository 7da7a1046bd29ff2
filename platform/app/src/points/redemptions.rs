//! Spending points: for a reward, or as money off a purchase. The balance check and the
//! debit are one statement, so concurrent redemptions never overdraw.

use super::decide::{self, SpendRefused};
use super::ledger::PointsChange;
use super::{check_external_id, key_reused, member_of, request_hash, stored, MAX_AMOUNT};
use crate::engine::RuleEngine;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::points::EntrySource;
use patron_db::points::{self, Source};
use patron_db::{constraints, TenantTx};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

/// A redemption as the caller sent it (hashed in this field order).
#[derive(Debug, Clone, Serialize)]
pub struct NewRedemption {
    pub idempotency_key: String,
    pub points: Option<i64>,
    pub reward: Option<String>,
    pub purchase_amount: Option<i64>,
}

fn check(req: &NewRedemption) -> Result<(), AppError> {
    let mut v = patron_core::Validation::new();
    check_external_id(&mut v, "idempotency_key", &req.idempotency_key);
    match (&req.reward, req.purchase_amount, req.points) {
        (Some(_), Some(_), _) => {
            v.check::<()>(
                "reward",
                Err("give either reward or purchase_amount".into()),
            );
        }
        (Some(r), None, p) => {
            if r.trim().is_empty() {
                v.check::<()>("reward", Err("must not be empty".into()));
            }
            if p.is_none() {
                v.check::<()>("points", Err("is required for a reward".into()));
            }
        }
        (None, Some(a), _) if !(1..=MAX_AMOUNT).contains(&a) => {
            v.check::<()>(
                "purchase_amount",
                Err("must be at least 1 (minor units)".into()),
            );
        }
        (None, None, _) => {
            v.check::<()>(
                "reward",
                Err("give either reward or purchase_amount".into()),
            );
        }
        _ => {}
    }
    if let Some(p) = req.points {
        if !(1..=1_000_000_000).contains(&p) {
            v.check::<()>("points", Err("must be 1 to 1000000000".into()));
        }
    }
    v.finish().map_err(AppError::invalid)
}

/// One try at a redemption, idempotent by the key (per member): the change, or `None`
/// when a request with the same key committed after this one's read (the caller starts
/// over in a new transaction, which answers with that redemption or a 409). Commits `tx`
/// when it answers.
pub async fn redeem_once(
    mut tx: TenantTx,
    engine: &RuleEngine,
    member_id: Uuid,
    req: &NewRedemption,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<PointsChange>, AppError> {
    check(req)?;
    let member = member_of(&mut tx, member_id).await?;
    let key = format!("{}:{}", member.id, req.idempotency_key.trim());
    let hash = request_hash(req);
    // The account's lock, whether any lot is past its expiry, and an earlier answer under
    // this key: one round trip.
    let (locked, expiry_due, earlier) =
        points::lock_for_change(&mut tx, member.id, now, "redemption", &key).await?;
    let mut a = match locked {
        Some(a) => a,
        None => points::lock_account(&mut tx, member.id, now).await?,
    };
    if let Some((h, response)) = earlier {
        let r = decide::replay(&h, &hash, stored::<PointsChange>(response)?)
            .ok_or_else(|| key_reused("idempotency_key"))?;
        tx.commit().await?;
        return Ok(Some(r));
    }
    // Points past their expiry are never spent, even before the expiry job comes by.
    if expiry_due && points::expire(&mut tx, &mut a, now, "system:expiry").await? > 0 {
        points::save_account(&mut tx, &a, now).await?;
    }
    let rules = engine.tenant(&mut tx).await?;
    let s = &rules.settings;
    let spend =
        decide::spend(s, a.balance, req.purchase_amount, req.points).map_err(|r| match r {
            SpendRefused::OverCap(most) => AppError::invalid_field(
                "points",
                format!("at most {most} points may go towards this purchase"),
            ),
            SpendRefused::UnderMinimum(least) => AppError::invalid_field(
                "points",
                format!("a redemption uses at least {least} points"),
            ),
            SpendRefused::Insufficient(available) => AppError::conflict(
                "insufficient_points",
                Some("points"),
                format!("the member has {available} points"),
            ),
        })?;
    let value = spend.value;
    let src = Source {
        kind: EntrySource::Redemption,
        id: req.idempotency_key.trim().to_owned(),
        rule_version: None,
        reason: match (&req.reward, value) {
            (Some(r), _) => r.trim().to_owned(),
            (None, Some(v)) => format!("{v} off a purchase"),
            _ => String::new(),
        },
        detail: Some(json!({ "purchase_amount": req.purchase_amount, "value": value })),
        actor,
        at: now,
    };
    a.balance -= spend.points;
    a.redeemed_total += spend.points;
    let mut result = PointsChange {
        member_id: member.id,
        points: -spend.points,
        value,
        amount_due: spend.amount_due,
        balance: a.balance,
        entry_id: None,
        replayed: false,
    };
    let answer = serde_json::to_value(&result).expect("serialisable");
    match points::redeem(
        &mut tx,
        &a,
        spend.points,
        &src,
        "redemption",
        &key,
        &hash,
        &answer,
    )
    .await
    {
        Ok(entry) => result.entry_id = Some(entry),
        Err(e) if e.is_conflict_on(constraints::POINT_REQUESTS_KEY) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    Ok(Some(result))
}
