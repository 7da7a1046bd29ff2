//! Moving an account through its lifecycle and between plans: one place for the rules, used
//! by the tenant's own plan page, the operator API, the payment webhook and the jobs.
//!
//! Every change locks the tenant row, re-checks the rule under the lock (so a job running on
//! two replicas, or an operator racing a job, changes the account once), writes the platform
//! and the tenant audit logs in the same transaction, and tells every replica to forget its
//! cached copy of the tenant.

use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::Duration;
use patron_core::plans::{self, Limit, Plan, SuspendReason};
use patron_core::tenants::TenantStatus;
use patron_db::plans::{self as db_plans, StatusChange};
use patron_db::{DbError, Tenant};
use poem_openapi::payload::Json;
use std::collections::BTreeMap;

/// How long a closed account's data is kept before the purge job drops it.
pub fn retention() -> Duration {
    Duration::days(30)
}

/// How long an invoice may stay unpaid past its due date before the account is suspended.
pub fn past_due_grace() -> Duration {
    Duration::days(14)
}

/// Days to pay an invoice.
pub fn payment_terms() -> Duration {
    Duration::days(7)
}

fn not_found(e: DbError) -> ApiError {
    match e {
        DbError::NotFound => ApiError::not_found("tenant"),
        other => other.into(),
    }
}

impl ApiState {
    /// Moves `tenant_id` to `to` if the lifecycle allows it from where it is.
    pub async fn move_tenant(
        &self,
        tenant_id: i64,
        to: TenantStatus,
        mut change: StatusChange,
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<Tenant, ApiError> {
        let now = self.now();
        let mut tx = self.db.platform_tx().await?;
        let current = db_plans::lock_tenant(&mut tx, tenant_id)
            .await
            .map_err(not_found)?;
        if !plans::can_move(current.status, to) {
            return Err(ApiError::conflict(
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
            db_plans::apply_change(&mut tx, tenant_id, &change, now, actor, &action, detail)
                .await?;
        tx.commit().await?;
        self.forget_tenant(tenant_id).await;
        Ok(updated)
    }

    /// Suspends an account (read-only from now on).
    pub async fn suspend(
        &self,
        tenant_id: i64,
        reason: SuspendReason,
        note: Option<String>,
        actor: &str,
    ) -> Result<Tenant, ApiError> {
        let change = StatusChange {
            suspended_reason: Some(reason),
            note: note.clone(),
            ..Default::default()
        };
        self.move_tenant(
            tenant_id,
            TenantStatus::Suspended,
            change,
            actor,
            serde_json::json!({ "reason": reason.as_str(), "note": note }),
        )
        .await
    }

    /// Moves a tenant to another plan: at once, or refused with everything the tenant uses
    /// beyond the target plan's limits.
    pub async fn change_plan(
        &self,
        tenant: &Tenant,
        target_code: &str,
        actor: &str,
    ) -> Result<Tenant, ApiError> {
        let plans = self.plans().await?;
        let target = plans
            .iter()
            .find(|p| p.code == target_code && !p.archived)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "plan",
                    format!("there is no plan \"{target_code}\" to move to"),
                )
            })?;
        if target.code == tenant.plan_code {
            return Err(ApiError::conflict(
                "same_plan",
                Some("plan"),
                format!("the account is already on the {} plan", target.name),
            ));
        }
        let now = self.now();
        // Count what the tenant uses, then lock the row and change it. Counting takes the
        // same per-tenant limit locks that creating things takes, so nothing slips in between.
        let mut ttx = self.db.tenant_tx(tenant).await?;
        let mut usage = BTreeMap::new();
        for limit in Limit::ALL.iter().filter(|l| !l.is_monthly()) {
            usage.insert(
                *limit,
                db_plans::lock_and_count(&mut ttx, *limit, now).await?,
            );
        }
        let over = plans::over_after_change(target, &usage);
        if !over.is_empty() {
            return Err(downgrade_refused(target, over));
        }
        // One transaction for the counts and the change.
        let current = db_plans::lock_tenant(&mut ttx, tenant.id)
            .await
            .map_err(not_found)?;
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
        self.forget_tenant(tenant.id).await;
        Ok(updated)
    }
}

fn downgrade_refused(target: &Plan, over: Vec<plans::OverLimit>) -> ApiError {
    let list: Vec<String> = over
        .iter()
        .map(|o| format!("{}: {} in use, {} allowed", o.limit, o.usage, o.allowed))
        .collect();
    ApiError::Conflict(Json(crate::edge::error::Problem {
        code: "downgrade_over_limits".into(),
        message: format!(
            "the {} plan is too small for this account: {}",
            target.name,
            list.join("; ")
        ),
        fields: over
            .iter()
            .map(|o| crate::edge::error::FieldProblem {
                field: format!("limits.{}", o.limit),
                problem: format!(
                    "{} in use, the {} plan allows {}",
                    o.usage, target.name, o.allowed
                ),
            })
            .collect(),
    }))
}
