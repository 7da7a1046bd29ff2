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
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                DbError::Conflict(db.constraint().unwrap_or("unknown").to_owned())
            }
            _ => DbError::Sqlx(e),
        }
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
}
