//! Roles and permissions: the built-in roles, custom roles owners define, and the list of
//! permissions there are.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_app::roles as app_roles;
use patron_core::access::Permission;
use patron_db::access::Role;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

#[derive(Tags)]
enum Tag {
    /// Roles and permissions (Casbin RBAC, per business).
    Roles,
}

/// A permission that can be granted.
#[derive(Debug, Object)]
pub struct PermissionView {
    /// `resource:action`.
    pub name: String,
    pub description: String,
}

#[derive(Debug, Object)]
pub struct RoleView {
    /// The role's code.
    pub name: String,
    /// The name people read (「前台」); empty when none was given.
    pub display_name: String,
    pub description: String,
    /// Built-in roles cannot be changed or deleted.
    pub builtin: bool,
    pub permissions: Vec<String>,
    /// How many staff members and API keys hold it.
    pub holders: i64,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> Self {
        Self {
            name: r.name,
            display_name: r.display_name,
            description: r.description,
            builtin: r.builtin,
            permissions: r.permissions,
            holders: r.holders,
        }
    }
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct NewRole {
    /// 2–40 of a-z, digits and `_`, starting with a letter.
    #[oai(validator(max_length = 100))]
    pub name: String,
    /// The name people read (「前台」), at most 40 characters.
    #[oai(default, validator(max_length = 200))]
    pub display_name: String,
    #[oai(default, validator(max_length = 500))]
    pub description: String,
    #[oai(validator(max_items = 100))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RoleChange {
    #[oai(validator(max_length = 200))]
    pub display_name: Option<String>,
    #[oai(validator(max_length = 500))]
    pub description: Option<String>,
    /// Replaces the role's permissions.
    #[oai(validator(max_items = 100))]
    pub permissions: Option<Vec<String>>,
}

#[derive(ApiResponse)]
enum Created {
    /// Returned when the role was created.
    #[oai(status = 201)]
    Created(Json<RoleView>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// Returned when the role and every assignment of it are gone.
    #[oai(status = 204)]
    Deleted,
}

pub struct RolesApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Roles")]
impl RolesApi {
    /// Every permission there is, with what it allows.
    #[oai(
        path = "/permissions",
        method = "get",
        operation_id = "listPermissions"
    )]
    async fn permissions(&self, auth: TenantAuth) -> Result<Json<Vec<PermissionView>>, ApiError> {
        let (tx, _) = self.state.authorize(&auth, None).await?;
        tx.commit().await?;
        Ok(Json(
            Permission::ALL
                .iter()
                .map(|p| PermissionView {
                    name: p.as_str().into(),
                    description: p.description().into(),
                })
                .collect(),
        ))
    }

    /// List roles with their permissions.
    #[oai(path = "/roles", method = "get", operation_id = "listRoles")]
    async fn list(&self, auth: TenantAuth) -> Result<Json<Vec<RoleView>>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        let roles = app_roles::list(tx).await?;
        Ok(Json(roles.into_iter().map(RoleView::from).collect()))
    }

    /// One role.
    #[oai(path = "/roles/:name", method = "get", operation_id = "getRole")]
    async fn get(&self, auth: TenantAuth, name: Path<String>) -> Result<Json<RoleView>, ApiError> {
        let (tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        Ok(Json(app_roles::get(tx, &name.0).await?.into()))
    }

    /// Create a custom role. Takes effect at once, on every server.
    #[oai(path = "/roles", method = "post", operation_id = "createRole")]
    async fn create(&self, auth: TenantAuth, req: Json<NewRole>) -> Result<Created, ApiError> {
        let req = req.0;
        let name = app_roles::parse_name(&req.name)?;
        let permissions = app_roles::parse_permissions(&req.permissions)?;
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RolesManage))
            .await?;
        let held = self.state.permissions(&me)?;
        let new = app_roles::NewRole {
            name,
            display_name: req.display_name,
            description: req.description,
            permissions,
            raw_permissions: req.permissions,
        };
        let role = app_roles::create(tx, &me.subject(), &held, new, self.state.now()).await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Created::Created(Json(role.into())))
    }

    /// Change a custom role's description or permissions. Takes effect at once.
    #[oai(path = "/roles/:name", method = "patch", operation_id = "updateRole")]
    async fn update(
        &self,
        auth: TenantAuth,
        name: Path<String>,
        req: Json<RoleChange>,
    ) -> Result<Json<RoleView>, ApiError> {
        let req = req.0;
        let permissions = req
            .permissions
            .as_deref()
            .map(app_roles::parse_permissions)
            .transpose()?;
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RolesManage))
            .await?;
        let held = self.state.permissions(&me)?;
        let change = app_roles::RoleChange {
            display_name: req.display_name,
            description: req.description,
            permissions,
            raw_permissions: req.permissions,
        };
        let role =
            app_roles::update(tx, &me.subject(), &held, &name.0, change, self.state.now()).await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Json(role.into()))
    }

    /// Delete a custom role; staff who held it lose it at once. Refused while a live API key
    /// uses it.
    #[oai(path = "/roles/:name", method = "delete", operation_id = "deleteRole")]
    async fn delete(&self, auth: TenantAuth, name: Path<String>) -> Result<Deleted, ApiError> {
        let (tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RolesManage))
            .await?;
        app_roles::delete(tx, &me.subject(), &name.0, self.state.now()).await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Deleted::Deleted)
    }
}
