//! Data-quality rules (数据质量, R-07): checks on a table's columns run against the real
//! source, streaming, with counts of offending rows and a few masked samples of each.
//!
//! Row checks (`not_null`, `pattern`, `identifier`, `range`, `freshness`) are evaluated
//! here on every row of one streaming read of just the columns the rules name
//! ([`shuan_source::columns::for_each_row`]: one row in memory). Set checks go to the
//! database when the source is one: `unique` as `GROUP BY … HAVING`, `references` as
//! `NOT EXISTS` — the engine spills to disk where a client would need the whole column in
//! memory — and run on a second connection while the rows stream. On files, `unique`
//! keeps a 128-bit hash per distinct value (about 32 bytes each) and `references` is
//! refused (there is no engine to ask; load the file into a database first).
//!
//! Patterns are the `regex` crate's (linear time: no pattern makes a check run away),
//! anchored to the whole value. A NULL or blank value is only `not_null`'s business: the
//! other row checks skip it. Samples are masked ([`mask_sample`]) and carry the value of
//! the rule set's key column when one is named, so that a steward finds the row with their
//! own rights on the source.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use shuan_detect::DataType;
use shuan_source::columns::{self, TableSpec};
use shuan_source::{SourceError, SourceOptions};

/// Samples kept per rule.
pub const SAMPLES_PER_RULE: usize = 5;
/// Rules in one rule set, at most.
pub const MAX_RULES: usize = 50;

/// What a rule checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// 非空: the value is neither NULL nor blank.
    NotNull,
    /// 唯一: no two rows have the same (non-NULL) value.
    Unique,
    /// 格式: the whole value matches a regular expression (`regex` crate syntax).
    Pattern {
        /// The expression, anchored to the whole value.
        regex: String,
    },
    /// 证件号校验: the value is a valid identifier of a type with a checksum or a fixed
    /// shape (`cn_resident_id`, `cn_uscc`, `cn_mobile`, `bank_card`, …).
    Identifier {
        /// The type's stable id.
        data_type: String,
    },
    /// 取值范围: the value is a number within `[min, max]` (either bound may be absent).
    Range {
        /// Smallest allowed.
        #[serde(default)]
        min: Option<f64>,
        /// Largest allowed.
        #[serde(default)]
        max: Option<f64>,
    },
    /// 参照完整性: every non-NULL value is present in another table's column of the same
    /// source.
    References {
        /// The referenced table: `schema.table` (PostgreSQL), `database.table` (MySQL) or
        /// the table's name (SQLite).
        table: String,
        /// The referenced column.
        column: String,
    },
    /// 时效性: the newest value of a date or time column is at most this many hours old.
    Freshness {
        /// Hours, 1 to 87,600 (ten years).
        max_age_hours: u32,
    },
}

impl Check {
    /// The stable id of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::NotNull => "not_null",
            Check::Unique => "unique",
            Check::Pattern { .. } => "pattern",
            Check::Identifier { .. } => "identifier",
            Check::Range { .. } => "range",
            Check::References { .. } => "references",
            Check::Freshness { .. } => "freshness",
        }
    }

    /// The kind in Chinese.
    pub fn label(&self) -> &'static str {
        match self {
            Check::NotNull => "非空",
            Check::Unique => "唯一",
            Check::Pattern { .. } => "格式",
            Check::Identifier { .. } => "证件号校验",
            Check::Range { .. } => "取值范围",
            Check::References { .. } => "参照完整性",
            Check::Freshness { .. } => "时效性",
        }
    }
}

/// One rule: a check of one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The column checked.
    pub column: String,
    /// What is checked.
    pub check: Check,
}

/// Why a rule cannot be used, naming the rule by its position (`rules[2].check.regex`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}：{message}")]
pub struct RuleError {
    /// The field, as a path into the request.
    pub field: String,
    /// What is wrong and what to do (Chinese, then English).
    pub message: String,
}

/// Why a run failed as a whole (a rule's findings are not failures).
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// A rule is not usable.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// The identifier types a rule may check: those with a validator.
pub fn identifier_validator(data_type: &str) -> Option<fn(&str) -> bool> {
    use shuan_detect::validate as v;
    Some(match data_type {
        "cn_resident_id" => v::cn_resident_id,
        "cn_mobile" => v::cn_mobile,
        "cn_landline" => v::cn_landline,
        "email" => v::email,
        "bank_card" => v::bank_card,
        "cn_uscc" => v::cn_uscc,
        "cn_org_code" => v::cn_org_code,
        "cn_passport" => v::cn_passport,
        "cn_hk_macao_permit" => v::cn_hk_macao_permit,
        "cn_plate" => v::cn_plate,
        "vin" => v::vin,
        "ipv4" => v::ipv4,
        "ipv6" => v::ipv6,
        "mac_address" => v::mac_address,
        "imei" => v::imei,
        "birth_date" => v::birth_date,
        _ => return None,
    })
}

/// The ids [`identifier_validator`] knows, for messages.
pub const IDENTIFIER_TYPES: [&str; 16] = [
    "cn_resident_id",
    "cn_mobile",
    "cn_landline",
    "email",
    "bank_card",
    "cn_uscc",
    "cn_org_code",
    "cn_passport",
    "cn_hk_macao_permit",
    "cn_plate",
    "vin",
    "ipv4",
    "ipv6",
    "mac_address",
    "imei",
    "birth_date",
];

/// A rule ready to run.
enum Compiled {
    NotNull,
    Unique,
    Pattern(regex::Regex),
    Identifier(fn(&str) -> bool, Option<DataType>),
    Range(Option<f64>, Option<f64>),
    References(TableSpec, String),
    Freshness(u32),
}

fn rule_error(i: usize, field: &str, message: String) -> RuleError {
    RuleError {
        field: format!("rules[{i}].{field}"),
        message,
    }
}

/// Checks a rule set against the table's columns (`columns`: the catalogued names) and
/// compiles it.
fn compile(rules: &[Rule], columns: &[String]) -> Result<Vec<Compiled>, RuleError> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(RuleError {
            field: "rules".into(),
            message: format!("须有 1 至 {MAX_RULES} 条规则 (1 to {MAX_RULES} rules)"),
        });
    }
    let mut out = Vec::with_capacity(rules.len());
    for (i, rule) in rules.iter().enumerate() {
        if !columns.iter().any(|c| c == &rule.column) {
            return Err(rule_error(
                i,
                "column",
                format!(
                    "表中没有列 {}；可用的列：{} (no such column; the table has: {})",
                    rule.column,
                    columns.join("、"),
                    columns.join(", ")
                ),
            ));
        }
        out.push(match &rule.check {
            Check::NotNull => Compiled::NotNull,
            Check::Unique => Compiled::Unique,
            Check::Pattern { regex } => {
                if regex.is_empty() || regex.chars().count() > 500 {
                    return Err(rule_error(
                        i,
                        "check.regex",
                        "须为 1–500 个字符的正则表达式 (a regular expression of 1 to 500 characters)".into(),
                    ));
                }
                let anchored = format!("^(?:{regex})$");
                let compiled = regex::RegexBuilder::new(&anchored)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        rule_error(
                            i,
                            "check.regex",
                            format!("不是有效的正则表达式 (not a valid regular expression: {e})"),
                        )
                    })?;
                Compiled::Pattern(compiled)
            }
            Check::Identifier { data_type } => match identifier_validator(data_type) {
                Some(f) => Compiled::Identifier(f, DataType::from_id(data_type)),
                None => {
                    return Err(rule_error(
                        i,
                        "check.data_type",
                        format!(
                            "可校验的类型：{} (types with a validator: {})",
                            IDENTIFIER_TYPES.join("、"),
                            IDENTIFIER_TYPES.join(", ")
                        ),
                    ))
                }
            },
            Check::Range { min, max } => {
                let finite = |v: &Option<f64>| v.is_none_or(|x| x.is_finite());
                if (min.is_none() && max.is_none())
                    || !finite(min)
                    || !finite(max)
                    || matches!((min, max), (Some(a), Some(b)) if a > b)
                {
                    return Err(rule_error(
                        i,
                        "check",
                        "min、max 至少给出一个，且 min 不大于 max (give min or max or both, min not above max)".into(),
                    ));
                }
                Compiled::Range(*min, *max)
            }
            Check::References { table, column } => {
                if table.is_empty() || column.is_empty() || table.len() > 200 || column.len() > 200
                {
                    return Err(rule_error(
                        i,
                        "check",
                        "table、column 须为被参照的表和列 (name the referenced table and column)"
                            .into(),
                    ));
                }
                let spec = match table.split_once('.') {
                    Some((schema, name)) => TableSpec {
                        schema: Some(schema.to_string()),
                        table: name.to_string(),
                    },
                    None => TableSpec {
                        schema: None,
                        table: table.clone(),
                    },
                };
                Compiled::References(spec, column.clone())
            }
            Check::Freshness { max_age_hours } => {
                if *max_age_hours == 0 || *max_age_hours > 87_600 {
                    return Err(rule_error(
                        i,
                        "check.max_age_hours",
                        "须为 1 至 87600 小时 (1 to 87,600 hours)".into(),
                    ));
                }
                Compiled::Freshness(*max_age_hours)
            }
        });
    }
    Ok(out)
}

/// Checks a rule set without running it: what the server does when one is saved.
pub fn validate(rules: &[Rule], columns: &[String]) -> Result<(), RuleError> {
    compile(rules, columns).map(drop)
}

/// One offending row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// The row's key (the rule set's key column, unmasked), when one is named.
    pub key: Option<String>,
    /// The value, masked; `None` for NULL.
    pub value: Option<String>,
    /// For duplicates: how many rows have the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// What one rule found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    /// The rule.
    pub rule: Rule,
    /// Offending rows (for `freshness`: 1 when the table is stale, else 0).
    pub violations: u64,
    /// Up to [`SAMPLES_PER_RULE`] of them.
    pub samples: Vec<Sample>,
    /// For `freshness`: the newest value found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
}

/// What a run found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Rows read.
    pub rows_checked: u64,
    /// One result per rule, in the rule set's order.
    pub results: Vec<RuleResult>,
}

impl QualityReport {
    /// Offending rows over all rules (a row breaking two rules counts twice).
    pub fn violations(&self) -> u64 {
        self.results.iter().map(|r| r.violations).sum()
    }
}

/// A value as it may be shown. For an identifier check (a malformed identifier, so no
/// type's layout applies) the first three and last two characters are kept when they are
/// ASCII, one for values of eight or fewer; otherwise the first and last quarter are kept (one character
/// of a value of three or fewer). Every other character is starred, CJK included. At
/// most 64 characters are shown.
pub fn mask_sample(value: &str, data_type: Option<DataType>) -> String {
    let chars: Vec<char> = value.chars().take(64).collect();
    if data_type.is_some() {
        // An offending identifier is malformed by definition, so the type's own masking
        // layout does not apply: keep the first three and last two characters at most.
        let n = chars.len();
        let (head, tail) = if n > 8 { (3, 2) } else { (1.min(n), 0) };
        return chars
            .iter()
            .enumerate()
            .map(|(i, c)| {
                // A name or other text in the cell never shows.
                if (i < head || i >= n - tail) && c.is_ascii() {
                    *c
                } else {
                    '*'
                }
            })
            .collect();
    }
    let n = chars.len();
    let keep = if n <= 3 { 1.min(n) } else { n.div_ceil(4) };
    let mut out = String::with_capacity(value.len());
    for (i, c) in chars.iter().enumerate() {
        if i < keep || (n > 3 && i >= n - keep) {
            out.push(*c);
        } else {
            out.push('*');
        }
    }
    out
}

/// Seconds since 1970 of a date or time as databases write them (`YYYY-MM-DD`, then an
/// optional `[ T]HH:MM[:SS[.fff]]` and an optional `Z` or `±HH[:MM]` offset; UTC when none).
pub fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    // Only ASCII can be a time here; it also keeps every slice below on a char boundary.
    if !t.is_ascii() {
        return None;
    }
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |s: &str| s.parse::<i64>().ok();
    let (y, m, d) = (num(&t[0..4])?, num(&t[5..7])?, num(&t[8..10])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let rest = &t[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix([' ', 'T'])?;
    if rest.len() < 5 || rest.as_bytes()[2] != b':' {
        return None;
    }
    let (h, mi) = (num(&rest[0..2])?, num(&rest[3..5])?);
    let mut s = 0;
    let mut tail = &rest[5..];
    if let Some(x) = tail.strip_prefix(':') {
        s = num(x.get(0..2)?)?;
        tail = &x[2..];
        if let Some(frac) = tail.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            tail = &frac[digits..];
        }
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    secs += h * 3600 + mi * 60 + s;
    let tail = tail.trim();
    if tail.is_empty() || tail == "Z" {
        return Some(secs);
    }
    let sign = match tail.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let off = &tail[1..];
    let (oh, om) = match off.len() {
        2 => (num(off)?, 0),
        4 => (num(&off[0..2])?, num(&off[2..4])?),
        5 if off.as_bytes()[2] == b':' => (num(&off[0..2])?, num(&off[3..5])?),
        _ => return None,
    };
    Some(secs - sign * (oh * 3600 + om * 60))
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn hash128(value: &str) -> u128 {
    let mut a = std::hash::DefaultHasher::new();
    0u8.hash(&mut a);
    value.hash(&mut a);
    let mut b = std::hash::DefaultHasher::new();
    1u8.hash(&mut b);
    value.hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// State of one rule during the streaming read.
struct Tally {
    violations: u64,
    samples: Vec<Sample>,
    latest: Option<(i64, String)>,
    seen: Option<HashSet<u128>>,
    counted_in_memory: bool,
}

impl Tally {
    fn sample(&mut self, key: Option<&str>, value: Option<&str>, t: Option<DataType>) {
        if self.samples.len() < SAMPLES_PER_RULE {
            self.samples.push(Sample {
                key: key.map(str::to_string),
                value: value.map(|v| mask_sample(v, t)),
                count: None,
            });
        }
    }
}

/// Runs `rules` on `table` of the source `spec` (a URL or path, read-only), reading
/// `columns` (the table's catalogued columns, for checking the rules) and keying samples
/// by `key_column` when given. `now` is the platform's clock (Unix seconds), for
/// freshness.
pub fn run(
    spec: &str,
    table: &TableSpec,
    columns: &[String],
    key_column: Option<&str>,
    rules: &[Rule],
    now: i64,
    options: &SourceOptions,
) -> Result<QualityReport, QualityError> {
    let compiled = compile(rules, columns)?;
    if let Some(k) = key_column {
        if !columns.iter().any(|c| c == k) {
            return Err(RuleError {
                field: "key_column".into(),
                message: format!("表中没有列 {k} (no such column)"),
            }
            .into());
        }
    }
    // The columns read: each rule's, once, then the key.
    let mut read: Vec<String> = Vec::new();
    let at = |name: &str, read: &mut Vec<String>| -> usize {
        match read.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                read.push(name.to_string());
                read.len() - 1
            }
        }
    };
    let index: Vec<usize> = rules.iter().map(|r| at(&r.column, &mut read)).collect();
    let key_index = key_column.map(|k| at(k, &mut read));

    // Set checks on the database, on their own connections, while the rows stream.
    let pushed = std::thread::scope(|scope| {
        let set_checks: Vec<_> = compiled
            .iter()
            .zip(rules)
            .map(|(c, rule)| match c {
                Compiled::Unique => Some(scope.spawn(move || {
                    columns::duplicates(spec, table, &rule.column, SAMPLES_PER_RULE)
                        .map(|d| d.map(SetAnswer::Duplicates))
                })),
                Compiled::References(other, other_column) => Some(scope.spawn(move || {
                    columns::orphans(
                        spec,
                        table,
                        &rule.column,
                        other,
                        other_column,
                        SAMPLES_PER_RULE,
                    )
                    .map(|o| o.map(SetAnswer::Orphans))
                })),
                _ => None,
            })
            .collect();
        let streamed = stream(spec, table, &read, &index, key_index, &compiled, options);
        let answers: Vec<Option<Result<Option<SetAnswer>, SourceError>>> = set_checks
            .into_iter()
            .map(|h| {
                h.map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(SourceError::Database {
                            source_name: shuan_source::canonical_source_name(spec),
                            message: "a set check stopped unexpectedly".into(),
                        })
                    })
                })
            })
            .collect();
        (streamed, answers)
    });
    let (streamed, answers) = pushed;
    let (rows_checked, tallies) = streamed?;

    let mut results = Vec::with_capacity(rules.len());
    for (((rule, c), mut tally), answer) in rules.iter().zip(&compiled).zip(tallies).zip(answers) {
        let mut latest = None;
        match (c, answer) {
            (_, Some(Err(e))) => return Err(e.into()),
            (Compiled::Unique, Some(Ok(Some(SetAnswer::Duplicates(d))))) => {
                tally.violations = d.extra_rows;
                tally.samples = d
                    .samples
                    .iter()
                    .map(|(v, n)| Sample {
                        key: None,
                        value: Some(mask_sample(v, None)),
                        count: Some(*n),
                    })
                    .collect();
            }
            (Compiled::References(..), Some(Ok(Some(SetAnswer::Orphans(o))))) => {
                tally.violations = o.rows;
                tally.samples = o
                    .samples
                    .iter()
                    .map(|v| Sample {
                        key: None,
                        value: Some(mask_sample(v, None)),
                        count: None,
                    })
                    .collect();
            }
            (Compiled::References(..), _) => return Err(RuleError {
                field: "rules".into(),
                message:
                    "参照完整性规则只能用于数据库数据源 (references checks need a database source)"
                        .into(),
            }
            .into()),
            (Compiled::Unique, _) if !tally.counted_in_memory => {
                return Err(RuleError {
                    field: "rules".into(),
                    message: "唯一性未能计算 (the unique check could not be counted)".into(),
                }
                .into())
            }
            (Compiled::Freshness(hours), _) => {
                let stale = match &tally.latest {
                    Some((at, _)) => now - at > i64::from(*hours) * 3600,
                    None => true,
                };
                tally.violations = u64::from(stale);
                latest = tally.latest.as_ref().map(|(_, text)| text.clone());
            }
            _ => {}
        }
        results.push(RuleResult {
            rule: rule.clone(),
            violations: tally.violations,
            samples: tally.samples,
            latest,
        });
    }
    Ok(QualityReport {
        rows_checked,
        results,
    })
}

enum SetAnswer {
    Duplicates(columns::Duplicates),
    Orphans(columns::Orphans),
}

/// The streaming read: row checks, and `unique` in memory for file sources.
fn stream(
    spec: &str,
    table: &TableSpec,
    read: &[String],
    index: &[usize],
    key_index: Option<usize>,
    compiled: &[Compiled],
    options: &SourceOptions,
) -> Result<(u64, Vec<Tally>), SourceError> {
    // Files have no engine to count duplicates: they are counted here, by hash.
    let in_memory = !columns::runs_sql(spec);
    let mut tallies: Vec<Tally> = compiled
        .iter()
        .map(|c| {
            let unique_here = in_memory && matches!(c, Compiled::Unique);
            Tally {
                violations: 0,
                samples: Vec::new(),
                latest: None,
                seen: unique_here.then(HashSet::new),
                counted_in_memory: unique_here,
            }
        })
        .collect();
    let rows = columns::for_each_row(spec, table, read, options, |values| {
        let key = key_index.and_then(|k| values[k]);
        for ((c, &i), tally) in compiled.iter().zip(index).zip(tallies.iter_mut()) {
            let value = values[i];
            let present = value.filter(|v| !v.trim().is_empty());
            match c {
                Compiled::NotNull => {
                    if present.is_none() {
                        tally.violations += 1;
                        tally.sample(key, value, None);
                    }
                }
                Compiled::Unique => {
                    // Blank cells of files are their NULLs.
                    if let (Some(seen), Some(v)) = (tally.seen.as_mut(), present) {
                        if !seen.insert(hash128(v)) {
                            tally.violations += 1;
                            tally.sample(key, Some(v), None);
                        }
                    }
                }
                Compiled::Pattern(re) => {
                    if let Some(v) = present {
                        if !re.is_match(v) {
                            tally.violations += 1;
                            tally.sample(key, Some(v), None);
                        }
                    }
                }
                Compiled::Identifier(valid, t) => {
                    if let Some(v) = present {
                        if !valid(v.trim()) {
                            tally.violations += 1;
                            tally.sample(key, Some(v), *t);
                        }
                    }
                }
                Compiled::Range(min, max) => {
                    if let Some(v) = present {
                        let ok = v.trim().parse::<f64>().is_ok_and(|x| {
                            x.is_finite()
                                && min.is_none_or(|m| x >= m)
                                && max.is_none_or(|m| x <= m)
                        });
                        if !ok {
                            tally.violations += 1;
                            tally.sample(key, Some(v), None);
                        }
                    }
                }
                Compiled::References(..) => {}
                Compiled::Freshness(_) => {
                    if let Some(at) = present.and_then(parse_time) {
                        if tally.latest.as_ref().is_none_or(|(l, _)| at > *l) {
                            tally.latest = Some((at, present.unwrap_or_default().to_string()));
                        }
                    }
                }
            }
        }
    })?;
    Ok((rows, tallies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_databases_write_them() {
        assert_eq!(parse_time("1970-01-01"), Some(0));
        assert_eq!(parse_time("2026-12-04 08:00:00+08"), Some(1_796_342_400));
        assert_eq!(parse_time("2026-12-04T00:00:00Z"), Some(1_796_342_400));
        assert_eq!(
            parse_time("2026-12-04 00:00:00.123456"),
            Some(1_796_342_400)
        );
        assert_eq!(parse_time("2026-12-03 16:00:00-08:00"), Some(1_796_342_400));
        assert_eq!(parse_time("2000-02-29"), Some(951_782_400));
        assert_eq!(parse_time("2026-13-01"), None);
        assert_eq!(parse_time("昨天"), None);
        assert_eq!(parse_time("2026-12-04 25:00"), None);
        // Non-ASCII never panics (a slice inside a character would).
        for text in [
            "2026-01-1é",
            "2026-01-01 12:3é",
            "2026-01-01 00:00+0é1",
            "2026-05-1日",
        ] {
            assert_eq!(parse_time(text), None, "{text}");
        }
    }

    #[test]
    fn samples_are_masked() {
        assert_eq!(mask_sample("张三", None), "张*");
        assert_eq!(mask_sample("abcdefgh", None), "ab****gh");
        let id = mask_sample("11010519491231002X", Some(DataType::CnResidentId));
        assert_eq!(id, "110*************2X");
        // Two numbers in one cell, or a name before one: neither shows.
        let two = mask_sample("13800138000,13912345678", Some(DataType::CnMobile));
        assert_eq!(two.chars().filter(|c| *c != '*').count(), 5, "{two}");
        assert_eq!(
            mask_sample("张三13800138000", Some(DataType::CnMobile)),
            "**1********00"
        );
        assert_eq!(mask_sample("张三", Some(DataType::CnMobile)), "**");
    }

    #[test]
    fn rules_are_checked_against_the_columns() {
        let cols = vec!["id".to_string(), "sfzh".to_string()];
        let r = |column: &str, check: Check| Rule {
            column: column.into(),
            check,
        };
        assert!(validate(&[r("id", Check::NotNull)], &cols).is_ok());
        let e = validate(&[r("id", Check::NotNull), r("nope", Check::Unique)], &cols).unwrap_err();
        assert_eq!(e.field, "rules[1].column");
        let e = validate(&[r("id", Check::Pattern { regex: "(".into() })], &cols).unwrap_err();
        assert_eq!(e.field, "rules[0].check.regex");
        let e = validate(
            &[r(
                "sfzh",
                Check::Identifier {
                    data_type: "person_name".into(),
                },
            )],
            &cols,
        )
        .unwrap_err();
        assert_eq!(e.field, "rules[0].check.data_type");
        let e = validate(
            &[r(
                "id",
                Check::Range {
                    min: Some(5.0),
                    max: Some(1.0),
                },
            )],
            &cols,
        )
        .unwrap_err();
        assert_eq!(e.field, "rules[0].check");
        assert!(validate(&[], &cols).is_err());
        // Every listed identifier type has a validator.
        for t in IDENTIFIER_TYPES {
            assert!(identifier_validator(t).is_some(), "{t}");
        }
    }

    #[test]
    fn a_csv_file_is_checked_row_by_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.csv");
        std::fs::write(
            &path,
            "id,sfzh,age,updated\n\
             1,11010519491231002X,30,2026-12-01\n\
             2,110105194912310021,200,2026-12-02\n\
             2,,abc,\n\
             4,11010519491231002X,-1,2026-11-30 23:00:00\n",
        )
        .unwrap();
        let spec = path.to_str().unwrap();
        let cols: Vec<String> = ["id", "sfzh", "age", "updated"].map(String::from).to_vec();
        let rules = vec![
            Rule {
                column: "sfzh".into(),
                check: Check::NotNull,
            },
            Rule {
                column: "id".into(),
                check: Check::Unique,
            },
            Rule {
                column: "sfzh".into(),
                check: Check::Identifier {
                    data_type: "cn_resident_id".into(),
                },
            },
            Rule {
                column: "age".into(),
                check: Check::Range {
                    min: Some(0.0),
                    max: Some(150.0),
                },
            },
            Rule {
                column: "sfzh".into(),
                check: Check::Pattern {
                    regex: r"\d{17}[\dX]".into(),
                },
            },
            Rule {
                column: "updated".into(),
                check: Check::Freshness { max_age_hours: 48 },
            },
        ];
        let table = TableSpec {
            schema: None,
            table: "people".into(),
        };
        let now = parse_time("2026-12-03 12:00:00").unwrap();
        let report = run(
            spec,
            &table,
            &cols,
            Some("id"),
            &rules,
            now,
            &SourceOptions::default(),
        )
        .unwrap();
        assert_eq!(report.rows_checked, 4);
        let v: Vec<u64> = report.results.iter().map(|r| r.violations).collect();
        // not_null 1 (row 3); unique 1 (second id 2); identifier 1 (bad checksum);
        // range 3 (200, abc, -1); pattern 0; freshness 0 (newest 2026-12-02, 36 h old).
        assert_eq!(v, vec![1, 1, 1, 3, 0, 0], "{report:?}");
        assert_eq!(report.results[0].samples[0].key.as_deref(), Some("2"));
        assert_eq!(report.results[5].latest.as_deref(), Some("2026-12-02"));
        let later = now + 24 * 3600;
        let report = run(
            spec,
            &table,
            &cols,
            None,
            &rules,
            later,
            &SourceOptions::default(),
        )
        .unwrap();
        assert_eq!(report.results[5].violations, 1);
        // A references check needs a database.
        let refs = vec![Rule {
            column: "id".into(),
            check: Check::References {
                table: "x".into(),
                column: "id".into(),
            },
        }];
        assert!(matches!(
            run(
                spec,
                &table,
                &cols,
                None,
                &refs,
                now,
                &SourceOptions::default()
            ),
            Err(QualityError::Rule(_))
        ));
    }
}
