//! Views of the account side shared by several capabilities: a tenant, a staff account and a
//! new login (signup, session, settings, staff, plans, the operator console), and a plan,
//! its usage and invoices (the tenant's plan page and the operator console).

use crate::edge::error::{ApiError, FieldProblem, Problem};
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::lifecycle::DowngradeRefused;
use patron_app::plans::{usage_lines, Usage};
use patron_app::session::NewSession;
use patron_core::plans::{self, Feature, Limit, Plan};
use patron_db::billing::Invoice;
use patron_db::staff::Staff;
use patron_db::Tenant;
use poem_openapi::payload::Json;
use poem_openapi::Object;
use uuid::Uuid;

/// A tenant as its staff see it.
#[derive(Debug, Clone, Object)]
pub struct TenantView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// trial, active, past_due, suspended or closed.
    pub status: String,
    pub plan: String,
    /// When the trial ends, for accounts on trial.
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub time_zone: String,
    pub currency: String,
    pub locale: String,
    pub phone_region: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Tenant> for TenantView {
    fn from(t: &Tenant) -> Self {
        Self {
            id: t.id,
            slug: t.slug.clone(),
            name: t.name.clone(),
            status: t.status.as_str().into(),
            plan: t.plan_code.clone(),
            trial_ends_at: t.trial_ends_at,
            time_zone: t.settings.time_zone.clone(),
            currency: t.settings.currency.clone(),
            locale: t.settings.locale.clone(),
            phone_region: t.settings.phone_region.clone(),
            created_at: t.created_at,
        }
    }
}

/// A staff account.
#[derive(Debug, Clone, Object)]
pub struct StaffView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// active or disabled.
    pub status: String,
    pub roles: Vec<String>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl StaffView {
    pub fn new(s: Staff, roles: Vec<String>) -> Self {
        Self {
            id: s.id,
            email: s.email,
            name: s.name,
            status: s.status,
            roles,
            last_login_at: s.last_login_at,
            created_at: s.created_at,
        }
    }
}

/// A new login: the token is shown only here.
#[derive(Debug, Object)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub staff: StaffView,
    /// The business asks owners to use two-factor codes and this owner has none: enrol
    /// (`POST /auth/2fa/enrol`) before anything else.
    pub two_factor_setup_required: bool,
}

impl From<NewSession> for SessionView {
    fn from(s: NewSession) -> Self {
        Self {
            token: s.token,
            expires_at: s.expires_at,
            two_factor_setup_required: s.two_factor_setup_required,
            staff: StaffView::new(s.staff, s.roles),
        }
    }
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

impl MyPlan {
    pub fn new(tenant: &Tenant, plan: &Plan, usage: &Usage) -> Self {
        let (lines, warnings) = usage_lines(plan, &usage.limits);
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
            usage: lines
                .into_iter()
                .map(|l| UsageView {
                    limit: l.limit.as_str().into(),
                    usage: l.usage,
                    allowed: l.allowed,
                    warning: l.warning.map(|w| match w {
                        plans::Warning::Near => "near".to_owned(),
                        plans::Warning::Reached => "reached".to_owned(),
                    }),
                })
                .collect(),
            api_requests_this_month: usage.api_requests(),
            warnings,
            period_start: tenant.period_start,
            period_end: tenant.period_end,
        }
    }
}

/// The plan page of `tenant`: its plan, usage against every limit and warnings. `tx` is a
/// transaction on the tenant (ended here); without one (a purged account) there is no usage.
pub async fn plan_report(
    state: &ApiState,
    tenant: &Tenant,
    plan: &Plan,
    tx: Option<patron_db::TenantTx>,
) -> Result<MyPlan, ApiError> {
    let usage = patron_app::plans::usage(&state.db, &state.rate, tenant, tx, state.now()).await?;
    Ok(MyPlan::new(tenant, plan, &usage))
}

/// Moves `tenant` to the plan `target_code` (for the tenant itself and for operators): a
/// downgrade its usage does not fit is 409 `downgrade_over_limits`, one field per limit over.
pub async fn change_plan(
    state: &ApiState,
    tenant: &Tenant,
    target_code: &str,
    actor: &str,
) -> Result<Tenant, ApiError> {
    let changed = patron_app::lifecycle::change_plan(
        &state.db,
        &state.plans,
        tenant,
        target_code,
        actor,
        state.now(),
    )
    .await?;
    match changed {
        Ok(updated) => {
            state.forget_tenant(tenant.id).await;
            Ok(updated)
        }
        Err(refused) => Err(ApiError::Conflict(Json(Problem {
            code: DowngradeRefused::CODE.into(),
            message: refused.message(),
            fields: refused
                .fields()
                .into_iter()
                .map(|(field, problem)| {
                    FieldProblem::blamed(&field, DowngradeRefused::CODE, problem)
                })
                .collect(),
            params: None,
        }))),
    }
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
