//! What every endpoint shares: the database, the clock, the access controller and caches.

use crate::access::AccessControl;
use crate::metrics::Metrics;
use chrono::Duration;
use moka::future::Cache;
use patron_core::clock::Clock;
use patron_core::pii::PiiKeys;
use patron_db::{tenants, Db, DbError, Tenant};
use std::sync::Arc;

/// Knobs the API honours.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a staff login lasts.
    pub session_ttl: Duration,
    /// Keys sealing members' phone numbers and e-mail addresses.
    pub pii: Arc<PiiKeys>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::hours(12),
            pii: Arc::new(PiiKeys::development()),
        }
    }
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub access: AccessControl,
    pub metrics: Metrics,
    pub config: ApiConfig,
    /// Where one-time codes go (by default the tenant's SMS outbox table).
    pub sms: Arc<dyn crate::portal::SmsSender>,
    tenants: Cache<i64, Option<Tenant>>,
}

impl AppState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: ApiConfig) -> Self {
        Self {
            access: AccessControl::new(db.clone()),
            metrics: Metrics::new(),
            tenants: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(30))
                .build(),
            db,
            clock,
            config,
            sms: crate::portal::default_sender(),
        }
    }

    /// The tenant with this id, from a short-lived cache. Unknown ids are cached as misses
    /// too, so forged tokens cannot hammer the database.
    pub async fn tenant(&self, id: i64) -> Result<Option<Tenant>, DbError> {
        let db = self.db.clone();
        self.tenants
            .try_get_with(id, async move { tenants::find_by_id(&db, id).await })
            .await
            .map_err(|e: Arc<DbError>| match Arc::try_unwrap(e) {
                Ok(e) => e,
                Err(shared) => DbError::Aborted(shared.to_string()),
            })
    }

    /// Forgets a cached tenant after its row changed.
    pub async fn forget_tenant(&self, id: i64) {
        self.tenants.invalidate(&id).await;
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
