//! Staff accounts of one business: listing, inviting, changing, disabling, assigning roles.
//! A business always keeps an active owner, enabling an account takes a staff seat of the
//! plan, and nobody grants roles carrying permissions they lack.

use crate::access::{check_grant, parse_stored, GrantError};
use crate::plans::PlanCatalog;
use crate::session::hash_password;
use crate::{AppError, OnConstraint};
use chrono::{DateTime, Utc};
use patron_core::access::{BuiltinRole, Permission};
use patron_core::auth::{Email, Password};
use patron_core::plans::{Limit, Plan};
use patron_core::tenants::parse_display_name;
use patron_core::Validation;
use patron_db::access::{self, staff_subject};
use patron_db::staff::Staff;
use patron_db::{audit, constraints, sessions, staff, TenantTx};
use uuid::Uuid;

/// Who acts, as far as granting goes: their audit subject, plan and permissions.
#[derive(Debug, Clone, Copy)]
pub struct Granter<'a> {
    pub subject: &'a str,
    pub plan: &'a Plan,
    pub held: &'a [Permission],
}

/// A new staff account, as given.
#[derive(Debug, Clone)]
pub struct NewStaffInput {
    pub email: String,
    pub name: String,
    pub password: String,
    pub roles: Vec<String>,
}

/// A new staff account whose fields were checked.
#[derive(Debug)]
pub struct NewStaff {
    email: Email,
    name: String,
    password: Password,
    roles: Vec<String>,
}

/// Checks a new account's e-mail, name and password, every bad field at once (roles are
/// checked against the tenant's roles when it is created).
pub fn validate_new(req: NewStaffInput) -> Result<NewStaff, AppError> {
    let mut v = Validation::new();
    let email = v.check("email", Email::parse(&req.email));
    let name = v.check("name", parse_display_name(&req.name, 120));
    let password = v.check("password", Password::parse(&req.password));
    v.finish().map_err(AppError::invalid)?;
    Ok(NewStaff {
        email: email.expect("checked"),
        name: name.expect("checked"),
        password: password.expect("checked"),
        roles: req.roles,
    })
}

/// A change to a staff account; fields left out keep their value.
#[derive(Debug, Clone, Default)]
pub struct StaffChange {
    pub name: Option<String>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// Replaces the roles held.
    pub roles: Option<Vec<String>>,
}

/// A change whose fields were checked (the name trimmed).
#[derive(Debug)]
pub struct ValidChange {
    name: Option<String>,
    change: StaffChange,
}

/// Checks a change's name and status, every bad field at once.
pub fn validate_change(req: StaffChange) -> Result<ValidChange, AppError> {
    let mut v = Validation::new();
    let name = req
        .name
        .as_deref()
        .and_then(|n| v.check("name", parse_display_name(n, 120)));
    if let Some(s) = &req.status {
        v.check(
            "status",
            if s == "active" || s == "disabled" {
                Ok(())
            } else {
                Err(patron_core::Issue::not_one_of(s, &["active", "disabled"])
                    .words("must be active or disabled"))
            },
        );
    }
    v.finish().map_err(AppError::invalid)?;
    Ok(ValidChange { name, change: req })
}

/// Checks role names exist and that the granter holds everything they grant.
async fn check_roles(
    tx: &mut TenantTx,
    by: Granter<'_>,
    roles: &[String],
) -> Result<(), GrantError> {
    if roles.is_empty() {
        return Err(AppError::field(
            "roles",
            patron_core::Issue::new(
                patron_core::FieldCode::Required,
                "must name at least one role",
            ),
        )
        .into());
    }
    let all = access::list_roles(tx).await?;
    let mut wanted = Vec::new();
    for (i, name) in roles.iter().enumerate() {
        let Some(role) = all.iter().find(|r| r.name == *name) else {
            return Err(AppError::field(
                &format!("roles.{i}"),
                patron_core::Issue::new(
                    patron_core::FieldCode::NoSuchRole,
                    format!("there is no role \"{name}\""),
                )
                .with("value", name.as_str()),
            )
            .into());
        };
        wanted.extend(parse_stored(&role.permissions));
    }
    Ok(check_grant(by.held, &wanted, "roles")?)
}

/// Every staff account with its roles.
pub async fn list(mut tx: TenantTx) -> Result<Vec<(Staff, Vec<String>)>, AppError> {
    let mut out = Vec::new();
    for s in staff::list(&mut tx).await? {
        let roles = access::roles_of(&mut tx, &staff_subject(s.id)).await?;
        out.push((s, roles));
    }
    tx.commit().await?;
    Ok(out)
}

/// One staff account with its roles.
pub async fn get(mut tx: TenantTx, id: Uuid) -> Result<(Staff, Vec<String>), AppError> {
    let s = staff::find(&mut tx, id)
        .await
        .map_err(|_| AppError::not_found("staff member"))?;
    let roles = access::roles_of(&mut tx, &staff_subject(s.id)).await?;
    tx.commit().await?;
    Ok((s, roles))
}

/// Creates a staff account with roles, taking a staff seat of the plan. The caller drops
/// the tenant's cached access policy afterwards.
pub async fn create(
    mut tx: TenantTx,
    catalog: &PlanCatalog,
    by: Granter<'_>,
    req: NewStaff,
    now: DateTime<Utc>,
) -> Result<(Staff, Vec<String>), GrantError> {
    check_roles(&mut tx, by, &req.roles).await?;
    crate::plans::check_limit(&mut tx, catalog, by.plan, Limit::Staff, 1, now).await?;
    let hash = hash_password(req.password).await?;
    let created = staff::create(&mut tx, req.email.as_str(), &req.name, &hash, now)
        .await
        .on_constraint(constraints::STAFF_EMAIL, || {
            AppError::conflict(
                "email_taken",
                Some("email"),
                "a staff account with this e-mail already exists",
            )
        })?;
    access::set_roles(&mut tx, &staff_subject(created.id), &req.roles).await?;
    access::notify_changed(&mut tx).await?;
    audit::record(
        &mut tx,
        now,
        by.subject,
        "staff.created",
        &created.id.to_string(),
        serde_json::json!({ "roles": req.roles }),
    )
    .await?;
    tx.commit().await?;
    Ok((created, req.roles))
}

/// Changes a staff account: name, status, roles. The business always keeps at least one
/// active owner; disabling logs the person out everywhere. The caller drops the tenant's
/// cached access policy afterwards.
pub async fn update(
    mut tx: TenantTx,
    catalog: &PlanCatalog,
    by: Granter<'_>,
    id: Uuid,
    req: ValidChange,
    now: DateTime<Utc>,
) -> Result<(Staff, Vec<String>), GrantError> {
    let ValidChange { name, change: req } = req;
    let subject = staff_subject(id);
    let current = staff::find(&mut tx, id)
        .await
        .map_err(|_| AppError::not_found("staff member"))?;
    if req.status.as_deref() == Some("active") && current.status != "active" {
        // Enabling an account takes a staff seat like creating one.
        crate::plans::check_limit(&mut tx, catalog, by.plan, Limit::Staff, 1, now).await?;
    }
    let owner = BuiltinRole::Owner.name().to_owned();
    let was_owner = access::roles_of(&mut tx, &subject).await?.contains(&owner);
    if let Some(roles) = &req.roles {
        check_roles(&mut tx, by, roles).await?;
        access::set_roles(&mut tx, &subject, roles).await?;
    }
    let updated = staff::update(&mut tx, id, name.as_deref(), req.status.as_deref(), now).await?;
    if was_owner && access::count_staff_with_role(&mut tx, &owner).await? == 0 {
        return Err(AppError::conflict(
            "last_owner",
            Some("roles"),
            "the business must keep at least one active owner",
        )
        .into());
    }
    if req.status.as_deref() == Some("disabled") {
        sessions::revoke_all_for_staff(&mut tx, id, None, now).await?;
    }
    access::notify_changed(&mut tx).await?;
    audit::record(
        &mut tx,
        now,
        by.subject,
        "staff.updated",
        &id.to_string(),
        serde_json::json!({ "name": req.name, "status": req.status, "roles": req.roles }),
    )
    .await?;
    let roles = access::roles_of(&mut tx, &subject).await?;
    tx.commit().await?;
    Ok((updated, roles))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_account_names_every_bad_field_at_once() {
        let e = validate_new(NewStaffInput {
            email: "nope".into(),
            name: "  ".into(),
            password: "short".into(),
            roles: vec!["cashier".into()],
        })
        .unwrap_err();
        let fields: Vec<&str> = e.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["email", "name", "password"]);
    }

    #[test]
    fn a_status_is_active_or_disabled_and_a_name_is_trimmed() {
        let e = validate_change(StaffChange {
            status: Some("paused".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.fields()[0].field, "status");
        let ok = validate_change(StaffChange {
            name: Some("  Han Meimei ".into()),
            status: Some("disabled".into()),
            roles: None,
        })
        .unwrap();
        assert_eq!(ok.name.as_deref(), Some("Han Meimei"));
    }
}
