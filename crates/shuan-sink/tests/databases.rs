//! Against the real servers named by SHUAN_TEST_POSTGRES and SHUAN_TEST_MYSQL (set by
//! `.ci/run`): a test whose variable is set fails if the server is unreachable; unset when
//! the tests were built, the test is ignored (`build.rs` sets the `shuan_test_*` cfg) so the
//! skip is visible.

use mysql::prelude::Queryable;
use shuan_sink::{SinkError, TableSink};

fn pg_url() -> String {
    std::env::var("SHUAN_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("SHUAN_TEST_POSTGRES was set when this test was built; set it again")
}

fn my_url() -> String {
    std::env::var("SHUAN_TEST_MYSQL")
        .ok()
        .filter(|v| !v.is_empty())
        .expect("SHUAN_TEST_MYSQL was set when this test was built; set it again")
}

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{}", std::process::id(), n % 1_000_000_000)
}

/// Values that exercise every escaping path: tabs, newlines, backslashes, quotes, the
/// COPY null marker as text, Chinese, empty strings and NULLs.
fn tricky_rows(n: usize) -> Vec<Vec<Option<String>>> {
    (0..n)
        .map(|i| {
            vec![
                Some(format!("{i}")),
                Some(["张*", "李**", "王*"][i % 3].to_string()),
                match i % 5 {
                    0 => None,
                    1 => Some(String::new()),
                    2 => Some("a\tb\nc\\d\r'e\"f`g".to_string()),
                    3 => Some("\\N".to_string()),
                    _ => Some(format!("广东省江门市蓬江区{i}号")),
                },
            ]
        })
        .collect()
}

fn header() -> Vec<String> {
    vec!["id".into(), "姓名".into(), "备注 \"x\"`y".into()]
}

fn write_all(sink: &mut TableSink, rows: &[Vec<Option<String>>]) {
    for r in rows {
        sink.write_row(r.iter().map(|v| v.as_deref())).unwrap();
    }
}

fn pg_read(client: &mut postgres::Client, table: &str) -> Vec<Vec<Option<String>>> {
    client
        .query(&format!("SELECT * FROM \"{table}\" ORDER BY id::int"), &[])
        .unwrap()
        .iter()
        .map(|r| (0..3).map(|i| r.get::<_, Option<String>>(i)).collect())
        .collect()
}

fn pg_exists(client: &mut postgres::Client, table: &str) -> bool {
    client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&format!("\"{table}\"")],
        )
        .unwrap()
        .get(0)
}

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_tables_are_written_whole_or_not_at_all() {
    let url = pg_url();
    let mut client = postgres::Client::connect(&url, postgres::NoTls)
        .expect("SHUAN_TEST_POSTGRES is set but the server is unreachable");
    let table = unique("shuan_sink_pg");
    // Enough rows to need several COPY chunks.
    let rows = tricky_rows(40_000);
    let mut sink = TableSink::create(&url, &table, &header(), false).unwrap();
    write_all(&mut sink, &rows[..100]);
    // Not visible to other sessions before finish.
    assert!(!pg_exists(&mut client, &table));
    write_all(&mut sink, &rows[100..]);
    assert_eq!(sink.finish().unwrap(), 40_000);
    assert_eq!(pg_read(&mut client, &table), rows);

    // An existing table is refused without --force, and left alone.
    let e = TableSink::create(&url, &table, &header(), false)
        .err()
        .unwrap();
    assert!(matches!(e, SinkError::TableExists { .. }), "{e}");

    // Replacing: the old table stays visible until the new one is complete.
    let mut sink = TableSink::create(&url, &table, &header(), true).unwrap();
    write_all(&mut sink, &rows[..3]);
    assert_eq!(pg_read(&mut client, &table).len(), 40_000);
    sink.finish().unwrap();
    assert_eq!(pg_read(&mut client, &table), rows[..3].to_vec());

    // Dropped unfinished (an error mid-way): nothing appears.
    let other = unique("shuan_sink_pg_abandoned");
    let mut sink = TableSink::create(&url, &other, &header(), false).unwrap();
    write_all(&mut sink, &rows[..10]);
    drop(sink);
    assert!(!pg_exists(&mut client, &other));

    // A row of the wrong width and a NUL byte are errors naming the row.
    let mut sink = TableSink::create(&url, &other, &header(), false).unwrap();
    let e = sink.write_row([Some("1"), None]).err().unwrap();
    assert!(
        e.to_string().contains("row 1") && e.to_string().contains("2 values for 3"),
        "{e}"
    );
    let mut sink = TableSink::create(&url, &other, &header(), false).unwrap();
    sink.write_row([Some("1"), Some("a"), Some("b")]).unwrap();
    let e = sink
        .write_row([Some("2"), Some("a\0b"), None])
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("row 2") && e.to_string().contains("NUL"),
        "{e}"
    );
    drop(sink);
    assert!(!pg_exists(&mut client, &other));

    client
        .batch_execute(&format!("DROP TABLE \"{table}\""))
        .unwrap();
}

fn my_read(conn: &mut mysql::Conn, table: &str) -> Vec<Vec<Option<String>>> {
    conn.query_map(
        format!("SELECT * FROM `{table}` ORDER BY CAST(id AS UNSIGNED)"),
        |(a, b, c): (Option<String>, Option<String>, Option<String>)| vec![a, b, c],
    )
    .unwrap()
}

fn my_tables_like(conn: &mut mysql::Conn, prefix: &str) -> Vec<String> {
    conn.exec(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?",
        (format!("{prefix}%"),),
    )
    .unwrap()
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mysql_tables_are_written_whole_or_not_at_all() {
    let url = my_url();
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&url).unwrap())
        .init(vec!["SET NAMES utf8mb4"]);
    let mut conn =
        mysql::Conn::new(opts).expect("SHUAN_TEST_MYSQL is set but the server is unreachable");
    let table = unique("shuan_sink_my");
    let rows = tricky_rows(5_000);
    let mut sink = TableSink::create(&url, &table, &header(), false).unwrap();
    write_all(&mut sink, &rows[..100]);
    // Only the scratch table exists while writing.
    assert_eq!(my_tables_like(&mut conn, &table).len(), 1);
    assert!(!my_tables_like(&mut conn, &table).contains(&table));
    write_all(&mut sink, &rows[100..]);
    assert_eq!(sink.finish().unwrap(), 5_000);
    assert_eq!(my_read(&mut conn, &table), rows);
    assert_eq!(my_tables_like(&mut conn, &table), vec![table.clone()]);

    let e = TableSink::create(&url, &table, &header(), false)
        .err()
        .unwrap();
    assert!(matches!(e, SinkError::TableExists { .. }), "{e}");

    let mut sink = TableSink::create(&url, &table, &header(), true).unwrap();
    write_all(&mut sink, &rows[..3]);
    assert_eq!(my_read(&mut conn, &table).len(), 5_000);
    sink.finish().unwrap();
    assert_eq!(my_read(&mut conn, &table), rows[..3].to_vec());
    // No scratch or replaced table is left behind.
    assert_eq!(my_tables_like(&mut conn, &table), vec![table.clone()]);

    let other = unique("shuan_sink_my_abandoned");
    let mut sink = TableSink::create(&url, &other, &header(), false).unwrap();
    write_all(&mut sink, &rows[..2000]);
    drop(sink);
    assert!(my_tables_like(&mut conn, &other).is_empty());

    conn.query_drop(format!("DROP TABLE `{table}`")).unwrap();
}

#[test]
fn unreachable_servers_are_named_without_passwords() {
    let e = TableSink::create(
        "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2",
        "t",
        &header(),
        false,
    )
    .err()
    .unwrap();
    let msg = e.to_string();
    assert!(matches!(e, SinkError::Connect { .. }), "{msg}");
    assert!(
        !msg.contains("hunter2") && msg.contains("127.0.0.1:1"),
        "{msg}"
    );
    let e = TableSink::create("mysql://root:hunter2@127.0.0.1:1/db", "t", &header(), false)
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(matches!(e, SinkError::Connect { .. }), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}
