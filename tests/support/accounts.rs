//! Businesses and the people who work in them: sign-up, staff logins and sessions, staff,
//! roles, integration keys, settings and the tenant's audit log.

use super::app::{Api, Auth, TestApp, PASSWORD};
use super::reply::Reply;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A business as its staff see it.
#[derive(Clone, Debug, Deserialize)]
pub struct Tenant {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub plan: String,
    pub trial_ends_at: Option<String>,
    pub time_zone: String,
    pub currency: String,
    pub locale: String,
    pub phone_region: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Staff {
    pub id: String,
    pub email: String,
    pub name: String,
    pub status: String,
    pub roles: Vec<String>,
}

/// A staff login.
#[derive(Clone, Debug, Deserialize)]
pub struct Session {
    pub token: String,
    pub staff: Staff,
}

impl Session {
    pub fn auth(&self) -> Auth {
        Auth::Bearer(self.token.clone())
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct SignedUp {
    pub tenant: Tenant,
    pub session: Session,
}

/// Who the caller is: staff, an integration key or a support session.
#[derive(Clone, Debug, Deserialize)]
pub struct Me {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    /// The features of the business's plan.
    pub features: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub display_name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub preview: String,
    pub role: String,
    pub last_used_at: Option<String>,
}

/// A new integration key: `key` is shown this once.
#[derive(Clone, Debug, Deserialize)]
pub struct CreatedApiKey {
    pub key: String,
    #[serde(flatten)]
    pub info: ApiKey,
}

/// Who did something, as people read it.
#[derive(Clone, Debug, Deserialize)]
pub struct ActorName {
    pub subject: String,
    pub kind: String,
    pub name: Option<String>,
    pub code: Option<String>,
}

/// An entry of the tenant's (or the platform's) audit log.
#[derive(Clone, Debug, Deserialize)]
pub struct AuditEntry {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub at: String,
    pub action: String,
    pub actor: String,
    #[serde(default)]
    pub target: Option<String>,
    pub detail: Value,
    /// The member the entry concerns and their name.
    #[serde(default)]
    pub member_id: Option<String>,
    #[serde(default)]
    pub member_name: Option<String>,
}

/// A tenant made for a test, with its owner logged in.
#[derive(Clone, Debug)]
pub struct TestTenant {
    pub id: i64,
    pub slug: String,
    pub owner_email: String,
    pub owner_password: String,
    pub owner_token: String,
    pub owner_id: String,
}

impl TestTenant {
    pub fn owner(&self) -> Auth {
        Auth::Bearer(self.owner_token.clone())
    }
}

#[derive(Serialize)]
struct Login<'a> {
    tenant: &'a str,
    email: &'a str,
    password: &'a str,
}

impl Api {
    /// `POST /signup`: a new business and its owner.
    pub async fn register_business(&self, input: &impl Serialize) -> Reply<SignedUp> {
        self.v1(Method::POST, "/signup").json(input).send().await
    }

    /// `POST /auth/login`.
    pub async fn login(&self, tenant: &str, email: &str, password: &str) -> Reply<Session> {
        let input = Login {
            tenant,
            email,
            password,
        };
        self.v1(Method::POST, "/auth/login")
            .json(&input)
            .send()
            .await
    }

    /// `POST /auth/logout`.
    pub async fn logout(&self, auth: &Auth) -> Reply<()> {
        self.v1(Method::POST, "/auth/logout")
            .auth(auth)
            .send()
            .await
    }

    /// `POST /auth/password`.
    pub async fn change_password(&self, auth: &Auth, input: &impl Serialize) -> Reply<()> {
        self.v1(Method::POST, "/auth/password")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /me`.
    pub async fn me(&self, auth: &Auth) -> Reply<Me> {
        self.v1(Method::GET, "/me").auth(auth).send().await
    }

    /// `GET /permissions`.
    pub async fn permissions(&self, auth: &Auth) -> Reply {
        self.v1(Method::GET, "/permissions").auth(auth).send().await
    }

    /// `GET /staff`.
    pub async fn list_staff(&self, auth: &Auth) -> Reply<Vec<Staff>> {
        self.v1(Method::GET, "/staff").auth(auth).send().await
    }

    /// `POST /staff`.
    pub async fn create_staff(&self, auth: &Auth, input: &impl Serialize) -> Reply<Staff> {
        self.v1(Method::POST, "/staff")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /staff/{id}`.
    pub async fn get_staff(&self, auth: &Auth, id: &str) -> Reply<Staff> {
        self.v1(Method::GET, &format!("/staff/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `PATCH /staff/{id}`.
    pub async fn update_staff(
        &self,
        auth: &Auth,
        id: &str,
        input: &impl Serialize,
    ) -> Reply<Staff> {
        self.v1(Method::PATCH, &format!("/staff/{id}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /roles`.
    pub async fn list_roles(&self, auth: &Auth) -> Reply<Vec<Role>> {
        self.v1(Method::GET, "/roles").auth(auth).send().await
    }

    /// `GET /roles/{name}`.
    pub async fn get_role(&self, auth: &Auth, name: &str) -> Reply<Role> {
        self.v1(Method::GET, &format!("/roles/{name}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /roles`.
    pub async fn create_role(&self, auth: &Auth, input: &impl Serialize) -> Reply<Role> {
        self.v1(Method::POST, "/roles")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `PATCH /roles/{name}`.
    pub async fn update_role(
        &self,
        auth: &Auth,
        name: &str,
        input: &impl Serialize,
    ) -> Reply<Role> {
        self.v1(Method::PATCH, &format!("/roles/{name}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `DELETE /roles/{name}`.
    pub async fn delete_role(&self, auth: &Auth, name: &str) -> Reply<()> {
        self.v1(Method::DELETE, &format!("/roles/{name}"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /api-keys`.
    pub async fn list_api_keys(&self, auth: &Auth) -> Reply<Vec<ApiKey>> {
        self.v1(Method::GET, "/api-keys").auth(auth).send().await
    }

    /// `POST /api-keys`.
    pub async fn create_api_key(
        &self,
        auth: &Auth,
        input: &impl Serialize,
    ) -> Reply<CreatedApiKey> {
        self.v1(Method::POST, "/api-keys")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `DELETE /api-keys/{id}`.
    pub async fn revoke_api_key(&self, auth: &Auth, id: &str) -> Reply<ApiKey> {
        self.v1(Method::DELETE, &format!("/api-keys/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /settings`.
    pub async fn settings(&self, auth: &Auth) -> Reply<Tenant> {
        self.v1(Method::GET, "/settings").auth(auth).send().await
    }

    /// `PATCH /settings`.
    pub async fn update_settings(&self, auth: &Auth, input: &impl Serialize) -> Reply<Tenant> {
        self.v1(Method::PATCH, "/settings")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `GET /audit-log` with filters and paging (`actor`, `action`, `from`, `to`, `member`,
    /// `before`, `limit`).
    pub async fn audit_log_where(
        &self,
        auth: &Auth,
        query: &[(&str, &str)],
    ) -> Reply<Vec<AuditEntry>> {
        self.v1(Method::GET, "/audit-log")
            .auth(auth)
            .query(&query)
            .send()
            .await
    }

    /// `GET /audit-log`.
    pub async fn audit_log(&self, auth: &Auth) -> Reply<Vec<AuditEntry>> {
        self.v1(Method::GET, "/audit-log").auth(auth).send().await
    }
}

impl TestApp {
    /// Signs a new business up on the default plan; panics unless it succeeds.
    pub async fn signup(&self, prefix: &str) -> TestTenant {
        self.sign_up(prefix, None).await
    }

    /// Signs a new business up on `plan`; panics unless it succeeds.
    pub async fn signup_on(&self, prefix: &str, plan: &str) -> TestTenant {
        self.sign_up(prefix, Some(plan)).await
    }

    async fn sign_up(&self, prefix: &str, plan: Option<&str>) -> TestTenant {
        let slug = super::app::unique_slug(prefix);
        let owner_email = format!("owner@{slug}.example.com");
        let mut body = json!({ "business_name": format!("Business {slug}"), "slug": slug, "owner_name": "Owner", "email": owner_email, "password": PASSWORD });
        if let Some(plan) = plan {
            body["plan"] = json!(plan);
        }
        let r = self.register_business(&body).await;
        assert_eq!(r.status, StatusCode::CREATED, "signup failed: {r:?}");
        let signed_up = r.body();
        if let Some(plan) = plan {
            assert_eq!(signed_up.tenant.plan, plan);
        }
        TestTenant {
            id: signed_up.tenant.id,
            slug,
            owner_email,
            owner_password: PASSWORD.into(),
            owner_token: signed_up.session.token,
            owner_id: signed_up.session.staff.id,
        }
    }

    /// `POST /actors/resolve`: names for actor texts.
    pub async fn resolve_actors(&self, auth: &Auth, subjects: &[&str]) -> Reply<Vec<ActorName>> {
        self.v1(Method::POST, "/actors/resolve")
            .auth(auth)
            .json(&json!({ "subjects": subjects }))
            .send()
            .await
    }

    /// Creates a staff member with `roles` and logs them in; returns (id, token).
    pub async fn staff_with_roles(&self, t: &TestTenant, roles: &[&str]) -> (String, Auth) {
        let email = format!("{}@{}.example.com", uuid::Uuid::new_v4().simple(), t.slug);
        let staff = self
            .create_staff(
                &t.owner(),
                &json!({ "email": email, "name": "Staff", "password": PASSWORD, "roles": roles }),
            )
            .await
            .created();
        let session = self.login(&t.slug, &email, PASSWORD).await.ok();
        (staff.id, session.auth())
    }

    /// An integration key with `role`, made by the owner. Unlike a login, it lasts while a
    /// test moves the clock by days.
    pub async fn api_key(&self, t: &TestTenant, role: &str) -> Auth {
        let created = self
            .create_api_key(
                &t.owner(),
                &json!({ "name": format!("{role} key"), "role": role }),
            )
            .await
            .created();
        Auth::Key(created.key)
    }
}
