//! Parameterised, read-only selects for the data-service gateway (数据服务): one table,
//! chosen columns, predicates whose values are bound as parameters — never written into
//! the SQL text — and a row limit, against PostgreSQL, MySQL/MariaDB, SQLite and the file
//! formats of this crate.
//!
//! Identifiers (schema, table, columns) are quoted ([`quote_double`], [`quote_backtick`]);
//! they come from the catalogue the platform built by scanning the source, never from a
//! caller. Values go as parameters: PostgreSQL receives them in text format and parses
//! them as the type it infers for the column (so `"age" = $1` compares integers and can
//! use the column's index), MySQL and SQLite as typed values; files are filtered in
//! memory while streaming. A connection is opened read-only (as for scanning) and can be
//! kept for many selects (the gateway pools them).

#[cfg(feature = "postgres")]
use std::collections::HashMap;
use std::time::Duration;

use crate::db_url::{canonical_url, quote_double};
use crate::{SourceError, SourceOptions};

/// A comparison of a column with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
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
    /// Starts with (text only): `LIKE 'v%'` with the value's wildcards escaped.
    Prefix,
}

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Prefix => "LIKE",
        }
    }
}

/// A value of a predicate.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A calendar date, `YYYY-MM-DD`.
    Date(String),
}

impl Value {
    /// The value as text (how PostgreSQL receives it, and how files compare it).
    pub fn text(&self) -> String {
        match self {
            Value::Text(v) | Value::Date(v) => v.clone(),
            Value::Int(v) => v.to_string(),
            Value::Float(v) => v.to_string(),
            Value::Bool(v) => v.to_string(),
        }
    }
}

/// `column op value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Predicate {
    /// Column name (from the catalogue).
    pub column: String,
    /// Comparison.
    pub op: Op,
    /// Value, bound as a parameter.
    pub value: Value,
}

/// One select.
#[derive(Clone, Debug, PartialEq)]
pub struct Select {
    /// PostgreSQL schema or MySQL database; `None` for SQLite and files.
    pub schema: Option<String>,
    /// The table: a table name, or for files the table's name as [`crate::TableRef::name`].
    pub table: String,
    /// Columns answered, in order.
    pub columns: Vec<String>,
    /// Predicates, joined by AND.
    pub predicates: Vec<Predicate>,
    /// At most this many rows (pass the caller's cap + 1 to tell "more than the cap").
    pub limit: u64,
    /// Rows skipped first.
    pub offset: u64,
    /// The database stops the statement after this long.
    pub timeout: Duration,
}

/// What a select answered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, values as text, `None` for NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

/// Why a select failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The source cannot be reached or refused the connection.
    #[error("{0}")]
    Unavailable(String),
    /// A value the database could not take as the column's type.
    #[error("{0}")]
    InvalidValue(String),
    /// The statement ran past its time limit.
    #[error("the query ran longer than {0:?} and was stopped")]
    Timeout(Duration),
    /// Any other failure (no such table or column, a database error).
    #[error("{0}")]
    Failed(String),
    /// Reading a file source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// A read-only connection to a source, kept between selects.
pub struct Connection {
    display: String,
    inner: Inner,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("source", &self.display)
            .finish_non_exhaustive()
    }
}

enum Inner {
    #[cfg(feature = "postgres")]
    Pg(Box<PgConn>),
    #[cfg(feature = "mysql")]
    My(Box<MyConn>),
    Sqlite(rusqlite::Connection),
    File(String),
}

#[cfg(feature = "postgres")]
struct PgConn {
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
    timeout_ms: Option<u128>,
}

#[cfg(feature = "mysql")]
struct MyConn {
    conn: mysql::Conn,
    timeout_ms: Option<u128>,
}

pub(crate) fn is_sqlite_spec(spec: &str) -> Option<std::path::PathBuf> {
    let lower = spec.get(..16).unwrap_or(spec).to_ascii_lowercase();
    if lower.starts_with("sqlite://") {
        let path = &spec["sqlite://".len()..];
        return Some(path.split('?').next().unwrap_or(path).into());
    }
    let path = std::path::Path::new(spec);
    (crate::files::FileKind::from_extension(path) == Some(crate::files::FileKind::Sqlite))
        .then(|| path.to_path_buf())
}

impl Connection {
    /// Connects (databases) or checks the file exists (files), read-only.
    pub fn open(spec: &str) -> Result<Connection, QueryError> {
        let lower = spec.get(..16).unwrap_or(spec).to_ascii_lowercase();
        let display = crate::canonical_source_name(spec);
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                let client = crate::postgres_source::connect_read_only(spec)
                    .map_err(|e| QueryError::Unavailable(e.to_string()))?;
                return Ok(Connection {
                    display,
                    inner: Inner::Pg(Box::new(PgConn {
                        client,
                        statements: HashMap::new(),
                        timeout_ms: None,
                    })),
                });
            }
            #[cfg(not(feature = "postgres"))]
            return Err(QueryError::Source(crate::not_built_in(
                "PostgreSQL",
                "postgres",
            )));
        }
        if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
            #[cfg(feature = "mysql")]
            {
                let conn = crate::mysql_source::connect_read_only(spec)
                    .map_err(|e| QueryError::Unavailable(e.to_string()))?;
                return Ok(Connection {
                    display,
                    inner: Inner::My(Box::new(MyConn {
                        conn,
                        timeout_ms: None,
                    })),
                });
            }
            #[cfg(not(feature = "mysql"))]
            return Err(QueryError::Source(crate::not_built_in(
                "MySQL/MariaDB",
                "mysql",
            )));
        }
        if let Some(path) = is_sqlite_spec(spec) {
            let conn = crate::sqlite::connect(&path)?;
            return Ok(Connection {
                display,
                inner: Inner::Sqlite(conn),
            });
        }
        std::fs::metadata(spec).map_err(|e| SourceError::io(std::path::Path::new(spec), e))?;
        Ok(Connection {
            display,
            inner: Inner::File(spec.to_string()),
        })
    }

    /// The source's name without password.
    pub fn display_name(&self) -> &str {
        &self.display
    }

    /// Whether the connection is gone (the pool then drops it).
    pub fn is_broken(&self) -> bool {
        match &self.inner {
            #[cfg(feature = "postgres")]
            Inner::Pg(c) => c.client.is_closed(),
            _ => false,
        }
    }

    /// Runs one select.
    pub fn select(&mut self, q: &Select) -> Result<Answer, QueryError> {
        if q.columns.is_empty() {
            return Err(QueryError::Failed(
                "a select needs at least one column".into(),
            ));
        }
        match &mut self.inner {
            #[cfg(feature = "postgres")]
            Inner::Pg(c) => pg_select(c, q),
            #[cfg(feature = "mysql")]
            Inner::My(c) => my_select(c, q),
            Inner::Sqlite(c) => sqlite_select(c, q),
            Inner::File(spec) => file_select(spec, q),
        }
    }
}

/// `LIKE` pattern matching values that start with `prefix`: `%`, `_` and the escape
/// character `!` escaped. `!` rather than `\`: MySQL reads a backslash in a string literal
/// as an escape itself (unless NO_BACKSLASH_ESCAPES), so `ESCAPE '\'` means different
/// things on different servers; `!` means the same everywhere.
fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The WHERE clause with numbered or positional placeholders.
fn where_clause(
    q: &Select,
    quote: fn(&str) -> String,
    placeholder: &dyn Fn(usize, &Predicate) -> String,
) -> String {
    if q.predicates.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = q
        .predicates
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let column = quote(&p.column);
            match p.op {
                Op::Prefix => format!("{column} LIKE {} ESCAPE '!'", placeholder(i, p)),
                op => format!("{column} {} {}", op.sql(), placeholder(i, p)),
            }
        })
        .collect();
    format!(" WHERE {}", parts.join(" AND "))
}

fn param_text(p: &Predicate) -> String {
    match p.op {
        Op::Prefix => like_prefix(&p.value.text()),
        _ => p.value.text(),
    }
}

// ---- PostgreSQL ----

/// A parameter sent in PostgreSQL's text format: the server parses it as the type it
/// inferred for the placeholder (the column's type), exactly as it parses a literal.
#[cfg(feature = "postgres")]
#[derive(Debug)]
struct TextParam(String);

#[cfg(feature = "postgres")]
impl postgres::types::ToSql for TextParam {
    fn to_sql(
        &self,
        _ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(postgres::types::IsNull::No)
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &postgres::types::Type) -> postgres::types::Format {
        postgres::types::Format::Text
    }

    postgres::types::to_sql_checked!();
}

#[cfg(feature = "postgres")]
fn pg_select(c: &mut PgConn, q: &Select) -> Result<Answer, QueryError> {
    let schema = q
        .schema
        .as_deref()
        .ok_or_else(|| QueryError::Failed("a PostgreSQL table needs its schema".into()))?;
    let select: Vec<String> = q
        .columns
        .iter()
        .map(|c| format!("{}::text", quote_double(c)))
        .collect();
    let mut sql = format!(
        "SELECT {} FROM {}.{}",
        select.join(", "),
        quote_double(schema),
        quote_double(&q.table)
    );
    sql.push_str(&where_clause(q, quote_double, &|i, _| {
        format!("${}", i + 1)
    }));
    sql.push_str(&format!(" LIMIT {} OFFSET {}", q.limit, q.offset));
    let ms = q.timeout.as_millis().max(1);
    if c.timeout_ms != Some(ms) {
        c.client
            .batch_execute(&format!("SET statement_timeout = {ms}"))
            .map_err(|e| pg_error(&e, q.timeout))?;
        c.timeout_ms = Some(ms);
    }
    let statement = match c.statements.get(&sql) {
        Some(s) => s.clone(),
        None => {
            let s = c
                .client
                .prepare(&sql)
                .map_err(|e| pg_error(&e, q.timeout))?;
            if c.statements.len() > 256 {
                c.statements.clear();
            }
            c.statements.insert(sql.clone(), s.clone());
            s
        }
    };
    let params: Vec<TextParam> = q
        .predicates
        .iter()
        .map(|p| TextParam(param_text(p)))
        .collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect();
    let rows = c
        .client
        .query(&statement, &refs)
        .map_err(|e| pg_error(&e, q.timeout))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut values = Vec::with_capacity(q.columns.len());
        for i in 0..q.columns.len() {
            values.push(
                row.try_get::<_, Option<String>>(i)
                    .map_err(|e| QueryError::Failed(e.to_string()))?,
            );
        }
        out.push(values);
    }
    Ok(Answer {
        columns: q.columns.clone(),
        rows: out,
    })
}

#[cfg(feature = "postgres")]
fn pg_error(e: &postgres::Error, timeout: Duration) -> QueryError {
    let Some(db) = e.as_db_error() else {
        return if e.is_closed() {
            QueryError::Unavailable(e.to_string())
        } else {
            QueryError::Failed(e.to_string())
        };
    };
    let code = db.code().code();
    match code {
        "57014" => QueryError::Timeout(timeout),
        // Data exceptions: a value the column's type does not take.
        c if c.starts_with("22") => QueryError::InvalidValue(db.message().to_string()),
        c if c.starts_with("08") || c.starts_with("57P") => {
            QueryError::Unavailable(db.message().to_string())
        }
        _ => QueryError::Failed(format!("{} (SQLSTATE {code})", db.message())),
    }
}

// ---- MySQL / MariaDB ----

#[cfg(feature = "mysql")]
fn my_value(v: &Value) -> mysql::Value {
    match v {
        Value::Text(s) | Value::Date(s) => mysql::Value::Bytes(s.as_bytes().to_vec()),
        Value::Int(i) => mysql::Value::Int(*i),
        Value::Float(f) => mysql::Value::Double(*f),
        Value::Bool(b) => mysql::Value::Int(i64::from(*b)),
    }
}

#[cfg(feature = "mysql")]
fn my_select(c: &mut MyConn, q: &Select) -> Result<Answer, QueryError> {
    use mysql::prelude::Queryable;
    let quote = crate::db_url::quote_backtick;
    let select: Vec<String> = q.columns.iter().map(|c| quote(c)).collect();
    let table = match &q.schema {
        Some(s) => format!("{}.{}", quote(s), quote(&q.table)),
        None => quote(&q.table),
    };
    let mut sql = format!("SELECT {} FROM {table}", select.join(", "));
    sql.push_str(&where_clause(q, quote, &|_, _| "?".to_string()));
    sql.push_str(&format!(" LIMIT {} OFFSET {}", q.limit, q.offset));
    let ms = q.timeout.as_millis().max(1);
    if c.timeout_ms != Some(ms) {
        // MariaDB counts seconds (max_statement_time), MySQL milliseconds
        // (max_execution_time); each refuses the other's variable.
        let secs = (ms as f64 / 1000.0).max(0.001);
        let set = c
            .conn
            .query_drop(format!("SET SESSION max_statement_time = {secs}"))
            .or_else(|_| {
                c.conn
                    .query_drop(format!("SET SESSION max_execution_time = {ms}"))
            });
        set.map_err(|e| QueryError::Failed(e.to_string()))?;
        c.timeout_ms = Some(ms);
    }
    let params: Vec<mysql::Value> = q
        .predicates
        .iter()
        .map(|p| match p.op {
            Op::Prefix => mysql::Value::Bytes(param_text(p).into_bytes()),
            _ => my_value(&p.value),
        })
        .collect();
    let rows: Vec<mysql::Row> = c
        .conn
        .exec(sql, mysql::Params::Positional(params))
        .map_err(|e| my_error(e, q.timeout))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values: Vec<Option<String>> = row
            .unwrap()
            .into_iter()
            .map(crate::mysql_source::value_text)
            .collect();
        values.resize(q.columns.len(), None);
        out.push(values);
    }
    Ok(Answer {
        columns: q.columns.clone(),
        rows: out,
    })
}

#[cfg(feature = "mysql")]
fn my_error(e: mysql::Error, timeout: Duration) -> QueryError {
    match &e {
        mysql::Error::MySqlError(m) => match m.code {
            // ER_STATEMENT_TIMEOUT (MariaDB 1969), ER_QUERY_TIMEOUT (MySQL 3024).
            1969 | 3024 => QueryError::Timeout(timeout),
            // Truncated or wrong values for the column's type.
            1292 | 1366 | 1367 => QueryError::InvalidValue(m.message.clone()),
            _ => QueryError::Failed(format!("{} (error {})", m.message, m.code)),
        },
        mysql::Error::IoError(_) | mysql::Error::DriverError(_) => {
            QueryError::Unavailable(e.to_string())
        }
        _ => QueryError::Failed(e.to_string()),
    }
}

// ---- SQLite ----

fn sqlite_select(c: &rusqlite::Connection, q: &Select) -> Result<Answer, QueryError> {
    use rusqlite::types::Value as V;
    let select: Vec<String> = q.columns.iter().map(|c| quote_double(c)).collect();
    let mut sql = format!(
        "SELECT {} FROM {}",
        select.join(", "),
        quote_double(&q.table)
    );
    sql.push_str(&where_clause(q, quote_double, &|i, _| {
        format!("?{}", i + 1)
    }));
    sql.push_str(&format!(" LIMIT {} OFFSET {}", q.limit, q.offset));
    let params: Vec<V> = q
        .predicates
        .iter()
        .map(|p| match (&p.value, p.op) {
            (_, Op::Prefix) => V::Text(param_text(p)),
            (Value::Text(s) | Value::Date(s), _) => V::Text(s.clone()),
            (Value::Int(i), _) => V::Integer(*i),
            (Value::Float(f), _) => V::Real(*f),
            (Value::Bool(b), _) => V::Integer(i64::from(*b)),
        })
        .collect();
    // Checked between rows (rusqlite's progress hook is a feature this crate does not
    // build); a gateway select asks for at most its row cap + 1 rows.
    let deadline = std::time::Instant::now() + q.timeout;
    let result = (|| {
        let mut stmt = c.prepare_cached(&sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            if std::time::Instant::now() > deadline {
                return Ok(None);
            }
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(crate::sqlite::value_text(row.get_ref(i)?));
            }
            out.push(values);
        }
        Ok::<_, rusqlite::Error>(Some(out))
    })();
    match result {
        Ok(Some(rows)) => Ok(Answer {
            columns: q.columns.clone(),
            rows,
        }),
        Ok(None) => Err(QueryError::Timeout(q.timeout)),
        Err(e) => Err(QueryError::Failed(e.to_string())),
    }
}

// ---- files ----

fn matches_file(value: Option<&str>, p: &Predicate) -> bool {
    let Some(value) = value else {
        return false;
    };
    let ordering = match &p.value {
        Value::Int(want) => value.trim().parse::<i64>().ok().map(|v| v.cmp(want)),
        Value::Float(want) => value
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|v| v.partial_cmp(want)),
        Value::Bool(want) => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" | "是" => Some(true.cmp(want)),
            "false" | "f" | "0" | "no" | "否" => Some(false.cmp(want)),
            _ => None,
        },
        Value::Text(want) | Value::Date(want) => {
            if p.op == Op::Prefix {
                return value.starts_with(want.as_str());
            }
            Some(value.cmp(want.as_str()))
        }
    };
    let Some(o) = ordering else {
        return false;
    };
    use std::cmp::Ordering::*;
    match p.op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        Op::Prefix => false,
    }
}

fn file_select(spec: &str, q: &Select) -> Result<Answer, QueryError> {
    let deadline = std::time::Instant::now() + q.timeout;
    let mut source = crate::open(spec, &SourceOptions::default())?;
    let tables = source.tables()?;
    let table = tables.iter().find(|t| t.name == q.table).ok_or_else(|| {
        QueryError::Failed(format!("{}: no table {}", canonical_url(spec), q.table))
    })?;
    let mut reader = source.open_table(table)?;
    let names: Vec<String> = reader.columns().iter().map(|c| c.name.clone()).collect();
    let index = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| QueryError::Failed(format!("{}: no column {name}", q.table)))
    };
    let wanted: Vec<usize> = q
        .columns
        .iter()
        .map(|c| index(c))
        .collect::<Result<_, _>>()?;
    let tests: Vec<(usize, &Predicate)> = q
        .predicates
        .iter()
        .map(|p| index(&p.column).map(|i| (i, p)))
        .collect::<Result<_, _>>()?;
    let mut skipped = 0u64;
    let mut out = Vec::new();
    let mut seen = 0u64;
    while let Some(row) = reader.next_row() {
        let row = match row {
            Ok(row) => row,
            Err(e) if e.is_row_error() => continue,
            Err(e) => return Err(e.into()),
        };
        seen += 1;
        if seen % 4096 == 0 && std::time::Instant::now() > deadline {
            return Err(QueryError::Timeout(q.timeout));
        }
        if !tests
            .iter()
            .all(|(i, p)| matches_file(row.get(*i).and_then(|v| v.as_deref()), p))
        {
            continue;
        }
        if skipped < q.offset {
            skipped += 1;
            continue;
        }
        out.push(
            wanted
                .iter()
                .map(|i| row.get(*i).cloned().flatten())
                .collect(),
        );
        if out.len() as u64 >= q.limit {
            break;
        }
    }
    Ok(Answer {
        columns: q.columns.clone(),
        rows: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(table: &str, predicates: Vec<Predicate>) -> Select {
        Select {
            schema: None,
            table: table.into(),
            columns: vec!["name".into(), "id".into()],
            predicates,
            limit: 10,
            offset: 0,
            timeout: Duration::from_secs(5),
        }
    }

    fn eq(column: &str, value: Value) -> Predicate {
        Predicate {
            column: column.into(),
            op: Op::Eq,
            value,
        }
    }

    #[test]
    fn prefix_patterns_escape_wildcards() {
        assert_eq!(like_prefix("41_%!\\"), "41!_!%!!\\%");
    }

    #[test]
    fn sqlite_binds_values_and_never_runs_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE people (id INTEGER, name TEXT, code TEXT);
             INSERT INTO people VALUES (1, 'a', '41_x'), (2, 'b', '41zx'), (3, 'c', NULL);",
        )
        .unwrap();
        drop(conn);
        let mut c = Connection::open(path.to_str().unwrap()).unwrap();
        let a = c
            .select(&select("people", vec![eq("id", Value::Int(2))]))
            .unwrap();
        assert_eq!(a.rows, vec![vec![Some("b".into()), Some("2".into())]]);
        let attack = c
            .select(&select(
                "people",
                vec![eq("name", Value::Text("x' OR '1'='1".into()))],
            ))
            .unwrap();
        assert!(attack.rows.is_empty());
        let prefix = c
            .select(&select(
                "people",
                vec![Predicate {
                    column: "code".into(),
                    op: Op::Prefix,
                    value: Value::Text("41_".into()),
                }],
            ))
            .unwrap();
        assert_eq!(prefix.rows.len(), 1, "_ is not a wildcard");
        let mut all = select("people", vec![]);
        all.limit = 2;
        all.offset = 1;
        assert_eq!(c.select(&all).unwrap().rows.len(), 2);
        // The connection is read-only.
        assert!(Connection::open(path.to_str().unwrap()).is_ok());
    }

    #[test]
    fn files_are_filtered_while_streaming() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.csv");
        std::fs::write(&path, "id,name\n1,张三\n2,李四\n10,王五\n").unwrap();
        let mut c = Connection::open(path.to_str().unwrap()).unwrap();
        let a = c
            .select(&select(
                "people",
                vec![Predicate {
                    column: "id".into(),
                    op: Op::Ge,
                    value: Value::Int(2),
                }],
            ))
            .unwrap();
        assert_eq!(
            a.rows,
            vec![
                vec![Some("李四".into()), Some("2".into())],
                vec![Some("王五".into()), Some("10".into())]
            ],
            "numbers compare as numbers"
        );
        let none = c
            .select(&select(
                "people",
                vec![eq("name", Value::Text("' OR 1=1 --".into()))],
            ))
            .unwrap();
        assert!(none.rows.is_empty());
        assert!(matches!(
            c.select(&select("people", vec![eq("nope", Value::Int(1))])),
            Err(QueryError::Failed(_))
        ));
    }
}
