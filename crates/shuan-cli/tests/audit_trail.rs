//! Every command that processes data or touches keys leaves a record in the audit ledger
//! (issue #4 item 7): scan `--save`, key operations, file encryption and backups — and
//! refuses to act when the ledger cannot be written (fail-closed).

use std::path::Path;
use std::process::{Command, Output};

fn shuan(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SHUAN_LOG")
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .env("USER", "li.si")
        .env("SHUAN_DEPARTMENT", "市大数据局")
        .env("SHUAN_ROLE", "安全管理员")
        .output()
        .unwrap()
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

/// The ledger's records, oldest first.
fn records(data: &Path) -> Vec<serde_json::Value> {
    let out = ok(shuan(data, &["audit", "query", "--format", "json"]));
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn actions(recs: &[serde_json::Value]) -> Vec<String> {
    recs.iter()
        .map(|r| r["action"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn key_crypto_backup_and_scan_operations_are_in_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(shuan(&data, &["keys", "init"]));
    ok(shuan(&data, &["keys", "create", "hukou"]));
    ok(shuan(&data, &["keys", "rotate", "hukou"]));

    let plain = tmp.path().join("residents.csv");
    std::fs::write(
        &plain,
        "姓名,身份证号,手机号\n张三,11010519491231002X,13800138000\n李四,440703198001011234,13912345678\n",
    )
    .unwrap();
    let sealed = tmp.path().join("residents.csv.sm4");
    ok(shuan(
        &data,
        &[
            "crypto",
            "encrypt",
            "--key-id",
            "hukou",
            plain.to_str().unwrap(),
            "--out",
            sealed.to_str().unwrap(),
        ],
    ));
    let back = tmp.path().join("back.csv");
    ok(shuan(
        &data,
        &[
            "crypto",
            "decrypt",
            sealed.to_str().unwrap(),
            "--out",
            back.to_str().unwrap(),
        ],
    ));
    // A decryption that fails (tampered file) is recorded as an error.
    let mut bytes = std::fs::read(&sealed).unwrap();
    let last = bytes.len() - 20;
    bytes[last] ^= 1;
    let bad = tmp.path().join("bad.sm4");
    std::fs::write(&bad, bytes).unwrap();
    let out = shuan(
        &data,
        &[
            "crypto",
            "decrypt",
            bad.to_str().unwrap(),
            "--out",
            tmp.path().join("bad.csv").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());

    ok(shuan(
        &data,
        &["scan", "--save", "--no-progress", plain.to_str().unwrap()],
    ));

    let archive = tmp.path().join("backup.tar.sm4");
    let src = tmp.path().join("to-back-up");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a.txt"), "备份内容").unwrap();
    ok(shuan(
        &data,
        &[
            "backup",
            "create",
            src.to_str().unwrap(),
            "--out",
            archive.to_str().unwrap(),
        ],
    ));
    ok(shuan(
        &data,
        &["backup", "verify", archive.to_str().unwrap()],
    ));
    ok(shuan(
        &data,
        &["keys", "destroy", "hukou", "--key-version", "1", "--yes"],
    ));
    ok(shuan(&data, &["keys", "rotate-kek"]));

    let recs = records(&data);
    assert_eq!(
        actions(&recs),
        [
            "key_init",
            "key_create",
            "key_rotate",
            "encrypt",
            "decrypt",
            "decrypt",
            "scan_save",
            "backup_create",
            "backup_verify",
            "key_destroy",
            "kek_rotate",
        ]
    );
    for r in &recs {
        assert_eq!(r["actor"]["id"], "li.si", "{r}");
        assert_eq!(r["actor"]["department"], "市大数据局", "{r}");
        assert_eq!(r["actor"]["role"], "安全管理员", "{r}");
        assert!(r["request_id"].as_str().unwrap().starts_with("cli-"));
    }
    let outcomes: Vec<&str> = recs
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "error").count(), 1);
    assert_eq!(outcomes[5], "error");
    assert!(recs[5]["details"]["error"].as_str().unwrap().len() > 10);
    assert_eq!(recs[1]["object"], "key:hukou");
    assert_eq!(recs[3]["details"]["key_id"], "hukou");
    assert_eq!(recs[3]["details"]["key_version"], 2);
    assert_eq!(recs[4]["details"]["key_version"], 2);
    let scan = &recs[6];
    assert!(scan["object"].as_str().unwrap().ends_with("residents.csv"));
    assert!(scan["details"]["scan_id"].as_i64().unwrap() >= 1);
    assert!(scan["details"]["sensitive_columns"].as_u64().unwrap() >= 2);
    assert_eq!(recs[7]["details"]["files"], 1);
    assert_eq!(recs[9]["details"]["versions"], serde_json::json!([1]));
    // No value from the scanned file reaches the ledger.
    let all = serde_json::to_string(&recs).unwrap();
    assert!(!all.contains("11010519491231002X") && !all.contains("13800138000"));

    // Each command signed a checkpoint on close, and the whole ledger verifies.
    ok(shuan(&data, &["audit", "verify"]));
}

#[test]
fn an_unwritable_ledger_refuses_the_key_operation() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(shuan(&data, &["keys", "init"]));
    let before = std::fs::read(data.join("keys").join("keyring.json")).ok();
    assert!(before.is_some(), "keyring file not where expected");
    // Put a plain file where the ledger directory belongs: the ledger cannot open.
    let audit = data.join("audit");
    std::fs::rename(&audit, tmp.path().join("audit-moved")).unwrap();
    std::fs::write(&audit, "not a directory").unwrap();

    let out = shuan(&data, &["keys", "create", "finance"]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("audit ledger"), "{msg}");
    assert!(msg.contains("not performed"), "{msg}");
    let listed = text(&shuan(&data, &["keys", "list", "--format", "json"]));
    assert!(
        !listed.contains("finance"),
        "key created without an audit record: {listed}"
    );
    assert_eq!(
        std::fs::read(data.join("keys").join("keyring.json")).ok(),
        before
    );

    let csv = tmp.path().join("p.csv");
    std::fs::write(&csv, "手机号\n13800138000\n").unwrap();
    let out = shuan(
        &data,
        &["scan", "--save", "--no-progress", csv.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("audit ledger"));
}

#[test]
fn restoring_over_the_live_data_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(shuan(&data, &["keys", "init"]));
    let archive = tmp.path().join("b.tar.sm4");
    ok(shuan(
        &data,
        &[
            "backup",
            "create",
            data.to_str().unwrap(),
            "--out",
            archive.to_str().unwrap(),
        ],
    ));
    let out = shuan(
        &data,
        &[
            "backup",
            "restore",
            archive.to_str().unwrap(),
            data.to_str().unwrap(),
            "--force",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("data directory in use"),
        "{}",
        text(&out)
    );
    // Restoring elsewhere works and is recorded.
    let target = tmp.path().join("restored");
    ok(shuan(
        &data,
        &[
            "backup",
            "restore",
            archive.to_str().unwrap(),
            target.to_str().unwrap(),
        ],
    ));
    assert!(target.join("audit").is_dir());
    let recs = records(&data);
    assert_eq!(
        actions(&recs),
        [
            "key_init",
            "backup_create",
            "backup_restore",
            "backup_restore"
        ]
    );
    // The refusal is recorded too (issue 10 item 6), as an error with its reason.
    assert_eq!(recs[2]["outcome"], "error");
    assert!(recs[2]["details"]["error"]
        .as_str()
        .unwrap()
        .contains("data directory in use"));
    assert_eq!(recs[3]["outcome"], "allowed");
}
