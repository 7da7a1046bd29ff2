//! The platform's list of tenants.

use crate::tenancy::{TenantRow, TENANT_COLUMNS};
use crate::{Db, DbError, Tenant, TenantTx};
use patron_core::tenants::TenantSettings;

pub use crate::tenancy::NewTenant;

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<Tenant>, DbError> {
    let row: Option<TenantRow> = sqlx::query_as(&format!(
        "SELECT {TENANT_COLUMNS} FROM platform.tenants WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(Tenant::from))
}

pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Tenant>, DbError> {
    let row: Option<TenantRow> = sqlx::query_as(&format!(
        "SELECT {TENANT_COLUMNS} FROM platform.tenants WHERE slug = $1"
    ))
    .bind(slug)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(Tenant::from))
}

pub async fn list(db: &Db) -> Result<Vec<Tenant>, DbError> {
    let rows: Vec<TenantRow> = sqlx::query_as(&format!(
        "SELECT {TENANT_COLUMNS} FROM platform.tenants ORDER BY id"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}

/// Whether a schema of this name exists (used to prove a failed signup left nothing).
pub async fn schema_exists(db: &Db, schema: &str) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
            .bind(schema)
            .fetch_one(db.pool())
            .await?,
    )
}

/// Changes the settings of the tenant `tx` is scoped to, returning the tenant as it is now.
pub async fn update_settings(
    tx: &mut TenantTx,
    name: &str,
    settings: &TenantSettings,
) -> Result<Tenant, DbError> {
    let row: TenantRow = sqlx::query_as(&format!(
        "UPDATE platform.tenants SET name = $2, time_zone = $3, currency = $4, locale = $5,
             phone_region = $6, updated_at = now()
         WHERE id = $1 RETURNING {TENANT_COLUMNS}"
    ))
    .bind(tx.tenant_id())
    .bind(name)
    .bind(&settings.time_zone)
    .bind(&settings.currency)
    .bind(&settings.locale)
    .bind(&settings.phone_region)
    .fetch_one(tx.conn())
    .await?;
    Ok(row.into())
}

/// Tenants matching an operator's search: `q` in the slug or name, optional plan and status,
/// keyset-paged by id.
pub async fn search(
    db: &Db,
    q: Option<&str>,
    plan: Option<&str>,
    status: Option<&str>,
    after_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Tenant>, DbError> {
    let pattern = q.map(|q| {
        format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let rows: Vec<TenantRow> = sqlx::query_as(&format!(
        "SELECT {TENANT_COLUMNS} FROM platform.tenants
         WHERE ($1::text IS NULL OR slug ILIKE $1 OR name ILIKE $1)
           AND ($2::text IS NULL OR plan_code = $2)
           AND ($3::text IS NULL OR status = $3)
           AND ($4::bigint IS NULL OR id > $4)
         ORDER BY id LIMIT $5"
    ))
    .bind(pattern)
    .bind(plan)
    .bind(status)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(Tenant::from).collect())
}
