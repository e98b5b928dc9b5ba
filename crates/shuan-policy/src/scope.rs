//! The department tree and grants with their data scopes expanded over it.

use std::collections::{BTreeMap, BTreeSet};

use shuan_access::{DataScope, Grant, Role};

/// Departments as a tree (机构代码 → parent), for expanding data scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartmentTree {
    departments: BTreeSet<String>,
    children: BTreeMap<String, Vec<String>>,
}

impl DepartmentTree {
    /// A tree from `(code, parent)` pairs. A parent that is not itself listed still
    /// counts as the parent of its children; a cycle (bad data) does not loop.
    pub fn new(departments: impl IntoIterator<Item = (String, Option<String>)>) -> DepartmentTree {
        let mut tree = DepartmentTree::default();
        for (code, parent) in departments {
            if let Some(parent) = parent {
                if parent != code {
                    tree.children.entry(parent).or_default().push(code.clone());
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

/// A grant as the policy sees it: role, the departments its data scope reaches
/// (expanded), self-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveGrant {
    /// The role.
    pub role: Role,
    /// The department the grant was made in.
    pub department: String,
    /// Every department the data scope reaches.
    pub departments: BTreeSet<String>,
    /// The 仅本人数据 scope: reaches only resources the principal owns.
    pub self_only: bool,
    /// Comes from an approved elevation, not from the account's standing grants.
    pub elevated: bool,
}

impl EffectiveGrant {
    /// Expands a stored grant's scope over the tree: All → every department; Chosen →
    /// those; OwnDepartment → {department}; OwnDepartmentAndBelow → subtree(department);
    /// SelfOnly → {} with self_only.
    pub fn expand(grant: &Grant, tree: &DepartmentTree, elevated: bool) -> EffectiveGrant {
        let (departments, self_only) = match &grant.scope {
            DataScope::All => (tree.departments.clone(), false),
            DataScope::Chosen(chosen) => (chosen.clone(), false),
            DataScope::OwnDepartment => (BTreeSet::from([grant.department.clone()]), false),
            DataScope::OwnDepartmentAndBelow => (tree.subtree(&grant.department), false),
            DataScope::SelfOnly => (BTreeSet::new(), true),
        };
        EffectiveGrant {
            role: grant.role,
            department: grant.department.clone(),
            departments,
            self_only,
            elevated,
        }
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
    fn every_scope_expands() {
        let t = tree();
        let grant = |scope| Grant {
            role: Role::DataSteward,
            department: "110100".into(),
            scope,
        };
        let e = |scope| EffectiveGrant::expand(&grant(scope), &t, false);
        assert_eq!(e(DataScope::All).departments, t.departments().clone());
        assert_eq!(
            e(DataScope::Chosen(set(&["120000"]))).departments,
            set(&["120000"])
        );
        assert_eq!(e(DataScope::OwnDepartment).departments, set(&["110100"]));
        assert_eq!(
            e(DataScope::OwnDepartmentAndBelow).departments,
            set(&["110100", "110101", "110102"])
        );
        let own = e(DataScope::SelfOnly);
        assert!(own.self_only && own.departments.is_empty() && !own.elevated);
        assert!(EffectiveGrant::expand(&grant(DataScope::OwnDepartment), &t, true).elevated);
    }
}
