//! Data-quality rules against real PostgreSQL and MariaDB servers (SHUAN_TEST_POSTGRES,
//! SHUAN_TEST_MYSQL): planted bad rows are found and counted exactly — NULLs, a bad
//! checksum, a value out of range, a pattern miss, duplicates counted by the database,
//! values missing from a referenced table, a stale table — with masked samples keyed by
//! the key column. On PostgreSQL the COPY reader is checked against an independent read
//! of the same rows through the driver's own text results (tabs, newlines, backslashes,
//! `\N` as text, NULLs, Chinese). Ignored when the variables were unset at build time.

use mysql::prelude::Queryable;
use shuan_govern::quality::{parse_time, run, Check, Rule};
use shuan_source::columns::{for_each_row, TableSpec};
use shuan_source::SourceOptions;

fn env_url(name: &str) -> String {
    match std::env::var(name) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{name} was set when this test was built but is unset now; set it again"),
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

/// 100 good rows (ids 1..=100) then the planted bad ones; `ref_table` holds districts
/// 1..=5.
fn rows() -> Vec<(i64, Option<&'static str>, i64, i64, &'static str)> {
    // (id, 身份证号, 年龄, 区划, 更新时间)
    let mut v: Vec<(i64, Option<&'static str>, i64, i64, &'static str)> = (1..=100)
        .map(|i| {
            (
                i,
                Some("11010519491231002X"),
                30,
                1 + i % 5,
                "2026-12-01 08:00:00",
            )
        })
        .collect();
    v.push((101, None, 40, 1, "2026-12-01 09:00:00")); // NULL id number
    v.push((
        102,
        Some("110105194912310021"),
        41,
        2,
        "2026-12-01 09:00:00",
    )); // bad checksum
    v.push((
        103,
        Some("11010519491231002X"),
        200,
        3,
        "2026-12-02 10:00:00",
    )); // out of range
    v.push((
        103,
        Some("11010519491231002X"),
        50,
        9,
        "2026-12-01 09:00:00",
    )); // duplicate id, district 9 missing
    v.push((104, Some("1101051949123100"), 51, 8, "2026-12-01 09:00:00")); // pattern miss, district 8 missing
    v
}

fn rules(ref_table: &str) -> Vec<Rule> {
    let r = |column: &str, check: Check| Rule {
        column: column.into(),
        check,
    };
    vec![
        r("身份证号", Check::NotNull),
        r("id", Check::Unique),
        r(
            "身份证号",
            Check::Identifier {
                data_type: "cn_resident_id".into(),
            },
        ),
        r(
            "年龄",
            Check::Range {
                min: Some(0.0),
                max: Some(150.0),
            },
        ),
        r(
            "身份证号",
            Check::Pattern {
                regex: r"\d{17}[\dX]".into(),
            },
        ),
        r(
            "区划",
            Check::References {
                table: ref_table.into(),
                column: "code".into(),
            },
        ),
        r("更新时间", Check::Freshness { max_age_hours: 48 }),
    ]
}

fn columns() -> Vec<String> {
    ["id", "身份证号", "年龄", "区划", "更新时间"]
        .map(String::from)
        .to_vec()
}

fn check(url: &str, table: &TableSpec, ref_table: &str) {
    let now = parse_time("2026-12-03 12:00:00").unwrap();
    let report = run(
        url,
        table,
        &columns(),
        Some("id"),
        &rules(ref_table),
        now,
        &SourceOptions::default(),
    )
    .unwrap();
    assert_eq!(report.rows_checked, 105);
    let v: Vec<u64> = report.results.iter().map(|r| r.violations).collect();
    // not_null: 101; unique: one extra 103; identifier: 102 and 104 (too short);
    // range: 103's 200; pattern: 104; references: districts 9 and 8; fresh: newest is
    // 2026-12-02 10:00, 26 hours old.
    assert_eq!(v, vec![1, 1, 2, 1, 1, 2, 0], "{report:#?}");
    let not_null = &report.results[0];
    assert_eq!(not_null.samples[0].key.as_deref(), Some("101"));
    assert_eq!(not_null.samples[0].value, None);
    let ids = &report.results[2];
    let keys: Vec<_> = ids.samples.iter().map(|s| s.key.clone().unwrap()).collect();
    assert_eq!(keys, vec!["102", "104"]);
    for s in &ids.samples {
        let shown = s.value.as_deref().unwrap();
        assert!(
            shown.contains('*'),
            "an identifier sample is masked: {shown}"
        );
    }
    let dup = &report.results[1];
    assert_eq!(dup.samples.len(), 1);
    assert_eq!(dup.samples[0].count, Some(2));
    assert_eq!(report.results[5].samples.len(), 2);
    assert!(report.results[6]
        .latest
        .as_deref()
        .unwrap()
        .starts_with("2026-12-02 10:00:00"));
    // Two days later the table is stale.
    let report = run(
        url,
        table,
        &columns(),
        None,
        &rules(ref_table)[6..],
        now + 2 * 86_400,
        &SourceOptions::default(),
    )
    .unwrap();
    assert_eq!(report.results[0].violations, 1);
    // A column the table does not have is the database's refusal, not a silent pass.
    let mut bad = columns();
    bad.push("不存在".into());
    let err = run(
        url,
        table,
        &bad,
        None,
        &[Rule {
            column: "不存在".into(),
            check: Check::NotNull,
        }],
        now,
        &SourceOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("不存在"), "{err}");
}

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_quality_rules_find_the_planted_rows() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let (t, r) = (unique("quality_pg"), unique("quality_pg_ref"));
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE public.{t} (id INT, \"身份证号\" TEXT, \"年龄\" INT, \"区划\" INT, \"更新时间\" TIMESTAMP);
         CREATE TABLE public.{r} (code INT PRIMARY KEY);
         INSERT INTO public.{r} SELECT generate_series(1, 5);"
    ))
    .unwrap();
    for (id, sfzh, age, district, at) in rows() {
        c.execute(
            &format!("INSERT INTO public.{t} VALUES ($1, $2, $3, $4, $5::text::timestamp)"),
            &[&(id as i32), &sfzh, &(age as i32), &(district as i32), &at],
        )
        .unwrap();
    }
    let table = TableSpec {
        schema: Some("public".into()),
        table: t.clone(),
    };
    check(&url, &table, &format!("public.{r}"));
    c.batch_execute(&format!("DROP TABLE public.{t}; DROP TABLE public.{r};"))
        .unwrap();
}

#[test]
#[cfg_attr(
    not(shuan_test_postgres),
    ignore = "needs SHUAN_TEST_POSTGRES (see README)"
)]
fn postgres_copy_rows_match_the_drivers_own_reading() {
    let url = env_url("SHUAN_TEST_POSTGRES");
    let t = unique("quality_pg_copy");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "CREATE TABLE public.{t} (n INT, a TEXT, b TEXT, d NUMERIC, j JSONB, ts TIMESTAMPTZ)"
    ))
    .unwrap();
    let awkward = [
        "plain",
        "tab\there",
        "new\nline",
        "back\\slash",
        "\\N",
        "",
        "carriage\rreturn",
        "张三\t李四\\n",
        "\u{1}\u{8}\u{b}\u{c}\u{7f}",
        "ends with backslash\\",
    ];
    for (n, a) in awkward.iter().enumerate() {
        c.execute(
            &format!("INSERT INTO public.{t} VALUES ($1, $2, $3, 12.50, '{{\"k\": \"v\\tw\"}}', '2026-12-04 08:00:00+08')"),
            &[&(n as i32), a, &(if n % 3 == 0 { None } else { Some(*a) })],
        )
        .unwrap();
    }
    let cols: Vec<String> = ["n", "a", "b", "d", "j", "ts"].map(String::from).to_vec();
    let mut copied: Vec<Vec<Option<String>>> = Vec::new();
    let table = TableSpec {
        schema: Some("public".into()),
        table: t.clone(),
    };
    let n = for_each_row(&url, &table, &cols, &SourceOptions::default(), |row| {
        copied.push(row.iter().map(|v| v.map(str::to_string)).collect())
    })
    .unwrap();
    assert_eq!(n, awkward.len() as u64);
    let direct: Vec<Vec<Option<String>>> = c
        .query(
            &format!(
                "SELECT n::text, a::text, b::text, d::text, j::text, ts::text FROM public.{t}"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (0..6).map(|i| r.get::<_, Option<String>>(i)).collect())
        .collect();
    copied.sort();
    let mut direct = direct;
    direct.sort();
    assert_eq!(copied, direct);
    c.batch_execute(&format!("DROP TABLE public.{t}")).unwrap();
}

#[test]
#[cfg_attr(not(shuan_test_mysql), ignore = "needs SHUAN_TEST_MYSQL (see README)")]
fn mariadb_quality_rules_find_the_planted_rows() {
    let url = env_url("SHUAN_TEST_MYSQL");
    let (t, r) = (unique("quality_my"), unique("quality_my_ref"));
    let mut c = mysql::Conn::new(mysql::Opts::from_url(&url).unwrap()).unwrap();
    c.query_drop("SET NAMES utf8mb4").unwrap();
    let db: Option<String> = c.query_first("SELECT DATABASE()").unwrap();
    let db = db.expect("SHUAN_TEST_MYSQL names a database");
    c.query_drop(format!(
        "CREATE TABLE `{t}` (id INT, `身份证号` VARCHAR(20), `年龄` INT, `区划` INT, `更新时间` DATETIME) DEFAULT CHARSET utf8mb4"
    ))
    .unwrap();
    c.query_drop(format!("CREATE TABLE `{r}` (code INT PRIMARY KEY)"))
        .unwrap();
    c.query_drop(format!("INSERT INTO `{r}` VALUES (1),(2),(3),(4),(5)"))
        .unwrap();
    for (id, sfzh, age, district, at) in rows() {
        c.exec_drop(
            format!("INSERT INTO `{t}` VALUES (?, ?, ?, ?, ?)"),
            (id, sfzh, age, district, at),
        )
        .unwrap();
    }
    let table = TableSpec {
        schema: Some(db.clone()),
        table: t.clone(),
    };
    check(&url, &table, &format!("{db}.{r}"));
    c.query_drop(format!("DROP TABLE `{t}`, `{r}`")).unwrap();
}
