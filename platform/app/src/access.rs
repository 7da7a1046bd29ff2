//! Who may grant what: nobody can hand out (through a staff member's roles, a role's
//! permissions or an integration key) a permission they do not hold themselves.

use crate::AppError;
use patron_core::access::Permission;
use patron_db::DbError;

/// A grant of permissions the granter lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The request field that asked for them (`roles`, `role`, `permissions`).
    pub field: String,
    pub missing: Vec<Permission>,
}

impl Escalation {
    /// The stable code of this refusal.
    pub const CODE: &'static str = "escalation";
    /// What is wrong with the field.
    pub const PROBLEM: &'static str = "grants more than you hold";

    /// What is wrong, for a person.
    pub fn message(&self) -> String {
        let missing: Vec<&str> = self.missing.iter().map(|p| p.as_str()).collect();
        format!(
            "you cannot grant permissions you do not hold: {}",
            missing.join(", ")
        )
    }
}

/// Refuses to grant `wanted` unless every one of them is `held`.
pub fn check_grant(
    held: &[Permission],
    wanted: &[Permission],
    field: &str,
) -> Result<(), Escalation> {
    let missing: Vec<Permission> = wanted
        .iter()
        .filter(|p| !held.contains(p))
        .copied()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Escalation {
            field: field.into(),
            missing,
        })
    }
}

/// The error of an operation that grants permissions: the usual ones, or an escalation
/// (which the HTTP edge answers 403 naming the field).
#[derive(Debug)]
pub enum GrantError {
    App(AppError),
    Escalation(Escalation),
}

impl From<AppError> for GrantError {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl From<DbError> for GrantError {
    fn from(e: DbError) -> Self {
        Self::App(e.into())
    }
}

impl From<Escalation> for GrantError {
    fn from(e: Escalation) -> Self {
        Self::Escalation(e)
    }
}

/// Permissions named by a role's stored list (unknown names are skipped).
pub fn parse_stored(permissions: &[String]) -> Vec<Permission> {
    permissions
        .iter()
        .filter_map(|p| Permission::parse(p).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granting_only_what_one_holds_is_allowed() {
        let held = [Permission::MembersRead, Permission::StaffRead];
        assert_eq!(
            check_grant(&held, &[Permission::MembersRead], "roles"),
            Ok(())
        );
        assert_eq!(check_grant(&held, &[], "roles"), Ok(()));
    }

    #[test]
    fn granting_more_than_one_holds_names_every_missing_permission() {
        let held = [Permission::MembersRead];
        let e = check_grant(
            &held,
            &[
                Permission::MembersRead,
                Permission::StaffManage,
                Permission::SettingsManage,
            ],
            "permissions",
        )
        .unwrap_err();
        assert_eq!(e.field, "permissions");
        assert_eq!(
            e.missing,
            [Permission::StaffManage, Permission::SettingsManage]
        );
        assert_eq!(
            e.message(),
            format!(
                "you cannot grant permissions you do not hold: {}, {}",
                Permission::StaffManage.as_str(),
                Permission::SettingsManage.as_str()
            )
        );
    }
}
