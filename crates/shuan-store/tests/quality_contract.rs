//! The data-quality records' contract (issue 13, R-07) on SQLite and the real PostgreSQL
//! (see `common`): rule sets keep their rules and schedule, a rule set on an unknown
//! source is refused, due rule sets are listed in order, a due time is claimed once — by
//! one caller of many on two handles — and runs are kept with their report, newest first.

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(rule_sets_and_runs_are_kept, a_due_time_is_claimed_once,);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;

    fn source(s: &dyn PlatformStore) -> i64 {
        s.create_department(&Department {
            code: "P".into(),
            name: "部门P".into(),
            parent: None,
            created_at: NOW,
        })
        .unwrap();
        s.create_source(&ShareSource {
            id: 0,
            name: format!("src-{}", std::process::id()),
            department: "P".into(),
            kind: "postgres".into(),
            display: "postgres://db/x".into(),
            url_sealed: vec![1, 2, 3],
            profile: "xinyang".into(),
            created_by: "steward".into(),
            created_at: NOW,
            scanned_at: None,
        })
        .unwrap()
    }

    fn rule_set(name: &str, source_id: i64, next: Option<UnixTime>) -> QualityRuleSet {
        QualityRuleSet {
            id: 0,
            name: name.into(),
            source_id,
            table_locator: "public.people".into(),
            department: "P".into(),
            key_column: Some("id".into()),
            rules: serde_json::json!([{"column": "sfzh", "check": {"kind": "not_null"}}]),
            interval_hours: next.map(|_| 24),
            next_run_at: next,
            created_by: "steward".into(),
            created_at: NOW,
        }
    }

    pub fn rule_sets_and_runs_are_kept(f: &Fixture) {
        let s = &*f.store;
        let src = source(s);
        let a = s
            .create_quality_rule_set(&rule_set("b-人口", src, Some(NOW + 10)))
            .unwrap();
        let b = s
            .create_quality_rule_set(&rule_set("a-法人", src, None))
            .unwrap();
        let got = s.quality_rule_set(a).unwrap().unwrap();
        assert_eq!(
            got,
            QualityRuleSet {
                id: a,
                ..rule_set("b-人口", src, Some(NOW + 10))
            }
        );
        let names: Vec<_> = s
            .quality_rule_sets()
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(names, [b, a]);
        assert!(matches!(
            s.create_quality_rule_set(&rule_set("a-法人", src, None)),
            Err(PlatformStoreError::Exists { .. })
        ));
        assert!(matches!(
            s.create_quality_rule_set(&rule_set("c", src + 1000, None)),
            Err(PlatformStoreError::NotFound { .. })
        ));
        assert!(s.due_quality_rule_sets(NOW).unwrap().is_empty());
        let due: Vec<_> = s
            .due_quality_rule_sets(NOW + 10)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(due, [a]);

        let run = |status, violations, report: Option<serde_json::Value>| QualityRun {
            id: 0,
            rule_set_id: a,
            started_at: NOW,
            finished_at: NOW + 3,
            status,
            rows_checked: 105,
            violations,
            report,
            error: None,
            run_by: "scheduler".into(),
            alert_id: Some(7),
        };
        let report = serde_json::json!({"rows_checked": 105, "results": [{"violations": 2, "samples": [{"key": "102", "value": "1101**********0021"}]}]});
        let r1 = s
            .record_quality_run(&run(QualityRunStatus::Violations, 2, Some(report.clone())))
            .unwrap();
        let r2 = s
            .record_quality_run(&run(QualityRunStatus::Passed, 0, None))
            .unwrap();
        assert_eq!(s.quality_run(r1).unwrap().unwrap().report, Some(report));
        assert_eq!(
            s.quality_run(r2).unwrap().unwrap().status,
            QualityRunStatus::Passed
        );
        let ids: Vec<_> = s
            .quality_runs(Some(a), 10)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, [r2, r1]);
        assert_eq!(s.quality_runs(Some(a), 1).unwrap().len(), 1);
        assert!(s.quality_runs(Some(b), 10).unwrap().is_empty());
        assert_eq!(s.quality_runs(None, 10).unwrap().len(), 2);
    }

    pub fn a_due_time_is_claimed_once(f: &Fixture) {
        let other = f.second_handle();
        let stores: [&dyn PlatformStore; 2] = [&*f.store, &*other];
        let src = source(&*f.store);
        let id = f
            .store
            .create_quality_rule_set(&rule_set("sched", src, Some(NOW)))
            .unwrap();
        let won: Vec<bool> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let s = stores[i % 2];
                    scope.spawn(move || s.claim_quality_run(id, NOW, NOW + 86_400).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
        let r = f.store.quality_rule_set(id).unwrap().unwrap();
        assert_eq!(r.next_run_at, Some(NOW + 86_400));
        // An old due time no longer claims.
        assert!(!f.store.claim_quality_run(id, NOW, NOW + 1).unwrap());
        assert!(f
            .store
            .due_quality_rule_sets(NOW + 86_399)
            .unwrap()
            .is_empty());
    }
}
