//! A department's records built step by step on a real platform store (SQLite in a
//! temporary directory; PostgreSQL in a schema of its own when SHUAN_TEST_POSTGRES is set)
//! and a real data directory (inventory, ledger, backup log), evaluated against the 晋城
//! profile after each step: controls move 无证据 → 不符合 → 符合 as evidence appears, and
//! only then.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use shuan_access::{DataScope, Grant, Role};
use shuan_comply::{evaluate, Period, Profile, Status};
use shuan_evidence::{LedgerCheck, PlatformEvidence};
use shuan_store::platform::*;

const DEPT: &str = "D1";
const OTHER: &str = "R9";

/// Unix time of a day of 2026, noon UTC.
fn t(month: u32, day: u32) -> UnixTime {
    shuan_comply::source::day(2026, month, day) * 86_400 + 12 * 3_600
}

fn period() -> Period {
    Period::year(2026)
}

fn status(store: &dyn PlatformStore, data_dir: &Path, check: LedgerCheck, control: &str) -> Status {
    let profile = Profile::load("jc").unwrap();
    let today = shuan_comply::source::day(2026, 12, 31);
    let src = PlatformEvidence::new(store, data_dir, check, today);
    let e = evaluate(&profile, &src, DEPT, &period()).unwrap();
    let r = e
        .result(control)
        .unwrap_or_else(|| panic!("jc has no control {control}"));
    r.status
}

fn user(name: &str, last_login: Option<UnixTime>) -> User {
    User {
        username: name.into(),
        display_name: name.into(),
        department: DEPT.into(),
        vendor: false,
        contract_end: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        password_changed_at: t(1, 2),
        must_change_password: false,
        totp: None,
        disabled: false,
        created_at: t(1, 2),
        last_login_at: last_login,
    }
}

fn grant(role: Role) -> Grant {
    Grant {
        role,
        department: DEPT.into(),
        scope: DataScope::OwnDepartment,
    }
}

fn mirrored(seq: u64, time: UnixTime, action: &str, details: serde_json::Value) -> MirroredRecord {
    let json = serde_json::json!({
        "seq": seq, "action": action, "object": "x", "outcome": "allowed",
        "actor": {"id": "svc", "kind": "system"}, "details": details,
    });
    MirroredRecord {
        node: "node-a".into(),
        seq,
        time,
        actor: "svc".into(),
        action: action.into(),
        outcome: "allowed".into(),
        request_id: None,
        record_json: json.to_string(),
    }
}

fn request(safeguards: Option<&str>) -> ShareRequest {
    ShareRequest {
        id: 0,
        resource: "RES1".into(),
        requester: "user9".into(),
        department: OTHER.into(),
        provider: DEPT.into(),
        fields: vec!["sfzh".into()],
        row_filter: serde_json::Value::Null,
        purpose: "低保资格核验".into(),
        scenario: "sharing".into(),
        basis: "《社会救助暂行办法》第十一条".into(),
        safeguards: safeguards.map(String::from),
        valid_days: 365,
        steps: vec!["review".into()],
        next_step: 0,
        status: ShareStatus::Pending,
        created_at: t(1, 5),
        deadline: None,
        decided_at: None,
        reason: None,
        agreement_id: None,
    }
}

fn agreement(store: &dyn PlatformStore, safeguards: Option<&str>, from: UnixTime) -> Agreement {
    let id = store.create_share_request(&request(safeguards)).unwrap();
    let terms = AgreementTerms {
        method: "interface".into(),
        valid_from: from,
        valid_until: from + 200 * 86_400,
        rate_per_minute: 60,
        rows_per_day: 1_000,
    };
    let (_, a) = store
        .decide_share_request(id, "review", true, "reviewer", None, from, &terms)
        .unwrap();
    a.expect("the last step's approval makes the agreement")
}

fn seed_sharing(store: &dyn PlatformStore) {
    store
        .create_department(&Department {
            code: OTHER.into(),
            name: "使用部门".into(),
            parent: None,
            created_at: t(1, 1),
        })
        .unwrap();
    let source = store
        .create_source(&ShareSource {
            id: 0,
            name: "hr".into(),
            department: DEPT.into(),
            kind: "postgres".into(),
            display: "postgres://reader@db.internal/hr".into(),
            url_sealed: vec![1, 2, 3],
            profile: "gbt43697".into(),
            created_by: "steward".into(),
            created_at: t(1, 3),
            scanned_at: None,
        })
        .unwrap();
    store
        .add_catalogue_entries(
            source,
            t(1, 4),
            &[CatalogueEntry {
                code: "RES1".into(),
                source_id: source,
                locator: "public.persons".into(),
                name: "persons".into(),
                title: "人口基本信息".into(),
                department: DEPT.into(),
                summary: "户籍人口".into(),
                format: "数据库表".into(),
                fields: vec![CatalogueField {
                    name: "sfzh".into(),
                    declared_type: Some("text".into()),
                    data_type: Some("cn_resident_id".into()),
                    label: Some("居民身份证号".into()),
                    category: Some("pi_identity".into()),
                    level: "一般数据4级".into(),
                    level_rank: 3,
                    personal: true,
                }],
                profile: "gbt43697".into(),
                level: "一般数据4级".into(),
                level_rank: 3,
                important: false,
                personal: true,
                share_type: "conditional".into(),
                share_conditions: Some("按职责申请".into()),
                share_basis: None,
                open_type: "none".into(),
                open_conditions: None,
                share_method: "interface".into(),
                update_cycle: "每日".into(),
                row_count: Some(10),
                published_at: t(1, 4),
                updated_at: t(1, 4),
                updated_by: "steward".into(),
                version: 1,
            }],
        )
        .unwrap();
}

fn department_records_move_the_findings(store: &dyn PlatformStore) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let skip = || LedgerCheck::Skip;
    store
        .create_department(&Department {
            code: DEPT.into(),
            name: "测试局".into(),
            parent: None,
            created_at: t(1, 1),
        })
        .unwrap();

    // Nothing kept yet: no audit copy, no agreements, no inventory, no backup log.
    for c in [
        "jc-17-log-retention",
        "jc-27-agreements",
        "jc-24-via-platform",
        "jc-16-grading",
        "jc-23-backup",
        "jc-11-national-crypto",
    ] {
        assert_eq!(status(store, data, skip(), c), Status::NoEvidence, "{c}");
    }
    // Records the platform never keeps stay 无证据 whatever else appears.
    assert_eq!(
        status(store, data, skip(), "jc-12-vendor-supervision"),
        Status::NoEvidence
    );

    // Accounts: kept, none yet → the three administrators are not set.
    assert_eq!(
        status(store, data, skip(), "jc-13-separation"),
        Status::Partial
    );
    for (name, role) in [
        ("sys", Role::SystemAdmin),
        ("sec", Role::SecurityAdmin),
        ("aud", Role::Auditor),
    ] {
        store.create_user(&user(name, Some(t(12, 1)))).unwrap();
        store
            .add_grant(name, &grant(role), "init", t(1, 2))
            .unwrap();
    }
    assert_eq!(
        status(store, data, skip(), "jc-13-separation"),
        Status::Compliant
    );
    // An account last used in March is idle at the end of the year (90 days) …
    store.create_user(&user("idle", Some(t(3, 1)))).unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-14-idle-accounts"),
        Status::NonCompliant
    );
    // … until it is disabled.
    store
        .update_user(
            "idle",
            &UserUpdate {
                disabled: Some(true),
                ..UserUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-14-idle-accounts"),
        Status::Compliant
    );

    // Audit retention from the oldest copied record: since October is 91 days, too short;
    // a record from February makes it over 180.
    store
        .mirror_records(&[mirrored(10, t(10, 1), "login", serde_json::json!({}))])
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-17-log-retention"),
        Status::NonCompliant
    );
    store
        .mirror_records(&[mirrored(1, t(2, 1), "login", serde_json::json!({}))])
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-17-log-retention"),
        Status::Compliant
    );

    // Ledger integrity: never verified → 不符合; this node's ledger verified now → 符合.
    assert_eq!(
        status(store, data, skip(), "jc-17-log-integrity"),
        Status::NonCompliant
    );
    let key = shuan_crypto::node::load_or_create_node_key(data).unwrap();
    let ledger_dir = shuan_ledger::default_dir(data);
    let ledger = shuan_ledger::Ledger::open(&ledger_dir, key).unwrap();
    ledger
        .append(&shuan_ledger::Event {
            time: None,
            actor: shuan_ledger::Actor {
                id: "tester".into(),
                kind: shuan_ledger::ActorKind::User,
                department: None,
                role: None,
            },
            action: "comply.check".into(),
            object: "jc".into(),
            purpose: None,
            outcome: shuan_ledger::Outcome::Allowed,
            client: None,
            request_id: None,
            details: Default::default(),
        })
        .unwrap();
    ledger.close().unwrap();
    let verify = || LedgerCheck::Verify {
        dir: ledger_dir.clone(),
    };
    assert_eq!(
        status(store, data, verify(), "jc-17-log-integrity"),
        Status::Compliant
    );

    // Sharing: an agreement without safeguards → 不符合; once it is cut short before the
    // period and a complete one replaces it → 符合.
    seed_sharing(store);
    let first = agreement(store, None, t(1, 10) - 100 * 86_400);
    assert_eq!(
        status(store, data, skip(), "jc-27-agreements"),
        Status::NonCompliant
    );
    store
        .shorten_agreement(first.id, first.valid_from + 86_400, "steward", t(1, 10))
        .unwrap();
    let second = agreement(store, Some("专人专机、日志留存"), t(2, 1));
    assert_eq!(
        status(store, data, skip(), "jc-27-agreements"),
        Status::Compliant
    );

    // Deliveries: none yet → 无证据; one answered call inside the agreement's period → 符合;
    // one answered after it ended → 不符合.
    assert_eq!(
        status(store, data, skip(), "jc-24-via-platform"),
        Status::NoEvidence
    );
    store
        .mirror_records(&[mirrored(
            20,
            t(3, 1),
            shuan_evidence::SERVICE_CALL_ACTION,
            serde_json::json!({"agreement": second.id, "rows": 3}),
        )])
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-24-via-platform"),
        Status::Compliant
    );
    store
        .mirror_records(&[mirrored(
            21,
            second.valid_until + 3_600,
            shuan_evidence::SERVICE_CALL_ACTION,
            serde_json::json!({"agreement": second.id, "rows": 1}),
        )])
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-24-via-platform"),
        Status::NonCompliant
    );

    // Inventory: a saved scan with every column graded → 符合.
    let mut inv = shuan_store::Store::open(data).unwrap();
    inv.record_scan(&shuan_store::ScanRecord {
        source: "postgres://reader@db.internal/hr".into(),
        profile: "gbt43697".into(),
        sample_size: 100,
        tables: vec![shuan_store::TableRecord {
            name: "persons".into(),
            rows_scanned: 10,
            row_count: Some(10),
            level: "一般数据4级".into(),
            level_rank: 3,
            catalogue: false,
            reason: "含居民身份证号".into(),
            columns: vec![shuan_store::ColumnRecord {
                name: "sfzh".into(),
                declared_type: Some("text".into()),
                data_type: Some("cn_resident_id".into()),
                label: Some("居民身份证号".into()),
                category: Some("pi_identity".into()),
                level: "一般数据4级".into(),
                level_rank: 3,
                confidence: 0.99,
                reason: "校验位".into(),
                values_seen: 10,
                values_matched: 10,
            }],
        }],
    })
    .unwrap();
    drop(inv);
    assert_eq!(
        status(store, data, skip(), "jc-16-grading"),
        Status::Compliant
    );

    // Backups: a backup in December with no restore test → 部分符合; verified → 符合.
    let backup = |action: &str, time: &str| shuan_crypto::backup::BackupRecord {
        action: action.into(),
        time: time.into(),
        archive: "/backups/node.tar.sm4".into(),
        directory: None,
        files: Some(3),
        bytes: 1_000,
        key_id: "backup".into(),
        key_version: 1,
        archive_sm3: "ab".repeat(32),
        signer: "cd".repeat(32),
        result: "ok".into(),
    };
    shuan_crypto::backup::append_log(data, &backup("create", "2026-12-28T02:00:00Z")).unwrap();
    assert_eq!(status(store, data, skip(), "jc-23-backup"), Status::Partial);
    shuan_crypto::backup::append_log(data, &backup("verify", "2026-12-29T02:00:00Z")).unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-23-backup"),
        Status::Compliant
    );

    // Governance records are kept: none in the year → 不符合.
    for c in ["jc-09-training", "jc-09-drill", "jc-09-risk-assessment"] {
        assert_eq!(status(store, data, skip(), c), Status::NonCompliant, "{c}");
    }
    // A training with its evaluations → 符合.
    store
        .create_training_session(&TrainingSession {
            id: 0,
            title: "年度培训".into(),
            topic: "分类分级".into(),
            department: DEPT.into(),
            held_at: t(6, 1),
            trainer: "王老师".into(),
            attendees: vec![Attendance {
                username: "sec".into(),
                score: Some(90),
                passed: true,
            }],
            created_by: "sec".into(),
            created_at: t(6, 1),
        })
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-09-training"),
        Status::Compliant
    );
    // A drill whose finding is still open → 部分符合; the finding closed → 符合.
    let plan = store
        .create_emergency_plan(&EmergencyPlan {
            id: 0,
            title: "应急预案".into(),
            scope: "数据泄露".into(),
            department: DEPT.into(),
            version: "1".into(),
            summary: "流程".into(),
            drill_interval_days: 365,
            adopted_at: t(1, 5),
            last_drill_at: None,
            created_by: "sec".into(),
            created_at: t(1, 5),
        })
        .unwrap();
    store
        .create_emergency_drill(&EmergencyDrill {
            id: 0,
            plan_id: plan,
            department: String::new(),
            held_at: t(9, 1),
            scenario: "勒索".into(),
            form: "tabletop".into(),
            participants: vec!["张三".into()],
            evaluation: "及时".into(),
            lessons: "细化".into(),
            findings: vec![Rectification {
                id: 0,
                origin_kind: String::new(),
                origin_id: 0,
                department: String::new(),
                finding: "手册缺页".into(),
                severity: "low".into(),
                owner: "sec".into(),
                due_at: t(10, 1),
                closed_at: None,
                closed_by: None,
                evidence: None,
                created_at: t(9, 1),
            }],
            created_by: "sec".into(),
            created_at: t(9, 1),
        })
        .unwrap();
    assert_eq!(status(store, data, skip(), "jc-09-drill"), Status::Partial);
    let item = store.rectifications().unwrap()[0].id;
    store
        .close_rectification(item, "sec", t(9, 20), "已补齐")
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-09-drill"),
        Status::Compliant
    );
    // An assessment of another kind does not answer the risk-assessment control.
    let assessment = |kind: &str| RiskAssessment {
        id: 0,
        kind: kind.into(),
        title: "评估".into(),
        scope: "系统".into(),
        department: DEPT.into(),
        assessor: "自评".into(),
        assessed_at: t(11, 1),
        conclusion: "风险可控".into(),
        findings: vec![],
        created_by: "sec".into(),
        created_at: t(11, 1),
    };
    store
        .create_risk_assessment(&assessment("vulnerability_scan"))
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-09-risk-assessment"),
        Status::NonCompliant
    );
    store
        .create_risk_assessment(&assessment("data_security"))
        .unwrap();
    assert_eq!(
        status(store, data, skip(), "jc-09-risk-assessment"),
        Status::Compliant
    );

    // Temporary data (the jm profile: 30 days): none → 无证据; one held since March → 不符合;
    // its destruction executed in April → 符合.
    let jm = |store: &dyn PlatformStore| {
        let profile = Profile::load("jm").unwrap();
        let today = shuan_comply::source::day(2026, 12, 31);
        let src = PlatformEvidence::new(store, data, skip(), today);
        let e = evaluate(&profile, &src, DEPT, &period()).unwrap();
        e.result("jm-17-temporary").unwrap().status
    };
    assert_eq!(jm(store), Status::NoEvidence);
    let temp = store
        .record_temporary(&Temporary {
            id: 0,
            node: "n1".into(),
            path: "/data/files/tmp/extract.csv".into(),
            department: DEPT.into(),
            origin_kind: "job".into(),
            origin_id: 1,
            created_at: t(3, 1),
            expires_at: t(3, 15),
            destruction_id: None,
        })
        .unwrap();
    assert_eq!(jm(store), Status::NonCompliant);
    let d = store
        .create_destruction(&Destruction {
            id: 0,
            target: "{}".into(),
            target_key: "file:n1:/data/files/tmp/extract.csv".into(),
            hold_keys: vec![],
            department: Some(DEPT.into()),
            label: "文件".into(),
            method: "delete_file".into(),
            reason: "到期".into(),
            status: DestructionStatus::Pending,
            requested_by: "system".into(),
            requested_at: t(3, 16),
            matched: None,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            executed_by: None,
            executed_at: None,
            outcome: None,
            certificate: None,
        })
        .unwrap();
    store.link_temporary_destruction(temp, d).unwrap();
    store
        .decide_destruction(d, true, "cdo", None, t(3, 20))
        .unwrap();
    assert_eq!(jm(store), Status::NonCompliant, "approved is not removed");
    store.begin_destruction(d, "sec", t(3, 25)).unwrap();
    store
        .finish_destruction(d, true, "{}", Some("{}"), t(3, 25))
        .unwrap();
    assert_eq!(jm(store), Status::Compliant);
}

#[test]
fn sqlite_department_records_move_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite::SqlitePlatform::open(&dir.path().join(PLATFORM_FILE)).unwrap();
    department_records_move_the_findings(&store);
}

static NEXT: AtomicU64 = AtomicU64::new(0);

#[test]
#[cfg_attr(not(shuan_test_postgres), ignore = "needs SHUAN_TEST_POSTGRES")]
fn postgres_department_records_move_the_findings() {
    let base = std::env::var("SHUAN_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("SHUAN_TEST_POSTGRES was set when this test was built; set it again");
    let schema = format!(
        "ev_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = ::postgres::Client::connect(&base, ::postgres::NoTls)
        .expect("SHUAN_TEST_POSTGRES is set but the server cannot be reached");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    let result = std::panic::catch_unwind(|| {
        let store = postgres::PgPlatform::connect_with_pool_size(&url, 2).unwrap();
        department_records_move_the_findings(&store);
    });
    let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
