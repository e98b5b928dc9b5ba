//! A synthetic department database for `shuan demo` and the tests: government-style
//! tables filled with realistic but invented values that carry valid check digits
//! (GB 11643 ID numbers, GB 32100 credit codes, GB 11714 organisation codes, Luhn bank
//! cards, ISO 3779 VINs). Generation is deterministic: the same seed gives the same file.
//!
//! Nobody in this file exists: names are drawn from common characters, numbers from a
//! seeded generator.

use std::path::Path;

use anyhow::{Context as _, Result};
use rusqlite::{params_from_iter, Connection};

/// Rows per table. 户籍人口 is above the 100,000-person scale rule of the default profile so
/// the demo shows a 重要数据 candidate.
pub struct DemoSize {
    /// 户籍人口 rows.
    pub residents: usize,
    /// Rows of the other personal-data tables.
    pub others: usize,
}

impl Default for DemoSize {
    fn default() -> Self {
        DemoSize {
            residents: 120_000,
            others: 5_000,
        }
    }
}

/// A deterministic generator (SplitMix64): good enough spread for test data, no crate.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One element of a slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "玉兰", "志强", "海燕",
    "晓东", "子涵", "雨轩", "浩然", "欣怡", "宇航", "思远", "佳琪", "国庆", "建国", "春梅",
];

/// Real county-level region codes (GB/T 2260) with their place names.
const REGIONS: &[(&str, &str)] = &[
    ("411502", "河南省信阳市浉河区"),
    ("411503", "河南省信阳市平桥区"),
    ("411521", "河南省信阳市罗山县"),
    ("411524", "河南省信阳市商城县"),
    ("410102", "河南省郑州市中原区"),
    ("440703", "广东省江门市蓬江区"),
    ("440106", "广东省广州市天河区"),
    ("140502", "山西省晋城市城区"),
    ("152201", "内蒙古自治区兴安盟乌兰浩特市"),
    ("110105", "北京市朝阳区"),
    ("310101", "上海市黄浦区"),
    ("330106", "浙江省杭州市西湖区"),
];
const ROADS: &[&str] = &[
    "胜利路",
    "民权路",
    "中山路",
    "新华街",
    "工区路",
    "湖东大道",
    "南京路",
    "解放大道",
    "人民路",
    "和平街",
    "羊山大道",
    "建设路",
];
const ETHNICITIES: &[&str] = &[
    "汉族",
    "汉族",
    "汉族",
    "汉族",
    "回族",
    "满族",
    "蒙古族",
    "壮族",
];
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "176", "177", "180", "181", "186", "187", "188", "189", "199",
];
const COMPANY_WORDS: &[&str] = &[
    "信达",
    "豫南",
    "茶都",
    "鸡公山",
    "申城",
    "淮河",
    "浉河",
    "明港",
    "华豫",
    "中原",
    "恒通",
    "博远",
];
const COMPANY_KINDS: &[&str] = &[
    "商贸有限公司",
    "农业科技有限公司",
    "建筑工程有限公司",
    "茶业有限公司",
    "物流有限公司",
    "信息技术有限公司",
];

/// A person's name.
pub fn person_name(rng: &mut Rng) -> String {
    let mut s = String::from(*rng.pick(SURNAMES));
    let given: &&str = rng.pick(GIVEN);
    s.push_str(given);
    if rng.below(3) == 0 {
        let given: &&str = rng.pick(GIVEN);
        s.push_str(given);
    }
    s
}

/// ISO 7064 MOD 11-2 check character of GB 11643.
pub fn resident_id_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// A valid 18-digit resident ID number and the birth date it carries (YYYY-MM-DD).
pub fn resident_id(rng: &mut Rng) -> (String, String) {
    let region = rng.pick(REGIONS).0;
    let year = 1940 + rng.below(70);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    let seq = rng.below(1000);
    let first17 = format!("{region}{year:04}{month:02}{day:02}{seq:03}");
    let check = resident_id_check(&first17);
    (
        format!("{first17}{check}"),
        format!("{year:04}-{month:02}-{day:02}"),
    )
}

/// A mainland mobile number.
pub fn mobile(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(MOBILE_PREFIXES), rng.digits(8))
}

/// A Xinyang landline (area code 0376).
pub fn landline(rng: &mut Rng) -> String {
    format!("0376-{}{}", 2 + rng.below(7), rng.digits(6))
}

/// A street address with region.
pub fn address(rng: &mut Rng) -> String {
    format!(
        "{}{}{}号{}栋{}室",
        rng.pick(REGIONS).1,
        rng.pick(ROADS),
        1 + rng.below(300),
        1 + rng.below(30),
        101 + rng.below(20) * 100 + rng.below(4)
    )
}

/// Luhn check digit for a number without it.
pub fn luhn_check_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// A 19-digit UnionPay debit card number with a valid Luhn digit.
pub fn bank_card(rng: &mut Rng) -> String {
    let body = format!(
        "{}{}",
        rng.pick(&["622202", "621700", "622848", "621226"]),
        rng.digits(12)
    );
    let check = luhn_check_digit(&body);
    format!("{body}{check}")
}

const ORG_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A GB 11714 organisation code without hyphen (8 body characters + check).
pub fn org_code(rng: &mut Rng) -> String {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let body: Vec<u8> = (0..8)
        .map(|i| {
            if i == 0 {
                ORG_CHARS[rng.below(36) as usize]
            } else {
                b'0' + rng.below(10) as u8
            }
        })
        .collect();
    let sum: u32 = body
        .iter()
        .zip(W)
        .map(|(c, w)| {
            let v = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            v * w
        })
        .sum();
    let c = 11 - sum % 11;
    let check = match c {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    };
    let mut s = String::from_utf8(body).expect("ascii");
    s.push(check);
    s
}

const USCC_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// A GB 32100 unified social credit code embedding a valid organisation code.
pub fn uscc(rng: &mut Rng) -> String {
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    loop {
        let org = org_code(rng);
        // GB 32100 excludes I, O, S, V, Z; an org code holding one cannot be embedded.
        if !org.bytes().all(|b| USCC_CHARS.contains(&b)) {
            continue;
        }
        let first17 = format!("91{}{org}", rng.pick(REGIONS).0);
        let sum: u32 = first17
            .bytes()
            .zip(W)
            .map(|(b, w)| {
                let v = USCC_CHARS.iter().position(|c| *c == b).expect("charset") as u32;
                v * w
            })
            .sum();
        let check = USCC_CHARS[((31 - sum % 31) % 31) as usize] as char;
        return format!("{first17}{check}");
    }
}

const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A Xinyang plate (豫S): 7-character petrol or 8-character new-energy.
pub fn plate(rng: &mut Rng) -> String {
    if rng.below(5) == 0 {
        let kind = if rng.below(2) == 0 { 'D' } else { 'F' };
        format!(
            "豫S{kind}{}{}",
            char::from(PLATE_LETTERS[rng.below(24) as usize]),
            rng.digits(4)
        )
    } else {
        let mut tail = String::new();
        for i in 0..5 {
            if i < 2 && rng.below(3) == 0 {
                tail.push(char::from(PLATE_LETTERS[rng.below(24) as usize]));
            } else {
                tail.push(char::from(b'0' + rng.below(10) as u8));
            }
        }
        format!("豫S{tail}")
    }
}

fn vin_value(c: u8) -> u32 {
    match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => 0,
    }
}

/// An ISO 3779 VIN with a valid check character.
pub fn vin(rng: &mut Rng) -> String {
    const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
    let wmi = rng
        .pick(&["LSV", "LFV", "LGB", "LVS", "LHG"])
        .as_bytes()
        .to_vec();
    let mut v = wmi;
    for _ in 0..5 {
        v.push(VIN_CHARS[rng.below(VIN_CHARS.len() as u64) as usize]);
    }
    v.push(b'0');
    v.push(*rng.pick(b"HJKLMNPRS"));
    v.push(VIN_CHARS[rng.below(VIN_CHARS.len() as u64) as usize]);
    for _ in 0..6 {
        v.push(b'0' + rng.below(10) as u8);
    }
    let sum: u32 = v.iter().zip(W).map(|(c, w)| vin_value(*c) * w).sum();
    let r = sum % 11;
    v[8] = if r == 10 { b'X' } else { b'0' + r as u8 };
    String::from_utf8(v).expect("ascii")
}

/// A company name.
pub fn company(rng: &mut Rng) -> String {
    format!(
        "信阳市{}{}",
        rng.pick(COMPANY_WORDS),
        rng.pick(COMPANY_KINDS)
    )
}

/// Creates the demo department database at `path` (replacing any file there) and returns
/// the table names it made.
pub fn create_department_db(path: &Path, size: &DemoSize, seed: u64) -> Result<Vec<String>> {
    if path.exists() {
        std::fs::remove_file(path)
            .with_context(|| format!("cannot replace the old demo database {}", path.display()))?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let mut conn = Connection::open(path)
        .with_context(|| format!("cannot create demo database {}", path.display()))?;
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")?;
    let tx = conn.transaction()?;
    let mut rng = Rng::new(seed);
    let mut made = Vec::new();
    let mut table = |name: &str,
                     ddl: &str,
                     rows: usize,
                     row: &mut dyn FnMut(&mut Rng, usize) -> Vec<rusqlite::types::Value>|
     -> Result<()> {
        tx.execute_batch(&format!("CREATE TABLE \"{name}\" ({ddl});"))?;
        let columns = ddl.split(',').count();
        let marks = vec!["?"; columns].join(", ");
        let mut stmt = tx.prepare(&format!("INSERT INTO \"{name}\" VALUES ({marks})"))?;
        for i in 0..rows {
            stmt.execute(params_from_iter(row(&mut rng, i)))?;
        }
        made.push(name.to_string());
        Ok(())
    };
    use rusqlite::types::Value::{Integer, Null, Real, Text};

    // 户籍人口: pinyin column abbreviations, as many registry systems use.
    table(
        "户籍人口",
        "xm TEXT, sfzh TEXT, xb TEXT, mz TEXT, csrq TEXT, hjdz TEXT, lxdh TEXT, hh TEXT, djrq TEXT",
        size.residents,
        &mut |r, i| {
            let (id, birth) = resident_id(r);
            let male = (id.as_bytes()[16] - b'0') % 2 == 1;
            vec![
                Text(person_name(r)),
                Text(id),
                Text(if male { "男" } else { "女" }.into()),
                Text(r.pick(ETHNICITIES).to_string()),
                Text(birth),
                Text(address(r)),
                // Dirty data as in real exports: some blanks and 无.
                if i % 50 == 7 {
                    Text("无".into())
                } else if i % 50 == 9 {
                    Null
                } else {
                    Text(mobile(r))
                },
                Text(format!("{:09}", 411_502_000 + i / 3)),
                Text(format!(
                    "20{:02}-{:02}-{:02}",
                    10 + r.below(14),
                    1 + r.below(12),
                    1 + r.below(28)
                )),
            ]
        },
    )?;
    // 社保缴费: Chinese column names; 缴费流水号 is an order-number look-alike.
    table(
        "社保缴费",
        "缴费流水号 TEXT, 姓名 TEXT, 社会保障号码 TEXT, 银行卡号 TEXT, 缴费金额 REAL, 缴费月份 TEXT, 参保单位 TEXT",
        size.others,
        &mut |r, i| {
            vec![
                Text(format!("2024{:02}{:013}", 1 + i % 12, 1_000_000_000 + i as u64 * 7919)),
                Text(person_name(r)),
                Text(resident_id(r).0),
                Text(bank_card(r)),
                Real((300 + r.below(2000)) as f64 + 0.5),
                Text(format!("2024-{:02}", 1 + i % 12)),
                Text(company(r)),
            ]
        },
    )?;
    // 企业登记: organisation identifiers, the legal representative and their phone.
    table(
        "企业登记",
        "统一社会信用代码 TEXT, 企业名称 TEXT, 法定代表人 TEXT, 联系电话 TEXT, 注册地址 TEXT, 注册资本万元 INTEGER, 成立日期 TEXT",
        size.others / 2,
        &mut |r, _| {
            vec![
                Text(uscc(r)),
                Text(company(r)),
                Text(person_name(r)),
                Text(mobile(r)),
                Text(address(r)),
                Integer((10 + r.below(5000)) as i64),
                Text(format!("{}-{:02}-{:02}", 1995 + r.below(29), 1 + r.below(12), 1 + r.below(28))),
            ]
        },
    )?;
    // 车辆登记: traffic-police style pinyin abbreviations (hphm 号牌号码, clsbdh 车辆识别代号).
    table(
        "车辆登记",
        "hphm TEXT, clsbdh TEXT, syr TEXT, sfzmhm TEXT, lxdh TEXT, zsxxdz TEXT, ccdjrq TEXT",
        size.others,
        &mut |r, _| {
            vec![
                Text(plate(r)),
                Text(vin(r)),
                Text(person_name(r)),
                Text(resident_id(r).0),
                Text(if r.below(4) == 0 {
                    landline(r)
                } else {
                    mobile(r)
                }),
                Text(address(r)),
                Text(format!(
                    "20{:02}-{:02}-{:02}",
                    5 + r.below(19),
                    1 + r.below(12),
                    1 + r.below(28)
                )),
            ]
        },
    )?;
    // 系统日志: who did what from where.
    table(
        "系统日志",
        "日志时间 TEXT, 用户账号 TEXT, 客户端IP TEXT, MAC地址 TEXT, 操作 TEXT, 结果 TEXT",
        size.others,
        &mut |r, i| {
            vec![
                Text(format!(
                    "2024-06-{:02} {:02}:{:02}:{:02}",
                    1 + i % 28,
                    r.below(24),
                    r.below(60),
                    r.below(60)
                )),
                Text(format!("user{:03}", r.below(200))),
                Text(format!(
                    "10.{}.{}.{}",
                    16 + r.below(8),
                    r.below(256),
                    1 + r.below(254)
                )),
                Text(
                    (0..6)
                        .map(|_| format!("{:02X}", r.below(256)))
                        .collect::<Vec<_>>()
                        .join(":"),
                ),
                Text(
                    r.pick(&["登录", "查询户籍", "导出报表", "修改资料", "退出"])
                        .to_string(),
                ),
                Text(r.pick(&["成功", "成功", "成功", "失败"]).to_string()),
            ]
        },
    )?;
    // Tables with no personal data: a service guide, region codes (six digits that look
    // like the start of an ID number), monthly statistics with amounts and long counts.
    table(
        "办事指南",
        "事项编码 TEXT, 事项名称 TEXT, 承诺时限 INTEGER, 收费标准 TEXT",
        200,
        &mut |r, i| {
            vec![
                Text(format!("11411500MB{:07}", 1_000 + i)),
                Text(format!(
                    "{}{}",
                    r.pick(&["企业", "个人", "车辆", "社保"]),
                    r.pick(&["登记", "变更", "注销", "证明开具"])
                )),
                Integer((1 + r.below(20)) as i64),
                Text("不收费".into()),
            ]
        },
    )?;
    table(
        "行政区划",
        "区划代码 TEXT, 区划名称 TEXT, 层级 INTEGER",
        REGIONS.len(),
        &mut |_, i| {
            vec![
                Text(REGIONS[i].0.to_string()),
                Text(REGIONS[i].1.to_string()),
                Integer(3),
            ]
        },
    )?;
    table(
        "统计月报",
        "统计月份 TEXT, 指标名称 TEXT, 指标值 REAL, 同比增长 REAL",
        240,
        &mut |r, i| {
            vec![
                Text(format!("20{:02}{:02}", 4 + i / 12 / 4, 1 + i % 12)),
                Text(
                    r.pick(&["办件量", "受理量", "办结率", "好评率"])
                        .to_string(),
                ),
                Real(r.below(1_000_000) as f64 / 10.0),
                Real(r.below(400) as f64 / 10.0 - 20.0),
            ]
        },
    )?;
    tx.commit()?;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_match_standard_examples() {
        // Examples from ../shared/standards/README.md.
        assert_eq!(resident_id_check("11010519491231002"), 'X');
        let vin = "1M8GDM9AXKP042788";
        let sum: u32 = vin
            .bytes()
            .zip([8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2])
            .map(|(c, w)| vin_value(c) * w)
            .sum();
        assert_eq!(sum % 11, 10);
        assert_eq!(luhn_check_digit("7992739871"), '3');
    }

    #[test]
    fn generation_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(uscc(&mut a), uscc(&mut b));
            assert_eq!(vin(&mut a), vin(&mut b));
        }
    }
}
