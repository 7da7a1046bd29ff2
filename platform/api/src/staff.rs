//! Staff accounts: list, invite, change, disable, assign roles (the rules are in
//! `patron_app::staff`).

use crate::edge::account_views::StaffView;
use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_app::staff::{self as app_staff, Granter, NewStaffInput};
use patron_core::access::Permission;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Staff accounts of the business.
    Staff,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewStaff {
    #[oai(validator(max_length = 300))]
    pub email: String,
    #[oai(validator(max_length = 200))]
    pub name: String,
    /// Initial password, 10–128 characters; the person changes it after logging in.
    #[oai(validator(max_length = 1000))]
    pub password: String,
    /// Role names; at least one.
    #[oai(validator(max_items = 20))]
    pub roles: Vec<String>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct StaffChange {
    #[oai(validator(max_length = 200))]
    pub name: Option<String>,
    /// `active` or `disabled`. Disabling logs the person out everywhere.
    pub status: Option<String>,
    /// Replaces the roles held.
    #[oai(validator(max_items = 20))]
    pub roles: Option<Vec<String>>,
}

#[derive(ApiResponse)]
enum Created {
    /// Returned when the account was created.
    #[oai(status = 201)]
    Created(Json<StaffView>),
}

pub struct StaffApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Staff")]
impl StaffApi {
    /// List staff accounts.
    #[oai(path = "/staff", method = "get", operation_id = "listStaff")]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<StaffView>>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        let all = app_staff::list(tx).await?;
        Ok(Json(
            all.into_iter()
                .map(|(s, roles)| StaffView::new(s, roles))
                .collect(),
        ))
    }

    /// Create a staff account with roles.
    #[oai(path = "/staff", method = "post", operation_id = "createStaff")]
    async fn create(&self, auth: TenantAuth, req: Json<NewStaff>) -> Result<Created, ApiError> {
        let req = req.0;
        let new = app_staff::validate_new(NewStaffInput {
            email: req.email,
            name: req.name,
            password: req.password,
            roles: req.roles,
        })?;
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::StaffManage))
            .await?;
        let held = self.state.permissions(&me)?;
        let subject = me.subject();
        let by = Granter {
            subject: &subject,
            plan: &me.plan,
            held: &held,
        };
        let (created, roles) =
            app_staff::create(tx, &self.state.plans, by, new, self.state.now()).await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Created::Created(Json(StaffView::new(created, roles))))
    }

    /// One staff account.
    #[oai(path = "/staff/:id", method = "get", operation_id = "getStaff")]
    async fn get(&self, auth: TenantAuth, id: Path<Uuid>) -> Result<Json<StaffView>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        let (s, roles) = app_staff::get(tx, id.0).await?;
        Ok(Json(StaffView::new(s, roles)))
    }

    /// Change a staff account: name, status, roles.
    ///
    /// The business always keeps at least one active owner, and nobody can grant a role with
    /// permissions they do not hold themselves.
    #[oai(path = "/staff/:id", method = "patch", operation_id = "updateStaff")]
    async fn update(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
        req: Json<StaffChange>,
    ) -> Result<Json<StaffView>, ApiError> {
        let req = req.0;
        let change = app_staff::validate_change(app_staff::StaffChange {
            name: req.name,
            status: req.status,
            roles: req.roles,
        })?;
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::StaffManage))
            .await?;
        let held = self.state.permissions(&me)?;
        let subject = me.subject();
        let by = Granter {
            subject: &subject,
            plan: &me.plan,
            held: &held,
        };
        let (updated, roles) =
            app_staff::update(tx, &self.state.plans, by, id.0, change, self.state.now()).await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Json(StaffView::new(updated, roles)))
    }
}
