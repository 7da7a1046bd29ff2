//! One guard for the text that arrives from outside: no string in a path, a query or a JSON
//! body may carry a control character other than tab, line feed and carriage return.
//!
//! PostgreSQL refuses NUL in `text`, so without this a NUL anywhere in an input became a
//! 500; the other control characters have no place in names, codes or notes either. The
//! guard sits in front of every operation, so a new operation is covered without code of
//! its own, and answers 422 `invalid_input` naming the field: the path parameter's name
//! (from the document's path templates), the query parameter's name, or the dotted path of
//! the JSON member (`tags.1`, `owner.email`). Fields that must be single-line still refuse
//! line breaks in their own validation.
//!
//! Cost: a JSON body is scanned once for escapes (raw control characters are not valid JSON
//! and never reach a handler); it is parsed again only when a control character is found,
//! to name the field.

use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;

use super::body_check::Schemas;
use super::error::ApiError;

/// Whether a character is refused: C0 controls but tab, line feed and carriage return,
/// DEL, and the C1 controls (U+0080 to U+009F).
pub fn refused(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || ('\u{7f}'..='\u{9f}').contains(&c)
}

/// The same rule as a pattern, which the document states on every free-text input (a string
/// without an enum, a format or a pattern of its own).
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$";

fn has_refused(s: &str) -> bool {
    s.chars().any(refused)
}

/// One path template of the document, split into segments, with the methods it answers
/// (upper case) and the JSON body schema of each method that reads one.
#[derive(Debug, Clone)]
struct Template(
    Vec<Segment>,
    Vec<String>,
    std::collections::HashMap<String, serde_json::Value>,
);

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param(String),
}

/// The document's path templates, to name a path parameter and the methods a path allows,
/// and its schemas, to check a body against its operation's.
#[derive(Debug, Clone, Default)]
pub struct PathTemplates(Vec<Template>, Schemas);

impl PathTemplates {
    /// From the OpenAPI document (JSON): every key of `paths`.
    pub fn from_document(document: &str) -> Self {
        let doc: serde_json::Value = serde_json::from_str(document).unwrap_or_default();
        let templates = doc
            .get("paths")
            .and_then(|p| p.as_object())
            .map(|paths| {
                paths
                    .iter()
                    .map(|(k, ops)| {
                        let methods = ops
                            .as_object()
                            .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                            .unwrap_or_default();
                        let bodies = ops
                            .as_object()
                            .into_iter()
                            .flatten()
                            .filter_map(|(m, op)| {
                                let content = op.pointer("/requestBody/content")?.as_object()?;
                                let schema = content
                                    .iter()
                                    .find(|(t, _)| t.starts_with("application/json"))?
                                    .1
                                    .get("schema")?;
                                Some((m.to_ascii_uppercase(), schema.clone()))
                            })
                            .collect();
                        Template(
                            k.trim_start_matches('/')
                                .split('/')
                                .map(|s| {
                                    match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                                        Some(name) => Segment::Param(name.to_owned()),
                                        None => Segment::Literal(s.to_owned()),
                                    }
                                })
                                .collect(),
                            methods,
                            bodies,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self(templates, Schemas::from_document(&doc))
    }

    /// The template that fits a path (relative to `/api/v1`) with the most literal segments.
    fn fitting(&self, path: &str) -> Option<&Template> {
        let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.0
            .iter()
            .filter(|t| t.0.len() == raw.len())
            .filter(|t| {
                t.0.iter().zip(&raw).all(|(seg, r)| match seg {
                    Segment::Literal(l) => l == r,
                    Segment::Param(_) => true,
                })
            })
            .max_by_key(|t| {
                t.0.iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count()
            })
    }

    /// Every problem of a JSON body against the schema of the operation it is sent to.
    pub fn body_problems(
        &self,
        path: &str,
        method: &str,
        body: &serde_json::Value,
    ) -> Vec<patron_core::FieldError> {
        // A body the handler can read (every member of the type it says, none unknown)
        // goes on to the use case, which checks the limits and names EVERY bad field at once
        // (a form's rules the document cannot state among them); the edge answers alone
        // only for a body no handler could read, and then names its limits too.
        let Some(schema) = self.fitting(path).and_then(|t| t.2.get(method)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        self.1.check_shape(schema, body, &mut out);
        if out.is_empty() {
            return out;
        }
        out.clear();
        self.1.check(schema, body, "", &mut out);
        // An array over its item count is not read further by the whole check: what is
        // found inside it then does not count.
        let unreadable = out.iter().any(|e| {
            matches!(
                e.code,
                patron_core::problem::FieldCode::WrongType
                    | patron_core::problem::FieldCode::UnknownField
                    | patron_core::problem::FieldCode::Required
            )
        });
        if !unreadable {
            out.clear();
        }
        out
    }

    /// The methods a path allows (for `Allow`): those of the template that fits it with the
    /// most literal segments.
    pub fn allowed(&self, path: &str) -> Option<String> {
        self.fitting(path).map(|t| t.1.join(", "))
    }

    /// The name of the parameter at segment `index` of a path with these raw segments;
    /// `path` when no template fits.
    fn name(&self, raw: &[&str], index: usize) -> String {
        self.0
            .iter()
            .filter(|t| t.0.len() == raw.len())
            .find(|t| {
                t.0.iter().zip(raw).all(|(seg, r)| match seg {
                    Segment::Literal(l) => l == r,
                    Segment::Param(_) => true,
                })
            })
            .and_then(|t| match &t.0[index] {
                Segment::Param(name) => Some(name.clone()),
                Segment::Literal(_) => None,
            })
            .unwrap_or_else(|| "path".to_owned())
    }
}

/// The first refused field of a request's path and query, if any.
fn path_or_query_field(templates: &PathTemplates, path: &str, query: &str) -> Option<String> {
    let raw: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, seg) in raw.iter().enumerate() {
        let decoded = percent_encoding::percent_decode_str(seg).decode_utf8_lossy();
        if has_refused(&decoded) {
            return Some(templates.name(&raw, i));
        }
    }
    for (key, value) in form_pairs(query) {
        if has_refused(&key) || has_refused(&value) {
            return Some(if has_refused(&key) {
                "query".to_owned()
            } else {
                key
            });
        }
    }
    None
}

/// `application/x-www-form-urlencoded` pairs of a query string.
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

/// Whether a JSON text has an escape that decodes to a refused character. Exact for valid
/// JSON: backslashes occur only inside strings, and each escape is read from its start.
pub fn json_has_refused_escape(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'\\' {
            i += 1;
            continue;
        }
        match body.get(i + 1) {
            Some(b'b' | b'f') => return true,
            Some(b'u') => {
                let code = body
                    .get(i + 2..i + 6)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                if code.and_then(char::from_u32).is_some_and(refused) {
                    return true;
                }
                i += 6;
            }
            _ => i += 2,
        }
    }
    false
}

/// The dotted path of the first string (or member name) with a refused character.
pub fn json_field(value: &serde_json::Value, at: &str) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) if has_refused(s) => Some(if at.is_empty() {
            "body".to_owned()
        } else {
            at.to_owned()
        }),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| json_field(v, &join(&i.to_string()))),
        serde_json::Value::Object(members) => members.iter().find_map(|(k, v)| {
            if has_refused(k) {
                Some(if at.is_empty() {
                    "body".to_owned()
                } else {
                    at.to_owned()
                })
            } else {
                json_field(v, &join(k))
            }
        }),
        _ => None,
    }
}

fn refuse(field: String) -> Response {
    ApiError::invalid(vec![patron_core::Issue::control_characters().at(field)]).into_response()
}

/// The guard, for `EndpointExt::around`.
pub async fn guard<E: Endpoint>(
    ep: Arc<E>,
    mut req: Request,
    templates: Arc<PathTemplates>,
) -> poem::Result<Response> {
    let query = req.uri().query().unwrap_or_default().to_owned();
    if let Some(field) = path_or_query_field(&templates, req.uri().path(), &query) {
        return Ok(refuse(field));
    }
    let json = req
        .content_type()
        .is_some_and(|t| t.starts_with("application/json"));
    if json {
        let body = req.take_body().into_bytes().await?;
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) {
            if json_has_refused_escape(&body) {
                if let Some(field) = json_field(&value, "") {
                    return Ok(refuse(field));
                }
            }
            let path = req.uri().path();
            let problems = templates.body_problems(
                path.strip_prefix("/api/v1").unwrap_or(path),
                req.method().as_str(),
                &value,
            );
            if !problems.is_empty() {
                return Ok(ApiError::invalid(problems).into_response());
            }
        }
        req.set_body(body);
    }
    // Paths in the document are relative to the nest (`/api/v1`).
    let path = req.uri().path().to_owned();
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) if e.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED => {
            let (status, body) = crate::edge::error::framework_error_body(&e);
            poem::web::Json(poem_openapi::types::ToJSON::to_json(&body))
                .with_status(status)
                .into_response()
        }
        Err(e) => return Err(e),
    };
    if resp.status() == poem::http::StatusCode::METHOD_NOT_ALLOWED {
        if let Some(allow) = templates
            .allowed(path.strip_prefix("/api/v1").unwrap_or(&path))
            .and_then(|a| poem::http::HeaderValue::from_str(&a).ok())
        {
            resp.headers_mut().insert(poem::http::header::ALLOW, allow);
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_pattern_refuses_what_the_guard_refuses() {
        let p = regex::Regex::new(TEXT_PATTERN).unwrap();
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            assert_eq!(
                p.is_match(&format!("a{c}b")),
                !refused(c),
                "{:#x}",
                c as u32
            );
        }
    }

    #[test]
    fn escapes_are_read_from_their_start() {
        assert!(json_has_refused_escape(br#"{"a":"x\u0000"}"#));
        assert!(json_has_refused_escape(br#"{"a":"\u001B"}"#));
        assert!(json_has_refused_escape(br#"{"a":"\b"}"#));
        assert!(json_has_refused_escape(br#"{"a":"\u007f"}"#));
        // An escaped backslash followed by the letters u0000 is text, not a NUL.
        assert!(!json_has_refused_escape(br#"{"a":"\\u0000"}"#));
        assert!(!json_has_refused_escape(br#"{"a":"\\b"}"#));
        assert!(!json_has_refused_escape(br#"{"a":"line\nnext\ttab\r"}"#));
        assert!(!json_has_refused_escape(br#"{"a":"\u4e2d\u6587"}"#));
        assert!(json_has_refused_escape(br#"{"a":"\\\u0001"}"#));
    }

    #[test]
    fn the_field_is_named_by_its_dotted_path() {
        let v = json!({"name": "ok", "owner": {"email": "a\u{0}b"}});
        assert_eq!(json_field(&v, "").as_deref(), Some("owner.email"));
        let v = json!({"tags": ["vip", "x\u{7}"]});
        assert_eq!(json_field(&v, "").as_deref(), Some("tags.1"));
        let v = json!({"note": "two\nlines"});
        assert_eq!(json_field(&v, ""), None);
        let v = json!({"custom": {"k\u{0}": 1}});
        assert_eq!(json_field(&v, "").as_deref(), Some("custom"));
        assert_eq!(json_field(&json!("\u{0}"), "").as_deref(), Some("body"));
    }

    #[test]
    fn path_and_query_parameters_are_named_from_the_templates() {
        let t = PathTemplates::from_document(
            r#"{"paths":{"/members/{id}":{},"/portal/{tenant}/login":{},"/members/search":{}}}"#,
        );
        assert_eq!(
            path_or_query_field(&t, "/portal/a%00b/login", "").as_deref(),
            Some("tenant")
        );
        assert_eq!(
            path_or_query_field(&t, "/members/x%1b", "").as_deref(),
            Some("id")
        );
        assert_eq!(
            path_or_query_field(&t, "/nowhere/%00", "").as_deref(),
            Some("path")
        );
        assert_eq!(
            path_or_query_field(&t, "/members/search", "q=a%00&plan=x").as_deref(),
            Some("q")
        );
        assert_eq!(
            path_or_query_field(&t, "/members/search", "q=%E4%B8%AD+%E6%96%87&n=1"),
            None
        );
    }
}
