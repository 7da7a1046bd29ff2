//! What the server answered: [`Reply`], typed by the operation, and the error bodies every
//! operation may answer with instead ([`Problem`], [`PlanProblem`]).

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::fmt;
use std::marker::PhantomData;

/// A response: status, headers and the body, read as `T` on demand. Error answers are read
/// with [`Reply::problem`] (or [`Reply::error`] for bodies of their own).
pub struct Reply<T = Value> {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON: a string when it was not JSON (CSV), `Null` when empty.
    pub json: Value,
    /// The body as sent (for files).
    pub bytes: Vec<u8>,
    body: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.json)
    }
}

impl<T> Reply<T> {
    pub(crate) async fn read(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.expect("body read").to_vec();
        let text = String::from_utf8_lossy(&bytes);
        let json = serde_json::from_str(&text).unwrap_or(if text.is_empty() {
            Value::Null
        } else {
            Value::String(text.into_owned())
        });
        Reply {
            status,
            headers,
            json,
            bytes,
            body: PhantomData,
        }
    }

    /// The error's stable `code`, or `""` when the body has none.
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    /// The body as the error every operation answers with.
    pub fn problem(&self) -> Problem {
        self.error()
    }

    /// The body as a 402's plan problem.
    pub fn plan_problem(&self) -> PlanProblem {
        self.error()
    }

    /// The path of each bad field, in the order given.
    pub fn fields(&self) -> Vec<String> {
        self.problem().fields.into_iter().map(|f| f.field).collect()
    }

    /// The body read as `E`, for answers of a shape of their own.
    pub fn error<E: DeserializeOwned>(&self) -> E {
        read_as(&self.json, self.status)
    }

    /// A text body (CSV), without a byte-order mark.
    pub fn text(&self) -> &str {
        self.json
            .as_str()
            .unwrap_or_else(|| panic!("not a text body: {self:?}"))
            .trim_start_matches('\u{feff}')
    }

    /// The same reply, its body left as JSON (to treat answers of several operations alike).
    pub fn untyped(self) -> Reply<Value> {
        Reply {
            status: self.status,
            headers: self.headers,
            json: self.json,
            bytes: self.bytes,
            body: PhantomData,
        }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().expect("a text header")
    }
}

impl<T: DeserializeOwned> Reply<T> {
    /// The body as the operation's answer.
    pub fn body(&self) -> T {
        read_as(&self.json, self.status)
    }

    /// Asserts `200 OK` and gives the body.
    pub fn ok(self) -> T {
        self.expect(StatusCode::OK)
    }

    /// Asserts `201 Created` and gives the body.
    pub fn created(self) -> T {
        self.expect(StatusCode::CREATED)
    }

    /// Asserts `status` and gives the body.
    pub fn expect(self, status: StatusCode) -> T {
        assert_eq!(self.status, status, "{self:?}");
        self.body()
    }
}

fn read_as<T: DeserializeOwned>(json: &Value, status: StatusCode) -> T {
    serde_json::from_value(json.clone()).unwrap_or_else(|e| {
        panic!(
            "the body is not a {}: {e}\n{status} {json}",
            std::any::type_name::<T>()
        )
    })
}

/// One bad field of a request.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct FieldProblem {
    pub field: String,
    /// Stable code (`required`, `not_a_phone` ...).
    pub code: String,
    /// The values the code's text needs.
    pub params: Value,
    pub problem: String,
}

/// The body of every error response.
#[derive(Clone, Debug, Deserialize)]
pub struct Problem {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<FieldProblem>,
    #[serde(default)]
    pub params: Option<Value>,
}

/// The body of a 402: what the tenant's plan lacks and which plans have it.
#[derive(Clone, Debug, Deserialize)]
pub struct PlanProblem {
    pub code: String,
    pub message: String,
    pub plan: String,
    pub feature: Option<String>,
    pub limit: Option<String>,
    pub allowed: Option<i64>,
    pub usage: Option<i64>,
    pub upgrade_to: Option<String>,
    #[serde(default)]
    pub plans: Vec<String>,
}
