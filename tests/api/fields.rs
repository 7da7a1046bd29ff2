//! Member field schemas: read, validate without saving, publish, and evolve without losing
//! stored values.

use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn field(key: &str, ty: &str) -> Value {
    json!({ "key": key, "type": ty, "label": { "zh-CN": key, "en": key } })
}

#[tokio::test]
async fn a_published_schema_is_served_as_json_schema_and_ui_schema_and_a_draft_can_be_checked_without_saving(
) {
    let app = spawn_app().await;
    let t = app.signup("fields").await;
    let empty = app.fields(&t.owner()).await;
    assert_eq!(empty.status, StatusCode::OK);
    let empty = empty.body();
    assert_eq!(empty.version, 0);
    assert!(empty.builtin.iter().any(|b| b.key == "phone"));

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
    let bad = app.validate_fields(&t.owner(), &draft).await.ok();
    assert!(!bad.valid);
    assert!(
        bad.errors.iter().any(|e| e.field == "fields.7.options"),
        "{bad:?}"
    );

    let mut fixed = draft.clone();
    fixed["fields"][7]["options"] =
        json!([{ "value": "yoga", "label": { "zh-CN": "瑜伽", "en": "Yoga" } }]);
    let ok = app.validate_fields(&t.owner(), &fixed).await.body();
    assert!(ok.valid, "{ok:?}");
    assert_eq!(
        ok.json_schema.unwrap()["properties"]["age"]["maximum"],
        150.0
    );
    assert_eq!(
        app.fields(&t.owner()).await.body().version,
        0,
        "validate saves nothing"
    );

    let r = app.publish_fields(&t.owner(), &fixed).await.created();
    assert_eq!(r.version, 1);
    let got = app.fields(&t.owner()).await.body();
    assert_eq!(
        got.json_schema["properties"]["size"]["enum"],
        json!(["s", "m"])
    );
    assert_eq!(
        got.json_schema["properties"]["locker"]["pattern"],
        "^[A-Z][0-9]{3}$"
    );
    assert_eq!(got.ui_schema["ui:order"][0], "size");
    assert_eq!(got.ui_schema["size"]["ui:options"]["memberEditable"], true);
    assert_eq!(
        got.ui_schema["size"]["ui:options"]["enumLabels"]["s"]["zh-CN"],
        "小"
    );

    // Values are checked on every write, with the field's path.
    let r = app
        .create_member(&t.owner(), &json!({ "name": "A", "custom": { "age": "old", "size": "xl", "locker": "a1", "mobile2": "12", "work_email": "nope", "vip_since": "2024-13-01", "ghost": 1 } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let paths = r.fields();
    assert!(paths.iter().any(|p| p == "custom.ghost"), "{paths:?}");
    let r = app
        .create_member(&t.owner(), &json!({ "name": "A", "custom": { "age": "old", "size": "xl", "locker": "a1", "mobile2": "12", "work_email": "nope", "vip_since": "2024-13-01", "notes_long": "x".repeat(6000) } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let paths = r.fields();
    for p in [
        "custom.age",
        "custom.size",
        "custom.locker",
        "custom.mobile2",
        "custom.work_email",
        "custom.vip_since",
        "custom.notes_long",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p} missing from {paths:?}");
    }
    let list = app.list_members(&t.owner()).await.body();
    assert_eq!(list.items.len(), 0, "nothing half-written");
    let id = app
        .member(
            &t.owner(),
            NewMember::named("B").custom(json!({ "age": 30, "size": "m", "locker": "A123", "mobile2": "139 0000 1111", "classes": ["yoga"], "weight": 61.5, "trial": true, "vip_since": "2024-02-29" })),
        )
        .await
        .id;
    let m = app.get_member(&t.owner(), &id).await.body();
    assert_eq!(
        m.custom["mobile2"], "+8613900001111",
        "phones are normalised"
    );
}

#[tokio::test]
async fn fields_can_be_added_removed_and_made_required_without_losing_values() {
    let app = spawn_app().await;
    let t = app.signup("evolve").await;
    let o = t.owner();
    let mut shoe = field("shoe", "single_select");
    shoe["options"] = json!([{ "value": "42", "label": { "en": "42" } }]);
    assert_eq!(
        app.publish_fields(
            &o,
            &json!({ "fields": [field("level", "integer"), shoe.clone()] })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let with = app
        .member(
            &o,
            NewMember::named("有值").custom(json!({ "level": 3, "shoe": "42" })),
        )
        .await
        .id;
    let without = app
        .member(&o, NewMember::named("无值").custom(json!({ "shoe": "42" })))
        .await
        .id;

    // Add a field: nothing breaks.
    app.publish_fields(
        &o,
        &json!({ "fields": [field("level", "integer"), shoe.clone(), field("nickname", "text")] }),
    )
    .await
    .created();

    // Remove "shoe": archived, value still readable, no longer writable.
    let r = app
        .publish_fields(
            &o,
            &json!({ "fields": [field("level", "integer"), field("nickname", "text")] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body().archived[0].key, "shoe");
    let m = app.get_member(&o, &with).await.body();
    assert_eq!(m.archived["shoe"], "42");
    assert!(m.custom.get("shoe").is_none());
    let w = app
        .update_member(&o, &with, &json!({ "custom": { "shoe": "43" } }))
        .await;
    assert_eq!(w.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.problem().fields[0].field, "custom.shoe");
    // An unrelated edit keeps the archived value.
    let w = app
        .update_member(&o, &with, &json!({ "custom": { "nickname": "阿强" } }))
        .await
        .ok();
    assert_eq!(w.archived["shoe"], "42");

    // Make "level" required without a default: refused, with the member who has none.
    let mut level_req = field("level", "integer");
    level_req["required"] = json!(true);
    let r = app
        .publish_fields(
            &o,
            &json!({ "fields": [level_req.clone(), field("nickname", "text")] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    let conflict: FieldChangeConflict = r.error();
    assert_eq!(conflict.code, "field_change_conflict");
    assert_eq!(conflict.affected_members, 1);
    assert_eq!(conflict.member_ids, [without.as_str()]);
    assert_eq!(conflict.by_field["level"], 1);
    assert_eq!(conflict.fields[0].field, "custom.level");
    assert_eq!(app.fields(&o).await.body().version, 3, "nothing published");

    // A default of the wrong type is refused with its path.
    let r = app.publish_fields(&o, &json!({ "fields": [level_req.clone(), field("nickname", "text")], "defaults": { "level": "one" } })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].field, "defaults.level");

    // With a default: published, the member without a value is filled and audited.
    app.publish_fields(&o, &json!({ "fields": [level_req.clone(), field("nickname", "text")], "defaults": { "level": 1 } }))
        .await
        .created();
    let m = app.get_member(&o, &without).await.body();
    assert_eq!(m.custom["level"], 1);
    let a = app.member_audit(&o, &without).await;
    assert!(
        a.body().iter().any(|e| e.action == "field.backfilled"
            && e.field.as_deref() == Some("custom.level")
            && e.after == Some(json!(1))),
        "{a:?}"
    );
    assert_eq!(
        app.get_member(&o, &with).await.body().custom["level"],
        3,
        "existing values untouched"
    );
    // New members must now give it.
    let r = app.create_member(&o, &NewMember::named("新")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.problem().fields[0].field, "custom.level");

    // Narrowing a type ("nickname" text -> integer) breaks a stored value: refused, unless
    // applied to new writes only.
    let fields = json!([level_req.clone(), field("nickname", "integer")]);
    let r = app.publish_fields(&o, &json!({ "fields": fields })).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error::<FieldChangeConflict>().member_ids, [with.as_str()]);
    app.publish_fields(
        &o,
        &json!({ "fields": fields, "on_conflict": "new_writes_only" }),
    )
    .await
    .created();
    let m = app.get_member(&o, &with).await.body();
    assert_eq!(m.custom["nickname"], "阿强", "the old value is kept");
    let w = app
        .update_member(&o, &with, &json!({ "name": "改名" }))
        .await;
    assert_eq!(
        w.status,
        StatusCode::OK,
        "unrelated edits still work: {w:?}"
    );
    let w = app
        .update_member(&o, &with, &json!({ "custom": { "nickname": "x" } }))
        .await;
    assert_eq!(
        w.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "new writes follow the new type"
    );

    // Re-adding "shoe" brings its values back.
    let r = app.publish_fields(&o, &json!({ "fields": [level_req, field("nickname", "integer"), shoe], "on_conflict": "new_writes_only" })).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(app.get_member(&o, &with).await.body().custom["shoe"], "42");

    // Only fields:manage may publish.
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.publish_fields(&desk, &json!({ "fields": [] }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
