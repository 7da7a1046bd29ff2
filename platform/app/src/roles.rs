//! Roles of one business: the built-in ones and custom ones an owner defines. A role never
//! carries a permission its author lacks; built-in roles cannot be changed or deleted, and a
//! role an API key uses cannot be deleted.

use crate::access::{check_grant, GrantError};
use crate::{AppError, NotFoundAs, OnConstraint};
use chrono::{DateTime, Utc};
use patron_core::access::{parse_role_name, Permission};
use patron_db::access::{self, Role};
use patron_db::{api_keys, audit, constraints, TenantTx};

/// Permission names to permissions, without repeats; every unknown name at once.
pub fn parse_permissions(raw: &[String]) -> Result<Vec<Permission>, AppError> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        match Permission::parse(p) {
            Ok(p) if !out.contains(&p) => out.push(p),
            Ok(_) => {}
            Err(e) => errors.push(e.at(format!("permissions.{i}"))),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::invalid(errors))
    }
}

/// Checks a new role's name.
pub fn parse_name(raw: &str) -> Result<String, AppError> {
    parse_role_name(raw).map_err(|p| AppError::field("name", p))
}

async fn find(tx: &mut TenantTx, name: &str) -> Result<Role, AppError> {
    access::find_role(tx, name).await.not_found_as("role")
}

/// Every role with its permissions.
pub async fn list(mut tx: TenantTx) -> Result<Vec<Role>, AppError> {
    let roles = access::list_roles(&mut tx).await?;
    tx.commit().await?;
    Ok(roles)
}

/// One role.
pub async fn get(mut tx: TenantTx, name: &str) -> Result<Role, AppError> {
    let role = find(&mut tx, name).await?;
    tx.commit().await?;
    Ok(role)
}

/// The longest name people read for a role, in characters.
pub const MAX_DISPLAY_NAME: usize = 40;

/// A role's name for people, trimmed; too long a name is refused.
pub fn display_name(raw: &str) -> Result<String, AppError> {
    let d = raw.trim();
    if d.chars().count() > MAX_DISPLAY_NAME {
        return Err(AppError::field(
            "display_name",
            patron_core::Issue::too_long(MAX_DISPLAY_NAME),
        ));
    }
    Ok(d.to_owned())
}

/// A new custom role, checked.
#[derive(Debug, Clone)]
pub struct NewRole {
    pub name: String,
    /// The name people read (「前台」), at most 40 characters.
    pub display_name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
    /// The permission names as given (kept in the audit log).
    pub raw_permissions: Vec<String>,
}

/// Creates a custom role. `held` are the author's permissions. The caller drops the
/// tenant's cached access policy afterwards.
pub async fn create(
    mut tx: TenantTx,
    actor: &str,
    held: &[Permission],
    req: NewRole,
    now: DateTime<Utc>,
) -> Result<Role, GrantError> {
    check_grant(held, &req.permissions, "permissions")?;
    access::create_role(&mut tx, &req.name, req.description.trim(), &req.permissions)
        .await
        .on_constraint(constraints::ROLES_NAME, || {
            AppError::conflict(
                "role_exists",
                Some("name"),
                "a role with this name already exists",
            )
        })?;
    access::set_display_name(&mut tx, &req.name, &display_name(&req.display_name)?).await?;
    access::notify_changed(&mut tx).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "role.created",
        &req.name,
        serde_json::json!({ "permissions": req.raw_permissions }),
    )
    .await?;
    let role = find(&mut tx, &req.name).await?;
    tx.commit().await?;
    Ok(role)
}

/// A change to a custom role; fields left out keep their value.
#[derive(Debug, Clone, Default)]
pub struct RoleChange {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Vec<Permission>>,
    /// The permission names as given (kept in the audit log).
    pub raw_permissions: Option<Vec<String>>,
}

/// Changes a custom role's description or permissions. The caller drops the tenant's
/// cached access policy afterwards.
pub async fn update(
    mut tx: TenantTx,
    actor: &str,
    held: &[Permission],
    name: &str,
    req: RoleChange,
    now: DateTime<Utc>,
) -> Result<Role, GrantError> {
    let role = find(&mut tx, name).await?;
    if role.builtin {
        return Err(AppError::conflict(
            "builtin_role",
            Some("name"),
            "built-in roles cannot be changed; create a custom role",
        )
        .into());
    }
    if let Some(p) = &req.permissions {
        check_grant(held, p, "permissions")?;
    }
    access::update_role(
        &mut tx,
        &role.name,
        req.description.as_deref().map(str::trim),
        req.permissions.as_deref(),
    )
    .await?;
    if let Some(d) = &req.display_name {
        access::set_display_name(&mut tx, &role.name, &display_name(d)?).await?;
    }
    access::notify_changed(&mut tx).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "role.updated",
        &role.name,
        serde_json::json!({ "before": role.permissions, "after": req.raw_permissions }),
    )
    .await?;
    let role = find(&mut tx, &role.name).await?;
    tx.commit().await?;
    Ok(role)
}

/// Deletes a custom role; staff who held it lose it. The caller drops the tenant's cached
/// access policy afterwards.
pub async fn delete(
    mut tx: TenantTx,
    actor: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let role = find(&mut tx, name).await?;
    if role.builtin {
        return Err(AppError::conflict(
            "builtin_role",
            Some("name"),
            "built-in roles cannot be deleted",
        ));
    }
    if api_keys::role_in_use(&mut tx, &role.name).await? {
        return Err(AppError::conflict(
            "role_in_use",
            Some("name"),
            "an API key uses this role; revoke it first",
        ));
    }
    access::delete_role(&mut tx, &role.name).await?;
    access::notify_changed(&mut tx).await?;
    audit::record(
        &mut tx,
        now,
        actor,
        "role.deleted",
        &role.name,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_permissions_count_once_and_unknown_ones_are_all_named() {
        let raw = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let read = Permission::MembersRead.as_str();
        assert_eq!(
            parse_permissions(&raw(&[read, read])).unwrap(),
            [Permission::MembersRead]
        );
        let e = parse_permissions(&raw(&["nope", read, "members:fly"])).unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["permissions.0", "permissions.2"]);
    }
}
