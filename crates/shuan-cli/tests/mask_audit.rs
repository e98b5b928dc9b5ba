//! Masking with keys from the keyring, level-based rules fed by grading, and the masking
//! log (脱敏日志) in the audit ledger (issue #5 items 1, 2 and 4).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn people(dir: &Path, n: usize) -> PathBuf {
    let mut s = String::from("id_no,name,phone,city\n");
    let sur = ['王', '李', '张', '刘', '陈'];
    for i in 0..n {
        s.push_str(&format!(
            "{},{}{},13{}{:08},江门\n",
            resident_id(i),
            sur[i % 5],
            ['伟', '芳', '娜'][i % 3],
            i % 10,
            i * 37
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
        .env_remove("SHUAN_LOG")
        .env_remove("SHUAN_MASK_KEY_FILE")
        .env_remove("SHUAN_KEK_PASSPHRASE")
        .env("USER", "wang.wu")
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

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn column(csv: &Path, name: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(csv).unwrap();
    let idx = r.headers().unwrap().iter().position(|h| h == name).unwrap();
    r.records()
        .map(|rec| rec.unwrap().get(idx).unwrap().to_string())
        .collect()
}

fn records(data: &Path, action: &str) -> Vec<serde_json::Value> {
    let out = ok(shuan(
        data,
        &["audit", "query", "--action", action, "--format", "json"],
    ));
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn mask(data: &Path, src: &Path, scenario: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "mask",
        src.to_str().unwrap(),
        "--scenario",
        scenario,
        "--out",
        out.to_str().unwrap(),
        "--no-progress",
        "--force",
    ];
    args.extend_from_slice(extra);
    shuan(data, &args)
}

#[test]
fn keyring_masking_key_is_consistent_rotates_and_is_logged_in_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people(tmp.path(), 40);

    // Without a keyring or key file, a keyed scenario says how to get a key.
    let out = mask(&data, &src, "sharing", &tmp.path().join("x.csv"), &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("shuan keys init"), "{}", text(&out));

    ok(shuan(&data, &["keys", "init"]));
    let a = tmp.path().join("a.csv");
    let b = tmp.path().join("b.csv");
    ok(mask(&data, &src, "sharing", &a, &[]));
    ok(mask(&data, &src, "sharing", &b, &[]));
    let pa = column(&a, "id_no");
    assert_eq!(pa.len(), 40);
    assert_eq!(pa, column(&b, "id_no"), "pseudonyms must be stable per key");
    let originals = column(&src, "id_no");
    assert!(pa.iter().zip(&originals).all(|(p, o)| p != o));

    // The key is the keyring's `mask` data key; rotating it changes the pseudonyms.
    let listed = text(&ok(shuan(&data, &["keys", "list", "--format", "json"])));
    assert!(listed.contains("\"mask\""), "{listed}");
    ok(shuan(&data, &["keys", "rotate", "mask"]));
    let c = tmp.path().join("c.csv");
    ok(mask(&data, &src, "sharing", &c, &[]));
    assert_ne!(pa, column(&c, "id_no"));
    // An explicit older version reproduces the old pseudonyms.
    let d = tmp.path().join("d.csv");
    ok(mask(&data, &src, "sharing", &d, &["--key-version", "1"]));
    assert_eq!(pa, column(&d, "id_no"));

    let recs = records(&data, "mask");
    assert_eq!(recs.len(), 5, "{recs:?}");
    // The refused attempt without a key is on record too.
    assert_eq!(recs[0]["outcome"], "error");
    assert!(recs[0]["details"]["error"]
        .as_str()
        .unwrap()
        .contains("needs a masking key"));
    let recs = &recs[1..];
    let first = &recs[0];
    assert_eq!(first["actor"]["id"], "wang.wu");
    assert_eq!(first["outcome"], "allowed");
    assert!(first["object"].as_str().unwrap().ends_with("people.csv"));
    let det = &first["details"];
    assert_eq!(det["scenario"], "sharing");
    assert_eq!(det["key"]["keyring"], "mask");
    assert_eq!(det["key"]["version"], 1);
    assert_eq!(recs[2]["details"]["key"]["version"], 2);
    assert_eq!(det["ruleset_sm3"].as_str().unwrap().len(), 64);
    assert!(det["destination"].as_str().unwrap().ends_with("a.csv"));
    let cols = det["tables"][0]["columns"].as_array().unwrap();
    let id_col = cols.iter().find(|c| c["column"] == "id_no").unwrap();
    assert_eq!(id_col["masked"], 40, "{id_col}");
    // No original value reaches the ledger.
    let all = serde_json::to_string(recs).unwrap();
    assert!(!originals.iter().any(|o| all.contains(o.as_str())));
    // The JSON Lines log is no longer written: the ledger is the masking log.
    assert!(!data.join("mask-log.jsonl").exists());
    ok(shuan(&data, &["audit", "verify"]));
}

#[test]
fn fpe_unmask_uses_the_keyring_and_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people(tmp.path(), 30);
    ok(shuan(&data, &["keys", "init"]));
    let masked = tmp.path().join("test.csv");
    ok(mask(&data, &src, "test_env", &masked, &[]));
    let fpe = column(&masked, "id_no");
    let originals = column(&src, "id_no");
    assert!(fpe
        .iter()
        .zip(&originals)
        .all(|(f, o)| f != o && f.len() == 18));
    let back = tmp.path().join("back.csv");
    ok(shuan(
        &data,
        &[
            "unmask",
            masked.to_str().unwrap(),
            "--column",
            "id_no:id_number",
            "--purpose",
            "核查户籍信息",
            "--out",
            back.to_str().unwrap(),
        ],
    ));
    assert_eq!(column(&back, "id_no"), originals);
    let recs = records(&data, "unmask");
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["details"]["purpose"], "核查户籍信息");
    assert_eq!(recs[0]["details"]["key"]["keyring"], "mask");

    // Crypto-shredding the masking key makes the FPE values irreversible, and unmask
    // refuses (recorded as an error) instead of producing wrong values.
    ok(shuan(&data, &["keys", "destroy", "mask", "--yes"]));
    let out = shuan(
        &data,
        &[
            "unmask",
            masked.to_str().unwrap(),
            "--column",
            "id_no:id_number",
            "--purpose",
            "再次核查",
            "--out",
            tmp.path().join("again.csv").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("destroyed"), "{}", text(&out));
    let recs = records(&data, "unmask");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1]["outcome"], "error");
}

#[test]
fn level_based_rules_get_levels_from_grading() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people(tmp.path(), 20);
    let rules = tmp.path().join("levels.toml");
    std::fs::write(
        &rules,
        r#"
version = 1

[scenarios.by_level]
label = "按级别"

[[scenarios.by_level.rules]]
levels = ["一般数据4级"]
op = "nullify"

[[scenarios.by_level.rules]]
levels = ["一般数据3级"]
op = "partial"
keep_first = 3
keep_last = 4
"#,
    )
    .unwrap();
    let out_csv = tmp.path().join("lv.csv");
    ok(mask(
        &data,
        &src,
        "by_level",
        &out_csv,
        &["--rules", rules.to_str().unwrap()],
    ));
    // gbt43697: resident ID is 一般数据4级 → nullified; mobile 一般数据3级 → partial;
    // names (2级) are kept.
    assert!(column(&out_csv, "id_no").iter().all(|v| v.is_empty()));
    let phones = column(&out_csv, "phone");
    assert!(
        phones.iter().all(|p| p.len() == 11 && &p[3..7] == "****"),
        "{phones:?}"
    );
    assert_eq!(column(&out_csv, "name"), column(&src, "name"));

    // A level the profile does not have is an error naming the levels it does have.
    std::fs::write(
        &rules,
        "version = 1\n[scenarios.by_level]\nlabel = \"x\"\n[[scenarios.by_level.rules]]\nlevels = [\"4级\"]\nop = \"nullify\"\n",
    )
    .unwrap();
    let out = mask(
        &data,
        &src,
        "by_level",
        &out_csv,
        &["--rules", rules.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("`4级`") && msg.contains("一般数据4级"),
        "{msg}"
    );
}

#[test]
fn rules_check_knows_the_profile_levels() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("r.toml");
    std::fs::write(
        &rules,
        "version = 1\n[scenarios.s]\nlabel = \"x\"\n[[scenarios.s.rules]]\nlevels = [\"三级\"]\nop = \"nullify\"\n",
    )
    .unwrap();
    let path = rules.to_str().unwrap();
    let data = tmp.path().join("data");
    let out = shuan(&data, &["mask", "rules", "check", path]);
    assert!(!out.status.success());
    assert!(text(&out).contains("`三级`"), "{}", text(&out));
    // 三级 is a level of the xinyang profile.
    ok(shuan(
        &data,
        &["mask", "rules", "check", path, "--profile", "xinyang"],
    ));
}

/// People with numeric columns no rule masks (the watermark's carriers).
fn people_with_amounts(dir: &Path, n: usize) -> PathBuf {
    let mut s = String::from("id_no,phone,visits,amount\n");
    for i in 0..n {
        s.push_str(&format!(
            "{},13{}{:08},{},{}.{:02}\n",
            resident_id(i),
            i % 10,
            i * 37,
            i * 7 % 50,
            i * 13 % 90_000,
            i % 100
        ));
    }
    let p = dir.join("amounts.csv");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn a_watermark_made_before_a_key_rotation_is_still_traced() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people_with_amounts(tmp.path(), 3000);
    ok(shuan(&data, &["keys", "init"]));
    let to_health = tmp.path().join("health.csv");
    ok(mask(
        &data,
        &src,
        "sharing",
        &to_health,
        &["--recipient", "市卫健委"],
    ));
    ok(shuan(&data, &["keys", "rotate", "mask"]));
    let to_edu = tmp.path().join("edu.csv");
    ok(mask(
        &data,
        &src,
        "sharing",
        &to_edu,
        &["--recipient", "区教育局"],
    ));
    for (file, who) in [(&to_health, "市卫健委"), (&to_edu, "区教育局")] {
        let out = ok(shuan(
            &data,
            &["watermark", "detect", file.to_str().unwrap(), "--json"],
        ));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["recipient"], who, "{v}");
    }
    let recs = records(&data, "watermark_detect");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["details"]["recipient"], "市卫健委");
    assert_eq!(recs[0]["details"]["key"]["version"], 1);
    assert_eq!(recs[1]["details"]["key"]["version"], 2);
}

/// A masking key that cannot be used (a key file others may read, or no key for a
/// watermark) is refused, and the refusal is in the ledger with outcome `error`.
#[test]
fn masking_key_failures_are_recorded_in_the_ledger() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people(tmp.path(), 10);
    let key = tmp.path().join("loose.key");
    std::fs::write(&key, "5a".repeat(32)).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = tmp.path().join("x.csv");
    let o = mask(
        &data,
        &src,
        "sharing",
        &out,
        &["--key-file", key.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!out.exists());
    let o = mask(
        &data,
        &src,
        "internal_query",
        &out,
        &["--recipient", "市卫健委"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!out.exists());
    let recs = records(&data, "mask");
    assert_eq!(recs.len(), 2, "{recs:?}");
    for r in &recs {
        assert_eq!(r["outcome"], "error", "{r}");
        assert!(r["object"].as_str().unwrap().ends_with("people.csv"), "{r}");
    }
    let first = recs[0]["details"]["error"].as_str().unwrap();
    assert!(first.contains("masking key"), "{first}");
    assert_eq!(recs[0]["details"]["scenario"], "sharing");
    assert!(recs[1]["details"]["error"]
        .as_str()
        .unwrap()
        .contains("watermark"));
    ok(shuan(&data, &["audit", "verify"]));
}

/// `unmask` needs a stated purpose: blank is refused (and the refusal recorded); a given
/// one is the ledger event's purpose, the 目的 column of `shuan audit query`.
#[test]
fn unmask_purpose_is_required_and_recorded_as_the_event_purpose() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people(tmp.path(), 10);
    ok(shuan(&data, &["keys", "init"]));
    let masked = tmp.path().join("test.csv");
    ok(mask(&data, &src, "test_env", &masked, &[]));
    let back = tmp.path().join("back.csv");
    for blank in ["", "   "] {
        let o = shuan(
            &data,
            &[
                "unmask",
                masked.to_str().unwrap(),
                "--column",
                "id_no:id_number",
                "--purpose",
                blank,
                "--out",
                back.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("--purpose"), "{}", text(&o));
        assert!(!back.exists());
    }
    ok(shuan(
        &data,
        &[
            "unmask",
            masked.to_str().unwrap(),
            "--column",
            "id_no:id_number",
            "--purpose",
            " 核对户籍信息 工单#123 ",
            "--out",
            back.to_str().unwrap(),
        ],
    ));
    let recs = records(&data, "unmask");
    assert_eq!(recs.len(), 3, "{recs:?}");
    assert_eq!(recs[0]["outcome"], "denied");
    assert_eq!(recs[1]["outcome"], "denied");
    assert_eq!(recs[2]["outcome"], "allowed");
    assert_eq!(recs[2]["purpose"], "核对户籍信息 工单#123");
    let table = text(&ok(shuan(
        &data,
        &["audit", "query", "--action", "unmask", "--format", "table"],
    )));
    assert!(table.contains("核对户籍信息 工单#123"), "{table}");
    ok(shuan(&data, &["audit", "verify"]));
}

/// docs/masking.md: the key `mask` is made the first time a keyed scenario runs; until
/// then an unkeyed scenario and a dry run work without it (they failed with "no data
/// key 'mask' in the keyring").
#[test]
fn unkeyed_scenarios_and_dry_runs_need_no_masking_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people(tmp.path(), 20);
    ok(shuan(&data, &["keys", "init"]));
    let has_mask_key =
        || text(&ok(shuan(&data, &["keys", "list", "--format", "json"]))).contains("\"mask\"");
    ok(mask(
        &data,
        &src,
        "open_data",
        &tmp.path().join("open.csv"),
        &[],
    ));
    ok(mask(
        &data,
        &src,
        "internal_query",
        &tmp.path().join("iq.csv"),
        &[],
    ));
    let plan = ok(shuan(
        &data,
        &[
            "mask",
            src.to_str().unwrap(),
            "--scenario",
            "sharing",
            "--dry-run",
        ],
    ));
    assert!(text(&plan).contains("pseudonym"), "{}", text(&plan));
    assert!(!has_mask_key(), "a dry run must not create the key");
    ok(mask(&data, &src, "sharing", &tmp.path().join("s.csv"), &[]));
    assert!(has_mask_key(), "the first keyed run creates it");
}

/// test_env pseudonymises names (Chinese-name format): `unmask --column name:chinese`
/// would "decrypt" them into garbage with exit 0; the masking log says the column is not
/// FPE, so it is refused (exit 1) and the refusal recorded.
#[test]
fn unmask_of_a_pseudonymised_column_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let src = people(tmp.path(), 20);
    ok(shuan(&data, &["keys", "init"]));
    let masked = tmp.path().join("test.csv");
    ok(mask(&data, &src, "test_env", &masked, &[]));
    let back = tmp.path().join("back.csv");
    let unmask = |column: &str| {
        shuan(
            &data,
            &[
                "unmask",
                masked.to_str().unwrap(),
                "--column",
                column,
                "--purpose",
                "核对",
                "--out",
                back.to_str().unwrap(),
                "--force",
            ],
        )
    };
    let o = unmask("name:chinese");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("`pseudonym`"), "{}", text(&o));
    assert!(text(&o).contains("only `fpe` columns"), "{}", text(&o));
    assert!(!back.exists());
    // The FPE column of the same file is reversed as before.
    ok(unmask("id_no:id_number"));
    assert_eq!(column(&back, "id_no"), column(&src, "id_no"));
    let recs = records(&data, "unmask");
    assert_eq!(recs[0]["outcome"], "error");
    assert_eq!(recs[1]["outcome"], "allowed");
}
