//! Uploaded files in any S3-compatible store through `aws-sdk-s3`: [`S3Store`] implements
//! the `ObjectStore` port. Browsers send and fetch the bytes through presigned addresses;
//! this crate only signs them, reads an object's size and type, and deletes.

use async_trait::async_trait;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use patron_core::ports::{ObjectInfo, ObjectStore, PresignedPut};
use std::time::Duration;

/// How to reach the store (`PATRON_S3_*` settings).
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `http(s)://host:port` of the S3-compatible service.
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

impl S3Config {
    /// `scheme://host[:port]` of the endpoint: where browsers send and fetch files.
    pub fn origin(&self) -> String {
        let e = self.endpoint.trim_end_matches('/');
        match e.split_once("://") {
            Some((scheme, rest)) => {
                format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest))
            }
            None => e.to_owned(),
        }
    }
}

/// One bucket of an S3-compatible store, addressed path-style (`endpoint/bucket/key`), which
/// every such service understands.
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    pub fn new(config: &S3Config) -> Result<Self, String> {
        if !(config.endpoint.starts_with("http://") || config.endpoint.starts_with("https://")) {
            return Err(format!(
                "the S3 endpoint {:?} needs http:// or https://",
                config.endpoint
            ));
        }
        if config.bucket.len() < 3 {
            return Err(format!("the bucket name {:?} is too short", config.bucket));
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(config.endpoint.trim_end_matches('/'))
            .region(Region::new(config.region.clone()))
            .credentials_provider(Credentials::new(
                config.access_key.clone(),
                config.secret_key.clone(),
                None,
                None,
                "patron",
            ))
            .force_path_style(true)
            .http_client(http)
            .build();
        Ok(Self {
            client: aws_sdk_s3::Client::from_conf(conf),
            bucket: config.bucket.clone(),
        })
    }

    /// Creates the bucket when it does not exist (development and tests).
    pub async fn ensure_bucket(&self) -> Result<(), String> {
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e))
    }
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig, String> {
    PresigningConfig::expires_in(expires_in).map_err(|e| e.to_string())
}

/// The store's own words for a failed call (the SDK's Display says only "service error").
fn describe<E: std::error::Error>(e: &E) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<PresignedPut, String> {
        let length = i64::try_from(length).map_err(|_| "length out of range".to_owned())?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| describe(&e))?;
        Ok(PresignedPut {
            url: req.uri().to_owned(),
            headers: req
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, String> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| describe(&e))?;
        Ok(req.uri().to_owned())
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, String> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => Ok(Some(ObjectInfo {
                size: o.content_length().unwrap_or(0),
                content_type: o.content_type().map(str::to_owned),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(describe(&e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| describe(&e))
    }
}
