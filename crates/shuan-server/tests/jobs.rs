//! Jobs over HTTP: a scan saved to the inventory, a masking run, a backup, each with its
//! progress and its start and end in the audit; denials, bad inputs, secrets of database
//! URLs, and jobs interrupted by a stop.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::TestServer;

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// A small CSV of residents: names, mobiles, ID numbers.
fn residents_csv(path: &Path) {
    let mut text = String::from("姓名,手机号,身份证号,城市\n");
    for i in 0..60u64 {
        text.push_str(&format!(
            "张{i},139{:08},41150219900307{:04},信阳\n",
            (i * 7919) % 100_000_000,
            1000 + i
        ));
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A server with a data steward (scope all of ROOT); answers (server, sysadmin,
/// auditor, steward).
async fn setup() -> (TestServer, String, String, String) {
    let (t, sys, _sec, aud, steward) = setup_with_secadmin().await;
    (t, sys, aud, steward)
}

async fn setup_with_secadmin() -> (TestServer, String, String, String, String) {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let steward = t
        .user_with_role(&sys, &sec, "steward", "ROOT", "data_steward", false)
        .await;
    (t, sys, sec, aud, steward)
}

async fn start_job(
    t: &TestServer,
    token: &str,
    kind: &str,
    body: Value,
    request_id: &str,
) -> (StatusCode, Value) {
    t.call_from(
        &t.client,
        Some(token),
        Method::POST,
        &format!("/api/v1/jobs/{kind}"),
        Some(body),
        &[("x-request-id", request_id)],
    )
    .await
}

/// Polls a job until it is done; every answer on the way is a well-formed job.
async fn wait_done(t: &TestServer, token: &str, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let (s, v) = t.get(token, &format!("/api/v1/jobs/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let p = v["progress"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{v}");
        match v["status"].as_str().unwrap() {
            "succeeded" | "failed" => return v,
            "queued" | "running" => {}
            other => panic!("status {other}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "job {id} not done: {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_job_saves_a_csv_to_the_inventory_with_its_progress_and_records() {
    let (t, _sys, aud, steward) = setup().await;
    residents_csv(&t.data_dir().join("files/residents.csv"));
    let (s, v) = start_job(
        &t,
        &steward,
        "scan",
        json!({"source": "residents.csv", "department": "ROOT"}),
        "req-scan-1",
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["kind"], "scan");
    assert_eq!(v["status"], "queued");
    assert_eq!(v["owner"], "steward");
    assert_eq!(v["department"], "ROOT");
    let id = v["id"].as_i64().unwrap();
    let done = wait_done(&t, &steward, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"].as_f64(), Some(1.0));
    assert!(done["result"]["scan_id"].as_i64().unwrap() > 0, "{done}");
    assert!(done["result"]["sensitive_columns"].as_u64().unwrap() >= 2);
    // Saved like `shuan scan --save`: the table is in the inventory.
    let (s, v) = t.get(&steward, "/api/v1/inventory").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["items"].as_array().unwrap();
    let row = items
        .iter()
        .find(|r| r["table"] == "residents")
        .unwrap_or_else(|| panic!("no residents in {v}"));
    assert_eq!(row["rows"], 60);
    assert!(row["sensitive_columns"].as_u64().unwrap() >= 2, "{row}");
    // The job is in the steward's list.
    let (s, v) = t.get(&steward, "/api/v1/jobs?kind=scan").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v.as_array().unwrap().iter().any(|j| j["id"] == id), "{v}");
    // Start and end are recorded under the request id.
    let records = t.audit_of(&aud, "req-scan-1").await;
    let start = records
        .iter()
        .find(|r| {
            r["action"] == "scan.run"
                && r["outcome"] == "allowed"
                && r["object"] != json!(format!("job:{id}"))
        })
        .unwrap_or_else(|| panic!("no start record: {records:?}"));
    assert_eq!(start["details"]["department"], "ROOT");
    let end = records
        .iter()
        .find(|r| r["object"] == json!(format!("job:{id}")))
        .unwrap_or_else(|| panic!("no end record: {records:?}"));
    assert_eq!(end["action"], "scan.run");
    assert_eq!(end["outcome"], "allowed");
    assert_eq!(end["details"]["status"], "succeeded");
    assert_eq!(end["details"]["scan_id"], done["result"]["scan_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_masking_job_writes_a_masked_file_never_over_its_input() {
    let (t, _sys, aud, steward) = setup().await;
    let input = t.data_dir().join("files/in/residents.csv");
    residents_csv(&input);
    let body = json!({"source": "in/residents.csv", "department": "ROOT", "out": "out/residents.masked.csv"});
    std::fs::create_dir_all(t.data_dir().join("files/out")).unwrap();
    let (s, v) = start_job(&t, &steward, "mask", body.clone(), "req-mask-1").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let done = wait_done(&t, &steward, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"].as_f64(), Some(1.0));
    let out = t.data_dir().join("files/out/residents.masked.csv");
    let masked = std::fs::read_to_string(&out).unwrap();
    assert!(masked.lines().count() == 61, "{masked}");
    assert!(!masked.contains("411502199003071000"), "{masked}");
    assert!(!masked.contains("13900000000"), "{masked}");
    assert_eq!(done["result"]["tables"][0]["rows"], 60);
    // The masking log record is the end record.
    let records = t.audit_of(&aud, "req-mask-1").await;
    let end = records
        .iter()
        .find(|r| r["object"] == json!(format!("job:{id}")))
        .unwrap_or_else(|| panic!("no end record: {records:?}"));
    assert_eq!(end["action"], "mask.run");
    assert_eq!(end["details"]["operator"], "steward");
    assert_eq!(end["details"]["scenario"], "sharing");
    assert!(end["details"]["tables"][0]["columns"].is_array(), "{end}");
    // Lineage: the output traces back to the input table, recorded by the job.
    let output = done["result"]["destinations"][0]
        .as_str()
        .unwrap()
        .to_string();
    let (s, v) = t
        .call(
            Some(&aud),
            reqwest::Method::GET,
            &format!("/api/v1/lineage?dataset={}", urlencode(&output)),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let up = v["upstream"].as_array().unwrap();
    assert_eq!(up.len(), 1, "{v}");
    assert_eq!(up[0]["operation"], "mask");
    assert_eq!(up[0]["automatic"], true);
    assert_eq!(up[0]["department"], "ROOT");
    assert_eq!(up[0]["parameters"]["scenario"], "sharing");
    assert_eq!(up[0]["parameters"]["rows"], 60);
    let origin = up[0]["inputs"][0].as_str().unwrap();
    assert!(origin.contains("residents"), "{v}");
    assert_eq!(v["origins"], json!([origin]), "{v}");
    // The output now exists: replaced only with force.
    let (s, v) = start_job(&t, &steward, "mask", body.clone(), "req-mask-2").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "output_exists"),
        "{v}"
    );
    let mut forced = body.clone();
    forced["force"] = json!(true);
    let (s, v) = start_job(&t, &steward, "mask", forced, "req-mask-3").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let again = wait_done(&t, &steward, v["id"].as_i64().unwrap()).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    // Never over the input, even with force.
    let (s, v) = start_job(
        &t,
        &steward,
        "mask",
        json!({"source": "in/residents.csv", "department": "ROOT", "out": "in/residents.csv", "force": true}),
        "req-mask-4",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "output_is_input"),
        "{v}"
    );
    let records = t.audit_of(&aud, "req-mask-4").await;
    assert!(
        records.iter().any(|r| r["outcome"] == "error"),
        "the refusal after authorization is recorded: {records:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&input)
            .unwrap()
            .lines()
            .nth(1)
            .unwrap(),
        "张0,13900000000,411502199003071000,信阳"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_job_writes_a_signed_archive_that_verifies() {
    let (t, sys, aud, _steward) = setup().await;
    let (s, v) = start_job(&t, &sys, "backup", json!({}), "req-backup-1").await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let done = wait_done(&t, &sys, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["progress"].as_f64(), Some(1.0));
    let archive = std::path::PathBuf::from(done["result"]["archive"].as_str().unwrap());
    assert!(archive.starts_with(std::fs::canonicalize(t.data_dir().join("files")).unwrap()));
    assert!(Path::new(done["result"]["signature"].as_str().unwrap()).exists());
    assert!(done["result"]["files"].as_u64().unwrap() > 0);
    let keyring = shuan_crypto::keyring::Keyring::open(t.data_dir(), || None).unwrap();
    let vk = shuan_crypto::node::load_node_public_key(t.data_dir()).unwrap();
    let verified = shuan_crypto::backup::verify(&archive, &keyring, &vk).unwrap();
    assert_eq!(verified.archive_sm3, done["result"]["archive_sm3"]);
    // Listed for restore drills in the backup log.
    let log = shuan_crypto::backup::read_log(t.data_dir()).unwrap();
    assert!(log.iter().any(|r| r.archive == archive && r.result == "ok"));
    let records = t.audit_of(&aud, "req-backup-1").await;
    assert!(
        records.iter().any(|r| r["action"] == "backup.create"
            && r["object"] == json!(format!("job:{id}"))
            && r["outcome"] == "allowed"),
        "{records:?}"
    );
    // An archive that exists is replaced only with force.
    let (s, v) = start_job(
        &t,
        &sys,
        "backup",
        json!({"out": archive.display().to_string()}),
        "req-backup-2",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "output_exists"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_without_the_action_get_403_and_a_denied_record() {
    let (t, sys, sec, aud, steward) = setup_with_secadmin().await;
    let user = t
        .user_with_role(&sys, &sec, "reader", "ROOT", "data_user", false)
        .await;
    residents_csv(&t.data_dir().join("files/residents.csv"));
    let scan = json!({"source": "residents.csv", "department": "ROOT"});
    for (token, kind, body, rid) in [
        (&user, "scan", scan.clone(), "deny-1"),
        (&sys, "scan", scan.clone(), "deny-2"),
        (&steward, "backup", json!({}), "deny-3"),
        (
            &user,
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "x.csv"}),
            "deny-4",
        ),
    ] {
        let (s, v) = start_job(&t, token, kind, body, rid).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{rid}: {v}"
        );
        let records = t.audit_of(&aud, rid).await;
        assert_eq!(records.len(), 1, "{records:?}");
        assert_eq!(records[0]["outcome"], "denied");
    }
    let (s, v) = t.get(&user, "/api/v1/jobs").await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "forbidden"), "{v}");
    // Nothing was filed.
    let (_, v) = t.get(&sys, "/api/v1/jobs").await;
    assert_eq!(v, json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_inputs_get_a_4xx_with_a_code_never_a_5xx() {
    let (t, sys, _aud, steward) = setup().await;
    residents_csv(&t.data_dir().join("files/residents.csv"));
    let cases = [
        (
            "scan",
            json!({"source": "missing.csv", "department": "ROOT"}),
            404,
            "not_found",
        ),
        (
            "scan",
            json!({"source": "residents.csv", "department": "NOPE"}),
            404,
            "not_found",
        ),
        (
            "scan",
            json!({"source": "../platform.db", "department": "ROOT"}),
            400,
            "path_not_allowed",
        ),
        (
            "scan",
            json!({"source": "../audit", "department": "ROOT"}),
            400,
            "path_not_allowed",
        ),
        (
            "scan",
            json!({"source": "/etc/passwd", "department": "ROOT"}),
            400,
            "path_not_allowed",
        ),
        (
            "scan",
            json!({"source": "/no/such/dir/x.csv", "department": "ROOT"}),
            400,
            "path_not_allowed",
        ),
        (
            "scan",
            json!({"source": "sqlite://../platform.db", "department": "ROOT"}),
            400,
            "path_not_allowed",
        ),
        (
            "scan",
            json!({"source": "ftp://host/x.csv", "department": "ROOT"}),
            400,
            "invalid_input",
        ),
        // The server connects to loopback databases only unless --source-hosts says
        // otherwise: a steward's URL cannot make it probe other hosts.
        (
            "scan",
            json!({"source": "postgres://u:secret@169.254.169.254:5432/x", "department": "ROOT"}),
            400,
            "source_host_not_allowed",
        ),
        (
            "scan",
            json!({"source": "mysql://root@127.0.0.1/db?socket=/tmp/s&host=10.0.0.9", "department": "ROOT"}),
            400,
            "source_host_not_allowed",
        ),
        (
            "scan",
            json!({"source": "", "department": "ROOT"}),
            400,
            "invalid_input",
        ),
        (
            "scan",
            json!({"source": "a\u{0}b", "department": "ROOT"}),
            400,
            "invalid_input",
        ),
        (
            "scan",
            json!({"source": "residents.csv", "department": "ROOT", "sample": 0}),
            400,
            "invalid_input",
        ),
        (
            "scan",
            json!({"source": "residents.csv", "department": "ROOT", "encoding": "latin9"}),
            400,
            "invalid_input",
        ),
        (
            "scan",
            json!({"source": "residents.csv", "department": "ROOT", "profile": "nope"}),
            400,
            "invalid_input",
        ),
        (
            "scan",
            json!({"source": "residents.csv", "department": "ROOT", "extra": 1}),
            400,
            "unknown_field",
        ),
        ("scan", json!({"department": "ROOT"}), 400, "bad_request"),
        (
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "residents.csv"}),
            400,
            "output_is_input",
        ),
        (
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "../x.csv"}),
            400,
            "path_not_allowed",
        ),
        (
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "a/../../x.csv"}),
            400,
            "path_not_allowed",
        ),
        (
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "/tmp/x.csv"}),
            400,
            "path_not_allowed",
        ),
        (
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "x.csv", "scenario": "nope"}),
            400,
            "invalid_input",
        ),
        (
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "x.csv", "rules": "none.toml"}),
            404,
            "not_found",
        ),
        (
            "mask",
            json!({"source": "residents.csv", "department": "ROOT", "out": "x.csv", "format": "xml"}),
            400,
            "invalid_input",
        ),
        (
            "mask",
            json!({"source": "missing.csv", "department": "ROOT", "out": "x.csv"}),
            404,
            "not_found",
        ),
    ];
    for (i, (kind, body, status, want)) in cases.into_iter().enumerate() {
        let (s, v) = start_job(&t, &steward, kind, body.clone(), &format!("bad-{i}")).await;
        assert_eq!((s.as_u16(), code(&v)), (status, want), "{kind} {body}: {v}");
    }
    let (s, v) = start_job(
        &t,
        &sys,
        "backup",
        json!({"out": "../escape.bak"}),
        "bad-b1",
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "path_not_allowed"),
        "{v}"
    );
    let (s, v) = start_job(&t, &sys, "backup", json!({"out": "."}), "bad-b2").await;
    assert!(s.is_client_error(), "{s} {v}");
    for path in [
        "/api/v1/jobs/999999",
        "/api/v1/jobs/abc",
        "/api/v1/jobs?limit=0",
        "/api/v1/jobs?status=x",
        "/api/v1/jobs?what=1",
    ] {
        let (s, v) = t.get(&steward, path).await;
        assert!(s.is_client_error(), "{path}: {s} {v}");
        assert!(!code(&v).is_empty(), "{path}: {v}");
    }
    // A missing output directory is made; the masked file lands there.
    let (s, v) = start_job(
        &t,
        &steward,
        "mask",
        json!({"source": "residents.csv", "department": "ROOT", "out": "new/dir/", "format": "jsonl"}),
        "ok-dir",
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let done = wait_done(&t, &steward, v["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert!(t.data_dir().join("files/new/dir/residents.jsonl").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_job_keeps_its_error_and_never_the_database_password() {
    let (t, _sys, aud, steward) = setup().await;
    let url = "postgres://alice:TopSecret-42@127.0.0.1:1/hr?sslmode=disable";
    let (s, v) = start_job(
        &t,
        &steward,
        "scan",
        json!({"source": url, "department": "ROOT"}),
        "req-secret",
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert!(!v.to_string().contains("TopSecret"), "{v}");
    let done = wait_done(&t, &steward, v["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert!(!done["error"].as_str().unwrap().is_empty());
    assert!(!done.to_string().contains("TopSecret"), "{done}");
    assert_eq!(
        done["params"]["source"],
        "postgres://alice@127.0.0.1:1/hr?sslmode=disable"
    );
    let records = t.audit_of(&aud, "req-secret").await;
    assert!(
        records.iter().any(|r| r["outcome"] == "error"),
        "{records:?}"
    );
    assert!(!format!("{records:?}").contains("TopSecret"));
}

/// A real stop and start: the first runtime (with the server's background tasks, which
/// hold the node's ledger) ends before the second server opens the data directory.
#[test]
fn jobs_interrupted_by_a_stop_are_failed_at_the_next_start() {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = runtime();
    let (mut t, sys, aud, id, other) = first.block_on(async {
        let (mut t, sys, aud, _steward) = setup().await;
        let node = t.platform().node.clone();
        let store = std::sync::Arc::clone(&t.platform().store);
        let then = support::now() as i64 - 60;
        let job = shuan_store::platform::Job {
            id: 0,
            kind: "scan".into(),
            owner: "steward".into(),
            department: "ROOT".into(),
            status: "running".into(),
            progress: Some(0.4),
            params: json!({"source": "x.csv", "node": node, "request_id": "req-lost"}),
            result: None,
            error: None,
            created_at: then,
            updated_at: then,
        };
        let id = store.create_job(&job).unwrap();
        let other = store
            .create_job(&shuan_store::platform::Job {
                params: json!({"node": "another-node"}),
                ..job.clone()
            })
            .unwrap();
        drop(store);
        t.server.take().unwrap().stop().await.unwrap();
        (t, sys, aud, id, other)
    });
    drop(first);
    runtime().block_on(async {
        t.client = reqwest::Client::new();
        let server = shuan_server::start(shuan_server::ServerConfig {
            data_dir: t.data_dir().to_path_buf(),
            store_url: None,
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: None,
            insecure_plain_http: false,
            settings: shuan_server::Settings::default(),
        })
        .await
        .unwrap();
        t.base = format!("http://{}", server.addr);
        t.server = Some(server);
        let done = wait_done(&t, &sys, id).await;
        assert_eq!(done["status"], "failed");
        assert!(
            done["error"].as_str().unwrap().contains("interrupted"),
            "{done}"
        );
        // Another node's job is that node's business.
        let (_, v) = t.get(&sys, &format!("/api/v1/jobs/{other}")).await;
        assert_eq!(v["status"], "running", "{v}");
        let records = t.audit_of(&aud, "req-lost").await;
        assert!(
            records
                .iter()
                .any(|r| r["outcome"] == "error" && r["object"] == json!(format!("job:{id}"))),
            "{records:?}"
        );
    });
}

/// Percent-encodes a query value (paths hold `/` and non-ASCII names).
fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
