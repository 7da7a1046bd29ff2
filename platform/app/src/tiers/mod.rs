//! Tiers: the ladder a business designs (draft, preview, publish, rollback), members'
//! standings and moves, pins, the history export, and the evaluations that move members.

pub mod evaluation;
pub mod export;
pub mod ladder;
pub mod member;
pub mod preview;

pub use evaluation::{after_event, evaluate_tenant, reevaluate, REEVALUATE_JOB};

/// Records a move in the tier history and, when the tier changed (a promotion, a demotion, a
/// new ladder, a pin to another tier, a lapsed pin), announces `tier.changed` through the
/// outbox in the same transaction: once per member, tier, kind and local day.
pub(crate) async fn moved(
    tx: &mut patron_db::TenantTx,
    m: &patron_db::tiers::NewMove<'_>,
    zone: patron_core::Zone,
) -> Result<(), crate::AppError> {
    patron_db::tiers::record_move(tx, m).await?;
    if m.from == m.to {
        return Ok(());
    }
    let day = zone.today(m.at);
    let occasion = match m.kind {
        // As promotions have always been keyed.
        "promotion" => format!("{}:{day}", m.to),
        kind => format!("{kind}:{}:{day}", m.to),
    };
    crate::messages::record(
        tx,
        patron_core::messages::Event::TierChanged,
        m.member_id,
        &occasion,
        serde_json::json!({
            "member_id": m.member_id,
            "from": m.from,
            "to": m.to,
            "kind": m.kind,
        }),
        m.at,
    )
    .await?;
    Ok(())
}
