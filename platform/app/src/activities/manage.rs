//! An activity's details and states: create, edit, read (organisers by name), list, and
//! move it on (publish, close, finish, cancel — a cancel refunds every sign-up).

use super::{locked, not_found, refund, tell, Ctx};
use crate::members::search::check_segment;
use crate::members::SearchRequest;
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::activities::{self as core, PriceKind, Status};
use patron_core::messages::Event;
use patron_core::ports::ObjectStore;
use patron_core::uploads::Purpose;
use patron_core::{FieldCode, Issue};
use patron_db::activities::{self as db, Activity};
use patron_db::prepaid::passes;
use patron_db::TenantTx;
use serde_json::json;
use uuid::Uuid;

/// An activity's details as sent.
#[derive(Debug, Clone)]
pub struct ActivityInput {
    pub title: String,
    pub description: String,
    pub cover_url: Option<String>,
    /// A stored `activity_cover` upload.
    pub cover_upload_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub organisers: Vec<Uuid>,
    pub capacity: i64,
    pub tiers: Vec<String>,
    /// `free`, `points`, `stored_value` or `pass`; when absent, read from which price is
    /// given (none: free).
    pub price_kind: Option<String>,
    pub price_points: i64,
    /// The price in stored value (minor units), for `stored_value`.
    pub price_fen: i64,
    /// The pass product one visit of which is the price, for `pass`.
    pub pass_product_id: Option<Uuid>,
    pub attend_points: i64,
    pub signup_opens_at: Option<DateTime<Utc>>,
    pub signup_closes_at: Option<DateTime<Utc>>,
    pub cancel_until: Option<DateTime<Utc>>,
    pub approval: String,
    pub offer_minutes: i64,
    pub budget: Option<i64>,
    /// Who may join besides the tiers: members a member search finds.
    pub segment: Option<SearchRequest>,
}

impl ActivityInput {
    /// The price kind named, or the one the prices given imply; `None` for an unknown name.
    pub fn price_kind(&self) -> Option<PriceKind> {
        match &self.price_kind {
            Some(k) => PriceKind::parse(k.trim()),
            None if self.pass_product_id.is_some() => Some(PriceKind::Pass),
            None if self.price_fen != 0 => Some(PriceKind::StoredValue),
            None if self.price_points != 0 => Some(PriceKind::Points),
            None => Some(PriceKind::Free),
        }
    }
}

/// The price of its kind is given and in range, the others are not.
fn check_price(v: &mut patron_core::Validation, i: &ActivityInput) {
    let Some(kind) = i.price_kind() else {
        let named = i.price_kind.as_deref().unwrap_or_default();
        v.check::<()>(
            "price_kind",
            Err(Issue::not_one_of(named, core::PRICE_KINDS)),
        );
        return;
    };
    let (points, fen) = match kind {
        PriceKind::Points => ((1, core::POINTS_MAX), (0, 0)),
        PriceKind::StoredValue => ((0, 0), (1, core::PRICE_FEN_MAX)),
        PriceKind::Free | PriceKind::Pass => ((0, 0), (0, 0)),
    };
    if !(points.0..=points.1).contains(&i.price_points) {
        v.check::<()>("price_points", Err(Issue::out_of_range(points.0, points.1)));
    }
    if !(fen.0..=fen.1).contains(&i.price_fen) {
        v.check::<()>("price_fen", Err(Issue::out_of_range(fen.0, fen.1)));
    }
    match (kind, i.pass_product_id) {
        (PriceKind::Pass, None) => {
            v.check::<()>("pass_product_id", Err(Issue::required()));
        }
        (PriceKind::Pass, Some(_)) | (_, None) => {}
        (_, Some(id)) => {
            v.check::<()>(
                "pass_product_id",
                Err(Issue::unknown(
                    &id.to_string(),
                    "only an activity priced in a pass visit names a pass product",
                )),
            );
        }
    }
}

/// An activity with its organisers' names.
#[derive(Debug, Clone)]
pub struct ActivityView {
    pub activity: Activity,
    pub organisers: Vec<(Uuid, String)>,
    /// The name of the pass product one visit of which is the price.
    pub pass_product_name: Option<String>,
}

/// The name of the pass product an activity is priced in, if it is.
pub async fn pass_product_name(
    tx: &mut TenantTx,
    a: &Activity,
) -> Result<Option<String>, AppError> {
    Ok(match a.pass_product_id {
        Some(id) => passes::product(tx, id).await?.map(|p| p.name),
        None => None,
    })
}

fn text(v: &mut patron_core::Validation, field: &str, value: &str, min: usize, max: usize) {
    let n = value.trim().chars().count();
    if n < min || n > max {
        v.check::<()>(field, Err(Issue::length_between(min, max)));
    }
}

fn check(
    tiers: &[String],
    staff: &[(Uuid, String)],
    pass_product: Option<bool>,
    i: &ActivityInput,
) -> Result<(), AppError> {
    let mut v = patron_core::Validation::new();
    for (n, id) in i.organisers.iter().enumerate() {
        if !staff.iter().any(|(k, _)| k == id) {
            v.check::<()>(
                &format!("organisers[{n}]"),
                Err(Issue::unknown(
                    &id.to_string(),
                    "there is no such staff member",
                )),
            );
        }
    }
    text(&mut v, "title", &i.title, 1, core::TITLE_MAX);
    text(
        &mut v,
        "description",
        &i.description,
        0,
        core::DESCRIPTION_MAX,
    );
    text(&mut v, "place", &i.place, 0, core::PLACE_MAX);
    if let Some(u) = &i.cover_url {
        let u = u.trim();
        if u.chars().count() > core::URL_MAX {
            v.check::<()>("cover_url", Err(Issue::too_long(core::URL_MAX)));
        } else if !(u.starts_with("https://") || u.starts_with("http://")) {
            v.check::<()>(
                "cover_url",
                Err(Issue::invalid_format("url", "must be an http(s) address")),
            );
        }
    }
    if i.ends_at <= i.starts_at {
        v.check::<()>(
            "ends_at",
            Err(
                Issue::new(FieldCode::BeforeStart, "must be after starts_at")
                    .with("field", "starts_at"),
            ),
        );
    }
    if !(1..=core::CAPACITY_MAX).contains(&i.capacity) {
        v.check::<()>("capacity", Err(Issue::out_of_range(1, core::CAPACITY_MAX)));
    }
    check_price(&mut v, i);
    if !(0..=core::POINTS_MAX).contains(&i.attend_points) {
        v.check::<()>(
            "attend_points",
            Err(Issue::out_of_range(0, core::POINTS_MAX)),
        );
    }
    if let (Some(o), Some(c)) = (i.signup_opens_at, i.signup_closes_at) {
        if c <= o {
            v.check::<()>(
                "signup_closes_at",
                Err(
                    Issue::new(FieldCode::BeforeStart, "must be after signup_opens_at")
                        .with("field", "signup_opens_at"),
                ),
            );
        }
    }
    if !core::APPROVALS.contains(&i.approval.as_str()) {
        v.check::<()>(
            "approval",
            Err(Issue::not_one_of(&i.approval, core::APPROVALS)),
        );
    }
    if !(core::OFFER_MINUTES_MIN..=core::OFFER_MINUTES_MAX).contains(&i.offer_minutes) {
        v.check::<()>(
            "offer_minutes",
            Err(Issue::out_of_range(
                core::OFFER_MINUTES_MIN,
                core::OFFER_MINUTES_MAX,
            )),
        );
    }
    if let Some(b) = i.budget {
        if !(0..=core::BUDGET_MAX).contains(&b) {
            v.check::<()>("budget", Err(Issue::out_of_range(0, core::BUDGET_MAX)));
        }
    }
    if i.organisers.len() > core::ORGANISERS_MAX {
        v.check::<()>(
            "organisers",
            Err(Issue::too_many(core::ORGANISERS_MAX, "organisers")),
        );
    }
    if i.tiers.len() > core::TIERS_MAX {
        v.check::<()>("tiers", Err(Issue::too_many(core::TIERS_MAX, "tiers")));
    }
    if let (Some(false), Some(id)) = (pass_product, i.pass_product_id) {
        v.check::<()>(
            "pass_product_id",
            Err(Issue::unknown(
                &id.to_string(),
                "there is no such pass product",
            )),
        );
    }
    for (n, t) in i.tiers.iter().enumerate() {
        if !tiers.iter().any(|k| k == t) {
            v.check::<()>(
                &format!("tiers[{n}]"),
                Err(
                    Issue::new(FieldCode::NoSuchTier, format!("there is no tier {t}"))
                        .with("value", t.as_str()),
                ),
            );
        }
    }
    v.finish().map_err(AppError::invalid)
}

/// The tier codes of the ladder in force.
async fn tier_codes(tx: &mut TenantTx, c: &Ctx<'_>) -> Result<Vec<String>, AppError> {
    let rules = c.engine.tenant(tx).await?;
    Ok(rules.tier_names().into_keys().collect())
}

/// Checks every field at once: the tiers against the ladder in force, the organisers
/// against the business's staff; then the segment's conditions (`segment.<path>`), as the
/// member search checks them.
async fn check_all(tx: &mut TenantTx, c: &Ctx<'_>, i: &ActivityInput) -> Result<(), AppError> {
    let tiers = tier_codes(tx, c).await?;
    let staff = db::staff_names(tx, &i.organisers).await?;
    let pass_product = match (i.price_kind(), i.pass_product_id) {
        (Some(PriceKind::Pass), Some(id)) => Some(passes::product(tx, id).await?.is_some()),
        _ => None,
    };
    check(&tiers, &staff, pass_product, i)?;
    if let (Some(segment), Some(keys)) = (&i.segment, c.keys) {
        let (_, set) = crate::fields::current_fields(tx).await?;
        check_segment(
            tx,
            c.engine,
            &set,
            keys,
            &c.tenant.settings.phone_region,
            segment,
            "segment",
        )
        .await?;
    }
    Ok(())
}

/// The segment an activity keeps, read back.
pub fn segment_of(a: &Activity) -> Option<SearchRequest> {
    a.segment
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

fn row(id: Uuid, i: &ActivityInput, c: &Ctx<'_>) -> Activity {
    let mut organisers = i.organisers.clone();
    organisers.dedup();
    Activity {
        id,
        title: i.title.trim().into(),
        description: i.description.trim().into(),
        cover_url: i
            .cover_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(Into::into),
        starts_at: i.starts_at,
        ends_at: i.ends_at,
        place: i.place.trim().into(),
        organisers,
        capacity: i.capacity as i32,
        taken: 0,
        tiers: i.tiers.clone(),
        price_points: i.price_points,
        price_kind: i.price_kind().unwrap_or(PriceKind::Free).as_str().into(),
        price_fen: i.price_fen,
        pass_product_id: i.pass_product_id,
        attend_points: i.attend_points,
        signup_opens_at: i.signup_opens_at,
        signup_closes_at: i.signup_closes_at,
        cancel_until: i.cancel_until,
        approval: i.approval.clone(),
        offer_minutes: i.offer_minutes as i32,
        budget: i.budget,
        status: Status::Draft.as_str().into(),
        created_by: c.actor.into(),
        created_at: c.now,
        updated_at: c.now,
        cover_upload_id: i.cover_upload_id,
        segment: i
            .segment
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok()),
    }
}

/// The cover upload, when one is named: a stored `activity_cover` upload of the business
/// (404 `upload` otherwise, 422 `upload_not_usable` for a pending or other one).
async fn check_cover(tx: &mut TenantTx, i: &ActivityInput) -> Result<(), AppError> {
    if let Some(id) = i.cover_upload_id {
        crate::uploads::take(tx, id, Purpose::ActivityCover, "cover_upload_id", None).await?;
    }
    Ok(())
}

async fn view(tx: &mut TenantTx, a: Activity) -> Result<ActivityView, AppError> {
    let names = db::staff_names(tx, &a.organisers).await?;
    let organisers = a
        .organisers
        .iter()
        .filter_map(|id| names.iter().find(|(k, _)| k == id).cloned())
        .collect();
    let pass_product_name = pass_product_name(tx, &a).await?;
    Ok(ActivityView {
        activity: a,
        organisers,
        pass_product_name,
    })
}

/// Creates an activity as a draft.
pub async fn create(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    i: &ActivityInput,
) -> Result<ActivityView, AppError> {
    check_all(tx, c, i).await?;
    check_cover(tx, i).await?;
    let a = row(Uuid::now_v7(), i, c);
    db::insert(tx, &a).await?;
    view(tx, a).await
}

/// Edits an activity's details (not once it is finished or cancelled); the capacity
/// cannot go below the seats taken (409 `capacity_below_taken`). A cover upload replaced
/// or removed is deleted from `store`.
pub async fn update(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    id: Uuid,
    i: &ActivityInput,
    store: Option<&dyn ObjectStore>,
) -> Result<ActivityView, AppError> {
    check_all(tx, c, i).await?;
    let current = locked(tx, id).await?;
    if current.cover_upload_id != i.cover_upload_id {
        check_cover(tx, i).await?;
    }
    if !Status::parse(&current.status).is_some_and(Status::editable) {
        return Err(state_refused(&current.status));
    }
    let mut a = row(id, i, c);
    a.updated_at = c.now;
    let a = db::update(tx, &a).await?.ok_or_else(|| {
        AppError::conflict(
            "capacity_below_taken",
            Some("capacity"),
            format!("{} seats are taken already", current.taken),
        )
        .with_param("taken", current.taken)
    })?;
    if let (Some(old), Some(store)) = (current.cover_upload_id, store) {
        if Some(old) != a.cover_upload_id {
            if let Some(u) = patron_db::uploads::find(tx, old).await? {
                crate::uploads::discard(tx, store, &u).await?;
            }
        }
    }
    view(tx, a).await
}

pub(crate) fn state_refused(status: &str) -> AppError {
    AppError::conflict(
        "activity_state",
        Some("status"),
        format!("the activity is {status}"),
    )
    .with_param("status", status)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<ActivityView, AppError> {
    let a = db::get(tx, id).await?.ok_or_else(not_found)?;
    view(tx, a).await
}

/// Activities, soonest first, in `statuses` when given.
pub async fn list(
    tx: &mut TenantTx,
    statuses: Option<Vec<String>>,
) -> Result<Vec<ActivityView>, AppError> {
    if let Some(s) = &statuses {
        for x in s {
            if Status::parse(x).is_none() {
                return Err(AppError::field(
                    "status",
                    Issue::not_one_of(x, Status::NAMES),
                ));
            }
        }
    }
    let rows = db::list(tx, statuses.as_deref(), None).await?;
    let mut out = Vec::with_capacity(rows.len());
    for a in rows {
        out.push(view(tx, a).await?);
    }
    Ok(out)
}

/// Moves an activity to `status` (see [`Status::may_become`]); cancelling refunds every
/// live sign-up and cancels it.
pub async fn set_status(
    tx: &mut TenantTx,
    c: &Ctx<'_>,
    id: Uuid,
    status: &str,
) -> Result<ActivityView, AppError> {
    let next = Status::parse(status)
        .ok_or_else(|| AppError::field("status", Issue::not_one_of(status, Status::NAMES)))?;
    let a = locked(tx, id).await?;
    let now_status = Status::parse(&a.status).unwrap_or(Status::Cancelled);
    if now_status == next {
        return view(tx, a).await;
    }
    if !now_status.may_become(next) {
        return Err(state_refused(&a.status));
    }
    if next == Status::Cancelled {
        for rid in db::live_registrations(tx, id).await? {
            let r = db::registration(tx, rid)
                .await?
                .ok_or_else(super::registration_not_found)?;
            db::set_registration(
                tx,
                rid,
                &db::Move {
                    status: "cancelled",
                    to_line: false,
                    offer_expires_at: None,
                    reason: None,
                },
                c.now,
            )
            .await?;
            refund(tx, c, &a, &r).await?;
            if patron_core::activities::holds_seat(&r.status) {
                db::free_seat(tx, id).await?;
            }
            // Once per registration: a registration is cancelled only once.
            tell(
                tx,
                c,
                Event::ActivityCancelled,
                &a,
                &r,
                &r.id.to_string(),
                json!({
                    "points_refunded": r.points_paid,
                    "stored_value_refunded": r.fen_paid,
                    "visit_refunded": r.pass_use_id.is_some(),
                }),
            )
            .await?;
        }
    }
    if next == Status::Cancelled {
        // Guests' seats go back too (they are not told: they have no portal).
        let guests = db::cancel_all_guests(tx, id, c.now).await?;
        if guests > 0 {
            db::free_seats(tx, id, guests as i32).await?;
        }
    }
    let a = db::set_status(tx, id, next.as_str(), c.now).await?;
    patron_db::audit::record(
        tx,
        c.now,
        c.actor,
        "activity.status",
        &a.id.to_string(),
        json!({ "title": a.title, "status": a.status }),
    )
    .await?;
    view(tx, a).await
}

/// Whether members may sign up to `a` at `now` (published, inside the sign-up window,
/// before it starts).
pub fn open_for_sign_up(a: &Activity, now: DateTime<Utc>) -> bool {
    a.status == "published"
        && a.signup_opens_at.is_none_or(|o| o <= now)
        && a.signup_closes_at.is_none_or(|c| now < c)
        && now < a.starts_at
}

/// When an offer made at `now` for `a` runs out.
pub fn offer_end(a: &Activity, now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::minutes(i64::from(a.offer_minutes))
}
