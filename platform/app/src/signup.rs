//! Creating a business account: a tenant, its schema, the built-in roles and an owner
//! login, all or nothing. The path behind both `POST /signup` and `patron tenant create`.

use crate::plans::PlanCatalog;
use crate::session::{hash_password, start_session, NewSession};
use crate::{AppError, OnConstraint};
use chrono::{DateTime, Duration, Utc};
use patron_core::access::BuiltinRole;
use patron_core::auth::{Email, Password};
use patron_core::plans::Plan;
use patron_core::tenants::{self as core_tenants, Slug, TenantSettings};
use patron_core::Validation;
use patron_db::tenants::NewTenant;
use patron_db::{access, audit, constraints, provision, staff, Db, Tenant};
use std::sync::Arc;

/// A new business and its owner, as given (checked by [`validate`]).
#[derive(Debug, Clone, Default)]
pub struct SignupInput {
    pub business_name: String,
    pub slug: String,
    pub owner_name: String,
    pub email: String,
    pub password: String,
    /// IANA time zone; default Asia/Shanghai.
    pub time_zone: Option<String>,
    /// ISO 4217 code; default CNY.
    pub currency: Option<String>,
    /// zh-CN (default) or en.
    pub locale: Option<String>,
    /// Region for phone numbers without a country code; default CN.
    pub phone_region: Option<String>,
    /// The plan to start on; default: the platform's default plan.
    pub plan: Option<String>,
}

/// A signup whose every field was checked.
#[derive(Debug)]
pub struct ValidSignup {
    pub slug: Slug,
    pub name: String,
    pub owner_name: String,
    pub email: Email,
    pub password: Password,
    pub settings: TenantSettings,
    /// `None`: the platform's default plan.
    pub plan: Option<String>,
}

/// Checks a signup against the plans on offer: every bad field at once.
pub fn validate(req: SignupInput, plans: &[Arc<Plan>]) -> Result<ValidSignup, AppError> {
    let mut v = Validation::new();
    let plan = req.plan.as_deref().and_then(|code| {
        v.check(
            "plan",
            crate::plans::offered(plans, code)
                .map(|p| p.code.clone())
                .ok_or_else(|| {
                    patron_core::Issue::unknown(
                        code,
                        format!("there is no plan \"{code}\"; see GET /api/v1/plans"),
                    )
                }),
        )
    });
    let defaults = TenantSettings::default();
    let name = v.check(
        "business_name",
        core_tenants::parse_display_name(&req.business_name, 120),
    );
    let slug = v.check("slug", Slug::parse(&req.slug));
    let owner_name = v.check(
        "owner_name",
        core_tenants::parse_display_name(&req.owner_name, 120),
    );
    let email = v.check("email", Email::parse(&req.email));
    let password = v.check("password", Password::parse(&req.password));
    let time_zone = v.check(
        "time_zone",
        req.time_zone
            .as_deref()
            .map_or(Ok(defaults.time_zone), core_tenants::parse_time_zone),
    );
    let currency = v.check(
        "currency",
        req.currency
            .as_deref()
            .map_or(Ok(defaults.currency), core_tenants::parse_currency),
    );
    let locale = v.check(
        "locale",
        req.locale
            .as_deref()
            .map_or(Ok(defaults.locale), core_tenants::parse_locale),
    );
    let phone_region = v.check(
        "phone_region",
        req.phone_region
            .as_deref()
            .map_or(Ok(defaults.phone_region), core_tenants::parse_phone_region),
    );
    v.finish().map_err(AppError::invalid)?;
    // `finish` succeeded, so every check returned Some.
    Ok(ValidSignup {
        slug: slug.expect("checked"),
        name: name.expect("checked"),
        owner_name: owner_name.expect("checked"),
        email: email.expect("checked"),
        password: password.expect("checked"),
        settings: TenantSettings {
            time_zone: time_zone.expect("checked"),
            currency: currency.expect("checked"),
            locale: locale.expect("checked"),
            phone_region: phone_region.expect("checked"),
        },
        plan,
    })
}

/// Validates and creates an account, with the owner logged in (a session of `ttl`).
pub async fn create_account(
    db: &Db,
    catalog: &PlanCatalog,
    req: SignupInput,
    now: DateTime<Utc>,
    ttl: Duration,
    user_agent: Option<String>,
) -> Result<(Tenant, NewSession), AppError> {
    let plans = catalog.all().await?;
    let s = validate(req, &plans)?;
    let password_hash = hash_password(s.password).await?;
    let (owner_name, email) = (s.owner_name, s.email);
    let new = NewTenant {
        slug: s.slug,
        name: s.name,
        settings: s.settings,
        plan_code: s.plan,
        now,
    };
    provision(db, new, |tx| {
        Box::pin(async move {
            access::seed_builtin_roles(tx).await?;
            let owner = staff::create(tx, email.as_str(), &owner_name, &password_hash, now).await?;
            let subject = access::staff_subject(owner.id);
            access::set_roles(tx, &subject, &[BuiltinRole::Owner.name().to_owned()]).await?;
            audit::record(
                tx,
                now,
                &subject,
                "tenant.created",
                "",
                serde_json::json!({}),
            )
            .await?;
            let session = start_session(tx, &owner, now, ttl, user_agent.as_deref()).await?;
            Ok(session)
        })
    })
    .await
    .on_constraint(constraints::TENANTS_SLUG, || {
        AppError::conflict(
            "slug_taken",
            Some("slug"),
            "this slug is already taken; choose another",
        )
    })
}

/// What one pass of [`keep_spare_schemas`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SparePass {
    /// Spare schemas older than this server's tenant migrations, dropped.
    pub dropped: usize,
    /// Spare schemas made.
    pub made: usize,
}

/// Keeps `target` spare tenant schemas ready for signups (each takes one instead of
/// running every tenant migration): drops spares an upgrade left behind, then makes spares
/// one at a time (each in its own transaction, one server at a time) until `target` are
/// ready or another server is making one.
pub async fn keep_spare_schemas(db: &Db, target: u32) -> Result<SparePass, AppError> {
    let mut pass = SparePass {
        dropped: patron_db::drop_stale_spare_schemas(db).await?,
        made: 0,
    };
    while patron_db::make_spare_schema(db, i64::from(target))
        .await?
        .is_some()
    {
        pass.made += 1;
    }
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn plan(code: &str, archived: bool) -> Arc<Plan> {
        Arc::new(Plan {
            code: code.into(),
            name: code.into(),
            monthly_price_minor: 0,
            currency: "CNY".into(),
            features: BTreeSet::new(),
            limits: BTreeMap::new(),
            overage_minor: BTreeMap::new(),
            trial_days: 14,
            archived,
        })
    }

    fn good() -> SignupInput {
        SignupInput {
            business_name: "  铁人健身 ".into(),
            slug: "iron-gym".into(),
            owner_name: "Li Lei".into(),
            email: "owner@example.com".into(),
            password: "correct horse battery".into(),
            ..Default::default()
        }
    }

    fn fields(e: AppError) -> Vec<String> {
        e.fields().iter().map(|f| f.field.clone()).collect()
    }

    #[test]
    fn a_good_signup_gets_the_default_settings_and_the_default_plan() {
        let s = validate(good(), &[plan("free", false)]).unwrap();
        assert_eq!(s.slug.as_str(), "iron-gym");
        assert_eq!(s.name, "铁人健身");
        assert_eq!(s.settings, TenantSettings::default());
        assert_eq!(s.plan, None);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let req = SignupInput {
            business_name: " ".into(),
            slug: "9lives".into(),
            email: "not-an-email".into(),
            password: "short".into(),
            time_zone: Some("Mars/Olympus".into()),
            currency: Some("dollars".into()),
            ..good()
        };
        assert_eq!(
            fields(validate(req, &[]).unwrap_err()),
            [
                "business_name",
                "slug",
                "email",
                "password",
                "time_zone",
                "currency"
            ]
        );
    }

    #[test]
    fn only_a_plan_on_offer_can_be_chosen() {
        let plans = [plan("pro", false), plan("legacy", true)];
        let chosen = SignupInput {
            plan: Some("pro".into()),
            ..good()
        };
        assert_eq!(
            validate(chosen, &plans).unwrap().plan.as_deref(),
            Some("pro")
        );
        for code in ["legacy", "platinum"] {
            let req = SignupInput {
                plan: Some(code.into()),
                ..good()
            };
            let e = validate(req, &plans).unwrap_err();
            assert_eq!(fields(e), ["plan"], "{code}");
        }
    }
}
