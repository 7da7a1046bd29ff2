//! A member's tier: where they stand on the ladder in force (tier, pin, retention), their
//! progress on its metric, their moves; and the staff's pin and unpin (validated, the
//! standing changed, the move recorded, the member's audit written).

use super::ladder::no_ladder;
use crate::engine::{RuleEngine, TenantRules};
use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::tiers::{self as core_tiers, Metric, Standing, Tier, Window};
use patron_core::MemberId;
use patron_db::members::{self, Actor};
use patron_db::{points, tiers, Tenant, TenantTx};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// The longest reason for a pin or an unpin, in characters.
/// Why a tier was pinned or unpinned: 1 to this many characters.
pub const MAX_REASON: usize = 500;
/// How far ahead a pin may hold.
const MAX_PIN_DAYS: i64 = 5 * 366;
/// How many moves a member's tier shows.
const HISTORY: i64 = 100;

/// A staff pin on a member's tier.
#[derive(Debug, Clone, PartialEq)]
pub struct PinData {
    pub tier: String,
    pub until: DateTime<Utc>,
    pub reason: String,
    pub by: String,
}

/// Where the member stands against the ladder's metric.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressData {
    pub metric: Metric,
    /// The business's currency (ISO 4217), for spend.
    pub currency: String,
    /// The member's value of the metric in the current window.
    pub value: i64,
    pub window: Window,
    /// The next tier and how much more of the metric it takes.
    pub next: Option<(Tier, i64)>,
    /// The last local day the window counts to (calendar year), when it has one.
    pub by: Option<NaiveDate>,
    /// The current tier's threshold, and how far below it the member is.
    pub keep_threshold: i64,
    pub short_of_current: i64,
}

/// A member's tier, what it gives, progress, retention, pin and history.
#[derive(Debug, Clone)]
pub struct MemberTierData {
    /// None while the business has no ladder.
    pub ladder_version: Option<i32>,
    pub tier: Option<Tier>,
    pub since: Option<DateTime<Utc>>,
    pub pin: Option<PinData>,
    pub below_since: Option<DateTime<Utc>>,
    /// When the tier is lost unless the member qualifies again.
    pub retained_until: Option<DateTime<Utc>>,
    pub progress: Option<ProgressData>,
    /// Newest first; tier codes in reasons come with the tiers' current names.
    pub history: Vec<tiers::Move>,
    /// The current name of each tier of the ladder in force, by code.
    pub tier_names: HashMap<String, core_tiers::Names>,
}

/// The member's tier under `rules`' ladder (their last 100 moves with `history`).
pub async fn member_tier(
    tx: &mut TenantTx,
    rules: &TenantRules,
    tenant: &Tenant,
    member: MemberId,
    now: DateTime<Utc>,
    history: bool,
) -> Result<MemberTierData, AppError> {
    let member_id = member.get();
    let tier_names = rules.tier_names();
    let mut moves = if history {
        tiers::history(tx, member_id, HISTORY).await?
    } else {
        Vec::new()
    };
    for m in &mut moves {
        if let Some(p) = &mut m.reason_params {
            patron_core::reasons::name_tiers(p, &tier_names);
        }
    }
    let Some(active) = &rules.ladder else {
        return Ok(MemberTierData {
            ladder_version: None,
            tier: None,
            since: None,
            pin: None,
            below_since: None,
            retained_until: None,
            progress: None,
            history: moves,
            tier_names,
        });
    };
    let ladder = &active.ladder;
    let row = tiers::standing(tx, member_id, false).await?;
    let standing = row.as_ref().map(|r| r.standing()).unwrap_or_default();
    let metric = super::evaluation::metrics_of(tx, ladder, &[member_id], tenant, now)
        .await?
        .get(&member_id)
        .copied()
        .unwrap_or(0);
    let p = core_tiers::progress(ladder, &standing, metric, now, tenant.settings.zone().tz());
    let below_since = row.as_ref().and_then(|r| r.below_since);
    Ok(MemberTierData {
        ladder_version: Some(active.version),
        tier: Some(ladder.tiers[p.current].clone()),
        since: row.as_ref().map(|r| r.since),
        pin: row.as_ref().and_then(|r| {
            Some(PinData {
                tier: r.pin_tier.clone()?,
                until: r.pinned_until?,
                reason: r.pin_reason.clone().unwrap_or_default(),
                by: r.pinned_by.clone().unwrap_or_default(),
            })
        }),
        below_since,
        retained_until: retained_until(below_since, ladder.retention_days),
        progress: Some(ProgressData {
            metric: ladder.metric,
            currency: tenant.settings.currency.clone(),
            value: metric,
            window: ladder.window,
            next: p
                .next
                .map(|(i, remaining)| (ladder.tiers[i].clone(), remaining)),
            by: p.by,
            keep_threshold: ladder.tiers[p.current].threshold,
            short_of_current: p.short_of_current,
        }),
        history: moves,
        tier_names,
    })
}

/// When a member below their tier since `below_since` loses it.
pub fn retained_until(
    below_since: Option<DateTime<Utc>>,
    retention_days: u32,
) -> Option<DateTime<Utc>> {
    below_since.map(|b| b + Duration::days(i64::from(retention_days)))
}

/// A member's tier for staff: the member must exist; their moves included.
pub async fn show(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<MemberTierData, AppError> {
    members::get(tx, member_id).await?;
    let rules = engine.tenant(tx).await?;
    member_tier(tx, &rules, tenant, MemberId::new(member_id), now, true).await
}

/// A pin's or unpin's reason, trimmed: 1 to 500 characters.
pub fn check_reason(reason: &str) -> Result<String, AppError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > MAX_REASON {
        return Err(AppError::field(
            "reason",
            patron_core::Issue::length_between(1, MAX_REASON)
                .words(format!("1 to {MAX_REASON} characters")),
        ));
    }
    Ok(r.to_owned())
}

/// Until when a pin may hold: after `now`, at most five years ahead.
pub fn check_until(until: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), AppError> {
    if until <= now {
        return Err(AppError::field(
            "until",
            patron_core::Issue::new(patron_core::FieldCode::NotInFuture, "must be in the future"),
        ));
    }
    if until > now + Duration::days(MAX_PIN_DAYS) {
        return Err(AppError::field(
            "until",
            patron_core::Issue::new(
                patron_core::FieldCode::TooFarAhead,
                "at most five years ahead",
            )
            .with("years", 5),
        ));
    }
    Ok(())
}

/// The standing a pin gives: on the pinned tier, not below it, held until `until`.
pub fn pinned(tier: &str, until: DateTime<Utc>) -> Standing {
    Standing {
        tier: Some(tier.to_owned()),
        below_since: None,
        pin: Some(core_tiers::Pin {
            tier: tier.to_owned(),
            until,
        }),
    }
}

/// What staff ask of a pin.
#[derive(Debug, Clone, Copy)]
pub struct PinRequest<'a> {
    /// The tier code to hold.
    pub tier: &'a str,
    pub until: DateTime<Utc>,
    pub reason: &'a str,
}

/// Pins a member's tier until a date, with a reason: the standing, the move and the
/// member's audit. Answers the member's tier as it now is.
pub async fn pin(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    member_id: Uuid,
    req: PinRequest<'_>,
    by: &Actor<'_>,
) -> Result<MemberTierData, AppError> {
    let now = by.at;
    let reason = check_reason(req.reason)?;
    check_until(req.until, now)?;
    let rules = engine.tenant(tx).await?;
    let Some(active) = rules.ladder.clone() else {
        return Err(no_ladder());
    };
    let Some(tier) = active.ladder.tiers.iter().find(|t| t.code == req.tier) else {
        return Err(AppError::field(
            "tier",
            patron_core::Issue::new(
                patron_core::FieldCode::NoSuchTier,
                "the ladder has no such tier",
            )
            .with("value", req.tier),
        ));
    };
    members::get(tx, member_id).await?;
    points::lock_account(tx, member_id, now).await?;
    let row = tiers::standing(tx, member_id, true).await?;
    let from = active
        .ladder
        .tier(row.as_ref().map(|r| r.tier.as_str()))
        .code
        .clone();
    let next = pinned(&tier.code, req.until);
    tiers::save_standing(
        tx,
        member_id,
        &next,
        Some(&reason),
        Some(by.subject),
        None,
        now,
    )
    .await?;
    super::moved(
        tx,
        &tiers::NewMove {
            member_id,
            from: &from,
            to: &tier.code,
            kind: "pin",
            metric: None,
            threshold: None,
            ladder_version: Some(active.version),
            reason: &reason,
            coded: None,
            actor: by.subject,
            at: now,
        },
        tenant.settings.zone(),
    )
    .await?;
    members::audit(
        tx,
        member_id,
        by,
        "member.tier_pinned",
        Some("tier"),
        Some(json!(from)),
        Some(json!({ "tier": tier.code, "until": req.until, "reason": reason })),
    )
    .await?;
    let lang = patron_core::lang::Lang::parse(&tenant.settings.locale).unwrap_or_default();
    patron_db::audit::record_member(
        tx,
        now,
        by.subject,
        "member.tier_pinned",
        member_id,
        json!({ "tier": lang.name(&tier.name), "until": req.until, "reason": reason }),
    )
    .await?;
    member_tier(tx, &rules, tenant, MemberId::new(member_id), now, true).await
}

/// Ends a member's pin now, with a reason (the move and the member's audit); the next
/// evaluation applies the ladder's rules. Answers the member's tier as it now is.
pub async fn unpin(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    member_id: Uuid,
    reason: &str,
    by: &Actor<'_>,
) -> Result<MemberTierData, AppError> {
    let now = by.at;
    let reason = check_reason(reason)?;
    members::get(tx, member_id).await?;
    points::lock_account(tx, member_id, now).await?;
    let rules = engine.tenant(tx).await?;
    let row = tiers::standing(tx, member_id, true).await?;
    let Some(row) = row.filter(|r| r.pin_tier.is_some()) else {
        return Err(AppError::conflict(
            "not_pinned",
            None,
            "the member's tier is not pinned",
        ));
    };
    let mut s = row.standing();
    s.pin = None;
    tiers::save_standing(tx, member_id, &s, None, None, None, now).await?;
    super::moved(
        tx,
        &tiers::NewMove {
            member_id,
            from: &row.tier,
            to: &row.tier,
            kind: "unpin",
            metric: None,
            threshold: None,
            ladder_version: rules.ladder.as_ref().map(|l| l.version),
            reason: &reason,
            coded: None,
            actor: by.subject,
            at: now,
        },
        tenant.settings.zone(),
    )
    .await?;
    members::audit(
        tx,
        member_id,
        by,
        "member.tier_unpinned",
        Some("tier"),
        Some(json!({ "tier": row.tier, "until": row.pinned_until })),
        Some(json!({ "reason": reason })),
    )
    .await?;
    let lang = patron_core::lang::Lang::parse(&tenant.settings.locale).unwrap_or_default();
    let names = rules.tier_names();
    patron_db::audit::record_member(
        tx,
        now,
        by.subject,
        "member.tier_unpinned",
        member_id,
        json!({
            "tier": names.get(&row.tier).map_or(row.tier.as_str(), |n| lang.name(n)),
            "reason": reason,
        }),
    )
    .await?;
    member_tier(tx, &rules, tenant, MemberId::new(member_id), now, true).await
}

/// The tier a membership holds, checked against the ladder in force: 409
/// `membership_tier_not_on_ladder` (on `field`) when the business has no ladder or it has
/// no such tier.
pub async fn check_membership_tier(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    tier: &str,
    field: &str,
) -> Result<(), AppError> {
    let rules = engine.tenant(tx).await?;
    let on_ladder = rules
        .ladder
        .as_ref()
        .is_some_and(|l| l.ladder.tiers.iter().any(|t| t.code == tier));
    if on_ladder {
        Ok(())
    } else {
        Err(AppError::conflict(
            "membership_tier_not_on_ladder",
            Some(field),
            format!("the tier ladder in force has no tier {tier}"),
        )
        .with_param("tier", tier))
    }
}

/// A membership whose plan includes a tier holds the member on it until the membership
/// ends: the tiers' pin, on `tier` until `until` (the start of the day the membership no
/// longer covers), the move recorded with the plan's name as its reason. A pin already
/// holding at least as long (a staff pin, the membership's own) is left as it is. Locks the
/// member's points account first, as every tier change does.
#[allow(clippy::too_many_arguments)]
pub async fn hold_for_membership(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    zone: patron_core::Zone,
    member_id: Uuid,
    tier: &str,
    until: DateTime<Utc>,
    plan: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    check_membership_tier(tx, engine, tier, "plan_id").await?;
    let rules = engine.tenant(tx).await?;
    let Some(active) = rules.ladder.clone() else {
        return Err(no_ladder());
    };
    points::lock_account(tx, member_id, now).await?;
    let row = tiers::standing(tx, member_id, true).await?;
    if row
        .as_ref()
        .and_then(|r| r.pinned_until)
        .is_some_and(|held| held >= until)
    {
        return Ok(());
    }
    let from = active
        .ladder
        .tier(row.as_ref().map(|r| r.tier.as_str()))
        .code
        .clone();
    let reason = patron_core::reasons::Reason::membership_tier(plan);
    tiers::save_standing(
        tx,
        member_id,
        &pinned(tier, until),
        Some(&reason.english),
        Some(actor),
        None,
        now,
    )
    .await?;
    super::moved(
        tx,
        &tiers::NewMove {
            member_id,
            from: &from,
            to: tier,
            kind: "pin",
            metric: None,
            threshold: None,
            ladder_version: Some(active.version),
            reason: &reason.english,
            coded: Some(&reason),
            actor,
            at: now,
        },
        zone,
    )
    .await?;
    Ok(())
}

/// A cancelled membership ends the pin it holds (on `tier` until `until`); a pin that is not
/// the membership's (another tier, another end) is left. The next evaluation applies the
/// ladder's rules, as after a staff unpin. Whether a pin was ended.
#[allow(clippy::too_many_arguments)]
pub async fn release_for_membership(
    tx: &mut TenantTx,
    engine: &RuleEngine,
    zone: patron_core::Zone,
    member_id: Uuid,
    tier: &str,
    until: DateTime<Utc>,
    plan: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    points::lock_account(tx, member_id, now).await?;
    let Some(row) = tiers::standing(tx, member_id, true).await? else {
        return Ok(false);
    };
    if row.pin_tier.as_deref() != Some(tier) || row.pinned_until != Some(until) {
        return Ok(false);
    }
    let rules = engine.tenant(tx).await?;
    let mut s = row.standing();
    s.pin = None;
    tiers::save_standing(tx, member_id, &s, None, None, None, now).await?;
    let reason = patron_core::reasons::Reason::membership_cancelled(plan);
    super::moved(
        tx,
        &tiers::NewMove {
            member_id,
            from: &row.tier,
            to: &row.tier,
            kind: "unpin",
            metric: None,
            threshold: None,
            ladder_version: rules.ladder.as_ref().map(|l| l.version),
            reason: &reason.english,
            coded: Some(&reason),
            actor,
            at: now,
        },
        zone,
    )
    .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use patron_core::tiers::{Benefits, Ladder, Names};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn field_of(e: AppError) -> (String, String) {
        match e {
            AppError::Invalid(f) if f.len() == 1 => (f[0].field.clone(), f[0].problem.clone()),
            other => panic!("not one invalid field: {other:?}"),
        }
    }

    #[test]
    fn a_reason_is_trimmed_and_must_have_1_to_500_characters() {
        assert_eq!(check_reason("  VIP guest \n").unwrap(), "VIP guest");
        assert_eq!(field_of(check_reason("   ").unwrap_err()).0, "reason");
        assert_eq!(field_of(check_reason("").unwrap_err()).0, "reason");
        // Characters, not bytes: 500 CJK characters are fine, 501 are not.
        assert!(check_reason(&"贵".repeat(500)).is_ok());
        assert_eq!(
            field_of(check_reason(&"贵".repeat(501)).unwrap_err()),
            ("reason".into(), "1 to 500 characters".into())
        );
    }

    #[test]
    fn a_pin_must_end_in_the_future_and_within_five_years() {
        assert_eq!(
            field_of(check_until(now(), now()).unwrap_err()),
            ("until".into(), "must be in the future".into())
        );
        assert!(check_until(now() - Duration::days(1), now()).is_err());
        assert!(check_until(now() + Duration::seconds(1), now()).is_ok());
        assert!(check_until(now() + Duration::days(5 * 366), now()).is_ok());
        assert_eq!(
            field_of(check_until(now() + Duration::days(5 * 366 + 1), now()).unwrap_err()),
            ("until".into(), "at most five years ahead".into())
        );
    }

    #[test]
    fn a_pinned_tier_holds_until_the_pin_lapses() {
        let tier = |code: &str, threshold| Tier {
            code: code.into(),
            name: Names::default(),
            color: "#000000".into(),
            threshold,
            benefits: Benefits::default(),
        };
        let ladder = Ladder {
            tiers: vec![tier("base", 0), tier("gold", 500)],
            ..Ladder::default()
        };
        let until = now() + Duration::days(10);
        let s = pinned("gold", until);

        assert_eq!(s.tier.as_deref(), Some("gold"));
        assert_eq!(s.below_since, None);
        // Qualifying for the first tier only: the pin holds gold until it lapses.
        assert_eq!(core_tiers::applied(&ladder, &s, 0, now()), 1);
        assert_eq!(core_tiers::applied(&ladder, &s, 0, until), 0);
    }

    #[test]
    fn retention_counts_from_the_day_the_member_fell_below() {
        let below = now();
        assert_eq!(
            retained_until(Some(below), 30),
            Some(below + Duration::days(30))
        );
        assert_eq!(retained_until(None, 30), None);
    }
}
