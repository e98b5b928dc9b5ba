//! The rule set (规则集): seven rules with their thresholds, read from TOML.
//!
//! Every key is optional; a missing key keeps its built-in default ([`DEFAULT_RULES_TOML`]).
//! Parsing walks the TOML table by hand rather than through serde so that every refusal
//! names the key it is about (`volume_spike.factor: …`), including unknown keys.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use toml::{Table, Value};

/// The built-in rule set as a commented TOML file: what `RuleSet::default()` holds and
/// the template a security administrator edits.
pub const DEFAULT_RULES_TOML: &str = include_str!("default_rules.toml");

/// How serious an alert is (严重程度).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// 低
    Low,
    /// 中
    Medium,
    /// 高
    High,
    /// 严重
    Critical,
}

impl Severity {
    /// The stable id (`low`, `medium`, `high`, `critical`).
    pub fn id(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Low => "低",
            Severity::Medium => "中",
            Severity::High => "高",
            Severity::Critical => "严重",
        }
    }

    fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The rules (规则), by stable id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// `volume_spike`: 调用量突增.
    VolumeSpike,
    /// `enumeration`: 枚举遍历.
    Enumeration,
    /// `off_hours`: 非工作时间访问.
    OffHours,
    /// `after_denials`: 拒绝后成功.
    AfterDenials,
    /// `new_address`: 新地址.
    NewAddress,
    /// `vendor_bulk_export`: 供应商批量导出.
    VendorBulkExport,
    /// `outside_purpose`: 超范围使用.
    OutsidePurpose,
}

impl RuleId {
    /// Every rule, in documentation order.
    pub const ALL: [RuleId; 7] = [
        RuleId::VolumeSpike,
        RuleId::Enumeration,
        RuleId::OffHours,
        RuleId::AfterDenials,
        RuleId::NewAddress,
        RuleId::VendorBulkExport,
        RuleId::OutsidePurpose,
    ];

    /// The stable id, also the rule's TOML section.
    pub fn id(self) -> &'static str {
        match self {
            RuleId::VolumeSpike => "volume_spike",
            RuleId::Enumeration => "enumeration",
            RuleId::OffHours => "off_hours",
            RuleId::AfterDenials => "after_denials",
            RuleId::NewAddress => "new_address",
            RuleId::VendorBulkExport => "vendor_bulk_export",
            RuleId::OutsidePurpose => "outside_purpose",
        }
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            RuleId::VolumeSpike => "调用量突增",
            RuleId::Enumeration => "枚举遍历",
            RuleId::OffHours => "非工作时间访问",
            RuleId::AfterDenials => "拒绝后成功",
            RuleId::NewAddress => "新地址访问",
            RuleId::VendorBulkExport => "供应商批量导出",
            RuleId::OutsidePurpose => "超范围使用",
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Why a rule set was refused. Every variant names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleSetError {
    /// Not TOML at all.
    #[error("规则集不是有效的 TOML (the rule set is not valid TOML): {0}")]
    Syntax(String),
    /// A section or key the rule set does not have.
    #[error("未知的键 `{0}` (unknown key `{0}`)")]
    UnknownKey(String),
    /// A known key with a bad value.
    #[error("`{key}` 的值无效 (invalid value for `{key}`): {message}")]
    Invalid {
        /// `section.key`.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

/// Engine-wide settings (`[engine]`).
#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    /// The action id of a data-service call.
    pub service_action: String,
    /// Callers whose state is kept at once.
    pub max_actors: usize,
    /// Record references kept per alert.
    pub max_evidence: usize,
}

/// What `volume_spike` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Service calls (any outcome).
    Calls,
    /// Rows answered.
    Rows,
}

/// `[volume_spike]`.
#[derive(Clone, Debug, PartialEq)]
pub struct VolumeSpike {
    /// On or off.
    pub enabled: bool,
    /// Alert severity.
    pub severity: Severity,
    /// Window length.
    pub window_minutes: u32,
    /// Calls or rows.
    pub measure: Measure,
    /// Active windows kept as the baseline.
    pub baseline_windows: usize,
    /// Active windows needed before any alert.
    pub min_baseline_windows: usize,
    /// Alert above this multiple of the baseline median.
    pub factor: f64,
    /// And at or above this count.
    pub min_count: u64,
}

/// `[enumeration]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Enumeration {
    /// On or off.
    pub enabled: bool,
    /// Alert severity.
    pub severity: Severity,
    /// Window length.
    pub window_minutes: u32,
    /// A lookup answers at most this many rows.
    pub max_rows: u64,
    /// Distinct parameter values that alert.
    pub min_distinct: usize,
    /// Largest step between visible digits counted as sequential.
    pub max_step: u64,
    /// Sequential steps that alert with `sequential_severity`.
    pub min_sequential: usize,
    /// Severity when the values step sequentially.
    pub sequential_severity: Severity,
    /// Parameter names that are not lookup values.
    pub ignore_params: Vec<String>,
}

/// `[off_hours]`.
#[derive(Clone, Debug, PartialEq)]
pub struct OffHours {
    /// On or off.
    pub enabled: bool,
    /// Alert severity.
    pub severity: Severity,
    /// Local time's offset from UTC in minutes (+480 for +08:00).
    pub utc_offset_minutes: i32,
    /// Working weekdays, Monday first.
    pub days: [bool; 7],
    /// Start of working hours, minutes after local midnight.
    pub start_minute: u32,
    /// End of working hours (exclusive), minutes after local midnight.
    pub end_minute: u32,
    /// Extra days off, as days since 1970-01-01 (local date).
    pub holidays: BTreeSet<i64>,
    /// Extra working days (调休), as days since 1970-01-01.
    pub workdays: BTreeSet<i64>,
    /// Dedup window length.
    pub window_minutes: u32,
    /// Off-hours calls in a window that alert.
    pub min_calls: u64,
}

/// `[after_denials]`.
#[derive(Clone, Debug, PartialEq)]
pub struct AfterDenials {
    /// On or off.
    pub enabled: bool,
    /// Alert severity.
    pub severity: Severity,
    /// How far back denials count.
    pub window_minutes: u32,
    /// Denials needed.
    pub min_denials: usize,
    /// Allowed actions that count as getting through.
    pub actions: Vec<String>,
}

/// `[new_address]`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewAddress {
    /// On or off.
    pub enabled: bool,
    /// Alert severity.
    pub severity: Severity,
    /// Learning period after a caller's first record.
    pub baseline_days: u32,
    /// Addresses remembered per caller.
    pub max_addresses: usize,
    /// Dedup window length.
    pub window_minutes: u32,
}

/// `[vendor_bulk_export]`.
#[derive(Clone, Debug, PartialEq)]
pub struct VendorBulkExport {
    /// On or off.
    pub enabled: bool,
    /// Alert severity.
    pub severity: Severity,
    /// Role ids marking a vendor account.
    pub roles: Vec<String>,
    /// Window length.
    pub window_minutes: u32,
    /// Rows in a window that alert (0: not by rows).
    pub min_rows: u64,
    /// CSV extracts in a window that alert (0: not by CSV).
    pub min_csv_calls: u64,
}

/// `[outside_purpose]`.
#[derive(Clone, Debug, PartialEq)]
pub struct OutsidePurpose {
    /// On or off.
    pub enabled: bool,
    /// Alert severity.
    pub severity: Severity,
    /// Dedup window length.
    pub window_minutes: u32,
    /// Out-of-scope records in a window that alert.
    pub min_records: u64,
    /// Gateway refusal codes meaning "not covered by the agreement".
    pub denial_codes: Vec<String>,
}

/// The whole rule set (规则集).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSet {
    /// `[engine]`.
    pub engine: EngineConfig,
    /// `[volume_spike]`.
    pub volume_spike: VolumeSpike,
    /// `[enumeration]`.
    pub enumeration: Enumeration,
    /// `[off_hours]`.
    pub off_hours: OffHours,
    /// `[after_denials]`.
    pub after_denials: AfterDenials,
    /// `[new_address]`.
    pub new_address: NewAddress,
    /// `[vendor_bulk_export]`.
    pub vendor_bulk_export: VendorBulkExport,
    /// `[outside_purpose]`.
    pub outside_purpose: OutsidePurpose,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl Default for RuleSet {
    fn default() -> Self {
        RuleSet {
            engine: EngineConfig {
                service_action: "service.call".into(),
                max_actors: 100_000,
                max_evidence: 20,
            },
            volume_spike: VolumeSpike {
                enabled: true,
                severity: Severity::High,
                window_minutes: 60,
                measure: Measure::Calls,
                baseline_windows: 24,
                min_baseline_windows: 5,
                factor: 5.0,
                min_count: 100,
            },
            enumeration: Enumeration {
                enabled: true,
                severity: Severity::High,
                window_minutes: 10,
                max_rows: 1,
                min_distinct: 50,
                max_step: 3,
                min_sequential: 20,
                sequential_severity: Severity::Critical,
                ignore_params: strings(&["limit", "offset"]),
            },
            off_hours: OffHours {
                enabled: true,
                severity: Severity::Medium,
                utc_offset_minutes: 480,
                days: [true, true, true, true, true, false, false],
                start_minute: 8 * 60,
                end_minute: 19 * 60,
                holidays: BTreeSet::new(),
                workdays: BTreeSet::new(),
                window_minutes: 1440,
                min_calls: 1,
            },
            after_denials: AfterDenials {
                enabled: true,
                severity: Severity::High,
                window_minutes: 10,
                min_denials: 5,
                actions: strings(&["service.call", "session.login"]),
            },
            new_address: NewAddress {
                enabled: true,
                severity: Severity::Medium,
                baseline_days: 7,
                max_addresses: 32,
                window_minutes: 1440,
            },
            vendor_bulk_export: VendorBulkExport {
                enabled: true,
                severity: Severity::Critical,
                roles: strings(&["vendor_operator"]),
                window_minutes: 60,
                min_rows: 1000,
                min_csv_calls: 5,
            },
            outside_purpose: OutsidePurpose {
                enabled: true,
                severity: Severity::High,
                window_minutes: 60,
                min_records: 1,
                denial_codes: strings(&[
                    "no_agreement",
                    "fields_not_granted",
                    "purpose_mismatch",
                    "agreement_not_yours",
                ]),
            },
        }
    }
}

/// One TOML section being read: keys are removed as they are understood, so what is
/// left at the end is unknown.
struct Section {
    name: &'static str,
    table: Table,
}

impl Section {
    fn key(&self, k: &str) -> String {
        format!("{}.{k}", self.name)
    }

    fn invalid(&self, k: &str, message: impl Into<String>) -> RuleSetError {
        RuleSetError::Invalid {
            key: self.key(k),
            message: message.into(),
        }
    }

    fn bool(&mut self, k: &str, out: &mut bool) -> Result<(), RuleSetError> {
        match self.table.remove(k) {
            None => Ok(()),
            Some(Value::Boolean(b)) => {
                *out = b;
                Ok(())
            }
            Some(_) => Err(self.invalid(k, "expected true or false")),
        }
    }

    fn int(&mut self, k: &str, min: u64, max: u64) -> Result<Option<u64>, RuleSetError> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::Integer(i)) if i >= 0 && (i as u64) >= min && (i as u64) <= max => {
                Ok(Some(i as u64))
            }
            Some(_) => Err(self.invalid(k, format!("expected an integer from {min} to {max}"))),
        }
    }

    fn u32(&mut self, k: &str, min: u32, max: u32, out: &mut u32) -> Result<(), RuleSetError> {
        if let Some(v) = self.int(k, min.into(), max.into())? {
            *out = v as u32;
        }
        Ok(())
    }

    fn u64(&mut self, k: &str, min: u64, max: u64, out: &mut u64) -> Result<(), RuleSetError> {
        if let Some(v) = self.int(k, min, max)? {
            *out = v;
        }
        Ok(())
    }

    fn usize(
        &mut self,
        k: &str,
        min: usize,
        max: usize,
        out: &mut usize,
    ) -> Result<(), RuleSetError> {
        if let Some(v) = self.int(k, min as u64, max as u64)? {
            *out = v as usize;
        }
        Ok(())
    }

    fn str(&mut self, k: &str) -> Result<Option<String>, RuleSetError> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(k, "expected a string")),
        }
    }

    fn severity(&mut self, k: &str, out: &mut Severity) -> Result<(), RuleSetError> {
        if let Some(s) = self.str(k)? {
            *out = Severity::parse(&s).ok_or_else(|| {
                self.invalid(
                    k,
                    format!("{s:?} is not one of \"low\", \"medium\", \"high\", \"critical\""),
                )
            })?;
        }
        Ok(())
    }

    fn list(&mut self, k: &str, max: usize) -> Result<Option<Vec<String>>, RuleSetError> {
        match self.table.remove(k) {
            None => Ok(None),
            Some(Value::Array(items)) if items.len() <= max => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) if !s.is_empty() && s.len() <= 256 => out.push(s),
                        _ => {
                            return Err(self.invalid(
                                k,
                                "expected a list of non-empty strings (at most 256 bytes each)",
                            ))
                        }
                    }
                }
                Ok(Some(out))
            }
            Some(Value::Array(_)) => Err(self.invalid(k, format!("at most {max} entries"))),
            Some(_) => Err(self.invalid(k, "expected a list of strings")),
        }
    }

    fn list_into(
        &mut self,
        k: &str,
        max: usize,
        out: &mut Vec<String>,
    ) -> Result<(), RuleSetError> {
        if let Some(v) = self.list(k, max)? {
            *out = v;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), RuleSetError> {
        match self.table.keys().next() {
            Some(k) => Err(RuleSetError::UnknownKey(self.key(k))),
            None => Ok(()),
        }
    }
}

const MAX_WINDOW_MINUTES: u32 = 7 * 24 * 60;

fn parse_offset(s: &str) -> Option<i32> {
    if s == "Z" || s == "z" {
        return Some(0);
    }
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' || !matches!(b[0], b'+' | b'-') {
        return None;
    }
    let digits = |x: &[u8]| -> Option<i32> {
        x.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(x).ok()?.parse().ok())?
    };
    let (h, m) = (digits(&b[1..3])?, digits(&b[4..6])?);
    if h > 14 || m > 59 || (h == 14 && m > 0) {
        return None;
    }
    let v = h * 60 + m;
    Some(if b[0] == b'-' { -v } else { v })
}

fn parse_clock(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || !b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit) {
        return None;
    }
    let h: u32 = s[..2].parse().ok()?;
    let m: u32 = s[3..].parse().ok()?;
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let all_digits = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
    if !all_digits(&b[..4]) || !all_digits(&b[5..7]) || !all_digits(&b[8..]) {
        return None;
    }
    let y: i64 = s[..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > shuan_calendar::days_in_month(y, m) {
        return None;
    }
    Some(shuan_calendar::days_from_civil(y, m, d))
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl RuleSet {
    /// Reads a rule set: the defaults with the keys present in `text` replaced.
    pub fn from_toml(text: &str) -> Result<RuleSet, RuleSetError> {
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| RuleSetError::Syntax(e.message().to_string()))?;
        let mut rules = RuleSet::default();
        for (name, value) in table {
            let Value::Table(t) = value else {
                return Err(RuleSetError::Invalid {
                    key: name,
                    message: "expected a table ([section])".into(),
                });
            };
            let section = |name: &'static str| Section { name, table: t };
            match name.as_str() {
                "engine" => rules.read_engine(section("engine"))?,
                "volume_spike" => rules.read_volume(section("volume_spike"))?,
                "enumeration" => rules.read_enumeration(section("enumeration"))?,
                "off_hours" => rules.read_off_hours(section("off_hours"))?,
                "after_denials" => rules.read_after_denials(section("after_denials"))?,
                "new_address" => rules.read_new_address(section("new_address"))?,
                "vendor_bulk_export" => rules.read_vendor(section("vendor_bulk_export"))?,
                "outside_purpose" => rules.read_outside_purpose(section("outside_purpose"))?,
                _ => return Err(RuleSetError::UnknownKey(name)),
            }
        }
        Ok(rules)
    }

    /// Whether `rule` is switched on.
    pub fn enabled(&self, rule: RuleId) -> bool {
        match rule {
            RuleId::VolumeSpike => self.volume_spike.enabled,
            RuleId::Enumeration => self.enumeration.enabled,
            RuleId::OffHours => self.off_hours.enabled,
            RuleId::AfterDenials => self.after_denials.enabled,
            RuleId::NewAddress => self.new_address.enabled,
            RuleId::VendorBulkExport => self.vendor_bulk_export.enabled,
            RuleId::OutsidePurpose => self.outside_purpose.enabled,
        }
    }

    fn read_engine(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let e = &mut self.engine;
        if let Some(a) = s.str("service_action")? {
            if a.is_empty() || a.len() > 128 {
                return Err(s.invalid("service_action", "expected an action id"));
            }
            e.service_action = a;
        }
        s.usize("max_actors", 1, 10_000_000, &mut e.max_actors)?;
        s.usize("max_evidence", 1, 1000, &mut e.max_evidence)?;
        s.finish()
    }

    fn read_volume(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let r = &mut self.volume_spike;
        s.bool("enabled", &mut r.enabled)?;
        s.severity("severity", &mut r.severity)?;
        s.u32(
            "window_minutes",
            1,
            MAX_WINDOW_MINUTES,
            &mut r.window_minutes,
        )?;
        if let Some(m) = s.str("measure")? {
            r.measure = match m.as_str() {
                "calls" => Measure::Calls,
                "rows" => Measure::Rows,
                _ => {
                    return Err(s.invalid("measure", format!("{m:?} is not \"calls\" or \"rows\"")))
                }
            };
        }
        s.usize("baseline_windows", 1, 256, &mut r.baseline_windows)?;
        s.usize("min_baseline_windows", 1, 256, &mut r.min_baseline_windows)?;
        if r.min_baseline_windows > r.baseline_windows {
            return Err(s.invalid(
                "min_baseline_windows",
                format!(
                    "{} is more than baseline_windows ({})",
                    r.min_baseline_windows, r.baseline_windows
                ),
            ));
        }
        match s.table.remove("factor") {
            None => {}
            Some(Value::Float(f)) if f.is_finite() && (1.0..=1000.0).contains(&f) => r.factor = f,
            Some(Value::Integer(i)) if (1..=1000).contains(&i) => r.factor = i as f64,
            Some(_) => return Err(s.invalid("factor", "expected a number from 1 to 1000")),
        }
        s.u64("min_count", 1, u64::MAX >> 1, &mut r.min_count)?;
        s.finish()
    }

    fn read_enumeration(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let r = &mut self.enumeration;
        s.bool("enabled", &mut r.enabled)?;
        s.severity("severity", &mut r.severity)?;
        s.u32(
            "window_minutes",
            1,
            MAX_WINDOW_MINUTES,
            &mut r.window_minutes,
        )?;
        s.u64("max_rows", 0, 1000, &mut r.max_rows)?;
        s.usize("min_distinct", 2, 4096, &mut r.min_distinct)?;
        s.u64("max_step", 1, 1000, &mut r.max_step)?;
        s.usize("min_sequential", 2, 4096, &mut r.min_sequential)?;
        s.severity("sequential_severity", &mut r.sequential_severity)?;
        s.list_into("ignore_params", 64, &mut r.ignore_params)?;
        s.finish()
    }

    fn read_off_hours(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let r = &mut self.off_hours;
        s.bool("enabled", &mut r.enabled)?;
        s.severity("severity", &mut r.severity)?;
        if let Some(o) = s.str("utc_offset")? {
            r.utc_offset_minutes = parse_offset(&o).ok_or_else(|| {
                s.invalid(
                    "utc_offset",
                    format!("{o:?} is not an offset such as \"+08:00\" (at most ±14:00)"),
                )
            })?;
        }
        if let Some(days) = s.list("days", 7)? {
            let mut set = [false; 7];
            for d in &days {
                let i = WEEKDAYS.iter().position(|w| w == d).ok_or_else(|| {
                    s.invalid(
                        "days",
                        format!("{d:?} is not one of mon, tue, wed, thu, fri, sat, sun"),
                    )
                })?;
                set[i] = true;
            }
            r.days = set;
        }
        for (k, out) in [("start", &mut r.start_minute), ("end", &mut r.end_minute)] {
            if let Some(t) = s.str(k)? {
                *out = parse_clock(&t).ok_or_else(|| {
                    s.invalid(k, format!("{t:?} is not a time HH:MM from 00:00 to 24:00"))
                })?;
            }
        }
        if r.start_minute >= r.end_minute {
            return Err(s.invalid("end", "working hours must end after they start"));
        }
        for (k, out) in [("holidays", &mut r.holidays), ("workdays", &mut r.workdays)] {
            if let Some(dates) = s.list(k, 4096)? {
                let mut set = BTreeSet::new();
                for d in &dates {
                    set.insert(
                        parse_date(d).ok_or_else(|| {
                            s.invalid(k, format!("{d:?} is not a date YYYY-MM-DD"))
                        })?,
                    );
                }
                *out = set;
            }
        }
        s.u32(
            "window_minutes",
            1,
            MAX_WINDOW_MINUTES,
            &mut r.window_minutes,
        )?;
        s.u64("min_calls", 1, 1_000_000, &mut r.min_calls)?;
        s.finish()
    }

    fn read_after_denials(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let r = &mut self.after_denials;
        s.bool("enabled", &mut r.enabled)?;
        s.severity("severity", &mut r.severity)?;
        s.u32(
            "window_minutes",
            1,
            MAX_WINDOW_MINUTES,
            &mut r.window_minutes,
        )?;
        s.usize("min_denials", 1, 1000, &mut r.min_denials)?;
        s.list_into("actions", 64, &mut r.actions)?;
        s.finish()
    }

    fn read_new_address(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let r = &mut self.new_address;
        s.bool("enabled", &mut r.enabled)?;
        s.severity("severity", &mut r.severity)?;
        s.u32("baseline_days", 1, 366, &mut r.baseline_days)?;
        s.usize("max_addresses", 1, 1024, &mut r.max_addresses)?;
        s.u32(
            "window_minutes",
            1,
            MAX_WINDOW_MINUTES,
            &mut r.window_minutes,
        )?;
        s.finish()
    }

    fn read_vendor(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let r = &mut self.vendor_bulk_export;
        s.bool("enabled", &mut r.enabled)?;
        s.severity("severity", &mut r.severity)?;
        s.list_into("roles", 64, &mut r.roles)?;
        s.u32(
            "window_minutes",
            1,
            MAX_WINDOW_MINUTES,
            &mut r.window_minutes,
        )?;
        s.u64("min_rows", 0, u64::MAX >> 1, &mut r.min_rows)?;
        s.u64("min_csv_calls", 0, 1_000_000, &mut r.min_csv_calls)?;
        if r.min_rows == 0 && r.min_csv_calls == 0 {
            return Err(s.invalid(
                "min_rows",
                "min_rows and min_csv_calls cannot both be 0 (disable the rule instead)",
            ));
        }
        s.finish()
    }

    fn read_outside_purpose(&mut self, mut s: Section) -> Result<(), RuleSetError> {
        let r = &mut self.outside_purpose;
        s.bool("enabled", &mut r.enabled)?;
        s.severity("severity", &mut r.severity)?;
        s.u32(
            "window_minutes",
            1,
            MAX_WINDOW_MINUTES,
            &mut r.window_minutes,
        )?;
        s.u64("min_records", 1, 1_000_000, &mut r.min_records)?;
        s.list_into("denial_codes", 64, &mut r.denial_codes)?;
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_defaults_are_the_built_in_ones() {
        assert_eq!(
            RuleSet::from_toml(DEFAULT_RULES_TOML).unwrap(),
            RuleSet::default()
        );
    }

    #[test]
    fn offsets_clocks_and_dates() {
        assert_eq!(parse_offset("+08:00"), Some(480));
        assert_eq!(parse_offset("-05:30"), Some(-330));
        assert_eq!(parse_offset("Z"), Some(0));
        assert_eq!(parse_offset("+14:30"), None);
        assert_eq!(parse_offset("08:00"), None);
        assert_eq!(parse_clock("24:00"), Some(1440));
        assert_eq!(parse_clock("07:5"), None);
        assert_eq!(parse_clock("23:60"), None);
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-1-01"), None);
    }
}
