//! The department tree and grants with their data scopes expanded over it.

use std::collections::{BTreeMap, BTreeSet};

use shuan_access::{DataScope, Grant, Role};

/// Departments as a tree (机构代码 → parent), for expanding data scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartmentTree {
    departments: BTreeSet<String>,
    children: BTreeMap<String, Vec<String>>,
    parents: BTreeMap<String, String>,
}

impl DepartmentTree {
    /// A tree from `(code, parent)` pairs. A parent that is not itself listed still
    /// counts as the parent of its children; a cycle (bad data) does not loop.
    pub fn new(departments: impl IntoIterator<Item = (String, Option<String>)>) -> DepartmentTree {
        let mut tree = DepartmentTree::default();
        for (code, parent) in departments {
            if let Some(parent) = parent {
                if parent != code {
                    tree.children
                        .entry(parent.clone())
                        .or_default()
                        .push(code.clone());
                    tree.parents.insert(code.clone(), parent);
                }
            }
            tree.departments.insert(code);
        }
        tree
    }

    /// Whether the department is in the tree.
    pub fn contains(&self, code: &str) -> bool {
        self.departments.contains(code)
    }

    /// Every department of the tree.
    pub fn departments(&self) -> &BTreeSet<String> {
        &self.departments
    }

    /// The departments above `code`, nearest first (empty for a top-level department or
    /// one not in the tree). A cycle in bad data ends the walk.
    pub fn ancestors(&self, code: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut next = self.parents.get(code);
        while let Some(parent) = next {
            if parent == code || out.contains(parent) {
                break;
            }
            out.push(parent.clone());
            next = self.parents.get(parent.as_str());
        }
        out
    }

    /// `code` and every department below it (just `code` for a department with no
    /// children or not in the tree).
    pub fn subtree(&self, code: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::from([code.to_string()]);
        let mut todo = vec![code];
        while let Some(next) = todo.pop() {
            for child in self.children.get(next).into_iter().flatten() {
                if out.insert(child.clone()) {
                    todo.push(child);
                }
            }
        }
        out
    }
}

/// A grant as the policy sees it: role, the data scope's reach, self-only.
///
/// The reach is not expanded over the department tree: 全部 is a flag and 本部门及以下 an
/// anchor department, so a grant costs the same with 10 departments or 20,000. The tree
/// enters a decision only through the resource's department and its ancestors
/// ([`Resource::ancestors`](crate::Resource::ancestors)), and only when the principal
/// holds an anchored scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EffectiveGrant {
    /// The role.
    pub role: Role,
    /// The department the grant was made in.
    pub department: String,
    /// Departments the data scope reaches exactly (自定数据 / 本部门数据).
    pub departments: BTreeSet<String>,
    /// Departments the data scope reaches together with every department below them
    /// (本部门及以下数据).
    pub subtrees: BTreeSet<String>,
    /// The data scope reaches every department (全部数据).
    pub all: bool,
    /// The 仅本人数据 scope: reaches only resources the principal owns.
    pub self_only: bool,
    /// Comes from an approved elevation, not from the account's standing grants.
    pub elevated: bool,
}

impl EffectiveGrant {
    /// The grant as the policy sees it: All → `all`; Chosen → those departments;
    /// OwnDepartment → {department}; OwnDepartmentAndBelow → the subtree anchored at the
    /// department; SelfOnly → nothing but `self_only`.
    pub fn new(grant: &Grant, elevated: bool) -> EffectiveGrant {
        let mut out = EffectiveGrant {
            role: grant.role,
            department: grant.department.clone(),
            departments: BTreeSet::new(),
            subtrees: BTreeSet::new(),
            all: false,
            self_only: false,
            elevated,
        };
        match &grant.scope {
            DataScope::All => out.all = true,
            DataScope::Chosen(chosen) => out.departments = chosen.clone(),
            DataScope::OwnDepartment => {
                out.departments.insert(grant.department.clone());
            }
            DataScope::OwnDepartmentAndBelow => {
                out.subtrees.insert(grant.department.clone());
            }
            DataScope::SelfOnly => out.self_only = true,
        }
        out
    }

    /// Whether the data scope reaches `department`, whose ancestors (nearest first) are
    /// `ancestors`. The plain-Rust statement of what the policies decide through Cedar's
    /// entity hierarchy; tests compare the two.
    pub fn reaches(&self, department: &str, ancestors: &[String]) -> bool {
        self.all
            || self.departments.contains(department)
            || self.subtrees.contains(department)
            || ancestors.iter().any(|a| self.subtrees.contains(a))
    }

    /// Whether deciding for this grant needs the resource's ancestors (only an anchored
    /// scope does).
    pub fn needs_ancestors(&self) -> bool {
        !self.subtrees.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> DepartmentTree {
        DepartmentTree::new([
            ("110000".to_string(), None),
            ("110100".to_string(), Some("110000".to_string())),
            ("110101".to_string(), Some("110100".to_string())),
            ("110102".to_string(), Some("110100".to_string())),
            ("120000".to_string(), None),
            // A cycle in bad data does not loop.
            ("990001".to_string(), Some("990002".to_string())),
            ("990002".to_string(), Some("990001".to_string())),
        ])
    }

    fn set(codes: &[&str]) -> BTreeSet<String> {
        codes.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn subtrees() {
        let t = tree();
        assert!(t.contains("110101") && !t.contains("130000"));
        assert_eq!(
            t.subtree("110000"),
            set(&["110000", "110100", "110101", "110102"])
        );
        assert_eq!(t.subtree("110101"), set(&["110101"]));
        assert_eq!(t.subtree("130000"), set(&["130000"]));
        assert_eq!(t.subtree("990001"), set(&["990001", "990002"]));
    }

    #[test]
    fn ancestors_walk_up_and_stop_at_cycles() {
        let t = tree();
        assert_eq!(t.ancestors("110101"), ["110100", "110000"]);
        assert!(t.ancestors("110000").is_empty());
        assert!(t.ancestors("130000").is_empty(), "unknown: no ancestors");
        assert_eq!(t.ancestors("990001"), ["990002"]);
    }

    /// `reaches` with ancestors from the tree agrees with the scope expanded over the
    /// tree (the definition of the five data scopes) for every department of the tree.
    #[test]
    fn every_scope_reaches_what_its_expansion_holds() {
        let t = tree();
        let grant = |scope| Grant {
            role: Role::DataSteward,
            department: "110100".into(),
            scope,
        };
        let expanded = |scope: &DataScope| -> BTreeSet<String> {
            match scope {
                DataScope::All => t.departments().clone(),
                DataScope::Chosen(c) => c.clone(),
                DataScope::OwnDepartment => set(&["110100"]),
                DataScope::OwnDepartmentAndBelow => t.subtree("110100"),
                DataScope::SelfOnly => BTreeSet::new(),
            }
        };
        for scope in [
            DataScope::All,
            DataScope::Chosen(set(&["120000", "110101"])),
            DataScope::OwnDepartment,
            DataScope::OwnDepartmentAndBelow,
            DataScope::SelfOnly,
        ] {
            let g = EffectiveGrant::new(&grant(scope.clone()), false);
            let want = expanded(&scope);
            for d in t.departments() {
                assert_eq!(
                    g.reaches(d, &t.ancestors(d)),
                    want.contains(d),
                    "{scope:?} at {d}"
                );
            }
        }
        let own = EffectiveGrant::new(&grant(DataScope::SelfOnly), false);
        assert!(own.self_only && !own.all && own.departments.is_empty());
        assert!(EffectiveGrant::new(&grant(DataScope::OwnDepartment), true).elevated);
        assert!(
            EffectiveGrant::new(&grant(DataScope::OwnDepartmentAndBelow), false).needs_ancestors()
        );
        assert!(!EffectiveGrant::new(&grant(DataScope::All), false).needs_ancestors());
    }
}
