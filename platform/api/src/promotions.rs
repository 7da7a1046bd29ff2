//! Promotions (优惠活动) over HTTP: drafts created and replaced, published, stopped or
//! deleted; the list with where each stands and one promotion's results. The member's side
//! is in `portal::promotions`. The use cases are `patron_app::promotions`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_promotions;
use crate::edge::state::ApiState;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::promotions as app;
use patron_core::access::Permission;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Promotions (优惠活动): offers for a period, with points, coupons or mall prices.
    Promotions,
}

pub struct PromotionsApi {
    pub state: ApiState,
}

/// A reduced points price of a mall item during the promotion.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PromotionItemInput {
    pub item_id: Uuid,
    /// Points one unit costs during the promotion.
    pub points: i64,
}

/// A promotion to create, or all of a draft's values to replace.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PromotionInput {
    pub name: String,
    pub description: Option<String>,
    /// The first day, in the business's time zone (included).
    pub starts_on: NaiveDate,
    /// The last day, in the business's time zone (included).
    pub ends_on: NaiveDate,
    /// Tier codes whose members it is for; everyone when empty.
    #[oai(default)]
    pub tiers: Vec<String>,
    /// Multiplies the points the purchase rule gives (above 1, at most 10, such as 1.5).
    pub multiplier: Option<f64>,
    /// Points added to every purchase during the period.
    pub bonus_points: Option<i64>,
    /// A coupon of this template for each member who buys during the period (once).
    pub coupon_template_id: Option<Uuid>,
    /// Mall items at a reduced points price during the period.
    #[oai(default)]
    pub mall_items: Vec<PromotionItemInput>,
}

impl From<PromotionInput> for app::PromotionInput {
    fn from(b: PromotionInput) -> Self {
        Self {
            name: b.name,
            description: b.description,
            starts_on: b.starts_on,
            ends_on: b.ends_on,
            tiers: b.tiers,
            multiplier: b.multiplier,
            bonus_points: b.bonus_points,
            coupon_template_id: b.coupon_template_id,
            mall_items: b
                .mall_items
                .into_iter()
                .map(|i| app::ItemPriceInput {
                    item_id: i.item_id,
                    points: i.points,
                })
                .collect(),
        }
    }
}

/// A mall item's price during a promotion.
#[derive(Debug, Clone, Object)]
pub struct PromotionItem {
    pub item_id: Uuid,
    pub item_name: String,
    /// The item's own price.
    pub item_points: i64,
    /// Its price during the promotion.
    pub points: i64,
}

/// What a promotion did.
#[derive(Debug, Clone, Object)]
pub struct PromotionResults {
    /// Members who bought during it (in its audience).
    pub members: i64,
    pub purchases: i64,
    /// What they paid, in minor units.
    pub sales: i64,
    /// Points it added.
    pub points: i64,
    pub coupons_issued: i64,
    pub coupons_used: i64,
}

/// A promotion.
#[derive(Debug, Clone, Object)]
pub struct Promotion {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// When the first day starts and the day after the last starts (the business's zone).
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The business's time zone.
    pub time_zone: String,
    pub tiers: Vec<String>,
    pub multiplier: Option<f64>,
    pub bonus_points: Option<i64>,
    pub coupon_template_id: Option<Uuid>,
    pub coupon_template_name: Option<String>,
    pub mall_items: Vec<PromotionItem>,
    /// `draft`, `scheduled`, `running`, `ended` or `stopped`.
    pub phase: String,
    pub published_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub results: Option<PromotionResults>,
}

pub fn promotion_dto(v: app::View, zone: patron_core::Zone) -> Promotion {
    let p = v.promotion;
    Promotion {
        id: p.id,
        name: p.name,
        description: p.description,
        starts_on: p.starts_on,
        ends_on: p.ends_on,
        starts_at: p.starts_at,
        ends_at: p.ends_at,
        time_zone: zone.name().to_owned(),
        tiers: p.tiers,
        multiplier: p.multiplier_pct.map(|x| f64::from(x) / 100.0),
        bonus_points: p.bonus_points,
        coupon_template_id: p.coupon_template_id,
        coupon_template_name: v.coupon_template_name,
        mall_items: v
            .mall_items
            .into_iter()
            .map(|i| PromotionItem {
                item_id: i.item_id,
                item_name: i.item_name,
                item_points: i.item_points,
                points: i.points,
            })
            .collect(),
        phase: v.phase.as_str().to_owned(),
        published_at: p.published_at,
        stopped_at: p.stopped_at,
        created_at: p.created_at,
        updated_at: p.updated_at,
        results: v.results.map(|r| PromotionResults {
            members: r.members,
            purchases: r.purchases,
            sales: r.sales,
            points: r.points,
            coupons_issued: r.coupons_issued,
            coupons_used: r.coupons_used,
        }),
    }
}

#[OpenApi(tag = "Tag::Promotions")]
impl PromotionsApi {
    /// Promotions, newest first, with where each stands and its results; only those in
    /// `phase` (`draft`, `scheduled`, `running`, `ended`, `stopped`) when given.
    #[oai(
        path = "/promotions",
        method = "get",
        operation_id = "promotions",
        transform = "needs_promotions"
    )]
    async fn list(
        &self,
        auth: TenantAuth,
        phase: Query<Option<String>>,
    ) -> Result<Json<Vec<Promotion>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let zone = me.tenant.settings.zone();
        let vs = app::list(&mut tx, phase.0.as_deref(), self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(
            vs.into_iter().map(|v| promotion_dto(v, zone)).collect(),
        ))
    }

    /// Create a promotion (a draft: it gives nothing until published).
    #[oai(
        path = "/promotions",
        method = "post",
        operation_id = "createPromotion",
        transform = "needs_promotions"
    )]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<PromotionInput>,
    ) -> Result<Json<Promotion>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let zone = me.tenant.settings.zone();
        let v = app::create(
            &mut tx,
            zone,
            &body.0.into(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(promotion_dto(v, zone)))
    }

    /// One promotion, with its results.
    #[oai(
        path = "/promotions/:promotion_id",
        method = "get",
        operation_id = "promotion",
        transform = "needs_promotions"
    )]
    async fn get(
        &self,
        auth: TenantAuth,
        promotion_id: Path<Uuid>,
    ) -> Result<Json<Promotion>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let v = app::get(&mut tx, promotion_id.0, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(promotion_dto(v, me.tenant.settings.zone())))
    }

    /// Replace a draft's values; 409 `promotion_not_draft` once published.
    #[oai(
        path = "/promotions/:promotion_id",
        method = "put",
        operation_id = "updatePromotion",
        transform = "needs_promotions"
    )]
    async fn update(
        &self,
        auth: TenantAuth,
        promotion_id: Path<Uuid>,
        body: Json<PromotionInput>,
    ) -> Result<Json<Promotion>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let zone = me.tenant.settings.zone();
        let v = app::update(
            &mut tx,
            zone,
            promotion_id.0,
            &body.0.into(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(promotion_dto(v, zone)))
    }

    /// Delete a draft; 409 `promotion_not_draft` once published.
    #[oai(
        path = "/promotions/:promotion_id",
        method = "delete",
        operation_id = "deletePromotion",
        transform = "needs_promotions"
    )]
    async fn delete(&self, auth: TenantAuth, promotion_id: Path<Uuid>) -> Result<(), ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        app::delete(&mut tx, promotion_id.0, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Publish a draft: scheduled until its first day, running through its last. 409
    /// `promotion_not_draft`, or `promotion_period_over` when its last day is past.
    #[oai(
        path = "/promotions/:promotion_id/publish",
        method = "post",
        operation_id = "publishPromotion",
        transform = "needs_promotions"
    )]
    async fn publish(
        &self,
        auth: TenantAuth,
        promotion_id: Path<Uuid>,
    ) -> Result<Json<Promotion>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let v = app::publish(&mut tx, promotion_id.0, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        app::forget(&self.state.rules, me.tenant.id).await;
        Ok(Json(promotion_dto(v, me.tenant.settings.zone())))
    }

    /// Stop a scheduled or running promotion: it gives nothing from now on. 409
    /// `promotion_not_stoppable` otherwise.
    #[oai(
        path = "/promotions/:promotion_id/stop",
        method = "post",
        operation_id = "stopPromotion",
        transform = "needs_promotions"
    )]
    async fn stop(
        &self,
        auth: TenantAuth,
        promotion_id: Path<Uuid>,
    ) -> Result<Json<Promotion>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let v = app::stop(&mut tx, promotion_id.0, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        app::forget(&self.state.rules, me.tenant.id).await;
        Ok(Json(promotion_dto(v, me.tenant.settings.zone())))
    }
}
