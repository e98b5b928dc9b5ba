//! Where a share request goes (R-20, R-21; 国务院令第809号): by the resource's 共享属性 and
//! level. 无条件共享 → the platform's conformity check, and granted at once; 有条件共享 →
//! the providing department's data steward, and its chief data officer too when the data
//! is in the important-data catalogue (重要数据, 三级 and above); 不予共享 → refused at
//! once with the legal basis (only a negotiation outside the platform can change it).
//!
//! The conformity check ([`check_request`]) is the same for every route: the fields exist,
//! 用途, 履职依据 and 应用场景 are given, the period is bounded, a row filter names real
//! columns with plain values, and an in-house scenario is not used across departments.

use serde_json::Value as Json;
use shuan_source::query::{Op, Predicate, Value};

use crate::catalogue::Openness;
use crate::Refusal;

/// One step of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The platform's conformity check (无条件共享).
    Conformity,
    /// The providing department's data steward.
    Steward,
    /// The providing department's chief data officer.
    ChiefDataOfficer,
}

impl Step {
    /// Stable id stored with the request: `conformity`, `steward`, `cdo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Conformity => "conformity",
            Step::Steward => "steward",
            Step::ChiefDataOfficer => "cdo",
        }
    }

    /// From the stable id.
    pub fn parse(text: &str) -> Option<Step> {
        Some(match text {
            "conformity" => Step::Conformity,
            "steward" => Step::Steward,
            "cdo" => Step::ChiefDataOfficer,
            _ => return None,
        })
    }

    /// 符合性审查 / 数据管理员审核 / 首席数据官审批.
    pub fn label(self) -> &'static str {
        match self {
            Step::Conformity => "平台符合性审查",
            Step::Steward => "提供方数据管理员审核",
            Step::ChiefDataOfficer => "提供方首席数据官审批",
        }
    }
}

/// The route of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// These steps, in order; the last approval makes the agreement.
    Steps(Vec<Step>),
    /// 不予共享: refused at once, with the basis.
    Refused {
        /// The legal basis of the refusal.
        basis: String,
    },
}

/// The route for a resource with 共享属性 `share`, in the important-data catalogue or
/// not, whose 不予 basis is `basis`.
pub fn route(share: Openness, important: bool, basis: Option<&str>) -> Route {
    match share {
        Openness::Unconditional => Route::Steps(vec![Step::Conformity]),
        Openness::Conditional if important => {
            Route::Steps(vec![Step::Steward, Step::ChiefDataOfficer])
        }
        Openness::Conditional => Route::Steps(vec![Step::Steward]),
        Openness::None => Route::Refused {
            basis: basis
                .filter(|b| !b.trim().is_empty())
                .unwrap_or("该资源为不予共享（未写明依据）")
                .to_string(),
        },
    }
}

/// Longest period a request may ask for, in days.
pub const MAX_VALID_DAYS: i64 = 366;
/// Most predicates of a row filter.
pub const MAX_FILTER_PREDICATES: usize = 16;

/// A request as filed, for the conformity check.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// Fields asked for.
    pub fields: &'a [String],
    /// 用途.
    pub purpose: &'a str,
    /// 应用场景 (a masking scenario id).
    pub scenario: &'a str,
    /// 履职依据.
    pub basis: &'a str,
    /// Days.
    pub valid_days: i64,
    /// Row filter (JSON, `null` for none).
    pub row_filter: &'a Json,
    /// The requesting department.
    pub department: &'a str,
    /// The providing department.
    pub provider: &'a str,
}

fn text_ok(field: &str, value: &str, max: usize) -> Result<(), Refusal> {
    let n = value.chars().count();
    if value.trim().is_empty() || n > max || value.chars().any(char::is_control) {
        return Err(Refusal::new(
            "invalid_input",
            format!("{field} 须为 1–{max} 个字符，不含控制字符 ({field}: 1–{max} characters)"),
        ));
    }
    Ok(())
}

/// The conformity check of a request against the resource's `columns` and the masking
/// `scenarios` the platform knows. Answers the row filter as predicates.
pub fn check_request(
    draft: &Draft<'_>,
    columns: &[&str],
    scenarios: &[&str],
) -> Result<Vec<Predicate>, Refusal> {
    text_ok("purpose (用途)", draft.purpose, 500)?;
    text_ok("basis (履职依据)", draft.basis, 500)?;
    if draft.fields.is_empty() {
        return Err(Refusal::new(
            "invalid_input",
            "fields 不能为空：请列出所需字段（最小必要）(name the fields you need)",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for f in draft.fields {
        if !columns.contains(&f.as_str()) {
            return Err(Refusal::new(
                "unknown_field_name",
                format!(
                    "资源没有字段 {f} (the resource has no field {f}; it has: {})",
                    columns.join(", ")
                ),
            ));
        }
        if !seen.insert(f.as_str()) {
            return Err(Refusal::new(
                "invalid_input",
                format!("字段 {f} 重复 (field {f} is listed twice)"),
            ));
        }
    }
    if !scenarios.contains(&draft.scenario) {
        return Err(Refusal::new(
            "invalid_input",
            format!(
                "应用场景 scenario 须为脱敏场景之一：{} (unknown scenario {:?})",
                scenarios.join("、"),
                draft.scenario
            ),
        ));
    }
    if draft.scenario == "internal_query" && draft.department != draft.provider {
        return Err(Refusal::new(
            "invalid_input",
            "internal_query（内部查询）场景只用于本部门，跨部门共享请选择 sharing 等场景 (the \
             in-house scenario is not for another department)",
        ));
    }
    if !(1..=MAX_VALID_DAYS).contains(&draft.valid_days) {
        return Err(Refusal::new(
            "invalid_input",
            format!("valid_days 须在 1–{MAX_VALID_DAYS} 天之间 (period 1–{MAX_VALID_DAYS} days)"),
        ));
    }
    parse_row_filter(draft.row_filter, columns)
}

/// A row filter: `null`; an object `{column: value}` (equality); or a list of
/// `{column, op, value}` with op `eq ne lt le gt ge prefix`. Values are strings, numbers or
/// booleans; columns must be the resource's.
pub fn parse_row_filter(filter: &Json, columns: &[&str]) -> Result<Vec<Predicate>, Refusal> {
    let bad = |m: String| Refusal::new("invalid_row_filter", m);
    let items: Vec<(String, Op, &Json)> =
        match filter {
            Json::Null => return Ok(Vec::new()),
            Json::Object(map) => map.iter().map(|(k, v)| (k.clone(), Op::Eq, v)).collect(),
            Json::Array(list) => {
                let mut out = Vec::with_capacity(list.len());
                for item in list {
                    let Json::Object(o) = item else {
                        return Err(bad(
                            "row_filter 的每一项须为 {column, op, value} (each item is an object)"
                                .into(),
                        ));
                    };
                    if let Some(k) = o
                        .keys()
                        .find(|k| !["column", "op", "value"].contains(&k.as_str()))
                    {
                        return Err(bad(format!("row_filter 含未知键 {k} (unknown key {k})")));
                    }
                    let column = o.get("column").and_then(Json::as_str).ok_or_else(|| {
                        bad("row_filter 每一项须有 column (column is required)".into())
                    })?;
                    let op = match o.get("op").map(|v| v.as_str()) {
                        None => Op::Eq,
                        Some(Some(op)) => parse_op(op).ok_or_else(|| {
                            bad(format!(
                                "row_filter 的 op {op:?} 不支持；可用 eq ne lt le gt ge prefix"
                            ))
                        })?,
                        Some(None) => return Err(bad("op 须为字符串 (op is a string)".into())),
                    };
                    let value = o.get("value").ok_or_else(|| {
                        bad("row_filter 每一项须有 value (value is required)".into())
                    })?;
                    out.push((column.to_string(), op, value));
                }
                out
            }
            _ => return Err(bad(
                "row_filter 须为对象 {列: 值} 或数组 [{column, op, value}] (an object or a list)"
                    .into(),
            )),
        };
    if items.len() > MAX_FILTER_PREDICATES {
        return Err(bad(format!(
            "row_filter 最多 {MAX_FILTER_PREDICATES} 个条件 (at most {MAX_FILTER_PREDICATES})"
        )));
    }
    let mut out = Vec::with_capacity(items.len());
    for (column, op, value) in items {
        if !columns.contains(&column.as_str()) {
            return Err(bad(format!(
                "row_filter 的列 {column} 不存在 (no column {column})"
            )));
        }
        let value = match value {
            Json::String(s) if s.chars().count() <= 256 && !s.chars().any(char::is_control) => {
                Value::Text(s.clone())
            }
            Json::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap_or_default()),
            Json::Number(n) => match n.as_f64().filter(|f| f.is_finite()) {
                Some(f) => Value::Float(f),
                None => return Err(bad(format!("row_filter {column}: bad number"))),
            },
            Json::Bool(b) => Value::Bool(*b),
            _ => {
                return Err(bad(format!(
                "row_filter {column} 的值须为字符串（≤256 字）、数字或布尔 (a string, number or \
                     boolean)"
            )))
            }
        };
        if op == Op::Prefix && !matches!(value, Value::Text(_)) {
            return Err(bad(format!(
                "row_filter {column}: prefix 只用于字符串 (prefix needs a string)"
            )));
        }
        out.push(Predicate { column, op, value });
    }
    Ok(out)
}

/// `eq ne lt le gt ge prefix`.
pub fn parse_op(text: &str) -> Option<Op> {
    Some(match text {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "lt" => Op::Lt,
        "le" => Op::Le,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "prefix" => Op::Prefix,
        _ => return None,
    })
}

/// The id [`parse_op`] reads.
pub fn op_id(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Lt => "lt",
        Op::Le => "le",
        Op::Gt => "gt",
        Op::Ge => "ge",
        Op::Prefix => "prefix",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routes_by_share_type_and_level() {
        assert_eq!(
            route(Openness::Unconditional, true, None),
            Route::Steps(vec![Step::Conformity])
        );
        assert_eq!(
            route(Openness::Conditional, false, None),
            Route::Steps(vec![Step::Steward])
        );
        assert_eq!(
            route(Openness::Conditional, true, None),
            Route::Steps(vec![Step::Steward, Step::ChiefDataOfficer])
        );
        assert_eq!(
            route(Openness::None, false, Some("《条例》第九条")),
            Route::Refused {
                basis: "《条例》第九条".into()
            }
        );
        for s in [Step::Conformity, Step::Steward, Step::ChiefDataOfficer] {
            assert_eq!(Step::parse(s.as_str()), Some(s));
        }
    }

    fn draft<'a>(fields: &'a [String], filter: &'a Json) -> Draft<'a> {
        Draft {
            fields,
            purpose: "低保资格核验",
            scenario: "sharing",
            basis: "《社会救助暂行办法》第十一条",
            valid_days: 30,
            row_filter: filter,
            department: "R",
            provider: "P",
        }
    }

    const COLUMNS: &[&str] = &["xm", "sfzh", "qx", "nl"];
    const SCENARIOS: &[&str] = &["sharing", "open_data", "internal_query"];

    #[test]
    fn the_conformity_check() {
        let fields = vec!["xm".to_string()];
        let none = Json::Null;
        assert!(check_request(&draft(&fields, &none), COLUMNS, SCENARIOS)
            .unwrap()
            .is_empty());
        let unknown = vec!["mima".to_string()];
        assert_eq!(
            check_request(&draft(&unknown, &none), COLUMNS, SCENARIOS)
                .unwrap_err()
                .code,
            "unknown_field_name"
        );
        let twice = vec!["xm".to_string(), "xm".to_string()];
        assert!(check_request(&draft(&twice, &none), COLUMNS, SCENARIOS).is_err());
        assert!(check_request(&draft(&[], &none), COLUMNS, SCENARIOS).is_err());
        let mut d = draft(&fields, &none);
        d.purpose = " ";
        assert!(check_request(&d, COLUMNS, SCENARIOS).is_err());
        let mut d = draft(&fields, &none);
        d.valid_days = 0;
        assert!(check_request(&d, COLUMNS, SCENARIOS).is_err());
        d.valid_days = MAX_VALID_DAYS + 1;
        assert!(check_request(&d, COLUMNS, SCENARIOS).is_err());
        let mut d = draft(&fields, &none);
        d.scenario = "raw";
        assert!(check_request(&d, COLUMNS, SCENARIOS).is_err());
        d.scenario = "internal_query";
        assert!(check_request(&d, COLUMNS, SCENARIOS).is_err());
        d.department = "P";
        assert!(check_request(&d, COLUMNS, SCENARIOS).is_ok());
    }

    #[test]
    fn row_filters() {
        let p = parse_row_filter(&json!({"qx": "浉河区"}), COLUMNS).unwrap();
        assert_eq!(
            p,
            vec![Predicate {
                column: "qx".into(),
                op: Op::Eq,
                value: Value::Text("浉河区".into())
            }]
        );
        let p = parse_row_filter(
            &json!([{"column": "nl", "op": "ge", "value": 60}, {"column": "qx", "op": "prefix", "value": "浉"}]),
            COLUMNS,
        )
        .unwrap();
        assert_eq!(p[0].value, Value::Int(60));
        assert_eq!(p[1].op, Op::Prefix);
        for bad in [
            json!({"nope": 1}),
            json!([{"column": "qx", "op": "like", "value": "%"}]),
            json!([{"column": "qx", "value": {"$ne": 1}}]),
            json!([{"column": "nl", "op": "prefix", "value": 1}]),
            json!([{"column": "qx", "value": "a", "sql": "1=1"}]),
            json!("qx = 1 OR 1=1"),
            json!([1]),
        ] {
            assert_eq!(
                parse_row_filter(&bad, COLUMNS).unwrap_err().code,
                "invalid_row_filter",
                "{bad}"
            );
        }
        let many: Vec<Json> = (0..17)
            .map(|i| json!({"column": "nl", "value": i}))
            .collect();
        assert!(parse_row_filter(&Json::Array(many), COLUMNS).is_err());
    }
}
