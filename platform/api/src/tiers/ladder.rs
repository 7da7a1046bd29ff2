//! The ladder's operations at the edge: overview, draft, script check, preview, publish,
//! rollback and versions. Each authorises, calls one use case in `patron_app::tiers::ladder`
//! (the preview: `patron_app::tiers::preview`) and shapes the answer.

use super::dto::{
    counts_view, LadderDoc, LadderDraftView, LadderPublishInput, LadderPublished,
    LadderRollbackInput, LadderVersionView, TierPreview, TierPreviewInput, TierScriptCheck,
    TierScriptInput, TiersOverview,
};
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_app::tiers::ladder;
use patron_core::access::Permission;

pub(super) async fn overview(
    state: &ApiState,
    auth: &TenantAuth,
) -> Result<TiersOverview, ApiError> {
    let (mut tx, _) = state.authorize(auth, Some(Permission::MembersRead)).await?;
    let o = ladder::overview(&mut tx).await?;
    let draft = match o.draft {
        Some(d) => Some(LadderDraftView {
            ladder: serde_json::from_value(d.ladder).map_err(|e| ApiError::internal(&e))?,
            updated_by: d.updated_by,
            updated_at: d.updated_at,
        }),
        None => None,
    };
    tx.commit().await?;
    Ok(TiersOverview {
        active: o.active.map(Into::into),
        draft,
        counts: counts_view(o.counts),
        run: o.run.map(Into::into),
        script_errors: o.script_errors.into_iter().map(Into::into).collect(),
        script_errors_total: o.script_errors_total,
    })
}

pub(super) async fn save_draft(
    state: &ApiState,
    auth: &TenantAuth,
    doc: LadderDoc,
) -> Result<LadderDraftView, ApiError> {
    let (mut tx, me) = state.authorize(auth, Some(Permission::TiersWrite)).await?;
    let d = ladder::save_draft(
        &mut tx,
        &state.rules,
        me.tenant.id,
        doc.json()?,
        &me.subject(),
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(LadderDraftView {
        ladder: doc,
        updated_by: d.updated_by,
        updated_at: d.updated_at,
    })
}

pub(super) async fn check_script(
    state: &ApiState,
    auth: &TenantAuth,
    req: TierScriptInput,
) -> Result<TierScriptCheck, ApiError> {
    let (tx, me) = state.authorize(auth, Some(Permission::TiersWrite)).await?;
    drop(tx);
    let error = ladder::compile(&state.rules, me.tenant.id, &req.script).await?;
    Ok(TierScriptCheck {
        ok: error.is_none(),
        error: error.map(Into::into),
    })
}

pub(super) async fn preview(
    state: &ApiState,
    auth: &TenantAuth,
    req: TierPreviewInput,
) -> Result<TierPreview, ApiError> {
    let (mut tx, me) = state.authorize(auth, Some(Permission::TiersWrite)).await?;
    let given = req.ladder.as_ref().map(LadderDoc::json).transpose()?;
    let p = patron_app::tiers::preview::preview(
        &mut tx,
        &state.rules,
        &*state.clock,
        &me.tenant,
        given,
    )
    .await?;
    // Read only: nothing to keep.
    drop(tx);
    Ok(p.into())
}

pub(super) async fn publish(
    state: &ApiState,
    auth: &TenantAuth,
    req: LadderPublishInput,
) -> Result<LadderPublished, ApiError> {
    let (tx, me) = state.authorize(auth, Some(Permission::TiersWrite)).await?;
    let given = req.ladder.as_ref().map(LadderDoc::json).transpose()?;
    let published = ladder::publish(
        tx,
        &state.db,
        &state.rules,
        &*state.clock,
        me.tenant.id,
        given,
        &req.note,
        &me.subject(),
    )
    .await?;
    Ok(published.into())
}

pub(super) async fn versions(
    state: &ApiState,
    auth: &TenantAuth,
) -> Result<Vec<LadderVersionView>, ApiError> {
    let (mut tx, _) = state.authorize(auth, Some(Permission::MembersRead)).await?;
    let all = ladder::versions(&mut tx).await?;
    tx.commit().await?;
    Ok(all.into_iter().map(Into::into).collect())
}

pub(super) async fn rollback(
    state: &ApiState,
    auth: &TenantAuth,
    req: LadderRollbackInput,
) -> Result<LadderPublished, ApiError> {
    let (tx, me) = state.authorize(auth, Some(Permission::TiersWrite)).await?;
    let published = ladder::rollback(
        tx,
        &state.db,
        &state.rules,
        &*state.clock,
        me.tenant.id,
        req.version,
        &me.subject(),
    )
    .await?;
    Ok(published.into())
}
