//! Everything at once into one data directory (issue #10, "Done means"): 32 key
//! creations and rotations, 16 masking runs and 16 saved scans in parallel. Every change
//! a process acknowledged (exit 0) must be there afterwards, the audit ledger must
//! verify and hold one record per acknowledged action, and no temporary may be left.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

mod support;
use support::{audit_records, temporaries};

fn command(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SHUAN_LOG")
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn text(o: &Output) -> String {
    format!(
        "{:?} {}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn people(i: usize) -> String {
    let mut s = String::from("姓名,身份证号,手机号,缴费金额\n");
    for r in 0..200 {
        // Valid check digits are not needed for masking by column name and type; the
        // ID below is a known-valid one.
        s.push_str(&format!(
            "张{i}_{r},11010519491231002X,1380013{:04},{}.{:02}\n",
            r,
            100 + r * 7,
            r % 100
        ));
    }
    s
}

#[test]
fn keys_masking_and_scans_in_parallel_lose_nothing() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let work = d.path().join("work");
    std::fs::create_dir(&work).unwrap();
    ok(command(&data, &["keys", "init"]).output().unwrap());

    let mut children: Vec<(String, Child)> = Vec::new();
    for i in 0..32 {
        let args: Vec<String> = if i % 2 == 0 {
            vec!["keys".into(), "create".into(), format!("k{i}")]
        } else {
            vec!["keys".into(), "rotate".into()]
        };
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        children.push((args.join(" "), command(&data, &a).spawn().unwrap()));
    }
    for i in 0..16 {
        let src = work.join(format!("people{i}.csv"));
        std::fs::write(&src, people(i)).unwrap();
        let out = work.join(format!("masked{i}.csv"));
        let recipient = format!("接收方{i}");
        let mut args = vec![
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "sharing",
            "--out",
            out.to_str().unwrap(),
            "--no-progress",
        ];
        // Half of them watermarked: the registry is appended to concurrently too.
        if i % 2 == 0 {
            args.extend(["--recipient", recipient.as_str()]);
        }
        children.push((format!("mask {i}"), command(&data, &args).spawn().unwrap()));
        let scan_src = work.join(format!("scan{i}.csv"));
        std::fs::write(&scan_src, people(100 + i)).unwrap();
        let args = [
            "scan",
            scan_src.to_str().unwrap(),
            "--save",
            "--no-progress",
        ];
        children.push((format!("scan {i}"), command(&data, &args).spawn().unwrap()));
    }
    for (what, child) in children {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{what}: {}", text(&o));
    }

    // Keys: 16 created, 16 rotations of the default key (version 1 + 16).
    let listed = ok(command(&data, &["keys", "list", "--format", "json"])
        .output()
        .unwrap());
    let keys: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let keys = keys.as_array().unwrap();
    for i in (0..32).step_by(2) {
        let id = format!("k{i}");
        assert!(
            keys.iter().any(|k| k["id"] == id.as_str()),
            "{id} acknowledged but missing"
        );
    }
    let default_versions = keys
        .iter()
        .filter(|k| k["id"] == "default")
        .map(|k| k["version"].as_u64().unwrap())
        .max()
        .unwrap();
    assert_eq!(default_versions, 17, "16 rotations acknowledged");

    // Masking: every output whole, no identifier in clear.
    for i in 0..16 {
        let out = std::fs::read_to_string(work.join(format!("masked{i}.csv"))).unwrap();
        assert_eq!(out.lines().count(), 201, "masked{i}.csv is whole");
        assert!(
            !out.contains("11010519491231002X"),
            "masked{i}.csv leaks an ID"
        );
    }

    // Scans: all 16 sources in the inventory.
    let listed = ok(command(&data, &["assets", "list", "--format", "json"])
        .output()
        .unwrap());
    let listed = String::from_utf8(listed.stdout).unwrap();
    for i in 0..16 {
        assert!(
            listed.contains(&format!("scan{i}.csv")),
            "scan{i} not saved"
        );
    }

    ok(command(&data, &["audit", "verify"]).output().unwrap());
    let records = audit_records(&data);
    let count = |action: &str| records.iter().filter(|r| r["action"] == action).count();
    assert_eq!(count("key_create"), 16);
    assert_eq!(count("key_rotate"), 16);
    assert_eq!(count("mask"), 16);
    assert_eq!(count("scan_save"), 16);
    assert!(
        temporaries(d.path()).is_empty(),
        "{:?}",
        temporaries(d.path())
    );
}
