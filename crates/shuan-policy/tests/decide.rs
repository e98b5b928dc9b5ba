//! The policy point's decisions, through its public API.

use std::collections::BTreeSet;

use proptest::prelude::*;
use shuan_policy::*;

/// Role → actions: the least-privilege table (R-11, R-12), written once. The matrix test
/// checks every role against every action from this table alone.
const TABLE: &[(Role, &[&str])] = &[
    (
        Role::SystemAdmin,
        &[
            "department.read",
            "department.create",
            "department.update",
            "department.delete",
            "user.read",
            "user.create",
            "user.update",
            "user.unlock",
            "user.reset_credentials",
            "session.list",
            "session.revoke",
            "api_key.read",
            "api_key.create",
            "api_key.revoke",
            "settings.read",
            "settings.update_system",
            "backup.create",
            "backup.read",
            "job.read",
        ],
    ),
    (
        Role::SecurityAdmin,
        &[
            "grant.read",
            "grant.create",
            "grant.delete",
            "policy.read",
            "policy.create",
            "policy.delete",
            "settings.read",
            "settings.update_security",
            "user.read",
            "department.read",
            "key.read",
            "key.rotate",
            "hygiene.read",
            "session.list",
            "elevation.read",
            "job.read",
            "alert.read",
            "alert.handle",
            "alert_rules.update",
            "destruction.request",
            "destruction.read",
            "destruction.execute",
            "legal_hold.read",
            "legal_hold.manage",
            "incident.read",
            "incident.manage",
            "complaint.receive",
            "complaint.read",
            "complaint.assign",
            "vendor.read",
            "vendor.manage",
            "quality.read",
            "training.read",
            "training.manage",
            "risk.read",
            "risk.manage",
            "rectification.close",
            "emergency.read",
            "emergency.manage",
            "collection.read",
            "lineage.read",
        ],
    ),
    (
        Role::Auditor,
        &[
            "audit.read",
            "audit.export",
            "user.read",
            "department.read",
            "grant.read",
            "policy.read",
            "settings.read",
            "hygiene.read",
            "session.list",
            "api_key.read",
            "elevation.read",
            "key.read",
            "backup.read",
            "job.read",
            "share_request.read",
            "agreement.read",
            "alert.read",
            "destruction.read",
            "legal_hold.read",
            "incident.read",
            "complaint.read",
            "vendor.read",
            "quality.read",
            "training.read",
            "risk.read",
            "emergency.read",
            "collection.read",
            "lineage.read",
        ],
    ),
    (
        Role::ChiefDataOfficer,
        &[
            "elevation.read",
            "elevation.decide",
            "inventory.read",
            "catalogue.read",
            "department.read",
            "job.read",
            "important_data.read",
            "source.read",
            "catalogue.update",
            "catalogue.loosen",
            "share_request.read",
            "share_request.sign_off",
            "agreement.read",
            "agreement.suspend",
            "agreement.revoke",
            "service.read",
            "destruction.read",
            "destruction.approve",
            "legal_hold.read",
            "legal_hold.manage",
            "incident.read",
            "complaint.read",
            "quality.read",
            "training.read",
            "risk.read",
            "emergency.read",
            "collection.read",
            "lineage.read",
        ],
    ),
    (
        Role::DataSteward,
        &[
            "inventory.read",
            "catalogue.read",
            "scan.run",
            "mask.run",
            "job.read",
            "department.read",
            "important_data.read",
            "source.read",
            "source.register",
            "catalogue.update",
            "share_request.read",
            "share_request.review",
            "agreement.read",
            "agreement.suspend",
            "agreement.revoke",
            "service.read",
            "service.publish",
            "destruction.request",
            "destruction.read",
            "legal_hold.read",
            "quality.read",
            "quality.manage",
            "quality.run",
            "collection.read",
            "collection.manage",
            "lineage.read",
            "lineage.manage",
        ],
    ),
    (
        Role::DataUser,
        &[
            "catalogue.read",
            "department.read",
            "share_request.create",
            "share_request.read",
            "agreement.read",
            "service.read",
            "service.call",
            "important_data.read",
        ],
    ),
    (Role::VendorOperator, &["job.read", "department.read"]),
    (
        Role::Supervisor,
        &[
            "department.read",
            "inventory.read",
            "catalogue.read",
            "hygiene.read",
            "important_data.read",
            "source.read",
            "share_request.read",
            "agreement.read",
            "service.read",
            "alert.read",
            "destruction.read",
            "legal_hold.read",
            "incident.read",
            "complaint.read",
            "vendor.read",
            "quality.read",
            "training.read",
            "risk.read",
            "emergency.read",
            "collection.read",
            "lineage.read",
        ],
    ),
];

/// Allowed to everyone, but only on their own resources.
const OWN: &[&str] = &[
    "elevation.request",
    "elevation.read",
    "share_request.read",
    "agreement.read",
    "destruction.read",
    "complaint.handle",
    "complaint.read_identity",
    "risk.read",
    "rectification.close",
];

const IN: &str = "110101";
const OUT: &str = "120000";

/// The default point, built once (building one asks Cedar a few hundred questions).
fn point() -> PolicyPoint {
    static POINT: std::sync::OnceLock<PolicyPoint> = std::sync::OnceLock::new();
    POINT.get_or_init(|| PolicyPoint::new(&[]).unwrap()).clone()
}

fn permitted(role: Role, action: Action) -> bool {
    TABLE
        .iter()
        .any(|(r, actions)| *r == role && actions.contains(&action.id()))
}

fn grant(role: Role, departments: &[&str]) -> EffectiveGrant {
    EffectiveGrant {
        role,
        department: IN.into(),
        departments: departments.iter().map(|d| d.to_string()).collect(),
        subtrees: BTreeSet::new(),
        all: false,
        self_only: false,
        elevated: false,
    }
}

fn principal(name: &str, vendor: bool, grants: Vec<EffectiveGrant>) -> Principal {
    Principal {
        username: name.into(),
        department: IN.into(),
        vendor,
        grants,
    }
}

fn resource(kind: &str, department: Option<&str>, owner: Option<&str>) -> Resource {
    Resource {
        kind: kind.into(),
        id: "1".into(),
        department: department.map(str::to_string),
        owner: owner.map(str::to_string),
        ancestors: department.map(ancestors_of).unwrap_or_default(),
    }
}

/// The test tree: 110000 ⊃ 110100 ⊃ IN; OUT and 130000 stand alone.
fn ancestors_of(department: &str) -> Vec<String> {
    match department {
        IN => vec!["110100".into(), "110000".into()],
        "110100" => vec!["110000".into()],
        _ => vec![],
    }
}

fn decide(point: &PolicyPoint, p: &Principal, action: Action, r: &Resource) -> Decision {
    point.decide(&AccessRequest {
        principal: p,
        action,
        resource: r,
    })
}

fn act(id: &str) -> Action {
    Action::from_id(id).unwrap_or_else(|| panic!("no action {id}"))
}

#[test]
fn the_table_names_only_real_actions_and_every_action_has_a_holder() {
    for (_, actions) in TABLE {
        for a in *actions {
            act(a);
        }
    }
    for &a in Action::ALL {
        let held = TABLE.iter().any(|(_, actions)| actions.contains(&a.id()));
        assert!(held || OWN.contains(&a.id()), "{a:?} is allowed to nobody");
    }
    assert_eq!(TABLE.len(), Role::ALL.len());
}

/// Every role × every action, on a resource in the grant's scope, out of it, and without
/// a department; allow exactly what the table says, deny the rest with an explanation.
#[test]
fn role_action_matrix() {
    let point = point();
    for role in Role::ALL {
        let who = principal(
            "zhang.san",
            role == Role::VendorOperator,
            vec![grant(role, &[IN])],
        );
        for &action in Action::ALL {
            let expected = permitted(role, action);
            let inside = resource("thing", Some(IN), Some("li.si"));
            let outside = resource("thing", Some(OUT), Some("li.si"));
            let platform = resource("thing", None, None);

            let d = decide(&point, &who, action, &inside);
            assert_eq!(d.allowed, expected, "{role:?} {action:?} in scope: {d:?}");
            assert!(d.errors.is_empty(), "{d:?}");
            assert!(!d.via_elevation);
            if expected {
                assert_eq!(d.policies, vec![format!("role.{}", role.id())], "{d:?}");
                assert!(d.explanation.starts_with("允许："), "{d:?}");
            } else {
                assert!(d.explanation.starts_with("没有权限："), "{d:?}");
            }

            let d = decide(&point, &who, action, &outside);
            assert!(!d.allowed, "{role:?} {action:?} out of scope: {d:?}");
            assert!(d.explanation.starts_with("没有权限："), "{d:?}");
            if expected {
                // Has the role but not the reach: the explanation says so.
                assert!(d.explanation.contains(OUT), "{d:?}");
                assert!(d.explanation.contains("数据范围"), "{d:?}");
                assert!(d.explanation.contains(role.id()), "{d:?}");
            }

            let d = decide(&point, &who, action, &platform);
            assert_eq!(
                d.allowed, expected,
                "{role:?} {action:?} platform-wide: {d:?}"
            );
        }
    }
}

#[test]
fn denials_name_the_roles_that_would_allow() {
    let point = point();
    let user = principal("wang.wu", false, vec![grant(Role::DataUser, &[IN])]);
    let d = decide(
        &point,
        &user,
        Action::ScanRun,
        &resource("source", Some(IN), None),
    );
    assert!(!d.allowed);
    assert!(d.policies.is_empty());
    assert!(d.explanation.starts_with("没有权限："), "{}", d.explanation);
    assert!(
        d.explanation.contains("部门数据管理员"),
        "{}",
        d.explanation
    );
    assert!(d.explanation.contains("data_steward"), "{}", d.explanation);
    assert!(d.explanation.contains("data_user"), "{}", d.explanation);
    assert!(!d.explanation.contains("supervisor"), "{}", d.explanation);

    let nobody = principal("zhao.liu", false, vec![]);
    let d = decide(
        &point,
        &nobody,
        Action::AuditExport,
        &resource("audit", None, None),
    );
    assert!(d.explanation.contains("auditor") && d.explanation.contains("no role held"));

    let d = decide(
        &point,
        &nobody,
        Action::ElevationRequest,
        &resource("elevation", Some(IN), Some("someone.else")),
    );
    assert!(!d.allowed);
    assert!(d.explanation.contains("本人"), "{}", d.explanation);
}

#[test]
fn self_only_scope_reaches_only_own_resources() {
    let point = point();
    let mut g = grant(Role::DataSteward, &[]);
    g.self_only = true;
    let me = principal("zhang.san", false, vec![g]);
    let mine = resource("inventory", Some(OUT), Some("zhang.san"));
    let theirs = resource("inventory", Some(OUT), Some("li.si"));
    let unowned = resource("inventory", Some(IN), None);
    assert!(decide(&point, &me, Action::InventoryRead, &mine).allowed);
    assert!(decide(&point, &me, Action::ScanRun, &mine).allowed);
    assert!(!decide(&point, &me, Action::InventoryRead, &theirs).allowed);
    assert!(!decide(&point, &me, Action::InventoryRead, &unowned).allowed);
    // Self-only for one role says nothing about another role's reach.
    let mut me2 = me.clone();
    me2.grants.push(grant(Role::DataUser, &[IN]));
    assert!(decide(&point, &me2, Action::CatalogueRead, &unowned).allowed);
    assert!(!decide(&point, &me2, Action::ScanRun, &unowned).allowed);
    // Without a department, the role is enough.
    assert!(decide(&point, &me, Action::JobRead, &resource("job", None, None)).allowed);
}

#[test]
fn vendors_never_govern_whatever_their_grants() {
    let point = point();
    let all_admin: Vec<EffectiveGrant> = [Role::SystemAdmin, Role::SecurityAdmin, Role::Auditor]
        .into_iter()
        .map(|r| grant(r, &[IN, OUT]))
        .collect();
    let vendor = principal("vendor.ops", true, all_admin.clone());
    let staff = principal("staff", false, all_admin);
    let r = resource("thing", Some(IN), None);
    let governance = [
        "user.read",
        "user.create",
        "user.update",
        "user.unlock",
        "user.reset_credentials",
        "grant.read",
        "grant.create",
        "grant.delete",
        "policy.read",
        "policy.create",
        "policy.delete",
        "settings.read",
        "settings.update_security",
        "settings.update_system",
        "key.read",
        "key.rotate",
        "audit.read",
        "audit.export",
        "alert.read",
        "alert.handle",
        "alert_rules.update",
        "destruction.request",
        "destruction.approve",
        "destruction.execute",
        "legal_hold.manage",
        "incident.manage",
        "complaint.receive",
        "complaint.assign",
        "vendor.manage",
        "training.manage",
        "risk.manage",
        "emergency.manage",
    ];
    for &action in Action::ALL {
        let held = Role::ALL[..3].iter().any(|&role| permitted(role, action));
        let v = decide(&point, &vendor, action, &r);
        let s = decide(&point, &staff, action, &r);
        assert_eq!(s.allowed, held, "{action:?} {s:?}");
        if governance.contains(&action.id()) {
            assert!(!v.allowed, "{action:?} {v:?}");
            assert_eq!(v.policies, vec!["forbid.vendor_governance"], "{v:?}");
            assert!(v.explanation.starts_with("没有权限："), "{v:?}");
            assert!(v.explanation.contains("供应商"), "{v:?}");
            assert!(v.explanation.contains("forbid.vendor_governance"), "{v:?}");
        } else {
            assert_eq!(v.allowed, held, "{action:?} {v:?}");
        }
    }
}

#[test]
fn own_elevations_and_their_decisions() {
    let point = point();
    let me = principal("zhang.san", false, vec![]);
    let mine = resource("elevation", Some(IN), Some("zhang.san"));
    let theirs = resource("elevation", Some(IN), Some("li.si"));
    for action in [Action::ElevationRequest, Action::ElevationRead] {
        let d = decide(&point, &me, action, &mine);
        assert!(d.allowed, "{d:?}");
        assert_eq!(d.policies, vec!["own.elevation"]);
        assert!(!decide(&point, &me, action, &theirs).allowed);
    }
    assert!(!decide(&point, &me, Action::ElevationDecide, &mine).allowed);

    let cdo = principal("cdo", false, vec![grant(Role::ChiefDataOfficer, &[IN])]);
    let d = decide(&point, &cdo, Action::ElevationDecide, &theirs);
    assert!(d.allowed, "{d:?}");
    let elsewhere = resource("elevation", Some(OUT), Some("li.si"));
    assert!(!decide(&point, &cdo, Action::ElevationDecide, &elsewhere).allowed);
    let own = resource("elevation", Some(IN), Some("cdo"));
    let d = decide(&point, &cdo, Action::ElevationDecide, &own);
    assert!(!d.allowed);
    assert_eq!(d.policies, vec!["forbid.own_elevation_decision"]);
    assert!(d.explanation.contains("自己"), "{}", d.explanation);
}

#[test]
fn elevated_grants_allow_only_through_the_second_pass() {
    let point = point();
    let mut steward = grant(Role::DataSteward, &[OUT]);
    steward.elevated = true;
    let user = principal(
        "wang.wu",
        false,
        vec![grant(Role::DataUser, &[IN, OUT]), steward],
    );
    let out = resource("source", Some(OUT), None);
    let d = decide(&point, &user, Action::ScanRun, &out);
    assert!(d.allowed && d.via_elevation, "{d:?}");
    assert_eq!(d.policies, vec!["role.data_steward"]);
    assert!(d.explanation.contains("提权"), "{}", d.explanation);
    // What the standing grants allow is not "via elevation".
    let d = decide(&point, &user, Action::CatalogueRead, &out);
    assert!(d.allowed && !d.via_elevation, "{d:?}");
    // The elevation reaches only its scope.
    let d = decide(
        &point,
        &user,
        Action::ScanRun,
        &resource("source", Some(IN), None),
    );
    assert!(!d.allowed && !d.via_elevation, "{d:?}");
    assert!(d.explanation.starts_with("没有权限："));
    // Without the elevation, denied.
    let mut standing = user.clone();
    standing.grants.retain(|g| !g.elevated);
    assert!(!decide(&point, &standing, Action::ScanRun, &out).allowed);

    // A custom policy can tell elevated decisions apart (context.elevated).
    let custom = PolicyPoint::new(&[(
        "no-elevated-masking".to_string(),
        r#"forbid (principal, action == Action::"mask.run", resource) when { context.elevated };"#
            .to_string(),
    )])
    .unwrap();
    let d = decide(&custom, &user, Action::MaskRun, &out);
    assert!(!d.allowed, "{d:?}");
    assert_eq!(d.policies, vec!["no-elevated-masking"]);
    assert!(decide(&custom, &user, Action::ScanRun, &out).via_elevation);
}

#[test]
fn an_auditor_only_account_reads_and_changes_nothing_even_if_a_policy_permits_all() {
    let point = PolicyPoint::new(&[(
        "everything".to_string(),
        "permit (principal, action, resource);".to_string(),
    )])
    .unwrap();
    let auditor = principal("auditor", false, vec![grant(Role::Auditor, &[IN])]);
    let admin = principal("admin", false, vec![grant(Role::SystemAdmin, &[IN])]);
    let r = resource("thing", Some(OUT), Some("someone"));
    for &action in Action::ALL {
        let d = decide(&point, &auditor, action, &r);
        assert_eq!(d.allowed, action.is_read(), "{action:?} {d:?}");
        if !action.is_read() {
            assert_eq!(d.policies, vec!["forbid.auditor_changes"], "{d:?}");
        }
        assert!(decide(&point, &admin, action, &r).allowed, "{action:?}");
    }
}

#[test]
fn validate_accepts_good_policies_and_names_each_problem() {
    let good = r#"
        @id("stewards-see-jobs-everywhere")
        permit (principal, action == Action::"job.read", resource)
        when { principal has scope_data_steward && resource.kind == "job" };
    "#;
    assert_eq!(PolicyPoint::validate("jobs", good), Ok(1));
    let two = format!("{good}\nforbid (principal, action in Action::\"governance\", resource) when {{ principal.vendor }};");
    assert_eq!(PolicyPoint::validate("jobs", &two), Ok(2));

    let unknown_attribute = r#"permit (principal, action == Action::"job.read", resource) when { principal.age > 18 };"#;
    let e = PolicyPoint::validate("by-age", unknown_attribute).unwrap_err();
    assert_eq!(e.code(), "invalid_policy");
    let text = e.to_string();
    assert!(text.contains("by-age") && text.contains("age"), "{text}");

    let unknown_action = r#"permit (principal, action == Action::"user.delete", resource);"#;
    let e = PolicyPoint::validate("deleter", unknown_action).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("deleter") && text.contains("user.delete"),
        "{text}"
    );

    let unknown_type = r#"permit (principal in Group::"admins", action, resource);"#;
    let e = PolicyPoint::validate("group", unknown_type).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("group") && text.contains("Group"), "{text}");

    // Two problems in a two-policy text: both reported, each with its suffixed id.
    let e = PolicyPoint::validate("pair", &format!("{unknown_attribute}\n{unknown_action}"))
        .unwrap_err();
    let PolicyError::Invalid { problems } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems
        .iter()
        .any(|p| p.contains("pair#1") && p.contains("age")));
    assert!(problems
        .iter()
        .any(|p| p.contains("pair#2") && p.contains("user.delete")));

    let e = PolicyPoint::validate("broken", "permit (principal, action, resource").unwrap_err();
    assert!(matches!(e, PolicyError::Parse { .. }), "{e:?}");
    assert_eq!(e.code(), "invalid_policy");
    assert!(e.to_string().contains("broken"));

    let e = PolicyPoint::validate("tpl", "permit (principal == ?principal, action, resource);")
        .unwrap_err();
    assert!(matches!(e, PolicyError::Template { .. }), "{e:?}");
    let e = PolicyPoint::validate("empty", "// nothing\n").unwrap_err();
    assert!(matches!(e, PolicyError::Empty { .. }), "{e:?}");
    for bad in ["", "has space", &"x".repeat(129)] {
        let e = PolicyPoint::validate(bad, good).unwrap_err();
        assert!(matches!(e, PolicyError::InvalidId { .. }), "{e:?}");
    }
    // The new() path refuses the same texts.
    let e = PolicyPoint::new(&[("by-age".to_string(), unknown_attribute.to_string())]).unwrap_err();
    assert!(e.to_string().contains("by-age"));
}

#[test]
fn a_custom_policy_changes_a_decision() {
    let custom = r#"
        // Data users may run scans within their own data scope.
        permit (principal, action == Action::"scan.run", resource)
        when {
          principal has scope_data_user &&
          resource has department &&
          principal.scope_data_user.contains(resource.department)
        };
    "#;
    let user = principal("wang.wu", false, vec![grant(Role::DataUser, &[IN])]);
    let inside = resource("source", Some(IN), None);
    let outside = resource("source", Some(OUT), None);
    assert!(!decide(&point(), &user, Action::ScanRun, &inside).allowed);
    let point = PolicyPoint::new(&[("users-scan".to_string(), custom.to_string())]).unwrap();
    let d = decide(&point, &user, Action::ScanRun, &inside);
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.policies, vec!["users-scan"]);
    assert!(!decide(&point, &user, Action::ScanRun, &outside).allowed);
    // The denial's hint follows the policies in force: data_user now appears for scan.run.
    let other = principal("li.si", false, vec![grant(Role::Supervisor, &[IN])]);
    let d = decide(&point, &other, Action::ScanRun, &inside);
    assert!(d.explanation.contains("data_user"), "{}", d.explanation);
}

#[test]
fn several_policies_in_one_text_get_suffixed_ids() {
    let text = r#"
        permit (principal, action == Action::"job.read", resource) when { principal.vendor };
        forbid (principal, action == Action::"scan.run", resource) when { principal.vendor };
    "#;
    let point = PolicyPoint::new(&[("vendors".to_string(), text.to_string())]).unwrap();
    let ids = point.policy_ids();
    assert!(ids.contains(&"vendors#1".to_string()), "{ids:?}");
    assert!(ids.contains(&"vendors#2".to_string()), "{ids:?}");
    let vendor = principal("v", true, vec![grant(Role::DataSteward, &[IN])]);
    let d = decide(
        &point,
        &vendor,
        Action::ScanRun,
        &resource("s", Some(IN), None),
    );
    assert!(!d.allowed);
    assert_eq!(d.policies, vec!["vendors#2"]);
    let d = decide(
        &point,
        &vendor,
        Action::JobRead,
        &resource("job", Some(OUT), None),
    );
    assert!(d.allowed);
    assert_eq!(d.policies, vec!["vendors#1"]);
}

#[test]
fn duplicate_ids_are_refused() {
    let p = r#"permit (principal, action == Action::"job.read", resource);"#.to_string();
    let e = PolicyPoint::new(&[("a".to_string(), p.clone()), ("a".to_string(), p.clone())])
        .unwrap_err();
    assert_eq!(e.code(), "duplicate_policy");
    assert_eq!(e, PolicyError::Duplicate { id: "a".into() });
    let e = PolicyPoint::new(&[("role.system_admin".to_string(), p.clone())]).unwrap_err();
    assert_eq!(e.code(), "duplicate_policy");
    let e = PolicyPoint::new(&[
        ("b".to_string(), format!("{p}\n{p}")),
        ("b#2".to_string(), p.clone()),
    ])
    .unwrap_err();
    assert_eq!(e, PolicyError::Duplicate { id: "b#2".into() });
}

#[test]
fn an_evaluation_error_never_allows() {
    // Strict validation cannot see an overflow; Cedar skips a failing policy, and for a
    // forbid that would allow what it forbids. The point denies instead.
    let overflow = "9223372036854775807 + (if context.elevated then 0 else 1) > 0";
    let point = PolicyPoint::new(&[
        (
            "bad-forbid".to_string(),
            format!("forbid (principal, action == Action::\"job.read\", resource) when {{ {overflow} }};"),
        ),
        (
            "bad-permit".to_string(),
            format!("permit (principal, action == Action::\"scan.run\", resource) when {{ {overflow} }};"),
        ),
    ])
    .unwrap();
    let ops = principal("ops", true, vec![grant(Role::VendorOperator, &[IN])]);
    let r = resource("job", Some(IN), None);
    let d = decide(&point, &ops, Action::JobRead, &r);
    assert!(!d.allowed, "{d:?}");
    assert!(d.errors.iter().any(|e| e.contains("bad-forbid")), "{d:?}");
    assert!(d.explanation.starts_with("没有权限：") && d.explanation.contains("bad-forbid"));
    let d = decide(&point, &ops, Action::ScanRun, &r);
    assert!(!d.allowed, "{d:?}");
    assert!(d.errors.iter().any(|e| e.contains("bad-permit")), "{d:?}");
}

#[test]
fn department_tree_scopes_reach_into_decisions() {
    let tree = DepartmentTree::new([
        ("110000".to_string(), None),
        ("110100".to_string(), Some("110000".to_string())),
        (IN.to_string(), Some("110100".to_string())),
        (OUT.to_string(), None),
    ]);
    let at = |d: &str| Resource {
        ancestors: tree.ancestors(d),
        ..resource("s", Some(d), None)
    };
    let below = EffectiveGrant::new(
        &Grant {
            role: Role::DataSteward,
            department: "110100".into(),
            scope: DataScope::OwnDepartmentAndBelow,
        },
        false,
    );
    let point = point();
    let steward = principal("s", false, vec![below]);
    for (d, reached) in [
        ("110100", true),
        (IN, true),
        ("110000", false),
        (OUT, false),
    ] {
        assert_eq!(
            decide(&point, &steward, Action::ScanRun, &at(d)).allowed,
            reached,
            "{d}"
        );
    }
    // Without its ancestors, a resource below the anchor is not reached: a caller that
    // forgets them denies, never allows more.
    let bare = Resource {
        ancestors: vec![],
        ..at(IN)
    };
    assert!(!decide(&point, &steward, Action::ScanRun, &bare).allowed);
    let all = EffectiveGrant::new(
        &Grant {
            role: Role::Supervisor,
            department: "110000".into(),
            scope: DataScope::All,
        },
        false,
    );
    let supervisor = principal("sup", false, vec![all]);
    for d in tree
        .departments()
        .iter()
        .map(String::as_str)
        .chain(["not-in-tree"])
    {
        let r = resource("inventory", Some(d), None);
        assert!(decide(&point, &supervisor, Action::InventoryRead, &r).allowed);
        assert!(!decide(&point, &supervisor, Action::ScanRun, &r).allowed);
    }
}

fn any_action() -> impl Strategy<Value = Action> {
    (0..Action::ALL.len()).prop_map(|i| Action::ALL[i])
}

fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("zhang.san".to_string()),
        Just("li.si".to_string()),
        "[a-z\u{4e00}-\u{4e10}\"'\\\\:]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// An account with no grant, vendor or not, may do nothing but ask for and read its
    /// own elevations, read its own share requests, agreements and destructions, and
    /// handle the complaints assigned to it.
    #[test]
    fn no_grant_no_access(
        username in any_name(),
        department in "[0-9]{0,8}",
        vendor in any::<bool>(),
        action in any_action(),
        kind in "[a-z_]{0,10}",
        id in any_name(),
        resource_department in proptest::option::of("[0-9]{0,8}"),
        owner in proptest::option::of(any_name()),
    ) {
        let point = point();
        let p = Principal { username: username.clone(), department, vendor, grants: vec![] };
        let r = Resource { kind, id, department: resource_department, owner: owner.clone(), ancestors: vec![] };
        let d = decide(&point, &p, action, &r);
        let own = owner.as_deref() == Some(username.as_str());
        let expected = own && OWN.contains(&action.id());
        prop_assert_eq!(d.allowed, expected, "{:?}", d);
        prop_assert!(d.errors.is_empty(), "{:?}", d);
        prop_assert!(!d.via_elevation);
        if !expected {
            prop_assert!(d.explanation.starts_with("没有权限："), "{}", d.explanation);
        }
    }
}

/// The decision the table above and the rules predict, without Cedar.
fn oracle(p: &Principal, action: Action, r: &Resource) -> (bool, bool) {
    let governance = [
        "user.",
        "grant.",
        "policy.",
        "settings.",
        "key.",
        "audit.",
        "alert.",
        "alert_rules.",
        "destruction.request",
        "destruction.approve",
        "destruction.execute",
        "legal_hold.manage",
        "incident.manage",
        "complaint.receive",
        "complaint.assign",
        "vendor.manage",
        "training.manage",
        "risk.manage",
        "emergency.manage",
    ]
    .iter()
    .any(|prefix| action.id().starts_with(prefix));
    let own = r.owner.as_deref() == Some(p.username.as_str());
    let allowed = |grants: &[&EffectiveGrant]| {
        let roles: BTreeSet<Role> = grants.iter().map(|g| g.role).collect();
        let forbidden = (p.vendor && governance)
            || (roles == BTreeSet::from([Role::Auditor]) && !action.is_read())
            || (action == Action::ElevationDecide && own)
            || (action == Action::DestructionApprove && own)
            || (matches!(
                action,
                Action::ShareRequestReview | Action::ShareRequestSignOff
            ) && own);
        let permitted = (own && OWN.contains(&action.id()))
            || grants.iter().any(|g| {
                permitted(g.role, action)
                    && match &r.department {
                        None => true,
                        Some(d) => {
                            g.all
                                || g.departments.contains(d)
                                || g.subtrees.contains(d)
                                || r.ancestors.iter().any(|a| g.subtrees.contains(a))
                                || (g.self_only && own)
                        }
                    }
            });
        permitted && !forbidden
    };
    let standing: Vec<&EffectiveGrant> = p.grants.iter().filter(|g| !g.elevated).collect();
    if allowed(&standing) {
        return (true, false);
    }
    if p.grants.iter().any(|g| g.elevated) {
        let all: Vec<&EffectiveGrant> = p.grants.iter().collect();
        let a = allowed(&all);
        return (a, a);
    }
    (false, false)
}

fn any_grant() -> impl Strategy<Value = EffectiveGrant> {
    let some_departments = || {
        proptest::collection::btree_set(
            prop_oneof![
                Just(IN),
                Just(OUT),
                Just("130000"),
                Just("110100"),
                Just("110000")
            ],
            0..3,
        )
    };
    (
        0..Role::ALL.len(),
        some_departments(),
        some_departments(),
        proptest::bool::weighted(0.15),
        any::<bool>(),
        proptest::bool::weighted(0.3),
    )
        .prop_map(
            |(role, departments, subtrees, all, self_only, elevated)| EffectiveGrant {
                role: Role::ALL[role],
                department: IN.into(),
                departments: if self_only {
                    BTreeSet::new()
                } else {
                    departments.into_iter().map(str::to_string).collect()
                },
                subtrees: if self_only {
                    BTreeSet::new()
                } else {
                    subtrees.into_iter().map(str::to_string).collect()
                },
                all: all && !self_only,
                self_only,
                elevated,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any principal, any grants, any resource: Cedar decides what the table and the
    /// rules say. A few user names share one point, so the principal cache is hit with
    /// changing grants and must never answer for other grants.
    #[test]
    fn cedar_agrees_with_the_table(
        username in prop_oneof![Just("zhang.san"), Just("li.si"), Just("wang.wu")],
        vendor in proptest::bool::weighted(0.2),
        grants in proptest::collection::vec(any_grant(), 0..4),
        action in any_action(),
        department in proptest::option::of(
            prop_oneof![Just(IN), Just(OUT), Just("130000"), Just("110100"), Just("110000")]
        ),
        owner in proptest::option::of(prop_oneof![Just("zhang.san"), Just("li.si")]),
    ) {
        let p = Principal {
            username: username.to_string(),
            department: IN.into(),
            vendor,
            grants,
        };
        let r = resource("thing", department, owner);
        let d = decide(&point(), &p, action, &r);
        let (allowed, via) = oracle(&p, action, &r);
        prop_assert_eq!((d.allowed, d.via_elevation), (allowed, via), "{:?} {:?} {:?}", p, r, d);
        prop_assert!(d.errors.is_empty());
        prop_assert_eq!(d.explanation.starts_with("没有权限："), !allowed);
    }
}

/// Sharing (R-16, R-21): whoever filed a request reads it and its agreement in any
/// providing department; nobody reviews or signs off their own request, whatever roles
/// they hold; only the chief data officer loosens the catalogue.
#[test]
fn own_share_requests_and_their_decisions() {
    let point = point();
    let requester = principal("li.si", false, vec![grant(Role::DataUser, &[IN])]);
    let mine = resource("share_request", Some(OUT), Some("li.si"));
    for action in [Action::ShareRequestRead, Action::AgreementRead] {
        let d = decide(&point, &requester, action, &mine);
        assert!(d.allowed, "{action:?} {d:?}");
        assert_eq!(d.policies, vec!["own.share_request"]);
        let theirs = resource("share_request", Some(OUT), Some("wang.wu"));
        assert!(!decide(&point, &requester, action, &theirs).allowed);
    }
    // A steward and chief data officer of the providing department who filed the request
    // themselves (for a higher level, say) cannot decide it.
    let both = principal(
        "li.si",
        false,
        vec![
            grant(Role::DataSteward, &[OUT]),
            grant(Role::ChiefDataOfficer, &[OUT]),
        ],
    );
    for action in [Action::ShareRequestReview, Action::ShareRequestSignOff] {
        let d = decide(&point, &both, action, &mine);
        assert!(!d.allowed, "{action:?} {d:?}");
        assert_eq!(d.policies, vec!["forbid.own_share_decision"]);
        let other = resource("share_request", Some(OUT), Some("wang.wu"));
        assert!(decide(&point, &both, action, &other).allowed);
        // Another department's request: out of scope.
        let elsewhere = resource("share_request", Some(IN), Some("wang.wu"));
        assert!(!decide(&point, &both, action, &elsewhere).allowed);
    }
    let steward = principal("s", false, vec![grant(Role::DataSteward, &[IN])]);
    let entry = resource("catalogue", Some(IN), None);
    assert!(decide(&point, &steward, Action::CatalogueUpdate, &entry).allowed);
    assert!(!decide(&point, &steward, Action::CatalogueLoosen, &entry).allowed);
    let cdo = principal("c", false, vec![grant(Role::ChiefDataOfficer, &[IN])]);
    assert!(decide(&point, &cdo, Action::CatalogueLoosen, &entry).allowed);
}
