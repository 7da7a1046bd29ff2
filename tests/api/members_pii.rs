//! Members' personal data across a key rotation: `patron pii rekey` re-seals phones and
//! e-mails still under the retired key, in batches that can stop and resume, and every member
//! stays readable and findable by phone before, during and after.

use patron_core::pii::PiiKeys;
use patron_server::pii::rekey_tenant;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Connection;
use std::ops::ControlFlow;

/// (id, phone as E.164, e-mail) of each member.
type Expected = Vec<(String, String, Option<String>)>;

/// Every member reads back with its phone and e-mail, and is found by its phone.
async fn assert_readable(app: &TestApp, auth: &Auth, expected: &Expected, when: &str) {
    for (id, phone, email) in expected {
        let r = app.get_member(auth, id).await;
        assert_eq!(r.status, StatusCode::OK, "{when}: {r:?}");
        let m = r.body();
        assert_eq!(m.phone.as_ref(), Some(phone), "{when}: phone of {id}");
        assert_eq!(m.email, *email, "{when}: e-mail of {id}");
        let r = app.search_members(auth, &json!({ "phone": phone })).await;
        assert_eq!(r.status, StatusCode::OK, "{when}: {r:?}");
        let items = r.body().items;
        assert_eq!(items.len(), 1, "{when}: lookup by {phone}");
        assert_eq!(items[0].id, *id, "{when}: lookup by {phone}");
    }
}

/// How many sealed values each key id holds in the tenant's register.
async fn values_by_key(tenant_id: i64) -> Vec<(i16, i64)> {
    let mut conn = sqlx::PgConnection::connect(&database_url()).await.unwrap();
    sqlx::query_as(&format!(
        "SELECT k, count(*) FROM (SELECT phone_key AS k FROM t_{tenant_id}.members
             UNION ALL SELECT email_key FROM t_{tenant_id}.members) v
         WHERE k IS NOT NULL GROUP BY k ORDER BY k"
    ))
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn rekey_moves_every_value_to_the_current_key_in_resumable_batches_and_members_stay_readable_and_findable_by_phone(
) {
    // Arrange: members sealed under key 1.
    let old_keys = PiiKeys::development();
    let app = spawn_app().await;
    let t = app.signup("rekey").await;
    let o = t.owner();
    let mut expected: Expected = Vec::new();
    for n in 0..8 {
        let email = (n % 3 != 2).then(|| format!("m{n}@rekey.example.com"));
        let m = app
            .member(
                &o,
                NewMember::named(format!("会员{n}"))
                    .phone(format!("1390000{n:04}"))
                    .maybe_email(email.clone()),
            )
            .await;
        expected.push((m.id, format!("+861390000{n:04}"), email));
    }
    // A member without personal data: nothing to re-seal.
    app.member(&o, NewMember::named("无电话")).await;
    assert_eq!(values_by_key(t.id).await, [(1, 14)]);

    // The key rotates: a server with key 2 current and key 1 retired (same blind-index key).
    let rotated = old_keys.rotated(2, [42u8; 32]);
    let app2 = spawn_app_with_keys(&database_url(), 4, rotated.clone()).await;
    let tenant = internals::tenant_row(&app2, t.id).await;
    assert_readable(&app2, &o, &expected, "before").await;

    // A rekey whose index key is not the register's refuses to write anything.
    let wrong_index = PiiKeys::new(2, [42u8; 32], vec![(1, [7u8; 32])], Some([5u8; 32]));
    let err = rekey_tenant(&app2.db, &tenant, &wrong_index, 3, |_| {
        ControlFlow::Continue(())
    })
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("blind index"), "{err:#}");
    assert_eq!(values_by_key(t.id).await, [(1, 14)]);

    // Act: one batch of 3 members, then stop (as an interrupted run would).
    let mut batches = 0;
    let half = rekey_tenant(&app2.db, &tenant, &rotated, 3, |p| {
        batches += 1;
        assert_eq!(p.pending, 8);
        ControlFlow::Break(())
    })
    .await
    .unwrap();
    assert_eq!(batches, 1);
    assert!(half.stopped);
    assert_eq!(half.members, 3);
    let by_key = values_by_key(t.id).await;
    assert_eq!(by_key.len(), 2, "half done: {by_key:?}");
    assert_eq!(by_key[0].0, 1);
    assert_eq!(by_key[1], (2, half.values));
    assert!(half.values >= 3, "{half:?}");
    // Half done: everyone is readable and found by phone.
    assert_readable(&app2, &o, &expected, "half done").await;
    // A member edited meanwhile is written under the new key.
    let (id, _, _) = &expected[7];
    app2.update_member(&o, id, &json!({ "email": "changed@rekey.example.com" }))
        .await
        .ok();
    expected[7].2 = Some("changed@rekey.example.com".into());

    // Run again: it resumes, in batches, and finishes.
    let mut seen = Vec::new();
    let rest = rekey_tenant(&app2.db, &tenant, &rotated, 2, |p| {
        seen.push(p.members);
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert!(!rest.stopped);
    assert!(rest.failed.is_empty(), "{:?}", rest.failed);
    assert!(seen.len() >= 2, "progress after each batch: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(
        half.values + rest.values,
        13,
        "every value but the edited one"
    );
    assert_eq!(values_by_key(t.id).await, [(2, 14)]);
    assert_readable(&app2, &o, &expected, "after").await;

    // Idempotent: nothing is left to do.
    let again = rekey_tenant(
        &app2.db,
        &tenant,
        &rotated,
        2,
        |_| ControlFlow::Continue(()),
    )
    .await
    .unwrap();
    assert_eq!((again.pending, again.values), (0, 0));

    // Assert: a server that knows only the new key reads and finds everyone; one that knows
    // only the old key no longer opens anything.
    let app3 = spawn_app_with_keys(&database_url(), 4, rotated.without_retired()).await;
    assert_readable(&app3, &o, &expected, "old key gone").await;
    let r = app.get_member(&o, &expected[0].0).await;
    assert_eq!(r.body().phone, None, "{r:?}");
    app3.stop().await;
    app2.stop().await;
}
