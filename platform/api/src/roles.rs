//! Roles and permissions: the built-in roles, custom roles owners define, and the list of
//! permissions there are.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_core::access::{parse_role_name, Permission};
use patron_core::FieldError;
use patron_db::access::{self, Role};
use patron_db::{api_keys, audit, DbError};
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
    pub name: String,
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
    #[oai(default, validator(max_length = 500))]
    pub description: String,
    #[oai(validator(max_items = 100))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct RoleChange {
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

fn parse_permissions(raw: &[String]) -> Result<Vec<Permission>, ApiError> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        match Permission::parse(p) {
            Ok(p) if !out.contains(&p) => out.push(p),
            Ok(_) => {}
            Err(e) => errors.push(FieldError::new(format!("permissions.{i}"), e)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::invalid(errors))
    }
}

pub struct RolesApi {
    pub state: ApiState,
}

impl RolesApi {
    async fn find(&self, tx: &mut patron_db::TenantTx, name: &str) -> Result<Role, ApiError> {
        access::find_role(tx, name).await.map_err(|e| match e {
            DbError::NotFound => ApiError::not_found("role"),
            other => other.into(),
        })
    }
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
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        let roles = access::list_roles(&mut tx).await?;
        tx.commit().await?;
        Ok(Json(roles.into_iter().map(RoleView::from).collect()))
    }

    /// One role.
    #[oai(path = "/roles/:name", method = "get", operation_id = "getRole")]
    async fn get(&self, auth: TenantAuth, name: Path<String>) -> Result<Json<RoleView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::StaffRead))
            .await?;
        let role = self.find(&mut tx, &name.0).await?;
        tx.commit().await?;
        Ok(Json(role.into()))
    }

    /// Create a custom role. Takes effect at once, on every server.
    #[oai(path = "/roles", method = "post", operation_id = "createRole")]
    async fn create(&self, auth: TenantAuth, req: Json<NewRole>) -> Result<Created, ApiError> {
        let req = req.0;
        let name = parse_role_name(&req.name).map_err(|p| ApiError::invalid_field("name", p))?;
        let perms = parse_permissions(&req.permissions)?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RolesManage))
            .await?;
        self.state.require_all(&me, &perms, "permissions")?;
        access::create_role(&mut tx, &name, req.description.trim(), &perms)
            .await
            .map_err(|e| {
                if e.is_conflict_on("roles_pkey") {
                    ApiError::conflict(
                        "role_exists",
                        Some("name"),
                        "a role with this name already exists",
                    )
                } else {
                    e.into()
                }
            })?;
        access::notify_changed(&mut tx).await?;
        audit::record(
            &mut tx,
            self.state.now(),
            &me.subject(),
            "role.created",
            &name,
            serde_json::json!({ "permissions": req.permissions }),
        )
        .await?;
        let role = self.find(&mut tx, &name).await?;
        tx.commit().await?;
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
        let perms = req
            .permissions
            .as_deref()
            .map(parse_permissions)
            .transpose()?;
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RolesManage))
            .await?;
        let role = self.find(&mut tx, &name.0).await?;
        if role.builtin {
            return Err(ApiError::conflict(
                "builtin_role",
                Some("name"),
                "built-in roles cannot be changed; create a custom role",
            ));
        }
        if let Some(p) = &perms {
            self.state.require_all(&me, p, "permissions")?;
        }
        access::update_role(
            &mut tx,
            &role.name,
            req.description.as_deref().map(str::trim),
            perms.as_deref(),
        )
        .await?;
        access::notify_changed(&mut tx).await?;
        audit::record(
            &mut tx,
            self.state.now(),
            &me.subject(),
            "role.updated",
            &role.name,
            serde_json::json!({ "before": role.permissions, "after": req.permissions }),
        )
        .await?;
        let role = self.find(&mut tx, &role.name).await?;
        tx.commit().await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Json(role.into()))
    }

    /// Delete a custom role; staff who held it lose it at once. Refused while a live API key
    /// uses it.
    #[oai(path = "/roles/:name", method = "delete", operation_id = "deleteRole")]
    async fn delete(&self, auth: TenantAuth, name: Path<String>) -> Result<Deleted, ApiError> {
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::RolesManage))
            .await?;
        let role = self.find(&mut tx, &name.0).await?;
        if role.builtin {
            return Err(ApiError::conflict(
                "builtin_role",
                Some("name"),
                "built-in roles cannot be deleted",
            ));
        }
        if api_keys::role_in_use(&mut tx, &role.name).await? {
            return Err(ApiError::conflict(
                "role_in_use",
                Some("name"),
                "an API key uses this role; revoke it first",
            ));
        }
        access::delete_role(&mut tx, &role.name).await?;
        access::notify_changed(&mut tx).await?;
        audit::record(
            &mut tx,
            self.state.now(),
            &me.subject(),
            "role.deleted",
            &role.name,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.state.access.invalidate(me.tenant.id).await;
        Ok(Deleted::Deleted)
    }
}
