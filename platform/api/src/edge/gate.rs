//! Plan gates: what a route declares about itself, and the checks `authorize` runs with it.
//!
//! A route names the feature it needs next to its path, through poem-openapi's `transform`:
//!
//! ```ignore
//! #[oai(path = "/api-keys", method = "post", operation_id = "createApiKey", transform = "needs_api_keys")]
//! ```
//!
//! The transform tags the request; the credentials' checker copies the tag into the
//! presented credentials, and [`ApiState::authorize`] refuses with 402 when the tenant's plan
//! lacks the feature. Limits are checked where things are created, with
//! [`ApiState::check_limit`], under a per-tenant lock so the last free slot is taken once.

use crate::edge::auth::Principal;
use crate::edge::error::{ApiError, PlanProblem};
use crate::edge::state::ApiState;
use chrono::{DateTime, Timelike, Utc};
use patron_core::plans::{self, Feature, Limit, Plan};
use patron_db::{plans as db_plans, DbError, Tenant, TenantTx};
use poem::{Endpoint, EndpointExt, Request};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The feature a route declared.
#[derive(Debug, Clone, Copy)]
pub struct RequiredFeature(pub Feature);

/// A write that stays allowed while the account is read-only (logging out, changing one's
/// own password, paying).
#[derive(Debug, Clone, Copy)]
pub struct ReadOnlySafe;

/// How a request was made, as far as the gates care.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// GET, HEAD or OPTIONS.
    pub is_read: bool,
    pub read_only_safe: bool,
    pub feature: Option<Feature>,
    pub path: String,
}

impl CallContext {
    pub fn of(req: &Request) -> Self {
        use poem::http::Method;
        Self {
            is_read: matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS),
            read_only_safe: req.data::<ReadOnlySafe>().is_some(),
            feature: req.data::<RequiredFeature>().map(|f| f.0),
            path: req.original_uri().path().to_owned(),
        }
    }
}

macro_rules! feature_gates {
    ($( $name:ident => $feature:ident ),* $(,)?) => {
        $(
            #[doc = concat!("Route declaration: needs the plan feature `", stringify!($feature), "`.")]
            pub fn $name<E: Endpoint + 'static>(ep: E) -> impl Endpoint {
                ep.data(RequiredFeature(Feature::$feature))
            }
        )*

        /// Every gate, by name, for the docs.
        pub const GATES: &[(&str, Feature)] = &[$((stringify!($name), Feature::$feature),)*];
    };
}

feature_gates! {
    needs_custom_fields => CustomFields,
    needs_rule_scripts => RuleScripts,
    needs_tiers => Tiers,
    needs_coupons => Coupons,
    needs_events => Events,
    needs_sms => Sms,
    needs_email_campaigns => EmailCampaigns,
    needs_api_keys => ApiKeys,
    needs_webhooks => Webhooks,
    needs_exports => Exports,
    needs_multi_store => MultiStore,
    needs_reports_advanced => ReportsAdvanced,
}

/// Route declaration: this write stays allowed while the account is read-only.
pub fn read_only_safe<E: Endpoint + 'static>(ep: E) -> impl Endpoint {
    ep.data(ReadOnlySafe)
}

/// Route declaration for exports: they need the plan feature `exports`, and, being reads
/// sent as POST (the search is the body), stay allowed while the account is read-only.
pub fn export_read<E: Endpoint + 'static>(ep: E) -> impl Endpoint {
    ep.data(RequiredFeature(Feature::Exports))
        .data(ReadOnlySafe)
}

/// Requests per tenant per minute, counted in this process, plus the monthly total waiting
/// to be added to the metered usage.
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<i64, (i64, i64)>>,
    unmetered: Mutex<HashMap<i64, i64>>,
}

impl RateLimiter {
    /// Counts one request; `Err(seconds)` to wait when the tenant is over `per_minute`.
    pub fn hit(
        &self,
        tenant_id: i64,
        per_minute: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(), u64> {
        let minute = now.timestamp().div_euclid(60);
        {
            let mut windows = self.windows.lock().expect("rate limiter lock");
            let entry = windows.entry(tenant_id).or_insert((minute, 0));
            if entry.0 != minute {
                *entry = (minute, 0);
            }
            if let Some(cap) = per_minute {
                if entry.1 >= cap {
                    return Err(60 - u64::from(now.second()));
                }
            }
            entry.1 += 1;
            if windows.len() > 100_000 {
                windows.retain(|_, (m, _)| *m == minute);
            }
        }
        *self
            .unmetered
            .lock()
            .expect("meter lock")
            .entry(tenant_id)
            .or_default() += 1;
        Ok(())
    }

    /// Adds the counted requests to the monthly usage.
    pub async fn flush(&self, db: &patron_db::Db, now: DateTime<Utc>) -> Result<(), DbError> {
        let pending: Vec<(i64, i64)> = self.unmetered.lock().expect("meter lock").drain().collect();
        for (tenant, n) in pending {
            if let Err(e) = db_plans::meter(db, tenant, API_REQUESTS_METRIC, now, n).await {
                // Put them back for the next flush rather than lose them.
                *self
                    .unmetered
                    .lock()
                    .expect("meter lock")
                    .entry(tenant)
                    .or_default() += n;
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The monthly counter of API requests.
pub const API_REQUESTS_METRIC: &str = "api_requests";

pub(crate) fn plan_problem(code: &str, message: String, plan: &Plan) -> PlanProblem {
    PlanProblem {
        code: code.into(),
        message,
        plan: plan.code.clone(),
        feature: None,
        limit: None,
        allowed: None,
        usage: None,
        upgrade_to: None,
        plans: Vec::new(),
    }
}

impl ApiState {
    /// Every plan, from a short-lived cache.
    pub async fn plans(&self) -> Result<Arc<Vec<Arc<Plan>>>, ApiError> {
        let db = self.db.clone();
        self.plans
            .try_get_with((), async move {
                let list = db_plans::list(&db).await?;
                Ok::<_, DbError>(Arc::new(list.into_iter().map(Arc::new).collect()))
            })
            .await
            .map_err(|e| ApiError::internal(&*e))
    }

    /// Forgets the cached plans after an operator changed one.
    pub async fn forget_plans(&self) {
        self.plans.invalidate_all();
    }

    pub async fn plan_of(&self, tenant: &Tenant) -> Result<Arc<Plan>, ApiError> {
        let plans = self.plans().await?;
        // Shared with the cache: nothing is copied per request.
        let plan = plans
            .iter()
            .find(|p| p.code == tenant.plan_code)
            .cloned()
            .ok_or_else(|| {
                ApiError::internal(&DbError::Aborted(format!(
                    "tenant {} is on unknown plan {}",
                    tenant.id, tenant.plan_code
                )))
            })?;
        Ok(plan)
    }

    /// For member-facing writes (the portal): refuses while the account is read-only, and
    /// returns the plan for limit checks.
    pub async fn open_for_members(&self, tenant: &Tenant) -> Result<Arc<Plan>, ApiError> {
        if tenant.access() != patron_core::plans::Access::Full {
            return Err(ApiError::forbidden(
                "business_unavailable",
                "this business is not accepting changes here right now",
            ));
        }
        self.plan_of(tenant).await
    }

    /// Whether `adding` more of `limit`'s things fit `plan`, taking the tenant's limit lock
    /// for the rest of `tx`. For callers that answer a refusal in their own words (the member
    /// portal); staff endpoints use [`ApiState::check_limit`].
    pub async fn within_limit(
        &self,
        tx: &mut TenantTx,
        plan: &Plan,
        limit: Limit,
        adding: i64,
    ) -> Result<Result<(), plans::OverLimit>, ApiError> {
        let usage = db_plans::lock_and_count(tx, limit, self.now()).await?;
        Ok(plans::check_limit(plan, limit, usage, adding))
    }

    /// 429 when the tenant is over its plan's requests per minute.
    pub fn rate_limit(&self, principal: &Principal) -> Result<(), ApiError> {
        let per_minute = principal.plan.limit(Limit::ApiRequestsPerMinute);
        self.rate
            .hit(principal.tenant.id, per_minute, self.now())
            .map_err(|wait| {
                ApiError::too_many(
                    "rate_limited",
                    format!(
                        "the plan allows {} API requests per minute; retry in {wait} s",
                        per_minute.unwrap_or(0)
                    ),
                    wait,
                )
            })
    }

    /// 402 unless the tenant's plan has `feature`, naming the cheapest plan that does.
    pub async fn require_feature(
        &self,
        principal: &Principal,
        feature: Feature,
    ) -> Result<(), ApiError> {
        if principal.plan.has(feature) {
            return Ok(());
        }
        let plans = self.plans().await?;
        let with: Vec<String> = plans::plans_with(feature, &plans)
            .into_iter()
            .map(|p| p.code.clone())
            .collect();
        let mut p = plan_problem(
            "feature_not_in_plan",
            match with.first() {
                Some(cheapest) => format!(
                    "the {} plan does not include {feature}; the {cheapest} plan does",
                    principal.plan.name
                ),
                None => format!("no plan offers {feature}"),
            },
            &principal.plan,
        );
        p.feature = Some(feature.as_str().into());
        p.upgrade_to = with.first().cloned();
        p.plans = with;
        Err(ApiError::payment_required(p))
    }

    /// Checks that `adding` more of `limit`'s things fit the plan, inside the transaction that
    /// creates them (which holds the tenant's limit lock until it ends): 402 naming the limit,
    /// the usage and the plans that lift it.
    pub async fn check_limit(
        &self,
        tx: &mut TenantTx,
        principal: &Principal,
        limit: Limit,
        adding: i64,
    ) -> Result<(), ApiError> {
        let plan = &principal.plan;
        let Err(over) = self.within_limit(tx, plan, limit, adding).await? else {
            return Ok(());
        };
        let usage = over.usage;
        let plans = self.plans().await?;
        let lifting: Vec<String> = plans::plans_lifting(limit, usage + adding, &plans)
            .into_iter()
            .map(|p| p.code.clone())
            .collect();
        let mut p = plan_problem(
            "limit_reached",
            format!(
                "the {} plan allows {} {}; {} in use{}",
                plan.name,
                over.allowed,
                limit.as_str().replace('_', " "),
                over.usage,
                lifting
                    .first()
                    .map(|c| format!("; the {c} plan allows more"))
                    .unwrap_or_default()
            ),
            plan,
        );
        p.limit = Some(limit.as_str().into());
        p.allowed = Some(over.allowed);
        p.usage = Some(over.usage);
        p.upgrade_to = lifting.first().cloned();
        p.plans = lifting;
        Err(ApiError::payment_required(p))
    }
}

/// A 402 for an account that is suspended for non-payment (used where a write is refused
/// outside `authorize`).
pub fn payment_required(plan: &Plan) -> ApiError {
    ApiError::payment_required(plan_problem(
        "payment_required",
        "the account is suspended for non-payment: reads work, changes need the open invoices paid"
            .into(),
        plan,
    ))
}
