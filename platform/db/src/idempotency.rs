//! The idempotency keys of writes from outside (`idempotency_keys`): a request claims its
//! key first, in its own transaction, and stores its answer before committing. A duplicate
//! racing it blocks on the uncommitted claim (the primary key) until the first commits or
//! rolls back; it then reads the committed answer in a new statement, whose READ COMMITTED
//! snapshot sees it. `app::idempotency` runs a use case between the two.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use patron_core::idempotency::{Key, RequestHash, Scope};
use serde_json::Value;

/// What claiming a key found.
#[derive(Debug)]
pub enum Claim {
    /// The key is this request's now (a new key, or one whose earlier request committed no
    /// answer): run the write, then [`store`] its answer.
    Ours,
    /// A request under the key committed an answer first: its body's hash and its answer.
    Answered(RequestHash, Value),
}

/// Claims (`scope`, `key`) for a request with `hash`, waiting for a request holding it
/// uncommitted. Takes over a claim left without an answer.
pub async fn claim(
    tx: &mut TenantTx,
    scope: Scope,
    key: &Key,
    hash: &RequestHash,
    now: DateTime<Utc>,
) -> Result<Claim, DbError> {
    // A claim deleted between the two statements (its request gave up without an answer)
    // is claimed again.
    for _ in 0..3 {
        let of = ClaimOf {
            scope,
            key,
            hash,
            now,
        };
        if try_claim(tx, of).await? {
            return Ok(Claim::Ours);
        }
        // A new statement: its snapshot sees the answer committed while the claim waited.
        let row: Option<(Vec<u8>, Option<Value>)> = sqlx::query_as(
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
        )
        .bind(scope.as_str())
        .bind(key.as_str())
        .fetch_optional(tx.conn())
        .await?;
        if let Some((h, Some(answer))) = row {
            return Ok(Claim::Answered(RequestHash::from_stored(h), answer));
        }
    }
    Err(DbError::Aborted(format!(
        "idempotency key {scope} {} could not be claimed",
        key.as_str()
    )))
}

/// The claim's statement, its scope, key, hash and time the parameters from `$first`: one
/// row (`true`) when the key is the request's now, none when a request under it committed an
/// answer (after waiting for one holding it uncommitted).
pub(crate) fn claim_sql(first: usize) -> String {
    let (key, hash, at) = (first + 1, first + 2, first + 3);
    format!(
        "INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at) \
         VALUES (${first}, ${key}, ${hash}, NULL, ${at}) \
         ON CONFLICT (scope, key) DO UPDATE \
             SET request_hash = EXCLUDED.request_hash, created_at = EXCLUDED.created_at \
             WHERE idempotency_keys.response IS NULL \
         RETURNING true"
    )
}

/// One attempt at the claim ([`claim_sql`]): `true` when the key is the request's now, `false`
/// when a request under it committed an answer first.
pub(crate) async fn try_claim(tx: &mut TenantTx, c: ClaimOf<'_>) -> Result<bool, DbError> {
    let ours: Option<bool> = sqlx::query_scalar(&claim_sql(1))
        .bind(c.scope.as_str())
        .bind(c.key.as_str())
        .bind(c.hash.as_bytes())
        .bind(c.now)
        .fetch_optional(tx.conn())
        .await?;
    Ok(ours.is_some())
}

/// A claim made by another statement ([`claim_sql`]): the key, its scope and the request's
/// body's hash.
#[derive(Debug, Clone, Copy)]
pub struct ClaimOf<'a> {
    pub scope: Scope,
    pub key: &'a Key,
    pub hash: &'a RequestHash,
    pub now: DateTime<Utc>,
}

/// The claim of the statement that opens a request: [`claim_sql`] as the first CTE (`c`),
/// the statement's reads made to wait for it ([`OpeningClaim::guard`]), so a duplicate waits
/// on the claim before it locks anything. On Citus, whose planner fails such a statement
/// ([`TenantTx::on_citus`]), the claim is made first by a statement of its own.
pub(crate) struct OpeningClaim<'a> {
    /// The claim the opening statement makes; `None` when there is none or it was made.
    folded: Option<ClaimOf<'a>>,
}

impl<'a> OpeningClaim<'a> {
    /// `None` when, on Citus, the key was answered by a request that committed first: the
    /// opening then answers as when its folded claim finds the key answered.
    pub(crate) async fn take(
        tx: &mut TenantTx,
        claim: Option<ClaimOf<'a>>,
    ) -> Result<Option<Self>, DbError> {
        match claim {
            Some(c) if tx.on_citus() => {
                Ok(try_claim(tx, c).await?.then_some(Self { folded: None }))
            }
            folded => Ok(Some(Self { folded })),
        }
    }

    /// The CTE that begins the statement's `WITH` (its parameters from `$first`, bound by
    /// [`OpeningClaim::bind`]), or nothing.
    pub(crate) fn cte(&self, first: usize) -> String {
        match self.folded {
            Some(_) => format!("c AS ({}), ", claim_sql(first)),
            None => String::new(),
        }
    }

    /// The condition that makes a read of the statement wait for the claim, or nothing.
    pub(crate) fn guard(&self) -> &'static str {
        match self.folded {
            Some(_) => " AND EXISTS (SELECT 1 FROM c)",
            None => "",
        }
    }

    /// Binds the claim's parameters after the statement's own.
    pub(crate) fn bind<'q, O>(
        &self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
    where
        'a: 'q,
    {
        match self.folded {
            Some(c) => q
                .bind(c.scope.as_str())
                .bind(c.key.as_str())
                .bind(c.hash.as_bytes())
                .bind(c.now),
            None => q,
        }
    }
}

/// Stores the answer of the request that claimed (`scope`, `key`), in its transaction.
pub async fn store(
    tx: &mut TenantTx,
    scope: Scope,
    key: &Key,
    answer: &Value,
) -> Result<(), DbError> {
    let done =
        sqlx::query("UPDATE idempotency_keys SET response = $3 WHERE scope = $1 AND key = $2")
            .bind(scope.as_str())
            .bind(key.as_str())
            .bind(answer)
            .execute(tx.conn())
            .await?;
    if done.rows_affected() != 1 {
        return Err(DbError::Aborted(format!(
            "idempotency key {scope} {} was not claimed",
            key.as_str()
        )));
    }
    Ok(())
}

/// Gives a claim up without an answer (a refusal the transaction still commits, such as a
/// wrong confirmation code being counted): the next request under the key runs again.
pub async fn release(tx: &mut TenantTx, scope: Scope, key: &Key) -> Result<(), DbError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND response IS NULL")
        .bind(scope.as_str())
        .bind(key.as_str())
        .execute(tx.conn())
        .await?;
    Ok(())
}
