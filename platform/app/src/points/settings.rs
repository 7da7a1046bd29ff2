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

/// Reads settings from a request's JSON: a field that does not read is named by its dotted
/// path (`expiry.months`), else every bad value is.
pub fn parse(v: Value) -> Result<PointSettings, AppError> {
    let expiry = v.get("expiry").cloned();
    let s: PointSettings = serde_path_to_error::deserialize(v).map_err(|e| {
        let msg = e.inner().to_string();
        let field = match e.path().to_string() {
            p if p.is_empty() || p == "." => "settings".to_owned(),
            p if p == "expiry" => expiry_field(expiry.as_ref(), &msg),
            p => p,
        };
        AppError::field(
            &field,
            patron_core::Issue::new(patron_core::FieldCode::DoesNotFit, msg.clone())
                .with("detail", msg),
        )
    })?;
    s.validate().map_err(AppError::invalid)?;
    Ok(s)
}

/// The expiry policy is read by its `mode` tag, which hides the inner path from the parser:
/// the member at fault is found from the message and the mode.
fn expiry_field(expiry: Option<&Value>, msg: &str) -> String {
    let named = |prefix: &str| {
        msg.strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(|f| format!("expiry.{f}"))
    };
    if let Some(f) = named("unknown field `").or_else(|| named("missing field `")) {
        return f;
    }
    match expiry.and_then(|e| e.get("mode")).and_then(Value::as_str) {
        Some("days") => "expiry.days".into(),
        Some("end_of_month" | "end_of_year") => "expiry.months".into(),
        Some("never") | None if expiry.is_some_and(Value::is_object) => "expiry.mode".into(),
        _ if msg.contains("variant") => "expiry.mode".into(),
        _ => "expiry".into(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(v: Value) -> String {
        match parse(v) {
            Err(AppError::Invalid(f)) => f[0].field.clone(),
            other => panic!("expected a bad field, got {other:?}"),
        }
    }

    #[test]
    fn a_value_that_does_not_read_is_named_by_its_path() {
        let mut s = serde_json::to_value(PointSettings::default()).unwrap();
        s["expiry"] = json!({"mode": "end_of_month", "months": -1});
        assert_eq!(field_of(s.clone()), "expiry.months");
        s["expiry"] = json!({"mode": "weekly"});
        assert_eq!(field_of(s.clone()), "expiry.mode");
        s["expiry"] = json!({"mode": "days"});
        assert_eq!(field_of(s.clone()), "expiry.days");
        s["expiry"] = json!({"mode": "never"});
        s["redeem_points"] = json!("many");
        assert_eq!(field_of(s), "redeem_points");
    }
}
