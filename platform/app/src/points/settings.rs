//! The business's point settings: expiry, the refund policy, the redemption ratio, cap and
//! minimum, check-in points and streaks.

use crate::engine::RuleEngine;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::points::PointSettings;
use patron_core::TenantId;
use patron_db::{points, TenantTx};
use serde_json::Value;

/// The point settings.
pub async fn get(tx: &mut TenantTx) -> Result<PointSettings, AppError> {
    Ok(points::settings(tx).await?)
}

/// Reads settings from a request's JSON: a field that does not read is named (from the
/// parser's message), else every bad value is.
pub fn parse(v: Value) -> Result<PointSettings, AppError> {
    let s: PointSettings = serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .split('`')
            .nth(1)
            .filter(|f| !f.is_empty())
            .unwrap_or("settings")
            .to_owned();
        AppError::field(
            &field,
            patron_core::Issue::new(patron_core::FieldCode::DoesNotFit, msg.clone())
                .with("detail", msg),
        )
    })?;
    s.validate().map_err(AppError::invalid)?;
    Ok(s)
}

/// Changes the point settings (expiry applies to points earned from now on), audited; the
/// rule engine forgets the tenant's cached settings once `tx` commits (the caller calls
/// [`RuleEngine::forget`] after committing; other replicas hear of it through NOTIFY).
pub async fn set(
    tx: &mut TenantTx,
    s: &PointSettings,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    points::set_settings(tx, s, actor, now).await?;
    patron_db::audit::record(
        tx,
        now,
        actor,
        "points.settings",
        "points_settings",
        serde_json::to_value(s).expect("serialisable"),
    )
    .await?;
    patron_db::rules::notify(tx).await?;
    Ok(())
}

/// After the settings' transaction committed: drop this replica's cached copy.
pub async fn forget(engine: &RuleEngine, tenant: i64) {
    engine.forget(TenantId::new(tenant)).await;
}
