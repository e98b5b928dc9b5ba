//! `shuan quality check` as the real binary on a CSV file with planted bad rows: the
//! counts per rule, masked samples keyed by the key column (no planted id number appears
//! whole in any format), exit 3 when rows break a rule and 0 when none does, the check in
//! the ledger with its counts, and a bad rules file or a missing column exiting 1 with a
//! message naming it, nothing written to --out.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const GOOD_ID: &str = "11010519491231002X";
const BAD_ID: &str = "110105194912310021";

fn shuan(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_csv_table_is_checked_masked_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let people = write(
        dir.path(),
        "people.csv",
        &format!("编号,身份证号,年龄\n1,{GOOD_ID},30\n2,{BAD_ID},40\n3,,50\n3,{GOOD_ID},400\n"),
    );
    let rules = write(
        dir.path(),
        "rules.json",
        r#"[{"column": "身份证号", "check": {"kind": "not_null"}},
            {"column": "身份证号", "check": {"kind": "identifier", "data_type": "cn_resident_id"}},
            {"column": "年龄", "check": {"kind": "range", "min": 0, "max": 150}},
            {"column": "编号", "check": {"kind": "unique"}}]"#,
    );
    let p = people.to_str().unwrap();
    let r = rules.to_str().unwrap();
    let o = shuan(
        &data,
        &[
            "quality", "check", p, "--table", "people", "--rules", r, "--key", "编号", "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rows_checked"], 4);
    let counts: Vec<i64> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["violations"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, vec![1, 1, 1, 1]);
    assert_eq!(report["results"][1]["samples"][0]["key"], "2");
    for format in ["json", "table", "csv"] {
        let o = shuan(
            &data,
            &[
                "quality", "check", p, "--table", "people", "--rules", r, "--format", format,
            ],
        );
        assert_eq!(o.status.code(), Some(3));
        let out = stdout(&o);
        assert!(!out.contains(BAD_ID), "{format}: {out}");
        assert!(!out.contains(GOOD_ID), "{format}: {out}");
    }
    // The check is in the ledger, with its counts.
    let o = shuan(
        &data,
        &[
            "audit",
            "query",
            "--action",
            "quality_check",
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("people.csv#people"), "{text}");
    assert!(
        text.contains("\"violations\":4") || text.contains("\"violations\": 4"),
        "{text}"
    );

    // A clean table passes: exit 0.
    let clean = write(
        dir.path(),
        "clean.csv",
        &format!("编号,身份证号,年龄\n1,{GOOD_ID},30\n"),
    );
    let o = shuan(
        &data,
        &[
            "quality",
            "check",
            clean.to_str().unwrap(),
            "--table",
            "clean",
            "--rules",
            r,
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("通过"), "{}", stdout(&o));
}

#[test]
fn bad_rules_and_missing_columns_fail_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let people = write(dir.path(), "people.csv", "编号,年龄\n1,30\n");
    let p = people.to_str().unwrap();
    let out = dir.path().join("out.json");
    let o_ = out.to_str().unwrap();
    let not_rules = write(dir.path(), "bad.json", r#"{"column": "年龄"}"#);
    let o = shuan(
        &data,
        &[
            "quality",
            "check",
            p,
            "--table",
            "people",
            "--rules",
            not_rules.to_str().unwrap(),
            "--out",
            o_,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.json"), "{}", stderr(&o));
    let bad_regex = write(
        dir.path(),
        "regex.json",
        r#"[{"column": "年龄", "check": {"kind": "pattern", "regex": "("}}]"#,
    );
    let o = shuan(
        &data,
        &[
            "quality",
            "check",
            p,
            "--table",
            "people",
            "--rules",
            bad_regex.to_str().unwrap(),
            "--out",
            o_,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("rules[0].check.regex"),
        "{}",
        stderr(&o)
    );
    let missing = write(
        dir.path(),
        "missing.json",
        r#"[{"column": "身份证号", "check": {"kind": "not_null"}}]"#,
    );
    let o = shuan(
        &data,
        &[
            "quality",
            "check",
            p,
            "--table",
            "people",
            "--rules",
            missing.to_str().unwrap(),
            "--out",
            o_,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("身份证号"), "{}", stderr(&o));
    assert!(
        !out.exists(),
        "nothing is written when the check cannot run"
    );
}
