//! The operator API (`/ops/...`): platform staff run plans and accounts here. Operator
//! tokens (`pop_...`) work only here, and tenant tokens never do. Operators read a tenant's
//! own data only through a support session: explicit, time-limited and audited. The use
//! cases are `patron_app::ops`; the request and response bodies are in `dto`.

mod dto;

pub use dto::*;

use crate::edge::account_views::{
    change_plan, plan_report, InvoiceView, MyPlan, PlanView, TenantView,
};
use crate::edge::error::ApiError;
use crate::edge::security::views::{
    RecoveryCodes, RecoveryCodesRenewal, TwoFactorCode, TwoFactorEnrolment, TwoFactorOff,
    TwoFactorStatus,
};
use crate::edge::state::ApiState;
use patron_app::lifecycle;
use patron_app::ops::{self, actor};
use patron_app::security::Account;
use patron_core::plans::SuspendReason;
use patron_core::tenants::TenantStatus;
use patron_db::operators::OperatorSession;
use patron_db::plans::StatusChange;
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, SecurityScheme, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Platform operators: plans, accounts, support sessions.
    Operators,
}

/// An operator's login token from `POST /ops/login`, as `Authorization: Bearer pop_...`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque")]
pub struct OperatorToken(Bearer);

#[derive(ApiResponse)]
enum Created<T: poem_openapi::types::ToJSON + Send + Sync> {
    /// Returned when it was created.
    #[oai(status = 201)]
    Created(Json<T>),
}

pub struct OpsApi {
    pub state: ApiState,
}

impl OpsApi {
    async fn operator(&self, token: &OperatorToken) -> Result<OperatorSession, ApiError> {
        Ok(ops::authenticate(&self.state.db, &token.0.token, self.state.now()).await?)
    }

    async fn summary(&self, t: patron_db::Tenant) -> Result<TenantSummary, ApiError> {
        let usage = ops::standing_usage(&self.state.db, &t).await?;
        Ok(TenantSummary {
            tenant: TenantView::from(&t),
            suspended_reason: t.suspended_reason.map(|r| r.as_str().to_owned()),
            status_note: t.status_note.clone(),
            period_end: t.period_end,
            purge_after: t.purge_after,
            purged: t.purged_at.is_some(),
            usage,
        })
    }
}

#[OpenApi(prefix_path = "/ops", tag = "Tag::Operators")]
impl OpsApi {
    /// Operator login.
    #[oai(path = "/login", method = "post", operation_id = "operatorLogin")]
    async fn login(&self, req: Json<OperatorLogin>) -> Result<Json<OperatorSessionView>, ApiError> {
        let req = req.0;
        let login = ops::login(
            &self.state.db,
            &req.email,
            req.password,
            req.code.as_deref(),
            self.state.now(),
            &self.state.config.pii,
        )
        .await?;
        Ok(Json(OperatorSessionView {
            token: login.token,
            expires_at: login.expires_at,
            operator: login.operator.into(),
        }))
    }

    /// My two-factor state.
    #[oai(path = "/2fa", method = "get", operation_id = "opsTwoFactorStatus")]
    async fn two_factor_status(
        &self,
        auth: OperatorToken,
    ) -> Result<Json<TwoFactorStatus>, ApiError> {
        let op = self.operator(&auth).await?;
        let s = Account::Operator(&self.state.db, op.operator.id, &self.state.config.pii)
            .status()
            .await?;
        Ok(Json(s.into()))
    }

    /// Start two-factor enrolment: a new secret and its `otpauth://` URI (shown this once).
    #[oai(
        path = "/2fa/enrol",
        method = "post",
        operation_id = "opsEnrolTwoFactor"
    )]
    async fn two_factor_enrol(
        &self,
        auth: OperatorToken,
    ) -> Result<Json<TwoFactorEnrolment>, ApiError> {
        let op = self.operator(&auth).await?;
        let e = Account::Operator(&self.state.db, op.operator.id, &self.state.config.pii)
            .enrol("Patron operators", &op.operator.email)
            .await?;
        Ok(Json(e.into()))
    }

    /// Confirm the enrolment with a code: two-factor is on; the ten recovery codes are in
    /// the answer (shown this once).
    #[oai(
        path = "/2fa/confirm",
        method = "post",
        operation_id = "opsConfirmTwoFactor"
    )]
    async fn two_factor_confirm(
        &self,
        auth: OperatorToken,
        req: Json<TwoFactorCode>,
    ) -> Result<Json<RecoveryCodes>, ApiError> {
        let op = self.operator(&auth).await?;
        let codes = Account::Operator(&self.state.db, op.operator.id, &self.state.config.pii)
            .confirm(&req.0.code, self.state.now())
            .await?;
        Ok(Json(RecoveryCodes {
            recovery_codes: codes,
        }))
    }

    /// New recovery codes: the password and a current code from the app replace every
    /// recovery code with ten new ones (shown this once); the old ones stop working.
    #[oai(
        path = "/2fa/recovery-codes",
        method = "post",
        operation_id = "opsRenewRecoveryCodes"
    )]
    async fn renew_recovery_codes(
        &self,
        auth: OperatorToken,
        req: Json<RecoveryCodesRenewal>,
    ) -> Result<Json<RecoveryCodes>, ApiError> {
        let op = self.operator(&auth).await?;
        let hash = ops::password_hash(&self.state.db, op.operator.id).await?;
        let codes = Account::Operator(&self.state.db, op.operator.id, &self.state.config.pii)
            .renew_recovery_codes(req.0.password, hash, &req.0.code, self.state.now())
            .await?;
        Ok(Json(RecoveryCodes {
            recovery_codes: codes,
        }))
    }

    /// Turn two-factor off (the password and a code, or a recovery code).
    #[oai(
        path = "/2fa/disable",
        method = "post",
        operation_id = "opsDisableTwoFactor"
    )]
    async fn two_factor_disable(
        &self,
        auth: OperatorToken,
        req: Json<TwoFactorOff>,
    ) -> Result<Json<TwoFactorStatus>, ApiError> {
        let op = self.operator(&auth).await?;
        let hash = ops::password_hash(&self.state.db, op.operator.id).await?;
        let mut account = Account::Operator(&self.state.db, op.operator.id, &self.state.config.pii);
        account
            .disable(req.0.password, hash, &req.0.code, self.state.now())
            .await?;
        Ok(Json(account.status().await?.into()))
    }

    /// End this operator session.
    #[oai(path = "/logout", method = "post", operation_id = "operatorLogout")]
    async fn logout(&self, auth: OperatorToken) -> Result<Json<OperatorView>, ApiError> {
        let op = self.operator(&auth).await?;
        patron_app::ops::logout(&self.state.db, op.session_id, self.state.now()).await?;
        Ok(Json(op.operator.into()))
    }

    /// The operator logged in.
    #[oai(path = "/me", method = "get", operation_id = "operatorMe")]
    async fn me(&self, auth: OperatorToken) -> Result<Json<OperatorView>, ApiError> {
        Ok(Json(self.operator(&auth).await?.operator.into()))
    }

    /// Every plan, archived ones included.
    #[oai(path = "/plans", method = "get", operation_id = "opsListPlans")]
    async fn plans(&self, auth: OperatorToken) -> Result<Json<Vec<PlanView>>, ApiError> {
        self.operator(&auth).await?;
        let plans = self.state.plans().await?;
        Ok(Json(plans.iter().map(|p| PlanView::from(&**p)).collect()))
    }

    /// Create a plan.
    #[oai(path = "/plans", method = "post", operation_id = "opsCreatePlan")]
    async fn create_plan(
        &self,
        auth: OperatorToken,
        req: Json<PlanInput>,
    ) -> Result<Created<PlanView>, ApiError> {
        let op = self.operator(&auth).await?;
        let code = req.0.code.clone().unwrap_or_default();
        let plan = ops::parse_plan(code, req.0.into())?;
        let created = ops::create_plan(
            &self.state.db,
            &self.state.plans,
            &actor(&op),
            plan,
            self.state.now(),
        )
        .await?;
        Ok(Created::Created(Json(PlanView::from(&created))))
    }

    /// Change a plan. Accounts on it get the new features and limits at once.
    #[oai(path = "/plans/:code", method = "put", operation_id = "opsUpdatePlan")]
    async fn update_plan(
        &self,
        auth: OperatorToken,
        code: Path<String>,
        req: Json<PlanInput>,
    ) -> Result<Json<PlanView>, ApiError> {
        let op = self.operator(&auth).await?;
        if req.0.code.as_ref().is_some_and(|c| *c != code.0) {
            return Err(ApiError::field(
                "code",
                patron_core::Issue::new(
                    patron_core::FieldCode::NotAllowed,
                    "a plan's code cannot change",
                )
                .with("reason", "code_fixed"),
            ));
        }
        let plan = ops::parse_plan(code.0, req.0.into())?;
        let updated = ops::update_plan(
            &self.state.db,
            &self.state.plans,
            &actor(&op),
            plan,
            self.state.now(),
        )
        .await?;
        Ok(Json(PlanView::from(&updated)))
    }

    /// Accounts, searched by slug or name, filtered by plan and status, with their usage.
    #[oai(path = "/tenants", method = "get", operation_id = "opsListTenants")]
    async fn list_tenants(
        &self,
        auth: OperatorToken,
        q: Query<Option<String>>,
        plan: Query<Option<String>>,
        status: Query<Option<String>>,
        /// Keyset paging: the last id of the previous page.
        after: Query<Option<i64>>,
        /// 1-200, default 50.
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<TenantSummary>>, ApiError> {
        self.operator(&auth).await?;
        let search = ops::TenantSearch {
            q: q.0,
            plan: plan.0,
            status: status.0,
            after: after.0,
            limit: limit.0,
        };
        let found = ops::search_tenants(&self.state.db, search).await?;
        let mut out = Vec::with_capacity(found.len());
        for t in found {
            out.push(self.summary(t).await?);
        }
        Ok(Json(out))
    }

    /// One account with its plan, usage and warnings.
    #[oai(path = "/tenants/:id", method = "get", operation_id = "opsGetTenant")]
    async fn get_tenant(
        &self,
        auth: OperatorToken,
        id: Path<i64>,
    ) -> Result<Json<MyPlan>, ApiError> {
        self.operator(&auth).await?;
        let t = ops::tenant(&self.state.db, id.0).await?;
        let plan = self.state.plan_of(&t).await?;
        let tx = match t.purged_at {
            None => Some(self.state.db.tenant_tx(&t).await?),
            Some(_) => None,
        };
        Ok(Json(plan_report(&self.state, &t, &plan, tx).await?))
    }

    /// Move an account to another plan (a downgrade its usage does not fit is refused with
    /// the list of what is over).
    #[oai(
        path = "/tenants/:id/plan",
        method = "post",
        operation_id = "opsSetPlan"
    )]
    async fn set_plan(
        &self,
        auth: OperatorToken,
        id: Path<i64>,
        req: Json<SetPlan>,
    ) -> Result<Json<TenantSummary>, ApiError> {
        let op = self.operator(&auth).await?;
        let t = ops::tenant(&self.state.db, id.0).await?;
        ops::not_purged(&t)?;
        let updated = change_plan(&self.state, &t, &req.0.plan, &actor(&op)).await?;
        Ok(Json(self.summary(updated).await?))
    }

    /// Suspend an account: reads keep working, writes are refused (403 `tenant_suspended`).
    #[oai(
        path = "/tenants/:id/suspend",
        method = "post",
        operation_id = "opsSuspendTenant"
    )]
    async fn suspend(
        &self,
        auth: OperatorToken,
        id: Path<i64>,
        req: Json<StatusNote>,
    ) -> Result<Json<TenantSummary>, ApiError> {
        let op = self.operator(&auth).await?;
        let reason = ops::suspension_reason(&req.0.reason)?;
        let t = lifecycle::suspend(
            &self.state.db,
            id.0,
            SuspendReason::Operator,
            Some(reason),
            &actor(&op),
            self.state.now(),
        )
        .await?;
        self.state.forget_tenant(id.0).await;
        Ok(Json(self.summary(t).await?))
    }

    /// Resume a suspended account.
    #[oai(
        path = "/tenants/:id/resume",
        method = "post",
        operation_id = "opsResumeTenant"
    )]
    async fn resume(
        &self,
        auth: OperatorToken,
        id: Path<i64>,
    ) -> Result<Json<TenantSummary>, ApiError> {
        let op = self.operator(&auth).await?;
        let t = lifecycle::move_tenant(
            &self.state.db,
            id.0,
            TenantStatus::Active,
            StatusChange::default(),
            &actor(&op),
            serde_json::json!({}),
            self.state.now(),
        )
        .await?;
        self.state.forget_tenant(id.0).await;
        Ok(Json(self.summary(t).await?))
    }

    /// Extend an account's trial.
    #[oai(
        path = "/tenants/:id/extend-trial",
        method = "post",
        operation_id = "opsExtendTrial"
    )]
    async fn extend_trial(
        &self,
        auth: OperatorToken,
        id: Path<i64>,
        req: Json<ExtendTrial>,
    ) -> Result<Json<TenantSummary>, ApiError> {
        let op = self.operator(&auth).await?;
        let updated = lifecycle::extend_trial(
            &self.state.db,
            id.0,
            req.0.days,
            &actor(&op),
            self.state.now(),
        )
        .await?;
        self.state.forget_tenant(id.0).await;
        Ok(Json(self.summary(updated).await?))
    }

    /// Close an account: read-only for 30 days (so it can take its data), then deleted.
    #[oai(
        path = "/tenants/:id/close",
        method = "post",
        operation_id = "opsCloseTenant"
    )]
    async fn close(
        &self,
        auth: OperatorToken,
        id: Path<i64>,
        req: Json<StatusNote>,
    ) -> Result<Json<TenantSummary>, ApiError> {
        let op = self.operator(&auth).await?;
        let t = lifecycle::close(
            &self.state.db,
            id.0,
            Some(req.0.reason),
            &actor(&op),
            self.state.now(),
        )
        .await?;
        self.state.forget_tenant(id.0).await;
        Ok(Json(self.summary(t).await?))
    }

    /// Open a support session: a read-only token into one account's data, for at most four
    /// hours, recorded in the account's own audit log.
    #[oai(
        path = "/tenants/:id/support-sessions",
        method = "post",
        operation_id = "opsOpenSupport"
    )]
    async fn open_support(
        &self,
        auth: OperatorToken,
        id: Path<i64>,
        req: Json<OpenSupport>,
    ) -> Result<Created<OpenedSupport>, ApiError> {
        let op = self.operator(&auth).await?;
        let opened = ops::open_support(
            &self.state.db,
            &op,
            id.0,
            &req.0.reason,
            req.0.minutes,
            self.state.now(),
        )
        .await?;
        Ok(Created::Created(Json(OpenedSupport {
            token: opened.token,
            session: opened.session.into(),
        })))
    }

    /// End a support session before it expires.
    #[oai(
        path = "/support-sessions/:id",
        method = "delete",
        operation_id = "opsEndSupport"
    )]
    async fn end_support(
        &self,
        auth: OperatorToken,
        id: Path<Uuid>,
    ) -> Result<Json<SupportSessionView>, ApiError> {
        let op = self.operator(&auth).await?;
        let s = ops::end_support(&self.state.db, &op, id.0, self.state.now()).await?;
        Ok(Json(s.into()))
    }

    /// Support sessions, newest first.
    #[oai(
        path = "/support-sessions",
        method = "get",
        operation_id = "opsListSupport"
    )]
    async fn list_support(
        &self,
        auth: OperatorToken,
        tenant: Query<Option<i64>>,
    ) -> Result<Json<Vec<SupportSessionView>>, ApiError> {
        self.operator(&auth).await?;
        let list = patron_app::ops::support_sessions(&self.state.db, tenant.0).await?;
        Ok(Json(
            list.into_iter().map(SupportSessionView::from).collect(),
        ))
    }

    /// Invoices of every account, or of one.
    #[oai(path = "/invoices", method = "get", operation_id = "opsListInvoices")]
    async fn invoices(
        &self,
        auth: OperatorToken,
        tenant: Query<Option<i64>>,
    ) -> Result<Json<Vec<InvoiceView>>, ApiError> {
        self.operator(&auth).await?;
        let list = patron_app::billing::invoices(&self.state.db, tenant.0).await?;
        Ok(Json(list.into_iter().map(InvoiceView::from).collect()))
    }

    /// Platform totals: accounts by plan and status, members, purchases per day (30 days).
    /// Members and purchases come from figures a background job keeps for each business
    /// (refreshed every few minutes), so this reads in one statement however many businesses
    /// there are; `as_of` says how fresh they are and `not_counted` how many businesses are
    /// not in them yet.
    #[oai(path = "/totals", method = "get", operation_id = "opsTotals")]
    async fn totals(&self, auth: OperatorToken) -> Result<Json<PlatformTotals>, ApiError> {
        self.operator(&auth).await?;
        let t = patron_app::ops::totals(&self.state.db, self.state.now()).await?;
        Ok(Json(PlatformTotals {
            tenants: t
                .tenants
                .into_iter()
                .map(|(plan, status, tenants)| TenantCount {
                    plan,
                    status,
                    tenants,
                })
                .collect(),
            members: t.members,
            purchases_per_day: t
                .purchases_per_day
                .into_iter()
                .map(|(day, count)| DayCount { day, count })
                .collect(),
            as_of: t.as_of,
            not_counted: t.not_counted,
        }))
    }

    /// What operators and jobs did to accounts, newest first.
    #[oai(path = "/audit-log", method = "get", operation_id = "opsAuditLog")]
    async fn audit_log(
        &self,
        auth: OperatorToken,
        tenant: Query<Option<i64>>,
    ) -> Result<Json<Vec<PlatformAuditView>>, ApiError> {
        self.operator(&auth).await?;
        let list = patron_app::ops::audit_log(&self.state.db, tenant.0, 200).await?;
        Ok(Json(
            list.into_iter()
                .map(|e| PlatformAuditView {
                    id: e.id,
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    tenant_id: e.tenant_id,
                    detail: e.detail,
                })
                .collect(),
        ))
    }
}
