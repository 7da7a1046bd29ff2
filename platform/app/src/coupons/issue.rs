//! Issuing coupons: a batch of generated codes (not bound to anyone until used), a number
//! of coupons to one member (staff), a member's claim in the portal (free or for points:
//! the points are taken through the ledger in the same transaction, for the quantity
//! claimed). Every path takes its quantity with one statement (`db::coupons::
//! take_and_issue`) and refuses in the same transaction when a limit is crossed.

use super::{template_to_issue, terms_of};
use crate::idempotency::{Begun, Request};
use crate::points::decide::Replayable;
use crate::AppError;
use chrono::{DateTime, Utc};
use patron_core::coupons::{self as core, Pattern};
use patron_core::plans::Limit;
use patron_core::points::EntrySource;
use patron_core::problem::Issue;
use patron_core::reasons::Reason;
use patron_core::Zone;
use patron_db::coupons::{self as db, NewCoupons, Template};
use patron_db::points::{self, Source};
use patron_db::TenantTx;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashSet;
use uuid::Uuid;

/// The pattern of the codes given to members (32^12 codes).
pub(crate) const MEMBER_PATTERN: &str = "????-????-????";

/// Where coupons go.
struct Give<'a> {
    member_id: Option<Uuid>,
    batch_id: Option<Uuid>,
    channel: &'a str,
    /// Count towards the template's per-day limit (issues to members).
    per_day: bool,
    /// An idempotent request whose answer is stored before the quantities are taken.
    answer: Option<EarlyAnswer<'a>>,
}

/// The answer of an idempotent request, made from the codes to be given and stored
/// before the statement that takes the template's quantities: every give of a template
/// waits on its row (and the month's count) until the giver commits, so nothing but the
/// commit should follow that statement. Stored again in the rare case a code collided.
struct EarlyAnswer<'a> {
    req: &'a Request,
    of: &'a (dyn Fn(&[String]) -> Result<serde_json::Value, AppError> + Sync),
}

/// Takes `n` of the template's quantities and writes `n` coupons with codes of `pattern`;
/// refuses (nothing written once the caller drops the transaction) when a limit is
/// crossed. Returns the codes.
#[allow(clippy::too_many_arguments)]
async fn give(
    tx: &mut TenantTx,
    zone: Zone,
    t: &Template,
    to: Give<'_>,
    n: usize,
    pattern: &Pattern,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    if t.archived {
        return Err(AppError::conflict(
            "coupon_template_archived",
            Some("template_id"),
            "this coupon template is archived",
        ));
    }
    let terms = terms_of(&t.terms.0)?;
    let (valid_from, valid_until) = terms.validity(now, zone);
    if valid_until <= now {
        return Err(AppError::conflict(
            "coupon_template_expired",
            Some("template_id"),
            "the coupons of this template are no longer valid",
        ));
    }
    // A sendable generator (the future is held across awaits).
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_entropy();
    let fresh = |rng: &mut rand::rngs::StdRng, k: usize, avoid: &HashSet<String>| {
        let mut set = HashSet::with_capacity(k);
        while set.len() < k {
            let c = pattern.generate(rng);
            if !avoid.contains(&c) {
                set.insert(c);
            }
        }
        set.into_iter().collect::<Vec<_>>()
    };
    let codes = fresh(&mut rng, n, &HashSet::new());
    let c = NewCoupons {
        template_id: t.id,
        version: t.version,
        terms: &t.terms.0,
        member_id: to.member_id,
        batch_id: to.batch_id,
        channel: to.channel,
        issued_at: now,
        valid_from,
        valid_until,
        actor,
    };
    let day = to.per_day.then(|| zone.today(now));
    if let Some(a) = &to.answer {
        crate::idempotency::finish_value(tx, a.req, (a.of)(&codes)?).await?;
    }
    let sold_out = || {
        AppError::conflict(
            "coupon_sold_out",
            Some("quantity"),
            "the template has not that many coupons left",
        )
        .with_param("total", t.total.unwrap_or_default())
        .with_param("left", t.total.unwrap_or_default() - t.issued)
    };
    // Sold out as read: refused before queueing on the counters below (they decide).
    if t.total.is_some_and(|total| t.issued + n as i32 > total) {
        return Err(sold_out());
    }
    // The template's quantities first, then the plan's coupons of the month (one
    // conditional statement each): a request refused for the template never queues on the
    // month's counter. Every path takes a template's row before the counter's, and a
    // transaction giving coupons of several templates locks them all first, in id order
    // ([`lock_templates`]), so no two transactions wait on each other.
    let taken = db::take_and_issue(tx, &c, &codes, day).await?;
    let Some(issued) = taken.issued else {
        return Err(sold_out());
    };
    debug_assert!(t.total.is_none_or(|total| issued <= total));
    if let (Some(limit), Some(count)) = (t.per_member, taken.member_issued) {
        if count > limit {
            return Err(AppError::conflict(
                "coupon_member_limit",
                Some("quantity"),
                format!("a member may hold at most {limit} of these coupons"),
            )
            .with_param("limit", limit)
            .with_param("held", count - n as i32));
        }
    }
    if let (Some(limit), Some(count)) = (t.per_day, taken.day_issued) {
        if count > limit {
            return Err(AppError::conflict(
                "coupon_day_limit",
                Some("quantity"),
                format!("at most {limit} of these coupons are given a day"),
            )
            .with_param("limit", limit));
        }
    }
    crate::plans::take_monthly(tx, Limit::CouponsPerMonth, n as i64, now).await?;
    // The codes written in the order they were made (the answer stored early lists them so).
    let mut written = taken.codes.unwrap_or_default();
    written.sort_by_key(|w| codes.iter().position(|c| c == w));
    // Codes that collided with earlier coupons: new ones, the quantity already taken.
    for _ in 0..20 {
        if written.len() >= n {
            break;
        }
        let avoid: HashSet<String> = codes.iter().cloned().collect();
        let more = fresh(&mut rng, n - written.len(), &avoid);
        written.extend(db::issue_more(tx, &c, &more).await?);
    }
    if written.len() < n {
        return Err(AppError::internal(std::io::Error::other(
            "could not find free codes for a batch",
        )));
    }
    if let Some(a) = &to.answer {
        if written != codes {
            crate::idempotency::finish_value(tx, a.req, (a.of)(&written)?).await?;
        }
    }
    Ok(written)
}

/// A batch to generate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewBatch {
    pub count: i64,
    pub pattern: String,
    pub charset: Option<String>,
    pub prefix: Option<String>,
}

/// Generates a batch of unique codes (not bound to anyone until one is used). Refuses a
/// pattern that cannot give the count with room to spare (422 on `pattern`).
pub async fn batch(
    tx: &mut TenantTx,
    zone: Zone,
    template_id: Uuid,
    b: &NewBatch,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<db::Batch, AppError> {
    let mut v = patron_core::Validation::new();
    if !(1..=core::BATCH_MAX).contains(&b.count) {
        v.check::<()>("count", Err(Issue::out_of_range(1, core::BATCH_MAX)));
    }
    let pattern = match Pattern::parse(&b.pattern, b.charset.as_deref(), b.prefix.as_deref()) {
        Ok(p) => {
            if (1..=core::BATCH_MAX).contains(&b.count) {
                v.check("pattern", p.check_count(b.count));
            }
            Some(p)
        }
        Err(errors) => {
            for e in errors {
                v.push(e);
            }
            None
        }
    };
    v.finish().map_err(AppError::invalid)?;
    let pattern = pattern.expect("checked");
    let t = template_to_issue(tx, template_id).await?;
    let id = Uuid::now_v7();
    let shown = format!(
        "{}{}",
        b.prefix
            .as_deref()
            .map(core::normalise_code)
            .unwrap_or_default(),
        b.pattern.trim().to_uppercase()
    );
    db::insert_batch(tx, id, t.id, &shown, b.count as i32, actor, now).await?;
    give(
        tx,
        zone,
        &t,
        Give {
            member_id: None,
            batch_id: Some(id),
            channel: "batch",
            per_day: false,
            answer: None,
        },
        b.count as usize,
        &pattern,
        actor,
        now,
    )
    .await?;
    Ok(db::Batch {
        id,
        template_id: t.id,
        pattern: shown,
        count: b.count as i32,
        created_at: now,
        actor: actor.to_owned(),
        used: 0,
    })
}

/// Coupons given to a member (by staff, or claimed), and what the claim cost.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    pub template_id: Uuid,
    pub template_name: String,
    pub member_id: Uuid,
    pub codes: Vec<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// Points taken for a claim (0 when free or given by staff).
    pub points: i64,
    /// The member's balance after a claim that cost points.
    pub balance: Option<i64>,
    #[serde(default)]
    pub replayed: bool,
}

impl Issued {
    /// Coupons of `t` given to a member for nothing, valid from `now` as its terms say.
    fn given(
        t: &Template,
        member_id: Uuid,
        codes: Vec<String>,
        zone: Zone,
        now: DateTime<Utc>,
    ) -> Result<Issued, AppError> {
        let (valid_from, valid_until) = terms_of(&t.terms.0)?.validity(now, zone);
        Ok(Issued {
            template_id: t.id,
            template_name: t.name.clone(),
            member_id,
            codes,
            valid_from,
            valid_until,
            points: 0,
            balance: None,
            replayed: false,
        })
    }
}

impl Replayable for Issued {
    fn mark_replayed(&mut self) {
        self.replayed = true;
    }
}

fn check_quantity(quantity: i64) -> Result<usize, AppError> {
    if !(1..=core::QUANTITY_MAX).contains(&quantity) {
        return Err(AppError::field(
            "quantity",
            Issue::out_of_range(1, core::QUANTITY_MAX),
        ));
    }
    Ok(quantity as usize)
}

fn member_pattern() -> Pattern {
    Pattern::parse(MEMBER_PATTERN, None, None).expect("a valid pattern")
}

#[allow(clippy::too_many_arguments)]
async fn to_member(
    tx: &mut TenantTx,
    zone: Zone,
    t: &Template,
    member_id: Uuid,
    n: usize,
    channel: &str,
    actor: &str,
    now: DateTime<Utc>,
    answer: Option<EarlyAnswer<'_>>,
) -> Result<Issued, AppError> {
    let codes = give(
        tx,
        zone,
        t,
        Give {
            member_id: Some(member_id),
            batch_id: None,
            channel,
            per_day: true,
            answer,
        },
        n,
        &member_pattern(),
        actor,
        now,
    )
    .await?;
    Issued::given(t, member_id, codes, zone, now)
}

/// Locks the templates a transaction will give coupons of, in id order, before it gives
/// any (see [`give`]).
pub async fn lock_templates(tx: &mut TenantTx, ids: &[Uuid]) -> Result<(), AppError> {
    Ok(db::lock_templates(tx, ids).await?)
}

/// One coupon of a template for a member on an occasion (a promotion, a tier, a rule):
/// its code, or `None` when the template cannot give one now (gone, archived, expired, sold
/// out, over a member's or a day's limit): nothing is written then, and the work around it
/// (the purchase, the tier move) goes on.
#[allow(clippy::too_many_arguments)]
pub async fn give_on_occasion(
    tx: &mut TenantTx,
    zone: Zone,
    template_id: Uuid,
    member_id: Uuid,
    channel: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    let Some(t) = db::template(tx, template_id).await? else {
        return Ok(None);
    };
    db::savepoint(tx).await?;
    let to = Give {
        member_id: Some(member_id),
        batch_id: None,
        channel,
        per_day: true,
        answer: None,
    };
    match give(tx, zone, &t, to, 1, &member_pattern(), actor, now).await {
        Ok(mut codes) => {
            db::end_savepoint(tx, false).await?;
            Ok(codes.pop())
        }
        // A limit of the template, or the plan's coupons of the month used up.
        Err(AppError::Conflict { .. } | AppError::Plan(_)) => {
            db::end_savepoint(tx, true).await?;
            tracing::info!(template = %template_id, channel, "no coupon given on an occasion");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One coupon of a template for the member of a purchase whose cart carries the
/// template's shared code: its code, or why the template cannot give one now
/// (`sold_out`, `member_limit`, `day_limit`, `expired`, `unavailable` for an archived
/// template or the plan's coupons of the month used up). Nothing is written when it
/// cannot; the purchase goes on without it.
pub async fn give_at_till(
    tx: &mut TenantTx,
    zone: Zone,
    t: &Template,
    member_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Result<String, core::Reason>, AppError> {
    db::savepoint(tx).await?;
    let to = Give {
        member_id: Some(member_id),
        batch_id: None,
        channel: "shared",
        per_day: true,
        answer: None,
    };
    let refused = match give(tx, zone, t, to, 1, &member_pattern(), actor, now).await {
        Ok(mut codes) => {
            db::end_savepoint(tx, false).await?;
            return codes
                .pop()
                .map(Ok)
                .ok_or_else(|| AppError::internal(std::io::Error::other("no coupon code")));
        }
        Err(AppError::Conflict { code, .. }) => match &*code {
            "coupon_sold_out" => core::Reason::SoldOut,
            "coupon_member_limit" => core::Reason::MemberLimit,
            "coupon_day_limit" => core::Reason::DayLimit,
            "coupon_template_expired" => core::Reason::Expired,
            _ => core::Reason::Unavailable,
        },
        Err(AppError::Plan(_)) => core::Reason::Unavailable,
        Err(e) => return Err(e),
    };
    db::end_savepoint(tx, true).await?;
    Ok(Err(refused))
}

/// A coupon a point rule gave (`give_coupon`, or a form's `coupon_template_id`): its code,
/// or `given: false` when the template could not give one (unknown, archived, expired,
/// sold out, the member's or the day's limit, the plan's coupons of the month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCoupon {
    /// As the rule named it (a template id).
    pub template_id: String,
    pub given: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One coupon of each template a rule named, for `member_id`, inside the caller's
/// transaction (so an event replayed under its idempotency gives nothing twice). Templates
/// are locked first in id order when there are several (`also`: other templates the same
/// transaction gives coupons of, such as a purchase's promotions'), the order every path
/// keeps. A coupon that cannot be given is answered as not given; the event stands.
#[allow(clippy::too_many_arguments)]
pub async fn give_for_rule(
    tx: &mut TenantTx,
    zone: Zone,
    templates: &[String],
    also: &[Uuid],
    member_id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<RuleCoupon>, AppError> {
    if templates.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Option<Uuid>> = templates.iter().map(|t| t.trim().parse().ok()).collect();
    let mut lock: Vec<Uuid> = ids.iter().flatten().chain(also).copied().collect();
    lock.sort();
    lock.dedup();
    if lock.len() > 1 {
        lock_templates(tx, &lock).await?;
    }
    let mut out = Vec::with_capacity(templates.len());
    for (named, id) in templates.iter().zip(ids) {
        let code = match id {
            Some(id) => give_on_occasion(tx, zone, id, member_id, "rule", actor, now).await?,
            None => None,
        };
        out.push(RuleCoupon {
            template_id: named.clone(),
            given: code.is_some(),
            code,
        });
    }
    Ok(out)
}

/// Staff give `quantity` coupons of a template to a member (within its limits).
pub async fn issue_to_member(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    template_id: Uuid,
    quantity: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Issued, AppError> {
    let n = check_quantity(quantity)?;
    let member = crate::points::member_of(tx, member_id).await?;
    let t = template_to_issue(tx, template_id)
        .await
        .map_err(|e| match e {
            AppError::NotFound { .. } => AppError::field(
                "template_id",
                Issue::unknown(&template_id.to_string(), "there is no such coupon template"),
            ),
            e => e,
        })?;
    to_member(tx, zone, &t, member.id, n, "staff", actor, now, None).await
}

/// `quantity` coupons of a template for a member who ordered them in the points mall,
/// inside the order's transaction and within the template's limits (its total, the
/// member's and the day's limits, the plan's coupons of the month). Any limit refuses the
/// whole order with a 409 naming it; the month's coupons used up is
/// `coupons_unavailable`, since the member cannot change the business's plan.
pub async fn give_for_mall_order(
    tx: &mut TenantTx,
    zone: Zone,
    template_id: Uuid,
    member_id: Uuid,
    quantity: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Issued, AppError> {
    let n = check_quantity(quantity)?;
    let t = db::template(tx, template_id).await?.ok_or_else(|| {
        AppError::conflict(
            "coupon_template_archived",
            Some("item_id"),
            "the coupon template of this item is gone",
        )
    })?;
    to_member(tx, zone, &t, member_id, n, "mall", actor, now, None)
        .await
        .map_err(|e| match e {
            AppError::Plan(_) => AppError::conflict(
                "coupons_unavailable",
                Some("quantity"),
                "this business cannot give more coupons this month",
            ),
            e => e,
        })
}

/// A member's claim: a claimable template by id, or any template by its shared code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    pub template_id: Option<Uuid>,
    pub code: Option<String>,
    pub quantity: i64,
}

/// A member claims coupons in the portal: free, or for the template's points price times
/// the quantity, taken from their points (oldest-expiring lots first) in this transaction.
/// Idempotent by `req` ([`crate::idempotency`]): a free claim's answer is stored before the
/// template's quantities are taken, so many members claiming one template wait on its row
/// only for that statement and the commit. Any error leaves the caller's transaction to be
/// rolled back (nothing stored).
pub async fn claim(
    tx: &mut TenantTx,
    zone: Zone,
    member_id: Uuid,
    c: &Claim,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Issued, AppError> {
    if let Begun::Replay(r) = crate::idempotency::begin::<Issued>(tx, req, now).await? {
        return Ok(r);
    }
    let n = check_quantity(c.quantity)?;
    let unknown = |field: &str, value: &str| {
        AppError::field(
            field,
            Issue::unknown(value, "there is no such coupon to claim"),
        )
    };
    let t = match (c.template_id, c.code.as_deref()) {
        (Some(id), None) => db::template(tx, id)
            .await?
            .filter(|t| t.claimable)
            .ok_or_else(|| unknown("template_id", &id.to_string()))?,
        (None, Some(code)) => {
            let code = core::check_code(code).map_err(|e| AppError::field("code", e))?;
            db::template_by_shared_code(tx, &code)
                .await?
                .ok_or_else(|| unknown("code", &code))?
        }
        _ => {
            return Err(AppError::field(
                "template_id",
                Issue::new(
                    patron_core::FieldCode::OneOf,
                    "give exactly one of template_id or code",
                )
                .with("options", "template_id, code"),
            ))
        }
    };
    let actor = format!("member:{member_id}");
    let cost = t.points_price.saturating_mul(n as i64);
    // The points account is locked before the template, the order every path takes them.
    let mut account = None;
    if cost > 0 {
        let (locked, expiry_due) = points::lock_for_change(tx, member_id, now).await?;
        let mut a = match locked {
            Some(a) => a,
            None => points::lock_account(tx, member_id, now).await?,
        };
        if expiry_due && points::expire(tx, &mut a, now, "system:expiry").await? > 0 {
            points::save_account(tx, &a, now).await?;
        }
        if a.balance < cost {
            return Err(AppError::conflict(
                "insufficient_points",
                Some("quantity"),
                format!("the member has {} points", a.balance),
            )
            .with_param("balance", a.balance)
            .with_param("asked", cost));
        }
        account = Some(a);
    }
    // A free claim's answer is known from its codes: what `to_member` answers.
    let answer_of = |codes: &[String]| {
        serde_json::to_value(Issued::given(&t, member_id, codes.to_vec(), zone, now)?)
            .map_err(AppError::internal)
    };
    let early = (cost == 0).then_some(EarlyAnswer {
        req,
        of: &answer_of,
    });
    let mut issued = to_member(tx, zone, &t, member_id, n, "claim", &actor, now, early)
        .await
        .map_err(|e| match e {
            // A member cannot change the business's plan: say so plainly.
            AppError::Plan(_) => AppError::conflict(
                "coupons_unavailable",
                Some("quantity"),
                "this business cannot give more coupons this month",
            ),
            e => e,
        })?;
    if let Some(mut a) = account {
        a.balance -= cost;
        a.redeemed_total += cost;
        let src = Source {
            kind: EntrySource::Redemption,
            id: format!(
                "coupon:{}",
                issued.codes.first().cloned().unwrap_or_default()
            ),
            rule_version: None,
            reason: Reason::point(
                "coupon_claimed",
                json!({ "template": t.name, "quantity": n }),
            )
            .into(),
            detail: Some(json!({ "template_id": t.id, "codes": issued.codes })),
            actor: &actor,
            at: now,
        };
        points::redeem(tx, &a, cost, &src).await?;
        issued.points = cost;
        issued.balance = Some(a.balance);
        crate::idempotency::finish(tx, req, &issued).await?;
    }
    Ok(issued)
}
