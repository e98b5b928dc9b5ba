//! Crash safety of `shuan audit append`: the real binary is killed with SIGKILL at random
//! moments under load, many times; afterwards every acknowledged (`durable SEQ`) record
//! must be present, in order, and `shuan audit verify` must pass.
//!
//! Iterations: 12 by default (a few seconds); set SHUAN_AUDIT_KILL_ITERATIONS for a soak.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn shuan(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir").arg(data).env_remove("SHUAN_LOG");
    c
}

fn line(iter: u64, i: u64) -> String {
    format!(
        "{{\"actor\":{{\"kind\":\"user\",\"id\":\"u{}\",\"department\":\"民政局\"}},\"action\":\"export\",\"object\":\"pg:hr.staff\",\"outcome\":\"allowed\",\"request_id\":\"it{iter}-{i}\",\"details\":{{\"rows\":{i},\"pad\":\"{}\"}}}}\n",
        i % 7,
        "x".repeat((i % 200) as usize)
    )
}

#[test]
fn sigkill_loop_never_loses_an_acknowledged_record() {
    let iterations: u64 = std::env::var("SHUAN_AUDIT_KILL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let data = tempfile::tempdir().unwrap();
    let ledger = data.path().join("audit");
    let mut rng = 0x2545f4914f6cdd1du64 ^ std::process::id() as u64;
    let mut rand = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut max_acked = 0u64;
    let mut total_acks = 0u64;
    for iter in 0..iterations {
        let mut child = shuan(data.path())
            .args(["audit", "append", "--progress", "--dir"])
            .arg(&ledger)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn shuan");
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            let mut i = 0u64;
            loop {
                let mut chunk = String::new();
                for _ in 0..64 {
                    i += 1;
                    chunk.push_str(&line(iter, i));
                }
                if stdin.write_all(chunk.as_bytes()).is_err() {
                    return;
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let watcher = std::thread::spawn(move || {
            let mut acked = 0u64;
            let mut n = 0u64;
            for l in BufReader::new(stdout).lines() {
                let Ok(l) = l else { break };
                if let Some(s) = l.strip_prefix("durable ") {
                    let s: u64 = s.parse().expect("durable SEQ");
                    assert!(s >= acked, "acknowledgements go forward");
                    acked = s;
                    n += 1;
                }
            }
            (acked, n)
        });
        std::thread::sleep(Duration::from_millis(30 + rand() % 400));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let (acked, n) = watcher.join().unwrap();
        feeder.join().unwrap();
        total_acks += n;
        max_acked = max_acked.max(acked);

        let out = shuan(data.path())
            .args(["audit", "count", "--dir"])
            .arg(&ledger)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "count failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let count: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert!(
            count >= max_acked,
            "iteration {iter}: {max_acked} acknowledged but only {count} present"
        );
    }
    assert!(
        total_acks > iterations,
        "the writer acknowledged too little to test anything"
    );

    let out = shuan(data.path())
        .args(["audit", "verify", "--dir"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "verify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Every record is there once, numbered 1..n, and each iteration's records are a
    // prefix of what was written in that iteration, in order.
    let out = shuan(data.path())
        .args(["audit", "export", "--dir"])
        .arg(&ledger)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut last_in_iter = std::collections::HashMap::<u64, u64>::new();
    let mut seq = 0u64;
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        seq += 1;
        assert_eq!(v["seq"].as_u64(), Some(seq));
        let rid = v["request_id"].as_str().unwrap();
        let (it, i) = rid.trim_start_matches("it").split_once('-').unwrap();
        let (it, i): (u64, u64) = (it.parse().unwrap(), i.parse().unwrap());
        let prev = last_in_iter.insert(it, i).unwrap_or(0);
        assert_eq!(
            i,
            prev + 1,
            "record {seq}: lines of iteration {it} out of order or missing"
        );
    }
    assert!(seq >= max_acked);
    eprintln!("{iterations} kills, {total_acks} group commits acknowledged, {seq} records, max acknowledged {max_acked}");
}
