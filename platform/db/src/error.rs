//! The storage layer's one error type.

/// What can go wrong talking to the database, sorted by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist (in this tenant).
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; names the constraint.
    #[error("conflict on {0}")]
    Conflict(String),
    /// A tenant schema's migrations disagree with the ones compiled in.
    #[error("migration: {0}")]
    Migration(String),
    /// Bad configuration, such as an unreadable database URL.
    #[error("configuration: {0}")]
    Config(String),
    /// A failure in code called inside a tenant transaction (used by `provision`).
    #[error("{0}")]
    Aborted(String),
    #[error(transparent)]
    Sqlx(sqlx::Error),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation()
                    || db.is_foreign_key_violation()
                    || relayed_conflict(db.code().as_deref(), db.message()) =>
            {
                // Citus relays a worker's error without the constraint field: read the name
                // from the message then.
                let named = db.constraint().map(str::to_owned).or_else(|| {
                    let m = db.message();
                    let start = m.find("constraint \"")? + "constraint \"".len();
                    let len = m[start..].find('"')?;
                    Some(m[start..start + len].to_owned())
                });
                DbError::Conflict(constraint_name(named.as_deref().unwrap_or("unknown")).to_owned())
            }
            _ => DbError::Sqlx(e),
        }
    }
}

/// A unique or foreign-key violation a Citus worker raised while the coordinator copied rows
/// to it (an `INSERT ... SELECT`, a multi-row insert): Citus relays it as an internal error
/// (`XX000`, "duplicate key value violates unique constraint ...: ...") instead of its own
/// SQLSTATE.
fn relayed_conflict(code: Option<&str>, message: &str) -> bool {
    code == Some("XX000")
        && (message.starts_with("duplicate key value violates unique constraint \"")
            || (message.starts_with("insert or update on table \"")
                && message.contains("violates foreign key constraint \"")))
}

/// The constraint's name as the schema declares it. On Citus a distributed table's shard
/// reports its constraints with the shard id appended (`purchases_external_id_key_102008`);
/// the product's names never end in `_` and six or more digits.
fn constraint_name(reported: &str) -> &str {
    match reported.rsplit_once('_') {
        Some((name, id)) if id.len() >= 6 && id.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => reported,
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        DbError::Migration(e.to_string())
    }
}

impl DbError {
    /// True for a conflict on the named constraint.
    pub fn is_conflict_on(&self, constraint: &str) -> bool {
        matches!(self, DbError::Conflict(c) if c == constraint)
    }

    /// True when PostgreSQL aborted the transaction to break a deadlock (`40P01`) or a
    /// serialization conflict (`40001`): nothing of it was written, and the same work in a
    /// new transaction may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(db))
            if matches!(db.code().as_deref(), Some("40P01" | "40001")))
    }
}

#[cfg(test)]
mod tests {
    use super::{constraint_name, relayed_conflict};

    #[test]
    fn a_conflict_relayed_by_a_citus_worker_is_a_conflict() {
        let unique =
            "duplicate key value violates unique constraint \"members_phone_key_102260\": \
                      duplicate key value violates unique constraint \"members_phone_key_102260\"";
        assert!(relayed_conflict(Some("XX000"), unique));
        assert!(!relayed_conflict(Some("XX001"), unique));
        let fk = "insert or update on table \"purchase_payments_102270\" violates foreign key \
                  constraint \"purchase_payments_purchase_id_fkey_102270\"";
        assert!(relayed_conflict(Some("XX000"), fk));
        assert!(!relayed_conflict(
            Some("XX000"),
            "null value in column \"join_date\" violates not-null constraint"
        ));
    }

    #[test]
    fn a_shards_constraint_is_known_by_its_declared_name() {
        assert_eq!(
            constraint_name("purchases_external_id_key_102008"),
            "purchases_external_id_key"
        );
        assert_eq!(
            constraint_name("idempotency_keys_pkey"),
            "idempotency_keys_pkey"
        );
        assert_eq!(constraint_name("members_phone_key"), "members_phone_key");
        assert_eq!(constraint_name("tier_1"), "tier_1");
    }
}
