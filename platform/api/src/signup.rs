//! `POST /signup`: a new business gets a tenant, its schema, the built-in roles and an owner
//! login, all or nothing.

use crate::edge::auth::hash_password;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use crate::session::{start_session, SessionView, TenantView};
use patron_core::access::BuiltinRole;
use patron_core::auth::{Email, Password};
use patron_core::plans::Plan;
use patron_core::tenants::{self as core_tenants, Slug, TenantSettings};
use patron_core::Validation;
use patron_db::tenants::NewTenant;
use patron_db::{access, audit, provision, staff};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use std::sync::Arc;

#[derive(Tags)]
enum Tag {
    /// Creating a business account.
    Signup,
}

/// A new business and its owner.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct SignupRequest {
    /// The business's name as people know it, e.g. 铁人健身.
    #[oai(validator(max_length = 200))]
    pub business_name: String,
    /// URL name: 3–40 lowercase letters, digits and hyphens, starting with a letter.
    #[oai(validator(max_length = 100))]
    pub slug: String,
    #[oai(validator(max_length = 200))]
    pub owner_name: String,
    #[oai(validator(max_length = 300))]
    pub email: String,
    /// 10–128 characters.
    #[oai(validator(max_length = 1000))]
    pub password: String,
    /// IANA time zone; default Asia/Shanghai.
    pub time_zone: Option<String>,
    /// ISO 4217 code; default CNY.
    pub currency: Option<String>,
    /// zh-CN (default) or en.
    pub locale: Option<String>,
    /// Region for phone numbers without a country code; default CN.
    pub phone_region: Option<String>,
    /// The plan to start on (see `GET /plans`), with its trial; default: the platform's
    /// default plan.
    #[oai(validator(max_length = 40))]
    pub plan: Option<String>,
}

/// The new account, with the owner already logged in.
#[derive(Debug, Object)]
pub struct SignupResult {
    pub tenant: TenantView,
    pub session: SessionView,
}

#[derive(ApiResponse)]
enum SignupResponse {
    /// Returned when the account was created; the owner is logged in.
    #[oai(status = 201)]
    Created(Json<SignupResult>),
}

pub struct SignupApi {
    pub state: ApiState,
}

struct ValidSignup {
    slug: Slug,
    name: String,
    owner_name: String,
    email: Email,
    password: Password,
    settings: TenantSettings,
    plan: Option<String>,
}

fn validate(req: SignupRequest, plans: &[Arc<Plan>]) -> Result<ValidSignup, ApiError> {
    let mut v = Validation::new();
    let plan = req.plan.as_deref().and_then(|code| {
        v.check(
            "plan",
            plans
                .iter()
                .find(|p| p.code == code && !p.archived)
                .map(|p| p.code.clone())
                .ok_or_else(|| format!("there is no plan \"{code}\"; see GET /api/v1/plans")),
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
    v.finish().map_err(ApiError::invalid)?;
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

/// Validates and creates an account: the path behind both `POST /signup` and
/// `patron tenant create`.
pub async fn create_account(
    state: &ApiState,
    req: SignupRequest,
    user_agent: Option<String>,
) -> Result<(patron_db::Tenant, SessionView), ApiError> {
    let plans = state.plans().await?;
    let s = validate(req, &plans)?;
    let password_hash = hash_password(s.password).await?;
    let now = state.now();
    let ttl = state.config.session_ttl;
    let (owner_name, email) = (s.owner_name, s.email);
    let new = NewTenant {
        slug: s.slug,
        name: s.name,
        settings: s.settings,
        plan_code: s.plan,
        now,
    };
    let result = provision(&state.db, new, |tx| {
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
    .await;
    match result {
        Ok(created) => Ok(created),
        Err(e) if e.is_conflict_on("tenants_slug_key") => Err(ApiError::conflict(
            "slug_taken",
            Some("slug"),
            "this slug is already taken; choose another",
        )),
        Err(e) => Err(e.into()),
    }
}

#[OpenApi(tag = "Tag::Signup")]
impl SignupApi {
    /// Create a business account.
    ///
    /// Creates the tenant, its own database schema, the built-in roles and the owner's staff
    /// account, then logs the owner in. All or nothing: on any failure nothing is kept.
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    #[tracing::instrument(skip_all, err(Debug, level = "info"), fields(slug = %req.0.slug))]
    async fn signup(
        &self,
        req: Json<SignupRequest>,
        #[oai(name = "User-Agent")] user_agent: poem_openapi::param::Header<Option<String>>,
    ) -> Result<SignupResponse, ApiError> {
        let (tenant, session) = create_account(&self.state, req.0, user_agent.0).await?;
        Ok(SignupResponse::Created(Json(SignupResult {
            tenant: TenantView::from(&tenant),
            session,
        })))
    }
}
