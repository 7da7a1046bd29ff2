//! Businesses never see one another: concurrent reads over a shared pool, and tokens or ids
//! moved from one business to another.

use futures::StreamExt;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn two_businesses_hammered_concurrently_never_see_each_others_data() {
    // A small pool, so connections are reused across tenants all the time.
    let app = spawn_app_with(4).await;
    let a = app.signup_on("iso-a", "enterprise").await;
    let b = app.signup_on("iso-b", "enterprise").await;
    for (t, n) in [(&a, 3), (&b, 2)] {
        for _ in 0..n {
            app.staff_with_roles(t, &["front_desk"]).await;
        }
    }
    let key_a = app
        .create_api_key(&a.owner(), &json!({ "name": "a-key", "role": "manager" }))
        .await
        .body()
        .key;
    let key_b = app
        .create_api_key(&b.owner(), &json!({ "name": "b-key", "role": "manager" }))
        .await
        .body()
        .key;

    let reads = ["me", "list_staff", "settings", "audit_log"];
    let jobs: Vec<(usize, &str, Auth, &TestTenant)> = (0..1000)
        .map(|i| {
            let (t, auth) = match i % 4 {
                0 => (&a, a.owner()),
                1 => (&b, b.owner()),
                2 => (&a, Auth::Key(key_a.clone())),
                _ => (&b, Auth::Key(key_b.clone())),
            };
            (i, reads[(i / 4) % reads.len()], auth, t)
        })
        .collect();
    let leaks: Vec<String> = futures::stream::iter(jobs)
        .map(|(i, op, auth, t)| {
            let (app, a, b) = (&app, &a, &b);
            async move {
                let r = match op {
                    "me" => app.me(&auth).await.untyped(),
                    "list_staff" => app.list_staff(&auth).await.untyped(),
                    "settings" => app.settings(&auth).await.untyped(),
                    _ => app.audit_log(&auth).await.untyped(),
                };
                if r.status != StatusCode::OK {
                    return Some(format!("#{i} {op}: {}", r.status));
                }
                let other = if t.slug == a.slug { &b.slug } else { &a.slug };
                let text = r.json.to_string();
                if text.contains(other.as_str())
                    || (op == "settings" && r.json["slug"] != t.slug.as_str())
                {
                    return Some(format!("#{i} {op} for {} showed {other}: {text}", t.slug));
                }
                if op == "list_staff" {
                    let n = r.json.as_array().unwrap().len();
                    let want = if t.slug == a.slug { 4 } else { 3 };
                    if n != want || !text.contains(&t.slug) {
                        return Some(format!(
                            "#{i} staff list of {} has {n} rows: {text}",
                            t.slug
                        ));
                    }
                }
                None
            }
        })
        .buffer_unordered(32)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    assert!(
        leaks.is_empty(),
        "{} bad responses, first: {:?}",
        leaks.len(),
        leaks.first()
    );
}

#[tokio::test]
async fn a_token_moved_to_another_business_and_ids_from_another_business_are_refused() {
    let app = spawn_app().await;
    let a = app.signup("cross-a").await;
    let b = app.signup("cross-b").await;
    // Re-address A's token to B: the hash no longer matches anything.
    let moved = a
        .owner_token
        .replacen(&format!("pst_{}_", a.id), &format!("pst_{}_", b.id), 1);
    let r = app.me(&Auth::Bearer(moved)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // B's owner cannot reach A's staff by id, nor revoke A's keys.
    assert_eq!(
        app.get_staff(&b.owner(), &a.owner_id).await.status,
        StatusCode::NOT_FOUND
    );
    let key = app
        .create_api_key(&a.owner(), &json!({ "name": "k", "role": "front_desk" }))
        .await
        .body();
    assert_eq!(
        app.revoke_api_key(&b.owner(), &key.info.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.me(&Auth::Key(key.key)).await.status, StatusCode::OK);
    // Logging in to B with A's owner credentials fails.
    assert_eq!(
        app.login(&b.slug, &a.owner_email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}
