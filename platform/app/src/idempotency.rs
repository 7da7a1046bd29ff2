//! One idempotency mechanism for every write from outside that takes a key or an external
//! id. [`run`] wraps a use case in the caller's transaction:
//!
//! 1. the key is CLAIMED first (`INSERT .. ON CONFLICT`): a duplicate racing the first
//!    request waits on its uncommitted claim until it commits or rolls back;
//! 2. a key already answered is read in a new statement (READ COMMITTED sees the committed
//!    answer): the same body replays the stored answer (`replayed: true`), another body is
//!    a 409 (`idempotency_key_reused`, or `external_id_reused` for an external id) naming
//!    the field;
//! 3. otherwise the use case runs and its answer is stored in the same transaction.
//!
//! A refused request (any error) stores nothing: its transaction rolls back (or the claim
//! is released), and a retry runs again. Only successes are replayed.

use crate::points::decide::Replayable;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::idempotency::{compare, Earlier, Key, RequestHash, Scope};
use patron_db::idempotency::{self as db, Claim};
use patron_db::TenantTx;
use serde::{de::DeserializeOwned, Serialize};

/// An idempotent request: its operation, its key (scoped to what it acts on), its body's
/// hash, and the field that carried the key (named in the 409).
#[derive(Debug, Clone)]
pub struct Request {
    pub scope: Scope,
    pub key: Key,
    pub hash: RequestHash,
    pub field: &'static str,
}

impl Request {
    /// A request whose `field` carries a key unique per `owner` (a member, a pass ...).
    pub fn scoped<B: Serialize>(
        scope: Scope,
        owner: impl std::fmt::Display,
        field: &'static str,
        key: &str,
        body: &B,
    ) -> Request {
        Request {
            scope,
            key: Key::scoped(owner, key),
            hash: RequestHash::of(body),
            field,
        }
    }

    /// A request identified by an external id unique in its scope.
    pub fn global<B: Serialize>(scope: Scope, field: &'static str, id: &str, body: &B) -> Request {
        Request {
            scope,
            key: Key::global(id),
            hash: RequestHash::of(body),
            field,
        }
    }

    /// 409: the key came before with another body.
    pub fn reused(&self) -> AppError {
        if self.field == "external_id" {
            crate::points::external_id_reused()
        } else {
            crate::points::key_reused(self.field)
        }
    }
}

/// What [`begin`] found.
#[derive(Debug)]
pub enum Begun<T> {
    /// The key is this request's: do the write, then [`finish`].
    Fresh,
    /// The first request's answer, marked replayed.
    Replay(T),
}

/// Claims the request's key (waiting for a racing request with the same key): a replay,
/// a 409 for another body, or the go-ahead.
pub async fn begin<T: DeserializeOwned + Replayable>(
    tx: &mut TenantTx,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Begun<T>, AppError> {
    match db::claim(tx, req.scope, &req.key, &req.hash, now).await? {
        Claim::Ours => Ok(Begun::Fresh),
        Claim::Answered(stored_hash, answer) => match compare(&stored_hash, &req.hash, answer) {
            Earlier::Replay(answer) => {
                let mut r: T = serde_json::from_value(answer).map_err(AppError::internal)?;
                r.mark_replayed();
                Ok(Begun::Replay(r))
            }
            Earlier::Reused => Err(req.reused()),
        },
    }
}

/// Stores the answer under the claimed key, in the request's transaction.
pub async fn finish<T: Serialize>(
    tx: &mut TenantTx,
    req: &Request,
    answer: &T,
) -> Result<(), AppError> {
    let value = serde_json::to_value(answer).map_err(AppError::internal)?;
    finish_value(tx, req, value).await
}

/// [`finish`] with an answer already made a JSON value.
pub async fn finish_value(
    tx: &mut TenantTx,
    req: &Request,
    answer: serde_json::Value,
) -> Result<(), AppError> {
    Ok(db::store(tx, req.scope, &req.key, &answer).await?)
}

/// Gives the claim up without an answer, for a refusal whose transaction still commits.
pub async fn give_up(tx: &mut TenantTx, req: &Request) -> Result<(), AppError> {
    Ok(db::release(tx, req.scope, &req.key).await?)
}

/// Runs `write` once per key: claims the key, replays (or refuses with 409) when it was
/// answered, else runs the write and stores its answer. The caller commits on `Ok`; on an
/// error nothing is stored (the claim is released as well, should the caller commit).
pub async fn run<T, F>(
    tx: &mut TenantTx,
    req: &Request,
    now: DateTime<Utc>,
    write: F,
) -> Result<T, AppError>
where
    T: Serialize + DeserializeOwned + Replayable,
    F: AsyncFnOnce(&mut TenantTx) -> Result<T, AppError>,
{
    if let Begun::Replay(r) = begin::<T>(tx, req, now).await? {
        return Ok(r);
    }
    match write(tx).await {
        Ok(answer) => {
            finish(tx, req, &answer).await?;
            Ok(answer)
        }
        Err(e) => {
            // In a transaction the error aborted this fails too, and the rollback drops
            // the claim anyway.
            let _ = give_up(tx, req).await;
            Err(e)
        }
    }
}

impl Request {
    /// The request of a write whose key is optional (sales, renewals, freezes, cancels,
    /// refunds of top-ups, reversals): `None` without a key; a key must be 1 to 100
    /// characters without control characters.
    pub fn optional<B: Serialize>(
        scope: Scope,
        owner: impl std::fmt::Display,
        key: Option<&str>,
        body: &B,
    ) -> Result<Option<Request>, AppError> {
        let Some(key) = key else {
            return Ok(None);
        };
        let mut v = patron_core::Validation::new();
        crate::points::check_external_id(&mut v, "idempotency_key", key);
        if key.trim().chars().count() > 100 {
            v.check::<()>("idempotency_key", Err(patron_core::Issue::too_long(100)));
        }
        v.finish().map_err(AppError::invalid)?;
        Ok(Some(Request::scoped(
            scope,
            owner,
            "idempotency_key",
            key,
            body,
        )))
    }
}

/// An answer replayed exactly as it was first given (writes whose answers carry no
/// `replayed` mark).
#[derive(Serialize, serde::Deserialize)]
#[serde(transparent)]
struct Exact<T>(T);

impl<T> Replayable for Exact<T> {
    fn mark_replayed(&mut self) {}
}

/// [`run`] for a write whose key is optional: without one the write runs as it is; with
/// one a retry gets the first answer exactly (same body, same status).
pub async fn run_keyed<T, F>(
    tx: &mut TenantTx,
    req: Option<Request>,
    now: DateTime<Utc>,
    write: F,
) -> Result<T, AppError>
where
    T: Serialize + DeserializeOwned,
    F: AsyncFnOnce(&mut TenantTx) -> Result<T, AppError>,
{
    let Some(req) = req else {
        return write(tx).await;
    };
    let done = run(tx, &req, now, async |tx| write(tx).await.map(Exact)).await?;
    Ok(done.0)
}
