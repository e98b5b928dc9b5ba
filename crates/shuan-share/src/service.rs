//! Data services (数据服务, R-22): what a provider publishes on a resource and what a call
//! may ask. Only declared parameters are accepted, each bound to one column with one
//! comparison, typed, ranged or patterned; a service on personal data must require a
//! selective predicate (an exact match), so nobody can ask it for everything; a call that
//! would answer more rows than the service's cap fails instead of being cut short
//! (PostgREST truncates silently at one global cap). Values become bound parameters of a
//! [`shuan_source::query::Select`], never SQL text. Patterns use the `regex` crate: linear
//! time whatever the pattern, with compiled-size limits, so no pattern is a regex bomb.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use shuan_source::query::{Op, Predicate, Value};

use crate::calendar::parse_date;
use crate::routing::{op_id, parse_op};
use crate::Refusal;

/// The largest row cap a service may declare.
pub const MAX_ROWS_CAP: u64 = 10_000;
/// Most parameters a service declares.
pub const MAX_PARAMS: usize = 16;
/// Longest value of a string parameter unless the service says less.
pub const DEFAULT_MAX_LENGTH: usize = 256;
/// Most query pairs a call may send (declared or not), before any is looked at.
pub const MAX_QUERY_PAIRS: usize = 64;
/// The paging parameters of a service with `paging: true`.
pub const PAGING: [&str; 2] = ["limit", "offset"];
/// The largest `offset`.
pub const MAX_OFFSET: u64 = 1_000_000;

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Text.
    #[serde(alias = "text")]
    String,
    /// A 64-bit integer.
    #[serde(alias = "int")]
    Integer,
    /// A finite number.
    #[serde(alias = "float", alias = "decimal")]
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// `true` / `false`.
    #[serde(alias = "bool")]
    Boolean,
}

fn default_op() -> String {
    "eq".into()
}

fn default_type() -> ParamType {
    ParamType::String
}

/// A declared parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Name in the query string.
    pub name: String,
    /// The column it filters.
    pub column: String,
    /// `eq ne lt le gt ge prefix` (default `eq`).
    #[serde(default = "default_op")]
    pub op: String,
    /// Type (default `string`).
    #[serde(rename = "type", default = "default_type")]
    pub ty: ParamType,
    /// Whether every call must give it.
    #[serde(default)]
    pub required: bool,
    /// Smallest value (integer, number or date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<serde_json::Value>,
    /// Largest value (integer, number or date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<serde_json::Value>,
    /// A regular expression the whole value must match (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Shortest value (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    /// Longest value (string; default [`DEFAULT_MAX_LENGTH`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

/// What a provider publishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Response fields.
    pub fields: Vec<String>,
    /// Declared parameters.
    pub params: Vec<ParamSpec>,
    /// Most rows a call answers; more fails the call.
    pub max_rows: u64,
    /// Accept `limit` (≤ `max_rows`) and `offset`.
    #[serde(default)]
    pub paging: bool,
}

#[derive(Debug, Clone)]
struct CompiledParam {
    spec: ParamSpec,
    op: Op,
    pattern: Option<Regex>,
    min: Option<Value>,
    max: Option<Value>,
    min_length: usize,
    max_length: usize,
}

/// A validated service, ready to bind calls.
#[derive(Debug, Clone)]
pub struct CompiledService {
    fields: Vec<String>,
    params: Vec<CompiledParam>,
    max_rows: u64,
    paging: bool,
}

/// What a call binds to.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The predicates of the declared parameters given.
    pub predicates: Vec<Predicate>,
    /// Rows asked for (the service's cap, or a smaller `limit`).
    pub limit: u64,
    /// Rows skipped.
    pub offset: u64,
}

fn invalid(message: String) -> Refusal {
    Refusal::new("invalid_service", message)
}

fn name_ok(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Parses a value of `ty` from a call's text.
fn typed(ty: ParamType, text: &str) -> Option<Value> {
    match ty {
        ParamType::String => Some(Value::Text(text.to_string())),
        ParamType::Integer => {
            let t = text.trim();
            // Plain decimal only: no `+`, no `0x`, no exponent.
            let digits = t.strip_prefix('-').unwrap_or(t);
            (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()))
                .then(|| t.parse().ok().map(Value::Int))
                .flatten()
        }
        ParamType::Number => {
            let t = text.trim();
            let plain = !t.is_empty()
                && t.bytes()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.'))
                && t.bytes().filter(|c| *c == b'.').count() <= 1
                && !t[1..].contains('-');
            plain
                .then(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(Value::Float)
                })
                .flatten()
        }
        ParamType::Date => parse_date(text).map(|_| Value::Date(text.to_string())),
        ParamType::Boolean => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

fn bound(ty: ParamType, name: &str, which: &str, v: &serde_json::Value) -> Result<Value, Refusal> {
    let value = match (ty, v) {
        (ParamType::Integer, serde_json::Value::Number(n)) => n.as_i64().map(Value::Int),
        (ParamType::Number, serde_json::Value::Number(n)) => {
            n.as_f64().filter(|f| f.is_finite()).map(Value::Float)
        }
        (ParamType::Date, serde_json::Value::String(s)) => typed(ParamType::Date, s),
        _ => None,
    };
    value.ok_or_else(|| {
        invalid(format!(
            "参数 {name} 的 {which} 须为与类型相符的值（整数、数字或 YYYY-MM-DD 日期），字符串请用 \
             min_length/max_length (parameter {name}: {which} must match its type)"
        ))
    })
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl ServiceSpec {
    /// Validates the service against the resource's columns; `personal` when the resource
    /// (or a response field) holds personal information.
    pub fn compile(&self, columns: &[&str], personal: bool) -> Result<CompiledService, Refusal> {
        if self.fields.is_empty() {
            return Err(invalid("fields 不能为空 (name the response fields)".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.fields {
            if !columns.contains(&f.as_str()) {
                return Err(invalid(format!(
                    "响应字段 {f} 不在资源中 (field {f} is not a column of the resource)"
                )));
            }
            if !seen.insert(f.as_str()) {
                return Err(invalid(format!("响应字段 {f} 重复 (field {f} twice)")));
            }
        }
        if !(1..=MAX_ROWS_CAP).contains(&self.max_rows) {
            return Err(invalid(format!(
                "max_rows 须在 1–{MAX_ROWS_CAP} 之间 (max_rows 1–{MAX_ROWS_CAP})"
            )));
        }
        if self.params.len() > MAX_PARAMS {
            return Err(invalid(format!(
                "参数最多 {MAX_PARAMS} 个 (at most {MAX_PARAMS} parameters)"
            )));
        }
        let mut names = std::collections::HashSet::new();
        let mut params = Vec::with_capacity(self.params.len());
        for p in &self.params {
            if !name_ok(&p.name) {
                return Err(invalid(format!(
                    "参数名 {:?} 须以字母开头，只含字母、数字和 _，最长 32 (parameter names: a letter, then letters, digits, _)",
                    p.name
                )));
            }
            if self.paging && PAGING.contains(&p.name.as_str()) {
                return Err(invalid(format!(
                    "参数名 {} 留给分页使用 (reserved for paging)",
                    p.name
                )));
            }
            if !names.insert(p.name.as_str()) {
                return Err(invalid(format!("参数 {} 重复 (declared twice)", p.name)));
            }
            if !columns.contains(&p.column.as_str()) {
                return Err(invalid(format!(
                    "参数 {} 的列 {} 不在资源中 (no column {})",
                    p.name, p.column, p.column
                )));
            }
            let op = parse_op(&p.op).ok_or_else(|| {
                invalid(format!(
                    "参数 {} 的 op {:?} 不支持；可用 eq ne lt le gt ge prefix",
                    p.name, p.op
                ))
            })?;
            if op == Op::Prefix && p.ty != ParamType::String {
                return Err(invalid(format!(
                    "参数 {}：prefix 只用于 string 类型 (prefix needs a string)",
                    p.name
                )));
            }
            if p.ty == ParamType::Boolean && !matches!(op, Op::Eq | Op::Ne) {
                return Err(invalid(format!(
                    "参数 {}：布尔值只能用 eq 或 ne (booleans compare with eq or ne)",
                    p.name
                )));
            }
            let min = match &p.min {
                Some(v) => Some(bound(p.ty, &p.name, "min", v)?),
                None => None,
            };
            let max = match &p.max {
                Some(v) => Some(bound(p.ty, &p.name, "max", v)?),
                None => None,
            };
            if let (Some(a), Some(b)) = (&min, &max) {
                if compare(a, b) == Some(std::cmp::Ordering::Greater) {
                    return Err(invalid(format!("参数 {}：min 大于 max", p.name)));
                }
            }
            if p.ty != ParamType::String
                && (p.pattern.is_some() || p.min_length.is_some() || p.max_length.is_some())
            {
                return Err(invalid(format!(
                    "参数 {}：pattern、min_length、max_length 只用于 string 类型",
                    p.name
                )));
            }
            let max_length = p.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
            let min_length = p.min_length.unwrap_or(0);
            if max_length == 0 || max_length > 1024 || min_length > max_length {
                return Err(invalid(format!(
                    "参数 {}：长度限制须满足 0 ≤ min_length ≤ max_length ≤ 1024",
                    p.name
                )));
            }
            let pattern = match &p.pattern {
                None => None,
                Some(text) => {
                    if text.is_empty() || text.chars().count() > 256 {
                        return Err(invalid(format!(
                            "参数 {}：pattern 须为 1–256 个字符",
                            p.name
                        )));
                    }
                    // Anchored: the whole value must match. Linear time whatever the
                    // pattern; the size limits refuse patterns that compile huge.
                    let anchored = format!("^(?:{text})$");
                    Some(
                        RegexBuilder::new(&anchored)
                            .size_limit(1 << 20)
                            .dfa_size_limit(1 << 20)
                            .nest_limit(32)
                            .build()
                            .map_err(|e| {
                                invalid(format!(
                                    "参数 {} 的 pattern 无效或过大 (pattern invalid or too large): {e}",
                                    p.name
                                ))
                            })?,
                    )
                }
            };
            params.push(CompiledParam {
                spec: p.clone(),
                op,
                pattern,
                min,
                max,
                min_length,
                max_length,
            });
        }
        if personal && !params.iter().any(|p| p.spec.required && p.op == Op::Eq) {
            return Err(Refusal::new(
                "selective_predicate_required",
                "含个人信息的服务须至少有一个必填的精确匹配参数（op=eq, required=true），不得提供\
                 “全部查询” (a service on personal data must require an exact-match parameter)",
            ));
        }
        Ok(CompiledService {
            fields: self.fields.clone(),
            params,
            max_rows: self.max_rows,
            paging: self.paging,
        })
    }
}

impl CompiledService {
    /// Response fields.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The row cap.
    pub fn max_rows(&self) -> u64 {
        self.max_rows
    }

    /// Binds a call's query pairs. Refusals: `undeclared_parameter`,
    /// `duplicate_parameter`, `missing_parameter`, `invalid_parameter`,
    /// `limit_exceeds_max_rows`, `too_many_parameters`.
    pub fn bind(&self, query: &[(String, String)]) -> Result<Call, Refusal> {
        if query.len() > MAX_QUERY_PAIRS {
            return Err(Refusal::new(
                "too_many_parameters",
                format!("参数过多（最多 {MAX_QUERY_PAIRS} 个）(too many parameters)"),
            ));
        }
        let declared = || {
            let mut names: Vec<&str> = self.params.iter().map(|p| p.spec.name.as_str()).collect();
            if self.paging {
                names.extend(PAGING);
            }
            names.join(", ")
        };
        let mut seen = std::collections::HashSet::new();
        for (name, _) in query {
            let known = self.params.iter().any(|p| &p.spec.name == name)
                || (self.paging && PAGING.contains(&name.as_str()));
            if !known {
                let shown: String = name.chars().take(32).collect();
                return Err(Refusal::new(
                    "undeclared_parameter",
                    format!(
                        "参数 {shown:?} 未在服务中声明；只接受：{} (undeclared parameter; the service \
                         takes only: {})",
                        declared(),
                        declared()
                    ),
                ));
            }
            if !seen.insert(name.as_str()) {
                return Err(Refusal::new(
                    "duplicate_parameter",
                    format!("参数 {name} 重复 (parameter {name} given twice)"),
                ));
            }
        }
        let get = |name: &str| {
            query
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let mut predicates = Vec::new();
        for p in &self.params {
            let Some(text) = get(&p.spec.name) else {
                if p.spec.required {
                    return Err(Refusal::new(
                        "missing_parameter",
                        format!(
                            "缺少必填参数 {} (required parameter {} missing)",
                            p.spec.name, p.spec.name
                        ),
                    ));
                }
                continue;
            };
            predicates.push(Predicate {
                column: p.spec.column.clone(),
                op: p.op,
                value: p.check(text)?,
            });
        }
        let mut limit = self.max_rows;
        let mut offset = 0;
        if self.paging {
            if let Some(text) = get("limit") {
                let n: u64 = text
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1 && text.bytes().all(|c| c.is_ascii_digit()))
                    .ok_or_else(|| {
                        Refusal::new(
                            "invalid_parameter",
                            "limit 须为正整数 (limit is a positive integer)",
                        )
                    })?;
                if n > self.max_rows {
                    return Err(Refusal::new(
                        "limit_exceeds_max_rows",
                        format!(
                            "limit {n} 超过服务的单次最大行数 {} (limit is over the service's \
                             max_rows)",
                            self.max_rows
                        ),
                    ));
                }
                limit = n;
            }
            if let Some(text) = get("offset") {
                offset = text
                    .parse()
                    .ok()
                    .filter(|n| *n <= MAX_OFFSET && text.bytes().all(|c| c.is_ascii_digit()))
                    .ok_or_else(|| {
                        Refusal::new(
                            "invalid_parameter",
                            format!("offset 须为 0–{MAX_OFFSET} 的整数"),
                        )
                    })?;
            }
        }
        Ok(Call {
            predicates,
            limit,
            offset,
        })
    }

    /// The declared parameters, as published.
    pub fn params(&self) -> Vec<&ParamSpec> {
        self.params.iter().map(|p| &p.spec).collect()
    }
}

impl CompiledParam {
    fn check(&self, text: &str) -> Result<Value, Refusal> {
        let name = &self.spec.name;
        let refuse = |why: &str| {
            Refusal::new(
                "invalid_parameter",
                format!("参数 {name} 的值不合规：{why} (parameter {name}: {why})"),
            )
        };
        if text.chars().any(char::is_control) {
            return Err(refuse("含控制字符"));
        }
        if self.spec.ty == ParamType::String {
            let n = text.chars().count();
            if n < self.min_length.max(1) || n > self.max_length {
                return Err(refuse(&format!(
                    "长度须在 {}–{} 之间",
                    self.min_length.max(1),
                    self.max_length
                )));
            }
            if let Some(re) = &self.pattern {
                if !re.is_match(text) {
                    return Err(refuse("不符合声明的格式 pattern"));
                }
            }
        }
        let value = typed(self.spec.ty, text).ok_or_else(|| {
            refuse(match self.spec.ty {
                ParamType::Integer => "须为整数",
                ParamType::Number => "须为数字",
                ParamType::Date => "须为 YYYY-MM-DD 日期",
                ParamType::Boolean => "须为 true 或 false",
                ParamType::String => "须为文本",
            })
        })?;
        if let Some(min) = &self.min {
            if compare(&value, min) == Some(std::cmp::Ordering::Less) {
                return Err(refuse(&format!("小于下限 {}", min.text())));
            }
        }
        if let Some(max) = &self.max {
            if compare(&value, max) == Some(std::cmp::Ordering::Greater) {
                return Err(refuse(&format!("大于上限 {}", max.text())));
            }
        }
        Ok(value)
    }
}

/// A parameter value as the audit record shows it: enough to recognise a call, never the
/// whole value (`11010519491231002X` → `110***02X`; short values keep one character).
pub fn mask_value(value: &str) -> String {
    let chars: Vec<char> = value.chars().take(512).collect();
    let n = chars.len();
    match n {
        0 => String::new(),
        1..=3 => format!("{}**", chars[0]),
        4..=7 => format!("{}***{}", chars[0], chars[n - 1]),
        _ => format!(
            "{}***{}",
            chars[..3].iter().collect::<String>(),
            chars[n - 3..].iter().collect::<String>()
        ),
    }
}

/// The ids of the comparisons, for documents and answers.
pub fn op_name(op: Op) -> &'static str {
    op_id(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COLUMNS: &[&str] = &["xm", "sfzh", "nl", "csrq", "qx", "hy"];

    fn spec(params: serde_json::Value, max_rows: u64) -> ServiceSpec {
        ServiceSpec {
            fields: vec!["xm".into(), "qx".into()],
            params: serde_json::from_value(params).unwrap(),
            max_rows,
            paging: true,
        }
    }

    fn lookup() -> CompiledService {
        spec(
            json!([
                {"name": "id", "column": "sfzh", "op": "eq", "type": "string", "required": true,
                 "pattern": "[0-9]{17}[0-9X]"},
                {"name": "min_age", "column": "nl", "op": "ge", "type": "integer", "min": 0, "max": 150},
                {"name": "born", "column": "csrq", "op": "le", "type": "date", "min": "1900-01-01"},
                {"name": "married", "column": "hy", "type": "boolean"},
                {"name": "district", "column": "qx", "op": "prefix", "max_length": 20}
            ]),
            50,
        )
        .compile(COLUMNS, true)
        .unwrap()
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn code(r: Result<Call, Refusal>) -> &'static str {
        r.unwrap_err().code
    }

    #[test]
    fn a_call_binds_declared_typed_parameters() {
        let s = lookup();
        let call = s
            .bind(&q(&[
                ("id", "11010519491231002X"),
                ("min_age", "60"),
                ("married", "true"),
            ]))
            .unwrap();
        assert_eq!(call.limit, 50);
        assert_eq!(
            call.predicates,
            vec![
                Predicate {
                    column: "sfzh".into(),
                    op: Op::Eq,
                    value: Value::Text("11010519491231002X".into())
                },
                Predicate {
                    column: "nl".into(),
                    op: Op::Ge,
                    value: Value::Int(60)
                },
                Predicate {
                    column: "hy".into(),
                    op: Op::Eq,
                    value: Value::Bool(true)
                },
            ]
        );
        let paged = s
            .bind(&q(&[
                ("id", "11010519491231002X"),
                ("limit", "10"),
                ("offset", "20"),
            ]))
            .unwrap();
        assert_eq!((paged.limit, paged.offset), (10, 20));
    }

    #[test]
    fn bad_calls_are_refused_with_a_code() {
        let s = lookup();
        let id = ("id", "11010519491231002X");
        assert_eq!(
            code(s.bind(&q(&[id, ("sort", "xm")]))),
            "undeclared_parameter"
        );
        assert_eq!(code(s.bind(&q(&[id, ("id", "1")]))), "duplicate_parameter");
        assert_eq!(code(s.bind(&q(&[("min_age", "1")]))), "missing_parameter");
        assert_eq!(
            code(s.bind(&q(&[id, ("limit", "1000000")]))),
            "limit_exceeds_max_rows"
        );
        for (name, value) in [
            ("id", "' OR '1'='1"),
            ("id", "11010519491231002X' --"),
            ("id", "11010519491231002X\0"),
            ("min_age", "60 OR 1=1"),
            ("min_age", "1e3"),
            ("min_age", "0x10"),
            ("min_age", "+5"),
            ("min_age", "151"),
            ("min_age", "-1"),
            ("min_age", "99999999999999999999"),
            ("born", "1899-12-31"),
            ("born", "2025-02-30"),
            ("born", "2025-01-01; DROP TABLE x"),
            ("married", "1"),
            ("district", ""),
            ("district", "浉河区浉河区浉河区浉河区浉河区浉河区浉河区"),
            ("limit", "-1"),
            ("limit", "0"),
            ("offset", "99999999999"),
        ] {
            let mut pairs = vec![id];
            if name == "id" {
                pairs.clear();
            }
            pairs.push((name, value));
            assert_eq!(
                code(s.bind(&q(&pairs))),
                "invalid_parameter",
                "{name}={value:?}"
            );
        }
        let many: Vec<(String, String)> = (0..65).map(|i| (format!("p{i}"), "1".into())).collect();
        assert_eq!(code(s.bind(&many)), "too_many_parameters");
    }

    #[test]
    fn personal_data_needs_a_selective_predicate() {
        let range_only = spec(
            json!([{"name": "a", "column": "nl", "op": "ge", "type": "integer", "required": true}]),
            10,
        );
        assert_eq!(
            range_only.compile(COLUMNS, true).unwrap_err().code,
            "selective_predicate_required"
        );
        range_only.compile(COLUMNS, false).unwrap();
        let optional = spec(json!([{"name": "id", "column": "sfzh"}]), 10);
        assert!(optional.compile(COLUMNS, true).is_err());
        let none = spec(json!([]), 10);
        assert!(none.compile(COLUMNS, true).is_err());
    }

    #[test]
    fn services_are_validated() {
        let bad = [
            json!([{"name": "1x", "column": "xm"}]),
            json!([{"name": "a", "column": "mima"}]),
            json!([{"name": "a", "column": "xm", "op": "like"}]),
            json!([{"name": "a", "column": "nl", "op": "prefix", "type": "integer"}]),
            json!([{"name": "a", "column": "hy", "op": "gt", "type": "boolean"}]),
            json!([{"name": "a", "column": "nl", "type": "integer", "min": "x"}]),
            json!([{"name": "a", "column": "nl", "type": "integer", "min": 5, "max": 1}]),
            json!([{"name": "a", "column": "nl", "type": "integer", "pattern": "[0-9]+"}]),
            json!([{"name": "a", "column": "xm", "pattern": "("}]),
            json!([{"name": "a", "column": "xm", "pattern": "(a{1000}){1000}"}]),
            json!([{"name": "a", "column": "xm", "max_length": 0}]),
            json!([{"name": "limit", "column": "xm"}]),
            json!([{"name": "a", "column": "xm"}, {"name": "a", "column": "qx"}]),
        ];
        for params in bad {
            assert_eq!(
                spec(params.clone(), 10)
                    .compile(COLUMNS, false)
                    .unwrap_err()
                    .code,
                "invalid_service",
                "{params}"
            );
        }
        assert!(serde_json::from_value::<Vec<ParamSpec>>(
            json!([{"name": "a", "column": "xm", "sql": "1=1"}])
        )
        .is_err());
        for rows in [0, MAX_ROWS_CAP + 1] {
            assert!(spec(json!([]), rows).compile(COLUMNS, false).is_err());
        }
        let mut unknown_field = spec(json!([]), 10);
        unknown_field.fields = vec!["mima".into()];
        assert!(unknown_field.compile(COLUMNS, false).is_err());
    }

    /// Patterns that take exponential time in backtracking engines match in linear time
    /// here: a long hostile value is answered at once.
    #[test]
    fn regex_bombs_are_linear() {
        let s = spec(
            json!([{"name": "a", "column": "xm", "pattern": "(a+)+$|(x|x)*y|(\\w+\\s?)*z", "required": true, "op": "eq", "max_length": 1024}]),
            10,
        )
        .compile(COLUMNS, false)
        .unwrap();
        let hostile = format!("{}!", "a".repeat(1000));
        let started = std::time::Instant::now();
        assert_eq!(code(s.bind(&q(&[("a", &hostile)]))), "invalid_parameter");
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
    }

    #[test]
    fn values_are_masked_for_the_audit() {
        assert_eq!(mask_value("11010519491231002X"), "110***02X");
        assert_eq!(mask_value("张三丰"), "张**");
        assert_eq!(mask_value("13800"), "1***0");
        assert_eq!(mask_value(""), "");
    }
}
