//! Every answer the suite receives must be one its operation lists in the OpenAPI document:
//! a status the server really gives but does not document fails the test that met it. The
//! document is read once from the first server a test starts (all run the same code).

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use tokio::sync::OnceCell;

/// One operation: its method, its path split into segments (`None` for a `{parameter}`),
/// its id and the statuses it lists.
struct Operation {
    method: Method,
    segments: Vec<Option<String>>,
    id: String,
    statuses: BTreeSet<u16>,
}

static DOCUMENT: OnceCell<Vec<Operation>> = OnceCell::const_new();

async fn operations(http: &reqwest::Client, base: &str) -> &'static [Operation] {
    DOCUMENT
        .get_or_init(|| async {
            let doc: Value = http
                .get(format!("{base}/api/openapi.json"))
                .send()
                .await
                .expect("document fetched")
                .json()
                .await
                .expect("document is JSON");
            let mut out = Vec::new();
            for (path, ops) in doc["paths"].as_object().expect("paths") {
                for (method, op) in ops.as_object().expect("operations") {
                    out.push(Operation {
                        method: method.to_uppercase().parse().expect("a method"),
                        segments: path
                            .split('/')
                            .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                            .collect(),
                        id: op["operationId"].as_str().unwrap_or_default().to_owned(),
                        statuses: op["responses"]
                            .as_object()
                            .expect("responses")
                            .keys()
                            .filter_map(|k| k.parse().ok())
                            .collect(),
                    });
                }
            }
            out
        })
        .await
}

/// Panics when `status`, answered to `method` on `url`, is not listed by the operation the
/// URL names. Requests outside `/api/v1`, and paths no operation has (routing tests), are
/// not checked.
pub(crate) async fn check(
    http: &reqwest::Client,
    base: &str,
    method: &Method,
    url: &reqwest::Url,
    status: StatusCode,
) {
    let Some(path) = url.path().strip_prefix("/api/v1") else {
        return;
    };
    let ops = operations(http, base).await;
    let parts: Vec<&str> = path.split('/').collect();
    let matches = |op: &&Operation| {
        op.method == *method
            && op.segments.len() == parts.len()
            && op
                .segments
                .iter()
                .zip(&parts)
                .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
    };
    // A literal segment beats a parameter (`/members/search` is not `/members/{id}`).
    let Some(op) = ops
        .iter()
        .filter(matches)
        .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
    else {
        return;
    };
    assert!(
        op.statuses.contains(&status.as_u16()),
        "{method} {path} ({}) answered {status}, which its OpenAPI entry does not list (it lists {:?}); \
         list it in platform/api/src/edge/responses.rs",
        op.id,
        op.statuses
    );
}
