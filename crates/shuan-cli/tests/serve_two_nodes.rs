//! Two `shuan serve` processes on one PostgreSQL store (SHUAN_TEST_POSTGRES): each with
//! its own data directory (ledger, node key), the keyring copied, as docs/server.md
//! says. A change made through one node holds at once on the other, a sign-in's TOTP
//! code used on one node is refused on the other, and the auditor's search on either
//! node finds the records of both.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

fn env_url(name: &str) -> String {
    match std::env::var(name) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{name} was set when this test was built but is unset now; set it again"),
    }
}

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, store: &str) -> Node {
    let child = Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--store", store])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Owned by the node from here, so it is killed and waited for on every path.
    let mut node = Node {
        child,
        base: String::new(),
    };
    let mut line = String::new();
    let mut out = BufReader::new(node.child.stdout.take().unwrap());
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

fn totp_code(secret_b32: &str, t: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret_b32.into())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).generate(t)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

const PASSWORD: &str = "TwoNodes#Store2026";

/// Activates an initial administrator through `base`; answers token and TOTP seed.
fn activate(base: &str, user: &str, otp: &str) -> (String, String) {
    let (s, v) = call(
        base,
        None,
        "POST",
        "/api/v1/session",
        Some(json!({"username": user, "password": otp})),
    );
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    let (s, v) = call(
        base,
        Some(&token),
        "POST",
        "/api/v1/session/password",
        Some(json!({"current_password": otp, "new_password": PASSWORD})),
    );
    assert_eq!(s, 200, "{v}");
    let (_, v) = call(
        base,
        Some(&token),
        "POST",
        "/api/v1/session/totp",
        Some(json!({})),
    );
    let secret = v["secret"].as_str().unwrap().to_string();
    let (s, v) = call(
        base,
        Some(&token),
        "POST",
        "/api/v1/session/totp/confirm",
        Some(json!({"code": totp_code(&secret, now() - 30)})),
    );
    assert_eq!(s, 200, "{v}");
    (token, secret)
}

#[test]
#[cfg_attr(not(shuan_test_postgres), ignore = "needs SHUAN_TEST_POSTGRES")]
fn two_nodes_on_one_postgres_store_share_one_truth() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let schema = format!("shuan_two_nodes_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("PostgreSQL reachable");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let store = format!("{url}{sep}options=-csearch_path%3D{schema}");

    let dir = tempfile::tempdir().unwrap();
    let (d1, d2) = (dir.path().join("node1"), dir.path().join("node2"));
    let out = Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(&d1)
        .args(["init", "--store", &store, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    // The second node gets its own data directory with a copy of the keyring, but not
    // the first node's signing key: each node signs its own chain.
    std::fs::create_dir_all(d2.join("keys")).unwrap();
    for f in std::fs::read_dir(d1.join("keys")).unwrap() {
        let f = f.unwrap();
        let own_key = f.file_name().to_string_lossy().starts_with("node-sm2");
        if f.file_type().unwrap().is_file() && !own_key {
            std::fs::copy(f.path(), d2.join("keys").join(f.file_name())).unwrap();
        }
    }
    let n1 = serve(&d1, &store);
    let n2 = serve(&d2, &store);

    let (sys, _) = activate(&n1.base, "sysadmin", &otp("sysadmin"));
    let (sec, sec_secret) = activate(&n2.base, "secadmin", &otp("secadmin"));
    // A department made on node 1 is there on node 2 at once.
    let (s, v) = call(
        &n1.base,
        Some(&sys),
        "POST",
        "/api/v1/departments",
        Some(json!({"code": "D1", "name": "民政局", "parent": "ROOT"})),
    );
    assert_eq!(s, 201, "{v}");
    let (s, v) = call(&n2.base, Some(&sec), "GET", "/api/v1/departments", None);
    assert_eq!(s, 200);
    assert!(
        v.as_array().unwrap().iter().any(|d| d["code"] == "D1"),
        "{v}"
    );
    // A session made on node 1 works on node 2; ended on node 2, it is gone on node 1.
    let (s, _) = call(&n2.base, Some(&sys), "GET", "/api/v1/users/me", None);
    assert_eq!(s, 200);
    // Separation of duties holds across nodes.
    let (s, v) = call(
        &n2.base,
        Some(&sec),
        "POST",
        "/api/v1/users/sysadmin/roles",
        Some(json!({"role": "auditor", "department": "ROOT", "scope": {"kind": "all"}})),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("separation_of_duties"))
    );
    // A TOTP code used on node 1 is refused on node 2.
    let code = totp_code(&sec_secret, now());
    let (s, v) = call(
        &n1.base,
        None,
        "POST",
        "/api/v1/session",
        Some(json!({"username": "secadmin", "password": PASSWORD, "totp": code})),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        &n2.base,
        None,
        "POST",
        "/api/v1/session",
        Some(json!({"username": "secadmin", "password": PASSWORD, "totp": code})),
    );
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (401, Some("invalid_totp")),
        "{v}"
    );
    let (s, _) = call(&n2.base, Some(&sys), "DELETE", "/api/v1/session", None);
    assert_eq!(s, 204);
    let (s, _) = call(&n1.base, Some(&sys), "GET", "/api/v1/users/me", None);
    assert_eq!(s, 401);
    // The auditor on node 2 finds node 1's records.
    let (aud, _) = activate(&n2.base, "auditor", &otp("auditor"));
    // Each node copies its records into the store twice a second.
    let mut v = Value::Null;
    for _ in 0..40 {
        let (s, got) = call(
            &n2.base,
            Some(&aud),
            "GET",
            "/api/v1/audit?action=department.create",
            None,
        );
        assert_eq!(s, 200, "{got}");
        v = got;
        if v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["record"]["object"] == "department:D1")
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let nodes: std::collections::BTreeSet<String> = {
        let (_, all) = call(
            &n2.base,
            Some(&aud),
            "GET",
            "/api/v1/audit?limit=1000",
            None,
        );
        all.as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["record"]["object"] == "department:D1"),
        "{v}"
    );
    assert_eq!(nodes.len(), 2, "records of both nodes: {nodes:?}");
    drop(n1);
    drop(n2);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}
