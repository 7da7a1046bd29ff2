//! `POST /signup`: a new business gets a tenant, its schema, the built-in roles and an owner
//! login, all or nothing (`patron_app::signup`, shared with `patron tenant create`).

use crate::edge::account_views::{SessionView, TenantView};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_app::signup::{create_account, SignupInput};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

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

impl From<SignupRequest> for SignupInput {
    fn from(r: SignupRequest) -> Self {
        Self {
            business_name: r.business_name,
            slug: r.slug,
            owner_name: r.owner_name,
            email: r.email,
            password: r.password,
            time_zone: r.time_zone,
            currency: r.currency,
            locale: r.locale,
            phone_region: r.phone_region,
            plan: r.plan,
        }
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
        let state = &self.state;
        let (tenant, session) = create_account(
            &state.db,
            &state.plans,
            req.0.into(),
            state.now(),
            state.config.session_ttl,
            user_agent.0,
        )
        .await?;
        Ok(SignupResponse::Created(Json(SignupResult {
            tenant: TenantView::from(&tenant),
            session: session.into(),
        })))
    }
}
