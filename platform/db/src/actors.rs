//! Names of the staff and API keys that actor texts refer to.

use crate::{DbError, TenantTx};
use uuid::Uuid;

/// The names of the staff among `ids` (disabled staff included).
pub async fn staff_names(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name FROM staff WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(tx.conn())
            .await?,
    )
}

/// The names of the API keys among `ids` (revoked keys included).
pub async fn key_names(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name FROM api_keys WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(tx.conn())
            .await?,
    )
}
