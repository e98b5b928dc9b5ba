//! A department's records built step by step in an in-memory source: each control moves
//! from 无证据 (the platform keeps no such records) to 不符合 (records kept, the duty not
//! met) to 符合 as the evidence appears — and the reasons cite the records.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use shuan_access::{DataScope, Grant, Role};
use shuan_comply::source::{
    day, AccountRecord, BackupRecord, DocumentRef, GovernanceKind, GovernanceRecord,
    IncidentRecord, InventoryFacts, LedgerFacts, Period, RecordRef,
};
use shuan_comply::{evaluate, ControlKind, ControlResult, MemorySource, Profile, Status};

const DEPT: &str = "44070001";

fn period() -> Period {
    Period::year(2026)
}

fn end() -> i64 {
    period().end
}

fn check(profile: &Profile, src: &MemorySource, control: &str) -> ControlResult {
    let eval = evaluate(profile, src, DEPT, &period()).unwrap();
    eval.result(control)
        .unwrap_or_else(|| panic!("no result for {control}"))
        .clone()
}

fn training(id: &str, at: i64, evaluated: bool) -> GovernanceRecord {
    GovernanceRecord {
        id: id.into(),
        at,
        evaluated,
        open_findings: 0,
    }
}

#[test]
fn yearly_training_moves_from_no_evidence_to_compliant() {
    let jm = Profile::builtin("jm").unwrap();
    let mut src = MemorySource::new();
    let r = check(&jm, &src, "jm-24-training");
    assert_eq!(r.status, Status::NoEvidence, "{}", r.reason);
    assert!(r.reason.contains("未保存"), "{}", r.reason);

    // Training records are now kept, but there are none.
    src.department(DEPT)
        .governance
        .insert(GovernanceKind::Training, vec![]);
    let r = check(&jm, &src, "jm-24-training");
    assert_eq!(r.status, Status::NonCompliant);
    assert!(r.reason.contains("没有数据安全培训记录"), "{}", r.reason);

    // One training, 400 days before the period's end: too old for "每年至少一次".
    src.department(DEPT)
        .governance
        .get_mut(&GovernanceKind::Training)
        .unwrap()
        .push(training("t-2025-old", end() - 400, true));
    let r = check(&jm, &src, "jm-24-training");
    assert_eq!(r.status, Status::NonCompliant);
    assert!(
        r.reason.contains("2025-11-26"),
        "names the last training's day: {}",
        r.reason
    );

    // A training this year, but its effect not evaluated and archived (JM 24).
    src.department(DEPT)
        .governance
        .get_mut(&GovernanceKind::Training)
        .unwrap()
        .push(training("t-2026", end() - 100, false));
    let r = check(&jm, &src, "jm-24-training");
    assert_eq!(r.status, Status::Partial, "{}", r.reason);
    assert_eq!(
        r.records,
        vec![RecordRef::new(
            "training",
            "t-2026",
            "2026-09-22 未评估归档"
        )]
    );

    // Evaluated: compliant.
    src.department(DEPT)
        .governance
        .get_mut(&GovernanceKind::Training)
        .unwrap()[1]
        .evaluated = true;
    let r = check(&jm, &src, "jm-24-training");
    assert_eq!(r.status, Status::Compliant, "{}", r.reason);
    assert!(r.records.is_empty());
}

#[test]
fn each_evidence_control_states_its_status_rule() {
    for p in Profile::builtins().unwrap() {
        for c in &p.controls {
            assert_eq!(
                c.status_rule().is_some(),
                c.kind == ControlKind::Evidence,
                "{}",
                c.id
            );
        }
    }
    let jc = Profile::builtin("jc").unwrap();
    let c = jc
        .controls
        .iter()
        .find(|c| c.id == "jc-17-log-retention")
        .unwrap();
    assert!(c.status_rule().unwrap().contains("min_days"));
}

#[test]
fn log_retention_follows_the_six_months_rule() {
    let jc = Profile::builtin("jc").unwrap();
    let mut src = MemorySource::new();
    assert_eq!(
        check(&jc, &src, "jc-17-log-retention").status,
        Status::NoEvidence
    );

    // Records older than 90 days were removed: only 90 days kept.
    src.department(DEPT).ledger = Some(LedgerFacts {
        records_in_period: 1_000_000,
        oldest_retained: Some(end() - 90),
        complete_from_genesis: false,
        last_verification: None,
    });
    let r = check(&jc, &src, "jc-17-log-retention");
    assert_eq!(r.status, Status::NonCompliant);
    assert!(r.reason.contains("不足 180 天"), "{}", r.reason);

    // The same 90 days, but nothing was ever removed (the platform started 90 days ago).
    src.department(DEPT)
        .ledger
        .as_mut()
        .unwrap()
        .complete_from_genesis = true;
    assert_eq!(
        check(&jc, &src, "jc-17-log-retention").status,
        Status::Compliant
    );

    // Records removed, but what is kept reaches back 200 days.
    let l = src.department(DEPT).ledger.as_mut().unwrap();
    l.complete_from_genesis = false;
    l.oldest_retained = Some(end() - 200);
    assert_eq!(
        check(&jc, &src, "jc-17-log-retention").status,
        Status::Compliant
    );

    // Integrity: never verified is a finding, a failed verification names the record.
    let r = check(&jc, &src, "jc-17-log-integrity");
    assert_eq!(r.status, Status::NonCompliant);
    src.department(DEPT)
        .ledger
        .as_mut()
        .unwrap()
        .last_verification = Some(shuan_comply::source::LedgerVerification {
        at: end() - 3,
        records_checked: 1_000_000,
        first_bad: Some(RecordRef::new("ledger_record", "seq-41807", "哈希不符")),
    });
    let r = check(&jc, &src, "jc-17-log-integrity");
    assert_eq!(r.status, Status::NonCompliant);
    assert!(r.reason.contains("seq-41807"), "{}", r.reason);
    assert_eq!(r.records[0].id, "seq-41807");
    src.department(DEPT)
        .ledger
        .as_mut()
        .unwrap()
        .last_verification
        .as_mut()
        .unwrap()
        .first_bad = None;
    assert_eq!(
        check(&jc, &src, "jc-17-log-integrity").status,
        Status::Compliant
    );
}

#[test]
fn supplementary_incident_report_within_15_days() {
    let xy = Profile::builtin("xy").unwrap();
    let mut src = MemorySource::new();
    assert_eq!(
        check(&xy, &src, "xy-36-incidents").status,
        Status::NoEvidence
    );
    src.department(DEPT).incidents = Some(vec![]);
    let r = check(&xy, &src, "xy-36-incidents");
    assert_eq!(
        r.status,
        Status::NoEvidence,
        "no incident is nothing to check, not 符合"
    );
    assert!(r.reason.contains("无可核查对象"));

    let ended = end() - 30;
    src.department(DEPT).incidents = Some(vec![IncidentRecord {
        id: "inc-7".into(),
        found: ended - 2,
        reported: Some(ended - 2),
        response_ended: Some(ended),
        supplementary_report: None,
    }]);
    let r = check(&xy, &src, "xy-36-incidents");
    assert_eq!(r.status, Status::NonCompliant);
    assert_eq!(r.records[0].id, "inc-7");
    assert!(
        r.records[0].note.contains("15 日内未补充上报"),
        "{}",
        r.records[0].note
    );

    src.department(DEPT).incidents.as_mut().unwrap()[0].supplementary_report = Some(ended + 16);
    assert_eq!(
        check(&xy, &src, "xy-36-incidents").status,
        Status::NonCompliant
    );
    src.department(DEPT).incidents.as_mut().unwrap()[0].supplementary_report = Some(ended + 15);
    assert_eq!(
        check(&xy, &src, "xy-36-incidents").status,
        Status::Compliant
    );
}

fn account(id: &str, roles: &[Role], vendor: bool) -> AccountRecord {
    AccountRecord {
        id: id.into(),
        vendor,
        grants: roles
            .iter()
            .map(|r| Grant {
                role: *r,
                department: DEPT.into(),
                scope: DataScope::OwnDepartment,
            })
            .collect(),
        last_active: Some(end() - 1),
        created: day(2025, 1, 1),
        second_factor: true,
        disabled: false,
    }
}

#[test]
fn separation_of_duties_and_vendor_privileges() {
    let jm = Profile::builtin("jm").unwrap();
    let gz = Profile::builtin("gz").unwrap();
    let mut src = MemorySource::new();
    assert_eq!(
        check(&jm, &src, "jm-15-separation").status,
        Status::NoEvidence
    );

    // Rows as a store could hold them (written before the grant-time check existed).
    src.department(DEPT).accounts = Some(vec![
        account("wang", &[Role::SystemAdmin, Role::Auditor], false),
        account("li", &[Role::DataUser], false),
        account(
            "vendor-ops",
            &[Role::VendorOperator, Role::SecurityAdmin],
            true,
        ),
    ]);
    let r = check(&jm, &src, "jm-15-separation");
    assert_eq!(r.status, Status::NonCompliant);
    assert_eq!(r.records.len(), 1);
    assert_eq!(r.records[0].id, "wang");
    let r = check(&gz, &src, "gz-20-top-privilege");
    assert_eq!(r.status, Status::NonCompliant);
    assert_eq!(r.records[0].id, "vendor-ops");

    // Fixed: three separate administrators; no vendor on top.
    src.department(DEPT).accounts = Some(vec![
        account("wang", &[Role::SystemAdmin], false),
        account("zhao", &[Role::Auditor], false),
        account("li", &[Role::DataUser], false),
        account("vendor-ops", &[Role::VendorOperator], true),
    ]);
    let r = check(&jm, &src, "jm-15-separation");
    assert_eq!(
        r.status,
        Status::Partial,
        "security administrator missing: {}",
        r.reason
    );
    assert!(r.reason.contains("安全管理员"), "{}", r.reason);
    assert_eq!(
        check(&gz, &src, "gz-20-top-privilege").status,
        Status::Compliant
    );
    src.department(DEPT)
        .accounts
        .as_mut()
        .unwrap()
        .push(account("sun", &[Role::SecurityAdmin], false));
    assert_eq!(
        check(&jm, &src, "jm-15-separation").status,
        Status::Compliant
    );

    // A data user with the all-data scope breaks least privilege.
    src.department(DEPT).accounts.as_mut().unwrap()[2].grants[0].scope = DataScope::All;
    let r = check(&jm, &src, "jm-15-least-privilege");
    assert_eq!(r.status, Status::NonCompliant);
    assert_eq!(r.records[0].id, "li/data_user");

    // Idle accounts.
    src.department(DEPT).accounts.as_mut().unwrap()[1].last_active = Some(end() - 120);
    let r = check(&jm, &src, "jm-15-accounts");
    assert_eq!(r.status, Status::NonCompliant);
    assert_eq!(r.records[0].id, "zhao");
}

#[test]
fn backups_and_their_verification() {
    let jc = Profile::builtin("jc").unwrap();
    let mut src = MemorySource::new();
    assert_eq!(check(&jc, &src, "jc-23-backup").status, Status::NoEvidence);
    src.department(DEPT).backups = Some(vec![]);
    assert_eq!(
        check(&jc, &src, "jc-23-backup").status,
        Status::NonCompliant
    );
    src.department(DEPT)
        .backups
        .as_mut()
        .unwrap()
        .push(BackupRecord {
            id: "b1".into(),
            at: end() - 2,
            succeeded: true,
            verified_at: None,
        });
    let r = check(&jc, &src, "jc-23-backup");
    assert_eq!(
        r.status,
        Status::Partial,
        "no test restore yet: {}",
        r.reason
    );
    src.department(DEPT).backups.as_mut().unwrap()[0].verified_at = Some(end() - 1);
    assert_eq!(check(&jc, &src, "jc-23-backup").status, Status::Compliant);
    // A failed backup does not count.
    src.department(DEPT).backups = Some(vec![BackupRecord {
        id: "b2".into(),
        at: end(),
        succeeded: false,
        verified_at: None,
    }]);
    assert_eq!(
        check(&jc, &src, "jc-23-backup").status,
        Status::NonCompliant
    );
}

#[test]
fn manual_controls_show_the_uploaded_documents() {
    let jc = Profile::builtin("jc").unwrap();
    let mut src = MemorySource::new();
    let r = check(&jc, &src, "jc-05-responsible-person");
    assert_eq!(r.status, Status::Manual);
    assert!(
        r.reason.contains("政务数据安全责任人任命或职责分工文件"),
        "{}",
        r.reason
    );
    let mut docs = HashMap::new();
    docs.insert(
        "jc-05-responsible-person".to_string(),
        vec![DocumentRef {
            id: "doc-1".into(),
            title: "关于明确数据安全第一责任人的通知".into(),
            uploaded: end() - 10,
            sm3: "66c7f0f4".into(),
        }],
    );
    src.department(DEPT).documents = Some(docs);
    let r = check(&jc, &src, "jc-05-responsible-person");
    assert_eq!(
        r.status,
        Status::Manual,
        "a person still judges the document"
    );
    assert_eq!(r.records[0].id, "doc-1");
}

#[test]
fn a_department_with_no_records_kept_gets_no_evidence_everywhere() {
    let src = MemorySource::new();
    for p in Profile::builtins().unwrap() {
        let eval = evaluate(&p, &src, DEPT, &period()).unwrap();
        let expected = p
            .controls
            .iter()
            .filter(|c| c.kind != ControlKind::NoRequirement)
            .count();
        assert_eq!(eval.results.len(), expected, "{}", p.id);
        for r in &eval.results {
            let c = p.controls.iter().find(|c| c.id == r.control_id).unwrap();
            let want = match c.kind {
                ControlKind::Manual => Status::Manual,
                _ => Status::NoEvidence,
            };
            assert_eq!(r.status, want, "{}: {}", r.control_id, r.reason);
            assert!(r.records.is_empty() && !r.reason.is_empty());
        }
    }
}

#[test]
fn an_inventory_that_grows_into_compliance() {
    let jm = Profile::builtin("jm").unwrap();
    let mut src = MemorySource::new();
    src.department(DEPT).inventory = Some(InventoryFacts::default());
    let r = check(&jm, &src, "jm-08-inventory");
    assert_eq!(r.status, Status::NonCompliant);
    assert!(r.reason.contains("清单为空"));
    src.department(DEPT).inventory = Some(InventoryFacts {
        datasets: 10,
        datasets_with_owner: 9,
        datasets_without_owner: vec![RecordRef::new("dataset", "ods.persons", "未明确责任人")],
        columns: 10_000,
        columns_graded: 10_000,
        last_consistency_check: Some(end() - 30),
        ..InventoryFacts::default()
    });
    let r = check(&jm, &src, "jm-08-inventory");
    assert_eq!(r.status, Status::Partial);
    assert_eq!(r.records[0].id, "ods.persons");
    assert_eq!(
        check(&jm, &src, "jm-08-consistency").status,
        Status::Compliant
    );
    assert_eq!(check(&jm, &src, "jm-09-grading").status, Status::Compliant);
    src.department(DEPT)
        .inventory
        .as_mut()
        .unwrap()
        .datasets_with_owner = 10;
    assert_eq!(
        check(&jm, &src, "jm-08-inventory").status,
        Status::Compliant
    );
}

proptest! {
    /// The governance rule against a plain oracle: compliant iff some evaluated training
    /// lies within the 365 days before the period's end and every training there is
    /// evaluated; partial if trainings there are not all evaluated; else non-compliant.
    #[test]
    fn training_status_matches_the_rule(records in proptest::collection::vec((-800i64..30, any::<bool>()), 0..6)) {
        let jm = Profile::builtin("jm").unwrap();
        let mut src = MemorySource::new();
        let list: Vec<GovernanceRecord> = records
            .iter()
            .enumerate()
            .map(|(i, (offset, ev))| training(&format!("t{i}"), end() + offset, *ev))
            .collect();
        src.department(DEPT).governance.insert(GovernanceKind::Training, list);
        let in_window: Vec<&(i64, bool)> = records.iter().filter(|(o, _)| *o <= 0 && -*o <= 365).collect();
        let want = if in_window.is_empty() {
            Status::NonCompliant
        } else if in_window.iter().all(|(_, ev)| *ev) {
            Status::Compliant
        } else {
            Status::Partial
        };
        prop_assert_eq!(check(&jm, &src, "jm-24-training").status, want);
    }

    /// Grading coverage with min_share = 1.0: compliant only when every column is graded.
    #[test]
    fn grading_share(columns in 0u64..20_000, graded_pct in 0u64..=100) {
        let jc = Profile::builtin("jc").unwrap();
        let graded = columns * graded_pct / 100;
        let mut src = MemorySource::new();
        src.department(DEPT).inventory = Some(InventoryFacts { columns, columns_graded: graded, ..InventoryFacts::default() });
        let want = if columns == 0 || graded == 0 {
            Status::NonCompliant
        } else if graded == columns {
            Status::Compliant
        } else {
            Status::Partial
        };
        prop_assert_eq!(check(&jc, &src, "jc-16-grading").status, want);
    }

    /// Separation of duties against a plain oracle over random role sets.
    #[test]
    fn separation_matches_an_oracle(role_sets in proptest::collection::vec(proptest::collection::btree_set(0usize..3, 0..3), 0..5)) {
        let admins = [Role::SystemAdmin, Role::SecurityAdmin, Role::Auditor];
        let jm = Profile::builtin("jm").unwrap();
        let mut src = MemorySource::new();
        let accounts: Vec<AccountRecord> = role_sets
            .iter()
            .enumerate()
            .map(|(i, set)| account(&format!("a{i}"), &set.iter().map(|&k| admins[k]).collect::<Vec<_>>(), false))
            .collect();
        src.department(DEPT).accounts = Some(accounts);
        let held: BTreeSet<usize> = role_sets.iter().flatten().copied().collect();
        let want = if role_sets.iter().any(|s| s.len() > 1) {
            Status::NonCompliant
        } else if held.len() < 3 {
            Status::Partial
        } else {
            Status::Compliant
        };
        prop_assert_eq!(check(&jm, &src, "jm-15-separation").status, want);
    }
}
