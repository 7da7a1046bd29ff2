//! The tenant's side of plans: the catalogue, its own plan with usage and warnings, changing
//! plan, invoices, and closing the account.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::{read_only_safe, API_REQUESTS_METRIC};
use crate::edge::state::ApiState;
use crate::session::TenantView;
use chrono::{DateTime, Utc};
use patron_core::access::{BuiltinRole, Permission};
use patron_core::plans::{self, Feature, Limit, Plan};
use patron_core::tenants::TenantStatus;
use patron_db::billing::{self, Invoice};
use patron_db::plans::{self as db_plans, StatusChange};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

#[derive(Tags)]
enum Tag {
    /// Plans, usage, invoices and the account's lifecycle.
    Plan,
}

/// One limit of a plan.
#[derive(Debug, Object)]
pub struct LimitView {
    pub limit: String,
    pub description: String,
    /// `null` for unlimited.
    pub allowed: Option<i64>,
    /// Price per unit beyond the limit, when the plan bills overage instead of refusing.
    #[oai(skip_serializing_if_is_none)]
    pub overage_minor: Option<i64>,
}

#[derive(Debug, Object)]
pub struct FeatureView {
    pub feature: String,
    pub description: String,
}

/// A plan as offered.
#[derive(Debug, Object)]
pub struct PlanView {
    pub code: String,
    pub name: String,
    pub monthly_price_minor: i64,
    pub currency: String,
    pub features: Vec<String>,
    pub limits: Vec<LimitView>,
    pub trial_days: i32,
    pub archived: bool,
}

impl From<&Plan> for PlanView {
    fn from(p: &Plan) -> Self {
        Self {
            code: p.code.clone(),
            name: p.name.clone(),
            monthly_price_minor: p.monthly_price_minor,
            currency: p.currency.clone(),
            features: p.features.iter().map(|f| f.as_str().to_owned()).collect(),
            limits: Limit::ALL
                .iter()
                .map(|l| LimitView {
                    limit: l.as_str().into(),
                    description: l.description().into(),
                    allowed: p.limit(*l),
                    overage_minor: p.overage_minor.get(l).copied(),
                })
                .collect(),
            trial_days: p.trial_days,
            archived: p.archived,
        }
    }
}

/// Usage of one limit.
#[derive(Debug, Object)]
pub struct UsageView {
    pub limit: String,
    pub usage: i64,
    /// `null` for unlimited.
    pub allowed: Option<i64>,
    /// `near` at 80%, `reached` at 100%.
    #[oai(skip_serializing_if_is_none)]
    pub warning: Option<String>,
}

/// The account's plan, what it allows and what is used.
#[derive(Debug, Object)]
pub struct MyPlan {
    pub tenant: TenantView,
    pub plan: PlanView,
    /// Every feature and whether the plan has it.
    pub features: Vec<FeatureStatus>,
    pub usage: Vec<UsageView>,
    /// API requests so far this month (not limited per month; the plan limits per minute).
    pub api_requests_this_month: i64,
    /// One line per limit at or past 80%.
    pub warnings: Vec<String>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Object)]
pub struct FeatureStatus {
    pub feature: String,
    pub description: String,
    pub included: bool,
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

#[derive(Debug, Object)]
pub struct InvoiceLineView {
    pub description: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
}

#[derive(Debug, Object)]
pub struct InvoiceView {
    pub id: uuid::Uuid,
    pub tenant_id: i64,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub plan: String,
    pub currency: String,
    pub lines: Vec<InvoiceLineView>,
    pub total_minor: i64,
    /// open, paid or void.
    pub status: String,
    pub issued_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<Invoice> for InvoiceView {
    fn from(i: Invoice) -> Self {
        Self {
            id: i.id,
            tenant_id: i.tenant_id,
            period_start: i.period_start,
            period_end: i.period_end,
            plan: i.plan_code,
            currency: i.currency,
            lines: i
                .lines
                .0
                .into_iter()
                .map(|l| InvoiceLineView {
                    description: l.description,
                    quantity: l.quantity,
                    unit_price_minor: l.unit_price_minor,
                    amount_minor: l.amount_minor,
                })
                .collect(),
            total_minor: i.total_minor,
            status: i.status,
            issued_at: i.issued_at,
            due_at: i.due_at,
            paid_at: i.paid_at,
        }
    }
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
        let updated = self
            .state
            .change_plan(&me.tenant, &req.0.plan, &me.subject())
            .await?;
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
        let list = billing::list(&self.state.db, Some(me.tenant.id)).await?;
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
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let (staff_id, _) = me.staff()?;
        let roles =
            patron_db::access::roles_of(&mut tx, &patron_db::access::staff_subject(staff_id))
                .await?;
        tx.commit().await?;
        if !roles.iter().any(|r| r == BuiltinRole::Owner.name()) {
            return Err(ApiError::forbidden(
                "owner_only",
                "only an owner can close the account",
            ));
        }
        if req.0.confirm_slug != me.tenant.slug {
            return Err(ApiError::invalid_field(
                "confirm_slug",
                "type the account's slug exactly to confirm",
            ));
        }
        let updated = self
            .state
            .move_tenant(
                me.tenant.id,
                TenantStatus::Closed,
                StatusChange {
                    note: req.0.reason.clone(),
                    ..Default::default()
                },
                &me.subject(),
                serde_json::json!({ "reason": req.0.reason }),
            )
            .await?;
        Ok(Json(TenantView::from(&updated)))
    }
}

/// The plan page of `tenant`: its plan, usage against every limit and warnings. `tx` is a
/// transaction on the tenant (ended here); without one (a purged account) there is no usage.
pub async fn plan_report(
    state: &ApiState,
    tenant: &patron_db::Tenant,
    plan: &Plan,
    tx: Option<patron_db::TenantTx>,
) -> Result<MyPlan, ApiError> {
    // The tenant's own counts first, so its connection is back before the platform's are read.
    let mut usage = match tx {
        Some(mut tx) => {
            let usage = db_plans::standing_usage(&mut tx).await?;
            tx.commit().await?;
            Some(usage)
        }
        None => None,
    };
    let now = state.now();
    // Count this process's requests in before reading the month's counters.
    state.rate.flush(&state.db, now).await?;
    let monthly = db_plans::monthly_usage(&state.db, tenant.id, now).await?;
    if let Some(usage) = usage.as_mut() {
        for limit in Limit::ALL.iter().filter(|l| l.is_monthly()) {
            usage.insert(*limit, monthly.get(limit.as_str()).copied().unwrap_or(0));
        }
    }
    Ok(my_plan(tenant, plan, &usage.unwrap_or_default(), &monthly))
}

fn my_plan(
    tenant: &patron_db::Tenant,
    plan: &Plan,
    usage: &std::collections::BTreeMap<Limit, i64>,
    monthly: &std::collections::BTreeMap<String, i64>,
) -> MyPlan {
    let mut warnings = Vec::new();
    let usage_views = usage
        .iter()
        .map(|(limit, used)| {
            let allowed = plan.limit(*limit);
            let warning = plans::warning(*used, allowed);
            if let (Some(w), Some(cap)) = (warning, allowed) {
                warnings.push(match w {
                    plans::Warning::Near => {
                        format!("{limit}: {used} of {cap} used (80% or more)")
                    }
                    plans::Warning::Reached => {
                        format!("{limit}: {used} of {cap} used (limit reached)")
                    }
                });
            }
            UsageView {
                limit: limit.as_str().into(),
                usage: *used,
                allowed,
                warning: warning.map(|w| match w {
                    plans::Warning::Near => "near".to_owned(),
                    plans::Warning::Reached => "reached".to_owned(),
                }),
            }
        })
        .collect();
    MyPlan {
        tenant: TenantView::from(tenant),
        plan: PlanView::from(plan),
        features: Feature::ALL
            .iter()
            .map(|f| FeatureStatus {
                feature: f.as_str().into(),
                description: f.description().into(),
                included: plan.has(*f),
            })
            .collect(),
        usage: usage_views,
        api_requests_this_month: monthly.get(API_REQUESTS_METRIC).copied().unwrap_or(0),
        warnings,
        period_start: tenant.period_start,
        period_end: tenant.period_end,
    }
}
