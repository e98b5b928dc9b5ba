//! How the console writes values for people: dates as 2026年12月3日 in Beijing time,
//! counts with 万 where natural, scopes and outcomes by their Chinese names.

use shuan_calendar::civil_from_days;

/// Beijing time is UTC+8 all year (no daylight saving).
const BEIJING_OFFSET_SECS: i64 = 8 * 3600;

/// Whether two texts are equal (for templates, whose loop variables are references of
/// varying depth).
pub fn is(a: &str, b: &str) -> bool {
    a == b
}

/// A date: `2026年12月3日`.
pub fn date(unix: i64) -> String {
    let (y, m, d) = civil_from_days((unix + BEIJING_OFFSET_SECS).div_euclid(86_400));
    format!("{y}年{m}月{d}日")
}

/// A date and time to the minute: `2026年12月3日 09:05`.
pub fn date_time(unix: i64) -> String {
    let secs = (unix + BEIJING_OFFSET_SECS).rem_euclid(86_400);
    format!("{} {:02}:{:02}", date(unix), secs / 3600, secs % 3600 / 60)
}

/// A date and time to the second: `2026年12月3日 09:05:07`.
pub fn date_time_secs(unix: i64) -> String {
    let secs = (unix + BEIJING_OFFSET_SECS).rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}:{:02}",
        date(unix),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The Beijing calendar day of a Unix time, as days since 1970-01-01.
pub fn beijing_day(unix: i64) -> i64 {
    (unix + BEIJING_OFFSET_SECS).div_euclid(86_400)
}

/// Unix seconds of Beijing midnight starting the day `YYYY-MM-DD` (a date input's value);
/// `None` for anything else.
pub fn parse_date(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = value[..4].parse().ok()?;
    let m: u32 = value[5..7].parse().ok()?;
    let d: u32 = value[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > shuan_calendar::days_in_month(y, m) {
        return None;
    }
    Some(shuan_calendar::days_from_civil(y, m, d) * 86_400 - BEIJING_OFFSET_SECS)
}

/// A count as people read it: below 10,000 as is, from there in 万 with one decimal
/// (12,345 → 1.2万), from 1亿 in 亿.
pub fn count(n: u64) -> String {
    if n < 10_000 {
        n.to_string()
    } else if n < 100_000_000 {
        trim_decimal(format!("{:.1}", n as f64 / 10_000.0)) + "万"
    } else {
        trim_decimal(format!("{:.1}", n as f64 / 100_000_000.0)) + "亿"
    }
}

fn trim_decimal(s: String) -> String {
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// A duration in minutes or hours or days.
pub fn duration(secs: i64) -> String {
    if secs % 86_400 == 0 && secs >= 86_400 {
        format!("{}天", secs / 86_400)
    } else if secs % 3600 == 0 && secs >= 3600 {
        format!("{}小时", secs / 3600)
    } else if secs >= 60 {
        format!("{}分钟", secs / 60)
    } else {
        format!("{secs}秒")
    }
}

/// A data scope by its Chinese name.
pub fn scope(s: &crate::routes::identity::ScopeBody) -> String {
    use crate::routes::identity::ScopeBody;
    match s {
        ScopeBody::All => "全部数据".into(),
        ScopeBody::Chosen { departments } => format!("自定数据（{}）", departments.join("、")),
        ScopeBody::OwnDepartment => "本部门数据".into(),
        ScopeBody::OwnDepartmentAndBelow => "本部门及以下数据".into(),
        ScopeBody::SelfOnly => "仅本人数据".into(),
    }
}

/// An audit outcome by its Chinese name.
pub fn outcome(o: &str) -> &'static str {
    match o {
        "allowed" => "允许",
        "denied" => "拒绝",
        "error" => "失败",
        _ => "未知",
    }
}

/// An elevation's status by its Chinese name.
pub fn elevation_status(s: &str) -> &'static str {
    match s {
        "pending" => "待审批",
        "approved" => "已批准",
        "rejected" => "已驳回",
        "expired" => "已到期",
        _ => "未知",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_beijing_time_in_chinese() {
        // 2026-12-02T16:30:00Z is 2026-12-03 00:30 in Beijing.
        let t = shuan_calendar::days_from_civil(2026, 12, 2) * 86_400 + 16 * 3600 + 30 * 60;
        assert_eq!(date(t), "2026年12月3日");
        assert_eq!(date_time(t), "2026年12月3日 00:30");
        assert_eq!(date_time_secs(t + 7), "2026年12月3日 00:30:07");
        assert_eq!(parse_date("2026-12-03"), Some(t - 30 * 60));
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "20261203",
            "2026-1-03",
            "",
            "abcd-ef-gh",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_use_wan_and_yi() {
        assert_eq!(count(9_999), "9999");
        assert_eq!(count(10_000), "1万");
        assert_eq!(count(12_345), "1.2万");
        assert_eq!(count(250_000_000), "2.5亿");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(3600), "1小时");
        assert_eq!(duration(86_400 * 2), "2天");
        assert_eq!(duration(300), "5分钟");
        assert_eq!(duration(30), "30秒");
    }
}
