//! Invoices: one per paying tenant per billing period, recorded by the period-end job.

use crate::{Db, DbError, OnPlatform};
use chrono::{DateTime, Utc};
use patron_core::plans::InvoiceLine;
use sqlx::types::Json;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invoice {
    pub id: Uuid,
    pub tenant_id: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub plan_code: String,
    pub currency: String,
    pub lines: Json<Vec<InvoiceLine>>,
    pub total_minor: i64,
    pub status: String,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub payment_ref: Option<String>,
}

const COLUMNS: &str = "id, tenant_id, period_start, period_end, plan_code, currency, lines, \
    total_minor, status, issued_at, due_at, paid_at, payment_ref";

/// What the period-end job records.
#[derive(Debug, Clone)]
pub struct NewInvoice {
    pub tenant_id: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub plan_code: String,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
}

/// Records the invoice for a period unless that period already has one. Returns the new
/// invoice, or `None` when it was already there.
pub async fn record(
    tx: &mut impl OnPlatform,
    new: &NewInvoice,
) -> Result<Option<Invoice>, DbError> {
    let total: i64 = new.lines.iter().map(|l| l.amount_minor).sum();
    Ok(sqlx::query_as(&format!(
        "INSERT INTO platform.invoices (id, tenant_id, period_start, period_end, plan_code,
             currency, lines, total_minor, issued_at, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (tenant_id, period_start) DO NOTHING RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(new.tenant_id)
    .bind(new.period_start)
    .bind(new.period_end)
    .bind(&new.plan_code)
    .bind(&new.currency)
    .bind(Json(&new.lines))
    .bind(total)
    .bind(new.issued_at)
    .bind(new.due_at)
    .fetch_optional(tx.platform_conn())
    .await?)
}

/// A tenant's invoices, newest first (or every tenant's when `tenant_id` is `None`).
pub async fn list(db: &Db, tenant_id: Option<i64>) -> Result<Vec<Invoice>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM platform.invoices WHERE $1::bigint IS NULL OR tenant_id = $1
         ORDER BY period_start DESC, tenant_id LIMIT 500"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?)
}

/// Marks an open invoice paid. Paying one twice is a no-op that returns it as it is.
pub async fn mark_paid(
    tx: &mut impl OnPlatform,
    id: Uuid,
    at: DateTime<Utc>,
    reference: &str,
) -> Result<(Invoice, bool), DbError> {
    let updated: Option<Invoice> = sqlx::query_as(&format!(
        "UPDATE platform.invoices SET status = 'paid', paid_at = $2, payment_ref = $3
         WHERE id = $1 AND status = 'open' RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(at)
    .bind(reference)
    .fetch_optional(tx.platform_conn())
    .await?;
    if let Some(inv) = updated {
        return Ok((inv, true));
    }
    let existing: Option<Invoice> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM platform.invoices WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.platform_conn())
    .await?;
    existing.map(|i| (i, false)).ok_or(DbError::NotFound)
}

/// Whether a tenant still has an open invoice past its due date.
pub async fn has_overdue(
    tx: &mut impl OnPlatform,
    tenant_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM platform.invoices WHERE tenant_id = $1 AND status = 'open' AND due_at <= $2)",
    )
    .bind(tenant_id)
    .bind(now)
    .fetch_one(tx.platform_conn())
    .await?)
}

/// Tenants with an open invoice past due, and since when the oldest has been due.
pub async fn overdue_tenants(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, DateTime<Utc>)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT tenant_id, min(due_at) FROM platform.invoices
         WHERE status = 'open' AND due_at <= $1 GROUP BY tenant_id ORDER BY tenant_id",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?)
}
