//! Checks shared by the integration tests of outputs, interruptions and concurrency.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

/// Files and directories anywhere under `dir` whose name marks them as shuan's
/// temporaries (`.shuan-tmp-…`, the older `.shuan-partial-…`, masking's `….part`).
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".shuan-") || name.ends_with(".part") {
                found.push(e.path());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    found
}

/// Every file under `dir`, recursively, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The audit records of the data directory `data`, oldest first, as JSON
/// (`shuan audit export`).
pub fn audit_records(data: &Path) -> Vec<serde_json::Value> {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data)
        .args(["audit", "export"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run shuan audit export");
    assert!(
        o.status.success(),
        "audit export: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
