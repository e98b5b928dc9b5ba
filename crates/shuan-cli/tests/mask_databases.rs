//! `shuan mask` from a PostgreSQL table into a new table of another database (MySQL, and
//! another PostgreSQL database), against the servers of SHUAN_TEST_POSTGRES and
//! SHUAN_TEST_MYSQL. Unset when the test was built: ignored (`build.rs` sets the
//! `shuan_test_*` cfg), so the skip is visible; set but unreachable: fails.

use std::path::Path;
use std::process::{Command, Output};

use mysql::prelude::Queryable;

/// The server URL of a test that is only compiled in (not ignored) when `name` was set.
fn env_url(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{name} was set when this test was built; set it again"))
}

fn shuan(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SHUAN_MASK_KEY_FILE")
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

fn resident_id(i: usize) -> String {
    let body = format!(
        "440703{:04}0{}1{}{:03}",
        1950 + i % 50,
        1 + i % 9,
        i % 9,
        i % 1000
    );
    let s: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(s % 11) as usize] as char)
}

/// Another database on the same PostgreSQL server: the URL with its last path segment
/// replaced by `postgres`.
fn sibling_database(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').unwrap();
    format!("{}/postgres{query}", &base[..cut])
}

#[test]
#[cfg_attr(
    not(all(shuan_test_postgres, shuan_test_mysql)),
    ignore = "needs SHUAN_TEST_POSTGRES and SHUAN_TEST_MYSQL (see README)"
)]
fn a_postgres_table_is_masked_into_mysql_and_another_postgres_database() {
    let pg = env_url("SHUAN_TEST_POSTGRES");
    let my = env_url("SHUAN_TEST_MYSQL");
    let mut client = postgres::Client::connect(&pg, postgres::NoTls)
        .expect("SHUAN_TEST_POSTGRES is set but the server is unreachable");
    let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&my).unwrap())
        .init(vec!["SET NAMES utf8mb4"]);
    let mut conn =
        mysql::Conn::new(opts).expect("SHUAN_TEST_MYSQL is set but the server is unreachable");

    let table = format!("shuan_mask_src_{}", std::process::id());
    client
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS public.{table};
             CREATE TABLE public.{table} (id int, 身份证号 text, 手机号 text, note text)"
        ))
        .unwrap();
    let n = 300;
    for i in 0..n {
        client
            .execute(
                &format!("INSERT INTO public.{table} VALUES ($1, $2, $3, $4)"),
                &[
                    &(i as i32),
                    &resident_id(i),
                    &format!("139{:08}", i * 7),
                    &if i % 3 == 0 {
                        None
                    } else {
                        Some("备注\t含制表符")
                    },
                ],
            )
            .unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    assert!(shuan(&data, &["keys", "init"]).status.success());
    let qualified = format!("public.{table}");

    // Into MySQL.
    let out = shuan(
        &data,
        &[
            "mask",
            &pg,
            "--table",
            &qualified,
            "--scenario",
            "sharing",
            "--out",
            &my,
            "--no-progress",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> = conn
        .query(format!(
            "SELECT `身份证号`, `手机号`, note FROM `{table}` ORDER BY CAST(id AS UNSIGNED)"
        ))
        .unwrap();
    assert_eq!(rows.len(), n);
    for (i, (id, phone, note)) in rows.iter().enumerate() {
        let id = id.as_deref().unwrap();
        assert_ne!(id, resident_id(i), "row {i} not masked");
        assert!(!id.is_empty());
        assert_eq!(
            phone.as_deref().unwrap(),
            format!("139****{:04}", (i * 7) % 10_000)
        );
        assert_eq!(note.is_none(), i % 3 == 0);
    }
    // Again without --force: the table exists, nothing changes.
    let out = shuan(
        &data,
        &[
            "mask",
            &pg,
            "--table",
            &qualified,
            "--scenario",
            "sharing",
            "--out",
            &my,
            "--no-progress",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("already exists"), "{}", text(&out));

    // Into another PostgreSQL database; the source database itself is refused.
    let other = sibling_database(&pg);
    let out = shuan(
        &data,
        &[
            "mask",
            &pg,
            "--table",
            &qualified,
            "--scenario",
            "sharing",
            "--out",
            &other,
            "--no-progress",
            "--force",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let mut other_client = postgres::Client::connect(&other, postgres::NoTls).unwrap();
    let count: i64 = other_client
        .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
        .unwrap()
        .get(0);
    assert_eq!(count as usize, n);
    let out = shuan(
        &data,
        &[
            "mask",
            &pg,
            "--table",
            &qualified,
            "--scenario",
            "sharing",
            "--out",
            &pg,
            "--no-progress",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("source database"), "{}", text(&out));

    // Two successful runs and two refusals, each refusal recorded (issue #10 item 6:
    // every refused or failed action is in the ledger).
    let log = shuan(
        &data,
        &["audit", "query", "--action", "mask", "--format", "json"],
    );
    let recs: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let outcomes: Vec<&str> = recs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["allowed", "error", "allowed", "error"]);
    let dest = recs[0]["details"]["destination"].as_str().unwrap();
    assert!(
        dest.contains(&table) && dest.starts_with("mysql://"),
        "{dest}"
    );

    conn.query_drop(format!("DROP TABLE `{table}`")).unwrap();
    other_client
        .batch_execute(&format!("DROP TABLE \"{table}\""))
        .unwrap();
    client
        .batch_execute(&format!("DROP TABLE public.{table}"))
        .unwrap();
}
