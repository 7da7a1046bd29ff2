//! The business's own settings (name, time zone, currency, locale, phone region), which
//! every capability honours, and its audit log.

use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::tenants::{self as core_tenants, TenantSettings};
use patron_core::Validation;
use patron_db::{audit, tenants, Tenant, TenantTx};

/// A change to the settings; fields left out keep their value.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub currency: Option<String>,
    pub locale: Option<String>,
    pub phone_region: Option<String>,
}

/// The name and settings after `change`, every bad field at once.
pub fn merge(
    name: &str,
    cur: &TenantSettings,
    req: &SettingsChange,
) -> Result<(String, TenantSettings), AppError> {
    let mut v = Validation::new();
    let name = v.check(
        "name",
        req.name.as_deref().map_or(Ok(name.to_owned()), |n| {
            core_tenants::parse_display_name(n, 120)
        }),
    );
    let time_zone = v.check(
        "time_zone",
        req.time_zone
            .as_deref()
            .map_or(Ok(cur.time_zone.clone()), core_tenants::parse_time_zone),
    );
    let currency = v.check(
        "currency",
        req.currency
            .as_deref()
            .map_or(Ok(cur.currency.clone()), core_tenants::parse_currency),
    );
    let locale = v.check(
        "locale",
        req.locale
            .as_deref()
            .map_or(Ok(cur.locale.clone()), core_tenants::parse_locale),
    );
    let phone_region = v.check(
        "phone_region",
        req.phone_region.as_deref().map_or(
            Ok(cur.phone_region.clone()),
            core_tenants::parse_phone_region,
        ),
    );
    v.finish().map_err(AppError::invalid)?;
    Ok((
        name.expect("checked"),
        TenantSettings {
            time_zone: time_zone.expect("checked"),
            currency: currency.expect("checked"),
            locale: locale.expect("checked"),
            phone_region: phone_region.expect("checked"),
        },
    ))
}

/// Changes `tenant`'s settings, with an audit entry of before and after. The caller drops
/// its cached copy of the tenant afterwards.
pub async fn update(
    mut tx: TenantTx,
    tenant: &Tenant,
    req: &SettingsChange,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Tenant, AppError> {
    let (name, settings) = merge(&tenant.name, &tenant.settings, req)?;
    let updated = tenants::update_settings(&mut tx, &name, &settings).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "settings.updated",
        "",
        serde_json::json!({ "before": serde_json::to_value(&tenant.settings).unwrap_or_default(), "after": serde_json::to_value(&updated.settings).unwrap_or_default() }),
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// The business's audit log: `limit` entries before entry `before`, newest first, those
/// `filter` asks for.
pub async fn audit_log(
    tx: &mut TenantTx,
    filter: &audit::AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<audit::AuditEntry>, AppError> {
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if to <= from {
            return Err(AppError::field(
                "to",
                patron_core::Issue::new(
                    patron_core::FieldCode::BeforeStart,
                    "must be after `from`",
                ),
            ));
        }
    }
    Ok(audit::list(tx, filter, before, limit).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_left_out_keep_their_value() {
        let cur = TenantSettings::default();
        let (name, s) = merge(
            "Iron Gym",
            &cur,
            &SettingsChange {
                locale: Some("en".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(name, "Iron Gym");
        assert_eq!(s.locale, "en");
        assert_eq!(s.time_zone, cur.time_zone);
        assert_eq!(s.currency, cur.currency);
    }

    #[test]
    fn every_bad_setting_is_named_at_once() {
        let e = merge(
            "Iron Gym",
            &TenantSettings::default(),
            &SettingsChange {
                name: Some(" ".into()),
                time_zone: Some("Nowhere/Else".into()),
                locale: Some("tlh".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "time_zone", "locale"]);
    }
}
