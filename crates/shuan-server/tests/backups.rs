//! Backup plans and restore drills over HTTP (issue 13), on each store backend:
//! - a plan's backups are made when due (the injected clock), once per due time however
//!   often the scheduler is asked, and retention deletes the oldest archive and its
//!   signature, recorded in the ledger first;
//! - a drill restores the newest archive into a scratch directory, digests it and passes;
//!   the scratch directory is gone afterwards;
//! - a drill of an archive with one changed byte is recorded as failed and raises a
//!   `restore_drill_failed` alert;
//! - only the system administrator makes plans and drills; the auditor reads them.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

const HOUR: i64 = 3600;

/// The plan's archives once the scheduler has settled on `expected` of them.
async fn archives(t: &TestServer, token: &str, plan: i64, expected: usize) -> Vec<Value> {
    let mut last = Value::Null;
    for _ in 0..300 {
        let (s, v) = t
            .get(token, &format!("/api/v1/backup-plans/{plan}/backups"))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if v.as_array().unwrap().len() == expected {
            return v.as_array().unwrap().clone();
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {expected} archives: {last}");
}

async fn plans(store: Option<String>) {
    let t = TestServer::start_with(shuan_server::Settings::default(), store).await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let platform = Arc::clone(&t.server.as_ref().unwrap().platform);
    let body = json!({"name": "每日全量", "backup_interval_hours": 24, "retention": 2, "drill_interval_hours": 24});
    for bad in [
        json!({"name": "x", "backup_interval_hours": 0, "retention": 2, "drill_interval_hours": 24}),
        json!({"name": "x", "backup_interval_hours": 24, "retention": 0, "drill_interval_hours": 24}),
        json!({"name": "", "backup_interval_hours": 24, "retention": 2, "drill_interval_hours": 24}),
    ] {
        let (s, v) = t.post(&sys, "/api/v1/backup-plans", bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    }
    for who in [&sec, &aud] {
        let (s, v) = t.post(who, "/api/v1/backup-plans", body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    let (s, v) = t.post(&sys, "/api/v1/backup-plans", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let plan = v["id"].as_i64().unwrap();
    let start = v["next_backup_at"].as_i64().unwrap();
    let (s, v) = t.post(&sys, "/api/v1/backup-plans", body).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // The first backup is due at once; asking twice makes one.
    shuan_server::routes::backups::run_due(&platform)
        .await
        .unwrap();
    shuan_server::routes::backups::run_due(&platform)
        .await
        .unwrap();
    let first = archives(&t, &aud, plan, 1).await;
    let first_path = first[0]["archive"].as_str().unwrap().to_string();
    assert!(Path::new(&first_path).exists());

    // A drill now restores and digests it.
    let (s, v) = t
        .post(
            &sec,
            &format!("/api/v1/backup-plans/{plan}/drill"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, d) = t
        .post(
            &sys,
            &format!("/api/v1/backup-plans/{plan}/drill"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["status"], "passed", "{d}");
    assert!(d["files"].as_i64().unwrap() >= 3, "{d}");
    assert_eq!(d["tree_sm3"].as_str().unwrap().len(), 64);
    assert_eq!(d["archive_sm3"], first[0]["archive_sm3"]);
    let scratch = t.data_dir().join("files").join("drills");
    assert_eq!(
        std::fs::read_dir(&scratch).map(|d| d.count()).unwrap_or(0),
        0,
        "the scratch restore is removed"
    );

    // A day later: the second backup, then the day's drill of it.
    platform.clock.set(start + 24 * HOUR + 30);
    shuan_server::routes::backups::run_due(&platform)
        .await
        .unwrap();
    let two = archives(&t, &aud, plan, 2).await;
    let mut drills = Value::Null;
    for _ in 0..300 {
        let (_, v) = t
            .get(&aud, &format!("/api/v1/restore-drills?plan={plan}"))
            .await;
        drills = v;
        if drills.as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(drills.as_array().unwrap().len(), 2, "{drills}");
    assert_eq!(drills[0]["run_by"], "scheduler");
    assert_eq!(drills[0]["status"], "passed", "{drills}");
    assert_eq!(drills[0]["archive"], two[0]["archive"]);

    // Two days later: a third backup; retention 2 deletes the first, recorded first.
    platform.clock.set(start + 48 * HOUR + 30);
    shuan_server::routes::backups::run_due(&platform)
        .await
        .unwrap();
    let three = archives(&t, &aud, plan, 3).await;
    let mut pruned = Vec::new();
    for _ in 0..300 {
        let (_, v) = t
            .get(&aud, &format!("/api/v1/backup-plans/{plan}/backups"))
            .await;
        pruned = v
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| !b["pruned_at"].is_null())
            .cloned()
            .collect();
        if !pruned.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pruned.len(), 1, "{three:?}");
    assert_eq!(pruned[0]["archive"], first_path.as_str());
    assert!(!Path::new(&first_path).exists());
    assert!(!shuan_crypto::backup::signature_path(Path::new(&first_path)).exists());
    let (s, audit) = t.get(&aud, "/api/v1/audit?action=backup.prune").await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    assert!(audit.to_string().contains(&first_path), "{audit}");
    platform.clock.reset();

    // One changed byte in the newest archive: the drill fails, is kept, raises an alert.
    let newest = three[0]["archive"].as_str().unwrap().to_string();
    let mut bytes = std::fs::read(&newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&newest, bytes).unwrap();
    let (s, d) = t
        .post(
            &sys,
            &format!("/api/v1/backup-plans/{plan}/drill"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    assert_eq!(d["status"], "failed", "{d}");
    assert!(!d["error"].as_str().unwrap().is_empty(), "{d}");
    let alert = d["alert_id"]
        .as_i64()
        .expect("a failed drill raises an alert");
    let (s, a) = t.get(&sec, &format!("/api/v1/alerts/{alert}")).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["alert"]["rule"], "restore_drill_failed", "{a}");
    assert_eq!(
        std::fs::read_dir(&scratch).map(|d| d.count()).unwrap_or(0),
        0,
        "a failed drill leaves no scratch restore"
    );
    let (_, list) = t
        .get(&aud, &format!("/api/v1/restore-drills?plan={plan}&limit=1"))
        .await;
    assert_eq!(list[0]["status"], "failed", "{list}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_back_up_keep_and_drill() {
    plans(None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn plans_back_up_keep_and_drill_on_the_postgres_store() {
    let store = tokio::task::spawn_blocking(|| fresh_postgres_database("shuan_backups"))
        .await
        .unwrap();
    plans(Some(store)).await;
}
