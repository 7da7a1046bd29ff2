//! The activities' request and response bodies. Their limits are stated in
//! `edge::limits` (from the constants the use cases check).

use crate::edge::member_views::MemberSearch;
use chrono::{DateTime, Utc};
use patron_app::activities::after::Statistics;
use patron_app::activities::{ActivityInput, ActivityView};
use patron_db::activities::{Guest, Rating, Registration};
use poem_openapi::Object;
use uuid::Uuid;

/// An activity's details, to create it or to replace them.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewActivity {
    pub title: String,
    #[oai(default)]
    pub description: String,
    /// An http(s) address of the cover picture (the older way; prefer `cover_upload_id`).
    pub cover_url: Option<String>,
    /// The cover picture: a completed `activity_cover` upload.
    pub cover_upload_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[oai(default)]
    pub place: String,
    /// Staff ids of the organisers.
    #[oai(default)]
    pub organisers: Vec<Uuid>,
    /// Seats.
    pub capacity: i64,
    /// Tier codes that may sign up; everyone when empty.
    #[oai(default)]
    pub tiers: Vec<String>,
    /// What a sign-up costs: `free`, `points` (`price_points`), `stored_value`
    /// (`price_fen`) or `pass` (one visit of a pass of `pass_product_id`); charged at sign-up
    /// and given back the way it came on a cancel. When absent, the price given decides
    /// (none: free).
    pub price_kind: Option<String>,
    /// Points a sign-up costs (0: free); given back on a cancel.
    #[oai(default)]
    pub price_points: i64,
    /// Stored value a sign-up costs, in minor units (for `stored_value`).
    #[oai(default)]
    pub price_fen: i64,
    /// The pass product one visit of which a sign-up costs (for `pass`).
    pub pass_product_id: Option<Uuid>,
    /// Points for attending, credited once at check-in.
    #[oai(default)]
    pub attend_points: i64,
    pub signup_opens_at: Option<DateTime<Utc>>,
    pub signup_closes_at: Option<DateTime<Utc>>,
    /// Members may cancel until then (any time when absent).
    pub cancel_until: Option<DateTime<Utc>>,
    /// `automatic` or `staff` (staff approve each sign-up).
    pub approval: String,
    /// How long a freed seat is held for the next in line, in minutes (1440 when absent).
    pub offer_minutes: Option<i64>,
    /// The budget, in minor units (for the cost per attendee).
    pub budget: Option<i64>,
    /// Who may join besides the tiers: the members this member search finds (the same
    /// conditions as `POST /members/search`; its sort and paging are ignored). Both must
    /// hold when tiers are named too.
    pub segment: Option<MemberSearch>,
}

impl From<NewActivity> for ActivityInput {
    fn from(b: NewActivity) -> Self {
        Self {
            title: b.title,
            description: b.description,
            cover_url: b.cover_url,
            cover_upload_id: b.cover_upload_id,
            starts_at: b.starts_at,
            ends_at: b.ends_at,
            place: b.place,
            organisers: b.organisers,
            capacity: b.capacity,
            tiers: b.tiers,
            price_kind: b.price_kind,
            price_points: b.price_points,
            price_fen: b.price_fen,
            pass_product_id: b.pass_product_id,
            attend_points: b.attend_points,
            signup_opens_at: b.signup_opens_at,
            signup_closes_at: b.signup_closes_at,
            cancel_until: b.cancel_until,
            approval: b.approval,
            offer_minutes: b.offer_minutes.unwrap_or(1440),
            budget: b.budget,
            segment: b.segment.map(Into::into),
        }
    }
}

/// A staff member who organises, by name.
#[derive(Debug, Clone, Object)]
pub struct ActivityOrganiser {
    pub id: Uuid,
    pub name: String,
}

/// An activity.
#[derive(Debug, Clone, Object)]
pub struct Activity {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub cover_url: Option<String>,
    /// The cover picture's upload, when it is one.
    pub cover_upload_id: Option<Uuid>,
    /// Where to show the cover picture: a short-lived address of the upload, else
    /// `cover_url`.
    pub cover_picture_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub organisers: Vec<ActivityOrganiser>,
    pub capacity: i32,
    /// Seats held (confirmed, or offered to the next in line).
    pub taken: i32,
    pub tiers: Vec<String>,
    /// `free`, `points`, `stored_value` or `pass`.
    pub price_kind: String,
    pub price_points: i64,
    /// The price in stored value, minor units (for `stored_value`).
    pub price_fen: i64,
    /// The pass product one visit of which is the price (for `pass`), and its name.
    pub pass_product_id: Option<Uuid>,
    pub pass_product_name: Option<String>,
    pub attend_points: i64,
    pub signup_opens_at: Option<DateTime<Utc>>,
    pub signup_closes_at: Option<DateTime<Utc>>,
    pub cancel_until: Option<DateTime<Utc>>,
    pub approval: String,
    pub offer_minutes: i32,
    pub budget: Option<i64>,
    /// Who may join besides the tiers (a member search), when limited to a segment.
    pub segment: Option<MemberSearch>,
    /// `draft`, `published`, `closed`, `finished` or `cancelled`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<ActivityView> for Activity {
    fn from(v: ActivityView) -> Self {
        let segment = patron_app::activities::manage::segment_of(&v.activity).map(Into::into);
        let a = v.activity;
        Self {
            segment,
            id: a.id,
            title: a.title,
            description: a.description,
            cover_picture_url: a.cover_url.clone(),
            cover_url: a.cover_url,
            cover_upload_id: a.cover_upload_id,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            place: a.place,
            organisers: v
                .organisers
                .into_iter()
                .map(|(id, name)| ActivityOrganiser { id, name })
                .collect(),
            capacity: a.capacity,
            taken: a.taken,
            tiers: a.tiers,
            price_kind: a.price_kind,
            price_points: a.price_points,
            price_fen: a.price_fen,
            pass_product_id: a.pass_product_id,
            pass_product_name: v.pass_product_name,
            attend_points: a.attend_points,
            signup_opens_at: a.signup_opens_at,
            signup_closes_at: a.signup_closes_at,
            cancel_until: a.cancel_until,
            approval: a.approval,
            offer_minutes: a.offer_minutes,
            budget: a.budget,
            status: a.status,
            created_at: a.created_at,
        }
    }
}

/// The state an activity moves to.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ActivityStatusChange {
    /// `published`, `closed`, `finished` or `cancelled` (a cancel refunds every sign-up).
    pub status: String,
}

/// A sign-up.
#[derive(Debug, Clone, Object)]
pub struct ActivityRegistration {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    /// `pending`, `confirmed`, `waitlisted`, `offered`, `cancelled`, `rejected` or `lapsed`.
    pub status: String,
    /// The place in line (1: next), for `waitlisted`.
    pub position: Option<i64>,
    /// Until when an `offered` seat is held.
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub points_paid: i64,
    /// Stored value charged (minor units), and what it took of principal and bonus.
    pub fen_paid: i64,
    pub principal_paid: i64,
    pub bonus_paid: i64,
    /// The pass a visit was used of (the price of a pass-priced activity).
    pub pass_id: Option<Uuid>,
    pub refunded_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub reason: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Who checked them in, by name.
    pub checked_in_by_name: Option<String>,
    /// Points credited for attending.
    pub attend_points: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl From<Registration> for ActivityRegistration {
    fn from(r: Registration) -> Self {
        Self {
            id: r.id,
            activity_id: r.activity_id,
            member_id: r.member_id,
            member_name: r.member_name,
            status: r.status,
            position: r.position,
            offer_expires_at: r.offer_expires_at,
            points_paid: r.points_paid,
            fen_paid: r.fen_paid,
            principal_paid: r.principal_paid,
            bonus_paid: r.bonus_paid,
            pass_id: r.pass_id,
            refunded_at: r.refunded_at,
            reason: r.reason,
            checked_in_at: r.checked_in_at,
            checked_in_by_name: r.checked_in_by_name,
            attend_points: r.attend_points,
            created_at: r.created_at,
        }
    }
}

/// A member staff sign up by hand.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewActivityRegistration {
    pub member_id: Uuid,
    /// Optional: a retry with the same key answers the first sign-up; the key with another
    /// body is a 409 `idempotency_key_reused`.
    pub idempotency_key: Option<String>,
}

/// An optional idempotency key for a write on a registration.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ActivityKey {
    /// Optional: a retry with the same key answers the first result.
    pub idempotency_key: Option<String>,
}

/// A rejection, with its reason.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ActivityRejection {
    pub reason: String,
    pub idempotency_key: Option<String>,
}

/// Where to move someone.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ActivityMove {
    /// `seat` (ahead of the line, when a seat is free) or `waitlist` (the end of the line).
    pub to: String,
    pub idempotency_key: Option<String>,
}

/// A check-in code as scanned or typed.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ActivityCheckIn {
    pub code: String,
}

/// A rating.
#[derive(Debug, Clone, Object)]
pub struct ActivityRating {
    pub registration_id: Uuid,
    pub member_name: String,
    pub stars: i16,
    pub comment: String,
    /// Hidden from members by staff.
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Rating> for ActivityRating {
    fn from(r: Rating) -> Self {
        Self {
            registration_id: r.registration_id,
            member_name: r.member_name,
            stars: r.stars,
            comment: r.comment,
            hidden: r.hidden_at.is_some(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Whether a rating is hidden.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ActivityRatingHidden {
    pub hidden: bool,
}

/// An activity's figures.
#[derive(Debug, Clone, Object)]
pub struct ActivityStatistics {
    /// Every sign-up ever made (any state), members' and guests'.
    pub sign_ups: i64,
    /// Members and guests holding a seat.
    pub confirmed: i64,
    pub waitlisted: i64,
    pub pending: i64,
    /// Cancelled, rejected or lapsed (members), or cancelled (guests).
    pub cancelled: i64,
    /// Members and guests checked in.
    pub attended: i64,
    /// Confirmed but not checked in (members and guests).
    pub no_shows: i64,
    /// Attended out of confirmed, 0 to 1 (members and guests).
    pub attendance_rate: Option<f64>,
    /// Guests ever added (any state); counted in `sign_ups` too.
    pub guests: i64,
    /// Guests holding a seat; counted in `confirmed` too.
    pub guests_confirmed: i64,
    /// Guests checked in; counted in `attended` too.
    pub guests_attended: i64,
    pub points_awarded: i64,
    pub ratings: i64,
    pub average_stars: Option<f64>,
    pub budget: Option<i64>,
    /// The budget divided by the attendees (minor units).
    pub cost_per_attendee: Option<i64>,
}

impl From<Statistics> for ActivityStatistics {
    fn from(s: Statistics) -> Self {
        Self {
            sign_ups: s.counts.sign_ups + s.counts.guests,
            confirmed: s.figures.confirmed,
            waitlisted: s.counts.waitlisted,
            pending: s.counts.pending,
            cancelled: s.counts.cancelled + s.counts.guests_cancelled,
            attended: s.figures.attended,
            no_shows: s.figures.no_shows,
            attendance_rate: s.figures.attendance_rate,
            guests: s.counts.guests,
            guests_confirmed: s.counts.guests_confirmed,
            guests_attended: s.counts.guests_attended,
            points_awarded: s.counts.points_awarded,
            ratings: s.counts.ratings,
            average_stars: s.counts.average_stars,
            budget: s.budget,
            cost_per_attendee: s.figures.cost_per_attendee,
        }
    }
}

/// A photo on an activity's wall.
#[derive(Debug, Clone, Object)]
pub struct ActivityPhoto {
    pub id: Uuid,
    pub upload_id: Uuid,
    /// The member who added it (none: staff did).
    pub member_id: Option<Uuid>,
    /// Who added it: `staff:<id>` or `member:<id>` (names through `/actors`).
    pub added_by: String,
    pub created_at: DateTime<Utc>,
    pub file_name: String,
    pub size: i64,
    /// A short-lived address of the picture.
    pub url: String,
}

/// A completed `activity_photo` upload to put on the wall.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewActivityPhoto {
    pub upload_id: Uuid,
}

/// A guest staff add: someone who is not a member, by name and phone.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewActivityGuest {
    pub name: String,
    /// In any formatting; read in the business's phone region.
    pub phone: String,
    /// Optional: a retry with the same key answers the first guest; the key with another
    /// body is a 409 `idempotency_key_reused`.
    pub idempotency_key: Option<String>,
}

/// A guest of an activity (not a member), holding one of its seats.
#[derive(Debug, Clone, Object)]
pub struct ActivityGuest {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub name: String,
    /// The phone with its middle hidden (`138****5678`).
    pub phone_masked: String,
    /// `confirmed` (holds a seat) or `cancelled`.
    pub status: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Guest> for ActivityGuest {
    fn from(g: Guest) -> Self {
        Self {
            id: g.id,
            activity_id: g.activity_id,
            name: g.name,
            phone_masked: g.phone_masked,
            status: g.status,
            checked_in_at: g.checked_in_at,
            created_at: g.created_at,
        }
    }
}
