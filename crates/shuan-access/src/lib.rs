//! Who may hold which role (角色) over which data scope (数据范围): the platform's fixed
//! roles with their stable ids, the five data scopes of Chinese government consoles, and
//! the separation-of-duties rules (三员分立, R-12) checked when a role is granted — not
//! only reported afterwards.
//!
//! This crate owns the rules, as pure functions over an account's grants. It must not
//! store anything, authenticate anyone, or decide a request (the platform's policy point
//! does that, given the grants this crate accepted).

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A platform role. Ids are stable (they are stored and appear in audit records); labels
/// are what the console shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: accounts, departments, configuration, backups; no data rights, no audit.
    SystemAdmin,
    /// 安全管理员: roles, data scopes, policies, password and lockout settings.
    SecurityAdmin,
    /// 安全审计员: reads, searches and exports everyone's audit; changes nothing.
    Auditor,
    /// 首席数据官: approves sharing, elevations and destructions for a department.
    ChiefDataOfficer,
    /// 部门数据管理员: a department's sources, scans, inventory and catalogue.
    DataSteward,
    /// 数据使用人员: uses data within granted scopes and agreements.
    DataUser,
    /// 供应商运维: a vendor's operator; never one of the top roles.
    VendorOperator,
    /// 监管: the city data bureau, read-only across departments.
    Supervisor,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 8] = [
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::Auditor,
        Role::ChiefDataOfficer,
        Role::DataSteward,
        Role::DataUser,
        Role::VendorOperator,
        Role::Supervisor,
    ];

    /// The stable id (`system_admin` …).
    pub fn id(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::Auditor => "auditor",
            Role::ChiefDataOfficer => "chief_data_officer",
            Role::DataSteward => "data_steward",
            Role::DataUser => "data_user",
            Role::VendorOperator => "vendor_operator",
            Role::Supervisor => "supervisor",
        }
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Role::SystemAdmin => "系统管理员",
            Role::SecurityAdmin => "安全管理员",
            Role::Auditor => "安全审计员",
            Role::ChiefDataOfficer => "首席数据官",
            Role::DataSteward => "部门数据管理员",
            Role::DataUser => "数据使用人员",
            Role::VendorOperator => "供应商运维",
            Role::Supervisor => "监管",
        }
    }

    /// The role with this id.
    pub fn from_id(id: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.id() == id)
    }

    /// One of the three administrators (三员), which exclude each other on one account.
    pub fn is_three_admin(self) -> bool {
        matches!(
            self,
            Role::SystemAdmin | Role::SecurityAdmin | Role::Auditor
        )
    }

    /// A role a vendor account may never hold: the three administrators and the chief
    /// data officer.
    pub fn is_top_privilege(self) -> bool {
        self.is_three_admin() || self == Role::ChiefDataOfficer
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}（{}）", self.label(), self.id())
    }
}

/// The data a grant reaches (数据范围), as Chinese admin consoles define it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "departments")]
pub enum DataScope {
    /// 全部数据.
    All,
    /// 自定数据: the departments named (by 机构代码).
    Chosen(BTreeSet<String>),
    /// 本部门数据.
    OwnDepartment,
    /// 本部门及以下数据.
    OwnDepartmentAndBelow,
    /// 仅本人数据.
    SelfOnly,
}

/// One role over one department with one data scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The department (机构代码) the grant is made in.
    pub department: String,
    /// The data it reaches.
    pub scope: DataScope,
}

/// Why a grant is refused. The code is what the API answers (`separation_of_duties`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// Two of the three administrator roles on one account.
    #[error(
        "三员分立：账号已有{held}，不能再授予{wanted} (separation of duties: the system \
         administrator, security administrator and auditor must be three different people)"
    )]
    ThreeAdminConflict {
        /// The administrator role the account already holds.
        held: Role,
        /// The one asked for.
        wanted: Role,
    },
    /// A top role for a vendor account.
    #[error(
        "供应商账号不能被授予{wanted} (a vendor account never holds the three administrator \
         roles or the chief data officer's)"
    )]
    VendorTopPrivilege {
        /// The role asked for.
        wanted: Role,
    },
    /// The vendor operator role for an account that is not a vendor's.
    #[error("{0}只能授予供应商账号 (only a vendor account can be a vendor operator)")]
    VendorRoleForStaff(Role),
    /// A chosen scope with no department.
    #[error("自定数据范围至少需要一个部门 (a chosen data scope names at least one department)")]
    EmptyChosenScope,
    /// The same grant twice.
    #[error("账号已有该授权 (the account already has this grant)")]
    Duplicate,
}

impl GrantError {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::ThreeAdminConflict { .. }
            | GrantError::VendorTopPrivilege { .. }
            | GrantError::VendorRoleForStaff(_) => "separation_of_duties",
            GrantError::EmptyChosenScope => "invalid_scope",
            GrantError::Duplicate => "duplicate_grant",
        }
    }
}

/// Checks that an account (a vendor's or not) holding `held` may also be granted `wanted`.
pub fn check_grant(vendor: bool, held: &[Grant], wanted: &Grant) -> Result<(), GrantError> {
    if let DataScope::Chosen(deps) = &wanted.scope {
        if deps.is_empty() {
            return Err(GrantError::EmptyChosenScope);
        }
    }
    if vendor && wanted.role.is_top_privilege() {
        return Err(GrantError::VendorTopPrivilege {
            wanted: wanted.role,
        });
    }
    if !vendor && wanted.role == Role::VendorOperator {
        return Err(GrantError::VendorRoleForStaff(wanted.role));
    }
    if wanted.role.is_three_admin() {
        if let Some(g) = held
            .iter()
            .find(|g| g.role.is_three_admin() && g.role != wanted.role)
        {
            return Err(GrantError::ThreeAdminConflict {
                held: g.role,
                wanted: wanted.role,
            });
        }
    }
    if held.contains(wanted) {
        return Err(GrantError::Duplicate);
    }
    Ok(())
}

/// Whether a whole set of grants keeps the rules (for checking stored accounts).
pub fn grants_are_separated(vendor: bool, grants: &[Grant]) -> bool {
    (0..grants.len()).all(|i| check_grant(vendor, &grants[..i], &grants[i]).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grant(role: Role) -> Grant {
        Grant {
            role,
            department: "11010001".into(),
            scope: DataScope::OwnDepartment,
        }
    }

    #[test]
    fn ids_are_stable_and_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_id(r.id()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.id()));
        }
        assert_eq!(Role::from_id("root"), None, "there is no superuser");
    }

    #[test]
    fn the_three_exclude_each_other_and_vendors_stay_below_them() {
        let e = check_grant(false, &[grant(Role::SystemAdmin)], &grant(Role::Auditor)).unwrap_err();
        assert_eq!(e.code(), "separation_of_duties");
        assert!(e.to_string().contains("三员分立"), "{e}");
        for top in [
            Role::SystemAdmin,
            Role::SecurityAdmin,
            Role::Auditor,
            Role::ChiefDataOfficer,
        ] {
            assert!(matches!(
                check_grant(true, &[], &grant(top)),
                Err(GrantError::VendorTopPrivilege { .. })
            ));
        }
        assert!(check_grant(true, &[], &grant(Role::VendorOperator)).is_ok());
        assert!(check_grant(false, &[], &grant(Role::VendorOperator)).is_err());
        // The same administrator role in another department is not a conflict.
        let mut other = grant(Role::Auditor);
        other.department = "11010002".into();
        assert!(check_grant(false, &[grant(Role::Auditor)], &other).is_ok());
        assert_eq!(
            check_grant(false, &[grant(Role::Auditor)], &grant(Role::Auditor)),
            Err(GrantError::Duplicate)
        );
        let empty = Grant {
            scope: DataScope::Chosen(BTreeSet::new()),
            ..grant(Role::DataUser)
        };
        assert_eq!(
            check_grant(false, &[], &empty),
            Err(GrantError::EmptyChosenScope)
        );
    }

    fn any_role() -> impl Strategy<Value = Role> {
        (0..Role::ALL.len()).prop_map(|i| Role::ALL[i])
    }

    fn any_grant() -> impl Strategy<Value = Grant> {
        (any_role(), 0..3u8, 0..5u8).prop_map(|(role, dep, scope)| Grant {
            role,
            department: format!("1101000{dep}"),
            scope: match scope {
                0 => DataScope::All,
                1 => DataScope::Chosen(["11010001".to_string()].into()),
                2 => DataScope::OwnDepartment,
                3 => DataScope::OwnDepartmentAndBelow,
                _ => DataScope::SelfOnly,
            },
        })
    }

    proptest! {
        /// Whatever order grants are asked for in, an account built only from accepted
        /// grants never holds two of the three, and a vendor never holds a top role.
        #[test]
        fn accepted_grants_always_keep_the_rules(
            vendor in any::<bool>(),
            asked in proptest::collection::vec(any_grant(), 0..12),
        ) {
            let mut held: Vec<Grant> = Vec::new();
            for g in asked {
                if check_grant(vendor, &held, &g).is_ok() {
                    held.push(g);
                }
            }
            let admins: BTreeSet<Role> =
                held.iter().map(|g| g.role).filter(|r| r.is_three_admin()).collect();
            prop_assert!(admins.len() <= 1, "{admins:?}");
            if vendor {
                prop_assert!(held.iter().all(|g| !g.role.is_top_privilege()));
            } else {
                prop_assert!(held.iter().all(|g| g.role != Role::VendorOperator));
            }
            prop_assert!(grants_are_separated(vendor, &held));
        }

        /// A refusal never depends on grants of unrelated roles: adding data-user grants
        /// changes no administrator decision.
        #[test]
        fn unrelated_grants_do_not_change_a_decision(
            vendor in any::<bool>(),
            held in proptest::collection::vec(any_grant(), 0..6),
            wanted in any_grant(),
        ) {
            let before = check_grant(vendor, &held, &wanted).map_err(|e| e.code());
            let mut more = held.clone();
            more.push(Grant {
                role: Role::DataUser,
                department: "99999999".into(),
                scope: DataScope::SelfOnly,
            });
            let after = check_grant(vendor, &more, &wanted).map_err(|e| e.code());
            if wanted.role != Role::DataUser {
                prop_assert_eq!(before, after);
            }
        }
    }
}
