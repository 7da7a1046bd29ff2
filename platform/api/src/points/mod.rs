//! A member's points over HTTP: balance and history, redemption, adjustments by hand, daily
//! check-ins, custom events from integrations, and the business's point settings. The use
//! cases are in `patron_app::points`; request and answer bodies in [`dto`], the views the
//! portal shares in `crate::edge::point_views`.

pub mod dto;

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_events;
use crate::edge::state::ApiState;
use dto::{
    ChangeResponse, EventResponse, NewAdjustment, NewEvent, NewRedemption, PointSettingsView,
};
use patron_app::idempotency::{self, Request};
use patron_app::points as app;
use patron_core::access::Permission;
use patron_core::idempotency::Scope;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};
use serde_json::Value;
use uuid::Uuid;

use crate::edge::point_views::{CheckInResult, EntryPage, PointsSummary};

#[derive(Tags)]
enum Tag {
    /// Balances, the ledger, redemption, adjustments, check-ins, custom events.
    Points,
}

pub struct PointsApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Points")]
impl PointsApi {
    /// A member's balance, debt, totals and soonest expiries.
    #[oai(
        path = "/members/:id/points",
        method = "get",
        operation_id = "memberPoints"
    )]
    async fn summary(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<PointsSummary>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let s = app::summary(&mut tx, &self.state.rules, id.0, true, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// A member's ledger, newest first.
    #[oai(
        path = "/members/:id/points/entries",
        method = "get",
        operation_id = "memberPointEntries"
    )]
    async fn entries(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        before: Query<Option<i64>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<EntryPage>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let page = app::entries(
            &mut tx,
            &self.state.rules,
            id.0,
            before.0,
            limit.0.unwrap_or(50),
            true,
        )
        .await?;
        tx.commit().await?;
        Ok(Json(page.into()))
    }

    /// Add or take away points by hand, with a reason (needs `points:adjust`). Taking away
    /// cannot go below zero.
    #[oai(
        path = "/members/:id/points/adjustments",
        method = "post",
        operation_id = "adjustPoints"
    )]
    async fn adjust(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<NewAdjustment>,
    ) -> Result<ChangeResponse, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PointsAdjust))
            .await?;
        let change = app::adjust(
            &mut tx,
            &self.state.rules,
            &me.tenant,
            id.0,
            &req.0.into(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(change.into())
    }

    /// Spend points: for a reward, or as money off a purchase (within the business's ratio,
    /// minimum and cap; partial redemption allowed). The balance check and the debit are
    /// one step: concurrent redemptions never overdraw. Idempotent by `idempotency_key`.
    #[oai(
        path = "/members/:id/redemptions",
        method = "post",
        operation_id = "redeemPoints"
    )]
    async fn redeem(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<NewRedemption>,
    ) -> Result<ChangeResponse, ApiError> {
        let req: app::NewRedemption = req.0.into();
        // The same key may commit while this request waits for the account: the second
        // try, in a new transaction, answers with that redemption (or a 409).
        for _ in 0..2 {
            let (tx, me) = self
                .state
                .authorize(&auth, Some(Permission::PurchasesWrite))
                .await?;
            let confirmation = app::Confirmation {
                keys: &self.state.config.pii,
                tenant: patron_core::TenantId::new(me.tenant.id),
            };
            let done = app::redeem_once(
                &self.state.db,
                &me.tenant,
                tx,
                &self.state.rules,
                confirmation,
                id.0,
                &req,
                &me.subject(),
                self.state.now(),
            )
            .await?;
            if let Some(change) = done {
                return Ok(change.into());
            }
        }
        Err(app::key_reused("idempotency_key").into())
    }

    /// Check a member in for today (once a day; consecutive days make a streak).
    #[oai(
        path = "/members/:id/check-ins",
        method = "post",
        operation_id = "checkIn",
        transform = "needs_events"
    )]
    async fn check_in(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        /// Optional: a retry with the same key answers the first check-in exactly (same
        /// status and body) instead of `already: true`.
        #[oai(name = "Idempotency-Key")]
        key: Header<Option<String>>,
    ) -> Result<Json<CheckInResult>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let member = app::member_of(&mut tx, id.0).await?;
        let now = self.state.now();
        let key = Request::optional(Scope::CheckIn, member.id, key.0.as_deref(), &())?;
        let (rules, actor) = (&self.state.rules, me.subject());
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::check_in(tx, rules, &me.tenant, &member, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// Record a custom event from an integration; the rule `event.<name>` in force decides
    /// its points. Idempotent by `external_id`.
    #[oai(
        path = "/events",
        method = "post",
        operation_id = "recordEvent",
        transform = "needs_events"
    )]
    async fn event(
        &self,
        auth: TenantAuth,
        req: Json<NewEvent>,
    ) -> Result<EventResponse, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let r = app::record_event(
            &mut tx,
            &self.state.rules,
            &me.tenant,
            &self.state.config.pii,
            &req.0.into(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(r.into())
    }

    /// The business's point settings.
    #[oai(
        path = "/points/settings",
        method = "get",
        operation_id = "getPointSettings"
    )]
    async fn get_settings(&self, auth: TenantAuth) -> Result<Json<PointSettingsView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        let s = app::settings::get(&mut tx).await?;
        tx.commit().await?;
        Ok(Json((&s).into()))
    }

    /// Change the point settings (expiry applies to points earned from now on).
    #[oai(
        path = "/points/settings",
        method = "put",
        operation_id = "setPointSettings"
    )]
    async fn set_settings(
        &self,
        auth: TenantAuth,
        req: Json<Value>,
    ) -> Result<Json<PointSettingsView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let s = app::settings::parse(req.0)?;
        app::settings::set(&mut tx, &s, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        app::settings::forget(&self.state.rules, me.tenant.id).await;
        Ok(Json((&s).into()))
    }
}
