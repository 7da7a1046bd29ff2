//! Uploads through the API against a real S3-compatible server (s3s-fs): the store itself
//! refuses another type or a bigger body than was signed, a completed upload is checked and
//! counted against `storage_mb` (never past it, even in parallel), a mismatched object is
//! deleted, another business never reaches an upload, deletion frees the storage.

use patron_core::ports::ObjectStore;
use patron_tests::*;
use reqwest::StatusCode;
use serde_json::json;

const KB: usize = 1024;

async fn storage_used(app: &TestApp, owner: &Auth) -> i64 {
    app.my_plan(owner).await.body().usage_of("storage_mb").usage
}

/// A plan with `storage_mb` of `mb` and a business on it.
async fn business_with_storage(app: &TestApp, mb: i64) -> TestTenant {
    let plan = json!({ "name": "Storage", "monthly_price_minor": 100, "currency": "CNY",
                       "features": [], "limits": { "storage_mb": mb }, "trial_days": 0 });
    app.signup_on_own_plan("store", &plan).await
}

#[tokio::test]
async fn a_picture_goes_to_the_store_is_read_back_and_deleting_it_frees_the_storage() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let t = app.signup("upl").await;
    let owner = t.owner();

    let ticket = app.png_upload(&owner, "activity_cover", 300 * KB).await;
    assert_eq!(ticket.upload.state, "pending");
    assert!(
        ticket
            .put_url
            .contains(&format!("/t/{}/activity_cover/{}", t.id, ticket.upload.id)),
        "keyed by tenant and purpose: {}",
        ticket.put_url
    );
    let bytes = png_bytes(300 * KB);
    assert!(put_to_store(&ticket, "image/png", bytes.clone())
        .await
        .is_success());
    // Not counted before it is completed.
    assert_eq!(storage_used(&app, &owner).await, 0);
    let done = app.complete_upload(&owner, &ticket.upload.id).await.ok();
    assert_eq!(done.upload.state, "stored");
    assert_eq!(storage_used(&app, &owner).await, 1);
    // Completing again changes nothing.
    app.complete_upload(&owner, &ticket.upload.id).await.ok();
    assert_eq!(storage_used(&app, &owner).await, 1);

    let (status, got) = get_from_store(&done.url).await;
    assert_eq!((status, got == bytes), (StatusCode::OK, true));
    let (status, location) = app.upload_content(&owner, &ticket.upload.id).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(get_from_store(&location).await.1, bytes);

    app.delete_upload(&owner, &ticket.upload.id).await.ok();
    assert_eq!(storage_used(&app, &owner).await, 0);
    assert_eq!(
        get_from_store(&done.url).await.0,
        StatusCode::NOT_FOUND,
        "the object is gone"
    );
    assert_eq!(
        app.get_upload(&owner, &ticket.upload.id).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_store_refuses_another_type_or_a_bigger_body_than_was_signed() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let t = app.signup("upl").await;
    let owner = t.owner();
    let ticket = app.png_upload(&owner, "activity_photo", 10 * KB).await;

    let as_html = put_to_store(&ticket, "text/html", png_bytes(10 * KB)).await;
    assert!(as_html.is_client_error(), "another type: {as_html}");
    let bigger = put_to_store(&ticket, "image/png", png_bytes(10 * KB + 1)).await;
    assert!(bigger.is_client_error(), "a bigger body: {bigger}");
    let smaller = put_to_store(&ticket, "image/png", png_bytes(10 * KB - 1)).await;
    assert!(smaller.is_client_error(), "a smaller body: {smaller}");

    // Nothing arrived, so nothing is counted.
    let r = app.complete_upload(&owner, &ticket.upload.id).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "upload_not_received");
    assert_eq!(storage_used(&app, &owner).await, 0);

    // The signed type and size go through.
    assert!(put_to_store(&ticket, "image/png", png_bytes(10 * KB))
        .await
        .is_success());
    app.complete_upload(&owner, &ticket.upload.id).await.ok();
}

#[tokio::test]
async fn a_stored_object_unlike_what_was_declared_is_refused_and_deleted() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let t = app.signup("upl").await;
    let owner = t.owner();
    let ticket = app.png_upload(&owner, "activity_photo", 20 * KB).await;

    // Someone with the store's keys puts another object under the upload's key.
    let store = patron_storage::S3Store::new(&s3.config).unwrap();
    let key = format!("t/{}/activity_photo/{}", t.id, ticket.upload.id);
    let other = store
        .presign_put(&key, "image/jpeg", 5, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .put(&other.url)
        .header("content-type", "image/jpeg")
        .body(b"12345".to_vec())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert!(store.head(&key).await.unwrap().is_some());

    let r = app.complete_upload(&owner, &ticket.upload.id).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "upload_mismatch");
    assert_eq!(store.head(&key).await.unwrap(), None, "the object is gone");
    assert_eq!(storage_used(&app, &owner).await, 0);
}

#[tokio::test]
async fn another_business_can_never_read_complete_or_delete_an_upload() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let a = app.signup("upa").await;
    let b = app.signup("upb").await;
    let id = app.stored_png(&a.owner(), "activity_cover", 2 * KB).await;
    let pending = app.png_upload(&a.owner(), "activity_cover", 2 * KB).await;

    let other = b.owner();
    assert_eq!(
        app.get_upload(&other, &id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.upload_content(&other, &id).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.complete_upload(&other, &pending.upload.id).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete_upload(&other, &id).await.status,
        StatusCode::NOT_FOUND
    );
    // Still there for its own business.
    let mine = app.get_upload(&a.owner(), &id).await.ok();
    assert_eq!(get_from_store(&mine.url).await.0, StatusCode::OK);
}

#[tokio::test]
async fn what_is_not_a_small_picture_is_refused_with_the_field_named() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let t = app.signup("upl").await;
    let r = app
        .create_upload(
            &t.owner(),
            &json!({ "purpose": "wallpaper", "content_type": "image/svg+xml",
                     "size": 5 * 1024 * 1024 + 1, "file_name": " " }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(fields, ["content_type", "file_name", "purpose", "size"]);
}

#[tokio::test]
async fn without_a_store_uploads_answer_503() {
    let app = spawn_app().await;
    let t = app.signup("upl").await;
    let r = app
        .create_upload(
            &t.owner(),
            &json!({ "purpose": "activity_cover", "content_type": "image/png", "size": 10,
                     "file_name": "a.png" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{r:?}");
    assert_eq!(r.code(), "uploads_not_configured");
}

#[tokio::test]
async fn the_storage_limit_answers_402_naming_it_and_parallel_completes_never_pass_it() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;

    // One megabyte: 600 KB fits, 600 KB more does not (and is deleted).
    let t = business_with_storage(&app, 1).await;
    let owner = t.owner();
    app.stored_png(&owner, "activity_photo", 600 * KB).await;
    let second = app.png_upload(&owner, "activity_photo", 600 * KB).await;
    assert!(put_to_store(&second, "image/png", png_bytes(600 * KB))
        .await
        .is_success());
    let r = app.complete_upload(&owner, &second.upload.id).await;
    assert_eq!(r.status, StatusCode::PAYMENT_REQUIRED, "{r:?}");
    let p = r.plan_problem();
    assert_eq!(
        (p.code.as_str(), p.limit.as_deref(), p.allowed),
        ("limit_reached", Some("storage_mb"), Some(1))
    );
    let store = patron_storage::S3Store::new(&s3.config).unwrap();
    let key = format!("t/{}/activity_photo/{}", t.id, second.upload.id);
    assert_eq!(store.head(&key).await.unwrap(), None, "refused, deleted");
    assert_eq!(storage_used(&app, &owner).await, 1);

    // The last megabyte, eight completes at once: exactly two of 400 KB fit.
    let t = business_with_storage(&app, 1).await;
    let owner = t.owner();
    let mut tickets = Vec::new();
    for _ in 0..8 {
        let ticket = app.png_upload(&owner, "activity_photo", 400 * KB).await;
        assert!(put_to_store(&ticket, "image/png", png_bytes(400 * KB))
            .await
            .is_success());
        tickets.push(ticket);
    }
    let answers = futures::future::join_all(tickets.iter().map(|t| {
        let app = app.api.clone();
        let owner = owner.clone();
        let id = t.upload.id.clone();
        async move { app.complete_upload(&owner, &id).await.status }
    }))
    .await;
    let stored = answers.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::PAYMENT_REQUIRED)
        .count();
    assert_eq!((stored, refused), (2, 6), "{answers:?}");
    assert_eq!(storage_used(&app, &owner).await, 1);
}

/// Registers a member through the portal of `t` and returns their portal login.
async fn portal_member(app: &TestApp, t: &TestTenant, phone: &str, name: &str) -> MemberSession {
    assert_eq!(
        app.send_portal_code(&t.slug, phone, "register")
            .await
            .status,
        StatusCode::ACCEPTED
    );
    let code = app.last_code(t, phone).await;
    app.register_member(
        &t.slug,
        &json!({ "profile": { "name": name, "phone": phone }, "code": code,
                 "password": "portal-photo-password-1" }),
    )
    .await
    .created()
}

async fn published(app: &TestApp, owner: &Auth, body: serde_json::Value) -> ActivityView {
    let a = app.create_activity(owner, &body).await.ok();
    app.set_activity_status(owner, &a.id, "published")
        .await
        .ok()
}

#[tokio::test]
async fn the_photo_wall_takes_staff_photos_and_those_of_members_who_checked_in() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let t = app.signup_on("photos", "pro").await;
    let owner = t.owner();
    let a = published(&app, &owner, activity_body("Trail run", 5)).await;
    let hana = portal_member(&app, &t, "13866660001", "Hana").await;
    let ken = portal_member(&app, &t, "13866660002", "Ken").await;
    let sign_up = |m: &MemberSession| {
        let auth = m.auth();
        let (app, slug, id) = (app.api.clone(), t.slug.clone(), a.id.clone());
        async move {
            app.portal_sign_up_activity(&slug, &auth, &id, &json!({}))
                .await
                .ok()
        }
    };
    let hana_reg = sign_up(&hana).await;
    let ken_reg = sign_up(&ken).await;
    let code = app
        .portal_activity_code(&t.slug, &hana.auth(), &hana_reg.id)
        .await
        .ok();
    app.check_in_activity(&owner, &a.id, &code.code).await.ok();

    // Staff add one.
    let staff_upload = app.stored_png(&owner, "activity_photo", 3 * KB).await;
    let staff_photo = app
        .add_activity_photo(&owner, &a.id, &staff_upload)
        .await
        .ok();
    assert_eq!(get_from_store(&staff_photo.url).await.1, png_bytes(3 * KB));
    // A cover upload is not a photo.
    let cover = app.stored_png(&owner, "activity_cover", KB).await;
    let r = app.add_activity_photo(&owner, &a.id, &cover).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert_eq!(r.code(), "upload_not_usable");

    // Ken signed up but did not come: refused.
    let kens = app.portal_stored_png(&t.slug, &ken.auth(), 2 * KB).await;
    let r = app
        .portal_add_activity_photo(&t.slug, &ken.auth(), &ken_reg.id, &kens)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{r:?}");
    assert_eq!(r.code(), "photo_needs_attendance");
    // Hana cannot put Ken's upload on the wall either.
    let r = app
        .portal_add_activity_photo(&t.slug, &hana.auth(), &hana_reg.id, &kens)
        .await;
    assert_eq!(r.code(), "upload_not_usable", "{r:?}");

    // Hana came: her photo goes up.
    let hanas = app.portal_stored_png(&t.slug, &hana.auth(), 2 * KB).await;
    let mine = app
        .portal_add_activity_photo(&t.slug, &hana.auth(), &hana_reg.id, &hanas)
        .await
        .ok();
    let wall = app
        .portal_activity_photos(&t.slug, &hana.auth(), &hana_reg.id)
        .await
        .ok();
    let flags: Vec<_> = wall.iter().map(|p| (p.id.clone(), p.mine)).collect();
    assert_eq!(
        flags,
        [
            (staff_photo.id.clone(), Some(false)),
            (mine.id.clone(), Some(true))
        ]
    );
    assert_eq!(app.activity_photos(&owner, &a.id).await.ok().len(), 2);

    // Members delete only their own; deleting removes the file.
    let r = app
        .portal_delete_activity_photo(&t.slug, &hana.auth(), &hana_reg.id, &staff_photo.id)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(r.code(), "photo_not_yours");
    assert_eq!(
        app.portal_delete_activity_photo(&t.slug, &hana.auth(), &hana_reg.id, &mine.id)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(get_from_store(&mine.url).await.0, StatusCode::NOT_FOUND);
    app.delete_activity_photo(&owner, &a.id, &staff_photo.id)
        .await
        .ok();
    assert_eq!(
        get_from_store(&staff_photo.url).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(app.activity_photos(&owner, &a.id).await.ok().is_empty());
    assert_eq!(
        app.get_upload(&owner, &staff_upload).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn an_activity_cover_by_upload_is_shown_and_a_replaced_one_is_deleted() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let t = app.signup_on("cover", "pro").await;
    let owner = t.owner();
    let first = app.stored_png(&owner, "activity_cover", 4 * KB).await;
    let mut body = activity_body("Yoga", 5);
    body["cover_upload_id"] = json!(first);
    let a = app.create_activity(&owner, &body).await.ok();
    let got = app.get_activity(&owner, &a.id).await.json;
    let url = got["cover_picture_url"].as_str().unwrap().to_owned();
    assert_eq!(get_from_store(&url).await.1, png_bytes(4 * KB));

    // Older rows with an address keep it.
    let mut by_url = activity_body("Old", 5);
    by_url["cover_url"] = json!("https://example.com/a.png");
    let old = app.create_activity(&owner, &by_url).await.json;
    assert_eq!(old["cover_picture_url"], "https://example.com/a.png");

    // A pending upload, or another business's, is no cover.
    let pending = app.png_upload(&owner, "activity_cover", KB).await;
    let other = app.signup_on("cover2", "pro").await;
    let theirs = app.stored_png(&other.owner(), "activity_cover", KB).await;
    for id in [pending.upload.id.as_str(), theirs.as_str()] {
        let mut b = activity_body("Bad", 5);
        b["cover_upload_id"] = json!(id);
        let r = app.create_activity(&owner, &b).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert_eq!(r.code(), "upload_not_usable");
        assert_eq!(r.problem().fields[0].field, "cover_upload_id");
    }

    // A new cover replaces the old one, whose file is deleted.
    let second = app.stored_png(&owner, "activity_cover", 5 * KB).await;
    body["cover_upload_id"] = json!(second);
    app.update_activity(&owner, &a.id, &body).await.ok();
    assert_eq!(get_from_store(&url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_upload(&owner, &first).await.status,
        StatusCode::NOT_FOUND
    );
    app.set_activity_status(&owner, &a.id, "published")
        .await
        .ok();
    let member = portal_member(&app, &t, "13866660003", "Mei").await;
    let listed = app.portal_activities(&t.slug, &member.auth()).await.ok();
    let cover = listed[0]["cover_url"].as_str().unwrap();
    assert_eq!(get_from_store(cover).await.1, png_bytes(5 * KB));
}

#[tokio::test]
async fn a_mall_item_picture_by_upload_is_served_and_a_replaced_one_is_deleted() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with_storage(&s3).await;
    let t = app.signup_on("mall-pic", "pro").await;
    let owner = t.owner();
    let first = app.stored_png(&owner, "mall_item", 4 * KB).await;
    let item =
        |name: &str| json!({ "name": name, "points": 100, "stock": 5, "delivery": "pickup" });
    let mut body = item("Mug");
    body["picture_upload_id"] = json!(first);

    let created = app.create_mall_item(&owner, &body).await.json;

    let id = created["id"].as_str().expect("created").to_owned();
    assert_eq!(created["picture_upload_id"], json!(first));
    let url = created["picture_url"].as_str().unwrap().to_owned();
    assert_eq!(get_from_store(&url).await.1, png_bytes(4 * KB));
    let listed = app.mall_items(&owner, false).await.json;
    let listed_url = listed[0]["picture_url"].as_str().unwrap();
    assert_eq!(get_from_store(listed_url).await.1, png_bytes(4 * KB));

    // Older rows with an address keep it.
    let mut by_url = item("Old");
    by_url["pictures"] = json!(["https://example.com/m.png"]);
    let old = app.create_mall_item(&owner, &by_url).await.json;
    assert_eq!(old["picture_url"], "https://example.com/m.png");

    // A pending upload, another purpose's, or another business's is no picture.
    let pending = app.png_upload(&owner, "mall_item", KB).await;
    let cover = app.stored_png(&owner, "activity_cover", KB).await;
    let other = app.signup_on("mall-pic2", "pro").await;
    let theirs = app.stored_png(&other.owner(), "mall_item", KB).await;
    for bad in [pending.upload.id.as_str(), cover.as_str(), theirs.as_str()] {
        let mut b = item("Bad");
        b["picture_upload_id"] = json!(bad);
        let r = app.create_mall_item(&owner, &b).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert_eq!(r.code(), "upload_not_usable");
        assert_eq!(r.problem().fields[0].field, "picture_upload_id");
        let r = app.update_mall_item(&owner, &id, &b).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert_eq!(r.problem().fields[0].field, "picture_upload_id");
    }

    // A new picture replaces the old one, whose file is deleted; members see the new one.
    let second = app.stored_png(&owner, "mall_item", 5 * KB).await;
    body["picture_upload_id"] = json!(second);
    let updated = app.update_mall_item(&owner, &id, &body).await.json;
    assert_eq!(updated["picture_upload_id"], json!(second));
    assert_eq!(get_from_store(&url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_upload(&owner, &first).await.status,
        StatusCode::NOT_FOUND
    );
    let member = portal_member(&app, &t, "13866660011", "Mall").await;
    let mall = app.portal_mall(&t.slug, &member.auth()).await.json;
    let mug = mall["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Mug")
        .expect("the mug is offered");
    let shown = mug["picture_url"].as_str().unwrap();
    assert_eq!(get_from_store(shown).await.1, png_bytes(5 * KB));
}
