//! Moving an account through its lifecycle and between plans: one place for the rules, used
//! by the tenant's own plan page, the operator console, the payment webhook and the jobs.
//!
//! Every change locks the tenant row, re-checks the rule under the lock (so a job running on
//! two replicas, or an operator racing a job, changes the account once) and writes the
//! platform and the tenant audit logs in the same transaction. The caller then tells every
//! replica's cache to forget the tenant (the HTTP edge's `forget_tenant`).

pub mod jobs;

use crate::plans::PlanCatalog;
use crate::{AppError, NotFoundAs};
use chrono::{DateTime, Duration, Utc};
use patron_core::access::BuiltinRole;
use patron_core::plans::{self, Limit, OverLimit, Plan, SuspendReason};
use patron_core::tenants::TenantStatus;
use patron_db::plans::{self as db_plans, StatusChange};
use patron_db::{Db, Tenant, TenantTx};
use std::collections::BTreeMap;
use uuid::Uuid;

pub use patron_core::plans::{past_due_grace, payment_terms, retention};

/// Moves `tenant_id` to `to` if the lifecycle allows it from where it is.
pub async fn move_tenant(
    db: &Db,
    tenant_id: i64,
    to: TenantStatus,
    mut change: StatusChange,
    actor: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Tenant, AppError> {
    let mut tx = db.platform_tx().await?;
    let current = db_plans::lock_tenant(&mut tx, tenant_id)
        .await
        .not_found_as("tenant")?;
    if !plans::can_move(current.status, to) {
        return Err(AppError::conflict(
            "invalid_transition",
            Some("status"),
            format!(
                "an account that is {} cannot become {}",
                current.status.as_str(),
                to.as_str()
            ),
        ));
    }
    change.status = Some(to);
    if to == TenantStatus::Closed && change.purge_after.is_none() {
        change.purge_after = Some(now + retention());
    }
    if to == TenantStatus::Active && current.period_end.is_none() {
        // Leaving the trial (or a suspension that began in it) starts billing now.
        change.period = Some(plans::period_from(now));
    }
    let mut detail = detail;
    if let Some(obj) = detail.as_object_mut() {
        obj.insert("from".into(), current.status.as_str().into());
        obj.insert("to".into(), to.as_str().into());
    }
    let action = format!("tenant.{}", to.as_str());
    let updated =
        db_plans::apply_change(&mut tx, tenant_id, &change, now, actor, &action, detail).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Suspends an account (read-only from now on).
pub async fn suspend(
    db: &Db,
    tenant_id: i64,
    reason: SuspendReason,
    note: Option<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Tenant, AppError> {
    let change = StatusChange {
        suspended_reason: Some(reason),
        note: note.clone(),
        ..Default::default()
    };
    move_tenant(
        db,
        tenant_id,
        TenantStatus::Suspended,
        change,
        actor,
        serde_json::json!({ "reason": reason.as_str(), "note": note }),
        now,
    )
    .await
}

/// Closes an account: read-only until its retention runs out, then purged.
pub async fn close(
    db: &Db,
    tenant_id: i64,
    reason: Option<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Tenant, AppError> {
    move_tenant(
        db,
        tenant_id,
        TenantStatus::Closed,
        StatusChange {
            note: reason.clone(),
            ..Default::default()
        },
        actor,
        serde_json::json!({ "reason": reason }),
        now,
    )
    .await
}

/// An owner closes their own account, typing its slug to confirm. `tx` is the request's
/// transaction on the tenant (ended here, before the tenant row is locked).
#[allow(clippy::too_many_arguments)]
pub async fn close_own_account(
    db: &Db,
    mut tx: TenantTx,
    tenant: &Tenant,
    staff_id: Uuid,
    confirm_slug: &str,
    reason: Option<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Tenant, AppError> {
    let roles =
        patron_db::access::roles_of(&mut tx, &patron_db::access::staff_subject(staff_id)).await?;
    tx.commit().await?;
    if !roles.iter().any(|r| r == BuiltinRole::Owner.name()) {
        return Err(AppError::forbidden(
            "owner_only",
            "only an owner can close the account",
        ));
    }
    if confirm_slug != tenant.slug {
        return Err(AppError::field(
            "confirm_slug",
            patron_core::Issue::new(
                patron_core::FieldCode::Wrong,
                "type the account's slug exactly to confirm",
            )
            .with("reason", "confirm_slug"),
        ));
    }
    close(db, tenant.id, reason, actor, now).await
}

/// A downgrade refused because the account uses more than the target plan allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DowngradeRefused {
    /// The target plan's name.
    pub plan: String,
    /// Everything over the target's limits.
    pub over: Vec<OverLimit>,
}

impl DowngradeRefused {
    /// The stable code of this refusal.
    pub const CODE: &'static str = "downgrade_over_limits";

    /// What is wrong, for a person.
    pub fn message(&self) -> String {
        let list: Vec<String> = self
            .over
            .iter()
            .map(|o| format!("{}: {} in use, {} allowed", o.limit, o.usage, o.allowed))
            .collect();
        format!(
            "the {} plan is too small for this account: {}",
            self.plan,
            list.join("; ")
        )
    }

    /// One (field, problem) per limit that is over, e.g. `limits.members`.
    pub fn fields(&self) -> Vec<(String, String)> {
        self.over
            .iter()
            .map(|o| {
                (
                    format!("limits.{}", o.limit),
                    format!(
                        "{} in use, the {} plan allows {}",
                        o.usage, self.plan, o.allowed
                    ),
                )
            })
            .collect()
    }
}

/// Which plan `tenant` may move to: it must be offered and not the one it is on.
pub fn plan_target(
    plans: &[std::sync::Arc<Plan>],
    tenant: &Tenant,
    target_code: &str,
) -> Result<std::sync::Arc<Plan>, AppError> {
    let target = crate::plans::offered(plans, target_code).ok_or_else(|| {
        AppError::field(
            "plan",
            patron_core::Issue::new(
                patron_core::FieldCode::Unknown,
                format!("there is no plan \"{target_code}\" to move to"),
            )
            .with("value", target_code),
        )
    })?;
    if target.code == tenant.plan_code {
        return Err(AppError::conflict(
            "same_plan",
            Some("plan"),
            format!("the account is already on the {} plan", target.name),
        ));
    }
    Ok(target)
}

/// Moves a tenant to another plan: at once (`Ok(Ok(tenant))`), or refused with everything
/// the tenant uses beyond the target plan's limits (`Ok(Err(refusal))`).
pub async fn change_plan(
    db: &Db,
    catalog: &PlanCatalog,
    tenant: &Tenant,
    target_code: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Result<Tenant, DowngradeRefused>, AppError> {
    let plans = catalog.all().await?;
    let target = plan_target(&plans, tenant, target_code)?;
    // Count what the tenant uses, then lock the row and change it. Counting takes the
    // same per-tenant limit locks that creating things takes, so nothing slips in between.
    let mut ttx = db.tenant_tx(tenant).await?;
    let mut usage = BTreeMap::new();
    for limit in Limit::ALL.iter().filter(|l| !l.is_monthly()) {
        usage.insert(
            *limit,
            db_plans::lock_and_count(&mut ttx, *limit, now).await?,
        );
    }
    let over = plans::over_after_change(&target, &usage);
    if !over.is_empty() {
        return Ok(Err(DowngradeRefused {
            plan: target.name.clone(),
            over,
        }));
    }
    // One transaction for the counts and the change.
    let current = db_plans::lock_tenant(&mut ttx, tenant.id)
        .await
        .not_found_as("tenant")?;
    let change = StatusChange {
        plan_code: Some(target.code.clone()),
        ..Default::default()
    };
    let updated = db_plans::apply_change(
        &mut ttx,
        tenant.id,
        &change,
        now,
        actor,
        "tenant.plan_changed",
        serde_json::json!({ "from": current.plan_code, "to": target.code }),
    )
    .await?;
    ttx.commit().await?;
    Ok(Ok(updated))
}

/// Adds `days` (1-90) to a trial account's trial, counted from now if it already ended.
pub async fn extend_trial(
    db: &Db,
    tenant_id: i64,
    days: i32,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Tenant, AppError> {
    if !(1..=90).contains(&days) {
        return Err(AppError::field(
            "days",
            patron_core::Issue::out_of_range(1, 90).words("between 1 and 90"),
        ));
    }
    let mut tx = db.platform_tx().await?;
    let current = db_plans::lock_tenant(&mut tx, tenant_id)
        .await
        .not_found_as("tenant")?;
    if current.status != TenantStatus::Trial {
        return Err(AppError::conflict(
            "not_in_trial",
            None,
            format!("the account is {}, not on trial", current.status.as_str()),
        ));
    }
    let ends = trial_extended(current.trial_ends_at, days, now);
    let updated = db_plans::apply_change(
        &mut tx,
        tenant_id,
        &StatusChange {
            trial_ends_at: Some(ends),
            ..Default::default()
        },
        now,
        actor,
        "tenant.trial_extended",
        serde_json::json!({ "days": days, "trial_ends_at": ends }),
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// The new end of a trial extended by `days`: from its end, or from now if that has passed.
pub fn trial_extended(
    ends_at: Option<DateTime<Utc>>,
    days: i32,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let base = ends_at.unwrap_or(now).max(now);
    base + Duration::days(i64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_trial_is_extended_from_its_end_or_from_now_when_it_has_ended() {
        let now = at("2026-03-10T00:00:00Z");
        assert_eq!(
            trial_extended(Some(at("2026-03-20T00:00:00Z")), 5, now),
            at("2026-03-25T00:00:00Z")
        );
        assert_eq!(
            trial_extended(Some(at("2026-03-01T00:00:00Z")), 5, now),
            at("2026-03-15T00:00:00Z")
        );
        assert_eq!(trial_extended(None, 1, now), at("2026-03-11T00:00:00Z"));
    }

    #[test]
    fn a_refused_downgrade_lists_every_limit_that_is_over() {
        let refusal = DowngradeRefused {
            plan: "Free".into(),
            over: vec![
                OverLimit {
                    limit: Limit::Members,
                    allowed: 500,
                    usage: 612,
                },
                OverLimit {
                    limit: Limit::Staff,
                    allowed: 2,
                    usage: 3,
                },
            ],
        };
        assert_eq!(
            refusal.message(),
            "the Free plan is too small for this account: members: 612 in use, 500 allowed; staff: 3 in use, 2 allowed"
        );
        assert_eq!(
            refusal.fields(),
            [
                (
                    "limits.members".to_owned(),
                    "612 in use, the Free plan allows 500".to_owned()
                ),
                (
                    "limits.staff".to_owned(),
                    "3 in use, the Free plan allows 2".to_owned()
                ),
            ]
        );
    }
}
