//! Recording a purchase: the earn pipeline's purchase path. The member, the lock on their
//! account (and their referrer's), their tier and any earlier answer under the external id
//! come in one round trip; unless a debt is to be settled, the entry, its lot, the account
//! and the purchase are written by one statement once the answer is known.

use super::lookup::{member_lookup, resolve_member, MemberRef};
use crate::coupons::issue::RuleCoupon;
use crate::coupons::redeem::{cart_items, use_for_purchase, Applied, CouponResult};
use crate::engine::{self, MemberTier, PointReason, RuleEngine, RuleFailure, TenantRules};
use crate::idempotency::{self, Begun, Request};
use crate::points::decide::{self, Replayable};
use crate::points::earn::{self, Credit, Ctx, Earning};
use crate::points::{check_external_id, external_id_reused, request_hash, stored, MAX_AMOUNT};
use crate::prepaid::{check_payments, insufficient_stored_value, payment_rows, Method, PaymentIn};
use crate::AppError;
use chrono::{DateTime, Duration, Utc};
use patron_core::coupons::Cart;
use patron_core::idempotency::Scope;
use patron_core::pii::PiiKeys;
use patron_core::points::EntrySource;
use patron_core::reasons::Reason;
use patron_core::MemberId;
use patron_db::idempotency::ClaimOf;
use patron_db::members::{self, Member};
use patron_db::points::{self, Account};
use patron_db::prepaid::{Payment, PurchasePay};
use patron_db::{constraints, Tenant, TenantTx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// One line of a purchase, as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurchaseItem {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub quantity: Option<i64>,
    pub unit_price: i64,
}

/// A purchase as the caller sent it (hashed in this field order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewPurchase {
    pub external_id: String,
    pub member_id: Option<Uuid>,
    pub card_number: Option<String>,
    pub phone: Option<String>,
    pub amount: i64,
    pub currency: Option<String>,
    #[serde(default)]
    pub items: Vec<PurchaseItem>,
    pub store: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// How it was paid (stored value and other recorded methods); absent from the hash of
    /// a purchase sent without it, so earlier retries still match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<PaymentIn>>,
    /// Coupon codes to use (absent from the hash of a purchase sent without them). With
    /// coupons, `amount` is what is due before them and `payments` add up to what is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_codes: Option<Vec<String>>,
    /// A coupon reservation the cart holds (absent from the hash when not sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_reservation: Option<Uuid>,
}

/// A referral reward paid to the member who referred this one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferralReward {
    pub referrer_id: Uuid,
    pub points: i64,
}

/// What a recorded purchase earned (stored as the answer to a retry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurchaseResult {
    pub purchase_id: Uuid,
    pub external_id: String,
    pub member_id: Uuid,
    pub amount: i64,
    pub currency: String,
    pub points: i64,
    pub reasons: Vec<PointReason>,
    pub rule_version: Option<i32>,
    pub rule_error: Option<RuleFailure>,
    pub balance: i64,
    pub debt: i64,
    pub settled_debt: i64,
    pub tier: Option<String>,
    #[serde(default)]
    pub discount_percent: i64,
    pub referral: Option<ReferralReward>,
    pub occurred_at: DateTime<Utc>,
    /// How it was paid, with what stored value took of each sub-ledger.
    #[serde(default)]
    pub payments: Vec<Payment>,
    /// What the coupons took off (`amount` is what was paid after them).
    #[serde(default)]
    pub discount: i64,
    /// Each coupon's discount.
    #[serde(default)]
    pub coupons: Vec<CouponResult>,
    /// Coupons the purchase rule gave (or could not give).
    #[serde(default)]
    pub rule_coupons: Vec<RuleCoupon>,
    #[serde(default)]
    pub replayed: bool,
}

impl Replayable for PurchaseResult {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

struct Checked {
    coupon_codes: Vec<String>,
    currency: String,
    items: Vec<Value>,
    store: String,
    occurred_at: DateTime<Utc>,
}

fn check_text(v: &mut patron_core::Validation, field: &str, s: &str) {
    if s.chars().any(char::is_control) {
        v.check::<()>(field, Err(patron_core::Issue::control_characters()));
    }
}

fn minor_units() -> patron_core::Issue {
    patron_core::Issue::new(
        patron_core::FieldCode::OutOfRange,
        format!("must be 0 to {MAX_AMOUNT} (minor units)"),
    )
    .with("min", 0)
    .with("max", MAX_AMOUNT)
}

fn check_purchase(
    req: &NewPurchase,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<Checked, AppError> {
    let mut v = patron_core::Validation::new();
    check_external_id(&mut v, "external_id", &req.external_id);
    if !(0..=MAX_AMOUNT).contains(&req.amount) {
        v.check::<()>("amount", Err(minor_units()));
    }
    let currency = req
        .currency
        .clone()
        .unwrap_or_else(|| tenant.settings.currency.clone());
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        v.check::<()>(
            "currency",
            Err(patron_core::Issue::new(
                patron_core::FieldCode::NotACurrency,
                "must be an ISO 4217 code such as CNY",
            )
            .with("value", currency.as_str())),
        );
    }
    let mut items = Vec::with_capacity(req.items.len());
    for (i, it) in req.items.iter().enumerate() {
        let quantity = it.quantity.unwrap_or(1);
        if !(1..=1_000_000).contains(&quantity) {
            v.check::<()>(
                &format!("items[{i}].quantity"),
                Err(patron_core::Issue::out_of_range(1, 1_000_000)),
            );
        }
        if !(0..=MAX_AMOUNT).contains(&it.unit_price) {
            v.check::<()>(&format!("items[{i}].unit_price"), Err(minor_units()));
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
    // With coupons the payments add up to what is left after them (checked once known).
    let coupon_codes = req.coupon_codes.clone().unwrap_or_default();
    if let (Some(payments), true) = (&req.payments, coupon_codes.is_empty()) {
        check_payments(&mut v, payments, req.amount);
    }
    let occurred_at = req.occurred_at.unwrap_or(now);
    if occurred_at > now + Duration::minutes(10) {
        v.check::<()>("occurred_at", Err(patron_core::Issue::in_future()));
    }
    if occurred_at < now - Duration::days(366) {
        v.check::<()>(
            "occurred_at",
            Err(patron_core::Issue::new(
                patron_core::FieldCode::NotAllowed,
                "must be within the last year",
            )
            .with("reason", "older_than_a_year")),
        );
    }
    v.finish().map_err(AppError::invalid)?;
    let coupon_codes = crate::coupons::redeem::check_codes(&coupon_codes)?;
    Ok(Checked {
        coupon_codes,
        currency,
        items,
        store,
        occurred_at,
    })
}

/// One try at recording a purchase: the result (a replay when `replayed`), or `None` when
/// the purchase's insert found its external id taken by a request that committed after
/// this one's read (the caller starts over in a new transaction, which answers with that
/// purchase or a 409). Commits `tx` when it answers.
pub async fn record_once(
    mut tx: TenantTx,
    engine: &RuleEngine,
    tenant: &Tenant,
    pii: &PiiKeys,
    req: &NewPurchase,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<PurchaseResult>, AppError> {
    let checked = check_purchase(req, tenant, now)?;
    let hash = request_hash(req);
    // Idempotency: the external id is claimed first, by the statement that opens the
    // purchase; a retry racing the first request waits for it and replays its answer
    // (`crate::idempotency`).
    let key = Request::global(Scope::Purchase, "external_id", &req.external_id, req);
    let external_id = req.external_id.trim().to_owned();
    let named = MemberRef {
        member_id: req.member_id,
        card_number: req.card_number.clone(),
        phone: req.phone.clone(),
    };
    let (mut card, mut index) = (String::new(), Vec::new());
    let (field, lookup) = member_lookup(tenant, pii, &named, &mut card, &mut index)?;
    // The external id's claim, the member, the lock on their account (and their
    // referrer's), their tier and any earlier answer under this external id: one round trip.
    let claim = ClaimOf {
        scope: key.scope,
        key: &key.key,
        hash: &key.hash,
        now,
    };
    let opened = points::open_purchase(&mut tx, lookup, &external_id, Some(claim)).await?;
    let Some(opened) = opened else {
        // Answered first by a request under the same external id (replayed, or a 409), or
        // no such member (or a card not in use): the lookup below names the reason.
        if let Begun::Replay(r) = idempotency::begin::<PurchaseResult>(&mut tx, &key, now).await? {
            tx.commit().await?;
            return Ok(Some(r));
        }
        resolve_member(&mut tx, tenant, pii, &named).await?;
        return Ok(None);
    };
    let member = opened.member;
    if member.status == "erased" {
        return Err(AppError::field(field, patron_core::Issue::member_erased()));
    }
    if let Some((h, response)) = opened.existing {
        if h != hash {
            return Err(external_id_reused());
        }
        let r = decide::replay(&h, &hash, stored::<PurchaseResult>(response)?)
            .ok_or_else(external_id_reused)?;
        idempotency::finish(&mut tx, &key, &r).await?;
        tx.commit().await?;
        return Ok(Some(r));
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
    let rules = engine.tenant(&mut tx).await?;
    let zone = tenant.settings.zone();
    let ctx = Ctx {
        engine,
        rules: &rules,
        tenant,
        now,
        actor,
    };
    let today = zone.today(checked.occurred_at);
    let tier = match &rules.ladder {
        Some(l) => MemberTier::from_code(&l.ladder, opened.standing_tier.as_deref()),
        None => MemberTier::default(),
    };
    let id = Uuid::now_v7();
    // Coupons: used by one statement, refused (409, nothing recorded) when one does not
    // apply; points are earned on what is left to pay.
    let applied = if checked.coupon_codes.is_empty() {
        Applied::default()
    } else {
        let cart = Cart {
            amount: req.amount,
            items: cart_items(&checked.items),
            store: checked.store.clone(),
            tier: rules.ladder.as_ref().map(|_| tier.code.clone()),
            at: checked.occurred_at,
        };
        let applied = use_for_purchase(
            &mut tx,
            zone,
            member.id,
            &checked.coupon_codes,
            &rules.coupon_templates("purchase"),
            &cart,
            id,
            actor,
            req.coupon_reservation,
            now,
        )
        .await?;
        if let Some(payments) = &req.payments {
            let mut v = patron_core::Validation::new();
            check_payments(&mut v, payments, req.amount - applied.discount);
            v.finish().map_err(AppError::invalid)?;
        }
        applied
    };
    let paid = req.amount - applied.discount;
    let event = json!({
        "kind": "purchase",
        "amount": paid,
        "currency": checked.currency,
        "items": checked.items,
        "store": checked.store,
        "time": engine::event_time(checked.occurred_at, zone),
    });
    let input = engine::member_input(&member, &account, &tier, today);
    let run = earn::evaluate(engine, &rules, tenant.id, "purchase", &event, &input).await;
    // Promotions the purchase falls in (cached with the rules) add to what the rule gave.
    let promoted =
        crate::promotions::on_purchase(&rules, checked.occurred_at, &tier.code, run.points);
    let earned = run.points + promoted.points;
    let mut reasons = run.reasons;
    reasons.extend(promoted.reasons.iter().cloned());
    let first_purchase = account.visits == 0;
    account.spend_total += paid;
    account.visits += 1;
    let src = Credit {
        source: EntrySource::Purchase,
        source_id: id.to_string(),
        rule_version: run.version,
        reason: decide::reason_line(&reasons),
        detail: Some(json!({ "external_id": external_id })),
    }
    .source(&ctx);
    // Points expire counting from when the purchase occurred, not when it was recorded.
    let expires = decide::expiry_of(&rules.settings, checked.occurred_at, zone);
    let earn_day = zone.today(now);
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
        let done = earn::credit_earned_at(
            &mut tx,
            &ctx,
            &mut account,
            earned,
            &src,
            earn_day,
            checked.occurred_at,
        )
        .await?;
        points::save_account(&mut tx, &account, now).await?;
        (0, done.settled_debt, done.entry_id)
    };
    // How it was paid. The stored-value part is taken by the statement that stores the
    // purchase (the balance row locked after the points account's, the order every path
    // takes them in); what it took of each sub-ledger comes back from it.
    let payments: Vec<Payment> = req
        .payments
        .as_deref()
        .map(payment_rows)
        .unwrap_or_default();
    // The tier the member held when buying (the one the rule saw) decides the discount.
    let held = tier;
    let mut result = PurchaseResult {
        purchase_id: id,
        external_id: external_id.clone(),
        member_id: member.id,
        amount: paid,
        currency: checked.currency.clone(),
        points: earned,
        reasons,
        rule_version: run.version,
        rule_error: run.failure,
        balance: account.balance,
        debt: account.debt,
        settled_debt,
        tier: rules.ladder.as_ref().map(|_| held.code.clone()),
        discount_percent: held.benefits.discount_percent,
        referral: None,
        occurred_at: checked.occurred_at,
        payments: payments.clone(),
        discount: applied.discount,
        coupons: applied.coupons,
        rule_coupons: Vec::new(),
        replayed: false,
    };
    let row = purchase_row(&result, &hash, &checked, actor, now, entry_id);
    let pay = req.payments.as_ref().map(|_| PurchasePay::of(&payments));
    // Whether the purchase may promote the member: with a ladder of thresholds, the
    // purchase's own statement reads the member's tier and metric, and the check after it
    // runs only when what the purchase added could reach the next tier.
    let may_promote = rules
        .ladder
        .as_ref()
        .filter(|l| l.ladder.event_may_promote(earned, paid));
    let tz = zone.tz();
    let probe =
        may_promote
            .filter(|l| l.ladder.script.is_none())
            .map(|l| patron_db::tiers::TierProbe {
                metric: l.ladder.metric,
                start: l.ladder.window.start(now, tz),
                time_zone: tz.name(),
            });
    let mut probed: Option<(Option<String>, i64)> = None;
    let stored = if one_statement {
        // What it earned is announced by the same statement (`points.earned`); the path
        // through `earn::credit` announces its points itself.
        let occasion = format!("purchase:{id}");
        let earned_event = (earned > 0).then(|| patron_db::messages::EntryEvent {
            event: patron_core::messages::Event::PointsEarned.as_str(),
            member_id: member.id,
            occasion: Some(&occasion),
            data: json!({
                "member_id": member.id,
                "points": earned,
                "balance": account.balance,
                "entry_id": null,
                "source": EntrySource::Purchase.as_str(),
                "purchase_id": id,
                "external_id": external_id,
            }),
            at: now,
        });
        points::record_purchase(
            &mut tx,
            &account,
            spendable,
            &src,
            expires,
            &row,
            pay.as_ref(),
            Some((key.scope.as_str(), key.key.as_str())),
            earned_event,
            probe,
        )
        .await
        .map(|r| {
            probed = r.metric_before.map(|m| (r.standing_tier, m));
            Some(r.paid)
        })
    } else {
        points::insert_purchase(&mut tx, &row).await.map(|()| None)
    };
    let paid = match stored {
        Err(e) if e.is_conflict_on(constraints::PURCHASES_EXTERNAL_ID) => return Ok(None),
        other => other?,
    };
    let mut amended = false;
    if let Some(pay) = &pay {
        let paid = match paid {
            Some(p) => p,
            // The slower path (a debt settled) stored the purchase first: pay it now, and
            // store the answer again with what stored value took.
            None => {
                amended = true;
                patron_db::prepaid::pay_purchase(&mut tx, member.id, id, pay, actor, now).await?
            }
        };
        if !paid.paid {
            // Nothing is recorded: the transaction is dropped, so rolled back.
            let asked = pay.stored_value;
            return Err(insufficient_stored_value("payments", paid.held, asked));
        }
        for p in &mut result.payments {
            if p.method == Method::StoredValue.as_str() {
                p.principal = paid.principal;
                p.bonus = paid.bonus;
            }
        }
    }
    // Coupons the rule gives, in the purchase's transaction: a replay gives none again.
    // Their templates and the promotions' are locked together, in id order.
    if !run.coupons.is_empty() {
        let also: Vec<Uuid> = promoted.coupons.iter().map(|(_, t)| *t).collect();
        result.rule_coupons = crate::coupons::issue::give_for_rule(
            &mut tx,
            zone,
            &run.coupons,
            &also,
            member.id,
            actor,
            now,
        )
        .await?;
        amended = true;
    }
    // The promotions' reach (one statement) and their coupons, once per member.
    crate::promotions::after_purchase(
        &mut tx,
        zone,
        &promoted,
        member.id,
        result.amount,
        actor,
        now,
    )
    .await?;
    // Counted with the purchase just stored: it may promote the member at once (unless it
    // added nothing to what the ladder measures).
    if let Some(l) = may_promote {
        let ladder = &l.ladder;
        let after = match &probed {
            Some((tier, before))
                if !ladder.may_reach_next(
                    tier.as_deref(),
                    *before,
                    ladder.most_added(earned, result.amount),
                ) =>
            {
                MemberTier::from_code(ladder, tier.as_deref())
            }
            _ => {
                earn::tier_check(&mut tx, &ctx, MemberId::new(member.id))
                    .await?
                    .1
            }
        };
        amended |= after.code != held.code;
        result.tier = Some(after.code);
    }
    if let (true, Some(referrer), Some(ra)) = (
        first_purchase,
        member.referrer_id,
        referrer_account.as_mut(),
    ) {
        result.referral = referral(&mut tx, &ctx, &member, referrer, ra, id, &event).await?;
        amended |= result.referral.is_some();
    }
    if amended {
        // The stored answer (what a retry gets) includes the promotion and the referral.
        points::set_purchase_response(
            &mut tx,
            id,
            &serde_json::to_value(&result).expect("serialisable"),
        )
        .await?;
    }
    // The purchase's own statement stored the answer under the key already, unless it
    // changed since or the slower path stored the purchase.
    if amended || !one_statement {
        idempotency::finish(&mut tx, &key, &result).await?;
    }
    tx.commit().await?;
    Ok(Some(result))
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

/// Pays the referral reward for `member`'s first purchase to `referrer`, once, through the
/// earn pipeline (the `referral` rule on the purchase's event).
async fn referral(
    tx: &mut TenantTx,
    ctx: &Ctx<'_>,
    member: &Member,
    referrer: Uuid,
    account: &mut Account,
    purchase_id: Uuid,
    purchase_event: &Value,
) -> Result<Option<ReferralReward>, AppError> {
    let rules: &TenantRules = ctx.rules;
    if !rules.rules.contains_key("referral") || points::referral_paid(tx, member.id).await? {
        return Ok(None);
    }
    let referrer_member = members::get(tx, referrer).await?;
    if referrer_member.status == "erased" {
        return Ok(None);
    }
    let mut event = purchase_event.clone();
    event["kind"] = json!("referral");
    event["referred_id"] = json!(member.id.to_string());
    let run = earn::earn(
        tx,
        ctx,
        &referrer_member,
        account,
        Earning {
            trigger: "referral",
            event: &event,
            rule_day: ctx.tenant.settings.zone().today(ctx.now),
            source: EntrySource::Referral,
            source_id: member.id.to_string(),
            fallback_reason: Reason::point("referral", json!({})).into(),
            detail: Some(json!({ "referred_id": member.id, "purchase_id": purchase_id })),
        },
    )
    .await?;
    if let Some(f) = &run.failure {
        tracing::warn!(kind = %f.kind, message = %f.message, "the referral rule failed");
    }
    points::record_referral(tx, member.id, referrer, purchase_id, run.points, ctx.now).await?;
    Ok(Some(ReferralReward {
        referrer_id: referrer,
        points: run.points,
    }))
}
