//! `shuan scan` on files, run as the real binary: the JSON contract, exit statuses, the
//! inventory (`--save`, `assets diff`, `assets catalogue`) and the file formats (SQLite,
//! GBK CSV, XLSX, Parquet).

#[path = "scan_common.rs"]
mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use common::*;

#[test]
fn sqlite_json_contract_and_grades() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dept.db");
    people_db(&db, 60);
    let o = shuan(
        dir.path(),
        &["scan", db.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["profile"], "gbt43697");
    let people = table(&doc, "people");
    check_contract(people);
    check_contract(table(&doc, "amounts"));
    assert_eq!(people["rows_scanned"], 60);
    assert_eq!(column(people, "sfzh")["type"], "cn_resident_id");
    assert_eq!(column(people, "sfzh")["category"], "pi_identity");
    assert_eq!(column(people, "sfzh")["level"], "一般数据4级");
    assert_eq!(column(people, "sjhm")["type"], "cn_mobile");
    assert_eq!(column(people, "xm")["type"], "person_name");
    assert!(column(people, "bz")["type"].is_null());
    // 就高从严: the table takes its highest column level.
    assert_eq!(people["level"], "一般数据4级");
    let amounts = table(&doc, "amounts");
    assert!(
        amounts["columns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["type"].is_null()),
        "{amounts:#}"
    );
    assert_eq!(amounts["level"], "一般数据1级");
}

#[test]
fn xinyang_profile_grades_by_its_three_levels() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dept.db");
    people_db(&db, 30);
    let o = shuan(
        dir.path(),
        &[
            "scan",
            db.to_str().unwrap(),
            "--format",
            "json",
            "--profile",
            "xinyang",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["profile"], "xinyang");
    assert_eq!(table(&doc, "people")["level"], "二级");
    assert_eq!(table(&doc, "amounts")["level"], "一级");
}

#[test]
fn one_failing_source_exits_1_and_the_others_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dept.db");
    people_db(&db, 20);
    let missing = dir.path().join("no-such-file.csv");
    let o = shuan(
        dir.path(),
        &[
            "scan",
            missing.to_str().unwrap(),
            db.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let doc = json(&o);
    table(&doc, "people");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(lines.len(), 1, "one line per failing source: {err}");
    assert!(lines[0].contains("no-such-file.csv"), "{err}");
}

#[test]
fn database_password_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on localhost: connection refused at once.
    let o = shuan(
        dir.path(),
        &[
            "scan",
            "postgres://auditor:S3cretPw@127.0.0.1:1/hukou",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("S3cretPw"), "{all}");
    assert!(
        all.contains("127.0.0.1"),
        "the failing source is named: {all}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("dept.db");
    people_db(&db, 5);
    let db = db.to_str().unwrap();
    for args in [
        vec!["scan", db, "--format", "xml"],
        vec!["scan", db, "--sample", "0"],
        vec!["scan"],
        vec!["scan", db, "--profile", "no-such-profile"],
        vec!["scan", db, "--encoding", "ebcdic"],
        vec!["detect", "--format", "yaml"],
    ] {
        let o = shuan(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let bad = dir.path().join("bad.toml");
    fs::write(
        &bad,
        "extends = \"gbt43697\"\n[types]\nipv4 = { level = \"9级\" }\n",
    )
    .unwrap();
    let o = shuan(
        dir.path(),
        &["scan", db, "--profile", bad.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("bad.toml") && err.contains("9级") && err.contains("一般数据1级"),
        "{err}"
    );
}

#[test]
fn save_then_diff_reports_a_new_sensitive_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = dir.path().join("dept.db");
    people_db(&db, 40);
    let dbs = db.to_str().unwrap();
    let o = shuan(&data, &["scan", dbs, "--save", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(data.join("inventory.db").exists());

    // Someone adds bank card numbers to the amounts table.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("ALTER TABLE amounts ADD COLUMN yhkh TEXT")
        .unwrap();
    let cards = [
        "6222021234567890125",
        "4111111111111111",
        "6217000010001234563",
    ];
    for (i, card) in cards.iter().cycle().take(40).enumerate() {
        conn.execute(
            "UPDATE amounts SET yhkh = ?1 WHERE rowid = ?2",
            rusqlite::params![card, i as i64 + 1],
        )
        .unwrap();
    }
    drop(conn);
    let o = shuan(&data, &["scan", dbs, "--save"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let o = shuan(&data, &["assets", "diff", dbs, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let diffs = json(&o);
    let changes = diffs[0]["changes"].as_array().unwrap();
    let new_col = changes
        .iter()
        .find(|c| c["column"] == "yhkh")
        .unwrap_or_else(|| panic!("yhkh not reported: {diffs:#}"));
    assert_eq!(new_col["kind"], "new_column");
    assert_eq!(new_col["needs_review"], true);
    assert!(
        new_col["after"].as_str().unwrap().contains("bank_card"),
        "{new_col}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "level_raised" && c["table"] == "amounts"),
        "{diffs:#}"
    );
    assert!(
        !changes.iter().any(|c| c["table"] == "people"),
        "people did not change: {diffs:#}"
    );

    // The text forms work too and name the column.
    let o = shuan(&data, &["assets", "diff", dbs]);
    assert!(
        stdout(&o).contains("yhkh") && stdout(&o).contains("新增字段"),
        "{}",
        stdout(&o)
    );
    let o = shuan(&data, &["assets", "list", "--format", "json"]);
    let list = json(&o);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list:#}");
    let o = shuan(&data, &["assets", "show", "amounts"]);
    assert!(stdout(&o).contains("yhkh"), "{}", stdout(&o));
    // The inventory holds no values.
    let raw = fs::read(data.join("inventory.db")).unwrap();
    let needle = resident_id(1);
    assert!(!raw.windows(needle.len()).any(|w| w == needle.as_bytes()));
    assert!(!raw.windows(16).any(|w| w == b"4111111111111111"));
}

#[test]
fn catalogue_exports_important_data_as_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = dir.path().join("dept.db");
    people_db(&db, 30);
    // A department rule: sensitive PI of 20 people or more is already a candidate.
    let rules = dir.path().join("our-rules.toml");
    fs::write(
        &rules,
        "extends = \"gbt43697\"\nname = \"our-rules\"\n[[scale_rules]]\nname = \"sensitive_pi_100k\"\nmin_rows = 20\nsensitive_pi = true\nraise_to = \"重要数据\"\nreason = \"本单位规则\"\n",
    )
    .unwrap();
    let o = shuan(
        &data,
        &[
            "scan",
            db.to_str().unwrap(),
            "--profile",
            rules.to_str().unwrap(),
            "--save",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["profile"], "our-rules");
    assert_eq!(table(&doc, "people")["level"], "重要数据");
    assert_eq!(table(&doc, "amounts")["level"], "一般数据1级");

    let csv_path = dir.path().join("catalogue.csv");
    let o = shuan(
        &data,
        &[
            "assets",
            "catalogue",
            "--format",
            "csv",
            "--out",
            csv_path.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let csv = fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "header + people: {csv}");
    assert!(
        lines[0].starts_with("\u{feff}数据源,表,级别"),
        "BOM, then the header: {csv}"
    );
    assert!(
        lines[1].contains("people") && lines[1].contains("重要数据") && lines[1].contains("sfzh"),
        "{csv}"
    );

    let o = shuan(&data, &["assets", "catalogue", "--format", "json"]);
    let cat = json(&o);
    assert_eq!(cat.as_array().unwrap().len(), 1);
    assert_eq!(cat[0]["table"], "people");
    assert!(cat[0]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "pi_identity"));
}

#[test]
fn empty_inventory_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let o = shuan(dir.path(), &["assets", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("shuan scan"), "{}", stdout(&o));
    let o = shuan(dir.path(), &["assets", "diff", "/nowhere.db"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nowhere.db"));
}

fn people_rows(n: u64) -> Vec<(String, String, String)> {
    (0..n)
        .map(|i| {
            (
                NAMES[(i as usize) % NAMES.len()].to_string(),
                resident_id(i),
                mobile(i),
            )
        })
        .collect()
}

#[test]
fn gbk_csv_is_decoded_and_graded() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("姓名,身份证号,手机号,备注\r\n");
    for (name, id, phone) in people_rows(25) {
        text.push_str(&format!("{name},{id},{phone},按期缴纳\r\n"));
    }
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really GBK, not UTF-8");
    let path = dir.path().join("户籍导出.csv");
    fs::write(&path, &gbk).unwrap();
    let o = shuan(
        dir.path(),
        &["scan", path.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    let t = table(&doc, "户籍导出");
    check_contract(t);
    assert_eq!(t["rows_scanned"], 25);
    assert_eq!(column(t, "身份证号")["type"], "cn_resident_id");
    assert_eq!(column(t, "手机号")["type"], "cn_mobile");
    assert_eq!(column(t, "姓名")["type"], "person_name");
    assert!(column(t, "备注")["type"].is_null());
}

#[test]
fn committed_gbk_fixture_scans() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/source/hukou_gbk.csv");
    let dir = tempfile::tempdir().unwrap();
    let o = shuan(
        dir.path(),
        &["scan", path.to_str().unwrap(), "--format", "csv"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("source,table,rows_scanned,table_level,column,type"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.contains(",身份证号,cn_resident_id,")),
        "{out}"
    );
}

#[test]
fn xlsx_workbook_is_scanned() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("车辆台账.xlsx");
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in ["所有人", "身份证号", "联系电话", "备注"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (name, id, phone)) in people_rows(20).into_iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, name).unwrap();
        sheet.write_string(r, 1, id).unwrap();
        // Phones typed as numbers, as Excel users do.
        sheet
            .write_number(r, 2, phone.parse::<f64>().unwrap())
            .unwrap();
        sheet.write_string(r, 3, "年检").unwrap();
    }
    wb.save(&path).unwrap();
    let o = shuan(
        dir.path(),
        &["scan", path.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    let t = &doc["tables"][0];
    check_contract(t);
    assert!(t["table"].as_str().unwrap().starts_with("车辆台账"), "{t}");
    assert_eq!(column(t, "身份证号")["type"], "cn_resident_id");
    assert_eq!(column(t, "联系电话")["type"], "cn_mobile");
    assert_eq!(t["level"], "一般数据4级");
}

#[test]
fn parquet_file_is_scanned() {
    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shebao.parquet");
    let schema = parse_message_type(
        "message t { REQUIRED BYTE_ARRAY xm (UTF8); REQUIRED BYTE_ARRAY shbzhm (UTF8); REQUIRED BYTE_ARRAY yf (UTF8); }",
    )
    .unwrap();
    let file = fs::File::create(&path).unwrap();
    let mut w = SerializedFileWriter::new(
        file,
        Arc::new(schema),
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    let rows = people_rows(30);
    let mut group = w.next_row_group().unwrap();
    let mut i = 0;
    while let Some(mut col) = group.next_column().unwrap() {
        let values: Vec<ByteArray> = rows
            .iter()
            .enumerate()
            .map(|(r, (name, id, _))| match i {
                0 => ByteArray::from(name.as_str()),
                1 => ByteArray::from(id.as_str()),
                _ => ByteArray::from(format!("2024-{:02}", 1 + r % 12).as_str()),
            })
            .collect();
        col.typed::<ByteArrayType>()
            .write_batch(&values, None, None)
            .unwrap();
        col.close().unwrap();
        i += 1;
    }
    group.close().unwrap();
    w.close().unwrap();
    let o = shuan(
        dir.path(),
        &["scan", path.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc = json(&o);
    let t = table(&doc, "shebao");
    check_contract(t);
    assert_eq!(t["rows_scanned"], 30);
    assert_eq!(column(t, "shbzhm")["type"], "cn_resident_id");
    assert!(column(t, "yf")["type"].is_null());
}

#[test]
fn directory_with_a_binary_file_reports_the_skip_and_scans_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("exports");
    fs::create_dir(&src).unwrap();
    let mut text = String::from("xm,sfzh\n");
    for (name, id, _) in people_rows(12) {
        text.push_str(&format!("{name},{id}\n"));
    }
    fs::write(src.join("a.csv"), text).unwrap();
    fs::write(
        src.join("blob.csv"),
        [0u8, 159, 146, 150, 0, 0, 1, 2, 3, 255].repeat(100),
    )
    .unwrap();
    let o = shuan(
        dir.path(),
        &["scan", src.to_str().unwrap(), "--format", "json"],
    );
    let doc = json(&o);
    let t = table(&doc, "a");
    assert_eq!(column(t, "sfzh")["type"], "cn_resident_id");
    assert!(
        stderr(&o).contains("blob"),
        "the skipped file is reported: {}",
        stderr(&o)
    );
}

/// Runs the binary from `cwd`, so relative paths are the user's.
fn shuan_in(cwd: &Path, data_dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_shuan"))
        .current_dir(cwd)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("SHUAN_DATA_DIR")
        .output()
        .expect("run shuan")
}

/// Regression (issue 10 item 5): the inventory keyed a source by the path as typed, so one
/// file scanned as `in/people.csv` and as `./people.csv` was two sources, and another
/// directory's `./people.csv` was taken for the first, with a false "级别降低" diff.
#[test]
fn one_file_is_one_source_however_its_path_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let data = root.join("data");
    fs::create_dir_all(root.join("in")).unwrap();
    fs::create_dir_all(root.join("other")).unwrap();
    let mut text = String::from("姓名,身份证号,手机号\n");
    for (name, id, phone) in people_rows(30) {
        text.push_str(&format!("{name},{id},{phone}\n"));
    }
    fs::write(root.join("in/people.csv"), &text).unwrap();
    // Another department's people.csv: names only, a lower level.
    let mut other = String::from("姓名,备注\n");
    for (name, _, _) in people_rows(30) {
        other.push_str(&format!("{name},正常\n"));
    }
    fs::write(root.join("other/people.csv"), &other).unwrap();

    for (cwd, typed) in [
        (root.clone(), "in/people.csv"),
        (root.join("in"), "./people.csv"),
    ] {
        let o = shuan_in(&cwd, &data, &["scan", typed, "--save"]);
        assert_eq!(o.status.code(), Some(0), "{typed}: {}", stderr(&o));
    }
    let sources = |data: &Path| -> Vec<String> {
        let o = shuan(data, &["assets", "list", "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let mut s: Vec<String> = json(&o)
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["source"].as_str().unwrap().to_string())
            .collect();
        s.dedup();
        s
    };
    let canonical = root.join("in/people.csv").to_str().unwrap().to_string();
    assert_eq!(sources(&data), std::slice::from_ref(&canonical));
    // Two scans of one unchanged file: nothing changed.
    let o = shuan_in(
        &root,
        &data,
        &["assets", "diff", "in/people.csv", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let diffs = json(&o);
    assert!(diffs[0]["previous"].is_object(), "{diffs:#}");
    assert_eq!(diffs[0]["changes"], serde_json::json!([]), "{diffs:#}");

    let o = shuan_in(
        &root.join("other"),
        &data,
        &["scan", "./people.csv", "--save"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let other_name = root.join("other/people.csv").to_str().unwrap().to_string();
    let mut want = vec![canonical.clone(), other_name];
    want.sort();
    assert_eq!(sources(&data), want);
    // The first source is untouched and no change is invented between the two files.
    let o = shuan(&data, &["assets", "diff", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let diffs = json(&o);
    for d in diffs.as_array().unwrap() {
        let changes = d["changes"].as_array().unwrap();
        assert!(
            !changes.iter().any(|c| c["kind"] == "level_lowered"),
            "false diff: {diffs:#}"
        );
        if d["source"] == canonical.as_str() {
            assert!(changes.is_empty(), "{diffs:#}");
        }
    }
}

/// Regression (issue 10 item 7): a directory scan that could not read one of its files
/// exited 0, as if the directory had been inventoried whole.
#[cfg(unix)]
#[test]
fn directory_with_an_unreadable_file_fails_and_names_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("exports");
    fs::create_dir(&src).unwrap();
    let mut text = String::from("xm,sfzh\n");
    for (name, id, _) in people_rows(12) {
        text.push_str(&format!("{name},{id}\n"));
    }
    fs::write(src.join("a.csv"), &text).unwrap();
    let locked = src.join("locked.csv");
    fs::write(&locked, &text).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::File::open(&locked).is_ok() {
        // Running as root: permissions do not stop reading; a directory that cannot be
        // listed does (root bypasses that too), so make the file unreadable another way:
        // a corrupt workbook under a spreadsheet extension.
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
        fs::remove_file(&locked).unwrap();
        fs::write(src.join("locked.xlsx"), b"PK\x03\x04 not really a workbook").unwrap();
    }
    let o = shuan(
        dir.path(),
        &["scan", src.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("locked"),
        "names the file: {}",
        stderr(&o)
    );
    let doc = json(&o);
    assert_eq!(column(table(&doc, "a"), "sfzh")["type"], "cn_resident_id");
}

/// Regression (issue 10 item 3): parallel first-time `scan --save` runs into one data
/// directory failed on the inventory (migration race, write lock). Sixteen scans of
/// different files at once: every one exits 0 and every source is in the inventory.
#[test]
fn parallel_saves_into_one_inventory_all_land() {
    const SCANS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Everything is created by the racing scans themselves: the node key, the ledger
    // and the inventory (before the fixes, 3 of 8 first-time scans failed on the key).
    assert!(!data.exists());
    let files: Vec<std::path::PathBuf> = (0..SCANS)
        .map(|i| {
            let mut text = String::from("姓名,身份证号,手机号\n");
            for (name, id, phone) in people_rows(20 + i as u64) {
                text.push_str(&format!("{name},{id},{phone}\n"));
            }
            let path = dir.path().join(format!("people-{i}.csv"));
            fs::write(&path, text).unwrap();
            path
        })
        .collect();
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            std::process::Command::new(env!("CARGO_BIN_EXE_shuan"))
                .arg("--data-dir")
                .arg(&data)
                .args(["scan", f.to_str().unwrap(), "--save"])
                .env_remove("SHUAN_DATA_DIR")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start shuan")
        })
        .collect();
    for (child, f) in children.into_iter().zip(&files) {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}: {}", f.display(), stderr(&o));
    }
    let o = shuan(&data, &["assets", "list", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut saved: Vec<String> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["source"].as_str().unwrap().to_string())
        .collect();
    saved.sort();
    let mut want: Vec<String> = files
        .iter()
        .map(|f| f.canonicalize().unwrap().to_str().unwrap().to_string())
        .collect();
    want.sort();
    assert_eq!(saved, want);
    let o = shuan(&data, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
