//! Two servers on one database, as two replicas behind a load balancer: the plan's requests
//! per minute are one budget for both, and a rule published on one is in force on the other
//! at once. (A role change reaching every server is in `access`; each scheduled job running
//! once across two runners is in `jobs`.)

use chrono::{Duration, TimeZone, Utc};
use patron_core::clock::Clock;
use patron_tests::*;
use reqwest::StatusCode;

#[tokio::test]
async fn the_requests_per_minute_are_one_budget_across_two_servers() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    // Both clocks 5 s into the same minute, so the whole burst falls in one window.
    let now = a.clock.now();
    let start = Utc
        .timestamp_opt((now.timestamp() / 60 + 1) * 60, 0)
        .unwrap()
        + Duration::seconds(5);
    a.clock.set(start);
    b.clock.set(start);
    let t = a.signup_on("replica-rate", "free").await; // 60 per minute
    let owner = t.owner();
    for i in 0..60 {
        let server = if i % 2 == 0 { &a } else { &b };
        let r = server.me(&owner).await;
        assert_eq!(r.status, StatusCode::OK, "request {i}: {r:?}");
    }
    // Each server saw only 30, yet both refuse the 61st.
    for server in [&a, &b] {
        let r = server.me(&owner).await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
        assert_eq!(r.code(), "rate_limited");
        assert_eq!(r.header("retry-after"), "55");
    }
    // The next minute opens the window on both.
    a.clock.advance(Duration::seconds(55));
    b.clock.advance(Duration::seconds(55));
    assert_eq!(a.me(&owner).await.status, StatusCode::OK);
    assert_eq!(b.me(&owner).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rule_published_on_one_server_is_in_force_on_the_other_at_once() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    let t = a.signup_on("replica-rules", "pro").await;
    let owner = t.owner();
    let m = a.member(&owner, NewMember::named("Ann")).await.id;
    // B caches the tenant's rules: none yet, so a purchase earns nothing.
    assert_eq!(b.purchase(&owner, &m, "before", 5_000).await.points, 0);

    let version = a
        .publish_script(
            &owner,
            "purchase",
            r#"award(floor_div(event.amount, 100), "1 point per yuan");"#,
        )
        .await;
    let mut earned = None;
    for n in 0..50 {
        let r = b.purchase(&owner, &m, &format!("after-{n}"), 5_000).await;
        if r.rule_version == Some(version) {
            earned = Some(r.points);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        earned,
        Some(50),
        "server B never used the rule published on A"
    );
}
