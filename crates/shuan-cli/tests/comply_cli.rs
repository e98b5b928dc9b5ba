//! `shuan comply` as the real binary: the coverage it prints is the library's, a city's
//! own profile file is checked and listed, a broken one is refused naming the file, and
//! `--out` keeps to the output rules.

use std::process::Command;

fn shuan(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shuan"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn list_prints_each_profiles_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let o = shuan(dir.path(), &["comply", "list", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "jm",
            "gz",
            "xy",
            "jc",
            "xa",
            "gbt22239-l3",
            "gbt39786",
            "gbt43697"
        ]
    );
    for (row, p) in rows.iter().zip(shuan_comply::Profile::builtins().unwrap()) {
        let c = p.coverage();
        assert_eq!(row["articles"], c.articles, "{}", p.id);
        assert_eq!(row["evidenced"], c.evidenced, "{}", p.id);
        assert_eq!(row["manual"], c.manual, "{}", p.id);
        assert_eq!(row["no_requirement"], c.no_requirement, "{}", p.id);
        assert_eq!(
            c.evidenced + c.manual + c.no_requirement,
            c.articles,
            "{}: every article counted once",
            p.id
        );
    }
    let o = shuan(dir.path(), &["comply", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("晋城市政务数据安全实施细则"));
}

#[test]
fn show_lists_every_article_and_queries_lists_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let o = shuan(dir.path(), &["comply", "show", "xy", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mut r = csv::Reader::from_reader(&o.stdout[..]);
    let articles: std::collections::BTreeSet<u32> = r
        .records()
        .map(|rec| rec.unwrap()[1].parse().unwrap())
        .collect();
    assert_eq!(articles, (1..=38).collect());
    let o = shuan(dir.path(), &["comply", "queries", "--format", "json"]);
    let q: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(q.len(), shuan_comply::QUERIES.len());
    let o = shuan(dir.path(), &["comply", "show", "sz"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("not built in"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_citys_file_is_checked_before_it_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("sz.toml");
    std::fs::write(
        &good,
        r#"
id = "sz"
kind = "regulation"
short = "SZ"
title = "示例市政务数据安全管理办法"
document = "示例"
source_file = "999_sz.txt"
articles = 2

[[controls]]
id = "sz-01"
article = 1
kind = "no_requirement"
ref = "目的依据"
reason = "目的依据"

[[controls]]
id = "sz-02-training"
article = 2
kind = "evidence"
ref = "每年至少开展一次数据安全培训"
requirements = ["R-36"]
requires = "每年培训"
requires_en = "Yearly training"
evidence = "governance_record_recent"
params = { record = "training", within_days = 365 }
"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let o = shuan(
        &data,
        &[
            "comply",
            "list",
            "--profile",
            good.to_str().unwrap(),
            "--format",
            "csv",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("sz,SZ,示例市政务数据安全管理办法,2,1,0,1,1,0"),
        "{}",
        text(&o.stdout)
    );

    let bad = dir.path().join("bad.toml");
    let broken = std::fs::read_to_string(&good)
        .unwrap()
        .replace("within_days = 365", "within_days = \"yearly\"");
    std::fs::write(&bad, broken).unwrap();
    let o = shuan(
        &data,
        &["comply", "list", "--profile", bad.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("bad.toml")
            && err.contains("sz-02-training")
            && err.contains("whole number of days"),
        "{err}"
    );

    // --out never replaces a file without --force.
    let out = dir.path().join("coverage.csv");
    std::fs::write(&out, "keep").unwrap();
    let o = shuan(
        &data,
        &[
            "comply",
            "list",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep");
    let o = shuan(
        &data,
        &[
            "comply",
            "list",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
            "--force",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("id,short,title"));
}
