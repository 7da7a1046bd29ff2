//! Uploads over HTTP: ask for a presigned address (`POST /uploads`), send the file straight
//! to the store with it, then `POST /uploads/{id}/complete` so the server checks and counts
//! it; read through a short-lived presigned address, delete. The use cases are
//! `patron_app::uploads`; members add photos through `portal`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use chrono::{DateTime, Utc};
use patron_app::uploads::{self, NewUpload as NewUploadInput, Ticket};
use patron_core::access::Permission;
use patron_db::uploads::Upload as UploadRow;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Uploaded pictures, sent straight to the object store through presigned addresses.
    Uploads,
}

pub struct UploadsApi {
    pub state: ApiState,
}

/// A file about to be sent.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields)]
pub struct NewUpload {
    /// `activity_cover`, `activity_photo`, `mall_item` or `member_avatar`.
    pub purpose: String,
    /// `image/jpeg`, `image/png` or `image/webp`.
    pub content_type: String,
    /// The exact size in bytes (at most 5 MiB).
    pub size: i64,
    /// The file's name, as shown.
    pub file_name: String,
}

/// An upload and, while it is pending, where to send it.
#[derive(Debug, Clone, Object)]
pub struct Upload {
    pub id: Uuid,
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
    /// `pending` (not sent or not checked yet) or `stored` (counted).
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub stored_at: Option<DateTime<Utc>>,
}

impl From<UploadRow> for Upload {
    fn from(u: UploadRow) -> Self {
        Self {
            id: u.id,
            purpose: u.purpose,
            content_type: u.content_type,
            size: u.size,
            file_name: u.file_name,
            state: u.state,
            created_at: u.created_at,
            stored_at: u.stored_at,
        }
    }
}

/// Where to send the file: `PUT put_url` with exactly `put_headers` and the declared bytes
/// (the store refuses another type or size), before `expires_at`.
#[derive(Debug, Clone, Object)]
pub struct UploadTicket {
    pub upload: Upload,
    pub put_url: String,
    pub put_headers: BTreeMap<String, String>,
    pub expires_at: DateTime<Utc>,
}

impl From<Ticket> for UploadTicket {
    fn from(t: Ticket) -> Self {
        Self {
            expires_at: t.upload.expires_at,
            upload: t.upload.into(),
            put_url: t.put_url,
            put_headers: t.put_headers.into_iter().collect(),
        }
    }
}

/// A stored upload with a short-lived address to read it.
#[derive(Debug, Clone, Object)]
pub struct UploadWithUrl {
    pub upload: Upload,
    /// A presigned address, valid for 10 minutes (usable in `<img src>`).
    pub url: String,
}

#[derive(ApiResponse)]
pub enum UploadContent {
    /// To a short-lived presigned address of the file.
    #[oai(status = 302)]
    Found(#[oai(header = "Location")] String),
}

#[OpenApi(tag = "Tag::Uploads")]
impl UploadsApi {
    /// Ask to upload a picture: answers a presigned address to `PUT` it to, valid for 15
    /// minutes, signed for the declared type and size. 503 `uploads_not_configured` when
    /// the server has no store.
    #[oai(path = "/uploads", method = "post", operation_id = "createUpload")]
    async fn create(
        &self,
        auth: TenantAuth,
        body: Json<NewUpload>,
    ) -> Result<Json<UploadTicket>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let b = body.0;
        let input = NewUploadInput {
            purpose: b.purpose,
            content_type: b.content_type,
            size: b.size,
            file_name: b.file_name,
        };
        let t = uploads::create(
            &mut tx,
            store,
            &me.tenant,
            &me.subject(),
            &input,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(Json(t.into()))
    }

    /// The file was sent: checks it is what was declared (422 `upload_mismatch`, and it is
    /// deleted; 422 `upload_not_received` when nothing arrived) and counts it against the
    /// plan's `storage_mb` (402 `limit_reached`, and it is deleted).
    #[oai(
        path = "/uploads/:id/complete",
        method = "post",
        operation_id = "completeUpload"
    )]
    async fn complete(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<UploadWithUrl>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        let u = uploads::complete(
            &mut tx,
            store,
            &self.state.plans,
            &me.plan,
            id.0,
            None,
            self.state.now(),
        )
        .await?;
        tx.commit().await?;
        let url = uploads::url(store, &u).await?;
        Ok(Json(UploadWithUrl {
            upload: u.into(),
            url,
        }))
    }

    /// One upload, with a short-lived address to read it.
    #[oai(path = "/uploads/:id", method = "get", operation_id = "getUpload")]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<UploadWithUrl>, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let u = uploads::get(&mut tx, id.0).await?;
        tx.commit().await?;
        let url = uploads::url(store, &u).await?;
        Ok(Json(UploadWithUrl {
            upload: u.into(),
            url,
        }))
    }

    /// The file itself: a redirect to a short-lived presigned address.
    #[oai(
        path = "/uploads/:id/content",
        method = "get",
        operation_id = "uploadContent"
    )]
    async fn content(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<UploadContent, ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersRead))
            .await?;
        let u = uploads::get(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(UploadContent::Found(uploads::url(store, &u).await?))
    }

    /// Delete an upload and its file; its storage is given back.
    #[oai(
        path = "/uploads/:id",
        method = "delete",
        operation_id = "deleteUpload"
    )]
    async fn delete(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<(), ApiError> {
        let store = uploads::store(self.state.storage.as_ref())?;
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersWrite))
            .await?;
        uploads::delete(&mut tx, store, id.0).await?;
        tx.commit().await?;
        Ok(())
    }
}
