//! Member field schemas: read, check a draft without saving, publish.

use super::app::{Api, Auth};
use super::reply::{FieldProblem, Reply};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize)]
pub struct FieldKey {
    pub key: String,
}

/// The tenant's member fields, with the JSON Schema and UI schema forms render from.
#[derive(Clone, Debug, Deserialize)]
pub struct Fields {
    pub version: i64,
    pub fields: Vec<FieldKey>,
    pub archived: Vec<FieldKey>,
    pub builtin: Vec<FieldKey>,
    pub json_schema: Value,
    pub ui_schema: Value,
}

/// A draft checked without saving.
#[derive(Clone, Debug, Deserialize)]
pub struct FieldsCheck {
    pub valid: bool,
    pub errors: Vec<FieldProblem>,
    pub json_schema: Option<Value>,
}

/// The 409 of a publish that would break stored values.
#[derive(Clone, Debug, Deserialize)]
pub struct FieldChangeConflict {
    pub code: String,
    pub fields: Vec<FieldProblem>,
    pub affected_members: i64,
    pub member_ids: Vec<String>,
    pub by_field: BTreeMap<String, i64>,
}

impl Api {
    /// `GET /fields`.
    pub async fn fields(&self, auth: &Auth) -> Reply<Fields> {
        self.v1(Method::GET, "/fields").auth(auth).send().await
    }

    /// `POST /fields/validate`.
    pub async fn validate_fields(&self, auth: &Auth, draft: &impl Serialize) -> Reply<FieldsCheck> {
        self.v1(Method::POST, "/fields/validate")
            .auth(auth)
            .json(draft)
            .send()
            .await
    }

    /// `POST /fields/versions`.
    pub async fn publish_fields(&self, auth: &Auth, draft: &impl Serialize) -> Reply<Fields> {
        self.v1(Method::POST, "/fields/versions")
            .auth(auth)
            .json(draft)
            .send()
            .await
    }
}
