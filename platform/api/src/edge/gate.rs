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
//!
//! The decisions themselves (read-only accounts, features, limits, requests per minute) are
//! `patron_app::plans`; this module only reads them off the request and calls it.

use crate::edge::auth::Principal;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_app::plans::{self as app_plans, Call};
use patron_core::plans::{Feature, Limit, OverLimit, Plan};
use patron_db::{Tenant, TenantTx};
use poem::{Endpoint, EndpointExt, Request};
use std::sync::Arc;

pub use patron_app::plans::{RateLimiter, API_REQUESTS_METRIC};

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

    /// The request as the plan gates see it.
    pub fn call(&self, integration_key: bool) -> Call {
        Call {
            is_read: self.is_read,
            read_only_safe: self.read_only_safe,
            feature: self.feature,
            integration_key,
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
    needs_campaigns => Campaigns,
    needs_api_keys => ApiKeys,
    needs_webhooks => Webhooks,
    needs_exports => Exports,
    needs_multi_store => MultiStore,
    needs_reports_advanced => ReportsAdvanced,
    needs_memberships => Memberships,
    needs_stored_value => StoredValue,
    needs_visit_passes => VisitPasses,
    needs_promotions => Promotions,
    needs_points_mall => PointsMall,
    needs_activities => Activities,
    needs_notices => Notices,
    needs_conversations => Conversations,
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

impl ApiState {
    /// Every plan, from a short-lived cache.
    pub async fn plans(&self) -> Result<Arc<Vec<Arc<Plan>>>, ApiError> {
        Ok(self.plans.all().await?)
    }

    /// Forgets the cached plans after an operator changed one.
    pub async fn forget_plans(&self) {
        self.plans.forget();
    }

    pub async fn plan_of(&self, tenant: &Tenant) -> Result<Arc<Plan>, ApiError> {
        Ok(self.plans.of(tenant).await?)
    }

    /// For member-facing writes (the portal): refuses while the account is read-only, and
    /// returns the plan for limit checks.
    pub async fn open_for_members(&self, tenant: &Tenant) -> Result<Arc<Plan>, ApiError> {
        app_plans::open_for_members(tenant)?;
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
    ) -> Result<Result<(), OverLimit>, ApiError> {
        Ok(app_plans::within_limit(tx, plan, limit, adding, self.now()).await?)
    }

    /// 429 when the tenant is over its plan's requests per minute, counted in the database
    /// across every replica. Takes a pooled connection for one statement: call it while
    /// holding none.
    pub async fn rate_limit(&self, tenant: &Tenant, plan: &Plan) -> Result<(), ApiError> {
        Ok(self
            .rate
            .admit(&self.db, tenant.id, plan, self.now())
            .await?)
    }

    /// 402 unless the tenant's plan has `feature`, naming the cheapest plan that does.
    pub async fn require_feature(
        &self,
        principal: &Principal,
        feature: Feature,
    ) -> Result<(), ApiError> {
        Ok(app_plans::require_feature(&self.plans, &principal.plan, feature).await?)
    }
}
