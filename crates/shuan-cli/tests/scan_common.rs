//! Helpers shared by the CLI tests (included with `#[path]`; as its own test target it has
//! no tests). Values are synthetic; check digits are computed here, independently of
//! shuan-detect, with the algorithms of ../shared/standards/README.md.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the real binary with a private data directory.
pub fn shuan(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("SHUAN_DATA_DIR")
        .output()
        .expect("run shuan")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses stdout as JSON, with the whole output in the panic message if it is not.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

/// GB 11643 ID number number `i` (valid check character, birth dates in 1950–1999).
pub fn resident_id(i: u64) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let first17 = format!(
        "411502{}{:02}{:02}{:03}",
        1950 + i % 50,
        1 + i % 12,
        1 + i % 28,
        i % 1000
    );
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{first17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Mainland mobile number `i`.
pub fn mobile(i: u64) -> String {
    format!("138{:08}", (i * 7_919) % 100_000_000)
}

pub const NAMES: &[&str] = &[
    "张伟", "王芳", "李娜", "刘敏", "陈静", "杨丽", "赵强", "黄磊", "周军", "吴洋", "徐勇", "孙艳",
];

/// The table of a scan JSON document with this name.
pub fn table<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["tables"]
        .as_array()
        .expect("tables array")
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("no table {name} in {doc:#}"))
}

/// The column of a table object with this name.
pub fn column<'a>(table: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    table["columns"]
        .as_array()
        .expect("columns array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no column {name} in {table:#}"))
}

/// Checks one table object against the JSON contract of issue #2.
pub fn check_contract(t: &serde_json::Value) {
    assert!(t["source"].is_string(), "{t}");
    assert!(t["table"].is_string(), "{t}");
    assert!(t["rows_scanned"].is_u64(), "{t}");
    assert!(t["level"].is_string(), "{t}");
    for c in t["columns"].as_array().expect("columns") {
        assert!(c["name"].is_string(), "{c}");
        assert!(c["type"].is_string() || c["type"].is_null(), "{c}");
        assert!(c["label"].is_string() || c["label"].is_null(), "{c}");
        assert!(c["confidence"].is_f64() || c["confidence"].is_u64(), "{c}");
        assert!(c["category"].is_string() || c["category"].is_null(), "{c}");
        assert!(c["level"].is_string(), "{c}");
        assert!(c["reason"].is_string(), "{c}");
        assert_eq!(c["type"].is_null(), c["label"].is_null(), "{c}");
    }
}

/// A SQLite file with a people table (name, ID, phone, remark) and a table of
/// amounts with no personal data.
pub fn people_db(path: &Path, rows: u64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE people (xm TEXT, sfzh TEXT, sjhm TEXT, bz TEXT);
         CREATE TABLE amounts (yf TEXT, je REAL, bs INTEGER);",
    )
    .unwrap();
    for i in 0..rows {
        conn.execute(
            "INSERT INTO people VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![
                NAMES[(i as usize) % NAMES.len()],
                resident_id(i),
                mobile(i),
                if i % 3 == 0 { "无" } else { "正常" }
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO amounts VALUES (?1, ?2, ?3)",
            rusqlite::params![format!("2024-{:02}", 1 + i % 12), i as f64 * 3.5, i * 17],
        )
        .unwrap();
    }
}
