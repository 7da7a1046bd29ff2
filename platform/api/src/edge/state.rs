//! What every endpoint shares: the database, the clock, the access controller and caches.

use crate::edge::access::AccessControl;
use crate::edge::gate::RateLimiter;
use crate::edge::metrics::Metrics;
use chrono::Duration;
use moka::future::Cache;
use patron_app::billing::SignedWebhook;
use patron_app::engine::RuleEngine;
use patron_app::plans::PlanCatalog;
use patron_app::sms::SmsSender;
use patron_core::clock::Clock;
use patron_core::pii::PiiKeys;
use patron_core::ports::PaymentProvider;
use patron_db::api_keys::{self, ApiKey};
use patron_db::{tenants, Db, DbError, Tenant, TenantTx};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Knobs the API honours.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// How long a staff login lasts.
    pub session_ttl: Duration,
    /// Keys sealing members' phone numbers and e-mail addresses.
    pub pii: Arc<PiiKeys>,
    /// The shared secret of the signed payment webhook; without it that webhook is off.
    pub payment_webhook_secret: Option<secrecy::SecretString>,
    /// A proxy we trust stands in front: its `X-Forwarded-Proto` (HSTS) and
    /// `X-Forwarded-For` (the caller's address in the login history) are believed.
    pub trust_proxy: bool,
    /// Where the console is served (`https://patron.example.com`): links in e-mails to staff
    /// point there. Never taken from the request's `Host` (a forged one would send reset
    /// links elsewhere).
    pub console_url: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            session_ttl: Duration::hours(12),
            pii: Arc::new(PiiKeys::development()),
            payment_webhook_secret: None,
            trust_proxy: false,
            console_url: "http://localhost:8080".into(),
        }
    }
}

/// Shared state; cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub access: AccessControl,
    pub metrics: Metrics,
    pub config: ApiConfig,
    /// Where one-time codes go (by default the tenant's SMS outbox table).
    pub sms: Arc<dyn SmsSender>,
    tenants: Cache<i64, Option<Tenant>>,
    /// Live integration keys by (tenant, hash of the secret): a key's check costs no
    /// query. Dropped on revocation, here at once and on other replicas through NOTIFY.
    api_keys: Cache<(i64, Vec<u8>), Arc<ApiKey>>,
    /// Bumped by every drop of `api_keys`: a lookup that overlapped one is not cached.
    api_keys_generation: Arc<AtomicU64>,
    /// Every plan, cached (see `patron_app::plans::PlanCatalog`).
    pub plans: PlanCatalog,
    pub rate: Arc<RateLimiter>,
    pub payment_providers: Arc<Vec<Box<dyn PaymentProvider>>>,
    /// Point rules in force, point settings, and the sandbox that runs rules.
    pub rules: RuleEngine,
    /// The mail and webhook adapters, for "send test" and the endpoint address check.
    pub messages: patron_app::messages::Senders,
    /// The object store behind uploads (`None`: uploads answer 503).
    pub storage: Option<Arc<dyn patron_core::ports::ObjectStore>>,
    /// Where that store is (`scheme://host:port`): browsers send uploads there and show
    /// pictures from there, so the console's content policy names it.
    pub storage_origin: Option<String>,
}

impl ApiState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, config: ApiConfig) -> Self {
        Self {
            access: AccessControl::new(db.clone()),
            metrics: Metrics::new(),
            tenants: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(30))
                .build(),
            api_keys: Cache::builder()
                .max_capacity(10_000)
                // A safety net only: revocations are pushed.
                .time_to_live(std::time::Duration::from_secs(300))
                .build(),
            api_keys_generation: Arc::new(AtomicU64::new(0)),
            plans: PlanCatalog::new(db.clone()),
            rate: Arc::new(RateLimiter::default()),
            payment_providers: Arc::new(
                config
                    .payment_webhook_secret
                    .clone()
                    .map(|s| Box::new(SignedWebhook::new(s)) as Box<dyn PaymentProvider>)
                    .into_iter()
                    .collect(),
            ),
            messages: patron_app::messages::Senders {
                mailer: None,
                webhooks: None,
                sms: None,
                sms_key: None,
                keys: config.pii.clone(),
                allow_private: false,
                console_url: config.console_url.clone(),
            },
            db,
            clock,
            config,
            sms: patron_app::sms::default_sender(),
            rules: RuleEngine::new(None),
            storage: None,
            storage_origin: None,
        }
    }

    /// Keeps uploaded files in this store, which browsers reach at `origin`.
    pub fn with_storage(
        mut self,
        store: Arc<dyn patron_core::ports::ObjectStore>,
        origin: String,
    ) -> Self {
        self.storage = Some(store);
        self.storage_origin = Some(origin);
        self
    }

    /// Runs point rules in this pool of sandbox workers.
    /// Sends mail and webhooks through these adapters.
    /// Delivers through these senders. With an SMS gateway, text messages become deliveries
    /// of the outbox; without, they stay in the development `sms_outbox` table.
    pub fn with_messages(mut self, senders: patron_app::messages::Senders) -> Self {
        self.sms = patron_app::sms::sender_for(&senders);
        self.messages = senders;
        self
    }

    pub fn with_sandbox(mut self, runner: Arc<dyn patron_core::ports::RuleRunner>) -> Self {
        self.rules = RuleEngine::new(Some(runner));
        self
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

    /// The live integration key behind a presented secret, from the cache when it is there;
    /// its use is noted at most once a minute.
    pub(crate) async fn api_key(
        &self,
        tx: &mut TenantTx,
        tenant_id: i64,
        hash: &[u8],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Arc<ApiKey>>, DbError> {
        let cache_key = (tenant_id, hash.to_vec());
        let generation = self.api_keys_generation.load(Ordering::Acquire);
        let (mut k, cached) = match self.api_keys.get(&cache_key).await {
            Some(k) if k.expires_at.is_some_and(|e| e <= now) => {
                self.api_keys.invalidate(&cache_key).await;
                return Ok(None);
            }
            Some(k) => (k, true),
            None => match api_keys::find_live(tx, hash, now).await? {
                Some(k) => (Arc::new(k), false),
                None => return Ok(None),
            },
        };
        let noted = api_keys::use_due(&k, now);
        if noted {
            api_keys::note_use(tx, k.id, now).await?;
            let mut n = (*k).clone();
            n.last_used_at = Some(now);
            k = Arc::new(n);
        }
        // A revocation that landed meanwhile must not be undone by caching the key again.
        if (noted || !cached) && self.api_keys_generation.load(Ordering::Acquire) == generation {
            self.api_keys.insert(cache_key, k.clone()).await;
        }
        Ok(Some(k))
    }

    /// Drops every cached integration key (after a revocation here or on another replica).
    pub fn forget_api_keys(&self) {
        self.api_keys_generation.fetch_add(1, Ordering::AcqRel);
        self.api_keys.invalidate_all();
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// After a commit that queued a text message: with an SMS gateway, the business's due
    /// texts are sent now, in the background, so a one-time code does not wait for the job
    /// runner's next turn. The runner retries what fails here.
    pub fn send_texts_now(&self, tenant: &Tenant) {
        if self.messages.sms.is_none() {
            return;
        }
        let (db, senders, tenant, now) = (
            self.db.clone(),
            self.messages.clone(),
            tenant.clone(),
            self.now(),
        );
        tokio::spawn(async move {
            if let Err(e) =
                patron_app::messages::deliver_texts_now(&db, &tenant, &senders, now).await
            {
                tracing::warn!(error = %e, "texts not sent at once; the job runner retries them");
            }
        });
    }
}

impl ApiState {
    /// Follows other replicas' changes to tenants, plans and integration keys (LISTEN),
    /// dropping cached copies.
    pub async fn follow_tenant_changes(self) {
        loop {
            match self.db.listen(patron_db::plans::TENANT_CHANNEL).await {
                Ok(mut listener) => {
                    self.tenants.invalidate_all();
                    self.plans.forget();
                    self.forget_api_keys();
                    loop {
                        match listener.recv().await {
                            Ok(n) if n.payload() == "plans" => self.plans.forget(),
                            Ok(n) if n.payload().starts_with("keys:") => self.forget_api_keys(),
                            Ok(n) => {
                                if let Ok(id) = n.payload().parse::<i64>() {
                                    self.forget_tenant(id).await;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "tenant listener lost its connection");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for tenant changes"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}
