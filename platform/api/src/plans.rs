//! The tenant's side of plans: the catalogue, its own plan with usage and warnings, changing
//! plan, invoices, and closing the account.

use crate::edge::account_views::{
    change_plan, plan_report, InvoiceView, MyPlan, PlanView, TenantView,
};
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::read_only_safe;
use crate::edge::state::ApiState;
use patron_app::lifecycle;
use patron_core::access::Permission;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

#[derive(Tags)]
enum Tag {
    /// Plans, usage, invoices and the account's lifecycle.
    Plan,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PlanChange {
    /// The code of the plan to move to.
    #[oai(validator(max_length = 40))]
    pub plan: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct CloseAccount {
    /// Type the account's slug to confirm.
    #[oai(validator(max_length = 63))]
    pub confirm_slug: String,
    #[oai(validator(max_length = 1000))]
    pub reason: Option<String>,
}

pub struct PlansApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Plan")]
impl PlansApi {
    /// The plans on offer (no login needed).
    #[oai(path = "/plans", method = "get", operation_id = "listPlans")]
    async fn catalogue(&self) -> Result<Json<Vec<PlanView>>, ApiError> {
        let plans = self.state.plans().await?;
        Ok(Json(
            plans
                .iter()
                .filter(|p| !p.archived)
                .map(|p| PlanView::from(&**p))
                .collect(),
        ))
    }

    /// The account's plan: features, limits, usage and warnings at 80% and 100%.
    #[oai(path = "/plan", method = "get", operation_id = "getMyPlan")]
    async fn mine(&self, auth: TenantAuth) -> Result<Json<MyPlan>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        Ok(Json(
            plan_report(&self.state, &me.tenant, &me.plan, Some(tx)).await?,
        ))
    }

    /// Move to another plan. Upgrades apply at once; a downgrade the account's usage does not
    /// fit is refused (409 `downgrade_over_limits`) with everything that is over.
    #[oai(path = "/plan", method = "post", operation_id = "changeMyPlan")]
    async fn change(
        &self,
        auth: TenantAuth,
        req: Json<PlanChange>,
    ) -> Result<Json<TenantView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        // The change takes its own transaction (it locks the tenant row).
        tx.commit().await?;
        let updated = change_plan(&self.state, &me.tenant, &req.0.plan, &me.subject()).await?;
        Ok(Json(TenantView::from(&updated)))
    }

    /// The account's invoices, newest first.
    #[oai(path = "/invoices", method = "get", operation_id = "listMyInvoices")]
    async fn invoices(&self, auth: TenantAuth) -> Result<Json<Vec<InvoiceView>>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsRead))
            .await?;
        tx.commit().await?;
        let list = patron_app::billing::invoices(&self.state.db, Some(me.tenant.id)).await?;
        Ok(Json(list.into_iter().map(InvoiceView::from).collect()))
    }

    /// Close the account (owners only). Its data stays readable, and exportable, for 30 days;
    /// then it is deleted.
    #[oai(
        path = "/account/close",
        method = "post",
        operation_id = "closeAccount",
        transform = "read_only_safe"
    )]
    async fn close(
        &self,
        auth: TenantAuth,
        req: Json<CloseAccount>,
    ) -> Result<Json<TenantView>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let (staff_id, _) = me.staff()?;
        let updated = lifecycle::close_own_account(
            &self.state.db,
            tx,
            &me.tenant,
            staff_id,
            &req.0.confirm_slug,
            req.0.reason,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        self.state.forget_tenant(me.tenant.id).await;
        Ok(Json(TenantView::from(&updated)))
    }
}
