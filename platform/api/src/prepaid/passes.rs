//! Visit passes over HTTP: pass products, selling one to a member, a member's passes with
//! their uses, consuming a visit (idempotent), reversing one, renewing a pass.

use super::Tag;
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_visit_passes;
use crate::edge::state::ApiState;
use chrono::{DateTime, NaiveDate, Utc};
use patron_app::idempotency::{self, Request};
use patron_app::prepaid::passes as app;
use patron_core::access::Permission;
use patron_core::idempotency::Scope;
use patron_db::prepaid::passes as db;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde_json::json;
use uuid::Uuid;

pub struct PassesApi {
    pub state: ApiState,
}

/// A pass product to create.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewPassProduct {
    #[oai(validator(max_length = 100))]
    pub name: String,
    /// Visits a pass of it holds.
    pub visits: i64,
    /// Days a pass can be used from the day it is sold; never expires when absent.
    pub validity_days: Option<i64>,
    /// The categories it may be used for; any when empty.
    #[oai(default, validator(max_items = 50))]
    pub categories: Vec<String>,
    /// Minor units.
    pub price: i64,
}

#[derive(Debug, Clone, Object)]
pub struct PassProduct {
    pub id: Uuid,
    pub name: String,
    pub visits: i32,
    pub validity_days: Option<i32>,
    pub categories: Vec<String>,
    pub price: i64,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
}

impl From<db::Product> for PassProduct {
    fn from(p: db::Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            visits: p.visits,
            validity_days: p.validity_days,
            categories: p.categories,
            price: p.price,
            archived: p.archived,
            created_at: p.created_at,
        }
    }
}

/// A pass to sell.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewPassSale {
    pub product_id: Uuid,
    /// `cash`, `card`, `wechat`, `alipay` or `bank_transfer` (recorded, never charged).
    #[oai(validator(max_length = 20))]
    pub method: String,
    #[oai(validator(max_length = 100))]
    pub receipt: Option<String>,
    /// Optional: a retry with the same key answers the first sale (same status and body)
    /// instead of selling another pass; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A renewal's payment.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PassRenewal {
    #[oai(validator(max_length = 20))]
    pub method: String,
    #[oai(validator(max_length = 100))]
    pub receipt: Option<String>,
    /// Optional: a retry with the same key answers the first renewal (same status and body)
    /// instead of renewing again; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A member's pass.
#[derive(Debug, Clone, Object)]
pub struct MemberPass {
    pub id: Uuid,
    pub product_id: Uuid,
    pub product_name: String,
    pub categories: Vec<String>,
    pub visits_total: i32,
    pub visits_left: i32,
    pub starts_on: NaiveDate,
    /// The last day it can be used (the business's days); never expires when absent.
    pub expires_on: Option<NaiveDate>,
    /// Frozen (not usable) from this local day to `frozen_until`, both included.
    pub frozen_from: Option<NaiveDate>,
    pub frozen_until: Option<NaiveDate>,
    /// `active`, `frozen`, `expired` or `used_up`.
    pub status: String,
    pub sold_at: DateTime<Utc>,
    pub uses: Vec<PassUse>,
}

/// A consumed visit.
#[derive(Debug, Clone, Object)]
pub struct PassUse {
    pub id: i64,
    pub category: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_by: Option<String>,
    pub reason: Option<String>,
}

impl From<db::Use> for PassUse {
    fn from(u: db::Use) -> Self {
        Self {
            id: u.id,
            category: u.category,
            at: u.at,
            actor: u.actor,
            reversed_at: u.reversed_at,
            reversed_by: u.reversed_by,
            reason: u.reason,
        }
    }
}

fn member_pass(p: db::Pass, status: &str, uses: Vec<db::Use>) -> MemberPass {
    MemberPass {
        id: p.id,
        product_id: p.product_id,
        product_name: p.product_name,
        categories: p.categories,
        visits_total: p.visits_total,
        visits_left: p.visits_left,
        starts_on: p.starts_on,
        expires_on: p.expires_on,
        frozen_from: p.frozen_from,
        frozen_until: p.frozen_until,
        status: status.into(),
        sold_at: p.sold_at,
        uses: uses.into_iter().map(Into::into).collect(),
    }
}

/// A visit to consume.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewPassUse {
    /// A retry with the same key answers the first consumption.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: String,
    /// The service's category, for a pass limited to some.
    #[oai(validator(max_length = 100))]
    pub category: Option<String>,
}

/// A freeze of a pass from today.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PassFreeze {
    /// Days, 1 to 366, within the business's yearly allowance.
    pub days: i64,
    /// Optional: a retry with the same key answers the first freeze (same status and body)
    /// instead of freezing again; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A reversal of a consumed visit.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct PassUseReversal {
    #[oai(validator(max_length = 200))]
    pub reason: String,
    /// Optional: a retry with the same key answers the first reversal (same status and body)
    /// instead of a 409; the key with another body is a 409 `idempotency_key_reused`.
    #[oai(validator(max_length = 100))]
    pub idempotency_key: Option<String>,
}

/// A consumed (or reversed) visit and what is left.
#[derive(Debug, Clone, Object)]
pub struct PassUseResult {
    pub use_id: i64,
    pub pass_id: Uuid,
    pub visits_left: i32,
    pub replayed: bool,
}

impl From<app::UseResult> for PassUseResult {
    fn from(r: app::UseResult) -> Self {
        Self {
            use_id: r.use_id,
            pass_id: r.pass_id,
            visits_left: r.visits_left,
            replayed: r.replayed,
        }
    }
}

/// Whether a pass product is archived (no longer offered for sale).
#[derive(Debug, Clone, Object)]
pub struct ProductArchived {
    pub archived: bool,
}

#[derive(ApiResponse)]
pub enum RecordedPassUse {
    /// Consumed.
    #[oai(status = 201)]
    Created(Json<PassUseResult>),
    /// Consumed before: the first answer.
    #[oai(status = 200)]
    Replayed(Json<PassUseResult>),
}

#[OpenApi(tag = "Tag::Prepaid")]
impl PassesApi {
    /// The business's pass products.
    #[oai(
        path = "/pass-products",
        method = "get",
        operation_id = "passProducts",
        transform = "needs_visit_passes"
    )]
    async fn products(&self, auth: TenantAuth) -> Result<Json<Vec<PassProduct>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let ps = app::products(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(ps.into_iter().map(Into::into).collect()))
    }

    /// Create a pass product: N visits, optional validity in days, optional categories.
    #[oai(
        path = "/pass-products",
        method = "post",
        operation_id = "createPassProduct",
        transform = "needs_visit_passes"
    )]
    async fn create_product(
        &self,
        auth: TenantAuth,
        body: Json<NewPassProduct>,
    ) -> Result<Json<PassProduct>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let b = body.0;
        let p = app::create_product(
            &mut tx,
            &app::NewProduct {
                name: b.name,
                visits: b.visits,
                validity_days: b.validity_days,
                categories: b.categories,
                price: b.price,
            },
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// Archive a pass product (it is no longer offered for sale; passes of it keep working
    /// and keep its name), or bring it back with `archived: false`.
    #[oai(
        path = "/pass-products/:product_id/archived",
        method = "put",
        operation_id = "setPassProductArchived",
        transform = "needs_visit_passes"
    )]
    async fn set_product_archived(
        &self,
        auth: TenantAuth,
        product_id: Path<Uuid>,
        body: Json<ProductArchived>,
    ) -> Result<Json<PassProduct>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let p = app::set_product_archived(&mut tx, product_id.0, body.0.archived).await?;
        tx.commit().await?;
        Ok(Json(p.into()))
    }

    /// A member's passes, newest first, with their uses.
    #[oai(
        path = "/members/:id/passes",
        method = "get",
        operation_id = "memberPasses",
        transform = "needs_visit_passes"
    )]
    async fn passes(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<Vec<MemberPass>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let ps =
            app::member_passes(&mut tx, me.tenant.settings.zone(), id.0, self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(
            ps.into_iter()
                .map(|v| member_pass(v.pass, v.status, v.uses))
                .collect(),
        ))
    }

    /// Sell a pass to a member (the payment is recorded as a charge).
    #[oai(
        path = "/members/:id/passes",
        method = "post",
        operation_id = "sellPass",
        transform = "needs_visit_passes"
    )]
    async fn sell(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewPassSale>,
    ) -> Result<Json<MemberPass>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::PassSale,
            id.0,
            b.idempotency_key.as_deref(),
            &json!({ "product_id": b.product_id, "method": b.method, "receipt": b.receipt }),
        )?;
        let sale = app::NewSale {
            product_id: b.product_id,
            method: b.method,
            receipt: b.receipt,
        };
        let zone = me.tenant.settings.zone();
        let actor = me.subject();
        let p = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::sell(tx, zone, id.0, &sale, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(member_pass(p, "active", vec![])))
    }

    /// Consume one visit of a pass (at check-in). Idempotent by `idempotency_key`; 409
    /// `pass_used_up`, `pass_expired` or `pass_category_not_covered` when it cannot.
    #[oai(
        path = "/members/:id/passes/:pass_id/uses",
        method = "post",
        operation_id = "consumePass",
        transform = "needs_visit_passes"
    )]
    async fn consume(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        pass_id: Path<Uuid>,
        body: Json<NewPassUse>,
    ) -> Result<RecordedPassUse, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let r = app::consume(
            &mut tx,
            me.tenant.settings.zone(),
            id.0,
            pass_id.0,
            &app::NewUse {
                idempotency_key: b.idempotency_key,
                category: b.category,
            },
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        let replayed = r.replayed;
        Ok(if replayed {
            RecordedPassUse::Replayed(Json(r.into()))
        } else {
            RecordedPassUse::Created(Json(r.into()))
        })
    }

    /// Reverse a consumed visit, with a reason: the visit is given back.
    #[oai(
        path = "/members/:id/passes/:pass_id/uses/:use_id/reverse",
        method = "post",
        operation_id = "reversePassUse",
        transform = "needs_visit_passes"
    )]
    async fn reverse(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        pass_id: Path<Uuid>,
        use_id: Path<i64>,
        body: Json<PassUseReversal>,
    ) -> Result<Json<PassUseResult>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let now = self.state.now();
        let key = Request::optional(
            Scope::PassReversal,
            use_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "pass_id": pass_id.0, "use_id": use_id.0, "reason": b.reason }),
        )?;
        let actor = me.subject();
        let r = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::reverse(tx, id.0, pass_id.0, use_id.0, &b.reason, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(r.into()))
    }

    /// Renew a pass: usable for another validity period (from today when it had expired)
    /// with the visits it has left; the payment is recorded.
    #[oai(
        path = "/members/:id/passes/:pass_id/renew",
        method = "post",
        operation_id = "renewPass",
        transform = "needs_visit_passes"
    )]
    async fn renew(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        pass_id: Path<Uuid>,
        body: Json<PassRenewal>,
    ) -> Result<Json<MemberPass>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let zone = me.tenant.settings.zone();
        let now = self.state.now();
        let b = body.0;
        let key = Request::optional(
            Scope::PassRenewal,
            pass_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "method": b.method, "receipt": b.receipt }),
        )?;
        let actor = me.subject();
        let p = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::renew(
                tx,
                zone,
                id.0,
                pass_id.0,
                &b.method,
                b.receipt.as_deref(),
                &actor,
                now,
            )
            .await
        })
        .await?;
        tx.commit().await?;
        let status = if p.visits_left == 0 {
            "used_up"
        } else {
            "active"
        };
        Ok(Json(member_pass(p, status, vec![])))
    }

    /// Freeze (pause) a pass from today for `days`: no visit can be used meanwhile (409
    /// `pass_frozen`) and its last day moves by the days, within the business's yearly
    /// allowance per pass year (409 `freeze_cap_reached`).
    #[oai(
        path = "/members/:id/passes/:pass_id/freeze",
        method = "post",
        operation_id = "freezePass",
        transform = "needs_visit_passes"
    )]
    async fn freeze(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        pass_id: Path<Uuid>,
        body: Json<PassFreeze>,
    ) -> Result<Json<MemberPass>, ApiError> {
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
            Scope::PassFreeze,
            pass_id.0,
            b.idempotency_key.as_deref(),
            &json!({ "days": b.days }),
        )?;
        let zone = me.tenant.settings.zone();
        let actor = me.subject();
        let p = idempotency::run_keyed(&mut tx, key, now, async |tx| {
            app::freeze(tx, zone, cap, id.0, pass_id.0, b.days, &actor, now).await
        })
        .await?;
        tx.commit().await?;
        Ok(Json(member_pass(p, "frozen", vec![])))
    }

    /// End a pass's freeze today: usable again at once; the frozen days not used go back
    /// (its last day moves back by them, and they no longer count against the allowance).
    #[oai(
        path = "/members/:id/passes/:pass_id/unfreeze",
        method = "post",
        operation_id = "unfreezePass",
        transform = "needs_visit_passes"
    )]
    async fn unfreeze(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        pass_id: Path<Uuid>,
    ) -> Result<Json<MemberPass>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let p = app::unfreeze(
            &mut tx,
            me.tenant.settings.zone(),
            id.0,
            pass_id.0,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        let status = if p.visits_left == 0 {
            "used_up"
        } else {
            "active"
        };
        Ok(Json(member_pass(p, status, vec![])))
    }
}
