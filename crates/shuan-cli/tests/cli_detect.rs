//! `shuan detect` and `shuan redact` as the real binary: the JSONL contract (UTF-8 byte
//! offsets of the input), several files, stdin, errors.

#[path = "scan_common.rs"]
mod common;

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn jsonl_offsets_are_utf8_bytes_of_the_input() {
    // Identifiers written straight against Chinese characters (no spaces).
    let text =
        "申请人身份证号11010519491231002X，电话13800138000。\n第二行：订单号2023112212345678901\n";
    let o = with_stdin(&["detect", "-", "--format", "jsonl"], text.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let findings: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let spans: Vec<(String, &str)> = findings
        .iter()
        .map(|f| {
            let (s, e) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            assert!(f["confidence"].as_f64().unwrap() > 0.0);
            assert!(f.get("file").is_none(), "one input: no file key");
            (f["type"].as_str().unwrap().to_string(), &text[s..e])
        })
        .collect();
    assert!(
        spans.contains(&("cn_resident_id".to_string(), "11010519491231002X")),
        "{spans:?}"
    );
    assert!(
        spans.contains(&("cn_mobile".to_string(), "13800138000")),
        "{spans:?}"
    );
    assert!(
        !spans.iter().any(|(_, s)| "2023112212345678901".contains(s)),
        "order number is not cut: {spans:?}"
    );
}

#[test]
fn several_files_name_their_file_and_a_missing_one_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    fs::write(&a, "电话13800138000\n").unwrap();
    // Past the 1 MiB chunk: offsets must stay offsets of the whole file.
    let filler = "这是一段没有任何敏感信息的文字。\n".repeat(40_000);
    fs::write(&b, format!("{filler}身份证号11010519491231002X\n")).unwrap();
    let missing = dir.path().join("missing.txt");
    let o = shuan(
        dir.path(),
        &[
            "detect",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            missing.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.txt"));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let in_b = lines
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with("b.txt") && f["type"] == "cn_resident_id")
        .expect("ID in b.txt");
    assert_eq!(
        in_b["start"].as_u64().unwrap() as usize,
        filler.len() + "身份证号".len()
    );
    assert!(lines
        .iter()
        .any(|f| f["file"].as_str().unwrap().ends_with("a.txt")));
}

#[test]
fn text_output_never_prints_the_value() {
    let o = with_stdin(&["detect"], "身份证号11010519491231002X\n".as_bytes());
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("cn_resident_id"), "{out}");
    assert!(!out.contains("11010519491231002X"), "{out}");
}

#[test]
fn redact_masks_findings_and_keeps_the_rest() {
    let text = "经办人电话13800138000，身份证号11010519491231002X，已办结。\n";
    let o = with_stdin(&["redact"], text.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        !out.contains("13800138000") && !out.contains("11010519491231002X"),
        "{out}"
    );
    assert!(
        out.starts_with("经办人电话") && out.ends_with("已办结。\n"),
        "{out}"
    );
}

#[test]
fn invalid_utf8_is_a_clear_error() {
    let o = with_stdin(&["detect"], b"abc\xff\xfe\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("UTF-8"), "{}", stderr(&o));
}

#[test]
fn help_teaches_with_examples() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["scan", "detect", "redact", "demo", "assets"] {
        let o = shuan(dir.path(), &[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            stdout(&o).contains("Examples:"),
            "{cmd} --help: {}",
            stdout(&o)
        );
    }
}
