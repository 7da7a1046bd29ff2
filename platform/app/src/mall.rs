//! The points mall (积分商城): the catalogue, placing an order (points taken from the
//! member's lots through the ledger, stock and the per-member limit each taken by one
//! conditional statement, all in the order's transaction, idempotent by key), moving an
//! order through its states (`core::mall::next` says who may move it where), cancelling
//! (points back into the lots they came from with their own expiry, stock and the member's
//! count back, exactly once), completing a pickup by its code, and the job that cancels
//! pending orders past the business's time limit.

use crate::idempotency::{self, Request};
use crate::points::decide::Replayable;
use crate::points::{check_external_id, member_of};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::idempotency::Scope;
use patron_core::mall::{self as core, Action, By, Delivery, Refusal, State, Unavailable};
use patron_core::points::EntrySource;
use patron_core::ports::ObjectStore;
use patron_core::reasons::Reason;
use patron_core::uploads::Purpose;
use patron_core::{FieldCode, Issue, Validation, Zone};
use patron_db::mall::{self as db, Item, Order};
use patron_db::points::{self, Source};
use patron_db::{Db, Tenant, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

/// An item as staff send it (to create or to replace).
#[derive(Debug, Clone)]
pub struct ItemInput {
    pub name: String,
    pub description: Option<String>,
    pub pictures: Vec<String>,
    pub points: i64,
    pub cash: Option<i64>,
    pub stock: i64,
    pub per_member: Option<i64>,
    pub per_order: Option<i64>,
    pub tiers: Vec<String>,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub delivery: String,
    /// The coupon template a virtual item gives (required for `virtual`, none otherwise).
    pub coupon_template_id: Option<Uuid>,
    /// The picture by upload: a stored `mall_item` upload of the business.
    pub picture_upload_id: Option<Uuid>,
}

fn check_item(i: &ItemInput) -> Result<Delivery, AppError> {
    let mut v = Validation::new();
    let name = i.name.trim();
    if name.is_empty() || name.chars().count() > core::NAME_MAX {
        v.check::<()>("name", Err(Issue::length_between(1, core::NAME_MAX)));
    }
    if i.description
        .as_deref()
        .is_some_and(|d| d.chars().count() > core::DESCRIPTION_MAX)
    {
        v.check::<()>("description", Err(Issue::too_long(core::DESCRIPTION_MAX)));
    }
    if i.pictures.len() > core::PICTURES_MAX {
        v.check::<()>(
            "pictures",
            Err(Issue::too_many(core::PICTURES_MAX, "pictures")),
        );
    }
    for (n, p) in i.pictures.iter().enumerate() {
        let p = p.trim();
        let web = p.starts_with("https://") || p.starts_with("http://");
        if !web || p.chars().count() > core::URL_MAX || p.contains(char::is_whitespace) {
            v.check::<()>(
                &format!("pictures[{n}]"),
                Err(Issue::invalid_format(
                    "url",
                    "must be a web address (http:// or https://)",
                )),
            );
        }
    }
    if !(1..=core::POINTS_MAX).contains(&i.points) {
        v.check::<()>("points", Err(Issue::out_of_range(1, core::POINTS_MAX)));
    }
    if let Some(c) = i.cash {
        if !(0..=core::CASH_MAX).contains(&c) {
            v.check::<()>("cash", Err(Issue::out_of_range(0, core::CASH_MAX)));
        }
    }
    if !(0..=core::STOCK_MAX).contains(&i.stock) {
        v.check::<()>("stock", Err(Issue::out_of_range(0, core::STOCK_MAX)));
    }
    for (field, value) in [("per_member", i.per_member), ("per_order", i.per_order)] {
        if value.is_some_and(|x| !(1..=core::QUANTITY_MAX).contains(&x)) {
            v.check::<()>(field, Err(Issue::out_of_range(1, core::QUANTITY_MAX)));
        }
    }
    if i.tiers.len() > core::TIERS_MAX {
        v.check::<()>("tiers", Err(Issue::too_many(core::TIERS_MAX, "tiers")));
    }
    for (n, t) in i.tiers.iter().enumerate() {
        if t.trim().is_empty() || t.chars().count() > 100 {
            v.check::<()>(&format!("tiers[{n}]"), Err(Issue::length_between(1, 100)));
        }
    }
    if let (Some(from), Some(until)) = (i.available_from, i.available_until) {
        if until <= from {
            v.check::<()>(
                "available_until",
                Err(
                    Issue::new(FieldCode::BeforeStart, "must be after available_from")
                        .with("field", "available_from"),
                ),
            );
        }
    }
    let delivery = Delivery::parse(i.delivery.trim());
    if delivery.is_none() {
        v.check::<()>(
            "delivery",
            Err(Issue::not_one_of(i.delivery.trim(), core::DELIVERIES)),
        );
    }
    match (delivery, i.coupon_template_id) {
        (Some(Delivery::Virtual), None) => v.check::<()>(
            "coupon_template_id",
            Err(Issue::new(
                FieldCode::Required,
                "is required: a virtual item gives coupons of a template",
            )),
        ),
        (Some(Delivery::Pickup | Delivery::Shipping), Some(_)) => v.check::<()>(
            "coupon_template_id",
            Err(Issue::new(
                FieldCode::NotAllowed,
                "only a virtual item gives coupons",
            )),
        ),
        _ => None,
    };
    v.finish().map_err(AppError::invalid)?;
    Ok(delivery.expect("checked"))
}

/// A virtual item's template must be one of this business's.
async fn check_template(tx: &mut TenantTx, i: &ItemInput) -> Result<(), AppError> {
    if let Some(id) = i.coupon_template_id {
        if patron_db::coupons::template(tx, id).await?.is_none() {
            return Err(AppError::field(
                "coupon_template_id",
                Issue::unknown(&id.to_string(), "there is no such coupon template"),
            ));
        }
    }
    Ok(())
}

fn item_of(id: Uuid, i: &ItemInput, delivery: Delivery, actor: &str, now: DateTime<Utc>) -> Item {
    let mut tiers: Vec<String> = i.tiers.iter().map(|t| t.trim().to_owned()).collect();
    tiers.sort();
    tiers.dedup();
    Item {
        id,
        name: i.name.trim().to_owned(),
        description: i.description.as_deref().unwrap_or("").trim().to_owned(),
        pictures: i.pictures.iter().map(|p| p.trim().to_owned()).collect(),
        points: i.points,
        cash: i.cash.unwrap_or(0),
        stock: i.stock,
        per_member: i.per_member.map(|x| x as i32),
        per_order: i.per_order.map(|x| x as i32),
        tiers,
        available_from: i.available_from,
        available_until: i.available_until,
        delivery: delivery.as_str().to_owned(),
        coupon_template_id: i.coupon_template_id,
        picture_upload_id: i.picture_upload_id,
        archived: false,
        created_at: now,
        updated_at: now,
        updated_by: actor.to_owned(),
    }
}

/// The picture upload, when one is named: a stored `mall_item` upload of the business
/// (422 `upload_not_usable` on `picture_upload_id` otherwise).
async fn check_picture(tx: &mut TenantTx, i: &ItemInput) -> Result<(), AppError> {
    if let Some(id) = i.picture_upload_id {
        crate::uploads::take(tx, id, Purpose::MallItem, "picture_upload_id", None).await?;
    }
    Ok(())
}

pub async fn create_item(
    tx: &mut TenantTx,
    input: &ItemInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Item, AppError> {
    let delivery = check_item(input)?;
    check_template(tx, input).await?;
    check_picture(tx, input).await?;
    let item = item_of(Uuid::now_v7(), input, delivery, actor, now);
    db::insert_item(tx, &item).await?;
    Ok(item)
}

/// Replaces an item's values; its stock is set to `stock` as given (orders placed since the
/// form was read are not added back). A picture upload replaced or removed is deleted from
/// `store`.
pub async fn update_item(
    tx: &mut TenantTx,
    id: Uuid,
    input: &ItemInput,
    actor: &str,
    now: DateTime<Utc>,
    store: Option<&dyn ObjectStore>,
) -> Result<Item, AppError> {
    let delivery = check_item(input)?;
    check_template(tx, input).await?;
    let current = db::item(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("mall item"))?;
    if current.picture_upload_id != input.picture_upload_id {
        check_picture(tx, input).await?;
    }
    let item = item_of(id, input, delivery, actor, now);
    let item = db::update_item(tx, &item)
        .await?
        .ok_or_else(|| AppError::not_found("mall item"))?;
    if let (Some(old), Some(store)) = (current.picture_upload_id, store) {
        if Some(old) != item.picture_upload_id {
            if let Some(u) = patron_db::uploads::find(tx, old).await? {
                crate::uploads::discard(tx, store, &u).await?;
            }
        }
    }
    Ok(item)
}

pub async fn items(tx: &mut TenantTx, archived_too: bool) -> Result<Vec<Item>, AppError> {
    Ok(db::items(tx, archived_too).await?)
}

pub async fn set_archived(
    tx: &mut TenantTx,
    id: Uuid,
    archived: bool,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Item, AppError> {
    db::set_archived(tx, id, archived, actor, now)
        .await?
        .ok_or_else(|| AppError::not_found("mall item"))
}

/// A shipping address.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Address {
    pub recipient: String,
    pub phone: String,
    pub address: String,
}

/// An order as sent (hashed in this field order for its idempotency key).
#[derive(Debug, Clone, Serialize)]
pub struct NewOrder {
    pub idempotency_key: String,
    pub item_id: Uuid,
    pub quantity: i64,
    pub address: Option<Address>,
}

fn check_order(o: &NewOrder) -> Result<(), AppError> {
    let mut v = Validation::new();
    check_external_id(&mut v, "idempotency_key", &o.idempotency_key);
    if o.idempotency_key.trim().chars().count() > 100 {
        v.check::<()>("idempotency_key", Err(Issue::too_long(100)));
    }
    if !(1..=core::QUANTITY_MAX).contains(&o.quantity) {
        v.check::<()>("quantity", Err(Issue::out_of_range(1, core::QUANTITY_MAX)));
    }
    if let Some(a) = &o.address {
        for (field, value) in [
            ("address.recipient", &a.recipient),
            ("address.phone", &a.phone),
            ("address.address", &a.address),
        ] {
            let value = value.trim();
            if value.is_empty() || value.chars().count() > core::ADDRESS_PART_MAX {
                v.check::<()>(field, Err(Issue::length_between(1, core::ADDRESS_PART_MAX)));
            }
        }
    }
    v.finish().map_err(AppError::invalid)
}

/// A placed order and the member's balance after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Placed {
    pub order: Order,
    pub balance: i64,
    pub replayed: bool,
}

impl Replayable for Placed {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

/// Places an order for the member, idempotent by its key (per member): the key is claimed
/// first, so a retry racing the first request answers the first order. The caller commits.
pub async fn place(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    req: &NewOrder,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Placed, AppError> {
    check_order(req)?;
    let member = member_of(tx, member_id).await?;
    let key = Request::scoped(
        Scope::MallOrder,
        member.id,
        "idempotency_key",
        &req.idempotency_key,
        req,
    );
    idempotency::run(tx, &key, now, async |tx| {
        place_once(tx, zone, member.id, req, actor, now).await
    })
    .await
}

fn unavailable(why: Unavailable) -> AppError {
    let (reason, message) = match why {
        Unavailable::Archived => ("archived", "this item is no longer offered"),
        Unavailable::NotYet => ("not_yet", "this item is not offered yet"),
        Unavailable::Ended => ("ended", "this item is no longer offered"),
    };
    AppError::conflict("mall_item_unavailable", Some("item_id"), message)
        .with_param("reason", reason)
}

async fn place_once(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    req: &NewOrder,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Placed, AppError> {
    let item = db::item(tx, req.item_id).await?.ok_or_else(|| {
        AppError::field(
            "item_id",
            Issue::unknown(&req.item_id.to_string(), "is not an item of this mall"),
        )
    })?;
    core::offered(
        item.archived,
        item.available_from,
        item.available_until,
        now,
    )
    .map_err(unavailable)?;
    let delivery = Delivery::parse(&item.delivery)
        .ok_or_else(|| AppError::internal_msg(format!("item {} delivery", item.id)))?;
    if let Some(most) = item.per_order {
        if req.quantity > i64::from(most) {
            return Err(AppError::field(
                "quantity",
                Issue::too_large(i64::from(most)),
            ));
        }
    }
    let address = match (delivery, &req.address) {
        (Delivery::Shipping, None) => {
            return Err(AppError::field(
                "address",
                Issue::new(FieldCode::Required, "is required: this item is shipped"),
            ))
        }
        (Delivery::Shipping, Some(a)) => Some(
            serde_json::to_value(Address {
                recipient: a.recipient.trim().to_owned(),
                phone: a.phone.trim().to_owned(),
                address: a.address.trim().to_owned(),
            })
            .map_err(AppError::internal)?,
        ),
        (Delivery::Pickup | Delivery::Virtual, _) => None,
    };
    if !item.tiers.is_empty() {
        let tier = db::member_tier(tx, member_id).await?;
        if !core::tier_allows(&item.tiers, tier.as_deref()) {
            return Err(AppError::conflict(
                "mall_tier_required",
                Some("item_id"),
                format!("this item is for members of {}", item.tiers.join(", ")),
            )
            .with_param("tiers", item.tiers.join(", ")));
        }
    }
    // A running promotion may list the item at fewer points (for the member's tier).
    let unit = match crate::promotions::mall_price(tx, item.id, member_id, now).await? {
        Some((_, reduced)) if reduced < item.points => reduced,
        _ => item.points,
    };
    let (total, cash) = core::price(unit, item.cash, req.quantity);
    // The account's lock first (then the member's count, then the stock: every order and
    // cancel takes them in this order).
    let (locked, expiry_due) = points::lock_for_change(tx, member_id, now).await?;
    let mut a = match locked {
        Some(a) => a,
        None => points::lock_account(tx, member_id, now).await?,
    };
    // Points past their expiry are never spent, even before the expiry job comes by.
    if expiry_due && points::expire(tx, &mut a, now, "system:expiry").await? > 0 {
        points::save_account(tx, &a, now).await?;
    }
    if a.balance < total {
        return Err(AppError::conflict(
            "insufficient_points",
            Some("quantity"),
            format!(
                "the member has {} points; this order needs {total}",
                a.balance.max(0)
            ),
        )
        .with_param("balance", a.balance.max(0))
        .with_param("asked", total));
    }
    // Every order counts the member's units (the portal shows them); the item's limit, if
    // any, is the counter's condition.
    let limit = item.per_member.map_or(i64::MAX, i64::from);
    if !db::count_up(tx, item.id, member_id, req.quantity, limit).await? {
        return Err(AppError::conflict(
            "mall_member_limit",
            Some("quantity"),
            format!("a member may hold at most {limit} of this item in orders"),
        )
        .with_param("limit", limit));
    }
    if db::take_stock(tx, item.id, req.quantity).await?.is_none() {
        return Err(AppError::conflict(
            "mall_out_of_stock",
            Some("quantity"),
            "not enough of this item is left",
        ));
    }
    let order_id = Uuid::now_v7();
    let src = Source {
        kind: EntrySource::Redemption,
        id: format!("mall:{order_id}"),
        rule_version: None,
        reason: Reason::point(
            "mall_order",
            json!({ "item": item.name, "quantity": req.quantity }),
        )
        .into(),
        detail: Some(json!({ "mall_order": order_id, "item_id": item.id })),
        actor,
        at: now,
    };
    a.balance -= total;
    a.redeemed_total += total;
    let (entry_id, lots) = points::redeem_from_lots(tx, &a, total, &src).await?;
    let pickup_code = match delivery {
        Delivery::Pickup => Some(new_pickup_code(tx).await?),
        Delivery::Shipping | Delivery::Virtual => None,
    };
    // A virtual item's coupons, through the coupons' own issue path and limits: any limit
    // refuses the whole order (the caller drops the transaction).
    let coupon_codes = match (delivery, item.coupon_template_id) {
        (Delivery::Virtual, Some(template)) => {
            crate::coupons::issue::give_for_mall_order(
                tx,
                zone,
                template,
                member_id,
                req.quantity,
                actor,
                now,
            )
            .await?
            .codes
        }
        (Delivery::Virtual, None) => {
            return Err(AppError::internal_msg(format!(
                "virtual item {} without a template",
                item.id
            )))
        }
        _ => Vec::new(),
    };
    db::insert_order(
        tx,
        &db::NewOrder {
            id: order_id,
            member_id,
            item_id: item.id,
            item_name: &item.name,
            quantity: req.quantity as i32,
            points: total,
            cash,
            delivery: delivery.as_str(),
            address,
            pickup_code,
            coupon_codes: &coupon_codes,
            entry_id,
            placed_by: actor,
            at: now,
        },
        &lots,
    )
    .await?;
    if delivery == Delivery::Virtual {
        // Its coupons are the member's already: the order is completed as it is placed.
        db::change_state(
            tx,
            order_id,
            &db::Change {
                from: State::Pending.as_str(),
                to: State::Completed.as_str(),
                actor,
                reason: COUPONS_ISSUED,
                tracking: None,
                refund_entry: None,
                at: now,
            },
        )
        .await?;
    }
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "mall.ordered",
        member_id,
        json!({ "order": order_id, "item": item.name, "quantity": req.quantity, "points": total }),
    )
    .await?;
    let order = db::order(tx, order_id, false)
        .await?
        .ok_or_else(|| AppError::internal_msg("the order just written is gone"))?;
    Ok(Placed {
        order,
        balance: a.balance,
        replayed: false,
    })
}

/// The reason recorded when a virtual order completes as it is placed.
pub const COUPONS_ISSUED: &str = "coupons_issued";

/// A pickup code no order has yet.
async fn new_pickup_code(tx: &mut TenantTx) -> Result<String, AppError> {
    use rand::Rng;
    for _ in 0..10 {
        let code = core::pickup_code(rand::rngs::OsRng.gen());
        if !db::code_taken(tx, &code).await? {
            return Ok(code);
        }
    }
    Err(AppError::internal_msg("no free pickup code after 10 tries"))
}

/// An order with its changes and the moves staff can make next.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderView {
    pub order: Order,
    pub events: Vec<db::Event>,
    pub moves: Vec<String>,
}

fn moves(o: &Order) -> Vec<String> {
    match (State::parse(&o.state), Delivery::parse(&o.delivery)) {
        (Some(s), Some(d)) => core::staff_moves(s, d)
            .into_iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        _ => vec![],
    }
}

/// An order with its changes; with `member`, only that member's.
pub async fn order(
    tx: &mut TenantTx,
    id: Uuid,
    member: Option<Uuid>,
) -> Result<OrderView, AppError> {
    let o = db::order(tx, id, false)
        .await?
        .filter(|o| member.is_none_or(|m| m == o.member_id))
        .ok_or_else(|| AppError::not_found("mall order"))?;
    let events = db::order_events(tx, id).await?;
    Ok(OrderView {
        moves: moves(&o),
        order: o,
        events,
    })
}

/// Orders newest first: by state, member or item.
pub async fn orders(
    tx: &mut TenantTx,
    state: Option<&str>,
    member_id: Option<Uuid>,
    item_id: Option<Uuid>,
    limit: Option<i64>,
) -> Result<Vec<(Order, Vec<String>)>, AppError> {
    if let Some(s) = state {
        if State::parse(s).is_none() {
            return Err(AppError::field("state", Issue::not_one_of(s, core::STATES)));
        }
    }
    let limit = patron_core::page_limit(limit, 100).map_err(|i| AppError::field("limit", i))?;
    let f = db::OrderFilter {
        state: state.map(str::to_owned),
        member_id,
        item_id,
        limit,
    };
    Ok(db::orders(tx, &f)
        .await?
        .into_iter()
        .map(|o| {
            let m = moves(&o);
            (o, m)
        })
        .collect())
}

/// A move of an order as sent.
#[derive(Debug, Clone, Serialize)]
pub struct NewMove {
    pub action: String,
    pub reason: Option<String>,
    pub tracking: Option<String>,
}

/// Moves an order (`order_id`; with `member`, only that member's), by `by`. A cancel gives
/// the points back into the lots they came from (each with its own expiry; points of a lot
/// already past its expiry come back and expire at once, each with its entry), the stock
/// and the member's count back, once: the order's row is locked first, so a cancel racing
/// another move (or itself) waits, and then finds the order moved (409
/// `mall_order_state`). The caller commits.
pub async fn move_order(
    tx: &mut TenantTx,
    order_id: Uuid,
    member: Option<Uuid>,
    m: &NewMove,
    by: By,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<OrderView, AppError> {
    let mut v = Validation::new();
    let action = Action::parse(m.action.trim());
    if action.is_none() {
        v.check::<()>(
            "action",
            Err(Issue::not_one_of(m.action.trim(), core::ACTIONS)),
        );
    }
    let reason = m.reason.as_deref().map(str::trim).unwrap_or("");
    if reason.chars().count() > core::REASON_MAX {
        v.check::<()>("reason", Err(Issue::too_long(core::REASON_MAX)));
    }
    if action == Some(Action::Cancel) && by == By::Staff && reason.is_empty() {
        v.check::<()>(
            "reason",
            Err(Issue::new(FieldCode::Required, "is required: say why")),
        );
    }
    let tracking = m
        .tracking
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if tracking.is_some_and(|t| t.chars().count() > core::TRACKING_MAX) {
        v.check::<()>("tracking", Err(Issue::too_long(core::TRACKING_MAX)));
    }
    v.finish().map_err(AppError::invalid)?;
    let action = action.expect("checked");
    let o = db::order(tx, order_id, true)
        .await?
        .filter(|o| member.is_none_or(|m| m == o.member_id))
        .ok_or_else(|| AppError::not_found("mall order"))?;
    apply(tx, o, action, by, reason, tracking, actor, now).await?;
    order(tx, order_id, None).await
}

/// Completes the pickup order whose code the member shows (typed or scanned).
pub async fn complete_pickup(
    tx: &mut TenantTx,
    code: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<OrderView, AppError> {
    let unknown = || {
        AppError::field(
            "code",
            Issue::unknown(code.trim(), "is not the pickup code of an order"),
        )
    };
    let code = core::normalise_pickup_code(code).ok_or_else(unknown)?;
    let o = db::order_by_code(tx, &code).await?.ok_or_else(unknown)?;
    let id = o.id;
    apply(tx, o, Action::Complete, By::Staff, "", None, actor, now).await?;
    order(tx, id, None).await
}

#[allow(clippy::too_many_arguments)]
async fn apply(
    tx: &mut TenantTx,
    o: Order,
    action: Action,
    by: By,
    reason: &str,
    tracking: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let state = State::parse(&o.state)
        .ok_or_else(|| AppError::internal_msg(format!("order {} state {}", o.id, o.state)))?;
    let delivery = Delivery::parse(&o.delivery)
        .ok_or_else(|| AppError::internal_msg(format!("order {} delivery", o.id)))?;
    let to = core::next(state, action, by, delivery).map_err(|r| {
        let message = match r {
            Refusal::NotFromState => {
                format!("a {} order cannot be moved by {}", o.state, action.as_str())
            }
            Refusal::NotAllowed => format!("a {} order can no longer be moved this way", o.state),
        };
        AppError::conflict("mall_order_state", Some("action"), message)
            .with_param("state", o.state.clone())
            .with_param("action", action.as_str())
    })?;
    let mut refund_entry = None;
    if to == State::Cancelled {
        refund_entry = Some(give_back(tx, &o, reason, actor, now).await?);
    }
    let moved = db::change_state(
        tx,
        o.id,
        &db::Change {
            from: state.as_str(),
            to: to.as_str(),
            actor,
            reason,
            tracking,
            refund_entry,
            at: now,
        },
    )
    .await?;
    if !moved {
        // Never expected: the order's row is locked.
        return Err(AppError::conflict(
            "mall_order_state",
            Some("action"),
            "the order was moved meanwhile",
        ));
    }
    patron_db::audit::record_member(
        tx,
        now,
        actor,
        "mall.order_moved",
        o.member_id,
        json!({ "order": o.id, "from": state.as_str(), "to": to.as_str(), "reason": reason }),
    )
    .await?;
    Ok(())
}

/// A cancel's giving back: the points into their lots, the stock, the member's count.
/// Returns the ledger entry of the points given back.
async fn give_back(
    tx: &mut TenantTx,
    o: &Order,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, AppError> {
    // The account first, then the coupons: the order a purchase using a coupon keeps.
    let mut a = points::lock_account(tx, o.member_id, now).await?;
    if !o.coupon_codes.is_empty() {
        void_coupons(tx, o, reason, actor, now).await?;
    }
    let lots = db::order_lots(tx, o.id).await?;
    let src = Source {
        kind: EntrySource::Redemption,
        id: format!("mall:{}", o.id),
        rule_version: None,
        reason: Reason::point("mall_order_cancelled", json!({ "item": o.item_name })).into(),
        detail: Some(json!({ "mall_order": o.id, "item_id": o.item_id })),
        actor,
        at: now,
    };
    let entry = points::give_back(tx, &mut a, &lots, &src).await?;
    // Points that came back into a lot already past its expiry expire now, as they would
    // have had the order never been placed.
    points::expire(tx, &mut a, now, "system:expiry").await?;
    points::save_account(tx, &a, now).await?;
    db::count_down(tx, o.item_id, o.member_id, i64::from(o.quantity)).await?;
    db::return_stock(tx, o.item_id, i64::from(o.quantity)).await?;
    Ok(entry)
}

/// Voids a virtual order's coupons for its cancel: 409 `mall_coupon_used` when one was used
/// (nothing voided). The coupons are locked first, so a purchase cannot use one meanwhile.
async fn void_coupons(
    tx: &mut TenantTx,
    o: &Order,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let coupons = db::lock_coupons(tx, &o.coupon_codes).await?;
    let used: Vec<&str> = coupons
        .iter()
        .filter(|c| c.status == "used")
        .map(|c| c.code.as_str())
        .collect();
    if !used.is_empty() {
        return Err(AppError::conflict(
            "mall_coupon_used",
            Some("action"),
            "a coupon of this order was used: the order cannot be cancelled",
        )
        .with_param("codes", used.join(", ")));
    }
    let reason = if reason.is_empty() {
        "mall order cancelled"
    } else {
        reason
    };
    for c in coupons.iter().filter(|c| c.status == "issued") {
        crate::coupons::redeem::void(tx, c.id, reason, actor, now).await?;
    }
    Ok(())
}

/// [`move_order`], idempotent by an optional key (per order): a retry with the key answers
/// the first move instead of a 409.
#[allow(clippy::too_many_arguments)]
pub async fn move_order_keyed(
    tx: &mut TenantTx,
    order_id: Uuid,
    member: Option<Uuid>,
    m: &NewMove,
    key: Option<&str>,
    by: By,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<OrderView, AppError> {
    let req = Request::optional(Scope::MallOrderMove, order_id, key, m)?;
    idempotency::run_keyed(tx, req, now, async |tx| {
        move_order(tx, order_id, member, m, by, actor, now).await
    })
    .await
}

/// Hours a pending order waits before it is cancelled on its own (`None`: it waits).
pub async fn settings(tx: &mut TenantTx) -> Result<Option<i32>, AppError> {
    Ok(db::pending_limit_hours(tx).await?)
}

pub async fn set_settings(
    tx: &mut TenantTx,
    pending_limit_hours: Option<i64>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<i32>, AppError> {
    if let Some(h) = pending_limit_hours {
        if !(1..=core::PENDING_HOURS_MAX).contains(&h) {
            return Err(AppError::field(
                "pending_limit_hours",
                Issue::out_of_range(1, core::PENDING_HOURS_MAX),
            ));
        }
    }
    let h = pending_limit_hours.map(|h| h as i32);
    db::set_pending_limit_hours(tx, h, actor, now).await?;
    Ok(h)
}

/// The system's name in an order's changes when it cancels a pending order.
pub const SYSTEM_ACTOR: &str = "system:mall";

/// Cancels one tenant's pending orders placed longer ago than its limit, each in its own
/// transaction (an order moved meanwhile is left as it is). Safe to run twice.
pub async fn cancel_overdue(
    db: &Db,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, AppError> {
    let mut tx = db.tenant_tx(tenant).await?;
    let Some(hours) = db::pending_limit_hours(&mut tx).await? else {
        tx.commit().await?;
        return Ok(json!({ "cancelled": 0 }));
    };
    let cutoff = now - Duration::hours(i64::from(hours));
    let due = db::pending_before(&mut tx, cutoff, 500).await?;
    tx.commit().await?;
    let mut cancelled = 0;
    for id in due {
        let mut tx = db.tenant_tx(tenant).await?;
        let Some(o) = db::order(&mut tx, id, true).await? else {
            continue;
        };
        if o.state != State::Pending.as_str() {
            continue;
        }
        apply(
            &mut tx,
            o,
            Action::Cancel,
            By::System,
            "pending_limit",
            None,
            SYSTEM_ACTOR,
            now,
        )
        .await?;
        tx.commit().await?;
        cancelled += 1;
    }
    Ok(json!({ "cancelled": cancelled }))
}

/// The portal's mall: the items a member may order now (offered, for their tier), with
/// how many of each they hold in orders, and their balance.
pub struct MemberMall {
    pub balance: i64,
    pub items: Vec<(Item, i64)>,
}

pub async fn member_mall(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<MemberMall, AppError> {
    let tier = db::member_tier(tx, member_id).await?;
    let counts: std::collections::HashMap<Uuid, i64> = db::member_counts(tx, member_id)
        .await?
        .into_iter()
        .collect();
    let items = db::items(tx, false)
        .await?
        .into_iter()
        .filter(|i| {
            core::offered(i.archived, i.available_from, i.available_until, now).is_ok()
                && core::tier_allows(&i.tiers, tier.as_deref())
        })
        .map(|i| {
            let n = counts.get(&i.id).copied().unwrap_or(0);
            (i, n)
        })
        .collect();
    // Points past their expiry are counted out, as the expiry job would.
    let a = points::account(tx, member_id).await?;
    let lots = points::open_lots(tx, member_id).await?;
    let due = crate::points::decide::due_at(lots.iter().map(|l| (l.remaining, l.expires_at)), now);
    Ok(MemberMall {
        balance: a.balance - due,
        items,
    })
}
