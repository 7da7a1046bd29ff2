//! The pool of sandbox worker processes: checkout with a deadline, one request at a time per
//! worker, and replacement of any worker that fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::{timeout_at, Instant};

use crate::batch::Batched;
use crate::wire::{
    encode, Case, Kind, Op, Outcome, Payload, Response, RuleError, RuleErrorKind, RuleKey,
    TierCase, WireKey, MAX_FRAME,
};
use crate::workers::{lock, Inner, Lease, Worker};

/// Name of the sandbox binary.
pub const PROGRAM_NAME: &str = "patron-sandbox";
/// Largest answer accepted from a worker (a batch answer is bigger than any request).
pub(crate) const MAX_RESPONSE: usize = 4 * MAX_FRAME;
/// Cases sent to a worker in one request; a larger batch is split across workers.
const BATCH_CHUNK: usize = 500;
/// Keys a worker is remembered to have compiled; past this the memory is reset.
pub(crate) const KNOWN_KEYS: usize = 1024;
/// Lines of a worker's stderr kept to explain its death.
pub(crate) const STDERR_LINES: usize = 8;

/// How to run the workers.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The `patron-sandbox` binary; `None` looks for it with [`default_program`].
    pub program: Option<PathBuf>,
    /// Worker processes.
    pub workers: usize,
    /// Deadline of one compile or eval call, waiting for a free worker included.
    pub deadline: Duration,
    /// Extra time a batch gets per case.
    pub per_case: Duration,
    /// Operations one evaluation may perform.
    pub max_operations: u64,
    /// Address-space limit of each worker (setrlimit), in MiB.
    pub max_memory_mb: u64,
    /// More `patron-sandbox` arguments (for example `--max-string-size 1000000`).
    pub extra_args: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            program: None,
            workers: 2,
            deadline: Duration::from_millis(200),
            per_case: Duration::from_millis(2),
            max_operations: 100_000,
            max_memory_mb: 256,
            extra_args: Vec::new(),
        }
    }
}

/// Counters for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// compile, eval and eval_batch calls.
    pub calls: u64,
    /// Calls that ended with a rule error of any kind.
    pub errors: u64,
    /// Calls that missed their deadline.
    pub timeouts: u64,
    /// Workers that died or spoke garbage during a call, or were found dead when checked out.
    pub crashes: u64,
    /// Workers started to replace one that was killed or died.
    pub restarts: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) calls: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) crashes: AtomicU64,
    pub(crate) restarts: AtomicU64,
}

/// Where the sandbox binary is when nothing says otherwise: `$PATRON_SANDBOX_BIN`, then next
/// to the current executable (or its parent directory, for test binaries in `deps/`), then
/// `$CARGO_TARGET_DIR/debug`, then `target/debug` above the current directory.
pub fn default_program() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATRON_SANDBOX_BIN") {
        return Some(PathBuf::from(path));
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join(PROGRAM_NAME));
            if let Some(parent) = dir.parent() {
                candidates.push(parent.join(PROGRAM_NAME));
            }
        }
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(Path::new(&target).join("debug").join(PROGRAM_NAME));
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            candidates.push(dir.join("target").join("debug").join(PROGRAM_NAME));
        }
    }
    candidates.into_iter().find(|path| path.is_file())
}

/// A pool of `patron-sandbox` workers. Cheap to clone; clones share the workers.
#[derive(Clone)]
pub struct SandboxPool {
    inner: Arc<Inner>,
}

impl SandboxPool {
    /// Starts `config.workers` workers. Fails when the binary cannot be found or started.
    pub fn start(config: SandboxConfig) -> Result<Self, RuleError> {
        let program = match &config.program {
            Some(path) => path.clone(),
            None => default_program().ok_or_else(|| {
                RuleError::new(
                    RuleErrorKind::Unavailable,
                    format!(
                        "{PROGRAM_NAME} not found next to this executable nor in target/debug; \
                         build it with `cargo build --manifest-path platform/sandbox/Cargo.toml \
                         --target-dir target` or set PATRON_SANDBOX_BIN"
                    ),
                )
            })?,
        };
        let workers = config.workers.max(1);
        let inner = Arc::new(Inner {
            program,
            idle: Mutex::new(Vec::with_capacity(workers)),
            permits: Arc::new(Semaphore::new(workers)),
            next_id: AtomicU64::new(1),
            counters: Counters::default(),
            config,
        });
        for _ in 0..workers {
            let worker = inner.spawn()?;
            lock(&inner.idle).push(Some(worker));
        }
        Ok(Self { inner })
    }

    /// Compiles a rule (and caches it in the worker that compiled it): `Ok` or a compile
    /// error with line and column.
    pub async fn compile(&self, key: RuleKey, script: &str) -> Result<(), RuleError> {
        let deadline = Instant::now() + self.inner.config.deadline;
        self.call(
            Op::Compile,
            Kind::Points,
            key,
            script,
            Payload::None,
            deadline,
        )
        .await
        .map(|_| ())
    }

    /// Runs a rule against one event and member.
    pub async fn eval(
        &self,
        key: RuleKey,
        script: &str,
        event: &Value,
        member: &Value,
    ) -> Result<Outcome, RuleError> {
        let deadline = Instant::now() + self.inner.config.deadline;
        let response = self
            .call(
                Op::Eval,
                Kind::Points,
                key,
                script,
                Payload::One { event, member },
                deadline,
            )
            .await?;
        response
            .result
            .ok_or_else(|| RuleError::new(RuleErrorKind::Protocol, "eval answer without result"))
    }

    /// Runs a rule against many cases (simulation), spread over the workers. The outer error
    /// is for the whole batch (the script does not compile, no worker answered); each case
    /// has its own result otherwise.
    pub async fn eval_batch(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[Case],
    ) -> Result<Vec<Result<Outcome, RuleError>>, RuleError> {
        self.batch(key, script, cases).await
    }

    /// A batch of either kind, in chunks of [`BATCH_CHUNK`] spread over the workers under
    /// one deadline (the call's plus a budget per case), answers in the cases' order.
    async fn batch<C: Batched>(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[C],
    ) -> Result<Vec<Result<C::Answer, RuleError>>, RuleError> {
        let config = &self.inner.config;
        let budget = config
            .per_case
            .saturating_mul(u32::try_from(cases.len()).unwrap_or(u32::MAX));
        let deadline = Instant::now() + config.deadline + budget;
        if cases.len() <= BATCH_CHUNK {
            return self.batch_chunk(key, script, cases, deadline).await;
        }
        let script: Arc<str> = Arc::from(script);
        let mut tasks = tokio::task::JoinSet::new();
        for (index, chunk) in cases.chunks(BATCH_CHUNK).enumerate() {
            let (pool, script, chunk) = (self.clone(), Arc::clone(&script), chunk.to_vec());
            tasks.spawn(async move {
                (
                    index,
                    pool.batch_chunk(key, &script, &chunk, deadline).await,
                )
            });
        }
        let mut chunks: Vec<Vec<Result<C::Answer, RuleError>>> =
            (0..tasks.len()).map(|_| Vec::new()).collect();
        while let Some(joined) = tasks.join_next().await {
            let (index, results) = joined.map_err(|e| {
                RuleError::new(RuleErrorKind::Crashed, format!("batch task failed: {e}"))
            })?;
            chunks[index] = results?;
        }
        Ok(chunks.into_iter().flatten().collect())
    }

    async fn batch_chunk<C: Batched>(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[C],
        deadline: Instant,
    ) -> Result<Vec<Result<C::Answer, RuleError>>, RuleError> {
        let response = self
            .call(
                Op::EvalBatch,
                C::KIND,
                key,
                script,
                C::payload(cases),
                deadline,
            )
            .await?;
        let results = response.results.unwrap_or_default();
        if results.len() != cases.len() {
            return Err(RuleError::new(
                RuleErrorKind::Protocol,
                format!("{} answers for {} cases", results.len(), cases.len()),
            ));
        }
        Ok(results.into_iter().map(C::answer).collect())
    }

    /// Compiles a tier script (cached apart from point rules, so `key` may repeat a point
    /// rule's): `Ok` or a compile error with line and column.
    pub async fn compile_tier(&self, key: RuleKey, script: &str) -> Result<(), RuleError> {
        let deadline = Instant::now() + self.inner.config.deadline;
        self.call(
            Op::Compile,
            Kind::Tier,
            key,
            script,
            Payload::None,
            deadline,
        )
        .await
        .map(|_| ())
    }

    /// Runs a tier script for one member: the tier code it returns (not checked against a
    /// ladder; that is the caller's).
    pub async fn eval_tier(
        &self,
        key: RuleKey,
        script: &str,
        member: &Value,
        metrics: &Value,
    ) -> Result<String, RuleError> {
        let deadline = Instant::now() + self.inner.config.deadline;
        let response = self
            .call(
                Op::Eval,
                Kind::Tier,
                key,
                script,
                Payload::Tier { member, metrics },
                deadline,
            )
            .await?;
        response
            .tier
            .ok_or_else(|| RuleError::new(RuleErrorKind::Protocol, "eval answer without a tier"))
    }

    /// Runs a tier script for many members (previews, re-evaluations), spread over the
    /// workers like [`SandboxPool::eval_batch`].
    pub async fn eval_tier_batch(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[TierCase],
    ) -> Result<Vec<Result<String, RuleError>>, RuleError> {
        self.batch(key, script, cases).await
    }

    /// Counters since start.
    pub fn stats(&self) -> PoolStats {
        let c = &self.inner.counters;
        PoolStats {
            calls: c.calls.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            timeouts: c.timeouts.load(Ordering::Relaxed),
            crashes: c.crashes.load(Ordering::Relaxed),
            restarts: c.restarts.load(Ordering::Relaxed),
        }
    }

    /// Process ids of the idle workers (for operations and tests).
    pub fn idle_pids(&self) -> Vec<u32> {
        lock(&self.inner.idle)
            .iter()
            .flatten()
            .map(|w| w.pid)
            .collect()
    }

    async fn call(
        &self,
        op: Op,
        kind: Kind,
        key: RuleKey,
        script: &str,
        payload: Payload<'_>,
        deadline: Instant,
    ) -> Result<Response, RuleError> {
        let counters = &self.inner.counters;
        counters.calls.fetch_add(1, Ordering::Relaxed);
        let result = self
            .call_inner(
                op,
                WireKey::new(key, script, kind),
                script,
                payload,
                deadline,
            )
            .await;
        if let Err(e) = &result {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            match e.kind {
                RuleErrorKind::Timeout => counters.timeouts.fetch_add(1, Ordering::Relaxed),
                RuleErrorKind::Crashed | RuleErrorKind::Protocol => {
                    counters.crashes.fetch_add(1, Ordering::Relaxed)
                }
                RuleErrorKind::Limit if e.limit.as_deref() == Some("memory") => {
                    counters.crashes.fetch_add(1, Ordering::Relaxed)
                }
                _ => 0,
            };
        }
        result
    }

    async fn call_inner(
        &self,
        op: Op,
        wire_key: WireKey,
        script: &str,
        payload: Payload<'_>,
        deadline: Instant,
    ) -> Result<Response, RuleError> {
        let mut lease = self.checkout(deadline).await?;
        let send_script = op == Op::Compile || !lease.worker().known.contains(&wire_key);
        let mut response = self
            .exchange(
                &mut lease,
                op,
                &wire_key,
                send_script.then_some(script),
                payload,
                deadline,
            )
            .await?;
        if !response.ok
            && !send_script
            && response
                .error
                .as_ref()
                .is_some_and(|e| e.kind == RuleErrorKind::NotCached)
        {
            // The worker's cache evicted the rule: send it again with the script.
            response = self
                .exchange(&mut lease, op, &wire_key, Some(script), payload, deadline)
                .await?;
        }
        let compiled = response.ok
            || response.error.as_ref().is_some_and(|e| {
                !matches!(e.kind, RuleErrorKind::Compile | RuleErrorKind::NotCached)
                    && e.limit.as_deref() != Some("expression_depth")
            });
        let worker = lease.worker();
        if compiled && !worker.known.contains(&wire_key) {
            if worker.known.len() >= KNOWN_KEYS {
                worker.known.clear();
            }
            worker.known.insert(wire_key);
        }
        lease.keep();
        if response.ok {
            Ok(response)
        } else {
            Err(response.error.unwrap_or_else(|| {
                RuleError::new(RuleErrorKind::Protocol, "failure without error")
            }))
        }
    }

    async fn checkout(&self, deadline: Instant) -> Result<Lease, RuleError> {
        let permits = Arc::clone(&self.inner.permits);
        let permit = match timeout_at(deadline, permits.acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(RuleError::new(RuleErrorKind::Unavailable, "pool closed")),
            Err(_) => {
                return Err(RuleError::new(
                    RuleErrorKind::Busy,
                    "every sandbox worker stayed busy until the deadline",
                ))
            }
        };
        let mut slot = lock(&self.inner.idle).pop().flatten();
        let alive = slot.as_mut().is_some_and(Worker::alive);
        let worker = match slot {
            Some(worker) if alive => worker,
            found => {
                if let Some(dead) = found {
                    // Died while idle (killed from outside, say): replace it quietly.
                    self.inner.counters.crashes.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(pid = dead.pid, "sandbox worker found dead; replacing it");
                    dead.kill();
                }
                self.inner.counters.restarts.fetch_add(1, Ordering::Relaxed);
                match self.inner.spawn() {
                    Ok(worker) => worker,
                    Err(e) => {
                        lock(&self.inner.idle).push(None);
                        drop(permit);
                        return Err(e);
                    }
                }
            }
        };
        Ok(Lease {
            inner: Arc::clone(&self.inner),
            worker: Some(worker),
            clean: false,
            _permit: permit,
        })
    }

    async fn exchange(
        &self,
        lease: &mut Lease,
        op: Op,
        key: &WireKey,
        script: Option<&str>,
        payload: Payload<'_>,
        deadline: Instant,
    ) -> Result<Response, RuleError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = match encode(id, op, key, script, payload) {
            Ok(frame) => frame,
            Err(e) => {
                // Nothing was sent: the worker is as good as before.
                lease.clean = true;
                return Err(e);
            }
        };
        let answer = match timeout_at(deadline, lease.worker().exchange(&frame)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(io)) => return Err(self.failed(lease, io).await),
            Err(_) => {
                let worker = lease.discard();
                tracing::warn!(
                    pid = worker.pid,
                    "sandbox worker missed its deadline; killed"
                );
                worker.kill();
                return Err(RuleError::new(
                    RuleErrorKind::Timeout,
                    "the rule did not finish within its deadline",
                ));
            }
        };
        match serde_json::from_slice::<Response>(&answer) {
            Ok(response) if response.id == id => Ok(response),
            Ok(response) => {
                Err(self.garbage(lease, format!("answer {} to request {id}", response.id)))
            }
            Err(e) => Err(self.garbage(lease, format!("unreadable answer: {e}"))),
        }
    }

    fn garbage(&self, lease: &mut Lease, what: String) -> RuleError {
        let worker = lease.discard();
        tracing::error!(
            pid = worker.pid,
            "sandbox worker broke the protocol ({what}); killed"
        );
        worker.kill();
        RuleError::new(
            RuleErrorKind::Protocol,
            format!("the sandbox answered garbage: {what}"),
        )
    }

    async fn failed(&self, lease: &mut Lease, io: std::io::Error) -> RuleError {
        let worker = lease.discard();
        let pid = worker.pid;
        let (status, stderr) = worker.death().await;
        let status = status.map_or_else(|| "still running".to_string(), |s| s.to_string());
        tracing::warn!(pid, %status, %stderr, "sandbox worker died during a call");
        if stderr.contains("memory allocation") || stderr.contains("out of memory") {
            RuleError {
                limit: Some("memory".to_string()),
                ..RuleError::new(
                    RuleErrorKind::Limit,
                    "the rule used more memory than allowed",
                )
            }
        } else {
            RuleError::new(
                RuleErrorKind::Crashed,
                format!("the sandbox worker died ({status}; {io}): {stderr}"),
            )
        }
    }
}

/// The pool is how the server runs tenants' rules: the [`RuleRunner`] port.
#[async_trait::async_trait]
impl patron_core::ports::RuleRunner for SandboxPool {
    async fn compile(&self, key: RuleKey, script: &str) -> Result<(), RuleError> {
        SandboxPool::compile(self, key, script).await
    }

    async fn eval(
        &self,
        key: RuleKey,
        script: &str,
        event: &Value,
        member: &Value,
    ) -> Result<Outcome, RuleError> {
        SandboxPool::eval(self, key, script, event, member).await
    }

    async fn eval_batch(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[Case],
    ) -> Result<Vec<Result<Outcome, RuleError>>, RuleError> {
        SandboxPool::eval_batch(self, key, script, cases).await
    }

    async fn compile_tier(&self, key: RuleKey, script: &str) -> Result<(), RuleError> {
        SandboxPool::compile_tier(self, key, script).await
    }

    async fn eval_tier(
        &self,
        key: RuleKey,
        script: &str,
        member: &Value,
        metrics: &Value,
    ) -> Result<String, RuleError> {
        SandboxPool::eval_tier(self, key, script, member, metrics).await
    }

    async fn eval_tier_batch(
        &self,
        key: RuleKey,
        script: &str,
        cases: &[TierCase],
    ) -> Result<Vec<Result<String, RuleError>>, RuleError> {
        SandboxPool::eval_tier_batch(self, key, script, cases).await
    }
}
