//! The points mall in the member portal: the items the member may order now (with their
//! balance), ordering (idempotent by key), their orders (a pickup order shows its code),
//! and cancelling an order while it is pending. The use cases are `patron_app::mall`.

use super::{member_session, MemberToken, Tag};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::mall as app;
use patron_core::mall::By;
use patron_core::plans::Feature;
use patron_core::uploads::Purpose;
use patron_db::mall as db;
use patron_db::members::Member;
use patron_db::{Tenant, TenantTx};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

pub struct PortalMallApi {
    pub state: ApiState,
}

/// An item the member may order.
#[derive(Debug, Clone, Object)]
pub struct MyMallItem {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub pictures: Vec<String>,
    /// The picture to show: a short-lived address of the uploaded picture, else the first
    /// of `pictures`.
    pub picture_url: Option<String>,
    pub points: i64,
    /// Cash beside the points, minor units (paid at the counter or on delivery).
    pub cash: i64,
    pub stock: i64,
    pub per_member: Option<i32>,
    pub per_order: Option<i32>,
    /// `pickup` or `shipping`.
    pub delivery: String,
    pub available_until: Option<DateTime<Utc>>,
    /// Units the member holds in orders not cancelled.
    pub ordered: i64,
}

/// The mall as a member sees it.
#[derive(Debug, Clone, Object)]
pub struct MyMall {
    /// False when the business's plan has no points mall (then nothing else is filled).
    pub available: bool,
    /// The member's points.
    pub balance: i64,
    pub items: Vec<MyMallItem>,
}

/// A shipping address.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MyShippingAddress {
    pub recipient: String,
    pub phone: String,
    pub address: String,
}

/// An order the member places.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MyNewMallOrder {
    /// A retry with the same key answers the first order.
    pub idempotency_key: String,
    pub item_id: Uuid,
    /// Units, 1 when absent.
    pub quantity: Option<i64>,
    /// Required for an item that is shipped.
    pub address: Option<MyShippingAddress>,
}

/// One of the member's orders.
#[derive(Debug, Clone, Object)]
pub struct MyMallOrder {
    pub id: Uuid,
    pub item_id: Uuid,
    pub item_name: String,
    pub quantity: i32,
    pub points: i64,
    pub cash: i64,
    pub delivery: String,
    /// The code to show at the counter, for a pickup order.
    pub pickup_code: Option<String>,
    pub tracking: Option<String>,
    /// For a virtual order: the codes of the coupons it gave (also in my coupons).
    pub coupon_codes: Vec<String>,
    /// `pending`, `approved`, `shipped`, `ready_for_pickup`, `completed` or `cancelled`.
    pub state: String,
    /// Whether the member may still cancel it (only while pending).
    pub cancellable: bool,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn my_order(o: db::Order) -> MyMallOrder {
    MyMallOrder {
        cancellable: o.state == "pending",
        id: o.id,
        item_id: o.item_id,
        item_name: o.item_name,
        quantity: o.quantity,
        points: o.points,
        cash: o.cash,
        delivery: o.delivery,
        pickup_code: o.pickup_code,
        tracking: o.tracking,
        coupon_codes: o.coupon_codes,
        state: o.state,
        placed_at: o.placed_at,
        updated_at: o.updated_at,
    }
}

/// A placed order and the balance after it.
#[derive(Debug, Clone, Object)]
pub struct MyPlacedMallOrder {
    pub order: MyMallOrder,
    pub balance: i64,
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum MyPlaced {
    /// Placed.
    #[oai(status = 201)]
    Created(Json<MyPlacedMallOrder>),
    /// Placed before under this key: the first answer.
    #[oai(status = 200)]
    Replayed(Json<MyPlacedMallOrder>),
}

/// Why the member cancels (optional).
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct MyMallCancel {
    pub reason: Option<String>,
}

impl PortalMallApi {
    /// The member, when the business's plan has the mall (403 `mall_unavailable` else).
    async fn member(
        &self,
        slug: &str,
        auth: &MemberToken,
    ) -> Result<(TenantTx, Tenant, Member), ApiError> {
        let (tx, t, m) = member_session(&self.state, slug, auth).await?;
        let plan = self.state.open_for_members(&t).await?;
        if !plan.has(Feature::PointsMall) {
            return Err(ApiError::forbidden(
                "mall_unavailable",
                "this business has no points mall",
            ));
        }
        Ok((tx, t, m))
    }
}

#[OpenApi(tag = "Tag::Portal")]
impl PortalMallApi {
    /// The mall: the items I may order now (offered, for my tier) and my points;
    /// `available: false` when the business has no points mall.
    #[oai(
        path = "/portal/:tenant/mall",
        method = "get",
        operation_id = "portalMall"
    )]
    async fn mall(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<MyMall>, ApiError> {
        let (mut tx, t, m) = member_session(&self.state, &tenant.0, &auth).await?;
        // Asked by the portal's tab bar on every page: a business without the mall answers
        // "not available", not an error.
        if !self
            .state
            .open_for_members(&t)
            .await?
            .has(Feature::PointsMall)
        {
            return Ok(Json(MyMall {
                available: false,
                balance: 0,
                items: vec![],
            }));
        }
        let mall = app::member_mall(&mut tx, m.id, self.state.now()).await?;
        tx.commit().await?;
        let mut items = Vec::with_capacity(mall.items.len());
        for (i, ordered) in mall.items {
            let picture_url = match (i.picture_upload_id, self.state.storage.as_deref()) {
                (Some(id), Some(store)) => {
                    Some(patron_app::uploads::url_of(store, t.id, Purpose::MallItem, id).await?)
                }
                _ => i.pictures.first().cloned(),
            };
            items.push((i, ordered, picture_url));
        }
        Ok(Json(MyMall {
            available: true,
            balance: mall.balance,
            items: items
                .into_iter()
                .map(|(i, ordered, picture_url)| MyMallItem {
                    id: i.id,
                    name: i.name,
                    description: i.description,
                    pictures: i.pictures,
                    picture_url,
                    points: i.points,
                    cash: i.cash,
                    stock: i.stock,
                    per_member: i.per_member,
                    per_order: i.per_order,
                    delivery: i.delivery,
                    available_until: i.available_until,
                    ordered,
                })
                .collect(),
        }))
    }

    /// Order an item for my points (idempotent by `idempotency_key`).
    #[oai(
        path = "/portal/:tenant/mall/orders",
        method = "post",
        operation_id = "portalPlaceMallOrder"
    )]
    async fn place(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
        body: Json<MyNewMallOrder>,
    ) -> Result<MyPlaced, ApiError> {
        let (mut tx, t, m) = self.member(&tenant.0, &auth).await?;
        let b = body.0;
        let req = app::NewOrder {
            idempotency_key: b.idempotency_key,
            item_id: b.item_id,
            quantity: b.quantity.unwrap_or(1),
            address: b.address.map(|a| app::Address {
                recipient: a.recipient,
                phone: a.phone,
                address: a.address,
            }),
        };
        let actor = format!("member:{}", m.id);
        let p = app::place(
            &mut tx,
            t.settings.zone(),
            m.id,
            &req,
            &actor,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        let replayed = p.replayed;
        let body = MyPlacedMallOrder {
            order: my_order(p.order),
            balance: p.balance,
            replayed,
        };
        Ok(if replayed {
            MyPlaced::Replayed(Json(body))
        } else {
            MyPlaced::Created(Json(body))
        })
    }

    /// My orders, newest first.
    #[oai(
        path = "/portal/:tenant/mall/orders",
        method = "get",
        operation_id = "portalMallOrders"
    )]
    async fn orders(
        &self,
        tenant: Path<String>,
        auth: MemberToken,
    ) -> Result<Json<Vec<MyMallOrder>>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let os = app::orders(&mut tx, None, Some(m.id), None, Some(100)).await?;
        tx.commit().await?;
        Ok(Json(os.into_iter().map(|(o, _)| my_order(o)).collect()))
    }

    /// Cancel my order while it is pending: my points go back to where they came from.
    /// 409 `mall_order_state` once it has moved on.
    #[oai(
        path = "/portal/:tenant/mall/orders/:order_id/cancel",
        method = "post",
        operation_id = "portalCancelMallOrder"
    )]
    async fn cancel(
        &self,
        tenant: Path<String>,
        order_id: Path<Uuid>,
        auth: MemberToken,
        body: Json<MyMallCancel>,
    ) -> Result<Json<MyMallOrder>, ApiError> {
        let (mut tx, _, m) = self.member(&tenant.0, &auth).await?;
        let actor = format!("member:{}", m.id);
        let v = app::move_order(
            &mut tx,
            order_id.0,
            Some(m.id),
            &app::NewMove {
                action: "cancel".into(),
                reason: body.0.reason,
                tracking: None,
            },
            By::Member,
            &actor,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(my_order(v.order)))
    }
}
