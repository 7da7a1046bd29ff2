//! Unit tests of `core::fields`.

use super::*;

fn def(key: &str, ty: FieldType) -> FieldDef {
    FieldDef {
        key: key.into(),
        ty,
        label: Labels {
            zh_cn: "标签".into(),
            en: "Label".into(),
        },
        required: false,
        minimum: None,
        maximum: None,
        min_length: None,
        max_length: None,
        pattern: None,
        options: vec![],
        member_visible: true,
        member_editable: false,
        help: None,
        archived: false,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn definitions_with_bad_keys_or_constraints_are_refused_with_paths() {
    let mut a = def("Bad Key", FieldType::Text);
    a.minimum = Some(1.0);
    let b = def("phone", FieldType::Text);
    let c = def("size", FieldType::SingleSelect);
    let errs = FieldSet::parse(vec![a, b, c]).unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert!(paths.contains(&"fields.0.key"), "{paths:?}");
    assert!(paths.contains(&"fields.0.minimum"), "{paths:?}");
    assert!(paths.contains(&"fields.1.key"), "{paths:?}");
    assert!(paths.contains(&"fields.2.options"), "{paths:?}");
}

#[test]
fn values_are_checked_against_the_schema_with_field_paths() {
    let mut age = def("age", FieldType::Integer);
    age.minimum = Some(0.0);
    age.maximum = Some(150.0);
    age.required = true;
    let mut size = def("size", FieldType::SingleSelect);
    size.options = vec![FieldOption {
        value: "m".into(),
        label: Labels::default(),
    }];
    let set = FieldSet::parse(vec![age, size, def("mobile", FieldType::Phone)]).unwrap();
    let v = set.validator().unwrap();
    let ok = v
        .apply(
            &Map::new(),
            &obj(json!({"age": 30, "size": "m", "mobile": "138 0013 8000"})),
            WriteKind::Create,
            "CN",
            "custom.",
        )
        .unwrap();
    assert_eq!(ok["mobile"], "+8613800138000");
    let errs = v
        .apply(
            &Map::new(),
            &obj(json!({"age": "x", "size": "xl", "nope": 1})),
            WriteKind::Create,
            "CN",
            "custom.",
        )
        .unwrap_err();
    assert_eq!(errs[0].field, "custom.nope");
    let errs = v
        .apply(
            &Map::new(),
            &obj(json!({"age": 200, "size": "xl"})),
            WriteKind::Create,
            "CN",
            "custom.",
        )
        .unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert!(
        paths.contains(&"custom.age") && paths.contains(&"custom.size"),
        "{paths:?}"
    );
    let errs = v
        .apply(&Map::new(), &obj(json!({})), WriteKind::Create, "CN", "")
        .unwrap_err();
    assert_eq!(errs[0].field, "age");
    assert_eq!(errs[0].problem, "is required");
}

#[test]
fn removed_fields_are_archived_and_come_back_when_re_added() {
    let v1 = FieldSet::parse(vec![def("a", FieldType::Text), def("b", FieldType::Text)]).unwrap();
    let v2 = v1.evolve(vec![def("a", FieldType::Text)]).unwrap();
    assert!(v2.get("b").unwrap().archived);
    assert!(!v2.json_schema()["properties"]
        .as_object()
        .unwrap()
        .contains_key("b"));
    let v3 = v2
        .evolve(vec![def("a", FieldType::Text), def("b", FieldType::Text)])
        .unwrap();
    assert!(!v3.get("b").unwrap().archived);
    // Writing an archived field is refused; its value is kept on other writes.
    let val = v2.validator().unwrap();
    let cur = obj(json!({"a": "x", "b": "kept"}));
    assert!(val
        .apply(&cur, &obj(json!({"b": "y"})), WriteKind::Patch, "CN", "")
        .is_err());
    let merged = val
        .apply(&cur, &obj(json!({"a": "z"})), WriteKind::Patch, "CN", "")
        .unwrap();
    assert_eq!(merged["b"], "kept");
}

#[test]
fn tightening_is_detected_and_widening_is_not() {
    let v1 = FieldSet::parse(vec![
        def("a", FieldType::Integer),
        def("t", FieldType::Text),
    ])
    .unwrap();
    let mut req = def("a", FieldType::Integer);
    req.required = true;
    let v2 = v1.evolve(vec![req, def("t", FieldType::LongText)]).unwrap();
    assert_eq!(v2.tightened_since(&v1), vec!["a".to_string()]);
    let v3 = v1
        .evolve(vec![
            def("a", FieldType::Decimal),
            def("t", FieldType::Integer),
        ])
        .unwrap();
    assert_eq!(v3.tightened_since(&v1), vec!["t".to_string()]);
    let mut new_req = def("n", FieldType::Text);
    new_req.required = true;
    let v4 = v1
        .evolve(vec![
            def("a", FieldType::Integer),
            def("t", FieldType::Text),
            new_req,
        ])
        .unwrap();
    assert_eq!(v4.tightened_since(&v1), vec!["n".to_string()]);
    assert_eq!(
        v4.validator().unwrap().violations(&obj(json!({"a": 1}))),
        vec!["n".to_string()]
    );
}

#[test]
fn patches_only_answer_for_the_keys_they_write() {
    let mut n = def("n", FieldType::Integer);
    n.required = true;
    let set = FieldSet::parse(vec![n, def("t", FieldType::Text)]).unwrap();
    let v = set.validator().unwrap();
    // "n" holds a value from before it was an integer; editing "t" still works.
    let cur = obj(json!({"n": "legacy"}));
    assert!(v
        .apply(&cur, &obj(json!({"t": "x"})), WriteKind::Patch, "CN", "")
        .is_ok());
    assert!(v
        .apply(&cur, &obj(json!({"n": null})), WriteKind::Patch, "CN", "")
        .is_err());
}

#[test]
fn staff_only_fields_are_left_out_of_what_members_see_and_fill() {
    let mut expiry = def("expires", FieldType::Date);
    expiry.member_visible = false;
    expiry.required = true;
    let mut size = def("size", FieldType::SingleSelect);
    size.required = true;
    size.options = vec![FieldOption {
        value: "m".into(),
        label: Labels::default(),
    }];
    let set = FieldSet::parse(vec![expiry, size]).unwrap();
    let members = set.for_members();
    let schema = members.json_schema();
    assert!(schema["properties"].get("expires").is_none());
    assert_eq!(schema["required"], json!(["size"]));
    assert_eq!(members.ui_schema()["ui:order"], json!(["size"]));
    // Staff still must fill the required staff-only field; members must not send it.
    let v = set.validator().unwrap();
    let errs = v
        .apply(
            &Map::new(),
            &obj(json!({"size": "m"})),
            WriteKind::Create,
            "CN",
            "",
        )
        .unwrap_err();
    assert_eq!(errs[0].field, "expires");
    let m = members.validator().unwrap();
    assert!(m
        .apply(
            &Map::new(),
            &obj(json!({"size": "m"})),
            WriteKind::Create,
            "CN",
            ""
        )
        .is_ok());
    let errs = m
        .apply(
            &Map::new(),
            &obj(json!({"size": "m", "expires": "2030-01-01"})),
            WriteKind::Create,
            "CN",
            "",
        )
        .unwrap_err();
    assert_eq!(errs[0].field, "expires");
    // A required select left empty is refused, not given its first option.
    let errs = m
        .apply(&Map::new(), &Map::new(), WriteKind::Create, "CN", "")
        .unwrap_err();
    assert_eq!(
        (errs[0].field.as_str(), errs[0].problem.as_str()),
        ("size", "is required")
    );
}

#[test]
fn fields_stored_before_visibility_existed_stay_visible_and_editable_needs_visible() {
    let stored: FieldDef = serde_json::from_value(json!({
        "key": "shoe", "type": "integer", "label": {"zh-CN": "鞋码"}, "member_editable": true
    }))
    .unwrap();
    assert!(stored.member_visible);
    let mut hidden = def("notes_x", FieldType::Text);
    hidden.member_visible = false;
    hidden.member_editable = true;
    let errs = FieldSet::parse(vec![hidden]).unwrap_err();
    assert_eq!(errs[0].field, "fields.0.member_visible");
}
