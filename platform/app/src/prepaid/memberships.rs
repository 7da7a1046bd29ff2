//! Membership plans (会员收费, fee standards) and memberships: selling one (with what the plan
//! includes: a pass, stored value), renewing from the end, freezing within the yearly cap,
//! cancelling with the unused part refunded pro rata; the charge records with totals by day
//! and method, and memberships ending soon. Days are the business's local days.

use super::{check_method, check_receipt, pay_sale_from_balance, refund_sale_to_balance, Method};
use crate::engine::RuleEngine;
use crate::points::member_of;
use crate::tiers::member::{check_membership_tier, hold_for_membership, release_for_membership};
use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::prepaid::{self as core, FreezeRefused, Period, Split, Term, MAX_MONEY};
use patron_core::problem::{FieldCode, Issue};
use patron_core::Zone;
use patron_db::prepaid::memberships::{self as db, ChargeFilter, Membership, Plan};
use patron_db::prepaid::passes as pass_db;
use patron_db::prepaid::{self as prepaid_db, Charge, Refs};
use patron_db::TenantTx;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A plan as sent.
#[derive(Debug, Clone)]
pub struct NewPlan {
    pub name: String,
    pub price: i64,
    pub period_unit: String,
    pub period_days: Option<i64>,
    pub tier: Option<String>,
    pub pass_product_id: Option<Uuid>,
    pub stored_value: i64,
}

pub async fn create_plan(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    p: &NewPlan,
    now: DateTime<Utc>,
) -> Result<Plan, AppError> {
    let mut v = patron_core::Validation::new();
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        v.check::<()>("name", Err(Issue::length_between(1, core::NAME_MAX)));
    }
    if !(0..=MAX_MONEY).contains(&p.price) {
        v.check::<()>(
            "price",
            Err(Issue::too_small(0).words("must be 0 or more (minor units)")),
        );
    }
    if !(0..=MAX_MONEY).contains(&p.stored_value) {
        v.check::<()>(
            "stored_value",
            Err(Issue::too_small(0).words("must be 0 or more (minor units)")),
        );
    }
    let field = if p.period_unit == "days" {
        "period_days"
    } else {
        "period_unit"
    };
    let period = v.check(field, Period::parse(&p.period_unit, p.period_days));
    let tier = p
        .tier
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    if tier.as_ref().is_some_and(|t| t.len() > 50) {
        v.check::<()>("tier", Err(Issue::too_long(50)));
    }
    v.finish().map_err(AppError::invalid)?;
    if let Some(t) = &tier {
        check_membership_tier(tx, engine, t, "tier").await?;
    }
    if let Some(id) = p.pass_product_id {
        pass_db::product(tx, id).await?.ok_or_else(|| {
            AppError::field(
                "pass_product_id",
                Issue::unknown(&id.to_string(), "there is no such pass product"),
            )
        })?;
    }
    let period = period.expect("checked");
    let plan = Plan {
        id: Uuid::now_v7(),
        name: name.into(),
        price: p.price,
        period_unit: period.unit().into(),
        period_days: period.days().map(|d| d as i32),
        tier,
        pass_product_id: p.pass_product_id,
        stored_value: p.stored_value,
        archived: false,
        created_at: now,
    };
    db::insert_plan(tx, &plan).await?;
    Ok(plan)
}

pub async fn plans(tx: &mut TenantTx) -> Result<Vec<Plan>, AppError> {
    Ok(db::plans(tx).await?)
}

/// Archives a fee standard (it is no longer sold; memberships of it keep working and keep
/// its name) or brings it back (`archived` false).
pub async fn set_plan_archived(
    tx: &mut TenantTx,
    plan_id: Uuid,
    archived: bool,
) -> Result<Plan, AppError> {
    db::set_plan_archived(tx, plan_id, archived)
        .await?
        .ok_or_else(|| AppError::not_found("membership plan"))
}

fn period_of(plan: &Plan) -> Period {
    Period::parse(&plan.period_unit, plan.period_days.map(i64::from)).unwrap_or(Period::Month)
}

/// A sale or a renewal's payment.
#[derive(Debug, Clone)]
pub struct Payment {
    pub method: String,
    pub receipt: Option<String>,
}

/// A payment's method: `stored_value` where the balance may pay (`balance_ok`: a sale or a
/// renewal; a cancellation's refund names how the part not paid from the balance goes back).
fn check_payment(p: &Payment, balance_ok: bool) -> Result<Method, AppError> {
    let mut v = patron_core::Validation::new();
    let m = check_method(&mut v, "method", &p.method, balance_ok);
    check_receipt(&mut v, p.receipt.as_deref());
    v.finish().map_err(AppError::invalid)?;
    Ok(m.expect("checked"))
}

/// Records a membership's charge; a payment from stored value first takes the amount from
/// the member's balance (what it took of each sub-ledger is kept on the record).
#[allow(clippy::too_many_arguments)]
async fn charge(
    tx: &mut TenantTx,
    m: &Membership,
    kind: &str,
    amount: i64,
    method: Method,
    receipt: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let id = Uuid::now_v7();
    let taken = if method == Method::StoredValue {
        pay_sale_from_balance(tx, m.member_id, amount, id, actor, now).await?
    } else {
        Split::default()
    };
    write_charge(tx, m, id, kind, amount, method, taken, receipt, actor, now).await
}

#[allow(clippy::too_many_arguments)]
async fn write_charge(
    tx: &mut TenantTx,
    m: &Membership,
    id: Uuid,
    kind: &str,
    amount: i64,
    method: Method,
    taken: Split,
    receipt: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    prepaid_db::insert_charge(
        tx,
        &Charge {
            id,
            member_id: m.member_id,
            kind: kind.into(),
            amount,
            method: method.as_str().into(),
            receipt: receipt.unwrap_or("").trim().into(),
            staff: actor.into(),
            plan_id: Some(m.plan_id),
            membership_id: Some(m.id),
            pass_id: None,
            top_up_id: None,
            at: now,
            principal: taken.principal,
            bonus: taken.bonus,
        },
    )
    .await?;
    Ok(())
}

/// The instant a membership's tier stops holding: the start of the first local day it no
/// longer covers.
fn tier_until(zone: Zone, ends_on: NaiveDate) -> DateTime<Utc> {
    zone.start_of_day(ends_on)
}

/// Sells a membership: from today for the plan's period, with what the plan includes (its
/// tier, held by a pin until the membership ends; a pass of its product; stored value
/// credited to the bonus sub-ledger, a gift that a top-up refund never pays out). The
/// payment is recorded as a charge; `stored_value` takes the price from the member's
/// balance in the same transaction.
#[allow(clippy::too_many_arguments)]
pub async fn sell(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    zone: Zone,
    member_id: Uuid,
    plan_id: Uuid,
    pay: &Payment,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Membership, AppError> {
    let method = check_payment(pay, true)?;
    let member = member_of(tx, member_id).await?;
    let plan = db::plan(tx, plan_id)
        .await?
        .filter(|p| !p.archived)
        .ok_or_else(|| {
            AppError::field(
                "plan_id",
                Issue::unknown(&plan_id.to_string(), "there is no such membership plan"),
            )
        })?;
    let term = Term::starting(zone, now, period_of(&plan));
    // The tier first: it locks the member's points account, which comes before the balance.
    if let Some(tier) = &plan.tier {
        hold_for_membership(
            tx,
            engine,
            zone,
            member.id,
            tier,
            tier_until(zone, term.end),
            &plan.name,
            actor,
            now,
        )
        .await?;
    }
    let m = Membership {
        id: Uuid::now_v7(),
        member_id: member.id,
        plan_id: plan.id,
        plan_name: plan.name.clone(),
        starts_on: term.start,
        ends_on: term.end,
        status: "active".into(),
        paid: plan.price,
        frozen_days: 0,
        created_at: now,
        cancelled_at: None,
    };
    db::insert_membership(tx, &m).await?;
    charge(
        tx,
        &m,
        "membership",
        plan.price,
        method,
        pay.receipt.as_deref(),
        actor,
        now,
    )
    .await?;
    if let Some(product_id) = plan.pass_product_id {
        if let Some(product) = pass_db::product(tx, product_id).await? {
            let today = zone.today(now);
            pass_db::insert_pass(
                tx,
                &pass_db::Pass {
                    id: Uuid::now_v7(),
                    member_id: member.id,
                    product_id,
                    product_name: product.name.clone(),
                    categories: product.categories.clone(),
                    visits_total: product.visits,
                    visits_left: product.visits,
                    starts_on: today,
                    expires_on: product
                        .validity_days
                        .map(|d| today + Duration::days(i64::from(d) - 1)),
                    sold_at: now,
                    actor: actor.into(),
                    frozen_from: None,
                    frozen_until: None,
                },
            )
            .await?;
        }
    }
    if plan.stored_value > 0 {
        prepaid_db::lock_balance(tx, member.id, now).await?;
        let reason = format!("included with {}", plan.name);
        prepaid_db::apply(
            tx,
            member.id,
            0,
            plan.stored_value,
            "included",
            &Refs {
                reason: &reason,
                ..Refs::default()
            },
            actor,
            now,
        )
        .await?
        .ok_or_else(|| AppError::internal_msg("a credit cannot lower a balance"))?;
    }
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "membership.sold",
        member_id,
        serde_json::json!({ "membership": m.plan_name, "paid": m.paid }),
    )
    .await?;
    Ok(m)
}

pub async fn member_memberships(
    tx: &mut TenantTx,
    member_id: Uuid,
) -> Result<Vec<Membership>, AppError> {
    let member = member_of(tx, member_id).await?;
    Ok(db::memberships(tx, member.id).await?)
}

async fn locked_active(
    tx: &mut TenantTx,
    member_id: Uuid,
    id: Uuid,
) -> Result<Membership, AppError> {
    let member = member_of(tx, member_id).await?;
    let m = db::lock_membership(tx, member.id, id)
        .await?
        .ok_or_else(|| AppError::not_found("membership"))?;
    if m.status == "cancelled" {
        return Err(AppError::conflict(
            "membership_cancelled",
            None,
            "this membership has been cancelled",
        ));
    }
    Ok(m)
}

/// Renews a membership for another period of its plan, from its end (from today when it
/// has already ended); the payment is recorded.
#[allow(clippy::too_many_arguments)]
pub async fn renew(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    zone: Zone,
    member_id: Uuid,
    id: Uuid,
    pay: &Payment,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Membership, AppError> {
    let method = check_payment(pay, true)?;
    let mut m = locked_active(tx, member_id, id).await?;
    let plan = db::plan(tx, m.plan_id)
        .await?
        .ok_or_else(|| AppError::not_found("membership plan"))?;
    let term = Term {
        start: m.starts_on,
        end: m.ends_on,
    }
    .renewed(period_of(&plan), zone.today(now));
    if let Some(tier) = &plan.tier {
        hold_for_membership(
            tx,
            engine,
            zone,
            m.member_id,
            tier,
            tier_until(zone, term.end),
            &plan.name,
            actor,
            now,
        )
        .await?;
    }
    m.ends_on = term.end;
    m.paid += plan.price;
    db::set_end(tx, m.id, m.ends_on, m.paid).await?;
    charge(
        tx,
        &m,
        "renewal",
        plan.price,
        method,
        pay.receipt.as_deref(),
        actor,
        now,
    )
    .await?;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "membership.renewed",
        member_id,
        serde_json::json!({ "membership": m.plan_name, "paid": plan.price }),
    )
    .await?;
    Ok(m)
}

/// Freezes a membership for `days` from today: its end moves by those days, within the
/// business's yearly allowance (counted per membership year).
#[allow(clippy::too_many_arguments)]
pub async fn freeze(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    zone: Zone,
    cap: i64,
    member_id: Uuid,
    id: Uuid,
    days: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Membership, AppError> {
    if !(1..=core::FREEZE_DAYS_MAX).contains(&days) {
        return Err(AppError::field(
            "days",
            Issue::out_of_range(1, core::FREEZE_DAYS_MAX),
        ));
    }
    let mut m = locked_active(tx, member_id, id).await?;
    let today = zone.today(now);
    let year = core::freeze_year(m.starts_on, today);
    let used = db::frozen_in_year(tx, m.id, year).await?;
    let term = core::freeze(
        Term {
            start: m.starts_on,
            end: m.ends_on,
        },
        today,
        days,
        used,
        cap,
    )
    .map_err(|e| match e {
        FreezeRefused::OverCap(left) => AppError::conflict(
            "freeze_cap_reached",
            Some("days"),
            format!("{left} days of freezing are left this membership year"),
        ),
        FreezeRefused::Ended => AppError::conflict(
            "membership_ended",
            None,
            "this membership has already ended",
        ),
    })?;
    if let Some(plan) = db::plan(tx, m.plan_id).await? {
        if let Some(tier) = &plan.tier {
            hold_for_membership(
                tx,
                engine,
                zone,
                m.member_id,
                tier,
                tier_until(zone, term.end),
                &plan.name,
                actor,
                now,
            )
            .await?;
        }
    }
    db::insert_freeze(tx, m.id, today, days, year, actor, now).await?;
    db::set_end(tx, m.id, term.end, m.paid).await?;
    m.ends_on = term.end;
    m.frozen_days += days;
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "membership.frozen",
        member_id,
        serde_json::json!({ "membership": m.plan_name, "days": days }),
    )
    .await?;
    Ok(m)
}

/// What cancelling gives back: the unused days' share of what was paid, and of it what
/// went back to the stored-value sub-ledgers it was paid from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cancelled {
    pub membership: Membership,
    pub refund: i64,
    pub stored_value: Split,
}

/// Cancels a membership today: the unused part of what was paid goes back (rounded down to
/// the fen), recorded as negative charges. The share paid from stored value goes back to
/// the sub-ledgers it came from, in proportion to what each paid (`refund × paid from
/// each ÷ paid`); the rest by the method given. A tier the membership held is released.
#[allow(clippy::too_many_arguments)]
pub async fn cancel(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    zone: Zone,
    member_id: Uuid,
    id: Uuid,
    pay: &Payment,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Cancelled, AppError> {
    let method = check_payment(pay, false)?;
    let mut m = locked_active(tx, member_id, id).await?;
    let refund = core::unused_refund(
        m.paid,
        Term {
            start: m.starts_on,
            end: m.ends_on,
        },
        zone.today(now),
    );
    if let Some(plan) = db::plan(tx, m.plan_id).await? {
        if let Some(tier) = &plan.tier {
            release_for_membership(
                tx,
                engine,
                zone,
                m.member_id,
                tier,
                tier_until(zone, m.ends_on),
                &plan.name,
                actor,
                now,
            )
            .await?;
        }
    }
    db::cancel(tx, m.id, now).await?;
    let paid_from = prepaid_db::stored_value_paid(tx, Some(m.id), None).await?;
    let back = core::refund_back(
        Split {
            principal: paid_from.principal.max(0),
            bonus: paid_from.bonus.max(0),
        },
        m.paid,
        0,
        refund,
    );
    if back.total() > 0 {
        let charge_id = Uuid::now_v7();
        refund_sale_to_balance(tx, m.member_id, back, charge_id, actor, now).await?;
        write_charge(
            tx,
            &m,
            charge_id,
            "membership_refund",
            -back.total(),
            Method::StoredValue,
            Split {
                principal: -back.principal,
                bonus: -back.bonus,
            },
            pay.receipt.as_deref(),
            actor,
            now,
        )
        .await?;
    }
    let rest = refund - back.total();
    if rest > 0 || back.total() == 0 {
        charge(
            tx,
            &m,
            "membership_refund",
            -rest,
            method,
            pay.receipt.as_deref(),
            actor,
            now,
        )
        .await?;
    }
    m.status = "cancelled".into();
    m.cancelled_at = Some(now);
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "membership.cancelled",
        member_id,
        serde_json::json!({ "membership": m.plan_name, "refund": refund }),
    )
    .await?;
    Ok(Cancelled {
        membership: m,
        refund,
        stored_value: back,
    })
}

/// Active memberships ending within `days` from today.
pub async fn ending_within(
    tx: &mut TenantTx,
    zone: Zone,
    days: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Membership>, AppError> {
    if !(0..=core::ENDING_DAYS_MAX).contains(&days) {
        return Err(AppError::field(
            "days",
            Issue::out_of_range(0, core::ENDING_DAYS_MAX),
        ));
    }
    let today = zone.today(now);
    Ok(db::ending(tx, today, today + Duration::days(days)).await?)
}

/// The charge records asked for, local days `from`..=`to`.
#[derive(Debug, Clone, Default)]
pub struct ChargeQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub plan_id: Option<Uuid>,
    pub method: Option<String>,
    pub staff: Option<String>,
    pub member_id: Option<Uuid>,
}

/// Totals by local day and method.
#[derive(Debug, Clone, Serialize)]
pub struct ChargeTotal {
    pub day: NaiveDate,
    pub method: String,
    pub count: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Charges {
    pub items: Vec<db::NamedCharge>,
    pub totals: Vec<ChargeTotal>,
    pub count: i64,
    pub amount: i64,
}

fn filter_of(zone: Zone, q: &ChargeQuery) -> Result<ChargeFilter, AppError> {
    let mut v = patron_core::Validation::new();
    if let Some(m) = &q.method {
        check_method(&mut v, "method", m, true);
    }
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if f > t {
            v.check::<()>(
                "to",
                Err(
                    Issue::new(FieldCode::BeforeStart, "must not be before from")
                        .with("field", "from"),
                ),
            );
        }
    }
    v.finish().map_err(AppError::invalid)?;
    Ok(ChargeFilter {
        from: q.from.map(|d| zone.start_of_day(d)),
        to: q.to.map(|d| zone.start_of_day(d + Duration::days(1))),
        plan_id: q.plan_id,
        method: q.method.clone(),
        staff: q.staff.clone().filter(|s| !s.trim().is_empty()),
        member_id: q.member_id,
    })
}

/// Charge records (newest first, up to `limit`), with totals by day and method over all
/// that match.
pub async fn charges(
    tx: &mut TenantTx,
    zone: Zone,
    q: &ChargeQuery,
    limit: i64,
) -> Result<Charges, AppError> {
    let f = filter_of(zone, q)?;
    let items = db::charges(tx, &f, limit.clamp(1, 10_000)).await?;
    let totals: Vec<ChargeTotal> = db::charge_totals(tx, &f, zone.name())
        .await?
        .into_iter()
        .map(|(day, method, count, amount)| ChargeTotal {
            day,
            method,
            count,
            amount,
        })
        .collect();
    Ok(Charges {
        count: totals.iter().map(|t| t.count).sum(),
        amount: totals.iter().map(|t| t.amount).sum(),
        items,
        totals,
    })
}

/// The charge records' CSV header in the business's language.
pub fn charges_header(lang: patron_core::lang::Lang) -> [&'static str; 8] {
    [
        lang.pick("时间", "at"),
        lang.pick("类型", "kind"),
        lang.pick("金额", "amount"),
        lang.pick("支付方式", "method"),
        lang.pick("单号", "receipt"),
        lang.pick("经办人", "staff"),
        lang.pick("会员编号", "member_id"),
        lang.pick("套餐编号", "plan_id"),
    ]
}

/// The charge records as CSV (UTF-8 with a byte order mark, for Excel), local times, the
/// header in `lang`.
pub async fn charges_csv(
    tx: &mut TenantTx,
    zone: Zone,
    lang: patron_core::lang::Lang,
    q: &ChargeQuery,
) -> Result<Vec<u8>, AppError> {
    let c = charges(tx, zone, q, 10_000).await?;
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(charges_header(lang))
        .map_err(AppError::internal)?;
    for ch in c.items.into_iter().map(|n| n.charge) {
        w.write_record([
            zone.local(ch.at).format("%Y-%m-%d %H:%M:%S").to_string(),
            ch.kind,
            format!(
                "{}{}.{:02}",
                if ch.amount < 0 { "-" } else { "" },
                ch.amount.abs() / 100,
                ch.amount.abs() % 100
            ),
            ch.method,
            ch.receipt,
            ch.staff,
            ch.member_id.to_string(),
            ch.plan_id.map(|p| p.to_string()).unwrap_or_default(),
        ])
        .map_err(AppError::internal)?;
    }
    w.into_inner()
        .map_err(|e| AppError::internal_msg(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use patron_core::lang::Lang;

    #[test]
    fn the_charges_header_speaks_the_business_language() {
        assert_eq!(charges_header(Lang::ZhCn)[0..3], ["时间", "类型", "金额"]);
        assert_eq!(charges_header(Lang::En)[6], "member_id");
    }
}
