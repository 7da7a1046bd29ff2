//! Roles and permissions: the built-in roles' table, custom roles that take effect at once
//! (on every server), escalation guards, and staff e-mails and keys across replicas.

use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// Each protected operation and, for owner / manager / front_desk / marketer, whether it is
/// allowed. This is the permission table of docs/permissions.md, written out by hand.
const MATRIX: [(&str, [bool; 4]); 11] = [
    ("me", [true, true, true, true]),
    ("permissions", [true, true, true, true]),
    ("settings", [true, true, true, true]),
    ("list_staff", [true, true, false, false]),
    ("list_roles", [true, true, false, false]),
    ("audit_log", [true, true, false, false]),
    ("create_staff", [true, true, false, false]),
    ("create_role", [true, false, false, false]),
    ("list_api_keys", [true, false, false, false]),
    ("create_api_key", [true, false, false, false]),
    ("update_settings", [true, false, false, false]),
];

/// Calls the operation named `op` of [`MATRIX`] as `caller`, with a body it accepts;
/// returns the status, the error code and the body.
async fn attempt(
    app: &TestApp,
    slug: &str,
    op: &str,
    caller: &Auth,
) -> (StatusCode, String, String) {
    fn seen<T>(r: Reply<T>) -> (StatusCode, String, String) {
        (r.status, r.code().to_owned(), r.json.to_string())
    }
    let u = || uuid::Uuid::new_v4().simple().to_string();
    match op {
        "me" => seen(app.me(caller).await),
        "permissions" => seen(app.permissions(caller).await),
        "settings" => seen(app.settings(caller).await),
        "list_staff" => seen(app.list_staff(caller).await),
        "list_roles" => seen(app.list_roles(caller).await),
        "audit_log" => seen(app.audit_log(caller).await),
        "create_staff" => seen(
            app.create_staff(
                caller,
                &json!({ "email": format!("{}@{slug}.example.com", u()), "name": "New", "password": PASSWORD, "roles": ["front_desk"] }),
            )
            .await,
        ),
        "create_role" => seen(
            app.create_role(
                caller,
                &json!({ "name": format!("r{}", &u()[..8]), "permissions": ["settings:read"] }),
            )
            .await,
        ),
        "list_api_keys" => seen(app.list_api_keys(caller).await),
        "create_api_key" => seen(
            app.create_api_key(caller, &json!({ "name": "till", "role": "front_desk" }))
                .await,
        ),
        "update_settings" => seen(
            app.update_settings(caller, &json!({ "name": "Renamed Business" }))
                .await,
        ),
        other => unreachable!("{other} is not in the matrix"),
    }
}

#[tokio::test]
async fn each_built_in_role_is_allowed_exactly_what_the_permission_table_says() {
    let app = spawn_app().await;
    let t = app.signup("matrix").await;
    let mut callers = vec![t.owner()];
    for role in ["manager", "front_desk", "marketer"] {
        callers.push(app.staff_with_roles(&t, &[role]).await.1);
    }
    let names = ["owner", "manager", "front_desk", "marketer"];
    let mut failures = Vec::new();
    for (i, caller) in callers.iter().enumerate() {
        for (op, allowed) in MATRIX {
            let (status, code, body) = attempt(&app, &t.slug, op, caller).await;
            let ok = if allowed[i] {
                status.is_success()
            } else {
                status == StatusCode::FORBIDDEN && code == "forbidden"
            };
            if !ok {
                failures.push(format!(
                    "{} {op}: expected {}, got {status} {body}",
                    names[i],
                    if allowed[i] { "success" } else { "403" },
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn a_custom_role_takes_effect_without_restart_and_revoking_it_takes_effect_at_once() {
    let app = spawn_app().await;
    let t = app.signup("custom").await;
    let (id, desk) = app.staff_with_roles(&t, &["front_desk"]).await;
    assert_eq!(app.list_staff(&desk).await.status, StatusCode::FORBIDDEN);

    app.create_role(&t.owner(), &json!({ "name": "shift_lead", "description": "Evening lead", "permissions": ["staff:read", "reports:read"] }))
        .await
        .created();
    app.update_staff(
        &t.owner(),
        &id,
        &json!({ "roles": ["front_desk", "shift_lead"] }),
    )
    .await
    .ok();
    assert_eq!(
        app.list_staff(&desk).await.status,
        StatusCode::OK,
        "granted without re-login"
    );
    let me = app.me(&desk).await.body();
    assert!(me.permissions.contains(&"reports:read".to_owned()));

    app.update_role(
        &t.owner(),
        "shift_lead",
        &json!({ "permissions": ["reports:read"] }),
    )
    .await
    .ok();
    assert_eq!(
        app.list_staff(&desk).await.status,
        StatusCode::FORBIDDEN,
        "revoked at once"
    );

    let r = app
        .update_role(
            &t.owner(),
            "shift_lead",
            &json!({ "permissions": ["staff:read"] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.list_staff(&desk).await.status, StatusCode::OK);
    assert_eq!(
        app.delete_role(&t.owner(), "shift_lead").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.list_staff(&desk).await.status,
        StatusCode::FORBIDDEN,
        "deleted role is gone at once"
    );
    assert_eq!(
        app.get_role(&t.owner(), "shift_lead").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_policy_change_on_one_server_reaches_another_server_through_notify() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let t = a.signup("replicas").await;
    let (id, desk) = a.staff_with_roles(&t, &["front_desk"]).await;
    a.create_role(
        &t.owner(),
        &json!({ "name": "viewer", "permissions": ["staff:read"] }),
    )
    .await;
    a.update_staff(
        &t.owner(),
        &id,
        &json!({ "roles": ["front_desk", "viewer"] }),
    )
    .await;
    // Server B builds and caches its enforcer for this tenant.
    assert_eq!(b.list_staff(&desk).await.status, StatusCode::OK);

    // Revoke on A; B must follow without a restart.
    assert_eq!(
        a.update_role(&t.owner(), "viewer", &json!({ "permissions": [] }))
            .await
            .status,
        StatusCode::OK
    );
    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = b.list_staff(&desk).await.status;
        if status == StatusCode::FORBIDDEN {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "server B still allows a revoked permission"
    );
}

#[tokio::test]
async fn nobody_can_grant_more_than_they_hold_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let t = app.signup("escalate").await;
    let (manager_id, manager) = app.staff_with_roles(&t, &["manager"]).await;
    let r = app
        .update_staff(&manager, &manager_id, &json!({ "roles": ["owner"] }))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "escalation"),
        "{r:?}"
    );
    let r = app
        .create_staff(&manager, &json!({ "email": format!("x@{}.example.com", t.slug), "name": "X", "password": PASSWORD, "roles": ["owner"] }))
        .await;
    assert_eq!(r.code(), "escalation");

    let r = app
        .update_staff(&t.owner(), &t.owner_id, &json!({ "roles": ["manager"] }))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "last_owner"));
    let me = app.me(&t.owner()).await.body();
    assert_eq!(
        me.roles,
        ["owner"],
        "the refused change was not half-applied"
    );

    let r = app
        .update_role(&t.owner(), "manager", &json!({ "permissions": [] }))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "builtin_role"));
    let r = app
        .create_role(
            &t.owner(),
            &json!({ "name": "bad", "permissions": ["members:read", "members:fly"] }),
        )
        .await;
    assert_eq!(
        (r.status, r.problem().fields[0].field.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "permissions.1")
    );
    let r = app
        .create_role(&t.owner(), &json!({ "name": "owner", "permissions": [] }))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "role_exists"));
}

#[tokio::test]
async fn staff_e_mails_are_unique_within_a_business_but_not_across_businesses() {
    let app = spawn_app().await;
    let a = app.signup("mail-a").await;
    let b = app.signup("mail-b").await;
    let body = json!({ "email": "Shared@Example.com", "name": "S", "password": PASSWORD, "roles": ["front_desk"] });
    assert_eq!(
        app.create_staff(&a.owner(), &body).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.create_staff(&b.owner(), &body).await.status,
        StatusCode::CREATED
    );
    let again = app.create_staff(&a.owner(), &json!({ "email": "shared@example.com", "name": "S2", "password": PASSWORD, "roles": ["front_desk"] })).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "email_taken")
    );
    assert_eq!(again.problem().fields[0].field, "email");
}

/// Integration keys are cached by each server; a revocation on one server reaches the
/// others through NOTIFY.
#[tokio::test]
async fn a_key_revoked_on_one_server_stops_working_on_another() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let t = a.signup("key-replicas").await;
    let created = a
        .create_api_key(&t.owner(), &json!({ "name": "till", "role": "front_desk" }))
        .await
        .created();
    let key = Auth::Key(created.key);
    let id = created.info.id;
    // Server B checks the key once and caches it; later calls use the cache.
    assert_eq!(b.me(&key).await.status, StatusCode::OK);
    assert_eq!(b.me(&key).await.status, StatusCode::OK);

    assert_eq!(
        a.revoke_api_key(&t.owner(), &id).await.status,
        StatusCode::OK
    );
    assert_eq!(
        a.me(&key).await.status,
        StatusCode::UNAUTHORIZED,
        "refused at once where it was revoked"
    );
    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = b.me(&key).await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "server B still accepts a revoked key"
    );
}

#[tokio::test]
async fn actors_in_the_audit_log_and_the_ledger_read_as_names() {
    let app = spawn_app().await;
    let t = app.signup("actors").await;
    let owner = t.owner();
    let email = format!("desk@{}.example.com", t.slug);
    app.create_staff(
        &owner,
        &json!({ "email": email, "name": "前台小李", "password": PASSWORD, "roles": ["front_desk"] }),
    )
    .await
    .created();
    let desk = app.login(&t.slug, &email, PASSWORD).await.ok().auth();
    let till = app
        .create_api_key(
            &owner,
            &json!({ "name": "前台收银机", "role": "front_desk" }),
        )
        .await
        .created();
    let till = Auth::Key(till.key);

    app.publish_rule(
        &owner,
        "purchase",
        &json!({ "template": { "kind": "purchase", "base": { "points": 1, "per_amount": 100 } } }),
    )
    .await
    .ok();
    let m = app
        .member(&desk, NewMember::named("王芳").phone("13900001111"))
        .await;
    app.purchase(&till, &m.id, "till-actors-1", 5000).await;
    app.adjust_points(
        &owner,
        &m.id,
        &json!({ "idempotency_key": "actors", "points": 10, "reason": "补录" }),
    )
    .await
    .created();

    // The ledger records who; the names come from the staff and the keys.
    let entries = app.points_entries(&owner, &m.id, None).await.ok().items;
    let subjects: Vec<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
    let named = app.resolve_actors(&desk, &subjects).await.ok();
    let name_of = |subject: &str| {
        named
            .iter()
            .find(|a| a.subject == subject)
            .and_then(|a| a.name.clone())
    };
    let by_source = |kind: &str| {
        let e = entries
            .iter()
            .find(|e| e.source == kind)
            .unwrap_or_else(|| panic!("{kind} in {entries:?}"));
        name_of(&e.actor)
    };
    assert_eq!(
        by_source("purchase").as_deref(),
        Some("前台收银机"),
        "{named:?}"
    );
    assert_eq!(
        by_source("adjustment").as_deref(),
        Some("Owner"),
        "{named:?}"
    );

    // The audit log's actors: the owner who made the key, by name.
    let log = app.audit_log(&owner).await.ok();
    let made_key = log
        .iter()
        .find(|e| e.action.contains("api_key"))
        .expect("key audited");
    let named = app
        .resolve_actors(&owner, &[&made_key.actor, "system:tiers", "member:self"])
        .await
        .ok();
    let owner_name = named.iter().find(|a| a.subject == made_key.actor).unwrap();
    assert_eq!(owner_name.kind, "staff");
    assert!(owner_name
        .name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && !n.starts_with("staff:")));
    let job = named.iter().find(|a| a.subject == "system:tiers").unwrap();
    assert_eq!(
        (job.kind.as_str(), job.code.as_deref()),
        ("system", Some("tiers"))
    );

    // Another business's ids resolve to nothing here.
    let other = app.signup("actors-b").await;
    let theirs = app
        .resolve_actors(&other.owner(), &[&made_key.actor])
        .await
        .ok();
    assert_eq!(theirs[0].name, None);
}

#[tokio::test]
async fn the_audit_log_filters_by_who_what_when_and_member_and_pages_by_cursor() {
    let app = spawn_app().await;
    let t = app.signup("audit-filters").await;
    let owner = t.owner();
    for i in 0..3 {
        app.create_api_key(
            &owner,
            &json!({ "name": format!("收银机{i}"), "role": "front_desk" }),
        )
        .await
        .created();
    }
    app.update_settings(&owner, &json!({ "name": "铁人健身" }))
        .await
        .ok();
    let all = app.audit_log(&owner).await.ok();
    let keys = app
        .audit_log_where(&owner, &[("action", "api_key.created")])
        .await
        .ok();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|e| e.action == "api_key.created"));
    // Who: the owner made the keys; nobody else did anything.
    let actor = keys[0].actor.clone();
    let by_owner = app
        .audit_log_where(&owner, &[("actor", &actor), ("action", "api_key.created")])
        .await
        .ok();
    assert_eq!(by_owner.len(), 3);
    let by_nobody = app
        .audit_log_where(
            &owner,
            &[("actor", "staff:00000000-0000-0000-0000-000000000000")],
        )
        .await
        .ok();
    assert!(by_nobody.is_empty());
    // When: everything happened after a minute ago, nothing before.
    let newest = &all[0].at;
    let later = app
        .audit_log_where(
            &owner,
            &[
                ("from", "2000-01-01T00:00:00Z"),
                ("to", "2000-01-02T00:00:00Z"),
            ],
        )
        .await
        .ok();
    assert!(later.is_empty(), "{newest}");
    let all_time = app
        .audit_log_where(&owner, &[("from", "2000-01-01T00:00:00Z")])
        .await
        .ok();
    assert_eq!(all_time.len(), all.len());
    // A range that ends before it starts names the field.
    let r = app
        .audit_log_where(
            &owner,
            &[
                ("from", "2026-02-01T00:00:00Z"),
                ("to", "2026-01-01T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].field, "to");
    // Member: no entry is about this member.
    let none = app
        .audit_log_where(
            &owner,
            &[("member", "00000000-0000-0000-0000-000000000001")],
        )
        .await
        .ok();
    assert!(none.is_empty());
    // Paging: two at a time, older than the last one seen, with the filter kept.
    let first = app
        .audit_log_where(&owner, &[("action", "api_key.created"), ("limit", "2")])
        .await
        .ok();
    assert_eq!(first.len(), 2);
    let cursor = first[1].id.to_string();
    let second = app
        .audit_log_where(
            &owner,
            &[
                ("action", "api_key.created"),
                ("limit", "2"),
                ("before", &cursor),
            ],
        )
        .await
        .ok();
    assert_eq!(second.len(), 1);
    assert!(second[0].id < first[1].id);
}

#[tokio::test]
async fn a_role_has_a_name_for_people_beside_its_code() {
    let app = spawn_app().await;
    let t = app.signup("role-names").await;
    let owner = t.owner();
    let role = app
        .create_role(
            &owner,
            &json!({ "name": "night_lead", "display_name": " 晚班组长 ", "permissions": ["members:read"] }),
        )
        .await
        .created();
    assert_eq!(
        (role.name.as_str(), role.display_name.as_str()),
        ("night_lead", "晚班组长")
    );
    let changed = app
        .update_role(&owner, "night_lead", &json!({ "display_name": "夜班组长" }))
        .await
        .ok();
    assert_eq!(changed.display_name, "夜班组长");
    assert_eq!(changed.permissions, ["members:read"]);
    let r = app
        .update_role(
            &owner,
            "night_lead",
            &json!({ "display_name": "长".repeat(41) }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.problem().fields[0].field, "display_name");
}

#[tokio::test]
async fn the_audit_log_filtered_by_a_member_shows_each_kind_of_action_done_to_them_by_name() {
    let app = spawn_app().await;
    let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 5, 1, 4, 0, 0).unwrap();
    app.clock.set(start);
    let t = app.signup_on("audit-member", "pro").await;
    let owner = t.owner();
    let m = app.member(&owner, NewMember::named("王铁人")).await.id;
    let other = app.member(&owner, NewMember::named("路人甲")).await.id;
    app.update_member(&owner, &m, &json!({ "name": "王铁人二号" }))
        .await
        .ok();
    app.adjust_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "a-1", "points": 500, "reason": "goodwill" }),
    )
    .await
    .created();
    app.redeem_points(
        &owner,
        &m,
        &json!({ "idempotency_key": "r-1", "points": 100, "reward": "毛巾" }),
    )
    .await
    .created();
    app.check_in(&owner, &m).await.ok();
    app.top_up(
        &owner,
        &m,
        &json!({ "idempotency_key": "t-1", "amount": 10_000, "method": "cash" }),
    )
    .await
    .created();
    let product = app
        .create_pass_product(
            &owner,
            &json!({ "name": "十次卡", "visits": 10, "price": 50_000 }),
        )
        .await
        .ok();
    app.sell_pass(
        &owner,
        &m,
        &json!({ "product_id": product["id"], "method": "cash" }),
    )
    .await
    .ok();
    let tier = |code: &str, zh: &str, threshold: i64| json!({ "code": code, "name": { "zh-CN": zh, "en": code }, "threshold": threshold });
    app.publish_ladder(
        &owner,
        &json!({ "ladder": { "metric": "spend", "window": { "kind": "since_joining" },
                             "retention_days": 0, "demotion": "direct",
                             "tiers": [tier("base", "普通", 0), tier("gold", "金卡", 1_000)] } }),
    )
    .await
    .ok();
    let until = start + chrono::Duration::days(30);
    app.pin_member_tier(
        &owner,
        &m,
        &json!({ "tier": "gold", "until": until, "reason": "老板的朋友" }),
    )
    .await
    .ok();

    let log = app.audit_log_where(&owner, &[("member", &m)]).await.ok();
    let mut actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "member.checked_in",
            "member.created",
            "member.tier_pinned",
            "member.updated",
            "pass.sold",
            "points.adjusted",
            "points.redeemed",
            "stored_value.topped_up",
        ],
        "{log:?}"
    );
    // Each entry names the member as they are called now, and its details by name.
    for e in &log {
        assert_eq!(e.member_id.as_deref(), Some(m.as_str()), "{e:?}");
        assert_eq!(e.member_name.as_deref(), Some("王铁人二号"), "{e:?}");
    }
    let pinned = log
        .iter()
        .find(|e| e.action == "member.tier_pinned")
        .unwrap();
    assert_eq!(pinned.detail["tier"], "金卡");
    let sold = log.iter().find(|e| e.action == "pass.sold").unwrap();
    assert_eq!(sold.detail["pass"], "十次卡");
    let adjusted = log.iter().find(|e| e.action == "points.adjusted").unwrap();
    assert_eq!(adjusted.detail["points"], 500);
    // Another member's filter shows only what was done to them.
    let theirs = app
        .audit_log_where(&owner, &[("member", &other)])
        .await
        .ok();
    let theirs: Vec<&str> = theirs.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(theirs, ["member.created"]);
}
