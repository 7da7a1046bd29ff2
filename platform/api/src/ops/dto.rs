//! The operator console's request and response bodies.

use crate::edge::account_views::TenantView;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::ops;
use patron_db::operators::{Operator, SupportSession};
use poem_openapi::Object;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct OperatorLogin {
    #[oai(validator(max_length = 254))]
    pub email: String,
    #[oai(validator(max_length = 1024))]
    pub password: String,
    /// The code from the authenticator app (or a recovery code), when the operator has
    /// two-factor on.
    #[oai(validator(max_length = 40))]
    pub code: Option<String>,
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

/// The operators' dashboard. Accounts are counted as they are now; members and purchases are
/// sums of each business's figures, which a background job takes every few minutes (see
/// `as_of` and `not_counted`).
#[derive(Debug, Object)]
pub struct PlatformTotals {
    pub tenants: Vec<TenantCount>,
    /// Members (not erased) of the businesses counted so far.
    pub members: i64,
    /// Purchases per UTC day, from 30 days ago to today, of the businesses counted so far;
    /// days without purchases are left out.
    pub purchases_per_day: Vec<DayCount>,
    /// When the stalest of the counted businesses' figures were taken: members and purchases
    /// are at least this fresh. Absent while no business has been counted.
    pub as_of: Option<DateTime<Utc>>,
    /// Businesses (with their data, closed ones too) not counted yet, such as those that
    /// signed up in the last minute: their members and purchases are not in the sums.
    pub not_counted: i64,
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

impl From<PlanInput> for ops::PlanInput {
    fn from(i: PlanInput) -> Self {
        Self {
            name: i.name,
            monthly_price_minor: i.monthly_price_minor,
            currency: i.currency,
            features: i.features,
            limits: i.limits,
            overage_minor: i.overage_minor,
            trial_days: i.trial_days,
            archived: i.archived,
        }
    }
}
