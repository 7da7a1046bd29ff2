//! Member field schemas: read, validate without saving, publish, and evolve without losing
//! stored values.

use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn field(key: &str, ty: &str) -> Value {
    json!({ "key": key, "type": ty, "label": { "zh-CN": key, "en": key } })
}

async fn publish(app: &TestApp, t: &TestTenant, body: Value) -> Reply {
    app.post("/api/v1/fields/versions", &t.owner(), body).await
}

async fn member(app: &TestApp, t: &TestTenant, name: &str, custom: Value) -> String {
    let r = app
        .post(
            "/api/v1/members",
            &t.owner(),
            json!({ "name": name, "custom": custom }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_published_schema_is_served_as_json_schema_and_ui_schema_and_a_draft_can_be_checked_without_saving(
) {
    let app = spawn_app().await;
    let t = app.signup("fields").await;
    let empty = app.get("/api/v1/fields", &t.owner()).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["version"], 0);
    assert!(empty.body["builtin"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["key"] == "phone"));

    let mut size = field("size", "single_select");
    size["options"] = json!([{ "value": "s", "label": { "zh-CN": "小", "en": "Small" } }, { "value": "m", "label": { "zh-CN": "中", "en": "Medium" } }]);
    size["member_editable"] = json!(true);
    let mut age = field("age", "integer");
    age["minimum"] = json!(0);
    age["maximum"] = json!(150);
    let mut code = field("locker", "text");
    code["pattern"] = json!("^[A-Z][0-9]{3}$");
    let draft = json!({ "fields": [size, age, code, field("notes_long", "long_text"), field("vip_since", "date"), field("trial", "boolean"), field("weight", "decimal"), field("classes", "multi_select"), field("mobile2", "phone"), field("work_email", "email")] });

    // A bad draft: every problem with its path, nothing saved.
    let bad = app
        .post("/api/v1/fields/validate", &t.owner(), draft.clone())
        .await;
    assert_eq!(bad.status, StatusCode::OK, "{:?}", bad.body);
    assert_eq!(bad.body["valid"], false);
    assert!(
        bad.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "fields.7.options"),
        "{:?}",
        bad.body
    );

    let mut fixed = draft.clone();
    fixed["fields"][7]["options"] =
        json!([{ "value": "yoga", "label": { "zh-CN": "瑜伽", "en": "Yoga" } }]);
    let ok = app
        .post("/api/v1/fields/validate", &t.owner(), fixed.clone())
        .await;
    assert_eq!(ok.body["valid"], true, "{:?}", ok.body);
    assert_eq!(
        ok.body["json_schema"]["properties"]["age"]["maximum"],
        150.0
    );
    assert_eq!(
        app.get("/api/v1/fields", &t.owner()).await.body["version"],
        0,
        "validate saves nothing"
    );

    let r = publish(&app, &t, fixed).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["version"], 1);
    let got = app.get("/api/v1/fields", &t.owner()).await.body;
    assert_eq!(
        got["json_schema"]["properties"]["size"]["enum"],
        json!(["s", "m"])
    );
    assert_eq!(
        got["json_schema"]["properties"]["locker"]["pattern"],
        "^[A-Z][0-9]{3}$"
    );
    assert_eq!(got["ui_schema"]["ui:order"][0], "size");
    assert_eq!(
        got["ui_schema"]["size"]["ui:options"]["memberEditable"],
        true
    );
    assert_eq!(
        got["ui_schema"]["size"]["ui:options"]["enumLabels"]["s"]["zh-CN"],
        "小"
    );

    // Values are checked on every write, with the field's path.
    let r = app
        .post("/api/v1/members", &t.owner(), json!({ "name": "A", "custom": { "age": "old", "size": "xl", "locker": "a1", "mobile2": "12", "work_email": "nope", "vip_since": "2024-13-01", "ghost": 1 } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let paths: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"custom.ghost"), "{paths:?}");
    let r = app
        .post("/api/v1/members", &t.owner(), json!({ "name": "A", "custom": { "age": "old", "size": "xl", "locker": "a1", "mobile2": "12", "work_email": "nope", "vip_since": "2024-13-01", "notes_long": "x".repeat(6000) } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let paths: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for p in [
        "custom.age",
        "custom.size",
        "custom.locker",
        "custom.mobile2",
        "custom.work_email",
        "custom.vip_since",
        "custom.notes_long",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    let list = app.get("/api/v1/members", &t.owner()).await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        0,
        "nothing half-written"
    );
    let id = member(&app, &t, "B", json!({ "age": 30, "size": "m", "locker": "A123", "mobile2": "139 0000 1111", "classes": ["yoga"], "weight": 61.5, "trial": true, "vip_since": "2024-02-29" })).await;
    let m = app.get(&format!("/api/v1/members/{id}"), &t.owner()).await;
    assert_eq!(
        m.body["custom"]["mobile2"], "+8613900001111",
        "phones are normalised"
    );
}

#[tokio::test]
async fn fields_can_be_added_removed_and_made_required_without_losing_values() {
    let app = spawn_app().await;
    let t = app.signup("evolve").await;
    let mut shoe = field("shoe", "single_select");
    shoe["options"] = json!([{ "value": "42", "label": { "en": "42" } }]);
    assert_eq!(
        publish(
            &app,
            &t,
            json!({ "fields": [field("level", "integer"), shoe.clone()] })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let with = member(&app, &t, "有值", json!({ "level": 3, "shoe": "42" })).await;
    let without = member(&app, &t, "无值", json!({ "shoe": "42" })).await;

    // Add a field: nothing breaks.
    let r = publish(
        &app,
        &t,
        json!({ "fields": [field("level", "integer"), shoe.clone(), field("nickname", "text")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    // Remove "shoe": archived, value still readable, no longer writable.
    let r = publish(
        &app,
        &t,
        json!({ "fields": [field("level", "integer"), field("nickname", "text")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["archived"][0]["key"], "shoe");
    let m = app
        .get(&format!("/api/v1/members/{with}"), &t.owner())
        .await;
    assert_eq!(m.body["archived"]["shoe"], "42");
    assert!(m.body["custom"].get("shoe").is_none());
    let w = app
        .patch(
            &format!("/api/v1/members/{with}"),
            &t.owner(),
            json!({ "custom": { "shoe": "43" } }),
        )
        .await;
    assert_eq!(w.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.body["fields"][0]["field"], "custom.shoe");
    // An unrelated edit keeps the archived value.
    let w = app
        .patch(
            &format!("/api/v1/members/{with}"),
            &t.owner(),
            json!({ "custom": { "nickname": "阿强" } }),
        )
        .await;
    assert_eq!(w.status, StatusCode::OK, "{:?}", w.body);
    assert_eq!(w.body["archived"]["shoe"], "42");

    // Make "level" required without a default: refused, with the member who has none.
    let mut level_req = field("level", "integer");
    level_req["required"] = json!(true);
    let r = publish(
        &app,
        &t,
        json!({ "fields": [level_req.clone(), field("nickname", "text")] }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.body["code"], "field_change_conflict");
    assert_eq!(r.body["affected_members"], 1);
    assert_eq!(r.body["member_ids"], json!([without]));
    assert_eq!(r.body["by_field"]["level"], 1);
    assert_eq!(r.body["fields"][0]["field"], "custom.level");
    assert_eq!(
        app.get("/api/v1/fields", &t.owner()).await.body["version"],
        3,
        "nothing published"
    );

    // A default of the wrong type is refused with its path.
    let r = publish(&app, &t, json!({ "fields": [level_req.clone(), field("nickname", "text")], "defaults": { "level": "one" } })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["fields"][0]["field"], "defaults.level");

    // With a default: published, the member without a value is filled and audited.
    let r = publish(&app, &t, json!({ "fields": [level_req.clone(), field("nickname", "text")], "defaults": { "level": 1 } })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let m = app
        .get(&format!("/api/v1/members/{without}"), &t.owner())
        .await;
    assert_eq!(m.body["custom"]["level"], 1);
    let a = app
        .get(&format!("/api/v1/members/{without}/audit"), &t.owner())
        .await;
    assert!(
        a.body
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "field.backfilled"
                && e["field"] == "custom.level"
                && e["after"] == 1),
        "{:?}",
        a.body
    );
    assert_eq!(
        app.get(&format!("/api/v1/members/{with}"), &t.owner())
            .await
            .body["custom"]["level"],
        3,
        "existing values untouched"
    );
    // New members must now give it.
    let r = app
        .post("/api/v1/members", &t.owner(), json!({ "name": "新" }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["fields"][0]["field"], "custom.level");

    // Narrowing a type ("nickname" text -> integer) breaks a stored value: refused, unless
    // applied to new writes only.
    let fields = json!([level_req.clone(), field("nickname", "integer")]);
    let r = publish(&app, &t, json!({ "fields": fields })).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["member_ids"], json!([with]));
    let r = publish(
        &app,
        &t,
        json!({ "fields": fields, "on_conflict": "new_writes_only" }),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let m = app
        .get(&format!("/api/v1/members/{with}"), &t.owner())
        .await;
    assert_eq!(
        m.body["custom"]["nickname"], "阿强",
        "the old value is kept"
    );
    let w = app
        .patch(
            &format!("/api/v1/members/{with}"),
            &t.owner(),
            json!({ "name": "改名" }),
        )
        .await;
    assert_eq!(
        w.status,
        StatusCode::OK,
        "unrelated edits still work: {:?}",
        w.body
    );
    let w = app
        .patch(
            &format!("/api/v1/members/{with}"),
            &t.owner(),
            json!({ "custom": { "nickname": "x" } }),
        )
        .await;
    assert_eq!(
        w.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "new writes follow the new type"
    );

    // Re-adding "shoe" brings its values back.
    let r = publish(&app, &t, json!({ "fields": [level_req, field("nickname", "integer"), shoe], "on_conflict": "new_writes_only" })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        app.get(&format!("/api/v1/members/{with}"), &t.owner())
            .await
            .body["custom"]["shoe"],
        "42"
    );

    // Only fields:manage may publish.
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.post("/api/v1/fields/versions", &desk, json!({ "fields": [] }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
