//! Tiers: the ladder's drafts, previews, versions and re-evaluation runs, a member's tier
//! and pins, and the tier history export.

use super::app::{Api, Auth};
use super::reply::Reply;
use super::rules::{RuleFailure, Validation};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Debug, Deserialize)]
pub struct LadderVersion {
    pub version: i64,
    pub ladder: Value,
    pub note: String,
    pub active: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LadderDraft {
    pub ladder: Value,
}

/// A re-evaluation of every member after a publish or a rollback.
#[derive(Clone, Debug, Deserialize)]
pub struct TierRun {
    pub id: String,
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub errors: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LadderPublished {
    pub version: LadderVersion,
    pub run: TierRun,
}

/// How many members hold a tier.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TierCount {
    pub code: String,
    pub members: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TierScriptError {
    pub member_id: String,
    pub member_name: String,
    pub during: String,
    pub error: RuleFailure,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TiersOverview {
    pub active: Option<LadderVersion>,
    pub draft: Option<LadderDraft>,
    pub counts: Vec<TierCount>,
    pub run: Option<TierRun>,
    pub script_errors: Vec<TierScriptError>,
    pub script_errors_total: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TierPreviewMove {
    pub member_id: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TierPreviewError {
    pub member_id: String,
    pub name: String,
    pub error: RuleFailure,
}

/// What a draft ladder would do, written nowhere.
#[derive(Clone, Debug, Deserialize)]
pub struct TierPreview {
    pub total: i64,
    pub now: Vec<TierCount>,
    pub draft: Vec<TierCount>,
    pub moving: i64,
    pub moves: Vec<TierPreviewMove>,
    pub errors: i64,
    pub error_samples: Vec<TierPreviewError>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Tier {
    pub code: String,
    pub benefits: Value,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TierPin {
    pub tier: String,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct NextTier {
    pub code: String,
    pub remaining: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TierProgress {
    pub value: i64,
    pub next: Option<NextTier>,
    pub by: Option<String>,
    pub short_of_current: i64,
}

/// One move in a member's tier history.
#[derive(Clone, Debug, Deserialize)]
pub struct TierChange {
    pub kind: String,
    pub from: String,
    pub to: String,
    /// The current names of `from` and `to`, when the ladder in force has them.
    #[serde(default)]
    pub from_name: Option<serde_json::Value>,
    #[serde(default)]
    pub to_name: Option<serde_json::Value>,
    pub metric: Option<i64>,
    pub threshold: Option<i64>,
    pub reason: String,
    /// The system's reasons: a stable code and its values (none for a person's words).
    pub reason_code: Option<String>,
    pub reason_params: Option<serde_json::Value>,
}

/// A member's tier, progress and history.
#[derive(Clone, Debug, Deserialize)]
pub struct MemberTier {
    pub tier: Option<Tier>,
    pub pin: Option<TierPin>,
    pub retained_until: Option<String>,
    pub progress: Option<TierProgress>,
    pub history: Vec<TierChange>,
}

impl MemberTier {
    /// The tier's code; panics when the member has none.
    pub fn code(&self) -> &str {
        &self.tier.as_ref().expect("a tier").code
    }

    pub fn progress(&self) -> &TierProgress {
        self.progress.as_ref().expect("progress")
    }
}

/// Which tier moves to export: one member's, and local days `from`..=`to`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TierHistoryQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl TierHistoryQuery {
    pub fn member(mut self, id: &str) -> Self {
        self.member_id = Some(id.into());
        self
    }

    pub fn from(mut self, day: &str) -> Self {
        self.from = Some(day.into());
        self
    }

    pub fn to(mut self, day: &str) -> Self {
        self.to = Some(day.into());
        self
    }

    /// The people layout in `lang`.
    pub fn for_people(mut self, lang: &str) -> Self {
        self.layout = Some("people".into());
        self.lang = Some(lang.into());
        self
    }
}

impl Api {
    /// `GET /tiers`.
    pub async fn tiers_overview(&self, auth: &Auth) -> Reply<TiersOverview> {
        self.v1(Method::GET, "/tiers").auth(auth).send().await
    }

    /// `PUT /tiers/draft`.
    pub async fn save_ladder_draft(&self, auth: &Auth, ladder: &Value) -> Reply<LadderDraft> {
        self.v1(Method::PUT, "/tiers/draft")
            .auth(auth)
            .json(ladder)
            .send()
            .await
    }

    /// `POST /tiers/preview`: the given ladder, or the saved draft.
    pub async fn preview_ladder(&self, auth: &Auth, input: &impl Serialize) -> Reply<TierPreview> {
        self.v1(Method::POST, "/tiers/preview")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /tiers/publish`: the given ladder, or the saved draft; starts a re-evaluation.
    pub async fn publish_ladder(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<LadderPublished> {
        self.v1(Method::POST, "/tiers/publish")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /tiers/rollback`.
    pub async fn rollback_ladder(&self, auth: &Auth, version: i64) -> Reply<LadderPublished> {
        self.v1(Method::POST, "/tiers/rollback")
            .auth(auth)
            .json(&json!({ "version": version }))
            .send()
            .await
    }

    /// `GET /tiers/versions`.
    pub async fn ladder_versions(&self, auth: &Auth) -> Reply<Vec<LadderVersion>> {
        self.v1(Method::GET, "/tiers/versions")
            .auth(auth)
            .send()
            .await
    }

    /// `POST /tiers/script/check`.
    pub async fn check_ladder_script(&self, auth: &Auth, script: &str) -> Reply<Validation> {
        self.v1(Method::POST, "/tiers/script/check")
            .auth(auth)
            .json(&json!({ "script": script }))
            .send()
            .await
    }

    /// `GET /members/{id}/tier`.
    pub async fn member_tier(&self, auth: &Auth, member: &str) -> Reply<MemberTier> {
        self.v1(Method::GET, &format!("/members/{member}/tier"))
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /members/{id}/tier/pin`.
    pub async fn pin_member_tier(
        &self,
        auth: &Auth,
        member: &str,
        input: &impl Serialize,
    ) -> Reply<MemberTier> {
        self.v1(Method::PUT, &format!("/members/{member}/tier/pin"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /tiers/history/export.csv`.
    pub async fn tier_history_csv(&self, auth: &Auth, query: &TierHistoryQuery) -> Reply<String> {
        self.v1(Method::GET, "/tiers/history/export.csv")
            .query(query)
            .auth(auth)
            .send()
            .await
    }

    /// `GET /tiers/history/export.xlsx` (read its `bytes`).
    pub async fn tier_history_xlsx(&self, auth: &Auth, query: &TierHistoryQuery) -> Reply {
        self.v1(Method::GET, "/tiers/history/export.xlsx")
            .query(query)
            .auth(auth)
            .send()
            .await
    }
}
