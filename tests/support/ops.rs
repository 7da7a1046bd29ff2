//! The platform's operators: their logins, the tenant list, plans, suspensions, support
//! sessions, invoices, totals and the platform audit log.

use super::accounts::{AuditEntry, Tenant, TestTenant};
use super::app::{Api, Auth, TestApp, PASSWORD};
use super::plans::{Invoice, Plan};
use super::reply::Reply;
use chrono::Utc;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize)]
pub struct OperatorSession {
    pub token: String,
}

/// A tenant as operators list it, with its usage.
#[derive(Clone, Debug, Deserialize)]
pub struct TenantSummary {
    pub tenant: Tenant,
    pub suspended_reason: Option<String>,
    pub usage: BTreeMap<String, i64>,
}

/// A support session: `token` reads the tenant for a while.
#[derive(Clone, Debug, Deserialize)]
pub struct SupportSession {
    pub token: String,
    pub id: String,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TenantCount {
    pub plan: String,
    pub status: String,
    pub tenants: i64,
}

/// Purchases on one UTC day.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct DayCount {
    pub day: chrono::NaiveDate,
    pub count: i64,
}

/// The operators' dashboard: accounts now, members and purchases as of `as_of`.
#[derive(Clone, Debug, Deserialize)]
pub struct PlatformTotals {
    pub tenants: Vec<TenantCount>,
    pub members: i64,
    pub purchases_per_day: Vec<DayCount>,
    pub as_of: Option<chrono::DateTime<Utc>>,
    pub not_counted: i64,
}

/// Which tenants to list: a search and a status.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TenantFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Serialize)]
struct ForTenant {
    tenant: i64,
}

impl Api {
    /// `POST /ops/login`.
    pub async fn operator_login(&self, email: &str, password: &str) -> Reply<OperatorSession> {
        self.v1(Method::POST, "/ops/login")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
    }

    /// `POST /ops/logout`.
    pub async fn operator_logout(&self, auth: &Auth) -> Reply {
        self.v1(Method::POST, "/ops/logout").auth(auth).send().await
    }

    /// `GET /ops/me`.
    pub async fn operator_me(&self, auth: &Auth) -> Reply {
        self.v1(Method::GET, "/ops/me").auth(auth).send().await
    }

    /// `GET /ops/tenants`.
    pub async fn list_tenants(
        &self,
        auth: &Auth,
        filter: &TenantFilter,
    ) -> Reply<Vec<TenantSummary>> {
        self.v1(Method::GET, "/ops/tenants")
            .query(filter)
            .auth(auth)
            .send()
            .await
    }

    /// `POST /ops/tenants/{id}/plan`.
    pub async fn set_tenant_plan(
        &self,
        auth: &Auth,
        tenant: i64,
        plan: &str,
    ) -> Reply<TenantSummary> {
        self.v1(Method::POST, &format!("/ops/tenants/{tenant}/plan"))
            .auth(auth)
            .json(&json!({ "plan": plan }))
            .send()
            .await
    }

    /// `POST /ops/tenants/{id}/suspend`.
    pub async fn suspend_tenant(
        &self,
        auth: &Auth,
        tenant: i64,
        reason: &str,
    ) -> Reply<TenantSummary> {
        self.v1(Method::POST, &format!("/ops/tenants/{tenant}/suspend"))
            .auth(auth)
            .json(&json!({ "reason": reason }))
            .send()
            .await
    }

    /// `POST /ops/tenants/{id}/resume`.
    pub async fn resume_tenant(&self, auth: &Auth, tenant: i64) -> Reply<TenantSummary> {
        self.v1(Method::POST, &format!("/ops/tenants/{tenant}/resume"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /ops/tenants/{id}/support-sessions`.
    pub async fn open_support_session(
        &self,
        auth: &Auth,
        tenant: i64,
        input: &impl Serialize,
    ) -> Reply<SupportSession> {
        self.v1(
            Method::POST,
            &format!("/ops/tenants/{tenant}/support-sessions"),
        )
        .auth(auth)
        .json(input)
        .send()
        .await
    }

    /// `DELETE /ops/support-sessions/{id}`.
    pub async fn end_support_session(&self, auth: &Auth, id: &str) -> Reply {
        self.v1(Method::DELETE, &format!("/ops/support-sessions/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `GET /ops/invoices?tenant=`.
    pub async fn tenant_invoices(&self, auth: &Auth, tenant: i64) -> Reply<Vec<Invoice>> {
        self.v1(Method::GET, "/ops/invoices")
            .query(&ForTenant { tenant })
            .auth(auth)
            .send()
            .await
    }

    /// `GET /ops/totals`.
    pub async fn platform_totals(&self, auth: &Auth) -> Reply<PlatformTotals> {
        self.v1(Method::GET, "/ops/totals").auth(auth).send().await
    }

    /// `GET /ops/audit-log?tenant=`.
    pub async fn platform_audit_log(&self, auth: &Auth, tenant: i64) -> Reply<Vec<AuditEntry>> {
        self.v1(Method::GET, "/ops/audit-log")
            .query(&ForTenant { tenant })
            .auth(auth)
            .send()
            .await
    }

    /// `POST /ops/plans`.
    pub async fn create_plan(&self, auth: &Auth, input: &impl Serialize) -> Reply<Plan> {
        self.v1(Method::POST, "/ops/plans")
            .auth(auth)
            .json(input)
            .send()
            .await
    }

    /// `PUT /ops/plans/{code}`.
    pub async fn update_plan(
        &self,
        auth: &Auth,
        code: &str,
        input: &impl Serialize,
    ) -> Reply<Plan> {
        self.v1(Method::PUT, &format!("/ops/plans/{code}"))
            .auth(auth)
            .json(input)
            .send()
            .await
    }
}

impl TestApp {
    /// Creates a platform operator straight in the database (as `patron operator create`
    /// does) and logs in through the API; returns the operator's token.
    pub async fn operator(&self) -> Auth {
        let email = format!("op-{}@patron.example.com", uuid::Uuid::new_v4().simple());
        let hash = patron_core::auth::Password::parse(PASSWORD).unwrap().hash();
        patron_db::operators::create(&self.db, &email, "Operator", &hash, Utc::now())
            .await
            .expect("operator created");
        let session = self.operator_login(&email, PASSWORD).await.ok();
        Auth::Bearer(session.token)
    }

    /// Signs a business up on a plan of its own (`plan`: a plan body without `code`, which is
    /// made up here), then archives the plan, so that it is never offered to the businesses
    /// of other tests, nor on the browser test's plan page, which share the database.
    pub async fn signup_on_own_plan(&self, prefix: &str, plan: &serde_json::Value) -> TestTenant {
        let ops = self.operator().await;
        let code = format!("pl{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let mut create = plan.clone();
        create["code"] = json!(code);
        self.create_plan(&ops, &create).await.created();
        let t = self.signup_on(prefix, &code).await;
        let mut archived = plan.clone();
        archived["archived"] = json!(true);
        assert_eq!(
            self.update_plan(&ops, &code, &archived).await.status,
            reqwest::StatusCode::OK
        );
        t
    }
}
