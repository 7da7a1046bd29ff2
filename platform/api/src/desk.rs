//! The front desk over HTTP: one lookup box (phone, its last four digits, card, member code,
//! name), a member's summary with what to notice, and the SMS code that confirms a large
//! redemption. The use cases are `patron_app::desk`; the member's own code is served by the
//! portal (`portalMyCode`).

use crate::edge::auth::{Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::member_views::KnownPlan;
use crate::edge::state::ApiState;
use crate::edge::tier_views::{MetricDoc, NamesDoc};
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::desk as app;
use patron_core::access::Permission;
use patron_core::tiers::Tier;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde_json::Value;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The front desk: finding a member in one step, their summary, confirmations.
    Desk,
}

pub struct DeskApi {
    pub state: ApiState,
}

/// A tier as the desk shows it.
#[derive(Debug, Clone, Object)]
pub struct DeskTier {
    pub code: String,
    pub name: NamesDoc,
    /// `#rrggbb`.
    pub color: String,
}

impl From<&Tier> for DeskTier {
    fn from(t: &Tier) -> Self {
        Self {
            code: t.code.clone(),
            name: (&t.name).into(),
            color: t.color.clone(),
        }
    }
}

/// One member a lookup found.
#[derive(Debug, Clone, Object)]
pub struct DeskMatch {
    pub id: Uuid,
    pub name: String,
    /// `136 **** 6666`.
    pub phone_masked: Option<String>,
    pub card_number: Option<String>,
    /// The tier's code (the ladder's first tier for members without a standing).
    pub tier: Option<String>,
    pub tier_name: Option<NamesDoc>,
    pub balance: i64,
    /// `active` (erased members are never found).
    pub status: String,
}

/// What the lookup box found.
#[derive(Debug, Clone, Object)]
pub struct DeskLookup {
    /// How the text was read: `phone`, `phone_last4`, `card`, `member_code` or `name`.
    pub kind: String,
    /// At most 20, newest members first.
    pub matches: Vec<DeskMatch>,
}

/// The next tier and what it still takes.
#[derive(Debug, Clone, Object)]
pub struct DeskNextTier {
    pub code: String,
    pub name: NamesDoc,
    /// How much more of the metric it takes (points, minor units of spend, or visits).
    pub remaining: i64,
    pub metric: MetricDoc,
    /// The last local day the window counts to, when it has one.
    pub by: Option<NaiveDate>,
}

/// Something a clerk should notice: `birthday_today`, `birthday_this_week` {days, on},
/// `points_expiring` {points, on} or `in_debt` {points}.
#[derive(Debug, Clone, Object)]
pub struct DeskAlert {
    pub code: String,
    pub params: Value,
}

/// Points about to expire.
#[derive(Debug, Clone, Object)]
pub struct DeskExpiring {
    pub points: i64,
    pub expires_at: DateTime<Utc>,
}

/// A member at a glance, for the desk.
#[derive(Debug, Clone, Object)]
pub struct MemberSummary {
    pub id: Uuid,
    pub name: String,
    /// `136 5555 6666` (masked as `136 **** 6666` without `members:read_pii`).
    pub phone: Option<String>,
    pub card_number: Option<String>,
    pub tags: Vec<String>,
    pub balance: i64,
    pub debt: i64,
    /// What the balance is worth at checkout, in minor units.
    pub balance_value: i64,
    pub tier: Option<DeskTier>,
    pub next_tier: Option<DeskNextTier>,
    /// The member's value of the ladder's metric in its window.
    pub tier_progress: Option<i64>,
    pub expiring: Option<DeskExpiring>,
    /// The latest local day with a check-in or a purchase.
    pub last_visit: Option<NaiveDate>,
    pub join_date: NaiveDate,
    pub birthday: Option<NaiveDate>,
    pub alerts: Vec<DeskAlert>,
}

/// An item the business sold lately, as the desk's item lines offer it.
#[derive(Debug, Clone, Object)]
pub struct DeskItem {
    pub sku: String,
    pub name: String,
    pub category: String,
    /// The price it was last sold at, in minor units.
    pub unit_price: i64,
}

/// What the desk's item lines offer.
#[derive(Debug, Clone, Object)]
pub struct DeskItems {
    /// Items of the latest 1,000 purchases matching `q`, the most recently sold first.
    pub items: Vec<DeskItem>,
    /// Every category the business uses (in those purchases, coupon templates' scopes and
    /// visit pass products), sorted.
    pub categories: Vec<String>,
}

/// A code was sent.
#[derive(Debug, Clone, Object)]
pub struct CodeSent {
    pub sent: bool,
}

fn can_see_pii(state: &ApiState, p: &Principal) -> bool {
    state.require(p, Permission::MembersReadPii).is_ok()
}

impl From<app::Summary> for MemberSummary {
    fn from(s: app::Summary) -> Self {
        let progress = s.tier.progress.as_ref();
        Self {
            id: s.member.id,
            name: s.member.name.clone(),
            phone: s.phone,
            card_number: s.member.card_number.clone(),
            tags: s.member.tags.clone(),
            balance: s.balance,
            debt: s.debt,
            balance_value: s.balance_value,
            tier: s.tier.tier.as_ref().map(DeskTier::from),
            next_tier: progress.and_then(|p| {
                p.next.as_ref().map(|(t, remaining)| DeskNextTier {
                    code: t.code.clone(),
                    name: (&t.name).into(),
                    remaining: *remaining,
                    metric: p.metric.into(),
                    by: p.by,
                })
            }),
            tier_progress: progress.map(|p| p.value),
            expiring: s
                .expiring
                .map(|(points, expires_at)| DeskExpiring { points, expires_at }),
            last_visit: s.last_visit,
            join_date: s.member.join_date,
            birthday: s.member.birthday,
            alerts: s
                .alerts
                .into_iter()
                .map(|a| DeskAlert {
                    code: a.code.to_owned(),
                    params: a.params,
                })
                .collect(),
        }
    }
}

#[OpenApi(tag = "Tag::Desk")]
impl DeskApi {
    /// Find a member from one box: a phone, the last four digits of a phone, a card number,
    /// the member's code from their portal, or a name. An expired member code is refused
    /// with `member_code_expired`, a forged one with `member_code_invalid` (field `q`).
    #[oai(path = "/desk/lookup", method = "get", operation_id = "deskLookup")]
    async fn lookup(
        &self,
        auth: TenantAuth,
        q: Query<String>,
    ) -> Result<Json<DeskLookup>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let found = app::lookup(
            &mut tx,
            &self.state.rules,
            &me.tenant,
            &self.state.config.pii,
            &q.0,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(DeskLookup {
            kind: found.kind.as_str().to_owned(),
            matches: found
                .matches
                .into_iter()
                .map(|m| DeskMatch {
                    id: m.member.id,
                    name: m.member.name,
                    phone_masked: m.phone_masked,
                    card_number: m.member.card_number,
                    tier: m.tier.as_ref().map(|t| t.code.clone()),
                    tier_name: m.tier.as_ref().map(|t| (&t.name).into()),
                    balance: m.balance,
                    status: m.member.status,
                })
                .collect(),
        }))
    }

    /// What the desk's item lines offer as the clerk types: items of the business's latest
    /// purchases whose name or SKU contains `q` (any case; blank: the latest), each with the
    /// price it was last sold at, and every category the business uses. `limit` 1 to 50
    /// (default 20).
    #[oai(path = "/desk/items", method = "get", operation_id = "deskItems")]
    async fn items(
        &self,
        auth: TenantAuth,
        #[oai(default)] q: Query<String>,
        /// How many items, 1–50 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "50")))]
        limit: Query<Option<i64>>,
    ) -> Result<Json<DeskItems>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let found = app::items(&mut tx, &q.0, limit.0).await?;
        tx.commit().await?;
        Ok(Json(DeskItems {
            items: found
                .items
                .into_iter()
                .map(|i| DeskItem {
                    sku: i.sku,
                    name: i.name,
                    category: i.category,
                    unit_price: i.unit_price,
                })
                .collect(),
            categories: found.categories,
        }))
    }

    /// A member at a glance: phone, card, tags, points, tier and what the next one takes,
    /// expiring points, last visit, and alerts (birthday, expiring points, debt).
    #[oai(
        path = "/members/:id/summary",
        method = "get",
        operation_id = "memberSummary"
    )]
    async fn summary(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<MemberSummary>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let s = app::summary(
            &mut tx,
            &self.state.rules,
            &me.tenant,
            &self.state.config.pii,
            id.0,
            can_see_pii(&self.state, &me),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }

    /// Send the member a code by SMS to confirm a redemption above the business's
    /// `redemption_check_above` (given as `sms_code` with the redemption).
    #[oai(
        path = "/members/:id/redemption-code",
        method = "post",
        operation_id = "sendRedemptionCode"
    )]
    async fn send_redemption_code(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<CodeSent>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        app::send_redemption_code(
            &mut tx,
            &me.tenant,
            &self.state.config.pii,
            &*self.state.sms,
            &KnownPlan {
                state: &self.state,
                plan: me.plan.clone(),
            },
            id.0,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        self.state.send_texts_now(&me.tenant);
        Ok(Json(CodeSent { sent: true }))
    }
}
