//! `shuan comply check` and `shuan report build/verify` as the real binary over a real
//! data directory: the check reads the platform store and exits 0 whatever the statuses,
//! both record themselves in the audit ledger, the report is signed and anchored (its
//! digest in the ledger record the signature names), a flipped byte or another node's key
//! exits 3, and outputs keep to the output rules.

use std::path::Path;
use std::process::Command;

use shuan_access::{DataScope, Grant, Role};
use shuan_store::platform::*;

mod support;

fn shuan(data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A data directory whose platform store has department D1 with its three
/// administrators and one copied audit record from two days ago.
fn platform(data: &Path) {
    std::fs::create_dir_all(data).unwrap();
    let store = sqlite::SqlitePlatform::open(&data.join(PLATFORM_FILE)).unwrap();
    let t = now();
    store
        .create_department(&Department {
            code: "D1".into(),
            name: "测试局".into(),
            parent: None,
            created_at: t,
        })
        .unwrap();
    for (name, role) in [
        ("sys", Role::SystemAdmin),
        ("sec", Role::SecurityAdmin),
        ("aud", Role::Auditor),
    ] {
        store
            .create_user(&User {
                username: name.into(),
                display_name: name.into(),
                department: "D1".into(),
                vendor: false,
                contract_end: None,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                password_changed_at: t,
                must_change_password: false,
                totp: None,
                disabled: false,
                created_at: t,
                last_login_at: Some(t),
            })
            .unwrap();
        store
            .add_grant(
                name,
                &Grant {
                    role,
                    department: "D1".into(),
                    scope: DataScope::OwnDepartment,
                },
                "init",
                t,
            )
            .unwrap();
    }
    store
        .mirror_records(&[MirroredRecord {
            node: "n".into(),
            seq: 1,
            time: t - 2 * 86_400,
            actor: "sys".into(),
            action: "login".into(),
            outcome: "allowed".into(),
            request_id: None,
            record_json: "{}".into(),
        }])
        .unwrap();
}

fn year() -> String {
    shuan_comply::source::format_day(now().div_euclid(86_400))[..4].to_string()
}

#[test]
fn check_reads_the_store_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // No store yet: refused, not an empty platform created.
    let o = shuan(&data, &["comply", "check", "--regulation", "jc"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no platform store"));
    assert!(!data.join(PLATFORM_FILE).exists());

    platform(&data);
    let o = shuan(
        &data,
        &[
            "comply",
            "check",
            "--regulation",
            "jc",
            "--department",
            "D1",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let results = doc["results"].as_array().unwrap();
    let status = |id: &str| {
        results
            .iter()
            .find(|r| r["control_id"] == id)
            .unwrap_or_else(|| panic!("{id}"))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("jc-13-separation"), "compliant");
    // Kept nowhere on the platform: no evidence, never a guess.
    assert_eq!(status("jc-12-vendor-supervision"), "no_evidence");
    // Two days of audit records are not six months.
    assert_eq!(status("jc-17-log-retention"), "non_compliant");
    let non = doc["summary"]["non_compliant"].as_u64().unwrap();
    assert!(non >= 1);

    // CSV to a file; the same file again needs --force.
    let out = dir.path().join("jc.csv");
    let out_s = out.to_str().unwrap();
    let args = [
        "comply",
        "check",
        "--regulation",
        "jc",
        "--format",
        "csv",
        "--out",
        out_s,
    ];
    let o = shuan(&data, &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("control,article,clause,evidence_query,status"));
    assert!(csv.contains("jc-13-separation,13,,separation_of_duties,compliant,符合"));
    let o = shuan(&data, &args);
    assert_eq!(o.status.code(), Some(1));
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(shuan(&data, &forced).status.code(), Some(0));

    // Unknown department: failed, and recorded as such.
    let o = shuan(
        &data,
        &[
            "comply",
            "check",
            "--regulation",
            "jc",
            "--department",
            "NOPE",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    // Usage errors.
    assert_eq!(shuan(&data, &["comply", "check"]).status.code(), Some(2));
    let o = shuan(
        &data,
        &["comply", "check", "--regulation", "jc", "--period", "26"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--period"));

    let records = support::audit_records(&data);
    let checks: Vec<_> = records
        .iter()
        .filter(|r| r["action"] == "comply.check")
        .collect();
    // Every run that got past the command line is recorded: 3 done, and 4 refused (no
    // store, an existing --out, an unknown department, a bad period) with outcome error.
    assert_eq!(checks.len(), 7, "{checks:#?}");
    let ok: Vec<_> = checks
        .iter()
        .filter(|r| r["outcome"] == "allowed")
        .collect();
    assert_eq!(ok.len(), 3);
    // The current year is evaluated up to today.
    let today = shuan_comply::source::format_day(now().div_euclid(86_400));
    assert_eq!(ok[0]["object"], format!("jc:D1:{}-01-01—{today}", year()));
    assert_eq!(ok[0]["details"]["non_compliant"], non);
}

#[test]
fn report_is_signed_anchored_and_tamper_evident() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    platform(&data);
    let out = dir.path().join("jc.html");
    let out_s = out.to_str().unwrap();
    let build = [
        "report",
        "build",
        "--regulation",
        "jc",
        "--department",
        "D1",
        "--period",
        &year(),
        "--out",
        out_s,
    ];
    let o = shuan(&data, &build);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let html = std::fs::read(&out).unwrap();
    let page = String::from_utf8(html.clone()).unwrap();
    assert!(page.contains("晋城数据安全自查报告") || page.contains("数据安全自查报告"));
    assert!(page.contains("jc-13-separation"));
    assert_eq!(
        page.matches("<svg").count(),
        3,
        "status, audit and alert charts; no inventory kept"
    );

    let sig_path = dir.path().join("jc.html.sig");
    let sig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sig_path).unwrap()).unwrap();
    assert_eq!(sig["format"], "shuan-report-sig/1");
    assert_eq!(sig["sm3"], shuan_report::digest(&html));
    // The ledger record the signature names holds the same digest.
    let records = support::audit_records(&data);
    let seq = sig["ledger"]["seq"].as_u64().unwrap();
    let anchor = records
        .iter()
        .find(|r| r["seq"] == seq)
        .expect("the anchoring record");
    assert_eq!(anchor["action"], "report.build");
    assert_eq!(anchor["details"]["sm3"], sig["sm3"]);

    // Valid, with the embedded key and with the node's key.
    let o = shuan(&data, &["report", "verify", out_s]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(text(&o.stdout).contains("ledger record matches"));
    let pubkey = data.join("keys").join("node-sm2.pub.pem");
    let o = shuan(
        &data,
        &[
            "report",
            "verify",
            out_s,
            "--public-key",
            pubkey.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // Checked elsewhere (another data directory): the ledger is not this node's.
    let elsewhere = dir.path().join("other");
    let o = shuan(&elsewhere, &["report", "verify", out_s, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true);

    // Another node's key: invalid.
    let other_key = dir.path().join("other.pub.pem");
    std::fs::write(
        &other_key,
        shuan_crypto::sm2::SigningKey::generate()
            .verifying_key()
            .to_public_key_pem(),
    )
    .unwrap();
    let o = shuan(
        &data,
        &[
            "report",
            "verify",
            out_s,
            "--public-key",
            other_key.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stdout));

    // One byte flipped: invalid, exit 3.
    let mut tampered = html.clone();
    let at = page.find("jc-13-separation").unwrap();
    tampered[at] ^= 0x01;
    std::fs::write(&out, &tampered).unwrap();
    let o = shuan(&data, &["report", "verify", out_s]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("INVALID"));
    std::fs::write(&out, &html).unwrap();

    // The same --out again needs --force, and a missing signature is a failure (1).
    assert_eq!(shuan(&data, &build).status.code(), Some(1));
    let mut forced = build.to_vec();
    forced.push("--force");
    let o = shuan(&data, &forced);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    std::fs::remove_file(&sig_path).unwrap();
    assert_eq!(
        shuan(&data, &["report", "verify", out_s]).status.code(),
        Some(1)
    );
    // Never into the data directory.
    let inside = data.join("r.html");
    let o = shuan(
        &data,
        &[
            "report",
            "build",
            "--regulation",
            "jc",
            "--out",
            inside.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!inside.exists());
    assert!(support::temporaries(dir.path()).is_empty());
}

/// `comply diff` agrees with two `comply check` runs, control by control; a report built
/// with `--compare` carries the same counts and lists the department's rectification
/// items with their state.
#[test]
fn diff_agrees_with_two_checks_and_the_report_lists_rectification() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    platform(&data);
    let t = now();
    let store = sqlite::SqlitePlatform::open(&data.join(PLATFORM_FILE)).unwrap();
    let item = |finding: &str, due_at: UnixTime| Rectification {
        id: 0,
        origin_kind: String::new(),
        origin_id: 0,
        department: String::new(),
        finding: finding.into(),
        severity: "high".into(),
        owner: "sec".into(),
        due_at,
        closed_at: None,
        closed_by: None,
        evidence: None,
        created_at: t - 86_400,
    };
    store
        .create_risk_assessment(&RiskAssessment {
            id: 0,
            kind: "data_security".into(),
            title: "年度数据安全风险评估".into(),
            scope: "全部系统".into(),
            department: "D1".into(),
            assessor: "本部门".into(),
            assessed_at: t - 86_400,
            conclusion: "存在两项问题".into(),
            findings: vec![
                item("日志留存不足六个月", t - 2 * 86_400),
                item("未开展年度培训", t + 90 * 86_400),
            ],
            created_by: "sec".into(),
            created_at: t - 86_400,
        })
        .unwrap();
    // Two alerts of D1 in the period and one of another department: the report counts two.
    for (key, department) in [("a", "D1"), ("b", "D1"), ("c", "D2")] {
        store
            .insert_alert(&StoredAlert {
                id: 0,
                key: key.into(),
                rule: "off_hours".into(),
                label: "非工作时间调用".into(),
                severity: "medium".into(),
                actor: "sys".into(),
                department: Some(department.into()),
                window_start: t - 7_200,
                window_end: t - 3_600,
                fired_at: t - 3_600,
                summary_zh: "测试".into(),
                summary_en: "test".into(),
                evidence: Vec::new(),
                evidence_count: 1,
                status: AlertStatus::Open,
                handled_by: None,
                note: None,
                updated_at: t - 3_600,
            })
            .unwrap();
    }
    drop(store);
    let this_year = year();
    let last_year = (this_year.parse::<i64>().unwrap() - 1).to_string();

    let statuses = |period: &str| -> Vec<(String, String)> {
        let o = shuan(
            &data,
            &[
                "comply",
                "check",
                "--regulation",
                "jc",
                "--period",
                period,
                "--format",
                "json",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["control_id"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let before = statuses(&last_year);
    let after = statuses(&this_year);

    let o = shuan(
        &data,
        &[
            "comply",
            "diff",
            "--regulation",
            "jc",
            "--period",
            &this_year,
            "--against",
            &last_year,
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let controls = doc["controls"].as_array().unwrap();
    assert_eq!(controls.len(), after.len());
    let rank = |s: &str| match s {
        "compliant" => Some(2),
        "partial" => Some(1),
        "non_compliant" | "no_evidence" => Some(0),
        _ => None,
    };
    let mut moved = 0;
    for ((id, was), (id2, now_is)) in before.iter().zip(&after) {
        assert_eq!(id, id2);
        let c = controls.iter().find(|c| c["control_id"] == *id).unwrap();
        assert_eq!(c["before"], *was, "{id}");
        assert_eq!(c["after"], *now_is, "{id}");
        let want = if was == now_is {
            "unchanged"
        } else {
            match (rank(was), rank(now_is)) {
                (Some(a), Some(b)) if b > a => "improved",
                (Some(a), Some(b)) if b < a => "regressed",
                _ => "changed",
            }
        };
        assert_eq!(c["change"], want, "{id}: {was} → {now_is}");
        if was != now_is {
            moved += 1;
        }
    }
    // The assessment recorded this year moves the risk-assessment control.
    assert!(
        moved >= 1,
        "nothing moved between {last_year} and {this_year}"
    );
    let unchanged = doc["summary"]["unchanged"].as_u64().unwrap() as usize;
    assert_eq!(unchanged, after.len() - moved);
    // An earlier period that is not earlier: refused, naming the option.
    let o = shuan(
        &data,
        &[
            "comply",
            "diff",
            "--regulation",
            "jc",
            "--period",
            &last_year,
            "--against",
            &this_year,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--against"), "{}", text(&o.stderr));

    // The report with the comparison and the two items.
    let out = dir.path().join("jc.html");
    let o = shuan(
        &data,
        &[
            "report",
            "build",
            "--regulation",
            "jc",
            "--period",
            &this_year,
            "--compare",
            &last_year,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(page.contains("与上期对比"));
    assert!(
        page.contains(&format!("未变 {unchanged} 项")),
        "counts differ from comply diff"
    );
    assert!(page.contains("日志留存不足六个月"));
    assert!(
        page.contains("已整改 0 项，逾期整改 0 项，整改中 1 项，逾期未整改 1 项"),
        "one item past due, one not yet due"
    );
    assert!(page.contains("风险评估 #"));
    assert!(page.contains("本期本部门告警共 2 条"), "alerts of D1 only");
    // Still a valid signed report, and its record names the compared period.
    let o = shuan(&data, &["report", "verify", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let records = support::audit_records(&data);
    let built = records
        .iter()
        .rfind(|r| r["action"] == "report.build" && r["outcome"] == "allowed")
        .unwrap();
    assert!(built["details"]["compared_with"]
        .as_str()
        .unwrap()
        .starts_with(&last_year));
    assert!(records
        .iter()
        .any(|r| r["action"] == "comply.diff" && r["outcome"] == "allowed"));
}
