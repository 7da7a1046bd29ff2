//! `patron pii rekey`: after a key rotation, re-seals members' phones and e-mails still
//! sealed under a retired key with the current one, tenant by tenant, a batch of members per
//! transaction.
//!
//! Safe to interrupt and run again: each batch commits on its own, a run only looks for
//! values under other keys than the current one (so what is done is never redone), and a
//! value is only replaced if it still holds the ciphertext that was re-sealed (an edit in the
//! meantime wrote it under the current key already). The blind indexes do not change: every
//! value opened is checked against its index first, and a mismatch (the index key is not the
//! one the register was indexed with) stops the run before anything of that batch is written.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use patron_core::pii::PiiKeys;
use patron_db::members::{self, Resealed, SealedPii};
use patron_db::{tenants, Db, Tenant};
use serde::Serialize;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Members re-sealed per transaction unless told otherwise.
pub const DEFAULT_BATCH: i64 = 500;

/// One tenant's re-sealing, as it goes and when it ends.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantRekey {
    pub tenant: String,
    /// Members holding a value under another key when the run started.
    pub pending: i64,
    /// Members looked at so far.
    pub members: i64,
    /// Phones and e-mails re-sealed so far.
    pub values: i64,
    /// Values that could not be opened (key not configured, or not authentic), by member.
    pub failed: Vec<Failure>,
    /// The run was told to stop before the tenant was done.
    pub stopped: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub member_id: String,
    pub field: &'static str,
    pub problem: String,
}

/// Opens one of a member's sealed values (`phone` or `email`) and seals it again under the
/// current key, after checking it still matches its blind index. `None`: nothing to do.
fn reseal(
    keys: &PiiKeys,
    field: &'static str,
    row: &SealedPii,
) -> anyhow::Result<Result<Option<Resealed>, Failure>> {
    let id = row.id;
    let sealed = match field {
        "phone" => (&row.phone_enc, row.phone_key, &row.phone_index),
        _ => (&row.email_enc, row.email_key, &row.email_index),
    };
    let (Some(old), Some(key_id), Some(index)) = sealed else {
        return Ok(Ok(None));
    };
    if key_id == keys.current_id() {
        return Ok(Ok(None));
    }
    let plain = match keys.decrypt(key_id, old) {
        Ok(p) => p,
        Err(problem) => {
            return Ok(Err(Failure {
                member_id: id.to_string(),
                field,
                problem,
            }))
        }
    };
    let lookup = match field {
        "email" => patron_core::members::email_lookup_key(&plain),
        _ => plain.clone(),
    };
    anyhow::ensure!(
        keys.blind_index(field, &lookup) == *index,
        "member {id}: the {field} does not match its blind index under the configured index \
         key. PATRON_PII_INDEX_KEY must be the key the register was indexed with (when unset \
         it is derived from PATRON_PII_KEY, which changed with the rotation); nothing of this \
         batch was written"
    );
    let (_, new) = keys.encrypt(&plain);
    Ok(Ok(Some(Resealed {
        id,
        old: old.clone(),
        new,
    })))
}

/// Re-seals one tenant's values under retired keys, `batch` members per transaction.
/// `on_batch` hears the progress after each committed batch and may stop the run.
pub async fn rekey_tenant(
    db: &Db,
    tenant: &Tenant,
    keys: &PiiKeys,
    batch: i64,
    mut on_batch: impl FnMut(&TenantRekey) -> ControlFlow<()>,
) -> anyhow::Result<TenantRekey> {
    let current = keys.current_id();
    let mut report = TenantRekey {
        tenant: tenant.slug.as_str().to_owned(),
        ..TenantRekey::default()
    };
    {
        let mut tx = db.tenant_tx(tenant).await?;
        report.pending = members::count_sealed_under_other_keys(&mut tx, current).await?;
        tx.commit().await?;
    }
    if report.pending == 0 {
        return Ok(report);
    }
    let mut after = None;
    loop {
        let mut tx = db.tenant_tx(tenant).await?;
        let rows: Vec<SealedPii> =
            members::sealed_under_other_keys(&mut tx, current, after, batch).await?;
        let Some(last) = rows.last() else {
            tx.commit().await?;
            break;
        };
        after = Some(last.id);
        let (mut phones, mut emails) = (Vec::new(), Vec::new());
        for r in &rows {
            for (field, out) in [("phone", &mut phones), ("email", &mut emails)] {
                match reseal(keys, field, r)? {
                    Ok(Some(v)) => out.push(v),
                    Ok(None) => {}
                    Err(f) => report.failed.push(f),
                }
            }
        }
        let written = members::write_resealed(&mut tx, "phone", current, &phones).await?
            + members::write_resealed(&mut tx, "email", current, &emails).await?;
        tx.commit()
            .await
            .with_context(|| format!("tenant {}: committing a batch", report.tenant))?;
        report.members += rows.len() as i64;
        report.values += written as i64;
        if on_batch(&report).is_break() {
            report.stopped = true;
            break;
        }
    }
    Ok(report)
}

/// `patron pii rekey`: every live tenant (or the one named), with a progress bar; Ctrl-C
/// finishes the batch in hand and stops. Fails when a value could not be opened.
pub async fn rekey_command(
    db: &Db,
    keys: &PiiKeys,
    batch: i64,
    only: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(batch > 0, "--batch must be at least 1");
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping after the batch in hand; run again to resume");
                stop.store(true, Ordering::SeqCst);
            }
        });
    }
    let all = tenants::list(db).await?;
    let chosen: Vec<&Tenant> = all
        .iter()
        .filter(|t| t.purged_at.is_none())
        .filter(|t| only.is_none_or(|s| t.slug.as_str() == s))
        .collect();
    if let Some(s) = only {
        anyhow::ensure!(!chosen.is_empty(), "no tenant with the slug {s:?}");
    }
    let mut reports = Vec::new();
    for t in chosen {
        let bar = ProgressBar::hidden();
        let mut started = false;
        let report = rekey_tenant(db, t, keys, batch, |r| {
            if !started && !json {
                started = true;
                bar.set_length(r.pending as u64);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{msg} {bar:40} {pos}/{len} members [{elapsed_precise}]",
                    )
                    .expect("valid template"),
                );
                bar.set_message(r.tenant.clone());
            }
            bar.set_position(r.members as u64);
            if stop.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
        .with_context(|| format!("tenant {}", t.slug.as_str()))?;
        bar.finish_and_clear();
        if !json && report.pending > 0 {
            eprintln!(
                "{}: {} members looked at, {} values re-sealed under key {}, {} could not be opened{}",
                report.tenant,
                report.members,
                report.values,
                keys.current_id(),
                report.failed.len(),
                if report.stopped { " (stopped)" } else { "" }
            );
            for f in report.failed.iter().take(20) {
                eprintln!("  member {} {}: {}", f.member_id, f.field, f.problem);
            }
        }
        let stopped = report.stopped;
        reports.push(report);
        if stopped {
            break;
        }
    }
    let values: i64 = reports.iter().map(|r| r.values).sum();
    let failed: usize = reports.iter().map(|r| r.failed.len()).sum();
    let stopped = reports.iter().any(|r| r.stopped);
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        eprintln!(
            "{} tenants, {values} values re-sealed under key {}{}",
            reports.len(),
            keys.current_id(),
            if stopped {
                "; stopped before the end, run again to resume"
            } else {
                ""
            }
        );
    }
    anyhow::ensure!(
        failed == 0,
        "{failed} values could not be opened with the configured keys (see above); add their \
         key to PATRON_PII_RETIRED_KEYS and run again"
    );
    Ok(())
}
