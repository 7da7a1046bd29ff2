//! The activities' job: offers of a freed seat that ran out pass on to the next in line.
//! The server's job runner fans it out to every live tenant every minute.

use super::{seats, Ctx};
use crate::engine::RuleEngine;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_db::{Db, Tenant};
use serde_json::{json, Value};

/// Lets one tenant's offers that ran out by `now` pass on; reports how many lapsed.
pub async fn lapse_offers(
    db: &Db,
    tenant: &Tenant,
    engine: &RuleEngine,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let c = Ctx {
        engine,
        tenant,
        actor: "system:activity_offers",
        now,
        keys: None,
    };
    let lapsed = seats::lapse_offers(&mut tx, &c).await?;
    tx.commit().await?;
    Ok(json!({ "lapsed": lapsed }))
}
