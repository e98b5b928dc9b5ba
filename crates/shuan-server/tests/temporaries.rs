//! Files as destruction targets and temporary data over HTTP (issue 13):
//!
//! - a `file` target must be a regular file in the node's job directory: a path outside
//!   it, with `..`, through a link, or already gone is refused, naming the field;
//! - a masking job given `temporary_days` records its output as a temporary; once it
//!   expires (injected clock) the node files its destruction once, as the platform,
//!   recorded in the ledger; the chief data officer approves, the security
//!   administrator executes, the file is gone and the certificate says so.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

const DAY: i64 = 86_400;

fn code_of(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {v}"))
}

async fn wait_done(t: &TestServer, token: &str, id: i64) -> Value {
    for _ in 0..600 {
        let (s, v) = t.get(token, &format!("/api/v1/jobs/{id}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v["status"] == "succeeded" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

/// Masks `in/people.csv` into `tmp/people.masked.csv`, kept 30 days; answers the job
/// once it succeeded.
async fn mask_for_30_days(t: &TestServer, steward: &str) -> Value {
    let (s, v) = t
        .post(
            steward,
            "/api/v1/jobs/mask",
            json!({"source": "in/people.csv", "department": "ROOT", "out": "tmp/people.masked.csv",
                   "temporary_days": 30}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    let done = wait_done(t, steward, v["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_temporary_output_is_filed_approved_and_erased() {
    let t = TestServer::start().await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let steward = t
        .user_with_role(&sys, &sec, "steward", "ROOT", "data_steward", false)
        .await;
    let cdo = t
        .user_with_role(&sys, &sec, "cdo", "ROOT", "chief_data_officer", false)
        .await;
    let files = t.data_dir().join("files");
    std::fs::create_dir_all(files.join("in")).unwrap();
    std::fs::create_dir_all(files.join("tmp")).unwrap();
    let mut csv = String::from("姓名,手机号\n");
    for i in 0..20 {
        csv.push_str(&format!("张{i},139{:08}\n", i));
    }
    std::fs::write(files.join("in/people.csv"), &csv).unwrap();

    // A file target is checked before anything is filed.
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(files.join("tmp/copy.csv"), "x").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path(), files.join("tmp/link.csv")).unwrap();
    for (path, code, field) in [
        (
            outside.path().display().to_string(),
            "invalid_input",
            "target.path",
        ),
        (
            "tmp/../../platform.db".to_string(),
            "invalid_input",
            "target.path",
        ),
        ("tmp/link.csv".to_string(), "invalid_input", "target.path"),
        (
            "tmp/nothing.csv".to_string(),
            "already_destroyed",
            "target.path",
        ),
        ("tmp".to_string(), "invalid_input", "target.path"),
    ] {
        let (s, v) = t
            .post(
                &sec,
                "/api/v1/destructions",
                json!({"target": {"kind": "file", "path": path}, "method": "delete_file", "reason": "测试副本"}),
            )
            .await;
        assert!(s.is_client_error(), "{path}: {v}");
        assert_eq!(code_of(&v), code, "{path}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{path}: {v}"
        );
    }
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/destructions",
            json!({"target": {"kind": "file", "path": "tmp/copy.csv"}, "method": "drop_table", "reason": "测试副本"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "the method follows the kind: {v}"
    );

    // A masking job whose output is temporary for 30 days.
    let clock = &t.platform().clock;
    let start = support::now() as i64;
    clock.set(start);
    let (s, v) = t
        .post(
            &steward,
            "/api/v1/jobs/mask",
            json!({"source": "in/people.csv", "department": "ROOT", "out": "tmp/people.masked.csv",
                   "temporary_days": 400}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    mask_for_30_days(&t, &steward).await;
    let out = files.join("tmp/people.masked.csv");
    assert!(out.is_file());
    let (s, list) = t.get(&aud, "/api/v1/temporaries").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["state"], "held");
    assert_eq!(
        list[0]["expires_at"],
        list[0]["created_at"].as_i64().unwrap() + 30 * DAY
    );
    let p = t.platform();
    assert_eq!(
        shuan_server::routes::temporaries::file_due(p)
            .await
            .unwrap(),
        0,
        "not expired yet"
    );
    // 31 days on: filed once, by the platform, recorded first.
    clock.set(start + 31 * DAY);
    assert_eq!(
        shuan_server::routes::temporaries::file_due(p)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        shuan_server::routes::temporaries::file_due(p)
            .await
            .unwrap(),
        0
    );
    let (_, list) = t.get(&aud, "/api/v1/temporaries").await;
    assert_eq!(list[0]["state"], "pending", "{list}");
    let id = list[0]["destruction_id"].as_i64().unwrap();
    let (_, audit) = t
        .get(&aud, "/api/v1/audit?action=destruction.request")
        .await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["record"]["object"] == json!(format!("temporary:{}", list[0]["id"]))),
        "{audit}"
    );
    let (s, d) = t.get(&cdo, &format!("/api/v1/destructions/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["requested_by"], "system");
    assert_eq!(d["method"], "delete_file");
    // Approved by the chief data officer, executed by the security administrator.
    let (s, v) = t
        .post(
            &cdo,
            &format!("/api/v1/destructions/{id}/approve"),
            json!({"note": "到期销毁"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/destructions/{id}/execute"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(!out.exists(), "the file is gone");
    let cert = v["certificate"].to_string();
    assert!(cert.contains("file_absent"), "{cert}");
    let (_, list) = t.get(&aud, "/api/v1/temporaries").await;
    assert_eq!(list[0]["state"], "executed", "{list}");
    // The input was never touched.
    assert_eq!(
        std::fs::read_to_string(files.join("in/people.csv")).unwrap(),
        csv
    );

    // The same output made again is a new file: it expires and is filed anew, not taken
    // for the one destroyed before. A hold written with another spelling of its path
    // keeps it until released.
    let done = mask_for_30_days(&t, &steward).await;
    assert!(out.is_file());
    let (s, hold) = t
        .post(
            &sec,
            "/api/v1/legal-holds",
            json!({"scope": {"kind": "file", "path": "./tmp//people.masked.csv"}, "reason": "审计调取"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    clock.set(start + 62 * DAY);
    assert_eq!(
        shuan_server::routes::temporaries::file_due(p)
            .await
            .unwrap(),
        0,
        "held"
    );
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/destructions",
            json!({"target": {"kind": "file", "path": out.display().to_string()}, "method": "delete_file", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (s, code_of(&v)),
        (StatusCode::CONFLICT, "legal_hold"),
        "the hold covers the absolute spelling too: {v}"
    );
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/legal-holds/{}/release", hold["id"]),
            json!({"note": "调取完毕"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        shuan_server::routes::temporaries::file_due(p)
            .await
            .unwrap(),
        1
    );
    let (_, list) = t.get(&aud, "/api/v1/temporaries").await;
    let second = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["job"] == done["id"])
        .unwrap();
    assert_eq!(second["state"], "pending", "{list}");
    assert_ne!(second["destruction_id"].as_i64(), Some(id));
    // A changed file is not destroyed by a request made for the file before.
    std::fs::write(&out, "changed").unwrap();
    let id2 = second["destruction_id"].as_i64().unwrap();
    let (s, v) = t
        .post(
            &cdo,
            &format!("/api/v1/destructions/{id2}/approve"),
            json!({"note": "到期销毁"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/destructions/{id2}/execute"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, code_of(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "destruction_failed"),
        "{v}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "changed");
    // A failed destruction is filed again, for the file as it is now.
    assert_eq!(
        shuan_server::routes::temporaries::file_due(p)
            .await
            .unwrap(),
        1
    );

    // The platform's own names are reserved.
    let (s, v) = t
        .post(
            &sys,
            "/api/v1/users",
            json!({"username": "system", "display_name": "系统", "department": "ROOT"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    clock.reset();
}
