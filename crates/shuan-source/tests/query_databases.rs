//! The gateway's parameterised selects (`shuan_source::query`) against the PostgreSQL and
//! MariaDB servers named by SHUAN_TEST_POSTGRES and SHUAN_TEST_MYSQL: values are bound
//! (injection strings find nothing and change nothing), integers and dates compare as
//! their column's type, prefixes escape wildcards, the limit holds, a slow statement is
//! stopped. Ignored when the variables were unset at build time (`build.rs`).

use std::time::Duration;

use mysql::prelude::Queryable;
use shuan_source::query::{Connection, Op, Predicate, QueryError, Select, Value};

fn env_url(name: &str) -> String {
    match std::env::var(name) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{name} was set when this test was built but is unset now; set it again"),
    }
}

fn select(schema: &str, predicates: Vec<Predicate>) -> Select {
    Select {
        schema: Some(schema.into()),
        table: "户籍人口".into(),
        columns: vec!["姓名".into(), "年龄".into()],
        predicates,
        limit: 10,
        offset: 0,
        timeout: Duration::from_secs(10),
    }
}

fn p(column: &str, op: Op, value: Value) -> Predicate {
    Predicate {
        column: column.into(),
        op,
        value,
    }
}

/// The same checks on either server; `count` reads the table's row count directly.
fn check(c: &mut Connection, schema: &str, count: &mut dyn FnMut() -> i64) {
    let a = c
        .select(&select(
            schema,
            vec![p(
                "身份证号",
                Op::Eq,
                Value::Text("11010519491231002X".into()),
            )],
        ))
        .unwrap();
    assert_eq!(a.rows, vec![vec![Some("王五".into()), Some("75".into())]]);
    for attack in [
        "' OR '1'='1",
        "11010519491231002X' OR 1=1 --",
        "x'; DROP TABLE 户籍人口; --",
        "\\' OR 1=1 #",
    ] {
        let a = c
            .select(&select(
                schema,
                vec![p("身份证号", Op::Eq, Value::Text(attack.into()))],
            ))
            .unwrap();
        assert!(a.rows.is_empty(), "{attack}");
    }
    assert_eq!(count(), 4, "nothing was dropped or changed");
    let old = c
        .select(&select(schema, vec![p("年龄", Op::Ge, Value::Int(70))]))
        .unwrap();
    assert_eq!(
        old.rows.len(),
        2,
        "integers compare as integers: {:?}",
        old.rows
    );
    let born = c
        .select(&select(
            schema,
            vec![p("出生日期", Op::Lt, Value::Date("1950-01-01".into()))],
        ))
        .unwrap();
    assert_eq!(born.rows.len(), 2);
    let prefix = c
        .select(&select(
            schema,
            vec![p("住址", Op::Prefix, Value::Text("信阳%".into()))],
        ))
        .unwrap();
    assert!(prefix.rows.is_empty(), "% is no wildcard in a prefix");
    let prefix = c
        .select(&select(
            schema,
            vec![p("住址", Op::Prefix, Value::Text("信阳".into()))],
        ))
        .unwrap();
    assert_eq!(prefix.rows.len(), 1);
    let mut capped = select(schema, vec![]);
    capped.limit = 3;
    assert_eq!(c.select(&capped).unwrap().rows.len(), 3);
    capped.offset = 3;
    assert_eq!(c.select(&capped).unwrap().rows.len(), 1);
    let mut ghost = select(schema, vec![]);
    ghost.table = "nope".into();
    assert!(matches!(c.select(&ghost), Err(QueryError::Failed(_))));
    // The connection is still good after a failed statement.
    assert_eq!(c.select(&capped).unwrap().rows.len(), 1);
}

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_selects_bind_values() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let schema = format!("shuan_query_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .expect("SHUAN_TEST_POSTGRES is set but the server is unreachable");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE;
             CREATE SCHEMA {schema};
             CREATE TABLE {schema}.户籍人口 (姓名 text, 身份证号 varchar(18), 年龄 integer,
                 出生日期 date, 住址 text);
             CREATE INDEX ON {schema}.户籍人口 (身份证号);
             INSERT INTO {schema}.户籍人口 VALUES
               ('张三', '110105194912310021', 76, '1949-12-31', '北京市'),
               ('李四', '41150219800101001X', 45, '1980-01-01', '信阳市浉河区'),
               ('王五', '11010519491231002X', 75, '1949-12-31', NULL),
               ('赵六', '410102199001010011', 35, '1990-01-01', '郑州市');"
        ))
        .unwrap();
    let mut c = Connection::open(&url).unwrap();
    let count_sql = format!("SELECT count(*) FROM {schema}.户籍人口");
    check(&mut c, &schema, &mut || {
        admin.query_one(count_sql.as_str(), &[]).unwrap().get(0)
    });
    // A wrong value for the column's type is the caller's error, not the server's.
    let e = c
        .select(&select(
            &schema,
            vec![p("年龄", Op::Eq, Value::Text("abc".into()))],
        ))
        .unwrap_err();
    assert!(matches!(e, QueryError::InvalidValue(_)), "{e:?}");
    // A statement past its time limit is stopped.
    let mut slow = select(&schema, vec![]);
    slow.table = "slow".into();
    admin
        .batch_execute(&format!(
            "CREATE VIEW {schema}.slow AS SELECT 姓名, 年龄 FROM {schema}.户籍人口, pg_sleep(2)"
        ))
        .unwrap();
    slow.timeout = Duration::from_millis(200);
    let e = c.select(&slow).unwrap_err();
    assert!(matches!(e, QueryError::Timeout(_)), "{e:?}");
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mysql_selects_bind_values() {
    let url = env_url("SHUAN_TEST_MYSQL");
    let db = format!("shuan_query_{}", std::process::id());
    let mut admin = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap())
        .expect("SHUAN_TEST_MYSQL is set but the server is unreachable");
    admin
        .query_drop(format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db} CHARACTER SET utf8mb4;
             CREATE TABLE {db}.户籍人口 (姓名 varchar(20), 身份证号 varchar(18), 年龄 int,
                 出生日期 date, 住址 varchar(100), KEY (身份证号));
             INSERT INTO {db}.户籍人口 VALUES
               ('张三', '110105194912310021', 76, '1949-12-31', '北京市'),
               ('李四', '41150219800101001X', 45, '1980-01-01', '信阳市浉河区'),
               ('王五', '11010519491231002X', 75, '1949-12-31', NULL),
               ('赵六', '410102199001010011', 35, '1990-01-01', '郑州市');"
        ))
        .unwrap();
    let base = url.trim_end_matches('/');
    let (server, _) = base.rsplit_once('/').unwrap();
    let mut c = Connection::open(&format!("{server}/{db}")).unwrap();
    let count_sql = format!("SELECT count(*) FROM {db}.户籍人口");
    check(&mut c, &db, &mut || {
        admin
            .query_first::<i64, _>(count_sql.as_str())
            .unwrap()
            .unwrap()
    });
    admin.query_drop(format!("DROP DATABASE {db}")).unwrap();
}
