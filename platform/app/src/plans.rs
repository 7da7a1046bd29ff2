//! Plans at work: the catalogue (cached), the gates every tenant request passes (read-only
//! accounts, plan features, requests per minute), limits checked where things are created,
//! and the usage report behind a tenant's plan page.
//!
//! The decisions are pure functions here and in `patron_core::plans`; the HTTP edge only
//! says which feature a route needs and whether the request is a read.

use crate::AppError;
use crate::PlanDenial;
use chrono::{DateTime, Timelike, Utc};
use moka::future::Cache;
use patron_core::plans::{self, Access, Feature, Limit, OverLimit, Plan, ReadOnlyReason};
use patron_db::{plans as db_plans, Db, DbError, Tenant, TenantTx};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The monthly counter of API requests.
pub const API_REQUESTS_METRIC: &str = "api_requests";

/// Every plan, from a short-lived cache shared by all requests of this process. Operators'
/// changes drop it here at once and on other replicas through NOTIFY (see
/// [`PlanCatalog::forget`]).
#[derive(Clone)]
pub struct PlanCatalog {
    db: Db,
    cache: Cache<(), Arc<Vec<Arc<Plan>>>>,
}

impl PlanCatalog {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Cache::builder()
                .max_capacity(1)
                .time_to_live(std::time::Duration::from_secs(30))
                .build(),
        }
    }

    /// Every plan, archived ones included.
    pub async fn all(&self) -> Result<Arc<Vec<Arc<Plan>>>, AppError> {
        let db = self.db.clone();
        self.cache
            .try_get_with((), async move {
                let list = db_plans::list(&db).await?;
                Ok::<_, DbError>(Arc::new(list.into_iter().map(Arc::new).collect()))
            })
            .await
            .map_err(AppError::internal)
    }

    /// Forgets the cached plans after an operator changed one.
    pub fn forget(&self) {
        self.cache.invalidate_all();
    }

    /// The plan `tenant` is on (shared with the cache: nothing is copied per request).
    pub async fn of(&self, tenant: &Tenant) -> Result<Arc<Plan>, AppError> {
        let plans = self.all().await?;
        plans
            .iter()
            .find(|p| p.code == tenant.plan_code)
            .cloned()
            .ok_or_else(|| {
                AppError::internal(DbError::Aborted(format!(
                    "tenant {} is on unknown plan {}",
                    tenant.id, tenant.plan_code
                )))
            })
    }

    /// The plan `code` if it can be chosen now (it exists and is not archived).
    pub async fn offered(&self, code: &str) -> Result<Option<Arc<Plan>>, AppError> {
        Ok(offered(&self.all().await?, code))
    }
}

/// The plan `code` among `plans` if it can be chosen (not archived).
pub fn offered(plans: &[Arc<Plan>], code: &str) -> Option<Arc<Plan>> {
    plans
        .iter()
        .find(|p| p.code == code && !p.archived)
        .cloned()
}

/// A 402 by `plan` with nothing more said yet.
fn denial(code: &str, message: String, plan: &Plan) -> PlanDenial {
    PlanDenial::new(code, message, &plan.code)
}

/// The 402 for a plan without `feature`, naming the cheapest plan that has it.
pub fn feature_denial(plan: &Plan, feature: Feature, plans: &[Arc<Plan>]) -> PlanDenial {
    let with: Vec<String> = plans::plans_with(feature, plans)
        .into_iter()
        .map(|p| p.code.clone())
        .collect();
    let mut d = denial(
        "feature_not_in_plan",
        match with.first() {
            Some(cheapest) => format!(
                "the {} plan does not include {feature}; the {cheapest} plan does",
                plan.name
            ),
            None => format!("no plan offers {feature}"),
        },
        plan,
    );
    d.feature = Some(feature.as_str().into());
    d.upgrade_to = with.first().cloned();
    d.plans = with;
    d
}

/// The 402 for adding `adding` things beyond `limit`, naming the plans that lift it.
pub fn limit_denial(plan: &Plan, over: &OverLimit, adding: i64, plans: &[Arc<Plan>]) -> PlanDenial {
    let limit = over.limit;
    let lifting: Vec<String> = plans::plans_lifting(limit, over.usage + adding, plans)
        .into_iter()
        .map(|p| p.code.clone())
        .collect();
    let mut d = denial(
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
    d.limit = Some(limit.as_str().into());
    d.allowed = Some(over.allowed);
    d.usage = Some(over.usage);
    d.upgrade_to = lifting.first().cloned();
    d.plans = lifting;
    d
}

/// The 402 for an account suspended for non-payment.
pub fn payment_required(plan: &Plan) -> AppError {
    AppError::payment_required(denial(
        "payment_required",
        "the account is suspended for non-payment: reads work, changes need the open invoices paid"
            .into(),
        plan,
    ))
}

/// How a read-only account refuses a write: 402 when unpaid, 403 when an operator suspended
/// it or it is closed.
pub fn read_only_error(reason: ReadOnlyReason, tenant: &Tenant, plan: &Plan) -> AppError {
    match reason {
        ReadOnlyReason::Billing => payment_required(plan),
        ReadOnlyReason::Operator => AppError::forbidden(
            "tenant_suspended",
            format!(
                "the account is suspended{}: reads work, changes are refused",
                tenant
                    .status_note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        ),
        ReadOnlyReason::Closed => AppError::forbidden(
            "tenant_closed",
            "the account is closed: its data can be read and exported until it is deleted",
        ),
    }
}

/// What a request is, as far as the plan gates care.
#[derive(Debug, Clone, Copy, Default)]
pub struct Call {
    /// GET, HEAD or OPTIONS.
    pub is_read: bool,
    /// A write that stays allowed while the account is read-only.
    pub read_only_safe: bool,
    /// The plan feature the route needs.
    pub feature: Option<Feature>,
    /// Made with an integration key (itself a plan feature).
    pub integration_key: bool,
}

/// The account's state and plan, whoever calls: refuses a write on a read-only account,
/// then a route whose feature the plan lacks, then an integration key when the plan no
/// longer includes keys. The plans are read only when a refusal needs to name them.
pub async fn admit(
    catalog: &PlanCatalog,
    tenant: &Tenant,
    plan: &Plan,
    call: Call,
) -> Result<(), AppError> {
    let access = tenant.access();
    if let Some(reason) = plans::write_refusal(access, call.is_read, call.read_only_safe) {
        return Err(read_only_error(reason, tenant, plan));
    }
    if let Some(feature) = call
        .feature
        .filter(|_| plans::feature_checked(access, call.is_read))
    {
        require_feature(catalog, plan, feature).await?;
    }
    if call.integration_key {
        require_feature(catalog, plan, Feature::ApiKeys).await?;
    }
    Ok(())
}

/// 402 unless `plan` has `feature`, naming the cheapest plan that does.
pub async fn require_feature(
    catalog: &PlanCatalog,
    plan: &Plan,
    feature: Feature,
) -> Result<(), AppError> {
    if plan.has(feature) {
        return Ok(());
    }
    let plans = catalog.all().await?;
    Err(AppError::payment_required(feature_denial(
        plan, feature, &plans,
    )))
}

/// For member-facing writes (the portal): refuses while the account is read-only.
pub fn open_for_members(tenant: &Tenant) -> Result<(), AppError> {
    if tenant.access() != Access::Full {
        return Err(AppError::forbidden(
            "business_unavailable",
            "this business is not accepting changes here right now",
        ));
    }
    Ok(())
}

/// Whether `adding` more of `limit`'s things fit `plan`, taking the tenant's limit lock for
/// the rest of `tx`. For callers that answer a refusal in their own words (the member
/// portal); staff operations use [`check_limit`].
pub async fn within_limit(
    tx: &mut TenantTx,
    plan: &Plan,
    limit: Limit,
    adding: i64,
    now: DateTime<Utc>,
) -> Result<Result<(), OverLimit>, AppError> {
    let usage = db_plans::lock_and_count(tx, limit, now).await?;
    Ok(plans::check_limit(plan, limit, usage, adding))
}

/// Checks that `adding` more of `limit`'s things fit the plan, inside the transaction that
/// creates them (which holds the tenant's limit lock until it ends): 402 naming the limit,
/// the usage and the plans that lift it.
pub async fn check_limit(
    tx: &mut TenantTx,
    catalog: &PlanCatalog,
    plan: &Plan,
    limit: Limit,
    adding: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let Err(over) = within_limit(tx, plan, limit, adding, now).await? else {
        return Ok(());
    };
    let plans = catalog.all().await?;
    Err(AppError::payment_required(limit_denial(
        plan, &over, adding, &plans,
    )))
}

/// [`check_limit`] with its refusal as a value, as `members::PlanCheck` answers.
pub async fn limit_check(
    tx: &mut TenantTx,
    catalog: &PlanCatalog,
    plan: &Plan,
    limit: Limit,
    adding: i64,
    now: DateTime<Utc>,
) -> Result<Result<(), PlanDenial>, AppError> {
    match check_limit(tx, catalog, plan, limit, adding, now).await {
        Ok(()) => Ok(Ok(())),
        Err(AppError::Plan(d)) => Ok(Err(*d)),
        Err(e) => Err(e),
    }
}

/// Takes `n` of a monthly limit (`coupons_per_month`) for things being made in `tx`, by one
/// conditional statement on the month's counter ([`db_plans::take_monthly`]): 402
/// `limit_reached` naming the limit, the month's usage and the plans that lift it. Needs no
/// plan at hand (the tenant's plan is read in the statement), so every path that makes the
/// things (staff, members, purchases, jobs) counts them alike.
pub async fn take_monthly(
    tx: &mut TenantTx,
    limit: Limit,
    n: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    debug_assert!(limit.is_monthly());
    let took = db_plans::take_monthly(tx, limit, now, n).await?;
    let (Some(cap), None) = (took.cap, took.taken) else {
        return Ok(());
    };
    let usage = db_plans::monthly_in(tx, limit, now).await?;
    let (code, all) = db_plans::plans_in(tx).await?;
    let all: Vec<Arc<Plan>> = all.into_iter().map(Arc::new).collect();
    let plan = all
        .iter()
        .find(|p| p.code == code)
        .cloned()
        .ok_or_else(|| AppError::internal_msg(format!("unknown plan {code}")))?;
    let over = OverLimit {
        limit,
        allowed: cap,
        usage,
    };
    Err(AppError::payment_required(limit_denial(
        &plan, &over, n, &all,
    )))
}

/// Requests per tenant per minute, counted in the database (`platform.rate_windows`) so that
/// every replica shares one budget, plus this process's monthly total waiting to be added to
/// the metered usage (a sum, so replicas add theirs independently).
#[derive(Default)]
pub struct RateLimiter {
    unmetered: Mutex<HashMap<i64, i64>>,
}

/// The minute holding `now` (minutes since the Unix epoch).
fn minute_of(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(60)
}

impl RateLimiter {
    /// Counts one request; `Err(seconds)` to wait when the tenant is over `per_minute`.
    /// Without a cap nothing is asked of the database.
    pub async fn hit(
        &self,
        db: &Db,
        tenant_id: i64,
        per_minute: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Result<(), u64>, DbError> {
        if let Some(cap) = per_minute {
            if !db_plans::take_rate(db, tenant_id, minute_of(now), cap).await? {
                return Ok(Err(60 - u64::from(now.second())));
            }
        }
        *self
            .unmetered
            .lock()
            .expect("meter lock")
            .entry(tenant_id)
            .or_default() += 1;
        Ok(Ok(()))
    }

    /// 429 when the tenant is over its plan's requests per minute (on all replicas together).
    /// Call it without holding a connection: it takes one from the pool for one statement.
    pub async fn admit(
        &self,
        db: &Db,
        tenant_id: i64,
        plan: &Plan,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let per_minute = plan.limit(Limit::ApiRequestsPerMinute);
        self.hit(db, tenant_id, per_minute, now)
            .await?
            .map_err(|wait| {
                AppError::too_many(
                    "rate_limited",
                    format!(
                        "the plan allows {} API requests per minute; retry in {wait} s",
                        per_minute.unwrap_or(0)
                    ),
                    wait,
                )
            })
    }

    /// Adds the counted requests to the monthly usage, and deletes closed request windows.
    pub async fn flush(&self, db: &Db, now: DateTime<Utc>) -> Result<(), DbError> {
        let pending: Vec<(i64, i64)> = self.unmetered.lock().expect("meter lock").drain().collect();
        for (i, (tenant, n)) in pending.iter().enumerate() {
            if let Err(e) = db_plans::meter(db, *tenant, API_REQUESTS_METRIC, now, *n).await {
                // Put them back for the next flush rather than lose them.
                let mut unmetered = self.unmetered.lock().expect("meter lock");
                for (tenant, n) in &pending[i..] {
                    *unmetered.entry(*tenant).or_default() += n;
                }
                return Err(e);
            }
        }
        db_plans::forget_rate_windows(db, minute_of(now)).await?;
        Ok(())
    }
}

/// What an account uses: every limit's count (monthly ones for this month), and the raw
/// monthly counters.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub limits: BTreeMap<Limit, i64>,
    pub monthly: BTreeMap<String, i64>,
}

impl Usage {
    /// API requests so far this month.
    pub fn api_requests(&self) -> i64 {
        self.monthly.get(API_REQUESTS_METRIC).copied().unwrap_or(0)
    }
}

/// What `tenant` uses. `tx` is a transaction on the tenant (ended here); without one (a
/// purged account) there are no counts, only the platform's monthly counters.
pub async fn usage(
    db: &Db,
    rate: &RateLimiter,
    tenant: &Tenant,
    tx: Option<TenantTx>,
    now: DateTime<Utc>,
) -> Result<Usage, AppError> {
    // The tenant's own counts first, so its connection is back before the platform's are read.
    let mut limits = match tx {
        Some(mut tx) => {
            let usage = db_plans::standing_usage(&mut tx).await?;
            tx.commit().await?;
            Some(usage)
        }
        None => None,
    };
    // Count this process's requests in before reading the month's counters.
    rate.flush(db, now).await?;
    let monthly = db_plans::monthly_usage(db, tenant.id, now).await?;
    if let Some(limits) = limits.as_mut() {
        for limit in Limit::ALL.iter().filter(|l| l.is_monthly()) {
            limits.insert(*limit, monthly.get(limit.as_str()).copied().unwrap_or(0));
        }
    }
    Ok(Usage {
        limits: limits.unwrap_or_default(),
        monthly,
    })
}

/// One limit's usage against the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageLine {
    pub limit: Limit,
    pub usage: i64,
    /// `None` for unlimited.
    pub allowed: Option<i64>,
    pub warning: Option<plans::Warning>,
}

/// Each limit's usage against `plan`, and one warning sentence per limit at or past 80%.
pub fn usage_lines(plan: &Plan, usage: &BTreeMap<Limit, i64>) -> (Vec<UsageLine>, Vec<String>) {
    let mut warnings = Vec::new();
    let lines = usage
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
            UsageLine {
                limit: *limit,
                usage: *used,
                allowed,
                warning,
            }
        })
        .collect();
    (lines, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn plan(code: &str, price: i64, features: &[Feature], limits: &[(Limit, i64)]) -> Arc<Plan> {
        Arc::new(Plan {
            code: code.into(),
            name: code.to_uppercase(),
            monthly_price_minor: price,
            currency: "CNY".into(),
            features: features.iter().copied().collect::<BTreeSet<_>>(),
            limits: limits.iter().copied().collect(),
            overage_minor: BTreeMap::new(),
            trial_days: 14,
            archived: false,
        })
    }

    fn catalogue() -> Vec<Arc<Plan>> {
        vec![
            plan("free", 0, &[], &[(Limit::Members, 500), (Limit::Staff, 2)]),
            plan(
                "pro",
                900,
                &[Feature::ApiKeys, Feature::Tiers],
                &[(Limit::Members, 10_000)],
            ),
            plan(
                "starter",
                300,
                &[Feature::Tiers],
                &[(Limit::Members, 2_000)],
            ),
        ]
    }

    #[test]
    fn a_missing_feature_names_the_cheapest_plan_that_has_it_and_every_other() {
        let plans = catalogue();
        let d = feature_denial(&plans[0], Feature::Tiers, &plans);
        assert_eq!(d.code, "feature_not_in_plan");
        assert_eq!(d.plan, "free");
        assert_eq!(d.feature.as_deref(), Some("tiers"));
        assert_eq!(d.upgrade_to.as_deref(), Some("starter"));
        assert_eq!(d.plans, ["starter", "pro"]);
        assert_eq!(
            d.message,
            "the FREE plan does not include tiers; the starter plan does"
        );
    }

    #[test]
    fn a_feature_no_plan_offers_says_so_and_names_no_upgrade() {
        let plans = catalogue();
        let d = feature_denial(&plans[0], Feature::Webhooks, &plans);
        assert_eq!(d.message, "no plan offers webhooks");
        assert_eq!(d.upgrade_to, None);
        assert!(d.plans.is_empty());
    }

    #[test]
    fn a_reached_limit_names_usage_allowance_and_the_plans_that_lift_it() {
        let plans = catalogue();
        let over = plans::check_limit(&plans[0], Limit::Members, 500, 1).unwrap_err();
        let d = limit_denial(&plans[0], &over, 1, &plans);
        assert_eq!(d.code, "limit_reached");
        assert_eq!(d.limit.as_deref(), Some("members"));
        assert_eq!((d.allowed, d.usage), (Some(500), Some(500)));
        assert_eq!(d.upgrade_to.as_deref(), Some("starter"));
        assert_eq!(d.plans, ["starter", "pro"]);
        assert_eq!(
            d.message,
            "the FREE plan allows 500 members; 500 in use; the starter plan allows more"
        );
    }

    #[test]
    fn a_limit_only_plans_big_enough_for_the_whole_batch_are_offered() {
        let plans = catalogue();
        let over = plans::check_limit(&plans[0], Limit::Members, 400, 3_000).unwrap_err();
        let d = limit_denial(&plans[0], &over, 3_000, &plans);
        assert_eq!(d.plans, ["pro"]);
        let over = plans::check_limit(&plans[0], Limit::Staff, 2, 1).unwrap_err();
        // Plans without a staff limit lift it; the message speaks in words, not codes.
        let d = limit_denial(&plans[0], &over, 1, &plans);
        assert_eq!(d.plans, ["starter", "pro"]);
        assert!(d
            .message
            .starts_with("the FREE plan allows 2 staff; 2 in use"));
    }

    #[test]
    fn usage_at_eighty_percent_warns_and_at_the_cap_says_reached() {
        let p = plan("free", 0, &[], &[(Limit::Members, 500), (Limit::Staff, 2)]);
        let usage = BTreeMap::from([(Limit::Members, 400), (Limit::Staff, 2), (Limit::Stores, 9)]);
        let (lines, warnings) = usage_lines(&p, &usage);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].warning, Some(plans::Warning::Near));
        assert_eq!(lines[1].warning, Some(plans::Warning::Reached));
        assert_eq!(lines[2].allowed, None);
        assert_eq!(
            warnings,
            [
                "members: 400 of 500 used (80% or more)",
                "staff: 2 of 2 used (limit reached)"
            ]
        );
    }
}
