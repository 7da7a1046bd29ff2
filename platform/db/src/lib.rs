//! Patron's storage: the pool, schema-per-tenant tenancy, migrations and one repository
//! per capability.
//!
//! Tenant tables are reachable only through a [`TenantTx`]: a transaction whose
//! `search_path` is set, transaction-locally, to one tenant's schema. The pool itself never
//! leaves this crate, so no other code can query tenant tables any other way.

pub mod access;
pub mod activities;
pub mod actors;
pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod campaigns;
pub mod cards;
pub mod constraints;
pub mod conversations;
pub mod coupons;
pub mod dashboard;
pub mod desk;
mod error;
pub mod fields;
pub mod idempotency;
pub mod jobs;
pub mod mall;
pub mod members;
pub mod messages;
pub mod migrate;
pub mod notices;
pub mod operators;
pub mod plans;
pub mod points;
pub mod portal;
pub mod prepaid;
pub mod promotions;
pub mod rules;
pub mod security;
pub mod segments;
pub mod sessions;
pub mod staff;
mod tenancy;
pub mod tenants;
pub mod tiers;
pub mod transfer;
pub mod uploads;

pub use error::DbError;
pub use tenancy::{provision, Tenant, TenantTx};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// A handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
}

impl Db {
    /// Connects lazily-verified: the first query proves the database is there.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DbError::Config(format!("database URL: {e}")))?
            .application_name("patron");
        // No ping before each use of a pooled connection (one round trip per transaction on
        // every request): a connection found dead when its transaction opens is let go and
        // the transaction opened on another (`Db::begin`).
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// A pool that connects on first use; for commands that never touch the database
    /// (`patron openapi`).
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DbError::Config(format!("database URL: {e}")))?
            .application_name("patron");
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(Self { pool })
    }

    /// A transaction on the `platform` schema only (no tenant's tables are on its path).
    pub async fn platform_tx(&self) -> Result<PlatformTx, DbError> {
        Ok(PlatformTx {
            tx: self.begin("BEGIN").await?,
        })
    }

    /// Opens a transaction with `statement` (BEGIN, and anything sent with it). A pooled
    /// connection that died while idle (the database restarted, an operator ended it) fails
    /// here, before anything of the transaction ran: it is dropped and the transaction
    /// opened on another, a few times, as the ping before each use would have done.
    pub(crate) async fn begin(
        &self,
        statement: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, DbError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.pool.begin_with(statement.to_owned()).await {
                Err(e) if tries < 4 && connection_lost(&e) => {
                    tracing::info!(error = %e, "a pooled connection was gone; opening another");
                }
                other => return Ok(other?),
            }
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A listener on a notification channel, for cache invalidation across replicas.
    pub async fn listen(&self, channel: &str) -> Result<sqlx::postgres::PgListener, DbError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(channel).await?;
        Ok(listener)
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A transaction over the `platform` schema: lifecycle changes lock the tenant row with it.
pub struct PlatformTx {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
}

impl PlatformTx {
    pub(crate) fn conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A transaction that can reach the `platform` schema: a [`PlatformTx`], or a [`TenantTx`]
/// (platform tables are always named with their schema), so a change touching both commits
/// as one.
pub trait OnPlatform: Send {
    #[doc(hidden)]
    fn platform_conn(&mut self) -> &mut sqlx::PgConnection;
}

impl OnPlatform for PlatformTx {
    fn platform_conn(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }
}

impl OnPlatform for TenantTx {
    fn platform_conn(&mut self) -> &mut sqlx::PgConnection {
        self.conn()
    }
}

/// Whether `e` says the connection itself failed (not the statement).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        // The server ended the session (terminated by an operator, or shutting down).
        sqlx::Error::Database(db) => {
            matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}
