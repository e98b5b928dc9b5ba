//! Data quality (数据质量, R-07) over HTTP (issue 13), against a real server on each store
//! backend and real PostgreSQL and MariaDB sources with planted bad rows:
//! - a run finds exactly the planted rows (NULL, bad checksum, out of range, duplicate
//!   key, a pattern miss), answers masked samples (no planted identifier appears whole
//!   anywhere in the answer), files one alert and is in the ledger as `quality.run`;
//! - after the rows are mended the next run passes;
//! - rule sets are checked against the catalogued columns (the field is named), and a
//!   caller the policy refuses learns nothing of which sources exist (403 alike);
//! - a scheduled rule set runs once per due time when the (injected) clock passes it,
//!   however often the scheduler is asked;
//! - a table gone from the source makes a failed run that is kept with its reason.
//!
//! Sources and the PostgreSQL store are databases made per test.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::*;

/// A valid resident id (GB 11643 checksum) and one with a wrong check digit.
const GOOD_ID: &str = "11010519491231002X";
const BAD_ID: &str = "110105194912310021";
/// Too short: fails the identifier check and the pattern.
const SHORT_ID: &str = "1101051949123100";

/// 50 good rows (ids 1..=50), then 101: NULL 身份证号; 102: bad checksum; 103: age 200;
/// 103 again (duplicate 编号); 104: too short.
fn planted() -> Vec<(i32, Option<&'static str>, i32)> {
    let mut rows: Vec<(i32, Option<&'static str>, i32)> =
        (1..=50).map(|i| (i, Some(GOOD_ID), 20 + i)).collect();
    rows.extend([
        (101, None, 30),
        (102, Some(BAD_ID), 31),
        (103, Some(GOOD_ID), 200),
        (103, Some(GOOD_ID), 33),
        (104, Some(SHORT_ID), 34),
    ]);
    rows
}

fn seed_postgres() -> String {
    let url = fresh_postgres_database("shuan_quality_src");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(
        "CREATE TABLE residents (编号 integer, 姓名 text, 身份证号 text, 年龄 integer, 更新时间 timestamp DEFAULT now())",
    )
    .unwrap();
    for (id, sfzh, age) in planted() {
        c.execute(
            "INSERT INTO residents (编号, 姓名, 身份证号, 年龄) VALUES ($1, $2, $3, $4)",
            &[&id, &format!("张{id}"), &sfzh, &age],
        )
        .unwrap();
    }
    url
}

fn seed_mysql() -> String {
    use mysql::prelude::Queryable;
    let url = fresh_mysql_database("shuan_quality_src");
    let mut c = mysql_conn(&url);
    c.query_drop(
        "CREATE TABLE residents (编号 int, 姓名 varchar(32), 身份证号 varchar(18), 年龄 int, 更新时间 datetime DEFAULT CURRENT_TIMESTAMP)",
    )
    .unwrap();
    c.exec_batch(
        "INSERT INTO residents (编号, 姓名, 身份证号, 年龄) VALUES (?, ?, ?, ?)",
        planted()
            .into_iter()
            .map(|(id, sfzh, age)| (id, format!("张{id}"), sfzh, age)),
    )
    .unwrap();
    url
}

/// Runs SQL on the source with our own connection.
fn on_source(url: &str, sql: &str) {
    if url.starts_with("postgres") {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.batch_execute(sql).unwrap();
    } else {
        use mysql::prelude::Queryable;
        mysql_conn(url).query_drop(sql).unwrap();
    }
}

fn code_of(v: &Value) -> &str {
    v["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {v}"))
}

fn rules() -> Value {
    json!([
        {"column": "身份证号", "check": {"kind": "not_null"}},
        {"column": "编号", "check": {"kind": "unique"}},
        {"column": "身份证号", "check": {"kind": "identifier", "data_type": "cn_resident_id"}},
        {"column": "年龄", "check": {"kind": "range", "min": 0, "max": 150}},
        {"column": "身份证号", "check": {"kind": "pattern", "regex": "\\d{17}[\\dX]"}},
        {"column": "更新时间", "check": {"kind": "freshness", "max_age_hours": 24}}
    ])
}

async fn quality(src: String, store: Option<String>) {
    let t = TestServer::start_with(shuan_server::Settings::default(), store).await;
    let sys = t.admin("sysadmin").await;
    let sec = t.admin("secadmin").await;
    let aud = t.admin("auditor").await;
    for (code, name) in [("PROV", "市人社局"), ("OTHER", "市民政局")] {
        let (s, v) = t
            .post(
                &sys,
                "/api/v1/departments",
                json!({"code": code, "name": name, "parent": "ROOT"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let steward = t
        .user_with_role(&sys, &sec, "steward", "PROV", "data_steward", false)
        .await;
    // A steward whose data scope is their own department only.
    let (s, v) = t
        .post(
            &sys,
            "/api/v1/users",
            json!({"username": "outsider", "display_name": "测试", "department": "OTHER"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let otp = v["one_time_password"].as_str().unwrap().to_string();
    let (s, v) = t
        .post(
            &sec,
            "/api/v1/users/outsider/roles",
            json!({"role": "data_steward", "department": "OTHER", "scope": {"kind": "own_department"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let outsider = t.activate("outsider", &otp, false).await.0;
    let (s, v) = t
        .post(
            &steward,
            "/api/v1/sources",
            json!({"name": "people", "url": src, "department": "PROV", "profile": "xinyang"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let source_id = v["source"]["id"].clone();
    let (s, list) = t.get(&steward, "/api/v1/catalogue").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let table = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source_id"] == source_id && e["name"] == "residents")
        .unwrap_or_else(|| panic!("residents is not catalogued: {list}"))["locator"]
        .as_str()
        .unwrap()
        .to_string();
    let new_set = |name: &str, source: &str, rules: Value, interval: Option<i64>| json!({"name": name, "source": source, "table": table, "key_column": "编号", "rules": rules, "interval_hours": interval});

    // Refused alike whether the source exists: the auditor may not make rule sets.
    for source in ["people", "nope"] {
        let (s, v) = t
            .post(
                &aud,
                "/api/v1/quality/rule-sets",
                new_set("x", source, rules(), None),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{source}: {v}");
    }
    // Nor may a steward of another department on this one.
    let (s, v) = t
        .post(
            &outsider,
            "/api/v1/quality/rule-sets",
            new_set("x", "people", rules(), None),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = t
        .post(
            &steward,
            "/api/v1/quality/rule-sets",
            new_set("x", "nope", rules(), None),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // Rules are checked against the catalogued columns; the field is named.
    let mut bad = rules();
    bad[1]["column"] = json!("不存在");
    let (s, v) = t
        .post(
            &steward,
            "/api/v1/quality/rule-sets",
            new_set("x", "people", bad, None),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rules[1].column"),
        "{v}"
    );
    let mut bad = rules();
    bad[4]["check"]["regex"] = json!("(");
    let (s, v) = t
        .post(
            &steward,
            "/api/v1/quality/rule-sets",
            new_set("x", "people", bad, None),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rules[4].check.regex"),
        "{v}"
    );
    let (s, v) = t
        .post(
            &steward,
            "/api/v1/quality/rule-sets",
            new_set(
                "x",
                "people",
                json!([{"column": "年龄", "check": {"kind": "median"}}]),
                None,
            ),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let (s, v) = t
        .post(
            &steward,
            "/api/v1/quality/rule-sets",
            new_set("人口质量", "people", rules(), None),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let set = v["id"].as_i64().unwrap();
    assert_eq!(v["department"], "PROV");
    assert_eq!(v["next_run_at"], Value::Null);

    // The outsider neither sees nor runs it.
    let (_, list) = t.get(&outsider, "/api/v1/quality/rule-sets").await;
    assert_eq!(list, json!([]));
    let (s, v) = t
        .post(
            &outsider,
            &format!("/api/v1/quality/rule-sets/{set}/run"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    let (s, run) = t
        .post(
            &steward,
            &format!("/api/v1/quality/rule-sets/{set}/run"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{run}");
    assert_eq!(run["status"], "violations", "{run}");
    assert_eq!(run["rows_checked"], 55);
    let counts: Vec<i64> = run["report"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["violations"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, vec![1, 1, 2, 1, 1, 0], "{run}");
    assert_eq!(run["violations"], 6);
    // Samples are keyed and masked: no planted identifier is shown whole.
    let text = run.to_string();
    for id in [BAD_ID, SHORT_ID, GOOD_ID] {
        assert!(!text.contains(id), "{id} shown unmasked: {text}");
    }
    let keys: Vec<&str> = run["report"]["results"][2]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["102", "104"]);
    assert_eq!(run["report"]["results"][0]["samples"][0]["key"], "101");
    assert_eq!(run["report"]["results"][1]["samples"][0]["count"], 2);

    // One alert for the department, and the run in the ledger.
    let alert = run["alert_id"].as_i64().expect("an alert was filed");
    let (s, a) = t.get(&sec, &format!("/api/v1/alerts/{alert}")).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["alert"]["rule"], "data_quality_violation", "{a}");
    assert_eq!(a["alert"]["department"], "PROV", "{a}");
    let (s, audit) = t.get(&aud, "/api/v1/audit?action=quality.run").await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    assert!(audit.to_string().contains("steward"), "{audit}");
    // The auditor reads runs (oversight), never makes them.
    let (s, runs) = t
        .get(&aud, &format!("/api/v1/quality/runs?rule_set={set}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{runs}");
    assert_eq!(runs.as_array().unwrap().len(), 1);
    let (s, v) = t
        .post(
            &aud,
            &format!("/api/v1/quality/rule-sets/{set}/run"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    // Mended at the source, the next run passes.
    let src2 = src.clone();
    tokio::task::spawn_blocking(move || {
        on_source(&src2, "DELETE FROM residents WHERE 编号 > 100");
        on_source(
            &src2,
            "INSERT INTO residents (编号, 姓名, 身份证号, 年龄) VALUES (103, '张103', '11010519491231002X', 33)",
        );
    })
    .await
    .unwrap();
    let (s, run) = t
        .post(
            &steward,
            &format!("/api/v1/quality/rule-sets/{set}/run"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{run}");
    assert_eq!(run["status"], "passed", "{run}");
    assert_eq!(run["rows_checked"], 51);
    assert_eq!(run["alert_id"], Value::Null);

    // Scheduled: due an hour after saving; the clock passes it; one run per due time.
    let platform = std::sync::Arc::clone(&t.server.as_ref().unwrap().platform);
    let start = platform.clock.now();
    let (s, v) = t
        .post(
            &steward,
            "/api/v1/quality/rule-sets",
            new_set(
                "每小时",
                "people",
                json!([{"column": "年龄", "check": {"kind": "range", "min": 0, "max": 150}}]),
                Some(1),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let hourly = v["id"].as_i64().unwrap();
    let due = v["next_run_at"].as_i64().unwrap();
    assert!(due >= start + 3600 && due <= start + 3600 + 60, "{v}");
    assert!(shuan_server::routes::quality::run_due(&platform)
        .await
        .unwrap()
        .is_empty());
    // Three hours later (the node was down for two due times): one run, not three.
    platform.clock.set(due + 2 * 3600 + 30);
    let mut made = shuan_server::routes::quality::run_due(&platform)
        .await
        .unwrap()
        .len();
    made += shuan_server::routes::quality::run_due(&platform)
        .await
        .unwrap()
        .len();
    // The node's own background pass may have taken it first: wait for its run.
    let mut runs = Value::Null;
    for _ in 0..100 {
        let (_, r) = t
            .get(&steward, &format!("/api/v1/quality/runs?rule_set={hourly}"))
            .await;
        runs = r;
        if !runs.as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(made <= 1);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["run_by"], "scheduler");
    assert_eq!(runs[0]["status"], "passed");
    let (_, v) = t
        .get(&steward, &format!("/api/v1/quality/rule-sets/{hourly}"))
        .await;
    assert_eq!(v["next_run_at"], due + 3 * 3600, "{v}");
    platform.clock.reset();

    // The table gone: a failed run, kept with its reason.
    let src4 = src.clone();
    tokio::task::spawn_blocking(move || on_source(&src4, "DROP TABLE residents"))
        .await
        .unwrap();
    let (s, v) = t
        .post(
            &steward,
            &format!("/api/v1/quality/rule-sets/{set}/run"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code_of(&v), "quality_run_failed");
    let (_, runs) = t
        .get(
            &steward,
            &format!("/api/v1/quality/runs?rule_set={set}&limit=1"),
        )
        .await;
    assert_eq!(runs[0]["status"], "failed", "{runs}");
    assert!(
        runs[0]["error"].as_str().unwrap().contains("residents"),
        "{runs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
async fn quality_rules_find_planted_rows_in_postgres() {
    let src = tokio::task::spawn_blocking(seed_postgres).await.unwrap();
    quality(src, None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
async fn quality_rules_find_planted_rows_in_mariadb() {
    let src = tokio::task::spawn_blocking(seed_mysql).await.unwrap();
    quality(src, None).await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    any(not(shuan_test_postgres), not(shuan_test_mysql)),
    ignore = "needs SHUAN_TEST_POSTGRES and SHUAN_TEST_MYSQL (see README)"
)]
async fn quality_rules_find_planted_rows_in_mariadb_with_the_postgres_store() {
    let src = tokio::task::spawn_blocking(seed_mysql).await.unwrap();
    let store = tokio::task::spawn_blocking(|| fresh_postgres_database("shuan_quality_store"))
        .await
        .unwrap();
    quality(src, Some(store)).await;
}
