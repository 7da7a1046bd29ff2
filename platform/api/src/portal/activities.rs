//! Activities in the member portal: the upcoming activities a member may join, signing up
//! and cancelling, taking an offered seat, the rotating check-in code of a registration
//! (shown as a QR code), and rating an activity they attended. The use cases are
//! `patron_app::activities`.

use super::{MemberToken, PortalApi};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::activities::{after, check_in, manage, photos, seats, Ctx};
use patron_app::idempotency::{self, Request};
use patron_app::uploads;
use patron_core::idempotency::Scope;
use patron_core::plans::Feature;
use patron_core::uploads::Purpose;
use patron_core::TenantId;
use patron_db::activities::{Activity, Registration};
use patron_db::members::Member;
use patron_db::{Tenant, TenantTx};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

pub struct PortalActivitiesApi {
    pub state: ApiState,
}

/// An activity as members see it.
#[derive(Debug, Clone, Object)]
pub struct PortalActivity {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub cover_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The business's time zone, to show the times in.
    pub time_zone: String,
    pub place: String,
    pub capacity: i32,
    pub seats_left: i32,
    /// `free`, `points` (`price_points`), `stored_value` (`price_fen`, minor units) or
    /// `pass` (one visit of a pass of `pass_product_name`).
    pub price_kind: String,
    pub price_points: i64,
    pub price_fen: i64,
    pub pass_product_name: Option<String>,
    pub attend_points: i64,
    pub signup_opens_at: Option<DateTime<Utc>>,
    pub signup_closes_at: Option<DateTime<Utc>>,
    pub cancel_until: Option<DateTime<Utc>>,
    /// `automatic` or `staff` (a sign-up waits for staff).
    pub approval: String,
    /// Whether it takes sign-ups now.
    pub open: bool,
    /// The member's live registration, if any.
    pub mine: Option<MyActivityRegistration>,
}

/// The member's own rating.
#[derive(Debug, Clone, Object)]
pub struct MyActivityRatingView {
    pub stars: i16,
    pub comment: String,
    /// It can be changed until then.
    pub editable_until: DateTime<Utc>,
}

/// One of the member's registrations.
#[derive(Debug, Clone, Object)]
pub struct MyActivityRegistration {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub activity_title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The business's time zone, to show the times in.
    pub time_zone: String,
    pub place: String,
    /// `pending`, `confirmed`, `waitlisted`, `offered`, `cancelled`, `rejected` or `lapsed`.
    pub status: String,
    /// The place in line, for `waitlisted`.
    pub position: Option<i64>,
    /// Until when an offered seat is held for the member.
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub points_paid: i64,
    /// Stored value charged, minor units.
    pub fen_paid: i64,
    /// Whether a pass visit was used.
    pub pass_used: bool,
    pub reason: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Whether the member may still cancel it.
    pub can_cancel: bool,
    pub rating: Option<MyActivityRatingView>,
}

/// An optional idempotency key.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MyActivityKey {
    /// Optional: a retry with the same key answers the first result.
    pub idempotency_key: Option<String>,
}

/// A registration's live check-in code.
#[derive(Debug, Clone, Object)]
pub struct ActivityCheckInCode {
    /// Show it as a QR code (staff may also type it).
    pub code: String,
    /// Fetch a fresh code at this time.
    pub refresh_at: DateTime<Utc>,
}

/// A rating of an attended activity.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MyActivityRating {
    /// 1 to 5.
    pub stars: i64,
    #[oai(default)]
    pub comment: String,
}

/// A photo on the wall of an activity the member signed up for.
#[derive(Debug, Clone, Object)]
pub struct PortalActivityPhoto {
    pub id: Uuid,
    /// A short-lived address of the picture.
    pub url: String,
    /// Added by this member (who may delete it).
    pub mine: bool,
    pub created_at: DateTime<Utc>,
}

/// A completed photo upload of the member's to put on the wall.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PortalNewActivityPhoto {
    pub upload_id: Uuid,
}

/// A photo about to be sent (`image/jpeg`, `image/png` or `image/webp`, at most 5 MiB).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PortalNewUpload {
    pub content_type: String,
    /// The exact size in bytes.
    pub size: i64,
    pub file_name: String,
}

/// Where to send the photo: `PUT put_url` with exactly `put_headers` and the declared
/// bytes, before `expires_at`; then complete it.
#[derive(Debug, Clone, Object)]
pub struct PortalUploadTicket {
    pub id: Uuid,
    pub put_url: String,
    pub put_headers: std::collections::BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

fn unavailable() -> ApiError {
    ApiError::forbidden(
        "activities_unavailable",
        "this business does not offer activities",
    )
}

impl PortalActivitiesApi {
    async fn member(
        &self,
        slug: &str,
        auth: &MemberToken,
        write: bool,
    ) -> Result<(TenantTx, Tenant, Member), ApiError> {
        let portal = PortalApi {
            state: self.state.clone(),
        };
        let (tx, t, m) = portal.member(slug, auth).await?;
        let plan = if write {
            self.state.open_for_members(&t).await?
        } else {
            self.state.plan_of(&t).await?
        };
        if !plan.has(Feature::Activities) {
            return Err(unavailable());
        }
        Ok((tx, t, m))
    }

    async fn mine(
        &self,
        tx: &mut TenantTx,
        r: Registration,
        a: &Activity,
        zone: patron_core::Zone,
    ) -> Result<MyActivityRegistration, ApiError> {
        let now = self.state.now();
        let rating = after::rating_of(tx, r.id)
            .await?
            .map(|x| MyActivityRatingView {
                stars: x.stars,
                comment: x.comment,
                editable_until: x.created_at
                    + chrono::Duration::days(patron_core::activities::RATING_EDIT_DAYS),
            });
        Ok(MyActivityRegistration {
            id: r.id,
            activity_id: a.id,
            activity_title: a.title.clone(),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            time_zone: zone.name().to_owned(),
            place: a.place.clone(),
            can_cancel: patron_core::activities::is_live(&r.status)
                && a.cancel_until.is_none_or(|u| now < u),
            status: r.status,
            position: r.position,
            offer_expires_at: r.offer_expires_at,
            points_paid: r.points_paid,
            fen_paid: r.fen_paid,
            pass_used: r.pass_use_id.is_some(),
            reason: r.reason,
            checked_in_at: r.checked_in_at,
            rating,
        })
    }

    fn ctx<'a>(&'a self, tenant: &'a Tenant, actor: &'a str) -> Ctx<'a> {
        Ctx {
            engine: &self.state.rules,
            tenant,
            actor,
            now: self.state.now(),
            keys: Some(self.state.config.pii.as_ref()),
        }
    }

    async fn registration_view(
        &self,
        tx: &mut TenantTx,
        r: Registration,
        zone: patron_core::Zone,
    ) -> Result<MyActivityRegistration, ApiError> {
        let a = manage::get(tx, r.activity_id).await?.activity;
        self.mine(tx, r, &a, zone).await
    }
}

#[OpenApi(tag = "super::Tag::Portal")]
impl PortalActivitiesApi {
    /// The upcoming activities the member may join (published, not over, open to their
    /// tier), soonest first, each with the member's own registration; none when the
    /// business's plan has no activities.
    #[oai(
        path = "/portal/:tenant/activities",
        method = "get",
        operation_id = "portalActivities"
    )]
    async fn list(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Vec<PortalActivity>>, ApiError> {
        // Without activities in the business's plan there is simply nothing to join (the
        // portal asks on every page to decide whether to show the tab).
        let (mut tx, t, m) = match self.member(&tenant.0, &auth, false).await {
            Err(e) if e.code() == "activities_unavailable" => return Ok(Json(Vec::new())),
            r => r?,
        };
        let actor = format!("member:{}", m.id);
        let c = self.ctx(&t, &actor);
        let rows = seats::open_to(&mut tx, &c, m.id).await?;
        let regs = seats::mine(&mut tx, m.id).await?;
        let mut out = Vec::with_capacity(rows.len());
        for a in rows {
            let live = regs
                .iter()
                .find(|(r, _)| r.activity_id == a.id && patron_core::activities::is_live(&r.status))
                .map(|(r, _)| r.clone());
            let mine = match live {
                Some(r) => Some(self.mine(&mut tx, r, &a, t.settings.zone()).await?),
                None => None,
            };
            let pass_product_name = manage::pass_product_name(&mut tx, &a).await?;
            out.push(PortalActivity {
                id: a.id,
                open: manage::open_for_sign_up(&a, c.now),
                title: a.title,
                description: a.description,
                cover_url: match (a.cover_upload_id, self.state.storage.as_deref()) {
                    (Some(id), Some(store)) => {
                        Some(uploads::url_of(store, t.id, Purpose::ActivityCover, id).await?)
                    }
                    _ => a.cover_url,
                },
                starts_at: a.starts_at,
                ends_at: a.ends_at,
                time_zone: t.settings.zone().name().to_owned(),
                place: a.place,
                capacity: a.capacity,
                seats_left: (a.capacity - a.taken).max(0),
                pass_product_name,
                price_kind: a.price_kind,
                price_fen: a.price_fen,
                price_points: a.price_points,
                attend_points: a.attend_points,
                signup_opens_at: a.signup_opens_at,
                signup_closes_at: a.signup_closes_at,
                cancel_until: a.cancel_until,
                approval: a.approval,
                mine,
            });
        }
        tx.commit().await?;
        Ok(Json(out))
    }

    /// Sign up: a seat when one is free (or waiting for staff when they approve sign-ups),
    /// else the end of the line. The price is charged at once: points (409
    /// `insufficient_points`), stored value (409 `insufficient_stored_value` with `balance`
    /// and `asked`) or one visit of a pass (409 `pass_unavailable` naming the `product`);
    /// 409 `sign_up_closed` outside the sign-up window, `already_registered` for a second
    /// sign-up. A refused sign-up writes nothing.
    #[oai(
        path = "/portal/:tenant/activities/:id/sign-up",
        method = "post",
        operation_id = "portalSignUpActivity"
    )]
    async fn sign_up(
        &self,
        tenant: Path<String>,
        id: Path<Uuid>,
        auth: MemberToken,
        body: Json<MyActivityKey>,
    ) -> Result<Json<MyActivityRegistration>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth, true).await?;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivitySignUp,
            m.id,
            body.0.idempotency_key.as_deref(),
            &json!({ "activity_id": id.0 }),
        )?;
        let actor = format!("member:{}", m.id);
        let c = self.ctx(&t, &actor);
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            seats::sign_up(tx, &c, id.0, m.id, false).await
        })
        .await?;
        let view = self
            .registration_view(&mut tx, r, t.settings.zone())
            .await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// The member's registrations, newest activity first.
    #[oai(
        path = "/portal/:tenant/me/activities",
        method = "get",
        operation_id = "portalMyActivities"
    )]
    async fn my_registrations(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Vec<MyActivityRegistration>>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth, false).await?;
        let mut out = Vec::new();
        for (r, a) in seats::mine(&mut tx, m.id).await? {
            out.push(self.mine(&mut tx, r, &a, t.settings.zone()).await?);
        }
        tx.commit().await?;
        Ok(Json(out))
    }

    /// Cancel the member's own registration, until the activity's cancellation deadline
    /// (409 `cancellation_closed`); the points come back.
    #[oai(
        path = "/portal/:tenant/me/activities/:registration_id/cancel",
        method = "post",
        operation_id = "portalCancelActivity"
    )]
    async fn cancel(
        &self,
        tenant: Path<String>,
        registration_id: Path<Uuid>,
        auth: MemberToken,
        body: Json<MyActivityKey>,
    ) -> Result<Json<MyActivityRegistration>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth, true).await?;
        let now = self.state.now();
        let key = Request::optional(
            Scope::ActivityCancel,
            registration_id.0,
            body.0.idempotency_key.as_deref(),
            &json!({ "cancel": true }),
        )?;
        let actor = format!("member:{}", m.id);
        let c = self.ctx(&t, &actor);
        let activity = seats::activity_of(&mut tx, registration_id.0, m.id).await?;
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            seats::cancel(tx, &c, activity, registration_id.0, Some(m.id)).await
        })
        .await?;
        let view = self
            .registration_view(&mut tx, r, t.settings.zone())
            .await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// Take the seat offered to the member before the offer runs out (409 `offer_expired`).
    #[oai(
        path = "/portal/:tenant/me/activities/:registration_id/accept",
        method = "post",
        operation_id = "portalAcceptActivityOffer"
    )]
    async fn accept(
        &self,
        tenant: Path<String>,
        registration_id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<Json<MyActivityRegistration>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth, true).await?;
        let actor = format!("member:{}", m.id);
        let c = self.ctx(&t, &actor);
        let activity = seats::activity_of(&mut tx, registration_id.0, m.id).await?;
        let r = seats::accept_offer(&mut tx, &c, activity, registration_id.0, m.id).await?;
        let view = self
            .registration_view(&mut tx, r, t.settings.zone())
            .await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// The registration's check-in code, which changes every 30 seconds: show it as a QR
    /// code and fetch a fresh one at `refresh_at`. 409 `registration_state` unless the
    /// member holds a confirmed seat.
    #[oai(
        path = "/portal/:tenant/me/activities/:registration_id/code",
        method = "get",
        operation_id = "portalActivityCode"
    )]
    async fn code(
        &self,
        tenant: Path<String>,
        registration_id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<Json<ActivityCheckInCode>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth, false).await?;
        let (code, refresh_at) = check_in::code(
            &mut tx,
            &self.state.config.pii,
            TenantId::new(t.id),
            m.id,
            registration_id.0,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(ActivityCheckInCode { code, refresh_at }))
    }

    /// Rate an attended activity (1 to 5 stars, a comment), or change the rating within 7
    /// days. 409 `rating_needs_attendance` for a member who did not check in,
    /// `rating_locked` after 7 days.
    #[oai(
        path = "/portal/:tenant/me/activities/:registration_id/rating",
        method = "put",
        operation_id = "portalRateActivity"
    )]
    async fn rate(
        &self,
        tenant: Path<String>,
        registration_id: Path<Uuid>,
        auth: MemberToken,
        body: Json<MyActivityRating>,
    ) -> Result<Json<MyActivityRegistration>, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth, true).await?;
        let b = body.0;
        after::rate(
            &mut tx,
            m.id,
            registration_id.0,
            b.stars,
            &b.comment,
            self.state.now(),
        )
        .await?;
        let r = seats::mine(&mut tx, m.id)
            .await?
            .into_iter()
            .find(|(r, _)| r.id == registration_id.0)
            .ok_or_else(|| ApiError::not_found("registration"))?;
        let view = self.mine(&mut tx, r.0, &r.1, t.settings.zone()).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// Ask to upload a photo (for the wall of an activity the member attended): a
    /// presigned address signed for the declared type and size.
    #[oai(
        path = "/portal/:tenant/me/uploads",
        method = "post",
        operation_id = "portalCreateUpload"
    )]
    async fn create_upload(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        body: Json<PortalNewUpload>,
    ) -> Result<Json<PortalUploadTicket>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, t, m) = self.member(&tenant.0, &auth, true).await?;
        let b = body.0;
        let input = uploads::NewUpload {
            purpose: Purpose::ActivityPhoto.as_str().into(),
            content_type: b.content_type,
            size: b.size,
            file_name: b.file_name,
        };
        let actor = format!("member:{}", m.id);
        let ticket = uploads::create(&mut tx, store, &t, &actor, &input, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(PortalUploadTicket {
            id: ticket.upload.id,
            put_url: ticket.put_url,
            put_headers: ticket.put_headers.into_iter().collect(),
            expires_at: ticket.upload.expires_at,
        }))
    }

    /// The photo was sent: checked (422 `upload_mismatch`, `upload_not_received`) and
    /// counted against the business's storage (403 `storage_full` when it is full).
    #[oai(
        path = "/portal/:tenant/me/uploads/:id/complete",
        method = "post",
        operation_id = "portalCompleteUpload"
    )]
    async fn complete_upload(
        &self,
        tenant: Path<String>,
        id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<(), ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, t, m) = self.member(&tenant.0, &auth, true).await?;
        let plan = self.state.plan_of(&t).await?;
        let actor = format!("member:{}", m.id);
        let done = uploads::complete(
            &mut tx,
            store,
            &self.state.plans,
            &plan,
            id.0,
            Some(&actor),
            self.state.now(),
        )
        .await;
        match done {
            Ok(_) => {}
            // Members cannot change the business's plan: they hear it is full.
            Err(patron_app::AppError::Plan(_)) => {
                return Err(ApiError::forbidden(
                    "storage_full",
                    "this business has no room for more photos",
                ))
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    /// The photo wall of an activity the member signed up for.
    #[oai(
        path = "/portal/:tenant/me/activities/:registration_id/photos",
        method = "get",
        operation_id = "portalActivityPhotos"
    )]
    async fn photos(
        &self,
        tenant: Path<String>,
        registration_id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<Json<Vec<PortalActivityPhoto>>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, t, m) = self.member(&tenant.0, &auth, false).await?;
        let activity = seats::activity_of(&mut tx, registration_id.0, m.id).await?;
        let rows = photos::list(&mut tx, activity).await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            out.push(PortalActivityPhoto {
                id: p.id,
                url: uploads::url_of(store, t.id, Purpose::ActivityPhoto, p.upload_id).await?,
                mine: p.member_id == Some(m.id),
                created_at: p.created_at,
            });
        }
        Ok(Json(out))
    }

    /// Put one of my completed photo uploads on the wall of an activity I checked in at
    /// (409 `photo_needs_attendance` otherwise).
    #[oai(
        path = "/portal/:tenant/me/activities/:registration_id/photos",
        method = "post",
        operation_id = "portalAddActivityPhoto"
    )]
    async fn add_photo(
        &self,
        tenant: Path<String>,
        registration_id: Path<Uuid>,
        auth: MemberToken,
        body: Json<PortalNewActivityPhoto>,
    ) -> Result<Json<PortalActivityPhoto>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, t, m) = self.member(&tenant.0, &auth, true).await?;
        let activity = seats::activity_of(&mut tx, registration_id.0, m.id).await?;
        let actor = format!("member:{}", m.id);
        let c = self.ctx(&t, &actor);
        let p = photos::add(&mut tx, &c, activity, body.0.upload_id, Some(m.id)).await?;
        tx.commit().await?;
        Ok(Json(PortalActivityPhoto {
            id: p.id,
            url: uploads::url_of(store, t.id, Purpose::ActivityPhoto, p.upload_id).await?,
            mine: true,
            created_at: p.created_at,
        }))
    }

    /// Delete one of my photos from the wall (403 `photo_not_yours` for anyone else's).
    #[oai(
        path = "/portal/:tenant/me/activities/:registration_id/photos/:photo_id",
        method = "delete",
        operation_id = "portalDeleteActivityPhoto"
    )]
    async fn delete_photo(
        &self,
        tenant: Path<String>,
        registration_id: Path<Uuid>,
        photo_id: Path<Uuid>,
        auth: MemberToken,
    ) -> Result<(), ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, _, m) = self.member(&tenant.0, &auth, true).await?;
        let activity = seats::activity_of(&mut tx, registration_id.0, m.id).await?;
        photos::delete(&mut tx, store, activity, photo_id.0, Some(m.id)).await?;
        tx.commit().await?;
        Ok(())
    }
}
