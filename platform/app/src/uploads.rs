//! Uploads: a presigned address for the browser to send a picture straight to the object
//! store ([`create`]), the check that what arrived is what was declared and its count
//! against the plan's `storage_mb` ([`complete`]), reading through a short-lived presigned
//! address ([`url`]) and deletion, which frees the storage ([`delete`]). Other capabilities
//! take a stored upload for their own use with [`take`] and let it go with [`discard`].
//!
//! The store is reached only through the `ObjectStore` port; without one every use case
//! here answers 503 `uploads_not_configured`.

use crate::plans::{limit_denial, PlanCatalog};
use crate::{AppError, OrNotFound};
use chrono::{DateTime, Utc};
use patron_core::plans::{Limit, OverLimit, Plan};
use patron_core::ports::ObjectStore;
use patron_core::uploads::{self as core, Purpose};
use patron_db::uploads::{self as db, Upload};
use patron_db::{Tenant, TenantTx};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The object store, or 503 `uploads_not_configured`.
pub fn store(store: Option<&Arc<dyn ObjectStore>>) -> Result<&dyn ObjectStore, AppError> {
    store.map(|s| s.as_ref()).ok_or_else(|| {
        AppError::unavailable(
            "uploads_not_configured",
            "uploads are not configured on this server (no S3-compatible store)",
        )
    })
}

fn store_failed(e: String) -> AppError {
    tracing::warn!(error = %e, "object store call failed");
    AppError::unavailable(
        "storage_unavailable",
        "the file store did not answer; try again",
    )
}

/// What the browser declares before sending a file.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
}

/// An upload handed out: where and how to send the bytes.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub upload: Upload,
    pub put_url: String,
    pub put_headers: Vec<(String, String)>,
}

/// Checks what the browser declares and signs an address to send exactly that.
pub async fn create(
    tx: &mut TenantTx,
    store: &dyn ObjectStore,
    tenant: &Tenant,
    actor: &str,
    input: &NewUpload,
    now: DateTime<Utc>,
) -> Result<Ticket, AppError> {
    let mut bad = Vec::new();
    let purpose = Purpose::parse(&input.purpose).map_err(|i| bad.push(i.at("purpose")));
    let content_type =
        core::parse_content_type(&input.content_type).map_err(|i| bad.push(i.at("content_type")));
    let size = core::parse_size(input.size).map_err(|i| bad.push(i.at("size")));
    let file_name =
        core::parse_file_name(&input.file_name).map_err(|i| bad.push(i.at("file_name")));
    let (Ok(purpose), Ok(content_type), Ok(size), Ok(file_name)) =
        (purpose, content_type, size, file_name)
    else {
        return Err(AppError::invalid(bad));
    };
    let id = Uuid::now_v7();
    let key = core::object_key(tenant.id, purpose, id);
    let expiry = Duration::from_secs(core::PUT_EXPIRY_SECS);
    let signed = store
        .presign_put(&key, content_type, size as u64, expiry)
        .await
        .map_err(store_failed)?;
    let upload = Upload {
        id,
        purpose: purpose.as_str().to_owned(),
        content_type: content_type.to_owned(),
        size,
        file_name,
        object_key: key,
        state: "pending".into(),
        created_by: actor.to_owned(),
        created_at: now,
        expires_at: now + chrono::Duration::seconds(core::PUT_EXPIRY_SECS as i64),
        stored_at: None,
    };
    db::insert(tx, &upload).await?;
    Ok(Ticket {
        upload,
        put_url: signed.url,
        put_headers: signed.headers,
    })
}

/// The store holds the object: checks it is what was declared (else deletes it: 422
/// `upload_mismatch`; nothing there: 422 `upload_not_received`) and counts it against the
/// plan's `storage_mb` by one conditional statement (402 `limit_reached` naming it, and
/// the object is deleted). Completing twice answers the stored upload. `by`, when given,
/// must be who asked for the upload (a member completes only their own; 404 otherwise).
pub async fn complete(
    tx: &mut TenantTx,
    store: &dyn ObjectStore,
    catalog: &PlanCatalog,
    plan: &Plan,
    id: Uuid,
    by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Upload, AppError> {
    let mut u = db::lock(tx, id).await.or_not_found("upload")?;
    if by.is_some_and(|b| b != u.created_by) {
        return Err(AppError::not_found("upload"));
    }
    if u.state == "stored" {
        return Ok(u);
    }
    let Some(info) = store.head(&u.object_key).await.map_err(store_failed)? else {
        return Err(AppError::refused(
            "upload_not_received",
            "id",
            "the store holds no file for this upload yet",
        ));
    };
    let same_type = info
        .content_type
        .as_deref()
        .and_then(|t| core::parse_content_type(t).ok())
        == Some(u.content_type.as_str());
    if info.size != u.size || !same_type {
        store.delete(&u.object_key).await.map_err(store_failed)?;
        return Err(AppError::refused(
            "upload_mismatch",
            "id",
            format!(
                "the stored file ({} bytes, {}) is not what was declared ({} bytes, {}); it was deleted",
                info.size,
                info.content_type.as_deref().unwrap_or("no type"),
                u.size,
                u.content_type
            ),
        ));
    }
    let cap = plan.limit(Limit::StorageMb);
    if !db::count_in(tx, u.size, cap.map(|mb| mb * core::MEGABYTE)).await? {
        let used = db::used_bytes(tx).await?;
        store.delete(&u.object_key).await.map_err(store_failed)?;
        let adding = core::megabytes(used + u.size) - core::megabytes(used);
        let over = OverLimit {
            limit: Limit::StorageMb,
            allowed: cap.unwrap_or(0),
            usage: core::megabytes(used),
        };
        let plans = catalog.all().await?;
        return Err(AppError::payment_required(limit_denial(
            plan,
            &over,
            adding.max(1),
            &plans,
        )));
    }
    db::mark_stored(tx, id, now).await?;
    u.state = "stored".into();
    u.stored_at = Some(now);
    Ok(u)
}

/// One upload of the tenant's.
pub async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Upload, AppError> {
    db::find(tx, id).await.or_not_found("upload")
}

/// A short-lived address to read a stored upload.
pub async fn url(store: &dyn ObjectStore, u: &Upload) -> Result<String, AppError> {
    store
        .presign_get(&u.object_key, Duration::from_secs(core::GET_EXPIRY_SECS))
        .await
        .map_err(store_failed)
}

/// A short-lived address to read the upload `id` of `purpose` of `tenant` (for views that
/// name an upload by id: no query needed, the key is known).
pub async fn url_of(
    store: &dyn ObjectStore,
    tenant_id: i64,
    purpose: Purpose,
    id: Uuid,
) -> Result<String, AppError> {
    store
        .presign_get(
            &core::object_key(tenant_id, purpose, id),
            Duration::from_secs(core::GET_EXPIRY_SECS),
        )
        .await
        .map_err(store_failed)
}

/// Deletes the upload and its object, giving its storage back.
pub async fn delete(tx: &mut TenantTx, store: &dyn ObjectStore, id: Uuid) -> Result<(), AppError> {
    let u = db::lock(tx, id).await.or_not_found("upload")?;
    discard(tx, store, &u).await
}

/// Deletes an upload another capability let go of (its row, its object, its storage).
pub async fn discard(
    tx: &mut TenantTx,
    store: &dyn ObjectStore,
    u: &Upload,
) -> Result<(), AppError> {
    if u.state == "stored" {
        db::count_out(tx, u.size).await?;
    }
    db::delete(tx, u.id).await?;
    store.delete(&u.object_key).await.map_err(store_failed)
}

/// A stored upload of `purpose`, for another capability to point at: 422
/// `upload_not_usable` on `field` when the business has no such upload, or it is pending,
/// or for another purpose. `by`, when given, must be who uploaded it.
pub async fn take(
    tx: &mut TenantTx,
    id: Uuid,
    purpose: Purpose,
    field: &str,
    by: Option<&str>,
) -> Result<Upload, AppError> {
    match db::lock(tx, id).await? {
        Some(u)
            if u.state == "stored"
                && u.purpose == purpose.as_str()
                && by.is_none_or(|b| b == u.created_by) =>
        {
            Ok(u)
        }
        _ => Err(AppError::refused(
            "upload_not_usable",
            field,
            format!(
                "the upload must be a completed {} upload of yours",
                purpose.as_str()
            ),
        )),
    }
}
