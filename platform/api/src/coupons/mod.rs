//! Coupons over HTTP: templates (versioned), batches of codes, coupons given to members,
//! a coupon's life and its void, and the validation of a cart's codes (what `POST
//! /purchases` would do with them, written nowhere). The use cases are
//! `patron_app::coupons`; bodies in [`dto`]. The portal's side (my coupons, claims) is in
//! `portal::coupons`.

pub mod dto;

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_coupons;
use crate::edge::member_views::StaffPlan;
use crate::edge::state::ApiState;
use dto::{
    Coupon, CouponBatch, CouponCart, CouponCheck, CouponReservation, CouponTemplate, CouponVoid,
    IssuedCoupons, NewCouponBatch, NewCouponIssue, NewCouponReservation, NewCouponTemplate,
    NewSegmentIssue, SegmentIssue, TemplateArchived,
};
use patron_app::coupons as app;
use patron_app::fields::current_fields;
use patron_app::idempotency::{self, Request};
use patron_core::access::Permission;
use patron_core::idempotency::Scope;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};
use serde_json::json;
use uuid::Uuid;

/// A cart let go of a coupon.
#[derive(poem_openapi::ApiResponse)]
enum Released {
    /// The coupon is no longer held by the reservation.
    #[oai(status = 204)]
    Done,
}

#[derive(Tags)]
enum Tag {
    /// Coupons: templates, batches of codes, coupons given to members, and what a cart's
    /// codes take off.
    Coupons,
}

pub struct CouponsApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Coupons")]
impl CouponsApi {
    /// The business's coupon templates, archived last.
    #[oai(
        path = "/coupon-templates",
        method = "get",
        operation_id = "couponTemplates",
        transform = "needs_coupons"
    )]
    async fn templates(&self, auth: TenantAuth) -> Result<Json<Vec<CouponTemplate>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let ts = app::templates(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(ts.into_iter().map(Into::into).collect()))
    }

    /// Create a coupon template: its terms (kind, validity, scope, stacking, refund policy)
    /// and quantities (total, per member, per day).
    #[oai(
        path = "/coupon-templates",
        method = "post",
        operation_id = "createCouponTemplate",
        transform = "needs_coupons"
    )]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<NewCouponTemplate>,
    ) -> Result<Json<CouponTemplate>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let plan = StaffPlan {
            state: self.state.clone(),
            principal: me.clone(),
        };
        let t = app::create_template(
            &mut tx,
            &plan,
            &body.0.into(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(t.into()))
    }

    /// One coupon template.
    #[oai(
        path = "/coupon-templates/:template_id",
        method = "get",
        operation_id = "getCouponTemplate",
        transform = "needs_coupons"
    )]
    async fn get(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
    ) -> Result<Json<CouponTemplate>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let t = app::template(&mut tx, template_id.0).await?;
        tx.commit().await?;
        Ok(Json(t.into()))
    }

    /// Change a coupon template: a new version. Coupons issued before keep the terms they
    /// were issued under.
    #[oai(
        path = "/coupon-templates/:template_id",
        method = "put",
        operation_id = "updateCouponTemplate",
        transform = "needs_coupons"
    )]
    async fn update(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
        body: Json<NewCouponTemplate>,
    ) -> Result<Json<CouponTemplate>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let t = app::update_template(
            &mut tx,
            template_id.0,
            &body.0.into(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(t.into()))
    }

    /// Archive a template (it gives no more coupons; those given keep working), or bring it
    /// back.
    #[oai(
        path = "/coupon-templates/:template_id/archived",
        method = "put",
        operation_id = "setCouponTemplateArchived",
        transform = "needs_coupons"
    )]
    async fn archive(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
        body: Json<TemplateArchived>,
    ) -> Result<Json<CouponTemplate>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let plan = StaffPlan {
            state: self.state.clone(),
            principal: me,
        };
        let t = app::set_archived(
            &mut tx,
            &plan,
            template_id.0,
            body.0.archived,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(t.into()))
    }

    /// Issue one coupon of the template to every member a search finds, as a background
    /// job (within the template's total and per-member limits and the plan's coupons of
    /// the month); the answer is the run, whose progress `couponSegmentIssues` shows.
    #[oai(
        path = "/coupon-templates/:template_id/segment-issues",
        method = "post",
        operation_id = "issueCouponsToSegment",
        transform = "needs_coupons"
    )]
    async fn issue_to_segment(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
        body: Json<NewSegmentIssue>,
    ) -> Result<Json<SegmentIssue>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let b = body.0;
        let mut req: patron_app::members::SearchRequest = b.filter.into();
        (req.after, req.limit) = (None, None);
        let (_, set) = current_fields(&mut tx).await?;
        let in_filter = |e: patron_app::AppError| match e {
            patron_app::AppError::Invalid(fields) => patron_app::AppError::Invalid(
                fields
                    .into_iter()
                    .map(|mut f| {
                        f.field = format!("filter.{}", f.field);
                        f
                    })
                    .collect(),
            ),
            e => e,
        };
        let mut search = patron_app::members::search::build_search(
            &req,
            &set,
            &self.state.config.pii,
            &me.tenant.settings.phone_region,
        )
        .map_err(in_filter)?;
        search.tier = patron_app::members::search::tier_filter(
            &self.state.rules,
            &mut tx,
            req.tier.as_deref(),
        )
        .await
        .map_err(in_filter)?;
        let now = self.state.now();
        let key = Request::optional(
            Scope::CouponSegmentIssue,
            template_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "filter": format!("{search:?}") }),
        )?;
        let zone = me.tenant.settings.zone();
        let actor = me.subject();
        let started = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::segment::start(tx, template_id.0, &search, zone, &actor, now).await
        })
        .await?;
        // A replay answers with the run as it is now.
        let current = app::segment::runs(&mut tx, template_id.0)
            .await?
            .into_iter()
            .find(|r| r.id == started.id)
            .unwrap_or(started);
        tx.commit().await?;
        if current.status == "running" {
            app::segment::enqueue(&self.state.db, me.tenant.id, current.id, now).await;
        }
        Ok(Json(current.into()))
    }

    /// A template's segment issues with their progress, newest first (the last 50).
    #[oai(
        path = "/coupon-templates/:template_id/segment-issues",
        method = "get",
        operation_id = "couponSegmentIssues",
        transform = "needs_coupons"
    )]
    async fn segment_issues(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
    ) -> Result<Json<Vec<SegmentIssue>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let rs = app::segment::runs(&mut tx, template_id.0).await?;
        tx.commit().await?;
        Ok(Json(rs.into_iter().map(Into::into).collect()))
    }

    /// A template's batches of codes, newest first.
    #[oai(
        path = "/coupon-templates/:template_id/batches",
        method = "get",
        operation_id = "couponBatches",
        transform = "needs_coupons"
    )]
    async fn batches(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
    ) -> Result<Json<Vec<CouponBatch>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let bs = app::batches(&mut tx, template_id.0).await?;
        tx.commit().await?;
        Ok(Json(bs.into_iter().map(Into::into).collect()))
    }

    /// Generate a batch of unique codes (not bound to anyone until one is used), within the
    /// template's total.
    #[oai(
        path = "/coupon-templates/:template_id/batches",
        method = "post",
        operation_id = "createCouponBatch",
        transform = "needs_coupons"
    )]
    async fn create_batch(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
        body: Json<NewCouponBatch>,
    ) -> Result<Json<CouponBatch>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let b = body.0;
        let batch = app::NewBatch {
            count: b.count,
            pattern: b.pattern,
            charset: b.charset,
            prefix: b.prefix,
        };
        let now = self.state.now();
        let key = Request::optional(
            Scope::CouponBatch,
            template_id.0,
            b.idempotency_key.as_deref(),
            &batch,
        )?;
        let zone = me.tenant.settings.zone();
        let actor = me.subject();
        let done = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::batch(tx, zone, template_id.0, &batch, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(done.into()))
    }

    /// A batch's codes (for export), in code order.
    #[oai(
        path = "/coupon-templates/:template_id/batches/:batch_id/codes",
        method = "get",
        operation_id = "couponBatchCodes",
        transform = "needs_coupons"
    )]
    async fn batch_codes(
        &self,
        auth: TenantAuth,
        template_id: Path<Uuid>,
        batch_id: Path<Uuid>,
    ) -> Result<Json<Vec<Coupon>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let cs = app::batch_codes(&mut tx, template_id.0, batch_id.0).await?;
        tx.commit().await?;
        let now = self.state.now();
        Ok(Json(cs.into_iter().map(|c| Coupon::of(c, now)).collect()))
    }

    /// A member's coupons, newest first.
    #[oai(
        path = "/members/:id/coupons",
        method = "get",
        operation_id = "memberCoupons",
        transform = "needs_coupons"
    )]
    async fn member_coupons(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<Coupon>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let cs = app::member_coupons(&mut tx, id.0).await?;
        tx.commit().await?;
        let now = self.state.now();
        Ok(Json(cs.into_iter().map(|c| Coupon::of(c, now)).collect()))
    }

    /// Give a member coupons of a template (within its total, per-member and per-day
    /// limits: 409 `coupon_sold_out`, `coupon_member_limit`, `coupon_day_limit`).
    #[oai(
        path = "/members/:id/coupons",
        method = "post",
        operation_id = "issueCoupons",
        transform = "needs_coupons"
    )]
    async fn issue(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewCouponIssue>,
    ) -> Result<Json<IssuedCoupons>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let b = body.0;
        let quantity = b.quantity.unwrap_or(1);
        let now = self.state.now();
        let key = Request::optional(
            Scope::CouponIssue,
            id.0,
            b.idempotency_key.as_deref(),
            &json!({ "template_id": b.template_id, "quantity": quantity }),
        )?;
        let zone = me.tenant.settings.zone();
        let actor = me.subject();
        let done = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::issue_to_member(tx, zone, id.0, b.template_id, quantity, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(done.into()))
    }

    /// One coupon, with its life (issued, used, voided, restored).
    #[oai(
        path = "/coupons/:coupon_id",
        method = "get",
        operation_id = "getCoupon",
        transform = "needs_coupons"
    )]
    async fn coupon(
        &self,
        auth: TenantAuth,
        coupon_id: Path<Uuid>,
    ) -> Result<Json<Coupon>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let c = app::coupon(&mut tx, coupon_id.0).await?;
        tx.commit().await?;
        Ok(Json(Coupon::of(c, self.state.now())))
    }

    /// Void an issued coupon, with a reason (409 `coupon_not_voidable` once used or voided).
    #[oai(
        path = "/coupons/:coupon_id/void",
        method = "post",
        operation_id = "voidCoupon",
        transform = "needs_coupons"
    )]
    async fn void(
        &self,
        auth: TenantAuth,
        coupon_id: Path<Uuid>,
        body: Json<CouponVoid>,
    ) -> Result<Json<Coupon>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RewardsManage))
            .await?;
        let now = self.state.now();
        let c = app::void(&mut tx, coupon_id.0, &body.0.reason, &me.subject(), now).await?;
        tx.commit().await?;
        Ok(Json(Coupon::of(c, now)))
    }

    /// What a cart's coupon codes take off, or why each does not apply: the same answer
    /// `POST /purchases` gives, written nowhere (what the till shows before payment).
    #[oai(
        path = "/coupons/validate",
        method = "post",
        operation_id = "validateCoupons",
        transform = "needs_coupons"
    )]
    async fn validate(
        &self,
        auth: TenantAuth,
        body: Json<CouponCart>,
    ) -> Result<Json<CouponCheck>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let v = app::validate(
            &mut tx,
            &self.state.rules,
            &me.tenant,
            &self.state.config.pii,
            &body.0.into(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(v.into()))
    }

    /// Hold a coupon for a cart for some minutes: a purchase carrying the answer's
    /// `reservation_id` (`coupon_reservation`) uses it; any other purchase is refused with
    /// reason `reserved` until it lapses (by the clock) or is let go. A cart holding several
    /// coupons sends its own `reservation_id` with each; holding again under the same id
    /// extends the hold. 409
    /// `coupon_reserved` while another reservation holds it, `coupon_not_reservable` when it
    /// is used, voided or expired.
    #[oai(
        path = "/coupons/:code/reservations",
        method = "post",
        operation_id = "reserveCoupon",
        transform = "needs_coupons"
    )]
    async fn reserve(
        &self,
        auth: TenantAuth,
        code: Path<String>,
        body: Json<NewCouponReservation>,
    ) -> Result<Json<CouponReservation>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let r = patron_app::coupons::redeem::reserve(
            &mut tx,
            &code.0,
            body.0.minutes,
            body.0.reservation_id,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(CouponReservation {
            reservation_id: r.reservation_id,
            code: r.code,
            member_id: r.member_id,
            reserved_until: r.reserved_until,
        }))
    }

    /// Let go of a coupon a cart holds (the clerk took it off, or closed the cart): 204,
    /// also when this reservation does not hold it (lapsed, used, never held). 404 for a
    /// code that is not an issued coupon of the business.
    #[oai(
        path = "/coupons/:code/reservations/:reservation_id",
        method = "delete",
        operation_id = "releaseCoupon",
        transform = "needs_coupons"
    )]
    async fn release(
        &self,
        auth: TenantAuth,
        code: Path<String>,
        reservation_id: Path<Uuid>,
    ) -> Result<Released, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        patron_app::coupons::redeem::release(
            &mut tx,
            &code.0,
            reservation_id.0,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Released::Done)
    }
}
