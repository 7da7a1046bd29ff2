//! Activities, their registrations and ratings. The seats are one counter per activity
//! (`activities.taken`), taken by one conditional statement ([`take_seat`]) and given back
//! by another ([`free_seat`]); the table's CHECK keeps the counter within the capacity.

use crate::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Activity {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub cover_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub organisers: Vec<Uuid>,
    pub capacity: i32,
    pub taken: i32,
    pub tiers: Vec<String>,
    pub price_points: i64,
    pub attend_points: i64,
    pub signup_opens_at: Option<DateTime<Utc>>,
    pub signup_closes_at: Option<DateTime<Utc>>,
    pub cancel_until: Option<DateTime<Utc>>,
    pub approval: String,
    pub offer_minutes: i32,
    pub budget: Option<i64>,
    pub status: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The cover picture, an upload (`cover_url` is the older way).
    pub cover_upload_id: Option<Uuid>,
    /// Who may join besides the tiers: a member search (`app::members::SearchRequest` as
    /// JSON); everyone in it.
    pub segment: Option<serde_json::Value>,
    /// `free`, `points` (`price_points`), `stored_value` (`price_fen`) or `pass` (one visit
    /// of a pass of `pass_product_id`).
    pub price_kind: String,
    pub price_fen: i64,
    pub pass_product_id: Option<Uuid>,
}

const ACTIVITY: &str = "id, title, description, cover_url, starts_at, ends_at, place, \
    organisers, capacity, taken, tiers, price_points, attend_points, signup_opens_at, \
    signup_closes_at, cancel_until, approval, offer_minutes, budget, status, created_by, \
    created_at, updated_at, cover_upload_id, segment, price_kind, price_fen, pass_product_id";

pub async fn insert(tx: &mut TenantTx, a: &Activity) -> Result<(), DbError> {
    sqlx::query(&format!(
        "INSERT INTO activities ({ACTIVITY}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
         $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
    ))
    .bind(a.id)
    .bind(&a.title)
    .bind(&a.description)
    .bind(&a.cover_url)
    .bind(a.starts_at)
    .bind(a.ends_at)
    .bind(&a.place)
    .bind(&a.organisers)
    .bind(a.capacity)
    .bind(a.taken)
    .bind(&a.tiers)
    .bind(a.price_points)
    .bind(a.attend_points)
    .bind(a.signup_opens_at)
    .bind(a.signup_closes_at)
    .bind(a.cancel_until)
    .bind(&a.approval)
    .bind(a.offer_minutes)
    .bind(a.budget)
    .bind(&a.status)
    .bind(&a.created_by)
    .bind(a.created_at)
    .bind(a.updated_at)
    .bind(a.cover_upload_id)
    .bind(&a.segment)
    .bind(&a.price_kind)
    .bind(a.price_fen)
    .bind(a.pass_product_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Writes an activity's details (not its seats, state or author). `None` when the new
/// capacity is below the seats already taken (or there is no such activity).
pub async fn update(tx: &mut TenantTx, a: &Activity) -> Result<Option<Activity>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE activities SET title = $2, description = $3, cover_url = $4, starts_at = $5, \
         ends_at = $6, place = $7, organisers = $8, capacity = $9, tiers = $10, \
         price_points = $11, attend_points = $12, signup_opens_at = $13, \
         signup_closes_at = $14, cancel_until = $15, approval = $16, offer_minutes = $17, \
         budget = $18, updated_at = $19, cover_upload_id = $20, segment = $21, \
         price_kind = $22, price_fen = $23, pass_product_id = $24 \
         WHERE id = $1 AND taken <= $9 RETURNING {ACTIVITY}"
    ))
    .bind(a.id)
    .bind(&a.title)
    .bind(&a.description)
    .bind(&a.cover_url)
    .bind(a.starts_at)
    .bind(a.ends_at)
    .bind(&a.place)
    .bind(&a.organisers)
    .bind(a.capacity)
    .bind(&a.tiers)
    .bind(a.price_points)
    .bind(a.attend_points)
    .bind(a.signup_opens_at)
    .bind(a.signup_closes_at)
    .bind(a.cancel_until)
    .bind(&a.approval)
    .bind(a.offer_minutes)
    .bind(a.budget)
    .bind(a.updated_at)
    .bind(a.cover_upload_id)
    .bind(&a.segment)
    .bind(&a.price_kind)
    .bind(a.price_fen)
    .bind(a.pass_product_id)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<Activity>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {ACTIVITY} FROM activities WHERE id = $1"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// The activity, locked against a change of state (a cancel refunding every sign-up).
pub async fn lock(tx: &mut TenantTx, id: Uuid) -> Result<Option<Activity>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ACTIVITY} FROM activities WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Activities, soonest first; only those in `statuses` when given; only those ending after
/// `ending_after` when given.
pub async fn list(
    tx: &mut TenantTx,
    statuses: Option<&[String]>,
    ending_after: Option<DateTime<Utc>>,
) -> Result<Vec<Activity>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {ACTIVITY} FROM activities \
         WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::timestamptz IS NULL OR ends_at > $2) \
         ORDER BY starts_at, id LIMIT 500"
    ))
    .bind(statuses)
    .bind(ending_after)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn set_status(
    tx: &mut TenantTx,
    id: Uuid,
    status: &str,
    now: DateTime<Utc>,
) -> Result<Activity, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE activities SET status = $2, updated_at = $3 WHERE id = $1 RETURNING {ACTIVITY}"
    ))
    .bind(id)
    .bind(status)
    .bind(now)
    .fetch_one(tx.conn())
    .await?)
}

/// Takes one seat: the one statement every path that seats someone goes through. `None`
/// when every seat is taken.
pub async fn take_seat(tx: &mut TenantTx, id: Uuid) -> Result<Option<i32>, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE activities SET taken = taken + 1 WHERE id = $1 AND taken < capacity RETURNING taken",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?)
}

/// Gives one seat back.
pub async fn free_seat(tx: &mut TenantTx, id: Uuid) -> Result<(), DbError> {
    sqlx::query("UPDATE activities SET taken = taken - 1 WHERE id = $1 AND taken > 0")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Gives `n` seats back (guests of an activity called off).
pub async fn free_seats(tx: &mut TenantTx, id: Uuid, n: i32) -> Result<(), DbError> {
    sqlx::query("UPDATE activities SET taken = taken - $2 WHERE id = $1 AND taken >= $2")
        .bind(id)
        .bind(n)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The names of staff members by id (organisers, who checked people in).
pub async fn staff_names(tx: &mut TenantTx, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name FROM staff WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(tx.conn())
            .await?,
    )
}

/// A sign-up, with the member's and the checking staff member's names.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Registration {
    pub id: Uuid,
    pub number: i32,
    pub activity_id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub status: String,
    pub waitlist_seq: Option<i64>,
    /// 1 for the first in line (waitlisted only).
    pub position: Option<i64>,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub points_paid: i64,
    /// Stored value charged (minor units) and what it took of each sub-ledger.
    pub fen_paid: i64,
    pub principal_paid: i64,
    pub bonus_paid: i64,
    /// The pass a visit was used of, and that use.
    pub pass_id: Option<Uuid>,
    pub pass_use_id: Option<i64>,
    pub refunded_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_in_by: Option<String>,
    pub checked_in_by_name: Option<String>,
    pub attend_points: Option<i64>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const REGISTRATION: &str = "r.id, r.number, r.activity_id, r.member_id, m.name AS member_name, \
    r.status, r.waitlist_seq, \
    CASE WHEN r.status = 'waitlisted' THEN (SELECT count(*) FROM activity_registrations w \
        WHERE w.activity_id = r.activity_id AND w.status = 'waitlisted' \
        AND w.waitlist_seq <= r.waitlist_seq) END AS position, \
    r.offer_expires_at, r.points_paid, r.fen_paid, r.principal_paid, r.bonus_paid, r.pass_id, \
    r.pass_use_id, r.refunded_at, r.reason, r.checked_in_at, \
    r.checked_in_by, s.name AS checked_in_by_name, r.attend_points, r.created_by, r.created_at, \
    r.updated_at";

const FROM: &str = "FROM activity_registrations r JOIN members m ON m.id = r.member_id \
    LEFT JOIN staff s ON r.checked_in_by = 'staff:' || s.id::text";

/// A new registration row.
pub struct NewRegistration<'a> {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub member_id: Uuid,
    pub status: &'a str,
    pub created_by: &'a str,
    pub now: DateTime<Utc>,
}

/// Inserts a registration (`waitlisted` ones join the end of the line).
pub async fn insert_registration(
    tx: &mut TenantTx,
    r: &NewRegistration<'_>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO activity_registrations (id, activity_id, member_id, status, waitlist_seq, \
         created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, \
         CASE WHEN $4 = 'waitlisted' THEN nextval('activity_waitlist_seq') END, $5, $6, $6)",
    )
    .bind(r.id)
    .bind(r.activity_id)
    .bind(r.member_id)
    .bind(r.status)
    .bind(r.created_by)
    .bind(r.now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn registration(tx: &mut TenantTx, id: Uuid) -> Result<Option<Registration>, DbError> {
    Ok(
        sqlx::query_as(&format!("SELECT {REGISTRATION} {FROM} WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// Locks a registration of `activity` (waiting for any other change of it) and reads it.
pub async fn lock_registration(
    tx: &mut TenantTx,
    activity: Uuid,
    id: Uuid,
) -> Result<Option<Registration>, DbError> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM activity_registrations WHERE id = $1 AND activity_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(activity)
    .fetch_optional(tx.conn())
    .await?;
    match found {
        Some(id) => registration(tx, id).await,
        None => Ok(None),
    }
}

/// The registration with check-in number `number` of `activity`.
pub async fn registration_by_number(
    tx: &mut TenantTx,
    activity: Uuid,
    number: i32,
) -> Result<Option<Registration>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REGISTRATION} {FROM} WHERE r.activity_id = $1 AND r.number = $2"
    ))
    .bind(activity)
    .bind(number)
    .fetch_optional(tx.conn())
    .await?)
}

/// Every registration of an activity: seat holders first, then the line in order, then the
/// rest, each by time.
pub async fn registrations(
    tx: &mut TenantTx,
    activity: Uuid,
) -> Result<Vec<Registration>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REGISTRATION} {FROM} WHERE r.activity_id = $1 \
         ORDER BY CASE r.status WHEN 'confirmed' THEN 0 WHEN 'offered' THEN 1 \
         WHEN 'pending' THEN 2 WHEN 'waitlisted' THEN 3 ELSE 4 END, r.waitlist_seq, r.created_at"
    ))
    .bind(activity)
    .fetch_all(tx.conn())
    .await?)
}

/// A member's registrations, newest activity first.
pub async fn member_registrations(
    tx: &mut TenantTx,
    member: Uuid,
) -> Result<Vec<Registration>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {REGISTRATION} {FROM} JOIN activities a ON a.id = r.activity_id \
         WHERE r.member_id = $1 ORDER BY a.starts_at DESC, r.created_at DESC LIMIT 200"
    ))
    .bind(member)
    .fetch_all(tx.conn())
    .await?)
}

/// A registration's new state (its line place, offer and reason set as given).
pub struct Move<'a> {
    pub status: &'a str,
    /// Joins the end of the line (for `waitlisted`).
    pub to_line: bool,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub reason: Option<&'a str>,
}

pub async fn set_registration(
    tx: &mut TenantTx,
    id: Uuid,
    m: &Move<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    // The place in line is drawn in a statement of its own: Citus refuses a volatile
    // function (nextval) in an UPDATE of a distributed table.
    let place: Option<i64> = if m.to_line {
        Some(
            sqlx::query_scalar("SELECT nextval('activity_waitlist_seq')")
                .fetch_one(tx.conn())
                .await?,
        )
    } else {
        None
    };
    sqlx::query(
        "UPDATE activity_registrations SET status = $2, \
         waitlist_seq = CASE WHEN $3::bigint IS NOT NULL THEN $3 \
                             WHEN $2 IN ('waitlisted', 'offered') THEN waitlist_seq END, \
         offer_expires_at = $4, reason = coalesce($5, reason), updated_at = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(m.status)
    .bind(place)
    .bind(m.offer_expires_at)
    .bind(m.reason)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records what a sign-up paid (points) and the ledger entry.
pub async fn set_paid(tx: &mut TenantTx, id: Uuid, points: i64, entry: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE activity_registrations SET points_paid = $2, paid_entry_id = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(points)
    .bind(entry)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Marks a sign-up's payment refunded; false when it was refunded before.
pub async fn set_refunded(
    tx: &mut TenantTx,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE activity_registrations SET refunded_at = $2 \
         WHERE id = $1 AND refunded_at IS NULL \
         AND (points_paid > 0 OR fen_paid > 0 OR pass_use_id IS NOT NULL)",
    )
    .bind(id)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}

/// The first in line, locked; a registration another transaction holds (a staff move in
/// flight) is passed over rather than waited for, so two promotions never deadlock.
pub async fn first_in_line(tx: &mut TenantTx, activity: Uuid) -> Result<Option<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM activity_registrations WHERE activity_id = $1 AND status = 'waitlisted' \
         ORDER BY waitlist_seq LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(activity)
    .fetch_optional(tx.conn())
    .await?)
}

/// Offers whose time ran out (read, not locked: the caller locks the activity first, then
/// each registration, and looks again).
pub async fn lapsed_offers(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, activity_id FROM activity_registrations \
         WHERE status = 'offered' AND offer_expires_at <= $1 \
         ORDER BY offer_expires_at LIMIT 500",
    )
    .bind(now)
    .fetch_all(tx.conn())
    .await?)
}

/// Live registrations of an activity, locked (for a cancel of the whole activity).
pub async fn live_registrations(tx: &mut TenantTx, activity: Uuid) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM activity_registrations WHERE activity_id = $1 \
         AND status IN ('pending', 'confirmed', 'waitlisted', 'offered') ORDER BY created_at FOR UPDATE",
    )
    .bind(activity)
    .fetch_all(tx.conn())
    .await?)
}

/// Checks a registration in, once: `false` when it was checked in before.
pub async fn check_in(
    tx: &mut TenantTx,
    id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE activity_registrations SET checked_in_at = $2, checked_in_by = $3, updated_at = $2 \
         WHERE id = $1 AND checked_in_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .bind(actor)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_attend_points(tx: &mut TenantTx, id: Uuid, points: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE activity_registrations SET attend_points = $2 WHERE id = $1")
        .bind(id)
        .bind(points)
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Rating {
    pub registration_id: Uuid,
    pub activity_id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub stars: i16,
    pub comment: String,
    pub hidden_at: Option<DateTime<Utc>>,
    pub hidden_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const RATING: &str = "t.registration_id, t.activity_id, t.member_id, m.name AS member_name, \
    t.stars, t.comment, t.hidden_at, t.hidden_by, t.created_at, t.updated_at";

pub async fn rating(tx: &mut TenantTx, registration: Uuid) -> Result<Option<Rating>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RATING} FROM activity_ratings t JOIN members m ON m.id = t.member_id \
         WHERE t.registration_id = $1 FOR UPDATE OF t"
    ))
    .bind(registration)
    .fetch_optional(tx.conn())
    .await?)
}

/// Gives or changes a rating (a change keeps the first time it was given).
#[allow(clippy::too_many_arguments)]
pub async fn put_rating(
    tx: &mut TenantTx,
    registration: Uuid,
    activity: Uuid,
    member: Uuid,
    stars: i16,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO activity_ratings (registration_id, activity_id, member_id, stars, comment, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (registration_id) DO UPDATE SET stars = $4, comment = $5, updated_at = $6",
    )
    .bind(registration)
    .bind(activity)
    .bind(member)
    .bind(stars)
    .bind(comment)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn ratings(tx: &mut TenantTx, activity: Uuid) -> Result<Vec<Rating>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RATING} FROM activity_ratings t JOIN members m ON m.id = t.member_id \
         WHERE t.activity_id = $1 ORDER BY t.created_at DESC"
    ))
    .bind(activity)
    .fetch_all(tx.conn())
    .await?)
}

/// Hides a rating (moderation) or shows it again. `false` when there is none.
pub async fn set_rating_hidden(
    tx: &mut TenantTx,
    activity: Uuid,
    registration: Uuid,
    hidden: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE activity_ratings SET hidden_at = CASE WHEN $3 THEN $5 END, \
         hidden_by = CASE WHEN $3 THEN $4 END WHERE registration_id = $1 AND activity_id = $2",
    )
    .bind(registration)
    .bind(activity)
    .bind(hidden)
    .bind(actor)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1)
}

/// The counts the statistics are made of.
#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize, Deserialize)]
pub struct Counts {
    pub sign_ups: i64,
    pub confirmed: i64,
    pub waitlisted: i64,
    pub pending: i64,
    pub cancelled: i64,
    pub attended: i64,
    pub points_awarded: i64,
    pub ratings: i64,
    pub average_stars: Option<f64>,
    /// Guests ever added (any state); the member counts above leave them out.
    pub guests: i64,
    /// Guests still holding a seat.
    pub guests_confirmed: i64,
    pub guests_cancelled: i64,
    pub guests_attended: i64,
}

pub async fn counts(tx: &mut TenantTx, activity: Uuid) -> Result<Counts, DbError> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS sign_ups, \
             count(*) FILTER (WHERE status = 'confirmed') AS confirmed, \
             count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted, \
             count(*) FILTER (WHERE status = 'pending') AS pending, \
             count(*) FILTER (WHERE status IN ('cancelled', 'rejected', 'lapsed')) AS cancelled, \
             count(*) FILTER (WHERE checked_in_at IS NOT NULL) AS attended, \
             coalesce(sum(attend_points), 0)::bigint AS points_awarded, \
             (SELECT count(*) FROM activity_ratings t WHERE t.activity_id = $1 AND t.hidden_at IS NULL) AS ratings, \
             (SELECT avg(stars)::float8 FROM activity_ratings t WHERE t.activity_id = $1 AND t.hidden_at IS NULL) AS average_stars, \
             (SELECT count(*) FROM activity_guests g WHERE g.activity_id = $1) AS guests, \
             (SELECT count(*) FROM activity_guests g WHERE g.activity_id = $1 AND g.status = 'confirmed') AS guests_confirmed, \
             (SELECT count(*) FROM activity_guests g WHERE g.activity_id = $1 AND g.status = 'cancelled') AS guests_cancelled, \
             (SELECT count(*) FROM activity_guests g WHERE g.activity_id = $1 AND g.checked_in_at IS NOT NULL) AS guests_attended \
         FROM activity_registrations WHERE activity_id = $1",
    )
    .bind(activity)
    .fetch_one(tx.conn())
    .await?)
}

/// A guest: someone who is not a member, holding a seat by name and phone.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub struct Guest {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub name: String,
    /// `138****5678`: the phone as staff see it (it is kept sealed).
    pub phone_masked: String,
    /// `confirmed` (holds a seat) or `cancelled`.
    pub status: String,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub checked_in_by: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

const GUEST: &str = "id, activity_id, name, phone_masked, status, checked_in_at, checked_in_by, \
    created_by, created_at";

/// A new guest row (its seat already taken).
pub struct NewGuest<'a> {
    pub id: Uuid,
    pub activity_id: Uuid,
    pub name: &'a str,
    pub phone_enc: &'a [u8],
    pub phone_key: i16,
    pub phone_index: &'a [u8],
    pub phone_masked: &'a str,
    pub created_by: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert_guest(tx: &mut TenantTx, g: &NewGuest<'_>) -> Result<Guest, DbError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO activity_guests (id, activity_id, name, phone_enc, phone_key, phone_index, \
         phone_masked, status, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'confirmed', $8, $9, $9) RETURNING {GUEST}"
    ))
    .bind(g.id)
    .bind(g.activity_id)
    .bind(g.name)
    .bind(g.phone_enc)
    .bind(g.phone_key)
    .bind(g.phone_index)
    .bind(g.phone_masked)
    .bind(g.created_by)
    .bind(g.now)
    .fetch_one(tx.conn())
    .await?)
}

/// An activity's guests, in the order they were added.
pub async fn guests(tx: &mut TenantTx, activity: Uuid) -> Result<Vec<Guest>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {GUEST} FROM activity_guests WHERE activity_id = $1 ORDER BY created_at, id"
    ))
    .bind(activity)
    .fetch_all(tx.conn())
    .await?)
}

/// Cancels a guest who holds a seat; `None` when there is no such guest holding one.
pub async fn cancel_guest(
    tx: &mut TenantTx,
    activity: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Guest>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE activity_guests SET status = 'cancelled', updated_at = $3 \
         WHERE id = $1 AND activity_id = $2 AND status = 'confirmed' RETURNING {GUEST}"
    ))
    .bind(id)
    .bind(activity)
    .bind(now)
    .fetch_optional(tx.conn())
    .await?)
}

/// Cancels every guest of an activity (it was called off); answers how many held a seat.
pub async fn cancel_all_guests(
    tx: &mut TenantTx,
    activity: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE activity_guests SET status = 'cancelled', updated_at = $2 \
         WHERE activity_id = $1 AND status = 'confirmed'",
    )
    .bind(activity)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected())
}

/// Checks a guest in, once: `None` when they were checked in before (or hold no seat).
pub async fn check_in_guest(
    tx: &mut TenantTx,
    activity: Uuid,
    id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<Guest>, DbError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE activity_guests SET checked_in_at = $3, checked_in_by = $4, updated_at = $3 \
         WHERE id = $1 AND activity_id = $2 AND status = 'confirmed' AND checked_in_at IS NULL \
         RETURNING {GUEST}"
    ))
    .bind(id)
    .bind(activity)
    .bind(now)
    .bind(actor)
    .fetch_optional(tx.conn())
    .await?)
}

pub async fn guest(tx: &mut TenantTx, activity: Uuid, id: Uuid) -> Result<Option<Guest>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {GUEST} FROM activity_guests WHERE id = $1 AND activity_id = $2"
    ))
    .bind(id)
    .bind(activity)
    .fetch_optional(tx.conn())
    .await?)
}
