//! Refused and failed key and backup commands are in the audit ledger with outcome
//! `error` and the reason (issue 10 item 6): before, `keys init` with a too-short
//! passphrase, `keys rotate` without a keyring, an unconfirmed `keys destroy` and backup
//! commands whose keyring or node key did not load left no record.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn shuan_env(data: &Path, args: &[&str], passphrase: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SHUAN_LOG")
        .env("USER", "zhao.liu")
        .env("SHUAN_ARGON2_M_KIB", "1024")
        .stdin(Stdio::null());
    match passphrase {
        Some(p) => c.env("SHUAN_KEK_PASSPHRASE", p),
        None => c.env_remove("SHUAN_KEK_PASSPHRASE"),
    };
    c.output().expect("run shuan")
}

fn shuan(data: &Path, args: &[&str]) -> Output {
    shuan_env(data, args, None)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn fails(o: Output) -> Output {
    assert_eq!(o.status.code(), Some(1), "expected a failure: {}", text(&o));
    o
}

fn records(data: &Path) -> Vec<serde_json::Value> {
    let out = ok(shuan(data, &["audit", "query", "--format", "json"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The last record, which must be `action` on `object` with outcome `error` and an
/// error detail containing `reason`.
fn assert_last_error(data: &Path, action: &str, object_contains: &str, reason: &str) {
    let recs = records(data);
    let last = recs
        .last()
        .unwrap_or_else(|| panic!("no record for {action}"));
    assert_eq!(last["action"], action, "{last}");
    assert_eq!(last["outcome"], "error", "{last}");
    assert!(
        last["object"].as_str().unwrap().contains(object_contains),
        "{last}"
    );
    let error = last["details"]["error"].as_str().unwrap_or_default();
    assert!(error.contains(reason), "{action}: error detail {error:?}");
}

#[test]
fn refused_key_commands_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");

    let short = "tooshort";
    let o = fails(shuan_env(
        &data,
        &["keys", "init", "--passphrase"],
        Some(short),
    ));
    assert!(text(&o).contains("at least 12 characters"), "{}", text(&o));
    assert_last_error(&data, "key_init", "keyring", "at least 12 characters");
    let dump = text(&ok(shuan(&data, &["audit", "query", "--format", "json"])));
    assert!(!dump.contains(short), "the passphrase is never recorded");

    fails(shuan(&data, &["keys", "rotate"]));
    assert_last_error(&data, "key_rotate", "key:", "no keyring");

    ok(shuan_env(
        &data,
        &["keys", "init", "--passphrase"],
        Some("a long enough passphrase"),
    ));
    fails(shuan_env(
        &data,
        &["keys", "rotate", "nope"],
        Some("a long enough passphrase"),
    ));
    assert_last_error(&data, "key_rotate", "key:nope", "no data key 'nope'");
    fails(shuan_env(
        &data,
        &["keys", "rotate"],
        Some("the wrong passphrase"),
    ));
    assert_last_error(&data, "key_rotate", "key:", "integrity check");

    fails(shuan(&data, &["keys", "destroy", "default"]));
    assert_last_error(&data, "key_destroy", "key:default", "--yes");
    let list = text(&ok(shuan_env(
        &data,
        &["keys", "list", "--format", "json"],
        Some("a long enough passphrase"),
    )));
    assert!(
        !list.contains("\"state\": \"destroyed\""),
        "nothing was destroyed: {list}"
    );

    ok(shuan(&data, &["audit", "verify"]));
}

#[test]
fn failed_backup_commands_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), b"hello").unwrap();
    let archive = tmp.path().join("b.shuanbak");

    // No keyring yet: create, verify and restore all fail before the backup code runs.
    fails(shuan(
        &data,
        &["backup", "create", s(&src), "--out", s(&archive)],
    ));
    assert_last_error(&data, "backup_create", "b.shuanbak", "no keyring");
    assert!(!archive.exists());
    fails(shuan(&data, &["backup", "verify", s(&archive)]));
    assert_last_error(&data, "backup_verify", "b.shuanbak", "no keyring");

    ok(shuan(&data, &["keys", "init"]));
    fails(shuan(
        &data,
        &[
            "backup",
            "create",
            s(&src),
            "--out",
            s(&archive),
            "--key-id",
            "absent",
        ],
    ));
    assert_last_error(&data, "backup_create", "b.shuanbak", "no data key 'absent'");

    ok(shuan(
        &data,
        &["backup", "create", s(&src), "--out", s(&archive)],
    ));
    // Restoring over the data directory in use is refused, and recorded.
    fails(shuan(&data, &["backup", "restore", s(&archive), s(&data)]));
    assert_last_error(
        &data,
        "backup_restore",
        "b.shuanbak",
        "data directory in use",
    );
    // A public key file that does not parse.
    let bad_pub = tmp.path().join("bad.pem");
    std::fs::write(&bad_pub, "not a key").unwrap();
    fails(shuan(
        &data,
        &["backup", "verify", s(&archive), "--pub-key", s(&bad_pub)],
    ));
    assert_last_error(&data, "backup_verify", "b.shuanbak", "bad.pem");

    let log = text(&ok(shuan(&data, &["backup", "log", "--format", "json"])));
    assert_eq!(log.matches("\"failed: ").count(), 5, "{log}");
    ok(shuan(&data, &["audit", "verify"]));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
