//! The rule engine as use cases see it: each tenant's rules in force and point settings,
//! cached per tenant (dropped on publish, here and on other replicas through NOTIFY), the
//! sandbox pool that runs them, and the `event` and `member` values a rule sees.

use chrono::{DateTime, Datelike, Timelike, Utc};
use moka::future::Cache;
use patron_core::points::PointSettings;
use patron_core::ports::RuleRunner;
use patron_core::reasons::Said;
use patron_core::rules::templates::Template;
use patron_core::rules::{Outcome, RuleError, RuleErrorKind, RuleKey, TierCase};
use patron_core::tiers::{Benefits, Ladder};
use patron_core::{TenantId, Zone};
use patron_db::members::Member;
use patron_db::points::Account;
use patron_db::{points, rules, tiers, DbError, TenantTx};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A rule in force.
#[derive(Debug, Clone)]
pub struct ActiveRule {
    pub version: i32,
    pub script: Arc<str>,
    /// The form the script was made from, when the script is still exactly what the form
    /// generates: [`RuleEngine::eval`] then evaluates the form natively and only asks the
    /// sandbox when that cannot answer.
    pub template: Option<Arc<Template>>,
}

impl ActiveRule {
    /// The rule of `version`: its script and, if it was published from a form (`template`)
    /// that still generates the script exactly, the form.
    pub fn new(version: i32, script: &str, template: Option<Value>) -> Self {
        let template = template
            .and_then(|t| Template::parse(t).ok())
            .filter(|t| t.generates(script))
            .map(Arc::new);
        Self {
            version,
            script: Arc::from(script),
            template,
        }
    }
}

/// The tier ladder in force.
#[derive(Debug, Clone)]
pub struct ActiveLadder {
    pub version: i32,
    pub ladder: Ladder,
}

/// What a tenant's points run on: its rules in force by trigger, its point settings and its
/// tier ladder.
#[derive(Debug, Clone, Default)]
pub struct TenantRules {
    pub rules: HashMap<String, ActiveRule>,
    pub settings: PointSettings,
    pub ladder: Option<Arc<ActiveLadder>>,
    /// Promotions a purchase may fall in (published or stopped, not long over): read with
    /// the rules and forgotten with them when one changes.
    pub promotions: Vec<patron_db::promotions::Active>,
}

impl TenantRules {
    /// The coupon templates a `trigger` event may give coupons of: those the rule in force
    /// names in `give_coupon("<id>")` (a form's coupon writes it so; an id a script computes
    /// is not seen) and the promotions'. A transaction that takes a template's lock before
    /// the rule runs locks these with it, in id order.
    pub fn coupon_templates(&self, trigger: &str) -> Vec<uuid::Uuid> {
        let mut out: Vec<uuid::Uuid> = self
            .rules
            .get(trigger)
            .map(|r| given_templates(&r.script))
            .unwrap_or_default();
        if trigger == "purchase" {
            out.extend(self.promotions.iter().filter_map(|p| p.coupon_template_id));
        }
        out.sort();
        out.dedup();
        out
    }

    /// The names of the ladder in force, by tier code (empty without a ladder).
    pub fn tier_names(&self) -> HashMap<String, patron_core::tiers::Names> {
        self.ladder
            .iter()
            .flat_map(|l| l.ladder.tiers.iter())
            .map(|t| (t.code.clone(), t.name.clone()))
            .collect()
    }
}

/// A member's tier as rules see it: the code ("" without a ladder) and its benefits.
#[derive(Debug, Clone, Default)]
pub struct MemberTier {
    pub code: String,
    pub benefits: Benefits,
}

impl MemberTier {
    /// The member's tier under the ladder in force (the first tier without a standing).
    pub async fn of(
        tx: &mut TenantTx,
        rules: &TenantRules,
        member_id: uuid::Uuid,
    ) -> Result<Self, DbError> {
        let Some(l) = &rules.ladder else {
            return Ok(Self::default());
        };
        let row = tiers::standing(tx, member_id, false).await?;
        Ok(Self::from_code(
            &l.ladder,
            row.as_ref().map(|r| r.tier.as_str()),
        ))
    }

    pub fn from_code(ladder: &Ladder, code: Option<&str>) -> Self {
        let t = ladder.tier(code);
        Self {
            code: t.code.clone(),
            benefits: t.benefits.clone(),
        }
    }
}

/// Cheap to clone; clones share the cache and the pool.
#[derive(Clone)]
pub struct RuleEngine {
    pool: Option<Arc<dyn RuleRunner>>,
    cache: Cache<TenantId, Arc<TenantRules>>,
    /// Bumped by every invalidation: a load that overlapped one is not cached.
    generation: Arc<AtomicU64>,
}

impl RuleEngine {
    /// An engine that runs rules through `runner` (none: every rule answers `Unavailable`).
    pub fn new(pool: Option<Arc<dyn RuleRunner>>) -> Self {
        Self {
            pool,
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The runner, for use cases that run a draft (simulation, compile checks).
    pub fn runner(&self) -> Option<&dyn RuleRunner> {
        self.pool.as_deref()
    }

    /// The tenant's rules in force and settings, read through `tx` when not cached.
    pub async fn tenant(&self, tx: &mut TenantTx) -> Result<Arc<TenantRules>, DbError> {
        let id = TenantId::new(tx.tenant_id());
        if let Some(t) = self.cache.get(&id).await {
            return Ok(t);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let loaded = Arc::new(TenantRules {
            rules: rules::active(tx)
                .await?
                .into_iter()
                .map(|a| {
                    let rule = ActiveRule::new(a.version, &a.script, a.template);
                    (a.trigger, rule)
                })
                .collect(),
            settings: points::settings(tx).await?,
            ladder: match tiers::active(tx).await? {
                Some(v) => match serde_json::from_value::<Ladder>(v.ladder) {
                    Ok(ladder) => Some(Arc::new(ActiveLadder {
                        version: v.version,
                        ladder,
                    })),
                    Err(e) => {
                        tracing::error!(version = v.version, error = %e, "a stored tier ladder is unreadable");
                        None
                    }
                },
                None => None,
            },
            promotions: patron_db::promotions::active(tx).await?,
        });
        if self.generation.load(Ordering::SeqCst) == generation {
            self.cache.insert(id, loaded.clone()).await;
        }
        Ok(loaded)
    }

    /// Drops a tenant's cached rules and settings (after a publish, rollback or settings
    /// change, here or on another replica).
    pub async fn forget(&self, tenant: TenantId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.cache.invalidate(&tenant).await;
    }

    /// Runs a rule in force for one event: natively when it was made from a form and native
    /// evaluation answers (the same outcome as the sandbox's, without the round trip), else
    /// in the sandbox.
    pub async fn eval(
        &self,
        tenant: i64,
        rule: &ActiveRule,
        event: &Value,
        member: &Value,
    ) -> Result<Outcome, RuleError> {
        if let Some(outcome) = rule
            .template
            .as_deref()
            .and_then(|t| t.evaluate(event, member))
        {
            return Ok(outcome);
        }
        let pool = self.pool.as_ref().ok_or_else(unavailable)?;
        let key = RuleKey {
            tenant,
            version: i64::from(rule.version),
        };
        pool.eval(key, &rule.script, event, member).await
    }

    /// Compiles a ladder's tier script (`version` is the ladder's; drafts use a negative
    /// one). Tier scripts are cached apart from point rules, so the numbers may repeat.
    pub async fn compile_tier(
        &self,
        tenant: i64,
        version: i64,
        script: &str,
    ) -> Result<(), RuleError> {
        let pool = self.pool.as_ref().ok_or_else(unavailable)?;
        pool.compile_tier(RuleKey { tenant, version }, script).await
    }

    /// Runs a ladder's tier script for one member: the tier code it returns.
    pub async fn decide_tier(
        &self,
        tenant: i64,
        version: i64,
        script: &str,
        case: &TierCase,
    ) -> Result<String, RuleError> {
        let pool = self.pool.as_ref().ok_or_else(unavailable)?;
        pool.eval_tier(
            RuleKey { tenant, version },
            script,
            &case.member,
            &case.metrics,
        )
        .await
    }

    /// Runs a ladder's tier script for many members.
    pub async fn decide_tiers(
        &self,
        tenant: i64,
        version: i64,
        script: &str,
        cases: &[TierCase],
    ) -> Result<Vec<Result<String, RuleError>>, RuleError> {
        let pool = self.pool.as_ref().ok_or_else(unavailable)?;
        pool.eval_tier_batch(RuleKey { tenant, version }, script, cases)
            .await
    }

    /// Follows other replicas' publishes (LISTEN), dropping cached rules.
    pub async fn follow_changes(self, db: patron_db::Db) {
        loop {
            match db.listen(rules::RULES_CHANNEL).await {
                Ok(mut listener) => {
                    self.generation.fetch_add(1, Ordering::SeqCst);
                    self.cache.invalidate_all();
                    loop {
                        match listener.recv().await {
                            Ok(n) => {
                                if let Ok(id) = n.payload().parse::<i64>() {
                                    self.forget(TenantId::new(id)).await;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "rule listener lost; reconnecting");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot listen for rule changes; retrying"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}

/// The sandbox could not answer: a 503 the caller may retry.
pub fn unavailable_error(e: &RuleError) -> crate::AppError {
    crate::AppError::unavailable(
        "sandbox_unavailable",
        format!(
            "the rule sandbox could not answer ({}); try again",
            e.message
        ),
    )
}

/// A script that does not compile, blamed on `field` with its position.
pub fn compile_problem(f: &RuleFailure, field: &str) -> crate::AppError {
    let at = match (f.line, f.column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    };
    crate::AppError::field(
        field,
        patron_core::Issue::new(
            patron_core::FieldCode::DoesNotCompile,
            format!("does not compile{at}: {}", f.message),
        )
        .with("message", f.message.as_str())
        .with("line", f.line),
    )
}

pub fn unavailable() -> RuleError {
    RuleError::new(
        RuleErrorKind::Unavailable,
        "the rule sandbox is not running on this server",
    )
}

/// `event.time` for an instant, in the business's time zone.
pub fn event_time(at: DateTime<Utc>, zone: Zone) -> Value {
    let local = zone.local(at);
    json!({
        "iso": local.to_rfc3339(),
        "year": local.year(),
        "month": local.month(),
        "day": local.day(),
        "hour": local.hour(),
        "weekday": local.weekday().number_from_monday(),
    })
}

/// `member` as a rule sees it.
pub fn member_input(m: &Member, a: &Account, tier: &MemberTier, today: chrono::NaiveDate) -> Value {
    json!({
        "id": m.id.to_string(),
        "tier": tier.code,
        "fields": m.custom,
        "join_date": m.join_date.to_string(),
        "birthday": m.birthday.map(|b| b.to_string()).unwrap_or_default(),
        "totals": {
            "spend": a.spend_total,
            "visits": a.visits,
            "points_earned": a.earned_total,
            "points_today": a.points_on(today),
        },
        "benefits": {
            "multiplier": tier.benefits.multiplier,
            "discount_percent": tier.benefits.discount_percent,
            "birthday_gift_points": tier.benefits.birthday_gift_points,
        },
    })
}

/// A rule failure as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleFailure {
    /// `compile`, `runtime`, `limit`, `bad_input`, `timeout`, `crashed`, `busy`,
    /// `unavailable`, ...
    pub kind: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// For `limit`: which one.
    pub limit: Option<String>,
}

impl From<&RuleError> for RuleFailure {
    fn from(e: &RuleError) -> Self {
        Self {
            kind: serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into()),
            message: e.message.clone(),
            line: e.line,
            column: e.column,
            limit: e.limit.clone(),
        }
    }
}

/// One reason for points, as shown on a receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PointReason {
    pub points: i64,
    /// The words (English for a reason the system wrote).
    pub reason: String,
    /// The purchase line (from 0) it is for.
    pub line: Option<u32>,
    /// For a reason the system wrote (a template's default): its code and values, said in
    /// the reader's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_params: Option<serde_json::Value>,
}

impl PointReason {
    pub fn new(points: i64, said: Said, line: Option<u32>) -> Self {
        Self {
            points,
            reason: said.text,
            line,
            reason_code: said.code.map(str::to_owned),
            reason_params: said.params,
        }
    }

    /// The reason as the ledger keeps it.
    pub fn said(&self) -> Said {
        match self.reason_code.as_deref().and_then(|c| {
            patron_core::reasons::Reason::CODES
                .iter()
                .find(|k| **k == c)
        }) {
            Some(code) => Said {
                text: self.reason.clone(),
                code: Some(code),
                params: self.reason_params.clone(),
            },
            None => Said::words(self.reason.clone()),
        }
    }
}

/// Points and reasons from a rule's outcome; a reason a template wrote as a code reads back
/// as its code, values and English words.
pub fn reasons_of(o: &Outcome) -> Vec<PointReason> {
    o.reasons
        .iter()
        .map(|r| PointReason::new(r.points, Said::from_rule(&r.reason), r.line))
        .collect()
}

/// The template ids written as literals in a script's `give_coupon("...")` calls.
fn given_templates(script: &str) -> Vec<uuid::Uuid> {
    script
        .split("give_coupon(")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start().strip_prefix('"')?;
            rest.split('"').next()?.trim().parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod coupon_template_tests {
    use super::given_templates;

    #[test]
    fn the_templates_a_script_gives_are_read_from_its_literals() {
        let script = "award(1, \"x\");\ngive_coupon(\"0190f5a2-5b1c-7d3e-8f00-1234567890ab\");\n\
                      if event.amount > 1 { give_coupon( \"0190f5a2-5b1c-7d3e-8f00-1234567890ac\" ); }\n\
                      give_coupon(id_from_somewhere);";
        let ids: Vec<String> = given_templates(script)
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            ids,
            [
                "0190f5a2-5b1c-7d3e-8f00-1234567890ab",
                "0190f5a2-5b1c-7d3e-8f00-1234567890ac"
            ]
        );
        assert!(given_templates("award(1, \"no coupons\");").is_empty());
    }
}

#[cfg(test)]
mod native_tests {
    use super::*;

    fn form() -> Value {
        json!({ "kind": "purchase", "base": { "points": 1, "per_amount": 100 },
                "first_purchase_bonus": { "points": 50 } })
    }

    fn script() -> String {
        Template::parse(form()).expect("valid").to_script()
    }

    fn purchase(lines: usize) -> Value {
        let items: Vec<Value> = (0..lines)
            .map(|_| json!({"sku": "A", "quantity": 1, "unit_price": 100}))
            .collect();
        json!({"kind": "purchase", "amount": 12_345, "items": items})
    }

    #[test]
    fn a_rule_keeps_its_form_only_while_the_script_is_the_forms_own() {
        let edited = format!("{}\naward(1, \"extra\");", script());

        assert!(ActiveRule::new(1, &script(), Some(form()))
            .template
            .is_some());
        assert!(ActiveRule::new(1, &edited, Some(form())).template.is_none());
        assert!(ActiveRule::new(1, &script(), None).template.is_none());
        assert!(ActiveRule::new(1, &script(), Some(json!({"kind": "nope"})))
            .template
            .is_none());
    }

    #[tokio::test]
    async fn a_form_rule_is_evaluated_without_the_sandbox_and_falls_back_to_it_otherwise() {
        // No sandbox at all: only native evaluation can answer.
        let engine = RuleEngine::new(None);
        let rule = ActiveRule::new(3, &script(), Some(form()));
        let member = json!({"totals": {"visits": 0}});

        let native = engine.eval(1, &rule, &purchase(1), &member).await;
        let too_many_lines = engine
            .eval(
                1,
                &rule,
                &purchase(patron_core::rules::templates::MAX_NATIVE_LINES + 1),
                &member,
            )
            .await;

        assert_eq!(native.map(|o| o.points), Ok(123 + 50));
        assert_eq!(
            too_many_lines.map_err(|e| e.kind),
            Err(RuleErrorKind::Unavailable)
        );
    }
}
