//! The workers behind the pool: one `patron-sandbox` process each, its pipes and the tail of
//! its stderr, the shared state that hands them out (`Inner`), and the lease a call holds
//! while it talks to one (returned, or replaced when the call failed it).

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;

use crate::pool::{Counters, SandboxConfig, MAX_RESPONSE, STDERR_LINES};
use crate::wire::{RuleError, RuleErrorKind, WireKey};

pub(crate) struct Worker {
    pub(crate) child: Child,
    pub(crate) stdin: ChildStdin,
    pub(crate) stdout: BufReader<ChildStdout>,
    pub(crate) pid: u32,
    pub(crate) known: HashSet<WireKey>,
    pub(crate) stderr: Arc<Mutex<VecDeque<String>>>,
    /// The task copying stderr; it ends when the process's stderr closes.
    pub(crate) stderr_reader: tokio::task::JoinHandle<()>,
}

impl Worker {
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub(crate) async fn exchange(&mut self, frame: &[u8]) -> std::io::Result<Vec<u8>> {
        self.stdin.write_all(frame).await?;
        self.stdin.flush().await?;
        let len = self.stdout.read_u32().await? as usize;
        if len > MAX_RESPONSE {
            return Err(std::io::Error::other(format!(
                "answer of {len} bytes is too large"
            )));
        }
        let mut body = vec![0u8; len];
        self.stdout.read_exact(&mut body).await?;
        Ok(body)
    }

    /// Kills the process and reaps it in the background.
    pub(crate) fn kill(mut self) {
        let _ = self.child.start_kill();
        tokio::spawn(async move {
            let _ = self.child.wait().await;
        });
    }

    /// Why the worker died: waits briefly for it to exit and for its last stderr lines.
    pub(crate) async fn death(mut self) -> (Option<ExitStatus>, String) {
        let status = timeout(Duration::from_millis(200), self.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        if status.is_none() {
            let _ = self.child.start_kill();
        }
        // Let the stderr reader drain what the process wrote before it died.
        let _ = timeout(Duration::from_millis(200), &mut self.stderr_reader).await;
        let tail = lock(&self.stderr)
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(" | ");
        tokio::spawn(async move {
            let _ = self.child.wait().await;
        });
        (status, tail)
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) struct Inner {
    pub(crate) config: SandboxConfig,
    pub(crate) program: PathBuf,
    /// One slot per worker not in use; `None` is a worker to be started on checkout.
    pub(crate) idle: Mutex<Vec<Option<Worker>>>,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) next_id: AtomicU64,
    pub(crate) counters: Counters,
}

impl Inner {
    pub(crate) fn spawn(&self) -> Result<Worker, RuleError> {
        let mut child = Command::new(&self.program)
            .arg("--max-operations")
            .arg(self.config.max_operations.to_string())
            .arg("--max-memory-mb")
            .arg(self.config.max_memory_mb.to_string())
            .args(&self.config.extra_args)
            // A worker out of memory should die at once, not try to print a backtrace.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                RuleError::new(
                    RuleErrorKind::Unavailable,
                    format!("cannot start {}: {e}", self.program.display()),
                )
            })?;
        let pid = child.id().unwrap_or_default();
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(RuleError::new(
                RuleErrorKind::Unavailable,
                "sandbox pipes missing",
            ));
        };
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        let sink = Arc::clone(&tail);
        let stderr_reader = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::warn!(pid, "patron-sandbox: {line}");
                let mut tail = lock(&sink);
                if tail.len() == STDERR_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        Ok(Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            pid,
            known: HashSet::new(),
            stderr: tail,
            stderr_reader,
        })
    }

    /// A replacement for a worker that failed, or an empty slot if it cannot start.
    pub(crate) fn replacement(&self) -> Option<Worker> {
        self.counters.restarts.fetch_add(1, Ordering::Relaxed);
        match self.spawn() {
            Ok(worker) => Some(worker),
            Err(e) => {
                tracing::error!(error = %e.message, "cannot start a replacement sandbox worker");
                None
            }
        }
    }
}

/// A checked-out worker. Dropped without [`Lease::keep`] (an error, or the caller's future
/// cancelled mid-call), the worker is killed and its slot left for a fresh one.
pub(crate) struct Lease {
    pub(crate) inner: Arc<Inner>,
    pub(crate) worker: Option<Worker>,
    pub(crate) clean: bool,
    pub(crate) _permit: OwnedSemaphorePermit,
}

impl Lease {
    pub(crate) fn worker(&mut self) -> &mut Worker {
        self.worker
            .as_mut()
            .expect("a lease holds its worker until dropped")
    }

    pub(crate) fn keep(mut self) {
        self.clean = true;
    }

    /// Takes the worker out to be examined and replaced.
    pub(crate) fn discard(&mut self) -> Worker {
        let worker = self
            .worker
            .take()
            .expect("a lease holds its worker until dropped");
        lock(&self.inner.idle).push(self.inner.replacement());
        worker
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // The slot goes back before the permit (a field, dropped after this body).
        match self.worker.take() {
            Some(worker) if self.clean => lock(&self.inner.idle).push(Some(worker)),
            Some(worker) => {
                worker.kill();
                lock(&self.inner.idle).push(None);
            }
            None => {}
        }
    }
}
