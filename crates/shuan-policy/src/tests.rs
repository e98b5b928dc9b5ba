//! Checks that the Rust side and the shipped Cedar files agree.

use std::collections::{BTreeSet, HashSet};

use cedar_policy::Schema;

use crate::*;

fn point() -> PolicyPoint {
    PolicyPoint::new(&[]).expect("the default policies are valid")
}

#[test]
fn the_schema_parses_and_its_actions_are_exactly_the_enum() {
    let (schema, warnings) = Schema::from_cedarschema_str(PolicyPoint::schema_text()).unwrap();
    let warnings: Vec<String> = warnings.map(|w| w.to_string()).collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    let groups: HashSet<String> = schema
        .action_groups()
        .map(|a| a.id().unescaped().to_string())
        .collect();
    assert_eq!(
        groups,
        HashSet::from([
            "read_only".to_string(),
            "changes".to_string(),
            "governance".to_string()
        ])
    );
    let actions: BTreeSet<String> = schema
        .actions()
        .map(|a| a.id().unescaped().to_string())
        .filter(|a| !groups.contains(a))
        .collect();
    let ours: BTreeSet<String> = Action::ALL.iter().map(|a| a.id().to_string()).collect();
    assert_eq!(actions, ours);
}

#[test]
fn the_read_only_group_is_is_read() {
    let (schema, _) = Schema::from_cedarschema_str(PolicyPoint::schema_text()).unwrap();
    let entities = schema.action_entities().unwrap();
    let group: cedar_policy::EntityUid = r#"Action::"read_only""#.parse().unwrap();
    for a in Action::ALL {
        let uid: cedar_policy::EntityUid = format!("Action::{:?}", a.id()).parse().unwrap();
        assert_eq!(
            entities.is_ancestor_of(&group, &uid),
            a.is_read(),
            "{a:?}: the schema's read_only group and Action::is_read disagree"
        );
    }
}

#[test]
fn every_policy_file_is_shipped_with_an_id() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut files: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cedar") {
            files.insert(path.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    let shipped: BTreeSet<String> = PolicyPoint::default_policies()
        .into_iter()
        .map(|(stem, _)| stem.to_string())
        .collect();
    assert_eq!(
        files, shipped,
        "policies/*.cedar and the embedded list differ"
    );
    for (stem, text) in PolicyPoint::default_policies() {
        assert!(text.contains("@id(\""), "{stem} has a policy without @id");
    }
    let ids = point().policy_ids();
    for role in Role::ALL {
        assert!(ids.contains(&format!("role.{}", role.id())), "{ids:?}");
    }
    for rule in [
        "own.elevation",
        "forbid.vendor_governance",
        "forbid.auditor_changes",
        "forbid.own_elevation_decision",
        "own.share_request",
        "forbid.own_share_decision",
    ] {
        assert!(ids.contains(&rule.to_string()), "{ids:?}");
    }
}

#[test]
fn the_entities_decide_builds_conform_to_the_schema() {
    let p = point();
    let grant = |role, departments: &[&str], self_only, elevated| EffectiveGrant {
        role,
        department: "110100".into(),
        departments: departments.iter().map(|d| d.to_string()).collect(),
        subtrees: departments.iter().map(|d| d.to_string()).collect(),
        all: elevated,
        self_only,
        elevated,
    };
    let principals = [
        Principal {
            username: "nobody".into(),
            department: "110100".into(),
            vendor: false,
            grants: vec![],
        },
        Principal {
            username: "zhang.san".into(),
            department: "110100".into(),
            vendor: true,
            grants: Role::ALL
                .into_iter()
                .enumerate()
                .map(|(i, r)| grant(r, &["110100", "110101"], i % 2 == 0, i % 3 == 0))
                .collect(),
        },
    ];
    let resources = [
        Resource::default(),
        Resource {
            kind: "elevation".into(),
            id: "7".into(),
            department: Some("110101".into()),
            owner: Some("zhang.san".into()),
            ancestors: vec!["110100".into(), "110000".into()],
        },
    ];
    for principal in &principals {
        for resource in &resources {
            for &action in Action::ALL {
                for elevated in [false, true] {
                    let request = AccessRequest {
                        principal,
                        action,
                        resource,
                    };
                    p.check_entities(&request, elevated)
                        .unwrap_or_else(|e| panic!("{action:?}: {e}"));
                }
            }
        }
    }
}

#[test]
fn the_point_is_send_sync_and_cheap_to_clone() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<PolicyPoint>();
    let p = point();
    let q = p.clone();
    assert_eq!(p.policy_ids(), q.policy_ids());
}

#[test]
fn the_principal_cache_never_answers_for_other_grants() {
    let p = point();
    let before = p.cached_users();
    assert_eq!(before, 0, "building the point (its probes) caches nobody");
    let grant = |departments: &[&str]| EffectiveGrant {
        role: Role::DataSteward,
        department: "110100".into(),
        departments: departments.iter().map(|d| d.to_string()).collect(),
        subtrees: BTreeSet::new(),
        all: false,
        self_only: false,
        elevated: false,
    };
    let mut who = Principal {
        username: "zhang.san".into(),
        department: "110100".into(),
        vendor: false,
        grants: vec![grant(&["110100"])],
    };
    let there = Resource {
        kind: "source".into(),
        id: "1".into(),
        department: Some("120000".into()),
        owner: None,
        ancestors: vec![],
    };
    let ask = |who: &Principal| {
        p.decide(&AccessRequest {
            principal: who,
            action: Action::ScanRun,
            resource: &there,
        })
        .allowed
    };
    assert!(!ask(&who));
    assert!(!ask(&who));
    assert_eq!(p.cached_users(), before + 1, "the second ask is a hit");
    who.grants = vec![grant(&["110100", "120000"])];
    assert!(ask(&who), "a changed grant is a new entry, not the old one");
    who.vendor = true;
    who.grants = vec![grant(&["110100"])];
    assert!(!ask(&who));
    assert_eq!(p.cached_users(), before + 3);
    // Full: emptied, and still right.
    for i in 0..1100 {
        who.username = format!("user{i}");
        assert!(!ask(&who));
    }
    assert!(p.cached_users() <= 1024);
    who.grants = vec![grant(&["120000"])];
    assert!(ask(&who));
}

#[test]
fn every_action_is_either_read_only_or_a_change() {
    let (schema, _) = Schema::from_cedarschema_str(PolicyPoint::schema_text()).unwrap();
    let entities = schema.action_entities().unwrap();
    let read_only: cedar_policy::EntityUid = r#"Action::"read_only""#.parse().unwrap();
    let changes: cedar_policy::EntityUid = r#"Action::"changes""#.parse().unwrap();
    for a in Action::ALL {
        let uid: cedar_policy::EntityUid = format!("Action::{:?}", a.id()).parse().unwrap();
        let r = entities.is_ancestor_of(&read_only, &uid);
        let c = entities.is_ancestor_of(&changes, &uid);
        assert!(
            r != c,
            "{a:?} must be in exactly one of read_only and changes"
        );
    }
}

#[test]
fn the_action_entity_is_sent_only_when_a_condition_reads_the_action() {
    let p = point();
    assert!(
        p.inner_reads_action().iter().all(|r| !r),
        "no default policy reads `action` in a condition"
    );
    let custom = PolicyPoint::new(&[(
        "reads".to_string(),
        r#"permit (principal, action, resource) when { action in Action::"read_only" && principal.vendor };"#
            .to_string(),
    )])
    .unwrap();
    assert!(custom.inner_reads_action().iter().all(|r| *r));
    // And the group membership still works through it.
    let vendor = Principal {
        username: "v".into(),
        department: "1".into(),
        vendor: true,
        grants: vec![],
    };
    let r = Resource::default();
    for &action in Action::ALL {
        let d = custom.decide(&AccessRequest {
            principal: &vendor,
            action,
            resource: &r,
        });
        let governance = [
            "user.",
            "grant.",
            "policy.",
            "settings.",
            "key.",
            "audit.",
            "alert.",
        ]
        .iter()
        .any(|g| action.id().starts_with(g));
        assert_eq!(
            d.allowed,
            action.is_read() && !governance,
            "{action:?} {d:?}"
        );
    }
}
