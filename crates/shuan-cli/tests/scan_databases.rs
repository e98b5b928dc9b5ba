//! `shuan scan` against the real PostgreSQL and MariaDB/MySQL servers named by
//! SHUAN_TEST_POSTGRES and SHUAN_TEST_MYSQL. Unset when the tests were built: ignored
//! (`build.rs` sets the `shuan_test_*` cfg), so the skip is visible. Set but unreachable:
//! the test fails. Fixtures live in objects named `shuan_cli_*` with
//! the process id, dropped at the end.

#[path = "scan_common.rs"]
mod common;

use common::*;
use mysql::prelude::Queryable;

/// The server URL of a test that is only compiled in (not ignored) when `name` was set.
fn env_url(name: &str) -> String {
    match std::env::var(name) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{name} was set when this test was built but is unset now; set it again"),
    }
}

/// The URL with a user that does not exist and a password, to prove a failed login is one
/// clean error that does not print the password (test servers often trust local users, so
/// a wrong password alone may still get in).
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://shuan_no_such_user:{password}@{host}")
}

fn check_people(doc: &serde_json::Value, name: &str) {
    let t = table(doc, name);
    check_contract(t);
    assert_eq!(column(t, "sfzh")["type"], "cn_resident_id", "{t:#}");
    assert_eq!(column(t, "sjhm")["type"], "cn_mobile", "{t:#}");
    assert!(column(t, "bz")["type"].is_null(), "{t:#}");
    assert_eq!(t["level"], "一般数据4级");
}

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_tables_are_scanned_and_saved() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let schema = format!("shuan_cli_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
        panic!("SHUAN_TEST_POSTGRES is set but the server is unreachable: {e}")
    });
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};
             CREATE TABLE {schema}.people (xm text, sfzh varchar(18), sjhm text, bz text);"
        ))
        .unwrap();
    for i in 0..40u64 {
        admin
            .execute(
                &format!("INSERT INTO {schema}.people VALUES ($1, $2, $3, $4)"),
                &[
                    &NAMES[i as usize % NAMES.len()],
                    &resident_id(i),
                    &mobile(i),
                    &"正常",
                ],
            )
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let o = shuan(dir.path(), &["scan", &url, "--format", "json", "--save"]);
    let result = std::panic::catch_unwind(|| {
        let doc = json(&o);
        check_people(&doc, &format!("{schema}.people"));
        let o = shuan(
            dir.path(),
            &[
                "assets",
                "show",
                &format!("{schema}.people"),
                "--format",
                "json",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let bad = with_password(&url, "wrong-Pw-4711");
        let o = shuan(dir.path(), &["scan", &bad]);
        assert_eq!(o.status.code(), Some(1));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains("wrong-Pw-4711"), "{all}");
    });
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    // Other tests' tables may fail mid-scan (dropped while we read): only ours matter.
    result.unwrap();
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mysql_tables_are_scanned() {
    let url = env_url("SHUAN_TEST_MYSQL");
    let table_name = format!("shuan_cli_people_{}", std::process::id());
    let opts = mysql::Opts::from_url(&url).unwrap();
    let db = opts
        .get_db_name()
        .expect("database in SHUAN_TEST_MYSQL")
        .to_string();
    let mut conn = mysql::Conn::new(opts)
        .unwrap_or_else(|e| panic!("SHUAN_TEST_MYSQL is set but the server is unreachable: {e}"));
    conn.query_drop(format!("DROP TABLE IF EXISTS `{table_name}`"))
        .unwrap();
    conn.query_drop(format!(
        "CREATE TABLE `{table_name}` (xm VARCHAR(20), sfzh CHAR(18), sjhm VARCHAR(20), bz VARCHAR(20)) DEFAULT CHARSET=utf8mb4"
    ))
    .unwrap();
    for i in 0..40u64 {
        conn.exec_drop(
            format!("INSERT INTO `{table_name}` VALUES (?, ?, ?, ?)"),
            (
                NAMES[i as usize % NAMES.len()],
                resident_id(i),
                mobile(i),
                "正常",
            ),
        )
        .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let o = shuan(dir.path(), &["scan", &url, "--format", "json"]);
    let result = std::panic::catch_unwind(|| {
        let doc = json(&o);
        check_people(&doc, &format!("{db}.{table_name}"));
        let bad = with_password(&url, "wrong-Pw-4711");
        let o = shuan(dir.path(), &["scan", &bad]);
        assert_eq!(o.status.code(), Some(1));
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert!(!all.contains("wrong-Pw-4711"), "{all}");
    });
    conn.query_drop(format!("DROP TABLE IF EXISTS `{table_name}`"))
        .unwrap();
    result.unwrap();
}
