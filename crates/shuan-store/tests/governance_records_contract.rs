//! The contract of the assessment, emergency, collection and lineage records (issue 13,
//! ) on SQLite and the real PostgreSQL (see `common`): findings are
//! kept as items of their origin and an item closes once; a plan's latest drill is read
//! back; an unknown owner writes nothing; a review moves the due date and a stop ends the
//! reviews; derivations are found from either end with their inputs in order.

use shuan_store::platform::*;

#[macro_use]
mod common;
use common::*;

contract_tests!(
    findings_become_items_that_close_once,
    drills_move_a_plans_due_date,
    collections_are_reviewed_until_stopped,
    derivations_are_found_from_either_end,
    a_temporary_links_one_destruction,
);

mod contract {
    use super::*;

    const NOW: UnixTime = 1_760_000_000;
    const DAY: i64 = 86_400;

    fn seed(s: &dyn PlatformStore) {
        s.create_department(&Department {
            code: "P".into(),
            name: "部门P".into(),
            parent: None,
            created_at: NOW,
        })
        .unwrap();
        for name in ["a", "b"] {
            s.create_user(&User {
                username: name.into(),
                display_name: name.into(),
                department: "P".into(),
                vendor: false,
                contract_end: None,
                password_hash: "x".into(),
                password_changed_at: NOW,
                must_change_password: false,
                totp: None,
                disabled: false,
                created_at: NOW,
                last_login_at: None,
            })
            .unwrap();
        }
    }

    fn item(owner: &str, due_at: UnixTime) -> Rectification {
        Rectification {
            id: 0,
            origin_kind: String::new(),
            origin_id: 0,
            department: String::new(),
            finding: format!("问题 of {owner}"),
            severity: "high".into(),
            owner: owner.into(),
            due_at,
            closed_at: None,
            closed_by: None,
            evidence: None,
            created_at: 0,
        }
    }

    fn assessment(findings: Vec<Rectification>) -> RiskAssessment {
        RiskAssessment {
            id: 0,
            kind: "data_security".into(),
            title: "评估".into(),
            scope: "系统".into(),
            department: "P".into(),
            assessor: "自评".into(),
            assessed_at: NOW - DAY,
            conclusion: "结论".into(),
            findings,
            created_by: "a".into(),
            created_at: NOW,
        }
    }

    pub fn findings_become_items_that_close_once(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let id = s
            .create_risk_assessment(&assessment(vec![item("a", NOW + DAY), item("b", NOW)]))
            .unwrap();
        // An unknown owner: refused, nothing written (neither the assessment nor items).
        assert!(matches!(
            s.create_risk_assessment(&assessment(vec![item("a", NOW), item("zz", NOW)])),
            Err(PlatformStoreError::NotFound { .. })
        ));
        let list = s.risk_assessments().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, id);
        assert_eq!(list[0].findings.len(), 2);
        let items = s.rectifications().unwrap();
        assert_eq!(items.len(), 2);
        // By due date: b's first.
        assert_eq!(items[0].owner, "b");
        assert!(items.iter().all(|i| i.origin_kind == "risk_assessment"
            && i.origin_id == id
            && i.department == "P"));
        assert!(items[0].overdue_at(NOW + 1));
        assert!(!items[1].overdue_at(NOW + 1));
        let closed = s
            .close_rectification(items[0].id, "b", NOW + 5, "已整改")
            .unwrap();
        assert_eq!(closed.closed_at, Some(NOW + 5));
        assert_eq!(closed.evidence.as_deref(), Some("已整改"));
        assert!(!closed.overdue_at(NOW + 10));
        assert!(matches!(
            s.close_rectification(items[0].id, "a", NOW + 6, "again"),
            Err(PlatformStoreError::Conflict(_))
        ));
        assert_eq!(
            s.rectification(items[0].id)
                .unwrap()
                .unwrap()
                .closed_by
                .as_deref(),
            Some("b"),
            "the first close stands"
        );
        assert!(matches!(
            s.close_rectification(999_999, "a", NOW, "x"),
            Err(PlatformStoreError::NotFound { .. })
        ));
    }

    pub fn drills_move_a_plans_due_date(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let plan = EmergencyPlan {
            id: 0,
            title: "预案".into(),
            scope: "泄露".into(),
            department: "P".into(),
            version: "1".into(),
            summary: "步骤".into(),
            drill_interval_days: 30,
            adopted_at: NOW,
            last_drill_at: None,
            created_by: "a".into(),
            created_at: NOW,
        };
        let id = s.create_emergency_plan(&plan).unwrap();
        let read = s.emergency_plans().unwrap();
        assert_eq!(read[0].drill_due_at(), NOW + 30 * DAY);
        let drill = |held_at, findings| EmergencyDrill {
            id: 0,
            plan_id: id,
            department: String::new(),
            held_at,
            scenario: "演练".into(),
            form: "live".into(),
            participants: vec!["张三".into(), "李四".into()],
            evaluation: "好".into(),
            lessons: "细化".into(),
            findings,
            created_by: "a".into(),
            created_at: held_at,
        };
        s.create_emergency_drill(&drill(NOW + 10 * DAY, vec![]))
            .unwrap();
        let d2 = s
            .create_emergency_drill(&drill(NOW + 20 * DAY, vec![item("b", NOW + 50 * DAY)]))
            .unwrap();
        assert!(matches!(
            s.create_emergency_drill(&EmergencyDrill {
                plan_id: 999_999,
                ..drill(NOW, vec![])
            }),
            Err(PlatformStoreError::NotFound { .. })
        ));
        let read = s.emergency_plans().unwrap();
        assert_eq!(read[0].last_drill_at, Some(NOW + 20 * DAY));
        assert_eq!(read[0].drill_due_at(), NOW + 50 * DAY);
        let drills = s.emergency_drills().unwrap();
        assert_eq!(drills.len(), 2);
        assert_eq!(drills[0].id, d2);
        assert_eq!(drills[0].department, "P");
        assert_eq!(drills[0].participants, vec!["张三", "李四"]);
        assert_eq!(drills[0].findings.len(), 1);
        assert_eq!(drills[0].findings[0].origin_kind, "emergency_drill");
        assert!(drills[1].findings.is_empty());
    }

    pub fn collections_are_reviewed_until_stopped(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let c = Collection {
            id: 0,
            name: "登记".into(),
            department: "P".into(),
            purpose: "目的".into(),
            use_for: "用途".into(),
            legal_basis: "依据".into(),
            channel: "窗口".into(),
            process: "流程".into(),
            format: "表单".into(),
            frequency: "实时".into(),
            owner: "a".into(),
            fields: vec![
                CollectedField {
                    name: "身份证号".into(),
                    data_type: Some("cn_resident_id".into()),
                    source: Some("db".into()),
                    table: Some("t".into()),
                    column: Some("sfzh".into()),
                },
                CollectedField {
                    name: "备注".into(),
                    data_type: None,
                    source: None,
                    table: None,
                    column: None,
                },
            ],
            review_interval_days: 100,
            next_review_at: NOW + 100 * DAY,
            stopped: false,
            created_by: "a".into(),
            created_at: NOW,
        };
        let id = s.create_collection(&c).unwrap();
        assert!(matches!(
            s.create_collection(&Collection {
                owner: "zz".into(),
                ..c.clone()
            }),
            Err(PlatformStoreError::NotFound { .. })
        ));
        assert_eq!(
            s.collections().unwrap(),
            vec![Collection { id, ..c.clone() }]
        );
        let review = |at, outcome: &str| CollectionReview {
            id: 0,
            collection_id: id,
            reviewed_at: at,
            reviewer: "a".into(),
            outcome: outcome.into(),
            note: "复核".into(),
        };
        s.review_collection(&review(NOW + 10 * DAY, "modify"))
            .unwrap();
        assert_eq!(s.collections().unwrap()[0].next_review_at, NOW + 110 * DAY);
        s.review_collection(&review(NOW + 20 * DAY, "stop"))
            .unwrap();
        assert!(s.collections().unwrap()[0].stopped);
        assert!(matches!(
            s.review_collection(&review(NOW + 30 * DAY, "continue")),
            Err(PlatformStoreError::Conflict(_))
        ));
        assert!(matches!(
            s.review_collection(&CollectionReview {
                collection_id: 999_999,
                ..review(NOW, "continue")
            }),
            Err(PlatformStoreError::NotFound { .. })
        ));
        let reviews = s.collection_reviews().unwrap();
        assert_eq!(
            reviews
                .iter()
                .map(|r| r.outcome.as_str())
                .collect::<Vec<_>>(),
            ["stop", "modify"]
        );
    }

    pub fn derivations_are_found_from_either_end(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let d = |inputs: &[&str], output: &str, at| Derivation {
            id: 0,
            operation: "mask".into(),
            inputs: inputs.iter().map(|x| x.to_string()).collect(),
            output: output.into(),
            department: Some("P".into()),
            parameters: serde_json::json!({"scenario": "share", "rows": 3}),
            automatic: true,
            recorded_by: "a".into(),
            recorded_at: at,
        };
        let first = d(&["src/b", "src/a"], "out/1", NOW);
        let id1 = s.record_derivation(&first).unwrap();
        let id2 = s
            .record_derivation(&d(&["out/1"], "out/2", NOW + 1))
            .unwrap();
        assert!(s.record_derivation(&d(&[], "out/3", NOW)).is_err());
        let up = s.derivations_producing("out/1").unwrap();
        assert_eq!(up, vec![Derivation { id: id1, ..first }]);
        assert_eq!(up[0].inputs, ["src/b", "src/a"], "inputs keep their order");
        let down = s.derivations_reading("src/a").unwrap();
        assert_eq!(down.iter().map(|x| x.id).collect::<Vec<_>>(), [id1]);
        assert_eq!(s.derivations_reading("out/1").unwrap()[0].id, id2);
        assert!(s.derivations_producing("src/a").unwrap().is_empty());
        let recent = s.recent_derivations(1).unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].id, id2);
        // Only those registered by hand for the department are counted as registered.
        assert_eq!(s.count_registered_derivations("P").unwrap(), 0);
        s.record_derivation(&Derivation {
            automatic: false,
            ..d(&["src/a"], "report", NOW)
        })
        .unwrap();
        assert_eq!(s.count_registered_derivations("P").unwrap(), 1);
        assert_eq!(s.count_registered_derivations("Q").unwrap(), 0);
    }

    pub fn a_temporary_links_one_destruction(f: &Fixture) {
        let s = &*f.store;
        seed(s);
        let t = Temporary {
            id: 0,
            node: "n1".into(),
            path: "/data/files/tmp/out.csv".into(),
            department: "P".into(),
            origin_kind: "job".into(),
            origin_id: 7,
            created_at: NOW,
            expires_at: NOW + DAY,
            destruction_id: None,
        };
        let id = s.record_temporary(&t).unwrap();
        assert_eq!(
            s.temporaries().unwrap(),
            vec![Temporary { id, ..t.clone() }]
        );
        let destruction = |key: &str| Destruction {
            id: 0,
            target: "{}".into(),
            target_key: key.into(),
            hold_keys: vec![],
            department: Some("P".into()),
            label: "文件".into(),
            method: "delete_file".into(),
            reason: "到期".into(),
            status: DestructionStatus::Pending,
            requested_by: "system".into(),
            requested_at: NOW,
            matched: None,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            executed_by: None,
            executed_at: None,
            outcome: None,
            certificate: None,
        };
        let d1 = s.create_destruction(&destruction("file:n1:a")).unwrap();
        let d2 = s.create_destruction(&destruction("file:n1:b")).unwrap();
        assert!(s.link_temporary_destruction(id, d1).unwrap());
        assert!(
            !s.link_temporary_destruction(id, d2).unwrap(),
            "the first link stands"
        );
        assert_eq!(s.temporaries().unwrap()[0].destruction_id, Some(d1));
    }
}
