//! Masking of findings for `shuan redact`: each finding is replaced by a masked form
//! that keeps a hint of what it was (`110105********002X`, `138****8000`, `张*`).

use crate::scan::Finding;
use crate::types::DataType;

const MASK: char = '*';

/// Letters and digits of identifiers, ASCII or full-width (`１３８…` typed in a Chinese
/// input method).
fn is_id_char(c: &char) -> bool {
    c.is_ascii_alphanumeric()
        || ('\u{FF10}'..='\u{FF19}').contains(c)
        || ('\u{FF21}'..='\u{FF3A}').contains(c)
        || ('\u{FF41}'..='\u{FF5A}').contains(c)
}

/// Returns `text` with every finding replaced by its masked form. Findings may be given in
/// any order; overlapping findings are merged into the first, and spans that are out of
/// range or not on char boundaries are ignored rather than panicking.
pub fn redact(text: &str, findings: &[Finding]) -> String {
    let mut spans: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            f.start < f.end
                && f.end <= text.len()
                && text.is_char_boundary(f.start)
                && text.is_char_boundary(f.end)
        })
        .collect();
    spans.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in spans {
        if f.start < at {
            // Overlaps an already masked finding: mask whatever sticks out past it.
            if f.end > at {
                out.extend(text[at..f.end].chars().map(|_| MASK));
                at = f.end;
            }
            continue;
        }
        out.push_str(&text[at..f.start]);
        mask_into(f.data_type, &text[f.start..f.end], &mut out);
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The masked form of one value of type `t`.
pub fn mask_value(t: DataType, value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    mask_into(t, value, &mut out);
    out
}

/// Writes the masked form of `s` to `out`. Whatever the type's layout keeps, a value is
/// never written back unchanged (`fe80::`, a one-character name): then every letter and
/// digit — or, if there are none, every character — is masked.
fn mask_into(t: DataType, s: &str, out: &mut String) {
    let from = out.len();
    mask_layout(t, s, out);
    if out[from..] == *s {
        out.truncate(from);
        if s.chars().any(|c| is_id_char(&c)) {
            out.extend(s.chars().map(|c| if is_id_char(&c) { MASK } else { c }));
        } else {
            out.extend(s.chars().map(|_| MASK));
        }
    }
}

fn mask_layout(t: DataType, s: &str, out: &mut String) {
    let alnum = s.chars().filter(is_id_char).count();
    match t {
        DataType::CnResidentId => keep_alnum(s, 6, if alnum == 18 { 4 } else { 3 }, out),
        DataType::CnMobile => keep_alnum(s, alnum.saturating_sub(8), 4, out),
        DataType::CnLandline => keep_alnum(s, alnum.saturating_sub(6), 2, out),
        DataType::BankCard => keep_alnum(s, 6, 4, out),
        DataType::Imei => keep_alnum(s, 8, 2, out),
        DataType::Email => match s.find('@') {
            Some(at) => {
                // Keep the first character as a hint, unless it is the whole local part.
                let local = &s[..at];
                let mut chars = local.chars();
                if local.chars().nth(1).is_some() {
                    out.extend(chars.next());
                }
                out.extend(chars.map(|_| MASK));
                out.push_str(&s[at..]);
            }
            None => keep_alnum(s, 1, 0, out),
        },
        DataType::CnPlate => {
            // Province + authority letter stay, the last two characters stay.
            let n = s.chars().count();
            for (k, c) in s.chars().enumerate() {
                let keep = k < 2 || k + 2 >= n || !(is_id_char(&c));
                out.push(if keep { c } else { MASK });
            }
        }
        DataType::Ipv4 => mask_after_separators(s, '.', 2, out),
        DataType::Ipv6 => mask_after_separators(s, ':', 2, out),
        DataType::MacAddress => mask_after_separators(s, s.chars().nth(2).unwrap_or(':'), 3, out),
        DataType::BirthDate => {
            // Keep the year.
            let mut digits = 0;
            for c in s.chars() {
                if c.is_ascii_digit() {
                    digits += 1;
                    out.push(if digits <= 4 { c } else { MASK });
                } else {
                    out.push(c);
                }
            }
        }
        DataType::Gps => {
            // Keep two decimals (about 1 km) of each coordinate.
            let mut frac = None;
            for c in s.chars() {
                match (c, frac) {
                    ('.', _) => {
                        frac = Some(0);
                        out.push(c);
                    }
                    (d, Some(k)) if d.is_ascii_digit() => {
                        out.push(if k < 2 { d } else { MASK });
                        frac = Some(k + 1);
                    }
                    _ => {
                        frac = None;
                        out.push(c);
                    }
                }
            }
        }
        DataType::PersonName => {
            let mut chars = s.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            out.extend(chars.map(|_| MASK));
        }
        DataType::Address => {
            // Keep the leading administrative part up to the first district/county marker
            // (at most 12 characters), mask the street and house number.
            let chars: Vec<char> = s.chars().collect();
            let keep = chars
                .iter()
                .take(12)
                .rposition(|c| matches!(c, '区' | '县' | '市' | '旗'))
                .map(|p| p + 1)
                .unwrap_or(chars.len().min(3));
            out.extend(chars[..keep].iter());
            out.extend(chars[keep..].iter().map(|_| MASK));
        }
        _ => {
            let n = if alnum > 0 { alnum } else { s.chars().count() };
            let head = n / 4;
            let tail = n / 4;
            if alnum > 0 {
                keep_alnum(s, head, tail, out);
            } else {
                for (k, c) in s.chars().enumerate() {
                    out.push(if k < head || k + tail >= n { c } else { MASK });
                }
            }
        }
    }
}

/// Keeps the first `head` and last `tail` ASCII alphanumerics (always masking at least
/// one), leaves separators as they are.
fn keep_alnum(s: &str, head: usize, tail: usize, out: &mut String) {
    let n = s.chars().filter(is_id_char).count();
    let (head, tail) = if head + tail >= n {
        (n.saturating_sub(1) / 2, 0)
    } else {
        (head, tail)
    };
    let mut k = 0;
    for c in s.chars() {
        if is_id_char(&c) {
            out.push(if k < head || k + tail >= n { c } else { MASK });
            k += 1;
        } else {
            out.push(c);
        }
    }
}

/// Keeps everything up to the `keep`-th separator, masks alphanumerics after it.
fn mask_after_separators(s: &str, sep: char, keep: usize, out: &mut String) {
    let mut seps = 0;
    for c in s.chars() {
        if c == sep {
            seps += 1;
            out.push(c);
        } else if seps >= keep && is_id_char(&c) {
            out.push(MASK);
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TextScanner;

    fn red(text: &str) -> String {
        redact(text, &TextScanner::new().scan(text))
    }

    #[test]
    fn masks_keep_hints() {
        assert_eq!(
            mask_value(DataType::CnResidentId, "11010519491231002X"),
            "110105********002X"
        );
        assert_eq!(mask_value(DataType::CnMobile, "13800138000"), "138****8000");
        assert_eq!(
            mask_value(DataType::CnMobile, "+86 138 0013 8000"),
            "+86 138 **** 8000"
        );
        assert_eq!(mask_value(DataType::PersonName, "张三"), "张*");
        assert_eq!(
            mask_value(DataType::Email, "zhang@example.com"),
            "z****@example.com"
        );
        assert_eq!(
            mask_value(DataType::BankCard, "6212261234567890128"),
            "621226*********0128"
        );
        assert_eq!(mask_value(DataType::Ipv4, "192.168.1.10"), "192.168.*.**");
        assert_eq!(mask_value(DataType::CnPlate, "京A12345"), "京A***45");
        assert_eq!(
            mask_value(DataType::BirthDate, "1990年5月17日"),
            "1990年*月**日"
        );
        assert_eq!(
            mask_value(DataType::Address, "北京市朝阳区建国路88号"),
            "北京市朝阳区******"
        );
    }

    #[test]
    fn one_character_local_part_is_masked() {
        // Regression: the first character was kept, so `a@example.com` came out unchanged.
        assert_eq!(
            mask_value(DataType::Email, "a@example.com"),
            "*@example.com"
        );
        assert_eq!(red("邮箱a@example.com。"), "邮箱*@example.com。");
        assert_eq!(
            mask_value(DataType::Email, "ab@example.com"),
            "a*@example.com"
        );
    }

    #[test]
    fn values_the_layout_would_keep_whole_are_masked() {
        // Regression: these came out unchanged.
        assert_eq!(mask_value(DataType::Ipv6, "fe80::"), "****::");
        assert_eq!(red("地址1::"), "地址*::");
        assert_eq!(mask_value(DataType::PersonName, "张"), "*");
    }

    #[test]
    fn redacts_text() {
        assert_eq!(
            red("联系人：张三，电话13800138000。"),
            "联系人：张*，电话138****8000。"
        );
        assert_eq!(
            red("身份证号11010519491231002X"),
            "身份证号110105********002X"
        );
        assert_eq!(red("没有敏感信息"), "没有敏感信息");
    }

    #[test]
    fn bad_spans_do_not_panic() {
        let f = |s, e| Finding {
            data_type: DataType::CnMobile,
            start: s,
            end: e,
            confidence: 1.0,
            reason: String::new(),
        };
        let text = "张三13800138000";
        assert_eq!(redact(text, &[f(1, 5), f(3, 100), f(9, 3)]), text);
        let out = redact(text, &[f(3, 14), f(6, 17)]);
        assert!(!out.contains("13800138000"), "{out}");
    }
}
