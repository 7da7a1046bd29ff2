//! Saved segments: save, list, read, change, delete, count.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, Deserialize)]
pub struct Segment {
    pub id: String,
    pub name: String,
    pub filter: Value,
    pub created_by: String,
    pub updated_by: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SegmentCount {
    pub members: i64,
    pub more: bool,
}

impl Api {
    /// `GET /segments`.
    pub async fn segments(&self, auth: &Auth) -> Reply<Vec<Segment>> {
        self.v1(Method::GET, "/segments").auth(auth).send().await
    }

    /// `POST /segments`.
    pub async fn create_segment(&self, auth: &Auth, input: &impl Serialize) -> Reply<Segment> {
        self.v1(Method::POST, "/segments")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /segments/{id}`.
    pub async fn get_segment(&self, auth: &Auth, id: &str) -> Reply<Segment> {
        self.v1(Method::GET, &format!("/segments/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /segments/{id}`.
    pub async fn update_segment(
        &self,
        auth: &Auth,
        id: &str,
        input: &impl Serialize,
    ) -> Reply<Segment> {
        self.v1(Method::PUT, &format!("/segments/{id}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `DELETE /segments/{id}`.
    pub async fn delete_segment(&self, auth: &Auth, id: &str) -> Reply<()> {
        self.v1(Method::DELETE, &format!("/segments/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /segments/{id}/count`.
    pub async fn count_segment(&self, auth: &Auth, id: &str) -> Reply<SegmentCount> {
        self.v1(Method::GET, &format!("/segments/{id}/count"))
            .auth(auth)
            .send()
            .await
    }
}
