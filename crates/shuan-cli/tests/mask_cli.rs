//! End-to-end tests of `shuan mask`, `unmask`, `risk` and `watermark` on generated data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use shuan_detect::TextScanner;

const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

fn resident_id(i: usize) -> String {
    let body = format!(
        "440703{:04}{:02}{:02}{:03}",
        1950 + i % 50,
        1 + i % 12,
        1 + i % 28,
        i % 1000
    );
    let s: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(s % 11) as usize] as char)
}

fn luhn_card(i: usize) -> String {
    let body = format!("622848{:09}", i * 7919 % 1_000_000_000);
    let mut sum = 0;
    for (k, b) in body.bytes().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if k % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A people table with identifiers of several detector types, plus a free-text column
/// where identifiers hide in prose.
fn people_csv(dir: &Path, n: usize) -> PathBuf {
    let sur = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周'];
    let giv = ['伟', '芳', '娜', '秀', '英', '敏', '静', '丽', '强', '磊'];
    let mut s =
        String::from("id_no,name,phone,email,bank_card,address,birth_date,income,visits,remark\n");
    for i in 0..n {
        let name: String = [sur[i % 10], giv[i * 3 % 10], giv[i * 7 % 10]][..2 + i % 2]
            .iter()
            .collect();
        let remark = if i % 4 == 0 {
            format!(
                "本人电话13{}{:08}，身份证{}",
                i % 10,
                i * 31,
                resident_id(i + 7)
            )
        } else {
            "无".into()
        };
        s.push_str(&format!(
            "{},{},13{}{:08},user{}@example.com,{},广东省江门市蓬江区建设路{}号,{:04}-{:02}-{:02},{}.{:02},{},{}\n",
            resident_id(i), name, i % 10, i * 7919 % 100_000_000, i, luhn_card(i), i + 1,
            1950 + i % 50, 1 + i % 12, 1 + i % 28, 3000 + i * 137 % 9000, i % 100, 10 + i % 37, remark
        ));
    }
    let p = dir.join("people.csv");
    std::fs::write(&p, s).unwrap();
    p
}

fn shuan(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("SHUAN_MASK_KEY_FILE")
        .output()
        .unwrap()
}

/// The audit ledger's records of one masking action, oldest first.
fn masking_log(data: &Path, action: &str) -> Vec<serde_json::Value> {
    let out = ok(shuan(
        data,
        &["audit", "query", "--action", action, "--format", "json"],
    ));
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn key_file(dir: &Path) -> String {
    let p = dir.join("mask.key");
    std::fs::write(&p, "5a".repeat(32)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p.display().to_string()
}

fn read_csv(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(p).unwrap();
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

#[test]
fn open_data_output_contains_no_valid_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let src = people_csv(dir.path(), 400);
    // The scanner does find identifiers in the source (so the check below can fail).
    let scanner = TextScanner::new();
    let before = std::fs::read_to_string(&src).unwrap();
    assert!(scanner.scan(&before).len() > 1000);
    let out = dir.path().join("open.csv");
    ok(shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "open_data",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let (h, rows) = read_csv(&out);
    assert_eq!(h.len(), 10);
    assert_eq!(rows.len(), 400);
    for row in &rows {
        for v in row {
            let found: Vec<_> = scanner
                .scan(v)
                .into_iter()
                .filter(|f| !f.data_type.is_name_only())
                .collect();
            let ids: Vec<_> = found
                .iter()
                .map(|f| (f.data_type.id(), &v[f.start..f.end]))
                .collect();
            assert!(
                ids.is_empty(),
                "identifier left in open data: {ids:?} in {v}"
            );
        }
    }
    assert!(rows.iter().all(|r| r[0] == "[居民身份证号]"));
    assert_eq!(rows[1][5], "广东省江门市");
    // The source is untouched.
    assert_eq!(std::fs::read_to_string(&src).unwrap(), before);
    // The run is in the masking log (the audit ledger) with the rule-set hash.
    let log = masking_log(dir.path(), "mask");
    let rec = &log.last().unwrap()["details"];
    assert_eq!(rec["scenario"], "open_data");
    assert_eq!(rec["ruleset_sm3"].as_str().unwrap().len(), 64);
    assert_eq!(rec["tables"][0]["rows"], 400);
    assert!(rec["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["column"] == "id_no" && c["operator"] == "replace" && c["masked"] == 400));
}

#[test]
fn refuses_to_write_over_the_source_and_needs_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let src = people_csv(dir.path(), 20);
    let before = std::fs::read(&src).unwrap();
    let o = shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "internal_query",
            "--out",
            src.to_str().unwrap(),
            "--force",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the source"));
    assert_eq!(std::fs::read(&src).unwrap(), before);
    let out = dir.path().join("s.csv");
    let o = shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "sharing",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--key-file"));
    assert!(!out.exists());
}

#[test]
fn sharing_pseudonyms_join_across_tables_and_sqlite_output() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let src = people_csv(dir.path(), 50);
    let visits = dir.path().join("visits.csv");
    let mut v = String::from("id_no,hospital,visit_date\n");
    for i in (0..50).step_by(5) {
        v.push_str(&format!(
            "{},江门市中心医院,2024-03-{:02}\n",
            resident_id(i),
            1 + i % 28
        ));
    }
    std::fs::write(&visits, v).unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    ok(shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "sharing",
            "--key-file",
            &key,
            "--out",
            a.to_str().unwrap(),
        ],
    ));
    ok(shuan(
        dir.path(),
        &[
            "mask",
            visits.to_str().unwrap(),
            "--scenario",
            "sharing",
            "--key-file",
            &key,
            "--out",
            b.to_str().unwrap(),
        ],
    ));
    let (_, pa) = read_csv(&a);
    let (_, pb) = read_csv(&b);
    for (k, row) in pb.iter().enumerate() {
        assert!(row[0].starts_with('P') && row[0].len() == 17);
        assert_eq!(
            row[0],
            pa[k * 5][0],
            "same person, same pseudonym in both tables"
        );
    }
    assert_eq!(pa[0][2], "130****0000");
    // Into a SQLite database.
    let db = dir.path().join("masked.db");
    ok(shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "sharing",
            "--key-file",
            &key,
            "--out",
            db.to_str().unwrap(),
        ],
    ));
    let c = rusqlite::Connection::open(&db).unwrap();
    let (n, first): (i64, String) = c
        .query_row("SELECT count(*), min(id_no) FROM people", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(n, 50);
    assert!(first.starts_with('P'));
}

#[test]
fn test_env_fpe_is_reversed_by_unmask_only_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let src = people_csv(dir.path(), 40);
    let out = dir.path().join("t.csv");
    ok(shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "test_env",
            "--key-file",
            &key,
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let (_, orig) = read_csv(&src);
    let (_, masked) = read_csv(&out);
    for (o, m) in orig.iter().zip(&masked) {
        assert_ne!(o[0], m[0]);
        assert_eq!(m[0].len(), 18);
        assert_ne!(o[2], m[2]);
        assert_eq!(m[2].len(), 11);
    }
    let back = dir.path().join("back.csv");
    ok(shuan(
        dir.path(),
        &[
            "unmask",
            out.to_str().unwrap(),
            "--column",
            "id_no:id_number",
            "--column",
            "phone:digits",
            "--purpose",
            "核对数据",
            "--key-file",
            &key,
            "--out",
            back.to_str().unwrap(),
        ],
    ));
    let (_, rev) = read_csv(&back);
    for (o, r) in orig.iter().zip(&rev) {
        assert_eq!(o[0], r[0]);
        assert_eq!(o[2], r[2]);
    }
    // Another key does not give the originals back.
    let other = dir.path().join("other.key");
    std::fs::write(&other, "11".repeat(32)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let wrong = dir.path().join("wrong.csv");
    ok(shuan(
        dir.path(),
        &[
            "unmask",
            out.to_str().unwrap(),
            "--column",
            "phone:digits",
            "--purpose",
            "x",
            "--key-file",
            other.to_str().unwrap(),
            "--out",
            wrong.to_str().unwrap(),
        ],
    ));
    let (_, w) = read_csv(&wrong);
    assert!(orig.iter().zip(&w).all(|(o, r)| o[2] != r[2]));
    let log = masking_log(dir.path(), "unmask");
    assert!(log.iter().any(|r| r["details"]["purpose"] == "核对数据"));
}

#[test]
fn rules_check_reports_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[scenarios.mine]\nlabel = \"我的\"\n[[scenarios.mine.rules]]\nfields = [\"people.phone\"]\nop = \"partial\"\nkeep_first = 3\nkeep_last = 4\n").unwrap();
    let out = ok(shuan(
        dir.path(),
        &["mask", "rules", "check", good.to_str().unwrap()],
    ));
    assert!(out.contains("OK") && out.contains("mine"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[scenarios.mine]\n\n[[scenarios.mine.rules]]\ntypes = [\"phone_number\"]\nop = \"partial\"\n").unwrap();
    let o = shuan(
        dir.path(),
        &["mask", "rules", "check", bad.to_str().unwrap()],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("bad.toml:3") && e.contains("phone_number") && e.contains("fix:"),
        "{e}"
    );
}

#[test]
fn risk_reports_k_and_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.csv");
    std::fs::write(&p, "age,zip,disease\n25,100080,flu\n25,100080,cold\n25,100080,flu\n32,100081,cancer\n32,100081,cancer\n47,100190,flu\n").unwrap();
    let out = ok(shuan(
        dir.path(),
        &[
            "risk",
            p.to_str().unwrap(),
            "--qi",
            "age,zip",
            "--sensitive",
            "disease",
            "--k",
            "3",
            "--json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["k"], 1);
    assert_eq!(v["summary"]["classes"], 3);
    assert_eq!(v["summary"]["records_at_risk"], 3);
    assert_eq!(v["summary"]["l"], 1);
    assert_eq!(v["target_reached"], true);
}

#[test]
fn watermark_names_the_recipient_from_five_percent_of_rows() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let src = people_csv(dir.path(), 4000);
    for (who, f) in [
        ("区教育局", "edu.csv"),
        ("市卫健委", "health.csv"),
        ("某测试公司", "vendor.csv"),
    ] {
        ok(shuan(
            dir.path(),
            &[
                "mask",
                src.to_str().unwrap(),
                "--scenario",
                "sharing",
                "--key-file",
                &key,
                "--recipient",
                who,
                "--out",
                dir.path().join(f).to_str().unwrap(),
            ],
        ));
    }
    // A leaked 5% extract of the health copy: header and every 20th row.
    let text = std::fs::read_to_string(dir.path().join("health.csv")).unwrap();
    let mut lines = text.lines();
    let mut leak = String::from(lines.next().unwrap());
    leak.push('\n');
    for l in lines.step_by(20) {
        leak.push_str(l);
        leak.push('\n');
    }
    let leaked = dir.path().join("leak.csv");
    std::fs::write(&leaked, leak).unwrap();
    let out = ok(shuan(
        dir.path(),
        &[
            "watermark",
            "detect",
            leaked.to_str().unwrap(),
            "--key-file",
            &key,
            "--json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["rows"], 200);
    assert_eq!(v["recipient"], "市卫健委", "{out}");
    // The unwatermarked source names nobody.
    let o = shuan(
        dir.path(),
        &[
            "watermark",
            "detect",
            src.to_str().unwrap(),
            "--key-file",
            &key,
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "no recipient found is 'checked and invalid': {}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A column whose first 250 values are the placeholder `无` and the rest ID numbers: a
/// sample of 200 values saw only `无`; `scan` (1000 values) grades it 居民身份证号.
fn placeholder_then_ids_csv(dir: &Path) -> PathBuf {
    let mut s = String::from("seq,info\n");
    for i in 0..1000 {
        let v = if i < 250 {
            "无".to_string()
        } else {
            resident_id(i)
        };
        s.push_str(&format!("{i},{v}\n"));
    }
    let p = dir.join("late_ids.csv");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn ids_after_250_placeholders_are_masked_as_scan_grades_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let src = placeholder_then_ids_csv(dir.path());
    // The scan grades the column as resident IDs …
    let scan: serde_json::Value = serde_json::from_str(&ok(shuan(
        dir.path(),
        &["scan", src.to_str().unwrap(), "--format", "json"],
    )))
    .unwrap();
    assert_eq!(scan["tables"][0]["columns"][1]["type"], "cn_resident_id");
    let ids: Vec<String> = (250..1000).map(resident_id).collect();
    // … and masking, deciding by the same discovery, masks every one of them.
    for scenario in ["sharing", "test_env"] {
        let out = dir.path().join(format!("{scenario}.csv"));
        let o = shuan(
            dir.path(),
            &[
                "mask",
                src.to_str().unwrap(),
                "--scenario",
                scenario,
                "--key-file",
                &key,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        ok(o);
        let (h, rows) = read_csv(&out);
        assert_eq!(h, ["seq", "info"]);
        assert_eq!(rows.len(), 1000);
        for (row, id) in rows[250..].iter().zip(&ids) {
            assert_ne!(&row[1], id, "{scenario}: an ID number was written in clear");
            assert!(!row[1].is_empty());
        }
        let log = masking_log(dir.path(), "mask");
        let cols = &log.last().unwrap()["details"]["tables"][0]["columns"];
        assert_eq!(cols[1]["data_type"], "cn_resident_id", "{scenario}");
        // (pseudonyms also replace the placeholders; FPE leaves `无` as it is)
        assert!(
            cols[1]["masked"].as_u64().unwrap() >= 750,
            "{scenario}: {cols}"
        );
    }
}

#[test]
fn mask_sample_zero_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let src = placeholder_then_ids_csv(dir.path());
    let out = dir.path().join("zero.csv");
    let o = shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--sample",
            "0",
            "--scenario",
            "sharing",
            "--key-file",
            &key,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--sample"));
    assert!(!out.exists());
}

/// Identifier data types (those with a validator or a fixed shape), as opposed to
/// quasi-identifiers a scenario generalises on purpose (names, addresses, dates, gender).
fn is_identifier_type(id: &str) -> bool {
    [
        "cn_resident_id",
        "cn_mobile",
        "cn_landline",
        "email",
        "bank_card",
        "cn_uscc",
        "cn_org_code",
        "cn_passport",
        "cn_hk_macao_permit",
        "cn_plate",
        "vin",
        "ipv4",
        "ipv6",
        "mac_address",
        "imei",
    ]
    .contains(&id)
}

/// `shuan detect FILE --format jsonl` (its default confidence floor): (type, value) of
/// every identifier it reports.
fn detected_identifiers(data: &Path, file: &Path) -> Vec<(String, String)> {
    let out = ok(shuan(
        data,
        &["detect", file.to_str().unwrap(), "--format", "jsonl"],
    ));
    let text = std::fs::read(file).unwrap();
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|f| is_identifier_type(f["type"].as_str().unwrap()))
        .map(|f| {
            let (s, e) = (
                f["start"].as_u64().unwrap() as usize,
                f["end"].as_u64().unwrap() as usize,
            );
            (
                f["type"].as_str().unwrap().to_string(),
                String::from_utf8_lossy(&text[s..e]).into_owned(),
            )
        })
        .collect()
}

/// Identifiers where discovery cannot see them: in prose, and one value in ten of
/// innocently named columns (too few for the column to be typed).
fn planted_identifiers_csv(dir: &Path, n: usize) -> PathBuf {
    let mut s = String::from("seq,code,ref,note,amount\n");
    for i in 0..n {
        let code = match i % 10 {
            0 => resident_id(i),
            3 => format!("13{}{:08}", i % 10, i * 7919 % 100_000_000),
            6 => luhn_card(i),
            _ => format!("A{i:04}"),
        };
        let reference = if i % 10 == 5 {
            format!("person{i}@example.org")
        } else {
            format!("R-{i}")
        };
        let note = match i % 6 {
            0 => format!("已联系本人，手机13{}{:08}，核对无误", i % 10, i * 31),
            1 => format!("身份证号{}，住址待核实", resident_id(i + 3)),
            2 => format!("退款至银行卡{}", luhn_card(i + 11)),
            _ => "材料齐全，按期办结".to_string(),
        };
        s.push_str(&format!(
            "{i},{code},{reference},{note},{}.{:02}\n",
            100 + i % 900,
            i % 100
        ));
    }
    let p = dir.join("planted.csv");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn masked_output_holds_no_identifier_shuan_detect_finds() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let src = planted_identifiers_csv(dir.path(), 300);
    // The detector does find the planted identifiers in the source (the check can fail).
    let before = detected_identifiers(dir.path(), &src);
    assert!(before.len() >= 250, "{}", before.len());
    for scenario in ["sharing", "test_env", "open_data"] {
        let out = dir.path().join(format!("{scenario}.csv"));
        ok(shuan(
            dir.path(),
            &[
                "mask",
                src.to_str().unwrap(),
                "--scenario",
                scenario,
                "--key-file",
                &key,
                "--out",
                out.to_str().unwrap(),
            ],
        ));
        let left = detected_identifiers(dir.path(), &out);
        assert!(
            left.is_empty(),
            "{scenario}: {} identifiers left, first: {:?}",
            left.len(),
            &left[..left.len().min(5)]
        );
        let (_, rows) = read_csv(&out);
        assert_eq!(rows.len(), 300);
        // Kept text around the identifiers survives; the identifiers become type tags.
        assert_eq!(
            rows[1][3], "身份证号[居民身份证号]，住址待核实",
            "{scenario}"
        );
        assert_eq!(rows[1][1], "A0001", "{scenario}");
        let log = masking_log(dir.path(), "mask");
        let cols = &log.last().unwrap()["details"]["tables"][0]["columns"];
        assert_eq!(cols[3]["residual_redactions"], 150, "{scenario}: {cols}");
    }
    // Internal queries keep what they keep: the owner's staff see their own records.
    let out = dir.path().join("internal.csv");
    ok(shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "internal_query",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert!(!detected_identifiers(dir.path(), &out).is_empty());
}

/// The `my-rules.toml` example of docs/masking.md passes `shuan mask rules check`, and
/// `rules show` describes its operators as a rule file would, not as Rust `Debug` text.
#[test]
fn docs_rule_file_example_passes_rules_check() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/masking.md"),
    )
    .unwrap();
    let section = &doc[doc.find("## Rule sets").expect("the rule set section")..];
    let start = section.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    assert!(example.contains("[scenarios.my_sharing]"), "{example}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("my-rules.toml");
    std::fs::write(&file, example).unwrap();
    let checked = ok(shuan(
        dir.path(),
        &["mask", "rules", "check", file.to_str().unwrap()],
    ));
    assert!(checked.contains("OK"), "{checked}");
    let shown = ok(shuan(
        dir.path(),
        &["mask", "rules", "show", "--rules", file.to_str().unwrap()],
    ));
    assert!(shown.contains("my_sharing"), "{shown}");
    assert!(
        shown.contains("partial keep_first=3 keep_last=4 mask_char=\"*\""),
        "{shown}"
    );
    assert!(
        shown.contains("pseudonym format=\"hex\" length=16 prefix=\"P\""),
        "{shown}"
    );
    for debug in [
        "{",
        "}",
        "Some(",
        "None",
        "Hex",
        "Partial",
        "GeneralizeDate",
    ] {
        assert!(
            !shown.contains(debug),
            "Rust Debug text `{debug}` in:\n{shown}"
        );
    }
}

#[test]
fn unsupported_out_extension_is_refused_not_made_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let src = people_csv(dir.path(), 10);
    let out = dir.path().join("x.parquet");
    let o = shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "internal_query",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("parquet files are not"), "{err}");
    assert!(!out.exists(), "x.parquet was created");
    // A name ending in a separator is still a directory to create.
    let outdir = format!("{}/", dir.path().join("masked.v2").display());
    ok(shuan(
        dir.path(),
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "internal_query",
            "--out",
            &outdir,
        ],
    ));
    assert!(dir.path().join("masked.v2/people.csv").is_file());
}

#[test]
fn risk_refuses_k_zero_and_too_many_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let src = people_csv(dir.path(), 50);
    for (flag, value) in [
        ("--k", "0"),
        ("--partitions", "100000"),
        ("--partitions", "0"),
    ] {
        let o = shuan(
            dir.path(),
            &[
                "risk",
                src.to_str().unwrap(),
                "--qi",
                "birth_date",
                flag,
                value,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(flag), "{err}");
    }
    // The largest allowed partition count works (no "Too many open files").
    ok(shuan(
        dir.path(),
        &[
            "risk",
            src.to_str().unwrap(),
            "--qi",
            "birth_date",
            "--partitions",
            "512",
        ],
    ));
}

/// 16 `shuan mask --recipient` runs at once into one data directory: every run's
/// watermark registry entry is there, the ledger verifies and holds every run, and no
/// temporary file is left anywhere.
#[test]
fn sixteen_parallel_watermarked_masks_into_one_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let key = key_file(dir.path());
    let src = people_csv(dir.path(), 300);
    let data = dir.path().join("data");
    let run = |i: usize| {
        let out = dir.path().join(format!("out{i}.csv"));
        Command::new(env!("CARGO_BIN_EXE_shuan"))
            .arg("--data-dir")
            .arg(&data)
            .args(["mask", src.to_str().unwrap(), "--scenario", "sharing"])
            .args(["--key-file", &key, "--no-progress", "--threads", "1"])
            .args(["--recipient", &format!("接收方{i}"), "--out"])
            .arg(&out)
            .env_remove("SHUAN_MASK_KEY_FILE")
            .spawn()
            .unwrap()
    };
    // The first run sets the data directory up (node key, ledger).
    assert!(run(0).wait().unwrap().success());
    let children: Vec<_> = (1..=16).map(run).collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let listed = ok(shuan(&data, &["watermark", "list"]));
    for i in 0..=16 {
        assert!(
            listed.contains(&format!("接收方{i} ")),
            "接收方{i} missing:\n{listed}"
        );
    }
    assert_eq!(listed.lines().count(), 17, "{listed}");
    ok(shuan(&data, &["audit", "verify"]));
    let log = masking_log(&data, "mask");
    assert_eq!(log.len(), 17);
    assert!(log.iter().all(|r| r["outcome"] == "allowed"));
    // Each extract names its recipient.
    let named = ok(shuan(
        &data,
        &[
            "watermark",
            "detect",
            dir.path().join("out7.csv").to_str().unwrap(),
            "--key-file",
            &key,
        ],
    ));
    assert!(named.contains("recipient (接收方): 接收方7"), "{named}");
    // No temporary left: only the outputs beside the source, nothing stray in the data dir.
    let mut stray = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                stack.push(p);
            } else if name.starts_with('.') || name.contains("part") || name.contains("tmp") {
                stray.push(p);
            }
        }
    }
    assert!(stray.is_empty(), "temporaries left: {stray:?}");
}
