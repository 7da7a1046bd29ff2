//! Tier birthday coupons: the birthday job gives each active member whose birthday it is
//! today (in the business's time zone) one coupon of their tier's
//! `benefits.birthday_coupon_template_id`, once per member, template and local year. The
//! claim (`birthday_coupons`' primary key) and the coupon are written in one transaction, so
//! a second run, or a second runner at the same moment, gives nothing more. A coupon the
//! template cannot give now (archived, expired, sold out, a limit, the plan's coupons of
//! the month) is not claimed: a later run the same day tries again.

use crate::engine::{MemberTier, TenantRules};
use crate::AppError;
use chrono::{DateTime, Datelike, Utc};
use patron_db::coupons as db;
use patron_db::{Db, Tenant};
use serde_json::{json, Value};

/// Gives the tier birthday coupons due today to one tenant's members; the report counts
/// the coupons `given` and those `not_given` (the template could not give one).
pub async fn give_tenant(
    db: &Db,
    tenant: &Tenant,
    rules: &TenantRules,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
    let any = rules.ladder.as_ref().is_some_and(|l| {
        l.ladder
            .tiers
            .iter()
            .any(|t| t.benefits.birthday_coupon_template_id.is_some())
    });
    if !any {
        return Ok(json!({ "given": 0, "not_given": 0 }));
    }
    let zone = tenant.settings.zone();
    let today = zone.today(now);
    let mut tx = db.tenant_tx(tenant).await?;
    let due = db::birthday_coupons_due(&mut tx, today).await?;
    tx.commit().await?;
    let (mut given, mut not_given) = (0_i64, 0_i64);
    for id in due {
        let mut tx = db.tenant_tx(tenant).await?;
        let tier = MemberTier::of(&mut tx, rules, id).await?;
        let Some(template) = tier.benefits.birthday_coupon_template_id else {
            continue;
        };
        if !db::claim_birthday_coupon(&mut tx, id, template, today.year(), &tier.code, now).await? {
            continue;
        }
        match super::issue::give_on_occasion(
            &mut tx,
            zone,
            template,
            id,
            "tier",
            "system:birthday",
            now,
        )
        .await?
        {
            Some(code) => {
                db::set_birthday_coupon_code(&mut tx, id, template, today.year(), &code).await?;
                tx.commit().await?;
                given += 1;
            }
            // Not claimed (the transaction is dropped): a later run today tries again.
            None => not_given += 1,
        }
    }
    Ok(json!({ "given": given, "not_given": not_given }))
}
