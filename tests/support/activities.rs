//! Activities: staff's operations (activities, sign-ups, check-in, ratings, statistics)
//! and the member portal's.

use super::app::{Api, Auth};
use super::reply::Reply;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Debug, Deserialize)]
pub struct ActivityView {
    pub id: String,
    pub title: String,
    pub status: String,
    pub capacity: i32,
    pub taken: i32,
    pub organisers: Vec<Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ActivityGuest {
    pub id: String,
    pub name: String,
    pub phone_masked: String,
    pub status: String,
    pub checked_in_at: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ActivityRegistration {
    pub id: String,
    pub member_id: String,
    pub member_name: String,
    pub status: String,
    pub position: Option<i64>,
    pub offer_expires_at: Option<String>,
    pub points_paid: i64,
    /// Stored value charged, and what it took of principal and bonus.
    pub fen_paid: i64,
    pub principal_paid: i64,
    pub bonus_paid: i64,
    /// The pass a visit was used of.
    pub pass_id: Option<String>,
    pub refunded_at: Option<String>,
    pub reason: Option<String>,
    pub checked_in_at: Option<String>,
    pub checked_in_by_name: Option<String>,
    pub attend_points: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MyActivityRegistration {
    pub id: String,
    pub activity_id: String,
    pub status: String,
    pub position: Option<i64>,
    pub points_paid: i64,
    pub can_cancel: bool,
    pub rating: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CheckInCode {
    pub code: String,
    pub refresh_at: String,
}

/// An activity's body: `capacity` seats, starting in a week, free, automatic approval.
pub fn activity_body(title: &str, capacity: i64) -> Value {
    let starts = chrono::Utc::now() + chrono::Duration::days(7);
    json!({
        "title": title,
        "starts_at": starts,
        "ends_at": starts + chrono::Duration::hours(2),
        "capacity": capacity,
        "approval": "automatic",
    })
}

impl Api {
    /// `GET /activities`.
    pub async fn list_activities(&self, auth: &Auth) -> Reply<Vec<ActivityView>> {
        self.v1(Method::GET, "/activities").auth(auth).send().await
    }

    /// `POST /activities`.
    pub async fn create_activity(&self, auth: &Auth, body: &impl Serialize) -> Reply<ActivityView> {
        self.v1(Method::POST, "/activities")
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `GET /activities/{id}`.
    pub async fn get_activity(&self, auth: &Auth, id: &str) -> Reply<ActivityView> {
        self.v1(Method::GET, &format!("/activities/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /activities/{id}`.
    pub async fn update_activity(
        &self,
        auth: &Auth,
        id: &str,
        body: &impl Serialize,
    ) -> Reply<ActivityView> {
        self.v1(Method::PUT, &format!("/activities/{id}"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `PUT /activities/{id}/status`.
    pub async fn set_activity_status(
        &self,
        auth: &Auth,
        id: &str,
        status: &str,
    ) -> Reply<ActivityView> {
        self.v1(Method::PUT, &format!("/activities/{id}/status"))
            .auth(auth)
            .json(&json!({ "status": status }))
            .send()
            .await
    }

    /// `GET /activities/{id}/registrations`.
    pub async fn activity_registrations(
        &self,
        auth: &Auth,
        id: &str,
    ) -> Reply<Vec<ActivityRegistration>> {
        self.v1(Method::GET, &format!("/activities/{id}/registrations"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /activities/{id}/guests`.
    pub async fn activity_guests(&self, auth: &Auth, id: &str) -> Reply<Vec<ActivityGuest>> {
        self.v1(Method::GET, &format!("/activities/{id}/guests"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /activities/{id}/guests`.
    pub async fn add_activity_guest(
        &self,
        auth: &Auth,
        id: &str,
        body: &impl Serialize,
    ) -> Reply<ActivityGuest> {
        self.v1(Method::POST, &format!("/activities/{id}/guests"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `POST /activities/{id}/guests/{guest}/{action}` (`cancel`, `check-in`).
    pub async fn act_on_activity_guest(
        &self,
        auth: &Auth,
        id: &str,
        guest: &str,
        action: &str,
    ) -> Reply<ActivityGuest> {
        let call = self
            .v1(
                Method::POST,
                &format!("/activities/{id}/guests/{guest}/{action}"),
            )
            .auth(auth);
        if action == "cancel" {
            call.json(&serde_json::json!({})).send().await
        } else {
            call.send().await
        }
    }

    /// `POST /activities/{id}/registrations`.
    pub async fn add_activity_registration(
        &self,
        auth: &Auth,
        id: &str,
        body: &impl Serialize,
    ) -> Reply<ActivityRegistration> {
        self.v1(Method::POST, &format!("/activities/{id}/registrations"))
            .auth(auth)
            .json(body)
            .send()
            .await
    }

    /// `POST /activities/{id}/registrations/{registration}/{action}` (`approve`, `reject`,
    /// `move`, `cancel`).
    pub async fn act_on_registration(
        &self,
        auth: &Auth,
        id: &str,
        registration: &str,
        action: &str,
        body: &impl Serialize,
    ) -> Reply<ActivityRegistration> {
        self.v1(
            Method::POST,
            &format!("/activities/{id}/registrations/{registration}/{action}"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `POST /activities/{id}/check-ins`.
    pub async fn check_in_activity(
        &self,
        auth: &Auth,
        id: &str,
        code: &str,
    ) -> Reply<ActivityRegistration> {
        self.v1(Method::POST, &format!("/activities/{id}/check-ins"))
            .auth(auth)
            .json(&json!({ "code": code }))
            .send()
            .await
    }

    /// `GET /activities/{id}/ratings`.
    pub async fn activity_ratings(&self, auth: &Auth, id: &str) -> Reply<Vec<Value>> {
        self.v1(Method::GET, &format!("/activities/{id}/ratings"))
            .auth(auth)
            .send()
            .await
    }

    /// `PUT /activities/{id}/ratings/{registration}/hidden`.
    pub async fn set_activity_rating_hidden(
        &self,
        auth: &Auth,
        id: &str,
        registration: &str,
        hidden: bool,
    ) -> Reply<Vec<Value>> {
        self.v1(
            Method::PUT,
            &format!("/activities/{id}/ratings/{registration}/hidden"),
        )
        .auth(auth)
        .json(&json!({ "hidden": hidden }))
        .send()
        .await
    }

    /// `GET /activities/{id}/statistics`.
    pub async fn activity_statistics(&self, auth: &Auth, id: &str) -> Reply<Value> {
        self.v1(Method::GET, &format!("/activities/{id}/statistics"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /portal/{tenant}/activities`.
    pub async fn portal_activities(&self, slug: &str, auth: &Auth) -> Reply<Vec<Value>> {
        self.v1(Method::GET, &format!("/portal/{slug}/activities"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/activities/{id}/sign-up`.
    pub async fn portal_sign_up_activity(
        &self,
        slug: &str,
        auth: &Auth,
        id: &str,
        body: &impl Serialize,
    ) -> Reply<MyActivityRegistration> {
        self.v1(
            Method::POST,
            &format!("/portal/{slug}/activities/{id}/sign-up"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }

    /// `GET /portal/{tenant}/me/activities`.
    pub async fn portal_my_activities(
        &self,
        slug: &str,
        auth: &Auth,
    ) -> Reply<Vec<MyActivityRegistration>> {
        self.v1(Method::GET, &format!("/portal/{slug}/me/activities"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /portal/{tenant}/me/activities/{registration}/cancel`.
    pub async fn portal_cancel_activity(
        &self,
        slug: &str,
        auth: &Auth,
        registration: &str,
    ) -> Reply<MyActivityRegistration> {
        self.v1(
            Method::POST,
            &format!("/portal/{slug}/me/activities/{registration}/cancel"),
        )
        .auth(auth)
        .json(&json!({}))
        .send()
        .await
    }

    /// `POST /portal/{tenant}/me/activities/{registration}/accept`.
    pub async fn portal_accept_activity_offer(
        &self,
        slug: &str,
        auth: &Auth,
        registration: &str,
    ) -> Reply<MyActivityRegistration> {
        self.v1(
            Method::POST,
            &format!("/portal/{slug}/me/activities/{registration}/accept"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `GET /portal/{tenant}/me/activities/{registration}/code`.
    pub async fn portal_activity_code(
        &self,
        slug: &str,
        auth: &Auth,
        registration: &str,
    ) -> Reply<CheckInCode> {
        self.v1(
            Method::GET,
            &format!("/portal/{slug}/me/activities/{registration}/code"),
        )
        .auth(auth)
        .send()
        .await
    }

    /// `PUT /portal/{tenant}/me/activities/{registration}/rating`.
    pub async fn portal_rate_activity(
        &self,
        slug: &str,
        auth: &Auth,
        registration: &str,
        body: &impl Serialize,
    ) -> Reply<MyActivityRegistration> {
        self.v1(
            Method::PUT,
            &format!("/portal/{slug}/me/activities/{registration}/rating"),
        )
        .auth(auth)
        .json(body)
        .send()
        .await
    }
}
