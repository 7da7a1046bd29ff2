//! The background job runner: fires schedules, claims jobs (SKIP LOCKED, leased), fans
//! per-tenant work out, retries failures with backoff. Safe on any number of replicas.

use crate::billing;
use chrono::Duration;
use patron_core::clock::Clock;
use patron_db::{jobs, sessions, tenants, Db};
use std::sync::Arc;
use tracing::Instrument;

/// Fans a job kind out: one job per live tenant. Payload: `{"kind": "<per-tenant kind>"}`.
pub const FANOUT: &str = "tenants.fanout";
/// Deletes one tenant's expired and revoked login sessions.
pub const SESSION_CLEANUP: &str = "sessions.cleanup";

/// Moves accounts whose trial has ended onto their plan's first billing period.
pub const TRIALS: &str = "lifecycle.trials";
/// Records the invoice of each billing period that has ended and starts the next one.
pub const PERIODS: &str = "billing.periods";
/// Moves accounts with overdue invoices to past-due, then (after the grace) suspends them.
pub const DUNNING: &str = "billing.dunning";
/// Drops the data of closed accounts whose retention has run out.
pub const PURGE: &str = "lifecycle.purge";
/// Fans out [`POINTS_EXPIRE`] to every live tenant.
pub const POINTS_EXPIRY: &str = "points.expiry";
/// Expires one tenant's points whose time has come.
pub const POINTS_EXPIRE: &str = "points.expire";
/// Fans out [`POINTS_BIRTHDAY`] to every live tenant.
pub const POINTS_BIRTHDAYS: &str = "points.birthdays";
/// Awards one tenant's birthday points for today.
pub const POINTS_BIRTHDAY: &str = "points.birthday";
/// Fans out [`TIERS_EVALUATE`] to every live tenant.
pub const TIERS_EVALUATION: &str = "tiers.evaluation";
/// One tenant's scheduled tier evaluation (demotions, lapsed pins, unfinished runs).
pub const TIERS_EVALUATE: &str = "tiers.evaluate";

/// Fans out [`MESSAGES_DELIVER`] to every live tenant.
pub const MESSAGES_DELIVERY: &str = "messages.delivery";
/// Dispatches one tenant's outbox and sends its due e-mails and webhook calls.
pub const MESSAGES_DELIVER: &str = "messages.deliver";

/// Fans out [`NOTICES_SEND`] to every live tenant.
pub const NOTICES_SCHEDULED: &str = "notices.scheduled";
/// Queues one tenant's scheduled notices for its local today (each once per occasion).
pub const NOTICES_SEND: &str = "notices.send";

/// Fans out [`MALL_CANCEL_PENDING`] to every live tenant.
pub const MALL_PENDING: &str = "mall.pending";
/// Cancels one tenant's pending mall orders past its time limit.
pub const MALL_CANCEL_PENDING: &str = "mall.cancel_pending";
/// Fans out [`ACTIVITY_OFFERS_LAPSE`] to every live tenant.
pub const ACTIVITY_OFFERS: &str = "activities.offers";
/// Lets one tenant's offers of a freed seat that ran out pass on to the next in line.
pub const ACTIVITY_OFFERS_LAPSE: &str = "activities.offers.lapse";

/// Takes the operators' dashboard figures of the businesses due (never counted first, then the
/// stalest), a bounded number per pass.
pub const OPS_FIGURES: &str = "ops.figures";

/// A member import (see `patron_app::member_files::import`): started by the replica that
/// received the file, taken over from its stored file by a runner when that replica died.
pub const MEMBERS_IMPORT: &str = patron_app::member_files::import::JOB_KIND;

/// Imports a replica's job runner takes over at once at most (each holds a connection in
/// a long transaction).
const IMPORTS_AT_ONCE: usize = 2;

/// Sessions are kept this long after they expire or are revoked, for support questions.
pub fn session_grace() -> Duration {
    Duration::days(7)
}

/// What one turn of the runner did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    Idle,
    Done {
        kind: String,
        tenant_id: Option<i64>,
    },
    /// A long job handed to a task of its own, which ends the job itself.
    Started {
        kind: String,
        tenant_id: Option<i64>,
    },
    Failed {
        kind: String,
        error: String,
    },
}

#[derive(Clone)]
pub struct JobRunner {
    db: Db,
    clock: Arc<dyn Clock>,
    worker: String,
    /// Runs rules for jobs that award points (birthdays).
    rules: patron_app::engine::RuleEngine,
    /// Sends the outbox's e-mails and webhook calls (`None`: they wait).
    messages: Option<patron_app::messages::Senders>,
    /// Runs member imports taken over from a replica that died (`None`: left to others),
    /// and the room for them.
    imports: Option<(
        patron_app::member_files::Importer,
        Arc<tokio::sync::Semaphore>,
    )>,
}

impl JobRunner {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            clock,
            worker: format!("{}-{}", std::process::id(), uuid_suffix()),
            rules: patron_app::engine::RuleEngine::new(None),
            messages: None,
            imports: None,
        }
    }

    /// Takes over member imports whose replica died, with this importer.
    pub fn with_imports(mut self, importer: patron_app::member_files::Importer) -> Self {
        self.imports = Some((
            importer,
            Arc::new(tokio::sync::Semaphore::new(IMPORTS_AT_ONCE)),
        ));
        self
    }

    /// Delivers the outbox's messages through these adapters.
    pub fn with_messages(mut self, senders: patron_app::messages::Senders) -> Self {
        self.messages = Some(senders);
        self
    }

    /// Runs point rules (birthdays) with this engine and its sandbox pool.
    pub fn with_rules(mut self, rules: patron_app::engine::RuleEngine) -> Self {
        self.rules = rules;
        self
    }

    /// Registers the recurring schedules (idempotent).
    pub async fn install_schedules(&self) -> anyhow::Result<()> {
        jobs::ensure_schedule(
            &self.db,
            "session-cleanup",
            FANOUT,
            Duration::hours(1),
            self.clock.now(),
        )
        .await?;
        let now = self.clock.now();
        for (name, kind, every) in [
            ("trials", TRIALS, Duration::minutes(15)),
            ("billing-periods", PERIODS, Duration::hours(1)),
            ("billing-dunning", DUNNING, Duration::hours(1)),
            ("purge-closed", PURGE, Duration::hours(6)),
            ("points-expiry", POINTS_EXPIRY, Duration::minutes(15)),
            // Hourly: each business's day starts at its own local midnight.
            ("points-birthdays", POINTS_BIRTHDAYS, Duration::hours(1)),
            // Hourly; each member is evaluated once per local day.
            ("tiers-evaluation", TIERS_EVALUATION, Duration::hours(1)),
            // Each tenant's outbox, every minute.
            ("messages-delivery", MESSAGES_DELIVERY, Duration::minutes(1)),
            // Hourly: each business's day starts at its own local midnight; an occasion is
            // queued once however often this runs.
            ("notices-scheduled", NOTICES_SCHEDULED, Duration::hours(1)),
            // Pending mall orders past the business's limit, every 15 minutes.
            ("mall-pending", MALL_PENDING, Duration::minutes(15)),
            // Offers of a freed seat pass on within a minute of running out.
            ("activity-offers", ACTIVITY_OFFERS, Duration::minutes(1)),
            // The operators' dashboard figures: a new business is counted within a minute;
            // each pass takes at most `FIGURES_PER_PASS` businesses.
            ("ops-figures", OPS_FIGURES, Duration::minutes(1)),
        ] {
            jobs::ensure_schedule(&self.db, name, kind, every, now).await?;
        }
        Ok(())
    }

    /// Fires due schedules, then runs at most one job.
    pub async fn turn(&self) -> anyhow::Result<Turn> {
        let now = self.clock.now();
        jobs::fire_due_schedules(&self.db, now).await?;
        let room = self
            .imports
            .as_ref()
            .and_then(|(_, slots)| slots.clone().try_acquire_owned().ok());
        let skip: &[&str] = if room.is_some() {
            &[]
        } else {
            &[MEMBERS_IMPORT]
        };
        let Some(job) =
            jobs::claim(&self.db, &self.worker, now, Duration::minutes(5), skip).await?
        else {
            return Ok(Turn::Idle);
        };
        if job.kind == MEMBERS_IMPORT {
            if let (Some((importer, _)), Some(room)) = (&self.imports, room) {
                return self.take_over_import(importer, job, room).await;
            }
        }
        let span =
            tracing::info_span!("job", id = job.id, kind = %job.kind, tenant = ?job.tenant_id);
        // The span follows the job's future (`instrument`), never a guard held across an
        // await: a guard would stay entered on a worker thread other tasks then run on.
        self.finish(job).instrument(span).await
    }

    /// Runs an import in a task of its own (it renews its lease and ends its job itself).
    async fn take_over_import(
        &self,
        importer: &patron_app::member_files::Importer,
        job: jobs::Job,
        room: tokio::sync::OwnedSemaphorePermit,
    ) -> anyhow::Result<Turn> {
        let kind = job.kind.clone();
        let tenant_id = job.tenant_id;
        let tenant = match tenant_id {
            Some(id) => tenants::find_by_id(&self.db, id).await?,
            None => None,
        };
        let (Some(lease), Some(tenant)) = (
            patron_app::member_files::Lease::of_job(&job, &self.worker),
            tenant,
        ) else {
            let now = self.clock.now();
            jobs::complete_held(
                &self.db,
                job.id,
                &self.worker,
                now,
                serde_json::json!({ "skipped": "no import" }),
            )
            .await?;
            return Ok(Turn::Done { kind, tenant_id });
        };
        tracing::info!(import = %lease.import, attempt = lease.attempt, "taking over a member import");
        let importer = importer.clone();
        tokio::spawn(async move {
            let end = importer.run(lease, &tenant, None).await;
            tracing::info!(?end, "member import run ended");
            drop(room);
        });
        Ok(Turn::Started { kind, tenant_id })
    }

    async fn finish(&self, job: jobs::Job) -> anyhow::Result<Turn> {
        let outcome = self.execute(&job).await;
        let now = self.clock.now();
        match outcome {
            Ok(result) => {
                if jobs::complete_held(&self.db, job.id, &self.worker, now, result).await? {
                    tracing::info!("job done");
                } else {
                    tracing::warn!(
                        "job done after its lease ran out; the runner that took it over ends it"
                    );
                }
                Ok(Turn::Done {
                    kind: job.kind,
                    tenant_id: job.tenant_id,
                })
            }
            Err(e) => {
                let error = format!("{e:#}");
                let retry_at = now + jobs::retry_delay(job.attempts);
                if !jobs::fail_held(&self.db, &job, &self.worker, now, &error, retry_at).await? {
                    tracing::warn!(
                        "job failed after its lease ran out; the runner that took it over ends it"
                    );
                }
                tracing::warn!(%error, attempts = job.attempts, "job failed");
                Ok(Turn::Failed {
                    kind: job.kind,
                    error,
                })
            }
        }
    }

    /// Runs turns until there is nothing due. Returns what was done.
    pub async fn run_until_idle(&self) -> anyhow::Result<Vec<Turn>> {
        let mut turns = Vec::new();
        loop {
            match self.turn().await? {
                Turn::Idle => return Ok(turns),
                t => turns.push(t),
            }
        }
    }

    /// Works until `stop` fires, polling every `every` when idle.
    pub async fn run(
        self,
        every: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        if let Err(e) = self.install_schedules().await {
            tracing::error!(error = %e, "cannot install job schedules");
        }
        loop {
            let idle = match self.turn().await {
                Ok(Turn::Idle) => true,
                Ok(_) => false,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "job runner turn failed");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
            } else if *stop.borrow() {
                return;
            }
        }
    }

    async fn execute(&self, job: &jobs::Job) -> anyhow::Result<serde_json::Value> {
        match job.kind.as_str() {
            FANOUT | POINTS_EXPIRY | POINTS_BIRTHDAYS | TIERS_EVALUATION | MESSAGES_DELIVERY
            | MALL_PENDING | ACTIVITY_OFFERS | NOTICES_SCHEDULED => {
                let kind = match job.kind.as_str() {
                    NOTICES_SCHEDULED => NOTICES_SEND,
                    ACTIVITY_OFFERS => ACTIVITY_OFFERS_LAPSE,
                    MESSAGES_DELIVERY => MESSAGES_DELIVER,
                    MALL_PENDING => MALL_CANCEL_PENDING,
                    POINTS_EXPIRY => POINTS_EXPIRE,
                    POINTS_BIRTHDAYS => POINTS_BIRTHDAY,
                    TIERS_EVALUATION => TIERS_EVALUATE,
                    _ => job
                        .payload
                        .get("kind")
                        .and_then(|k| k.as_str())
                        .unwrap_or(SESSION_CLEANUP),
                };
                let now = self.clock.now();
                let mut queued = 0;
                for id in jobs::live_tenant_ids(&self.db).await? {
                    // The dedupe key makes a second fan-out (another replica, a retry) a no-op
                    // for tenants whose job is still waiting.
                    let key = format!("{kind}:{id}");
                    if jobs::enqueue(
                        &self.db,
                        kind,
                        Some(id),
                        serde_json::json!({}),
                        now,
                        Some(&key),
                    )
                    .await?
                    .is_some()
                    {
                        queued += 1;
                    }
                }
                Ok(serde_json::json!({ "queued": queued }))
            }
            SESSION_CLEANUP => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{SESSION_CLEANUP} needs a tenant"))?;
                let Some(tenant) = tenants::find_by_id(&self.db, id).await? else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                let mut tx = self.db.tenant_tx(&tenant).await?;
                let deleted =
                    sessions::delete_stale(&mut tx, self.clock.now(), session_grace()).await?;
                tx.commit().await?;
                Ok(serde_json::json!({ "deleted": deleted }))
            }
            POINTS_EXPIRE => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{POINTS_EXPIRE} needs a tenant"))?;
                crate::points::expire_job(&self.db, id, self.clock.now()).await
            }
            POINTS_BIRTHDAY => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{POINTS_BIRTHDAY} needs a tenant"))?;
                match tenants::find_by_id(&self.db, id).await? {
                    Some(t) if t.purged_at.is_none() => {
                        crate::points::birthdays_tenant(&self.db, &t, &self.rules, self.clock.now())
                            .await
                    }
                    _ => Ok(serde_json::json!({ "skipped": "tenant gone" })),
                }
            }
            TIERS_EVALUATE | patron_app::tiers::REEVALUATE_JOB => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{} needs a tenant", job.kind))?;
                let Some(t) = tenants::find_by_id(&self.db, id)
                    .await?
                    .filter(|t| t.purged_at.is_none())
                else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                let now = self.clock.now();
                let r = if job.kind == TIERS_EVALUATE {
                    patron_app::tiers::evaluate_tenant(&self.db, &t, &self.rules, now).await
                } else {
                    let run = job
                        .payload
                        .get("run")
                        .and_then(|v| v.as_str())
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| anyhow::anyhow!("{} needs a run", job.kind))?;
                    patron_app::tiers::reevaluate(&self.db, &self.rules, &t, run, now).await
                };
                Ok(r?)
            }
            MESSAGES_DELIVER => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{MESSAGES_DELIVER} needs a tenant"))?;
                let Some(senders) = &self.messages else {
                    return Ok(serde_json::json!({ "skipped": "no senders" }));
                };
                let Some(t) = tenants::find_by_id(&self.db, id)
                    .await?
                    .filter(|t| t.purged_at.is_none())
                else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                let report =
                    patron_app::messages::run_tenant(&self.db, &t, senders, self.clock.now())
                        .await?;
                Ok(serde_json::to_value(report)?)
            }
            NOTICES_SEND => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{NOTICES_SEND} needs a tenant"))?;
                let Some(senders) = &self.messages else {
                    return Ok(serde_json::json!({ "skipped": "no senders" }));
                };
                let Some(t) = tenants::find_by_id(&self.db, id)
                    .await?
                    .filter(|t| t.purged_at.is_none())
                else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                let report = patron_app::notices::scheduled::run_tenant(
                    &self.db,
                    &t,
                    senders,
                    self.clock.now(),
                )
                .await?;
                Ok(serde_json::to_value(report)?)
            }
            patron_app::campaigns::SEND_JOB => {
                let kind = patron_app::campaigns::SEND_JOB;
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{kind} needs a tenant"))?;
                let Some(senders) = &self.messages else {
                    return Ok(serde_json::json!({ "skipped": "no senders" }));
                };
                let Some(t) = tenants::find_by_id(&self.db, id)
                    .await?
                    .filter(|t| t.purged_at.is_none())
                else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                let campaign = job
                    .payload
                    .get("campaign")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("{kind} needs a campaign"))?;
                Ok(
                    patron_app::campaigns::run(&self.db, &t, senders, campaign, self.clock.now())
                        .await?,
                )
            }
            patron_app::coupons::segment::SEGMENT_JOB => {
                let kind = patron_app::coupons::segment::SEGMENT_JOB;
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{kind} needs a tenant"))?;
                let Some(t) = tenants::find_by_id(&self.db, id)
                    .await?
                    .filter(|t| t.purged_at.is_none())
                else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                let run = job
                    .payload
                    .get("run")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| anyhow::anyhow!("{kind} needs a run"))?;
                Ok(patron_app::coupons::segment::run(&self.db, &t, run, self.clock.now()).await?)
            }
            MALL_CANCEL_PENDING => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{MALL_CANCEL_PENDING} needs a tenant"))?;
                let Some(t) = tenants::find_by_id(&self.db, id)
                    .await?
                    .filter(|t| t.purged_at.is_none())
                else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                Ok(patron_app::mall::cancel_overdue(&self.db, &t, self.clock.now()).await?)
            }
            ACTIVITY_OFFERS_LAPSE => {
                let id = job
                    .tenant_id
                    .ok_or_else(|| anyhow::anyhow!("{ACTIVITY_OFFERS_LAPSE} needs a tenant"))?;
                let Some(t) = tenants::find_by_id(&self.db, id)
                    .await?
                    .filter(|t| t.purged_at.is_none())
                else {
                    return Ok(serde_json::json!({ "skipped": "tenant gone" }));
                };
                Ok(patron_app::activities::jobs::lapse_offers(
                    &self.db,
                    &t,
                    &self.rules,
                    self.clock.now(),
                )
                .await?)
            }
            OPS_FIGURES => {
                let pass = patron_app::ops::refresh_figures(
                    &self.db,
                    self.clock.now(),
                    patron_app::ops::FIGURES_PER_PASS,
                )
                .await?;
                Ok(serde_json::to_value(pass)?)
            }
            TRIALS => billing::end_trials(&self.db, self.clock.now()).await,
            PERIODS => billing::close_periods(&self.db, self.clock.now()).await,
            DUNNING => billing::dun(&self.db, self.clock.now()).await,
            PURGE => billing::purge_closed(&self.db, self.clock.now()).await,
            other => anyhow::bail!("unknown job kind {other}"),
        }
    }
}

fn uuid_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:08x}")
}
