//! Spending points: for a reward, or as money off a purchase. The balance check and the
//! debit are one statement, so concurrent redemptions never overdraw. Above the business's
//! `redemption_check_above`, the member confirms: their live member code, or a code sent to
//! their phone.

use super::decide::{self, SpendRefused};
use super::ledger::PointsChange;
use super::{check_external_id, member_of, not_erased, MAX_AMOUNT};
use crate::engine::RuleEngine;
use crate::idempotency::{self, Begun, Request};
use crate::members::input::open;
use crate::portal::codes::{self, CodeCheck, CodePurpose};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::idempotency::Scope;
use patron_core::member_code::{self, CodeError};
use patron_core::members::Phone;
use patron_core::pii::PiiKeys;
use patron_core::points::EntrySource;
use patron_core::reasons::{Reason, Said};
use patron_core::{FieldCode, Issue, MemberId, TenantId};
use patron_db::idempotency::ClaimOf;
use patron_db::members::Member;
use patron_db::points::{self, Source};
use patron_db::{Db, Tenant, TenantTx};
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
    /// The member's confirmation, when the redemption needs one. Not part of the request's
    /// hash: a retry with a fresh code is the same redemption.
    #[serde(skip)]
    pub member_code: Option<String>,
    #[serde(skip)]
    pub sms_code: Option<String>,
}

/// What checking a member's confirmation needs: the keys codes are signed and hashed with,
/// and the business.
#[derive(Clone, Copy)]
pub struct Confirmation<'a> {
    pub keys: &'a PiiKeys,
    pub tenant: TenantId,
}

/// What a confirmation found; a wrong SMS code was counted in `tx`, which must commit
/// before the refusal is sent.
enum Confirmed {
    Yes,
    No(AppError),
    Counted(AppError),
}

fn check_member_code(
    c: Confirmation<'_>,
    member: &Member,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    match member_code::verify(c.keys, c.tenant, code, now) {
        Ok(id) if id == MemberId::new(member.id) => Ok(()),
        Ok(_) => Err(AppError::refused(
            "member_code_invalid",
            "member_code",
            "is another member's code",
        )),
        Err(CodeError::Expired) => Err(AppError::refused(
            "member_code_expired",
            "member_code",
            "has expired; ask the member to show a fresh one",
        )),
        Err(CodeError::Invalid) => Err(AppError::refused(
            "member_code_invalid",
            "member_code",
            "is not a member code of this business",
        )),
    }
}

/// Whether the member confirmed a redemption of `spend` points, when the settings ask.
async fn confirm(
    tx: &mut TenantTx,
    c: Confirmation<'_>,
    above: Option<i64>,
    spend: i64,
    member: &Member,
    req: &NewRedemption,
    now: DateTime<Utc>,
) -> Result<Confirmed, AppError> {
    let Some(above) = above.filter(|a| spend > *a) else {
        return Ok(Confirmed::Yes);
    };
    let code = req
        .member_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let sms = req
        .sms_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(code) = code {
        return Ok(match check_member_code(c, member, code, now) {
            Ok(()) => Confirmed::Yes,
            Err(e) => Confirmed::No(e),
        });
    }
    let Some(sms) = sms else {
        return Ok(Confirmed::No(AppError::refused(
            "member_check_required",
            "member_code",
            format!(
                "a redemption of more than {above} points needs the member's code (member_code) or a code sent to their phone (sms_code)"
            ),
        )));
    };
    let phone = member
        .phone()
        .and_then(|s| open(c.keys, &s))
        .and_then(|p| Phone::parse(&p, "CN").ok());
    let Some(phone) = phone else {
        return Ok(Confirmed::No(AppError::refused(
            "member_code_invalid",
            "sms_code",
            "the member has no phone to send a code to",
        )));
    };
    Ok(
        match codes::verify_code(tx, c.keys, CodePurpose::Redemption, &phone, sms, now).await? {
            CodeCheck::Ok => Confirmed::Yes,
            CodeCheck::Exhausted => Confirmed::No(codes::exhausted()),
            CodeCheck::Wrong => Confirmed::Counted(AppError::field(
                "sms_code",
                Issue::new(
                    FieldCode::CodeWrongOrExpired,
                    "is wrong or expired; send a new one",
                ),
            )),
        },
    )
}

fn check(req: &NewRedemption) -> Result<(), AppError> {
    let mut v = patron_core::Validation::new();
    let one_of = || {
        Issue::new(FieldCode::OneOf, "give either reward or purchase_amount")
            .with("options", "reward, purchase_amount")
    };
    check_external_id(&mut v, "idempotency_key", &req.idempotency_key);
    match (&req.reward, req.purchase_amount, req.points) {
        (Some(_), Some(_), _) => {
            v.check::<()>("reward", Err(one_of()));
        }
        (Some(r), None, p) => {
            if r.trim().is_empty() {
                v.check::<()>("reward", Err(Issue::required()));
            }
            if p.is_none() {
                v.check::<()>(
                    "points",
                    Err(Issue::new(FieldCode::Required, "is required for a reward")
                        .with("with", "reward")),
                );
            }
        }
        (None, Some(a), _) if !(1..=MAX_AMOUNT).contains(&a) => {
            v.check::<()>(
                "purchase_amount",
                Err(
                    Issue::new(FieldCode::OutOfRange, "must be at least 1 (minor units)")
                        .with("min", 1)
                        .with("max", MAX_AMOUNT),
                ),
            );
        }
        (None, None, _) => {
            v.check::<()>("reward", Err(one_of()));
        }
        _ => {}
    }
    if let Some(p) = req.points {
        use patron_core::points::MAX_REDEMPTION;
        if !(1..=MAX_REDEMPTION).contains(&p) {
            v.check::<()>("points", Err(Issue::out_of_range(1, MAX_REDEMPTION)));
        }
    }
    v.finish().map_err(AppError::invalid)
}

/// A redemption, idempotent by the key (per member): the key is claimed first, so a
/// request racing its own first try waits for it and replays its answer. Always `Some`
/// (the `Option` is kept for callers that retried). Commits `tx` when it answers.
///
/// Where the database allows ([`points::redeem_at_once`]), the spend is decided from a read
/// of the account without its lock, and the key's claim, the lock and the redemption are one
/// statement in a transaction of its own: the account's lock is then held for the
/// redemption's statement and the commit only. When that decision no longer holds (the
/// balance moved, a lot expired), needs the member's confirmation, or the key was used
/// before, the redemption runs again in a new transaction that claims the key, locks the
/// account and decides under the lock.
#[allow(clippy::too_many_arguments)]
pub async fn redeem_once(
    db: &Db,
    tenant: &Tenant,
    mut tx: TenantTx,
    engine: &RuleEngine,
    confirmation: Confirmation<'_>,
    member_id: Uuid,
    req: &NewRedemption,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<PointsChange>, AppError> {
    check(req)?;
    let key = Request::scoped(
        Scope::Redemption,
        member_id,
        "idempotency_key",
        &req.idempotency_key,
        req,
    );
    if let Some(seen) = points::read_for_redemption(&mut tx, member_id, now).await? {
        let member = not_erased(seen.member)?;
        let rules = engine.tenant(&mut tx).await?;
        let s = &rules.settings;
        if let Some((spend, account)) = decided_as_seen(s, seen.account, seen.expiry_due, req) {
            let mut result = change(&member, spend, account.balance - spend.points);
            let src = source(req, spend, actor, now);
            let rec = record(req, &key, &result, now)?;
            // A deduction that names no number takes what the balance allows: it holds only
            // for the balance it was decided from.
            let balance_decides = req.points.is_none();
            let once = points::AtOnce {
                seen: &account,
                points: spend.points,
                balance_decides,
                hash: &key.hash,
            };
            tx.commit().await?;
            if let Some(done) = points::redeem_at_once(db, tenant, once, &src, &rec).await? {
                result.entry_id = Some(done.entry_id);
                result.balance = done.balance;
                return Ok(Some(result));
            }
            tx = db.tenant_tx(tenant).await?;
        }
    }
    // The key's claim, the member, the account's lock and whether any lot is past its
    // expiry: one round trip.
    let claim = ClaimOf {
        scope: key.scope,
        key: &key.key,
        hash: &key.hash,
        now,
    };
    let (member, locked, expiry_due) = match points::open_redemption(&mut tx, member_id, claim, now)
        .await?
    {
        Some(o) => (not_erased(o.member)?, o.account, o.expiry_due),
        None => {
            // No such member (the lookup says so), or the key was answered first:
            // replayed, or a 409.
            let member = member_of(&mut tx, member_id).await?;
            if let Begun::Replay(r) = idempotency::begin::<PointsChange>(&mut tx, &key, now).await?
            {
                tx.commit().await?;
                return Ok(Some(r));
            }
            let (locked, expiry_due) = points::lock_for_change(&mut tx, member.id, now).await?;
            (member, locked, expiry_due)
        }
    };
    let mut a = match locked {
        Some(a) => a,
        None => points::lock_account(&mut tx, member.id, now).await?,
    };
    // Points past their expiry are never spent, even before the expiry job comes by.
    if expiry_due && points::expire(&mut tx, &mut a, now, "system:expiry").await? > 0 {
        points::save_account(&mut tx, &a, now).await?;
    }
    let rules = engine.tenant(&mut tx).await?;
    let s = &rules.settings;
    let spend =
        decide::spend(s, a.balance, req.purchase_amount, req.points).map_err(|r| match r {
            SpendRefused::OverCap(most) => AppError::field(
                "points",
                Issue::new(
                    FieldCode::PointsOutOfBounds,
                    format!("at most {most} points may go towards this purchase"),
                )
                .with("max", most),
            ),
            SpendRefused::UnderMinimum(least) => AppError::field(
                "points",
                Issue::new(
                    FieldCode::PointsOutOfBounds,
                    format!("a redemption uses at least {least} points"),
                )
                .with("min", least),
            ),
            SpendRefused::Insufficient(balance) => AppError::conflict(
                "insufficient_points",
                Some("points"),
                if balance < 0 {
                    format!("the member owes {} points", -balance)
                } else {
                    format!("the member has {balance} points")
                },
            )
            .with_param("balance", balance)
            .with_param("asked", req.points.unwrap_or_default()),
        })?;
    match confirm(
        &mut tx,
        confirmation,
        s.redemption_check_above,
        spend.points,
        &member,
        req,
        now,
    )
    .await?
    {
        Confirmed::Yes => {}
        Confirmed::No(e) => return Err(e),
        Confirmed::Counted(e) => {
            // The wrong code is counted; the key answers nothing, so a retry runs again.
            idempotency::give_up(&mut tx, &key).await?;
            tx.commit().await?;
            return Err(e);
        }
    }
    a.balance -= spend.points;
    a.redeemed_total += spend.points;
    let mut result = change(&member, spend, a.balance);
    let src = source(req, spend, actor, now);
    // The entry, the lots, the account, the audit line, the stored answer and the outbox's
    // row: one statement under the account's lock (the answer's and the event's entry id
    // are filled in by it).
    let rec = record(req, &key, &result, now)?;
    result.entry_id = Some(points::redeem_recorded(&mut tx, &a, spend.points, &src, &rec).await?);
    tx.commit().await?;
    Ok(Some(result))
}

/// The spend decided from the account as read without its lock, when it can be taken at
/// once: the member has an account, none of their lots is past its expiry, the spend is
/// allowed as the account stands and needs no confirmation. (Refusals are decided again
/// under the lock: the balance may have moved.)
fn decided_as_seen(
    s: &patron_core::points::PointSettings,
    account: Option<points::Account>,
    expiry_due: bool,
    req: &NewRedemption,
) -> Option<(decide::Spend, points::Account)> {
    let account = account.filter(|_| !expiry_due)?;
    let spend = decide::spend(s, account.balance, req.purchase_amount, req.points).ok()?;
    if s.redemption_check_above
        .is_some_and(|above| spend.points > above)
    {
        return None;
    }
    Some((spend, account))
}

/// A redemption's answer before its entry is written.
fn change(member: &Member, spend: decide::Spend, balance: i64) -> PointsChange {
    PointsChange {
        member_id: member.id,
        points: -spend.points,
        value: spend.value,
        amount_due: spend.amount_due,
        balance,
        entry_id: None,
        replayed: false,
    }
}

/// Where a redemption's entry comes from, and why.
fn source<'a>(
    req: &NewRedemption,
    spend: decide::Spend,
    actor: &'a str,
    now: DateTime<Utc>,
) -> Source<'a> {
    let value = spend.value;
    Source {
        kind: EntrySource::Redemption,
        id: req.idempotency_key.trim().to_owned(),
        rule_version: None,
        reason: match (&req.reward, value) {
            (Some(r), _) => Said::words(r.trim()),
            (None, Some(v)) => Reason::point("redeem_off", json!({ "value": v })).into(),
            _ => Said::default(),
        },
        detail: Some(json!({ "purchase_amount": req.purchase_amount, "value": value })),
        actor,
        at: now,
    }
}

/// What a redemption's statement writes beside its entry: the audit line, the answer
/// stored under the key and the event.
fn record<'a>(
    req: &'a NewRedemption,
    key: &'a Request,
    result: &PointsChange,
    now: DateTime<Utc>,
) -> Result<points::RedeemRecord<'a>, AppError> {
    let points = -result.points;
    Ok(points::RedeemRecord {
        audit_action: "points.redeemed",
        audit_detail: json!({ "points": points, "reward": req.reward }),
        scope: key.scope.as_str(),
        key: key.key.as_str(),
        answer: serde_json::to_value(result).map_err(AppError::internal)?,
        event: Some(patron_db::messages::EntryEvent {
            event: patron_core::messages::Event::PointsRedeemed.as_str(),
            member_id: result.member_id,
            occasion: None,
            data: json!({
                "member_id": result.member_id,
                "points": points,
                "balance": result.balance,
                "entry_id": null,
                "reward": req.reward,
            }),
            at: now,
        }),
    })
}
