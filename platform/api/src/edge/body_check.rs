//! The request body checked against the operation's schema in the served document, before a
//! handler reads it: a JSON value of another type than the schema says (`false` or `12`
//! where a string is declared, which poem would read as the text "false" or "12"), a member
//! the object does not declare (`additionalProperties: false`, which the document states for
//! every request object), and the limits the document states (lengths, ranges, item counts,
//! enums, patterns) are each a problem naming the field by its dotted path with a code. The
//! edge answers 422 with them when the body cannot be read (`text_guard::body_problems`);
//! otherwise the use case checks the same limits and names every bad field at once. So a
//! body is first checked for its shape alone ([`Schemas::check_shape`]: types, unknown and
//! missing members), and against the limits only when its shape is wrong: a readable body,
//! nearly every request, costs no length count, range or pattern match here.
//!
//! The document is the one source: the limits in it come from the constants the use cases
//! check (`responses::LIMITS`), so what a generated client is told and what the server
//! refuses cannot differ. `null` is left to the handler (an optional member reads it as
//! absent), and so are schemas this check does not know (`oneOf`, `anyOf`, no `type`).

use patron_core::{FieldError, Issue};
use serde_json::{Map, Value};

/// The schemas of the document (`components.schemas`), to resolve `$ref`s.
#[derive(Debug, Clone, Default)]
pub struct Schemas(Map<String, Value>);

impl Schemas {
    pub fn from_document(doc: &Value) -> Self {
        Self(
            doc.pointer("/components/schemas")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        )
    }

    /// The schema behind a `$ref` or a one-member `allOf` (how the document writes a
    /// nullable reference), the others as they are.
    fn resolve<'a>(&'a self, s: &'a Value) -> &'a Value {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or_default();
            return match self.0.get(name) {
                Some(t) => self.resolve(t),
                None => s,
            };
        }
        // `allOf` as poem writes a reference with a default beside it: the member that says
        // what the value is.
        match s.get("allOf").and_then(Value::as_array) {
            Some(all) => all
                .iter()
                .find(|m| m.get("$ref").is_some() || m.get("type").is_some())
                .map_or(s, |m| self.resolve(m)),
            None => s,
        }
    }

    /// Every problem of `value` against `schema`, each at its dotted path (`at`, empty for
    /// the body itself).
    pub fn check(&self, schema: &Value, value: &Value, at: &str, out: &mut Vec<FieldError>) {
        self.walk(schema, value, at, true, out);
    }

    /// The problems that keep a handler from reading `value` at all: a value of another
    /// type, a member the schema does not declare, a required member missing. The limits
    /// (lengths, ranges, item counts, enums, patterns) are left to the use case, which names
    /// every bad field at once; not checking them here keeps them off every request's path.
    pub fn check_shape(&self, schema: &Value, value: &Value, out: &mut Vec<FieldError>) {
        self.walk(schema, value, "", false, out);
    }

    fn walk(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        limits: bool,
        out: &mut Vec<FieldError>,
    ) {
        let s = self.resolve(schema);
        if s.get("oneOf").is_some() || s.get("anyOf").is_some() {
            return;
        }
        let field = || {
            if at.is_empty() {
                "body".to_owned()
            } else {
                at.to_owned()
            }
        };
        let kind = s
            .get("type")
            .and_then(Value::as_str)
            .or_else(|| s.get("properties").map(|_| "object"));
        let Some(kind) = kind else { return };
        // A body the operation takes as raw text (a signed webhook payload) is not JSON to
        // check.
        if at.is_empty() && kind == "string" {
            return;
        }
        // `null` only where the document says `nullable` (an optional member without a
        // default); poem would read it as absent and take the default.
        if value.is_null() {
            let nullable = |x: &Value| x.get("nullable") == Some(&Value::Bool(true));
            if !nullable(schema) && !nullable(s) {
                out.push(Issue::wrong_type(kind).at(field()));
            }
            return;
        }
        let fits = match kind {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        if !fits {
            out.push(Issue::wrong_type(kind).at(field()));
            return;
        }
        match value {
            Value::String(text) if limits => {
                if let Some(e) = string_issue(s, text) {
                    out.push(e.at(field()));
                }
            }
            Value::Number(n) if limits => {
                if let Some(e) = number_issue(s, n) {
                    out.push(e.at(field()));
                }
            }
            Value::Array(items) => {
                if let Some(max) = s.get("maxItems").and_then(Value::as_u64).filter(|_| limits) {
                    if items.len() as u64 > max {
                        out.push(Issue::too_many(max as usize, "items").at(field()));
                        return;
                    }
                }
                if let Some(item) = s.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        self.walk(item, v, &join(at, &i.to_string()), limits, out);
                    }
                }
            }
            Value::Object(members) => {
                let props = s.get("properties").and_then(Value::as_object);
                for name in s
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !members.contains_key(name) {
                        out.push(Issue::required().at(join(at, name)));
                    }
                }
                let extra = s.get("additionalProperties");
                for (name, v) in members {
                    match props.and_then(|p| p.get(name)) {
                        Some(p) => self.walk(p, v, &join(at, name), limits, out),
                        None => match extra {
                            Some(Value::Bool(false)) => {
                                out.push(Issue::unknown_field().at(join(at, name)));
                            }
                            Some(e @ Value::Object(_)) => {
                                self.walk(e, v, &join(at, name), limits, out)
                            }
                            _ => {}
                        },
                    }
                }
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {}
        }
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

/// A pattern of the document, compiled once (the document's patterns are few and fixed).
/// Shared, not cloned: a cloned `Regex` starts with no search cache of its own, so each
/// request would build one.
fn pattern(p: &str) -> Option<std::sync::Arc<regex::Regex>> {
    type Compiled = std::collections::HashMap<String, Option<std::sync::Arc<regex::Regex>>>;
    static CACHE: std::sync::LazyLock<std::sync::RwLock<Compiled>> =
        std::sync::LazyLock::new(Default::default);
    if let Some(found) = CACHE.read().unwrap_or_else(|e| e.into_inner()).get(p) {
        return found.clone();
    }
    let compiled = regex::Regex::new(p).ok().map(std::sync::Arc::new);
    CACHE
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(p.to_owned())
        .or_insert(compiled)
        .clone()
}

fn string_issue(s: &Value, text: &str) -> Option<Issue> {
    if let Some(allowed) = s.get("enum").and_then(Value::as_array) {
        if !allowed.iter().any(|a| a.as_str() == Some(text)) {
            let names: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
            return Some(Issue::not_one_of(text, &names));
        }
    }
    let chars = text.chars().count() as u64;
    let min = s.get("minLength").and_then(Value::as_u64);
    let max = s.get("maxLength").and_then(Value::as_u64);
    if min.is_some_and(|m| chars < m) || max.is_some_and(|m| chars > m) {
        return Some(match (min, max) {
            (Some(lo), Some(hi)) => Issue::length_between(lo as usize, hi as usize),
            (Some(lo), None) => Issue::too_short(lo as usize),
            (None, Some(hi)) => Issue::too_long(hi as usize),
            (None, None) => unreachable!("a bound was crossed"),
        });
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str) {
        if pattern(p).is_some_and(|r| !r.is_match(text)) {
            return Some(Issue::invalid_format(
                "pattern",
                format!("must match the pattern {p}"),
            ));
        }
    }
    None
}

fn number_issue(s: &Value, n: &serde_json::Number) -> Option<Issue> {
    let v = n.as_f64()?;
    let zero_refused = s
        .pointer("/not/enum")
        .and_then(Value::as_array)
        .is_some_and(|e| e.iter().any(|z| z.as_f64() == Some(0.0)));
    let min = s.get("minimum").and_then(Value::as_f64);
    let max = s.get("maximum").and_then(Value::as_f64);
    if zero_refused && v == 0.0 {
        let (lo, hi) = (min.unwrap_or(f64::MIN), max.unwrap_or(f64::MAX));
        return Some(Issue::out_of_range(lo as i64, hi as i64).words("must not be 0"));
    }
    let below = min.is_some_and(|m| v < m);
    let above = max.is_some_and(|m| v > m);
    if !below && !above {
        return None;
    }
    Some(match (min, max) {
        (Some(lo), Some(hi)) => Issue::out_of_range(lo as i64, hi as i64),
        (Some(lo), None) => Issue::too_small(lo as i64),
        (None, Some(hi)) => Issue::too_large(hi as i64),
        (None, None) => unreachable!("a bound was crossed"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(schema: Value, value: Value) -> Vec<(String, &'static str)> {
        let doc = json!({"components": {"schemas": {
            "Inner": {"type": "object", "required": ["code"], "properties": {
                "code": {"type": "string", "maxLength": 3}
            }, "additionalProperties": false}
        }}});
        let mut out = Vec::new();
        Schemas::from_document(&doc).check(&schema, &value, "", &mut out);
        out.into_iter()
            .map(|e| (e.field, e.code.as_str()))
            .collect()
    }

    fn body() -> Value {
        json!({"type": "object", "required": ["name"], "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 5},
            "count": {"type": "integer", "minimum": 1, "maximum": 10},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "maxLength": 2}},
            "inner": {"allOf": [{"$ref": "#/components/schemas/Inner"}], "nullable": true},
            "extra": {"type": "object", "additionalProperties": {"type": "integer"}}
        }})
    }

    #[test]
    fn a_boolean_or_a_number_for_a_string_is_the_wrong_type() {
        assert_eq!(
            problems(body(), json!({"name": false})),
            [("name".into(), "wrong_type")]
        );
        assert_eq!(
            problems(body(), json!({"name": 12})),
            [("name".into(), "wrong_type")]
        );
        assert_eq!(
            problems(body(), json!({"name": "ab", "count": "3"})),
            [("count".into(), "wrong_type")]
        );
        assert_eq!(
            problems(body(), json!({"name": "ab", "count": 1.5})),
            [("count".into(), "wrong_type")]
        );
    }

    #[test]
    fn limits_unknown_members_and_missing_ones_are_named_by_their_path() {
        assert!(problems(
            body(),
            json!({"name": "ab", "count": 10, "kind": "a", "tags": ["x"],
            "inner": {"code": "abc"}, "extra": {"k": 1}})
        )
        .is_empty());
        assert!(problems(body(), json!({"name": "ab", "inner": null})).is_empty());
        assert_eq!(
            problems(body(), json!({"name": "abcdef"})),
            [("name".into(), "length_between")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "count": 11})),
            [("count".into(), "out_of_range")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "kind": "c"})),
            [("kind".into(), "not_one_of")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "tags": ["a", "b", "c"]})),
            [("tags".into(), "too_many")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "tags": ["abc"]})),
            [("tags.0".into(), "too_long")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "nope": 1})),
            [("nope".into(), "unknown_field")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "inner": {"code": "x", "y": 1}})),
            [("inner.y".into(), "unknown_field")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "inner": {}})),
            [("inner.code".into(), "required")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "extra": {"k": "x"}})),
            [("extra.k".into(), "wrong_type")]
        );
        assert_eq!(problems(body(), json!({})), [("name".into(), "required")]);
        // `null` only where the document says `nullable`.
        assert_eq!(
            problems(body(), json!({"name": null})),
            [("name".into(), "wrong_type")]
        );
        assert_eq!(
            problems(body(), json!({"name": "a", "count": null})),
            [("count".into(), "wrong_type")]
        );
        assert_eq!(
            problems(body(), json!([1])),
            [("body".into(), "wrong_type")]
        );
    }

    /// The shape's check finds a problem exactly when the whole check finds one that keeps
    /// a handler from reading the body (outside arrays over their count, which the whole
    /// check does not read further), and never a limit.
    #[test]
    fn the_shape_alone_is_what_keeps_a_body_from_being_read() {
        let doc = json!({"components": {"schemas": {
            "Inner": {"type": "object", "required": ["code"], "properties": {
                "code": {"type": "string", "maxLength": 3}
            }, "additionalProperties": false}
        }}});
        let schemas = Schemas::from_document(&doc);
        let bodies = [
            json!({"name": "ab", "count": 10, "kind": "a", "tags": ["x"], "inner": {"code": "abc"}}),
            json!({"name": "abcdef", "count": 11, "kind": "c", "tags": ["abc"]}),
            json!({"name": false}),
            json!({"name": "a", "count": "3", "kind": 1}),
            json!({"name": "toolong", "nope": 1}),
            json!({"name": "a", "inner": {"code": "x", "y": 1}}),
            json!({"name": "a", "inner": {}}),
            json!({"name": "a", "extra": {"k": "x"}, "tags": [1]}),
            json!({}),
            json!({"name": null}),
            json!([1]),
        ];
        for b in bodies {
            let mut whole = Vec::new();
            schemas.check(&body(), &b, "", &mut whole);
            let mut shape = Vec::new();
            schemas.check_shape(&body(), &b, &mut shape);
            let unreadable: Vec<_> = whole
                .iter()
                .filter(|e| matches!(e.code.as_str(), "wrong_type" | "unknown_field" | "required"))
                .map(|e| (e.field.clone(), e.code.as_str()))
                .collect();
            let shape: Vec<_> = shape
                .iter()
                .map(|e| (e.field.clone(), e.code.as_str()))
                .collect();
            assert_eq!(shape, unreadable, "{b}");
        }
    }
}
