//! Purchases and refunds: recording a purchase runs the purchase rule in force and earns its
//! points; a refund takes back the points in proportion. Both are idempotent by the caller's
//! external id.

use crate::edge::auth::{Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use crate::edge::views::{PointReasonView, RuleFailureView};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_app::engine::{self, reasons_of, PointReason, RuleFailure};
use patron_core::access::Permission;
use patron_core::members::{self as core_members, Phone};
use patron_core::points::{self as core_points, RefundShortfall};
use patron_db::members::{self, Member};
use patron_db::points::{self, Account, Source};
use patron_db::{cards, DbError, TenantTx};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Purchases and refunds, and the points they earn and take back.
    Purchases,
}

/// Who a purchase or event is for: exactly one of `member_id`, `card_number`, `phone`.
#[derive(Debug, Clone, Default, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct MemberRef {
    pub member_id: Option<Uuid>,
    #[oai(validator(max_length = 40))]
    pub card_number: Option<String>,
    /// In any formatting; read in the business's phone region.
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
}

pub fn member_ref(
    member_id: Option<Uuid>,
    card_number: &Option<String>,
    phone: &Option<String>,
) -> MemberRef {
    MemberRef {
        member_id,
        card_number: card_number.clone(),
        phone: phone.clone(),
    }
}

/// One line of a purchase.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct PurchaseItem {
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

/// A purchase to record.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct NewPurchase {
    /// Your id for this purchase (receipt number...). A retry with the same id and body
    /// returns the first result; the same id with a different body is a 409.
    #[oai(validator(max_length = 100))]
    pub external_id: String,
    /// The member: exactly one of `member_id`, `card_number`, `phone`.
    pub member_id: Option<Uuid>,
    #[oai(validator(max_length = 40))]
    pub card_number: Option<String>,
    /// In any formatting; read in the business's phone region.
    #[oai(validator(max_length = 100))]
    pub phone: Option<String>,
    /// Amount paid, in minor units (fen, cents).
    pub amount: i64,
    /// ISO 4217; defaults to the business's currency.
    #[oai(validator(max_length = 3))]
    pub currency: Option<String>,
    #[oai(default, validator(max_items = 500))]
    #[serde(default)]
    pub items: Vec<PurchaseItem>,
    #[oai(validator(max_length = 100))]
    pub store: Option<String>,
    /// When it happened; defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// A referral reward paid to the member who referred this one.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ReferralReward {
    pub referrer_id: Uuid,
    pub points: i64,
}

/// What a recorded purchase earned.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct PurchaseResult {
    pub purchase_id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub points: i64,
    pub reasons: Vec<PointReasonView>,
    /// The rule version that computed the points (absent when no rule is in force).
    pub rule_version: Option<i32>,
    /// Why the rule earned nothing, when it failed; the purchase is recorded regardless.
    pub rule_error: Option<RuleFailureView>,
    /// The member's balance after this purchase.
    pub balance: i64,
    /// Points still owed from earlier refunds.
    pub debt: i64,
    /// Points of this purchase that settled an earlier debt.
    pub settled_debt: i64,
    /// The member's tier after this purchase (none until the business has a tier ladder);
    /// a purchase that reaches a higher tier promotes the member at once.
    pub tier: Option<String>,
    /// The discount of the tier the member held when buying, in percent.
    #[oai(default)]
    #[serde(default)]
    pub discount_percent: i64,
    pub referral: Option<ReferralReward>,
    pub occurred_at: DateTime<Utc>,
    /// True when this answer repeats an earlier call with the same external id.
    #[serde(default)]
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum RecordedPurchase {
    /// Recorded.
    #[oai(status = 201)]
    Created(Json<PurchaseResult>),
    /// Recorded before: the first answer.
    #[oai(status = 200)]
    Replayed(Json<PurchaseResult>),
}

/// A refund of all or part of a purchase.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct NewRefund {
    /// Your id for this refund; retries with the same id and body return the first result.
    #[oai(validator(max_length = 100))]
    pub external_id: String,
    /// The purchase, by our id...
    pub purchase_id: Option<Uuid>,
    /// ... or by yours.
    #[oai(validator(max_length = 100))]
    pub purchase_external_id: Option<String>,
    /// Amount refunded in minor units; defaults to all that is left.
    pub amount: Option<i64>,
}

/// What a refund took back.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct RefundResult {
    pub refund_id: Uuid,
    pub external_id: String,
    pub purchase_id: Uuid,
    pub member_id: Uuid,
    pub amount: i64,
    /// Points taken back.
    pub points: i64,
    /// Of those, points the member had already spent, now owed (debt policy) ...
    pub debt_added: i64,
    pub balance: i64,
    pub debt: i64,
    /// Amount of the purchase still refundable.
    pub refundable: i64,
    #[serde(default)]
    pub replayed: bool,
}

#[derive(ApiResponse)]
pub enum RecordedRefund {
    #[oai(status = 201)]
    Created(Json<RefundResult>),
    #[oai(status = 200)]
    Replayed(Json<RefundResult>),
}

/// A purchase in a member's history.
#[derive(Debug, Clone, Object)]
pub struct PurchaseView {
    pub id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub items: Value,
    pub store: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: String,
    pub points: i64,
    pub reasons: Value,
    pub rule_version: Option<i32>,
    pub rule_error: Option<Value>,
    pub refunded: i64,
    pub points_reversed: i64,
}

/// A page of a member's purchases with totals over all of them.
#[derive(Debug, Object)]
pub struct PurchaseHistory {
    pub items: Vec<PurchaseView>,
    /// Pass as `before` for the next page.
    pub next_cursor: Option<String>,
    pub total_count: i64,
    pub total_amount: i64,
    pub total_refunded: i64,
    pub total_points: i64,
}

pub struct PurchasesApi {
    pub state: ApiState,
}

/// SHA-256 of a request's JSON (the caller's own values, defaults not filled in).
pub fn request_hash<T: Serialize>(req: &T) -> Vec<u8> {
    Sha256::digest(serde_json::to_vec(req).expect("serialisable")).to_vec()
}

pub fn check_external_id(v: &mut patron_core::Validation, field: &str, id: &str) {
    let id = id.trim();
    if id.is_empty() {
        v.check::<()>(field, Err("must not be empty".into()));
    } else if id.chars().any(char::is_control) {
        v.check::<()>(field, Err("must not contain control characters".into()));
    }
}

fn check_text(v: &mut patron_core::Validation, field: &str, s: &str) {
    if s.chars().any(char::is_control) {
        v.check::<()>(field, Err("must not contain control characters".into()));
    }
}

/// The largest amount accepted, in minor units (10 billion in major units).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// Finds the member a request names, or 422 naming the field.
pub async fn resolve_member(
    state: &ApiState,
    tx: &mut TenantTx,
    me: &Principal,
    r: &MemberRef,
) -> Result<Member, ApiError> {
    let (mut card, mut index) = (String::new(), Vec::new());
    let (field, lookup) = member_lookup(state, me, r, &mut card, &mut index)?;
    let found = match lookup {
        points::MemberLookup::Id(id) => members::get(tx, id).await.map(Some),
        // Any card with this number, so that a card not in use is named as such.
        points::MemberLookup::ActiveCard(number) => match cards::find(tx, number).await? {
            Some(card) if card.status == "active" => {
                members::get(tx, card.member_id).await.map(Some)
            }
            Some(card) => {
                return Err(ApiError::invalid_field(
                    "card_number",
                    format!("this card is {}; use the member's card in use", card.status),
                ))
            }
            None => Ok(None),
        },
        points::MemberLookup::PhoneIndex(index) => members::find_by_phone_index(tx, index).await,
    };
    let m = match found {
        Ok(Some(m)) => m,
        Ok(None) | Err(DbError::NotFound) => {
            return Err(ApiError::invalid_field(field, "there is no such member"))
        }
        Err(e) => return Err(e.into()),
    };
    if m.status == "erased" {
        return Err(ApiError::invalid_field(field, "this member was erased"));
    }
    Ok(m)
}

struct Checked {
    currency: String,
    items: Vec<Value>,
    store: String,
    occurred_at: DateTime<Utc>,
}

fn check_purchase(
    req: &NewPurchase,
    me: &Principal,
    now: DateTime<Utc>,
) -> Result<Checked, ApiError> {
    let mut v = patron_core::Validation::new();
    check_external_id(&mut v, "external_id", &req.external_id);
    if !(0..=MAX_AMOUNT).contains(&req.amount) {
        v.check::<()>(
            "amount",
            Err(format!("must be 0 to {MAX_AMOUNT} (minor units)")),
        );
    }
    let currency = req
        .currency
        .clone()
        .unwrap_or_else(|| me.tenant.settings.currency.clone());
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        v.check::<()>(
            "currency",
            Err("must be an ISO 4217 code such as CNY".into()),
        );
    }
    let mut items = Vec::with_capacity(req.items.len());
    for (i, it) in req.items.iter().enumerate() {
        let quantity = it.quantity.unwrap_or(1);
        if !(1..=1_000_000).contains(&quantity) {
            v.check::<()>(
                &format!("items[{i}].quantity"),
                Err("must be 1 to 1000000".into()),
            );
        }
        if !(0..=MAX_AMOUNT).contains(&it.unit_price) {
            v.check::<()>(
                &format!("items[{i}].unit_price"),
                Err(format!("must be 0 to {MAX_AMOUNT} (minor units)")),
            );
        }
        for (name, s) in [
            ("sku", &it.sku),
            ("name", &it.name),
            ("category", &it.category),
        ] {
            check_text(&mut v, &format!("items[{i}].{name}"), s);
        }
        items.push(json!({
            "sku": it.sku.trim(),
            "name": it.name.trim(),
            "category": it.category.trim(),
            "quantity": quantity,
            "unit_price": it.unit_price,
        }));
    }
    let store = req.store.as_deref().map(str::trim).unwrap_or("").to_owned();
    check_text(&mut v, "store", &store);
    let occurred_at = req.occurred_at.unwrap_or(now);
    if occurred_at > now + Duration::minutes(10) {
        v.check::<()>("occurred_at", Err("must not be in the future".into()));
    }
    if occurred_at < now - Duration::days(366) {
        v.check::<()>("occurred_at", Err("must be within the last year".into()));
    }
    v.finish().map_err(ApiError::invalid)?;
    Ok(Checked {
        currency,
        items,
        store,
        occurred_at,
    })
}

/// The local date of `at` in the business's time zone.
pub fn local_date(tenant: &patron_db::Tenant, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tenant.settings.zone().tz()).date_naive()
}

/// Runs the rule in force for `trigger` (if any): `(points, reasons, version, failure)`.
/// A failing rule earns nothing and says why.
pub async fn run_rule(
    state: &ApiState,
    rules: &engine::TenantRules,
    tenant: i64,
    trigger: &str,
    event: &Value,
    member: &Value,
) -> (i64, Vec<PointReason>, Option<i32>, Option<RuleFailure>) {
    let Some(rule) = rules.rules.get(trigger) else {
        return (0, Vec::new(), None, None);
    };
    match state.rules.eval(tenant, rule, event, member).await {
        Ok(o) => (o.points, reasons_of(&o), Some(rule.version), None),
        Err(e) => {
            tracing::info!(trigger, version = rule.version, error = %e, "a point rule failed");
            (
                0,
                Vec::new(),
                Some(rule.version),
                Some(RuleFailure::from(&e)),
            )
        }
    }
}

#[OpenApi(tag = "Tag::Purchases")]
impl PurchasesApi {
    /// Record a purchase: runs the purchase rule in force and earns its points (lots expire
    /// by the business's policy). Idempotent by `external_id`. A failing rule records the
    /// purchase with zero points and the error attached.
    #[oai(path = "/purchases", method = "post", operation_id = "recordPurchase")]
    async fn record(
        &self,
        auth: TenantAuth,
        req: Json<NewPurchase>,
    ) -> Result<RecordedPurchase, ApiError> {
        if let Some(r) = record_purchase(&self.state, &auth, &req.0).await? {
            return Ok(r);
        }
        // A request with the same external id committed while this one waited for the
        // member's account: start over, which answers with that purchase (or a 409).
        record_purchase(&self.state, &auth, &req.0)
            .await?
            .ok_or_else(external_id_reused)
    }

    /// Refund all or part of a purchase: the points it earned are taken back in proportion
    /// (refunds in parts add up to exactly the whole). When the member already spent them,
    /// the business's policy decides: a negative balance, or a debt the next earnings
    /// settle. Idempotent by `external_id`.
    #[oai(path = "/refunds", method = "post", operation_id = "recordRefund")]
    async fn refund(
        &self,
        auth: TenantAuth,
        req: Json<NewRefund>,
    ) -> Result<RecordedRefund, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::PurchasesWrite))
            .await?;
        let now = self.state.now();
        let mut v = patron_core::Validation::new();
        check_external_id(&mut v, "external_id", &req.0.external_id);
        if let Some(a) = req.0.amount {
            if !(1..=MAX_AMOUNT).contains(&a) {
                v.check::<()>("amount", Err("must be at least 1 (minor units)".into()));
            }
        }
        if req.0.purchase_id.is_some() == req.0.purchase_external_id.is_some() {
            v.check::<()>(
                "purchase_id",
                Err("give exactly one of purchase_id or purchase_external_id".into()),
            );
        }
        v.finish().map_err(ApiError::invalid)?;
        let field = if req.0.purchase_id.is_some() {
            "purchase_id"
        } else {
            "purchase_external_id"
        };
        let member_id = points::purchase_member(
            &mut tx,
            req.0.purchase_id,
            req.0.purchase_external_id.as_deref().map(str::trim),
        )
        .await?
        .ok_or_else(|| ApiError::invalid_field(field, "there is no such purchase"))?;
        let mut account = points::lock_account(&mut tx, member_id, now).await?;
        let hash = request_hash(&req.0);
        let external_id = req.0.external_id.trim().to_owned();
        if let Some((h, r)) = points::refund_by_external_id(&mut tx, &external_id).await? {
            if h != hash {
                return Err(external_id_reused());
            }
            let mut r: RefundResult =
                serde_json::from_value(r).map_err(|e| ApiError::internal(&e))?;
            r.replayed = true;
            tx.commit().await?;
            return Ok(RecordedRefund::Replayed(Json(r)));
        }
        let p = points::purchase_for_update(
            &mut tx,
            req.0.purchase_id,
            req.0.purchase_external_id.as_deref().map(str::trim),
        )
        .await?;
        let refundable = p.amount - p.refunded;
        let amount = req.0.amount.unwrap_or(refundable);
        if refundable <= 0 {
            return Err(ApiError::conflict(
                "fully_refunded",
                Some(field),
                "this purchase has been refunded in full",
            ));
        }
        if amount > refundable {
            return Err(ApiError::invalid_field(
                "amount",
                format!("at most {refundable} of this purchase is left to refund"),
            ));
        }
        let back =
            core_points::points_to_reverse(p.points, p.amount, p.refunded, p.reversed, amount);
        let rules = self.state.rules.tenant(&mut tx).await?;
        let id = Uuid::now_v7();
        let subject = me.subject();
        let src = Source {
            kind: "refund",
            id: id.to_string(),
            rule_version: p.rule_version,
            reason: format!("refund of purchase {}", p.external_id),
            detail: Some(json!({ "purchase_id": p.id, "amount": amount })),
            actor: &subject,
            at: now,
        };
        let available = account.balance.max(0);
        let mut debt_added = 0;
        if back > 0 {
            if back <= available {
                points::take(&mut tx, &mut account, "reverse", back, &src, p.entry_id).await?;
            } else {
                match rules.settings.refund_shortfall {
                    RefundShortfall::Negative => {
                        points::take_into_negative(&mut tx, &mut account, back, &src, p.entry_id)
                            .await?;
                    }
                    RefundShortfall::Debt => {
                        if available > 0 {
                            points::take(
                                &mut tx,
                                &mut account,
                                "reverse",
                                available,
                                &src,
                                p.entry_id,
                            )
                            .await?;
                        }
                        debt_added = back - available;
                    }
                }
            }
        }
        account.spend_total -= amount;
        let result = RefundResult {
            refund_id: id,
            external_id: external_id.clone(),
            purchase_id: p.id,
            member_id,
            amount,
            points: back,
            debt_added,
            balance: account.balance,
            debt: account.debt + debt_added,
            refundable: refundable - amount,
            replayed: false,
        };
        points::insert_refund(
            &mut tx,
            &points::NewRefundRow {
                id,
                external_id: &external_id,
                hash: &hash,
                purchase_id: p.id,
                amount,
                points: back,
                debt: debt_added,
                at: now,
                by: &subject,
                response: serde_json::to_value(&result).expect("serialisable"),
            },
        )
        .await
        .map_err(|e| match e {
            DbError::Conflict(c) if c == "refunds_external_id_key" => external_id_reused(),
            other => other.into(),
        })?;
        if debt_added > 0 {
            points::add_debt(&mut tx, &mut account, id, debt_added, now).await?;
        }
        points::save_account(&mut tx, &account, now).await?;
        tx.commit().await?;
        Ok(RecordedRefund::Created(Json(result)))
    }

    /// A member's purchases, newest first, with totals over all of them.
    #[oai(
        path = "/members/:id/purchases",
        method = "get",
        operation_id = "memberPurchases"
    )]
    async fn history(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        before: Query<Option<String>>,
        limit: Query<Option<i64>>,
    ) -> Result<Json<PurchaseHistory>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let limit = limit.0.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::invalid_field("limit", "must be 1 to 200"));
        }
        let before = match before.0.as_deref() {
            None => None,
            Some(c) => Some(parse_cursor(c).ok_or_else(|| {
                ApiError::invalid_field("before", "is not a cursor from this list")
            })?),
        };
        members::get(&mut tx, id.0).await.map_err(|e| match e {
            DbError::NotFound => ApiError::not_found("member"),
            other => other.into(),
        })?;
        let (rows, totals) = points::purchases_of(&mut tx, id.0, before, limit).await?;
        let next_cursor = (rows.len() as i64 == limit)
            .then(|| {
                rows.last()
                    .map(|r| format!("{}~{}", r.occurred_at.to_rfc3339(), r.id))
            })
            .flatten();
        tx.commit().await?;
        Ok(Json(PurchaseHistory {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
            total_count: totals.0,
            total_amount: totals.1,
            total_refunded: totals.2,
            total_points: totals.3,
        }))
    }

    /// One purchase.
    #[oai(path = "/purchases/:id", method = "get", operation_id = "getPurchase")]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<PurchaseView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let p = points::purchase(&mut tx, id.0).await.map_err(|e| match e {
            DbError::NotFound => ApiError::not_found("purchase"),
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(Json(view(p)))
    }
}

fn parse_cursor(c: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = c.split_once('~')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        id.parse().ok()?,
    ))
}

fn view(p: points::Purchase) -> PurchaseView {
    PurchaseView {
        id: p.id,
        external_id: p.external_id,
        member_id: p.member_id,
        amount: p.amount,
        currency: p.currency,
        items: p.items,
        store: p.store,
        occurred_at: p.occurred_at,
        recorded_at: p.recorded_at,
        recorded_by: p.recorded_by,
        points: p.points,
        reasons: p.reasons,
        rule_version: p.rule_version,
        rule_error: p.rule_error,
        refunded: p.refunded,
        points_reversed: p.reversed,
    }
}

pub fn external_id_reused() -> ApiError {
    ApiError::conflict(
        "external_id_reused",
        Some("external_id"),
        "this external_id was used before with a different request",
    )
}

/// One line summing up the reasons (the ledger entry's reason).
pub fn summary(reasons: &[PointReason]) -> String {
    let mut s = reasons
        .iter()
        .map(|r| r.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    if s.chars().count() > 500 {
        s = s.chars().take(500).collect();
    }
    s
}

/// How a request names its member (exactly one of id, card or phone), checked and
/// normalised: the field named and the lookup, or 422 naming the field when malformed.
fn member_lookup<'a>(
    state: &ApiState,
    me: &Principal,
    r: &'a MemberRef,
    card: &'a mut String,
    index: &'a mut Vec<u8>,
) -> Result<(&'static str, points::MemberLookup<'a>), ApiError> {
    match (r.member_id, &r.card_number, &r.phone) {
        (Some(id), None, None) => Ok(("member_id", points::MemberLookup::Id(id))),
        (None, Some(c), None) => {
            *card = core_members::normalise_card_number(c)
                .map_err(|e| ApiError::invalid_field("card_number", e))?;
            Ok(("card_number", points::MemberLookup::ActiveCard(card)))
        }
        (None, None, Some(phone)) => {
            let p = Phone::parse(phone, &me.tenant.settings.phone_region)
                .map_err(|e| ApiError::invalid_field("phone", e))?;
            *index = state.config.pii.blind_index("phone", p.e164());
            Ok(("phone", points::MemberLookup::PhoneIndex(index)))
        }
        _ => Err(ApiError::invalid_field(
            "member_id",
            "give exactly one of member_id, card_number or phone",
        )),
    }
}

/// One try at recording a purchase (see `PurchasesApi::record`); `None` when the purchase's
/// insert found its external id taken by a request that committed after this one's read.
async fn record_purchase(
    state: &ApiState,
    auth: &TenantAuth,
    req: &NewPurchase,
) -> Result<Option<RecordedPurchase>, ApiError> {
    let (mut tx, me) = state
        .authorize(auth, Some(Permission::PurchasesWrite))
        .await?;
    let now = state.now();
    let checked = check_purchase(req, &me, now)?;
    let hash = request_hash(req);
    let external_id = req.external_id.trim().to_owned();
    let named = member_ref(req.member_id, &req.card_number, &req.phone);
    let (mut card, mut index) = (String::new(), Vec::new());
    let (field, lookup) = member_lookup(state, &me, &named, &mut card, &mut index)?;
    // The member, the lock on their account (and their referrer's), their tier and any
    // earlier answer under this external id: one round trip.
    let Some(opened) = points::open_purchase(&mut tx, lookup, &external_id).await? else {
        // No such member (or a card not in use): the lookup below names the reason.
        resolve_member(state, &mut tx, &me, &named).await?;
        return Ok(None);
    };
    let member = opened.member;
    if member.status == "erased" {
        return Err(ApiError::invalid_field(field, "this member was erased"));
    }
    if let Some((h, response)) = opened.existing {
        if h != hash {
            return Err(external_id_reused());
        }
        let mut r: PurchaseResult =
            serde_json::from_value(response).map_err(|e| ApiError::internal(&e))?;
        r.replayed = true;
        tx.commit().await?;
        return Ok(Some(RecordedPurchase::Replayed(Json(r))));
    }
    let (mut account, mut referrer_account) = match opened.account {
        Some(a) => (a, opened.referrer_account),
        None => {
            // A first purchase (no account yet, theirs or their referrer's): create and
            // lock both in member id order.
            let mut locked = points::lock_accounts(
                &mut tx,
                &[Some(member.id), member.referrer_id]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>(),
                now,
            )
            .await?;
            let pos = locked
                .iter()
                .position(|a| a.member_id == member.id)
                .expect("locked");
            let account = locked.swap_remove(pos);
            (account, locked.pop())
        }
    };
    let rules = state.rules.tenant(&mut tx).await?;
    let zone = me.tenant.settings.zone();
    let tz = zone.tz();
    let today = local_date(&me.tenant, checked.occurred_at);
    let event = json!({
        "kind": "purchase",
        "amount": req.amount,
        "currency": checked.currency,
        "items": checked.items,
        "store": checked.store,
        "time": engine::event_time(checked.occurred_at, zone),
    });
    let tier = match &rules.ladder {
        Some(l) => engine::MemberTier::from_code(&l.ladder, opened.standing_tier.as_deref()),
        None => engine::MemberTier::default(),
    };
    let input = engine::member_input(&member, &account, &tier, today);
    let tenant = me.tenant.id;
    let (earned, reasons, rule_version, rule_error) =
        run_rule(state, &rules, tenant, "purchase", &event, &input).await;
    let id = Uuid::now_v7();
    let subject = me.subject();
    let first_purchase = account.visits == 0;
    account.spend_total += req.amount;
    account.visits += 1;
    let src = Source {
        kind: "purchase",
        id: id.to_string(),
        rule_version,
        reason: summary(&reasons),
        detail: Some(json!({ "external_id": external_id })),
        actor: &subject,
        at: now,
    };
    let expires = core_points::expires_at(rules.settings.expiry, now, tz);
    let earn_day = local_date(&me.tenant, now);
    // Unless a debt is to be settled, the entry, its lot, the account and the purchase
    // are written by one statement once the answer is known.
    let one_statement = points::records_in_one_statement(&account, earned);
    let (spendable, settled_debt, entry_id) = if one_statement {
        let spendable = if earned > 0 {
            points::apply_earning(&mut account, earned, earn_day)
        } else {
            0
        };
        (spendable, 0, None)
    } else {
        let done = points::earn(&mut tx, &mut account, earned, &src, expires, earn_day).await?;
        points::save_account(&mut tx, &account, now).await?;
        (0, done.settled_debt, done.entry_id)
    };
    // The tier the member held when buying (the one the rule saw) decides the discount.
    let held = tier;
    let mut result = PurchaseResult {
        purchase_id: id,
        external_id: external_id.clone(),
        member_id: member.id,
        amount: req.amount,
        currency: checked.currency.clone(),
        points: earned,
        reasons: reasons.into_iter().map(Into::into).collect(),
        rule_version,
        rule_error: rule_error.map(Into::into),
        balance: account.balance,
        debt: account.debt,
        settled_debt,
        tier: rules.ladder.as_ref().map(|_| held.code.clone()),
        discount_percent: held.benefits.discount_percent,
        referral: None,
        occurred_at: checked.occurred_at,
        replayed: false,
    };
    let row = purchase_row(&result, &hash, &checked, &subject, now, entry_id);
    let stored = if one_statement {
        points::record_purchase(&mut tx, &account, spendable, &src, expires, &row).await
    } else {
        points::insert_purchase(&mut tx, &row).await.map(|()| None)
    };
    match stored {
        Err(DbError::Conflict(c)) if c == "purchases_external_id_key" => return Ok(None),
        other => other?,
    };
    let mut amended = false;
    if rules.ladder.is_some() {
        // Counted with the purchase just stored: it may promote the member at once.
        let (_, after) = patron_app::tiers::after_event(
            &mut tx,
            &state.rules,
            &rules,
            &me.tenant,
            member.id,
            now,
            &subject,
        )
        .await?;
        amended = after.code != held.code;
        result.tier = Some(after.code);
    }
    if let (true, Some(referrer), Some(ra)) = (
        first_purchase,
        member.referrer_id,
        referrer_account.as_mut(),
    ) {
        result.referral = referral(
            state, &mut tx, &me, &rules, &member, referrer, ra, id, &event, now,
        )
        .await?;
        amended |= result.referral.is_some();
    }
    if amended {
        // The stored answer (what a retry gets) includes the promotion and the referral.
        patron_db::points::set_purchase_response(
            &mut tx,
            id,
            &serde_json::to_value(&result).expect("serialisable"),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(RecordedPurchase::Created(Json(result))))
}

fn purchase_row<'a>(
    r: &'a PurchaseResult,
    hash: &'a [u8],
    c: &'a Checked,
    by: &'a str,
    now: DateTime<Utc>,
    entry_id: Option<i64>,
) -> points::NewPurchaseRow<'a> {
    points::NewPurchaseRow {
        id: r.purchase_id,
        external_id: &r.external_id,
        hash,
        member_id: r.member_id,
        amount: r.amount,
        currency: &c.currency,
        items: Value::Array(c.items.clone()),
        store: &c.store,
        occurred_at: c.occurred_at,
        recorded_at: now,
        recorded_by: by,
        points: r.points,
        reasons: serde_json::to_value(&r.reasons).expect("serialisable"),
        rule_version: r.rule_version,
        rule_error: r
            .rule_error
            .as_ref()
            .map(|e| serde_json::to_value(e).expect("serialisable")),
        entry_id,
        response: serde_json::to_value(r).expect("serialisable"),
    }
}

/// Pays the referral reward for `member`'s first purchase to `referrer`, once.
#[allow(clippy::too_many_arguments)]
async fn referral(
    state: &ApiState,
    tx: &mut TenantTx,
    me: &Principal,
    rules: &engine::TenantRules,
    member: &Member,
    referrer: Uuid,
    account: &mut Account,
    purchase_id: Uuid,
    purchase_event: &Value,
    now: DateTime<Utc>,
) -> Result<Option<ReferralReward>, ApiError> {
    if !rules.rules.contains_key("referral") || points::referral_paid(tx, member.id).await? {
        return Ok(None);
    }
    let referrer_member = members::get(tx, referrer).await?;
    if referrer_member.status == "erased" {
        return Ok(None);
    }
    let today = local_date(&me.tenant, now);
    let mut event = purchase_event.clone();
    event["kind"] = json!("referral");
    event["referred_id"] = json!(member.id.to_string());
    let tier = engine::MemberTier::of(tx, rules, referrer).await?;
    let input = engine::member_input(&referrer_member, account, &tier, today);
    let (earned, reasons, version, failure) =
        run_rule(state, rules, me.tenant.id, "referral", &event, &input).await;
    if let Some(f) = failure {
        tracing::warn!(kind = %f.kind, message = %f.message, "the referral rule failed");
    }
    let subject = me.subject();
    let src = Source {
        kind: "referral",
        id: member.id.to_string(),
        rule_version: version,
        reason: if reasons.is_empty() {
            "referral".into()
        } else {
            summary(&reasons)
        },
        detail: Some(json!({ "referred_id": member.id, "purchase_id": purchase_id })),
        actor: &subject,
        at: now,
    };
    let zone = me.tenant.settings.zone();
    let tz = zone.tz();
    let expires = core_points::expires_at(rules.settings.expiry, now, tz);
    points::earn(tx, account, earned, &src, expires, today).await?;
    points::save_account(tx, account, now).await?;
    patron_app::tiers::after_event(tx, &state.rules, rules, &me.tenant, referrer, now, &subject)
        .await?;
    points::record_referral(tx, member.id, referrer, purchase_id, earned, now).await?;
    Ok(Some(ReferralReward {
        referrer_id: referrer,
        points: earned,
    }))
}
