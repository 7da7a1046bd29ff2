//! The points mall over HTTP: the catalogue (items, archived instead of deleted), orders
//! placed by staff for a member (idempotent by key), the order queue, moving an order
//! (approve, ship, ready, complete, cancel with a reason), completing a pickup by its code,
//! and the mall's settings. The member's side is in `portal::mall`. The use cases are
//! `patron_app::mall`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::gate::needs_points_mall;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::mall as app;
use patron_app::uploads;
use patron_core::access::Permission;
use patron_core::mall::By;
use patron_core::uploads::Purpose;
use patron_db::mall as db;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The points mall (积分商城): rewards with stock, ordered for points.
    Mall,
}

pub struct MallApi {
    pub state: ApiState,
}

impl MallApi {
    /// The item as answered, its uploaded picture with a short-lived address.
    async fn out(&self, tenant_id: i64, i: db::Item) -> Result<MallItem, ApiError> {
        let mut out: MallItem = i.into();
        if let (Some(id), Some(store)) = (out.picture_upload_id, self.state.storage.as_deref()) {
            out.picture_url = Some(uploads::url_of(store, tenant_id, Purpose::MallItem, id).await?);
        }
        Ok(out)
    }
}

/// A mall item to create, or all of an item's values to replace.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MallItemInput {
    pub name: String,
    pub description: Option<String>,
    /// Web addresses of pictures, the first shown first.
    #[oai(default)]
    pub pictures: Vec<String>,
    /// Points one unit costs.
    pub points: i64,
    /// Cash one unit costs beside its points, in minor units (collected at the counter or
    /// on delivery; recorded, never charged). 0 when absent.
    pub cash: Option<i64>,
    /// Units in stock.
    pub stock: i64,
    /// Units one member may hold in orders not cancelled; no limit when absent.
    pub per_member: Option<i64>,
    /// Units one order may hold; no limit when absent.
    pub per_order: Option<i64>,
    /// Tier codes whose members may order it; every member when empty.
    #[oai(default)]
    pub tiers: Vec<String>,
    /// Offered from this instant (included); at once when absent.
    pub available_from: Option<DateTime<Utc>>,
    /// Offered until this instant (excluded); for ever when absent.
    pub available_until: Option<DateTime<Utc>>,
    /// `pickup` (in store, against a verification code), `shipping` (to an address) or
    /// `virtual` (coupons of a template, given as the order is placed).
    pub delivery: String,
    /// The coupon template a virtual item gives: required for `virtual`, none otherwise.
    pub coupon_template_id: Option<Uuid>,
    /// The picture by upload: a completed `mall_item` upload of the business (422
    /// `upload_not_usable` otherwise). Shown before `pictures`; a picture upload replaced or
    /// removed is deleted.
    pub picture_upload_id: Option<Uuid>,
}

impl From<MallItemInput> for app::ItemInput {
    fn from(b: MallItemInput) -> Self {
        Self {
            name: b.name,
            description: b.description,
            pictures: b.pictures,
            points: b.points,
            cash: b.cash,
            stock: b.stock,
            per_member: b.per_member,
            per_order: b.per_order,
            tiers: b.tiers,
            available_from: b.available_from,
            available_until: b.available_until,
            delivery: b.delivery,
            coupon_template_id: b.coupon_template_id,
            picture_upload_id: b.picture_upload_id,
        }
    }
}

/// A mall item.
#[derive(Debug, Clone, Object)]
pub struct MallItem {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub pictures: Vec<String>,
    pub points: i64,
    pub cash: i64,
    pub stock: i64,
    pub per_member: Option<i32>,
    pub per_order: Option<i32>,
    pub tiers: Vec<String>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub delivery: String,
    /// The coupon template a virtual item gives.
    pub coupon_template_id: Option<Uuid>,
    /// The picture by upload, if any.
    pub picture_upload_id: Option<Uuid>,
    /// The picture to show: a short-lived address of the uploaded picture, else the first
    /// of `pictures`.
    pub picture_url: Option<String>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<db::Item> for MallItem {
    fn from(i: db::Item) -> Self {
        Self {
            id: i.id,
            name: i.name,
            description: i.description,
            picture_url: i.pictures.first().cloned(),
            pictures: i.pictures,
            points: i.points,
            cash: i.cash,
            stock: i.stock,
            per_member: i.per_member,
            per_order: i.per_order,
            tiers: i.tiers,
            available_from: i.available_from,
            available_until: i.available_until,
            delivery: i.delivery,
            coupon_template_id: i.coupon_template_id,
            picture_upload_id: i.picture_upload_id,
            archived: i.archived,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// Whether an item is archived (no longer offered; its orders go on).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MallItemArchived {
    pub archived: bool,
}

/// Where a shipped order goes.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct ShippingAddress {
    pub recipient: String,
    pub phone: String,
    pub address: String,
}

impl From<ShippingAddress> for app::Address {
    fn from(a: ShippingAddress) -> Self {
        Self {
            recipient: a.recipient,
            phone: a.phone,
            address: a.address,
        }
    }
}

/// An order to place for a member.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewMallOrder {
    /// A retry with the same key answers the first order (200, `replayed`); the key with
    /// another body is a 409 `idempotency_key_reused`.
    pub idempotency_key: String,
    pub item_id: Uuid,
    /// Units, 1 when absent.
    pub quantity: Option<i64>,
    /// Required for an item that is shipped.
    pub address: Option<ShippingAddress>,
}

impl NewMallOrder {
    pub fn into_app(self) -> app::NewOrder {
        app::NewOrder {
            idempotency_key: self.idempotency_key,
            item_id: self.item_id,
            quantity: self.quantity.unwrap_or(1),
            address: self.address.map(Into::into),
        }
    }
}

/// One change of an order.
#[derive(Debug, Clone, Object)]
pub struct MallOrderEvent {
    pub from_state: Option<String>,
    pub to_state: String,
    /// Who: `staff:<id>`, `key:<id>`, `member:<id>` or `system:mall`.
    pub actor: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// An order.
#[derive(Debug, Clone, Object)]
pub struct MallOrder {
    pub id: Uuid,
    pub member_id: Uuid,
    pub member_name: String,
    pub item_id: Uuid,
    pub item_name: String,
    pub quantity: i32,
    /// Points taken for the whole order.
    pub points: i64,
    /// Cash for the whole order, minor units (recorded, collected outside).
    pub cash: i64,
    pub delivery: String,
    pub address: Option<serde_json::Value>,
    /// For a pickup order: the code the member shows at the counter.
    pub pickup_code: Option<String>,
    pub tracking: Option<String>,
    /// For a virtual order: the codes of the coupons it gave the member.
    pub coupon_codes: Vec<String>,
    /// `pending`, `approved`, `shipped`, `ready_for_pickup`, `completed` or `cancelled`.
    pub state: String,
    /// The moves staff can make next.
    pub moves: Vec<String>,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every change, oldest first (in the answer about one order).
    pub events: Vec<MallOrderEvent>,
}

pub fn order_dto(o: db::Order, moves: Vec<String>, events: Vec<db::Event>) -> MallOrder {
    MallOrder {
        id: o.id,
        member_id: o.member_id,
        member_name: o.member_name,
        item_id: o.item_id,
        item_name: o.item_name,
        quantity: o.quantity,
        points: o.points,
        cash: o.cash,
        delivery: o.delivery,
        address: o.address,
        pickup_code: o.pickup_code,
        tracking: o.tracking,
        coupon_codes: o.coupon_codes,
        state: o.state,
        moves,
        placed_by: o.placed_by,
        placed_at: o.placed_at,
        updated_at: o.updated_at,
        events: events
            .into_iter()
            .map(|e| MallOrderEvent {
                from_state: e.from_state,
                to_state: e.to_state,
                actor: e.actor,
                reason: e.reason,
                at: e.at,
            })
            .collect(),
    }
}

fn view_dto(v: app::OrderView) -> MallOrder {
    order_dto(v.order, v.moves, v.events)
}

/// A placed order and the member's balance after it.
#[derive(Debug, Clone, Object)]
pub struct PlacedMallOrder {
    pub order: MallOrder,
    pub balance: i64,
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum PlacedOrder {
    /// Placed.
    #[oai(status = 201)]
    Created(Json<PlacedMallOrder>),
    /// Placed before under this key: the first answer.
    #[oai(status = 200)]
    Replayed(Json<PlacedMallOrder>),
}

pub fn placed(p: app::Placed) -> PlacedOrder {
    let replayed = p.replayed;
    let moves = {
        let o = &p.order;
        match (
            patron_core::mall::State::parse(&o.state),
            patron_core::mall::Delivery::parse(&o.delivery),
        ) {
            (Some(s), Some(d)) => patron_core::mall::staff_moves(s, d)
                .into_iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            _ => vec![],
        }
    };
    let body = PlacedMallOrder {
        order: order_dto(p.order, moves, vec![]),
        balance: p.balance,
        replayed,
    };
    if replayed {
        PlacedOrder::Replayed(Json(body))
    } else {
        PlacedOrder::Created(Json(body))
    }
}

/// A move of an order.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MallOrderMove {
    /// `approve`, `ship`, `ready`, `complete` or `cancel`.
    pub action: String,
    /// Why; required to cancel.
    pub reason: Option<String>,
    /// The parcel's tracking number, when shipping.
    pub tracking: Option<String>,
    /// Optional: a retry with the same key answers the first move (same status and body)
    /// instead of a 409; the key with another body is a 409 `idempotency_key_reused`.
    pub idempotency_key: Option<String>,
}

/// A pickup code, typed or scanned.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MallPickup {
    pub code: String,
}

/// The mall's settings.
#[derive(Debug, Clone, Object)]
pub struct MallSettings {
    /// Hours a pending order waits before it is cancelled on its own (its points and stock
    /// back); it waits for staff when absent.
    pub pending_limit_hours: Option<i64>,
}

#[OpenApi(tag = "Tag::Mall")]
impl MallApi {
    /// The catalogue: items not archived, or every item with `archived=true`.
    #[oai(
        path = "/mall/items",
        method = "get",
        operation_id = "mallItems",
        transform = "needs_points_mall"
    )]
    async fn items(
        &self,
        auth: TenantAuth,
        archived: Query<Option<bool>>,
    ) -> Result<Json<Vec<MallItem>>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let items = app::items(&mut tx, archived.0.unwrap_or(false)).await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            out.push(self.out(me.tenant.id, i).await?);
        }
        Ok(Json(out))
    }

    /// Add an item to the catalogue.
    #[oai(
        path = "/mall/items",
        method = "post",
        operation_id = "createMallItem",
        transform = "needs_points_mall"
    )]
    async fn create_item(
        &self,
        auth: TenantAuth,
        body: Json<MallItemInput>,
    ) -> Result<Json<MallItem>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let i = app::create_item(&mut tx, &body.0.into(), &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(self.out(me.tenant.id, i).await?))
    }

    /// Replace an item's values (its stock is set as given; orders keep their own name and
    /// price).
    #[oai(
        path = "/mall/items/:item_id",
        method = "put",
        operation_id = "updateMallItem",
        transform = "needs_points_mall"
    )]
    async fn update_item(
        &self,
        auth: TenantAuth,
        item_id: Path<Uuid>,
        body: Json<MallItemInput>,
    ) -> Result<Json<MallItem>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let i = app::update_item(
            &mut tx,
            item_id.0,
            &body.0.into(),
            &me.subject(),
            self.state.now(),
            self.state.storage.as_deref(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(self.out(me.tenant.id, i).await?))
    }

    /// Archive an item (no longer offered; its orders go on), or bring it back.
    #[oai(
        path = "/mall/items/:item_id/archived",
        method = "put",
        operation_id = "setMallItemArchived",
        transform = "needs_points_mall"
    )]
    async fn set_archived(
        &self,
        auth: TenantAuth,
        item_id: Path<Uuid>,
        body: Json<MallItemArchived>,
    ) -> Result<Json<MallItem>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let i = app::set_archived(
            &mut tx,
            item_id.0,
            body.0.archived,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(self.out(me.tenant.id, i).await?))
    }

    /// Orders, newest first: the fulfilment queue by `state`, a member's orders by
    /// `member_id`, an item's by `item_id`.
    #[oai(
        path = "/mall/orders",
        method = "get",
        operation_id = "mallOrders",
        transform = "needs_points_mall"
    )]
    async fn orders(
        &self,
        auth: TenantAuth,
        state: Query<Option<String>>,
        member_id: Query<Option<Uuid>>,
        item_id: Query<Option<Uuid>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<MallOrder>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let os = app::orders(&mut tx, state.0.as_deref(), member_id.0, item_id.0, limit.0).await?;
        tx.commit().await?;
        Ok(Json(
            os.into_iter()
                .map(|(o, m)| order_dto(o, m, vec![]))
                .collect(),
        ))
    }

    /// One order, with every change (who, when, why).
    #[oai(
        path = "/mall/orders/:order_id",
        method = "get",
        operation_id = "mallOrder",
        transform = "needs_points_mall"
    )]
    async fn order(
        &self,
        auth: TenantAuth,
        order_id: Path<Uuid>,
    ) -> Result<Json<MallOrder>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let v = app::order(&mut tx, order_id.0, None).await?;
        tx.commit().await?;
        Ok(Json(view_dto(v)))
    }

    /// Place an order for a member: the points are taken from their lots (soonest-expiring
    /// first) and a unit of stock per unit ordered, in one transaction. 409
    /// `insufficient_points`, `mall_out_of_stock`, `mall_member_limit`,
    /// `mall_item_unavailable` or `mall_tier_required` when it cannot. A virtual item's
    /// coupons are given in the same transaction and the order is completed at once; a
    /// coupon limit refuses the whole order with the coupons' own 409 (`coupon_sold_out`,
    /// `coupon_member_limit`, `coupon_template_archived`, `coupon_template_expired`,
    /// `coupons_unavailable` ...).
    #[oai(
        path = "/members/:id/mall/orders",
        method = "post",
        operation_id = "placeMallOrder",
        transform = "needs_points_mall"
    )]
    async fn place(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        body: Json<NewMallOrder>,
    ) -> Result<PlacedOrder, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let zone = me.tenant.settings.zone();
        let p = app::place(
            &mut tx,
            zone,
            id.0,
            &body.0.into_app(),
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(placed(p))
    }

    /// Move an order: `approve` (pending), `ship` (approved, shipped items), `ready`
    /// (approved, pickup items), `complete` (shipped or ready), or `cancel` with a reason
    /// at any step before completed: the points go back into the lots they came from, with
    /// their own expiry, and the stock back. A completed virtual order may be cancelled
    /// while none of its coupons was used (its coupons are voided); 409 `mall_coupon_used`
    /// otherwise. 409 `mall_order_state` when the order's state does not allow the move.
    #[oai(
        path = "/mall/orders/:order_id/moves",
        method = "post",
        operation_id = "moveMallOrder",
        transform = "needs_points_mall"
    )]
    async fn move_order(
        &self,
        auth: TenantAuth,
        order_id: Path<Uuid>,
        body: Json<MallOrderMove>,
    ) -> Result<Json<MallOrder>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let b = body.0;
        let m = app::NewMove {
            action: b.action,
            reason: b.reason,
            tracking: b.tracking,
        };
        let v = app::move_order_keyed(
            &mut tx,
            order_id.0,
            None,
            &m,
            b.idempotency_key.as_deref(),
            By::Staff,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(view_dto(v)))
    }

    /// Complete a pickup order by the code the member shows (typed or scanned); 422 naming
    /// `code` when no order has it.
    #[oai(
        path = "/mall/pickups",
        method = "post",
        operation_id = "completeMallPickup",
        transform = "needs_points_mall"
    )]
    async fn pickup(
        &self,
        auth: TenantAuth,
        body: Json<MallPickup>,
    ) -> Result<Json<MallOrder>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let v =
            app::complete_pickup(&mut tx, &body.0.code, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(view_dto(v)))
    }

    /// The mall's settings.
    #[oai(
        path = "/mall/settings",
        method = "get",
        operation_id = "mallSettings",
        transform = "needs_points_mall"
    )]
    async fn settings(&self, auth: TenantAuth) -> Result<Json<MallSettings>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let h = app::settings(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(MallSettings {
            pending_limit_hours: h.map(i64::from),
        }))
    }

    /// Change the mall's settings.
    #[oai(
        path = "/mall/settings",
        method = "put",
        operation_id = "setMallSettings",
        transform = "needs_points_mall"
    )]
    async fn set_settings(
        &self,
        auth: TenantAuth,
        body: Json<MallSettings>,
    ) -> Result<Json<MallSettings>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::SettingsManage))
            .await?;
        let h = app::set_settings(
            &mut tx,
            body.0.pending_limit_hours,
            &me.subject(),
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(MallSettings {
            pending_limit_hours: h.map(i64::from),
        }))
    }
}
