//! `shuan demo`, the README's run command: builds the synthetic department database,
//! grades it, saves and prints the inventory.

#[path = "scan_common.rs"]
mod common;

use common::*;

#[test]
fn demo_grades_the_department_and_fills_the_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let o = shuan(dir.path(), &["demo", "--no-progress", "--no-serve"]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    for table in [
        "户籍人口",
        "社保缴费",
        "企业登记",
        "车辆登记",
        "系统日志",
        "办事指南",
    ] {
        assert!(out.contains(table), "{table} missing:\n{out}");
    }
    assert!(dir.path().join("demo/department.db").exists());

    let o = shuan(dir.path(), &["assets", "list", "--format", "json"]);
    let list = json(&o);
    let level = |t: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["table"] == t)
            .unwrap_or_else(|| panic!("{t} not in {list:#}"))["level"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // 120,000 residents' ID numbers: the scale rule makes it a 重要数据 candidate.
    assert_eq!(level("户籍人口"), "重要数据");
    assert_eq!(level("社保缴费"), "一般数据4级");
    assert_eq!(level("办事指南"), "一般数据1级");
    assert_eq!(level("行政区划"), "一般数据1级");
    assert_eq!(level("统计月报"), "一般数据1级");

    let o = shuan(
        dir.path(),
        &["assets", "show", "户籍人口", "--format", "json"],
    );
    let shown = json(&o);
    let cols = shown[0]["columns"].as_array().unwrap();
    let ty = |n: &str| cols.iter().find(|c| c["name"] == n).unwrap()["type"].clone();
    assert_eq!(ty("sfzh"), "cn_resident_id");
    assert_eq!(ty("lxdh"), "cn_mobile");
    assert_eq!(ty("hjdz"), "address");

    let o = shuan(dir.path(), &["assets", "catalogue", "--format", "json"]);
    let cat = json(&o);
    assert!(
        cat.as_array()
            .unwrap()
            .iter()
            .any(|e| e["table"] == "户籍人口"),
        "{cat:#}"
    );

    // Deterministic: a second run gives the same grades and no changes to review.
    let o = shuan(dir.path(), &["demo", "--no-progress", "--no-serve"]);
    assert_eq!(o.status.code(), Some(0));
    let db = dir.path().join("demo/department.db");
    let o = shuan(
        dir.path(),
        &["assets", "diff", db.to_str().unwrap(), "--format", "json"],
    );
    let diff = json(&o);
    assert_eq!(diff[0]["changes"].as_array().unwrap().len(), 0, "{diff:#}");

    // Both saves are in the audit ledger, with the scan ids the inventory gave them.
    let o = shuan(
        dir.path(),
        &[
            "audit",
            "query",
            "--action",
            "scan_save",
            "--format",
            "json",
        ],
    );
    let recs = json(&o);
    let recs = recs.as_array().unwrap();
    assert_eq!(recs.len(), 2, "{recs:#?}");
    assert_eq!(recs[0]["details"]["scan_id"], 1);
    assert_eq!(recs[1]["details"]["scan_id"], 2);
    assert_eq!(recs[1]["details"]["highest_level"], "重要数据");
}
