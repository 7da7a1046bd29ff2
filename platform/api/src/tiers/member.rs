//! A member's tier at the edge: the view for staff, pin and unpin. Each authorises, calls one
//! use case in `patron_app::tiers::member` and turns its data into `MemberTierView`.

use super::dto::{MemberTierView, TierPinInput, TierUnpinInput};
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_app::tiers::member::{self, PinRequest};
use patron_core::access::Permission;
use patron_db::members::Actor;
use uuid::Uuid;

pub(super) async fn show(
    state: &ApiState,
    auth: &TenantAuth,
    id: Uuid,
) -> Result<MemberTierView, ApiError> {
    let (mut tx, me) = state.authorize(auth, Some(Permission::MembersRead)).await?;
    let data = member::show(&mut tx, &state.rules, &me.tenant, id, state.now()).await?;
    tx.commit().await?;
    Ok(data.into())
}

pub(super) async fn pin(
    state: &ApiState,
    auth: &TenantAuth,
    id: Uuid,
    req: TierPinInput,
) -> Result<MemberTierView, ApiError> {
    let (mut tx, me) = state
        .authorize(auth, Some(Permission::TiersOverride))
        .await?;
    let subject = me.subject();
    let by = Actor {
        subject: &subject,
        channel: me.channel(),
        at: state.now(),
    };
    let req = PinRequest {
        tier: &req.tier,
        until: req.until,
        reason: &req.reason,
    };
    let data = member::pin(&mut tx, &state.rules, &me.tenant, id, req, &by).await?;
    tx.commit().await?;
    Ok(data.into())
}

pub(super) async fn unpin(
    state: &ApiState,
    auth: &TenantAuth,
    id: Uuid,
    req: TierUnpinInput,
) -> Result<MemberTierView, ApiError> {
    let (mut tx, me) = state
        .authorize(auth, Some(Permission::TiersOverride))
        .await?;
    let subject = me.subject();
    let by = Actor {
        subject: &subject,
        channel: me.channel(),
        at: state.now(),
    };
    let data = member::unpin(&mut tx, &state.rules, &me.tenant, id, &req.reason, &by).await?;
    tx.commit().await?;
    Ok(data.into())
}
