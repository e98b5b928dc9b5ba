//! Security training (安全培训, R-36) over HTTP (issue 13), on each store backend: a
//! session is recorded with its attendees' evaluations by the security administrator
//! only; an unknown or repeated attendee is refused naming it; the yearly rule lists the
//! enabled accounts without a passed training in the last 365 days, and moves as the
//! (injected) clock does.

mod support;

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

const DAY: i64 = 86_400;

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| x["username"].as_str().unwrap().to_string())
        .collect()
}

async fn training(store: Option<String>) {
    let t = TestServer::start_with(shuan_server::Settings::default(), store).await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    let platform = Arc::clone(&t.server.as_ref().unwrap().platform);
    let now = platform.clock.now();
    let session = |attendees: Value| {
        json!({"title": "2026 年度数据安全培训", "topic": "政务数据分类分级与脱敏", "department": "ROOT",
               "held_at": now - 10 * DAY, "trainer": "市数据局 王老师", "attendees": attendees})
    };
    let attendees = json!([
        {"username": "sysadmin", "score": 92, "passed": true},
        {"username": "secadmin", "score": 40, "passed": false},
        {"username": "auditor", "passed": true}
    ]);
    for who in [&sys, &aud] {
        let (s, v) = t
            .post(who, "/api/v1/training-sessions", session(attendees.clone()))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    for (bad, field) in [
        (json!([{"username": "nobody", "passed": true}]), "nobody"),
        (
            json!([{"username": "auditor", "passed": true}, {"username": "auditor", "passed": false}]),
            "attendees[1]",
        ),
        (
            json!([{"username": "auditor", "score": 101, "passed": true}]),
            "attendees[0].score",
        ),
        (json!([]), "attendees"),
    ] {
        let (s, v) = t
            .post(&sec, "/api/v1/training-sessions", session(bad))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{field}: {v}"
        );
    }
    let (s, v) = t
        .post(&sec, "/api/v1/training-sessions", session(attendees))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["passed"], 2);
    let (s, list) = t.get(&aud, "/api/v1/training-sessions").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["attendees"].as_array().unwrap().len(), 3);

    // The one who failed is overdue; those who passed are not.
    let (s, v) = t.get(&aud, "/api/v1/training/overdue").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(names(&v), vec!["secadmin"]);
    // 356 days on, the session is 366 days old: everyone is overdue again.
    platform.clock.set(now + 356 * DAY);
    let (_, v) = t.get(&aud, "/api/v1/training/overdue").await;
    assert_eq!(names(&v), vec!["auditor", "secadmin", "sysadmin"]);
    assert_eq!(v[2]["last_passed_at"], now - 10 * DAY);
    assert_eq!(v[1]["last_passed_at"], Value::Null);
    platform.clock.reset();
}

#[tokio::test(flavor = "multi_thread")]
async fn training_is_recorded_and_the_yearly_rule_lists_who_is_overdue() {
    training(None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn training_on_the_postgres_store() {
    let store = tokio::task::spawn_blocking(|| fresh_postgres_database("shuan_training"))
        .await
        .unwrap();
    training(Some(store)).await;
}
