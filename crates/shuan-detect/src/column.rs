//! Column classification: what a database/file column holds, decided from its name
//! (Chinese, English, government pinyin abbreviations) and a sample of its values.

use serde::{Deserialize, Serialize};

use crate::scan::{TextScanner, REPORT_CONFIDENCE};
use crate::types::DataType;
use crate::validate as v;

/// The decision for one column, with the evidence behind it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnVerdict {
    /// The sensitive type the column holds, or `None` when nothing sensitive was found.
    pub data_type: Option<DataType>,
    /// Confidence 0..=1 in `data_type` (for `None`: how sure the column is not sensitive).
    pub confidence: f32,
    /// English explanation of the decision, naming the name cue and the value counts.
    pub reason: String,
    /// Non-empty, non-placeholder values looked at.
    pub values_seen: usize,
    /// Of those, how many matched `data_type`.
    pub values_matched: usize,
}

/// Classifies columns. Build once and share: it is `Send + Sync`.
#[derive(Clone, Debug, Default)]
pub struct ColumnClassifier {
    scanner: TextScanner,
}

/// How a name rule matches.
#[derive(Clone, Copy)]
enum Match {
    /// A whole token of the lower-cased name split on `_`, `-`, spaces and camelCase.
    Token,
    /// A substring of the name (Chinese words, or English words long enough to be safe).
    Sub,
}

struct NameRule {
    pat: &'static str,
    how: Match,
    t: DataType,
    /// What the cue means, e.g. "pinyin for 身份证号".
    why: &'static str,
}

macro_rules! rules {
    ($( $t:ident : $how:ident [ $( $pat:literal => $why:literal ),* $(,)? ] ; )*) => {
        &[ $( $( NameRule { pat: $pat, how: Match::$how, t: DataType::$t, why: $why }, )* )* ]
    };
}

static NAME_RULES: &[NameRule] = rules! {
    CnResidentId: Sub ["身份证" => "Chinese for ID card", "公民身份号码" => "Chinese for citizen ID number",
        "身份号码" => "Chinese for ID number", "证件号" => "Chinese for certificate number",
        "社会保障号" => "Chinese for social security number (= citizen ID)", "社保号" => "Chinese for social security number"];
    CnResidentId: Token ["sfzh" => "pinyin for 身份证号", "sfzhm" => "pinyin for 身份证号码", "gmsfhm" => "pinyin for 公民身份号码",
        "zjhm" => "pinyin for 证件号码", "sfzmhm" => "pinyin for 身份证明号码 (traffic police)", "sfzjhm" => "pinyin for 身份证件号码", "sfz" => "pinyin for 身份证",
        "shbzh" => "pinyin for 社会保障号", "idcard" => "English for ID card", "idno" => "English for ID number",
        "idnumber" => "English for ID number", "nationalid" => "English for national ID", "citizenid" => "English for citizen ID",
        "identitycard" => "English for identity card", "ssn" => "English for social security number",
        "certno" => "English for certificate number", "certificateno" => "English for certificate number"];
    CnLandline: Sub ["固定电话" => "Chinese for landline", "座机" => "Chinese for landline", "固话" => "Chinese for landline",
        "办公电话" => "Chinese for office phone"];
    CnLandline: Token ["gddh" => "pinyin for 固定电话", "bgdh" => "pinyin for 办公电话", "landline" => "English for landline"];
    CnMobile: Sub ["手机" => "Chinese for mobile phone", "移动电话" => "Chinese for mobile phone", "电话" => "Chinese for telephone",
        "联系方式" => "Chinese for contact number"];
    CnMobile: Token ["sjhm" => "pinyin for 手机号码", "sjh" => "pinyin for 手机号", "lxdh" => "pinyin for 联系电话",
        "yddh" => "pinyin for 移动电话", "dh" => "pinyin for 电话", "lxfs" => "pinyin for 联系方式", "dhhm" => "pinyin for 电话号码",
        "lxrdh" => "pinyin for 联系人电话", "mobile" => "English for mobile phone", "phone" => "English for phone",
        "cellphone" => "English for mobile phone", "tel" => "English for telephone", "telephone" => "English for telephone",
        "mobilephone" => "English for mobile phone", "phoneno" => "English for phone number", "phonenumber" => "English for phone number",
        "msisdn" => "English for mobile number"];
    Email: Sub ["邮箱" => "Chinese for mailbox", "电子邮件" => "Chinese for email", "电子信箱" => "Chinese for email", "email" => "English for email"];
    Email: Token ["yx" => "pinyin for 邮箱", "dzyx" => "pinyin for 电子邮箱", "mail" => "English for mail"];
    BankCard: Sub ["银行卡" => "Chinese for bank card", "卡号" => "Chinese for card number", "银行账号" => "Chinese for bank account",
        "银行帐号" => "Chinese for bank account", "开户账号" => "Chinese for account number", "账号" => "Chinese for account number"];
    BankCard: Token ["yhkh" => "pinyin for 银行卡号", "yhzh" => "pinyin for 银行账号", "khzh" => "pinyin for 开户账号",
        "bankcard" => "English for bank card", "cardno" => "English for card number", "cardnumber" => "English for card number",
        "accountno" => "English for account number", "acctno" => "English for account number", "bankaccount" => "English for bank account",
        "iban" => "English for bank account"];
    CnUscc: Sub ["统一社会信用代码" => "Chinese for unified social credit code", "信用代码" => "Chinese for credit code"];
    CnUscc: Token ["tyshxydm" => "pinyin for 统一社会信用代码", "shxydm" => "pinyin for 社会信用代码", "xydm" => "pinyin for 信用代码",
        "uscc" => "English abbreviation of unified social credit code", "creditcode" => "English for credit code"];
    CnOrgCode: Sub ["组织机构代码" => "Chinese for organisation code", "机构代码" => "Chinese for organisation code"];
    CnOrgCode: Token ["zzjgdm" => "pinyin for 组织机构代码", "jgdm" => "pinyin for 机构代码", "orgcode" => "English for organisation code"];
    CnPassport: Sub ["护照" => "Chinese for passport", "passport" => "English for passport"];
    CnPassport: Token ["hzhm" => "pinyin for 护照号码"];
    CnHkMacaoPermit: Sub ["通行证" => "Chinese for travel permit", "回乡证" => "Chinese for home-return permit"];
    CnHkMacaoPermit: Token ["txzhm" => "pinyin for 通行证号码", "gatxz" => "pinyin for 港澳通行证"];
    CnPlate: Sub ["车牌" => "Chinese for licence plate", "号牌" => "Chinese for number plate"];
    CnPlate: Token ["hphm" => "pinyin for 号牌号码", "cph" => "pinyin for 车牌号", "cphm" => "pinyin for 车牌号码",
        "plate" => "English for plate", "plateno" => "English for plate number", "licenseplate" => "English for licence plate"];
    Vin: Sub ["车架号" => "Chinese for frame number", "车辆识别" => "Chinese for vehicle identification", "识别代号" => "Chinese for identification code"];
    Vin: Token ["clsbdh" => "pinyin for 车辆识别代号", "cjh" => "pinyin for 车架号", "vin" => "English abbreviation of vehicle identification number",
        "frameno" => "English for frame number"];
    MacAddress: Sub ["mac地址" => "Chinese for MAC address", "物理地址" => "Chinese for physical (MAC) address"];
    MacAddress: Token ["mac" => "English for MAC address", "macaddr" => "English for MAC address", "macaddress" => "English for MAC address"];
    Ipv4: Sub ["ip地址" => "Chinese for IP address"];
    Ipv4: Token ["ip" => "English for IP address", "ipaddr" => "English for IP address", "ipaddress" => "English for IP address",
        "clientip" => "English for client IP", "remoteaddr" => "English for remote address", "srcip" => "English for source IP",
        "dstip" => "English for destination IP", "ipv4" => "English for IPv4 address", "dlip" => "pinyin for 登录IP"];
    Ipv6: Token ["ipv6" => "English for IPv6 address"];
    Imei: Sub ["imei" => "English abbreviation of device identity", "设备识别码" => "Chinese for device identity code", "串号" => "Chinese for device serial (IMEI)"];
    Imei: Token ["meid" => "English abbreviation of device identity"];
    Gps: Sub ["经纬度" => "Chinese for latitude/longitude", "经度" => "Chinese for longitude", "纬度" => "Chinese for latitude",
        "坐标" => "Chinese for coordinates", "定位" => "Chinese for location fix", "latitude" => "English for latitude",
        "longitude" => "English for longitude"];
    Gps: Token ["lat" => "English for latitude", "lng" => "English for longitude", "lon" => "English for longitude",
        "gps" => "English for GPS position", "jwd" => "pinyin for 经纬度", "coord" => "English for coordinates",
        "coordinates" => "English for coordinates", "geo" => "English for geolocation", "location" => "English for location"];
    BirthDate: Sub ["出生日期" => "Chinese for date of birth", "出生年月" => "Chinese for month of birth", "生日" => "Chinese for birthday",
        "出生" => "Chinese for birth", "birthday" => "English for birthday", "birthdate" => "English for birth date"];
    BirthDate: Token ["csrq" => "pinyin for 出生日期", "csny" => "pinyin for 出生年月", "dob" => "English abbreviation of date of birth",
        "birth" => "English for birth", "dateofbirth" => "English for date of birth"];
    Address: Sub ["地址" => "Chinese for address", "住址" => "Chinese for residential address", "住所" => "Chinese for domicile",
        "户籍地" => "Chinese for household registration place", "居住地" => "Chinese for place of residence", "address" => "English for address"];
    Address: Token ["zz" => "pinyin for 住址", "dz" => "pinyin for 地址", "jtzz" => "pinyin for 家庭住址", "hjdz" => "pinyin for 户籍地址",
        "xzz" => "pinyin for 现住址", "zsxxdz" => "pinyin for 住所详细地址 (traffic police)", "jzdz" => "pinyin for 居住地址", "txdz" => "pinyin for 通讯地址", "zcdz" => "pinyin for 注册地址",
        "jydz" => "pinyin for 经营地址", "hjszd" => "pinyin for 户籍所在地", "jzd" => "pinyin for 居住地", "addr" => "English for address",
        "street" => "English for street"];
    PersonName: Sub ["姓名" => "Chinese for name", "名字" => "Chinese for name", "联系人" => "Chinese for contact person",
        "户主" => "Chinese for head of household", "法定代表人" => "Chinese for legal representative", "法人代表" => "Chinese for legal representative",
        "负责人" => "Chinese for person in charge", "经办人" => "Chinese for handling person", "申请人" => "Chinese for applicant",
        "收件人" => "Chinese for recipient", "患者" => "Chinese for patient", "监护人" => "Chinese for guardian"];
    PersonName: Token ["xm" => "pinyin for 姓名", "xingming" => "pinyin for 姓名", "hzxm" => "pinyin for 户主姓名", "frxm" => "pinyin for 法人姓名",
        "lxr" => "pinyin for 联系人", "lxrxm" => "pinyin for 联系人姓名", "fddbr" => "pinyin for 法定代表人", "fzr" => "pinyin for 负责人",
        "jbr" => "pinyin for 经办人", "sqr" => "pinyin for 申请人", "sqrxm" => "pinyin for 申请人姓名", "jhr" => "pinyin for 监护人",
        "syr" => "pinyin for 所有人 (vehicle owner, traffic police)", "syrxm" => "pinyin for 所有人姓名",
        "fullname" => "English for full name", "realname" => "English for real name", "personname" => "English for person name",
        "firstname" => "English for first name", "lastname" => "English for last name", "surname" => "English for surname",
        "contactname" => "English for contact name", "customername" => "English for customer name", "patientname" => "English for patient name",
        "ownername" => "English for owner name", "holdername" => "English for holder name", "name" => "English for name"];
    Gender: Sub ["性别" => "Chinese for sex"];
    Gender: Token ["xb" => "pinyin for 性别", "gender" => "English for gender", "sex" => "English for sex"];
    Ethnicity: Sub ["民族" => "Chinese for ethnic group"];
    Ethnicity: Token ["mz" => "pinyin for 民族", "minzu" => "pinyin for 民族", "ethnicity" => "English for ethnicity", "ethnic" => "English for ethnic group",
        "race" => "English for race"];
    HealthInfo: Sub ["健康" => "Chinese for health", "病历" => "Chinese for medical record", "诊断" => "Chinese for diagnosis",
        "病史" => "Chinese for medical history", "疾病" => "Chinese for disease", "病情" => "Chinese for condition", "体检" => "Chinese for medical examination",
        "过敏" => "Chinese for allergy", "残疾" => "Chinese for disability", "传染病" => "Chinese for infectious disease", "就诊" => "Chinese for medical visit",
        "用药" => "Chinese for medication", "处方" => "Chinese for prescription", "血型" => "Chinese for blood type", "病案" => "Chinese for case record",
        "diagnosis" => "English for diagnosis", "medical" => "English for medical", "disease" => "English for disease", "health" => "English for health"];
    HealthInfo: Token ["jkzk" => "pinyin for 健康状况", "zdjg" => "pinyin for 诊断结果", "jbs" => "pinyin for 疾病史", "allergy" => "English for allergy",
        "illness" => "English for illness", "bloodtype" => "English for blood type"];
    ReligiousBelief: Sub ["宗教" => "Chinese for religion", "信仰" => "Chinese for belief", "religion" => "English for religion"];
    ReligiousBelief: Token ["zjxy" => "pinyin for 宗教信仰", "faith" => "English for faith"];
    CriminalRecord: Sub ["犯罪" => "Chinese for crime", "前科" => "Chinese for prior conviction", "违法记录" => "Chinese for offence record",
        "刑事" => "Chinese for criminal", "服刑" => "Chinese for serving a sentence", "案底" => "Chinese for criminal record",
        "criminal" => "English for criminal", "conviction" => "English for conviction"];
    CriminalRecord: Token ["fzjl" => "pinyin for 犯罪记录", "wfjl" => "pinyin for 违法记录", "qk" => "pinyin for 前科", "crime" => "English for crime"];
    SexualOrientation: Sub ["性取向" => "Chinese for sexual orientation", "sexualorientation" => "English for sexual orientation"];
    SexualOrientation: Token ["xqx" => "pinyin for 性取向", "orientation" => "English for orientation"];
    MaritalHistory: Sub ["婚姻" => "Chinese for marriage", "婚史" => "Chinese for marital history", "婚否" => "Chinese for married or not",
        "离婚" => "Chinese for divorce", "marital" => "English for marital", "marriage" => "English for marriage"];
    MaritalHistory: Token ["hyzk" => "pinyin for 婚姻状况", "hyzt" => "pinyin for 婚姻状态"];
    Biometric: Sub ["指纹" => "Chinese for fingerprint", "人脸" => "Chinese for face", "面部" => "Chinese for face", "虹膜" => "Chinese for iris",
        "声纹" => "Chinese for voiceprint", "掌纹" => "Chinese for palm print", "基因" => "Chinese for gene", "生物特征" => "Chinese for biometric",
        "fingerprint" => "English for fingerprint", "biometric" => "English for biometric", "voiceprint" => "English for voiceprint"];
    Biometric: Token ["zw" => "pinyin for 指纹", "rlzp" => "pinyin for 人脸照片", "iris" => "English for iris", "face" => "English for face",
        "faceimage" => "English for face image", "dna" => "English for DNA"];
    PropertyInfo: Sub ["收入" => "Chinese for income", "存款" => "Chinese for deposit", "工资" => "Chinese for wage", "薪资" => "Chinese for salary",
        "薪酬" => "Chinese for pay", "资产" => "Chinese for assets", "房产" => "Chinese for real estate", "余额" => "Chinese for balance",
        "财产" => "Chinese for property", "征信" => "Chinese for credit record", "贷款" => "Chinese for loan", "负债" => "Chinese for debt",
        "salary" => "English for salary", "income" => "English for income", "deposit" => "English for deposit"];
    PropertyInfo: Token ["ckye" => "pinyin for 存款余额", "gz" => "pinyin for 工资", "nsr" => "pinyin for 年收入", "ysr" => "pinyin for 月收入",
        "balance" => "English for balance", "wage" => "English for wage", "assets" => "English for assets", "loan" => "English for loan"];
    Credential: Sub ["密码" => "Chinese for password", "口令" => "Chinese for password", "密钥" => "Chinese for key", "私钥" => "Chinese for private key",
        "令牌" => "Chinese for token", "password" => "English for password", "passwd" => "English for password", "secret" => "English for secret",
        "apikey" => "English for API key", "privatekey" => "English for private key", "accesskey" => "English for access key"];
    Credential: Token ["pwd" => "English abbreviation of password", "mm" => "pinyin for 密码", "token" => "English for token",
        "secretkey" => "English for secret key", "salt" => "English for password salt", "hash" => "English for password hash"];
};

/// Bare "account number" cues of [`DataType::BankCard`]; see [`NON_BANK_ACCOUNT_QUALIFIERS`].
const ACCOUNT_PATTERNS: &[&str] = &["账号"];

/// Words that, right before 账号, make it a login or platform account (用户账号, 登录账号,
/// 微信账号), not a bank account: such a column is typed by its values, not by its name.
const NON_BANK_ACCOUNT_QUALIFIERS: &[&str] = &[
    "用户",
    "登录",
    "登陆",
    "系统",
    "会员",
    "平台",
    "网站",
    "网络",
    "微信",
    "qq",
    "邮箱",
    "游戏",
    "注册",
    "管理员",
    "操作员",
    "员工",
    "工作人员",
];

/// English tokens that, before `name`, make it a person's name (`contact_name`,
/// `user_name` is an account, not a person, so it is not here).
const PERSON_NAME_PREFIXES: &[&str] = &[
    "person",
    "contact",
    "customer",
    "patient",
    "owner",
    "holder",
    "applicant",
    "real",
    "full",
    "first",
    "last",
    "given",
    "family",
    "middle",
    "emp",
    "employee",
    "student",
    "teacher",
    "citizen",
    "resident",
    "member",
    "legal",
    "guardian",
    "driver",
    "parent",
    "spouse",
    "cardholder",
    "account",
    "payee",
    "payer",
];

/// Placeholders that mean "no value" in government exports.
const DIRTY: &[&str] = &[
    "无",
    "不详",
    "未知",
    "暂无",
    "空",
    "未填",
    "未填写",
    "不明",
    "其他",
    "null",
    "NULL",
    "Null",
    "none",
    "None",
    "NONE",
    "nil",
    "nan",
    "NaN",
    "N/A",
    "n/a",
    "NA",
    "na",
    "#N/A",
    "-",
    "--",
    "---",
    "—",
    "/",
    "\\N",
    "0",
    "?",
    "？",
    "x",
    "X",
];

fn is_dirty(s: &str) -> bool {
    // Placeholders are short; the length test keeps long values off the list scan.
    s.is_empty()
        || (s.len() <= 12 && DIRTY.contains(&s))
        || s.bytes().all(|c| c == b'*' || c == b'-' || c == b'0')
}

/// Lower-cased tokens of a column name, split on separators and camelCase; the joined
/// lower-case form (no separators) and the lower-cased original are returned too.
fn tokens(name: &str) -> (Vec<String>, String, String) {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                toks.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        } else {
            if !cur.is_empty() {
                toks.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
        }
    }
    if !cur.is_empty() {
        toks.push(cur);
    }
    // Trailing digits (`xm1`, `phone2`) do not change meaning.
    for t in &mut toks {
        while t.len() > 1 && t.ends_with(|c: char| c.is_ascii_digit()) {
            t.pop();
        }
    }
    let joined: String = toks.concat();
    (toks, joined, name.to_lowercase())
}

/// The name cue for a column: the type, the matched text and what it means. When several
/// rules match, the one ending last wins (the head noun comes last: `联系人电话` is a phone,
/// `contact_name` is a name), ties going to the longer match.
fn name_cue(name: &str) -> Option<(DataType, String, &'static str)> {
    let (toks, joined, lower) = tokens(name);
    let mut best: Option<(usize, usize, &NameRule, String)> = None; // (end, len, rule, matched)
    let mut consider = |end: usize, len: usize, rule: &'static NameRule, matched: String| {
        let better = match &best {
            None => true,
            Some((be, bl, _, _)) => end > *be || (end == *be && len > *bl),
        };
        if better {
            best = Some((end, len, rule, matched));
        }
    };
    for rule in NAME_RULES {
        match rule.how {
            Match::Sub => {
                if let Some(p) = lower.rfind(rule.pat) {
                    if rule.t == DataType::BankCard
                        && ACCOUNT_PATTERNS.contains(&rule.pat)
                        && NON_BANK_ACCOUNT_QUALIFIERS
                            .iter()
                            .any(|q| lower[..p].ends_with(q))
                    {
                        continue;
                    }
                    consider(
                        p + rule.pat.len(),
                        rule.pat.len(),
                        rule,
                        rule.pat.to_string(),
                    );
                }
            }
            Match::Token => {
                // Token positions are measured in the joined string, scaled to `lower` by
                // comparing ends relative to the token sequence.
                let mut pos = 0;
                for (k, t) in toks.iter().enumerate() {
                    pos += t.len();
                    if t == rule.pat {
                        if rule.pat == "name"
                            && !(toks.len() == 1
                                || (k > 0 && PERSON_NAME_PREFIXES.contains(&toks[k - 1].as_str())))
                        {
                            continue;
                        }
                        consider(
                            scaled_end(pos, joined.len(), lower.len()),
                            rule.pat.len(),
                            rule,
                            t.clone(),
                        );
                    }
                }
                // Joined compound forms (`id_card` → `idcard`, `phone_no` → `phoneno`).
                if rule.pat.len() >= 5 && toks.len() > 1 {
                    if let Some(p) = joined.rfind(rule.pat) {
                        consider(
                            scaled_end(p + rule.pat.len(), joined.len(), lower.len()),
                            rule.pat.len(),
                            rule,
                            rule.pat.to_string(),
                        );
                    }
                }
            }
        }
    }
    best.map(|(_, _, rule, matched)| (rule.t, matched, rule.why))
}

/// Maps an end offset in the joined token string onto the lower-cased name, so that
/// substring and token matches compare on one scale.
fn scaled_end(end: usize, joined_len: usize, lower_len: usize) -> usize {
    (end * lower_len).checked_div(joined_len).unwrap_or(0)
}

/// Types whose values prove themselves with a check digit or a strict format.
fn verifiable(t: DataType) -> bool {
    matches!(
        t,
        DataType::CnResidentId
            | DataType::CnMobile
            | DataType::CnLandline
            | DataType::Email
            | DataType::BankCard
            | DataType::CnUscc
            | DataType::CnOrgCode
            | DataType::CnPassport
            | DataType::CnHkMacaoPermit
            | DataType::CnPlate
            | DataType::Vin
            | DataType::Ipv4
            | DataType::Ipv6
            | DataType::MacAddress
            | DataType::Imei
    )
}

/// Fraction of values that must match for the values alone to decide the type.
fn value_threshold(t: DataType) -> Option<f64> {
    match t {
        DataType::CnResidentId
        | DataType::CnUscc
        | DataType::BankCard
        | DataType::Vin
        | DataType::Imei => Some(0.5),
        DataType::CnMobile
        | DataType::CnLandline
        | DataType::Email
        | DataType::Ipv4
        | DataType::Ipv6
        | DataType::MacAddress
        | DataType::CnPlate
        | DataType::Gps => Some(0.6),
        DataType::CnPassport
        | DataType::CnHkMacaoPermit
        | DataType::CnOrgCode
        | DataType::Address => Some(0.7),
        DataType::PersonName => Some(0.85),
        DataType::Gender => Some(0.9),
        // Dates are everywhere (events, updates): a date column is a birth date only by name.
        _ => None,
    }
}

fn check_name(t: DataType) -> &'static str {
    match t {
        DataType::CnResidentId => "the GB 11643 check",
        DataType::CnMobile => "the mobile number plan check",
        DataType::CnLandline => "the area code check",
        DataType::Email => "the email syntax check",
        DataType::BankCard => "the card shape and Luhn check",
        DataType::CnUscc => "the GB 32100 check",
        DataType::CnOrgCode => "the GB 11714 check",
        DataType::CnPassport => "the passport number format",
        DataType::CnHkMacaoPermit => "the travel permit format",
        DataType::CnPlate => "the GA 36 plate format",
        DataType::Vin => "the ISO 3779 check",
        DataType::Ipv4 => "the IPv4 syntax check",
        DataType::Ipv6 => "the IPv6 syntax check",
        DataType::MacAddress => "the MAC address syntax check",
        DataType::Imei => "the IMEI Luhn check",
        DataType::PersonName => "the Chinese name check (surname + 1-3 characters)",
        DataType::Address => "the address check (administrative and street markers)",
        DataType::BirthDate => "the date-of-birth check",
        DataType::Gps => "the coordinate check",
        DataType::Gender => "the sex value check",
        _ => "no value check (category recognised by name only)",
    }
}

/// Whether the values of a name-cued column of type `name_t` may really be of type `t`
/// (an "电话" column holds mobiles and landlines, a "证件号码" column IDs and passports).
fn compatible(name_t: DataType, t: DataType) -> bool {
    use DataType::*;
    name_t == t
        || matches!(
            (name_t, t),
            (CnMobile, CnLandline)
                | (CnLandline, CnMobile)
                | (Ipv4, Ipv6)
                | (Ipv6, Ipv4)
                | (CnResidentId, CnPassport)
                | (CnResidentId, CnHkMacaoPermit)
                | (CnUscc, CnOrgCode)
                | (CnOrgCode, CnUscc)
        )
}

const N_TYPES: usize = 64;

/// Per-type counts of values matching each type (a value may match several).
struct Tally {
    whole: [u32; N_TYPES],
    contains: [u32; N_TYPES],
    seen: u32,
    dirty: u32,
    card_shape: u32,
    /// Values already masked in a type's layout (`110105********002X`, `138****8000`).
    masked: [u32; N_TYPES],
    /// Distinct values that passed the name check (hashes): a column of people's names
    /// varies, a column repeating 江门 or 正常 does not.
    distinct_names: std::collections::HashSet<u64>,
}

/// Whether the values that look like names vary as names of people do: at least two
/// distinct values and one distinct value per five matches.
fn names_vary(tally: &Tally) -> bool {
    let k = tally.whole[DataType::PersonName as usize] as usize;
    let d = tally.distinct_names.len();
    d >= 2 && d * 5 >= k
}

fn value_types(s: &str, mut hit: impl FnMut(DataType)) {
    if !s.is_ascii() {
        // Han text: plates, dates written with 年月日, sex, names, addresses.
        if s.len() <= 16 && v::cn_plate(s) {
            hit(DataType::CnPlate);
        }
        if v::birth_date(s) {
            hit(DataType::BirthDate);
        }
        if matches!(s, "男" | "女" | "男性" | "女性") {
            hit(DataType::Gender);
        }
        if s.len() <= 12 && is_person_name(s) {
            hit(DataType::PersonName);
        }
        if s.len() >= 18 && is_cued_free_address(s) {
            hit(DataType::Address);
        }
        return;
    }
    let b = s.as_bytes();
    if v::id18_bytes(b) || v::id15_bytes(b) {
        hit(DataType::CnResidentId);
    }
    if v::cn_mobile(s) {
        hit(DataType::CnMobile);
    }
    if matches!(b.first(), Some(b'0' | b'(')) && v::cn_landline(s) {
        hit(DataType::CnLandline);
    }
    if b.contains(&b'@') && v::email(s) {
        hit(DataType::Email);
    }
    if v::bank_card(s) {
        hit(DataType::BankCard);
    }
    if b.len() == 18 && v::uscc_bytes(b) {
        hit(DataType::CnUscc);
    }
    if v::cn_org_code(s) {
        hit(DataType::CnOrgCode);
    }
    if v::passport_bytes(b) {
        hit(DataType::CnPassport);
    }
    if v::permit_bytes(b) {
        hit(DataType::CnHkMacaoPermit);
    }
    if b.len() >= 7 && b.len() <= 16 && !b[0].is_ascii() && v::cn_plate(s) {
        hit(DataType::CnPlate);
    }
    if b.len() == 17 && v::vin_bytes(b) {
        hit(DataType::Vin);
    }
    if v::ipv4(s) {
        hit(DataType::Ipv4);
    } else if v::ipv6(s) {
        hit(DataType::Ipv6);
    }
    if v::mac_address(s) {
        hit(DataType::MacAddress);
    }
    if b.len() == 15 && v::imei(s) {
        hit(DataType::Imei);
    }
    if v::birth_date(s) || v::birth_date(s.split([' ', 'T']).next().unwrap_or("")) {
        hit(DataType::BirthDate);
    }
    if is_coordinate_value(s) {
        hit(DataType::Gps);
    }
    if matches!(
        s,
        "男" | "女" | "男性" | "女性" | "M" | "F" | "male" | "female" | "Male" | "Female"
    ) {
        hit(DataType::Gender);
    }
    if is_person_name(s) {
        hit(DataType::PersonName);
    }
    if is_cued_free_address(s) {
        hit(DataType::Address);
    }
}

/// The type whose layout a partly masked value keeps: `110105********002X` (ID, 6 + 4
/// kept), `138****8000` (mobile, 3 + 4 kept), `621226*********0128` (card). At least a
/// third of the characters must be `*` and the visible ones must fit the layout.
fn masked_type(s: &str) -> Option<DataType> {
    let b = s.as_bytes();
    let stars = b.iter().filter(|&&c| c == b'*').count();
    if stars == 0
        || stars * 3 < b.len()
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || *c == b'*' || *c == b'X' || *c == b'x')
    {
        return None;
    }
    let visible_ok = |head: usize| b[..head.min(b.len())].iter().all(u8::is_ascii_digit);
    match b.len() {
        18 if visible_ok(2)
            && v::province_ok(u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0')) =>
        {
            Some(DataType::CnResidentId)
        }
        15 if visible_ok(2)
            && v::province_ok(u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0')) =>
        {
            Some(DataType::CnResidentId)
        }
        11 if b[0] == b'1' && visible_ok(3) && b[3..].contains(&b'*') => Some(DataType::CnMobile),
        16..=19 if visible_ok(4) && matches!(b[0], b'3'..=b'6' | b'9') => Some(DataType::BankCard),
        _ => None,
    }
}

/// A whole value that looks like an address: starts with a Han character, has an
/// administrative level and a street/building marker.
fn is_cued_free_address(s: &str) -> bool {
    let n = s.chars().count();
    (6..=80).contains(&n)
        && s.chars()
            .next()
            .is_some_and(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
        && crate::lexicon::ADDRESS_LEVEL_MARKERS
            .iter()
            .any(|m| s.contains(m))
        && crate::lexicon::ADDRESS_DETAIL_MARKERS
            .iter()
            .any(|m| s.contains(m))
}

/// "lat,lng" pairs (a single decimal is only a coordinate by the column name).
fn is_coordinate_value(s: &str) -> bool {
    let Some((a, b)) = s.split_once([',', ' ', '/']) else {
        return false;
    };
    let parse = |x: &str| -> Option<f64> {
        let x = x.trim();
        let frac = x.split_once('.')?.1;
        (frac.len() >= 4 && frac.bytes().all(|c| c.is_ascii_digit())).then_some(())?;
        x.parse().ok()
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => {
            (a.abs() <= 90.0 && b.abs() <= 180.0) || (a.abs() <= 180.0 && b.abs() <= 90.0)
        }
        _ => false,
    }
}

/// 2–4 Han characters starting with a known surname (single or compound).
fn is_person_name(s: &str) -> bool {
    let n = s.chars().count();
    if !(2..=4).contains(&n)
        || !s
            .chars()
            .all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c) || c == '·')
    {
        return false;
    }
    if crate::lexicon::COMPOUND_SURNAMES
        .iter()
        .any(|c| s.starts_with(c))
    {
        return n >= 3;
    }
    s.chars()
        .next()
        .is_some_and(|c| crate::lexicon::SURNAMES.contains(c))
        && n <= 3
}

/// Undoes two common export artefacts before validation: full-width digits and letters
/// typed with a Chinese input method (`１３８００１３８０００`) and a float suffix added by
/// spreadsheets (`13800138000.0`). Writes into `out` and returns true only if something
/// changed, so clean values are not copied.
fn normalize_value(s: &str, out: &mut String) -> bool {
    let fullwidth = s.chars().any(|c| ('\u{FF01}'..='\u{FF5E}').contains(&c));
    let float_suffix =
        s.len() > 2 && s.ends_with(".0") && s[..s.len() - 2].bytes().all(|c| c.is_ascii_digit());
    if !fullwidth && !float_suffix {
        return false;
    }
    out.clear();
    let body = if float_suffix { &s[..s.len() - 2] } else { s };
    out.extend(body.chars().map(|c| match c {
        // U+FF01..U+FF5E mirror ASCII 0x21..0x7E.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
        _ => c,
    }));
    true
}

impl ColumnClassifier {
    /// Builds the classifier.
    pub fn new() -> Self {
        ColumnClassifier {
            scanner: TextScanner::new(),
        }
    }

    /// Classifies a column from its name and a sample of its values. Blank and placeholder
    /// values (`无`, `不详`, `NULL`, `-` …) are ignored so they cannot flip the decision.
    pub fn classify<'a, I: IntoIterator<Item = &'a str>>(
        &self,
        column_name: &str,
        values: I,
    ) -> ColumnVerdict {
        let mut tally = Tally {
            whole: [0; N_TYPES],
            contains: [0; N_TYPES],
            seen: 0,
            dirty: 0,
            card_shape: 0,
            masked: [0; N_TYPES],
            distinct_names: std::collections::HashSet::new(),
        };
        let mut findings = Vec::new();
        let mut scratch = String::new();
        for raw in values {
            let s =
                raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}');
            if is_dirty(s) {
                tally.dirty += 1;
                continue;
            }
            tally.seen += 1;
            let normalized = normalize_value(s, &mut scratch);
            let s = if normalized { scratch.as_str() } else { s };
            let mut any = false;
            let mut name_like = false;
            value_types(s, |t| {
                tally.whole[t as usize] += 1;
                name_like |= t == DataType::PersonName;
                any = true;
            });
            if name_like {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                s.hash(&mut h);
                tally.distinct_names.insert(h.finish());
            }
            if !any && v::bank_card_shape(s) {
                tally.card_shape += 1;
            }
            if !any {
                if let Some(t) = masked_type(s) {
                    tally.masked[t as usize] += 1;
                    continue;
                }
            }
            if !any && s.len() > 8 {
                // Free text: count the identifiers it contains.
                self.scanner.scan_into(s, &mut findings);
                let mut seen_types = [false; N_TYPES];
                for f in &findings {
                    if f.confidence >= REPORT_CONFIDENCE {
                        seen_types[f.data_type as usize] = true;
                    }
                }
                for (k, hit) in seen_types.iter().enumerate() {
                    if *hit {
                        tally.contains[k] += 1;
                    }
                }
            }
        }
        decide(column_name, &tally)
    }
}

fn decide(column_name: &str, tally: &Tally) -> ColumnVerdict {
    let seen = tally.seen as usize;
    let frac = |t: DataType| {
        if seen == 0 {
            0.0
        } else {
            f64::from(tally.whole[t as usize]) / seen as f64
        }
    };
    let dirty_note = if tally.dirty > 0 {
        format!(" ({} blank/placeholder values ignored)", tally.dirty)
    } else {
        String::new()
    };
    // The value type with the largest share, earlier catalogue entries winning ties.
    let best_value = DataType::all()
        .iter()
        .copied()
        .filter(|t| tally.whole[*t as usize] > 0)
        .max_by(|a, b| {
            tally.whole[*a as usize]
                .cmp(&tally.whole[*b as usize])
                .then((*b as usize).cmp(&(*a as usize)))
        });
    let verdict =
        |t: Option<DataType>, confidence: f64, matched: u32, reason: String| ColumnVerdict {
            data_type: t,
            confidence: confidence.clamp(0.0, 1.0) as f32,
            reason: format!("{reason}{dirty_note}"),
            values_seen: seen,
            values_matched: matched as usize,
        };

    if let Some((t, matched_text, why)) = name_cue(column_name) {
        let cue = format!("name '{column_name}' matches '{matched_text}' ({why})");
        if seen == 0 {
            return verdict(
                Some(t),
                0.7,
                0,
                format!("{cue}; no non-empty values to check"),
            );
        }
        let f = frac(t);
        let k = tally.whole[t as usize];
        // Values of a strongly verifiable type that the name did not announce override it.
        if let Some(u) = best_value {
            let fu = frac(u);
            if u != t && verifiable(u) && fu >= 0.8 && f < 0.5 {
                let reason = if compatible(t, u) {
                    format!(
                        "{cue}; {}/{seen} non-empty values pass {} ({})",
                        tally.whole[u as usize],
                        check_name(u),
                        u.id()
                    )
                } else {
                    format!(
                        "{cue}, but {}/{seen} non-empty values pass {} ({}): the values decide",
                        tally.whole[u as usize],
                        check_name(u),
                        u.id()
                    )
                };
                return verdict(Some(u), 0.5 + 0.45 * fu, tally.whole[u as usize], reason);
            }
        }
        if f >= 0.5 {
            return verdict(
                Some(t),
                0.9 + 0.1 * f,
                k,
                format!("{cue}; {k}/{seen} non-empty values pass {}", check_name(t)),
            );
        }
        let masked = tally.masked[t as usize];
        if verifiable(t) && masked > 0 && 2 * (k + masked) as usize >= seen {
            let reason = format!(
                "{cue}; {masked}/{seen} non-empty values are already masked in its layout (e.g. 110105********002X) and {k}/{seen} pass {}",
                check_name(t)
            );
            return verdict(Some(t), 0.8, k + masked, reason);
        }
        if verifiable(t) {
            let reason = format!(
                "{cue}; only {k}/{seen} non-empty values pass {} (masked, test or malformed data?): kept by name",
                check_name(t)
            );
            return verdict(Some(t), 0.6, k, reason);
        }
        // Name-only categories and weakly checkable types: the name decides.
        let conf = if t.is_name_only() {
            0.85
        } else {
            0.75 + 0.2 * f
        };
        let detail = if t.is_name_only() {
            format!("{seen} values seen; {}", check_name(t))
        } else {
            format!("{k}/{seen} non-empty values pass {}", check_name(t))
        };
        return verdict(Some(t), conf, k, format!("{cue}; {detail}"));
    }

    if seen == 0 {
        return verdict(
            None,
            0.5,
            0,
            format!("name '{column_name}' gives no cue and there are no non-empty values"),
        );
    }
    if let Some(u) = best_value.filter(|u| *u != DataType::PersonName || names_vary(tally)) {
        let fu = frac(u);
        if let Some(th) = value_threshold(u) {
            if fu >= th {
                let k = tally.whole[u as usize];
                let base = if verifiable(u) { 0.55 } else { 0.4 };
                return verdict(
                    Some(u),
                    base + (1.0 - base) * fu,
                    k,
                    format!(
                        "name '{column_name}' gives no cue; {k}/{seen} non-empty values pass {}",
                        check_name(u)
                    ),
                );
            }
        }
    }
    // Values masked in a type's layout: still that type (the grade decides what masking buys).
    if let Some(u) = DataType::all()
        .iter()
        .copied()
        .max_by_key(|t| tally.masked[*t as usize])
    {
        let k = tally.masked[u as usize];
        if k > 0 && f64::from(k) / seen as f64 >= 0.6 {
            return verdict(
                Some(u),
                0.7,
                k,
                format!("name '{column_name}' gives no cue; {k}/{seen} non-empty values are {} values already masked in its layout", u.id()),
            );
        }
    }
    // Free text containing identifiers.
    let contained = DataType::all()
        .iter()
        .copied()
        .filter(|t| tally.contains[*t as usize] > 0)
        .max_by_key(|t| tally.contains[*t as usize]);
    if let Some(u) = contained {
        let k = tally.contains[u as usize];
        let fu = f64::from(k) / seen as f64;
        if fu >= 0.3 {
            return verdict(
                Some(u),
                0.5 + 0.4 * fu,
                k,
                format!("name '{column_name}' gives no cue; {k}/{seen} non-empty values contain a {} ({})", u.label(), u.id()),
            );
        }
    }
    let best = match best_value {
        Some(u) => format!("best: {} {}/{seen}", u.id(), tally.whole[u as usize]),
        None => "no value matched any type".to_string(),
    };
    let card_note = if tally.card_shape > 0 {
        format!("; {} card-shaped values fail Luhn", tally.card_shape)
    } else {
        String::new()
    };
    verdict(None, 0.8, 0, format!("name '{column_name}' gives no cue; values decide nothing sensitive ({best}{card_note})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, values: &[&str]) -> ColumnVerdict {
        ColumnClassifier::new().classify(name, values.iter().copied())
    }

    #[test]
    fn a_column_repeating_one_name_like_word_is_not_names() {
        let c = ColumnClassifier::new();
        let v = c.classify("city", std::iter::repeat_n("江门", 40));
        assert_ne!(v.data_type, Some(DataType::PersonName), "{}", v.reason);
        let v = c.classify(
            "c1",
            [
                "正常", "注销", "正常", "正常", "注销", "正常", "正常", "正常", "注销", "正常",
                "正常", "正常",
            ],
        );
        assert_ne!(v.data_type, Some(DataType::PersonName), "{}", v.reason);
        // Real names vary, even with repeats; and a name cue still decides on its own.
        let names = [
            "王伟", "李芳", "张娜", "王伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰",
        ];
        let v = c.classify("c2", names);
        assert_eq!(v.data_type, Some(DataType::PersonName), "{}", v.reason);
        let v = c.classify("姓名", std::iter::repeat_n("王伟", 20));
        assert_eq!(v.data_type, Some(DataType::PersonName), "{}", v.reason);
    }

    #[test]
    fn login_accounts_are_not_bank_cards_by_name() {
        for name in ["用户账号", "登录账号", "微信账号", "QQ账号", "系统账号"] {
            assert_ne!(
                name_cue(name).map(|c| c.0),
                Some(DataType::BankCard),
                "{name}"
            );
        }
        for name in ["账号", "银行账号", "开户账号", "收款账号", "缴费银行账号"]
        {
            assert_eq!(
                name_cue(name).map(|c| c.0),
                Some(DataType::BankCard),
                "{name}"
            );
        }
    }

    #[test]
    fn name_cues() {
        let cases = [
            ("sfzh", DataType::CnResidentId),
            ("GMSFHM", DataType::CnResidentId),
            ("身份证号码", DataType::CnResidentId),
            ("id_card", DataType::CnResidentId),
            ("xm", DataType::PersonName),
            ("hzxm", DataType::PersonName),
            ("contact_name", DataType::PersonName),
            ("姓名", DataType::PersonName),
            ("sjhm", DataType::CnMobile),
            ("lxdh", DataType::CnMobile),
            ("联系人电话", DataType::CnMobile),
            ("hphm", DataType::CnPlate),
            ("syr", DataType::PersonName),
            ("sfzmhm", DataType::CnResidentId),
            ("zsxxdz", DataType::Address),
            ("clsbdh", DataType::Vin),
            ("csrq", DataType::BirthDate),
            ("xb", DataType::Gender),
            ("mz", DataType::Ethnicity),
            ("zz", DataType::Address),
            ("dz", DataType::Address),
            ("jtzz", DataType::Address),
            ("yx", DataType::Email),
            ("email", DataType::Email),
            ("yhkh", DataType::BankCard),
            ("tyshxydm", DataType::CnUscc),
            ("zzjgdm", DataType::CnOrgCode),
            ("病历摘要", DataType::HealthInfo),
            ("诊断结果", DataType::HealthInfo),
            ("宗教信仰", DataType::ReligiousBelief),
            ("犯罪记录", DataType::CriminalRecord),
            ("有无前科", DataType::CriminalRecord),
            ("性取向", DataType::SexualOrientation),
            ("婚姻状况", DataType::MaritalHistory),
            ("民族", DataType::Ethnicity),
            ("指纹特征", DataType::Biometric),
            ("人脸照片", DataType::Biometric),
            ("月收入", DataType::PropertyInfo),
            ("存款余额", DataType::PropertyInfo),
            ("登录密码", DataType::Credential),
            ("password_hash", DataType::Credential),
            ("userPhone", DataType::CnMobile),
            ("clientIp", DataType::Ipv4),
        ];
        for (name, want) in cases {
            let v = c(name, &[]);
            assert_eq!(v.data_type, Some(want), "{name}: {}", v.reason);
            assert!(v.reason.contains(name), "{}", v.reason);
        }
        for name in [
            "xmmc",
            "table_name",
            "file_name",
            "id",
            "remark",
            "create_time",
            "项目名称",
            "status",
            "mc",
        ] {
            assert_eq!(c(name, &[]).data_type, None, "{name}");
        }
    }

    #[test]
    fn values_decide_when_name_is_silent() {
        let ids = [
            "11010519491231002X",
            "440524188001010014",
            "53010219200508011X",
            "360426199101010071",
        ];
        let v = c("col_a", &ids);
        assert_eq!(v.data_type, Some(DataType::CnResidentId), "{}", v.reason);
        assert_eq!((v.values_seen, v.values_matched), (4, 4));
        assert!(
            v.reason.contains("4/4") && v.reason.contains("GB 11643"),
            "{}",
            v.reason
        );

        let v = c(
            "f3",
            &["13800138000", "13912345678", "无", "", "不详", "NULL", "-"],
        );
        assert_eq!(v.data_type, Some(DataType::CnMobile), "{}", v.reason);
        assert_eq!(v.values_seen, 2);
        assert!(v.reason.contains("5 blank/placeholder"), "{}", v.reason);

        let v = c("field1", &["hello", "world", "12345"]);
        assert_eq!(v.data_type, None, "{}", v.reason);
        let v = c("f", &["张伟", "王芳", "李娜", "刘洋", "陈静"]);
        assert_eq!(v.data_type, Some(DataType::PersonName), "{}", v.reason);
        let v = c(
            "f",
            &["北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号"],
        );
        assert_eq!(v.data_type, Some(DataType::Address), "{}", v.reason);
        let v = c(
            "备注",
            &[
                "客户身份证11010519491231002X已核验",
                "电话13800138000",
                "无",
            ],
        );
        assert!(v.data_type.is_some(), "{}", v.reason);
    }

    #[test]
    fn dirty_values_do_not_flip() {
        let mut vals = vec!["11010519491231002X"; 10];
        vals.extend(["无"; 50]);
        vals.extend(["不详"; 50]);
        vals.extend([""; 50]);
        let v = c("zjhm", &vals);
        assert_eq!(v.data_type, Some(DataType::CnResidentId));
        assert_eq!(v.values_seen, 10);
        assert!(v.confidence > 0.9, "{}", v.reason);
    }

    #[test]
    fn values_override_a_misleading_name() {
        let v = c(
            "lxdh",
            &[
                "11010519491231002X",
                "440524188001010014",
                "53010219200508011X",
            ],
        );
        assert_eq!(v.data_type, Some(DataType::CnResidentId), "{}", v.reason);
        assert!(v.reason.contains("values decide"), "{}", v.reason);
        // A phone-named column of landlines stays a phone type.
        let v = c("联系电话", &["010-62345678", "0755-82345678"]);
        assert_eq!(v.data_type, Some(DataType::CnLandline), "{}", v.reason);
    }

    #[test]
    fn export_artefacts_are_undone() {
        let v = c(
            "f",
            &[
                "１３８００１３８０００",
                "13912345678.0",
                "１１０１０５１９４９１２３１００２Ｘ",
            ],
        );
        assert_eq!(v.data_type, Some(DataType::CnMobile), "{}", v.reason);
        assert_eq!(v.values_matched, 2, "{}", v.reason);
        let mut out = String::new();
        assert!(!normalize_value("13800138000", &mut out));
        assert!(!normalize_value("1.0", &mut out) || out == "1");
    }

    #[test]
    fn name_kept_when_values_are_masked() {
        let v = c("sfzh", &["110105********002X", "440524********0014"]);
        assert_eq!(v.data_type, Some(DataType::CnResidentId));
        assert!(
            v.confidence < 0.9 && v.reason.contains("0/2"),
            "{}",
            v.reason
        );
    }
}
