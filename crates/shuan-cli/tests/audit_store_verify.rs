//! `shuan audit verify --store`: two `shuan serve` nodes, each with its own data
//! directory (ledger, node key), share one SQLite platform store and copy their records
//! and signed checkpoints into it. The store's copy of both chains verifies against their
//! checkpoints with the nodes' public keys; a copied record edited with SQL, or deleted
//! from the middle, or a checkpoint from another node's key, makes it exit 3 naming the
//! node and the record.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PASSWORD: &str = "CopyCheck#Store2026";

fn shuan(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shuan"));
    c.arg("--data-dir").arg(data).env_remove("SHUAN_LOG");
    c.env_remove("SHUAN_STORE");
    c
}

struct Node {
    child: Child,
    base: String,
}

impl Node {
    /// Stops the node as an operator would (SIGTERM): it finishes requests in flight and
    /// copies its last records into the store.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("shuan serve did not stop on SIGTERM");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, store: &str) -> Node {
    let child = shuan(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--store", store])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut node = Node {
        child,
        base: String::new(),
    };
    let mut out = BufReader::new(node.child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "serve ended before listening"
        );
        if let Some(i) = line.find("http://") {
            node.base = line[i..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            return node;
        }
    }
}

fn call(
    base: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let client = reqwest::blocking::Client::new();
    let mut req = client.request(method.parse().unwrap(), format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().unwrap();
    let s = r.status().as_u16();
    let text = r.text().unwrap();
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// What a person does first on a node, each step recorded in the node's ledger: two
/// wrong passwords (denied), the one-time password (allowed), a wrong current password
/// (denied), the new password (allowed), sign-out (allowed).
fn sign_in(base: &str, user: &str, otp: &str) {
    for _ in 0..2 {
        let (s, _) = call(
            base,
            None,
            "POST",
            "/api/v1/session",
            Some(json!({"username": user, "password": "wrong-password"})),
        );
        assert_eq!(s, 401);
    }
    let (s, v) = call(
        base,
        None,
        "POST",
        "/api/v1/session",
        Some(json!({"username": user, "password": otp})),
    );
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    let (s, _) = call(
        base,
        Some(&token),
        "POST",
        "/api/v1/session/password",
        Some(json!({"current_password": "wrong", "new_password": PASSWORD})),
    );
    assert_eq!(s, 401);
    let (s, v) = call(
        base,
        Some(&token),
        "POST",
        "/api/v1/session/password",
        Some(json!({"current_password": otp, "new_password": PASSWORD})),
    );
    assert_eq!(s, 200, "{v}");
    let (s, _) = call(base, Some(&token), "DELETE", "/api/v1/session", None);
    assert_eq!(s, 204);
}

fn ledger_id(data: &Path) -> String {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("audit/ledger.json")).unwrap())
            .unwrap();
    meta["ledger_id"].as_str().unwrap().to_string()
}

fn public_key(data: &Path) -> PathBuf {
    data.join("keys/node-sm2.pub.pem")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `shuan audit verify --store` as node 1's operator runs it: node 1's key from its data
/// directory, node 2's given.
fn verify(d1: &Path, d2: &Path, store: &str, json: bool) -> Output {
    let mut c = shuan(d1);
    c.args(["audit", "verify", "--store", store, "--node-key"])
        .arg(format!("{}={}", ledger_id(d2), public_key(d2).display()));
    if json {
        c.args(["--format", "json"]);
    }
    c.output().unwrap()
}

fn node_result<'a>(v: &'a Value, node: &str) -> &'a Value {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == node)
        .unwrap_or_else(|| panic!("node {node} not in {v}"))
}

#[test]
fn every_nodes_copy_verifies_against_its_checkpoints_and_tampering_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (d1, d2) = (dir.path().join("node1"), dir.path().join("node2"));
    let db = dir.path().join("shared.db");
    let store = format!("sqlite:{}", db.display());
    let out = shuan(&d1)
        .args(["init", "--store", &store, "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let accounts: Value = serde_json::from_slice(&out.stdout).unwrap();
    let otp = |u: &str| {
        accounts["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == u)
            .unwrap()["one_time_password"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Node 2 shares the keyring but has its own node key (made on its first start).
    std::fs::create_dir_all(d2.join("keys")).unwrap();
    for f in std::fs::read_dir(d1.join("keys")).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().to_string_lossy().to_string();
        if f.file_type().unwrap().is_file() && !name.starts_with("node-sm2") {
            std::fs::copy(f.path(), d2.join("keys").join(&name)).unwrap();
        }
    }

    let (n1, n2) = (serve(&d1, &store), serve(&d2, &store));
    sign_in(&n1.base, "sysadmin", &otp("sysadmin"));
    sign_in(&n2.base, "secadmin", &otp("secadmin"));
    n1.stop();
    n2.stop();
    // A node signs a checkpoint every minute; sign one now in each node's ledger, then
    // start the nodes again so that they copy it into the store.
    for d in [&d1, &d2] {
        let o = shuan(d).args(["audit", "checkpoint"]).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let (id1, id2) = (ledger_id(&d1), ledger_id(&d2));
    assert_ne!(id1, id2);
    assert_ne!(
        std::fs::read(public_key(&d1)).unwrap(),
        std::fs::read(public_key(&d2)).unwrap(),
        "each node has its own key"
    );
    let (n1, n2) = (serve(&d1, &store), serve(&d2, &store));
    let platform = shuan_store::platform::open_platform(dir.path(), Some(&store)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let cps = platform.checkpoints(None).unwrap();
        if [&id1, &id2]
            .iter()
            .all(|id| cps.iter().any(|c| &&c.node == id))
        {
            break;
        }
        assert!(Instant::now() < deadline, "checkpoints not copied: {cps:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    n1.stop();
    n2.stop();
    let signed = |id: &str| platform.checkpoints(Some(id)).unwrap().last().unwrap().size;
    let (signed1, signed2) = (signed(&id1), signed(&id2));
    assert!(signed1 >= 6 && signed2 >= 6, "{signed1} {signed2}");

    // Both chains verify against their checkpoints.
    let o = verify(&d1, &d2, &store, false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains(&format!("node {id1}: ok")), "{said}");
    assert!(said.contains(&format!("node {id2}: ok")), "{said}");
    assert!(said.contains("2 nodes: 2 ok, 0 invalid"), "{said}");
    let o = verify(&d1, &d2, &store, true);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], json!(true));
    for id in [&id1, &id2] {
        let n = node_result(&v, id);
        assert_eq!(n["status"], json!("ok"), "{n}");
        assert_eq!(n["signatures_checked"], json!(true));
        assert!(n["records"].as_u64().unwrap() >= n["last_checkpoint"].as_u64().unwrap());
    }
    // Without node 2's key its signatures cannot be checked: not "ok", not "invalid".
    let o = shuan(&d1)
        .args(["audit", "verify", "--store", &store])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("node {id2}: UNVERIFIED")),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains(&format!("node {id1}: ok")),
        "{}",
        text(&o)
    );

    let db = rusqlite::Connection::open(&db).unwrap();
    let row = |node: &str, seq: u64| -> String {
        db.query_row(
            "SELECT record_json FROM audit_mirror WHERE node = ?1 AND seq = ?2",
            rusqlite::params![node, seq as i64],
            |r| r.get(0),
        )
        .unwrap()
    };
    let set_row = |node: &str, seq: u64, json: &str| {
        db.execute(
            "UPDATE audit_mirror SET record_json = ?3 WHERE node = ?1 AND seq = ?2",
            rusqlite::params![node, seq as i64, json],
        )
        .unwrap();
    };
    let problem = |node: &str| -> (u64, String) {
        let o = verify(&d1, &d2, &store, true);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["ok"], json!(false));
        let n = node_result(&v, node);
        assert_eq!(n["status"], json!("invalid"), "{n}");
        let other = if node == id1 { &id2 } else { &id1 };
        assert_eq!(
            node_result(&v, other)["status"],
            json!("ok"),
            "only {node} is named"
        );
        (
            n["problem"]["seq"].as_u64().unwrap(),
            n["problem"]["message"].as_str().unwrap().to_string(),
        )
    };

    // 1. A record's actor edited in the copied JSON: its own row contradicts it.
    let seq = 5;
    let original = row(&id2, seq);
    let r: Value = serde_json::from_str(&original).unwrap();
    let actor = r["actor"]["id"].as_str().unwrap().to_string();
    set_row(
        &id2,
        seq,
        &original.replacen(&format!("\"id\":\"{actor}\""), "\"id\":\"nobody\"", 1),
    );
    let (bad, why) = problem(&id2);
    assert_eq!(bad, seq, "{why}");
    assert!(why.contains("actor"), "{why}");
    // The table form names the node and the record too.
    let o = verify(&d1, &d2, &store, false);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o).contains(&format!(
            "node {id2}: TAMPERED or DAMAGED (篡改或损坏): record {seq}:"
        )),
        "{}",
        text(&o)
    );
    set_row(&id2, seq, &original);

    // 2. A field no search column holds, edited: the signed Merkle root no longer matches;
    //    the record lies in the stretch the finding names.
    let seq = 3;
    let original = row(&id1, seq);
    let r: Value = serde_json::from_str(&original).unwrap();
    let object = r["object"].as_str().unwrap().to_string();
    set_row(
        &id1,
        seq,
        &original.replacen(
            &format!("\"object\":\"{object}\""),
            "\"object\":\"user:someone-else\"",
            1,
        ),
    );
    let (bad, why) = problem(&id1);
    assert!(bad <= seq, "{bad} {why}");
    assert!(why.contains("Merkle root"), "{why}");
    set_row(&id1, seq, &original);
    assert_eq!(verify(&d1, &d2, &store, true).status.code(), Some(0));

    // 3. A record deleted from the middle of the copy.
    let seq = 4;
    let original = row(&id1, seq);
    let columns: (i64, String, String, String, Option<String>) = db
        .query_row(
            "SELECT time, actor, action, outcome, request_id FROM audit_mirror WHERE node = ?1 AND seq = ?2",
            rusqlite::params![&id1, seq as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    db.execute(
        "DELETE FROM audit_mirror WHERE node = ?1 AND seq = ?2",
        rusqlite::params![&id1, seq as i64],
    )
    .unwrap();
    let (bad, why) = problem(&id1);
    assert_eq!(bad, seq, "{why}");
    assert!(why.starts_with(&format!("record {seq}: missing")), "{why}");
    db.execute(
        "INSERT INTO audit_mirror (node, seq, time, actor, action, outcome, request_id, record_json) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![&id1, seq as i64, columns.0, columns.1, columns.2, columns.3, columns.4, original],
    )
    .unwrap();

    // 4. The newest signed records deleted from the end of the copy.
    db.execute(
        "DELETE FROM audit_mirror WHERE node = ?1 AND seq > ?2",
        rusqlite::params![&id2, (signed2 - 2) as i64],
    )
    .unwrap();
    let (bad, why) = problem(&id2);
    assert_eq!(bad, signed2 - 1, "{why}");
    assert!(why.contains("missing"), "{why}");

    // 5. A key that is not the node's: its checkpoints are not signed by it.
    let o = shuan(&d1)
        .args(["audit", "verify", "--store", &store, "--node-key"])
        .arg(format!("{id2}={}", public_key(&d1).display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("not signed by this node's key"),
        "{}",
        text(&o)
    );
}

#[test]
fn verify_store_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    // No store in the data directory: nothing is created.
    let o = shuan(dir.path())
        .args(["audit", "verify", "--store"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("no platform store"), "{}", text(&o));
    let missing = dir.path().join("nothing.db");
    let o = shuan(dir.path())
        .args(["audit", "verify", "--store"])
        .arg(format!("sqlite:{}", missing.display()))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!missing.exists(), "verify created a store");
    // A password in a URL is never shown.
    let o = shuan(dir.path())
        .args([
            "audit",
            "verify",
            "--store",
            "mysql://admin:hunter2@db/shuan",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!text(&o).contains("hunter2"), "{}", text(&o));
    // --store and --dir are two different checks.
    let o = shuan(dir.path())
        .args(["audit", "verify", "--store", "--dir", "x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = shuan(dir.path())
        .args(["audit", "verify", "--node-key", "a=b"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // A malformed --node-key.
    std::fs::write(dir.path().join("platform.db"), b"").unwrap();
    let o = shuan(dir.path())
        .args(["audit", "verify", "--store", "--node-key", "nokey"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("NODE=PEM"), "{}", text(&o));
}
