//! What a destruction (数据销毁) may name, how each kind is destroyed, and which legal holds
//! (法律保全) it falls under.
//!
//! A target is one thing: a key version (crypto-shredding: everything encrypted under it
//! becomes unreadable), rows of a registered source's table chosen by a filter whose
//! values are bound, never written into SQL, or a whole table. Each kind has exactly one
//! method, so a request cannot say "crypto-shred" of rows. A target has a stable key
//! (`target_key`) by which the store refuses a second destruction of the same thing, and
//! the hold keys of the scopes that contain it: a hold on a source covers every table and
//! row in it, a hold on a key every version of it.

use serde::{Deserialize, Serialize};
use shuan_source::query::{Op, Predicate, Value};

/// Longest accepted text value in a filter (characters).
const MAX_VALUE_CHARS: usize = 1000;
/// Most terms in one filter.
const MAX_TERMS: usize = 20;

/// Why a target (or a hold scope, or a method) was refused. Messages are Chinese first,
/// with the English after, and name the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TargetError {
    /// The field at fault (`target.key`, `target.filter[2].value`, `method` …).
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> TargetError {
    TargetError {
        field: field.into(),
        message: message.into(),
    }
}

/// A comparison of a filter term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl FilterOp {
    fn op(self) -> Op {
        match self {
            FilterOp::Eq => Op::Eq,
            FilterOp::Ne => Op::Ne,
            FilterOp::Lt => Op::Lt,
            FilterOp::Le => Op::Le,
            FilterOp::Gt => Op::Gt,
            FilterOp::Ge => Op::Ge,
        }
    }

    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::Ne => "<>",
            FilterOp::Lt => "<",
            FilterOp::Le => "<=",
            FilterOp::Gt => ">",
            FilterOp::Ge => ">=",
        }
    }
}

/// `column op value`; the terms of a filter are joined by AND.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterTerm {
    /// A column of the table, as the catalogue lists it.
    pub column: String,
    /// The comparison.
    pub op: FilterOp,
    /// A string, number or boolean; bound as a parameter.
    pub value: serde_json::Value,
}

impl FilterTerm {
    /// The term as a predicate of a parameterised statement.
    pub fn predicate(&self) -> Predicate {
        let value = match &self.value {
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Text(s.clone()),
            // `check` refused the rest; text keeps this total.
            other => Value::Text(other.to_string()),
        };
        Predicate {
            column: self.column.clone(),
            op: self.op.op(),
            value,
        }
    }
}

/// What a destruction destroys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// One version of a keyring key: its wrapped material is erased (crypto-shredding).
    KeyVersion {
        /// Key id (`mask`, `archive-2024` …).
        key: String,
        /// Version number (from 1).
        version: u32,
    },
    /// The rows of `table` in the registered source `source` matching every term of
    /// `filter`.
    Rows {
        /// The registered source's name.
        source: String,
        /// The table as the catalogue names it (`public.people`, `db.people`).
        table: String,
        /// Terms joined by AND; at least one (a whole table is the `table` kind).
        filter: Vec<FilterTerm>,
    },
    /// A whole table of a registered source (a test copy, temporary data).
    Table {
        /// The registered source's name.
        source: String,
        /// The table as the catalogue names it.
        table: String,
    },
    /// A file in a node's job directory (`DATA_DIR/files`): a job's output, a test copy,
    /// temporary data. It is destroyed on the node that holds it.
    File {
        /// The node holding it (its ledger id); the requesting node fills it in when the
        /// caller leaves it out.
        #[serde(default)]
        node: String,
        /// Its path, absolute (as a job's result names it) or relative to the job
        /// directory; the node writes it absolute once it found the file.
        path: String,
        /// What identifies the file the request found (device, inode, modification
        /// time), filled in by the node: a file made again at the same path is another
        /// target, and a file changed since the request is not destroyed by it.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        instance: String,
    },
}

/// How a target is destroyed; one per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Erase the key version's material from the keyring and re-wrap the rest under a
    /// new KEK (密码销毁).
    CryptoShred,
    /// `DELETE` the matching rows in one transaction (删除记录).
    DeleteRows,
    /// `DROP TABLE` (删除数据表).
    DropTable,
    /// Overwrite the file with zeros, remove it and sync its directory (删除文件).
    DeleteFile,
}

impl Method {
    /// Stable id.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::CryptoShred => "crypto_shred",
            Method::DeleteRows => "delete_rows",
            Method::DropTable => "drop_table",
            Method::DeleteFile => "delete_file",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Method::CryptoShred => "密码销毁（销毁密钥）",
            Method::DeleteRows => "删除记录",
            Method::DropTable => "删除数据表",
            Method::DeleteFile => "删除文件（覆写后删除）",
        }
    }

    /// From the stable id.
    pub fn parse(s: &str) -> Option<Method> {
        [
            Method::CryptoShred,
            Method::DeleteRows,
            Method::DropTable,
            Method::DeleteFile,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

fn check_name(field: &str, value: &str, max: usize) -> Result<(), TargetError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "不能为空 (must not be empty)"));
    }
    if value.chars().count() > max {
        return Err(invalid(
            field,
            format!("不能超过 {max} 个字符 (at most {max} characters)"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            "不能含控制字符 (must not contain control characters)",
        ));
    }
    Ok(())
}

impl Target {
    /// The kind's stable id (`key_version`, `rows`, `table`).
    pub fn kind(&self) -> &'static str {
        match self {
            Target::KeyVersion { .. } => "key_version",
            Target::Rows { .. } => "rows",
            Target::Table { .. } => "table",
            Target::File { .. } => "file",
        }
    }

    /// The one method this kind is destroyed by.
    pub fn method(&self) -> Method {
        match self {
            Target::KeyVersion { .. } => Method::CryptoShred,
            Target::Rows { .. } => Method::DeleteRows,
            Target::Table { .. } => Method::DropTable,
            Target::File { .. } => Method::DeleteFile,
        }
    }

    /// The registered source a target lives in (`None` for a key version).
    pub fn source(&self) -> Option<&str> {
        match self {
            Target::KeyVersion { .. } | Target::File { .. } => None,
            Target::Rows { source, .. } | Target::Table { source, .. } => Some(source),
        }
    }

    /// Checks the fields a caller gave: names present and short, a key id of letters,
    /// digits, `-`, `_` and `.`, a version from 1, a filter of 1–20 terms whose values
    /// are strings, numbers or booleans.
    pub fn check(&self) -> Result<(), TargetError> {
        match self {
            Target::KeyVersion { key, version } => {
                check_name("target.key", key, 64)?;
                if !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                {
                    return Err(invalid(
                        "target.key",
                        "密钥标识只能含字母、数字、- _ . (a key id has letters, digits, -, _ and . only)",
                    ));
                }
                if *version == 0 {
                    return Err(invalid(
                        "target.version",
                        "版本号从 1 开始 (versions start at 1)",
                    ));
                }
            }
            Target::Rows {
                source,
                table,
                filter,
            } => {
                check_name("target.source", source, 100)?;
                check_name("target.table", table, 200)?;
                if filter.is_empty() {
                    return Err(invalid(
                        "target.filter",
                        "至少需要一个条件；销毁整张表请用 kind=table (at least one term; to destroy a whole table use kind \"table\")",
                    ));
                }
                if filter.len() > MAX_TERMS {
                    return Err(invalid(
                        "target.filter",
                        format!("最多 {MAX_TERMS} 个条件 (at most {MAX_TERMS} terms)"),
                    ));
                }
                for (i, t) in filter.iter().enumerate() {
                    check_name(&format!("target.filter[{i}].column"), &t.column, 128)?;
                    let field = format!("target.filter[{i}].value");
                    match &t.value {
                        serde_json::Value::String(s) => {
                            if s.chars().count() > MAX_VALUE_CHARS {
                                return Err(invalid(
                                    field,
                                    format!("不能超过 {MAX_VALUE_CHARS} 个字符 (at most {MAX_VALUE_CHARS} characters)"),
                                ));
                            }
                        }
                        serde_json::Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => {}
                        serde_json::Value::Bool(_) => {}
                        _ => {
                            return Err(invalid(
                                field,
                                "须为字符串、数字或布尔值 (a string, number or boolean)",
                            ))
                        }
                    }
                }
            }
            Target::Table { source, table } => {
                check_name("target.source", source, 100)?;
                check_name("target.table", table, 200)?;
            }
            Target::File { node, path, .. } => {
                if !node.is_empty() {
                    check_name("target.node", node, 100)?;
                }
                check_name("target.path", path, 1000)?;
                if std::path::Path::new(path)
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(invalid("target.path", "不能含 .. (must not contain ..)"));
                }
            }
        }
        Ok(())
    }

    /// Checks that `method` (as a caller wrote it) is this kind's method.
    pub fn check_method(&self, method: &str) -> Result<Method, TargetError> {
        let expected = self.method();
        match Method::parse(method) {
            Some(m) if m == expected => Ok(m),
            Some(m) => Err(invalid(
                "method",
                format!(
                    "{} 类目标只能用 {}（{}），不能用 {} ({} targets are destroyed by {}, not {})",
                    self.kind(),
                    expected.as_str(),
                    expected.label(),
                    m.as_str(),
                    self.kind(),
                    expected.as_str(),
                    m.as_str()
                ),
            )),
            None => Err(invalid(
                "method",
                format!(
                    "未知销毁方式，应为 {} (unknown method; expected {})",
                    expected.as_str(),
                    expected.as_str()
                ),
            )),
        }
    }

    /// The stable key by which the store recognises the same target twice:
    /// `key:ID/vN`, `table:SOURCE/TABLE`, or `rows:SOURCE/TABLE?SM3` with the SM3 of the
    /// canonical filter.
    pub fn target_key(&self) -> String {
        match self {
            Target::KeyVersion { key, version } => HoldScope::KeyVersion {
                key: key.clone(),
                version: *version,
            }
            .hold_key(),
            Target::Rows {
                source,
                table,
                filter,
            } => {
                let canonical =
                    serde_json::to_vec(&serde_json::to_value(filter).unwrap_or_default())
                        .unwrap_or_default();
                let digest = shuan_crypto::hex::encode(&shuan_crypto::sm3::sm3(&canonical));
                format!("rows:{source}/{table}?{}", &digest[..32])
            }
            Target::Table { source, table } => HoldScope::Table {
                source: source.clone(),
                table: table.clone(),
            }
            .hold_key(),
            Target::File {
                node,
                path,
                instance,
            } => {
                let key = HoldScope::File {
                    node: node.clone(),
                    path: path.clone(),
                }
                .hold_key();
                if instance.is_empty() {
                    key
                } else {
                    format!("{key}@{instance}")
                }
            }
        }
    }

    /// The hold keys of every scope containing this target, widest first.
    pub fn hold_keys(&self) -> Vec<String> {
        let scopes = match self {
            Target::KeyVersion { key, version } => vec![
                HoldScope::Key { key: key.clone() },
                HoldScope::KeyVersion {
                    key: key.clone(),
                    version: *version,
                },
            ],
            Target::Rows { source, table, .. } | Target::Table { source, table } => vec![
                HoldScope::Source {
                    source: source.clone(),
                },
                HoldScope::Table {
                    source: source.clone(),
                    table: table.clone(),
                },
            ],
            Target::File { node, path, .. } => vec![HoldScope::File {
                node: node.clone(),
                path: path.clone(),
            }],
        };
        scopes.iter().map(HoldScope::hold_key).collect()
    }

    /// What it is, in Chinese, for records and certificates.
    pub fn label(&self) -> String {
        match self {
            Target::KeyVersion { key, version } => format!("密钥 {key} 第 {version} 版"),
            Target::Rows {
                source,
                table,
                filter,
            } => {
                let terms: Vec<String> = filter
                    .iter()
                    .map(|t| format!("{} {} {}", t.column, t.op.sql(), t.value))
                    .collect();
                format!(
                    "数据源 {source} 表 {table} 中满足 {} 的记录",
                    terms.join(" 且 ")
                )
            }
            Target::Table { source, table } => format!("数据源 {source} 的数据表 {table}"),
            Target::File { node, path, .. } => format!("节点 {node} 上的文件 {path}"),
        }
    }
}

/// What a legal hold (法律保全: litigation, investigation, audit) keeps from destruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HoldScope {
    /// Every version of a key.
    Key {
        /// Key id.
        key: String,
    },
    /// One version of a key.
    KeyVersion {
        /// Key id.
        key: String,
        /// Version.
        version: u32,
    },
    /// Everything in a registered source.
    Source {
        /// The registered source's name.
        source: String,
    },
    /// A table of a registered source and every row in it.
    Table {
        /// The registered source's name.
        source: String,
        /// The table as the catalogue names it.
        table: String,
    },
    /// A file on a node.
    File {
        /// The node (the one placing the hold when left out).
        #[serde(default)]
        node: String,
        /// The file's path as its destruction names it.
        path: String,
    },
}

impl HoldScope {
    /// The key a hold is stored under; a target is held when one of its
    /// [`Target::hold_keys`] is held.
    pub fn hold_key(&self) -> String {
        match self {
            HoldScope::Key { key } => format!("key:{key}"),
            HoldScope::KeyVersion { key, version } => format!("key:{key}/v{version}"),
            HoldScope::Source { source } => format!("source:{source}"),
            HoldScope::Table { source, table } => format!("table:{source}/{table}"),
            HoldScope::File { node, path } => format!("file:{node}:{path}"),
        }
    }

    /// Checks the names as [`Target::check`] does.
    pub fn check(&self) -> Result<(), TargetError> {
        match self {
            HoldScope::Key { key } => check_name("scope.key", key, 64),
            HoldScope::KeyVersion { key, version } => Target::KeyVersion {
                key: key.clone(),
                version: *version,
            }
            .check(),
            HoldScope::Source { source } => check_name("scope.source", source, 100),
            HoldScope::Table { source, table } => {
                check_name("scope.source", source, 100)?;
                check_name("scope.table", table, 200)
            }
            HoldScope::File { node, path } => {
                if !node.is_empty() {
                    check_name("scope.node", node, 100)?;
                }
                check_name("scope.path", path, 1000)?;
                if std::path::Path::new(path)
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(invalid("scope.path", "不能含 .. (must not contain ..)"));
                }
                Ok(())
            }
        }
    }

    /// What it covers, in Chinese.
    pub fn label(&self) -> String {
        match self {
            HoldScope::Key { key } => format!("密钥 {key} 的全部版本"),
            HoldScope::KeyVersion { key, version } => format!("密钥 {key} 第 {version} 版"),
            HoldScope::Source { source } => format!("数据源 {source} 的全部数据"),
            HoldScope::Table { source, table } => format!("数据源 {source} 的数据表 {table}"),
            HoldScope::File { node, path } => format!("节点 {node} 上的文件 {path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Target, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn the_contract_shapes_parse_and_unknown_fields_are_refused() {
        let t = parse(json!({"kind": "key_version", "key": "mask", "version": 2})).unwrap();
        assert_eq!(t.method(), Method::CryptoShred);
        assert_eq!(t.target_key(), "key:mask/v2");
        assert_eq!(t.hold_keys(), ["key:mask", "key:mask/v2"]);
        let t = parse(
            json!({"kind": "rows", "source": "czj", "table": "public.people",
            "filter": [{"column": "city", "op": "eq", "value": "杭州"}]}),
        )
        .unwrap();
        assert_eq!(t.hold_keys(), ["source:czj", "table:czj/public.people"]);
        assert!(t.target_key().starts_with("rows:czj/public.people?"));
        assert!(t.label().contains("city = \"杭州\""), "{}", t.label());
        assert!(parse(
            json!({"kind": "rows", "source": "a", "table": "t", "filter": [], "sql": "1=1"})
        )
        .is_err());
        assert!(parse(json!({"kind": "directory", "path": "/etc"})).is_err());
        // A file names its path; which paths qualify is the node's to decide (its job
        // directory), but `..` never does.
        let f = parse(json!({"kind": "file", "node": "n1", "path": "tmp/a.csv"})).unwrap();
        assert_eq!(f.method(), Method::DeleteFile);
        assert_eq!(f.target_key(), "file:n1:tmp/a.csv");
        assert_eq!(f.hold_keys(), ["file:n1:tmp/a.csv"]);
        assert!(f.check().is_ok());
        // The file found: its identity keys the target, not the hold.
        let found = parse(
            json!({"kind": "file", "node": "n1", "path": "/d/files/a.csv",
            "instance": "8:42:1700000000.5"}),
        )
        .unwrap();
        assert_eq!(
            found.target_key(),
            "file:n1:/d/files/a.csv@8:42:1700000000.5"
        );
        assert_eq!(found.hold_keys(), ["file:n1:/d/files/a.csv"]);
        let up = parse(json!({"kind": "file", "path": "tmp/../../etc/passwd"})).unwrap();
        assert!(up.check().is_err());
        assert!(parse(json!({"kind": "file", "path": "a", "mode": "fast"})).is_err());
        assert!(parse(json!({"kind": "rows", "source": "a", "table": "t",
            "filter": [{"column": "c", "op": "like", "value": "x"}]}))
        .is_err());
    }

    #[test]
    fn the_same_filter_is_the_same_target_and_another_is_not() {
        let a = parse(json!({"kind": "rows", "source": "s", "table": "t",
            "filter": [{"column": "id", "op": "lt", "value": 10}]}))
        .unwrap();
        let b = a.clone();
        let c = parse(json!({"kind": "rows", "source": "s", "table": "t",
            "filter": [{"column": "id", "op": "lt", "value": 11}]}))
        .unwrap();
        assert_eq!(a.target_key(), b.target_key());
        assert_ne!(a.target_key(), c.target_key());
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            (
                json!({"kind": "key_version", "key": "", "version": 1}),
                "target.key",
            ),
            (
                json!({"kind": "key_version", "key": "a b", "version": 1}),
                "target.key",
            ),
            (
                json!({"kind": "key_version", "key": "k", "version": 0}),
                "target.version",
            ),
            (
                json!({"kind": "rows", "source": "s", "table": "t", "filter": []}),
                "target.filter",
            ),
            (
                json!({"kind": "rows", "source": "s", "table": "t",
                    "filter": [{"column": "a", "op": "eq", "value": 1}, {"column": "b", "op": "eq", "value": null}]}),
                "target.filter[1].value",
            ),
            (
                json!({"kind": "rows", "source": "s", "table": "t",
                    "filter": [{"column": "a", "op": "eq", "value": [1]}]}),
                "target.filter[0].value",
            ),
            (
                json!({"kind": "table", "source": "s", "table": "a\u{0}b"}),
                "target.table",
            ),
        ];
        for (v, field) in cases {
            let e = parse(v.clone()).unwrap().check().unwrap_err();
            assert_eq!(e.field, field, "{v}: {e}");
        }
    }

    #[test]
    fn each_kind_has_its_one_method() {
        let t = parse(json!({"kind": "table", "source": "s", "table": "t"})).unwrap();
        assert_eq!(t.check_method("drop_table").unwrap(), Method::DropTable);
        let e = t.check_method("crypto_shred").unwrap_err();
        assert_eq!(e.field, "method");
        assert!(e.message.contains("drop_table"), "{e}");
        assert!(t.check_method("shred").is_err());
    }

    #[test]
    fn filter_values_become_typed_predicates() {
        let t: FilterTerm =
            serde_json::from_value(json!({"column": "n", "op": "ge", "value": 5})).unwrap();
        assert_eq!(t.predicate().value, Value::Int(5));
        let t: FilterTerm =
            serde_json::from_value(json!({"column": "n", "op": "ge", "value": 2.5})).unwrap();
        assert_eq!(t.predicate().value, Value::Float(2.5));
        let t: FilterTerm =
            serde_json::from_value(json!({"column": "n", "op": "eq", "value": "2024-01-01"}))
                .unwrap();
        assert_eq!(t.predicate().value, Value::Text("2024-01-01".into()));
    }

    #[test]
    fn hold_scopes_cover_what_they_name() {
        let source = HoldScope::Source {
            source: "czj".into(),
        };
        let table = HoldScope::Table {
            source: "czj".into(),
            table: "public.people".into(),
        };
        let key = HoldScope::Key { key: "mask".into() };
        let rows = parse(
            json!({"kind": "rows", "source": "czj", "table": "public.people",
            "filter": [{"column": "id", "op": "eq", "value": 1}]}),
        )
        .unwrap();
        assert!(rows.hold_keys().contains(&source.hold_key()));
        assert!(rows.hold_keys().contains(&table.hold_key()));
        assert!(!rows.hold_keys().contains(&key.hold_key()));
        let other =
            parse(json!({"kind": "table", "source": "czj2", "table": "public.people"})).unwrap();
        assert!(!other.hold_keys().contains(&source.hold_key()));
    }
}
