//! Column classification on generated columns: named with a cue (Chinese, pinyin,
//! English), named neutrally so the values must decide, diluted with placeholders, and
//! look-alike columns that must stay non-sensitive. Prints accuracy per expected type and
//! fails on any wrong case (docs/detectors.md states all cases correct).

mod support;

use std::collections::BTreeMap;

use shuan_detect::{ColumnClassifier, DataType};
use support::corpus::{self, Rng};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn scanner_and_classifier_are_send_sync() {
    assert_send_sync::<shuan_detect::TextScanner>();
    assert_send_sync::<ColumnClassifier>();
}

/// Column names per type: government pinyin, Chinese, English.
fn names(t: DataType) -> &'static [&'static str] {
    use DataType::*;
    match t {
        CnResidentId => &["sfzh", "GMSFHM", "身份证号码", "id_card_no", "zjhm"],
        CnMobile => &["sjhm", "lxdh", "手机号", "mobile", "contactPhone"],
        CnLandline => &["gddh", "办公电话", "landline"],
        Email => &["yx", "电子邮箱", "email"],
        BankCard => &["yhkh", "银行卡号", "card_no"],
        CnUscc => &["tyshxydm", "统一社会信用代码", "uscc"],
        CnOrgCode => &["zzjgdm", "组织机构代码", "org_code"],
        CnPassport => &["hzhm", "护照号码", "passport_no"],
        CnHkMacaoPermit => &["txzhm", "港澳通行证号码"],
        CnPlate => &["hphm", "车牌号", "plate_no"],
        Vin => &["clsbdh", "车架号", "vin"],
        Ipv4 => &["ip", "登录IP地址", "client_ip"],
        Ipv6 => &["ipv6", "IPv6地址"],
        MacAddress => &["mac", "MAC地址", "mac_addr"],
        PersonName => &["xm", "姓名", "hzxm", "contact_name", "联系人"],
        Address => &["zz", "dz", "jtzz", "家庭住址", "address"],
        BirthDate => &["csrq", "出生日期", "birthday", "dob"],
        Gps => &["jwd", "经纬度", "location"],
        Imei => &["imei", "设备IMEI"],
        _ => &[],
    }
}

const NEUTRAL: &[&str] = &["col_3", "字段7", "f12", "value", "备注", "data", "c"];
const DIRTY: &[&str] = &["", "无", "不详", "NULL", "-", "未知", " ", "null"];

/// Value types that a neutrally named column can be recognised from.
fn values_decide(t: DataType) -> bool {
    !matches!(t, DataType::BirthDate)
}

fn column(rng: &mut Rng, gen: corpus::Gen, dirty_share: f64, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            if rng.chance(dirty_share) {
                rng.pick(DIRTY).to_string()
            } else {
                gen(rng)
            }
        })
        .collect()
}

/// Look-alike columns: (name, value generator) that hold nothing sensitive.
fn negatives(rng: &mut Rng) -> (String, Vec<String>) {
    let n = 40;
    let vals: Vec<String> = match rng.below(8) {
        0 => (0..n)
            .map(|_| format!("20{}{}", rng.range(20, 25), rng.digits(14)))
            .collect(),
        1 => (0..n)
            .map(|_| format!("{}.{:02}", rng.range(1, 999_999), rng.below(100)))
            .collect(),
        2 => (0..n)
            .map(|_| rng.range(1_500_000_000, 1_800_000_000).to_string())
            .collect(),
        3 => (0..n)
            .map(|_| {
                rng.pick(&["已办结", "受理中", "退回", "待审核", "已归档"])
                    .to_string()
            })
            .collect(),
        4 => (0..n)
            .map(|_| rng.chars_from(b"0123456789abcdef", 32))
            .collect(),
        5 => (0..n)
            .map(|_| {
                format!(
                    "{}-{:02}-{:02} {:02}:{:02}",
                    rng.range(2015, 2025),
                    rng.range(1, 12),
                    rng.range(1, 28),
                    rng.below(24),
                    rng.below(60)
                )
            })
            .collect(),
        6 => (0..n)
            .map(|_| {
                rng.pick(&[
                    "数据安全项目",
                    "政务云迁移",
                    "智慧城市平台",
                    "一网通办",
                    "档案数字化",
                ])
                .to_string()
            })
            .collect(),
        _ => (0..n).map(|_| rng.range(1, 100_000).to_string()).collect(),
    };
    let name = rng.pick(&[
        "xmmc",
        "id",
        "create_time",
        "status",
        "amount",
        "order_no",
        "备注",
        "bz",
        "hash",
        "mc",
        "项目名称",
        "file_name",
    ]);
    (name.to_string(), vals)
}

#[test]
fn column_accuracy_per_type() {
    let classifier = ColumnClassifier::new();
    let mut rng = Rng::new(20_241_122);
    let mut tally: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut record = |key: String, ok: bool, detail: String| {
        let e = tally.entry(key).or_default();
        e.0 += ok as usize;
        e.1 += 1;
        if !ok && misses.len() < 25 {
            misses.push(detail);
        }
    };
    for round in 0..20 {
        for &(t, gen, _) in corpus::TEXT_TYPES {
            // Named column, 30% placeholders.
            let name = rng.pick(names(t));
            let vals = column(&mut rng, gen, 0.3, 40);
            let v = classifier.classify(name, vals.iter().map(String::as_str));
            record(
                format!("{} by name", t.id()),
                v.data_type == Some(t),
                format!("{name}: {:?} {}", v.data_type, v.reason),
            );
            // Neutral name: the values decide (birth dates need their name).
            if values_decide(t) {
                let name = rng.pick(NEUTRAL);
                let vals = column(&mut rng, gen, 0.3, 40);
                let v = classifier.classify(name, vals.iter().map(String::as_str));
                record(
                    format!("{} by values", t.id()),
                    v.data_type == Some(t),
                    format!("{name} [{}]: {:?} {}", vals[0], v.data_type, v.reason),
                );
            }
            // Mostly placeholders: a few real values must still carry the column.
            if round % 4 == 0 {
                let vals = column(&mut rng, gen, 0.9, 60);
                let v = classifier.classify(rng.pick(names(t)), vals.iter().map(String::as_str));
                record(
                    format!("{} mostly dirty", t.id()),
                    v.data_type == Some(t),
                    format!("dirty: {:?} {}", v.data_type, v.reason),
                );
            }
        }
        let (name, vals) = negatives(&mut rng);
        let v = classifier.classify(&name, vals.iter().map(String::as_str));
        record(
            "not sensitive".into(),
            v.data_type.is_none(),
            format!("{name} [{}]: {:?} {}", vals[0], v.data_type, v.reason),
        );
    }
    // Name-only categories: free-text values, the name decides.
    for (name, t) in [
        ("病历摘要", DataType::HealthInfo),
        ("jkzk", DataType::HealthInfo),
        ("宗教信仰", DataType::ReligiousBelief),
        ("犯罪记录", DataType::CriminalRecord),
        ("性取向", DataType::SexualOrientation),
        ("婚姻状况", DataType::MaritalHistory),
        ("mz", DataType::Ethnicity),
        ("指纹模板", DataType::Biometric),
        ("月收入", DataType::PropertyInfo),
        ("user_password", DataType::Credential),
    ] {
        let v = classifier.classify(name, ["无", "有", "不详", "详见附件"]);
        record(
            "name-only cues".into(),
            v.data_type == Some(t),
            format!("{name}: {:?} {}", v.data_type, v.reason),
        );
    }
    let mut failures = Vec::new();
    println!("{:<34} {:>7} {:>7}", "case", "correct", "of");
    for (k, (ok, n)) in &tally {
        println!("{k:<34} {ok:>7} {n:>7}");
        if ok < n {
            failures.push(k.clone());
        }
    }
    for m in &misses {
        println!("MISS {m}");
    }
    assert!(failures.is_empty(), "not all correct: {failures:?}");
}
