//! Coupons of a template issued to a segment of members (any member search) by a
//! background job. The run is a row with its search and progress; the job walks the
//! segment in creation order, a batch per transaction from the run's keyset (under the
//! run's row lock), so memory stays bounded, two workers never overlap, and a job that dies
//! is resumed by the next from the last committed batch: no member gets a coupon twice from
//! one run. Each batch takes, in the order every issuing path keeps, the template's total
//! (up to what is left), then the plan's coupons of the month, then one slot under each
//! member's per-member limit (members at their limit are skipped and counted).

use super::{template, terms_of};
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::coupons::Pattern;
use patron_core::plans::Limit;
use patron_db::coupons::{self as db, NewCoupons, SegmentIssue};
use patron_db::members::{self as members, Search};
use patron_db::{Db, Tenant, TenantTx};
use serde_json::{json, Value};
use std::collections::HashSet;
use uuid::Uuid;

/// The job that carries a run through (payload `{"run": id}`).
pub const SEGMENT_JOB: &str = "coupons.segment_issue";

/// Members per transaction.
pub const SEGMENT_BATCH: i64 = 1_000;

/// Counted up to this many when a run starts (the progress bar's end).
const MATCH_CAP: i64 = 100_000_000;

/// Starts a run: the template must be able to give coupons now; the search is kept as it
/// was checked, and the members it finds now are counted for the progress.
pub async fn start(
    tx: &mut TenantTx,
    template_id: Uuid,
    search: &Search,
    zone: patron_core::Zone,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<SegmentIssue, AppError> {
    let t = template(tx, template_id).await?;
    if t.archived {
        return Err(AppError::conflict(
            "coupon_template_archived",
            None,
            "this coupon template is archived",
        ));
    }
    if terms_of(&t.terms.0)?.validity(now, zone).1 <= now {
        return Err(AppError::conflict(
            "coupon_template_expired",
            None,
            "the coupons of this template are no longer valid",
        ));
    }
    let (matched, _) = members::count(tx, search, MATCH_CAP).await?;
    let saved = serde_json::to_value(search).map_err(AppError::internal)?;
    Ok(db::insert_segment_issue(tx, Uuid::now_v7(), t.id, &saved, matched, actor, now).await?)
}

/// Queues the job that carries `run` through (once while one is pending or running).
pub async fn enqueue(db: &Db, tenant: i64, run: Uuid, now: DateTime<Utc>) {
    let r = patron_db::jobs::enqueue(
        db,
        SEGMENT_JOB,
        Some(tenant),
        json!({ "run": run }),
        now,
        Some(&format!("{SEGMENT_JOB}:{run}")),
    )
    .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, %run, "could not queue the segment issue");
    }
}

/// A template's runs, newest first.
pub async fn runs(tx: &mut TenantTx, template_id: Uuid) -> Result<Vec<SegmentIssue>, AppError> {
    template(tx, template_id).await?;
    Ok(db::segment_issues(tx, template_id).await?)
}

/// Carries a run to its end, a batch per transaction. Safe to run twice at once and to
/// resume after a crash.
pub async fn run(
    db: &Db,
    tenant: &Tenant,
    run_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Value, AppError> {
    let zone = tenant.settings.zone();
    let pattern = Pattern::parse(super::issue::MEMBER_PATTERN, None, None)
        .map_err(|_| AppError::internal_msg("the member pattern"))?;
    let mut batches = 0;
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let Some(r) = db::segment_issue(&mut tx, run_id, true).await? else {
            return Ok(json!({ "skipped": "no such run" }));
        };
        if r.status != "running" {
            tx.commit().await?;
            return Ok(json!({ "status": r.status, "issued": r.issued, "batches": batches }));
        }
        batches += 1;
        let t = match db::template(&mut tx, r.template_id).await? {
            Some(t) if !t.archived => t,
            _ => {
                stop(&mut tx, r.id, now, "archived").await?;
                tx.commit().await?;
                continue;
            }
        };
        let terms = terms_of(&t.terms.0)?;
        let (valid_from, valid_until) = terms.validity(now, zone);
        if valid_until <= now {
            stop(&mut tx, r.id, now, "expired").await?;
            tx.commit().await?;
            continue;
        }
        let search: Search =
            serde_json::from_value(r.search.clone()).map_err(AppError::internal)?;
        let after = r.cursor_at.zip(r.cursor_id);
        let page = members::page_ids(&mut tx, &search, after, SEGMENT_BATCH).await?;
        let Some(&(last_id, last_at)) = page.last() else {
            db::advance_segment(&mut tx, r.id, 0, 0, 0, None, Some(("done", None)), now).await?;
            tx.commit().await?;
            continue;
        };
        let cursor = Some((last_at, last_id));
        let ids: Vec<Uuid> = page.iter().map(|p| p.0).collect();
        let seen = ids.len() as i64;
        let eligible = db::below_member_limit(&mut tx, t.id, t.per_member, &ids).await?;
        let n = eligible.len() as i64;
        if n == 0 {
            db::advance_segment(&mut tx, r.id, seen, 0, seen, cursor, None, now).await?;
            tx.commit().await?;
            continue;
        }
        // The template's total, then the plan's month, then each member's slot (the order
        // every issuing path keeps).
        let k = db::take_up_to(&mut tx, t.id, n as i32).await?;
        if k > 0 {
            match crate::plans::take_monthly(&mut tx, Limit::CouponsPerMonth, i64::from(k), now)
                .await
            {
                Ok(()) => {}
                Err(AppError::Plan(_)) => {
                    db::give_back(&mut tx, t.id, k).await?;
                    stop(&mut tx, r.id, now, "coupons_per_month").await?;
                    tx.commit().await?;
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        let slots = if k > 0 {
            db::take_member_slots(&mut tx, t.id, t.per_member, &eligible[..k as usize]).await?
        } else {
            Vec::new()
        };
        let got = slots.len() as i64;
        if got < i64::from(k) {
            let back = i64::from(k) - got;
            db::give_back(&mut tx, t.id, back as i32).await?;
            patron_db::plans::meter_in(&mut tx, Limit::CouponsPerMonth.as_str(), now, -back)
                .await?;
        }
        let c = NewCoupons {
            template_id: t.id,
            version: t.version,
            terms: &t.terms.0,
            member_id: None,
            batch_id: None,
            channel: "segment",
            issued_at: now,
            valid_from,
            valid_until,
            actor: &r.actor,
        };
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
        let mut waiting = slots;
        for _ in 0..20 {
            if waiting.is_empty() {
                break;
            }
            let mut codes = HashSet::with_capacity(waiting.len());
            while codes.len() < waiting.len() {
                codes.insert(pattern.generate(&mut rng));
            }
            let codes: Vec<String> = codes.into_iter().collect();
            let written: HashSet<Uuid> = db::issue_each(&mut tx, &c, &waiting, &codes)
                .await?
                .into_iter()
                .collect();
            waiting.retain(|m| !written.contains(m));
        }
        if !waiting.is_empty() {
            return Err(AppError::internal_msg(
                "could not find free codes for a segment",
            ));
        }
        // Sold out within this batch: the members after the last slot were not reached.
        let end = (i64::from(k) < n).then_some(("stopped", Some("sold_out")));
        db::advance_segment(&mut tx, r.id, seen, got, seen - got, cursor, end, now).await?;
        tx.commit().await?;
    }
}

async fn stop(
    tx: &mut TenantTx,
    id: Uuid,
    now: DateTime<Utc>,
    why: &'static str,
) -> Result<(), patron_db::DbError> {
    db::advance_segment(tx, id, 0, 0, 0, None, Some(("stopped", Some(why))), now).await
}
