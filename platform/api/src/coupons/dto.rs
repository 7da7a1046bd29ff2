//! The coupons API's request and answer bodies, converted to and from
//! `patron_app::coupons`.

use crate::edge::views::CouponResultView;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::coupons as app;
use patron_db::coupons as db;
use poem_openapi::Object;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A template's terms: what a coupon of it gives, when, on what, with which others.
#[derive(Debug, Clone, Object, Serialize, Deserialize, Default)]
#[oai(deny_unknown_fields)]
pub struct CouponTerms {
    /// `amount_off`, `percent_off` (with an optional `cap`), `threshold` (满减: `amount` off
    /// from `min_spend`), `gift` (the free item `gift`) or `free_visit`.
    #[oai(validator(max_length = 20))]
    pub kind: String,
    /// Money off in minor units (`amount_off`, `threshold`).
    pub amount: Option<i64>,
    /// Percent off, 1 to 99 (`percent_off`).
    pub percent: Option<i64>,
    /// The most a `percent_off` takes off, in minor units.
    pub cap: Option<i64>,
    /// The spend in scope needed, in minor units (required for `threshold`).
    pub min_spend: Option<i64>,
    /// The free item of a `gift`.
    #[oai(validator(max_length = 100))]
    pub gift: Option<String>,
    /// A fixed window (both) ...
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// ... or valid for N days from the day of issue (that day counted, the business's
    /// days).
    pub valid_days: Option<i64>,
    /// ISO weekdays (1 Monday .. 7 Sunday) it may be used on; any when empty.
    #[oai(default, validator(max_items = 7))]
    #[serde(default)]
    pub weekdays: Vec<i64>,
    /// Local hours `[hours_from, hours_until)` it may be used in.
    pub hours_from: Option<i64>,
    pub hours_until: Option<i64>,
    /// Local dates it may not be used on.
    #[oai(default, validator(max_items = 100))]
    #[serde(default)]
    pub excluded_dates: Vec<NaiveDate>,
    /// Item categories it covers (the spend in scope is theirs); any when empty (with `skus`).
    #[oai(default, validator(max_items = 100))]
    #[serde(default)]
    pub categories: Vec<String>,
    #[oai(default, validator(max_items = 100))]
    #[serde(default)]
    pub skus: Vec<String>,
    /// Stores it may be used in; any when empty.
    #[oai(default, validator(max_items = 100))]
    #[serde(default)]
    pub stores: Vec<String>,
    /// Tier codes whose members may use it; any when empty.
    #[oai(default, validator(max_items = 100))]
    #[serde(default)]
    pub tiers: Vec<String>,
    /// `exclusive` (the default: only alone) or `combinable`.
    #[oai(validator(max_length = 20))]
    pub stacking: Option<String>,
    /// How many coupons of this template one purchase may use (default 1).
    pub max_per_purchase: Option<i64>,
    /// What a refund in full of the purchase that used it does: `restore` (the default:
    /// issued again, with the days it had left if it expired meanwhile) or `forfeit`.
    #[oai(validator(max_length = 20))]
    pub on_refund: Option<String>,
}

impl CouponTerms {
    pub fn input(&self) -> patron_core::coupons::TermsInput {
        serde_json::from_value(serde_json::to_value(self).expect("serialisable"))
            .expect("the same fields")
    }

    fn of(v: &serde_json::Value) -> Self {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }
}

/// A coupon template to create, or its new version.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewCouponTemplate {
    #[oai(validator(max_length = 100))]
    pub name: String,
    pub terms: CouponTerms,
    /// How many coupons it may give in all; no limit when absent.
    pub total: Option<i64>,
    /// How many one member may hold (claimed or given).
    pub per_member: Option<i64>,
    /// How many it may give to members a day (the business's days).
    pub per_day: Option<i64>,
    /// Members may claim it in the portal.
    #[oai(default)]
    pub claimable: bool,
    /// Points a claim costs per coupon (0: free).
    #[oai(default)]
    pub points_price: i64,
    /// One public code anyone may claim it with.
    #[oai(validator(max_length = 40))]
    pub shared_code: Option<String>,
}

impl From<NewCouponTemplate> for app::NewTemplate {
    fn from(t: NewCouponTemplate) -> Self {
        Self {
            name: t.name,
            terms: t.terms.input(),
            total: t.total,
            per_member: t.per_member,
            per_day: t.per_day,
            claimable: t.claimable,
            points_price: t.points_price,
            shared_code: t.shared_code,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct CouponTemplate {
    pub id: Uuid,
    pub name: String,
    /// Bumped by every change; coupons keep the version they were issued under.
    pub version: i32,
    pub terms: CouponTerms,
    pub total: Option<i32>,
    pub per_member: Option<i32>,
    pub per_day: Option<i32>,
    /// Coupons given so far.
    pub issued: i32,
    /// Coupons used so far.
    pub used: i64,
    pub claimable: bool,
    pub points_price: i64,
    pub shared_code: Option<String>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<db::Template> for CouponTemplate {
    fn from(t: db::Template) -> Self {
        Self {
            id: t.id,
            name: t.name,
            version: t.version,
            terms: CouponTerms::of(&t.terms.0),
            total: t.total,
            per_member: t.per_member,
            per_day: t.per_day,
            issued: t.issued,
            used: t.used.unwrap_or_default(),
            claimable: t.claimable,
            points_price: t.points_price,
            shared_code: t.shared_code,
            archived: t.archived,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// Whether a template is archived (gives no more coupons; those given keep working).
#[derive(Debug, Clone, Object)]
pub struct TemplateArchived {
    pub archived: bool,
}

/// A batch of codes to generate.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewCouponBatch {
    /// How many codes, 1 to 10,000.
    pub count: i64,
    /// `#` a digit, `?` a character of `charset`, anything else (letters, digits, `-`, `_`)
    /// as written: `VIP-####-????`. Refused (422 on `pattern`) when it cannot give twice
    /// the count.
    #[oai(validator(max_length = 40))]
    pub pattern: String,
    /// The characters `?` draws from; letters and digits without 0/O and 1/I by default.
    #[oai(validator(max_length = 64))]
    pub charset: Option<String>,
    /// Put in front of every code.
    #[oai(validator(max_length = 20))]
    pub prefix: Option<String>,
    /// Optional: a retry with the same key answers the first batch instead of generating
    /// another; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct CouponBatch {
    pub id: Uuid,
    pub template_id: Uuid,
    pub pattern: String,
    pub count: i32,
    pub used: i64,
    pub created_at: DateTime<Utc>,
    pub actor: String,
}

impl From<db::Batch> for CouponBatch {
    fn from(b: db::Batch) -> Self {
        Self {
            id: b.id,
            template_id: b.template_id,
            pattern: b.pattern,
            count: b.count,
            used: b.used,
            created_at: b.created_at,
            actor: b.actor,
        }
    }
}

/// One step of a coupon's life.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct CouponEvent {
    /// `issued`, `used`, `voided` or `restored`.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// How it was issued (`staff`, `claim`, `batch`).
    pub channel: Option<String>,
    /// The purchase that used it (or whose refund restored it).
    pub purchase_id: Option<Uuid>,
    pub refund_id: Option<Uuid>,
    /// Why it was voided.
    pub reason: Option<String>,
}

/// A coupon.
#[derive(Debug, Clone, Object)]
pub struct Coupon {
    pub id: Uuid,
    pub code: String,
    pub template_id: Uuid,
    pub template_name: String,
    /// The template's version it was issued under, and the terms it keeps.
    pub version: i32,
    pub terms: CouponTerms,
    /// None for a batch code nobody used yet.
    pub member_id: Option<Uuid>,
    pub batch_id: Option<Uuid>,
    /// `staff`, `claim` or `batch`.
    pub channel: String,
    /// `issued`, `used`, `voided`, `expired` or `not_yet_valid` (now).
    pub status: String,
    pub issued_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub purchase_id: Option<Uuid>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub history: Vec<CouponEvent>,
}

impl Coupon {
    pub fn of(c: db::Coupon, now: DateTime<Utc>) -> Self {
        let status = app::shown_status(&c, now).to_owned();
        Self {
            history: serde_json::from_value(c.history.0.clone()).unwrap_or_default(),
            terms: CouponTerms::of(&c.terms.0),
            status,
            id: c.id,
            code: c.code,
            template_id: c.template_id,
            template_name: c.template_name,
            version: c.version,
            member_id: c.member_id,
            batch_id: c.batch_id,
            channel: c.channel,
            issued_at: c.issued_at,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            used_at: c.used_at,
            purchase_id: c.purchase_id,
            voided_at: c.voided_at,
            void_reason: c.void_reason,
        }
    }
}

/// Coupons to give a member.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(deny_unknown_fields)]
pub struct NewCouponIssue {
    pub template_id: Uuid,
    /// 1 to 20; defaults to 1.
    pub quantity: Option<i64>,
    /// Optional: a retry with the same key answers the first issue instead of giving more;
    /// the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

/// Coupons given to a member, and what a claim cost.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct IssuedCoupons {
    pub template_id: Uuid,
    pub template_name: String,
    pub member_id: Uuid,
    pub codes: Vec<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// Points a claim took (0 when free or given by staff).
    pub points: i64,
    /// The member's balance after a claim that cost points.
    pub balance: Option<i64>,
    #[serde(default)]
    pub replayed: bool,
}

impl From<app::Issued> for IssuedCoupons {
    fn from(i: app::Issued) -> Self {
        Self {
            template_id: i.template_id,
            template_name: i.template_name,
            member_id: i.member_id,
            codes: i.codes,
            valid_from: i.valid_from,
            valid_until: i.valid_until,
            points: i.points,
            balance: i.balance,
            replayed: i.replayed,
        }
    }
}

/// A staff member voids a coupon.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct CouponVoid {
    #[oai(validator(max_length = 200))]
    pub reason: String,
}

/// One line of a cart.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct CartItem {
    #[oai(default, validator(max_length = 100))]
    pub sku: String,
    #[oai(default, validator(max_length = 200))]
    pub name: String,
    #[oai(default, validator(max_length = 100))]
    pub category: String,
    /// Defaults to 1.
    pub quantity: Option<i64>,
    /// In minor units.
    pub unit_price: i64,
}

/// A cart whose coupons to check (what `POST /purchases` would do with them).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct CouponCart {
    /// The member: exactly one of `member_id`, `card_number`, `phone`.
    pub member_id: Option<Uuid>,
    #[oai(validator(max_length = 40))]
    pub card_number: Option<String>,
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    /// What is due before coupons, in minor units.
    pub amount: i64,
    #[oai(default, validator(max_items = 500))]
    pub items: Vec<CartItem>,
    #[oai(validator(max_length = 100))]
    pub store: Option<String>,
    /// When; defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Codes as the till would send them; a template's shared code is answered as the
    /// coupon it would give the member (nothing is given).
    pub coupon_codes: Vec<String>,
    /// A reservation the cart holds: its coupon is not refused as `reserved`.
    pub coupon_reservation: Option<Uuid>,
}

impl From<CouponCart> for app::CartIn {
    fn from(c: CouponCart) -> Self {
        Self {
            member: patron_app::purchases::MemberRef {
                member_id: c.member_id,
                card_number: c.card_number,
                phone: c.phone,
            },
            amount: c.amount,
            items: c
                .items
                .into_iter()
                .map(|i| patron_app::purchases::PurchaseItem {
                    sku: i.sku,
                    name: i.name,
                    category: i.category,
                    quantity: i.quantity,
                    unit_price: i.unit_price,
                })
                .collect(),
            store: c.store,
            occurred_at: c.occurred_at,
            coupon_codes: c.coupon_codes,
            reservation: c.coupon_reservation,
        }
    }
}

/// What a cart's coupons would do.
#[derive(Debug, Clone, Object)]
pub struct CouponCheck {
    pub member_id: Uuid,
    pub amount: i64,
    pub discount: i64,
    /// What is left to pay.
    pub payable: i64,
    /// A purchase with these codes would be recorded: every code applies, but a template's
    /// shared code that would give no coupon (the purchase stands without it).
    pub applicable: bool,
    pub coupons: Vec<CouponResultView>,
}

impl From<app::CartCheck> for CouponCheck {
    fn from(v: app::CartCheck) -> Self {
        Self {
            member_id: v.member_id,
            amount: v.amount,
            discount: v.discount,
            payable: v.payable,
            applicable: v.applicable,
            coupons: v.coupons.into_iter().map(Into::into).collect(),
        }
    }
}

/// How long to hold a coupon for a cart.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewCouponReservation {
    /// 1 to 60 minutes.
    pub minutes: i64,
    /// The cart's reservation: a cart holding several coupons holds each under one id
    /// (sent with the purchase as `coupon_reservation`); holding a coupon again under the
    /// id that holds it extends the hold. A new id when absent.
    pub reservation_id: Option<Uuid>,
}

/// A coupon held for a cart: send `reservation_id` with the purchase as
/// `coupon_reservation`.
#[derive(Debug, Clone, Object)]
pub struct CouponReservation {
    pub reservation_id: Uuid,
    pub code: String,
    pub member_id: Option<Uuid>,
    /// It lapses then (no one needs to release it).
    pub reserved_until: DateTime<Utc>,
}

/// Coupons of a template for every member a search finds, issued by a background job.
#[derive(Debug, Object)]
pub struct NewSegmentIssue {
    /// The members: any condition `POST /members/search` takes (its `sort`, `descending`,
    /// `after` and `limit` do not apply here).
    pub filter: crate::edge::member_views::MemberSearch,
    /// The same key again answers with the same run (see idempotency).
    #[oai(validator(min_length = 1, max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A run issuing coupons to a segment, and how far it got.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct SegmentIssue {
    pub id: Uuid,
    pub template_id: Uuid,
    /// `running`, `done` or `stopped`.
    pub status: String,
    /// Why it stopped before the segment's end: `sold_out`, `coupons_per_month`,
    /// `archived` or `expired`.
    pub stop_reason: Option<String>,
    /// Members the search found when the run started.
    pub matched: i64,
    /// Members looked at so far.
    pub done: i64,
    pub issued: i64,
    /// Members who got none: at their per-member limit, or not reached once sold out.
    pub skipped: i64,
    pub actor: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<db::SegmentIssue> for SegmentIssue {
    fn from(r: db::SegmentIssue) -> Self {
        Self {
            id: r.id,
            template_id: r.template_id,
            status: r.status,
            stop_reason: r.stop_reason,
            matched: r.matched,
            done: r.done,
            issued: r.issued,
            skipped: r.skipped,
            actor: r.actor,
            created_at: r.created_at,
            finished_at: r.finished_at,
        }
    }
}
