//! Activities over HTTP, for staff: the activities and their states, the sign-ups (add,
//! approve, reject, move, cancel), check-in by code, ratings and statistics. Members sign
//! up in the portal (`portal::activities`). The use cases are `patron_app::activities`.

pub mod dto;

use crate::edge::auth::{Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::needs_activities;
use crate::edge::state::ApiState;
use dto::{
    Activity, ActivityCheckIn, ActivityKey, ActivityMove, ActivityPhoto, ActivityRating,
    ActivityRatingHidden, ActivityRegistration, ActivityRejection, ActivityStatistics,
    ActivityStatusChange, NewActivity, NewActivityPhoto, NewActivityRegistration,
};
use dto::{ActivityGuest, NewActivityGuest};
use patron_app::activities::ActivityInput;
use patron_app::activities::{after, check_in, guests, manage, photos, seats, Ctx};
use patron_app::idempotency::{self, Request};
use patron_app::uploads;
use patron_core::access::Permission;
use patron_core::activities::PriceKind;
use patron_core::idempotency::Scope;
use patron_core::plans::Feature;
use patron_core::uploads::Purpose;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};
use serde_json::json;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Activities: sign-ups with seats and a waitlist, check-in, ratings.
    Activities,
}

pub struct ActivitiesApi {
    pub state: ApiState,
}

impl ActivitiesApi {
    /// 402 naming `stored_value` or `visit_passes` when the price is paid in what the plan
    /// does not include.
    async fn price_gate(&self, me: &Principal, input: &ActivityInput) -> Result<(), ApiError> {
        match input.price_kind() {
            Some(PriceKind::StoredValue) => {
                self.state.require_feature(me, Feature::StoredValue).await
            }
            Some(PriceKind::Pass) => self.state.require_feature(me, Feature::VisitPasses).await,
            _ => Ok(()),
        }
    }
}

#[OpenApi(tag = "Tag::Activities")]
impl ActivitiesApi {
    /// The business's activities, soonest first; `status` (comma-separated) keeps those in
    /// these states.
    #[oai(
        path = "/activities",
        method = "get",
        operation_id = "listActivities",
        transform = "needs_activities"
    )]
    async fn list(
        &self,
        auth: TenantAuth,
        status: Query<Option<String>>,
    ) -> Result<Json<Vec<Activity>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let statuses = status.0.map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        });
        let rows = manage::list(&mut tx, statuses).await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for v in rows {
            out.push(self.out(me.tenant.id, v).await?);
        }
        Ok(Json(out))
    }

    /// Create an activity (a draft: members see it once published).
    #[oai(
        path = "/activities",
        method = "post",
        operation_id = "createActivity",
        transform = "needs_activities"
    )]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<NewActivity>,
    ) -> Result<Json<Activity>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let input = body.0.into();
        self.price_gate(&me, &input).await?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let a = manage::create(&mut tx, &c, &input).await?;
        tx.commit().await?;
        Ok(Json(self.out(me.tenant.id, a).await?))
    }

    /// One activity.
    #[oai(
        path = "/activities/:id",
        method = "get",
        operation_id = "getActivity",
        transform = "needs_activities"
    )]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<Activity>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let a = manage::get(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(self.out(me.tenant.id, a).await?))
    }

    /// Replace an activity's details (409 `activity_state` once finished or cancelled,
    /// `capacity_below_taken` below the seats already held).
    #[oai(
        path = "/activities/:id",
        method = "put",
        operation_id = "updateActivity",
        transform = "needs_activities"
    )]
    async fn update(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewActivity>,
    ) -> Result<Json<Activity>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let store = self.state.storage.as_deref();
        let input = body.0.into();
        self.price_gate(&me, &input).await?;
        let a = manage::update(&mut tx, &c, id.0, &input, store).await?;
        tx.commit().await?;
        Ok(Json(self.out(me.tenant.id, a).await?))
    }

    /// Move an activity on: draft -> published -> closed -> finished, or cancelled (every
    /// sign-up is cancelled and its points given back). 409 `activity_state` otherwise.
    #[oai(
        path = "/activities/:id/status",
        method = "put",
        operation_id = "setActivityStatus",
        transform = "needs_activities"
    )]
    async fn set_status(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<ActivityStatusChange>,
    ) -> Result<Json<Activity>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let a = manage::set_status(&mut tx, &c, id.0, &body.0.status).await?;
        tx.commit().await?;
        Ok(Json(self.out(me.tenant.id, a).await?))
    }

    /// The sign-ups: seat holders, offers, pending approvals, the line in order, the rest.
    #[oai(
        path = "/activities/:id/registrations",
        method = "get",
        operation_id = "activityRegistrations",
        transform = "needs_activities"
    )]
    async fn registrations(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<ActivityRegistration>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let rows = seats::registrations(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Sign a member up by hand: a seat when one is free, else the end of the line (no
    /// sign-up window, tier or approval applies). The price is charged at once, from their
    /// points, stored value or a pass (409 `insufficient_points`,
    /// `insufficient_stored_value`, `pass_unavailable`; nothing is written then).
    #[oai(
        path = "/activities/:id/registrations",
        method = "post",
        operation_id = "addActivityRegistration",
        transform = "needs_activities"
    )]
    async fn add(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewActivityRegistration>,
    ) -> Result<Json<ActivityRegistration>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivitySignUp,
            id.0,
            b.idempotency_key.as_deref(),
            &json!({ "member_id": b.member_id }),
        )?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            seats::sign_up(tx, &c, id.0, b.member_id, true).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// The activity's guests (people who are not members), in the order they were added.
    #[oai(
        path = "/activities/:id/guests",
        method = "get",
        operation_id = "listActivityGuests",
        transform = "needs_activities"
    )]
    async fn guests(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<ActivityGuest>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let rows = guests::list(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Add a guest who is not a member, by name and phone, to a free seat (the seats members
    /// take). 409 `activity_full` when none is free (guests are not put in line), 409
    /// `already_registered` on `phone` when that phone has a seat already.
    #[oai(
        path = "/activities/:id/guests",
        method = "post",
        operation_id = "addActivityGuest",
        transform = "needs_activities"
    )]
    async fn add_guest(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewActivityGuest>,
    ) -> Result<Json<ActivityGuest>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivityGuest,
            id.0,
            b.idempotency_key.as_deref(),
            &json!({ "name": b.name, "phone": b.phone }),
        )?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let g = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            guests::add(tx, &c, id.0, &b.name, &b.phone).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(g.into()))
    }

    /// Cancel a guest: the seat is offered to the first member in line.
    #[oai(
        path = "/activities/:id/guests/:guest_id/cancel",
        method = "post",
        operation_id = "cancelActivityGuest",
        transform = "needs_activities"
    )]
    async fn cancel_guest(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        guest_id: Path<Uuid>,
        body: Json<ActivityKey>,
    ) -> Result<Json<ActivityGuest>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivityGuest,
            guest_id.0,
            body.0.idempotency_key.as_deref(),
            &json!({ "cancel": true }),
        )?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let g = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            guests::cancel(tx, &c, id.0, guest_id.0).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(g.into()))
    }

    /// Check a guest in at the door, once (409 `already_checked_in` the second time).
    #[oai(
        path = "/activities/:id/guests/:guest_id/check-in",
        method = "post",
        operation_id = "checkInActivityGuest",
        transform = "needs_activities"
    )]
    async fn check_in_guest(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        guest_id: Path<Uuid>,
    ) -> Result<Json<ActivityGuest>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let g = guests::check_in(&mut tx, &c, id.0, guest_id.0).await?;
        tx.commit().await?;
        Ok(Json(g.into()))
    }

    /// Approve a pending sign-up: a seat when one is free, else the end of the line.
    #[oai(
        path = "/activities/:id/registrations/:registration_id/approve",
        method = "post",
        operation_id = "approveActivityRegistration",
        transform = "needs_activities"
    )]
    async fn approve(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        registration_id: Path<Uuid>,
        body: Json<ActivityKey>,
    ) -> Result<Json<ActivityRegistration>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivityDecision,
            registration_id.0,
            body.0.idempotency_key.as_deref(),
            &json!({ "decision": "approve" }),
        )?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            seats::approve(tx, &c, id.0, registration_id.0).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// Reject a sign-up that holds no seat (pending or in line), with a reason; its points
    /// go back.
    #[oai(
        path = "/activities/:id/registrations/:registration_id/reject",
        method = "post",
        operation_id = "rejectActivityRegistration",
        transform = "needs_activities"
    )]
    async fn reject(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        registration_id: Path<Uuid>,
        body: Json<ActivityRejection>,
    ) -> Result<Json<ActivityRegistration>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivityDecision,
            registration_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "decision": "reject", "reason": b.reason }),
        )?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            seats::reject(tx, &c, id.0, registration_id.0, &b.reason).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// Move someone: `seat` seats them ahead of the line when a seat is free (409
    /// `activity_full` otherwise); `waitlist` sends them to the end of the line, their seat
    /// offered to the next.
    #[oai(
        path = "/activities/:id/registrations/:registration_id/move",
        method = "post",
        operation_id = "moveActivityRegistration",
        transform = "needs_activities"
    )]
    async fn move_to(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        registration_id: Path<Uuid>,
        body: Json<ActivityMove>,
    ) -> Result<Json<ActivityRegistration>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivityDecision,
            registration_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "decision": "move", "to": b.to }),
        )?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            seats::move_to(tx, &c, id.0, registration_id.0, &b.to).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// Cancel a sign-up (any time): its points go back and its seat is offered to the next
    /// in line.
    #[oai(
        path = "/activities/:id/registrations/:registration_id/cancel",
        method = "post",
        operation_id = "cancelActivityRegistration",
        transform = "needs_activities"
    )]
    async fn cancel(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        registration_id: Path<Uuid>,
        body: Json<ActivityKey>,
    ) -> Result<Json<ActivityRegistration>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivityCancel,
            registration_id.0,
            body.0.idempotency_key.as_deref(),
            &json!({ "cancel": true }),
        )?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            seats::cancel(tx, &c, id.0, registration_id.0, None).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// Check someone in by the code their portal shows (scanned or typed). 422
    /// `check_in_code_expired` or `check_in_code_invalid` on `code`; a second check-in is a
    /// 409 `already_checked_in` with when and by whom. The points for attending are
    /// credited once.
    #[oai(
        path = "/activities/:id/check-ins",
        method = "post",
        operation_id = "checkInActivity",
        transform = "needs_activities"
    )]
    async fn check_in(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<ActivityCheckIn>,
    ) -> Result<Json<ActivityRegistration>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let r = check_in::check_in(&mut tx, &c, &self.state.config.pii, id.0, &body.0.code).await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// The ratings, newest first (hidden ones too, marked).
    #[oai(
        path = "/activities/:id/ratings",
        method = "get",
        operation_id = "activityRatings",
        transform = "needs_activities"
    )]
    async fn ratings(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<ActivityRating>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let rows = after::ratings(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Hide a rating from members (moderation), or show it again. Answers every rating.
    #[oai(
        path = "/activities/:id/ratings/:registration_id/hidden",
        method = "put",
        operation_id = "setActivityRatingHidden",
        transform = "needs_activities"
    )]
    async fn set_hidden(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        registration_id: Path<Uuid>,
        body: Json<ActivityRatingHidden>,
    ) -> Result<Json<Vec<ActivityRating>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let rows = after::set_hidden(
            &mut tx,
            id.0,
            registration_id.0,
            body.0.hidden,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }

    /// Sign-ups, attendance rate, no-shows, ratings and the cost per attendee.
    #[oai(
        path = "/activities/:id/statistics",
        method = "get",
        operation_id = "activityStatistics",
        transform = "needs_activities"
    )]
    async fn statistics(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ActivityStatistics>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let s = after::statistics(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(s.into()))
    }
    /// The activity's photo wall, oldest first, each with a short-lived address.
    #[oai(
        path = "/activities/:id/photos",
        method = "get",
        operation_id = "activityPhotos",
        transform = "needs_activities"
    )]
    async fn photos(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<ActivityPhoto>>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let rows = photos::list(&mut tx, id.0).await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            out.push(photo_view(store, me.tenant.id, p).await?);
        }
        Ok(Json(out))
    }

    /// Put a completed `activity_photo` upload on the activity's wall.
    #[oai(
        path = "/activities/:id/photos",
        method = "post",
        operation_id = "addActivityPhoto",
        transform = "needs_activities"
    )]
    async fn add_photo(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewActivityPhoto>,
    ) -> Result<Json<ActivityPhoto>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let actor = me.subject();
        let c = self.ctx(&me.tenant, &actor);
        let p = photos::add(&mut tx, &c, id.0, body.0.upload_id, None).await?;
        tx.commit().await?;
        Ok(Json(photo_view(store, me.tenant.id, p).await?))
    }

    /// Take a photo off the wall; its file is deleted and its storage given back.
    #[oai(
        path = "/activities/:id/photos/:photo_id",
        method = "delete",
        operation_id = "deleteActivityPhoto",
        transform = "needs_activities"
    )]
    async fn delete_photo(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        photo_id: Path<Uuid>,
    ) -> Result<(), ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        photos::delete(&mut tx, store, id.0, photo_id.0, None).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A photo with a short-lived address of its picture.
async fn photo_view(
    store: &dyn patron_core::ports::ObjectStore,
    tenant_id: i64,
    p: patron_db::uploads::Photo,
) -> Result<ActivityPhoto, ApiError> {
    let url = uploads::url_of(store, tenant_id, Purpose::ActivityPhoto, p.upload_id).await?;
    Ok(ActivityPhoto {
        id: p.id,
        upload_id: p.upload_id,
        member_id: p.member_id,
        added_by: p.added_by,
        created_at: p.created_at,
        file_name: p.file_name,
        size: p.size,
        url,
    })
}

impl ActivitiesApi {
    /// The activity as answered, its cover upload with a short-lived address.
    async fn out(
        &self,
        tenant_id: i64,
        v: patron_app::activities::ActivityView,
    ) -> Result<Activity, ApiError> {
        let mut a: Activity = v.into();
        if let (Some(id), Some(store)) = (a.cover_upload_id, self.state.storage.as_deref()) {
            a.cover_picture_url =
                Some(uploads::url_of(store, tenant_id, Purpose::ActivityCover, id).await?);
        }
        Ok(a)
    }

    fn ctx<'a>(&'a self, tenant: &'a patron_db::Tenant, actor: &'a str) -> Ctx<'a> {
        Ctx {
            engine: &self.state.rules,
            tenant,
            actor,
            now: self.state.now(),
            keys: Some(self.state.config.pii.as_ref()),
        }
    }
}
