//! Rule sets (脱敏规则集): TOML files mapping a scenario and a column (by data type, level,
//! column-name pattern or explicit `table.column`) to an operator with parameters.
//!
//! Validation reports the file, the line and what to do; a rule set is only usable once
//! every rule in it is valid.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{MaskError, Result};
use crate::fpe::Alphabet;
use crate::ops::{AddressLevel, DateLevel, Operator, PseudonymFormat};

/// The text of the built-in scenarios.
pub const BUILTIN_RULES: &str = include_str!("../rules/builtin.toml");

/// Ids of the built-in scenarios.
pub const BUILTIN_SCENARIOS: [&str; 4] = ["internal_query", "sharing", "open_data", "test_env"];

/// What happens to columns no rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmatched {
    /// Copy them unchanged.
    Keep,
    /// Write NULL.
    Nullify,
}

/// Which columns a rule applies to. Every selector kind given must match (AND); within a
/// kind any listed entry may match (OR).
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// Data type ids (`"*"` = any detected type).
    pub types: Vec<String>,
    /// Sensitivity levels (as graded by the caller).
    pub levels: Vec<String>,
    /// Column-name regular expressions.
    pub columns: Vec<Regex>,
    /// Explicit `table.column` or `column`.
    pub fields: Vec<String>,
}

/// One rule: selector → operator.
#[derive(Clone, Debug)]
pub struct Rule {
    /// File the rule came from.
    pub file: String,
    /// Line of the rule in that file.
    pub line: usize,
    /// Which columns it applies to.
    pub selector: Selector,
    /// What it does.
    pub operator: Operator,
    /// For `replace`: use the column's data type label as `[标签]`.
    pub tag: bool,
}

/// A masking scenario (脱敏场景).
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Stable id, e.g. `open_data`.
    pub id: String,
    /// Chinese label, e.g. `开放数据`.
    pub label: String,
    /// What the scenario is for.
    pub description: String,
    /// Columns no rule matches.
    pub unmatched: Unmatched,
    /// Scan every cell no operator masked (kept columns, and values an operator returned
    /// unchanged) with the text detectors and replace each identifier found by its type
    /// tag. On unless the scenario says `residual_scan = false`.
    pub residual_scan: bool,
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

/// What the caller knows about a column.
#[derive(Clone, Debug, Default)]
pub struct ColumnInfo {
    /// Table name, when the source has tables.
    pub table: Option<String>,
    /// Column name.
    pub name: String,
    /// Detected data type id.
    pub data_type: Option<String>,
    /// Chinese label of the data type (for `replace` with `tag = true`).
    pub data_type_label: Option<String>,
    /// Sensitivity level, when graded.
    pub level: Option<String>,
}

/// The operator chosen for a column and why.
#[derive(Clone, Debug)]
pub struct Choice {
    /// The operator with parameters resolved for this column.
    pub operator: Operator,
    /// `file:line` of the rule, or `unmatched`.
    pub reason: String,
}

impl Selector {
    fn matches(&self, col: &ColumnInfo) -> bool {
        let types_ok = self.types.is_empty()
            || col
                .data_type
                .as_deref()
                .is_some_and(|t| self.types.iter().any(|s| s == "*" || s == t));
        let levels_ok = self.levels.is_empty()
            || col
                .level
                .as_deref()
                .is_some_and(|l| self.levels.iter().any(|s| s == l));
        let columns_ok =
            self.columns.is_empty() || self.columns.iter().any(|r| r.is_match(&col.name));
        types_ok && levels_ok && columns_ok && (self.fields.is_empty() || self.field_match(col))
    }

    fn field_match(&self, col: &ColumnInfo) -> bool {
        self.fields.iter().any(|f| match f.split_once('.') {
            Some((t, c)) => col.table.as_deref() == Some(t) && col.name == c,
            None => col.name == *f,
        })
    }
}

impl Scenario {
    /// The operator for `col`: an explicit `fields` rule first, else the first matching rule.
    pub fn choose(&self, col: &ColumnInfo) -> Choice {
        let explicit = self
            .rules
            .iter()
            .find(|r| !r.selector.fields.is_empty() && r.selector.matches(col));
        let rule = explicit.or_else(|| {
            self.rules
                .iter()
                .find(|r| r.selector.fields.is_empty() && r.selector.matches(col))
        });
        match rule {
            Some(r) => {
                let operator = match (&r.operator, r.tag) {
                    (Operator::Replace { .. }, true) => Operator::Replace {
                        with: format!(
                            "[{}]",
                            col.data_type_label
                                .as_deref()
                                .or(col.data_type.as_deref())
                                .unwrap_or("已脱敏")
                        ),
                    },
                    (op, _) => op.clone(),
                };
                Choice {
                    operator,
                    reason: format!("{}:{}", r.file, r.line),
                }
            }
            None => Choice {
                operator: match self.unmatched {
                    Unmatched::Keep => Operator::Keep,
                    Unmatched::Nullify => Operator::Nullify,
                },
                reason: "unmatched".into(),
            },
        }
    }

    /// True when the rules name this column explicitly or by name pattern, so discovery is
    /// not needed to decide it.
    pub fn names_column(&self, col: &ColumnInfo) -> bool {
        self.rules.iter().any(|r| {
            r.selector.types.is_empty()
                && r.selector.levels.is_empty()
                && (!r.selector.fields.is_empty() || !r.selector.columns.is_empty())
                && r.selector.matches(col)
        })
    }
}

/// A validated rule set: the built-in scenarios plus any user file.
#[derive(Clone, Debug)]
pub struct RuleSet {
    scenarios: BTreeMap<String, Scenario>,
    hash: [u8; 32],
    files: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    scenarios: BTreeMap<String, Spanned<RawScenario>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    label: Option<String>,
    description: Option<String>,
    unmatched: Option<Spanned<String>>,
    residual_scan: Option<bool>,
    #[serde(default)]
    rules: Vec<Spanned<toml::Table>>,
}

/// Checks that a data type id exists (supplied by the caller, normally `shuan-detect`).
pub type TypeCheck<'a> = &'a dyn Fn(&str) -> bool;

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

struct RuleCtx<'a> {
    file: &'a str,
    line: usize,
    table: &'a toml::Table,
}

impl RuleCtx<'_> {
    fn err(&self, message: impl Into<String>, hint: impl Into<String>) -> MaskError {
        MaskError::Rule {
            file: self.file.to_string(),
            line: self.line,
            message: message.into(),
            hint: hint.into(),
        }
    }
    fn str_list(&self, key: &str) -> Result<Vec<String>> {
        match self.table.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::String(s)) => Ok(vec![s.clone()]),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        self.err(
                            format!("`{key}` must be a list of strings"),
                            format!("write e.g. {key} = [\"a\", \"b\"]"),
                        )
                    })
                })
                .collect(),
            Some(_) => Err(self.err(
                format!("`{key}` must be a string or a list of strings"),
                format!("write e.g. {key} = [\"a\"]"),
            )),
        }
    }
    fn string(&self, key: &str) -> Result<Option<String>> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(
                format!("`{key}` must be a string"),
                format!("quote it: {key} = \"...\""),
            )),
        }
    }
    fn uint(&self, key: &str, default: u64, max: u64) -> Result<u64> {
        match self.table.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(i)) if *i >= 0 && (*i as u64) <= max => Ok(*i as u64),
            Some(_) => Err(self.err(
                format!("`{key}` must be a whole number between 0 and {max}"),
                format!("e.g. {key} = {default}"),
            )),
        }
    }
    fn float(&self, key: &str, default: f64) -> Result<f64> {
        let v = match self.table.get(key) {
            None => default,
            Some(toml::Value::Integer(i)) => *i as f64,
            Some(toml::Value::Float(f)) => *f,
            Some(_) => {
                return Err(self.err(
                    format!("`{key}` must be a number"),
                    format!("e.g. {key} = {default}"),
                ))
            }
        };
        if !(v.is_finite() && v > 0.0) {
            return Err(self.err(
                format!("`{key}` must be a positive number"),
                format!("e.g. {key} = {default}"),
            ));
        }
        Ok(v)
    }
    fn boolean(&self, key: &str) -> Result<bool> {
        match self.table.get(key) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(self.err(
                format!("`{key}` must be true or false"),
                format!("{key} = true"),
            )),
        }
    }
}

const SELECTOR_KEYS: [&str; 4] = ["types", "levels", "columns", "fields"];
const OPERATORS: &str = "keep, partial, replace, pseudonym, fpe, generalize_date, generalize_address, generalize_gps, generalize_number, truncate, date_shift, noise, nullify, suppress";

fn parse_rule(ctx: &RuleCtx<'_>, known_type: TypeCheck<'_>) -> Result<Rule> {
    let types = ctx.str_list("types")?;
    for t in &types {
        if t != "*" && !known_type(t) {
            return Err(ctx.err(
                format!("unknown data type `{t}`"),
                "use a data type id of shuan-detect (e.g. cn_resident_id, cn_mobile, bank_card, email, person_name, address, birth_date, gps), or \"*\" for any detected type",
            ));
        }
    }
    let levels = ctx.str_list("levels")?;
    let mut columns = Vec::new();
    for pat in ctx.str_list("columns")? {
        columns.push(Regex::new(&pat).map_err(|e| {
            ctx.err(
                format!("column pattern `{pat}` is not a valid regular expression: {e}"),
                "fix the pattern (Rust regex syntax; use (?i) for case-insensitive)",
            )
        })?);
    }
    let fields = ctx.str_list("fields")?;
    if types.is_empty() && levels.is_empty() && columns.is_empty() && fields.is_empty() {
        return Err(ctx.err(
            "rule selects no column",
            "add at least one of types = [...], levels = [...], columns = [\"regex\"], fields = [\"table.column\"]",
        ));
    }
    let op_name = ctx.string("op")?.ok_or_else(|| {
        ctx.err(
            "rule has no `op`",
            format!("add op = \"...\", one of: {OPERATORS}"),
        )
    })?;
    let (operator, allowed): (Operator, &[&str]) = match op_name.as_str() {
        "keep" => (Operator::Keep, &[]),
        "nullify" => (Operator::Nullify, &[]),
        "suppress" => (Operator::Suppress, &[]),
        "partial" => {
            let mask = ctx.string("mask_char")?.unwrap_or_else(|| "*".into());
            let mut chars = mask.chars();
            let mask_char = match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(ctx.err(
                        "`mask_char` must be exactly one character",
                        "mask_char = \"*\"",
                    ))
                }
            };
            let fixed = if ctx.table.contains_key("fixed") {
                Some(ctx.uint("fixed", 4, 64)? as usize)
            } else {
                None
            };
            let keep_first = ctx.uint("keep_first", 0, 1000)? as usize;
            let keep_last = ctx.uint("keep_last", 0, 1000)? as usize;
            (
                Operator::Partial {
                    keep_first,
                    keep_last,
                    mask_char,
                    fixed,
                },
                &["keep_first", "keep_last", "mask_char", "fixed"],
            )
        }
        "replace" => {
            let tag = ctx.boolean("tag")?;
            let with = ctx.string("with")?;
            if tag == with.is_some() {
                return Err(ctx.err(
                    "replace needs exactly one of `with` or `tag = true`",
                    "write with = \"***\" for a constant, or tag = true for the type label like [身份证号]",
                ));
            }
            (
                Operator::Replace {
                    with: with.unwrap_or_default(),
                },
                &["with", "tag"],
            )
        }
        "pseudonym" => {
            let format = match ctx.string("format")?.as_deref() {
                None | Some("hex") => PseudonymFormat::Hex {
                    len: ctx.uint("length", 16, 64)? as usize,
                },
                Some("digits") => PseudonymFormat::Digits,
                Some("chinese_name") => PseudonymFormat::ChineseName,
                Some(other) => {
                    return Err(ctx.err(
                        format!("unknown pseudonym format `{other}`"),
                        "use format = \"hex\", \"digits\" or \"chinese_name\"",
                    ))
                }
            };
            if let PseudonymFormat::Hex { len } = format {
                if len < 8 {
                    return Err(ctx.err(
                        "`length` below 8 makes pseudonyms collide",
                        "use length = 16 (8..=64)",
                    ));
                }
            }
            (
                Operator::Pseudonym {
                    prefix: ctx.string("prefix")?.unwrap_or_default(),
                    format,
                    namespace: ctx.string("namespace")?.unwrap_or_default(),
                },
                &["prefix", "format", "namespace", "length"],
            )
        }
        "fpe" => {
            let name = ctx.string("alphabet")?.unwrap_or_else(|| "digits".into());
            let alphabet = Alphabet::from_name(&name).ok_or_else(|| {
                ctx.err(
                    format!("unknown alphabet `{name}`"),
                    "use alphabet = \"digits\", \"id_number\", \"alphanumeric\" or \"chinese\"",
                )
            })?;
            (
                Operator::Fpe {
                    alphabet,
                    tweak: ctx.string("tweak")?.unwrap_or_default(),
                },
                &["alphabet", "tweak"],
            )
        }
        "generalize_date" => {
            let level = match ctx.string("to")?.as_deref() {
                None | Some("year") => DateLevel::Year,
                Some("year_month") => DateLevel::YearMonth,
                Some("age_band") => DateLevel::AgeBand {
                    width: ctx.uint("width", 10, 100)?.max(1) as u32,
                    reference_year: ctx.uint(
                        "reference_year",
                        crate::dates::today().0 as u64,
                        9999,
                    )? as i64,
                },
                Some(other) => {
                    return Err(ctx.err(
                        format!("unknown date level `{other}`"),
                        "use to = \"year\", \"year_month\" or \"age_band\"",
                    ))
                }
            };
            (
                Operator::GeneralizeDate(level),
                &["to", "width", "reference_year"],
            )
        }
        "generalize_address" => {
            let level = match ctx.string("level")?.as_deref() {
                None | Some("district") => AddressLevel::District,
                Some("city") => AddressLevel::City,
                Some("province") => AddressLevel::Province,
                Some(other) => {
                    return Err(ctx.err(
                        format!("unknown address level `{other}`"),
                        "use level = \"province\", \"city\" or \"district\"",
                    ))
                }
            };
            (Operator::GeneralizeAddress(level), &["level"])
        }
        "generalize_gps" => (
            Operator::GeneralizeGps {
                grid: ctx.float("grid", 0.01)?,
            },
            &["grid"],
        ),
        "generalize_number" => (
            Operator::GeneralizeNumber {
                width: ctx.float("width", 1000.0)?,
            },
            &["width"],
        ),
        "truncate" => (
            Operator::Truncate {
                keep: ctx.uint("keep", 3, 10_000)? as usize,
            },
            &["keep"],
        ),
        "date_shift" => {
            let max_days = ctx.uint("max_days", 30, 3650)?;
            if max_days == 0 {
                return Err(ctx.err("`max_days` must be at least 1", "max_days = 30"));
            }
            (
                Operator::DateShift {
                    max_days: max_days as u32,
                    entity: ctx.string("entity")?,
                },
                &["max_days", "entity"],
            )
        }
        "noise" => {
            let relative = ctx.float("relative", 0.05)?;
            if relative >= 1.0 {
                return Err(ctx.err(
                    "`relative` must be below 1 (it is a fraction, 0.05 = ±5%)",
                    "relative = 0.05",
                ));
            }
            (Operator::Noise { relative }, &["relative"])
        }
        other => {
            return Err(ctx.err(
                format!("unknown operator `{other}`"),
                format!("use one of: {OPERATORS}"),
            ))
        }
    };
    for key in ctx.table.keys() {
        if key != "op" && !SELECTOR_KEYS.contains(&key.as_str()) && !allowed.contains(&key.as_str())
        {
            let hint = if allowed.is_empty() {
                format!("operator `{op_name}` takes no parameters; remove `{key}`")
            } else {
                format!(
                    "operator `{op_name}` takes: {}; remove or rename `{key}`",
                    allowed.join(", ")
                )
            };
            return Err(ctx.err(format!("unknown key `{key}`"), hint));
        }
    }
    let tag = ctx.boolean("tag")?;
    Ok(Rule {
        file: ctx.file.to_string(),
        line: ctx.line,
        selector: Selector {
            types,
            levels,
            columns,
            fields,
        },
        operator,
        tag,
    })
}

fn parse_file(
    text: &str,
    file: &str,
    known_type: TypeCheck<'_>,
) -> Result<BTreeMap<String, Scenario>> {
    let raw: RawFile = toml::from_str(text).map_err(|e| MaskError::Rule {
        file: file.to_string(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
        hint: "fix the TOML syntax or key name; top-level keys are `version` and `scenarios.<id>` with label, description, unmatched, residual_scan, rules".into(),
    })?;
    if let Some(v) = &raw.version {
        if *v.get_ref() != 1 {
            return Err(MaskError::Rule {
                file: file.into(),
                line: line_of(text, v.span().start),
                message: format!("unsupported rule-set version {}", v.get_ref()),
                hint: "this shuan reads version = 1".into(),
            });
        }
    }
    let mut out = BTreeMap::new();
    for (id, sc) in raw.scenarios {
        let sc_line = line_of(text, sc.span().start);
        let sc = sc.into_inner();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(MaskError::Rule {
                file: file.into(),
                line: sc_line,
                message: format!("scenario id `{id}` is not snake_case"),
                hint: "use lowercase letters, digits and _ (e.g. scenarios.my_sharing)".into(),
            });
        }
        let unmatched = match sc.unmatched.as_ref().map(|u| u.get_ref().as_str()) {
            None | Some("keep") => Unmatched::Keep,
            Some("nullify") => Unmatched::Nullify,
            Some(other) => {
                return Err(MaskError::Rule {
                    file: file.into(),
                    line: line_of(text, sc.unmatched.as_ref().expect("some").span().start),
                    message: format!("unmatched = \"{other}\" is not understood"),
                    hint: "use unmatched = \"keep\" or \"nullify\"".into(),
                })
            }
        };
        let mut rules = Vec::new();
        for r in &sc.rules {
            let ctx = RuleCtx {
                file,
                line: line_of(text, r.span().start),
                table: r.get_ref(),
            };
            rules.push(parse_rule(&ctx, known_type)?);
        }
        out.insert(
            id.clone(),
            Scenario {
                label: sc.label.unwrap_or_else(|| id.clone()),
                description: sc.description.unwrap_or_default(),
                id,
                unmatched,
                // Defence in depth unless a scenario opts out (only `internal_query`
                // does among the built-in ones): identifiers hiding in kept text.
                residual_scan: sc.residual_scan.unwrap_or(true),
                rules,
            },
        );
    }
    Ok(out)
}

impl RuleSet {
    /// The built-in scenarios only.
    pub fn builtin(known_type: TypeCheck<'_>) -> Result<Self> {
        Self::with_user(None, known_type)
    }

    /// The built-in scenarios, overridden and extended by `user` = (file name, text).
    pub fn with_user(user: Option<(&str, &str)>, known_type: TypeCheck<'_>) -> Result<Self> {
        let mut scenarios = parse_file(BUILTIN_RULES, "<builtin>", known_type)?;
        let mut hashed = BUILTIN_RULES.as_bytes().to_vec();
        let mut files = vec!["<builtin>".to_string()];
        if let Some((name, text)) = user {
            scenarios.extend(parse_file(text, name, known_type)?);
            hashed.push(0);
            hashed.extend_from_slice(text.as_bytes());
            files.push(name.to_string());
        }
        Ok(RuleSet {
            scenarios,
            hash: shuan_crypto::sm3::sm3(&hashed),
            files,
        })
    }

    /// Validate a user rule file on its own (for `shuan mask rules check`).
    pub fn check_file(name: &str, text: &str, known_type: TypeCheck<'_>) -> Result<Vec<Scenario>> {
        Ok(parse_file(text, name, known_type)?.into_values().collect())
    }

    /// A scenario by id.
    pub fn scenario(&self, id: &str) -> Result<&Scenario> {
        self.scenarios.get(id).ok_or_else(|| {
            MaskError::Invalid(format!(
                "unknown scenario `{id}`; available: {}",
                self.scenarios
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
    }

    /// All scenarios, by id.
    pub fn scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios.values()
    }

    /// SM3 of the rule texts in use (built-in, then user file), hex.
    pub fn hash_hex(&self) -> String {
        self.hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Files the rules came from.
    pub fn files(&self) -> &[String] {
        &self.files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: [&str; 12] = [
        "cn_resident_id",
        "cn_mobile",
        "person_name",
        "address",
        "bank_card",
        "email",
        "birth_date",
        "gps",
        "credential",
        "property_info",
        "gender",
        "ethnicity",
    ];
    fn known(t: &str) -> bool {
        TYPES.contains(&t)
            || [
                "cn_landline",
                "cn_passport",
                "cn_hk_macao_permit",
                "biometric",
                "imei",
                "mac_address",
                "ipv4",
                "ipv6",
                "vin",
                "cn_plate",
                "health_info",
                "religious_belief",
                "criminal_record",
                "sexual_orientation",
                "cn_uscc",
            ]
            .contains(&t)
    }
    fn col(name: &str, t: Option<&str>) -> ColumnInfo {
        ColumnInfo {
            table: Some("person".into()),
            name: name.into(),
            data_type: t.map(str::to_string),
            data_type_label: Some("标签".into()),
            level: None,
        }
    }

    #[test]
    fn builtin_scenarios_load() {
        let rs = RuleSet::builtin(&known).unwrap();
        for id in BUILTIN_SCENARIOS {
            assert!(rs.scenario(id).is_ok(), "{id}");
        }
        assert_eq!(rs.hash_hex().len(), 64);
        let open = rs.scenario("open_data").unwrap();
        assert!(open.residual_scan);
        // Every built-in scenario but internal queries re-scans what it keeps.
        for id in ["sharing", "test_env"] {
            assert!(rs.scenario(id).unwrap().residual_scan, "{id}");
        }
        assert!(!rs.scenario("internal_query").unwrap().residual_scan);
        let c = open.choose(&col("sfz", Some("cn_resident_id")));
        assert_eq!(
            c.operator,
            Operator::Replace {
                with: "[标签]".into()
            }
        );
        assert_eq!(open.choose(&col("note", None)).operator, Operator::Keep);
        assert!(rs
            .scenario("nope")
            .unwrap_err()
            .to_string()
            .contains("open_data"));
    }

    #[test]
    fn explicit_field_wins_and_user_overrides() {
        let user = r#"
[scenarios.sharing]
label = "共享"
[[scenarios.sharing.rules]]
types = ["cn_mobile"]
op = "nullify"
[[scenarios.sharing.rules]]
fields = ["person.phone"]
op = "truncate"
keep = 3
[[scenarios.sharing.rules]]
columns = ["(?i)^remark"]
op = "suppress"
"#;
        let rs = RuleSet::with_user(Some(("u.toml", user)), &known).unwrap();
        let s = rs.scenario("sharing").unwrap();
        assert_eq!(
            s.choose(&col("phone", Some("cn_mobile"))).operator,
            Operator::Truncate { keep: 3 }
        );
        assert_eq!(
            s.choose(&col("tel", Some("cn_mobile"))).operator,
            Operator::Nullify
        );
        assert_eq!(s.choose(&col("REMARKS", None)).operator, Operator::Suppress);
        assert!(s
            .choose(&col("tel", Some("cn_mobile")))
            .reason
            .starts_with("u.toml:"));
        assert!(s.names_column(&col("phone", None)));
        assert!(!s.names_column(&col("tel", Some("cn_mobile"))));
        assert_ne!(rs.hash_hex(), RuleSet::builtin(&known).unwrap().hash_hex());
    }

    fn err_of(text: &str) -> String {
        RuleSet::check_file("bad.toml", text, &known)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn validation_errors_name_file_line_and_fix() {
        let e = err_of(
            "[scenarios.x]\n[[scenarios.x.rules]]\ntypes = [\"cn_mobil\"]\nop = \"partial\"\n",
        );
        assert!(
            e.starts_with("bad.toml:2:")
                && e.contains("unknown data type `cn_mobil`")
                && e.contains("fix:"),
            "{e}"
        );
        let e = err_of(
            "[scenarios.x]\n\n[[scenarios.x.rules]]\ntypes = [\"cn_mobile\"]\nop = \"partail\"\n",
        );
        assert!(
            e.starts_with("bad.toml:3:") && e.contains("unknown operator `partail`"),
            "{e}"
        );
        let e = err_of("[scenarios.x]\n[[scenarios.x.rules]]\ntypes = [\"cn_mobile\"]\nop = \"partial\"\nkeep_frist = 3\n");
        assert!(
            e.contains("unknown key `keep_frist`") && e.contains("keep_first"),
            "{e}"
        );
        let e = err_of("[scenarios.x]\n[[scenarios.x.rules]]\nop = \"nullify\"\n");
        assert!(e.contains("selects no column"), "{e}");
        let e =
            err_of("[scenarios.x]\n[[scenarios.x.rules]]\ncolumns = [\"(\"]\nop = \"nullify\"\n");
        assert!(e.contains("not a valid regular expression"), "{e}");
        let e = err_of("[scenarios.x]\nunmatched = \"drop\"\n");
        assert!(e.starts_with("bad.toml:2:"), "{e}");
        let e = err_of("[scenarios.x\n");
        assert!(e.starts_with("bad.toml:1:"), "{e}");
        let e = err_of("[scenarios.x]\nlable = \"a\"\n");
        assert!(e.starts_with("bad.toml:2:") && e.contains("lable"), "{e}");
        let e = err_of("[scenarios.x]\n[[scenarios.x.rules]]\ntypes=[\"gps\"]\nop = \"fpe\"\nalphabet = \"greek\"\n");
        assert!(e.contains("unknown alphabet"), "{e}");
        let e = err_of("[scenarios.x]\n[[scenarios.x.rules]]\ntypes=[\"gps\"]\nop = \"replace\"\n");
        assert!(e.contains("exactly one of `with`"), "{e}");
        let e = err_of(
            "[scenarios.x]\n[[scenarios.x.rules]]\ntypes=[\"gps\"]\nop = \"noise\"\nrelative = 5\n",
        );
        assert!(e.contains("below 1"), "{e}");
        let e = err_of("version = 2\n");
        assert!(e.contains("version 2"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = RuleSet::check_file("f", &s, &known);
        }
    }
}
