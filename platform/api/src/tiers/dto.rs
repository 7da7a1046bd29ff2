//! The tiers API's documents: the ladder as the console edits it (`LadderDoc`), versions,
//! the overview, previews, publishing, pins; and their conversions from the application's
//! plain data. A member's tier view is shared with the portal (`edge::tier_views`).

use crate::edge::error::ApiError;
use crate::edge::views::RuleFailureView;
use chrono::{DateTime, Utc};
use patron_app::tiers::ladder::{self, Version};
use patron_app::tiers::preview;
use patron_core::tiers::Ladder;
use patron_db::tiers;
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::edge::tier_views::{
    BenefitsDoc, MemberTierView, MetricDoc, NamesDoc, NextTier, TierMoveView, TierPinView,
    TierProgress, TierView, WindowDoc, WindowKindDoc,
};

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
    /// The ladder in its public JSON shape, for the application to check.
    pub fn json(&self) -> Result<serde_json::Value, ApiError> {
        serde_json::to_value(self).map_err(|e| ApiError::internal(&e))
    }

    pub fn of(ladder: &Ladder) -> Self {
        serde_json::from_value(serde_json::to_value(ladder).expect("serialisable"))
            .expect("same shape")
    }
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

impl From<Version> for LadderVersionView {
    fn from(v: Version) -> Self {
        Self {
            active: v.active,
            ladder: LadderDoc::of(&v.ladder),
            version: v.version,
            note: v.note,
            published_by: v.published_by,
            published_at: v.published_at,
        }
    }
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

impl From<ladder::TierCount> for TierCount {
    fn from(c: ladder::TierCount) -> Self {
        Self {
            members: c.members,
            name: (&c.tier.name).into(),
            color: c.tier.color,
            code: c.tier.code,
        }
    }
}

/// Counts as the API lists them.
pub fn counts_view(counts: Vec<ladder::TierCount>) -> Vec<TierCount> {
    counts.into_iter().map(TierCount::from).collect()
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

impl From<tiers::Run> for TierRunView {
    fn from(r: tiers::Run) -> Self {
        Self {
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

impl From<tiers::ScriptError> for TierScriptErrorView {
    fn from(e: tiers::ScriptError) -> Self {
        Self {
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

impl From<preview::Preview> for TierPreview {
    fn from(p: preview::Preview) -> Self {
        Self {
            total: p.total,
            now: counts_view(p.now),
            draft: counts_view(p.draft),
            moving: p.moving,
            moves: p
                .moves
                .into_iter()
                .map(|m| TierPreviewMove {
                    member_id: m.member_id,
                    name: m.name,
                    from: m.from,
                    to: m.to,
                    metric: m.metric,
                })
                .collect(),
            errors: p.errors,
            error_samples: p
                .error_samples
                .into_iter()
                .map(|e| TierPreviewError {
                    member_id: e.member_id,
                    name: e.name,
                    error: e.error.into(),
                })
                .collect(),
        }
    }
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

impl From<ladder::Published> for LadderPublished {
    fn from(p: ladder::Published) -> Self {
        Self {
            version: p.version.into(),
            run: p.run.into(),
        }
    }
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
