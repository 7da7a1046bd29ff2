//! The `patron` server: settings, start-up, the HTTP server with graceful shutdown, the
//! background job runner, and the operator commands (migrate, tenant, pii).

pub mod billing;
pub mod commands;
pub mod config;
pub mod jobs;
pub mod pii;
pub mod points;
pub mod spares;

use anyhow::Context;
use patron_api::{ApiConfig, ApiState};
use patron_core::clock::Clock;
use patron_db::migrate::{readiness, Readiness};
use patron_db::Db;
use poem::listener::{Acceptor, Listener, TcpListener};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// A built application: bound to its port, ready to serve.
pub struct Application {
    addr: SocketAddr,
    acceptor: poem::listener::TcpAcceptor,
    state: ApiState,
    console_dir: Option<PathBuf>,
    jobs: Option<jobs::JobRunner>,
    /// Spare tenant schemas to keep ready (0: none).
    spare_schemas: u32,
}

/// What [`Application::build`] needs beyond the database.
pub struct Options {
    pub listen: String,
    pub session_ttl: chrono::Duration,
    pub console_dir: Option<PathBuf>,
    pub run_jobs: bool,
    /// Tenant schemas kept ready for signups (0: none; each signup makes its own).
    pub spare_schemas: u32,
    /// Keys sealing members' personal data.
    pub pii_keys: patron_core::pii::PiiKeys,
    /// See [`ApiConfig::payment_webhook_secret`].
    pub payment_webhook_secret: Option<secrecy::SecretString>,
    /// The rule sandbox workers (`None`: rules do not run; purchases record zero points with
    /// the error attached).
    pub sandbox: Option<patron_rules::SandboxConfig>,
    /// Where e-mail and webhooks go.
    pub messages: MessagesConfig,
    /// See [`ApiConfig::trust_proxy`].
    pub trust_proxy: bool,
    /// The S3-compatible store for uploads (`None`: uploads answer 503).
    pub storage: Option<patron_storage::S3Config>,
    /// See [`ApiConfig::console_url`]; unset: `http://` and the address listened on.
    pub console_url: Option<String>,
}

/// How messages leave: the SMTP relay (none: e-mails wait in the outbox), the SMS gateway
/// (none: text messages stay in the development `sms_outbox` table) and whether webhook
/// endpoints may be on private addresses (tests, development only).
#[derive(Debug, Clone, Default)]
pub struct MessagesConfig {
    pub smtp: Option<patron_outbound::SmtpConfig>,
    pub sms: Option<patron_outbound::SmsGatewayConfig>,
    pub webhooks_allow_private: bool,
}

impl MessagesConfig {
    /// The adapters behind the mail and webhook ports.
    pub fn senders(
        &self,
        keys: Arc<patron_core::pii::PiiKeys>,
    ) -> anyhow::Result<patron_app::messages::Senders> {
        let mailer = match &self.smtp {
            Some(c) => Some(Arc::new(
                patron_outbound::SmtpMailer::new(c)
                    .map_err(|e| anyhow::anyhow!("configuration: SMTP: {e}"))?,
            ) as Arc<dyn patron_core::ports::Mailer>),
            None => None,
        };
        let webhooks = patron_outbound::HttpWebhooks::new(self.webhooks_allow_private)
            .map_err(|e| anyhow::anyhow!("cannot build the webhook client: {e}"))?;
        let sms = match &self.sms {
            Some(c) => Some(Arc::new(
                patron_outbound::HttpSmsGateway::new(c.clone())
                    .map_err(|e| anyhow::anyhow!("configuration: SMS gateway: {e}"))?,
            ) as Arc<dyn patron_core::ports::SmsGateway>),
            None => None,
        };
        Ok(patron_app::messages::Senders {
            mailer,
            webhooks: Some(Arc::new(webhooks)),
            sms,
            sms_key: self.sms.as_ref().map(|c| c.key.clone()),
            keys,
            allow_private: self.webhooks_allow_private,
            console_url: String::new(),
        })
    }
}

impl Application {
    /// Checks the database is migrated, binds the listener (port 0 picks a free one).
    pub async fn build(db: Db, clock: Arc<dyn Clock>, options: Options) -> anyhow::Result<Self> {
        match readiness(&db)
            .await
            .context("cannot read the database's migration state")?
        {
            Readiness::Ready => {}
            Readiness::NotMigrated {
                platform_pending,
                tenants_behind,
            } => anyhow::bail!(
                "the database is not migrated ({platform_pending} platform migrations pending, \
                 {tenants_behind} tenant schemas behind); run `patron migrate` first"
            ),
        }
        let acceptor = TcpListener::bind(options.listen.clone())
            .into_acceptor()
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let addr = acceptor
            .local_addr()
            .into_iter()
            .find_map(|a| a.as_socket_addr().copied())
            .context("listener has no socket address")?;
        let state = ApiState::new(
            db.clone(),
            clock.clone(),
            ApiConfig {
                session_ttl: options.session_ttl,
                pii: Arc::new(options.pii_keys),
                payment_webhook_secret: options.payment_webhook_secret,
                trust_proxy: options.trust_proxy,
                console_url: options
                    .console_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{addr}")),
            },
        );
        let mut senders = options.messages.senders(state.config.pii.clone())?;
        senders.console_url = state.config.console_url.clone();
        let state = state.with_messages(senders.clone());
        let state = match &options.storage {
            Some(config) => {
                let store = patron_storage::S3Store::new(config)
                    .map_err(|e| anyhow::anyhow!("configuration: S3: {e}"))?;
                state.with_storage(Arc::new(store), config.origin())
            }
            None => state,
        };
        let state = match options.sandbox {
            Some(config) => {
                let pool = patron_rules::SandboxPool::start(config)
                    .map_err(|e| anyhow::anyhow!("cannot start the rule sandbox: {}", e.message))?;
                state.with_sandbox(std::sync::Arc::new(pool))
            }
            None => state,
        };
        let jobs = options.run_jobs.then(|| {
            let importer = patron_app::member_files::Importer::new(
                db.clone(),
                clock.clone(),
                state.config.pii.clone(),
                state.plans.clone(),
            );
            jobs::JobRunner::new(db, clock)
                .with_rules(state.rules.clone())
                .with_messages(senders)
                .with_imports(importer)
        });
        Ok(Self {
            addr,
            acceptor,
            state,
            console_dir: options.console_dir,
            jobs,
            spare_schemas: options.spare_schemas,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &ApiState {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains in-flight requests (up to 10 s) and
    /// stops the job runner and the policy listener.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let listener = tokio::spawn(self.state.access.clone().follow_changes());
        let tenant_listener = tokio::spawn(self.state.clone().follow_tenant_changes());
        let rule_listener = tokio::spawn(
            self.state
                .rules
                .clone()
                .follow_changes(self.state.db.clone()),
        );
        let meter = {
            let state = self.state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(15));
                loop {
                    tick.tick().await;
                    if let Err(e) = state.rate.flush(&state.db, state.now()).await {
                        tracing::warn!(error = %e, "cannot record API usage; will retry");
                    }
                }
            })
        };
        let spares = (self.spare_schemas > 0).then(|| {
            tokio::spawn(spares::keep(
                self.state.db.clone(),
                self.spare_schemas,
                std::time::Duration::from_secs(5),
                stop_rx.clone(),
            ))
        });
        let runner = self
            .jobs
            .map(|r| tokio::spawn(r.run(std::time::Duration::from_secs(5), stop_rx)));
        let routes = patron_api::routes(self.state.clone(), self.console_dir);
        let result = poem::Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(std::time::Duration::from_secs(10)))
            .await;
        let _ = stop_tx.send(true);
        if let Some(r) = runner {
            let _ = r.await;
        }
        if let Some(s) = spares {
            let _ = s.await;
        }
        listener.abort();
        tenant_listener.abort();
        rule_listener.abort();
        meter.abort();
        if let Err(e) = self
            .state
            .rate
            .flush(&self.state.db, self.state.now())
            .await
        {
            tracing::warn!(error = %e, "cannot record the last API usage");
        }
        self.state.db.close().await;
        result.context("server failed")
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
