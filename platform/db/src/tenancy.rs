//! Schema-per-tenant: the [`Tenant`] record, the tenant-scoped transaction and provisioning.

use crate::{migrate, Db, DbError};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use patron_core::plans::{self, Access, SuspendReason};
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
    /// When the trial ends (trial accounts only).
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// The billing period in progress (active and past-due accounts).
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    /// Why a suspended account is suspended.
    pub suspended_reason: Option<SuspendReason>,
    /// What an operator or a job wrote when the status last changed.
    pub status_note: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When a closed account's data is dropped.
    pub purge_after: Option<DateTime<Utc>>,
    pub purged_at: Option<DateTime<Utc>>,
    schema: String,
}

impl Tenant {
    /// What the account may do in its present state.
    pub fn access(&self) -> Access {
        plans::access(self.status, self.suspended_reason, self.purged_at.is_some())
    }

    /// The PostgreSQL schema holding this tenant's tables; also its Casbin domain.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

pub(crate) const TENANT_COLUMNS: &str = "id, slug, name, status, plan_code, time_zone, currency, \
    locale, phone_region, schema_version, created_at, schema_name, trial_ends_at, period_start, \
    period_end, suspended_reason, status_note, closed_at, purge_after, purged_at";

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
    trial_ends_at: Option<DateTime<Utc>>,
    period_start: Option<DateTime<Utc>>,
    period_end: Option<DateTime<Utc>>,
    suspended_reason: Option<String>,
    status_note: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    purge_after: Option<DateTime<Utc>>,
    purged_at: Option<DateTime<Utc>>,
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
            trial_ends_at: r.trial_ends_at,
            period_start: r.period_start,
            period_end: r.period_end,
            suspended_reason: r.suspended_reason.as_deref().and_then(SuspendReason::parse),
            status_note: r.status_note,
            closed_at: r.closed_at,
            purge_after: r.purge_after,
            purged_at: r.purged_at,
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
///
/// Events for the outbox ([`crate::messages::record`]) wait in the transaction and are
/// written by [`TenantTx::commit`] in one statement, however many the change caused.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant_id: i64,
    schema: String,
    pub(crate) outbox: Vec<crate::messages::Pending>,
    /// How many events were waiting at the open savepoints (`coupon_occasion`,
    /// `coupon_dry_run`): those recorded since go when it is rolled back.
    pub(crate) outbox_mark: Option<usize>,
    pub(crate) outbox_dry_mark: Option<usize>,
    /// On a Citus cluster (or not known to be elsewhere): statements Citus cannot run in one
    /// piece are sent apart ([`TenantTx::on_citus`]).
    citus: bool,
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
            outbox: Vec::new(),
            outbox_mark: None,
            outbox_dry_mark: None,
            citus: true,
        })
    }

    /// Whether the transaction runs on a Citus cluster, where a statement that claims an
    /// idempotency key in a CTE beside locking reads fails in Citus's planner (its
    /// intermediate results are read back in the wrong format): such claims go in a statement
    /// of their own there. Transactions not opened by [`Db::tenant_tx`] answer `true`, the
    /// form that works everywhere.
    pub(crate) fn on_citus(&self) -> bool {
        self.citus
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

    /// Writes the events waiting for the outbox (one statement), then commits.
    pub async fn commit(mut self) -> Result<(), DbError> {
        let events = std::mem::take(&mut self.outbox);
        crate::messages::write_pending(&mut self.tx, events).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl Db {
    /// Opens a transaction scoped to `tenant`. The only way into tenant tables.
    pub async fn tenant_tx(&self, tenant: &Tenant) -> Result<TenantTx, DbError> {
        let schema = &tenant.schema;
        if plain_schema(schema) {
            // BEGIN and the search_path in one round trip (every request opens one of
            // these). The schema name is `t_<id>`, checked above, so it can be inlined.
            let tx = self
                .begin_for(
                    Some(tenant.id),
                    &format!("BEGIN; SELECT set_config('search_path', '\"{schema}\"', true)"),
                )
                .await?;
            return Ok(TenantTx {
                tx,
                tenant_id: tenant.id,
                schema: schema.clone(),
                outbox: Vec::new(),
                outbox_mark: None,
                outbox_dry_mark: None,
                citus: self.citus,
            });
        }
        let tx = self.begin_for(Some(tenant.id), "BEGIN").await?;
        let mut tx = TenantTx::scope(tx, tenant.id, schema.clone()).await?;
        tx.citus = self.citus;
        Ok(tx)
    }
}

/// Whether a schema's name (`t_<id>`) can be written into a statement as it is: lower-case
/// letters, digits and `_` only.
pub(crate) fn plain_schema(schema: &str) -> bool {
    !schema.is_empty()
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// What a new tenant starts with.
#[derive(Debug, Clone)]
pub struct NewTenant {
    pub slug: Slug,
    pub name: String,
    pub settings: TenantSettings,
    /// The plan to start on; `None` for the platform's default plan.
    pub plan_code: Option<String>,
    /// When the account is made (trial and first period are counted from it).
    pub now: DateTime<Utc>,
}

/// Creates a tenant all or nothing: the platform row, its schema (a spare one when one is
/// ready, see [`make_spare_schema`], or a new one with every tenant migration), then `init`
/// (which creates the owner, roles...) inside the same transaction. If any step fails,
/// nothing is left behind: no row, no new schema, and a spare taken is spare again.
pub fn provision<'a, T: Send + 'a>(
    db: &'a Db,
    new: NewTenant,
    init: impl for<'t> FnOnce(&'t mut TenantTx) -> BoxFuture<'t, Result<T, DbError>> + Send + 'a,
) -> BoxFuture<'a, Result<(Tenant, T), DbError>> {
    // Boxed here, with concrete lifetimes, so callers' futures stay provably `Send`.
    Box::pin(async move {
        let mut tx = db.begin("BEGIN").await?;
        let latest = migrate::latest_tenant_version();
        // A spare schema at this server's version, when one is ready: its id becomes the
        // account's. Taken by deleting its row, so two signups never take the same one, and a
        // signup that fails puts it back (the delete is rolled back with everything else).
        let spare: Option<i64> = sqlx::query_scalar(
            "DELETE FROM platform.spare_schemas WHERE id = (
                 SELECT id FROM platform.spare_schemas WHERE schema_version = $1
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id",
        )
        .bind(latest)
        .fetch_optional(&mut *tx)
        .await?;
        let id: i64 = match spare {
            Some(id) => id,
            None => {
                sqlx::query_scalar(
                    "SELECT nextval(pg_get_serial_sequence('platform.tenants', 'id'))",
                )
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let schema = schema_name(id);
        // A plan with a trial starts the account in `trial`; one without starts it `active`
        // with its first billing period. An unknown or archived plan inserts nothing.
        let row: Option<TenantRow> = sqlx::query_as(&format!(
            "WITH p AS (
                 SELECT code, trial_days FROM platform.plans
                 WHERE code = COALESCE($9, (SELECT code FROM platform.plans WHERE is_default))
                   AND NOT archived)
             INSERT INTO platform.tenants (id, slug, name, schema_name, plan_code, time_zone,
                 currency, locale, phone_region, status, trial_ends_at, period_start, period_end,
                 status_changed_at, created_at, schema_version)
             SELECT $1, $2, $3, $4, p.code, $5, $6, $7, $8,
                 CASE WHEN p.trial_days > 0 THEN 'trial' ELSE 'active' END,
                 CASE WHEN p.trial_days > 0 THEN $10 + make_interval(days => p.trial_days) END,
                 CASE WHEN p.trial_days = 0 THEN $10 END,
                 CASE WHEN p.trial_days = 0 THEN
                     (date_trunc('month', $10 AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC' END,
                 $10, $10, $11
             FROM p
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
        .bind(new.plan_code.as_deref())
        .bind(new.now)
        .bind(if spare.is_some() { latest } else { 0 })
        .fetch_optional(&mut *tx)
        .await?;
        let row = row.ok_or(DbError::NotFound)?;
        if spare.is_none() {
            sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
                .execute(&mut *tx)
                .await?;
        }
        let mut ttx = TenantTx::scope(tx, id, schema).await?;
        if spare.is_none() {
            migrate::apply_tenant_migrations(&mut ttx).await?;
        }
        let out = init(&mut ttx).await?;
        ttx.commit().await?;
        let mut tenant = Tenant::from(row);
        // The spare was at the latest version, or apply_tenant_migrations brought the schema,
        // and the row, to it.
        tenant.schema_version = latest;
        Ok((tenant, out))
    })
}

/// The advisory lock held while a spare schema is made: one maker at a time across replicas.
const SPARE_MAKER_LOCK: i64 = 0x7061_7472_6f6e_0001;

/// Makes one spare schema, a tenant schema with every tenant migration applied, recorded in
/// `platform.spare_schemas` for a signup to take (see [`provision`]), if fewer than `target`
/// are ready and no other server is making one. Returns its id, or `None` when nothing was
/// made.
pub async fn make_spare_schema(db: &Db, target: i64) -> Result<Option<i64>, DbError> {
    let mut tx = db.begin("BEGIN").await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(SPARE_MAKER_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    // Counted after the lock is held (a statement of its own, so its snapshot sees what the
    // previous holder committed).
    let ready: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.spare_schemas WHERE schema_version = $1")
            .bind(migrate::latest_tenant_version())
            .fetch_one(&mut *tx)
            .await?;
    if ready >= target {
        return Ok(None);
    }
    let id: i64 =
        sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('platform.tenants', 'id'))")
            .fetch_one(&mut *tx)
            .await?;
    let schema = schema_name(id);
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut *tx)
        .await?;
    let mut ttx = TenantTx::scope(tx, id, schema).await?;
    // Its `UPDATE platform.tenants` finds no row: the version is kept here instead.
    migrate::apply_tenant_migrations(&mut ttx).await?;
    sqlx::query("INSERT INTO platform.spare_schemas (id, schema_version) VALUES ($1, $2)")
        .bind(id)
        .bind(migrate::latest_tenant_version())
        .execute(ttx.conn())
        .await?;
    ttx.commit().await?;
    Ok(Some(id))
}

/// Drops the spare schemas older than this server's latest tenant version (made before an
/// upgrade; never a newer server's). Returns how many went.
pub async fn drop_stale_spare_schemas(db: &Db) -> Result<usize, DbError> {
    let mut dropped = 0;
    loop {
        let mut tx = db.begin("BEGIN").await?;
        let stale: Option<i64> = sqlx::query_scalar(
            "DELETE FROM platform.spare_schemas WHERE id = (
                 SELECT id FROM platform.spare_schemas WHERE schema_version < $1
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id",
        )
        .bind(migrate::latest_tenant_version())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = stale else {
            return Ok(dropped);
        };
        sqlx::query(&format!("DROP SCHEMA \"{}\" CASCADE", schema_name(id)))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        dropped += 1;
    }
}
