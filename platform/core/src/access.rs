//! Who may do what inside a tenant: permissions (`resource:action`), the built-in roles
//! and the names of custom ones. The decision itself is Casbin's (RBAC with the tenant as
//! domain); this module is the vocabulary it decides over.

use std::fmt;

macro_rules! permissions {
    ($( $variant:ident => $text:literal, $doc:literal; )*) => {
        /// Everything a staff member or an API key can be allowed to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $( #[doc = $doc] $variant, )*
        }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// `resource:action`, as written in policies, the API and the docs.
            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $text,)* }
            }

            /// What this permission allows, in one sentence.
            pub fn description(self) -> &'static str {
                match self { $(Permission::$variant => $doc,)* }
            }

            pub fn parse(raw: &str) -> Result<Self, crate::Issue> {
                match raw {
                    $($text => Ok(Permission::$variant),)*
                    _ => Err(crate::Issue::unknown(
                        raw,
                        format!("\"{raw}\" is not a permission; see GET /api/v1/permissions"),
                    )),
                }
            }
        }
    };
}

permissions! {
    MembersRead => "members:read", "See members, their cards, points balance and history.";
    MembersWrite => "members:write", "Register members and edit their profiles.";
    MembersReadPii => "members:read_pii", "See members' full phone numbers and e-mail addresses.";
    MembersManageSensitive => "members:manage_sensitive", "Change verified phone numbers and erase members.";
    MembersImport => "members:import", "Import members from files.";
    MembersExport => "members:export", "Export member lists.";
    FieldsManage => "fields:manage", "Design the tenant's member fields.";
    PurchasesWrite => "purchases:write", "Record purchases and refunds.";
    PointsAdjust => "points:adjust", "Adjust a member's points by hand, with a reason.";
    RulesRead => "rules:read", "See point rules and their versions.";
    RulesWrite => "rules:write", "Draft and simulate point rules.";
    RulesPublish => "rules:publish", "Publish and roll back point rules.";
    TiersWrite => "tiers:write", "Design and publish the tier ladder.";
    TiersOverride => "tiers:override", "Pin a member's tier by hand.";
    RewardsManage => "rewards:manage", "Create and change rewards and coupons.";
    CampaignsManage => "campaigns:manage", "Send marketing messages to members.";
    ReportsRead => "reports:read", "See dashboards and reports.";
    StaffRead => "staff:read", "See staff accounts and roles.";
    StaffManage => "staff:manage", "Invite staff, change and disable their accounts, assign roles.";
    RolesManage => "roles:manage", "Create roles and change their permissions.";
    ApiKeysManage => "api_keys:manage", "Create and revoke integration API keys.";
    SettingsRead => "settings:read", "See the business's settings.";
    SettingsManage => "settings:manage", "Change the business's settings.";
}

impl Permission {
    /// Splits into the Casbin object and action.
    pub fn object_action(self) -> (&'static str, &'static str) {
        self.as_str()
            .split_once(':')
            .expect("every permission has a colon")
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles every tenant starts with. Their permissions are fixed (so the table in the
/// docs stays true); owners create custom roles for anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinRole {
    Owner,
    Manager,
    FrontDesk,
    Marketer,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [Self::Owner, Self::Manager, Self::FrontDesk, Self::Marketer];

    pub fn name(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Manager => "manager",
            Self::FrontDesk => "front_desk",
            Self::Marketer => "marketer",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::Owner => "Runs the account: everything, including staff, roles and API keys.",
            Self::Manager => {
                "Runs the business day to day: members, points, rules, tiers, staff and reports."
            }
            Self::FrontDesk => {
                "Serves members at the counter: register, look up, record purchases."
            }
            Self::Marketer => {
                "Reaches members: rewards, campaigns and reports, without personal data."
            }
        }
    }

    pub fn permissions(self) -> Vec<Permission> {
        use Permission::*;
        match self {
            Self::Owner => Permission::ALL.to_vec(),
            Self::Manager => vec![
                MembersRead,
                MembersWrite,
                MembersReadPii,
                MembersManageSensitive,
                MembersImport,
                MembersExport,
                FieldsManage,
                PurchasesWrite,
                PointsAdjust,
                RulesRead,
                RulesWrite,
                RulesPublish,
                TiersWrite,
                TiersOverride,
                RewardsManage,
                CampaignsManage,
                ReportsRead,
                StaffRead,
                StaffManage,
                SettingsRead,
            ],
            Self::FrontDesk => vec![
                MembersRead,
                MembersWrite,
                MembersReadPii,
                PurchasesWrite,
                RulesRead,
                SettingsRead,
            ],
            Self::Marketer => vec![
                MembersRead,
                MembersExport,
                RulesRead,
                RewardsManage,
                CampaignsManage,
                ReportsRead,
                SettingsRead,
            ],
        }
    }
}

/// The name of a custom role: 2–40 of `a-z`, digits and `_`, starting with a letter,
/// not a built-in name.
pub fn parse_role_name(raw: &str) -> Result<String, crate::Issue> {
    let s = raw.trim();
    let len = s.len();
    if !(2..=40).contains(&len) {
        return Err(crate::Issue::length_between(2, 40));
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase())
        || !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(crate::Issue::invalid_format(
            "code",
            "may contain only a-z, digits and _, starting with a letter",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_round_trips_through_its_text() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()).unwrap(), *p);
            let (obj, act) = p.object_action();
            assert!(!obj.is_empty() && !act.is_empty());
        }
        assert!(Permission::parse("members:fly").is_err());
    }

    #[test]
    fn owner_has_everything_and_the_others_are_proper_subsets() {
        assert_eq!(
            BuiltinRole::Owner.permissions().len(),
            Permission::ALL.len()
        );
        for role in [
            BuiltinRole::Manager,
            BuiltinRole::FrontDesk,
            BuiltinRole::Marketer,
        ] {
            let perms = role.permissions();
            assert!(perms.len() < Permission::ALL.len());
            assert!(!perms.contains(&Permission::RolesManage), "{role:?}");
            assert!(!perms.contains(&Permission::ApiKeysManage), "{role:?}");
        }
        assert!(!BuiltinRole::Marketer
            .permissions()
            .contains(&Permission::MembersReadPii));
    }

    #[test]
    fn the_written_permission_table_matches_the_built_in_roles() {
        let doc = include_str!("../../../docs/permissions.md");
        let mut seen = 0;
        for line in doc
            .lines()
            .filter(|l| l.starts_with("| `") && l.matches('|').count() == 7)
        {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let perm = Permission::parse(cells[1].trim_matches('`')).expect("a real permission");
            assert_eq!(cells[2], perm.description(), "{perm}");
            for (role, cell) in BuiltinRole::ALL.iter().zip(&cells[3..7]) {
                assert_eq!(
                    role.permissions().contains(&perm),
                    *cell == "✓",
                    "{perm} for {role:?}"
                );
            }
            seen += 1;
        }
        assert_eq!(seen, Permission::ALL.len(), "every permission has a row");
    }

    #[test]
    fn role_names_are_checked() {
        assert_eq!(parse_role_name("night_shift").unwrap(), "night_shift");
        for bad in ["x", "Night", "night-shift", "9lives", &"a".repeat(41)] {
            assert!(parse_role_name(bad).is_err(), "{bad}");
        }
    }
}
