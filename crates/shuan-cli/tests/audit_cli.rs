//! `shuan audit` end to end: append, count, verify, prove/check-proof with only the
//! public key, consistency, query formats, export, and fail-closed behaviour on a full
//! disk (file-size limit) and a read-only (immutable) ledger.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn shuan(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir").arg(data).env_remove("SHUAN_LOG");
    c
}

fn run_with_stdin(mut c: Command, input: &str) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let t = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    t.join().unwrap();
    out
}

fn events(n: u64, from: u64) -> String {
    (from..from + n)
        .map(|i| {
            format!(
                "{{\"actor\":{{\"kind\":\"{}\",\"id\":\"user{}\",\"department\":\"{}\"}},\"action\":\"{}\",\"object\":\"pg:hr.staff.c{}\",\"outcome\":\"{}\",\"purpose\":\"统计\",\"time\":\"2026-01-{:02}T08:00:00Z\",\"request_id\":\"r{i}\"}}\n",
                if i % 4 == 0 { "system" } else { "user" },
                i % 3,
                if i % 2 == 0 { "民政局" } else { "财政局" },
                if i % 2 == 0 { "export" } else { "read" },
                i % 5,
                if i % 3 == 0 { "denied" } else { "allowed" },
                1 + i % 28,
            )
        })
        .collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn append_count_verify_prove_query_export() {
    let data = tempfile::tempdir().unwrap();
    let mut c = shuan(data.path());
    c.args(["audit", "append", "--progress"]);
    let out = run_with_stdin(c, &events(100, 1));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().any(|l| l == "durable 100"));
    assert_eq!(stdout.lines().last(), Some("100"));
    // Default directory: <data dir>/audit.
    assert!(data.path().join("audit").join("ledger.json").exists());

    let out = shuan(data.path())
        .args(["audit", "count"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "100");

    let out = shuan(data.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("100 records"));

    // Inclusion proof, checked elsewhere with only the public key.
    // Outputs may not go into the data directory: proofs are written beside it.
    let outside = tempfile::tempdir().unwrap();
    let proof = outside.path().join("proof.json");
    let out = shuan(data.path())
        .args(["audit", "prove", "42", "--out"])
        .arg(&proof)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let elsewhere = tempfile::tempdir().unwrap();
    let pubkey = data.path().join("keys").join("node-sm2.pub.pem");
    let out = shuan(elsewhere.path())
        .args(["audit", "check-proof"])
        .arg(&proof)
        .arg("--public-key")
        .arg(&pubkey)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("record 42 is included"));
    assert!(
        !elsewhere.path().join("keys").exists(),
        "check-proof must not create keys"
    );
    let altered = std::fs::read_to_string(&proof)
        .unwrap()
        .replacen("r42", "r43", 1);
    std::fs::write(&proof, altered).unwrap();
    let out = shuan(elsewhere.path())
        .args(["audit", "check-proof"])
        .arg(&proof)
        .arg("--public-key")
        .arg(&pubkey)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    // More records, a checkpoint, then a consistency proof between the two.
    let mut c = shuan(data.path());
    c.args(["audit", "append"]);
    let out = run_with_stdin(c, &events(30, 101));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "130");
    let out = shuan(data.path())
        .args(["audit", "checkpoint"])
        .output()
        .unwrap();
    assert!(text(&out).contains("\"size\":130"), "{}", text(&out));
    let cproof = outside.path().join("consistency.json");
    let out = shuan(data.path())
        .args([
            "audit",
            "consistency",
            "--old",
            "100",
            "--new",
            "130",
            "--out",
        ])
        .arg(&cproof)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = shuan(data.path())
        .args(["audit", "check-proof"])
        .arg(&cproof)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("only grew"));

    // Query: filters and formats.
    let out = shuan(data.path())
        .args([
            "audit",
            "query",
            "--action",
            "export",
            "--outcome",
            "denied",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(
        arr.len(),
        (1..=130).filter(|i| i % 2 == 0 && i % 3 == 0).count()
    );
    assert!(arr
        .iter()
        .all(|r| r["action"] == "export" && r["outcome"] == "denied"));
    let out = shuan(data.path())
        .args([
            "audit",
            "query",
            "--since",
            "2026-01-10",
            "--until",
            "2026-01-11",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("seq,time,"));
    assert_eq!(
        csv.lines().count() - 1,
        (1..=130).filter(|i| 1 + i % 28 == 10).count()
    );
    let out = shuan(data.path())
        .args([
            "audit",
            "query",
            "--actor",
            "user1",
            "--object",
            "pg:hr.staff.c1*",
            "--department",
            "财政局",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let expect = (1..=130)
        .filter(|i| i % 3 == 1 && i % 5 == 1 && i % 2 == 1)
        .count();
    assert!(table.contains(&format!("({expect} records)")), "{table}");
    assert!(table.starts_with("序号 seq"));

    // Export: JSON lines and RFC 5424 syslog.
    let out = shuan(data.path())
        .args(["audit", "export"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 130);
    let out = shuan(data.path())
        .args([
            "audit",
            "export",
            "--format",
            "syslog",
            "--outcome",
            "denied",
        ])
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.lines().all(|l| l.starts_with("<108>1 2026-01-")), "{s}");

    // Bad input: the line number is named, earlier lines are kept.
    let mut c = shuan(data.path());
    c.args(["audit", "append"]);
    let out = run_with_stdin(c, &format!("{}{{\"action\":\"x\"}}\n", events(2, 131)));
    assert!(!out.status.success());
    assert!(text(&out).contains("stdin line 3"), "{}", text(&out));
    let out = shuan(data.path())
        .args(["audit", "count"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "132");

    // Tampering is reported by verify with the record and exit code 2.
    let seg = std::fs::read_dir(data.path().join("audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "log"))
        .unwrap();
    let b = std::fs::read(&seg).unwrap();
    let at = b.windows(4).position(|w| w == b"r77\"").unwrap();
    let mut t = b.clone();
    t[at + 1] = b'8';
    std::fs::write(&seg, &t).unwrap();
    let out = shuan(data.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("record 77:"), "{}", text(&out));
    let out = shuan(data.path())
        .args(["audit", "verify", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["problem"]["seq"], 77);
}

fn count(data: &Path) -> u64 {
    let out = shuan(data).args(["audit", "count"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn disk_full_fails_closed_without_corruption() {
    let data = tempfile::tempdir().unwrap();
    let mut c = shuan(data.path());
    c.args(["audit", "append"]);
    assert!(run_with_stdin(c, &events(10, 1)).status.success());
    // A file-size limit makes writes fail with EFBIG like a full disk (SIGXFSZ ignored so
    // the process sees the error instead of dying).
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 256; exec \"$0\" --data-dir \"$1\" audit append --progress")
        .arg(env!("CARGO_BIN_EXE_shuan"))
        .arg(data.path());
    let out = run_with_stdin(c, &events(20_000, 11));
    assert!(!out.status.success(), "must fail when the disk is full");
    let msg = text(&out);
    assert!(msg.contains("could not store the records durably"), "{msg}");
    assert!(msg.contains("File too large"), "{msg}");
    let acked = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.strip_prefix("durable ")
                .map(|s| s.parse::<u64>().unwrap())
        })
        .max()
        .unwrap_or(10);
    let n = count(data.path());
    assert!(n >= acked, "acknowledged {acked}, present {n}");
    let out = shuan(data.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // With space again, appending continues.
    let mut c = shuan(data.path());
    c.args(["audit", "append"]);
    let out = run_with_stdin(c, &events(5, 1));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(data.path()), n + 5);
}

#[test]
fn read_only_ledger_gives_a_clear_error_and_stays_intact() {
    let data = tempfile::tempdir().unwrap();
    let mut c = shuan(data.path());
    c.args(["audit", "append"]);
    assert!(run_with_stdin(c, &events(10, 1)).status.success());
    let dir = data.path().join("audit");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let root = unsafe_free_is_root();
    let set = |on: bool| {
        if root {
            // Root ignores permission bits; the immutable attribute still applies.
            let st = Command::new("chattr")
                .arg(if on { "+i" } else { "-i" })
                .args(&files)
                .arg(&dir)
                .status()
                .expect("chattr (e2fsprogs) is needed to make files read-only as root");
            assert!(
                st.success(),
                "chattr failed: the file system must support immutable files"
            );
        } else {
            let st = Command::new("chmod")
                .arg(if on { "a-w" } else { "u+w" })
                .args(&files)
                .arg(&dir)
                .status()
                .unwrap();
            assert!(st.success());
        }
    };
    set(true);
    let mut c = shuan(data.path());
    c.args(["audit", "append"]);
    let out = run_with_stdin(c, &events(5, 11));
    set(false);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("opening the audit ledger"), "{msg}");
    assert!(
        msg.contains("Operation not permitted") || msg.contains("Permission denied"),
        "{msg}"
    );
    assert_eq!(count(data.path()), 10);
    let out = shuan(data.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

fn unsafe_free_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
