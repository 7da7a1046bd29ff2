//! Point work outside requests: the expiry job, the birthday job (through the earn
//! pipeline's rule and ledger steps) and the ledger check behind `patron verify`. The job
//! runner and the CLI call these.

use super::earn::{self, Credit, Ctx};
use crate::engine::{self, MemberTier, RuleEngine};
use crate::AppError;
use chrono::{DateTime, Datelike, Utc};
use patron_core::points::EntrySource;
use patron_core::reasons::{Reason, Said};
use patron_db::points::{self, Difference};
use patron_db::{jobs, tenants, Db, Tenant};
use serde::Serialize;
use serde_json::{json, Value};

/// Members handled per transaction by the expiry job.
const EXPIRY_BATCH: i64 = 200;

/// Expires one tenant's lots whose time has come, a batch of members per transaction, each
/// under its account lock: safe to run twice or on two replicas at once (a lot already
/// expired holds nothing more to expire).
pub async fn expire_tenant(
    db: &Db,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
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
    Ok(json!({ "members": members, "points": expired }))
}

/// The expiry job for one tenant, by id.
pub async fn expire_job(db: &Db, tenant_id: i64, now: DateTime<Utc>) -> Result<Value, AppError> {
    match tenants::find_by_id(db, tenant_id).await? {
        Some(t) if t.purged_at.is_none() => expire_tenant(db, &t, now).await,
        _ => Ok(json!({ "skipped": "tenant gone" })),
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
    /// Members whose stored-value balance row disagrees with its two sub-ledgers.
    pub stored_value_differences: Vec<StoredValueDifference>,
}

/// A stored-value balance row that disagrees with the sum of its sub-ledger entries.
#[derive(Debug, Clone, Serialize)]
pub struct StoredValueDifference {
    pub member_id: String,
    pub principal: i64,
    pub bonus: i64,
    pub principal_entries: i64,
    pub bonus_entries: i64,
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
    /// Days whose kept tier figures disagree with the entries.
    pub earned_days_off: i64,
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
            earned_days_off: d.earned_days_off,
        }
    }
}

/// Checks every live tenant's ledger; returns one report per tenant.
pub async fn verify_all(db: &Db) -> Result<Vec<TenantCheck>, AppError> {
    let mut out = Vec::new();
    for id in jobs::live_tenant_ids(db).await? {
        let Some(tenant) = tenants::find_by_id(db, id).await? else {
            continue;
        };
        let mut tx = db.tenant_tx(&tenant).await?;
        let differences = points::verify(&mut tx).await?;
        let purchases_without_entry = points::purchases_without_entry(&mut tx).await?;
        let (accounts, entries) = points::ledger_size(&mut tx).await?;
        let stored_value = patron_db::prepaid::disagreements(&mut tx).await?;
        tx.commit().await?;
        out.push(TenantCheck {
            tenant: tenant.slug.as_str().to_owned(),
            accounts,
            entries,
            differences: differences.into_iter().map(Into::into).collect(),
            purchases_without_entry,
            stored_value_differences: stored_value
                .into_iter()
                .map(|(m, principal, bonus, pe, be)| StoredValueDifference {
                    member_id: m.to_string(),
                    principal,
                    bonus,
                    principal_entries: pe,
                    bonus_entries: be,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// One birthday grant: the rule's points or a tier's gift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub source: EntrySource,
    pub rule_version: Option<i32>,
    pub points: i64,
    pub reason: Said,
}

/// The birthday rule's grant from its reasons' line (`happy birthday` when it gave none).
pub fn birthday_grant(version: i32, points: i64, reasons: &[super::PointReason]) -> Grant {
    Grant {
        source: EntrySource::Birthday,
        rule_version: Some(version),
        points,
        reason: super::decide::reason_or(
            reasons,
            Reason::point("happy_birthday", serde_json::json!({})).into(),
        ),
    }
}

/// A tier's birthday gift, when it gives one.
pub fn tier_gift(tier: &MemberTier) -> Option<Grant> {
    let gift = tier.benefits.birthday_gift_points;
    (gift > 0).then(|| Grant {
        source: EntrySource::TierGift,
        rule_version: None,
        points: gift,
        reason: Reason::point(
            "tier_birthday_gift",
            serde_json::json!({ "tier": tier.code }),
        )
        .into(),
    })
}

/// What the grants give together (a negative grant counts as nothing).
pub fn grants_total(grants: &[Grant]) -> i64 {
    grants.iter().map(|g| g.points.max(0)).sum()
}

/// Awards birthday points to one tenant's members whose birthday it is today in the
/// business's time zone: the `birthday` rule's points and their tier's birthday gift, once
/// per member per year (safe to run again, or on two replicas at once). With neither a
/// birthday rule nor a tier that gives a gift, nothing happens.
pub async fn birthdays_tenant(
    db: &Db,
    tenant: &Tenant,
    rules: &RuleEngine,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
    let zone = tenant.settings.zone();
    let today = zone.today(now);
    let mut tx = db.tenant_tx(tenant).await?;
    let set = rules.tenant(&mut tx).await?;
    tx.commit().await?;
    // The tiers' birthday coupons, each in a transaction of its own.
    let coupons = crate::coupons::birthday::give_tenant(db, tenant, &set, now).await?;
    let rule = set.rules.get("birthday").cloned();
    let gifts = set.ladder.as_ref().is_some_and(|l| {
        l.ladder
            .tiers
            .iter()
            .any(|t| t.benefits.birthday_gift_points > 0)
    });
    if rule.is_none() && !gifts {
        return Ok(json!({ "skipped": "no birthday rule or gift", "coupons": coupons }));
    }
    let mut tx = db.tenant_tx(tenant).await?;
    let due = points::birthdays_due(&mut tx, today).await?;
    tx.commit().await?;
    let ctx = Ctx {
        engine: rules,
        rules: &set,
        tenant,
        now,
        actor: "system:birthday",
    };
    let (mut awarded, mut total, mut failed) = (0, 0_i64, 0);
    for id in due {
        let mut tx = db.tenant_tx(tenant).await?;
        let member = patron_db::members::get(&mut tx, id).await?;
        let mut account = points::lock_account(&mut tx, id, now).await?;
        let tier = MemberTier::of(&mut tx, &set, id).await?;
        let mut grants = Vec::new();
        if let Some(rule) = &rule {
            let event = json!({ "kind": "birthday", "time": engine::event_time(now, zone) });
            let input = engine::member_input(&member, &account, &tier, today);
            match rules.eval(tenant.id, rule, &event, &input).await {
                Ok(o) => grants.push(birthday_grant(
                    rule.version,
                    o.points,
                    &engine::reasons_of(&o),
                )),
                // Not claimed: the next hourly run tries again, so a worker that crashed
                // costs no one their birthday points.
                Err(e) => {
                    tracing::warn!(member = %id, error = %e, "the birthday rule failed");
                    failed += 1;
                    continue;
                }
            }
        }
        grants.extend(tier_gift(&tier));
        let points_total = grants_total(&grants);
        // Nothing to give (yet): not claimed, so a gift that becomes due later today counts.
        if points_total == 0 {
            continue;
        }
        if !points::claim_birthday(&mut tx, id, today.year(), points_total, now).await? {
            continue;
        }
        for g in grants {
            let credit = Credit {
                source: g.source,
                source_id: today.year().to_string(),
                rule_version: g.rule_version,
                reason: g.reason,
                detail: None,
            };
            earn::credit(
                &mut tx,
                &ctx,
                &mut account,
                g.points,
                &credit.source(&ctx),
                today,
            )
            .await?;
        }
        points::save_account(&mut tx, &account, now).await?;
        tx.commit().await?;
        awarded += 1;
        total += points_total;
    }
    Ok(
        json!({ "members": awarded, "points": total, "rule_failures": failed,
               "coupons": coupons }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::PointReason;

    #[test]
    fn a_birthday_grant_reads_its_reasons_or_wishes_happy_birthday() {
        let r = |s: &str| PointReason::new(5, Said::words(s), None);
        let g = birthday_grant(3, 10, &[r("a"), r("b")]);
        assert_eq!(
            (g.source, g.rule_version, g.points),
            (EntrySource::Birthday, Some(3), 10)
        );
        assert_eq!(g.reason.text, "a; b");
        let wish = birthday_grant(3, 10, &[]).reason;
        assert_eq!(
            (wish.text.as_str(), wish.code),
            ("happy birthday", Some("happy_birthday"))
        );
    }

    #[test]
    fn only_a_tier_with_a_gift_gives_one_and_negative_grants_count_as_nothing() {
        let mut tier = MemberTier::default();
        assert_eq!(tier_gift(&tier), None);
        tier.code = "gold".into();
        tier.benefits.birthday_gift_points = 200;
        let gift = tier_gift(&tier).unwrap();
        assert_eq!(gift.reason.text, "birthday gift of tier gold");
        assert_eq!(gift.reason.params.as_ref().unwrap()["tier"], "gold");
        assert_eq!(gift.source.as_str(), "tier_gift");
        let rule = birthday_grant(1, -50, &[]);
        assert_eq!(grants_total(&[rule, gift]), 200);
    }
}
