//! The work calendar (工作日历): deadlines of share requests count working days (国务院令
//! 第809号: the provider answers a conditional request within a number of working days; 10
//! is the common default). Weekends are rest days, holidays (法定节假日) are rest days, and
//! make-up working days (调休上班) are working days even on a weekend — all three as data,
//! never as code: [`WorkCalendar::from_json`] reads them, and the built-in calendar
//! ([`WorkCalendar::builtin`], `calendars/cn.json`) is only a starting point an operator
//! replaces each year.
//!
//! Days are counted in the calendar's time zone (UTC+8 for the built-in one). A deadline
//! of `n` working days from a moment is the end of the `n`-th working day after the day of
//! that moment (the filing day itself is not counted, whether or not it is a working day).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use shuan_calendar::{civil_from_days, days_from_civil, days_in_month};

use crate::{Refusal, UnixTime};

/// Working days a provider has to answer a conditional request, unless configured.
pub const DEFAULT_ANSWER_DAYS: u32 = 10;

/// Holidays and make-up days, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    name: String,
    utc_offset_secs: i64,
    holidays: BTreeSet<i64>,
    workdays: BTreeSet<i64>,
}

/// The JSON form: dates `YYYY-MM-DD` or ranges `YYYY-MM-DD..YYYY-MM-DD` (inclusive).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[serde(default)]
    name: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default = "default_offset")]
    utc_offset_minutes: i64,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
}

fn default_offset() -> i64 {
    480
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (a real date: month 1–12, day within it).
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = &text[r];
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (m, d) = (u32::try_from(m).ok()?, u32::try_from(d).ok()?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

impl WorkCalendar {
    /// Weekends only, in UTC+8.
    pub fn weekends_only() -> WorkCalendar {
        WorkCalendar {
            name: "周末（无节假日数据）".into(),
            utc_offset_secs: 8 * 3600,
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        }
    }

    /// The calendar shipped with shuan (`calendars/cn.json`).
    pub fn builtin() -> WorkCalendar {
        WorkCalendar::from_json(
            &serde_json::from_str(include_str!("../calendars/cn.json"))
                .expect("built-in calendar is JSON"),
        )
        .expect("the built-in calendar is valid")
    }

    /// Reads `{name?, utc_offset_minutes?, holidays: [...], workdays: [...]}`.
    pub fn from_json(value: &serde_json::Value) -> Result<WorkCalendar, Refusal> {
        let bad = |m: String| Refusal::new("invalid_input", m);
        let file: CalendarFile = serde_json::from_value(value.clone()).map_err(|e| {
            bad(format!(
                "工作日历格式错误 (calendar: {e}); expected {{name, utc_offset_minutes, holidays: [\"YYYY-MM-DD\" | \"YYYY-MM-DD..YYYY-MM-DD\"], workdays: [...]}}"
            ))
        })?;
        if !(-14 * 60..=14 * 60).contains(&file.utc_offset_minutes) {
            return Err(bad("utc_offset_minutes 须在 −840…840 之间".into()));
        }
        let days = |list: &[String], what: &str| -> Result<BTreeSet<i64>, Refusal> {
            let mut out = BTreeSet::new();
            for item in list {
                let (from, to) = match item.split_once("..") {
                    Some((a, b)) => (parse_date(a), parse_date(b)),
                    None => (parse_date(item), parse_date(item)),
                };
                let (Some(from), Some(to)) = (from, to) else {
                    return Err(bad(format!(
                        "{what} 中的日期 {item:?} 无效，须为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD"
                    )));
                };
                if to < from || to - from > 60 {
                    return Err(bad(format!(
                        "{what} 中的区间 {item:?} 须从前到后且不超过 60 天"
                    )));
                }
                out.extend(from..=to);
            }
            Ok(out)
        };
        let holidays = days(&file.holidays, "holidays")?;
        let workdays = days(&file.workdays, "workdays")?;
        if let Some(both) = holidays.intersection(&workdays).next() {
            return Err(bad(format!(
                "{} 既是节假日又是调休上班日 (a day cannot be both)",
                format_date(*both)
            )));
        }
        Ok(WorkCalendar {
            name: file.name,
            utc_offset_secs: file.utc_offset_minutes * 60,
            holidays,
            workdays,
        })
    }

    /// The JSON form (each day listed once).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "utc_offset_minutes": self.utc_offset_secs / 60,
            "holidays": self.holidays.iter().map(|d| format_date(*d)).collect::<Vec<_>>(),
            "workdays": self.workdays.iter().map(|d| format_date(*d)).collect::<Vec<_>>(),
        })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local day (days since 1970-01-01 in the calendar's zone) of a moment.
    pub fn day_of(&self, t: UnixTime) -> i64 {
        (t + self.utc_offset_secs).div_euclid(86_400)
    }

    /// The moment a local day starts.
    pub fn start_of(&self, day: i64) -> UnixTime {
        day * 86_400 - self.utc_offset_secs
    }

    /// Whether `day` is a working day: a make-up day always is; a holiday never is;
    /// otherwise Monday to Friday.
    pub fn is_working_day(&self, day: i64) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        weekday(day) < 5
    }

    /// The `n`-th working day after `day` (`day` itself not counted); `day` when `n` is 0.
    pub fn add_working_days(&self, day: i64, n: u32) -> i64 {
        let mut d = day;
        let mut left = n;
        while left > 0 {
            d += 1;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The deadline `n` working days after `now`: the end (exclusive) of the `n`-th working
    /// day after the local day of `now`.
    pub fn deadline(&self, now: UnixTime, n: u32) -> UnixTime {
        self.start_of(self.add_working_days(self.day_of(now), n) + 1)
    }

    /// Working days from the local day of `from` to that of `to`, counting the days after
    /// `from` up to and including `to` (0 when `to` is not later).
    pub fn working_days_between(&self, from: UnixTime, to: UnixTime) -> u32 {
        let (a, b) = (self.day_of(from), self.day_of(to));
        (a + 1..=b)
            .filter(|d| self.is_working_day(*d))
            .count()
            .try_into()
            .unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> i64 {
        parse_date(s).unwrap()
    }

    /// 00:00 of a date in UTC+8.
    fn at(s: &str, hh: i64) -> UnixTime {
        WorkCalendar::weekends_only().start_of(day(s)) + hh * 3600
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(format_date(day("2025-09-28")), "2025-09-28");
        for bad in [
            "2025-02-29",
            "2025-13-01",
            "2025-9-28",
            "２０２５-09-28",
            "2025-09-28x",
            "",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        assert_eq!(parse_date("2024-02-29"), Some(day("2024-02-29")));
        assert_eq!(weekday(day("2025-09-28")), 6, "a Sunday");
        assert_eq!(weekday(day("1970-01-01")), 3, "a Thursday");
    }

    /// National Day 2025: 10-01…10-08 off, Sunday 09-28 and Saturday 10-11 make-up days.
    /// A request filed Friday 09-26 at 17:00 (UTC+8), due in 10 working days: 09-28 (the
    /// make-up Sunday), 09-29, 09-30, then after the holiday 10-09, 10-10, 10-11 (the
    /// make-up Saturday), 10-13, 10-14, 10-15, 10-16: due at the end of 10-16.
    #[test]
    fn ten_working_days_across_national_day_2025() {
        let c = WorkCalendar::builtin();
        assert!(c.is_working_day(day("2025-09-28")), "调休 Sunday");
        assert!(!c.is_working_day(day("2025-10-06")), "a holiday Monday");
        assert!(c.is_working_day(day("2025-10-11")), "调休 Saturday");
        assert!(!c.is_working_day(day("2025-10-12")), "an ordinary Sunday");
        let filed = at("2025-09-26", 17);
        let due = c.deadline(filed, DEFAULT_ANSWER_DAYS);
        assert_eq!(due, at("2025-10-17", 0));
        assert_eq!(c.working_days_between(filed, due - 1), 10);
        // Without the holiday data the same request would be due a week earlier.
        let plain = WorkCalendar::weekends_only();
        assert_eq!(plain.deadline(filed, 10), at("2025-10-11", 0));
    }

    /// The clock is injected: one second before midnight UTC+8 is still the filing day, one
    /// second after is the next day, and the deadline moves with it.
    #[test]
    fn the_filing_day_is_local() {
        let c = WorkCalendar::builtin();
        // Saturday 2025-09-27 23:59:59 UTC+8 → the next working day is the make-up Sunday.
        let late_saturday = at("2025-09-28", 0) - 1;
        assert_eq!(c.deadline(late_saturday, 1), at("2025-09-29", 0));
        // Sunday 00:00:01 → the Sunday is the filing day, not counted; Monday is day 1.
        assert_eq!(c.deadline(at("2025-09-28", 0) + 1, 1), at("2025-09-30", 0));
        assert_eq!(c.deadline(late_saturday, 0), at("2025-09-28", 0));
    }

    #[test]
    fn calendars_are_data() {
        let c = WorkCalendar::from_json(&serde_json::json!({
            "name": "测试",
            "holidays": ["2030-01-01..2030-01-03"],
            "workdays": ["2030-01-05"]
        }))
        .unwrap();
        // 2029-12-31 is a Monday; 01-01..03 off; Saturday 01-05 on.
        let monday = c.start_of(day("2029-12-31")) + 3600;
        assert_eq!(c.add_working_days(c.day_of(monday), 2), day("2030-01-05"));
        let round = WorkCalendar::from_json(&c.to_json()).unwrap();
        assert_eq!(round, c);
        for bad in [
            serde_json::json!({"holidays": ["2030-02-30"]}),
            serde_json::json!({"holidays": ["2030-01-05"], "workdays": ["2030-01-05"]}),
            serde_json::json!({"holidays": ["2030-03-01..2030-01-01"]}),
            serde_json::json!({"holidays": ["2030-01-01..2030-12-31"]}),
            serde_json::json!({"rest": []}),
            serde_json::json!({"utc_offset_minutes": 100000}),
        ] {
            assert!(WorkCalendar::from_json(&bad).is_err(), "{bad}");
        }
    }
}
