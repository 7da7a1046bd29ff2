//! Scheduled notices the business switches on and words itself (a template per occasion):
//! the birthday wish, points expiring in N days, a membership ending in N days, a visit pass
//! with visits left ending in N days, the reminder the day before an activity, and a
//! member's tier change (each change once, from the `tier.changed` events since the notice
//! was switched on). A daily run per business queues the e-mails, each under the key
//! (member, template, occasion), so it is sent at most once per occasion however often and
//! on however many replicas the job runs. Inside the quiet hours (in the business's time
//! zone) delivery waits for them to end.

use crate::messages::{queue_member_email, queue_member_sms, Senders};
use crate::AppError;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use patron_core::messages::QuietHours;
use patron_core::problem::Issue;
use patron_core::Validation;
use patron_db::notices::{self as db, Due, Scheduled};
use patron_db::{Db, Tenant, TenantTx};
use serde_json::json;

/// The occasions a business can schedule, and whether each has N days ahead.
pub const OCCASIONS: &[(&str, bool)] = &[
    ("birthday", false),
    ("points.expiring", true),
    ("membership.ending", true),
    ("pass.ending", true),
    ("activity.reminder", false),
    ("tier.changed", false),
];

/// How far back the first run after a business switches `tier.changed` on looks for tier
/// changes (never before it was switched on).
pub fn tier_changes_window() -> Duration {
    Duration::days(2)
}

/// The most days ahead a notice can be set to.
pub const DAYS_MAX: i32 = 90;

/// Scheduled notices go out between 09:00 and 21:00 in the business's time zone.
pub fn quiet_hours() -> QuietHours {
    QuietHours {
        start: NaiveTime::from_hms_opt(21, 0, 0).expect("a time"),
        end: NaiveTime::from_hms_opt(9, 0, 0).expect("a time"),
    }
}

/// Every schedulable occasion with the business's setting (off, 0 days when never set).
pub async fn settings(mut tx: TenantTx) -> Result<Vec<Scheduled>, AppError> {
    let rows = db::scheduled(&mut tx).await?;
    tx.commit().await?;
    Ok(OCCASIONS
        .iter()
        .map(|(o, ahead)| {
            rows.iter()
                .find(|r| r.occasion == *o)
                .cloned()
                .unwrap_or(Scheduled {
                    occasion: (*o).to_owned(),
                    enabled: false,
                    days_ahead: if *ahead { 3 } else { 0 },
                    updated_at: DateTime::<Utc>::MIN_UTC,
                    updated_by: String::new(),
                })
        })
        .collect())
}

/// Switches one scheduled notice on or off, with its days ahead.
pub async fn set(
    mut tx: TenantTx,
    occasion: &str,
    enabled: bool,
    days_ahead: i32,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Scheduled, AppError> {
    let mut v = Validation::new();
    let known: Vec<&str> = OCCASIONS.iter().map(|(o, _)| *o).collect();
    let ahead = match OCCASIONS.iter().find(|(o, _)| *o == occasion) {
        Some((_, ahead)) => *ahead,
        None => {
            v.check::<()>("occasion", Err(Issue::not_one_of(occasion, &known)));
            false
        }
    };
    if ahead && !(1..=DAYS_MAX).contains(&days_ahead) {
        v.check::<()>("days_ahead", Err(Issue::out_of_range(1, DAYS_MAX.into())));
    }
    v.finish().map_err(AppError::invalid)?;
    let row = db::set_scheduled(
        &mut tx,
        occasion,
        enabled,
        if ahead { days_ahead } else { 0 },
        by,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// What one run queued, per occasion.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Report {
    /// E-mails queued per occasion.
    pub queued: std::collections::BTreeMap<String, i64>,
    /// Text messages queued per occasion.
    pub queued_sms: std::collections::BTreeMap<String, i64>,
}

/// One business's daily run: for each occasion switched on, the members due today (in the
/// business's zone) get the e-mail of its template, once per occasion.
pub async fn run_tenant(
    db: &Db,
    tenant: &Tenant,
    senders: &Senders,
    now: DateTime<Utc>,
) -> Result<Report, AppError> {
    // A business whose plan no longer has notices sends none (its settings are kept).
    let plan = patron_db::plans::find(db, &tenant.plan_code).await?;
    if !plan.has(patron_core::plans::Feature::Notices) {
        return Ok(Report::default());
    }
    let zone = tenant.settings.zone();
    let today = zone.today(now);
    let mut tx = db.tenant_tx(tenant).await?;
    let on: Vec<Scheduled> = db::scheduled(&mut tx)
        .await?
        .into_iter()
        .filter(|s| s.enabled)
        .collect();
    let mut report = Report::default();
    let delay = quiet_hours().wait_until(zone, now);
    for s in on {
        let ahead = Duration::days(i64::from(s.days_ahead));
        let due: Vec<Due> = match s.occasion.as_str() {
            "birthday" => db::birthdays_on(&mut tx, today).await?,
            "points.expiring" => {
                let day = today + ahead;
                let (from, to) = (
                    zone.start_of_day(day),
                    zone.start_of_day(day + Duration::days(1)),
                );
                db::points_expiring(&mut tx, from, to, day).await?
            }
            "membership.ending" => db::memberships_ending(&mut tx, today + ahead).await?,
            "pass.ending" => db::passes_ending(&mut tx, today + ahead).await?,
            "activity.reminder" => {
                let day = today + Duration::days(1);
                let (from, to) = (
                    zone.start_of_day(day),
                    zone.start_of_day(day + Duration::days(1)),
                );
                db::activities_starting(&mut tx, from, to)
                    .await?
                    .into_iter()
                    .map(|(member_id, reg, title, starts_at, place)| Due {
                        member_id,
                        occasion: format!("activity.reminder:{reg}"),
                        data: json!({
                            "activity": title,
                            "time": zone.local(starts_at).format("%Y-%m-%d %H:%M").to_string(),
                            "place": place,
                        }),
                    })
                    .collect()
            }
            "tier.changed" => {
                let since = s.updated_at.max(now - tier_changes_window());
                let locale = patron_core::lang::Lang::parse(&tenant.settings.locale)
                    .unwrap_or_default()
                    .code();
                db::tier_changes(&mut tx, since, now, locale).await?
            }
            _ => Vec::new(),
        };
        let (mut queued, mut queued_sms) = (0, 0);
        for d in due {
            let added = queue_member_email(
                &mut tx,
                tenant,
                senders,
                d.member_id,
                &s.occasion,
                &d.occasion,
                &d.data,
                None,
                now,
            )
            .await?;
            if added {
                queued += 1;
                if let Some(until) = delay {
                    let key = format!("email:{}:{}:{}", d.member_id, s.occasion, d.occasion);
                    db::delay_delivery(&mut tx, &key, until).await?;
                }
            }
            // And by text message, when the business worded it for SMS.
            if let Some(key) = queue_member_sms(
                &mut tx,
                tenant,
                senders,
                d.member_id,
                &s.occasion,
                &d.occasion,
                &d.data,
                now,
            )
            .await?
            {
                queued_sms += 1;
                if let Some(until) = delay {
                    db::delay_delivery(&mut tx, &key, until).await?;
                }
            }
        }
        report.queued.insert(s.occasion.clone(), queued);
        report.queued_sms.insert(s.occasion.clone(), queued_sms);
    }
    tx.commit().await?;
    Ok(report)
}
