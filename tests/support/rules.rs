//! Point rules: drafts, validation, simulation, publishing and rolling back versions, and the
//! templates that write a rule without scripting.

use super::app::{Api, Auth, TestApp};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Why a rule (or a ladder script) failed: compile errors with their place, limits by name.
#[derive(Clone, Debug, Deserialize)]
pub struct RuleFailure {
    pub kind: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub limit: Option<String>,
}

/// Points a rule awarded, and why.
#[derive(Clone, Debug, Deserialize)]
pub struct PointReason {
    pub points: i64,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RuleVersion {
    pub version: i64,
    pub trigger: String,
    pub script: String,
    pub active: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RuleDraft {
    pub script: String,
    pub compile_error: Option<RuleFailure>,
}

/// The editor's check of a script.
#[derive(Clone, Debug, Deserialize)]
pub struct Validation {
    pub ok: bool,
    pub error: Option<RuleFailure>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SimCase {
    pub draft_points: i64,
    pub active_points: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SimMember {
    pub member_id: String,
    pub difference: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SimTotals {
    pub cases: i64,
    pub draft_points: i64,
    pub active_points: i64,
}

/// A draft run over past purchases and given events, side by side with the active rule.
#[derive(Clone, Debug, Deserialize)]
pub struct Simulation {
    pub active_version: Option<i64>,
    pub totals: SimTotals,
    pub most_affected: Vec<SimMember>,
    pub cases: Vec<SimCase>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct RulesOverview {
    pub triggers: Vec<Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TemplateCatalog {
    pub templates: Vec<Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Rendered {
    pub script: String,
}

impl Api {
    /// `GET /rules`.
    pub async fn rules_overview(&self, auth: &Auth) -> Reply<RulesOverview> {
        self.v1(Method::GET, "/rules").auth(auth).send().await
    }

    /// `PUT /rules/{trigger}/draft`.
    pub async fn save_rule_draft(
        &self,
        auth: &Auth,
        trigger: &str,
        input: &impl Serialize,
    ) -> Reply<RuleDraft> {
        self.v1(Method::PUT, &format!("/rules/{trigger}/draft"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /rules/validate`.
    pub async fn validate_rule(&self, auth: &Auth, script: &str) -> Reply<Validation> {
        self.v1(Method::POST, "/rules/validate")
            .auth(auth)
            .json(&json!({ "script": script }))
            .send()
            .await
    }

    /// `POST /rules/simulate`.
    pub async fn simulate_rules(&self, auth: &Auth, input: &impl Serialize) -> Reply<Simulation> {
        self.v1(Method::POST, "/rules/simulate")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /rules/{trigger}/publish`: a script, a template, or the saved draft.
    pub async fn publish_rule(
        &self,
        auth: &Auth,
        trigger: &str,
        input: &impl Serialize,
    ) -> Reply<RuleVersion> {
        self.v1(Method::POST, &format!("/rules/{trigger}/publish"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `POST /rules/{trigger}/rollback`.
    pub async fn rollback_rule(
        &self,
        auth: &Auth,
        trigger: &str,
        version: i64,
    ) -> Reply<RuleVersion> {
        self.v1(Method::POST, &format!("/rules/{trigger}/rollback"))
            .auth(auth)
            .json(&json!({ "version": version }))
            .send()
            .await
    }

    /// `GET /rules/{trigger}/versions`.
    pub async fn rule_versions(&self, auth: &Auth, trigger: &str) -> Reply<Vec<RuleVersion>> {
        self.v1(Method::GET, &format!("/rules/{trigger}/versions"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /rules/templates`.
    pub async fn rule_templates(&self, auth: &Auth) -> Reply<TemplateCatalog> {
        self.v1(Method::GET, "/rules/templates")
            .auth(auth)
            .send()
            .await
    }

    /// `POST /rules/templates/render`.
    pub async fn render_rule_template(&self, auth: &Auth, template: &Value) -> Reply<Rendered> {
        self.v1(Method::POST, "/rules/templates/render")
            .auth(auth)
            .json(&json!({ "template": template }))
            .send()
            .await
    }
}

impl TestApp {
    /// Publishes `script` for `trigger`; panics unless it is published. Returns the version.
    pub async fn publish_script(&self, auth: &Auth, trigger: &str, script: &str) -> i64 {
        self.publish_rule(auth, trigger, &json!({ "script": script }))
            .await
            .ok()
            .version
    }
}
