//! Members at the counter: registration, personal data protection, cards, audit, search,
//! erasure and isolation between businesses.
//!
//! Longer than 600 lines on purpose: each test is a whole scenario told top to bottom, and the
//! capability's scenarios stay in one file so a reader finds them by its name.

use patron_core::members::luhn_valid;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

async fn search(app: &TestApp, auth: &Auth, query: Value) -> Vec<Member> {
    app.search_members(auth, &query).await.ok().items
}

fn names(items: &[Member]) -> Vec<&str> {
    let mut n: Vec<&str> = items.iter().map(|m| m.name.as_str()).collect();
    n.sort_unstable();
    n
}

#[tokio::test]
async fn staff_register_members_at_the_counter_with_a_card_and_bad_input_is_refused_whole() {
    let app = spawn_app().await;
    let t = app.signup("counter").await;
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    let m = app
        .member(
            &desk,
            NewMember::named(" 王小明 ")
                .phone("138-0013 8000")
                .email("Xiao.Ming@Example.com")
                .gender("male")
                .birthday("1990-05-01")
                .home_store("徐汇店")
                .tags(&["vip", "瑜伽"])
                .notes("likes mornings"),
        )
        .await;
    assert_eq!(m.name, "王小明");
    assert_eq!(m.phone.as_deref(), Some("+8613800138000"));
    assert_eq!(m.email.as_deref(), Some("Xiao.Ming@Example.com"));
    assert!(!m.pii_masked);
    assert_eq!(m.channel, "counter");
    let card = m.card();
    assert_eq!(card.len(), 12);
    assert!(card.starts_with('8') && luhn_valid(card), "{card}");
    assert!(m.join_date.is_some());

    // The same phone in another formatting, or the same e-mail in other case, is taken.
    let r = app
        .create_member(&desk, &NewMember::named("Copy").phone("+86 13800138000"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "phone_taken");
    let r = app
        .create_member(
            &desk,
            &NewMember::named("Copy").email("xiao.ming@example.COM"),
        )
        .await;
    assert_eq!(r.code(), "email_taken");

    // Every bad field at once, with its name; nothing written.
    let r = app
        .create_member(&desk, &json!({ "name": "", "phone": "12345", "email": "not-mail", "gender": "robot", "birthday": "1990-02-30", "join_date": "yesterday", "tags": [""], "custom": { "nope": 1 } }))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let paths = r.fields();
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
        assert!(paths.iter().any(|x| x == p), "{p} missing: {paths:?}");
    }
    // Each with a stable code and the values its text needs, beside the English words.
    let problems = r.problem().fields;
    let of = |f: &str| problems.iter().find(|p| p.field == f).unwrap().clone();
    assert_eq!(of("name").code, "required");
    let phone = of("phone");
    assert_eq!(
        (phone.code.as_str(), &phone.params["value"]),
        ("not_a_phone", &json!("12345")),
        "{phone:?}"
    );
    assert_eq!(phone.problem, "\"12345\" is not a phone number");
    assert_eq!(of("email").code, "not_an_email");
    assert_eq!(of("gender").code, "not_one_of");
    assert_eq!(of("birthday").code, "not_a_date");
    assert_eq!(of("custom.nope").code, "unknown");
    let r = app
        .create_member(&desk, &json!({ "name": "X", "birthday": 19900501 }))
        .await;
    assert!(
        r.status.is_client_error(),
        "wrong type is 4xx: {:?}",
        r.status
    );
    let r = app
        .create_member(&desk, &NewMember::named("x".repeat(5000)))
        .await;
    assert!(r.status.is_client_error());
    let r = app
        .create_member(&desk, &json!({ "name": "X", "unknown": 1 }))
        .await;
    assert!(r.status.is_client_error());
    let list = app.list_members(&desk).await.body();
    assert_eq!(list.items.len(), 1);

    // Marketers may read members but not write them.
    let (_, marketer) = app.staff_with_roles(&t, &["marketer"]).await;
    assert_eq!(
        app.create_member(&marketer, &NewMember::named("N"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn phones_and_emails_are_encrypted_at_rest_and_masked_for_staff_without_read_pii() {
    let app = spawn_app().await;
    let t = app.signup("pii").await;
    let m = app
        .member(
            &t.owner(),
            NewMember::named("Alice")
                .phone("13812345678")
                .email("alice@x.com"),
        )
        .await;
    let id = m.id.as_str();
    let (_, marketer) = app.staff_with_roles(&t, &["marketer"]).await;
    let seen = app.get_member(&marketer, id).await;
    assert_eq!(seen.status, StatusCode::OK);
    let seen = seen.body();
    assert_eq!(seen.phone.as_deref(), Some("138****5678"));
    assert_eq!(seen.email.as_deref(), Some("a***@x.com"));
    assert!(seen.pii_masked);
    let found = search(&app, &marketer, json!({ "name": "Alice" })).await;
    assert_eq!(found[0].phone.as_deref(), Some("138****5678"));
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.get_member(&desk, id).await.body().phone.as_deref(),
        Some("+8613812345678")
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
    let o = t.owner();
    let m = app
        .member(&o, NewMember::named("Card Holder").phone("13900000001"))
        .await;
    let id = m.id.clone();
    let old = m.card().to_owned();
    let formatted = format!("{} {}", &old[..4], &old[4..]);
    assert_eq!(app.lookup_card(&o, &formatted).await.body().id, id);

    let r = app.bind_physical_card(&o, &id, "rfid-0001").await.ok();
    assert_eq!(r.physical_code.as_deref(), Some("RFID-0001"));
    assert_eq!(app.lookup_card(&o, "RFID-0001").await.body().id, id);

    let r = app.report_card_lost(&o, &old).await.ok();
    assert_eq!(r.status, "lost");
    let r = app.lookup_card(&o, &old).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "card_lost");
    let r = app.search_members(&o, &json!({ "card_number": old })).await;
    assert_eq!(r.code(), "card_lost");

    let r = app.reissue_card(&o, &old).await.ok();
    let new = r.number;
    assert_ne!(new, old);
    assert!(luhn_valid(&new));
    let r = app.lookup_card(&o, &old).await;
    assert_eq!(r.code(), "card_blocked");
    assert_eq!(app.reissue_card(&o, &old).await.code(), "card_blocked");
    let now = app.lookup_card(&o, &new).await.body();
    assert_eq!(now.id, id, "same member");
    assert_eq!(now.card_number.as_deref(), Some(new.as_str()));
    assert_eq!(now.phone.as_deref(), Some("+8613900000001"));

    let h = app.member_cards(&o, &id).await.body();
    let events: Vec<&str> = h.history.iter().map(|e| e.event.as_str()).collect();
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
    let cards = &h.cards;
    assert_eq!(cards.len(), 2);
    assert_eq!(cards[0].status, "blocked");
    assert_eq!(cards[0].replaced_by.as_deref(), Some(new.as_str()));

    // A tenant-configured format: prefix, length, random numbers.
    app.set_card_format(
        &o,
        &json!({ "prefix": "66", "length": 16, "mode": "random", "luhn": true }),
    )
    .await
    .ok();
    let m2 = app.member(&o, NewMember::named("Second")).await;
    let n2 = m2.card();
    assert!(
        n2.len() == 16 && n2.starts_with("66") && luhn_valid(n2),
        "{n2}"
    );
    let bad = app
        .set_card_format(
            &o,
            &json!({ "prefix": "1234567", "length": 8, "mode": "sequence", "luhn": true }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn every_change_is_audited_and_a_verified_phone_needs_a_code_or_the_sensitive_permission() {
    let app = spawn_app().await;
    let t = app.signup("audit").await;
    assert_eq!(
        app.publish_fields(
            &t.owner(),
            &json!({ "fields": [{ "key": "level", "type": "integer", "label": { "en": "Level" } }] })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let (desk_id, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    let m = app
        .member(
            &desk,
            NewMember::named("Before")
                .phone("13700000001")
                .custom(json!({ "level": 1 })),
        )
        .await;
    let id = m.id.as_str();
    app.update_member(&desk, id, &json!({ "name": "After", "phone": "13700000002", "tags": ["gold"], "custom": { "level": 2 }, "notes": null }))
        .await
        .ok();
    let entries = app.member_audit(&desk, id).await.body();
    assert_eq!(entries[0].action, "member.created");
    let find = |f: &str| {
        entries
            .iter()
            .find(|e| e.field.as_deref() == Some(f))
            .unwrap_or_else(|| panic!("{f} not audited: {entries:?}"))
    };
    assert_eq!(find("name").before, Some(json!("Before")));
    assert_eq!(find("name").after, Some(json!("After")));
    assert_eq!(find("name").actor, format!("staff:{desk_id}"));
    assert_eq!(find("name").channel, "counter");
    assert_eq!(
        find("phone").before,
        Some(json!("137****0001")),
        "PII is audited masked"
    );
    assert_eq!(find("phone").after, Some(json!("137****0002")));
    assert_eq!(find("tags").after, Some(json!(["gold"])));
    assert_eq!(find("custom.level").before, Some(json!(1)));
    assert_eq!(find("custom.level").after, Some(json!(2)));
    assert!(
        entries.iter().all(|e| e.field.as_deref() != Some("notes")),
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
        app.send_portal_code(slug, "13600000001", "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(&t, "13600000001").await;
    let reg = app.register_member(slug, &json!({ "profile": { "name": "Verified", "phone": "13600000001", "custom": { "level": 1 } }, "code": code, "password": PASSWORD })).await;
    let vid = reg.created().member.id;
    let r = app
        .update_member(&desk, &vid, &json!({ "phone": "13600000002" }))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "phone_verified");
    // With a code sent to the new number.
    assert_eq!(
        app.send_member_phone_code(&desk, &vid, "13600000002")
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .update_member(
            &desk,
            &vid,
            &json!({ "phone": "13600000002", "phone_code": "000000x" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = app.last_code(&t, "13600000002").await;
    let r = app
        .update_member(
            &desk,
            &vid,
            &json!({ "phone": "13600000002", "phone_code": code }),
        )
        .await
        .ok();
    assert!(r.phone_verified);
    // The owner holds members:manage_sensitive.
    let r = app
        .update_member(&t.owner(), &vid, &json!({ "phone": "13600000003" }))
        .await
        .ok();
    assert!(!r.phone_verified);
}

#[tokio::test]
async fn members_are_found_by_every_key_including_chinese_names_with_keyset_pages() {
    let app = spawn_app().await;
    let t = app.signup("search").await;
    let o = t.owner();
    app.publish_fields(&o, &json!({ "fields": [
            { "key": "level", "type": "integer", "label": { "en": "Level" } },
            { "key": "plan", "type": "single_select", "label": { "en": "Plan" }, "options": [{ "value": "gold", "label": { "en": "Gold" } }, { "value": "basic", "label": { "en": "Basic" } }] },
            { "key": "since", "type": "date", "label": { "en": "Since" } }
        ] }))
        .await
        .created();
    let a = app
        .member(
            &o,
            NewMember::named("张伟")
                .phone("13800000001")
                .email("zw@example.com")
                .birthday("1990-01-15")
                .join_date("2023-03-01")
                .tags(&["vip", "yoga"])
                .custom(json!({ "level": 5, "plan": "gold", "since": "2020-01-01" })),
        )
        .await;
    app.member(
        &o,
        NewMember::named("张伟明")
            .phone("13800000002")
            .birthday("1985-06-30")
            .join_date("2024-01-10")
            .tags(&["vip"])
            .custom(json!({ "level": 2, "plan": "basic", "since": "2022-05-05" })),
    )
    .await;
    app.member(
        &o,
        NewMember::named("李娜")
            .phone("13800000003")
            .email("lina@example.com")
            .birthday("2000-12-01")
            .join_date("2024-06-01")
            .tags(&["yoga"])
            .custom(json!({ "level": 9, "plan": "gold" })),
    )
    .await;
    app.member(
        &o,
        NewMember::named("Oliver Smith")
            .phone("+44 20 7946 0958")
            .join_date("2022-01-01"),
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
        names(&search(&app, &o, json!({ "card_number": a.card_number })).await),
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
    let r = app.search_members(&o, &json!({ "phone": "12", "joined_from": "2024-99-01", "custom": [{ "field": "ghost", "eq": 1 }], "limit": 0 })).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.fields(),
        ["phone", "joined_from", "limit", "custom.0.field"]
    );

    // Keyset pages by join date, then by birthday (members without one come last).
    let seen: Vec<String> = app
        .search_all(&o, json!({ "sort": "join_date" }), 1)
        .await
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(seen, ["Oliver Smith", "张伟", "张伟明", "李娜"]);
    let seen: Vec<String> = app
        .search_all(&o, json!({ "sort": "birthday", "descending": true }), 2)
        .await
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(seen, ["李娜", "张伟", "张伟明", "Oliver Smith"]);
}

#[tokio::test]
async fn erasure_removes_personal_data_keeps_the_member_under_its_id_and_is_audited() {
    let app = spawn_app().await;
    let t = app.signup("erase").await;
    let o = t.owner();
    let m = app
        .member(
            &o,
            NewMember::named("To Forget")
                .phone("13500000001")
                .email("forget@x.com")
                .birthday("1991-01-01")
                .notes("secret"),
        )
        .await;
    let id = m.id.as_str();
    // A text went to the member's phone before the erasure.
    app.send_member_phone_code(&o, id, "13500000001").await.ok();
    let outbox = || app.sms_outbox(&o, Some("+8613500000001"));
    assert_eq!(outbox().await.body().len(), 1);
    let (_, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(
        app.erase_member(&desk, id).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.erase_member(&o, id).await.ok();
    assert_eq!(r.status, "erased");
    assert_eq!(r.name, "");
    assert!(r.phone.is_none() && r.email.is_none() && r.birthday.is_none() && r.notes.is_none());
    assert_eq!(r.id, id, "the anonymous id stays");
    assert!(
        outbox().await.body().is_empty(),
        "texts to the erased member's phone are gone"
    );
    assert!(search(&app, &o, json!({ "phone": "13500000001" }))
        .await
        .is_empty());
    assert!(search(&app, &o, json!({ "name": "Forget" }))
        .await
        .is_empty());
    let log = app.member_audit(&o, id).await.body();
    assert!(log
        .iter()
        .any(|e| e.action == "member.erased" && e.actor == format!("staff:{}", t.owner_id)));
    // The phone is free again, and the erased member cannot be edited.
    app.member(&o, NewMember::named("New").phone("13500000001"))
        .await;
    assert_eq!(
        app.update_member(&o, id, &json!({ "name": "Back" }))
            .await
            .code(),
        "member_erased"
    );
    // Nor can points be redeemed from them, twice under one key (the first refusal kept
    // nothing of its key), and a member who never existed is not found.
    for _ in 0..2 {
        let r = app
            .redeem_points(
                &o,
                id,
                &json!({ "idempotency_key": "erased-1", "points": 1, "reward": "Tea" }),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "member_erased")
        );
    }
    let r = app
        .redeem_points(
            &o,
            &uuid::Uuid::new_v4().to_string(),
            &json!({ "idempotency_key": "nobody-1", "points": 1, "reward": "Tea" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
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
    let m = app
        .member(
            &a.owner(),
            NewMember::named("Only In A")
                .phone("13300000001")
                .email("a@a.com"),
        )
        .await;
    let id = m.id.as_str();
    assert_eq!(
        app.get_member(&b.owner(), id).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(search(&app, &b.owner(), json!({ "phone": "13300000001" }))
        .await
        .is_empty());
    assert!(search(&app, &b.owner(), json!({ "name": "Only" }))
        .await
        .is_empty());
    assert_eq!(
        app.lookup_card(&b.owner(), m.card()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.update_member(&b.owner(), id, &json!({ "name": "x" }))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The same phone can be a member of both.
    app.member(
        &b.owner(),
        NewMember::named("Also In B").phone("13300000001"),
    )
    .await;
}

#[tokio::test]
async fn the_plan_gates_custom_fields_and_exports_and_its_member_limit_holds_at_the_counter_and_in_imports(
) {
    let app = spawn_app().await;
    let t = app.signup_on("free-members", "free").await;
    let r = app
        .publish_fields(&t.owner(), &json!({ "fields": [] }))
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    let r = app.export_members_csv(&t.owner(), &json!({})).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED);
    // The free plan allows 500 members: fill it through an import, then the counter and
    // further imports are refused.
    let mut file = String::from("name\n");
    for i in 0..499 {
        file.push_str(&format!("member {i}\n"));
    }
    let report = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "valid_only"),
            file.into_bytes(),
        )
        .await;
    assert_eq!(report.rows_imported, 499, "{report:?}");
    app.member(&t.owner(), NewMember::named("the 500th")).await;
    let r = app
        .create_member(&t.owner(), &NewMember::named("one too many"))
        .await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    assert_eq!(r.code(), "limit_reached");
    let report = app
        .import_members(
            &t.owner(),
            &ImportOptions::new("csv", "valid_only"),
            b"name\nlate one\nlate two\n".to_vec(),
        )
        .await;
    assert_eq!(
        (report.status.as_str(), report.rows_imported),
        ("failed", 0),
        "{report:?}"
    );
    assert_eq!(report.message_code.as_deref(), Some("plan_limit"));
    let p = &report.message_params;
    assert_eq!(
        (&p["allowed"], &p["usage"], &p["adding"]),
        (&json!(500), &json!(500), &json!(2))
    );
    // Self-service registration is refused too, in words for a member.
    let slug = &t.slug;
    let sent = app.send_portal_code(slug, "13700009999", "register").await;
    assert_eq!(sent.status, StatusCode::ACCEPTED);
    let code = app.last_code(&t, "13700009999").await;
    let r = app.register_member(slug, &json!({ "profile": { "name": "Late", "phone": "13700009999" }, "code": code, "password": PASSWORD })).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "registration_unavailable");
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
        let tags: &[&str] = if n % 3 == 1 { &["vip"] } else { &[] };
        app.member(&o, NewMember::named(name).tags(tags)).await;
        if n % 4 == 3 {
            app.clock.advance(chrono::Duration::seconds(1));
        }
    }
    app.member(&o, NewMember::named("Oliver Wang")).await;
    // A member renamed: found by the new name only; an erased one: not found at all.
    let renamed = app.member(&o, NewMember::named("赵云")).await;
    app.update_member(&o, &renamed.id, &json!({ "name": "王云" }))
        .await
        .ok();
    let erased = app.member(&o, NewMember::named("王伟伟")).await;
    app.erase_member(&o, &erased.id).await.ok();

    // Act and assert: each search, paged 4 at a time, returns exactly the members of the
    // unfiltered list (same sort) whose name holds the piece, in the same order.
    for sort in ["created", "name", "join_date"] {
        for descending in [true, false] {
            let everyone = app
                .search_all(&o, json!({ "sort": sort, "descending": descending }), 50)
                .await;
            assert_eq!(everyone.len(), 38, "{sort}");
            for piece in [
                "王", "伟", "张伟", "王王", "明娜", "伟伟", "云", "赵", "o", "WA", "x",
            ] {
                for tags in [json!([]), json!(["vip"])] {
                    let expected: Vec<&str> = everyone
                        .iter()
                        .filter(|m| m.name.to_lowercase().contains(&piece.to_lowercase()))
                        .filter(|m| {
                            tags.as_array()
                                .unwrap()
                                .iter()
                                .all(|t| m.tags.iter().any(|x| x == t))
                        })
                        .map(|m| m.id.as_str())
                        .collect();
                    let found = app
                        .search_all(
                            &o,
                            json!({ "name": piece, "tags": tags, "sort": sort, "descending": descending }),
                            4,
                        )
                        .await;
                    assert_eq!(
                        found.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
                        expected,
                        "{piece} {tags} by {sort}, descending {descending}"
                    );
                }
            }
        }
    }
    let found = app.search_all(&o, json!({ "name": "王" }), 4).await;
    assert!(found.iter().any(|m| m.id == renamed.id));
    assert!(!found.iter().any(|m| m.id == erased.id));
    assert!(app
        .search_all(&o, json!({ "name": "赵" }), 4)
        .await
        .is_empty());
    assert_eq!(
        app.search_all(&o, json!({ "name": "伟" }), 4).await.len(),
        15
    );
}

#[tokio::test]
async fn the_member_list_shows_points_and_last_visit_sorts_by_points_counts_and_takes_a_selection()
{
    let app = spawn_app().await;
    let t = app.signup("list").await;
    let o = t.owner();
    let mut ids = Vec::new();
    for (i, (name, points)) in [("王芳", 300), ("李强", 0), ("赵敏", 1200), ("陈杰", 50)]
        .into_iter()
        .enumerate()
    {
        let m = app
            .member(&o, NewMember::named(name).phone(format!("1390000000{i}")))
            .await;
        if points > 0 {
            app.adjust_points(
                &o,
                &m.id,
                &json!({ "idempotency_key": format!("seed-{i}"), "points": points, "reason": "opening balance" }),
            )
            .await
            .created();
        }
        ids.push(m.id);
    }
    // A visit: a purchase for 王芳.
    app.purchase(&o, &ids[0], "till-1", 1000).await;

    let page = app
        .search_members(
            &o,
            &json!({ "sort": "points", "descending": true, "limit": 3 }),
        )
        .await
        .ok();
    assert_eq!(page.total, 4, "the count covers every page");
    assert!(!page.total_capped);
    let shown: Vec<(&str, Option<i64>)> = page
        .items
        .iter()
        .map(|m| (m.name.as_str(), m.points))
        .collect();
    assert_eq!(
        shown,
        [
            ("赵敏", Some(1200)),
            ("王芳", Some(300)),
            ("陈杰", Some(50))
        ]
    );
    assert!(
        page.items[1].last_visit_at.is_some(),
        "the purchase is a visit"
    );
    assert!(page.items[0].last_visit_at.is_none());
    // The next page continues in points order.
    let next = app
        .search_members(
            &o,
            &json!({ "sort": "points", "descending": true, "limit": 3, "after": page.next_cursor }),
        )
        .await
        .ok();
    assert_eq!(names(&next.items), ["李强"]);
    assert_eq!(
        next.items[0].points,
        Some(0),
        "no account reads as 0 points"
    );
    assert!(next.next_cursor.is_none());

    // A selection: only the members named, counted as such.
    let picked = app
        .search_members(&o, &json!({ "ids": [ids[1], ids[3]] }))
        .await
        .ok();
    assert_eq!(picked.total, 2);
    assert_eq!(names(&picked.items), ["李强", "陈杰"]);
    // A condition narrows the count too.
    let few = app.search_members(&o, &json!({ "name": "王" })).await.ok();
    assert_eq!(few.total, 1);
}
