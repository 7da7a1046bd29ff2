//! Point work outside requests: the expiry job, and `patron verify`, which checks every
//! tenant's ledger.

use chrono::{DateTime, Utc};
use patron_db::points::{self, Difference};
use patron_db::{jobs, tenants, Db, Tenant};
use serde::Serialize;

/// Members handled per transaction by the expiry job.
const EXPIRY_BATCH: i64 = 200;

/// Expires one tenant's lots whose time has come, a batch of members per transaction, each
/// under its account lock: safe to run twice or on two replicas at once (a lot already
/// expired holds nothing more to expire).
pub async fn expire_tenant(
    db: &Db,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    let (mut members, mut expired) = (0_i64, 0_i64);
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let due = points::members_with_expired_lots(&mut tx, now, EXPIRY_BATCH).await?;
        if due.is_empty() {
            break;
        }
        let mut done = 0;
        for id in &due {
            let mut account = points::lock_account(&mut tx, *id, now).await?;
            let n = points::expire(&mut tx, &mut account, now, "system:expiry").await?;
            if n > 0 {
                points::save_account(&mut tx, &account, now).await?;
                members += 1;
                expired += n;
                done += 1;
            }
        }
        tx.commit().await?;
        if done == 0 {
            // Another runner took this batch between our read and our locks; it finishes it.
            break;
        }
    }
    Ok(serde_json::json!({ "members": members, "points": expired }))
}

/// The expiry job for one tenant, by id.
pub async fn expire_job(
    db: &Db,
    tenant_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    match tenants::find_by_id(db, tenant_id).await? {
        Some(t) if t.purged_at.is_none() => expire_tenant(db, &t, now).await,
        _ => Ok(serde_json::json!({ "skipped": "tenant gone" })),
    }
}

/// One tenant's verification.
#[derive(Debug, Clone, Serialize)]
pub struct TenantCheck {
    pub tenant: String,
    pub accounts: i64,
    pub entries: i64,
    pub differences: Vec<DifferenceView>,
    /// Purchases that earned points but have no ledger entry.
    pub purchases_without_entry: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DifferenceView {
    pub member_id: String,
    pub balance: i64,
    pub entries_sum: i64,
    pub last_entry_balance: Option<i64>,
    pub open_lots: i64,
    pub debt: i64,
    pub open_debts: i64,
}

impl From<Difference> for DifferenceView {
    fn from(d: Difference) -> Self {
        Self {
            member_id: d.member_id.to_string(),
            balance: d.balance,
            entries_sum: d.entries_sum,
            last_entry_balance: d.last_entry_balance,
            open_lots: d.open_lots,
            debt: d.debt,
            open_debts: d.open_debts,
        }
    }
}

/// Checks every live tenant's ledger; returns one report per tenant.
pub async fn verify_all(db: &Db) -> anyhow::Result<Vec<TenantCheck>> {
    let mut out = Vec::new();
    for id in jobs::live_tenant_ids(db).await? {
        let Some(tenant) = tenants::find_by_id(db, id).await? else {
            continue;
        };
        let mut tx = db.tenant_tx(&tenant).await?;
        let differences = points::verify(&mut tx).await?;
        let purchases_without_entry = points::purchases_without_entry(&mut tx).await?;
        let (accounts, entries) = points::ledger_size(&mut tx).await?;
        tx.commit().await?;
        out.push(TenantCheck {
            tenant: tenant.slug.as_str().to_owned(),
            accounts,
            entries,
            differences: differences.into_iter().map(Into::into).collect(),
            purchases_without_entry,
        });
    }
    Ok(out)
}

/// `patron verify`: prints the report; fails when any tenant's figures disagree.
pub async fn verify_command(db: &Db, json: bool) -> anyhow::Result<()> {
    let report = verify_all(db).await?;
    let bad: Vec<&TenantCheck> = report
        .iter()
        .filter(|t| !t.differences.is_empty() || t.purchases_without_entry > 0)
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
            for d in t.differences.iter().take(20) {
                println!(
                    "  member {}: balance {}, entries {}, last entry says {:?}, open lots {}, debt {}, open debts {}",
                    d.member_id, d.balance, d.entries_sum, d.last_entry_balance, d.open_lots, d.debt, d.open_debts
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

/// Awards birthday points to one tenant's members whose birthday it is today in the
/// business's time zone: the `birthday` rule's points and their tier's birthday gift, once
/// per member per year (safe to run again, or on two replicas at once). With neither a
/// birthday rule nor a tier that gives a gift, nothing happens.
pub async fn birthdays_tenant(
    db: &Db,
    tenant: &Tenant,
    rules: &patron_app::engine::RuleEngine,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    use chrono::Datelike;
    use patron_app::engine;
    let zone = tenant.settings.zone();
    let today = zone.today(now);
    let mut tx = db.tenant_tx(tenant).await?;
    let set = rules.tenant(&mut tx).await?;
    let rule = set.rules.get("birthday").cloned();
    let gifts = set.ladder.as_ref().is_some_and(|l| {
        l.ladder
            .tiers
            .iter()
            .any(|t| t.benefits.birthday_gift_points > 0)
    });
    if rule.is_none() && !gifts {
        return Ok(serde_json::json!({ "skipped": "no birthday rule or gift" }));
    }
    let due = points::birthdays_due(&mut tx, today).await?;
    tx.commit().await?;
    let (mut awarded, mut total, mut failed) = (0, 0_i64, 0);
    for id in due {
        let mut tx = db.tenant_tx(tenant).await?;
        let member = patron_db::members::get(&mut tx, id).await?;
        let mut account = points::lock_account(&mut tx, id, now).await?;
        let tier = engine::MemberTier::of(&mut tx, &set, id).await?;
        let mut grants = Vec::new();
        if let Some(rule) = &rule {
            let event =
                serde_json::json!({ "kind": "birthday", "time": engine::event_time(now, zone) });
            let input = engine::member_input(&member, &account, &tier, today);
            match rules.eval(tenant.id, rule, &event, &input).await {
                Ok(o) => {
                    let reason = o
                        .reasons
                        .iter()
                        .map(|r| r.reason.as_str())
                        .collect::<Vec<_>>()
                        .join("; ");
                    let reason = if reason.is_empty() {
                        "happy birthday".to_owned()
                    } else {
                        reason
                    };
                    grants.push(("birthday", Some(rule.version), o.points, reason));
                }
                // Not claimed: the next hourly run tries again, so a worker that crashed
                // costs no one their birthday points.
                Err(e) => {
                    tracing::warn!(member = %id, error = %e, "the birthday rule failed");
                    failed += 1;
                    continue;
                }
            }
        }
        let gift = tier.benefits.birthday_gift_points;
        if gift > 0 {
            grants.push((
                "tier_gift",
                None,
                gift,
                format!("birthday gift of tier {}", tier.code),
            ));
        }
        let points_total: i64 = grants.iter().map(|g| g.2.max(0)).sum();
        // Nothing to give (yet): not claimed, so a gift that becomes due later today counts.
        if points_total == 0 {
            continue;
        }
        if !points::claim_birthday(&mut tx, id, today.year(), points_total, now).await? {
            continue;
        }
        let expires = patron_core::points::expires_at(set.settings.expiry, now, zone.tz());
        for (kind, rule_version, earned, reason) in grants {
            let src = points::Source {
                kind,
                id: today.year().to_string(),
                rule_version,
                reason,
                detail: None,
                actor: "system:birthday",
                at: now,
            };
            points::earn(&mut tx, &mut account, earned, &src, expires, today).await?;
        }
        points::save_account(&mut tx, &account, now).await?;
        tx.commit().await?;
        awarded += 1;
        total += points_total;
    }
    Ok(serde_json::json!({ "members": awarded, "points": total, "rule_failures": failed }))
}
