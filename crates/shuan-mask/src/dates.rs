//! Civil-calendar arithmetic and the date formats found in government tables.

use shuan_calendar::days_in_month;
pub use shuan_calendar::{civil_from_days, days_from_civil};

/// How a parsed date was written, so a shifted date is written the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateStyle {
    /// `1990-05-17` / `1990/05/17` / `1990.05.17` (separator kept).
    Separated(char),
    /// `19900517`.
    Compact,
    /// `1990年5月17日`.
    Chinese,
}

/// A date found at the start of a value; `rest` is the byte offset of any time suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedDate {
    /// Year.
    pub year: i64,
    /// Month 1-12.
    pub month: u32,
    /// Day 1-31.
    pub day: u32,
    /// Input style.
    pub style: DateStyle,
    /// Byte offset where the date ends (a time or other suffix may follow).
    pub rest: usize,
}

fn take_digits(s: &str, max: usize) -> Option<(u32, usize)> {
    let n = s
        .bytes()
        .take(max)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if n == 0 {
        return None;
    }
    Some((s[..n].parse().ok()?, n))
}

/// Parse a leading date in one of the supported styles.
pub fn parse_date(s: &str) -> Option<ParsedDate> {
    let s_trim = s;
    let (year, ylen) = take_digits(s_trim, 4)?;
    if ylen != 4 {
        return None;
    }
    let after = &s_trim[4..];
    let (month, day, style, rest) = if after.starts_with('年') {
        let a = &after['年'.len_utf8()..];
        let (m, ml) = take_digits(a, 2)?;
        let a2 = a[ml..].strip_prefix('月')?;
        let (d, dl) = take_digits(a2, 2)?;
        let a3 = &a2[dl..];
        let consumed = s_trim.len() - a3.len();
        let consumed = if a3.starts_with('日') {
            consumed + '日'.len_utf8()
        } else {
            consumed
        };
        (m, d, DateStyle::Chinese, consumed)
    } else if let Some(sep) = after
        .chars()
        .next()
        .filter(|c| matches!(c, '-' | '/' | '.'))
    {
        let a = &after[1..];
        let (m, ml) = take_digits(a, 2)?;
        let a2 = a[ml..].strip_prefix(sep)?;
        let (d, dl) = take_digits(a2, 2)?;
        (m, d, DateStyle::Separated(sep), 4 + 1 + ml + 1 + dl)
    } else {
        if after.len() < 4 || !after.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            return None;
        }
        if after.as_bytes().get(4).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let m: u32 = after[..2].parse().ok()?;
        let d: u32 = after[2..4].parse().ok()?;
        (m, d, DateStyle::Compact, 8)
    };
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year as i64, month) {
        return None;
    }
    Some(ParsedDate {
        year: year as i64,
        month,
        day,
        style,
        rest,
    })
}

/// Write a date in `style`.
pub fn format_date(y: i64, m: u32, d: u32, style: DateStyle) -> String {
    match style {
        DateStyle::Separated(c) => format!("{y:04}{c}{m:02}{c}{d:02}"),
        DateStyle::Compact => format!("{y:04}{m:02}{d:02}"),
        DateStyle::Chinese => format!("{y}年{m}月{d}日"),
    }
}

/// Today's date (UTC) as (year, month, day).
pub fn today() -> (i64, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    civil_from_days(secs.div_euclid(86400))
}

/// RFC 3339 UTC timestamp of now, e.g. `2026-11-22T03:04:05Z`.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let t = secs.rem_euclid(86400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for days in [-800_000i64, -1, 0, 1, 11_000, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn parses_styles() {
        let p = parse_date("1990-05-17 08:00").unwrap();
        assert_eq!((p.year, p.month, p.day, p.rest), (1990, 5, 17, 10));
        assert_eq!(parse_date("19900517").unwrap().style, DateStyle::Compact);
        let c = parse_date("1990年5月17日").unwrap();
        assert_eq!((c.month, c.day, c.style), (5, 17, DateStyle::Chinese));
        assert!(parse_date("1990-02-30").is_none());
        assert!(parse_date("199005171").is_none());
        assert!(parse_date("abc").is_none());
        assert!(parse_date("").is_none());
        assert_eq!(
            format_date(1990, 5, 7, DateStyle::Separated('/')),
            "1990/05/07"
        );
    }
}
