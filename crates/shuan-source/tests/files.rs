//! File sources through the public API: formats, encodings, directories, bad input.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use shuan_source::{open, Source, SourceError, SourceOptions, TableSample, TextEncoding};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/source")
        .join(name)
}

fn open_path(path: &Path) -> Box<dyn Source> {
    open(path.to_str().unwrap(), &SourceOptions::default()).unwrap()
}

fn sample_only_table(path: &Path, per_column: usize) -> TableSample {
    let mut source = open_path(path);
    let tables = source.tables().unwrap();
    assert_eq!(tables.len(), 1, "{tables:?}");
    source.sample_table(&tables[0], per_column).unwrap()
}

fn column<'a>(sample: &'a TableSample, name: &str) -> &'a [String] {
    &sample
        .columns
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", sample.columns))
        .values
}

fn all_rows(source: &mut dyn Source) -> Vec<Result<Vec<Option<String>>, SourceError>> {
    let tables = source.tables().unwrap();
    let mut reader = source.open_table(&tables[0]).unwrap();
    std::iter::from_fn(|| reader.next_row()).collect()
}

#[test]
fn gbk_csv_is_detected_and_decoded() {
    let sample = sample_only_table(&testdata("hukou_gbk.csv"), 1000);
    assert_eq!(sample.table.name, "hukou_gbk");
    assert_eq!(sample.row_count, Some(3));
    assert_eq!(column(&sample, "姓名"), ["张三", "李四", "王五"]);
    // Blank values are not part of the sample.
    assert_eq!(
        column(&sample, "身份证号"),
        ["110105194912310021", "11010519491231002X"]
    );
    assert_eq!(column(&sample, "住址")[1], "河南省信阳市浉河区民权路1号");
}

#[test]
fn utf8_bom_is_not_part_of_the_first_column_name() {
    let sample = sample_only_table(&testdata("hukou_utf8_bom.csv"), 1000);
    assert_eq!(sample.columns[0].name, "姓名");
    assert_eq!(column(&sample, "手机号"), ["13800138000", "13912345678"]);
    assert_eq!(sample.skipped_rows, 0);
}

#[test]
fn tsv_uses_tabs() {
    let sample = sample_only_table(&testdata("shebao.tsv"), 1000);
    let names: Vec<&str> = sample.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["单位名称", "统一社会信用代码", "缴费金额"]);
    assert_eq!(column(&sample, "缴费金额"), ["1200.50", "800"]);
}

#[test]
fn sample_stops_collecting_but_counts_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut text = String::from("id,phone,note\n");
    for i in 0..5000 {
        let note = if i % 2 == 0 { "" } else { "备注" };
        text.push_str(&format!("{i},1380013{i:04},{note}\n"));
    }
    fs::write(&path, &text).unwrap();
    let sample = sample_only_table(&path, 100);
    assert_eq!(sample.row_count, Some(5000));
    assert_eq!(sample.rows_scanned, 5000);
    assert_eq!(column(&sample, "id").len(), 100);
    assert_eq!(column(&sample, "id")[99], "99");
    assert_eq!(column(&sample, "note").len(), 100);
    assert!(column(&sample, "note").iter().all(|v| v == "备注"));
}

#[test]
fn progress_reports_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    let mut text = String::from("a,b\n");
    for i in 0..200_000 {
        text.push_str(&format!("{i},值{i}\n"));
    }
    fs::write(&path, &text).unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let counter = seen.clone();
    let options = SourceOptions {
        progress: Some(Arc::new(move |n| {
            counter.fetch_add(n, Ordering::Relaxed);
        })),
        ..SourceOptions::default()
    };
    let mut source = open(path.to_str().unwrap(), &options).unwrap();
    let table = source.tables().unwrap().remove(0);
    assert_eq!(table.size_bytes, Some(text.len() as u64));
    let sample = source.sample_table(&table, 10).unwrap();
    assert_eq!(sample.row_count, Some(200_000));
    assert_eq!(seen.load(Ordering::Relaxed), text.len() as u64);
}

#[test]
fn malformed_rows_are_skipped_and_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    fs::write(
        &path,
        "姓名,手机号\n张三,13800138000\n李四,13912345678,多余\n\"王\n五\",13700000000\n赵六\n",
    )
    .unwrap();
    let sample = sample_only_table(&path, 1000);
    // Line 3 has three fields, line 6 one: both skipped; the quoted newline is fine.
    assert_eq!(sample.row_count, Some(2));
    assert_eq!(sample.skipped_rows, 2);
    assert_eq!(column(&sample, "姓名"), ["张三", "王\n五"]);
    assert!(
        sample.warnings[0].contains("bad.csv:3:"),
        "{:?}",
        sample.warnings
    );
    assert!(
        sample.warnings[1].contains("bad.csv:6:"),
        "{:?}",
        sample.warnings
    );
    assert!(sample.warnings[0].contains("3 fields where the header has 2"));
}

#[test]
fn invalid_utf8_in_a_utf8_file_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.csv");
    // Detected as UTF-8 from its head; a GBK row follows far later.
    let mut bytes = "姓名,备注\n".as_bytes().to_vec();
    for i in 0..5000 {
        bytes.extend_from_slice(format!("用户{i},正常\n").as_bytes());
    }
    let (gbk, _, _) = encoding_rs::GBK.encode("张三,乱码\n");
    bytes.extend_from_slice(&gbk);
    bytes.extend_from_slice("李四,正常\n".as_bytes());
    fs::write(&path, &bytes).unwrap();
    let mut source = open_path(&path);
    let rows = all_rows(source.as_mut());
    assert_eq!(rows.len(), 5002);
    match &rows[5000] {
        Err(SourceError::Encoding { line, encoding, .. }) => {
            assert_eq!(*line, 5002);
            assert_eq!(*encoding, "UTF-8");
        }
        other => panic!("expected an encoding error, got {other:?}"),
    }
    assert_eq!(rows[5001].as_ref().unwrap()[0].as_deref(), Some("李四"));
    let msg = rows[5000].as_ref().unwrap_err().to_string();
    assert!(
        msg.contains("mixed.csv:5002") && msg.contains("--encoding"),
        "{msg}"
    );
}

#[test]
fn explicit_encoding_overrides_detection() {
    let path = testdata("hukou_gbk.csv");
    let options = SourceOptions {
        encoding: Some(TextEncoding::Utf8),
        ..SourceOptions::default()
    };
    let mut source = open(path.to_str().unwrap(), &options).unwrap();
    let table = source.tables().unwrap().remove(0);
    // Even the header is not UTF-8: the table cannot be opened.
    let err = source.open_table(&table).err().unwrap();
    assert!(
        matches!(err, SourceError::Encoding { line: 1, .. }),
        "{err}"
    );
}

#[test]
fn huge_record_is_capped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let mut text = String::from("a,b\n1,2\n\"");
    // An unterminated quote: the rest of the file would become one record.
    text.push_str(&"x".repeat(3 * 1024 * 1024));
    fs::write(&path, &text).unwrap();
    let options = SourceOptions {
        max_record_bytes: Some(1024 * 1024),
        ..SourceOptions::default()
    };
    let mut source = open(path.to_str().unwrap(), &options).unwrap();
    let table = source.tables().unwrap().remove(0);
    let err = source.sample_table(&table, 10).unwrap_err();
    match &err {
        SourceError::RecordTooLarge { line, limit, .. } => {
            assert_eq!(*line, 3);
            assert_eq!(*limit, 1024 * 1024);
        }
        other => panic!("expected RecordTooLarge, got {other:?}"),
    }
    assert!(err.to_string().contains("huge.csv:3"));
}

#[test]
fn missing_file_is_not_found() {
    let err = open("/nonexistent/shuan/户籍.csv", &SourceOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, SourceError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/shuan/户籍.csv"));
}

#[test]
fn unreadable_file_is_an_io_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.csv");
    fs::write(&path, "a\n1\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::File::open(&path).is_ok() {
        eprintln!("note: running as a user who can read mode-000 files (root); not testable here");
        return;
    }
    let mut source = open_path(&path);
    let err = source.tables().unwrap_err();
    assert!(matches!(err, SourceError::Io { .. }), "{err}");
}

#[test]
fn binary_file_with_text_extension_is_refused_and_skipped_in_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.csv");
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend(std::iter::repeat_n(0u8, 1000));
    fs::write(&path, &bytes).unwrap();
    fs::write(dir.path().join("ok.csv"), "a\n1\n").unwrap();

    let mut single = open_path(&path);
    let err = single.tables().unwrap_err();
    assert!(matches!(err, SourceError::Binary { .. }), "{err}");

    let mut directory = open_path(dir.path());
    let tables = directory.tables().unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].name, "ok");
    let skipped = directory.skipped();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].path, path);
    assert!(
        skipped[0].reason.contains("binary"),
        "{}",
        skipped[0].reason
    );
}

#[test]
fn directories_are_walked_recursively_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("2023/民政")).unwrap();
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(root.join("a.csv"), "x\n1\n").unwrap();
    fs::write(root.join("2023/民政/低保.jsonl"), "{\"姓名\":\"张三\"}\n").unwrap();
    fs::write(root.join("2023/readme.md"), "# not a table").unwrap();
    fs::write(root.join(".git/config.csv"), "hidden\n1\n").unwrap();
    fs::write(root.join("2023/b.TSV"), "y\tz\n1\t2\n").unwrap();
    std::os::unix::fs::symlink(root.join("a.csv"), root.join("link.csv")).unwrap();

    let mut source = open_path(root);
    assert_eq!(source.display_name(), root.display().to_string());
    let tables = source.tables().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    // Sorted by name at each level: "2023" < "a.csv", and "b.TSV" < "民政".
    assert_eq!(names, ["b", "低保", "a"]);
    // A file's table names the file as its source.
    assert_eq!(
        tables[1].source,
        root.join("2023/民政/低保.jsonl").display().to_string()
    );
    for table in &tables {
        let sample = source.sample_table(table, 10).unwrap();
        assert_eq!(sample.row_count, Some(1), "{}", table.name);
    }
    // Regression: the link was skipped silently; a skip must be reported.
    let skipped = source.skipped();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].path, root.join("link.csv"));
    assert!(
        skipped[0].reason.contains("symbolic link"),
        "{}",
        skipped[0].reason
    );
}

#[test]
fn json_array_of_objects_with_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.json");
    fs::write(
        &path,
        r#"[
  {"姓名": "张三", "证件": {"类型": "身份证", "号码": "110105194912310021"}, "电话": 13800138000},
  {"姓名": "李四", "标签": ["低保", "残疾"], "电话": null, "备注": "后出现的列"},
  {"姓名": "王五, \"老王\"", "证件": {"号码": "11010519491231002X"}}
]"#,
    )
    .unwrap();
    let sample = sample_only_table(&path, 100);
    let names: Vec<&str> = sample.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["姓名", "证件.类型", "证件.号码", "电话", "标签", "备注"]
    );
    assert_eq!(sample.row_count, Some(3));
    assert_eq!(
        column(&sample, "证件.号码"),
        ["110105194912310021", "11010519491231002X"]
    );
    assert_eq!(column(&sample, "电话"), ["13800138000"]);
    assert_eq!(column(&sample, "标签"), [r#"["低保","残疾"]"#]);
    assert_eq!(column(&sample, "姓名")[2], "王五, \"老王\"");
}

#[test]
fn jsonl_with_a_broken_line_skips_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    fs::write(
        &path,
        "{\"ip\":\"10.0.0.1\",\"user\":\"a\"}\n\n{\"ip\":\"10.0.0.2\",\n[1,2]\n{\"ip\":\"10.0.0.3\"}\n",
    )
    .unwrap();
    let sample = sample_only_table(&path, 100);
    assert_eq!(column(&sample, "ip"), ["10.0.0.1", "10.0.0.3"]);
    assert_eq!(sample.row_count, Some(2));
    assert_eq!(sample.skipped_rows, 2);
    assert!(
        sample.warnings[0].contains("log.jsonl:3:"),
        "{:?}",
        sample.warnings
    );
    assert!(
        sample.warnings[1].contains("log.jsonl:4:"),
        "{:?}",
        sample.warnings
    );
}

#[test]
fn json_that_is_not_a_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scalar.json");
    fs::write(&path, "42").unwrap();
    let mut source = open_path(&path);
    let table = source.tables().unwrap().remove(0);
    let err = source.open_table(&table).err().unwrap();
    assert!(matches!(err, SourceError::Json { .. }), "{err}");
}

#[test]
fn truncated_json_array_reports_the_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.json");
    fs::write(&path, "[{\"a\":1},{\"a\":2},{\"a\":").unwrap();
    let sample = sample_only_table(&path, 10);
    assert_eq!(column(&sample, "a"), ["1", "2"]);
    assert_eq!(sample.skipped_rows, 1);
    assert!(
        sample.warnings[0].contains("truncated"),
        "{:?}",
        sample.warnings
    );
}

#[test]
fn sqlite_file_is_read_without_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dept.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE 户籍人口 (id INTEGER PRIMARY KEY, 姓名 TEXT, 身份证号 TEXT, 照片 BLOB);
             CREATE TABLE empty_table (x TEXT);
             CREATE VIEW v AS SELECT 1;",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        let mut insert = tx
            .prepare("INSERT INTO 户籍人口 (姓名, 身份证号, 照片) VALUES (?, ?, ?)")
            .unwrap();
        for i in 0..3000 {
            let id = if i % 3 == 0 {
                None
            } else {
                Some(format!("1101051949123100{:02}", i % 100))
            };
            insert
                .execute(rusqlite::params![
                    format!("居民{i}"),
                    id,
                    vec![0u8, 159, 146, 150]
                ])
                .unwrap();
        }
        drop(insert);
        tx.commit().unwrap();
    }
    let before = fs::read(&path).unwrap();
    let mut source = open_path(&path);
    let tables = source.tables().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["empty_table", "户籍人口"]);
    let sample = source.sample_table(&tables[1], 50).unwrap();
    assert_eq!(sample.row_count, Some(3000));
    assert!(!sample.row_count_estimated);
    assert_eq!(column(&sample, "姓名").len(), 50);
    assert_eq!(column(&sample, "身份证号").len(), 50);
    assert_eq!(column(&sample, "身份证号")[0], "110105194912310001");
    // Binary content is not sampled as text.
    assert!(column(&sample, "照片").is_empty());
    assert_eq!(
        sample.columns[2].declared_type.as_deref(),
        Some("TEXT"),
        "{:?}",
        sample.columns
    );
    let empty = source.sample_table(&tables[0], 50).unwrap();
    assert_eq!(empty.row_count, Some(0));

    // Full streaming read through open_table.
    let mut reader = source.open_table(&tables[1]).unwrap();
    let mut n = 0;
    while let Some(row) = reader.next_row() {
        row.unwrap();
        n += 1;
    }
    assert_eq!(n, 3000);
    drop(reader);
    // Stopping early is fine too.
    let mut reader = source.open_table(&tables[1]).unwrap();
    assert!(reader.next_row().unwrap().is_ok());
    drop(reader);
    drop(source);
    assert_eq!(
        fs::read(&path).unwrap(),
        before,
        "the database file changed"
    );

    let url = format!("sqlite://{}", path.display());
    let mut by_url = open(&url, &SourceOptions::default()).unwrap();
    assert_eq!(by_url.tables().unwrap().len(), 2);
}

#[test]
fn sqlite_missing_file_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    let err = open(
        &format!("sqlite://{}", path.display()),
        &SourceOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, SourceError::NotFound { .. }), "{err}");
    assert!(!path.exists());
}

#[test]
fn garbage_with_a_database_extension_is_an_sqlite_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not.db");
    fs::write(&path, "this is not a database, just text long enough to have a header..................................................").unwrap();
    let mut source = open_path(&path);
    let err = source.tables().unwrap_err();
    assert!(matches!(err, SourceError::Sqlite { .. }), "{err}");
}

/// Random and mutated inputs under every extension: errors are fine, panics and hangs are
/// not. Deterministic (a fixed generator seed); `SHUAN_SOURCE_FUZZ_ROUNDS` raises the count
/// for a longer soak.
#[test]
fn random_and_mutated_inputs_never_panic() {
    let rounds: usize = std::env::var("SHUAN_SOURCE_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let seeds: Vec<Vec<u8>> = vec![
        fs::read(testdata("hukou_gbk.csv")).unwrap(),
        fs::read(testdata("hukou_utf8_bom.csv")).unwrap(),
        br#"[{"a":"1","b":{"c":[1,2,{"d":null}]}},{"a":"\"x\\"}]"#.to_vec(),
        b"{\"a\":1}\n{\"b\":\"\\u4e2d\"}\n".to_vec(),
        Vec::new(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let options = SourceOptions {
        max_record_bytes: Some(4096),
        ..SourceOptions::default()
    };
    for round in 0..rounds {
        let mut bytes = seeds[round % seeds.len()].clone();
        match next() % 3 {
            // Flip, insert and delete bytes of a valid file.
            0 | 1 => {
                for _ in 0..1 + next() % 8 {
                    let at = if bytes.is_empty() {
                        0
                    } else {
                        (next() as usize) % bytes.len()
                    };
                    match next() % 3 {
                        0 if !bytes.is_empty() => bytes[at] = next() as u8,
                        1 => bytes.insert(
                            at,
                            [b'"', b',', b'\n', b'{', b'[', 0xFF, 0xA1][(next() % 7) as usize],
                        ),
                        _ if !bytes.is_empty() => {
                            bytes.remove(at);
                        }
                        _ => {}
                    }
                }
            }
            // Pure noise.
            _ => {
                let len = (next() % 20_000) as usize;
                bytes = (0..len).map(|_| next() as u8).collect();
            }
        }
        for ext in [
            "csv", "tsv", "json", "jsonl", "xlsx", "parquet", "db", "dat",
        ] {
            let path = dir.path().join(format!("fuzz{round}.{ext}"));
            fs::write(&path, &bytes).unwrap();
            let Ok(mut source) = open(path.to_str().unwrap(), &options) else {
                continue;
            };
            let Ok(tables) = source.tables() else {
                continue;
            };
            for table in tables {
                let _ = source.sample_table(&table, 5);
                if let Ok(mut reader) = source.open_table(&table) {
                    let width = reader.columns().len();
                    let mut guard = 0;
                    while let Some(row) = reader.next_row() {
                        if let Ok(row) = row {
                            assert_eq!(row.len(), width, "{ext} round {round}");
                        }
                        guard += 1;
                        assert!(
                            guard < 1_000_000,
                            "{ext} round {round}: reader does not end"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn bad_rows_after_the_sample_is_full_are_still_found() {
    let dir = tempfile::tempdir().unwrap();
    for (name, gbk) in [("late_utf8.csv", false), ("late_gbk.csv", true)] {
        let path = dir.path().join(name);
        let mut text = String::from("姓名,电话\n");
        for i in 0..1000 {
            text.push_str(&format!("用户{i},1380013{i:04}\n"));
        }
        text.push_str("多,了,字段\n");
        text.push_str("最后,13800138000\n");
        let mut bytes = if gbk {
            encoding_rs::GBK.encode(&text).0.into_owned()
        } else {
            text.into_bytes()
        };
        // A byte sequence that is invalid in both encodings (0xFF never occurs in either).
        bytes.extend_from_slice(b"\xFF\xFE,1\n");
        fs::write(&path, &bytes).unwrap();
        let sample = sample_only_table(&path, 10);
        assert_eq!(sample.row_count, Some(1001), "{name}");
        assert_eq!(sample.skipped_rows, 2, "{name}: {:?}", sample.warnings);
        assert!(
            sample.warnings[0].contains(&format!("{name}:1002:")),
            "{:?}",
            sample.warnings
        );
        assert!(
            sample.warnings[1].contains(&format!("{name}:1004:")),
            "{:?}",
            sample.warnings
        );
    }
}

#[test]
fn huge_json_values_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let options = SourceOptions {
        max_record_bytes: Some(64 * 1024),
        ..SourceOptions::default()
    };
    let big = "x".repeat(200 * 1024);
    for (name, text, line) in [
        (
            "big.jsonl",
            format!("{{\"a\":1}}\n{{\"a\":\"{big}\"}}\n"),
            2,
        ),
        (
            "big.json",
            format!("[{{\"a\":1}},\n{{\"a\":\"{big}\"}}]"),
            2,
        ),
        // An unterminated string swallows the rest of the file.
        ("open.json", format!("[{{\"a\":1}},\n{{\"a\":\"{big}"), 2),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        let mut source = open(path.to_str().unwrap(), &options).unwrap();
        let table = source.tables().unwrap().remove(0);
        let err = source.sample_table(&table, 10).unwrap_err();
        match err {
            SourceError::RecordTooLarge { line: l, limit, .. } => {
                assert_eq!((l, limit), (line, 64 * 1024), "{name}")
            }
            other => panic!("{name}: expected RecordTooLarge, got {other}"),
        }
    }
}

#[test]
fn trailing_delimiters_on_rows_are_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trailing.csv");
    fs::write(
        &path,
        "姓名,手机号\n张三,13800138000,\n李四,13912345678,,\n王五,137,多余\n",
    )
    .unwrap();
    let sample = sample_only_table(&path, 10);
    assert_eq!(column(&sample, "姓名"), ["张三", "李四"]);
    assert_eq!(sample.row_count, Some(2));
    // A non-empty extra field is still a malformed row.
    assert_eq!(sample.skipped_rows, 1);
    assert!(
        sample.warnings[0].contains("trailing.csv:4:"),
        "{:?}",
        sample.warnings
    );
}

#[test]
fn utf16_unicode_text_exports_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = "姓名\t身份证号\r\n张三\t110105194912310021\r\n李四\t11010519491231002X\r\n";
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    for (name, bytes) in [("unicode_le.txt", le), ("unicode_be.csv", be)] {
        let path = dir.path().join(name);
        fs::write(&path, &bytes).unwrap();
        let seen = Arc::new(AtomicU64::new(0));
        let counter = seen.clone();
        let options = SourceOptions {
            progress: Some(Arc::new(move |n| {
                counter.fetch_add(n, Ordering::Relaxed);
            })),
            ..SourceOptions::default()
        };
        let mut source = open(path.to_str().unwrap(), &options).unwrap();
        let table = source.tables().unwrap().remove(0);
        let sample = source.sample_table(&table, 10).unwrap();
        assert_eq!(sample.columns[0].name, "姓名", "{name}");
        assert_eq!(
            column(&sample, "身份证号"),
            ["110105194912310021", "11010519491231002X"],
            "{name}"
        );
        assert_eq!(sample.row_count, Some(2));
        // Progress counts file bytes, not decoded bytes.
        assert_eq!(seen.load(Ordering::Relaxed), bytes.len() as u64, "{name}");
    }
}

/// `path` written relative to the current directory through `..` components, the way a
/// user in another directory would type it (no `chdir`: tests share the process's cwd).
fn relative_to_cwd(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap().canonicalize().unwrap();
    let mut rel = PathBuf::new();
    for _ in cwd.components().skip(1) {
        rel.push("..");
    }
    rel.join(path.strip_prefix("/").unwrap())
}

/// Regression (issue 10 item 5): a file source was named by the path as typed, so one file
/// became several sources in the inventory and two different `./people.csv` one source.
#[test]
fn a_file_has_one_canonical_name_however_it_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    fs::create_dir_all(root.join("in/sub")).unwrap();
    fs::create_dir_all(root.join("other")).unwrap();
    let people = root.join("in/people.csv");
    fs::write(&people, "姓名,手机号\n张三,13800138000\n").unwrap();
    fs::write(root.join("other/people.csv"), "姓名\n李四\n").unwrap();
    std::os::unix::fs::symlink(&people, root.join("link.csv")).unwrap();

    let spellings = [
        people.clone(),
        root.join("in/./sub/../people.csv"),
        relative_to_cwd(&people),
        root.join("link.csv"),
    ];
    for typed in &spellings {
        let typed = typed.to_str().unwrap();
        let mut source = open(typed, &SourceOptions::default()).unwrap();
        assert_eq!(source.display_name(), people.to_str().unwrap(), "{typed}");
        let tables = source.tables().unwrap();
        assert_eq!(tables[0].source, people.to_str().unwrap(), "{typed}");
        assert_eq!(
            shuan_source::canonical_source_name(typed),
            people.to_str().unwrap()
        );
        // The canonical path still reads.
        assert_eq!(
            source.sample_table(&tables[0], 10).unwrap().row_count,
            Some(1)
        );
    }
    let other = open(
        root.join("other/people.csv").to_str().unwrap(),
        &SourceOptions::default(),
    )
    .unwrap()
    .display_name();
    assert_ne!(other, people.to_str().unwrap());

    // Directories and sqlite:// URLs too.
    let dir_source = open(
        root.join("in/sub/..").to_str().unwrap(),
        &SourceOptions::default(),
    )
    .unwrap();
    assert_eq!(dir_source.display_name(), root.join("in").to_str().unwrap());
    let mut dir_source = dir_source;
    let tables = dir_source.tables().unwrap();
    assert_eq!(tables[0].source, people.to_str().unwrap());
    let db = root.join("d.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE t (x TEXT)")
        .unwrap();
    let url = format!("sqlite://{}/in/../d.db", root.display());
    assert_eq!(
        open(&url, &SourceOptions::default())
            .unwrap()
            .display_name(),
        db.to_str().unwrap()
    );
    assert_eq!(
        shuan_source::canonical_source_name(&url),
        db.to_str().unwrap()
    );
    // A path that does not exist is still named absolutely, never as typed.
    let missing = shuan_source::canonical_source_name("no/such/people.csv");
    assert!(Path::new(&missing).is_absolute(), "{missing}");
}

/// Regression (issue 10 item 7): a 3-row UTF-8 CSV with three bad bytes was decoded as
/// GB18030, turning every Chinese value into mojibake. Now the good rows read as UTF-8
/// and the damaged rows are skipped and reported with their line.
#[test]
fn short_utf8_csv_with_bad_bytes_is_read_as_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    let mut bytes = "姓名,手机号,住址\n".as_bytes().to_vec();
    bytes.extend_from_slice("张三,13800138000,北京市朝阳区\n".as_bytes());
    bytes.extend_from_slice("李四,13912345678,信阳市".as_bytes());
    // Bad bytes that happen to be valid GBK pairs, as damage often is.
    bytes.extend_from_slice(b"\xC0\xC1\n");
    bytes.extend_from_slice("王五".as_bytes());
    bytes.extend_from_slice(b"\xB0\xA1,13700000000,");
    bytes.extend_from_slice("河南省信阳市\n".as_bytes());
    fs::write(&path, &bytes).unwrap();
    let sample = sample_only_table(&path, 100);
    assert_eq!(column(&sample, "姓名"), ["张三"]);
    assert_eq!(column(&sample, "住址"), ["北京市朝阳区"]);
    assert_eq!(sample.skipped_rows, 2, "{:?}", sample.warnings);
    assert!(
        sample.warnings[0].contains("people.csv:3:"),
        "{:?}",
        sample.warnings
    );
}

/// Regression (issue 10 item 7, small samples): only the first 64 KiB decided the
/// encoding, so a GBK export whose first rows are all ASCII was taken for UTF-8 and every
/// later Chinese row was skipped as invalid.
#[test]
fn gbk_after_an_ascii_head_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    let mut text = String::from("id,name,remark\n");
    for i in 0..5000 {
        text.push_str(&format!("{i},anonymous,no remark given for this row\n"));
    }
    assert!(text.len() > 128 * 1024);
    for i in 0..50 {
        text.push_str(&format!("{},张三{i},河南省信阳市浉河区\n", 5000 + i));
    }
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    fs::write(&path, &gbk).unwrap();
    let sample = sample_only_table(&path, 10_000);
    assert_eq!(sample.skipped_rows, 0, "{:?}", sample.warnings);
    assert_eq!(sample.row_count, Some(5050));
    assert!(column(&sample, "remark").contains(&"河南省信阳市浉河区".to_string()));
}
