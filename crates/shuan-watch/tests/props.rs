//! The engine never panics and stays deterministic on arbitrary records.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use shuan_ledger::{Actor, ActorKind, Client, Outcome, Record, Timestamp};
use shuan_watch::{AgreementLookup, AgreementScope, RuleSet, Watcher};

fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "[a-z0-9*X]{0,12}".prop_map(Value::String),
        ".{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,4}", inner), 0..3)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn any_params() -> impl Strategy<Value = Value> {
    prop_oneof![
        any_value(),
        prop::collection::vec(
            ("(id|limit|offset|q)", "[0-9]{0,3}\\*{0,3}[0-9X]{0,3}"),
            0..3
        )
        .prop_map(|ps| json!(ps
            .into_iter()
            .map(|(k, v)| json!([k, v]))
            .collect::<Vec<_>>())),
    ]
}

fn any_time() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        (0i64..4_000_000_000).prop_map(|s| 1_764_000_000_000_000 + s * 1000),
    ]
}

fn any_record() -> impl Strategy<Value = (String, Record)> {
    (
        (
            "(a|b|c|d|)",
            prop::option::of("(d1|d2)"),
            prop::option::of("(analyst|vendor_operator|auditor,vendor_operator|.{0,6})"),
            any::<bool>(),
        ),
        any::<u64>(),
        any_time(),
        "(service.call|session.login|audit.read|.{0,6})",
        prop_oneof![
            Just(Outcome::Allowed),
            Just(Outcome::Denied),
            Just(Outcome::Error)
        ],
        prop::option::of(prop::option::of("(10.0.0.[1-3]|.{0,4})")),
        prop::option::of(".{0,6}"),
        (
            any_params(),
            any_value(),
            any_value(),
            any_value(),
            any_value(),
            any_value(),
        ),
        "(n1|n2|)",
    )
        .prop_map(
            |(
                (id, dept, role, system),
                seq,
                t,
                action,
                outcome,
                client,
                purpose,
                (params, rows, format, agreement, resource, code),
                node,
            )| {
                let mut details = Map::new();
                for (k, v) in [
                    ("params", params),
                    ("rows", rows),
                    ("format", format),
                    ("agreement", agreement),
                    ("resource", resource),
                    ("code", code),
                ] {
                    if !v.is_null() {
                        details.insert(k.into(), v);
                    }
                }
                let r = Record {
                    seq,
                    time: Timestamp(t),
                    actor: Actor {
                        kind: if system {
                            ActorKind::System
                        } else {
                            ActorKind::User
                        },
                        id,
                        department: dept,
                        role,
                    },
                    action,
                    object: "service:x".into(),
                    purpose,
                    outcome,
                    client: client.map(|address| Client {
                        address,
                        agent: None,
                    }),
                    request_id: None,
                    details,
                };
                (node, r)
            },
        )
}

/// Thresholds at their smallest, so that every rule's alert path runs.
fn touchy() -> RuleSet {
    RuleSet::from_toml(
        r#"
[engine]
max_actors = 3
max_evidence = 2
[volume_spike]
min_baseline_windows = 1
factor = 1
min_count = 1
window_minutes = 1
[enumeration]
min_distinct = 2
min_sequential = 2
max_rows = 1000
[after_denials]
min_denials = 1
actions = ["service.call", "session.login", "audit.read"]
[new_address]
baseline_days = 1
max_addresses = 1
[vendor_bulk_export]
min_rows = 1
min_csv_calls = 1
"#,
    )
    .unwrap()
}

fn lookup() -> Box<dyn AgreementLookup + Send> {
    let mut m = std::collections::HashMap::new();
    m.insert(
        1,
        AgreementScope {
            resources: vec!["r".into()],
            purpose: Some("p".into()),
        },
    );
    Box::new(m)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_and_replays_identically(records in prop::collection::vec(any_record(), 0..60)) {
        for rules in [RuleSet::default(), touchy()] {
            let cap = rules.engine.max_evidence;
            let max_actors = rules.engine.max_actors;
            let mut a = Watcher::new(rules.clone()).with_lookup(lookup());
            let mut b = Watcher::new(rules).with_lookup(lookup());
            let mut keys = std::collections::HashSet::new();
            for (node, r) in &records {
                let x = a.observe_from(node, r);
                let y = b.observe_from(node, r);
                prop_assert_eq!(&x, &y);
                for al in &x {
                    prop_assert!(al.evidence.len() <= cap.max(2));
                    prop_assert_eq!(&al.actor, &r.actor.id);
                    prop_assert!(al.evidence.iter().any(|e| e.seq == r.seq && e.node == *node));
                    // One alert per rule, caller and window (an evicted caller starts
                    // again, as documented).
                    let fresh = keys.insert(al.key());
                    prop_assert!(fresh || a.stats().evicted > 0, "duplicate {}", al.key());
                }
                prop_assert!(a.stats().actors <= max_actors);
            }
        }
    }
}
