//! The operator API (`/ops/...`): platform staff run plans and accounts here. Operator
//! tokens (`pop_...`) work only here, and tenant tokens never do. Operators read a tenant's
//! own data only through a support session: explicit, time-limited and audited.

use crate::edge::account_views::{
    change_plan, plan_report, InvoiceView, MyPlan, PlanView, TenantView,
};
use crate::edge::auth::verify_password;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_app::lifecycle;
use patron_core::auth::{issue_token, parse_token, LoginThrottle, TokenKind};
use patron_core::plans::{parse_plan_code, Feature, Limit, Plan, SuspendReason};
use patron_core::tenants::TenantStatus;
use patron_core::Validation;
use patron_db::operators::{self, Operator, SupportSession};
use patron_db::plans::{self as db_plans, StatusChange};
use patron_db::{billing, tenants, DbError};
use poem_openapi::auth::Bearer;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme, Tags};
use std::collections::{BTreeMap, BTreeSet};
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

/// How long an operator login lasts.
fn operator_session_ttl() -> Duration {
    Duration::hours(8)
}

/// The longest support session an operator can open.
const MAX_SUPPORT_MINUTES: i64 = 240;

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OperatorLogin {
    #[oai(validator(max_length = 254))]
    pub email: String,
    #[oai(validator(max_length = 1024))]
    pub password: String,
}

#[derive(Debug, Object)]
pub struct OperatorView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

impl From<Operator> for OperatorView {
    fn from(o: Operator) -> Self {
        Self {
            id: o.id,
            email: o.email,
            name: o.name,
        }
    }
}

#[derive(Debug, Object)]
pub struct OperatorSessionView {
    /// Send as `Authorization: Bearer <token>` to `/ops/...` endpoints.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub operator: OperatorView,
}

/// A plan as an operator writes it.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct PlanInput {
    /// Only on create; the code of an existing plan never changes.
    #[oai(validator(max_length = 40))]
    pub code: Option<String>,
    #[oai(validator(max_length = 100))]
    pub name: String,
    pub monthly_price_minor: i64,
    #[oai(validator(max_length = 3))]
    pub currency: String,
    pub features: Vec<String>,
    /// Limit name -> allowed amount. A limit left out is unlimited.
    pub limits: BTreeMap<String, i64>,
    /// Monthly limit name -> price per unit beyond it (billed instead of refused).
    #[oai(default)]
    pub overage_minor: BTreeMap<String, i64>,
    #[oai(default = "default_trial_days")]
    pub trial_days: i32,
    #[oai(default)]
    pub archived: bool,
}

fn default_trial_days() -> i32 {
    14
}

/// One account in the operators' list.
#[derive(Debug, Object)]
pub struct TenantSummary {
    pub tenant: TenantView,
    /// trial, active, past_due, suspended or closed; with the reason for a suspension.
    #[oai(skip_serializing_if_is_none)]
    pub suspended_reason: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub status_note: Option<String>,
    pub period_end: Option<DateTime<Utc>>,
    pub purge_after: Option<DateTime<Utc>>,
    pub purged: bool,
    /// Standing counts (members, staff...); empty for a purged account.
    pub usage: BTreeMap<String, i64>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SetPlan {
    #[oai(validator(max_length = 40))]
    pub plan: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct StatusNote {
    /// Shown to the tenant's staff and kept in the audit logs.
    #[oai(validator(max_length = 1000))]
    pub reason: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ExtendTrial {
    /// Days to add to the trial (1-90).
    pub days: i32,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OpenSupport {
    /// Why the operator needs to see the tenant's data (kept in both audit logs).
    #[oai(validator(min_length = 5, max_length = 1000))]
    pub reason: String,
    /// How long the session lasts, 1-240 minutes.
    pub minutes: i64,
}

#[derive(Debug, Object)]
pub struct SupportSessionView {
    pub id: Uuid,
    pub tenant_id: i64,
    pub operator_email: String,
    pub reason: String,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl From<SupportSession> for SupportSessionView {
    fn from(s: SupportSession) -> Self {
        Self {
            id: s.id,
            tenant_id: s.tenant_id,
            operator_email: s.operator_email,
            reason: s.reason,
            started_at: s.started_at,
            expires_at: s.expires_at,
            ended_at: s.ended_at,
        }
    }
}

/// A new support session: `token` is shown this once.
#[derive(Debug, Object)]
pub struct OpenedSupport {
    /// Send as `Authorization: Bearer <token>` to the tenant's own endpoints: GET requests
    /// only, each one written to the tenant's audit log.
    pub token: String,
    #[oai(flatten)]
    pub session: SupportSessionView,
}

#[derive(Debug, Object)]
pub struct TenantCount {
    pub plan: String,
    pub status: String,
    pub tenants: i64,
}

#[derive(Debug, Object)]
pub struct DayCount {
    pub day: NaiveDate,
    pub count: i64,
}

#[derive(Debug, Object)]
pub struct PlatformTotals {
    pub tenants: Vec<TenantCount>,
    pub members: i64,
    pub purchases_per_day: Vec<DayCount>,
}

#[derive(Debug, Object)]
pub struct PlatformAuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub tenant_id: Option<i64>,
    pub detail: serde_json::Value,
}

#[derive(ApiResponse)]
enum Created<T: poem_openapi::types::ToJSON + Send + Sync> {
    /// Returned when it was created.
    #[oai(status = 201)]
    Created(Json<T>),
}

pub struct OpsApi {
    pub state: ApiState,
}

fn bad_token() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "the operator credentials are missing, malformed, expired or revoked",
    )
}

impl OpsApi {
    async fn operator(
        &self,
        token: &OperatorToken,
    ) -> Result<operators::OperatorSession, ApiError> {
        let presented =
            parse_token(TokenKind::OperatorSession, &token.0.token).ok_or_else(bad_token)?;
        if presented.tenant_id != 0 {
            return Err(bad_token());
        }
        operators::authenticate(&self.state.db, &presented.hash, self.state.now())
            .await?
            .ok_or_else(bad_token)
    }

    async fn tenant(&self, id: i64) -> Result<patron_db::Tenant, ApiError> {
        tenants::find_by_id(&self.state.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("tenant"))
    }

    async fn summary(&self, t: patron_db::Tenant) -> Result<TenantSummary, ApiError> {
        let mut usage = BTreeMap::new();
        if t.purged_at.is_none() {
            let mut tx = self.state.db.tenant_tx(&t).await?;
            for limit in [
                Limit::Members,
                Limit::Staff,
                Limit::Stores,
                Limit::ActiveRules,
            ] {
                usage.insert(
                    limit.as_str().to_owned(),
                    db_plans::standing_count(&mut tx, limit).await?,
                );
            }
            tx.commit().await?;
        }
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

fn actor(op: &operators::OperatorSession) -> String {
    format!("operator:{}", op.operator.email)
}

/// Checks an operator's plan definition, every bad field at once.
fn parse_plan(code: String, input: PlanInput) -> Result<Plan, ApiError> {
    let mut v = Validation::new();
    v.check("code", parse_plan_code(&code));
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        v.check::<()>("name", Err("must not be empty".into()));
    }
    if input.monthly_price_minor < 0 {
        v.check::<()>("monthly_price_minor", Err("must not be negative".into()));
    }
    v.check(
        "currency",
        patron_core::tenants::parse_currency(&input.currency),
    );
    if !(0..=365).contains(&input.trial_days) {
        v.check::<()>("trial_days", Err("must be between 0 and 365".into()));
    }
    let mut features = BTreeSet::new();
    for (i, f) in input.features.iter().enumerate() {
        if let Some(f) = v.check(&format!("features.{i}"), Feature::parse(f)) {
            features.insert(f);
        }
    }
    let mut limits = BTreeMap::new();
    for (k, n) in &input.limits {
        if let Some(l) = v.check(&format!("limits.{k}"), Limit::parse(k)) {
            if *n < 0 {
                v.check::<()>(&format!("limits.{k}"), Err("must not be negative".into()));
            }
            limits.insert(l, *n);
        }
    }
    let mut overage = BTreeMap::new();
    for (k, n) in &input.overage_minor {
        let field = format!("overage_minor.{k}");
        if let Some(l) = v.check(&field, Limit::parse(k)) {
            if !l.is_monthly() {
                v.check::<()>(
                    &field,
                    Err("only monthly limits can be billed as overage".into()),
                );
            } else if !limits.contains_key(&l) {
                v.check::<()>(&field, Err("set the limit itself first".into()));
            } else if *n <= 0 {
                v.check::<()>(&field, Err("must be a positive price".into()));
            }
            overage.insert(l, *n);
        }
    }
    v.finish().map_err(ApiError::invalid)?;
    Ok(Plan {
        code,
        name,
        monthly_price_minor: input.monthly_price_minor,
        currency: input.currency.trim().to_uppercase(),
        features,
        limits,
        overage_minor: overage,
        trial_days: input.trial_days,
        archived: input.archived,
    })
}

#[OpenApi(prefix_path = "/ops", tag = "Tag::Operators")]
impl OpsApi {
    /// Operator login.
    #[oai(path = "/login", method = "post", operation_id = "operatorLogin")]
    async fn login(&self, req: Json<OperatorLogin>) -> Result<Json<OperatorSessionView>, ApiError> {
        let now = self.state.now();
        let creds = operators::credentials(&self.state.db, req.0.email.trim()).await?;
        let Some(creds) = creds else {
            // Same work as a real check, so timing does not reveal which e-mails exist.
            let _ = verify_password(
                req.0.password,
                patron_core::auth::dummy_password_hash().into(),
            )
            .await;
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "e-mail or password is wrong",
            ));
        };
        if let Some(until) = creds.locked_until.filter(|u| *u > now) {
            return Err(ApiError::too_many(
                "locked",
                "too many failed logins; try again later",
                (until - now).num_seconds().max(1) as u64,
            ));
        }
        let good = verify_password(req.0.password, creds.password_hash.clone()).await?;
        if !good || creds.disabled_at.is_some() {
            let failures = creds.failed_logins + 1;
            let lock = LoginThrottle::lock_for(failures).map(|d| now + d);
            operators::login_failed(&self.state.db, creds.id, lock).await?;
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "e-mail or password is wrong",
            ));
        }
        let issued = issue_token(TokenKind::OperatorSession, 0);
        let expires_at = now + operator_session_ttl();
        operators::start_session(&self.state.db, creds.id, &issued.hash, now, expires_at).await?;
        Ok(Json(OperatorSessionView {
            token: issued.text,
            expires_at,
            operator: OperatorView {
                id: creds.id,
                email: creds.email,
                name: creds.name,
            },
        }))
    }

    /// End this operator session.
    #[oai(path = "/logout", method = "post", operation_id = "operatorLogout")]
    async fn logout(&self, auth: OperatorToken) -> Result<Json<OperatorView>, ApiError> {
        let op = self.operator(&auth).await?;
        operators::end_session(&self.state.db, op.session_id, self.state.now()).await?;
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
        let plan = parse_plan(code, req.0)?;
        let created = db_plans::create(&self.state.db, &plan).await.map_err(|e| {
            if e.is_conflict_on("plans_pkey") {
                ApiError::conflict("plan_exists", Some("code"), "a plan with this code exists")
            } else {
                e.into()
            }
        })?;
        self.plan_changed(&op, "plan.created", &created).await?;
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
            return Err(ApiError::invalid_field(
                "code",
                "a plan's code cannot change",
            ));
        }
        let plan = parse_plan(code.0, req.0)?;
        let updated = db_plans::update(&self.state.db, &plan)
            .await
            .map_err(|e| match e {
                DbError::NotFound => ApiError::not_found("plan"),
                other => other.into(),
            })?;
        self.plan_changed(&op, "plan.updated", &updated).await?;
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
        if let Some(s) = status.0.as_deref() {
            if TenantStatus::parse(s).is_none() {
                return Err(ApiError::invalid_field(
                    "status",
                    "one of trial, active, past_due, suspended, closed",
                ));
            }
        }
        let limit = limit.0.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid_field("limit", "between 1 and 200"));
        }
        let found = tenants::search(
            &self.state.db,
            q.0.as_deref().map(str::trim).filter(|q| !q.is_empty()),
            plan.0.as_deref(),
            status.0.as_deref(),
            after.0,
            limit,
        )
        .await?;
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
        let t = self.tenant(id.0).await?;
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
        let t = self.tenant(id.0).await?;
        if t.purged_at.is_some() {
            return Err(ApiError::conflict(
                "tenant_purged",
                None,
                "this account's data is deleted",
            ));
        }
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
        let reason = req.0.reason.trim().to_owned();
        if reason.is_empty() {
            return Err(ApiError::invalid_field("reason", "say why"));
        }
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
        if !(1..=MAX_SUPPORT_MINUTES).contains(&req.0.minutes) {
            return Err(ApiError::invalid_field(
                "minutes",
                format!("between 1 and {MAX_SUPPORT_MINUTES}"),
            ));
        }
        let t = self.tenant(id.0).await?;
        if t.purged_at.is_some() {
            return Err(ApiError::conflict(
                "tenant_purged",
                None,
                "this account's data is deleted",
            ));
        }
        let now = self.state.now();
        let issued = issue_token(TokenKind::SupportSession, t.id);
        let expires_at = now + Duration::minutes(req.0.minutes);
        // The tenant's transaction reaches the platform tables too: the session and both
        // audit entries commit together.
        let mut tx = self.state.db.tenant_tx(&t).await?;
        let session = operators::start_support(
            &mut tx,
            op.operator.id,
            t.id,
            req.0.reason.trim(),
            &issued.hash,
            now,
            expires_at,
        )
        .await?;
        let detail = serde_json::json!({
            "session": session.id, "operator": op.operator.email,
            "reason": session.reason, "expires_at": expires_at,
        });
        patron_db::audit::record(
            &mut tx,
            now,
            &actor(&op),
            "support.opened",
            "",
            detail.clone(),
        )
        .await?;
        db_plans::record_platform_audit(
            &mut tx,
            now,
            &actor(&op),
            "support.opened",
            Some(t.id),
            detail,
        )
        .await?;
        tx.commit().await?;
        Ok(Created::Created(Json(OpenedSupport {
            token: issued.text,
            session: session.into(),
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
        let now = self.state.now();
        let mut tx = self.state.db.platform_tx().await?;
        let s = operators::end_support(&mut tx, id.0, op.operator.id, now)
            .await
            .map_err(|e| match e {
                DbError::NotFound => ApiError::not_found("open support session of yours"),
                other => other.into(),
            })?;
        db_plans::record_platform_audit(
            &mut tx,
            now,
            &actor(&op),
            "support.ended",
            Some(s.tenant_id),
            serde_json::json!({ "session": s.id }),
        )
        .await?;
        tx.commit().await?;
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
        let list = operators::list_support(&self.state.db, tenant.0).await?;
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
        let list = billing::list(&self.state.db, tenant.0).await?;
        Ok(Json(list.into_iter().map(InvoiceView::from).collect()))
    }

    /// Platform totals: accounts by plan and status, members, purchases per day (30 days).
    #[oai(path = "/totals", method = "get", operation_id = "opsTotals")]
    async fn totals(&self, auth: OperatorToken) -> Result<Json<PlatformTotals>, ApiError> {
        self.operator(&auth).await?;
        let t = operators::totals(&self.state.db, self.state.now()).await?;
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
        let list = db_plans::platform_audit(&self.state.db, tenant.0, 200).await?;
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

impl OpsApi {
    async fn plan_changed(
        &self,
        op: &operators::OperatorSession,
        action: &str,
        plan: &Plan,
    ) -> Result<(), ApiError> {
        let mut tx = self.state.db.platform_tx().await?;
        db_plans::record_platform_audit(
            &mut tx,
            self.state.now(),
            &actor(op),
            action,
            None,
            serde_json::json!({ "plan": plan.code }),
        )
        .await?;
        tx.commit().await?;
        db_plans::notify_plans_changed(&self.state.db).await?;
        self.state.forget_plans().await;
        Ok(())
    }
}
