//! The dashboard: today's figures and the last 30 days in the business's time zone.

use chrono::{Duration, TimeZone, Utc};
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_dashboard_counts_today_and_each_local_day_and_needs_reports_read() {
    let app = spawn_app().await;
    // 23:30 in Shanghai on 9 June: still 9 June there, 15:30 UTC.
    let yesterday = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2027, 6, 9, 23, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    app.clock.set(yesterday);
    let t = app.signup_on("dash", "pro").await;
    let owner = app.api_key(&t, "owner").await;
    app.publish_script(
        &owner,
        "purchase",
        r#"award(floor_div(event.amount, 100), "per yuan");"#,
    )
    .await;
    let old = app
        .create_member(&owner, &NewMember::named("Old"))
        .await
        .body()
        .id;
    // One hour later it is 10 June locally.
    app.clock.set(yesterday + Duration::hours(1));
    let r = app.create_member(&owner, &NewMember::named("New")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.record_purchase(&owner, &NewPurchase::for_member("d-1", &old, 25_000))
        .await
        .created();
    app.redeem_points(
        &owner,
        &old,
        &json!({ "idempotency_key": "d-r", "points": 50, "reward": "coffee" }),
    )
    .await
    .created();

    let d = app.dashboard(&owner).await.ok();
    let today = &d.today;
    assert_eq!(today.day, "2027-06-10");
    assert_eq!(today.registrations, 1);
    assert_eq!(today.purchases, 1);
    assert_eq!(today.spend, 25_000);
    assert_eq!(today.points_issued, 250);
    assert_eq!(today.points_redeemed, 50);
    assert_eq!(d.active_members, 1);
    assert_eq!(d.members, 2);
    let days = &d.days;
    assert_eq!(days.len(), 30);
    assert_eq!(days[28].day, "2027-06-09");
    assert_eq!(days[28].registrations, 1);
    assert_eq!(days[0].day, "2027-05-12");

    let desk = app.api_key(&t, "front_desk").await;
    let r = app.dashboard(&desk).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
}
