//! Members at the counter: registration, personal data protection, cards, audit, search,
//! erasure and isolation between businesses.

use patron_core::members::luhn_valid;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

async fn create(app: &TestApp, auth: &Auth, body: Value) -> Value {
    let r = app.post("/api/v1/members", auth, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn search(app: &TestApp, auth: &Auth, body: Value) -> Vec<Value> {
    let r = app.post("/api/v1/members/search", auth, body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn names(items: &[Value]) -> Vec<&str> {
    let mut n: Vec<&str> = items.iter().map(|m| m["name"].as_str().unwrap()).collect();
    n.sort_unstable();
    n
}

#[tokio::test]
async fn staff_register_members_at_the_counter_with_a_card_and_bad_input_is_refused_whole() {
    let app = spawn_app().await;
    let t = app.signup("counter").await;
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    let m = create(
        &app,
        &desk,
        json!({ "name": " 王小明 ", "phone": "138-0013 8000", "email": "Xiao.Ming@Example.com", "gender": "male", "birthday": "1990-05-01", "home_store": "徐汇店", "tags": ["vip", "瑜伽"], "notes": "likes mornings" }),
    )
    .await;
    assert_eq!(m["name"], "王小明");
    assert_eq!(m["phone"], "+8613800138000");
    assert_eq!(m["email"], "Xiao.Ming@Example.com");
    assert_eq!(m["pii_masked"], false);
    assert_eq!(m["channel"], "counter");
    let card = m["card_number"].as_str().unwrap();
    assert_eq!(card.len(), 12);
    assert!(card.starts_with('8') && luhn_valid(card), "{card}");
    assert!(m["join_date"].as_str().is_some());

    // The same phone in another formatting, or the same e-mail in other case, is taken.
    let r = app
        .post(
            "/api/v1/members",
            &desk,
            json!({ "name": "Copy", "phone": "+86 13800138000" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "phone_taken");
    let r = app
        .post(
            "/api/v1/members",
            &desk,
            json!({ "name": "Copy", "email": "xiao.ming@example.COM" }),
        )
        .await;
    assert_eq!(r.code(), "email_taken");

    // Every bad field at once, with its name; nothing written.
    let r = app
        .post("/api/v1/members", &desk, json!({ "name": "", "phone": "12345", "email": "not-mail", "gender": "robot", "birthday": "1990-02-30", "join_date": "yesterday", "tags": [""], "custom": { "nope": 1 } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let paths: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for p in [
        "name",
        "phone",
        "email",
        "gender",
        "birthday",
        "join_date",
        "tags",
        "custom.nope",
    ] {
        assert!(paths.contains(&p), "{p} missing: {paths:?}");
    }
    let r = app
        .post(
            "/api/v1/members",
            &desk,
            json!({ "name": "X", "birthday": 19900501 }),
        )
        .await;
    assert!(
        r.status.is_client_error(),
        "wrong type is 4xx: {:?}",
        r.status
    );
    let r = app
        .post(
            "/api/v1/members",
            &desk,
            json!({ "name": "x".repeat(5000) }),
        )
        .await;
    assert!(r.status.is_client_error());
    let r = app
        .post(
            "/api/v1/members",
            &desk,
            json!({ "name": "X", "unknown": 1 }),
        )
        .await;
    assert!(r.status.is_client_error());
    let list = app.get("/api/v1/members", &desk).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    // Marketers may read members but not write them.
    let (_, marketer) = app.staff_with_roles(&t, &["marketer"]).await;
    assert_eq!(
        app.post("/api/v1/members", &marketer, json!({ "name": "N" }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn phones_and_emails_are_encrypted_at_rest_and_masked_for_staff_without_read_pii() {
    let app = spawn_app().await;
    let t = app.signup("pii").await;
    let m = create(
        &app,
        &t.owner(),
        json!({ "name": "Alice", "phone": "13812345678", "email": "alice@x.com" }),
    )
    .await;
    let id = m["id"].as_str().unwrap();
    let (_, marketer) = app.staff_with_roles(&t, &["marketer"]).await;
    let seen = app.get(&format!("/api/v1/members/{id}"), &marketer).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.body["phone"], "138****5678");
    assert_eq!(seen.body["email"], "a***@x.com");
    assert_eq!(seen.body["pii_masked"], true);
    let found = search(&app, &marketer, json!({ "name": "Alice" })).await;
    assert_eq!(found[0]["phone"], "138****5678");
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.get(&format!("/api/v1/members/{id}"), &desk).await.body["phone"],
        "+8613812345678"
    );

    // In the database: ciphertext with a key id, no plaintext anywhere in the row.
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let row: (String, i16, Vec<u8>) = sqlx::query_as(&format!(
        "SELECT row_to_json(m)::text, phone_key, phone_enc FROM t_{}.members m WHERE id = $1::uuid",
        t.id
    ))
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(row.1, 1);
    assert!(
        !row.0.contains("12345678") && !row.0.contains("alice"),
        "{}",
        row.0
    );
    assert!(!row.2.windows(8).any(|w| w == b"12345678"));
}

#[tokio::test]
async fn a_lost_card_is_frozen_and_a_reissued_card_carries_the_member_over() {
    let app = spawn_app().await;
    let t = app.signup("cards").await;
    let m = create(
        &app,
        &t.owner(),
        json!({ "name": "Card Holder", "phone": "13900000001" }),
    )
    .await;
    let id = m["id"].as_str().unwrap().to_owned();
    let old = m["card_number"].as_str().unwrap().to_owned();
    let formatted = format!("{} {}", &old[..4], &old[4..]);
    assert_eq!(
        app.get(&format!("/api/v1/cards/{formatted}"), &t.owner())
            .await
            .body["id"],
        id
    );

    let r = app
        .post(
            &format!("/api/v1/members/{id}/cards/physical"),
            &t.owner(),
            json!({ "physical_code": "rfid-0001" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["physical_code"], "RFID-0001");
    assert_eq!(
        app.get("/api/v1/cards/RFID-0001", &t.owner()).await.body["id"],
        id
    );

    let r = app
        .post(&format!("/api/v1/cards/{old}/lost"), &t.owner(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "lost");
    let r = app.get(&format!("/api/v1/cards/{old}"), &t.owner()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "card_lost");
    let r = app
        .post(
            "/api/v1/members/search",
            &t.owner(),
            json!({ "card_number": old }),
        )
        .await;
    assert_eq!(r.code(), "card_lost");

    let r = app
        .post(
            &format!("/api/v1/cards/{old}/reissue"),
            &t.owner(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let new = r.body["number"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(luhn_valid(&new));
    let r = app.get(&format!("/api/v1/cards/{old}"), &t.owner()).await;
    assert_eq!(r.code(), "card_blocked");
    assert_eq!(
        app.post(
            &format!("/api/v1/cards/{old}/reissue"),
            &t.owner(),
            json!({})
        )
        .await
        .code(),
        "card_blocked"
    );
    let now = app.get(&format!("/api/v1/cards/{new}"), &t.owner()).await;
    assert_eq!(now.body["id"], id, "same member");
    assert_eq!(now.body["card_number"], new);
    assert_eq!(now.body["phone"], "+8613900000001");

    let h = app
        .get(&format!("/api/v1/members/{id}/cards"), &t.owner())
        .await;
    let events: Vec<&str> = h.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "issued",
            "physical_bound",
            "reported_lost",
            "issued",
            "blocked"
        ]
    );
    let cards = h.body["cards"].as_array().unwrap();
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0]["status"], "blocked");
    assert_eq!(cards[0]["replaced_by"], new);

    // A tenant-configured format: prefix, length, random numbers.
    let r = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/card-format",
            &t.owner(),
            json!({ "prefix": "66", "length": 16, "mode": "random", "luhn": true }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let m2 = create(&app, &t.owner(), json!({ "name": "Second" })).await;
    let n2 = m2["card_number"].as_str().unwrap();
    assert!(
        n2.len() == 16 && n2.starts_with("66") && luhn_valid(n2),
        "{n2}"
    );
    let bad = app
        .call(
            reqwest::Method::PUT,
            "/api/v1/card-format",
            &t.owner(),
            json!({ "prefix": "1234567", "length": 8, "mode": "sequence", "luhn": true }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn every_change_is_audited_and_a_verified_phone_needs_a_code_or_the_sensitive_permission() {
    let app = spawn_app().await;
    let t = app.signup("audit").await;
    assert_eq!(
        app.post(
            "/api/v1/fields/versions",
            &t.owner(),
            json!({ "fields": [{ "key": "level", "type": "integer", "label": { "en": "Level" } }] })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let (desk_id, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    let m = create(
        &app,
        &desk,
        json!({ "name": "Before", "phone": "13700000001", "custom": { "level": 1 } }),
    )
    .await;
    let id = m["id"].as_str().unwrap();
    let r = app.patch(&format!("/api/v1/members/{id}"), &desk, json!({ "name": "After", "phone": "13700000002", "tags": ["gold"], "custom": { "level": 2 }, "notes": null })).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let log = app
        .get(&format!("/api/v1/members/{id}/audit"), &desk)
        .await
        .body;
    let entries = log.as_array().unwrap();
    assert_eq!(entries[0]["action"], "member.created");
    let find = |f: &str| {
        entries
            .iter()
            .find(|e| e["field"] == f)
            .unwrap_or_else(|| panic!("{f} not audited: {log:?}"))
    };
    assert_eq!(find("name")["before"], "Before");
    assert_eq!(find("name")["after"], "After");
    assert_eq!(find("name")["actor"], format!("staff:{desk_id}"));
    assert_eq!(find("name")["channel"], "counter");
    assert_eq!(
        find("phone")["before"],
        "137****0001",
        "PII is audited masked"
    );
    assert_eq!(find("phone")["after"], "137****0002");
    assert_eq!(find("tags")["after"], json!(["gold"]));
    assert_eq!(find("custom.level")["before"], 1);
    assert_eq!(find("custom.level")["after"], 2);
    assert!(
        entries.iter().all(|e| e["field"] != "notes"),
        "unchanged fields are not logged"
    );

    // The audit log is append-only, even for the database owner.
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let e = sqlx::query(&format!("DELETE FROM t_{}.member_audit", t.id))
        .execute(&mut conn)
        .await;
    assert!(e.is_err());

    // A member with a verified phone (registered through the portal).
    let slug = &t.slug;
    assert_eq!(
        app.post(
            &format!("/api/v1/portal/{slug}/codes"),
            &Auth::None,
            json!({ "phone": "13600000001", "purpose": "register" })
        )
        .await
        .status,
        StatusCode::ACCEPTED
    );
    let code = crate::portal::last_code(&app, &t, "13600000001").await;
    let reg = app.post(&format!("/api/v1/portal/{slug}/register"), &Auth::None, json!({ "profile": { "name": "Verified", "phone": "13600000001", "custom": { "level": 1 } }, "code": code, "password": PASSWORD })).await;
    assert_eq!(reg.status, StatusCode::CREATED, "{:?}", reg.body);
    let vid = reg.body["member"]["id"].as_str().unwrap().to_owned();
    let r = app
        .patch(
            &format!("/api/v1/members/{vid}"),
            &desk,
            json!({ "phone": "13600000002" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "phone_verified");
    // With a code sent to the new number.
    assert_eq!(
        app.post(
            &format!("/api/v1/members/{vid}/phone-code"),
            &desk,
            json!({ "phone": "13600000002" })
        )
        .await
        .status,
        StatusCode::OK
    );
    let r = app
        .patch(
            &format!("/api/v1/members/{vid}"),
            &desk,
            json!({ "phone": "13600000002", "phone_code": "000000x" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = crate::portal::last_code(&app, &t, "13600000002").await;
    let r = app
        .patch(
            &format!("/api/v1/members/{vid}"),
            &desk,
            json!({ "phone": "13600000002", "phone_code": code }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["phone_verified"], true);
    // The owner holds members:manage_sensitive.
    let r = app
        .patch(
            &format!("/api/v1/members/{vid}"),
            &t.owner(),
            json!({ "phone": "13600000003" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["phone_verified"], false);
}

#[tokio::test]
async fn members_are_found_by_every_key_including_chinese_names_with_keyset_pages() {
    let app = spawn_app().await;
    let t = app.signup("search").await;
    let o = t.owner();
    let r = app
        .post("/api/v1/fields/versions", &o, json!({ "fields": [
            { "key": "level", "type": "integer", "label": { "en": "Level" } },
            { "key": "plan", "type": "single_select", "label": { "en": "Plan" }, "options": [{ "value": "gold", "label": { "en": "Gold" } }, { "value": "basic", "label": { "en": "Basic" } }] },
            { "key": "since", "type": "date", "label": { "en": "Since" } }
        ] }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let a = create(&app, &o, json!({ "name": "张伟", "phone": "13800000001", "email": "zw@example.com", "birthday": "1990-01-15", "join_date": "2023-03-01", "tags": ["vip", "yoga"], "custom": { "level": 5, "plan": "gold", "since": "2020-01-01" } })).await;
    create(&app, &o, json!({ "name": "张伟明", "phone": "13800000002", "birthday": "1985-06-30", "join_date": "2024-01-10", "tags": ["vip"], "custom": { "level": 2, "plan": "basic", "since": "2022-05-05" } })).await;
    create(&app, &o, json!({ "name": "李娜", "phone": "13800000003", "email": "lina@example.com", "birthday": "2000-12-01", "join_date": "2024-06-01", "tags": ["yoga"], "custom": { "level": 9, "plan": "gold" } })).await;
    create(
        &app,
        &o,
        json!({ "name": "Oliver Smith", "phone": "+44 20 7946 0958", "join_date": "2022-01-01" }),
    )
    .await;

    assert_eq!(
        names(&search(&app, &o, json!({ "name": "张伟" })).await),
        ["张伟", "张伟明"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "name": "伟明" })).await),
        ["张伟明"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "name": "娜" })).await),
        ["李娜"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "name": "oliver" })).await),
        ["Oliver Smith"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "name": "%" })).await),
        Vec::<&str>::new(),
        "LIKE wildcards are literal"
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "phone": "138-0000-0003" })).await),
        ["李娜"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "phone": "+86 138 0000 0003" })).await),
        ["李娜"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "email": "LINA@example.com" })).await),
        ["李娜"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "card_number": a["card_number"] })).await),
        ["张伟"]
    );
    assert_eq!(
        names(&search(&app, &o, json!({ "tags": ["vip", "yoga"] })).await),
        ["张伟"]
    );
    assert_eq!(
        names(
            &search(
                &app,
                &o,
                json!({ "custom": [{ "field": "plan", "eq": "gold" }] })
            )
            .await
        ),
        ["张伟", "李娜"]
    );
    assert_eq!(
        names(
            &search(
                &app,
                &o,
                json!({ "custom": [{ "field": "level", "min": 3, "max": 6 }] })
            )
            .await
        ),
        ["张伟"]
    );
    assert_eq!(
        names(
            &search(
                &app,
                &o,
                json!({ "custom": [{ "field": "since", "from": "2021-01-01" }] })
            )
            .await
        ),
        ["张伟明"]
    );
    assert_eq!(
        names(
            &search(
                &app,
                &o,
                json!({ "joined_from": "2024-01-01", "joined_to": "2024-03-01" })
            )
            .await
        ),
        ["张伟明"]
    );
    assert_eq!(
        names(
            &search(
                &app,
                &o,
                json!({ "birthday_from": "1989-01-01", "birthday_to": "2001-01-01" })
            )
            .await
        ),
        ["张伟", "李娜"]
    );
    // Conditions combine.
    assert_eq!(names(&search(&app, &o, json!({ "name": "张", "tags": ["yoga"], "custom": [{ "field": "plan", "eq": "gold" }] })).await), ["张伟"]);
    assert!(search(&app, &o, json!({ "phone": "13800009999" }))
        .await
        .is_empty());

    // Bad search input is 422 with the field.
    let r = app.post("/api/v1/members/search", &o, json!({ "phone": "12", "joined_from": "2024-99-01", "custom": [{ "field": "ghost", "eq": 1 }], "limit": 0 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<&str> = r.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["phone", "joined_from", "limit", "custom.0.field"]);

    // Keyset pages by join date, then by birthday (members without one come last).
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let r = app
            .post(
                "/api/v1/members/search",
                &o,
                json!({ "sort": "join_date", "limit": 1, "after": after }),
            )
            .await;
        let items = r.body["items"].as_array().unwrap();
        seen.extend(items.iter().map(|m| m["name"].as_str().unwrap().to_owned()));
        match r.body["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["Oliver Smith", "张伟", "张伟明", "李娜"]);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let r = app
            .post(
                "/api/v1/members/search",
                &o,
                json!({ "sort": "birthday", "descending": true, "limit": 2, "after": after }),
            )
            .await;
        seen.extend(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_owned()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["李娜", "张伟", "张伟明", "Oliver Smith"]);
}

#[tokio::test]
async fn erasure_removes_personal_data_keeps_the_member_under_its_id_and_is_audited() {
    let app = spawn_app().await;
    let t = app.signup("erase").await;
    let m = create(&app, &t.owner(), json!({ "name": "To Forget", "phone": "13500000001", "email": "forget@x.com", "birthday": "1991-01-01", "notes": "secret" })).await;
    let id = m["id"].as_str().unwrap();
    // A text went to the member's phone before the erasure.
    let r = app
        .post(
            &format!("/api/v1/members/{id}/phone-code"),
            &t.owner(),
            json!({ "phone": "13500000001" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let outbox = "/api/v1/sms-outbox?phone=%2B8613500000001";
    assert_eq!(
        app.get(outbox, &t.owner())
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.post(&format!("/api/v1/members/{id}/erase"), &desk, json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post(
            &format!("/api/v1/members/{id}/erase"),
            &t.owner(),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "erased");
    assert_eq!(r.body["name"], "");
    assert!(
        r.body["phone"].is_null()
            && r.body["email"].is_null()
            && r.body["birthday"].is_null()
            && r.body["notes"].is_null()
    );
    assert_eq!(r.body["id"], id, "the anonymous id stays");
    assert!(
        app.get(outbox, &t.owner())
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty(),
        "texts to the erased member's phone are gone"
    );
    assert!(search(&app, &t.owner(), json!({ "phone": "13500000001" }))
        .await
        .is_empty());
    assert!(search(&app, &t.owner(), json!({ "name": "Forget" }))
        .await
        .is_empty());
    let log = app
        .get(&format!("/api/v1/members/{id}/audit"), &t.owner())
        .await
        .body;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "member.erased" && e["actor"] == format!("staff:{}", t.owner_id)));
    // The phone is free again, and the erased member cannot be edited.
    create(
        &app,
        &t.owner(),
        json!({ "name": "New", "phone": "13500000001" }),
    )
    .await;
    assert_eq!(
        app.patch(
            &format!("/api/v1/members/{id}"),
            &t.owner(),
            json!({ "name": "Back" })
        )
        .await
        .code(),
        "member_erased"
    );
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    let row: String = sqlx::query_scalar(&format!(
        "SELECT row_to_json(m)::text FROM t_{}.members m WHERE id = $1::uuid",
        t.id
    ))
    .bind(id)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(
        !row.contains("Forget") && !row.contains("secret") && !row.contains("1991"),
        "{row}"
    );
}

#[tokio::test]
async fn members_of_one_business_are_invisible_to_another() {
    let app = spawn_app().await;
    let a = app.signup("iso-a").await;
    let b = app.signup("iso-b").await;
    let m = create(
        &app,
        &a.owner(),
        json!({ "name": "Only In A", "phone": "13300000001", "email": "a@a.com" }),
    )
    .await;
    let id = m["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/members/{id}"), &b.owner())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(search(&app, &b.owner(), json!({ "phone": "13300000001" }))
        .await
        .is_empty());
    assert!(search(&app, &b.owner(), json!({ "name": "Only" }))
        .await
        .is_empty());
    assert_eq!(
        app.get(
            &format!("/api/v1/cards/{}", m["card_number"].as_str().unwrap()),
            &b.owner()
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.patch(
            &format!("/api/v1/members/{id}"),
            &b.owner(),
            json!({ "name": "x" })
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // The same phone can be a member of both.
    create(
        &app,
        &b.owner(),
        json!({ "name": "Also In B", "phone": "13300000001" }),
    )
    .await;
}

#[tokio::test]
async fn the_plan_gates_custom_fields_and_exports_and_its_member_limit_holds_at_the_counter_and_in_imports(
) {
    let app = spawn_app().await;
    let t = app.signup_on("free-members", "free").await;
    let r = app
        .post(
            "/api/v1/fields/versions",
            &t.owner(),
            json!({ "fields": [] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{:?}", r.body);
    let r = app
        .post("/api/v1/members/export.csv", &t.owner(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    // The free plan allows 500 members: fill it through an import, then the counter and
    // further imports are refused.
    let mut file = String::from("name\n");
    for i in 0..499 {
        file.push_str(&format!("member {i}\n"));
    }
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/members/imports?format=csv&mode=valid_only",
            app.base
        ))
        .bearer_auth(&t.owner_token)
        .header("content-type", "application/octet-stream")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut report = Value::Null;
    for _ in 0..300 {
        report = app
            .get(&format!("/api/v1/members/imports/{id}"), &t.owner())
            .await
            .body;
        if report["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(report["rows_imported"], 499, "{report:?}");
    create(&app, &t.owner(), json!({ "name": "the 500th" })).await;
    let r = app
        .post(
            "/api/v1/members",
            &t.owner(),
            json!({ "name": "one too many" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{:?}", r.body);
    assert_eq!(r.code(), "limit_reached");
    // Self-service registration is refused too, in words for a member.
    let slug = &t.slug;
    let sent = app
        .post(
            &format!("/api/v1/portal/{slug}/codes"),
            &Auth::None,
            json!({ "phone": "13700009999", "purpose": "register" }),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let code = crate::portal::last_code(&app, &t, "13700009999").await;
    let r = app.post(&format!("/api/v1/portal/{slug}/register"), &Auth::None, json!({ "profile": { "name": "Late", "phone": "13700009999" }, "code": code, "password": PASSWORD })).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "registration_unavailable");
}

/// Every page of a search, following `next_cursor`, `limit` at a time.
async fn all_pages(app: &TestApp, auth: &Auth, body: Value, limit: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut b = body.clone();
        b["limit"] = json!(limit);
        b["after"] = json!(after);
        let r = app.post("/api/v1/members/search", auth, b).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() as i64 <= limit);
        out.extend(items.iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    out
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().map(|m| m["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn one_and_two_character_name_searches_find_every_match_in_order_across_keyset_pages() {
    // Arrange: names built from a few characters so pieces recur, several members created
    // at the same instant (ties broken by id), some with tags.
    let app = spawn_app().await;
    let t = app.signup("short-names").await;
    let o = t.owner();
    let surnames = ["张", "王", "李"];
    let given = ["伟", "明", "娜", "王"];
    for n in 0..36usize {
        let mut name = surnames[n % 3].to_owned();
        name.push_str(given[(n / 3) % 4]);
        if n % 2 == 0 {
            name.push_str(given[(n / 7) % 4]);
        }
        let tags: Vec<&str> = if n % 3 == 1 { vec!["vip"] } else { vec![] };
        create(&app, &o, json!({ "name": name, "tags": tags })).await;
        if n % 4 == 3 {
            app.clock.advance(chrono::Duration::seconds(1));
        }
    }
    create(&app, &o, json!({ "name": "Oliver Wang" })).await;
    // A member renamed: found by the new name only; an erased one: not found at all.
    let renamed = create(&app, &o, json!({ "name": "赵云" })).await;
    let id = renamed["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/members/{id}"),
            &o,
            json!({ "name": "王云" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let erased = create(&app, &o, json!({ "name": "王伟伟" })).await;
    let r = app
        .post(
            &format!("/api/v1/members/{}/erase", erased["id"].as_str().unwrap()),
            &o,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    // Act and assert: each search, paged 4 at a time, returns exactly the members of the
    // unfiltered list (same sort) whose name holds the piece, in the same order.
    for sort in ["created", "name", "join_date"] {
        for descending in [true, false] {
            let everyone = all_pages(
                &app,
                &o,
                json!({ "sort": sort, "descending": descending }),
                50,
            )
            .await;
            assert_eq!(everyone.len(), 38, "{sort}");
            for piece in [
                "王", "伟", "张伟", "王王", "明娜", "伟伟", "云", "赵", "o", "WA", "x",
            ] {
                for tags in [json!([]), json!(["vip"])] {
                    let expected: Vec<&Value> = everyone
                        .iter()
                        .filter(|m| {
                            m["name"]
                                .as_str()
                                .unwrap()
                                .to_lowercase()
                                .contains(&piece.to_lowercase())
                        })
                        .filter(|m| {
                            tags.as_array()
                                .unwrap()
                                .iter()
                                .all(|t| m["tags"].as_array().unwrap().contains(t))
                        })
                        .collect();
                    let found = all_pages(
                        &app,
                        &o,
                        json!({ "name": piece, "tags": tags, "sort": sort, "descending": descending }),
                        4,
                    )
                    .await;
                    assert_eq!(
                        ids(&found),
                        expected
                            .iter()
                            .map(|m| m["id"].as_str().unwrap())
                            .collect::<Vec<_>>(),
                        "{piece} {tags} by {sort}, descending {descending}"
                    );
                }
            }
        }
    }
    let found = all_pages(&app, &o, json!({ "name": "王" }), 4).await;
    assert!(found.iter().any(|m| m["id"] == renamed["id"]));
    assert!(!found.iter().any(|m| m["id"] == erased["id"]));
    assert!(all_pages(&app, &o, json!({ "name": "赵" }), 4)
        .await
        .is_empty());
    assert_eq!(
        all_pages(&app, &o, json!({ "name": "伟" }), 4).await.len(),
        15
    );
}
