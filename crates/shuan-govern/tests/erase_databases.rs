//! Erasing rows and tables in real PostgreSQL and MariaDB servers (SHUAN_TEST_POSTGRES,
//! SHUAN_TEST_MYSQL): exactly the matching rows go, values are bound (an injection string
//! deletes nothing), a table is dropped and found absent afterwards, and a dependent
//! object makes the drop fail rather than cascade. Ignored when the variables were unset
//! at build time (`build.rs`).

use mysql::prelude::Queryable;
use shuan_govern::erase::{EraseError, Eraser, TableName};
use shuan_source::query::{Op, Predicate, Value};

fn env_url(name: &str) -> String {
    match std::env::var(name) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{name} was set when this test was built but is unset now; set it again"),
    }
}

fn p(column: &str, op: Op, value: Value) -> Predicate {
    Predicate {
        column: column.into(),
        op,
        value,
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

/// The same checks on either server; the table holds ids 1..=100, `城市` 杭州 for even
/// ids and 宁波 for odd ones.
fn check(url: &str, schema: &str, table: &str) {
    let t = TableName {
        schema: Some(schema.into()),
        table: table.into(),
    };
    let mut e = Eraser::connect(url).unwrap();
    let hz = vec![p("城市", Op::Eq, Value::Text("杭州".into()))];
    assert_eq!(e.count_matching(&t, &hz).unwrap(), 50);
    // An injection string is a value: it matches nothing and deletes nothing.
    let attack = vec![p("城市", Op::Eq, Value::Text("杭州' OR '1'='1".into()))];
    assert_eq!(e.delete_rows(&t, &attack).unwrap(), 0);
    assert_eq!(e.count_matching(&t, &[]).unwrap(), 100);
    // Exactly the matching rows go.
    let some = vec![
        p("城市", Op::Eq, Value::Text("杭州".into())),
        p("id", Op::Le, Value::Int(20)),
    ];
    assert_eq!(e.delete_rows(&t, &some).unwrap(), 10);
    let mut fresh = Eraser::connect(url).unwrap();
    assert_eq!(fresh.count_matching(&t, &some).unwrap(), 0);
    assert_eq!(fresh.count_matching(&t, &[]).unwrap(), 90);
    assert_eq!(fresh.count_matching(&t, &hz).unwrap(), 40);
    // No filter is refused rather than emptying the table.
    assert!(e.delete_rows(&t, &[]).is_err());
    // A column that does not exist is the database's error, and changes nothing.
    let err = e
        .delete_rows(&t, &[p("nope", Op::Eq, Value::Int(1))])
        .unwrap_err();
    assert!(matches!(err, EraseError::Database { .. }), "{err}");
    assert_eq!(fresh.count_matching(&t, &[]).unwrap(), 90);
    // The table is dropped and absent afterwards.
    assert!(fresh.table_exists(&t).unwrap());
    assert_eq!(e.drop_table(&t).unwrap(), 90);
    assert!(!fresh.table_exists(&t).unwrap());
    // Dropping it again fails.
    assert!(e.drop_table(&t).is_err());
}

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_rows_and_tables_are_erased_exactly() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let table = unique("destroy_pg");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE public.{table} (id INT PRIMARY KEY, \"城市\" TEXT NOT NULL);
         INSERT INTO public.{table} SELECT g, CASE WHEN g % 2 = 0 THEN '杭州' ELSE '宁波' END FROM generate_series(1, 100) g;"
    ))
    .unwrap();
    check(&url, "public", &table);
    // A view on a table keeps it from being dropped: no silent CASCADE.
    let base = unique("destroy_pg_base");
    c.batch_execute(&format!(
        "CREATE TABLE public.{base} (id INT); CREATE VIEW public.{base}_v AS SELECT * FROM public.{base};"
    ))
    .unwrap();
    let mut e = Eraser::connect(&url).unwrap();
    let t = TableName::from_locator(&format!("public.{base}"));
    assert!(e.drop_table(&t).is_err());
    assert!(e.table_exists(&t).unwrap());
    c.batch_execute(&format!(
        "DROP VIEW public.{base}_v; DROP TABLE public.{base};"
    ))
    .unwrap();
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mariadb_rows_and_tables_are_erased_exactly() {
    let url = env_url("SHUAN_TEST_MYSQL");
    let table = unique("destroy_my");
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
    c.query_drop("SET NAMES utf8mb4").unwrap();
    let db: Option<String> = c.query_first("SELECT DATABASE()").unwrap();
    let db = db.expect("SHUAN_TEST_MYSQL names a database");
    c.query_drop(format!(
        "CREATE TABLE `{table}` (id INT PRIMARY KEY, `城市` VARCHAR(20) NOT NULL) DEFAULT CHARSET utf8mb4"
    ))
    .unwrap();
    let values: Vec<String> = (1..=100)
        .map(|i| format!("({i}, '{}')", if i % 2 == 0 { "杭州" } else { "宁波" }))
        .collect();
    c.query_drop(format!("INSERT INTO `{table}` VALUES {}", values.join(",")))
        .unwrap();
    check(&url, &db, &table);
}
