//! The points mall: the catalogue, orders placed by staff or by the member in the portal,
//! moves (approve, ship, ready, complete, cancel), pickups by code, the mall's settings.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A catalogue item.
#[derive(Clone, Debug, Deserialize)]
pub struct MallItem {
    pub id: String,
    pub name: String,
    pub points: i64,
    pub cash: i64,
    pub stock: i64,
    pub per_member: Option<i32>,
    pub per_order: Option<i32>,
    pub tiers: Vec<String>,
    pub delivery: String,
    pub coupon_template_id: Option<String>,
    pub archived: bool,
}

/// One change of an order.
#[derive(Clone, Debug, Deserialize)]
pub struct MallOrderEvent {
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub reason: String,
}

/// An order as staff see it.
#[derive(Clone, Debug, Deserialize)]
pub struct MallOrder {
    pub id: String,
    pub member_id: String,
    pub member_name: String,
    pub item_id: String,
    pub item_name: String,
    pub quantity: i32,
    pub points: i64,
    pub cash: i64,
    pub delivery: String,
    pub pickup_code: Option<String>,
    pub tracking: Option<String>,
    pub coupon_codes: Vec<String>,
    pub state: String,
    pub moves: Vec<String>,
    pub events: Vec<MallOrderEvent>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PlacedMallOrder {
    pub order: MallOrder,
    pub balance: i64,
    pub replayed: bool,
}

/// The member's own order, in the portal.
#[derive(Clone, Debug, Deserialize)]
pub struct MyMallOrder {
    pub id: String,
    pub item_name: String,
    pub quantity: i32,
    pub points: i64,
    pub pickup_code: Option<String>,
    pub coupon_codes: Vec<String>,
    pub state: String,
    pub cancellable: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyPlacedMallOrder {
    pub order: MyMallOrder,
    pub balance: i64,
    pub replayed: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyMallItem {
    pub id: String,
    pub name: String,
    pub points: i64,
    pub stock: i64,
    pub ordered: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyMall {
    pub balance: i64,
    pub items: Vec<MyMallItem>,
}

#[derive(Serialize)]
struct OrderQuery<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    member_id: Option<&'a str>,
}

impl Api {
    /// `GET /mall/items` (with `archived=true`: every item).
    pub async fn mall_items(&self, auth: &Auth, archived: bool) -> Reply<Vec<MallItem>> {
        self.v1(Method::GET, "/mall/items")
            .auth(auth)
            .query(&[("archived", archived)])
            .send()
            .await
    }

    /// `POST /mall/items`.
    pub async fn create_mall_item(&self, auth: &Auth, input: &impl Serialize) -> Reply<MallItem> {
        self.v1(Method::POST, "/mall/items")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `PUT /mall/items/{item_id}`.
    pub async fn update_mall_item(
        &self,
        auth: &Auth,
        item: &str,
        input: &impl Serialize,
    ) -> Reply<MallItem> {
        self.v1(Method::PUT, &format!("/mall/items/{item}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `PUT /mall/items/{item_id}/archived`.
    pub async fn set_mall_item_archived(
        &self,
        auth: &Auth,
        item: &str,
        archived: bool,
    ) -> Reply<MallItem> {
        self.v1(Method::PUT, &format!("/mall/items/{item}/archived"))
            .auth(auth)
            .json(&serde_json::json!({ "archived": archived }))
            .send()
            .await
    }

    /// `GET /mall/orders`, by state or member.
    pub async fn mall_orders(
        &self,
        auth: &Auth,
        state: Option<&str>,
        member: Option<&str>,
    ) -> Reply<Vec<MallOrder>> {
        self.v1(Method::GET, "/mall/orders")
            .auth(auth)
            .query(&OrderQuery {
                state,
                member_id: member,
            })
            .send()
            .await
    }

    /// `GET /mall/orders/{order_id}`.
    pub async fn mall_order(&self, auth: &Auth, order: &str) -> Reply<MallOrder> {
        self.v1(Method::GET, &format!("/mall/orders/{order}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/{id}/mall/orders`.
    pub async fn place_mall_order(
        &self,
        auth: &Auth,
        member: &str,
        input: &impl Serialize,
    ) -> Reply<PlacedMallOrder> {
        self.v1(Method::POST, &format!("/members/{member}/mall/orders"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /mall/orders/{order_id}/moves`.
    pub async fn move_mall_order(
        &self,
        auth: &Auth,
        order: &str,
        input: &impl Serialize,
    ) -> Reply<MallOrder> {
        self.v1(Method::POST, &format!("/mall/orders/{order}/moves"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /mall/pickups`.
    pub async fn complete_mall_pickup(&self, auth: &Auth, code: &str) -> Reply<MallOrder> {
        self.v1(Method::POST, "/mall/pickups")
            .auth(auth)
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
    }

    /// `PUT /mall/settings`.
    pub async fn set_mall_settings(&self, auth: &Auth, input: &impl Serialize) -> Reply<Value> {
        self.v1(Method::PUT, "/mall/settings")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/mall`.
    pub async fn portal_mall(&self, slug: &str, auth: &Auth) -> Reply<MyMall> {
        self.v1(Method::GET, &format!("/portal/{slug}/mall"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/mall/orders`.
    pub async fn portal_place_mall_order(
        &self,
        slug: &str,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<MyPlacedMallOrder> {
        self.v1(Method::POST, &format!("/portal/{slug}/mall/orders"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/mall/orders`.
    pub async fn portal_mall_orders(&self, slug: &str, auth: &Auth) -> Reply<Vec<MyMallOrder>> {
        self.v1(Method::GET, &format!("/portal/{slug}/mall/orders"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/mall/orders/{order_id}/cancel`.
    pub async fn portal_cancel_mall_order(
        &self,
        slug: &str,
        auth: &Auth,
        order: &str,
    ) -> Reply<MyMallOrder> {
        self.v1(
            Method::POST,
            &format!("/portal/{slug}/mall/orders/{order}/cancel"),
        )
        .auth(auth)
        .json(&serde_json::json!({}))
        .send()
        .await
    }
}
