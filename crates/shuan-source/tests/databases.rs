//! PostgreSQL and MariaDB through the public API, against the servers named by
//! SHUAN_TEST_POSTGRES and SHUAN_TEST_MYSQL. Unset when the tests were built: they are
//! ignored (`build.rs` sets the `shuan_test_*` cfg), so the skip is visible. Set but
//! unreachable: the test fails.
//!
//! Fixtures are created with the `postgres`/`mysql` crates directly (write access), in a
//! schema/tables whose names start with `shuan_source_` and a per-process suffix, and
//! dropped at the end.

use mysql::prelude::Queryable;
use shuan_source::{open, Source, SourceError, SourceOptions, TableSample};

fn column<'a>(sample: &'a TableSample, name: &str) -> &'a [String] {
    &sample
        .columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", sample.columns))
        .values
}

/// The server URL of a test that is only compiled in (not ignored) when `name` was set.
fn env_url(name: &str) -> String {
    match std::env::var(name) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{name} was set when this test was built but is unset now; set it again"),
    }
}

/// The URL with a wrong password put in, for the authentication test.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, host) = authority.rsplit_once('@').expect("URL with a user");
    let user = userinfo.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}{tail}")
}

const PEOPLE: [(&str, Option<&str>, &str); 4] = [
    ("张三", Some("110105194912310021"), "北京市朝阳区建国路88号"),
    ("李四", None, "河南省信阳市浉河区民权路1号"),
    ("王五", Some("11010519491231002X"), ""),
    ("赵六", Some("110105194912310021"), "信阳市平桥区"),
];

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_tables_are_listed_sampled_and_counted() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let schema = format!("shuan_source_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
        panic!("SHUAN_TEST_POSTGRES is set but the server is unreachable: {e}")
    });
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE;
             CREATE SCHEMA {schema};
             CREATE TABLE {schema}.户籍人口 (id serial PRIMARY KEY, 姓名 text NOT NULL, 身份证号 varchar(18), 住址 text, 登记时间 timestamp DEFAULT '2023-11-22 10:00:00');
             CREATE TABLE {schema}.\"Mixed Case\" (n integer);
             CREATE VIEW {schema}.v_people AS SELECT 姓名 FROM {schema}.户籍人口;"
        ))
        .unwrap();
    for (name, id, address) in PEOPLE {
        admin
            .execute(
                &format!(
                    "INSERT INTO {schema}.户籍人口 (姓名, 身份证号, 住址) VALUES ($1, $2, $3)"
                ),
                &[&name, &id, &address],
            )
            .unwrap();
    }
    admin
        .batch_execute(&format!(
            "INSERT INTO {schema}.\"Mixed Case\" SELECT g FROM generate_series(1, 2500) g"
        ))
        .unwrap();

    let result = std::panic::catch_unwind(|| {
        let mut source = open(&url, &SourceOptions::default()).unwrap();
        let tables: Vec<_> = source
            .tables()
            .unwrap()
            .into_iter()
            .filter(|t| t.name.starts_with(&format!("{schema}.")))
            .collect();
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        // Views are not listed; system schemas never are.
        assert_eq!(
            names,
            [format!("{schema}.Mixed Case"), format!("{schema}.户籍人口")]
        );
        let people = source.sample_table(&tables[1], 1000).unwrap();
        assert_eq!(people.row_count, Some(4));
        assert!(!people.row_count_estimated);
        assert_eq!(column(&people, "姓名"), ["张三", "李四", "王五", "赵六"]);
        assert_eq!(
            column(&people, "身份证号"),
            [
                "110105194912310021",
                "11010519491231002X",
                "110105194912310021"
            ]
        );
        assert_eq!(column(&people, "住址").len(), 3);
        assert_eq!(column(&people, "登记时间")[0], "2023-11-22 10:00:00");
        assert_eq!(
            people.columns[2].declared_type.as_deref(),
            Some("character varying(18)")
        );

        let numbers = source.sample_table(&tables[0], 10).unwrap();
        assert_eq!(numbers.row_count, Some(2500));
        assert_eq!(column(&numbers, "n").len(), 10);
        // LIMIT pushed down: not the whole table.
        assert!(numbers.rows_scanned < 2500);

        let mut reader = source.open_table(&tables[0]).unwrap();
        let mut n = 0;
        while let Some(row) = reader.next_row() {
            row.unwrap();
            n += 1;
        }
        assert_eq!(n, 2500);
        drop(reader);

        // The session is read-only: a write through the same kind of session fails.
        let mut probe = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        probe
            .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            .unwrap();
        assert!(probe
            .batch_execute(&format!("INSERT INTO {schema}.\"Mixed Case\" VALUES (0)"))
            .is_err());
    });
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_wrong_password_names_the_server_without_the_password() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    // Local servers often trust the test user; ask for a user that must authenticate.
    let bad = with_password(&url, "wrong-secret-4711");
    let bad = bad.replacen("://postgres:", "://shuan_no_such_user:", 1);
    let err = open(&bad, &SourceOptions::default())
        .err()
        .expect("login must fail");
    let msg = err.to_string();
    assert!(matches!(err, SourceError::Database { .. }), "{msg}");
    assert!(!msg.contains("wrong-secret-4711"), "{msg}");
    assert!(msg.starts_with("postgres"), "{msg}");
    // The server's reason is passed on, not just "db error".
    assert!(
        msg.contains("authentication") || msg.contains("does not exist") || msg.contains("pg_hba"),
        "{msg}"
    );
    eprintln!("message: {msg}");
    assert!(!format!("{err:?}").contains("wrong-secret-4711"));
}

#[test]
fn unreachable_postgres_fails_with_the_redacted_url() {
    // Port 1 on localhost: nothing listens there.
    let err = open(
        "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=2",
        &SourceOptions::default(),
    )
    .err()
    .unwrap();
    let msg = err.to_string();
    assert!(msg.starts_with("postgres://u@127.0.0.1:1/x"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

fn mysql_admin(url: &str) -> mysql::Conn {
    let opts = mysql::Opts::from_url(url).unwrap();
    mysql::Conn::new(opts)
        .unwrap_or_else(|e| panic!("SHUAN_TEST_MYSQL is set but the server is unreachable: {e}"))
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mysql_tables_are_listed_sampled_and_counted() {
    let url = env_url("SHUAN_TEST_MYSQL");
    let mut admin = mysql_admin(&url);
    let db: String = admin
        .query_first("SELECT DATABASE()")
        .unwrap()
        .unwrap_or_default();
    assert!(!db.is_empty(), "SHUAN_TEST_MYSQL must name a database");
    let suffix = std::process::id();
    let people = format!("shuan_source_people_{suffix}");
    let numbers = format!("shuan_source_numbers_{suffix}");
    admin.query_drop("SET NAMES utf8mb4").unwrap();
    admin
        .query_drop(format!(
            "CREATE TABLE `{people}` (id INT AUTO_INCREMENT PRIMARY KEY, `姓名` VARCHAR(50) NOT NULL, `身份证号` CHAR(18), `住址` TEXT, `照片` BLOB, `金额` DECIMAL(10,2)) DEFAULT CHARSET=utf8mb4"
        ))
        .unwrap();
    admin
        .query_drop(format!("CREATE TABLE `{numbers}` (n INT)"))
        .unwrap();
    for (name, id, address) in PEOPLE {
        admin
            .exec_drop(
                format!("INSERT INTO `{people}` (`姓名`, `身份证号`, `住址`, `照片`, `金额`) VALUES (?, ?, ?, ?, ?)"),
                (name, id, address, vec![0u8, 0xff, 0xfe], "1200.50"),
            )
            .unwrap();
    }
    let values: Vec<String> = (1..=2500).map(|n| format!("({n})")).collect();
    admin
        .query_drop(format!(
            "INSERT INTO `{numbers}` VALUES {}",
            values.join(",")
        ))
        .unwrap();

    let result = std::panic::catch_unwind(|| {
        let mut source = open(&url, &SourceOptions::default()).unwrap();
        let all = source.tables().unwrap();
        // Only the URL's database is listed.
        assert!(
            all.iter().all(|t| t.name.starts_with(&format!("{db}."))),
            "{all:?}"
        );
        let tables: Vec<_> = all
            .into_iter()
            .filter(|t| t.name.contains("shuan_source_") && t.name.ends_with(&suffix.to_string()))
            .collect();
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, [format!("{db}.{numbers}"), format!("{db}.{people}")]);

        let sample = source.sample_table(&tables[1], 1000).unwrap();
        assert_eq!(sample.row_count, Some(4));
        assert_eq!(column(&sample, "姓名"), ["张三", "李四", "王五", "赵六"]);
        assert_eq!(
            column(&sample, "身份证号"),
            [
                "110105194912310021",
                "11010519491231002X",
                "110105194912310021"
            ]
        );
        assert_eq!(column(&sample, "住址")[1], "河南省信阳市浉河区民权路1号");
        assert!(column(&sample, "照片").is_empty(), "binary is not text");
        assert_eq!(column(&sample, "金额")[0], "1200.50");
        assert_eq!(sample.columns[2].declared_type.as_deref(), Some("char(18)"));

        let counted = source.sample_table(&tables[0], 10).unwrap();
        assert_eq!(counted.row_count, Some(2500));
        assert!(counted.rows_scanned < 2500);
        let mut reader = source.open_table(&tables[0]).unwrap();
        let mut n = 0;
        while let Some(row) = reader.next_row() {
            row.unwrap();
            n += 1;
        }
        assert_eq!(n, 2500);
    });
    admin
        .query_drop(format!("DROP TABLE IF EXISTS `{people}`, `{numbers}`"))
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mysql_without_database_lists_all_user_databases() {
    let url = env_url("SHUAN_TEST_MYSQL");
    let mut admin = mysql_admin(&url);
    let other = format!("shuan_source_db_{}", std::process::id());
    admin
        .query_drop(format!("CREATE DATABASE `{other}`"))
        .unwrap();
    admin
        .query_drop(format!("CREATE TABLE `{other}`.`企业登记` (x INT)"))
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        let (scheme_host, _) = url.rsplit_once('/').unwrap();
        let server = format!("{scheme_host}/");
        let mut source = open(&server, &SourceOptions::default()).unwrap();
        let tables = source.tables().unwrap();
        assert!(tables.iter().any(|t| t.name == format!("{other}.企业登记")));
        assert!(tables.iter().all(|t| !t.name.starts_with("mysql.")
            && !t.name.starts_with("information_schema.")
            && !t.name.starts_with("performance_schema.")
            && !t.name.starts_with("sys.")));
    });
    admin
        .query_drop(format!("DROP DATABASE `{other}`"))
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mysql_wrong_password_names_the_server_without_the_password() {
    let url = env_url("SHUAN_TEST_MYSQL");
    let bad = with_password(&url, "wrong-secret-4711");
    let bad = bad.replacen("://root:", "://shuan_no_such_user:", 1);
    let err = open(&bad, &SourceOptions::default())
        .err()
        .expect("login must fail");
    let msg = err.to_string();
    assert!(matches!(err, SourceError::Database { .. }), "{msg}");
    assert!(!msg.contains("wrong-secret-4711"), "{msg}");
    assert!(msg.starts_with("mysql://"), "{msg}");
    assert!(msg.contains("Access denied"), "{msg}");
    eprintln!("message: {msg}");
    assert!(!format!("{err:?}").contains("wrong-secret-4711"));
}

#[allow(dead_code)]
fn assert_send(_: &dyn Source) {}
