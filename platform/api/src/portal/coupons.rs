//! The member's coupons in the portal: theirs (with the code to show at the till), the
//! templates they may claim, and a claim (free, or for points taken from their balance for
//! the quantity claimed; idempotent by key).

use super::{MemberToken, PortalApi};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::coupons as app;
use patron_app::idempotency::Request;
use patron_core::idempotency::Scope;
use patron_core::plans::Feature;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub struct PortalCouponsApi {
    pub state: ApiState,
}

/// A coupon of the member's.
#[derive(Debug, Clone, Object)]
pub struct MyCoupon {
    pub id: Uuid,
    /// What the till scans or types.
    pub code: String,
    pub template_name: String,
    /// `amount_off`, `percent_off`, `threshold`, `gift` or `free_visit`.
    pub kind: String,
    pub amount: i64,
    pub percent: i64,
    pub cap: Option<i64>,
    pub min_spend: i64,
    pub gift: Option<String>,
    /// `issued`, `used`, `voided`, `expired` or `not_yet_valid`.
    pub status: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A coupon the member may claim.
#[derive(Debug, Clone, Object)]
pub struct ClaimableCoupon {
    pub template_id: Uuid,
    pub name: String,
    pub kind: String,
    pub amount: i64,
    pub percent: i64,
    pub cap: Option<i64>,
    pub min_spend: i64,
    pub gift: Option<String>,
    /// Points per coupon (0: free).
    pub points_price: i64,
    /// How many are left in all (none: no limit).
    pub left: Option<i64>,
    pub per_member: Option<i32>,
    pub valid_days: Option<i64>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// A claim: a claimable template by id, or any template by its shared code.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct CouponClaim {
    pub template_id: Option<Uuid>,
    #[oai(validator(max_length = 40))]
    pub code: Option<String>,
    /// 1 to 20; defaults to 1. A claim for points costs the price times the quantity.
    pub quantity: Option<i64>,
    /// A retry with the same key answers the first claim.
    #[oai(validator(max_length = 100))]
    #[serde(skip)]
    pub idempotency_key: String,
}

/// Coupons claimed, and what they cost.
#[derive(Debug, Clone, Object)]
pub struct ClaimedCoupons {
    pub template_name: String,
    pub codes: Vec<String>,
    pub valid_until: DateTime<Utc>,
    pub points: i64,
    pub balance: Option<i64>,
    pub replayed: bool,
}

fn unavailable() -> ApiError {
    ApiError::forbidden(
        "coupons_unavailable",
        "this business does not offer coupons",
    )
}

impl PortalCouponsApi {
    fn portal(&self) -> PortalApi {
        PortalApi {
            state: self.state.clone(),
        }
    }
}

#[OpenApi(tag = "super::Tag::Portal")]
impl PortalCouponsApi {
    /// The member's coupons, newest first (none when the business's plan has no coupons).
    #[oai(
        path = "/portal/:tenant/me/coupons",
        method = "get",
        operation_id = "portalMyCoupons"
    )]
    async fn mine(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Vec<MyCoupon>>, ApiError> {
        let (mut tx, t, m) = self.portal().member(&tenant.0, &auth).await?;
        if !self.state.plan_of(&t).await?.has(Feature::Coupons) {
            return Ok(Json(vec![]));
        }
        let cs = app::member_coupons(&mut tx, m.id).await?;
        tx.commit().await?;
        let now = self.state.now();
        Ok(Json(
            cs.into_iter()
                .map(|c| {
                    let terms = app::terms_of(&c.terms.0).ok();
                    MyCoupon {
                        status: app::shown_status(&c, now).to_owned(),
                        id: c.id,
                        code: c.code,
                        template_name: c.template_name,
                        kind: terms.as_ref().map(|t| t.kind.as_str()).unwrap_or("").into(),
                        amount: terms.as_ref().map_or(0, |t| t.amount),
                        percent: terms.as_ref().map_or(0, |t| t.percent),
                        cap: terms.as_ref().and_then(|t| t.cap),
                        min_spend: terms.as_ref().map_or(0, |t| t.min_spend),
                        gift: terms.and_then(|t| t.gift),
                        valid_from: c.valid_from,
                        valid_until: c.valid_until,
                        used_at: c.used_at,
                    }
                })
                .collect(),
        ))
    }

    /// The coupons the member may claim (none when the business's plan has no coupons).
    #[oai(
        path = "/portal/:tenant/me/claimable-coupons",
        method = "get",
        operation_id = "portalClaimableCoupons"
    )]
    async fn claimable(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Vec<ClaimableCoupon>>, ApiError> {
        let (mut tx, t, _) = self.portal().member(&tenant.0, &auth).await?;
        if !self.state.plan_of(&t).await?.has(Feature::Coupons) {
            return Ok(Json(vec![]));
        }
        let ts = patron_db::coupons::templates(&mut tx, true)
            .await
            .map_err(patron_app::AppError::from)?;
        tx.commit().await?;
        Ok(Json(
            ts.into_iter()
                .filter_map(|t| {
                    let terms = app::terms_of(&t.terms.0).ok()?;
                    Some(ClaimableCoupon {
                        template_id: t.id,
                        name: t.name,
                        kind: terms.kind.as_str().into(),
                        amount: terms.amount,
                        percent: terms.percent,
                        cap: terms.cap,
                        min_spend: terms.min_spend,
                        gift: terms.gift,
                        points_price: t.points_price,
                        left: t.total.map(|n| i64::from(n - t.issued)),
                        per_member: t.per_member,
                        valid_days: terms.valid_days,
                        valid_until: terms.valid_until,
                    })
                })
                .collect(),
        ))
    }

    /// Claim coupons: a claimable template by id, or a shared code. Free, or for the
    /// template's points price times the quantity (409 `insufficient_points`); within its
    /// total, per-member and per-day limits (409 `coupon_sold_out`, `coupon_member_limit`,
    /// `coupon_day_limit`). Idempotent by `idempotency_key`.
    #[oai(
        path = "/portal/:tenant/me/coupons/claim",
        method = "post",
        operation_id = "portalClaimCoupon"
    )]
    async fn claim(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        body: Json<CouponClaim>,
    ) -> Result<Json<ClaimedCoupons>, ApiError> {
        let (mut tx, t, m) = self.portal().member(&tenant.0, &auth).await?;
        let plan = self.state.open_for_members(&t).await?;
        if !plan.has(Feature::Coupons) {
            return Err(unavailable());
        }
        let b = body.0;
        let claim = app::Claim {
            template_id: b.template_id,
            code: b.code.clone(),
            quantity: b.quantity.unwrap_or(1),
        };
        let mut v = patron_core::Validation::new();
        patron_app::points::check_external_id(&mut v, "idempotency_key", &b.idempotency_key);
        v.finish().map_err(patron_app::AppError::invalid)?;
        let now = self.state.now();
        let key = Request::scoped(
            Scope::CouponClaim,
            m.id,
            "idempotency_key",
            &b.idempotency_key,
            &claim,
        );
        let zone = t.settings.zone();
        let r = app::claim(&mut tx, zone, m.id, &claim, &key, now).await?;
        tx.commit().await?;
        Ok(Json(ClaimedCoupons {
            template_name: r.template_name,
            codes: r.codes,
            valid_until: r.valid_until,
            points: r.points,
            balance: r.balance,
            replayed: r.replayed,
        }))
    }
}
