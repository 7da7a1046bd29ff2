//! Promotions in the member portal: the running and upcoming promotions a member may take
//! part in (for everyone or their tier), with what each gives. None when the business's plan
//! has no promotions. The use cases are `patron_app::promotions`.

use super::{MemberToken, PortalApi};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::promotions as app;
use patron_core::plans::Feature;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use uuid::Uuid;

pub struct PortalPromotionsApi {
    pub state: ApiState,
}

/// A mall item at a reduced price during a promotion, as members see it.
#[derive(Debug, Clone, Object)]
pub struct PortalPromotionItem {
    pub item_id: Uuid,
    pub item_name: String,
    pub item_points: i64,
    pub points: i64,
}

/// A promotion as members see it.
#[derive(Debug, Clone, Object)]
pub struct PortalPromotion {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// First and last day (included), in the business's time zone.
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `running` or `scheduled` (upcoming).
    pub phase: String,
    pub multiplier: Option<f64>,
    pub bonus_points: Option<i64>,
    /// The coupon each member who buys during it gets (once).
    pub coupon_template_name: Option<String>,
    pub mall_items: Vec<PortalPromotionItem>,
}

#[OpenApi(tag = "super::Tag::Portal")]
impl PortalPromotionsApi {
    /// The running and upcoming promotions for the member (everyone's and their tier's),
    /// soonest first; none when the business's plan has no promotions.
    #[oai(
        path = "/portal/:tenant/promotions",
        method = "get",
        operation_id = "portalPromotions"
    )]
    async fn list(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Vec<PortalPromotion>>, ApiError> {
        let portal = PortalApi {
            state: self.state.clone(),
        };
        let (mut tx, t, m) = portal.member(&tenant.0, &auth).await?;
        if !self.state.plan_of(&t).await?.has(Feature::Promotions) {
            return Ok(Json(Vec::new()));
        }
        let vs = app::for_member(&mut tx, m.id, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(
            vs.into_iter()
                .map(|v| {
                    let p = v.promotion;
                    PortalPromotion {
                        id: p.id,
                        name: p.name,
                        description: p.description,
                        starts_on: p.starts_on,
                        ends_on: p.ends_on,
                        starts_at: p.starts_at,
                        ends_at: p.ends_at,
                        phase: v.phase.as_str().to_owned(),
                        multiplier: p.multiplier_pct.map(|x| f64::from(x) / 100.0),
                        bonus_points: p.bonus_points,
                        coupon_template_name: v.coupon_template_name,
                        mall_items: v
                            .mall_items
                            .into_iter()
                            .map(|i| PortalPromotionItem {
                                item_id: i.item_id,
                                item_name: i.item_name,
                                item_points: i.item_points,
                                points: i.points,
                            })
                            .collect(),
                    }
                })
                .collect(),
        ))
    }
}
