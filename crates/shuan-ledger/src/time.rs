//! Timestamps: microseconds since the Unix epoch, written as RFC 3339 UTC with exactly six
//! fractional digits (`2026-11-22T02:54:28.123456Z`) so that every instant has one spelling.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// An instant in UTC with microsecond precision (微秒).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A timestamp string that is not RFC 3339 (or a bare date).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid time {input:?}: expected RFC 3339 such as 2026-01-31T08:00:00Z or a date 2026-01-31"
)]
pub struct TimeParseError {
    /// The rejected text.
    pub input: String,
}

pub(crate) use shuan_calendar::days_in_month;
use shuan_calendar::{civil_from_days, days_from_civil};

impl Timestamp {
    /// The current time of the system clock.
    pub fn now() -> Self {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_micros() as i64)
    }

    /// Microseconds since 1970-01-01T00:00:00Z.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// This instant shifted by whole days (negative for the past).
    pub fn plus_days(self, days: i64) -> Self {
        Timestamp(self.0.saturating_add(days.saturating_mul(86_400_000_000)))
    }

    /// Parses RFC 3339 (`2026-01-31T08:00:00Z`, `...T08:00:00.5+08:00`) or a bare date
    /// (`2026-01-31`, meaning midnight UTC). Fractions beyond microseconds are truncated.
    pub fn parse(input: &str) -> Result<Self, TimeParseError> {
        let err = || TimeParseError {
            input: input.to_string(),
        };
        let b = input.trim().as_bytes();
        let num = |s: &[u8]| -> Result<i64, TimeParseError> {
            if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
                return Err(err());
            }
            std::str::from_utf8(s)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(err)
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let y = num(&b[0..4])?;
        let mo = num(&b[5..7])? as u32;
        let d = num(&b[8..10])? as u32;
        if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
            return Err(err());
        }
        let days = days_from_civil(y, mo, d);
        if b.len() == 10 {
            return Ok(Timestamp(days * 86_400_000_000));
        }
        if b.len() < 20 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
            return Err(err());
        }
        let h = num(&b[11..13])?;
        let mi = num(&b[14..16])?;
        let s = num(&b[17..19])?;
        if h > 23 || mi > 59 || s > 60 {
            return Err(err());
        }
        let mut i = 19;
        let mut frac: i64 = 0;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 6 {
                    frac = frac * 10 + (b[i] - b'0') as i64;
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return Err(err());
            }
            for _ in n..6 {
                frac *= 10;
            }
        }
        let offset_secs = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let oh = num(&b[i + 1..i + 3])?;
                let om = num(&b[i + 4..i + 6])?;
                if oh > 23 || om > 59 {
                    return Err(err());
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return Err(err()),
        };
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_secs;
        Ok(Timestamp(secs * 1_000_000 + frac))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_known_instants() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
        // 2000-03-01 is day 11017 after the epoch (leap-century rule).
        let t = Timestamp::parse("2000-03-01T00:00:00Z").unwrap();
        assert_eq!(t.0, 11017 * 86_400_000_000);
        let t = Timestamp::parse("2026-11-22T10:54:28.5+08:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T02:54:28.500000Z");
        assert_eq!(
            Timestamp::parse("2026-01-31").unwrap().to_string(),
            "2026-01-31T00:00:00.000000Z"
        );
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "2026-02-30",
            "2026-13-01",
            "2026-01-01T25:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "２０２６-01-01",
            "2026-01-01T00:00:00+0800",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_over_a_wide_range() {
        let mut t = -62_135_596_800_000_000i64; // year 1
        while t < 253_402_300_799_000_000 {
            let ts = Timestamp(t);
            assert_eq!(Timestamp::parse(&ts.to_string()).unwrap(), ts);
            t += 86_400_000_000 * 37 + 3_723_000_001;
        }
    }
}
