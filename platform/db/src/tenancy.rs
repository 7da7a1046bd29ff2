//! Schema-per-tenant: the [`Tenant`] record, the tenant-scoped transaction and provisioning.

use crate::{migrate, Db, DbError};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use patron_core::tenants::{Slug, TenantSettings, TenantStatus};
use sqlx::{PgConnection, Postgres, Transaction};

/// A tenant as the platform knows it. Only this crate can make one, from a row it read, so
/// holding a `Tenant` proves the tenant (and its schema) exists.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub plan_code: String,
    pub settings: TenantSettings,
    pub schema_version: i64,
    pub created_at: DateTime<Utc>,
    schema: String,
}

impl Tenant {
    /// The PostgreSQL schema holding this tenant's tables; also its Casbin domain.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

pub(crate) const TENANT_COLUMNS: &str = "id, slug, name, status, plan_code, time_zone, currency, \
    locale, phone_region, schema_version, created_at, schema_name";

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    id: i64,
    slug: String,
    name: String,
    status: String,
    plan_code: String,
    time_zone: String,
    currency: String,
    locale: String,
    phone_region: String,
    schema_version: i64,
    created_at: DateTime<Utc>,
    schema_name: String,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            id: r.id,
            slug: r.slug,
            name: r.name,
            // The CHECK constraint keeps the column to known values.
            status: TenantStatus::parse(&r.status).unwrap_or(TenantStatus::Suspended),
            plan_code: r.plan_code,
            settings: TenantSettings {
                time_zone: r.time_zone,
                currency: r.currency,
                locale: r.locale,
                phone_region: r.phone_region,
            },
            schema_version: r.schema_version,
            created_at: r.created_at,
            schema: r.schema_name,
        }
    }
}

/// The name of tenant `id`'s schema. Built from an integer, so always a safe identifier.
pub(crate) fn schema_name(id: i64) -> String {
    format!("t_{id}")
}

/// A transaction scoped to one tenant: its `search_path` is that tenant's schema and nothing
/// else, set with `set_config(.., true)` so it ends with the transaction and the connection
/// goes back to the pool clean. Dropping it without [`TenantTx::commit`] rolls back.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant_id: i64,
    schema: String,
}

impl TenantTx {
    pub(crate) async fn scope(
        mut tx: Transaction<'static, Postgres>,
        tenant_id: i64,
        schema: String,
    ) -> Result<Self, DbError> {
        sqlx::query("SELECT set_config('search_path', $1, true)")
            .bind(format!("\"{schema}\""))
            .execute(&mut *tx)
            .await?;
        Ok(Self {
            tx,
            tenant_id,
            schema,
        })
    }

    pub fn tenant_id(&self) -> i64 {
        self.tenant_id
    }

    /// The Casbin domain (the schema name) of this tenant.
    pub fn domain(&self) -> &str {
        &self.schema
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Db {
    /// Opens a transaction scoped to `tenant`. The only way into tenant tables.
    pub async fn tenant_tx(&self, tenant: &Tenant) -> Result<TenantTx, DbError> {
        let tx = self.pool().begin().await?;
        TenantTx::scope(tx, tenant.id, tenant.schema.clone()).await
    }
}

/// What a new tenant starts with.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: Slug,
    pub name: String,
    pub settings: TenantSettings,
}

/// Creates a tenant all or nothing: the platform row, its schema, every tenant migration,
/// then `init` (which creates the owner, roles...) inside the same transaction. If any step
/// fails, nothing is left behind: no row, no schema.
pub fn provision<'a, T: Send + 'a>(
    db: &'a Db,
    new: NewTenant,
    init: impl for<'t> FnOnce(&'t mut TenantTx) -> BoxFuture<'t, Result<T, DbError>> + Send + 'a,
) -> BoxFuture<'a, Result<(Tenant, T), DbError>> {
    // Boxed here, with concrete lifetimes, so callers' futures stay provably `Send`.
    Box::pin(async move {
        let mut tx = db.pool().begin().await?;
        let id: i64 =
            sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('platform.tenants', 'id'))")
                .fetch_one(&mut *tx)
                .await?;
        let schema = schema_name(id);
        let row: TenantRow = sqlx::query_as(&format!(
        "INSERT INTO platform.tenants (id, slug, name, schema_name, plan_code, time_zone, currency, locale, phone_region)
         VALUES ($1, $2, $3, $4, (SELECT code FROM platform.plans WHERE is_default), $5, $6, $7, $8)
         RETURNING {TENANT_COLUMNS}"
    ))
    .bind(id)
    .bind(new.slug.as_str())
    .bind(&new.name)
    .bind(&schema)
    .bind(&new.settings.time_zone)
    .bind(&new.settings.currency)
    .bind(&new.settings.locale)
    .bind(&new.settings.phone_region)
    .fetch_one(&mut *tx)
    .await?;
        sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
            .execute(&mut *tx)
            .await?;
        let mut ttx = TenantTx::scope(tx, id, schema).await?;
        migrate::apply_tenant_migrations(&mut ttx).await?;
        let out = init(&mut ttx).await?;
        ttx.commit().await?;
        let mut tenant = Tenant::from(row);
        // apply_tenant_migrations brought the schema, and the row, to the latest version.
        tenant.schema_version = migrate::latest_tenant_version();
        Ok((tenant, out))
    })
}
