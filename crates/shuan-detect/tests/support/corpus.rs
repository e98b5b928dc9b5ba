//! Generator of a labelled evaluation corpus: government-style Chinese sentences with
//! embedded identifiers (positives, with their exact byte spans) and look-alikes that must
//! not be reported (bad check digits, timestamps, order numbers, amounts, hashes …).
//!
//! Shared by the evaluation test, the property tests and the benchmark corpus generator
//! (`examples/gen_corpus.rs` includes this file), so every figure is measured on the same
//! kind of text. Deterministic: a fixed seed gives the same corpus on every machine.
#![allow(dead_code)]

use shuan_detect::DataType;

/// xorshift64* — small, deterministic, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn range(&mut self, lo: u64, hi_incl: u64) -> u64 {
        lo + self.below(hi_incl - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    pub fn chars_from(&mut self, set: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(set[self.below(set.len() as u64) as usize]))
            .collect()
    }
}

/// One line of the corpus and the sensitive values in it.
pub struct Labelled {
    pub text: String,
    /// (type, start, end) in UTF-8 bytes of `text`.
    pub labels: Vec<(DataType, usize, usize)>,
}

/// Builds a line piece by piece, recording label spans.
#[derive(Default)]
pub struct LineBuilder {
    text: String,
    labels: Vec<(DataType, usize, usize)>,
}

impl LineBuilder {
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    pub fn value(&mut self, t: DataType, s: &str) -> &mut Self {
        let start = self.text.len();
        self.text.push_str(s);
        self.labels.push((t, start, self.text.len()));
        self
    }
    pub fn finish(self) -> Labelled {
        Labelled {
            text: self.text,
            labels: self.labels,
        }
    }
}

const REGIONS: &[&str] = &[
    "110105", "110108", "120101", "130102", "140105", "210102", "220102", "230103", "310104",
    "310115", "320102", "330106", "340102", "350102", "360102", "370102", "410105", "420106",
    "430104", "440106", "440305", "450103", "460106", "500103", "510104", "520102", "530102",
    "540102", "610113", "620102", "630102", "640104", "650102",
];

pub fn id18_check(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(c, w)| u32::from(c - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

fn date(rng: &mut Rng, y0: u64, y1: u64) -> (u64, u64, u64) {
    let y = rng.range(y0, y1);
    let m = rng.range(1, 12);
    let d = rng.range(1, 28);
    (y, m, d)
}

pub fn gen_id18(rng: &mut Rng) -> String {
    let (y, m, d) = date(rng, 1940, 2015);
    let body = format!("{}{y:04}{m:02}{d:02}{}", rng.pick(REGIONS), rng.digits(3));
    let c = id18_check(&body);
    format!("{body}{c}")
}

pub fn gen_id15(rng: &mut Rng) -> String {
    let (y, m, d) = date(rng, 1940, 1999);
    format!(
        "{}{:02}{m:02}{d:02}{}",
        rng.pick(REGIONS),
        y % 100,
        rng.digits(3)
    )
}

const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "145", "147", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "162", "165", "166", "167", "170", "171",
    "172", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186",
    "187", "188", "189", "190", "191", "193", "195", "196", "197", "198", "199",
];

pub fn gen_mobile_digits(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(MOBILE_PREFIXES), rng.digits(8))
}

pub fn gen_mobile(rng: &mut Rng) -> String {
    let d = gen_mobile_digits(rng);
    match rng.below(6) {
        0 => format!("+86{d}"),
        1 => format!("+86 {} {} {}", &d[..3], &d[3..7], &d[7..]),
        2 => format!("{}-{}-{}", &d[..3], &d[3..7], &d[7..]),
        3 => format!("{} {} {}", &d[..3], &d[3..7], &d[7..]),
        _ => d,
    }
}

const AREA_CODES: &[&str] = &[
    "010", "021", "022", "023", "020", "025", "027", "028", "029", "0755", "0571", "0531", "0371",
    "0791", "0851", "0931",
];

pub fn gen_landline(rng: &mut Rng) -> String {
    let area = rng.pick(AREA_CODES);
    let sub_len = if area.len() == 3 || rng.chance(0.5) {
        8
    } else {
        7
    };
    let sub = format!("{}{}", rng.range(2, 9), rng.digits(sub_len - 1));
    match rng.below(4) {
        0 => format!("{area}-{sub}"),
        1 => format!("({area}){sub}"),
        2 => format!("{area}-{sub}-{}", rng.range(1, 999)),
        _ => format!("{area}-{sub}"),
    }
}

const SYLLABLES: &[&str] = &[
    "zhang", "wang", "li", "liu", "chen", "yang", "hua", "ming", "wei", "fang", "jun", "xiao",
    "hong", "lin", "qiang",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.gov.cn",
    "163.com",
    "qq.com",
    "126.com",
    "sina.com.cn",
    "example.org",
];

pub fn gen_email(rng: &mut Rng) -> String {
    let sep = rng.pick(&[".", "_", "", ""]);
    let n = rng.below(4) as usize;
    format!(
        "{}{sep}{}{}@{}",
        rng.pick(SYLLABLES),
        rng.pick(SYLLABLES),
        rng.digits(n),
        rng.pick(DOMAINS)
    )
}

pub fn luhn_complete(body: &str) -> String {
    // Check digit making body+check pass Luhn.
    let mut sum = 0;
    for (i, c) in body.bytes().rev().enumerate() {
        let mut v = u32::from(c - b'0');
        if i % 2 == 0 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    format!("{body}{}", (10 - sum % 10) % 10)
}

pub fn gen_card_digits(rng: &mut Rng) -> String {
    let len = rng.pick(&[16usize, 16, 19, 19, 18, 17]);
    let prefix = rng.pick(&["62", "62", "622", "621", "625", "4", "5"]);
    let body = format!("{prefix}{}", rng.digits(len - 1 - prefix.len()));
    luhn_complete(&body)
}

pub fn gen_card(rng: &mut Rng) -> String {
    let d = gen_card_digits(rng);
    if rng.chance(0.3) {
        d.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        d
    }
}

const USCC_CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

pub fn org_check(body8: &str) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body8
        .bytes()
        .zip(W)
        .map(|(c, w)| if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 } * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        c => char::from(b'0' + c as u8),
    }
}

pub fn uscc_check(first17: &str) -> char {
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(c, w)| USCC_CHARSET.iter().position(|&x| x == c).unwrap() as u32 * w)
        .sum();
    char::from(USCC_CHARSET[((31 - sum % 31) % 31) as usize])
}

pub fn gen_org_body(rng: &mut Rng) -> String {
    if rng.chance(0.5) {
        rng.digits(8)
    } else {
        format!(
            "MA{}",
            rng.chars_from(b"0123456789ABCDEFGHJKLMNPQRTUWXY", 6)
        )
    }
}

pub fn gen_uscc(rng: &mut Rng) -> String {
    let org = gen_org_body(rng);
    let first = format!(
        "{}{}{}{org}{}",
        rng.pick(&["9", "9", "1", "5"]),
        rng.pick(&["1", "2", "3"]),
        rng.pick(REGIONS),
        org_check(&org)
    );
    let c = uscc_check(&first);
    format!("{first}{c}")
}

pub fn gen_org_code(rng: &mut Rng) -> String {
    let body = gen_org_body(rng);
    format!("{body}-{}", org_check(&body))
}

const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

pub fn gen_passport(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("E{}", rng.digits(8)),
        1 => format!("E{}{}", rng.chars_from(PLATE_LETTERS, 1), rng.digits(7)),
        _ => format!("G{}", rng.digits(8)),
    }
}

pub fn gen_permit(rng: &mut Rng) -> String {
    format!("C{}", rng.digits(8))
}

const PROVINCES: &[&str] = &[
    "京", "津", "沪", "渝", "冀", "豫", "云", "辽", "黑", "湘", "皖", "鲁", "新", "苏", "浙", "赣",
    "鄂", "桂", "甘", "晋", "蒙", "陕", "吉", "闽", "贵", "粤", "青", "藏", "川", "宁", "琼",
];

pub fn gen_plate(rng: &mut Rng) -> String {
    let p = rng.pick(PROVINCES);
    let letter = rng.chars_from(PLATE_LETTERS, 1);
    let body = match rng.below(4) {
        0 => format!("{}{}", rng.chars_from(b"DF", 1), rng.digits(5)),
        1 => format!("{}{}", rng.digits(5), rng.chars_from(b"DF", 1)),
        2 => format!("{}{}", rng.chars_from(PLATE_LETTERS, 1), rng.digits(4)),
        _ => rng.digits(5),
    };
    let sep = rng.pick(&["", "", "·", " "]);
    format!("{p}{letter}{sep}{body}")
}

const VIN_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ";

pub fn vin_check(v: &[u8]) -> char {
    const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let val = |c: u8| -> u32 {
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
            _ => 9,
        }
    };
    let sum: u32 = v.iter().zip(W).map(|(&c, w)| val(c) * w).sum();
    match sum % 11 {
        10 => 'X',
        c => char::from(b'0' + c as u8),
    }
}

pub fn gen_vin(rng: &mut Rng) -> String {
    let wmi = rng.pick(&["LSV", "LFV", "LGB", "LHG", "LVS", "1HG", "WBA", "JHM"]);
    let mut v: Vec<u8> = format!(
        "{wmi}{}0{}{}",
        rng.chars_from(VIN_CHARS, 5),
        rng.chars_from(b"ABCDEFGHJKLMNPRSTVWXY123456789", 1),
        rng.chars_from(VIN_CHARS, 1)
    )
    .into_bytes();
    v.extend(rng.digits(6).bytes());
    v[8] = vin_check(&v) as u8;
    String::from_utf8(v).unwrap()
}

pub fn gen_ipv4(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.range(1, 223),
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

pub fn gen_ipv6(rng: &mut Rng) -> String {
    let g: Vec<String> = (0..8)
        .map(|_| format!("{:x}", rng.below(0x10000)))
        .collect();
    if rng.chance(0.5) {
        format!("2001:db8:{}:{}::{}", g[0], g[1], g[2])
    } else {
        g.join(":")
    }
}

pub fn gen_mac(rng: &mut Rng) -> String {
    let sep = rng.pick(&[":", "-"]);
    (0..6)
        .map(|_| format!("{:02X}", rng.below(256)))
        .collect::<Vec<_>>()
        .join(sep)
}

const SURNAMES: &[&str] = &[
    "张", "王", "李", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "郑", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀英", "桂英", "建华", "志强", "晓东", "海燕", "文", "华", "红", "玉兰",
];

pub fn gen_name(rng: &mut Rng) -> String {
    format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
}

const CITIES: &[(&str, &str)] = &[
    ("北京市", "朝阳区"),
    ("上海市", "浦东新区"),
    ("广东省深圳市", "南山区"),
    ("浙江省杭州市", "西湖区"),
    ("四川省成都市", "武侯区"),
    ("河南省信阳市", "浉河区"),
    ("湖北省武汉市", "洪山区"),
    ("江苏省南京市", "鼓楼区"),
];
const ROADS: &[&str] = &[
    "建国路",
    "人民路",
    "解放大道",
    "中山路",
    "科技园路",
    "长江路",
    "文化街",
    "新华路",
];

pub fn gen_address(rng: &mut Rng) -> String {
    let (c, d) = CITIES[rng.below(CITIES.len() as u64) as usize];
    let mut s = format!("{c}{d}{}{}号", rng.pick(ROADS), rng.range(1, 999));
    if rng.chance(0.5) {
        s.push_str(&format!(
            "{}栋{}单元{}室",
            rng.range(1, 30),
            rng.range(1, 6),
            rng.range(101, 2805)
        ));
    }
    s
}

pub fn gen_birth_date(rng: &mut Rng) -> String {
    let (y, m, d) = date(rng, 1940, 2015);
    match rng.below(4) {
        0 => format!("{y}-{m:02}-{d:02}"),
        1 => format!("{y}年{m}月{d}日"),
        2 => format!("{y}/{m:02}/{d:02}"),
        _ => format!("{y}{m:02}{d:02}"),
    }
}

pub fn gen_gps(rng: &mut Rng) -> String {
    let lat = rng.range(18_000_000, 53_000_000) as f64 / 1e6;
    let lon = rng.range(74_000_000, 134_000_000) as f64 / 1e6;
    if rng.chance(0.5) {
        format!("{lon:.6},{lat:.6}")
    } else {
        format!("{lat:.6}, {lon:.6}")
    }
}

pub fn gen_imei(rng: &mut Rng) -> String {
    let body = format!("{}{}", rng.pick(&["35", "86", "01"]), rng.digits(12));
    luhn_complete(&body)
}

/// Every type the text scanner reports, with its generator and the cue words that may
/// stand before it in a sentence (empty string: no cue).
pub type Gen = fn(&mut Rng) -> String;
pub const TEXT_TYPES: &[(DataType, Gen, &[&str])] = &[
    (
        DataType::CnResidentId,
        gen_id18,
        &["身份证号", "公民身份号码：", "证件号码 ", "", "号码为"],
    ),
    (
        DataType::CnMobile,
        gen_mobile,
        &["手机", "联系电话：", "电话", "", "请拨打"],
    ),
    (
        DataType::CnLandline,
        gen_landline,
        &["办公电话", "座机：", "电话"],
    ),
    (
        DataType::Email,
        gen_email,
        &["邮箱", "电子邮件：", "", "请发送至"],
    ),
    (
        DataType::BankCard,
        gen_card,
        &["银行卡号", "卡号：", "账号", "收款账户"],
    ),
    (
        DataType::CnUscc,
        gen_uscc,
        &["统一社会信用代码", "信用代码：", "", "企业代码"],
    ),
    (
        DataType::CnOrgCode,
        gen_org_code,
        &["组织机构代码", "机构代码：", ""],
    ),
    (
        DataType::CnPassport,
        gen_passport,
        &["护照号码", "护照：", ""],
    ),
    (
        DataType::CnHkMacaoPermit,
        gen_permit,
        &["港澳通行证", "通行证号码：", ""],
    ),
    (
        DataType::CnPlate,
        gen_plate,
        &["车牌号", "号牌号码：", "车辆", ""],
    ),
    (
        DataType::Vin,
        gen_vin,
        &["车架号", "VIN：", "车辆识别代号", ""],
    ),
    (
        DataType::Ipv4,
        gen_ipv4,
        &["登录IP", "来源地址：", "", "访问者"],
    ),
    (DataType::Ipv6, gen_ipv6, &["IPv6地址", "来源：", ""]),
    (DataType::MacAddress, gen_mac, &["MAC地址", "设备", ""]),
    (
        DataType::PersonName,
        gen_name,
        &["姓名", "联系人：", "户主", "申请人", "法定代表人："],
    ),
    (
        DataType::Address,
        gen_address,
        &["家庭住址：", "住址", "通讯地址", "户籍地址：", ""],
    ),
    (
        DataType::BirthDate,
        gen_birth_date,
        &["出生日期：", "生日", "出生于", "出生日期"],
    ),
    (DataType::Gps, gen_gps, &["经纬度", "坐标：", "定位", ""]),
    (DataType::Imei, gen_imei, &["IMEI", "设备IMEI：", "串号"]),
];

const LEADS: &[&str] = &[
    "经核实，",
    "根据登记信息，",
    "",
    "备注：",
    "该户",
    "窗口受理，",
    "系统记录：",
];
const TAILS: &[&str] = &[
    "。",
    "，请核对。",
    "；",
    "",
    "，已归档。",
    "\t",
    " 已核验。",
];

fn lexicon_honorifics() -> &'static [&'static str] {
    &["先生", "女士", "同志", "老师", "医生", "警官"]
}

/// A sentence containing one positive value of type `idx` of [`TEXT_TYPES`].
pub fn positive_line(rng: &mut Rng, idx: usize) -> Labelled {
    let (t, gen, cues) = TEXT_TYPES[idx];
    let mut value = gen(rng);
    // Lower-case x check characters occur in hand-typed IDs.
    if t == DataType::CnResidentId && value.ends_with('X') && rng.chance(0.3) {
        value = value.to_lowercase();
    }
    let mut cue = rng.pick(cues);
    // A purely numeric USCC needs a cue word to be told from other long numbers (see
    // docs/detectors.md), so cue-less sentences get one with letters.
    while t == DataType::CnUscc
        && cue.is_empty()
        && !value.bytes().take(17).any(|c| c.is_ascii_uppercase())
    {
        value = gen(rng);
    }
    // An address without a cue must start with the province name to be an address.
    if t == DataType::Address
        && cue.is_empty()
        && !value.contains('省')
        && !value.starts_with("北京市")
        && !value.starts_with("上海市")
    {
        cue = "住址";
    }
    let mut b = LineBuilder::default();
    if t == DataType::PersonName && rng.chance(0.25) {
        // No cue word before: a full name followed by an honorific.
        b.push(rng.pick(LEADS))
            .push(rng.pick(&["请", "与", "由", "，", "致"]));
        b.value(t, &value);
        b.push(rng.pick(lexicon_honorifics()))
            .push(rng.pick(&["。", "来电反映情况。", "办理。"]));
        return b.finish();
    }
    b.push(rng.pick(LEADS)).push(cue);
    b.value(t, &value);
    // Names and addresses end at punctuation; identifiers may run straight into Chinese text.
    let tail = if t == DataType::PersonName {
        rng.pick(&[
            "。",
            "，",
            "；",
            "性别男",
            "称其已搬离",
            "电话见附件",
            "（身份证见附件）",
            " ",
        ])
    } else if t == DataType::Address {
        rng.pick(&["。", "，", "；", "电话见附件", "（邮编100000）", "\n"])
    } else {
        rng.pick(TAILS)
    };
    b.push(tail);
    b.finish()
}

fn corrupt_last(s: &str, rng: &mut Rng) -> String {
    let mut b = s.as_bytes().to_vec();
    let last = b.len() - 1;
    let old = b[last];
    let mut new = old;
    while new == old {
        new = b"0123456789"[rng.below(10) as usize];
    }
    b[last] = new;
    String::from_utf8(b).unwrap()
}

/// A sentence with a look-alike that must not be reported.
pub fn negative_line(rng: &mut Rng) -> Labelled {
    let text = match rng.below(23) {
        0 => {
            // Right check character, impossible birth date (month 13).
            let body = format!(
                "{}{}13{:02}{}",
                rng.pick(REGIONS),
                rng.range(1950, 2010),
                rng.range(1, 28),
                rng.digits(3)
            );
            format!("身份证号{body}{}（日期无效）", id18_check(&body))
        }
        1 => {
            let id = gen_id18(rng);
            let body = &id[..17];
            let good = id18_check(body);
            let bad = if good == '0' { '1' } else { '0' };
            format!("证件号码{body}{bad}无效")
        }
        2 => format!("时间戳{}", rng.range(1_500_000_000, 1_800_000_000)),
        3 => format!(
            "时间戳{}{}",
            rng.range(1_500_000_000, 1_800_000_000),
            rng.digits(3)
        ),
        4 => {
            let n = rng.range(15, 18) as usize;
            format!("订单号20{}{}", rng.range(20, 25), rng.digits(n))
        }
        5 => format!("金额{}.{:02}元", rng.range(100, 99_999_999), rng.below(100)),
        6 => {
            let n = rng.pick(&[32usize, 40, 64]);
            format!("哈希{}", rng.chars_from(b"0123456789abcdef", n))
        }
        7 => {
            let u = gen_uscc(rng);
            format!("信用代码{}", corrupt_uscc(&u))
        }
        8 => {
            let v = gen_vin(rng);
            let mut b = v.into_bytes();
            b[8] = if b[8] == b'0' { b'1' } else { b'0' };
            format!("VIN {}", String::from_utf8(b).unwrap())
        }
        9 => format!("编号1{}{}", rng.pick(&["0", "1", "2"]), rng.digits(9)),
        10 => format!(
            "更新时间{}-{:02}-{:02} {:02}:{:02}:{:02}",
            rng.range(2015, 2025),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
        11 => format!(
            "版本v{}.{}.{}，构建{}.{}.{}.{}.{}",
            rng.below(10),
            rng.below(20),
            rng.below(100),
            rng.below(9),
            rng.below(9),
            rng.below(9),
            rng.below(9),
            rng.below(9)
        ),
        12 => {
            // Card-shaped but failing Luhn, no card cue: at most a weak hint.
            let good = luhn_complete(&format!("62{}", rng.digits(15)));
            format!("流水号{}", corrupt_last(&good, rng))
        }
        13 => format!("请联系人{}尽快办理", rng.pick(&["员", "们", "事处"])),
        14 => format!(
            "{}人民政府关于{}的通知",
            rng.pick(&["北京市", "广东省", "上海市"]),
            rng.pick(&["数据安全", "政务公开"])
        ),
        16 => format!(
            "发票代码{}{}，发票号码{}",
            rng.pick(&["0", "1"]),
            rng.digits(11),
            rng.digits(8)
        ),
        17 => format!(
            "{}{}",
            rng.pick(&[
                "户主和家庭成员",
                "联系人为本单位职工",
                "申请人应当如实填写",
                "负责人对此负责",
                "患者家属陪同",
                "车主可在线办理"
            ]),
            rng.pick(&["。", "，", ""])
        ),
        18 => format!(
            "邮编{}，共{}页，第{}号",
            rng.range(100_000, 850_000),
            rng.range(1, 99),
            rng.range(1, 999)
        ),
        19 => format!(
            "坐标精度{}.{}米，误差{}.{}%",
            rng.range(1, 99),
            rng.digits(2),
            rng.below(10),
            rng.digits(1)
        ),
        20 => format!(
            "{}地址为https://www.example.gov.cn/{}",
            rng.pick(&["网站", "系统"]),
            rng.digits(6)
        ),
        21 => format!(
            "温度{}.{}，湿度{}.{}",
            rng.range(10, 40),
            rng.digits(1),
            rng.range(20, 99),
            rng.digits(1)
        ),
        22 => format!(
            "{}{}{}",
            rng.pick(&["王", "张", "全体", "各位", "有关", "李", "主治", "该"]),
            lexicon_honorifics()[rng.below(6) as usize],
            rng.pick(&["来电反映", "好", "已到岗", "。"])
        ),
        _ => format!(
            "UUID {:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            rng.next_u64() as u32,
            rng.below(65536),
            rng.below(65536),
            rng.below(65536),
            rng.next_u64() & 0xFFFF_FFFF_FFFF
        ),
    };
    Labelled {
        text,
        labels: Vec::new(),
    }
}

fn corrupt_uscc(u: &str) -> String {
    let mut b = u.as_bytes().to_vec();
    let pos = USCC_CHARSET.iter().position(|&c| c == b[17]).unwrap();
    b[17] = USCC_CHARSET[(pos + 1) % USCC_CHARSET.len()];
    String::from_utf8(b).unwrap()
}

/// The labelled corpus: `per_type` positives of every text type, as many negatives.
pub fn corpus(seed: u64, per_type: usize) -> Vec<Labelled> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for _ in 0..per_type {
        for idx in 0..TEXT_TYPES.len() {
            out.push(positive_line(&mut rng, idx));
            out.push(negative_line(&mut rng));
        }
    }
    out
}

/// Filler prose without sensitive data, to dilute a benchmark corpus to a realistic density.
pub const FILLER: &[&str] = &[
    "根据《政务数据安全管理办法》有关规定，各部门应当建立健全数据安全管理制度，落实数据分类分级保护要求。",
    "本次共受理群众来电来访事项若干件，已按时办结，群众满意度较高。",
    "会议要求，要进一步加强政务数据共享开放，提升数据治理能力和服务水平。",
    "The system processed the batch job successfully; see the audit log for details.",
    "各区县应于本月底前完成数据资产盘点工作，并将盘点结果报送市大数据管理局。",
    "办理时限为15个工作日，材料齐全的当场受理，不齐全的一次性告知需补正的全部内容。",
    "2024年第3季度共处理工单1523件，同比增长12.5%，平均处理时长3.2天。",
];
