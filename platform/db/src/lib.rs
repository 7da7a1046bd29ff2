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
pub use tenancy::{drop_stale_spare_schemas, make_spare_schema, provision, Tenant, TenantTx};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

/// A handle on the database. Cheap to clone.
///
/// Its connections are split into groups, and a tenant's transactions open on a connection
/// of its home group (`tenant id mod groups`) whenever one is free there. A PostgreSQL backend
/// keeps the catalogue entries (and re-plans its statements) for every schema it has served,
/// so a connection that serves every tenant in turn holds all their tables' entries and
/// builds them all once: with 1,000 businesses, hundreds of megabytes per connection. With
/// groups, a connection mostly serves its group's share. When the home group has no free
/// connection and cannot open one, and none becomes free there within [`BORROW_AFTER`], a
/// free connection of another group is taken, so one busy business can still use the whole
/// pool. Work that is not any tenant's reads only `platform`: `platform_tx` prefers the first
/// group and borrows like a business, and statements straight on the pool ([`Db::pool`]) take
/// any group with a free connection.
#[derive(Clone, Debug)]
pub struct Db {
    pool: PgPool,
    groups: std::sync::Arc<[PgPool]>,
    /// The database is a Citus cluster (found when connecting).
    citus: bool,
    /// Whether a tenant's transaction takes another group's free connection when its home
    /// group is all busy ([`Db::with_borrowing`]).
    borrow: bool,
    /// How long it waits for its home group first ([`Db::with_borrow_after`]).
    borrow_after: Duration,
}

/// How many groups a pool of `max_connections` is split into: one per four connections, at
/// most eight (each keeps at least four connections, so a group is rarely all busy).
pub fn tenant_groups(max_connections: u32) -> u32 {
    (max_connections / 4).clamp(1, 8)
}

/// How long a tenant's transaction waits by default for a connection of its home group, once
/// they are all busy, before it takes another group's free one (with borrowing on; see
/// [`Db`]). A transaction holds its connection for milliseconds, so a wait this long runs out
/// only when the business needs more than its group; and a request that holds one of its
/// group's connections while it asks for another still gets one. 20 ms ran out too often on a
/// loaded machine (docs/benchmarks.md, "Borrowing after a wait for the home group").
pub const BORROW_AFTER: Duration = Duration::from_millis(100);

/// A pooled connection idle longer than this is pinged before it is used (see
/// [`group_options`]).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

fn group_options(size: u32) -> PgPoolOptions {
    // No ping before each use of a busy pool's connections (one round trip per transaction
    // on every request): only a connection idle for a second or more is pinged first, and
    // let go if it does not answer (the database restarted, an operator or
    // `idle_session_timeout` ended it), as connection pools commonly do. A connection that
    // dies between two uses closer together is found when its transaction opens; it is let
    // go and the transaction opened on another (`Db::begin_for`).
    // A connection lives at most 30 minutes and is closed after 10 idle: the catalogue
    // entries and plans it kept for every business it served go with it (see `Db`).
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for < IDLE_BEFORE_PING {
                    return Ok(true);
                }
                match sqlx::Connection::ping(conn).await {
                    Ok(()) => Ok(true),
                    Err(e) => {
                        tracing::info!(error = %e, "an idle pooled connection was gone; letting it go");
                        Ok(false)
                    }
                }
            })
        })
        .max_lifetime(Duration::from_secs(30 * 60))
        .idle_timeout(Duration::from_secs(10 * 60))
}

/// The sizes of the groups: `max_connections` shared out, the first groups one larger.
fn group_sizes(max_connections: u32) -> Vec<u32> {
    let n = tenant_groups(max_connections);
    (0..n)
        .map(|i| max_connections / n + u32::from(i < max_connections % n))
        .collect()
}

impl Db {
    /// Connects, and proves the database is there with the first group's first connection.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DbError::Config(format!("database URL: {e}")))?
            .application_name("patron");
        let sizes = group_sizes(max_connections);
        let first = group_options(sizes[0])
            .connect_with(options.clone())
            .await?;
        let mut groups = vec![first.clone()];
        for &size in &sizes[1..] {
            groups.push(group_options(size).connect_lazy_with(options.clone()));
        }
        let citus = sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')",
        )
        .fetch_one(&first)
        .await?;
        Ok(Self {
            pool: first,
            groups: groups.into(),
            citus,
            borrow: true,
            borrow_after: BORROW_AFTER,
        })
    }

    /// A pool that connects on first use; for commands that never touch the database
    /// (`patron openapi`).
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| DbError::Config(format!("database URL: {e}")))?
            .application_name("patron");
        let pool = group_options(max_connections).connect_lazy_with(options);
        Ok(Self {
            groups: vec![pool.clone()].into(),
            pool,
            citus: false,
            borrow: true,
            borrow_after: BORROW_AFTER,
        })
    }

    /// Whether a tenant's transaction may take a free connection of another group when every
    /// connection of its home group has stayed busy for [`Db::with_borrow_after`] (on by
    /// default). Off, a business's transactions only ever use its home group's connections
    /// and wait for one there, however long: one busy business is then served by its
    /// group's connections alone, and a request that holds one of them while it asks for
    /// another waits until the pool's timeout once the group is all held that way
    /// (docs/deploy.md, "Database connections").
    pub fn with_borrowing(mut self, on: bool) -> Self {
        self.borrow = on;
        self
    }

    /// How long a tenant's transaction waits for a connection of its home group, once they are
    /// all busy, before it borrows another group's ([`BORROW_AFTER`] by default; zero borrows
    /// at once).
    pub fn with_borrow_after(mut self, wait: Duration) -> Self {
        self.borrow_after = wait;
        self
    }

    /// A transaction on the `platform` schema only (no tenant's tables are on its path).
    pub async fn platform_tx(&self) -> Result<PlatformTx, DbError> {
        Ok(PlatformTx {
            tx: self.begin("BEGIN").await?,
        })
    }

    /// Opens a transaction with `statement` (BEGIN, and anything sent with it), for work
    /// that is no tenant's. See [`Db::begin_for`].
    pub(crate) async fn begin(
        &self,
        statement: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, DbError> {
        self.begin_for(None, statement).await
    }

    /// Opens a transaction with `statement` on a connection of `tenant`'s home group if one
    /// is free (see [`Db`]). A pooled connection that died while idle (the database
    /// restarted, an operator ended it) fails here, before anything of the transaction ran:
    /// it is dropped and the transaction opened on another, as the ping before each use
    /// would have done (see [`Db::lost_connection_tries`]).
    pub(crate) async fn begin_for(
        &self,
        tenant: Option<i64>,
        statement: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, DbError> {
        Ok(self
            .on_live_connection(|| self.open(tenant, statement))
            .await?)
    }

    /// Runs `work` (one use of a pooled connection) again while it fails because its
    /// connection was gone, up to [`Db::lost_connection_tries`] times.
    pub(crate) async fn on_live_connection<T, F, W>(&self, mut work: W) -> Result<T, sqlx::Error>
    where
        W: FnMut() -> F,
        F: std::future::Future<Output = Result<T, sqlx::Error>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match work().await {
                Err(e) if tries < self.lost_connection_tries() && connection_lost(&e) => {
                    tracing::info!(error = %e, "a pooled connection was gone; trying another");
                }
                other => return other,
            }
        }
    }

    /// How many times work that failed because its pooled connection was gone is tried on
    /// another: one more than the whole pool holds. When every session died at once (the
    /// database restarted, an operator ended them all), each try lets one dead connection go
    /// (sqlx closes it when it comes back), so the last try opens a new one; a dead
    /// connection fails at once, so the tries cost next to nothing.
    fn lost_connection_tries(&self) -> u32 {
        self.groups
            .iter()
            .map(|g| g.options().get_max_connections())
            .sum::<u32>()
            + 1
    }

    async fn open(
        &self,
        tenant: Option<i64>,
        statement: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        let n = self.groups.len();
        let home_index = tenant.map_or(0, |id| self.home_index(id));
        let home = &self.groups[home_index];
        if n > 1 {
            if let Some(tx) = home.try_begin_with(statement.to_owned()).await? {
                return Ok(tx);
            }
            // Not every connection of the home group is open yet: open one there. Without
            // borrowing, wait there for one too.
            if !self.borrow || home.size() < home.options().get_max_connections() {
                return home.begin_with(statement.to_owned()).await;
            }
            // The home group is all busy: one of its connections is usually free again within
            // a transaction's time, and a backend that serves its group's businesses keeps
            // their catalogue entries and plans warm, so wait there a moment first. The wait
            // is kept (not asked again) while the other groups are tried, so that, when none
            // of them serves, it keeps its place in the home group's queue (sqlx hands a
            // group's connections out in the order they were asked for).
            let mut waiting = Box::pin(home.acquire());
            let conn = match tokio::time::timeout(self.borrow_after, &mut waiting).await {
                Ok(conn) => conn?,
                Err(_) => {
                    // The home group stayed busy for the whole wait: a free connection
                    // elsewhere, or room for one. The wait is given up before a connection
                    // elsewhere is used, so that it holds none of the home group's.
                    let mut others = (1..n).map(|i| &self.groups[(home_index + i) % n]);
                    if let Some(conn) = others.clone().find_map(|other| other.try_acquire()) {
                        drop(waiting);
                        return begin_on(conn, statement).await;
                    }
                    if let Some(other) =
                        others.find(|other| other.size() < other.options().get_max_connections())
                    {
                        drop(waiting);
                        return other.begin_with(statement.to_owned()).await;
                    }
                    waiting.await?
                }
            };
            return begin_on(conn, statement).await;
        }
        home.begin_with(statement.to_owned()).await
    }

    /// The pool of `tenant`'s home group ([`Db::begin_for`] opens its transactions there
    /// first), for a statement that is a transaction of its own.
    pub(crate) fn home_pool(&self, tenant: i64) -> &sqlx::PgPool {
        &self.groups[self.home_index(tenant)]
    }

    /// Which group is `tenant`'s home.
    fn home_index(&self, tenant: i64) -> usize {
        tenant.rem_euclid(self.groups.len() as i64) as usize
    }

    /// Whether the database answers.
    /// A connection that died while idle is let go and the question asked on another, as a
    /// transaction's opening does ([`Db::begin_for`]): a server whose idle connections were
    /// all ended is still ready, since its next work opens new ones.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.on_live_connection(|| sqlx::query("SELECT 1").execute(&self.pool))
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        for pool in self.groups.iter() {
            pool.close().await;
        }
    }

    /// A listener on a notification channel, for cache invalidation across replicas.
    pub async fn listen(&self, channel: &str) -> Result<sqlx::postgres::PgListener, DbError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen(channel).await?;
        Ok(listener)
    }

    /// A pool for a statement that is no tenant's (the request budget counted before every
    /// request, operators, jobs' claims): it reads only `platform`, so any group serves it
    /// without growing a connection's catalogue. The first group with an idle connection,
    /// else one with room for another, else the first group (it waits there).
    pub(crate) fn pool(&self) -> &PgPool {
        if self.groups.len() > 1 {
            if let Some(g) = self.groups.iter().find(|g| g.num_idle() > 0) {
                return g;
            }
            if let Some(g) = self
                .groups
                .iter()
                .find(|g| g.size() < g.options().get_max_connections())
            {
                return g;
            }
        }
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

/// Opens a transaction with `statement` on a connection already taken from a pool.
async fn begin_on(
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    statement: &str,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    sqlx::Transaction::begin(
        sqlx::pool::MaybePoolConnection::PoolConnection(conn),
        Some(statement.to_owned().into()),
    )
    .await
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
