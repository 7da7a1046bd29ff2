//! Tiers: the ladder a business designs (draft -> preview -> publish -> rollback), members'
//! standings and moves, pins, and the evaluations that move members: promotion inside the
//! transaction of the event that qualifies them, demotion and pin lapses in the scheduled
//! evaluation, and the background re-evaluation that follows a publish.

use crate::edge::auth::{Principal, TenantAuth};
use crate::edge::error::ApiError;
use crate::edge::gate::{export_read, needs_tiers};
use crate::edge::state::ApiState;
use crate::edge::views::RuleFailureView;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use patron_app::engine::{self, RuleFailure, TenantRules};
use patron_app::tiers::evaluation::{self, REEVALUATE_JOB};
use patron_core::access::Permission;
use patron_core::rules::RuleErrorKind;
use patron_core::tiers::{self as core_tiers, Ladder, Standing};
use patron_db::{members, points, tiers, DbError, Tenant, TenantTx};
use poem::Body;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// The tier ladder, members' tiers and pins.
    Tiers,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierNames", deny_unknown_fields)]
pub struct NamesDoc {
    #[oai(rename = "zh-CN")]
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

fn thousand() -> i64 {
    1000
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierBenefits", deny_unknown_fields)]
pub struct BenefitsDoc {
    /// Points multiplier in thousandths (1500 = ×1.5), given to point rules as
    /// `member.benefits.multiplier`.
    #[oai(default = "thousand")]
    #[serde(default = "thousand")]
    pub multiplier: i64,
    /// Discount in percent, returned with each purchase response.
    #[oai(default)]
    #[serde(default)]
    pub discount_percent: i64,
    /// Points granted once a year on the member's birthday.
    #[oai(default)]
    #[serde(default)]
    pub birthday_gift_points: i64,
    /// Perks shown to members.
    #[oai(default)]
    #[serde(default)]
    pub perks: Vec<NamesDoc>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierDefinition", deny_unknown_fields)]
pub struct TierDoc {
    /// Stable code (`gold`): lowercase letters, digits and `_`.
    pub code: String,
    pub name: NamesDoc,
    /// `#rrggbb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The metric's value that enters the tier (0 for the first).
    pub threshold: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benefits: Option<BenefitsDoc>,
}

#[derive(Debug, Clone, Copy, Enum, Serialize, Deserialize, PartialEq, Eq)]
#[oai(rename = "TierMetric", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MetricDoc {
    PointsEarned,
    Spend,
    Visits,
}

#[derive(Debug, Clone, Copy, Enum, Serialize, Deserialize, PartialEq, Eq)]
#[oai(rename = "TierWindowKind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum WindowKindDoc {
    Rolling,
    CalendarYear,
    SinceJoining,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierWindow", deny_unknown_fields)]
pub struct WindowDoc {
    pub kind: WindowKindDoc,
    /// For `rolling`: the number of days.
    #[oai(default)]
    #[serde(default)]
    pub days: u32,
}

#[derive(Debug, Clone, Copy, Enum, Serialize, Deserialize, PartialEq, Eq)]
#[oai(rename = "TierDemotion", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DemotionDoc {
    OneRung,
    Direct,
}

/// A tier ladder. See docs/tiers.md.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
#[oai(rename = "TierLadder", deny_unknown_fields)]
pub struct LadderDoc {
    pub metric: MetricDoc,
    pub window: WindowDoc,
    /// Days a member keeps a tier after falling below it.
    #[oai(default)]
    #[serde(default)]
    pub retention_days: u32,
    pub demotion: DemotionDoc,
    /// From the first (everyone's) tier up.
    pub tiers: Vec<TierDoc>,
    /// Optional Rhai script that decides the tier instead of the thresholds: it sees
    /// `member` (as point rules do) and `metrics` (`points_earned`, `spend`, `visits` in the
    /// window) and returns a tier code. Retention, demotion and pins still apply.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
}

impl LadderDoc {
    /// The ladder, checked; every bad field named.
    pub fn parse(&self, prefix: &str) -> Result<Ladder, ApiError> {
        let ladder: Ladder = serde_json::to_value(self)
            .and_then(serde_json::from_value)
            .map_err(|e| ApiError::invalid_field(prefix.trim_end_matches('.'), e.to_string()))?;
        ladder.validate().map_err(|errors| {
            ApiError::invalid(
                errors
                    .into_iter()
                    .map(|mut e| {
                        e.field = format!("{prefix}{}", e.field);
                        e
                    })
                    .collect(),
            )
        })?;
        Ok(ladder)
    }

    pub fn of(ladder: &Ladder) -> Self {
        serde_json::from_value(serde_json::to_value(ladder).expect("serialisable"))
            .expect("same shape")
    }
}

fn stored(value: serde_json::Value) -> Result<Ladder, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::internal(&e))
}

#[derive(Debug, Object)]
pub struct LadderVersionView {
    pub version: i32,
    pub ladder: LadderDoc,
    pub note: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    /// True for the version in force.
    pub active: bool,
}

#[derive(Debug, Object)]
pub struct LadderDraftView {
    pub ladder: LadderDoc,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct TierCount {
    pub code: String,
    pub name: NamesDoc,
    pub color: String,
    pub members: i64,
}

/// The ladder in force, the draft, and how many members stand on each tier now.
#[derive(Debug, Object)]
pub struct TiersOverview {
    pub active: Option<LadderVersionView>,
    pub draft: Option<LadderDraftView>,
    pub counts: Vec<TierCount>,
    /// The latest re-evaluation of every member (after a publish or rollback).
    pub run: Option<TierRunView>,
    /// Members the script in force failed for, newest first (at most 50), and how many
    /// there are in all.
    pub script_errors: Vec<TierScriptErrorView>,
    pub script_errors_total: i64,
}

#[derive(Debug, Object)]
pub struct TierRunView {
    pub id: Uuid,
    pub version: i32,
    pub total: i64,
    pub done: i64,
    pub moved: i64,
    /// `running`, `done` or `superseded` (a later publish started another run).
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Members the ladder's script failed for; their tier was left as it was (see
    /// `script_errors` in the overview).
    pub errors: i64,
}

fn run_view(r: tiers::Run) -> TierRunView {
    TierRunView {
        id: r.id,
        version: r.version,
        total: r.total,
        done: r.done,
        moved: r.moved,
        status: r.status,
        started_at: r.started_at,
        finished_at: r.finished_at,
        errors: r.errors,
    }
}

/// A member the ladder's script failed for (the latest failure; their tier was left as it
/// was).
#[derive(Debug, Object)]
pub struct TierScriptErrorView {
    pub member_id: Uuid,
    pub member_name: String,
    pub ladder_version: i32,
    /// `event` (a purchase, check-in, ...), `evaluation` (the scheduled one) or `run` (the
    /// re-evaluation after a publish).
    pub during: String,
    pub error: RuleFailureView,
    /// Failures for this member under this version.
    pub failures: i64,
    pub at: DateTime<Utc>,
}

fn script_error_view(e: tiers::ScriptError) -> TierScriptErrorView {
    TierScriptErrorView {
        member_id: e.member_id,
        member_name: e.member_name,
        ladder_version: e.ladder_version,
        during: e.during,
        error: RuleFailureView {
            kind: e.kind,
            message: e.message,
            line: e.line.map(|l| l as u32),
            column: e.col.map(|c| c as u32),
            limit: e.lim,
        },
        failures: e.failures,
        at: e.at,
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TierPreviewInput {
    /// The ladder to preview; the saved draft when absent.
    pub ladder: Option<LadderDoc>,
}

#[derive(Debug, Object)]
pub struct TierPreviewMove {
    pub member_id: Uuid,
    pub name: String,
    pub from: String,
    pub to: String,
    pub metric: i64,
}

/// Members per tier now and under the draft, and who would move. Nothing is written.
#[derive(Debug, Object)]
pub struct TierPreview {
    pub total: i64,
    pub now: Vec<TierCount>,
    pub draft: Vec<TierCount>,
    /// How many members would change tier.
    pub moving: i64,
    /// The first 100 of them.
    pub moves: Vec<TierPreviewMove>,
    /// Members the draft's script failed for (counted on their current tier, which a
    /// publish would leave them on).
    pub errors: i64,
    /// The first 20 of them, with why.
    pub error_samples: Vec<TierPreviewError>,
}

#[derive(Debug, Object)]
pub struct TierPreviewError {
    pub member_id: Uuid,
    pub name: String,
    pub error: RuleFailureView,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TierScriptInput {
    /// A tier script (Rhai).
    #[oai(validator(max_length = 65536))]
    pub script: String,
}

/// Whether a tier script compiles, and where it does not.
#[derive(Debug, Object)]
pub struct TierScriptCheck {
    pub ok: bool,
    /// The compile error, with line and column.
    pub error: Option<RuleFailureView>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct LadderPublishInput {
    /// The ladder to publish; the saved draft when absent.
    pub ladder: Option<LadderDoc>,
    #[oai(default)]
    pub note: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct LadderRollbackInput {
    pub version: i32,
}

#[derive(Debug, Object)]
pub struct LadderPublished {
    pub version: LadderVersionView,
    /// The re-evaluation of every member that the publish started.
    pub run: TierRunView,
}

#[derive(Debug, Object)]
pub struct TierView {
    pub code: String,
    pub name: NamesDoc,
    pub color: String,
    pub threshold: i64,
    pub benefits: BenefitsDoc,
}

fn tier_view(t: &core_tiers::Tier) -> TierView {
    let doc = LadderDoc::of(&Ladder {
        tiers: vec![t.clone()],
        ..Ladder::default()
    });
    let d = doc.tiers.into_iter().next().expect("one tier");
    TierView {
        code: d.code,
        name: d.name,
        color: d.color.unwrap_or_default(),
        threshold: d.threshold,
        benefits: d.benefits.expect("serialised"),
    }
}

#[derive(Debug, Object)]
pub struct TierPinView {
    pub tier: String,
    pub until: DateTime<Utc>,
    pub reason: String,
    pub by: String,
}

#[derive(Debug, Object)]
pub struct NextTier {
    pub code: String,
    pub name: NamesDoc,
    pub threshold: i64,
    /// How much more of the metric it takes.
    pub remaining: i64,
}

/// Where the member stands against the ladder.
#[derive(Debug, Object)]
pub struct TierProgress {
    /// `points_earned`, `spend` (minor units of `currency`) or `visits`.
    pub metric: MetricDoc,
    /// The business's currency (ISO 4217), for spend.
    pub currency: String,
    /// The member's value of the metric in the current window.
    pub value: i64,
    pub window: WindowDoc,
    pub next: Option<NextTier>,
    /// The last day the window counts to (calendar year), when it has one: "spend 320 more
    /// by 2027-12-31".
    pub by: Option<NaiveDate>,
    /// What keeps the current tier: its threshold, and how far below it the member is.
    pub keep_threshold: i64,
    pub short_of_current: i64,
}

#[derive(Debug, Object)]
pub struct TierMoveView {
    pub id: i64,
    pub from: String,
    pub to: String,
    /// `promotion`, `demotion`, `pin`, `unpin`, `pin_lapsed` or `ladder` (a publish).
    pub kind: String,
    pub metric: Option<i64>,
    pub threshold: Option<i64>,
    pub ladder_version: Option<i32>,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

fn move_view(m: tiers::Move) -> TierMoveView {
    TierMoveView {
        id: m.id,
        from: m.from_tier,
        to: m.to_tier,
        kind: m.kind,
        metric: m.metric,
        threshold: m.threshold,
        ladder_version: m.ladder_version,
        reason: m.reason,
        actor: m.actor,
        at: m.at,
    }
}

/// A member's tier, what it gives, progress, retention, pin and history.
#[derive(Debug, Object)]
pub struct MemberTierView {
    /// None while the business has no ladder.
    pub ladder_version: Option<i32>,
    pub tier: Option<TierView>,
    pub since: Option<DateTime<Utc>>,
    pub pin: Option<TierPinView>,
    /// Below the tier's threshold since (the scheduled evaluation saw it first then).
    pub below_since: Option<DateTime<Utc>>,
    /// When the tier is lost unless the member qualifies again.
    pub retained_until: Option<DateTime<Utc>>,
    pub progress: Option<TierProgress>,
    pub history: Vec<TierMoveView>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TierPinInput {
    /// The tier code to hold.
    pub tier: String,
    /// Until when (then the ladder's rules apply again).
    pub until: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct TierUnpinInput {
    pub reason: String,
}

pub struct TiersApi {
    pub state: ApiState,
}

#[derive(ApiResponse)]
enum TierHistoryCsv {
    /// Returned with the tier history as CSV (UTF-8 with a byte order mark, for Excel).
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

#[derive(ApiResponse)]
enum TierHistoryXlsx {
    /// Returned with the tier history as an Excel workbook.
    #[oai(
        status = 200,
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

/// The columns of a tier history export.
const HISTORY_COLUMNS: [&str; 13] = [
    "at",
    "member_id",
    "card_number",
    "member_name",
    "from",
    "to",
    "kind",
    "metric",
    "threshold",
    "ladder_version",
    "reason",
    "actor",
    "id",
];

fn history_row(m: &tiers::ExportedMove, tz: chrono_tz::Tz) -> Vec<String> {
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        m.at.with_timezone(&tz).to_rfc3339(),
        m.member_id.to_string(),
        m.card_number.clone().unwrap_or_default(),
        m.member_name.clone(),
        m.from_tier.clone(),
        m.to_tier.clone(),
        m.kind.clone(),
        opt(m.metric),
        opt(m.threshold),
        opt(m.ladder_version.map(i64::from)),
        m.reason.clone(),
        m.actor.clone(),
        m.id.to_string(),
    ]
}

/// Pages of the moves an export takes, read in one transaction.
struct HistoryCursor {
    tx: Option<TenantTx>,
    filter: tiers::HistoryFilter,
    after: Option<(DateTime<Utc>, i64)>,
    tz: chrono_tz::Tz,
    header: bool,
}

impl HistoryCursor {
    /// The next page as rows; `None` when done (the transaction is then closed).
    async fn next_page(&mut self) -> Result<Option<Vec<Vec<String>>>, DbError> {
        let Some(tx) = self.tx.as_mut() else {
            return Ok(None);
        };
        let moves = tiers::history_page(tx, &self.filter, self.after, 1000).await?;
        let Some(last) = moves.last() else {
            if let Some(tx) = self.tx.take() {
                tx.commit().await?;
            }
            return Ok(None);
        };
        self.after = Some((last.at, last.id));
        Ok(Some(
            moves.iter().map(|m| history_row(m, self.tz)).collect(),
        ))
    }
}

fn counts_view(ladder: &Ladder, counts: &HashMap<String, i64>) -> Vec<TierCount> {
    ladder
        .tiers
        .iter()
        .map(|t| {
            let v = tier_view(t);
            TierCount {
                members: counts.get(&t.code).copied().unwrap_or(0),
                code: v.code,
                name: v.name,
                color: v.color,
            }
        })
        .collect()
}

/// Current counts under the ladder in force: members without a standing (or with a code
/// the ladder lost) on the first tier.
async fn current_counts(tx: &mut TenantTx, ladder: &Ladder) -> Result<Vec<TierCount>, DbError> {
    let stored = tiers::counts(tx).await?;
    let total = tiers::active_members(tx).await?;
    let mut by_code: HashMap<String, i64> = HashMap::new();
    let mut placed = 0;
    for (code, n) in stored {
        if ladder.tiers.iter().any(|t| t.code == code) {
            *by_code.entry(code).or_default() += n;
            placed += n;
        }
    }
    *by_code.entry(ladder.tiers[0].code.clone()).or_default() += total - placed;
    Ok(counts_view(ladder, &by_code))
}

async fn audit(
    tx: &mut TenantTx,
    me: &Principal,
    action: &str,
    version: i32,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    patron_db::audit::record(
        tx,
        at,
        &me.subject(),
        action,
        "tiers",
        json!({ "version": version }),
    )
    .await
}

/// The member's tier view under `rules`' ladder.
pub async fn member_tier_view(
    tx: &mut TenantTx,
    rules: &TenantRules,
    tenant: &Tenant,
    member_id: Uuid,
    now: DateTime<Utc>,
    history: bool,
) -> Result<MemberTierView, DbError> {
    let moves = if history {
        tiers::history(tx, member_id, 100)
            .await?
            .into_iter()
            .map(move_view)
            .collect()
    } else {
        Vec::new()
    };
    let Some(active) = &rules.ladder else {
        return Ok(MemberTierView {
            ladder_version: None,
            tier: None,
            since: None,
            pin: None,
            below_since: None,
            retained_until: None,
            progress: None,
            history: moves,
        });
    };
    let ladder = &active.ladder;
    let row = tiers::standing(tx, member_id, false).await?;
    let standing = row.as_ref().map(|r| r.standing()).unwrap_or_default();
    let metric = evaluation::metrics_of(tx, ladder, &[member_id], tenant, now)
        .await?
        .get(&member_id)
        .copied()
        .unwrap_or(0);
    let tz = tenant.settings.zone().tz();
    let p = core_tiers::progress(ladder, &standing, metric, now, tz);
    let doc = LadderDoc::of(ladder);
    let below_since = row.as_ref().and_then(|r| r.below_since);
    Ok(MemberTierView {
        ladder_version: Some(active.version),
        tier: Some(tier_view(&ladder.tiers[p.current])),
        since: row.as_ref().map(|r| r.since),
        pin: row.as_ref().and_then(|r| {
            Some(TierPinView {
                tier: r.pin_tier.clone()?,
                until: r.pinned_until?,
                reason: r.pin_reason.clone().unwrap_or_default(),
                by: r.pinned_by.clone().unwrap_or_default(),
            })
        }),
        below_since,
        retained_until: below_since.map(|b| b + Duration::days(i64::from(ladder.retention_days))),
        progress: Some(TierProgress {
            metric: doc.metric,
            currency: tenant.settings.currency.clone(),
            value: metric,
            window: doc.window,
            next: p.next.map(|(i, remaining)| {
                let v = tier_view(&ladder.tiers[i]);
                NextTier {
                    code: v.code,
                    name: v.name,
                    threshold: v.threshold,
                    remaining,
                }
            }),
            by: p.by,
            keep_threshold: ladder.tiers[p.current].threshold,
            short_of_current: p.short_of_current,
        }),
        history: moves,
    })
}

/// The ladder a request gives (checked, errors under `ladder.`), else the saved draft.
async fn given_or_draft(tx: &mut TenantTx, given: Option<&LadderDoc>) -> Result<Ladder, ApiError> {
    match given {
        Some(l) => l.parse("ladder."),
        None => match tiers::draft(tx).await? {
            Some(d) => stored(d.ladder),
            None => Err(ApiError::invalid_field(
                "ladder",
                "give a ladder: there is no saved draft",
            )),
        },
    }
}

/// Where a ladder's script is named in errors: `ladder.script` when the request gave the
/// ladder, `script` for the saved draft.
fn script_field(given: bool) -> &'static str {
    if given {
        "ladder.script"
    } else {
        "script"
    }
}

fn no_ladder() -> ApiError {
    ApiError::conflict(
        "no_ladder",
        None,
        "the business has not published a tier ladder yet",
    )
}

fn check_reason(reason: &str) -> Result<String, ApiError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 {
        return Err(ApiError::invalid_field("reason", "1 to 500 characters"));
    }
    Ok(r.to_owned())
}

impl TiersApi {
    /// Compiles a ladder's script, if it has one: `Ok`, or a 422 naming `field` with the line
    /// and column.
    async fn check_script(
        &self,
        tenant: i64,
        ladder: &Ladder,
        field: &str,
    ) -> Result<(), ApiError> {
        match &ladder.script {
            None => Ok(()),
            Some(script) => match self.compile(tenant, script).await? {
                None => Ok(()),
                Some(f) => Err(ApiError::from(engine::compile_problem(&f, field))),
            },
        }
    }

    /// Compiles a tier script: `None`, or the compile error with line and column.
    async fn compile(&self, tenant: i64, script: &str) -> Result<Option<RuleFailure>, ApiError> {
        let compiled = self
            .state
            .rules
            .compile_tier(tenant, evaluation::DRAFT_VERSION, script)
            .await;
        match compiled {
            Ok(()) => Ok(None),
            Err(e) if matches!(e.kind, RuleErrorKind::Compile | RuleErrorKind::Limit) => {
                Ok(Some(RuleFailure::from(&e)))
            }
            Err(e) => Err(ApiError::from(engine::unavailable_error(&e))),
        }
    }

    fn version_view(
        v: tiers::LadderVersion,
        active: Option<i32>,
    ) -> Result<LadderVersionView, ApiError> {
        Ok(LadderVersionView {
            active: active == Some(v.version),
            ladder: LadderDoc::of(&stored(v.ladder)?),
            version: v.version,
            note: v.note,
            published_by: v.published_by,
            published_at: v.published_at,
        })
    }

    /// The export's transaction and filter: one member or all, moves from the local day
    /// `from` through the local day `to` (both included).
    async fn history_cursor(
        &self,
        auth: &TenantAuth,
        member_id: Option<Uuid>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<HistoryCursor, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(auth, Some(Permission::ReportsRead))
            .await?;
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                return Err(ApiError::invalid_field("to", "must not be before from"));
            }
        }
        if let Some(id) = member_id {
            members::get(&mut tx, id).await.map_err(|e| match e {
                DbError::NotFound => {
                    ApiError::invalid_field("member_id", "there is no such member")
                }
                other => other.into(),
            })?;
        }
        let tz = me.tenant.settings.zone().tz();
        let day_start = |d: NaiveDate| patron_core::points::start_of_day(tz, d);
        let filter = tiers::HistoryFilter {
            member_id,
            from: from.map(day_start),
            until: to.and_then(|d| d.succ_opt()).map(day_start),
        };
        patron_db::audit::record(
            &mut tx,
            self.state.now(),
            &me.subject(),
            "tiers.history_exported",
            "tiers",
            json!({ "member_id": member_id, "from": from, "to": to }),
        )
        .await?;
        Ok(HistoryCursor {
            tx: Some(tx),
            filter,
            after: None,
            tz,
            header: true,
        })
    }

    /// Starts a re-evaluation of everyone under `version` (after the commit, the job).
    async fn start_run(
        &self,
        tx: &mut TenantTx,
        version: i32,
        now: DateTime<Utc>,
    ) -> Result<tiers::Run, ApiError> {
        let total = tiers::active_members(tx).await?;
        Ok(tiers::start_run(tx, version, total, now).await?)
    }

    async fn enqueue(&self, me: &Principal, run: &tiers::Run) {
        let r = patron_db::jobs::enqueue(
            &self.state.db,
            REEVALUATE_JOB,
            Some(me.tenant.id),
            json!({ "run": run.id }),
            self.state.now(),
            Some(&format!("{REEVALUATE_JOB}:{}", run.id)),
        )
        .await;
        // The hourly evaluation resumes a run whose job could not be queued.
        if let Err(e) = r {
            tracing::warn!(error = %e, "could not queue the tier re-evaluation");
        }
    }
}

#[OpenApi(tag = "Tag::Tiers")]
impl TiersApi {
    /// The ladder in force, the draft, members per tier, and the latest re-evaluation.
    #[oai(path = "/tiers", method = "get", operation_id = "getTiers")]
    async fn overview(&self, auth: TenantAuth) -> Result<Json<TiersOverview>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let active = tiers::active(&mut tx).await?;
        let draft = tiers::draft(&mut tx).await?;
        let run = tiers::latest_run(&mut tx).await?;
        let (script_errors, script_errors_total) = tiers::script_errors(&mut tx, 50).await?;
        let (active, counts) = match active {
            Some(v) => {
                let ladder = stored(v.ladder.clone())?;
                let counts = current_counts(&mut tx, &ladder).await?;
                let version = v.version;
                (Some(Self::version_view(v, Some(version))?), counts)
            }
            None => (None, Vec::new()),
        };
        let draft = match draft {
            Some(d) => Some(LadderDraftView {
                ladder: serde_json::from_value(d.ladder).map_err(|e| ApiError::internal(&e))?,
                updated_by: d.updated_by,
                updated_at: d.updated_at,
            }),
            None => None,
        };
        tx.commit().await?;
        Ok(Json(TiersOverview {
            active,
            draft,
            counts,
            run: run.map(run_view),
            script_errors: script_errors.into_iter().map(script_error_view).collect(),
            script_errors_total,
        }))
    }

    /// Save the draft ladder (checked: every bad field is named).
    #[oai(
        path = "/tiers/draft",
        method = "put",
        operation_id = "saveTierDraft",
        transform = "needs_tiers"
    )]
    async fn save_draft(
        &self,
        auth: TenantAuth,
        req: Json<LadderDoc>,
    ) -> Result<Json<LadderDraftView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::TiersWrite))
            .await?;
        let ladder = req.0.parse("")?;
        self.check_script(me.tenant.id, &ladder, "script").await?;
        let value = serde_json::to_value(&req.0).map_err(|e| ApiError::internal(&e))?;
        let d = tiers::save_draft(&mut tx, &value, &me.subject(), self.state.now()).await?;
        tx.commit().await?;
        Ok(Json(LadderDraftView {
            ladder: req.0,
            updated_by: d.updated_by,
            updated_at: d.updated_at,
        }))
    }

    /// Compile a tier script: `ok`, or the error with line and column (for the editor).
    #[oai(
        path = "/tiers/script/check",
        method = "post",
        operation_id = "checkTierScript",
        transform = "needs_tiers"
    )]
    async fn check_script_endpoint(
        &self,
        auth: TenantAuth,
        req: Json<TierScriptInput>,
    ) -> Result<Json<TierScriptCheck>, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::TiersWrite))
            .await?;
        drop(tx);
        let error = self.compile(me.tenant.id, &req.0.script).await?;
        Ok(Json(TierScriptCheck {
            ok: error.is_none(),
            error: error.map(Into::into),
        }))
    }

    /// How many members would stand on each tier under a draft, compared with now, and who
    /// would move. Nothing is written.
    #[oai(
        path = "/tiers/preview",
        method = "post",
        operation_id = "previewTiers",
        transform = "needs_tiers"
    )]
    async fn preview(
        &self,
        auth: TenantAuth,
        req: Json<TierPreviewInput>,
    ) -> Result<Json<TierPreview>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::TiersWrite))
            .await?;
        let draft = given_or_draft(&mut tx, req.0.ladder.as_ref()).await?;
        let field = script_field(req.0.ladder.is_some());
        self.check_script(me.tenant.id, &draft, field).await?;
        let now = self.state.now();
        let current = tiers::active(&mut tx).await?;
        let current = match current {
            Some(v) => Some(stored(v.ladder)?),
            None => None,
        };
        let mut after = None;
        let (mut total, mut moving) = (0_i64, 0_i64);
        let mut draft_counts: HashMap<String, i64> = HashMap::new();
        let mut moves = Vec::new();
        let (mut errors, mut error_samples) = (0_i64, Vec::new());
        let engine = &self.state.rules;
        loop {
            let ids = tiers::member_page(&mut tx, after, 2000).await?;
            let Some(last) = ids.last().copied() else {
                break;
            };
            after = Some(last);
            let rows = tiers::standings(&mut tx, &ids).await?;
            let tenant = &me.tenant;
            let qualified = evaluation::qualify(
                &mut tx,
                engine,
                tenant,
                &draft,
                evaluation::DRAFT_VERSION,
                &ids,
                &rows,
                now,
            )
            .await?;
            for id in &ids {
                total += 1;
                let row = rows.get(id);
                let standing = row.map(|r| r.standing()).unwrap_or_default();
                let (metric, to) = match qualified.get(id).map(|x| (x.metric, &x.q)) {
                    Some((metric, Ok(q))) => (
                        metric,
                        &draft.tiers[core_tiers::applied(&draft, &standing, *q, now)].code,
                    ),
                    other => {
                        // As a publish would: the member stays where they are.
                        errors += 1;
                        if let Some((_, Err(f))) = other {
                            if error_samples.len() < 20 {
                                error_samples.push((*id, f.clone()));
                            }
                        }
                        let metric = other.map_or(0, |o| o.0);
                        (metric, &draft.tier(row.map(|r| r.tier.as_str())).code)
                    }
                };
                *draft_counts.entry(to.clone()).or_default() += 1;
                let from = match &current {
                    Some(l) => l.tier(standing.tier.as_deref()).code.clone(),
                    None => String::new(),
                };
                if &from != to {
                    moving += 1;
                    if moves.len() < 100 {
                        moves.push((*id, from, to.clone(), metric));
                    }
                }
            }
        }
        let mut move_views = Vec::with_capacity(moves.len());
        for (id, from, to, metric) in moves {
            let m = members::get(&mut tx, id).await?;
            move_views.push(TierPreviewMove {
                member_id: id,
                name: m.name,
                from,
                to,
                metric,
            });
        }
        let mut samples = Vec::with_capacity(error_samples.len());
        for (id, error) in error_samples {
            let m = members::get(&mut tx, id).await?;
            samples.push(TierPreviewError {
                member_id: id,
                name: m.name,
                error: error.into(),
            });
        }
        let now_counts = match &current {
            Some(l) => current_counts(&mut tx, l).await?,
            None => Vec::new(),
        };
        // Read only: nothing to keep.
        drop(tx);
        Ok(Json(TierPreview {
            total,
            now: now_counts,
            draft: counts_view(&draft, &draft_counts),
            moving,
            moves: move_views,
            errors,
            error_samples: samples,
        }))
    }

    /// Publish a ladder (the draft unless one is given) as a new version and put it in force;
    /// every member is then re-evaluated in the background (see `run`).
    #[oai(
        path = "/tiers/publish",
        method = "post",
        operation_id = "publishTiers",
        transform = "needs_tiers"
    )]
    async fn publish(
        &self,
        auth: TenantAuth,
        req: Json<LadderPublishInput>,
    ) -> Result<Json<LadderPublished>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::TiersWrite))
            .await?;
        if req.0.note.chars().count() > 500 {
            return Err(ApiError::invalid_field("note", "at most 500 characters"));
        }
        let ladder = given_or_draft(&mut tx, req.0.ladder.as_ref()).await?;
        let field = script_field(req.0.ladder.is_some());
        self.check_script(me.tenant.id, &ladder, field).await?;
        let now = self.state.now();
        let value = serde_json::to_value(&ladder).map_err(|e| ApiError::internal(&e))?;
        let v = tiers::publish(&mut tx, &value, &req.0.note, &me.subject(), now).await?;
        tiers::clear_script_errors(&mut tx).await?;
        let run = self.start_run(&mut tx, v.version, now).await?;
        audit(&mut tx, &me, "tiers.publish", v.version, now).await?;
        tx.commit().await?;
        self.state.rules.forget(me.tenant.id).await;
        self.enqueue(&me, &run).await;
        let version = v.version;
        Ok(Json(LadderPublished {
            version: Self::version_view(v, Some(version))?,
            run: run_view(run),
        }))
    }

    /// Export the tier history (every member's, or one member's) as CSV, streamed, oldest
    /// first; `from` and `to` are local days, both included.
    #[oai(
        path = "/tiers/history/export.csv",
        method = "get",
        operation_id = "exportTierHistoryCsv",
        transform = "export_read"
    )]
    async fn export_history_csv(
        &self,
        auth: TenantAuth,
        member_id: Query<Option<Uuid>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
    ) -> Result<TierHistoryCsv, ApiError> {
        let cursor = self
            .history_cursor(&auth, member_id.0, from.0, to.0)
            .await?;
        let stream = futures::stream::unfold(cursor, |mut c| async move {
            if c.header {
                c.header = false;
                let mut bytes = "\u{feff}".as_bytes().to_vec();
                bytes.extend(crate::edge::exports::csv_line(
                    HISTORY_COLUMNS.map(String::from).to_vec(),
                ));
                return Some((Ok::<Vec<u8>, std::io::Error>(bytes), c));
            }
            match c.next_page().await {
                Ok(Some(rows)) => {
                    let mut bytes = Vec::new();
                    for row in rows {
                        bytes.extend(crate::edge::exports::csv_line(row));
                    }
                    Some((Ok(bytes), c))
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "tier history export stopped");
                    c.tx = None;
                    Some((Err(std::io::Error::other("export failed")), c))
                }
            }
        });
        Ok(TierHistoryCsv::Ok(
            Binary(Body::from_bytes_stream(stream)),
            "attachment; filename=\"tier-history.csv\"".into(),
        ))
    }

    /// Export the tier history (every member's, or one member's) as an Excel workbook,
    /// written with bounded memory to a temporary file and sent from it; `from` and `to` are
    /// local days, both included.
    #[oai(
        path = "/tiers/history/export.xlsx",
        method = "get",
        operation_id = "exportTierHistoryXlsx",
        transform = "export_read"
    )]
    async fn export_history_xlsx(
        &self,
        auth: TenantAuth,
        member_id: Query<Option<Uuid>>,
        from: Query<Option<NaiveDate>>,
        to: Query<Option<NaiveDate>>,
    ) -> Result<TierHistoryXlsx, ApiError> {
        let mut cursor = self
            .history_cursor(&auth, member_id.0, from.0, to.0)
            .await?;
        // As the member export: pages go to a blocking writer in constant-memory mode, and
        // the workbook to an unnamed temporary file.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<String>>>(4);
        let writer = tokio::task::spawn_blocking(
            move || -> Result<std::fs::File, rust_xlsxwriter::XlsxError> {
                use std::io::Seek;
                let mut wb = rust_xlsxwriter::Workbook::new();
                let ws = wb.add_worksheet_with_constant_memory();
                for (c, h) in HISTORY_COLUMNS.iter().enumerate() {
                    ws.write_string(0, c as u16, *h)?;
                }
                let mut r = 1u32;
                while let Some(rows) = rx.blocking_recv() {
                    for row in rows {
                        for (c, v) in row.iter().enumerate() {
                            if !v.is_empty() {
                                ws.write_string(r, c as u16, v)?;
                            }
                        }
                        r += 1;
                    }
                }
                let mut file = tempfile::tempfile()?;
                wb.save_to_writer(&mut file)?;
                file.rewind()?;
                Ok(file)
            },
        );
        while let Some(rows) = cursor.next_page().await? {
            if tx.send(rows).await.is_err() {
                break;
            }
        }
        drop(tx);
        let file = writer
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(|e| ApiError::internal(&e))?;
        Ok(TierHistoryXlsx::Ok(
            Binary(Body::from_async_read(tokio::io::BufReader::new(
                tokio::fs::File::from_std(file),
            ))),
            "attachment; filename=\"tier-history.xlsx\"".into(),
        ))
    }

    /// Every published version, newest first.
    #[oai(
        path = "/tiers/versions",
        method = "get",
        operation_id = "tierVersions"
    )]
    async fn versions(&self, auth: TenantAuth) -> Result<Json<Vec<LadderVersionView>>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let active = tiers::active(&mut tx).await?.map(|v| v.version);
        let all = tiers::versions(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(
            all.into_iter()
                .map(|v| Self::version_view(v, active))
                .collect::<Result<_, _>>()?,
        ))
    }

    /// Put an earlier version back in force; every member is re-evaluated under it.
    #[oai(
        path = "/tiers/rollback",
        method = "post",
        operation_id = "rollbackTiers",
        transform = "needs_tiers"
    )]
    async fn rollback(
        &self,
        auth: TenantAuth,
        req: Json<LadderRollbackInput>,
    ) -> Result<Json<LadderPublished>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::TiersWrite))
            .await?;
        let Some(v) = tiers::version(&mut tx, req.0.version).await? else {
            return Err(ApiError::invalid_field(
                "version",
                "there is no such version",
            ));
        };
        let now = self.state.now();
        tiers::activate(&mut tx, v.version, &me.subject(), now).await?;
        tiers::clear_script_errors(&mut tx).await?;
        let run = self.start_run(&mut tx, v.version, now).await?;
        audit(&mut tx, &me, "tiers.rollback", v.version, now).await?;
        tx.commit().await?;
        self.state.rules.forget(me.tenant.id).await;
        self.enqueue(&me, &run).await;
        let version = v.version;
        Ok(Json(LadderPublished {
            version: Self::version_view(v, Some(version))?,
            run: run_view(run),
        }))
    }

    /// A member's tier: benefits, progress to the next one, what keeps this one, pin and
    /// history.
    #[oai(
        path = "/members/:id/tier",
        method = "get",
        operation_id = "memberTier"
    )]
    async fn member_tier(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<MemberTierView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        members::get(&mut tx, id.0).await?;
        let rules = self.state.rules.tenant(&mut tx).await?;
        let view =
            member_tier_view(&mut tx, &rules, &me.tenant, id.0, self.state.now(), true).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// Pin a member's tier until a date, with a reason (audited). The ladder's rules apply
    /// again when the pin lapses; meanwhile the member can still rise above it.
    #[oai(
        path = "/members/:id/tier/pin",
        method = "put",
        operation_id = "pinMemberTier",
        transform = "needs_tiers"
    )]
    async fn pin(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<TierPinInput>,
    ) -> Result<Json<MemberTierView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::TiersOverride))
            .await?;
        let now = self.state.now();
        let reason = check_reason(&req.0.reason)?;
        if req.0.until <= now {
            return Err(ApiError::invalid_field("until", "must be in the future"));
        }
        if req.0.until > now + Duration::days(5 * 366) {
            return Err(ApiError::invalid_field("until", "at most five years ahead"));
        }
        let rules = self.state.rules.tenant(&mut tx).await?;
        let Some(active) = rules.ladder.clone() else {
            return Err(no_ladder());
        };
        let Some(tier) = active.ladder.tiers.iter().find(|t| t.code == req.0.tier) else {
            return Err(ApiError::invalid_field(
                "tier",
                "the ladder has no such tier",
            ));
        };
        members::get(&mut tx, id.0).await?;
        points::lock_account(&mut tx, id.0, now).await?;
        let row = tiers::standing(&mut tx, id.0, true).await?;
        let from = active
            .ladder
            .tier(row.as_ref().map(|r| r.tier.as_str()))
            .code
            .clone();
        let next = Standing {
            tier: Some(tier.code.clone()),
            below_since: None,
            pin: Some(core_tiers::Pin {
                tier: tier.code.clone(),
                until: req.0.until,
            }),
        };
        let subject = me.subject();
        tiers::save_standing(
            &mut tx,
            id.0,
            &next,
            Some(&reason),
            Some(&subject),
            None,
            now,
        )
        .await?;
        tiers::record_move(
            &mut tx,
            &tiers::NewMove {
                member_id: id.0,
                from: &from,
                to: &tier.code,
                kind: "pin",
                metric: None,
                threshold: None,
                ladder_version: Some(active.version),
                reason: &reason,
                actor: &subject,
                at: now,
            },
        )
        .await?;
        let by = members::Actor {
            subject: &subject,
            channel: me.channel(),
            at: now,
        };
        members::audit(
            &mut tx,
            id.0,
            &by,
            "member.tier_pinned",
            Some("tier"),
            Some(json!(from)),
            Some(json!({ "tier": tier.code, "until": req.0.until, "reason": reason })),
        )
        .await?;
        let view = member_tier_view(&mut tx, &rules, &me.tenant, id.0, now, true).await?;
        tx.commit().await?;
        Ok(Json(view))
    }

    /// End a member's pin now, with a reason (audited); the next evaluation applies the
    /// ladder's rules (retention counts from then).
    #[oai(
        path = "/members/:id/tier/unpin",
        method = "post",
        operation_id = "unpinMemberTier",
        transform = "needs_tiers"
    )]
    async fn unpin(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<TierUnpinInput>,
    ) -> Result<Json<MemberTierView>, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::TiersOverride))
            .await?;
        let now = self.state.now();
        let reason = check_reason(&req.0.reason)?;
        members::get(&mut tx, id.0).await?;
        points::lock_account(&mut tx, id.0, now).await?;
        let rules = self.state.rules.tenant(&mut tx).await?;
        let row = tiers::standing(&mut tx, id.0, true).await?;
        let Some(row) = row.filter(|r| r.pin_tier.is_some()) else {
            return Err(ApiError::conflict(
                "not_pinned",
                None,
                "the member's tier is not pinned",
            ));
        };
        let mut s = row.standing();
        s.pin = None;
        let subject = me.subject();
        tiers::save_standing(&mut tx, id.0, &s, None, None, None, now).await?;
        tiers::record_move(
            &mut tx,
            &tiers::NewMove {
                member_id: id.0,
                from: &row.tier,
                to: &row.tier,
                kind: "unpin",
                metric: None,
                threshold: None,
                ladder_version: rules.ladder.as_ref().map(|l| l.version),
                reason: &reason,
                actor: &subject,
                at: now,
            },
        )
        .await?;
        let by = members::Actor {
            subject: &subject,
            channel: me.channel(),
            at: now,
        };
        members::audit(
            &mut tx,
            id.0,
            &by,
            "member.tier_unpinned",
            Some("tier"),
            Some(json!({ "tier": row.tier, "until": row.pinned_until })),
            Some(json!({ "reason": reason })),
        )
        .await?;
        let view = member_tier_view(&mut tx, &rules, &me.tenant, id.0, now, true).await?;
        tx.commit().await?;
        Ok(Json(view))
    }
}
