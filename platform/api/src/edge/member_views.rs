//! The member DTOs several capabilities share (the register, member files, the portal):
//! a member as shown, a new member's details, a member search; and the plan-limit checks
//! the member use cases are given (`patron_app::members::PlanCheck`), answered from the
//! edge's plan cache.

use crate::edge::auth::Principal;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::members::{self as app_members, PlanCheck, Profile};
use patron_app::{AppError, PlanDenial};
use patron_core::plans::{Limit, Plan};
use patron_db::TenantTx;
use poem_openapi::{Enum, Object};
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// A member as staff see it.
#[derive(Debug, Object)]
pub struct MemberView {
    pub id: Uuid,
    /// `active` or `erased`.
    pub status: String,
    /// The card in use.
    pub card_number: Option<String>,
    pub name: String,
    /// E.164, or masked (`138****5678`) without `members:read_pii`.
    pub phone: Option<String>,
    pub phone_verified: bool,
    /// Masked (`a***@x.com`) without `members:read_pii`.
    pub email: Option<String>,
    /// Whether phone and e-mail are masked in this response.
    pub pii_masked: bool,
    pub gender: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub join_date: NaiveDate,
    pub home_store: Option<String>,
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub referrer_id: Option<Uuid>,
    /// Values of the custom fields in force.
    pub custom: Value,
    /// Values of archived fields, kept readable.
    pub archived: Value,
    /// How the member registered: counter, portal, import, api.
    pub channel: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
    /// When the mail server refused the member's e-mail address for good (a bounce):
    /// marketing e-mails to it are skipped. Given by `getMember` only.
    #[oai(skip_serializing_if_is_none)]
    pub email_bounced_at: Option<DateTime<Utc>>,
}

impl From<Profile> for MemberView {
    fn from(p: Profile) -> Self {
        Self {
            id: p.id,
            status: p.status,
            card_number: p.card_number,
            name: p.name,
            phone: p.phone,
            phone_verified: p.phone_verified,
            email: p.email,
            pii_masked: p.pii_masked,
            gender: p.gender,
            birthday: p.birthday,
            join_date: p.join_date,
            home_store: p.home_store,
            tags: p.tags,
            notes: p.notes,
            referrer_id: p.referrer_id,
            custom: p.custom,
            archived: p.archived,
            channel: p.channel,
            created_at: p.created_at,
            updated_at: p.updated_at,
            erased_at: p.erased_at,
            email_bounced_at: None,
        }
    }
}

/// A new member's details. Dates are `YYYY-MM-DD`.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewMember {
    #[oai(validator(max_length = 1000))]
    pub name: String,
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    #[oai(validator(max_length = 1000))]
    pub email: Option<String>,
    #[oai(validator(max_length = 100))]
    pub gender: Option<String>,
    #[oai(validator(max_length = 100))]
    pub birthday: Option<String>,
    /// Defaults to today in the business's time zone.
    #[oai(validator(max_length = 100))]
    pub join_date: Option<String>,
    #[oai(validator(max_length = 1000))]
    pub home_store: Option<String>,
    #[oai(default, validator(max_items = 100))]
    pub tags: Vec<String>,
    #[oai(validator(max_length = 20000))]
    pub notes: Option<String>,
    pub referrer_id: Option<Uuid>,
    /// Values of custom fields, by key.
    pub custom: Option<Value>,
}

impl From<NewMember> for app_members::NewMember {
    fn from(m: NewMember) -> Self {
        Self {
            name: m.name,
            phone: m.phone,
            email: m.email,
            gender: m.gender,
            birthday: m.birthday,
            join_date: m.join_date,
            home_store: m.home_store,
            tags: m.tags,
            notes: m.notes,
            referrer_id: m.referrer_id,
            custom: m.custom,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
#[oai(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Created,
    JoinDate,
    Birthday,
    Name,
    /// The point balance.
    Points,
}

/// One condition on a custom field: `eq`, or a range with `min`/`max` (numbers) or
/// `from`/`to` (dates).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct CustomFilter {
    #[oai(validator(max_length = 40))]
    pub field: String,
    pub eq: Option<Value>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    #[oai(validator(max_length = 40))]
    pub from: Option<String>,
    #[oai(validator(max_length = 40))]
    pub to: Option<String>,
}

/// A member search; every condition given must hold.
#[derive(Debug, Clone, Object, Default)]
#[oai(deny_unknown_fields)]
pub struct MemberSearch {
    #[oai(validator(max_length = 40))]
    pub card_number: Option<String>,
    /// In any formatting; read in the business's phone region.
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    #[oai(validator(max_length = 300))]
    pub email: Option<String>,
    /// Substring of the name (works for Chinese).
    #[oai(validator(max_length = 100))]
    pub name: Option<String>,
    /// Members carrying all of these tags.
    #[oai(default, validator(max_items = 20))]
    pub tags: Vec<String>,
    #[oai(default, validator(max_items = 20))]
    pub custom: Vec<CustomFilter>,
    #[oai(validator(max_length = 20))]
    pub joined_from: Option<String>,
    #[oai(validator(max_length = 20))]
    pub joined_to: Option<String>,
    #[oai(validator(max_length = 20))]
    pub birthday_from: Option<String>,
    #[oai(validator(max_length = 20))]
    pub birthday_to: Option<String>,
    /// Members on this tier (its code in the ladder in force).
    #[oai(validator(max_length = 32))]
    pub tier: Option<String>,
    /// Only these members (a selection), at most 1000.
    #[oai(default)]
    pub ids: Vec<Uuid>,
    #[oai(default)]
    pub sort: SortBy,
    #[oai(default)]
    pub descending: bool,
    /// The `next_cursor` of the previous page.
    #[oai(validator(max_length = 500))]
    pub after: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

impl From<MemberSearch> for app_members::SearchRequest {
    fn from(s: MemberSearch) -> Self {
        use app_members::search::CustomFilter as C;
        Self {
            card_number: s.card_number,
            phone: s.phone,
            email: s.email,
            name: s.name,
            tags: s.tags,
            custom: s
                .custom
                .into_iter()
                .map(|c| C {
                    field: c.field,
                    eq: c.eq,
                    min: c.min,
                    max: c.max,
                    from: c.from,
                    to: c.to,
                })
                .collect(),
            joined_from: s.joined_from,
            joined_to: s.joined_to,
            birthday_from: s.birthday_from,
            birthday_to: s.birthday_to,
            tier: s.tier,
            ids: s.ids,
            sort: match s.sort {
                SortBy::Created => app_members::SortBy::Created,
                SortBy::JoinDate => app_members::SortBy::JoinDate,
                SortBy::Birthday => app_members::SortBy::Birthday,
                SortBy::Name => app_members::SortBy::Name,
                SortBy::Points => app_members::SortBy::Points,
            },
            descending: s.descending,
            after: s.after,
            limit: s.limit,
        }
    }
}

impl From<app_members::SearchRequest> for MemberSearch {
    fn from(s: app_members::SearchRequest) -> Self {
        Self {
            card_number: s.card_number,
            phone: s.phone,
            email: s.email,
            name: s.name,
            tags: s.tags,
            custom: s
                .custom
                .into_iter()
                .map(|c| CustomFilter {
                    field: c.field,
                    eq: c.eq,
                    min: c.min,
                    max: c.max,
                    from: c.from,
                    to: c.to,
                })
                .collect(),
            joined_from: s.joined_from,
            joined_to: s.joined_to,
            birthday_from: s.birthday_from,
            birthday_to: s.birthday_to,
            tier: s.tier,
            ids: s.ids,
            sort: match s.sort {
                app_members::SortBy::Created => SortBy::Created,
                app_members::SortBy::JoinDate => SortBy::JoinDate,
                app_members::SortBy::Birthday => SortBy::Birthday,
                app_members::SortBy::Name => SortBy::Name,
                app_members::SortBy::Points => SortBy::Points,
            },
            descending: s.descending,
            after: s.after,
            limit: s.limit,
        }
    }
}

/// A refusal from the edge's plan checks, as the use cases see it.
fn to_app(e: ApiError) -> AppError {
    match e {
        ApiError::PaymentRequired(p) => {
            let p = *p.0;
            AppError::payment_required(PlanDenial {
                code: p.code,
                message: p.message,
                plan: p.plan,
                feature: p.feature,
                limit: p.limit,
                allowed: p.allowed,
                usage: p.usage,
                upgrade_to: p.upgrade_to,
                plans: p.plans,
            })
        }
        other => AppError::internal_msg(format!("plan check failed: {}", other.code())),
    }
}

/// The staff member's plan: a refusal is the 402 naming the limit, its usage and the plans
/// that lift it.
pub struct StaffPlan {
    pub state: ApiState,
    pub principal: Principal,
}

#[async_trait::async_trait]
impl PlanCheck for StaffPlan {
    async fn check(
        &self,
        tx: &mut TenantTx,
        limit: Limit,
        adding: i64,
    ) -> Result<Result<(), PlanDenial>, AppError> {
        patron_app::plans::limit_check(
            tx,
            &self.state.plans,
            &self.principal.plan,
            limit,
            adding,
            self.state.now(),
        )
        .await
    }
}

/// A plan already looked up, before the transaction it is checked in (looking it up inside
/// could need a second connection while the transaction holds one, and locks).
pub struct KnownPlan<'a> {
    pub state: &'a ApiState,
    pub plan: Arc<Plan>,
}

fn over(plan: &Plan, code: &str) -> PlanDenial {
    PlanDenial::new(code, "over the plan's limit".into(), &plan.code)
}

#[async_trait::async_trait]
impl PlanCheck for KnownPlan<'_> {
    async fn check(
        &self,
        tx: &mut TenantTx,
        limit: Limit,
        adding: i64,
    ) -> Result<Result<(), PlanDenial>, AppError> {
        let fits = self
            .state
            .within_limit(tx, &self.plan, limit, adding)
            .await
            .map_err(to_app)?;
        Ok(fits.map_err(|_| over(&self.plan, "limit_reached")))
    }
}
