//! Membership plans and memberships over HTTP: fee standards, selling, renewing, freezing
//! and cancelling a membership, memberships ending soon, and the charge records with totals
//! by day and method (and as CSV).

use super::Tag;
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_memberships;
use crate::edge::state::ApiState;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::idempotency::{self, Request};
use patron_app::prepaid::memberships as app;
use patron_core::access::Permission;
use patron_core::idempotency::Scope;
use patron_db::prepaid::memberships as db;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

pub struct MembershipsApi {
    pub state: ApiState,
}

/// A fee standard to create.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewMembershipPlan {
    #[oai(validator(max_length = 100))]
    pub name: String,
    /// Minor units.
    pub price: i64,
    /// `month`, `quarter`, `year` or `days` (with `period_days`).
    #[oai(validator(max_length = 10))]
    pub period_unit: String,
    pub period_days: Option<i64>,
    /// A tier code the membership goes with (shown with it).
    #[oai(validator(max_length = 50))]
    pub tier: Option<String>,
    /// A pass product whose pass comes with the membership.
    pub pass_product_id: Option<Uuid>,
    /// Stored value that comes with it (credited to the bonus sub-ledger), minor units.
    #[oai(default)]
    pub stored_value: i64,
}

#[derive(Debug, Clone, Object)]
pub struct MembershipPlan {
    pub id: Uuid,
    pub name: String,
    pub price: i64,
    pub period_unit: String,
    pub period_days: Option<i32>,
    pub tier: Option<String>,
    pub pass_product_id: Option<Uuid>,
    pub stored_value: i64,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
}

impl From<db::Plan> for MembershipPlan {
    fn from(p: db::Plan) -> Self {
        Self {
            id: p.id,
            name: p.name,
            price: p.price,
            period_unit: p.period_unit,
            period_days: p.period_days,
            tier: p.tier,
            pass_product_id: p.pass_product_id,
            stored_value: p.stored_value,
            archived: p.archived,
            created_at: p.created_at,
        }
    }
}

/// A member's membership. Covered from `starts_on` up to the day before `ends_on`.
#[derive(Debug, Clone, Object)]
pub struct MembershipView {
    pub id: Uuid,
    pub member_id: Uuid,
    pub plan_id: Uuid,
    pub plan_name: String,
    pub starts_on: NaiveDate,
    /// The first day no longer covered (the business's days).
    pub ends_on: NaiveDate,
    /// `active` or `cancelled`.
    pub status: String,
    /// What was paid for it in all (sale and renewals), minor units.
    pub paid: i64,
    pub frozen_days: i64,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<db::Membership> for MembershipView {
    fn from(m: db::Membership) -> Self {
        Self {
            id: m.id,
            member_id: m.member_id,
            plan_id: m.plan_id,
            plan_name: m.plan_name,
            starts_on: m.starts_on,
            ends_on: m.ends_on,
            status: m.status,
            paid: m.paid,
            frozen_days: m.frozen_days,
            created_at: m.created_at,
            cancelled_at: m.cancelled_at,
        }
    }
}

/// A membership to sell.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewMembershipSale {
    pub plan_id: Uuid,
    /// `cash`, `card`, `wechat`, `alipay` or `bank_transfer` (recorded, never charged), or
    /// `stored_value`: the price taken from the member's balance by the business's spend
    /// order (409 `insufficient_stored_value` when it does not cover it).
    #[oai(validator(max_length = 20))]
    pub method: String,
    #[oai(validator(max_length = 100))]
    pub receipt: Option<String>,
    /// Optional: a retry with the same key answers the first sale (same status and body)
    /// instead of selling another membership; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// How money was taken or given back. A renewal may be paid from `stored_value`; a
/// cancellation gives back what stored value paid to its sub-ledgers, and the rest by this
/// method.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MembershipPayment {
    #[oai(validator(max_length = 20))]
    pub method: String,
    #[oai(validator(max_length = 100))]
    pub receipt: Option<String>,
    /// Optional: a retry with the same key answers the first renewal or cancellation (same status and body)
    /// instead of doing it again; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A freeze to apply from today.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MembershipFreeze {
    pub days: i64,
    /// Optional: a retry with the same key answers the first freeze (same status and body)
    /// instead of freezing again; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A cancelled membership and what went back.
#[derive(Debug, Clone, Object)]
pub struct CancelledMembership {
    pub membership: MembershipView,
    /// The unused part of what was paid, minor units.
    pub refund: i64,
    /// Of it, what went back to the stored-value sub-ledgers it was paid from.
    pub stored_value: StoredValueReturned,
}

/// Stored value put back, by sub-ledger, minor units.
#[derive(Debug, Clone, Object)]
pub struct StoredValueReturned {
    pub principal: i64,
    pub bonus: i64,
}

/// Whether a fee standard or a pass product is archived (no longer offered for sale).
#[derive(Debug, Clone, Object)]
pub struct ArchivedBody {
    pub archived: bool,
}

/// A charge record: money taken (or given back, negative) at the counter.
#[derive(Debug, Clone, Object)]
pub struct ChargeView {
    pub id: Uuid,
    pub member_id: Uuid,
    /// The member's name (empty once the member is erased).
    pub member_name: String,
    /// `top_up`, `top_up_refund`, `membership`, `renewal`, `membership_refund` or `pass`.
    pub kind: String,
    pub amount: i64,
    pub method: String,
    pub receipt: String,
    /// Who took it (`staff:<id>`, `key:<id>`).
    pub staff: String,
    pub plan_id: Option<Uuid>,
    pub membership_id: Option<Uuid>,
    pub pass_id: Option<Uuid>,
    pub top_up_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    /// Paid from (or refunded to) stored value: what it took of each sub-ledger (negative:
    /// put back). Zero for other methods.
    pub principal: i64,
    pub bonus: i64,
}

/// Totals of one local day and method.
#[derive(Debug, Clone, Object)]
pub struct ChargeTotalView {
    pub day: NaiveDate,
    pub method: String,
    pub count: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, Object)]
pub struct ChargeList {
    /// Newest first, at most `limit`.
    pub items: Vec<ChargeView>,
    /// Over every matching record.
    pub totals: Vec<ChargeTotalView>,
    pub count: i64,
    pub amount: i64,
}

#[derive(ApiResponse)]
pub enum ChargesCsv {
    /// The charge records as CSV (UTF-8 with a byte order mark, for Excel).
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

#[allow(clippy::too_many_arguments)]
fn query(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    plan_id: Option<Uuid>,
    method: Option<String>,
    staff: Option<String>,
    member_id: Option<Uuid>,
) -> app::ChargeQuery {
    app::ChargeQuery {
        from,
        to,
        plan_id,
        method,
        staff,
        member_id,
    }
}

fn payment(method: String, receipt: Option<String>) -> app::Payment {
    app::Payment { method, receipt }
}

#[OpenApi(tag = "Tag::Prepaid")]
impl MembershipsApi {
    /// The business's fee standards.
    #[oai(
        path = "/membership-plans",
        method = "get",
        operation_id = "membershipPlans",
        transform = "needs_memberships"
    )]
    async fn plans(&self, auth: TenantAuth) -> Result<Json<Vec<MembershipPlan>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let ps = app::plans(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(ps.into_iter().map(Into::into).collect()))
    }

    /// Create a fee standard: a name, a price, a period and what it includes.
    #[oai(
        path = "/membership-plans",
        method = "post",
        operation_id = "createMembershipPlan",
        transform = "needs_memberships"
    )]
    async fn create_plan(
        &self,
        auth: TenantAuth,
        body: Json<NewMembershipPlan>,
    ) -> Result<Json<MembershipPlan>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let b = body.0;
        let p = app::create_plan(
            &mut tx,
            &self.state.rules,
            &app::NewPlan {
                name: b.name,
                price: b.price,
                period_unit: b.period_unit,
                period_days: b.period_days,
                tier: b.tier,
                pass_product_id: b.pass_product_id,
                stored_value: b.stored_value,
            },
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// Archive a fee standard (it is no longer offered for sale; memberships of it keep
    /// working and keep its name), or bring it back with `archived: false`.
    #[oai(
        path = "/membership-plans/:plan_id/archived",
        method = "put",
        operation_id = "setMembershipPlanArchived",
        transform = "needs_memberships"
    )]
    async fn set_plan_archived(
        &self,
        auth: TenantAuth,
        plan_id: Path<Uuid>,
        body: Json<ArchivedBody>,
    ) -> Result<Json<MembershipPlan>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let p = app::set_plan_archived(&mut tx, plan_id.0, body.0.archived).await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// A member's memberships, latest ending first.
    #[oai(
        path = "/members/:id/memberships",
        method = "get",
        operation_id = "memberMemberships",
        transform = "needs_memberships"
    )]
    async fn memberships(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<MembershipView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let ms = app::member_memberships(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(ms.into_iter().map(Into::into).collect()))
    }

    /// Sell a membership from today for the plan's period, with what the plan includes.
    #[oai(
        path = "/members/:id/memberships",
        method = "post",
        operation_id = "sellMembership",
        transform = "needs_memberships"
    )]
    async fn sell(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewMembershipSale>,
    ) -> Result<Json<MembershipView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::MembershipSale,
            id.0,
            b.idempotency_key.as_deref(),
            &json!({ "plan_id": b.plan_id, "method": b.method, "receipt": b.receipt }),
        )?;
        let (zone, actor, rules) = (me.tenant.settings.zone(), me.subject(), &self.state.rules);
        let pay = payment(b.method, b.receipt);
        let m = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::sell(tx, rules, zone, id.0, b.plan_id, &pay, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(m.into()))
    }

    /// Renew a membership for another period, from its end.
    #[oai(
        path = "/members/:id/memberships/:membership_id/renew",
        method = "post",
        operation_id = "renewMembership",
        transform = "needs_memberships"
    )]
    async fn renew(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        membership_id: Path<Uuid>,
        body: Json<MembershipPayment>,
    ) -> Result<Json<MembershipView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::MembershipRenewal,
            membership_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "method": b.method, "receipt": b.receipt }),
        )?;
        let (zone, actor, rules) = (me.tenant.settings.zone(), me.subject(), &self.state.rules);
        let pay = payment(b.method, b.receipt);
        let m = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::renew(tx, rules, zone, id.0, membership_id.0, &pay, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(m.into()))
    }

    /// Freeze a membership from today: its end moves by the days, within the business's
    /// yearly allowance (409 `freeze_cap_reached`).
    #[oai(
        path = "/members/:id/memberships/:membership_id/freeze",
        method = "post",
        operation_id = "freezeMembership",
        transform = "needs_memberships"
    )]
    async fn freeze(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        membership_id: Path<Uuid>,
        body: Json<MembershipFreeze>,
    ) -> Result<Json<MembershipView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let cap = patron_app::prepaid::settings(&mut tx)
            .await?
            .freeze_days_per_year;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::MembershipFreeze,
            membership_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "days": b.days }),
        )?;
        let (zone, actor, rules) = (me.tenant.settings.zone(), me.subject(), &self.state.rules);
        let m = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::freeze(
                tx,
                rules,
                zone,
                cap,
                id.0,
                membership_id.0,
                b.days,
                &actor,
                now,
            )
            .await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(m.into()))
    }

    /// Cancel a membership today: the unused part of what was paid goes back, pro rata by
    /// days, recorded as a negative charge.
    #[oai(
        path = "/members/:id/memberships/:membership_id/cancel",
        method = "post",
        operation_id = "cancelMembership",
        transform = "needs_memberships"
    )]
    async fn cancel(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        membership_id: Path<Uuid>,
        body: Json<MembershipPayment>,
    ) -> Result<Json<CancelledMembership>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::MembershipCancel,
            membership_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "method": b.method, "receipt": b.receipt }),
        )?;
        let (zone, actor, rules) = (me.tenant.settings.zone(), me.subject(), &self.state.rules);
        let pay = payment(b.method, b.receipt);
        let c = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::cancel(tx, rules, zone, id.0, membership_id.0, &pay, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(CancelledMembership {
            membership: c.membership.into(),
            refund: c.refund,
            stored_value: StoredValueReturned {
                principal: c.stored_value.principal,
                bonus: c.stored_value.bonus,
            },
        }))
    }

    /// Active memberships ending within `days` (default 30) from today, soonest first.
    #[oai(
        path = "/memberships/ending",
        method = "get",
        operation_id = "membershipsEnding",
        transform = "needs_memberships"
    )]
    async fn ending(
        &self,
        auth: TenantAuth,
        days: Query<Option<i64>>,
    ) -> Result<Json<Vec<MembershipView>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let ms = app::ending_within(
            &mut tx,
            me.tenant.settings.zone(),
            days.0.unwrap_or(30),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(ms.into_iter().map(Into::into).collect()))
    }

    /// Charge records (top-ups, memberships, renewals, passes, refunds) between two local
    /// days (both included), by plan, method, staff or member; with totals by day and method.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/charges",
        method = "get",
        operation_id = "listCharges",
        transform = "needs_memberships"
    )]
    async fn charges(
        &self,
        auth: TenantAuth,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        plan_id: Query<Option<Uuid>>,
        method: Query<Option<String>>,
        staff: Query<Option<String>>,
        member_id: Query<Option<Uuid>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<ChargeList>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::ReportsRead))
            .await?;
        let q = query(from.0, to.0, plan_id.0, method.0, staff.0, member_id.0);
        let c = app::charges(
            &mut tx,
            me.tenant.settings.zone(),
            &q,
            limit.0.unwrap_or(200),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(ChargeList {
            items: c
                .items
                .into_iter()
                .map(|n| (n.charge, n.member_name))
                .map(|(ch, member_name)| ChargeView {
                    id: ch.id,
                    member_name,
                    member_id: ch.member_id,
                    kind: ch.kind,
                    amount: ch.amount,
                    method: ch.method,
                    receipt: ch.receipt,
                    staff: ch.staff,
                    plan_id: ch.plan_id,
                    membership_id: ch.membership_id,
                    pass_id: ch.pass_id,
                    top_up_id: ch.top_up_id,
                    at: ch.at,
                    principal: ch.principal,
                    bonus: ch.bonus,
                })
                .collect(),
            totals: c
                .totals
                .into_iter()
                .map(|t| ChargeTotalView {
                    day: t.day,
                    method: t.method,
                    count: t.count,
                    amount: t.amount,
                })
                .collect(),
            count: c.count,
            amount: c.amount,
        }))
    }

    /// The charge records as CSV, with the same filters.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/charges/export.csv",
        method = "get",
        operation_id = "exportChargesCsv",
        transform = "needs_memberships"
    )]
    async fn charges_csv(
        &self,
        auth: TenantAuth,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
        plan_id: Query<Option<Uuid>>,
        method: Query<Option<String>>,
        staff: Query<Option<String>>,
        member_id: Query<Option<Uuid>>,
    ) -> Result<ChargesCsv, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::ReportsRead))
            .await?;
        let q = query(from.0, to.0, plan_id.0, method.0, staff.0, member_id.0);
        let lang = patron_core::lang::Lang::parse(&me.tenant.settings.locale)
            .unwrap_or(patron_core::lang::Lang::ZhCn);
        let bytes = app::charges_csv(&mut tx, me.tenant.settings.zone(), lang, &q).await?;
        tx.commit().await?;
        Ok(ChargesCsv::Ok(
            Binary(bytes),
            "attachment; filename=\"charges.csv\"".into(),
        ))
    }
}
