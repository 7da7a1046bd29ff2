//! Purchases and refunds over HTTP: recording a purchase runs the purchase rule in force and
//! earns its points; a refund takes back the points in proportion. Both are idempotent by
//! the caller's external id. The use cases are in `patron_app::purchases`; bodies in
//! [`dto`].

pub mod dto;

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use dto::{
    NewPurchase, NewRefund, PurchaseHistory, PurchaseView, RecordedPurchase, RecordedRefund,
};
use patron_app::points::external_id_reused;
use patron_app::purchases as app;
use patron_core::access::Permission;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Purchases and refunds, and the points they earn and take back.
    Purchases,
}

pub struct PurchasesApi {
    pub state: ApiState,
}

/// Tries at recording one purchase (see `record`).
const PURCHASE_TRIES: usize = 4;

#[OpenApi(tag = "Tag::Purchases")]
impl PurchasesApi {
    /// Record a purchase: runs the purchase rule in force and earns its points (lots expire
    /// by the business's policy). Idempotent by `external_id`. A failing rule records the
    /// purchase with zero points and the error attached.
    #[oai(path = "/purchases", method = "post", operation_id = "recordPurchase")]
    async fn record(
        &self,
        auth: TenantAuth,
        req: Json<NewPurchase>,
    ) -> Result<RecordedPurchase, ApiError> {
        let req: app::NewPurchase = req.0.into();
        // A request with the same external id may commit while this one waits for the
        // member's account: the next try, in a new transaction, answers with that purchase
        // (or a 409). A transaction the database aborted to break a deadlock (two purchases
        // whose shared codes and rule coupons lock the same templates in opposite orders)
        // wrote nothing and is tried again too.
        let mut last = None;
        for _ in 0..PURCHASE_TRIES {
            let (tx, me) = self
                .state
                .authorize(&auth, Some(Permission::PurchasesWrite))
                .await?;
            match app::record_once(
                tx,
                &self.state.rules,
                &me.tenant,
                &self.state.config.pii,
                &req,
                &me.subject(),
                self.state.now(),
            )
            .await
            {
                Ok(Some(r)) => return Ok(r.into()),
                Ok(None) => last = None,
                Err(e) if e.is_transient() => {
                    // Apart from the purchase it collided with, after a short random wait.
                    tracing::warn!(error = %e, "purchase aborted by the database; trying again");
                    let wait = rand::Rng::gen_range(&mut rand::thread_rng(), 5..50);
                    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                    last = Some(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.unwrap_or_else(external_id_reused).into())
    }

    /// Refund all or part of a purchase: the points it earned are taken back in proportion
    /// (refunds in parts add up to exactly the whole). When the member already spent them,
    /// the business's policy decides: a negative balance, or a debt the next earnings
    /// settle. Idempotent by `external_id`.
    #[oai(path = "/refunds", method = "post", operation_id = "recordRefund")]
    async fn refund(
        &self,
        auth: TenantAuth,
        req: Json<NewRefund>,
    ) -> Result<RecordedRefund, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let r = app::refund(
            &mut tx,
            &self.state.rules,
            &req.0.into(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(r.into())
    }

    /// A member's purchases, newest first, with totals over all of them.
    #[oai(
        path = "/members/:id/purchases",
        method = "get",
        operation_id = "memberPurchases"
    )]
    async fn history(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        before: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<PurchaseHistory>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let mut h = app::history(&mut tx, id.0, before.0.as_deref(), limit.0.unwrap_or(50)).await?;
        // Tier codes in the reasons come with the tiers' current names.
        let names = self.state.rules.tenant(&mut tx).await?.tier_names();
        for p in &mut h.items {
            if let Some(reasons) = p.reasons.as_array_mut() {
                for r in reasons {
                    if let Some(params) = r.get_mut("reason_params") {
                        patron_core::reasons::name_tiers(params, &names);
                    }
                }
            }
        }
        tx.commit().await?;
        Ok(Json(h.into()))
    }

    /// One purchase.
    #[oai(path = "/purchases/:id", method = "get", operation_id = "getPurchase")]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<PurchaseView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let p = app::purchase(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }
}
