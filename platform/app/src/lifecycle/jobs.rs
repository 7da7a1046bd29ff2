//! The account lifecycle's scheduled work (the bodies of the billing jobs): trials ending,
//! billing periods closing with an invoice, dunning, and purging closed accounts.
//!
//! Each pass finds candidates, then handles each account in its own transaction with the
//! tenant row locked and the condition checked again under the lock. Running a pass twice,
//! or on two replicas at once, therefore changes each account once; invoices are also
//! unique per account and period in the database.

use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::plans::{self, Limit, SuspendReason};
use patron_core::tenants::TenantStatus;
use patron_db::billing::{self as db_billing, NewInvoice};
use patron_db::plans::{self as db_plans, StatusChange};
use patron_db::Db;
use serde_json::json;
use std::collections::BTreeMap;

const ACTOR: &str = "system:billing";

/// Trial accounts whose trial has ended become active, billed from the trial's end.
pub async fn end_trials(db: &Db, now: DateTime<Utc>) -> Result<serde_json::Value, AppError> {
    let mut moved = 0;
    for id in db_plans::trials_ended(db, now).await? {
        let mut tx = db.platform_tx().await?;
        let t = db_plans::lock_tenant(&mut tx, id).await?;
        let Some(ends) = t.trial_ends_at.filter(|e| *e <= now) else {
            continue;
        };
        if t.status != TenantStatus::Trial {
            continue;
        }
        db_plans::apply_change(
            &mut tx,
            id,
            &StatusChange {
                status: Some(TenantStatus::Active),
                period: Some(plans::period_from(ends)),
                note: Some("trial ended".into()),
                ..Default::default()
            },
            now,
            ACTOR,
            "tenant.active",
            json!({ "from": "trial", "to": "active", "trial_ended_at": ends, "plan": t.plan_code }),
        )
        .await?;
        tx.commit().await?;
        moved += 1;
    }
    Ok(json!({ "moved": moved }))
}

/// For each account whose billing period has ended: records that period's invoice (when
/// there is something to charge) and starts the next period. Catches up period by period
/// if the job has not run for a while.
pub async fn close_periods(db: &Db, now: DateTime<Utc>) -> Result<serde_json::Value, AppError> {
    let plans = db_plans::list(db).await?;
    let mut invoices = 0;
    for id in db_plans::periods_ended(db, now).await? {
        loop {
            let mut tx = db.platform_tx().await?;
            let t = db_plans::lock_tenant(&mut tx, id).await?;
            let (Some(start), Some(end)) = (t.period_start, t.period_end) else {
                break;
            };
            if end > now || t.status == TenantStatus::Closed || t.status == TenantStatus::Trial {
                break;
            }
            let plan = plans
                .iter()
                .find(|p| p.code == t.plan_code)
                .ok_or_else(|| {
                    AppError::internal_msg(format!(
                        "tenant {id} is on unknown plan {}",
                        t.plan_code
                    ))
                })?;
            let metered = db_plans::monthly_usage(db, id, start).await?;
            let usage: BTreeMap<Limit, i64> = Limit::ALL
                .iter()
                .filter(|l| l.is_monthly())
                .map(|l| (*l, metered.get(l.as_str()).copied().unwrap_or(0)))
                .collect();
            let lines = plans::invoice_lines(plan, start, end, &usage);
            if !lines.is_empty() {
                let recorded = db_billing::record(
                    &mut tx,
                    &NewInvoice {
                        tenant_id: id,
                        period_start: start,
                        period_end: end,
                        plan_code: plan.code.clone(),
                        currency: plan.currency.clone(),
                        lines,
                        issued_at: now,
                        due_at: plans::invoice_due(now),
                    },
                )
                .await?;
                if let Some(inv) = recorded {
                    db_plans::record_platform_audit(
                        &mut tx,
                        now,
                        ACTOR,
                        "invoice.issued",
                        Some(id),
                        json!({ "invoice": inv.id, "total_minor": inv.total_minor, "period_start": start }),
                    )
                    .await?;
                    invoices += 1;
                }
            }
            db_plans::apply_change(
                &mut tx,
                id,
                &StatusChange {
                    period: Some(plans::period_from(end)),
                    ..Default::default()
                },
                now,
                ACTOR,
                "billing.period_started",
                json!({ "period_start": end }),
            )
            .await?;
            tx.commit().await?;
        }
    }
    Ok(json!({ "invoices": invoices }))
}

/// Accounts with an invoice past due become past-due; after the grace they are suspended
/// (read-only, writes answered 402) until paid.
pub async fn dun(db: &Db, now: DateTime<Utc>) -> Result<serde_json::Value, AppError> {
    let (mut past_due, mut suspended) = (0, 0);
    for (id, oldest_due) in db_billing::overdue_tenants(db, now).await? {
        let mut tx = db.platform_tx().await?;
        let t = db_plans::lock_tenant(&mut tx, id).await?;
        if !db_billing::has_overdue(&mut tx, id, now).await? {
            continue;
        }
        let Some(to) = plans::dunning_step(t.status, oldest_due, now) else {
            continue;
        };
        let change = match to {
            TenantStatus::PastDue => StatusChange {
                status: Some(TenantStatus::PastDue),
                note: Some("an invoice is overdue".into()),
                ..Default::default()
            },
            _ => StatusChange {
                status: Some(TenantStatus::Suspended),
                suspended_reason: Some(SuspendReason::Billing),
                note: Some("unpaid invoices".into()),
                ..Default::default()
            },
        };
        db_plans::apply_change(
            &mut tx,
            id,
            &change,
            now,
            ACTOR,
            &format!("tenant.{}", to.as_str()),
            json!({ "from": t.status.as_str(), "to": to.as_str(), "oldest_due": oldest_due }),
        )
        .await?;
        tx.commit().await?;
        match to {
            TenantStatus::PastDue => past_due += 1,
            _ => suspended += 1,
        }
    }
    Ok(json!({ "past_due": past_due, "suspended": suspended }))
}

/// Drops the schema of each closed account whose retention has run out.
pub async fn purge_closed(db: &Db, now: DateTime<Utc>) -> Result<serde_json::Value, AppError> {
    let mut purged = 0;
    for id in db_plans::purges_due(db, now).await? {
        let mut tx = db.platform_tx().await?;
        let t = db_plans::lock_tenant(&mut tx, id).await?;
        if t.status != TenantStatus::Closed
            || t.purged_at.is_some()
            || t.purge_after.is_none_or(|p| p > now)
        {
            continue;
        }
        db_plans::purge(&mut tx, &t, now).await?;
        db_plans::record_platform_audit(
            &mut tx,
            now,
            ACTOR,
            "tenant.purged",
            Some(id),
            json!({ "schema": t.schema(), "closed_at": t.closed_at }),
        )
        .await?;
        tx.commit().await?;
        purged += 1;
    }
    Ok(json!({ "purged": purged }))
}
