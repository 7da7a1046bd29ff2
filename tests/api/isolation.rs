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
        .post(
            "/api/v1/api-keys",
            &a.owner(),
            json!({ "name": "a-key", "role": "manager" }),
        )
        .await
        .body["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let key_b = app
        .post(
            "/api/v1/api-keys",
            &b.owner(),
            json!({ "name": "b-key", "role": "manager" }),
        )
        .await
        .body["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let paths = [
        "/api/v1/me",
        "/api/v1/staff",
        "/api/v1/settings",
        "/api/v1/audit-log",
    ];
    let jobs: Vec<(usize, &str, Auth, &TestTenant)> = (0..1000)
        .map(|i| {
            let (t, auth) = match i % 4 {
                0 => (&a, a.owner()),
                1 => (&b, b.owner()),
                2 => (&a, Auth::Key(key_a.clone())),
                _ => (&b, Auth::Key(key_b.clone())),
            };
            (i, paths[(i / 4) % paths.len()], auth, t)
        })
        .collect();
    let leaks: Vec<String> = futures::stream::iter(jobs)
        .map(|(i, path, auth, t)| {
            let (app, a, b) = (&app, &a, &b);
            async move {
                let r = app.get(path, &auth).await;
                if r.status != StatusCode::OK {
                    return Some(format!("#{i} {path}: {}", r.status));
                }
                let other = if t.slug == a.slug { &b.slug } else { &a.slug };
                let text = r.body.to_string();
                if text.contains(other.as_str())
                    || (path == "/api/v1/settings" && r.body["slug"] != t.slug.as_str())
                {
                    return Some(format!("#{i} {path} for {} showed {other}: {text}", t.slug));
                }
                if path == "/api/v1/staff" {
                    let n = r.body.as_array().unwrap().len();
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
    let r = app.get("/api/v1/me", &Auth::Bearer(moved)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // B's owner cannot reach A's staff by id, nor revoke A's keys.
    assert_eq!(
        app.get(&format!("/api/v1/staff/{}", a.owner_id), &b.owner())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let key = app
        .post(
            "/api/v1/api-keys",
            &a.owner(),
            json!({ "name": "k", "role": "front_desk" }),
        )
        .await;
    let key_id = key.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{key_id}"), &b.owner())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(
            "/api/v1/me",
            &Auth::Key(key.body["key"].as_str().unwrap().to_owned())
        )
        .await
        .status,
        StatusCode::OK
    );
    // Logging in to B with A's owner credentials fails.
    assert_eq!(
        app.login(&b.slug, &a.owner_email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}
