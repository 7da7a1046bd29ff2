//! The operator console's use cases: operator logins, plans as operators define them,
//! accounts with their usage, and support sessions (explicit, time-limited, audited reads
//! of one tenant's data).

use crate::plans::PlanCatalog;
use crate::session::verify_password;
use crate::{AppError, NotFoundAs, OnConstraint, OrNotFound};
use chrono::{DateTime, Duration, Utc};
use patron_core::auth::{issue_token, parse_token, LoginThrottle, TokenKind};
use patron_core::plans::{parse_plan_code, Feature, Limit, Plan};
use patron_core::tenants::TenantStatus;
use patron_core::{FieldCode, Issue, Validation};
use patron_db::operators::{self, Operator, OperatorSession, SupportSession};
use patron_db::plans as db_plans;
use patron_db::{constraints, tenants, Db, Tenant};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// How long an operator login lasts.
pub fn operator_session_ttl() -> Duration {
    Duration::hours(8)
}

/// The longest support session an operator can open, in minutes.
pub const MAX_SUPPORT_MINUTES: i64 = 240;

fn bad_token() -> AppError {
    AppError::unauthorized(
        "invalid_token",
        "the operator credentials are missing, malformed, expired or revoked",
    )
}

/// The operator session behind a presented `pop_...` token.
pub async fn authenticate(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> Result<OperatorSession, AppError> {
    let presented = parse_token(TokenKind::OperatorSession, token).ok_or_else(bad_token)?;
    if presented.tenant_id != 0 {
        return Err(bad_token());
    }
    operators::authenticate(db, &presented.hash, now)
        .await?
        .ok_or_else(bad_token)
}

/// The audit subject of an operator.
pub fn actor(op: &OperatorSession) -> String {
    format!("operator:{}", op.operator.email)
}

/// A new operator login: `token` is shown this once.
#[derive(Debug, Clone)]
pub struct OperatorLogin {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub operator: Operator,
}

fn wrong_credentials() -> AppError {
    AppError::unauthorized("invalid_credentials", "e-mail or password is wrong")
}

/// Logs an operator in, locking the account for a while after repeated failures.
pub async fn login(
    db: &Db,
    email: &str,
    password: String,
    code: Option<&str>,
    now: DateTime<Utc>,
    keys: &patron_core::pii::PiiKeys,
) -> Result<OperatorLogin, AppError> {
    let creds = operators::credentials(db, email.trim()).await?;
    let Some(creds) = creds else {
        // Same work as a real check, so timing does not reveal which e-mails exist.
        let _ = verify_password(password, patron_core::auth::dummy_password_hash().into()).await;
        return Err(wrong_credentials());
    };
    if let Some(until) = creds.locked_until.filter(|u| *u > now) {
        return Err(AppError::too_many(
            "locked",
            "too many failed logins; try again later",
            (until - now).num_seconds().max(1) as u64,
        ));
    }
    let good = verify_password(password, creds.password_hash.clone()).await?;
    if !good || creds.disabled_at.is_some() {
        let failures = creds.failed_logins + 1;
        let lock = LoginThrottle::lock_for(failures).map(|d| now + d);
        operators::login_failed(db, creds.id, lock).await?;
        return Err(wrong_credentials());
    }
    let mut account = crate::security::Account::Operator(db, creds.id, keys);
    if account.enabled().await? {
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Err(crate::security::code_required());
        };
        if account.spend_code(code, now).await?.is_none() {
            let failures = creds.failed_logins + 1;
            let lock = LoginThrottle::lock_for(failures).map(|d| now + d);
            operators::login_failed(db, creds.id, lock).await?;
            return Err(crate::security::code_refused());
        }
    }
    let issued = issue_token(TokenKind::OperatorSession, 0);
    let expires_at = now + operator_session_ttl();
    operators::start_session(db, creds.id, &issued.hash, now, expires_at).await?;
    Ok(OperatorLogin {
        token: issued.text,
        expires_at,
        operator: Operator {
            id: creds.id,
            email: creds.email,
            name: creds.name,
            created_at: creds.created_at,
        },
    })
}

/// An operator's password hash (for turning two-factor off).
pub async fn password_hash(db: &Db, id: Uuid) -> Result<String, AppError> {
    Ok(operators::password_hash(db, id).await?)
}

/// A plan as an operator writes it.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub name: String,
    pub monthly_price_minor: i64,
    pub currency: String,
    pub features: Vec<String>,
    /// Limit name -> allowed amount. A limit left out is unlimited.
    pub limits: BTreeMap<String, i64>,
    /// Monthly limit name -> price per unit beyond it.
    pub overage_minor: BTreeMap<String, i64>,
    pub trial_days: i32,
    pub archived: bool,
}

fn negative() -> Issue {
    Issue::new(FieldCode::TooSmall, "must not be negative").with("min", 0)
}

/// Checks an operator's plan definition, every bad field at once.
pub fn parse_plan(code: String, input: PlanInput) -> Result<Plan, AppError> {
    let mut v = Validation::new();
    v.check("code", parse_plan_code(&code));
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        v.check::<()>("name", Err(Issue::required()));
    }
    if input.monthly_price_minor < 0 {
        v.check::<()>("monthly_price_minor", Err(negative()));
    }
    v.check(
        "currency",
        patron_core::tenants::parse_currency(&input.currency),
    );
    if !(0..=365).contains(&input.trial_days) {
        v.check::<()>(
            "trial_days",
            Err(Issue::out_of_range(0, 365).words("must be between 0 and 365")),
        );
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
                v.check::<()>(&format!("limits.{k}"), Err(negative()));
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
                    Err(Issue::new(
                        FieldCode::NotAllowed,
                        "only monthly limits can be billed as overage",
                    )
                    .with("reason", "overage_monthly_only")),
                );
            } else if !limits.contains_key(&l) {
                v.check::<()>(
                    &field,
                    Err(
                        Issue::new(FieldCode::NotAllowed, "set the limit itself first")
                            .with("reason", "overage_needs_limit"),
                    ),
                );
            } else if *n <= 0 {
                v.check::<()>(
                    &field,
                    Err(Issue::new(FieldCode::TooSmall, "must be a positive price").with("min", 1)),
                );
            }
            overage.insert(l, *n);
        }
    }
    v.finish().map_err(AppError::invalid)?;
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

/// Records a plan change in the platform audit log and tells every replica to forget its
/// cached plans.
async fn plan_changed(
    db: &Db,
    catalog: &PlanCatalog,
    actor: &str,
    action: &str,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut tx = db.platform_tx().await?;
    db_plans::record_platform_audit(
        &mut tx,
        now,
        actor,
        action,
        None,
        serde_json::json!({ "plan": plan.code }),
    )
    .await?;
    tx.commit().await?;
    db_plans::notify_plans_changed(db).await?;
    catalog.forget();
    Ok(())
}

/// Creates a plan.
pub async fn create_plan(
    db: &Db,
    catalog: &PlanCatalog,
    actor: &str,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<Plan, AppError> {
    let created = db_plans::create(db, &plan)
        .await
        .on_constraint(constraints::PLANS_CODE, || {
            AppError::conflict("plan_exists", Some("code"), "a plan with this code exists")
        })?;
    plan_changed(db, catalog, actor, "plan.created", &created, now).await?;
    Ok(created)
}

/// Changes a plan; accounts on it get the new features and limits at once.
pub async fn update_plan(
    db: &Db,
    catalog: &PlanCatalog,
    actor: &str,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<Plan, AppError> {
    let updated = db_plans::update(db, &plan).await.not_found_as("plan")?;
    plan_changed(db, catalog, actor, "plan.updated", &updated, now).await?;
    Ok(updated)
}

/// One account, whatever its state.
pub async fn tenant(db: &Db, id: i64) -> Result<Tenant, AppError> {
    tenants::find_by_id(db, id).await.or_not_found("tenant")
}

/// An account in the operators' list with its standing counts (none once purged).
pub async fn standing_usage(db: &Db, t: &Tenant) -> Result<BTreeMap<String, i64>, AppError> {
    let mut usage = BTreeMap::new();
    if t.purged_at.is_none() {
        let mut tx = db.tenant_tx(t).await?;
        for limit in [
            Limit::Members,
            Limit::Staff,
            Limit::Stores,
            Limit::ActiveRules,
            Limit::CouponTemplates,
        ] {
            usage.insert(
                limit.as_str().to_owned(),
                db_plans::standing_count(&mut tx, limit).await?,
            );
        }
        tx.commit().await?;
    }
    Ok(usage)
}

/// A search of the accounts.
#[derive(Debug, Clone, Default)]
pub struct TenantSearch {
    pub q: Option<String>,
    pub plan: Option<String>,
    pub status: Option<String>,
    /// Keyset paging: the last id of the previous page.
    pub after: Option<i64>,
    /// 1-200, default 50.
    pub limit: Option<i64>,
}

/// Accounts by slug or name, plan and status.
pub async fn search_tenants(db: &Db, s: TenantSearch) -> Result<Vec<Tenant>, AppError> {
    if let Some(st) = s.status.as_deref() {
        if TenantStatus::parse(st).is_none() {
            return Err(AppError::field(
                "status",
                Issue::not_one_of(st, &["trial", "active", "past_due", "suspended", "closed"])
                    .words("one of trial, active, past_due, suspended, closed"),
            ));
        }
    }
    let limit = s.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::field(
            "limit",
            Issue::out_of_range(1, 200).words("between 1 and 200"),
        ));
    }
    Ok(tenants::search(
        db,
        s.q.as_deref().map(str::trim).filter(|q| !q.is_empty()),
        s.plan.as_deref(),
        s.status.as_deref(),
        s.after,
        limit,
    )
    .await?)
}

/// Refuses to work on an account whose data is deleted.
pub fn not_purged(t: &Tenant) -> Result<(), AppError> {
    if t.purged_at.is_some() {
        return Err(AppError::conflict(
            "tenant_purged",
            None,
            "this account's data is deleted",
        ));
    }
    Ok(())
}

/// Checks a suspension's reason (it is shown to the tenant's staff).
pub fn suspension_reason(raw: &str) -> Result<String, AppError> {
    let reason = raw.trim().to_owned();
    if reason.is_empty() {
        return Err(AppError::field(
            "reason",
            Issue::new(FieldCode::Required, "say why"),
        ));
    }
    Ok(reason)
}

/// A new support session: `token` is shown this once.
#[derive(Debug, Clone)]
pub struct OpenedSupport {
    pub token: String,
    pub session: SupportSession,
}

/// Opens a support session: a read-only token into one account's data, for at most
/// [`MAX_SUPPORT_MINUTES`], recorded in both the account's and the platform's audit logs.
pub async fn open_support(
    db: &Db,
    op: &OperatorSession,
    tenant_id: i64,
    reason: &str,
    minutes: i64,
    now: DateTime<Utc>,
) -> Result<OpenedSupport, AppError> {
    if !(1..=MAX_SUPPORT_MINUTES).contains(&minutes) {
        return Err(AppError::field(
            "minutes",
            Issue::out_of_range(1, MAX_SUPPORT_MINUTES)
                .words(format!("between 1 and {MAX_SUPPORT_MINUTES}")),
        ));
    }
    let t = tenant(db, tenant_id).await?;
    not_purged(&t)?;
    let issued = issue_token(TokenKind::SupportSession, t.id);
    let expires_at = now + Duration::minutes(minutes);
    // The tenant's transaction reaches the platform tables too: the session and both
    // audit entries commit together.
    let mut tx = db.tenant_tx(&t).await?;
    let session = operators::start_support(
        &mut tx,
        op.operator.id,
        t.id,
        reason.trim(),
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
        &actor(op),
        "support.opened",
        "",
        detail.clone(),
    )
    .await?;
    db_plans::record_platform_audit(
        &mut tx,
        now,
        &actor(op),
        "support.opened",
        Some(t.id),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(OpenedSupport {
        token: issued.text,
        session,
    })
}

/// Ends one of the operator's own support sessions before it expires.
pub async fn end_support(
    db: &Db,
    op: &OperatorSession,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<SupportSession, AppError> {
    let mut tx = db.platform_tx().await?;
    let s = operators::end_support(&mut tx, id, op.operator.id, now)
        .await
        .not_found_as("open support session of yours")?;
    db_plans::record_platform_audit(
        &mut tx,
        now,
        &actor(op),
        "support.ended",
        Some(s.tenant_id),
        serde_json::json!({ "session": s.id }),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// Ends an operator's session (logout).
pub async fn logout(db: &Db, session_id: Uuid, now: DateTime<Utc>) -> Result<(), AppError> {
    Ok(operators::end_session(db, session_id, now).await?)
}

/// Support sessions, of every account or of one, newest first.
pub async fn support_sessions(
    db: &Db,
    tenant_id: Option<i64>,
) -> Result<Vec<SupportSession>, AppError> {
    Ok(operators::list_support(db, tenant_id).await?)
}

/// Platform totals: accounts by plan and status, members, purchases per day, as of the
/// stalest figures [`refresh_figures`] took; in one statement, whatever the number of
/// businesses' tables.
pub async fn totals(db: &Db, now: DateTime<Utc>) -> Result<operators::Totals, AppError> {
    Ok(operators::totals(db, now).await?)
}

/// Figures younger than this are not taken again.
pub fn figures_fresh_for() -> Duration {
    Duration::minutes(10)
}

/// The most businesses whose figures one pass of [`refresh_figures`] takes.
pub const FIGURES_PER_PASS: i64 = 200;

/// What one pass of [`refresh_figures`] did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FiguresPass {
    /// Businesses whose figures were taken.
    pub counted: usize,
    /// Businesses that could not be counted (their schema missing, say), with the reason.
    /// They are tried again on the next pass; the others are not held up by them.
    pub failed: Vec<(i64, String)>,
}

/// One pass of the operators' figures job: takes the figures (members, purchases per day for
/// the dashboard's 30 days) of up to `limit` businesses that were never tried or were tried
/// longer than [`figures_fresh_for`] ago, new businesses first, then the longest untried. A
/// business that cannot be counted waits as long as a counted one before its next try, so
/// failing businesses never take every slot of a pass.
/// Each business is read in a transaction on its own schema and its figures written to
/// `platform` in a statement of their own (never a statement over both).
pub async fn refresh_figures(
    db: &Db,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<FiguresPass, AppError> {
    let due = operators::figures_due(db, now - figures_fresh_for(), limit).await?;
    let since = now - Duration::days(30);
    let mut pass = FiguresPass::default();
    for tenant in due {
        let counted = async {
            let mut tx = db.tenant_tx(&tenant).await?;
            let figures = operators::count_figures(&mut tx, since).await?;
            tx.commit().await?;
            operators::save_figures(db, tenant.id, &figures, now).await
        }
        .await;
        match counted {
            Ok(()) => pass.counted += 1,
            Err(e) => {
                tracing::warn!(tenant = tenant.id, error = %e, "cannot take a business's figures");
                let error = e.to_string();
                operators::figures_failed(db, tenant.id, &error, now).await?;
                pass.failed.push((tenant.id, error));
            }
        }
    }
    Ok(pass)
}

/// What operators and jobs did to accounts (the latest `limit`), newest first.
pub async fn audit_log(
    db: &Db,
    tenant_id: Option<i64>,
    limit: i64,
) -> Result<Vec<db_plans::PlatformAuditEntry>, AppError> {
    Ok(db_plans::platform_audit(db, tenant_id, limit).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PlanInput {
        PlanInput {
            name: " Pro ".into(),
            monthly_price_minor: 9_900,
            currency: "cny".into(),
            features: vec!["tiers".into(), "api_keys".into()],
            limits: BTreeMap::from([("members".into(), 10_000), ("sms_per_month".into(), 500)]),
            overage_minor: BTreeMap::from([("sms_per_month".into(), 5)]),
            trial_days: 14,
            archived: false,
        }
    }

    #[test]
    fn a_good_plan_is_trimmed_and_its_currency_upper_cased() {
        let p = parse_plan("pro".into(), input()).unwrap();
        assert_eq!(p.name, "Pro");
        assert_eq!(p.currency, "CNY");
        assert!(p.has(Feature::Tiers) && p.has(Feature::ApiKeys));
        assert_eq!(p.limit(Limit::Members), Some(10_000));
        assert!(p.allows_overage(Limit::SmsPerMonth));
    }

    #[test]
    fn overage_is_only_for_monthly_limits_that_are_set_and_priced() {
        let mut i = input();
        i.overage_minor = BTreeMap::from([
            ("members".into(), 1),
            ("emails_per_month".into(), 1),
            ("sms_per_month".into(), 0),
        ]);
        let e = parse_plan("pro".into(), i).unwrap_err();
        let problems: Vec<(&str, &str)> = e
            .fields()
            .iter()
            .map(|f| (f.field.as_str(), f.problem.as_str()))
            .collect();
        assert_eq!(
            problems,
            [
                (
                    "overage_minor.emails_per_month",
                    "set the limit itself first"
                ),
                (
                    "overage_minor.members",
                    "only monthly limits can be billed as overage"
                ),
                ("overage_minor.sms_per_month", "must be a positive price"),
            ]
        );
    }

    #[test]
    fn every_bad_plan_field_is_named_at_once() {
        let mut i = input();
        i.name = "  ".into();
        i.monthly_price_minor = -1;
        i.trial_days = 400;
        i.features = vec!["tiers".into(), "teleport".into()];
        i.limits = BTreeMap::from([("members".into(), -5)]);
        i.overage_minor = BTreeMap::new();
        let e = parse_plan("Pro!".into(), i).unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "code",
                "name",
                "monthly_price_minor",
                "trial_days",
                "features.1",
                "limits.members"
            ]
        );
    }

    #[test]
    fn a_suspension_needs_a_reason() {
        assert!(suspension_reason("   ").is_err());
        assert_eq!(suspension_reason(" late ").unwrap(), "late");
    }
}
