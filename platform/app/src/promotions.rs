//! Promotions (优惠活动): creating and editing drafts, publishing (scheduled or running by
//! the period, in the business's time zone), stopping, results; and the promotions' part
//! in the earn pipeline: on a purchase, the promotions it falls in (cached with the rules
//! in force) add points (a multiplier of what the rule gave, or a fixed bonus) with a reason
//! of their own, count the member as reached (one statement for all of them), and give
//! their coupon to a member buying for the first time during them. The mall asks for a
//! running promotion's reduced price (`mall_price`); the portal for what a member may see.

use crate::engine::{PointReason, RuleEngine, TenantRules};
use crate::AppError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_core::promotions::{self as core, Phase, Status};
use patron_core::reasons::Reason;
use patron_core::{FieldCode, Issue, TenantId, Validation, Zone};
use patron_db::promotions::{self as db, ItemPrice, Promotion, Reached, Results};
use patron_db::TenantTx;
use serde_json::json;
use uuid::Uuid;

/// A reduced mall price, as sent.
#[derive(Debug, Clone)]
pub struct ItemPriceInput {
    pub item_id: Uuid,
    pub points: i64,
}

/// A promotion as staff send it (to create or to replace a draft).
#[derive(Debug, Clone)]
pub struct PromotionInput {
    pub name: String,
    pub description: Option<String>,
    /// First local day (included).
    pub starts_on: NaiveDate,
    /// Last local day (included).
    pub ends_on: NaiveDate,
    pub tiers: Vec<String>,
    pub multiplier: Option<f64>,
    pub bonus_points: Option<i64>,
    pub coupon_template_id: Option<Uuid>,
    pub mall_items: Vec<ItemPriceInput>,
}

/// A promotion with where it stands, its mall prices and, when asked, its results.
#[derive(Debug, Clone)]
pub struct View {
    pub promotion: Promotion,
    pub phase: Phase,
    pub coupon_template_name: Option<String>,
    pub mall_items: Vec<ItemPrice>,
    pub results: Option<Results>,
}

/// What a promotion gives, checked: the multiplier's hundredths and the mall prices.
struct Checked {
    multiplier_pct: Option<i32>,
    tiers: Vec<String>,
}

fn check(i: &PromotionInput) -> Result<Checked, AppError> {
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
    if i.ends_on < i.starts_on {
        v.check::<()>(
            "ends_on",
            Err(
                Issue::new(FieldCode::BeforeStart, "must not be before starts_on")
                    .with("field", "starts_on"),
            ),
        );
    } else if (i.ends_on - i.starts_on).num_days() + 1 > core::PERIOD_MAX_DAYS {
        v.check::<()>(
            "ends_on",
            Err(Issue::new(
                FieldCode::TooFarAhead,
                format!("a period is at most {} days", core::PERIOD_MAX_DAYS),
            )
            .with("max", core::PERIOD_MAX_DAYS)),
        );
    }
    if i.tiers.len() > core::TIERS_MAX {
        v.check::<()>("tiers", Err(Issue::too_many(core::TIERS_MAX, "tiers")));
    }
    for (n, t) in i.tiers.iter().enumerate() {
        if t.trim().is_empty() || t.chars().count() > 100 {
            v.check::<()>(&format!("tiers[{n}]"), Err(Issue::length_between(1, 100)));
        }
    }
    let multiplier_pct = match i.multiplier {
        None => None,
        Some(m) => {
            let pct = core::multiplier_pct(m);
            if pct.is_none() {
                v.check::<()>(
                    "multiplier",
                    Err(Issue::new(
                        FieldCode::OutOfRange,
                        "must be above 1 and at most 10, in hundredths (such as 1.5)",
                    )
                    .with("min", 1.01)
                    .with("max", 10)),
                );
            }
            pct
        }
    };
    if i.bonus_points
        .is_some_and(|b| !(1..=core::BONUS_MAX).contains(&b))
    {
        v.check::<()>("bonus_points", Err(Issue::out_of_range(1, core::BONUS_MAX)));
    }
    if i.mall_items.len() > core::ITEMS_MAX {
        v.check::<()>(
            "mall_items",
            Err(Issue::too_many(core::ITEMS_MAX, "mall items")),
        );
    }
    for (n, it) in i.mall_items.iter().enumerate() {
        if !(1..=patron_core::mall::POINTS_MAX).contains(&it.points) {
            v.check::<()>(
                &format!("mall_items[{n}].points"),
                Err(Issue::out_of_range(1, patron_core::mall::POINTS_MAX)),
            );
        }
        if i.mall_items[..n].iter().any(|x| x.item_id == it.item_id) {
            v.check::<()>(
                &format!("mall_items[{n}].item_id"),
                Err(Issue::new(FieldCode::Duplicate, "is listed twice")),
            );
        }
    }
    if i.multiplier.is_none()
        && i.bonus_points.is_none()
        && i.coupon_template_id.is_none()
        && i.mall_items.is_empty()
    {
        v.check::<()>(
            "multiplier",
            Err(Issue::new(
                FieldCode::Required,
                "a promotion gives something: a multiplier, a bonus, a coupon or mall prices",
            )
            .with(
                "one_of",
                "multiplier, bonus_points, coupon_template_id, mall_items",
            )),
        );
    }
    v.finish().map_err(AppError::invalid)?;
    let mut tiers: Vec<String> = i.tiers.iter().map(|t| t.trim().to_owned()).collect();
    tiers.sort();
    tiers.dedup();
    Ok(Checked {
        multiplier_pct,
        tiers,
    })
}

/// Checks what the input names: the coupon template and the mall items exist.
async fn check_refs(tx: &mut TenantTx, i: &PromotionInput) -> Result<(), AppError> {
    if let Some(t) = i.coupon_template_id {
        if patron_db::coupons::template(tx, t).await?.is_none() {
            return Err(AppError::field(
                "coupon_template_id",
                Issue::unknown(&t.to_string(), "there is no such coupon template"),
            ));
        }
    }
    if !i.mall_items.is_empty() {
        let ids: Vec<Uuid> = i.mall_items.iter().map(|x| x.item_id).collect();
        let known = db::known_items(tx, &ids).await?;
        if let Some(n) = ids.iter().position(|id| !known.contains(id)) {
            return Err(AppError::field(
                &format!("mall_items[{n}].item_id"),
                Issue::unknown(&ids[n].to_string(), "is not an item of this mall"),
            ));
        }
    }
    Ok(())
}

fn row_of(
    id: Uuid,
    i: &PromotionInput,
    c: Checked,
    zone: Zone,
    actor: &str,
    now: DateTime<Utc>,
) -> Promotion {
    Promotion {
        id,
        name: i.name.trim().to_owned(),
        description: i.description.as_deref().unwrap_or("").trim().to_owned(),
        starts_on: i.starts_on,
        ends_on: i.ends_on,
        starts_at: zone.start_of_day(i.starts_on),
        ends_at: zone.start_of_day(i.ends_on + Duration::days(1)),
        tiers: c.tiers,
        multiplier_pct: c.multiplier_pct,
        bonus_points: i.bonus_points,
        coupon_template_id: i.coupon_template_id,
        status: Status::Draft.as_str().to_owned(),
        published_at: None,
        stopped_at: None,
        created_at: now,
        updated_at: now,
        updated_by: actor.to_owned(),
    }
}

fn items_of(i: &PromotionInput) -> Vec<(Uuid, i64)> {
    i.mall_items.iter().map(|x| (x.item_id, x.points)).collect()
}

fn status_of(p: &Promotion) -> Status {
    Status::parse(&p.status).unwrap_or(Status::Draft)
}

/// Where a promotion stands at `now`.
pub fn phase_of(p: &Promotion, now: DateTime<Utc>) -> Phase {
    core::phase(status_of(p), p.starts_at, p.ends_at, now)
}

async fn view(
    tx: &mut TenantTx,
    p: Promotion,
    now: DateTime<Utc>,
    with_results: bool,
) -> Result<View, AppError> {
    let mall_items = db::items(tx, p.id).await?;
    let coupon_template_name = match p.coupon_template_id {
        Some(t) => patron_db::coupons::template(tx, t).await?.map(|t| t.name),
        None => None,
    };
    let results = if with_results {
        Some(db::results(tx, p.id).await?)
    } else {
        None
    };
    Ok(View {
        phase: phase_of(&p, now),
        promotion: p,
        coupon_template_name,
        mall_items,
        results,
    })
}

fn not_draft(p: &Promotion) -> AppError {
    AppError::conflict(
        "promotion_not_draft",
        None,
        "only a draft promotion can be changed, published or deleted",
    )
    .with_param("status", p.status.clone())
}

async fn get_row(tx: &mut TenantTx, id: Uuid) -> Result<Promotion, AppError> {
    db::get(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("promotion"))
}

async fn audit(
    tx: &mut TenantTx,
    now: DateTime<Utc>,
    actor: &str,
    action: &str,
    p: &Promotion,
) -> Result<(), AppError> {
    patron_db::audit::record(
        tx,
        now,
        actor,
        action,
        "promotion",
        json!({ "id": p.id, "name": p.name, "status": p.status }),
    )
    .await?;
    Ok(())
}

/// Creates a draft.
pub async fn create(
    tx: &mut TenantTx,
    zone: Zone,
    i: &PromotionInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<View, AppError> {
    let c = check(i)?;
    check_refs(tx, i).await?;
    let p = row_of(Uuid::now_v7(), i, c, zone, actor, now);
    db::insert(tx, &p).await?;
    db::set_items(tx, p.id, &items_of(i)).await?;
    audit(tx, now, actor, "promotion.create", &p).await?;
    view(tx, p, now, false).await
}

/// Replaces a draft's values; 409 `promotion_not_draft` once published or stopped.
pub async fn update(
    tx: &mut TenantTx,
    zone: Zone,
    id: Uuid,
    i: &PromotionInput,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<View, AppError> {
    let current = get_row(tx, id).await?;
    let c = check(i)?;
    check_refs(tx, i).await?;
    let mut p = row_of(id, i, c, zone, actor, now);
    p.created_at = current.created_at;
    let Some(p) = db::update_draft(tx, &p).await? else {
        return Err(not_draft(&current));
    };
    db::set_items(tx, p.id, &items_of(i)).await?;
    audit(tx, now, actor, "promotion.update", &p).await?;
    view(tx, p, now, false).await
}

/// Deletes a draft (it never ran).
pub async fn delete(
    tx: &mut TenantTx,
    id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let p = get_row(tx, id).await?;
    if !db::delete_draft(tx, id).await? {
        return Err(not_draft(&p));
    }
    audit(tx, now, actor, "promotion.delete", &p).await
}

/// Publishes a draft: scheduled before its period, running in it. 409
/// `promotion_period_over` when its last day is past. The caller forgets the tenant's
/// cached rules once committed ([`forget`]).
pub async fn publish(
    tx: &mut TenantTx,
    id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<View, AppError> {
    let current = get_row(tx, id).await?;
    if status_of(&current) == Status::Draft && current.ends_at <= now {
        return Err(AppError::conflict(
            "promotion_period_over",
            Some("ends_on"),
            "the promotion's period is over",
        )
        .with_param("ends_on", current.ends_on.to_string()));
    }
    let Some(p) = db::publish(tx, id, actor, now).await? else {
        return Err(not_draft(&current));
    };
    patron_db::rules::notify(tx).await?;
    audit(tx, now, actor, "promotion.publish", &p).await?;
    view(tx, p, now, false).await
}

/// Stops a scheduled or running promotion: it gives nothing from now on (what it gave
/// stays). 409 `promotion_not_stoppable` otherwise.
pub async fn stop(
    tx: &mut TenantTx,
    id: Uuid,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<View, AppError> {
    let current = get_row(tx, id).await?;
    let Some(p) = db::stop(tx, id, actor, now).await? else {
        return Err(AppError::conflict(
            "promotion_not_stoppable",
            None,
            "only a scheduled or running promotion can be stopped",
        )
        .with_param("phase", phase_of(&current, now).as_str()));
    };
    patron_db::rules::notify(tx).await?;
    audit(tx, now, actor, "promotion.stop", &p).await?;
    view(tx, p, now, true).await
}

/// After a publish or a stop committed: this replica forgets its cached copy (others hear
/// of it through NOTIFY).
pub async fn forget(engine: &RuleEngine, tenant: i64) {
    engine.forget(TenantId::new(tenant)).await;
}

/// Promotions, newest first, each with where it stands; only those in `phase` when given.
pub async fn list(
    tx: &mut TenantTx,
    phase: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<View>, AppError> {
    let wanted =
        match phase {
            None => None,
            Some(s) => Some(Phase::parse(s.trim()).ok_or_else(|| {
                AppError::field("phase", Issue::not_one_of(s.trim(), core::PHASES))
            })?),
        };
    let mut out = Vec::new();
    for p in db::list(tx, 500).await? {
        if wanted.is_some_and(|w| w != phase_of(&p, now)) {
            continue;
        }
        out.push(view(tx, p, now, true).await?);
    }
    Ok(out)
}

/// One promotion with its results.
pub async fn get(tx: &mut TenantTx, id: Uuid, now: DateTime<Utc>) -> Result<View, AppError> {
    let p = get_row(tx, id).await?;
    view(tx, p, now, true).await
}

/// What the promotions a purchase falls in add to it.
#[derive(Debug, Clone, Default)]
pub struct OnPurchase {
    pub points: i64,
    pub reasons: Vec<PointReason>,
    /// Every promotion that applied (for the results), with the points it added.
    pub reached: Vec<Reached>,
    /// The coupon templates of those that give one, by promotion.
    pub coupons: Vec<(Uuid, Uuid)>,
}

/// The promotions (from the cached rules) a purchase at `at` by a member of `tier` falls
/// in, and what they add to the `base` points the rule gave: a multiplier adds its share of
/// the base, a bonus its points; each says so in a reason of its own.
pub fn on_purchase(rules: &TenantRules, at: DateTime<Utc>, tier: &str, base: i64) -> OnPurchase {
    let mut out = OnPurchase::default();
    for p in &rules.promotions {
        let ends = p.stopped_at.map_or(p.ends_at, |s| s.min(p.ends_at));
        if at < p.starts_at || at >= ends || !core::in_audience(&p.tiers, tier) {
            continue;
        }
        let mut added = 0;
        if let Some(pct) = p.multiplier_pct {
            let extra = core::multiplied_extra(base, pct);
            if extra > 0 {
                out.reasons.push(PointReason::new(
                    extra,
                    Reason::point(
                        "promotion_multiplier",
                        json!({ "promotion": p.name, "factor": core::multiplier_text(pct) }),
                    )
                    .into(),
                    None,
                ));
                added += extra;
            }
        }
        if let Some(bonus) = p.bonus_points {
            out.reasons.push(PointReason::new(
                bonus,
                Reason::point(
                    "promotion_bonus",
                    json!({ "promotion": p.name, "points": bonus }),
                )
                .into(),
                None,
            ));
            added += bonus;
        }
        out.points += added;
        out.reached.push(Reached {
            promotion_id: p.id,
            points: added,
        });
        if let Some(t) = p.coupon_template_id {
            out.coupons.push((p.id, t));
        }
    }
    out
}

/// After the purchase is stored: the member counted as reached by each promotion it fell
/// in (one statement), and the coupon of each that reached them for the first time given
/// (once per member; a template that cannot give one any more gives nothing, the purchase
/// stands). Returns the codes given.
#[allow(clippy::too_many_arguments)]
pub async fn after_purchase(
    tx: &mut TenantTx,
    zone: Zone,
    on: &OnPurchase,
    member_id: Uuid,
    amount: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    if on.reached.is_empty() {
        return Ok(Vec::new());
    }
    let first = db::reach(tx, member_id, amount, &on.reached, now).await?;
    let mut codes = Vec::new();
    // Several templates: all locked first, in id order (the order `give` relies on).
    let templates: Vec<Uuid> = on
        .coupons
        .iter()
        .filter(|(p, _)| first.contains(p))
        .map(|(_, t)| *t)
        .collect();
    if templates.len() > 1 {
        crate::coupons::issue::lock_templates(tx, &templates).await?;
    }
    for (promotion, template) in &on.coupons {
        if !first.contains(promotion) {
            continue;
        }
        if let Some(code) = crate::coupons::issue::give_on_occasion(
            tx,
            zone,
            *template,
            member_id,
            "promotion",
            actor,
            now,
        )
        .await?
        {
            db::set_coupon(tx, *promotion, member_id, &code).await?;
            codes.push(code);
        }
    }
    Ok(codes)
}

/// A running promotion's reduced points price of an item for a member, if any.
pub async fn mall_price(
    tx: &mut TenantTx,
    item_id: Uuid,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(Uuid, i64)>, AppError> {
    Ok(db::mall_price(tx, item_id, member_id, now).await?)
}

/// The promotions a member sees in the portal: running and upcoming, for everyone or their
/// tier, soonest first.
pub async fn for_member(
    tx: &mut TenantTx,
    member_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<View>, AppError> {
    let mut out = Vec::new();
    for p in db::for_member(tx, member_id, now).await? {
        out.push(view(tx, p, now, false).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn input() -> PromotionInput {
        PromotionInput {
            name: "Double points week".into(),
            description: None,
            starts_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            ends_on: NaiveDate::from_ymd_opt(2026, 3, 7).unwrap(),
            tiers: vec![],
            multiplier: Some(2.0),
            bonus_points: None,
            coupon_template_id: None,
            mall_items: vec![],
        }
    }

    fn field_of(i: &PromotionInput) -> String {
        match check(i) {
            Err(AppError::Invalid(f)) => f[0].field.clone(),
            other => panic!("expected a bad field, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn bad_input_is_named_by_its_field() {
        let mut i = input();
        i.name = " ".into();
        assert_eq!(field_of(&i), "name");
        let mut i = input();
        i.ends_on = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        assert_eq!(field_of(&i), "ends_on");
        let mut i = input();
        i.multiplier = Some(1.0);
        assert_eq!(field_of(&i), "multiplier");
        let mut i = input();
        i.multiplier = None;
        assert_eq!(field_of(&i), "multiplier");
        let mut i = input();
        i.bonus_points = Some(0);
        assert_eq!(field_of(&i), "bonus_points");
        let mut i = input();
        let item = Uuid::now_v7();
        i.mall_items = vec![
            ItemPriceInput {
                item_id: item,
                points: 10,
            },
            ItemPriceInput {
                item_id: item,
                points: 10,
            },
        ];
        assert_eq!(field_of(&i), "mall_items[1].item_id");
    }

    #[test]
    fn a_purchase_gets_what_the_promotions_it_falls_in_give() {
        let at = |d| Utc.with_ymd_and_hms(2026, 3, d, 12, 0, 0).unwrap();
        let active = |tiers: Vec<String>, pct, bonus, stopped| patron_db::promotions::Active {
            id: Uuid::now_v7(),
            name: "Spring".into(),
            starts_at: at(1),
            ends_at: at(8),
            stopped_at: stopped,
            tiers,
            multiplier_pct: pct,
            bonus_points: bonus,
            coupon_template_id: None,
        };
        let rules = TenantRules {
            promotions: vec![
                active(vec![], Some(200), None, None),
                active(vec!["gold".into()], None, Some(50), None),
                active(vec![], None, Some(7), Some(at(3))),
            ],
            ..TenantRules::default()
        };
        let on = on_purchase(&rules, at(2), "silver", 100);
        assert_eq!(on.points, 100 + 7);
        assert_eq!(
            on.reasons[0].reason_code.as_deref(),
            Some("promotion_multiplier")
        );
        assert_eq!(on.reached.len(), 2);
        let on = on_purchase(&rules, at(4), "gold", 100);
        assert_eq!(
            on.points, 150,
            "the stopped one gives nothing after it stopped"
        );
        assert_eq!(on_purchase(&rules, at(9), "gold", 100).points, 0);
        assert_eq!(
            on_purchase(&rules, at(1) - Duration::days(1), "gold", 100).points,
            0
        );
    }
}
