//! Validators for whole values: each function answers "is this string, on its own, a
//! well-formed identifier of this kind?" Check-digit algorithms follow the national
//! standards summarised in `shared/standards/README.md` ("Identifier validation").
//!
//! Validators trim nothing (callers pass exactly the candidate), except that the phone and
//! card validators ignore surrounding whitespace. Separators that the
//! format allows (`+86 138-0013-8000`, `D2143569-X`, `京A·12345`) are accepted where noted.

use std::sync::OnceLock;

/// Province-level prefixes of administrative division codes (GB/T 2260), plus 71 (Taiwan),
/// 81/82 (Hong Kong/Macao residence permits) and 83 (Taiwan residence permits, 830000).
pub(crate) fn province_ok(p: u32) -> bool {
    matches!(p, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82 | 83)
}

/// Today's date (UTC) as `yyyymmdd`, computed once: birth dates after today are not real.
pub(crate) fn today_yyyymmdd() -> u32 {
    static TODAY: OnceLock<u32> = OnceLock::new();
    *TODAY.get_or_init(|| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let (y, m, d) = shuan_calendar::civil_from_days((secs / 86_400) as i64);
        y as u32 * 10_000 + m * 100 + d
    })
}

/// A real calendar date between 1800-01-01 and today (inclusive): the standard examples include people born in 1880.
pub(crate) fn birth_date_ok(y: u32, m: u32, d: u32) -> bool {
    if !(1800..=9999).contains(&y) || d == 0 || d > shuan_calendar::days_in_month(i64::from(y), m) {
        return false;
    }
    y * 10_000 + m * 100 + d <= today_yyyymmdd()
}

fn digits_value(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The GB 11643 check character (ISO 7064 MOD 11-2) of the first 17 digits, or `None`
/// if they are not 17 ASCII digits.
pub fn cn_resident_id_check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (&c, w) in first17.iter().zip(ID_WEIGHTS) {
        if !c.is_ascii_digit() {
            return None;
        }
        sum += u32::from(c - b'0') * w;
    }
    Some(ID_CHECK[(sum % 11) as usize])
}

/// 18-digit 公民身份号码 (GB 11643-1999): valid province prefix, a real birth date and a
/// matching check character (`x` accepted as `X`).
pub fn cn_resident_id_18(s: &str) -> bool {
    id18_bytes(s.as_bytes())
}

pub(crate) fn id18_bytes(b: &[u8]) -> bool {
    if b.len() != 18 {
        return false;
    }
    let Some(check) = cn_resident_id_check_char(&b[..17]) else {
        return false;
    };
    if b[17].to_ascii_uppercase() != check {
        return false;
    }
    id_prefix_and_date_ok(b, 6, 8)
}

/// Region prefix and birth date of an 18-digit (`date_len` 8) or 15-digit (`date_len` 6)
/// number; `b` must start with ASCII digits.
pub(crate) fn id_prefix_and_date_ok(b: &[u8], date_at: usize, date_len: usize) -> bool {
    let Some(p) = digits_value(&b[..2]) else {
        return false;
    };
    if !province_ok(p) {
        return false;
    }
    let (y, m, d) = if date_len == 8 {
        (
            digits_value(&b[date_at..date_at + 4]),
            digits_value(&b[date_at + 4..date_at + 6]),
            digits_value(&b[date_at + 6..date_at + 8]),
        )
    } else {
        (
            digits_value(&b[date_at..date_at + 2]).map(|y| 1900 + y),
            digits_value(&b[date_at + 2..date_at + 4]),
            digits_value(&b[date_at + 4..date_at + 6]),
        )
    };
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) => birth_date_ok(y, m, d),
        _ => false,
    }
}

/// 15-digit legacy 身份证号 (issued before 1999): province prefix and a real 19YY birth
/// date. It has no check digit, so this is weaker evidence than the 18-digit form.
pub fn cn_resident_id_15(s: &str) -> bool {
    id15_bytes(s.as_bytes())
}

pub(crate) fn id15_bytes(b: &[u8]) -> bool {
    b.len() == 15 && b.iter().all(u8::is_ascii_digit) && id_prefix_and_date_ok(b, 6, 6)
}

/// 18-digit or 15-digit resident identity number.
pub fn cn_resident_id(s: &str) -> bool {
    cn_resident_id_18(s) || cn_resident_id_15(s)
}

/// 11 ASCII digits matching the mainland mobile number plan (libphonenumber CN):
/// `1740[0-5]\d{6}|1(?:[38]\d|4[57]|[59][0-35-9]|6[25-7]|7[0-35-8])\d{8}`.
pub(crate) fn mobile_digits(b: &[u8]) -> bool {
    if b.len() != 11 || b[0] != b'1' || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let (c2, c3) = (b[1], b[2]);
    match c2 {
        b'3' | b'8' => true,
        b'4' => matches!(c3, b'5' | b'7'),
        b'5' | b'9' => c3 != b'4',
        b'6' => matches!(c3, b'2' | b'5' | b'6' | b'7'),
        b'7' => match c3 {
            b'4' => b[3] == b'0' && (b'0'..=b'5').contains(&b[4]),
            b'9' => false,
            _ => true,
        },
        _ => false,
    }
}

/// Collects the ASCII digits of `s` into `buf` if `s` holds only digits and the allowed
/// separators (space, `-`); returns the digit count or `None`.
fn collect_digits(s: &[u8], buf: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    for &c in s {
        match c {
            b'0'..=b'9' => {
                if n == buf.len() {
                    return None;
                }
                buf[n] = c;
                n += 1;
            }
            b' ' | b'-' => {}
            _ => return None,
        }
    }
    Some(n)
}

/// Mainland mobile number, optionally with `+86`/`0086`/`86` prefix and space or `-`
/// separators: `13800138000`, `+86 138-0013-8000`, `0086 13800138000`.
pub fn cn_mobile(s: &str) -> bool {
    let b = s.trim().as_bytes();
    let (b, had_plus) = match b.strip_prefix(b"+") {
        Some(rest) => (rest, true),
        None => (b, false),
    };
    if b.first().is_some_and(|c| !c.is_ascii_digit())
        || b.last().is_some_and(|c| !c.is_ascii_digit())
    {
        return false;
    }
    let mut buf = [0u8; 16];
    let Some(n) = collect_digits(b, &mut buf) else {
        return false;
    };
    let d = &buf[..n];
    let d = if n == 15 && d.starts_with(b"0086") {
        &d[4..]
    } else if n == 13 && d.starts_with(b"86") {
        &d[2..]
    } else if had_plus {
        return false;
    } else {
        d
    };
    mobile_digits(d)
}

/// Length of the area code at the start of `d` (all digits, starting with 0), if valid:
/// 010 and 02x are 3 digits, 0[3-9]xx are 4 digits.
pub(crate) fn area_code_len(d: &[u8]) -> Option<usize> {
    if d.len() < 3 || d[0] != b'0' {
        return None;
    }
    match d[1] {
        b'1' if d[2] == b'0' => Some(3),
        b'2' => Some(3),
        b'3'..=b'9' if d.len() >= 4 => Some(4),
        _ => None,
    }
}

/// Subscriber number: 7–8 digits not starting with 0 or 1; 3-digit area codes take 8.
pub(crate) fn subscriber_ok(area_len: usize, sub: &[u8]) -> bool {
    let len_ok = if area_len == 3 {
        sub.len() == 8
    } else {
        sub.len() == 7 || sub.len() == 8
    };
    len_ok && matches!(sub.first(), Some(b'2'..=b'9'))
}

/// Landline: area code + subscriber number, written `01012345678`, `010-12345678`,
/// `(0755) 1234567`, optionally with an extension `-801`.
pub fn cn_landline(s: &str) -> bool {
    let b = s.trim().as_bytes();
    let mut digits = [0u8; 24];
    let mut groups: [(usize, usize); 4] = [(0, 0); 4];
    let mut g = 0;
    let mut n = 0;
    let mut in_group = false;
    for &c in b {
        if c.is_ascii_digit() {
            if n == digits.len() {
                return false;
            }
            if !in_group {
                if g == groups.len() {
                    return false;
                }
                groups[g] = (n, n);
                g += 1;
                in_group = true;
            }
            digits[n] = c;
            n += 1;
            groups[g - 1].1 = n;
        } else if matches!(c, b' ' | b'-' | b'(' | b')') {
            in_group = false;
        } else {
            return false;
        }
    }
    let d = &digits[..n];
    match g {
        1 => {
            let Some(a) = area_code_len(d) else {
                return false;
            };
            subscriber_ok(a, &d[a..])
        }
        2 | 3 => {
            let (a0, a1) = groups[0];
            let area = &d[a0..a1];
            if area_code_len(area) != Some(area.len()) {
                return false;
            }
            let (s0, s1) = groups[1];
            if !subscriber_ok(area.len(), &d[s0..s1]) {
                return false;
            }
            g == 2 || (1..=6).contains(&(groups[2].1 - groups[2].0))
        }
        _ => false,
    }
}

fn email_local_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// Length of the longest valid email domain at the start of `b` (labels of
/// `[A-Za-z0-9-]` separated by dots, at least two labels, a final alphabetic TLD of ≥ 2
/// letters), or 0.
pub(crate) fn email_domain_len(b: &[u8]) -> usize {
    let mut i = 0;
    let mut best = 0;
    let mut labels = 0;
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') && i - start < 63 {
            i += 1;
        }
        let label = &b[start..i];
        if label.is_empty() || label[0] == b'-' || label[label.len() - 1] == b'-' {
            return best;
        }
        labels += 1;
        if labels >= 2 && label.len() >= 2 && label.iter().all(u8::is_ascii_alphabetic) {
            best = i;
        }
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_alphanumeric() {
            i += 1;
        } else {
            return best;
        }
    }
}

/// Email address `local@domain.tld` (practical subset of RFC 5322: no quoted local parts).
pub fn email(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(at) = memchr::memchr(b'@', b) else {
        return false;
    };
    let local = &b[..at];
    if local.is_empty()
        || local.len() > 64
        || !local.iter().all(|&c| email_local_char(c))
        || local[0] == b'.'
        || local[local.len() - 1] == b'.'
        || local.windows(2).any(|w| w == b"..")
    {
        return false;
    }
    let domain = &b[at + 1..];
    !domain.is_empty() && email_domain_len(domain) == domain.len()
}

/// Luhn (mod 10) check over ASCII digits; false if `s` has a non-digit or is empty.
pub fn luhn(s: &str) -> bool {
    luhn_bytes(s.as_bytes())
}

pub(crate) fn luhn_bytes(b: &[u8]) -> bool {
    if b.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in b.iter().rev().enumerate() {
        if !c.is_ascii_digit() {
            return false;
        }
        let mut v = u32::from(c - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// Shape of a payment card number: 16–19 digits (spaces or `-` allowed between groups)
/// starting with a card-network prefix (3, 4, 5, 6 or 9 for domestic debit cards). The
/// Luhn check is separate ([`luhn`]): some legacy domestic cards fail it.
pub fn bank_card_shape(s: &str) -> bool {
    let mut buf = [0u8; 24];
    match collect_digits(s.trim().as_bytes(), &mut buf) {
        Some(n) => card_digits_shape(&buf[..n]),
        None => false,
    }
}

pub(crate) fn card_digits_shape(d: &[u8]) -> bool {
    (16..=19).contains(&d.len()) && matches!(d[0], b'3' | b'4' | b'5' | b'6' | b'9')
}

/// Bank card number: [`bank_card_shape`] and a passing Luhn check.
pub fn bank_card(s: &str) -> bool {
    let mut buf = [0u8; 24];
    match collect_digits(s.trim().as_bytes(), &mut buf) {
        Some(n) => card_digits_shape(&buf[..n]) && luhn_bytes(&buf[..n]),
        None => false,
    }
}

const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(c: u8) -> Option<u32> {
    USCC_CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// 统一社会信用代码 (GB 32100-2015): 18 characters of the code charset, matching check
/// character, and positions 9–17 a valid GB 11714 organisation code.
pub fn cn_uscc(s: &str) -> bool {
    uscc_bytes(s.as_bytes())
}

pub(crate) fn uscc_bytes(b: &[u8]) -> bool {
    if b.len() != 18 {
        return false;
    }
    // Registration authority (1 机构编制 … 9 市场监管, A/N/Y others) and a non-zero category.
    if !matches!(b[0], b'1'..=b'9' | b'A' | b'N' | b'Y') || !matches!(b[1], b'1'..=b'9') {
        return false;
    }
    let mut sum = 0u32;
    for (&c, w) in b[..17].iter().zip(USCC_WEIGHTS) {
        match uscc_value(c) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = USCC_CHARSET[((31 - sum % 31) % 31) as usize];
    b[17] == check && org_code_bytes(&b[8..17])
}

/// 组织机构代码 (GB 11714): 8 body characters `0-9A-Z` and a check character, written
/// `D2143569X` or `D2143569-X`.
pub fn cn_org_code(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        9 => org_code_bytes(b),
        10 if b[8] == b'-' => {
            let mut buf = [0u8; 9];
            buf[..8].copy_from_slice(&b[..8]);
            buf[8] = b[9];
            org_code_bytes(&buf)
        }
        _ => false,
    }
}

pub(crate) fn org_code_bytes(b: &[u8]) -> bool {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    if b.len() != 9 {
        return false;
    }
    let mut sum = 0u32;
    for (&c, w) in b[..8].iter().zip(W) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        sum += v * w;
    }
    let check = match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        c => b'0' + c as u8,
    };
    b[8] == check
}

fn is_plate_letter(c: u8) -> bool {
    c.is_ascii_uppercase() && c != b'I' && c != b'O'
}

/// 护照号码 (mainland passports): `E\d{8}`, `E[A-HJ-NP-Z]\d{7}`, `G\d{8}`, and the
/// public-affairs/diplomatic/service series `P\d{7}`, `S\d{7,8}`, `D\d{7,8}`.
pub fn cn_passport(s: &str) -> bool {
    passport_bytes(s.as_bytes())
}

pub(crate) fn passport_bytes(b: &[u8]) -> bool {
    let all_digits = |x: &[u8]| !x.is_empty() && x.iter().all(u8::is_ascii_digit);
    match (b.first(), b.len()) {
        (Some(b'E'), 9) => all_digits(&b[1..]) || (is_plate_letter(b[1]) && all_digits(&b[2..])),
        (Some(b'G'), 9) => all_digits(&b[1..]),
        (Some(b'P'), 8) => all_digits(&b[1..]),
        (Some(b'S' | b'D'), 8 | 9) => all_digits(&b[1..]),
        _ => false,
    }
}

/// 往来港澳通行证 `C\d{8}` / `C[A-HJ-NP-Z]\d{7}` and 港澳居民来往内地通行证 (回乡证)
/// `[HM]\d{8,10}`.
pub fn cn_hk_macao_permit(s: &str) -> bool {
    permit_bytes(s.as_bytes())
}

pub(crate) fn permit_bytes(b: &[u8]) -> bool {
    let all_digits = |x: &[u8]| !x.is_empty() && x.iter().all(u8::is_ascii_digit);
    match (b.first(), b.len()) {
        (Some(b'C'), 9) => all_digits(&b[1..]) || (is_plate_letter(b[1]) && all_digits(&b[2..])),
        (Some(b'H' | b'M'), 9..=11) => all_digits(&b[1..]),
        _ => false,
    }
}

/// Province abbreviations that start a motor-vehicle plate (GA 36-2018).
pub(crate) const PLATE_PROVINCES: &str =
    "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

pub(crate) fn is_plate_province(c: char) -> bool {
    PLATE_PROVINCES.contains(c)
}

/// Checks the part after the province: authority letter + 5 (ordinary, last may be a
/// 挂/学/警/港/澳 suffix handled by the caller) or 6 (new-energy) alphanumerics.
pub(crate) fn plate_body_ok(letter: u8, rest: &[u8], has_suffix: bool) -> bool {
    if !is_plate_letter(letter) {
        return false;
    }
    let digits_or_letters = |x: &[u8]| x.iter().all(|&c| c.is_ascii_digit() || is_plate_letter(c));
    match (rest.len(), has_suffix) {
        (5, false) => {
            digits_or_letters(rest) && rest.iter().filter(|c| c.is_ascii_digit()).count() >= 3
        }
        (4, true) => rest.iter().all(u8::is_ascii_digit) || digits_or_letters(rest),
        (6, false) => {
            // New-energy: small `[A-K][A-HJ-NP-Z0-9]\d{4}`, large `\d{5}[A-K]`.
            let small = (b'A'..=b'K').contains(&rest[0])
                && (rest[1].is_ascii_digit() || is_plate_letter(rest[1]))
                && rest[2..].iter().all(u8::is_ascii_digit);
            let large =
                rest[..5].iter().all(u8::is_ascii_digit) && (b'A'..=b'K').contains(&rest[5]);
            small || large
        }
        _ => false,
    }
}

/// 机动车号牌: province abbreviation, authority letter, then 5 characters (the last may be
/// 挂/学/警/港/澳) or 6 for new-energy plates; `·` or a space may follow the letter:
/// `京A12345`, `粤B·D12345`, `沪A 1234学`.
pub fn cn_plate(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(p) = chars.next() else { return false };
    if !is_plate_province(p) {
        return false;
    }
    let rest = chars.as_str();
    let rb = rest.as_bytes();
    // The authority letter is ASCII; checking it first also keeps `rest[1..]` on a char
    // boundary (`京市…` once panicked here — found by fuzzing).
    let Some(&letter) = rb.first().filter(|c| c.is_ascii_uppercase()) else {
        return false;
    };
    let mut body = &rest[1..];
    if let Some(b) = body.strip_prefix('·').or_else(|| body.strip_prefix(' ')) {
        body = b;
    }
    let (body, suffix) = match body.char_indices().last() {
        Some((i, c)) if "挂学警港澳".contains(c) => (&body[..i], true),
        _ => (body, false),
    };
    plate_body_ok(letter, body.as_bytes(), suffix)
}

fn vin_value(c: u8) -> Option<u32> {
    Some(match c {
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
        _ => return None, // I, O, Q and everything else
    })
}

/// 车辆识别代号 (ISO 3779 / GB 16735): 17 characters without I, O, Q, and the check digit
/// at position 9 (weights 8,7,6,5,4,3,2,10,0,9,8,7,6,5,4,3,2; Σ mod 11, 10 → X).
pub fn vin(s: &str) -> bool {
    vin_bytes(s.as_bytes())
}

pub(crate) fn vin_bytes(b: &[u8]) -> bool {
    const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    if b.len() != 17 {
        return false;
    }
    let mut sum = 0u32;
    for (&c, w) in b.iter().zip(W) {
        match vin_value(c) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let check = match sum % 11 {
        10 => b'X',
        c => b'0' + c as u8,
    };
    b[8] == check
}

/// Dotted-quad IPv4 address without leading zeros (`192.168.1.10`).
pub fn ipv4(s: &str) -> bool {
    ipv4_len(s.as_bytes()) == Some(s.len())
}

/// Length of a dotted-quad IPv4 address at the start of `b`, if there is one.
pub(crate) fn ipv4_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for part in 0..4 {
        if part > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v = 0u32;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 3 {
            v = v * 10 + u32::from(b[i] - b'0');
            i += 1;
        }
        let len = i - start;
        if len == 0 || v > 255 || (len > 1 && b[start] == b'0') {
            return None;
        }
    }
    Some(i)
}

/// IPv6 address in any RFC 4291 text form (`2001:db8::1`, `fe80::1:2:3:4`, with an
/// embedded IPv4 tail).
pub fn ipv6(s: &str) -> bool {
    s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok()
}

/// MAC address: six hex pairs separated by `:` or `-` (one separator throughout).
pub fn mac_address(s: &str) -> bool {
    mac_len(s.as_bytes()) == Some(s.len())
}

pub(crate) fn mac_len(b: &[u8]) -> Option<usize> {
    if b.len() < 17 {
        return None;
    }
    let sep = b[2];
    if sep != b':' && sep != b'-' {
        return None;
    }
    for k in 0..6 {
        let i = k * 3;
        if !b[i].is_ascii_hexdigit() || !b[i + 1].is_ascii_hexdigit() {
            return None;
        }
        if k < 5 && b[i + 2] != sep {
            return None;
        }
    }
    Some(17)
}

/// IMEI: 15 digits whose last digit is the Luhn check of the first 14.
pub fn imei(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 15 && luhn_bytes(b)
}

/// A plausible date of birth written `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYYMMDD`
/// or `YYYY年M月D日`: a real date from 1800 up to today.
pub fn birth_date(s: &str) -> bool {
    date_len(s.as_bytes()).is_some_and(|(len, ok)| ok && len == s.len())
}

/// Parses a date at the start of `b`; returns its length and whether it is a plausible
/// birth date (real, between 1800 and today).
pub(crate) fn date_len(b: &[u8]) -> Option<(usize, bool)> {
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let y = digits_value(&b[..4])?;
    let num = |i: usize, max: usize| -> Option<(u32, usize)> {
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() && j - i < max {
            j += 1;
        }
        if j == i {
            return None;
        }
        Some((digits_value(&b[i..j])?, j))
    };
    if b[4].is_ascii_digit() {
        if b.len() >= 9 && b[8].is_ascii_digit() {
            return None;
        }
        let m = digits_value(&b[4..6])?;
        let d = digits_value(&b[6..8])?;
        return Some((8, birth_date_ok(y, m, d)));
    }
    let (sep_len, close): (usize, &[u8]) = if matches!(b[4], b'-' | b'/' | b'.') {
        (1, &[])
    } else if b[4..].starts_with("年".as_bytes()) {
        (3, "日".as_bytes())
    } else {
        return None;
    };
    let (m, j) = num(4 + sep_len, 2)?;
    let second_sep: &[u8] = if sep_len == 1 {
        &b[4..5]
    } else {
        "月".as_bytes()
    };
    if !b[j..].starts_with(second_sep) {
        return None;
    }
    let (d, k) = num(j + second_sep.len(), 2)?;
    if k < b.len() && b[k].is_ascii_digit() {
        return None;
    }
    let end = if !close.is_empty() && b[k..].starts_with(close) {
        k + close.len()
    } else {
        k
    };
    Some((end, birth_date_ok(y, m, d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where the standard vectors live: `shared/` beside the workspace directory.
    const VECTORS_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/standards/test_vectors.json"
    );

    /// The identifier vectors of shared/standards/test_vectors.json ("identifiers"),
    /// loaded from the file so the two cannot drift apart. A missing or unreadable file
    /// fails the test: passing without the vectors would prove nothing.
    fn vectors() -> serde_json::Value {
        let text = std::fs::read_to_string(VECTORS_PATH).unwrap_or_else(|e| {
            panic!(
                "the standard identifier vectors are expected at {VECTORS_PATH} \
                 (shared/standards/test_vectors.json beside the workspace): {e}"
            )
        });
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{VECTORS_PATH} is not valid JSON: {e}"));
        assert!(
            v["identifiers"].is_object(),
            "{VECTORS_PATH} has no \"identifiers\" object"
        );
        v["identifiers"].clone()
    }

    fn list(v: &serde_json::Value, key: &str) -> Vec<String> {
        v[key]
            .as_array()
            .unwrap_or_else(|| panic!("missing {key}"))
            .iter()
            .map(|s| s.as_str().unwrap().split(' ').next().unwrap().to_string())
            .collect()
    }

    #[test]
    fn standard_vectors_file() {
        let v = vectors();
        for s in list(&v, "resident_id_valid") {
            assert!(cn_resident_id(&s), "{s}");
        }
        for s in list(&v, "resident_id_invalid_checksum") {
            assert!(!cn_resident_id(&s), "{s}");
        }
        for s in list(&v, "uscc_valid") {
            assert!(cn_uscc(&s), "{s}");
        }
        for s in list(&v, "uscc_invalid") {
            assert!(!cn_uscc(&s), "{s}");
        }
        for s in list(&v, "org_code_valid") {
            assert!(cn_org_code(&s), "{s}");
        }
        for s in list(&v, "luhn_valid_unionpay_like_synthetic") {
            assert!(luhn(&s) && bank_card(&s), "{s}");
        }
        for s in list(&v, "luhn_invalid_common_demo") {
            assert!(!luhn(&s) && bank_card_shape(&s), "{s}");
        }
        for s in list(&v, "vin_valid") {
            assert!(vin(&s), "{s}");
        }
        for s in list(&v, "vin_invalid") {
            assert!(!vin(&s), "{s}");
        }
    }

    #[test]
    fn resident_id() {
        // Source: shared/standards/README.md — Σ=167 → X.
        assert!(cn_resident_id_18("11010519491231002X"));
        assert!(cn_resident_id_18("11010519491231002x"));
        assert_eq!(cn_resident_id_check_char(b"11010519491231002"), Some(b'X'));
        assert!(!cn_resident_id_18("110105194912310021"));
        // Right check digit but impossible region (99) or date (Feb 30, future).
        let fix = |s17: &str| {
            let c = cn_resident_id_check_char(s17.as_bytes()).unwrap() as char;
            format!("{s17}{c}")
        };
        assert!(!cn_resident_id_18(&fix("99010519491231002")));
        assert!(!cn_resident_id_18(&fix("11010519490230002")));
        assert!(!cn_resident_id_18(&fix("11010529991231002")));
        assert!(cn_resident_id_18(&fix("11010520000229002")));
        assert!(!cn_resident_id_18(&fix("11010519000229002")));
        // 15-digit legacy.
        assert!(cn_resident_id_15("110105491231002"));
        assert!(!cn_resident_id_15("110105491331002"));
        assert!(!cn_resident_id_15("990105491231002"));
        assert!(!cn_resident_id("1101051949123100"));
    }

    #[test]
    fn mobile() {
        for ok in [
            "13800138000",
            "+8613800138000",
            "+86 138 0013 8000",
            "0086-138-0013-8000",
            "17400123456",
            "19912345678",
            "14512345678",
            "16612345678",
        ] {
            assert!(cn_mobile(ok), "{ok}");
        }
        for bad in [
            "12345678901",
            "10086123456",
            "1380013800",
            "138001380001",
            "17406123456",
            "19412345678",
            "14112345678",
            "+13800138000",
            "138x0013800",
            "-13800138000",
        ] {
            assert!(!cn_mobile(bad), "{bad}");
        }
    }

    #[test]
    fn landline() {
        for ok in [
            "01062345678",
            "010-62345678",
            "0755-2234567",
            "(0755) 82345678",
            "021-62345678-801",
        ] {
            assert!(cn_landline(ok), "{ok}");
        }
        for bad in [
            "010-1234567",
            "0755-0234567",
            "12345678",
            "0755-1234567-1234567",
            "00123456789",
        ] {
            assert!(!cn_landline(bad), "{bad}");
        }
    }

    #[test]
    fn email_addresses() {
        for ok in [
            "zhang.san@example.com",
            "a+b@mail.gov.cn",
            "x_1@sub-d.example.org",
        ] {
            assert!(email(ok), "{ok}");
        }
        for bad in [
            "@example.com",
            "a@b",
            "a@b.c",
            "a..b@x.com",
            ".a@x.com",
            "a@-x.com",
            "a@x.com1",
            "ab",
        ] {
            assert!(!email(bad), "{bad}");
        }
    }

    #[test]
    fn cards_and_luhn() {
        assert!(luhn("79927398713"));
        assert!(!luhn("79927398710"));
        assert!(!luhn(""));
        assert!(!luhn("7992a398713"));
        assert!(bank_card("6212 2612 3456 7890 128"));
        assert!(!bank_card("1212261234567890128"));
        assert!(!bank_card_shape("621226123456789"));
    }

    #[test]
    fn uscc_and_org_code() {
        assert!(cn_uscc("91350100M000100Y43"));
        assert!(!cn_uscc("91350100M000100Y44"));
        assert!(!cn_uscc("91350100M000100Y4"));
        assert!(cn_org_code("D2143569-X"));
        assert!(cn_org_code("D2143569X"));
        assert!(!cn_org_code("D21435691"));
        assert!(!cn_org_code("D2143569_X"));
    }

    #[test]
    fn passports_permits_plates() {
        assert!(cn_passport("E12345678"));
        assert!(cn_passport("EA1234567"));
        assert!(!cn_passport("EI1234567"));
        assert!(!cn_passport("E1234567"));
        assert!(cn_hk_macao_permit("C12345678"));
        assert!(cn_hk_macao_permit("H1234567801"));
        assert!(!cn_hk_macao_permit("C1234567"));
        for ok in [
            "京A12345",
            "粤B·D12345",
            "沪A 1234学",
            "苏E12345",
            "浙AD12345",
            "川A12345F",
            "粤Z1234港",
        ] {
            assert!(cn_plate(ok), "{ok}");
        }
        for bad in [
            "京I12345",
            "京A1234",
            "美A12345",
            "京AABCDE",
            "京AZ123456",
            "京市 \u{0}",
            "京",
            "京市12345",
        ] {
            assert!(!cn_plate(bad), "{bad}");
        }
    }

    #[test]
    fn vins() {
        assert!(vin("1M8GDM9AXKP042788"));
        assert!(!vin("1HGCM82633A004353"));
        assert!(!vin("1M8GDM9AXKP04278"));
        assert!(!vin("1M8GDM9AXKP04278O"));
    }

    #[test]
    fn network_ids() {
        assert!(ipv4("192.168.1.10"));
        assert!(!ipv4("192.168.1.256"));
        assert!(!ipv4("192.168.01.1"));
        assert!(!ipv4("1.2.3"));
        assert!(ipv6("2001:db8::1"));
        assert!(ipv6("fe80::1:2:3:4"));
        assert!(!ipv6("10:30:00"));
        assert!(mac_address("00:1A:2b:3C:4d:5E"));
        assert!(mac_address("00-1A-2B-3C-4D-5E"));
        assert!(!mac_address("00:1A-2B:3C:4D:5E"));
        assert!(imei("490154203237518"));
        assert!(!imei("490154203237517"));
    }

    #[test]
    fn dates() {
        assert!(birth_date("1990-05-17"));
        assert!(birth_date("1990年5月17日"));
        assert!(birth_date("19900517"));
        assert!(birth_date("2000/02/29"));
        assert!(!birth_date("1900/02/29"));
        assert!(!birth_date("1799-01-01"));
        assert!(!birth_date("1990-13-01"));
        assert!(!birth_date("2999-01-01"));
        assert!(!birth_date("1990-05-170"));
    }
}
