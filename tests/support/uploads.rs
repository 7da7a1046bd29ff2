//! Uploads: a real S3-compatible server (s3s-fs) for the tests, a server wired to it, and
//! the upload operations.

use super::app::{spawn_app_full, Api, Auth, TestApp};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A running S3-compatible server: the one `scripts/test` started (`PATRON_S3_*`), else an
/// s3s-fs of our own (`.tools/s3s-fs/bin/s3s-fs`, which scripts/test installs; or
/// `PATRON_TEST_S3FS`). No server, no test: it panics rather than skip.
pub struct S3Server {
    pub config: patron_storage::S3Config,
    _dir: Option<tempfile::TempDir>,
    _child: Option<tokio::process::Child>,
}

impl S3Server {
    pub async fn start() -> Self {
        if let Ok(endpoint) = std::env::var("PATRON_S3_ENDPOINT") {
            let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
            return Self {
                config: patron_storage::S3Config {
                    endpoint,
                    bucket: var("PATRON_S3_BUCKET"),
                    access_key: var("PATRON_S3_ACCESS_KEY"),
                    secret_key: var("PATRON_S3_SECRET_KEY"),
                    region: std::env::var("PATRON_S3_REGION").unwrap_or("us-east-1".into()),
                },
                _dir: None,
                _child: None,
            };
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let bin = std::env::var("PATRON_TEST_S3FS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join(".tools/s3s-fs/bin/s3s-fs"));
        assert!(
            bin.exists(),
            "no s3s-fs at {} (scripts/test installs it; or set PATRON_S3_ENDPOINT or PATRON_TEST_S3FS)",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("patron-test")).unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let secret = uuid::Uuid::new_v4().simple().to_string();
        let child = tokio::process::Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", "patron-test", "--secret-key", &secret])
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("s3s-fs starts");
        for i in 0..=400 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(
                i < 400,
                "s3s-fs does not listen on 127.0.0.1:{port} after 20 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Self {
            config: patron_storage::S3Config {
                endpoint: format!("http://127.0.0.1:{port}"),
                bucket: "patron-test".into(),
                access_key: "patron-test".into(),
                secret_key: secret,
                region: "us-east-1".into(),
            },
            _dir: Some(dir),
            _child: Some(child),
        }
    }
}

/// A server whose uploads go to `s3`.
pub async fn spawn_app_with_storage(s3: &S3Server) -> TestApp {
    spawn_app_full(
        &super::app::database_url(),
        10,
        patron_core::pii::PiiKeys::development(),
        Some(s3.config.clone()),
    )
    .await
}

#[derive(Debug, Clone, Deserialize)]
pub struct UploadView {
    pub id: String,
    pub purpose: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
    pub state: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UploadTicket {
    pub upload: UploadView,
    pub put_url: String,
    pub put_headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UploadWithUrl {
    pub upload: UploadView,
    pub url: String,
}

/// A PNG of exactly `size` bytes (a valid header, then padding: the store does not look).
pub fn png_bytes(size: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.resize(size, 0);
    b
}

impl Api {
    pub async fn create_upload(&self, auth: &Auth, input: &impl Serialize) -> Reply<UploadTicket> {
        self.v1(Method::POST, "/uploads")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    pub async fn complete_upload(&self, auth: &Auth, id: &str) -> Reply<UploadWithUrl> {
        self.v1(Method::POST, &format!("/uploads/{id}/complete"))
            .auth(auth)
            .send()
            .await
    }

    pub async fn get_upload(&self, auth: &Auth, id: &str) -> Reply<UploadWithUrl> {
        self.v1(Method::GET, &format!("/uploads/{id}"))
            .auth(auth)
            .send()
            .await
    }

    pub async fn delete_upload(&self, auth: &Auth, id: &str) -> Reply<()> {
        self.v1(Method::DELETE, &format!("/uploads/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /uploads/{id}/content` without following the redirect: (status, Location).
    pub async fn upload_content(&self, auth: &Auth, id: &str) -> (reqwest::StatusCode, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = http.get(format!("{}/api/v1/uploads/{id}/content", self.base));
        if let Auth::Bearer(t) = auth {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request sent");
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (resp.status(), location)
    }

    /// Asks for an upload of a PNG of `size` bytes.
    pub async fn png_upload(&self, auth: &Auth, purpose: &str, size: usize) -> UploadTicket {
        self.create_upload(
            auth,
            &json!({ "purpose": purpose, "content_type": "image/png", "size": size,
                     "file_name": "photo.png" }),
        )
        .await
        .ok()
    }

    /// Sends a PNG of `size` bytes and completes the upload: its id.
    pub async fn stored_png(&self, auth: &Auth, purpose: &str, size: usize) -> String {
        let t = self.png_upload(auth, purpose, size).await;
        let put = put_to_store(&t, "image/png", png_bytes(size)).await;
        assert!(put.is_success(), "the store took the file: {put}");
        self.complete_upload(auth, &t.upload.id)
            .await
            .ok()
            .upload
            .id
    }
}

/// Sends `bytes` to the presigned address with the ticket's headers, `content_type` in
/// place of the signed one.
pub async fn put_to_store(
    t: &UploadTicket,
    content_type: &str,
    bytes: Vec<u8>,
) -> reqwest::StatusCode {
    let mut req = reqwest::Client::new().put(&t.put_url);
    for (k, v) in &t.put_headers {
        if k.eq_ignore_ascii_case("content-type") || k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        req = req.header(k, v);
    }
    req.header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("the store answers")
        .status()
}

/// Reads an object through a presigned address: (status, bytes).
pub async fn get_from_store(url: &str) -> (reqwest::StatusCode, Vec<u8>) {
    let r = reqwest::get(url).await.expect("the store answers");
    (r.status(), r.bytes().await.unwrap().to_vec())
}

#[derive(Debug, Clone, Deserialize)]
pub struct PhotoView {
    pub id: String,
    pub upload_id: Option<String>,
    pub url: String,
    pub mine: Option<bool>,
    pub added_by: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PortalUploadTicket {
    pub id: String,
    pub put_url: String,
    pub put_headers: BTreeMap<String, String>,
}

impl Api {
    pub async fn activity_photos(&self, auth: &Auth, activity: &str) -> Reply<Vec<PhotoView>> {
        self.v1(Method::GET, &format!("/activities/{activity}/photos"))
            .auth(auth)
            .send()
            .await
    }

    pub async fn add_activity_photo(
        &self,
        auth: &Auth,
        activity: &str,
        upload: &str,
    ) -> Reply<PhotoView> {
        self.v1(Method::POST, &format!("/activities/{activity}/photos"))
            .auth(auth)
            .json(&json!({ "upload_id": upload }))
            .send()
            .await
    }

    pub async fn delete_activity_photo(
        &self,
        auth: &Auth,
        activity: &str,
        photo: &str,
    ) -> Reply<()> {
        self.v1(
            Method::DELETE,
            &format!("/activities/{activity}/photos/{photo}"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// A member sends a PNG of `size` bytes through the portal and completes it: its id.
    pub async fn portal_stored_png(&self, slug: &str, auth: &Auth, size: usize) -> String {
        let t: PortalUploadTicket = self
            .v1(Method::POST, &format!("/portal/{slug}/me/uploads"))
            .auth(auth)
            .json(&json!({ "content_type": "image/png", "size": size, "file_name": "me.png" }))
            .send()
            .await
            .ok();
        let ticket = UploadTicket {
            upload: UploadView {
                id: t.id.clone(),
                purpose: "activity_photo".into(),
                content_type: "image/png".into(),
                size: size as i64,
                file_name: "me.png".into(),
                state: "pending".into(),
            },
            put_url: t.put_url,
            put_headers: t.put_headers,
        };
        assert!(put_to_store(&ticket, "image/png", png_bytes(size))
            .await
            .is_success());
        let done: Reply<()> = self
            .v1(
                Method::POST,
                &format!("/portal/{slug}/me/uploads/{}/complete", t.id),
            )
            .auth(auth)
            .send()
            .await;
        assert!(done.status.is_success(), "{done:?}");
        t.id
    }

    pub async fn portal_activity_photos(
        &self,
        slug: &str,
        auth: &Auth,
        registration: &str,
    ) -> Reply<Vec<PhotoView>> {
        self.v1(
            Method::GET,
            &format!("/portal/{slug}/me/activities/{registration}/photos"),
        )
        .auth(auth)
        .send()
        .await
    }

    pub async fn portal_add_activity_photo(
        &self,
        slug: &str,
        auth: &Auth,
        registration: &str,
        upload: &str,
    ) -> Reply<PhotoView> {
        self.v1(
            Method::POST,
            &format!("/portal/{slug}/me/activities/{registration}/photos"),
        )
        .auth(auth)
        .json(&json!({ "upload_id": upload }))
        .send()
        .await
    }

    pub async fn portal_delete_activity_photo(
        &self,
        slug: &str,
        auth: &Auth,
        registration: &str,
        photo: &str,
    ) -> Reply<()> {
        self.v1(
            Method::DELETE,
            &format!("/portal/{slug}/me/activities/{registration}/photos/{photo}"),
        )
        .auth(auth)
        .send()
        .await
    }
}
