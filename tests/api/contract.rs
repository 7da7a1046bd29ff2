//! The contract, driven from the OpenAPI document itself: every string an operation reads
//! (path parameters, query parameters, members of a JSON body) refuses control characters
//! with a 422 naming the field, so an operation added later is covered without a line here.

use patron_tests::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Control characters sent in turn (NUL is what PostgreSQL refuses in text).
const CONTROLS: [(&str, char); 3] = [("%00", '\0'), ("%07", '\u{7}'), ("%1B", '\u{1b}')];

fn schema<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            schema(doc, &doc["components"]["schemas"][name])
        }
        None => match s.get("allOf").and_then(Value::as_array) {
            Some(all) if all.len() == 1 => schema(doc, &all[0]),
            _ => s,
        },
    }
}

/// Whether a (resolved) schema takes free text, not an enum or a format-checked value.
fn is_text(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("string") && s.get("enum").is_none()
}

#[tokio::test]
async fn a_control_character_in_any_string_of_any_operation_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let t = app.signup("controls").await;
    let owner = t.owner();
    let doc: Value = app
        .raw(Method::GET, "/api/openapi.json")
        .send::<Value>()
        .await
        .json;
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut turn = 0;
    let mut next_control = || {
        turn += 1;
        CONTROLS[turn % CONTROLS.len()]
    };
    for (template, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            // Every path parameter filled with a harmless value.
            let filled = |bad: Option<(&str, &str)>| {
                let mut path = template.clone();
                for p in params.iter().filter(|p| p["in"] == "path") {
                    let name = p["name"].as_str().unwrap_or_default();
                    let value = match bad {
                        Some((n, v)) if n == name => format!("a{v}b"),
                        _ => "x".to_owned(),
                    };
                    path = path.replace(&format!("{{{name}}}"), &value);
                }
                format!("/api/v1{path}")
            };
            let mut expect = Vec::new(); // (field, path, body)
            for p in &params {
                let name = p["name"].as_str().unwrap_or_default();
                let (encoded, _) = next_control();
                match p["in"].as_str() {
                    Some("path") => {
                        expect.push((name.to_owned(), filled(Some((name, encoded))), None))
                    }
                    Some("query") => expect.push((
                        name.to_owned(),
                        format!("{}?{name}=a{encoded}b", filled(None)),
                        None,
                    )),
                    _ => {}
                }
            }
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            if !body.is_null() {
                let body = schema(&doc, body);
                for (name, prop) in body["properties"].as_object().into_iter().flatten() {
                    let prop = schema(&doc, prop);
                    let (_, c) = next_control();
                    let text = format!("a{c}b");
                    if is_text(prop) {
                        expect.push((name.clone(), filled(None), Some(json!({ name: text }))));
                    } else if prop["type"] == "array" && is_text(schema(&doc, &prop["items"])) {
                        expect.push((
                            format!("{name}.0"),
                            filled(None),
                            Some(json!({ name: [text] })),
                        ));
                    }
                }
            }
            for (field, path, body) in expect {
                cases += 1;
                let mut call = app.raw(method.clone(), &path).auth(&owner);
                if let Some(b) = &body {
                    call = call.json(b);
                }
                let reply = call.send::<Value>().await;
                let named = reply.json["fields"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|f| f["field"] == field.as_str());
                if reply.status != StatusCode::UNPROCESSABLE_ENTITY || !named {
                    failures.push(format!(
                        "{id} {method} {path} field {field}: {} {}",
                        reply.status, reply.json
                    ));
                }
            }
        }
    }
    assert!(
        cases > 80,
        "the document offered only {cases} string inputs"
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} inputs not refused:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Nothing was written by any of them: the owner is still the only staff member.
    assert_eq!(app.list_staff(&owner).await.body().len(), 1);
}

/// The extremes of a 64-bit number are input like any other: refused naming the field, never
/// a dropped connection (negating the smallest one overflows).
#[tokio::test]
async fn the_extremes_of_a_number_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let t = app.signup("extremes").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("极值")).await.id;
    for (i, points) in [i64::MIN, i64::MAX, -1_000_000_001].into_iter().enumerate() {
        let r = app
            .adjust_points(
                &owner,
                &m,
                &json!({"idempotency_key": format!("extreme-{i}"), "points": points, "reason": "x"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{points}: {}",
            r.json
        );
        assert_eq!(r.json["fields"][0]["field"], "points", "{points}");
    }
    let balance = app.member_points(&owner, &m).await.json;
    assert_eq!(balance["balance"], 0);
}

/// A method the path does not offer answers 405 with `Allow` naming the ones it does, in the
/// JSON shape of every error, as the document says.
#[tokio::test]
async fn a_method_the_path_does_not_offer_answers_405_with_allow() {
    let app = spawn_app().await;
    let t = app.signup("allow").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("方法")).await.id;
    for (method, path, allow) in [
        (Method::DELETE, "/api/v1/members".to_owned(), "GET, POST"),
        (Method::TRACE, "/api/v1/members".to_owned(), "GET, POST"),
        (Method::PUT, format!("/api/v1/members/{m}/points"), "GET"),
    ] {
        let r = app.call(method.clone(), &path, &owner, Value::Null).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(r.headers["allow"], allow, "{method} {path}");
        assert_eq!(r.json["code"], "method_not_allowed");
    }
    let doc: Value = app
        .raw(Method::GET, "/api/openapi.json")
        .send::<Value>()
        .await
        .json;
    let op = &doc["paths"]["/members"]["post"]["responses"];
    assert!(
        op["405"]["headers"]["Allow"].is_object(),
        "405 documents Allow"
    );
    assert!(op["415"].is_object(), "a body operation documents 415");
    let problem = &doc["components"]["schemas"]["Problem"];
    assert!(!problem["required"]
        .as_array()
        .unwrap()
        .contains(&json!("fields")));
    assert_eq!(problem["properties"]["params"]["nullable"], true);
}

/// The request schemas state the server's limits and refuse unknown members, and a body
/// that crosses one (too long, out of range, an unknown member, a boolean or a number where
/// text is declared) answers 422 naming the field with a code, before anything is written.
#[tokio::test]
async fn a_body_crossing_what_the_document_states_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let t = app.signup("limits").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("限度")).await.id;
    let doc: Value = app
        .raw(Method::GET, "/api/openapi.json")
        .send::<Value>()
        .await
        .json;
    let adjustment = &doc["components"]["schemas"]["NewAdjustment"];
    assert_eq!(adjustment["additionalProperties"], false, "{adjustment}");
    let longest = adjustment["properties"]["reason"]["maxLength"]
        .as_u64()
        .expect("the reason states its length") as usize;
    let most = adjustment["properties"]["points"]["maximum"]
        .as_i64()
        .expect("points state their range");
    let path = format!("/api/v1/members/{m}/points/adjustments");
    let cases = [
        (
            json!({"idempotency_key": "k1", "points": 5, "reason": "长".repeat(longest + 1)}),
            "reason",
            "too_long",
        ),
        (
            json!({"idempotency_key": "k2", "points": most + 1, "reason": "x"}),
            "points",
            "out_of_range",
        ),
        (
            json!({"idempotency_key": "k3", "points": 5, "reason": "x", "note": "?"}),
            "note",
            "unknown_field",
        ),
        (
            json!({"idempotency_key": false, "points": 5, "reason": "x"}),
            "idempotency_key",
            "wrong_type",
        ),
        (
            json!({"idempotency_key": "k5", "points": 5, "reason": 12}),
            "reason",
            "wrong_type",
        ),
        (
            json!({"idempotency_key": "k6", "points": "5", "reason": "x"}),
            "points",
            "wrong_type",
        ),
    ];
    for (body, field, code) in cases {
        let r = app.call(Method::POST, &path, &owner, body.clone()).await;
        // A body the handler can read goes on to the use case, which names every bad field
        // at once; a length poem's own validator holds is its 400 naming the field.
        if r.status == StatusCode::BAD_REQUEST {
            assert_eq!(code, "too_long", "{body}: {}", r.json);
            assert_eq!(r.json["fields"][0]["field"], field, "{body}: {}", r.json);
            continue;
        }
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.json
        );
        assert_eq!(r.json["code"], "invalid_input", "{body}");
        assert_eq!(r.json["fields"][0]["field"], field, "{body}: {}", r.json);
        assert_eq!(r.json["fields"][0]["code"], code, "{body}: {}", r.json);
    }
    // A member nested in an object is named by its dotted path.
    let r = app
        .call(
            Method::POST,
            "/api/v1/members",
            &owner,
            json!({"name": "嵌套", "tags": ["vip", true]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.json);
    assert_eq!(r.json["fields"][0]["field"], "tags.1", "{}", r.json);
    assert_eq!(r.json["fields"][0]["code"], "wrong_type");
    // Nothing was written; the same values within the limits are taken.
    let balance = app.member_points(&owner, &m).await.json;
    assert_eq!(balance["balance"], 0);
    let r = app
        .call(
            Method::POST,
            &path,
            &owner,
            json!({"idempotency_key": "k7", "points": most, "reason": "长".repeat(longest)}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);
}

/// The document's links (create -> read -> change) lead somewhere real: each names an
/// operation the document has, fills exactly that operation's path parameters, from a member
/// of the answer's schema or a path parameter of the request; and followed with a real
/// answer, a link reaches the thing just created.
#[tokio::test]
async fn the_documents_links_fill_real_operations_from_real_answers() {
    let app = spawn_app().await;
    let t = app.signup("links").await;
    let owner = t.owner();
    let doc: Value = app
        .raw(Method::GET, "/api/openapi.json")
        .send::<Value>()
        .await
        .json;
    let mut ops = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for op in item.as_object().expect("operations").values() {
            if let Some(id) = op["operationId"].as_str() {
                ops.insert(id.to_owned(), (path.clone(), op.clone()));
            }
        }
    }
    let path_params = |op: &Value| -> Vec<String> {
        let mut p: Vec<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        p.sort();
        p
    };
    let mut links = 0;
    for (from, (_, op)) in &ops {
        for (status, response) in op["responses"].as_object().expect("responses") {
            let Some(out) = response["links"].as_object() else {
                continue;
            };
            let body = schema(
                &doc,
                &response["content"]["application/json; charset=utf-8"]["schema"],
            );
            for (name, link) in out {
                links += 1;
                let to = link["operationId"].as_str().unwrap_or_default();
                let (_, target) = ops
                    .get(to)
                    .unwrap_or_else(|| panic!("{from} -> {to}: no such operation"));
                let given = link["parameters"].as_object().expect("parameters");
                let mut names: Vec<String> = given.keys().cloned().collect();
                names.sort();
                assert_eq!(names, path_params(target), "{from} {status} -> {name}");
                for (p, source) in given {
                    let source = source.as_str().unwrap_or_default();
                    if let Some(field) = source.strip_prefix("$response.body#/") {
                        assert!(
                            body["properties"][field].is_object(),
                            "{from} {status} -> {to}.{p}: the answer has no {field}"
                        );
                    } else if let Some(param) = source.strip_prefix("$request.path.") {
                        assert!(
                            path_params(op).contains(&param.to_owned()),
                            "{from} -> {to}.{p}: {from} has no path parameter {param}"
                        );
                    } else {
                        panic!("{from} -> {to}.{p}: {source} is not read");
                    }
                }
            }
        }
    }
    assert!(links >= 40, "the links are written: {links}");

    // Followed for real: the member just created, read and changed through the links.
    let created = app
        .call(
            Method::POST,
            "/api/v1/members",
            &owner,
            json!({ "name": "链接" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let link = &ops["createMember"].1["responses"]["201"]["links"]["getMember"];
    let field = link["parameters"]["id"]
        .as_str()
        .and_then(|s| s.strip_prefix("$response.body#/"))
        .expect("from the answer");
    let id = created.json[field].as_str().expect("an id").to_owned();
    let read = app
        .call(
            Method::GET,
            &format!("/api/v1{}", ops["getMember"].0.replace("{id}", &id)),
            &owner,
            Value::Null,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{read:?}");
    assert_eq!(read.json["name"], "链接");
}
