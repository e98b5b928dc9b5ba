//! Masking operators (脱敏算子). Each takes one value and returns its masked form, or
//! `None` for NULL. Keyed operators read their keys from [`MaskKeys`].
//!
//! Examples (see docs/masking.md for all parameters):
//! `partial` keep_first=1 → `张*`; keep_first=6 keep_last=2 → `110105**********2X`;
//! keep_first=3 keep_last=4 → `138****0000`; keep_first=6 fixed=4 → `广东省江门市****`.

use crate::dates::{civil_from_days, days_from_civil, format_date, parse_date};
use crate::error::{MaskError, Result};
use crate::fpe::{transform, Alphabet};
use crate::key::MaskKeys;

/// How a birth date (or any date) is coarsened.
#[derive(Clone, Debug, PartialEq)]
pub enum DateLevel {
    /// `1990`.
    Year,
    /// `1990-05`.
    YearMonth,
    /// Age band at `reference_year`, e.g. `30-39`.
    AgeBand {
        /// Band width in years.
        width: u32,
        /// Year the age is computed at.
        reference_year: i64,
    },
}

/// How far an address is cut back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressLevel {
    /// 省 (province / municipality).
    Province,
    /// 市 (prefecture-level city).
    City,
    /// 区/县 (district or county).
    District,
}

/// What a pseudonym looks like.
#[derive(Clone, Debug, PartialEq)]
pub enum PseudonymFormat {
    /// `prefix` + `len` lowercase hex digits.
    Hex {
        /// Number of hex digits (8..=64).
        len: usize,
    },
    /// Every digit replaced by a keyed digit, other characters kept (same shape).
    Digits,
    /// A plausible Chinese name (surname + one or two given-name characters).
    ChineseName,
}

/// A masking operator with its parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Operator {
    /// Leave the value as it is.
    Keep,
    /// Keep the first `keep_first` and last `keep_last` characters (Unicode scalars, so
    /// CJK-aware) and replace the middle by `mask_char`; `fixed` = that many mask chars
    /// regardless of the hidden length.
    Partial {
        /// Characters kept at the start.
        keep_first: usize,
        /// Characters kept at the end.
        keep_last: usize,
        /// Replacement character.
        mask_char: char,
        /// Fixed number of mask characters (hides the length).
        fixed: Option<usize>,
    },
    /// Replace by a constant (or a type tag such as `[身份证号]`).
    Replace {
        /// The replacement text.
        with: String,
    },
    /// Keyed pseudonym: HMAC-SM3(key, namespace, value). The same value gives the same
    /// pseudonym in every table and run with the same key and namespace, so joins survive.
    Pseudonym {
        /// Text put before hex pseudonyms.
        prefix: String,
        /// Output shape.
        format: PseudonymFormat,
        /// Separates pseudonym spaces (empty: shared across columns and tables).
        namespace: String,
    },
    /// FF1 over SM4: reversible with the key (`shuan unmask`).
    Fpe {
        /// Which characters are encrypted.
        alphabet: Alphabet,
        /// FF1 tweak.
        tweak: String,
    },
    /// Coarsen a date.
    GeneralizeDate(DateLevel),
    /// Cut an address back to an administrative level.
    GeneralizeAddress(AddressLevel),
    /// Snap `lat,lon` (or a single coordinate) to the centre of a grid cell of `grid` degrees.
    GeneralizeGps {
        /// Cell size in degrees (0.01 ≈ 1 km).
        grid: f64,
    },
    /// Replace a number by its range `[lo,hi)` of `width`.
    GeneralizeNumber {
        /// Range width.
        width: f64,
    },
    /// Keep only the first `keep` characters.
    Truncate {
        /// Characters kept.
        keep: usize,
    },
    /// Shift a date by a keyed offset in ±`max_days` (never 0), the same for every value
    /// of one entity (the `entity` column), so intervals within an entity are preserved.
    DateShift {
        /// Largest shift in days.
        max_days: u32,
        /// Column whose value identifies the entity (resolved by the plan).
        entity: Option<String>,
    },
    /// Multiply a number by (1 + r), r keyed-uniform in ±`relative`; decimals kept.
    Noise {
        /// Largest relative change, e.g. 0.05 for ±5%.
        relative: f64,
    },
    /// Output NULL (empty field).
    Nullify,
    /// Remove the column from the output altogether.
    Suppress,
}

/// Per-value context given by the job.
#[derive(Clone, Copy, Debug, Default)]
pub struct ApplyCtx<'a> {
    /// Value of the entity column, for date shifts.
    pub entity: Option<&'a str>,
    /// 0-based row number in the source.
    pub row: u64,
    /// Column name (noise input).
    pub column: &'a str,
    /// For a pseudonym, its keyed hash computed beforehand for a whole batch
    /// ([`MaskKeys::pseudonym_macs`]); must equal `pseudonym_mac(&[namespace, value])`.
    pub pseudonym_tag: Option<&'a [u8; 32]>,
}

impl Operator {
    /// Stable operator name used in rule files and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Operator::Keep => "keep",
            Operator::Partial { .. } => "partial",
            Operator::Replace { .. } => "replace",
            Operator::Pseudonym { .. } => "pseudonym",
            Operator::Fpe { .. } => "fpe",
            Operator::GeneralizeDate(_) => "generalize_date",
            Operator::GeneralizeAddress(_) => "generalize_address",
            Operator::GeneralizeGps { .. } => "generalize_gps",
            Operator::GeneralizeNumber { .. } => "generalize_number",
            Operator::Truncate { .. } => "truncate",
            Operator::DateShift { .. } => "date_shift",
            Operator::Noise { .. } => "noise",
            Operator::Nullify => "nullify",
            Operator::Suppress => "suppress",
        }
    }

    /// The operator as a rule file would write it (`partial keep_first=3 keep_last=4
    /// mask_char="*"`): what `shuan mask rules show` prints, never Rust `Debug` text.
    pub fn describe(&self) -> String {
        let quoted = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        match self {
            Operator::Keep | Operator::Nullify | Operator::Suppress => self.name().to_string(),
            Operator::Partial {
                keep_first,
                keep_last,
                mask_char,
                fixed,
            } => {
                let mut out = format!(
                    "partial keep_first={keep_first} keep_last={keep_last} mask_char={}",
                    quoted(&mask_char.to_string())
                );
                if let Some(n) = fixed {
                    out.push_str(&format!(" fixed={n}"));
                }
                out
            }
            Operator::Replace { with } => format!("replace with={}", quoted(with)),
            Operator::Pseudonym {
                prefix,
                format,
                namespace,
            } => {
                let mut out = match format {
                    PseudonymFormat::Hex { len } => {
                        format!("pseudonym format=\"hex\" length={len}")
                    }
                    PseudonymFormat::Digits => "pseudonym format=\"digits\"".to_string(),
                    PseudonymFormat::ChineseName => "pseudonym format=\"chinese_name\"".to_string(),
                };
                if !prefix.is_empty() {
                    out.push_str(&format!(" prefix={}", quoted(prefix)));
                }
                if !namespace.is_empty() {
                    out.push_str(&format!(" namespace={}", quoted(namespace)));
                }
                out
            }
            Operator::Fpe { alphabet, tweak } => {
                let mut out = format!("fpe alphabet=\"{}\"", alphabet.name());
                if !tweak.is_empty() {
                    out.push_str(&format!(" tweak={}", quoted(tweak)));
                }
                out
            }
            Operator::GeneralizeDate(level) => match level {
                DateLevel::Year => "generalize_date to=\"year\"".to_string(),
                DateLevel::YearMonth => "generalize_date to=\"year_month\"".to_string(),
                DateLevel::AgeBand {
                    width,
                    reference_year,
                } => format!(
                    "generalize_date to=\"age_band\" width={width} reference_year={reference_year}"
                ),
            },
            Operator::GeneralizeAddress(level) => format!(
                "generalize_address level=\"{}\"",
                match level {
                    AddressLevel::Province => "province",
                    AddressLevel::City => "city",
                    AddressLevel::District => "district",
                }
            ),
            Operator::GeneralizeGps { grid } => format!("generalize_gps grid={grid}"),
            Operator::GeneralizeNumber { width } => format!("generalize_number width={width}"),
            Operator::Truncate { keep } => format!("truncate keep={keep}"),
            Operator::DateShift { max_days, entity } => {
                let mut out = format!("date_shift max_days={max_days}");
                if let Some(e) = entity {
                    out.push_str(&format!(" entity={}", quoted(e)));
                }
                out
            }
            Operator::Noise { relative } => format!("noise relative={relative}"),
        }
    }

    /// True when the operator needs a masking key.
    pub fn needs_key(&self) -> bool {
        matches!(
            self,
            Operator::Pseudonym { .. }
                | Operator::Fpe { .. }
                | Operator::DateShift { .. }
                | Operator::Noise { .. }
        )
    }

    /// Mask one value. Errors never contain the value.
    pub fn apply(
        &self,
        value: &str,
        keys: Option<&MaskKeys>,
        ctx: &ApplyCtx<'_>,
    ) -> Result<Option<String>> {
        let mut out = String::new();
        Ok(self.apply_into(value, keys, ctx, &mut out)?.then_some(out))
    }

    /// [`Operator::apply`] writing the masked value into `out` (cleared first), so a
    /// streaming job can reuse one buffer per column instead of allocating per value.
    /// Returns false for NULL (`out` is then empty). Same output and errors as `apply`.
    pub fn apply_into(
        &self,
        value: &str,
        keys: Option<&MaskKeys>,
        ctx: &ApplyCtx<'_>,
        out: &mut String,
    ) -> Result<bool> {
        out.clear();
        let need_keys =
            || keys.ok_or_else(|| MaskError::KeyRequired(format!("operator {}", self.name())));
        match self {
            Operator::Keep => out.push_str(value),
            Operator::Partial {
                keep_first,
                keep_last,
                mask_char,
                fixed,
            } => partial_into(value, *keep_first, *keep_last, *mask_char, *fixed, out),
            Operator::Replace { with } => out.push_str(with),
            Operator::Pseudonym {
                prefix,
                format,
                namespace,
            } => pseudonym_into(
                need_keys()?,
                prefix,
                format,
                namespace,
                value,
                ctx.pseudonym_tag,
                out,
            ),
            Operator::Fpe { alphabet, tweak } => out.push_str(&transform(
                &need_keys()?.fpe_cipher(),
                *alphabet,
                tweak.as_bytes(),
                value,
                true,
            )?),
            Operator::GeneralizeDate(level) => generalize_date_into(value, level, out)?,
            Operator::GeneralizeAddress(level) => generalize_address_into(value, *level, out),
            Operator::GeneralizeGps { grid } => out.push_str(&generalize_gps(value, *grid)?),
            Operator::GeneralizeNumber { width } => {
                out.push_str(&generalize_number(value, *width)?)
            }
            Operator::Truncate { keep } => out.extend(value.chars().take(*keep)),
            Operator::DateShift { max_days, .. } => {
                out.push_str(&date_shift(need_keys()?, value, *max_days, ctx.entity)?)
            }
            Operator::Noise { relative } => {
                out.push_str(&noise(need_keys()?, value, *relative, ctx)?)
            }
            Operator::Nullify | Operator::Suppress => return Ok(false),
        }
        Ok(true)
    }

    /// Reverse the operator (only FPE is reversible).
    pub fn reverse(&self, value: &str, keys: &MaskKeys) -> Result<String> {
        match self {
            Operator::Fpe { alphabet, tweak } => transform(
                &keys.fpe_cipher(),
                *alphabet,
                tweak.as_bytes(),
                value,
                false,
            ),
            other => Err(MaskError::Invalid(format!(
                "operator {} is not reversible; only fpe can be unmasked",
                other.name()
            ))),
        }
    }
}

/// Keep the first/last characters and mask the middle.
pub fn partial(
    value: &str,
    keep_first: usize,
    keep_last: usize,
    mask_char: char,
    fixed: Option<usize>,
) -> String {
    let mut out = String::new();
    partial_into(value, keep_first, keep_last, mask_char, fixed, &mut out);
    out
}

/// Byte offset of the `n`th character of `value` (its length when it has fewer).
fn char_offset(value: &str, n: usize, ascii: bool) -> usize {
    if ascii {
        n.min(value.len())
    } else {
        value.char_indices().nth(n).map_or(value.len(), |(i, _)| i)
    }
}

fn partial_into(
    value: &str,
    keep_first: usize,
    keep_last: usize,
    mask_char: char,
    fixed: Option<usize>,
    out: &mut String,
) {
    let ascii = value.is_ascii();
    let n = if ascii {
        value.len()
    } else {
        value.chars().count()
    };
    if n == 0 {
        return;
    }
    // Always hide at least one character: short values lose their kept tail first.
    let (mut first, mut last) = (keep_first, keep_last);
    if first + last >= n {
        last = 0;
        first = first.min(n - 1);
    }
    let hidden = n - first - last;
    let stars = fixed.unwrap_or(hidden);
    let head = char_offset(value, first, ascii);
    let tail = char_offset(value, n - last, ascii);
    out.reserve(head + stars * mask_char.len_utf8() + (value.len() - tail));
    out.push_str(&value[..head]);
    out.extend(std::iter::repeat_n(mask_char, stars));
    out.push_str(&value[tail..]);
}

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志文斌宇浩凯健俊帆帅旭宁龙林欣婷雪琳晨阳佳怡子涵梓轩思雨嘉诚博瑞";

const HEX: &[u8; 16] = b"0123456789abcdef";

#[allow(clippy::too_many_arguments)]
fn pseudonym_into(
    keys: &MaskKeys,
    prefix: &str,
    format: &PseudonymFormat,
    namespace: &str,
    value: &str,
    precomputed: Option<&[u8; 32]>,
    out: &mut String,
) {
    let tag = match precomputed {
        Some(t) => *t,
        None => keys.pseudonym_mac(&[namespace.as_bytes(), value.as_bytes()]),
    };
    match format {
        PseudonymFormat::Hex { len } => {
            out.reserve(prefix.len() + len);
            out.push_str(prefix);
            // The first `len` hex digits of the tag, high nibble first.
            for i in 0..(*len).min(2 * tag.len()) {
                let b = tag[i / 2];
                let nibble = if i % 2 == 0 { b >> 4 } else { b & 15 };
                out.push(HEX[nibble as usize] as char);
            }
        }
        PseudonymFormat::Digits => {
            let mut stream = KeyStream::new(keys, namespace, value, tag);
            out.extend(value.chars().map(|c| {
                if c.is_ascii_digit() {
                    char::from_digit((stream.next_byte() % 10) as u32, 10).expect("digit")
                } else {
                    c
                }
            }));
        }
        PseudonymFormat::ChineseName => {
            let s: Vec<char> = SURNAMES.chars().collect();
            let g: Vec<char> = GIVEN.chars().collect();
            let pick =
                |b: u8, b2: u8, set: &[char]| set[(((b as usize) << 8) | b2 as usize) % set.len()];
            out.push(pick(tag[0], tag[1], &s));
            out.push(pick(tag[2], tag[3], &g));
            if tag[4] & 1 == 1 {
                out.push(pick(tag[5], tag[6], &g));
            }
        }
    }
}

/// Deterministic keyed byte stream for pseudonyms longer than one MAC.
struct KeyStream<'a> {
    keys: &'a MaskKeys,
    namespace: &'a str,
    value: &'a str,
    block: [u8; 32],
    pos: usize,
    counter: u32,
}

impl<'a> KeyStream<'a> {
    fn new(keys: &'a MaskKeys, namespace: &'a str, value: &'a str, first: [u8; 32]) -> Self {
        KeyStream {
            keys,
            namespace,
            value,
            block: first,
            pos: 0,
            counter: 0,
        }
    }
    fn next_byte(&mut self) -> u8 {
        if self.pos == 32 {
            self.counter += 1;
            self.block = self.keys.pseudonym_mac(&[
                self.namespace.as_bytes(),
                self.value.as_bytes(),
                &self.counter.to_be_bytes(),
            ]);
            self.pos = 0;
        }
        // Rejection of 250..=255 keeps digits uniform.
        loop {
            let b = self.block[self.pos];
            self.pos += 1;
            if b < 250 || self.pos == 32 {
                return b;
            }
        }
    }
}

/// `write!(out, "{v}")` without the formatting machinery (one call per birth date).
fn push_int(out: &mut String, v: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    out.extend(digits[i..].iter().map(|&d| d as char));
}

fn generalize_date_into(value: &str, level: &DateLevel, out: &mut String) -> Result<()> {
    use std::fmt::Write as _;
    let d = parse_date(trim(value))
        .ok_or_else(|| MaskError::value("generalize_date", "not a recognised date"))?;
    // Writing into a String cannot fail.
    let _ = match level {
        DateLevel::Year => {
            push_int(out, d.year);
            Ok(())
        }
        DateLevel::YearMonth => write!(out, "{}-{:02}", d.year, d.month),
        DateLevel::AgeBand {
            width,
            reference_year,
        } => {
            let age = (reference_year - d.year).max(0) as u32;
            let lo = age / width * width;
            write!(out, "{}-{}", lo, lo + width - 1)
        }
    };
    Ok(())
}

const MUNICIPALITIES: [&str; 4] = ["北京", "上海", "天津", "重庆"];

/// Characters of an address looked at, at most: a province window of 10, then a city
/// window of 8, then a district window of 8.
const ADDRESS_CHARS: usize = 26;

/// Administrative suffixes, as characters so matching decodes nothing per try.
type Suffixes = [&'static [char]];
const PROVINCE_MUNICIPAL: &Suffixes = &[&['市']];
const PROVINCE: &Suffixes = &[
    &['特', '别', '行', '政', '区'],
    &['自', '治', '区'],
    &['省'],
];
const CITY: &Suffixes = &[&['自', '治', '州'], &['地', '区'], &['盟'], &['市']];
const DISTRICT: &Suffixes = &[&['区'], &['县'], &['旗'], &['市']];

/// Character index just after the first of `suffixes` that ends within `window`
/// characters of character `from` of `chars`.
///
/// Per suffix, only its first occurrence counts, and it is dropped when it starts right
/// at `from` (a level name needs at least one character before its suffix). The address
/// is decoded once into `chars`; searching bytes per suffix cost more than the rest of
/// masking it.
fn find_level(chars: &[char], from: usize, suffixes: &Suffixes, window: usize) -> Option<usize> {
    let win = &chars[from.min(chars.len())..(from + window).min(chars.len())];
    suffixes
        .iter()
        .filter_map(|suf| {
            let k = match **suf {
                [one] => win.iter().position(|&c| c == one)?,
                // Compared element by element: a slice `==` here is a memcmp call.
                _ => win
                    .windows(suf.len())
                    .position(|w| w.iter().zip(suf.iter()).all(|(a, b)| a == b))?,
            };
            (k > 0).then_some(from + k + suf.len())
        })
        .min()
}

/// `str::trim`, skipping its Unicode whitespace lookups when the first and last
/// characters are plainly not whitespace (CJK text: nothing above U+3000 is).
fn trim(s: &str) -> &str {
    let plain =
        |c: char| c > '\u{3000}' || (c.is_ascii() && !c.is_ascii_whitespace() && c != '\x0b');
    match (s.chars().next(), s.chars().next_back()) {
        (Some(a), Some(b)) if plain(a) && plain(b) => s,
        _ => s.trim(),
    }
}

fn generalize_address_into(value: &str, level: AddressLevel, out: &mut String) {
    let s = trim(value);
    // The leading characters and where each starts; offsets[i] is the byte offset of
    // character i (and of the end, after the last decoded one).
    let mut chars = ['\0'; ADDRESS_CHARS];
    let mut offsets = [0usize; ADDRESS_CHARS + 1];
    let mut n = 0;
    for (i, c) in s.char_indices().take(ADDRESS_CHARS) {
        chars[n] = c;
        offsets[n] = i;
        n += 1;
    }
    if n > 0 {
        offsets[n] = offsets[n - 1] + chars[n - 1].len_utf8();
    }
    let chars = &chars[..n];
    let municipality = MUNICIPALITIES.iter().any(|m| s.starts_with(m));
    let province_end = if municipality {
        // Every municipality name is two characters.
        find_level(chars, 0, PROVINCE_MUNICIPAL, 4).or(Some(2))
    } else {
        find_level(chars, 0, PROVINCE, 10)
    };
    let from = province_end.unwrap_or(0);
    let city_end = if municipality {
        province_end
    } else {
        find_level(chars, from, CITY, 8)
    };
    let district_end = find_level(chars, city_end.unwrap_or(from), DISTRICT, 8);
    let end = match level {
        AddressLevel::Province => province_end.or(city_end),
        AddressLevel::City => city_end.or(province_end),
        AddressLevel::District => district_end.or(city_end).or(province_end),
    };
    match end {
        Some(e) => out.push_str(&s[..offsets[e]]),
        // No administrative suffix found: keep only a short prefix.
        None => out.push_str(&s[..offsets[n.min(2)]]),
    }
}

fn parse_number(value: &str) -> Option<f64> {
    let cleaned: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '¥' | '￥' | '元' | ' '))
        .collect();
    cleaned.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn decimals(value: &str) -> usize {
    value
        .trim()
        .split_once('.')
        .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).count())
        .unwrap_or(0)
}

fn generalize_gps(value: &str, grid: f64) -> Result<String> {
    let snap = |v: f64| (v / grid).floor() * grid + grid / 2.0;
    let prec = {
        let mut p = 0usize;
        let mut g = grid / 2.0;
        while (g - g.round()).abs() > 1e-9 && p < 8 {
            g *= 10.0;
            p += 1;
        }
        p
    };
    let parts: Vec<&str> = value
        .split([',', ';', ' ', '，'])
        .filter(|p| !p.is_empty())
        .collect();
    let nums: Option<Vec<f64>> = parts.iter().map(|p| parse_number(p)).collect();
    match nums.as_deref() {
        Some([a]) => Ok(format!("{:.*}", prec, snap(*a))),
        Some([a, b]) => Ok(format!("{:.*},{:.*}", prec, snap(*a), prec, snap(*b))),
        _ => Err(MaskError::value(
            "generalize_gps",
            "expected `lat,lon` or one coordinate",
        )),
    }
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn generalize_number(value: &str, width: f64) -> Result<String> {
    let v =
        parse_number(value).ok_or_else(|| MaskError::value("generalize_number", "not a number"))?;
    let lo = (v / width).floor() * width;
    Ok(format!("[{},{})", fmt_num(lo), fmt_num(lo + width)))
}

fn date_shift(keys: &MaskKeys, value: &str, max_days: u32, entity: Option<&str>) -> Result<String> {
    let t = value.trim();
    let d = parse_date(t).ok_or_else(|| MaskError::value("date_shift", "not a recognised date"))?;
    let basis = entity.unwrap_or(t);
    let tag = keys.date_shift_mac(&[basis.as_bytes()]);
    let r = u64::from_be_bytes(tag[..8].try_into().expect("8 bytes"));
    let span = max_days.max(1) as u64;
    let magnitude = (r % span) as i64 + 1;
    let offset = if (r >> 63) == 1 {
        -magnitude
    } else {
        magnitude
    };
    let (y, m, dd) = civil_from_days(days_from_civil(d.year, d.month, d.day) + offset);
    Ok(format!(
        "{}{}",
        format_date(y, m, dd, d.style),
        &t[d.rest..]
    ))
}

fn noise(keys: &MaskKeys, value: &str, relative: f64, ctx: &ApplyCtx<'_>) -> Result<String> {
    let v = parse_number(value).ok_or_else(|| MaskError::value("noise", "not a number"))?;
    let tag = keys.noise_mac(&[
        ctx.column.as_bytes(),
        &ctx.row.to_be_bytes(),
        value.as_bytes(),
    ]);
    let r = u64::from_be_bytes(tag[..8].try_into().expect("8 bytes")) as f64 / u64::MAX as f64;
    let noisy = v * (1.0 + relative * (2.0 * r - 1.0));
    Ok(format!("{:.*}", decimals(value), noisy))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> MaskKeys {
        MaskKeys::from_master(&[3u8; 32])
    }
    fn run(op: &Operator, v: &str) -> Option<String> {
        op.apply(v, Some(&keys()), &ApplyCtx::default()).unwrap()
    }
    fn part(f: usize, l: usize, fixed: Option<usize>) -> Operator {
        Operator::Partial {
            keep_first: f,
            keep_last: l,
            mask_char: '*',
            fixed,
        }
    }

    #[test]
    fn partial_mask_examples() {
        assert_eq!(run(&part(1, 0, None), "张三").unwrap(), "张*");
        assert_eq!(run(&part(1, 0, None), "欧阳娜娜").unwrap(), "欧***");
        assert_eq!(
            run(&part(6, 2, None), "11010519491231002X").unwrap(),
            "110105**********2X"
        );
        assert_eq!(
            run(&part(3, 4, None), "13800000000").unwrap(),
            "138****0000"
        );
        assert_eq!(
            run(&part(6, 0, Some(4)), "广东省江门市蓬江区建设路12号").unwrap(),
            "广东省江门市****"
        );
        // Short values still lose at least one character.
        assert_eq!(run(&part(3, 4, None), "123").unwrap(), "12*");
        assert_eq!(run(&part(1, 0, None), "张").unwrap(), "*");
        assert_eq!(run(&part(1, 1, None), "").unwrap(), "");
    }

    #[test]
    fn replace_truncate_nullify() {
        assert_eq!(
            run(
                &Operator::Replace {
                    with: "[身份证号]".into()
                },
                "x"
            )
            .unwrap(),
            "[身份证号]"
        );
        assert_eq!(
            run(&Operator::Truncate { keep: 3 }, "广东省江门市").unwrap(),
            "广东省"
        );
        assert_eq!(run(&Operator::Nullify, "x"), None);
        assert_eq!(run(&Operator::Suppress, "x"), None);
    }

    #[test]
    fn pseudonyms_are_keyed_and_consistent() {
        let op = Operator::Pseudonym {
            prefix: "P".into(),
            format: PseudonymFormat::Hex { len: 16 },
            namespace: String::new(),
        };
        let a = run(&op, "11010519491231002X").unwrap();
        assert_eq!(a.len(), 17);
        assert!(a.starts_with('P'));
        assert_eq!(a, run(&op, "11010519491231002X").unwrap());
        assert_ne!(a, run(&op, "11010519491231003X").unwrap());
        let other = MaskKeys::from_master(&[4u8; 32]);
        assert_ne!(
            a,
            op.apply("11010519491231002X", Some(&other), &ApplyCtx::default())
                .unwrap()
                .unwrap()
        );
        let d = Operator::Pseudonym {
            prefix: String::new(),
            format: PseudonymFormat::Digits,
            namespace: String::new(),
        };
        let p = run(&d, "138-0000-0000").unwrap();
        assert_eq!(p.len(), 13);
        assert_eq!(&p[3..4], "-");
        let n = Operator::Pseudonym {
            prefix: String::new(),
            format: PseudonymFormat::ChineseName,
            namespace: String::new(),
        };
        let name = run(&n, "张三").unwrap();
        assert!((2..=3).contains(&name.chars().count()));
        assert!(op.apply("x", None, &ApplyCtx::default()).is_err());
    }

    #[test]
    fn generalizations() {
        assert_eq!(
            run(&Operator::GeneralizeDate(DateLevel::Year), "1990-05-17").unwrap(),
            "1990"
        );
        assert_eq!(
            run(&Operator::GeneralizeDate(DateLevel::YearMonth), "19900517").unwrap(),
            "1990-05"
        );
        let band = Operator::GeneralizeDate(DateLevel::AgeBand {
            width: 10,
            reference_year: 2026,
        });
        assert_eq!(run(&band, "1990年5月17日").unwrap(), "30-39");
        let dist = Operator::GeneralizeAddress(AddressLevel::District);
        assert_eq!(
            run(&dist, "广东省江门市蓬江区建设路12号").unwrap(),
            "广东省江门市蓬江区"
        );
        assert_eq!(
            run(&dist, "北京市朝阳区建国路88号").unwrap(),
            "北京市朝阳区"
        );
        assert_eq!(
            run(
                &Operator::GeneralizeAddress(AddressLevel::City),
                "广东省江门市蓬江区建设路12号"
            )
            .unwrap(),
            "广东省江门市"
        );
        assert_eq!(
            run(
                &Operator::GeneralizeAddress(AddressLevel::Province),
                "广西壮族自治区南宁市青秀区"
            )
            .unwrap(),
            "广西壮族自治区"
        );
        assert_eq!(
            run(&Operator::GeneralizeGps { grid: 0.01 }, "22.5789,113.0812").unwrap(),
            "22.575,113.085"
        );
        assert_eq!(
            run(&Operator::GeneralizeNumber { width: 1000.0 }, "12,345.6").unwrap(),
            "[12000,13000)"
        );
        assert!(Operator::GeneralizeNumber { width: 10.0 }
            .apply("abc", None, &ApplyCtx::default())
            .is_err());
    }

    #[test]
    fn date_shift_is_consistent_per_entity() {
        let op = Operator::DateShift {
            max_days: 30,
            entity: Some("id".into()),
        };
        let k = keys();
        let ctx = |e| ApplyCtx {
            entity: Some(e),
            row: 0,
            column: "d",
            pseudonym_tag: None,
        };
        let a1 = op
            .apply("2020-01-10", Some(&k), &ctx("P1"))
            .unwrap()
            .unwrap();
        let a2 = op
            .apply("2020-01-20", Some(&k), &ctx("P1"))
            .unwrap()
            .unwrap();
        let da = |s: &str| {
            let p = parse_date(s).unwrap();
            days_from_civil(p.year, p.month, p.day)
        };
        assert_eq!(da(&a2) - da(&a1), 10, "interval within an entity is kept");
        let shift = da(&a1) - da("2020-01-10");
        assert!(shift != 0 && shift.abs() <= 30);
        let t = op
            .apply("2020-01-10 08:30:00", Some(&k), &ctx("P1"))
            .unwrap()
            .unwrap();
        assert!(t.ends_with(" 08:30:00") && t.starts_with(&a1));
    }

    #[test]
    fn noise_keeps_scale_and_decimals() {
        let op = Operator::Noise { relative: 0.1 };
        let out = run(&op, "1000.00").unwrap();
        let v: f64 = out.parse().unwrap();
        assert!((900.0..=1100.0).contains(&v));
        assert_eq!(out.split('.').nth(1).unwrap().len(), 2);
    }

    /// Address generalization as first written (byte substring search): the reference.
    fn generalize_address_reference(value: &str, level: AddressLevel) -> String {
        fn find_level(s: &str, from: usize, suffixes: &[&str], window: usize) -> Option<usize> {
            let tail = &s[from..];
            let limit: usize = tail.chars().take(window).map(char::len_utf8).sum();
            suffixes
                .iter()
                .filter_map(|suf| {
                    tail[..limit]
                        .find(suf)
                        .map(|i| from + i + suf.len())
                        .filter(|&end| end > from + suf.len())
                })
                .min()
        }
        let s = value.trim();
        let province_end = if MUNICIPALITIES.iter().any(|m| s.starts_with(m)) {
            find_level(s, 0, &["市"], 4).or(Some(MUNICIPALITIES[0].len()))
        } else {
            find_level(s, 0, &["特别行政区", "自治区", "省"], 10)
        };
        let from = province_end.unwrap_or(0);
        let municipality = MUNICIPALITIES.iter().any(|m| s.starts_with(m));
        let city_end = if municipality {
            province_end
        } else {
            find_level(s, from, &["自治州", "地区", "盟", "市"], 8)
        };
        let district_end = find_level(s, city_end.unwrap_or(from), &["区", "县", "旗", "市"], 8);
        let end = match level {
            AddressLevel::Province => province_end.or(city_end),
            AddressLevel::City => city_end.or(province_end),
            AddressLevel::District => district_end.or(city_end).or(province_end),
        };
        match end {
            Some(e) => s[..e].to_string(),
            None => s.chars().take(2).collect(),
        }
    }

    proptest::proptest! {
        #[test]
        fn address_levels_agree_with_substring_search(
            s in "[省市区县自治州地区盟旗特别行政北京上海广东江门蓬江a1 　]{0,40}",
        ) {
            for level in [AddressLevel::Province, AddressLevel::City, AddressLevel::District] {
                let mut fresh = String::new();
                generalize_address_into(&s, level, &mut fresh);
                proptest::prop_assert_eq!(&fresh, &generalize_address_reference(&s, level));
                // Through apply_into, reusing a buffer that held something else.
                let mut out = String::from("stale");
                let op = Operator::GeneralizeAddress(level);
                proptest::prop_assert!(op.apply_into(&s, None, &ApplyCtx::default(), &mut out).unwrap());
                proptest::prop_assert_eq!(&out, &fresh);
            }
        }

        #[test]
        fn push_int_agrees_with_display(v in proptest::num::i64::ANY) {
            let mut out = String::from("x");
            push_int(&mut out, v);
            proptest::prop_assert_eq!(out, format!("x{v}"));
        }

        #[test]
        fn trim_agrees_with_str_trim(s in "[ \t\n\x0b\x0c\r\u{85}\u{a0}\u{3000}\u{2028}a张,]{0,8}") {
            proptest::prop_assert_eq!(trim(&s), s.trim());
        }

        #[test]
        fn operators_never_panic(s in "\\PC{0,40}") {
            let k = keys();
            for op in [part(2, 2, None), Operator::GeneralizeDate(DateLevel::Year), Operator::GeneralizeAddress(AddressLevel::District),
                Operator::GeneralizeGps { grid: 0.1 }, Operator::GeneralizeNumber { width: 10.0 }, Operator::Truncate { keep: 3 },
                Operator::DateShift { max_days: 10, entity: None }, Operator::Noise { relative: 0.1 },
                Operator::Fpe { alphabet: Alphabet::Chinese, tweak: String::new() }, Operator::Fpe { alphabet: Alphabet::Digits, tweak: String::new() },
                Operator::Pseudonym { prefix: String::new(), format: PseudonymFormat::Digits, namespace: String::new() }] {
                let _ = op.apply(&s, Some(&k), &ApplyCtx::default());
            }
        }
    }
}
