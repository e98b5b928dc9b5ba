//! `shuan destroy verify` as the real binary: a certificate signed with an SM2 key
//! verifies (exit 0) with the key inside and with the key given apart; one changed fact,
//! another node's key or a body that does not state a passed check exits 3; a certificate
//! naming this node's ledger checks the record (a record of another action exits 3); an
//! unreadable or malformed file exits 1 naming it.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use shuan_crypto::sm2::SigningKey;
use shuan_govern::certificate::LedgerAnchor;
use shuan_govern::Certificate;

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

fn body(passed: bool) -> serde_json::Value {
    json!({
        "destruction_id": 7,
        "node": "node-a",
        "department": "PROV",
        "target": {"kind": "rows", "source": "people-src", "table": "public.residents",
                   "filter": [{"column": "城市", "op": "eq", "value": "宁波"}]},
        "target_label": "数据源 people-src 表 public.residents 中 城市 = 宁波 的记录",
        "method": "delete_rows",
        "method_label": "删除记录",
        "reason": "超过保存期限",
        "requested_by": "steward",
        "requested_at": "2026-12-01T08:00:00Z",
        "approved_by": "cdo",
        "approved_at": "2026-12-02T08:00:00Z",
        "approval_note": "同意",
        "executed_by": "secadmin",
        "executed_at": "2026-12-03T08:00:00Z",
        "destroyed": {"rows_deleted": 50},
        "verification": {"check": "no_matching_rows", "passed": passed, "detail": "0"},
    })
}

fn write(dir: &Path, name: &str, contents: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn certificates_verify_offline_and_changes_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = SigningKey::generate();
    let anchor = LedgerAnchor {
        id: "another-node".into(),
        seq: 12,
    };
    let cert = Certificate::sign(body(true), &key, anchor.clone());
    let good = write(dir.path(), "good.json", &cert.to_json());
    let pem = write(
        dir.path(),
        "node.pub.pem",
        &key.verifying_key().to_public_key_pem(),
    );

    let out = shuan(&data, &["destroy", "verify", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("valid (有效)"), "{stdout}");
    assert!(stdout.contains("embedded key"), "{stdout}");
    assert!(stdout.contains("--public-key"), "{stdout}");

    let out = shuan(
        &data,
        &[
            "destroy",
            "verify",
            good.to_str().unwrap(),
            "--public-key",
            pem.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["key"], "given");
    assert_eq!(v["destruction_id"], 7);
    assert_eq!(v["sm3"], cert.sm3);

    // One changed fact.
    let mut forged = cert.clone();
    forged.body["destroyed"]["rows_deleted"] = json!(5000);
    let forged = write(dir.path(), "forged.json", &forged.to_json());
    let out = shuan(&data, &["destroy", "verify", forged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("INVALID"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stdout).contains("changed"),
        "{}",
        text(&out.stdout)
    );

    // Another node's key, given apart.
    let other = SigningKey::generate();
    let other_pem = write(
        dir.path(),
        "other.pub.pem",
        &other.verifying_key().to_public_key_pem(),
    );
    let out = shuan(
        &data,
        &[
            "destroy",
            "verify",
            good.to_str().unwrap(),
            "--public-key",
            other_pem.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));

    // Re-signed by someone with their own key and the key swapped in: the given key
    // still catches it.
    let resigned = Certificate::sign(body(true), &other, anchor.clone());
    let resigned = write(dir.path(), "resigned.json", &resigned.to_json());
    let out = shuan(
        &data,
        &[
            "destroy",
            "verify",
            resigned.to_str().unwrap(),
            "--public-key",
            pem.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));

    // A body that does not state a passed check is never a valid certificate.
    let failed = Certificate::sign(body(false), &key, anchor);
    let failed = write(dir.path(), "failed.json", &failed.to_json());
    let out = shuan(&data, &["destroy", "verify", failed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("passed"),
        "{}",
        text(&out.stdout)
    );

    // Not a certificate, or no file: exit 1 naming it.
    let junk = write(
        dir.path(),
        "junk.json",
        "{\"format\": \"something-else/1\"}",
    );
    let out = shuan(&data, &["destroy", "verify", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("junk.json"),
        "{}",
        text(&out.stderr)
    );
    let out = shuan(&data, &["destroy", "verify", "/nonexistent/cert.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("/nonexistent/cert.json"),
        "{}",
        text(&out.stderr)
    );
}

/// On the node whose ledger the certificate names, the record must be the certificate's.
#[test]
fn on_the_signing_node_the_ledger_record_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // An audited command creates the node's ledger; its first record is not a
    // certificate's.
    let out = shuan(&data, &["keys", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ledger_id = shuan_ledger::ledger::read_meta(&shuan_ledger::default_dir(&data))
        .expect("the node's ledger")
        .ledger_id;
    let key = SigningKey::generate();
    for (seq, why) in [
        (1, "not `destruction.certify`"),
        (999, "not in this node's ledger"),
    ] {
        let cert = Certificate::sign(
            body(true),
            &key,
            LedgerAnchor {
                id: ledger_id.clone(),
                seq,
            },
        );
        let file = write(dir.path(), "cert.json", &cert.to_json());
        let out = shuan(&data, &["destroy", "verify", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
        assert!(text(&out.stdout).contains(why), "{}", text(&out.stdout));
    }
}
