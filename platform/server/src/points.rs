//! Point work outside requests, as the job runner and the CLI start it: the expiry and
//! birthday jobs and `patron verify`. Their bodies are use cases in `patron_app::points::jobs`.

use chrono::{DateTime, Utc};
use patron_db::{Db, Tenant};

pub use patron_app::points::jobs::{DifferenceView, TenantCheck};

/// Expires one tenant's lots whose time has come (see `patron_app::points::jobs`).
pub async fn expire_tenant(
    db: &Db,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    Ok(patron_app::points::jobs::expire_tenant(db, tenant, now).await?)
}

/// The expiry job for one tenant, by id.
pub async fn expire_job(
    db: &Db,
    tenant_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    Ok(patron_app::points::jobs::expire_job(db, tenant_id, now).await?)
}

/// Checks every live tenant's ledger; returns one report per tenant.
pub async fn verify_all(db: &Db) -> anyhow::Result<Vec<TenantCheck>> {
    Ok(patron_app::points::jobs::verify_all(db).await?)
}

/// Awards birthday points to one tenant's members whose birthday it is today (see
/// `patron_app::points::jobs::birthdays_tenant`).
pub async fn birthdays_tenant(
    db: &Db,
    tenant: &Tenant,
    rules: &patron_app::engine::RuleEngine,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    Ok(patron_app::points::jobs::birthdays_tenant(db, tenant, rules, now).await?)
}

/// `patron verify`: prints the report; fails when any tenant's figures disagree.
pub async fn verify_command(db: &Db, json: bool) -> anyhow::Result<()> {
    let report = verify_all(db).await?;
    let bad: Vec<&TenantCheck> = report
        .iter()
        .filter(|t| {
            !t.differences.is_empty()
                || t.purchases_without_entry > 0
                || !t.stored_value_differences.is_empty()
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let (accounts, entries): (i64, i64) = report
            .iter()
            .fold((0, 0), |(a, e), t| (a + t.accounts, e + t.entries));
        for t in &bad {
            println!(
                "{}: {} members differ, {} purchases without an entry",
                t.tenant,
                t.differences.len(),
                t.purchases_without_entry
            );
            for d in t.stored_value_differences.iter().take(20) {
                println!(
                    "  member {}: stored value principal {} (entries {}), bonus {} (entries {})",
                    d.member_id, d.principal, d.principal_entries, d.bonus, d.bonus_entries
                );
            }
            for d in t.differences.iter().take(20) {
                println!(
                    "  member {}: balance {}, entries {}, last entry says {:?}, open lots {}, debt {}, open debts {}, tier days off {}",
                    d.member_id, d.balance, d.entries_sum, d.last_entry_balance, d.open_lots, d.debt, d.open_debts, d.earned_days_off
                );
            }
        }
        println!(
            "checked {} tenants, {accounts} accounts, {entries} entries: {} with differences",
            report.len(),
            bad.len()
        );
    }
    anyhow::ensure!(
        bad.is_empty(),
        "{} tenants have ledger differences",
        bad.len()
    );
    Ok(())
}
