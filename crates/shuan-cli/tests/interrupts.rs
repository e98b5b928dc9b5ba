//! Interrupted at random points, a command leaves no temporary and no partial output,
//! the audit ledger still verifies, and a Ctrl-C is itself recorded (issue #10, item 4).
//! The delays are drawn at random each run and printed, so a failure can be replayed
//! with `SHUAN_TEST_DELAYS_MS=a,b,c`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

mod support;
use support::{audit_records, temporaries};

fn shuan_cmd(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir")
        .arg(data_dir)
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .stdin(Stdio::null());
    c
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "shuan failed: {:?} {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// `n` delays in `[lo, hi)` ms: from `SHUAN_TEST_DELAYS_MS`, else drawn from the clock.
fn delays(n: usize, lo: u64, hi: u64) -> Vec<u64> {
    if let Ok(v) = std::env::var("SHUAN_TEST_DELAYS_MS") {
        return v.split(',').map(|x| x.trim().parse().unwrap()).collect();
    }
    let mut x = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let v: Vec<u64> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            lo + x % (hi - lo)
        })
        .collect();
    eprintln!("delays (ms): {v:?} — replay with SHUAN_TEST_DELAYS_MS");
    v
}

/// Runs `args`, sends `signal` after `delay_ms`, and returns the exit status.
fn run_and_signal(data: &Path, args: &[&str], signal: &str, delay_ms: u64) -> Output {
    let child = shuan_cmd(data)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    child.wait_with_output().unwrap()
}

/// After any run: no temporary anywhere under `root` once another command has started,
/// the ledger verifies, and a run ended by SIGINT is the ledger's last record.
fn check_after(root: &Path, data: &Path, o: &Output, action: &str, records_before: usize) {
    // The next command sweeps what a SIGKILL left.
    ok(shuan_cmd(data).args(["audit", "verify"]).output().unwrap());
    assert!(temporaries(root).is_empty(), "{:?}", temporaries(root));
    let recs = audit_records(data);
    let said = String::from_utf8_lossy(&o.stderr);
    if o.status.code() == Some(130) && !said.contains("before any audited action began") {
        assert!(said.contains("recorded in the audit ledger"), "{said}");
        let last = recs.last().unwrap();
        assert_eq!(last["action"], action, "{last}");
        assert_eq!(last["outcome"], "error", "{last}");
        assert_eq!(last["details"]["signal"], "SIGINT", "{last}");
        assert_eq!(recs.len(), records_before + 1);
    }
}

#[test]
fn scan_interrupted_anywhere() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let csv = d.path().join("people.csv");
    let mut body = String::from("姓名,身份证号,手机号,备注\n");
    for i in 0..400_000u32 {
        body.push_str(&format!(
            "张{i},11010519491231002X,1380013{:04},第{i}行备注文字\n",
            i % 10_000
        ));
    }
    std::fs::write(&csv, body).unwrap();
    // The ledger exists before the first interruption (a small saved scan).
    let small = d.path().join("small.csv");
    std::fs::write(&small, "手机号\n13800138000\n").unwrap();
    ok(shuan_cmd(&data)
        .args(["scan", small.to_str().unwrap(), "--save", "--no-progress"])
        .output()
        .unwrap());
    let out = d.path().join("report.json");
    let mut interrupted = 0;
    for (i, delay) in delays(6, 10, 250).into_iter().enumerate() {
        let signal = if i % 2 == 0 { "-INT" } else { "-KILL" };
        let before = audit_records(&data).len();
        let o = run_and_signal(
            &data,
            &[
                "scan",
                csv.to_str().unwrap(),
                "--save",
                "--no-progress",
                // Every row sampled: a scan long enough to be interrupted.
                "--sample",
                "400000",
                "--format",
                "json",
                "--out",
                out.to_str().unwrap(),
                "--force",
            ],
            signal,
            delay,
        );
        if out.exists() {
            // Complete or absent: a report that exists parses.
            let text = std::fs::read_to_string(&out).unwrap();
            serde_json::from_str::<serde_json::Value>(&text).expect("a whole report");
        }
        interrupted += usize::from(!o.status.success());
        check_after(d.path(), &data, &o, "scan_save", before);
    }
    // The scan takes longer than the delays: most runs must really have been cut short.
    assert!(
        interrupted >= 3,
        "only {interrupted} of 6 runs were interrupted"
    );
}

#[test]
fn decrypt_interrupted_anywhere() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    ok(shuan_cmd(&data).args(["keys", "init"]).output().unwrap());
    let plain = d.path().join("big.csv");
    std::fs::write(
        &plain,
        "姓名,身份证号\n张三,11010519491231002X\n".repeat(3_000_000),
    )
    .unwrap();
    let enc = d.path().join("big.enc");
    ok(shuan_cmd(&data)
        .args([
            "crypto",
            "encrypt",
            plain.to_str().unwrap(),
            "--out",
            enc.to_str().unwrap(),
        ])
        .output()
        .unwrap());
    let size = std::fs::metadata(&plain).unwrap().len();
    std::fs::remove_file(&plain).unwrap();
    let out = d.path().join("plain.csv");
    let mut interrupted = 0;
    for (i, delay) in delays(6, 5, 400).into_iter().enumerate() {
        let _ = std::fs::remove_file(&out);
        let signal = if i % 2 == 0 { "-INT" } else { "-KILL" };
        let before = audit_records(&data).len();
        let o = run_and_signal(
            &data,
            &[
                "crypto",
                "decrypt",
                enc.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            signal,
            delay,
        );
        match std::fs::metadata(&out) {
            Ok(m) => assert_eq!(m.len(), size, "a plaintext output is whole"),
            Err(_) => assert!(!o.status.success()),
        }
        interrupted += usize::from(!o.status.success());
        check_after(d.path(), &data, &o, "decrypt", before);
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} of 6 runs were interrupted"
    );
}

#[test]
fn restore_interrupted_anywhere() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    ok(shuan_cmd(&data).args(["keys", "init"]).output().unwrap());
    let src = d.path().join("records");
    std::fs::create_dir(&src).unwrap();
    for i in 0..6 {
        std::fs::write(
            src.join(format!("part{i}.csv")),
            "姓名,身份证号\n张三,11010519491231002X\n".repeat(400_000),
        )
        .unwrap();
    }
    let archive = d.path().join("b.shuanbak");
    ok(shuan_cmd(&data)
        .args([
            "backup",
            "create",
            src.to_str().unwrap(),
            "--out",
            archive.to_str().unwrap(),
        ])
        .output()
        .unwrap());
    let whole = std::fs::metadata(src.join("part0.csv")).unwrap().len();
    let mut interrupted = 0;
    for (i, delay) in delays(6, 20, 600).into_iter().enumerate() {
        let target = d.path().join(format!("restored{i}"));
        let signal = if i % 2 == 0 { "-INT" } else { "-KILL" };
        let before = audit_records(&data).len();
        let o = run_and_signal(
            &data,
            &[
                "backup",
                "restore",
                archive.to_str().unwrap(),
                target.to_str().unwrap(),
            ],
            signal,
            delay,
        );
        interrupted += usize::from(!o.status.success());
        // Whatever exists under a real name is whole.
        for e in std::fs::read_dir(&target).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(".shuan-tmp-") {
                assert_eq!(e.metadata().unwrap().len(), whole, "{name} is partial");
            }
        }
        check_after(d.path(), &data, &o, "backup_restore", before);
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} of 6 runs were interrupted"
    );
}

#[test]
fn mask_interrupted_anywhere() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    ok(shuan_cmd(&data).args(["keys", "init"]).output().unwrap());
    let src = d.path().join("people.csv");
    let mut body = String::from("姓名,身份证号,手机号,备注\n");
    for i in 0..600_000u32 {
        body.push_str(&format!(
            "张{i},11010519491231002X,1380013{:04},第{i}行备注文字\n",
            i % 10_000
        ));
    }
    std::fs::write(&src, body).unwrap();
    let out = d.path().join("masked.csv");
    let mut interrupted = 0;
    for (i, delay) in delays(6, 5, 250).into_iter().enumerate() {
        let _ = std::fs::remove_file(&out);
        let signal = if i % 2 == 0 { "-INT" } else { "-KILL" };
        let before = audit_records(&data).len();
        let o = run_and_signal(
            &data,
            &[
                "mask",
                src.to_str().unwrap(),
                "--scenario",
                "sharing",
                "--out",
                out.to_str().unwrap(),
                "--no-progress",
            ],
            signal,
            delay,
        );
        interrupted += usize::from(!o.status.success());
        if let Ok(text) = std::fs::read_to_string(&out) {
            assert_eq!(text.lines().count(), 600_001, "a masked output is whole");
        }
        check_after(d.path(), &data, &o, "mask", before);
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} of 6 runs were interrupted"
    );
}
